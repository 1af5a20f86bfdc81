package bot

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// A failure made good is resolved by one rule (FailureResolved) that the
// root's count, show and the status surface share: a root posted after
// all, with its time or known only by its thread (an older replica kept
// no PostedAt), is marked in show and not counted on the root; a notice
// still not delivered is neither.
func TestShowAndTheRootShareTheResolvedRule(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	d := NewDirectory(Config{Services: []Service{{Name: "payments", Owners: []string{"alice"}}},
		People: []Person{{Name: "alice", IDs: []string{"slack:U0ALICE"}}}})
	u := &Upgrade{ID: 1, Service: "payments", Version: "v2.4.0", State: Scheduled, Start: t0.Add(time.Hour), End: t0.Add(2 * time.Hour),
		Owners: []string{"alice"}, CreatedBy: "alice", CreatedAt: t0, UpdatedAt: t0, Rev: 1,
		Threads: []MessageRef{{Channel: "#payments", ID: "1"}, {Channel: "#ops", ID: "2"}},
		Failures: []Failure{
			{At: t0, Notice: string(KindRoot), Target: "#payments", Error: "ratelimited", PostedAt: t0.Add(time.Minute)},
			{At: t0, Notice: string(KindRoot), Target: "#ops", Error: "ratelimited"}, // its thread is known: posted after all
			{At: t0, Notice: string(KindReminder), Target: "#payments", Error: "ratelimited"},
		}}
	for i, want := range []bool{true, true, false} {
		if got := u.FailureResolved(u.Failures[i]); got != want {
			t.Errorf("failure %d resolved %v, want %v", i, got, want)
		}
	}
	show := d.showReply(d.View(u, nil)).Plain(time.UTC)
	for _, want := range []string{
		"Failed delivery of root to #payments at 2026-11-30 08:00 UTC: ratelimited (posted after all at 2026-11-30 08:01 UTC)",
		"Failed delivery of root to #ops at 2026-11-30 08:00 UTC: ratelimited (posted after all)",
	} {
		if !strings.Contains(show, want) {
			t.Errorf("show lacks %q:\n%s", want, show)
		}
	}
	if strings.Contains(show, "reminder to #payments at 2026-11-30 08:00 UTC: ratelimited (") {
		t.Errorf("show marks the reminder never delivered:\n%s", show)
	}
	if root := d.Root(u, nil).Plain(time.UTC); !strings.Contains(root, "⚠ 1 notice(s) could not be delivered") {
		t.Errorf("the root does not count only the reminder:\n%s", root)
	}
}

// Show and the invoker's late notice name a failed notice in words, as the
// readers say it ("window open"), never by its stored kind ("window_open").
func TestFailedNoticesAreNamedInWords(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	d := NewDirectory(Config{Services: []Service{{Name: "payments", Owners: []string{"alice"}}},
		People: []Person{{Name: "alice", IDs: []string{"slack:U0ALICE"}}}})
	fails := []Failure{
		{At: t0, Notice: string(KindWindowOpen), Target: "#payments", Error: "ratelimited"},
		{At: t0, Notice: string(KindLinked), Target: "#payments", Error: "ratelimited"},
	}
	u := &Upgrade{ID: 1, Service: "payments", Version: "v2.4.0", State: Scheduled, Start: t0.Add(time.Hour), End: t0.Add(2 * time.Hour),
		Owners: []string{"alice"}, CreatedBy: "alice", CreatedAt: t0, UpdatedAt: t0, Rev: 1, Failures: fails}
	show := d.showReply(d.View(u, nil)).Plain(time.UTC)
	late := deliveryFailed(u, fails).Plain(time.UTC)
	for _, want := range []string{"Failed delivery of window open to #payments", "Failed delivery of release linked to #payments"} {
		if !strings.Contains(show, want) {
			t.Errorf("show lacks %q:\n%s", want, show)
		}
	}
	for _, want := range []string{"The window open notice of UPG-1", "The release linked notice of UPG-1"} {
		if !strings.Contains(late, want) {
			t.Errorf("the late notice lacks %q:\n%s", want, late)
		}
	}
	if strings.Contains(show+late, "_") {
		t.Errorf("a stored kind shows:\n%s\n%s", show, late)
	}
}

// A show lists the latest failed deliveries and counts the earlier ones,
// so a channel that keeps failing does not push the rest of show out of
// a platform's message; its cut note names the page when there is one,
// else the decision log for what the log holds, never pending.
func TestShowCapsFailedDeliveriesAndPointsWhereTheRestIs(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	u := &Upgrade{ID: 1, Service: "payments", Version: "v2.4.0", State: Scheduled, Start: t0.Add(time.Hour), End: t0.Add(2 * time.Hour),
		Owners: []string{"alice"}, CreatedBy: "alice", CreatedAt: t0, UpdatedAt: t0, Rev: 1}
	for i := range 25 {
		u.Failures = append(u.Failures, Failure{At: t0.Add(time.Duration(i) * time.Minute), Notice: string(KindReminder), Target: "#payments", Error: "ratelimited"})
	}
	cfg := Config{Services: []Service{{Name: "payments", Owners: []string{"alice"}}},
		People: []Person{{Name: "alice", IDs: []string{"slack:U0ALICE"}}}}
	d := NewDirectory(cfg)
	m := d.showReply(d.View(u, nil))
	show := m.Plain(time.UTC)
	if n := strings.Count(show, "⚠ Failed delivery"); n != 20 || !strings.Contains(show, "⚠ … and 5 more failed deliveries, earlier than these") ||
		!strings.Contains(show, "at 2026-11-30 08:24 UTC") || strings.Contains(show, "at 2026-11-30 08:04 UTC") {
		t.Errorf("show lists %d failed deliveries:\n%s", n, show)
	}
	if got := (Plain{Loc: time.UTC, Command: "/upgrade"}).Text(m.Elsewhere); got != "its acknowledgments, rollback plan and debrief with /upgrade log UPG-1" {
		t.Errorf("without a page, the cut note says %q", got)
	}
	cfg.UpgradePage = func(id int) string { return "https://upgrades.example.com/x/" + strconv.Itoa(id) }
	d = NewDirectory(cfg)
	if got := (Plain{Loc: time.UTC, Command: "/upgrade"}).Text(d.showReply(d.View(u, nil)).Elsewhere); !strings.Contains(got, "https://upgrades.example.com/x/1") || strings.Contains(got, "pending") {
		t.Errorf("with a page, the cut note says %q", got)
	}
}

// A hint's value to be quoted is quoted only where the command is typed;
// an option (Discord's) takes it as is, without quotes of its own.
func TestQuotedHintValueIsQuotedOnlyWhenTyped(t *testing.T) {
	h := hint("cancel", Arg{Name: "id", Value: "UPG-1"}, Arg{Name: "reason", Value: "series oops", Quote: true})
	if got := h.Typed("/upgrade"); got != `/upgrade cancel UPG-1 "series oops"` {
		t.Errorf("typed: %s", got)
	}
	if v := h.Args[1].Value; v != "series oops" {
		t.Errorf("the option's value is %q", v)
	}
}
