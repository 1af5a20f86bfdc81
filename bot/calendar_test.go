package bot_test

import (
	"context"
	"errors"
	"testing"

	"github.com/upgradebot/upgradebot/bot"
)

// TestCalendarSequence: a new upgrade's calendar event has SEQUENCE 0
// (RFC 5545: a new component's is 0), and it rises with each change a
// calendar shows, not with the bookkeeping that also saves the upgrade (a
// failed delivery recorded).
func TestCalendarSequence(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	get := func() *bot.Upgrade {
		t.Helper()
		u, err := f.st.Get(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	// The pre-brief cannot be posted: the failure is recorded on the upgrade.
	f.rec.Fail("test:#payments", errors.New("slack: channel_not_found"))
	f.ok(t, "alice", schedulePayments)
	u := get()
	if len(u.Failures) == 0 || u.Rev < 2 {
		t.Fatalf("want a failed delivery saved after the creation: rev %d, failures %+v", u.Rev, u.Failures)
	}
	if got := u.Sequence(); got != 0 {
		t.Fatalf("a new upgrade's sequence is %d (rev %d); want 0, the failure recorded is no change of the event", got, u.Rev)
	}

	want := 0
	for _, cmd := range []string{
		"reschedule 1 at 2026-12-01 04:00 UTC",     // the window
		"extend 1 1h",                              // its end
		"plan 1 https://wiki.example.com/rollback", // the description
		"link 1 acme/payments v2.4.0",              // the release
		"start 1",                                  // the state
		"complete 1 fine",
		"debrief 1 went well",
	} {
		before := get().Rev
		f.ok(t, "alice", cmd)
		u = get()
		if u.Rev == before {
			t.Fatalf("%s saved nothing", cmd)
		}
		if got := u.Sequence(); got <= want {
			t.Errorf("after %q: sequence %d, want more than %d", cmd, got, want)
		}
		want = u.Sequence()
	}
}

// TestCalendarSequenceOfOlderRecords: an upgrade saved before the calendar
// revision was kept showed its Rev as SEQUENCE; it goes on from there, so
// calendars never see it go back.
func TestCalendarSequenceOfOlderRecords(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.ok(t, "alice", schedulePayments)
	u, _ := f.st.Get(ctx, 1)
	u.CalendarRev = 0 // as an older version wrote it
	for u.Rev < 5 {
		u.Rev++
		if err := f.st.Update(ctx, u, bot.Decision{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := u.Sequence(); got != 5 {
		t.Fatalf("an older record's sequence is %d; want its rev, 5", got)
	}
	f.ok(t, "alice", "plan 1 https://wiki.example.com/rollback")
	u, _ = f.st.Get(ctx, 1)
	if got := u.Sequence(); got != 6 || u.Rev != 6 {
		t.Fatalf("after a change: sequence %d, rev %d; want 6 and 6", got, u.Rev)
	}
}
