package bot

import (
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
