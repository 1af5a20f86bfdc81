package web

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
)

// The API never says 0001-01-01: an upgrade cancelled before it started has
// no actual window, one that runs has actual.start only, one that ended
// both; and each answer matches the OpenAPI document.
func TestActualWindowOnlyOnceStarted(t *testing.T) {
	now := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
	dir := bot.NewDirectory(bot.Config{Services: []bot.Service{{Name: "ledger", Owners: []string{"alice"}}},
		People: []bot.Person{{Name: "alice", IDs: []string{"slack:U0ALICE"}}}})
	up := func(id int, st bot.State) *bot.Upgrade {
		return &bot.Upgrade{ID: id, Service: "ledger", Version: "v1", State: st, Start: now.Add(-time.Hour), End: now.Add(time.Hour),
			Owners: []string{"alice"}, CreatedBy: "alice", CreatedAt: now.Add(-24 * time.Hour), UpdatedAt: now, Rev: 2}
	}
	cancelled := up(9, bot.Cancelled)
	cancelled.FinishedAt = now.Add(6*time.Minute + 39*time.Second)
	running := up(10, bot.InProgress)
	running.StartedAt = now.Add(-30 * time.Minute)
	done := up(11, bot.Completed)
	done.StartedAt, done.FinishedAt = now.Add(-50*time.Minute), now.Add(-10*time.Minute)
	srv := serveCore(t, &fakeCore{dir: dir, now: now, ups: []*bot.Upgrade{cancelled, running, done}})

	type actual struct {
		Actual *struct {
			Start *time.Time `json:"start"`
			End   *time.Time `json:"end"`
		} `json:"actual"`
	}
	for _, tc := range []struct {
		path       string
		start, end bool
	}{{"/api/v1/upgrades/UPG-9", false, false}, {"/api/v1/upgrades/UPG-10", true, false}, {"/api/v1/upgrades/UPG-11", true, true}} {
		body := fetch(t, srv, tc.path)
		if strings.Contains(body, "0001-01-01") {
			t.Errorf("%s says a zero time:\n%s", tc.path, body)
		}
		var got actual
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		switch {
		case !tc.start && got.Actual != nil:
			t.Errorf("%s: never started, yet actual = %s", tc.path, body)
		case tc.start && (got.Actual == nil || got.Actual.Start == nil || (got.Actual.End != nil) != tc.end):
			t.Errorf("%s: actual should have start, end %v:\n%s", tc.path, tc.end, body)
		}
	}
	if list := fetch(t, srv, "/api/v1/upgrades"); strings.Contains(list, "0001-01-01") {
		t.Errorf("the list says a zero time:\n%s", list)
	}
	matchesOpenAPI(t, srv, "/api/v1/upgrades", "/api/v1/upgrades/UPG-9", "/api/v1/upgrades/UPG-10", "/api/v1/upgrades/UPG-11")
}
