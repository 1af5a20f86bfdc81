package web

import (
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
)

// The page counts as the status API does: a scheduled upgrade whose window
// ended without a start is not running but ended (never started); a
// cancelled one is placed by its window, one whose window is still ahead
// counted on its own, not among those that ended.
func TestPageCountsByWindowAndState(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	dir := bot.NewDirectory(bot.Config{Services: []bot.Service{{Name: "checkout", Owners: []string{"alice"}}},
		People: []bot.Person{{Name: "alice", IDs: []string{"slack:U0ALICE"}}}})
	day := 24 * time.Hour
	up := func(id int, st bot.State, start time.Time, d time.Duration) *bot.Upgrade {
		u := &bot.Upgrade{ID: id, Service: "checkout", Version: "v" + string(rune('0'+id)), State: st, Start: start, End: start.Add(d),
			Owners: []string{"alice"}, CreatedBy: "alice", CreatedAt: now.Add(-10 * day), UpdatedAt: now.Add(-10 * day), Rev: 1}
		if st != bot.Scheduled && st != bot.Cancelled {
			u.StartedAt = start
		}
		if st == bot.Completed {
			u.FinishedAt = start.Add(d)
		}
		return u
	}
	c := &fakeCore{dir: dir, now: now, ups: []*bot.Upgrade{
		up(1, bot.Scheduled, time.Date(2026, 11, 27, 11, 0, 0, 0, time.UTC), time.Hour), // never started, ended 3 days ago
		up(2, bot.InProgress, now.Add(-time.Hour), 2*time.Hour),
		up(3, bot.Scheduled, now.Add(-time.Hour), 2*time.Hour), // inside its window
		up(4, bot.Scheduled, now.Add(day), time.Hour),
		up(5, bot.Cancelled, now.Add(day), time.Hour), // cancelled, its window tomorrow
		up(6, bot.Completed, now.Add(-day), time.Hour),
		up(7, bot.Cancelled, now.Add(-2*day), time.Hour), // cancelled, its window over
	}}
	page := fetch(t, serveCore(t, c), "/")
	for _, want := range []string{">2 running<", ">1 upcoming in 30 days<", ">3 ended in the last 7 days<", ">1 cancelled ahead<",
		`<span class="state missed">ended, never started</span>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q:\n%s", want, page)
		}
	}
	if n := strings.Count(page, `<span class="state scheduled">`); n != 2 {
		t.Errorf("%d rows say scheduled, want 2 (UPG-3 and UPG-4)", n)
	}
	// Without a cancelled window ahead, no such pill.
	c.ups = c.ups[:4]
	if page := fetch(t, serveCore(t, c), "/"); strings.Contains(page, "cancelled ahead") || !strings.Contains(page, ">1 ended in the last 7 days<") {
		t.Errorf("the page's counts without cancellations:\n%s", page)
	}
}
