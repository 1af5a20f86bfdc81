package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
	"github.com/upgradebot/upgradebot/commands"
	"github.com/upgradebot/upgradebot/store/storetest"
)

// The stories of issue 15 on the real store: standard windows, freezes,
// next and slots, recurring upgrades on three replicas, and DST. The clock
// starts on Sunday 22 November 2026, 10:00 UTC (start0); the coming
// Tuesday is 24 November.

// windowed gives payments its standard window, Tuesdays 02:00-05:00 in
// Berlin, a freeze over the coming Tuesday, and dave, an admin.
func windowed(t *testing.T) func(*bot.Config) {
	return func(c *bot.Config) {
		c.Services[1].Windows = []commands.Window{bottest.Window(t, "tue 02:00-05:00 Europe/Berlin")}
		c.Freezes = []bot.Freeze{{Name: "release-week", From: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC),
			To: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), Services: []string{"*"}, Reason: "quarterly release", Configured: true}}
		c.People = append(c.People, bot.Person{Name: "dave", IDs: []string{"t:dave"}})
		c.Admins = []string{"dave"}
	}
}

// try runs a command and returns its answer, refused or not.
func (r *replica) try(who, text string) bot.Message {
	m := r.b.Handle(context.Background(), bot.Invocation{Actor: bot.Actor{ID: "t:" + who}, Channel: "t:#ops"}, text)
	r.b.Flush()
	return m
}

func plain(m bot.Message) string { return m.Plain(time.UTC) }

func mustSay(t *testing.T, what string, m bot.Message, refused bool, want ...string) {
	t.Helper()
	if got := m.Kind == bot.KindError; got != refused {
		t.Fatalf("%s: refused = %v, want %v:\n%s", what, got, refused, plain(m))
	}
	for _, w := range want {
		if !strings.Contains(plain(m), w) {
			t.Fatalf("%s lacks %q:\n%s", what, w, plain(m))
		}
	}
}

// TestNextSkipsTheFrozenTuesdayThenTheLedgerSlot is the first acceptance
// point: with a freeze over the coming Tuesday, next picks the Tuesday
// after and says the earlier one was frozen; with a ledger upgrade in that
// slot (payments depends on ledger), it moves on again and says why.
func TestNextSkipsTheFrozenTuesdayThenTheLedgerSlot(t *testing.T) {
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, log, windowed(t))

	m := r.try("alice", "schedule payments v2.5.0 next for 2h")
	mustSay(t, "next", m, false, "Scheduled UPG-1 payments v2.5.0: 2026-12-01 01:00 UTC to 2026-12-01 03:00 UTC (2h).",
		"The next free standard window of payments: 2026-12-01 01:00 UTC to 2026-12-01 04:00 UTC (3h, Tue 02:00-05:00 Europe/Berlin).",
		"Skipped 1 earlier window(s):", "• 2026-11-24 01:00 UTC: frozen by release-week (quarterly release)")
	r.do(t, "alice", "cancel UPG-1 we pick again")

	r.do(t, "carol", "schedule ledger v1.9.0 at 2026-12-01 02:30 Europe/Berlin for 1h")
	m = r.try("alice", "schedule payments v2.5.0 next for 2h")
	mustSay(t, "next with ledger in the slot", m, false, "Scheduled UPG-3 payments v2.5.0: 2026-12-08 01:00 UTC to 2026-12-08 03:00 UTC (2h).",
		"Skipped 2 earlier window(s):", "• 2026-11-24 01:00 UTC: frozen by release-week (quarterly release)",
		"• 2026-12-01 01:00 UTC: overlaps UPG-2 ledger v1.9.0 (2026-12-01 01:30 UTC to 2026-12-01 02:30 UTC) (payments depends on ledger)")
	// The upgrade is a normal one: its pre-brief is in #payments, inside
	// the standard window, so without a warning.
	var root string
	for _, s := range log.Ops("post") {
		if s.Msg.UpgradeID == "UPG-3" {
			root = s.Text
		}
	}
	if !strings.Contains(root, "Window: 2026-12-08 01:00 UTC to 2026-12-08 03:00 UTC (2h)") || strings.Contains(root, "Warning") {
		t.Fatalf("UPG-3's pre-brief:\n%s", root)
	}
	mustSay(t, "slots", r.try("bob", "slots payments 2"), false, "1. 2026-12-15 01:00 UTC", "2. 2026-12-22 01:00 UTC",
		"• 2026-12-08 01:00 UTC: overlaps UPG-3 payments v2.5.0")
}

// TestFreezeRefusedForAnOwnerAllowedForAnAdmin is the second acceptance
// point, with a freeze declared by command over an upgrade already
// scheduled: the admin hears of it, its thread gets a notice.
func TestFreezeRefusedForAnOwnerAllowedForAnAdmin(t *testing.T) {
	o := storetest.Target(t)
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	r := newReplica(t, o, clock.Now, log, windowed(t))
	into := "schedule payments v2.5.0 at 2026-11-24 02:00 Europe/Berlin for 1h"
	mustSay(t, "the owner", r.try("alice", into), true, "payments is frozen from 2026-11-23 00:00 UTC to 2026-11-25 00:00 UTC (freeze release-week: quarterly release)",
		"Only an admin may override a freeze (@dave)")
	mustSay(t, "the owner anyway", r.try("alice", into+" anyway please"), true, "only an admin may override a freeze")
	mustSay(t, "the admin", r.try("dave", into+" anyway payment provider deadline"), false, "Scheduled UPG-1",
		"❄ Freeze release-week (2026-11-23 00:00 UTC to 2026-11-25 00:00 UTC) overridden by @dave: payment provider deadline.")
	mustSay(t, "the log", r.try("bob", "log UPG-1"), false, "dave · scheduled", "Freeze release-week", "why: payment provider deadline")
	var root string
	for _, s := range log.Ops("post") {
		root = s.Text
	}
	if !strings.Contains(root, "Override: ❄ Freeze release-week") || !strings.Contains(root, "payment provider deadline") {
		t.Fatalf("the thread's root does not show the override:\n%s", root)
	}
	evs, err := r.st.EventsAfter(context.Background(), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var data string
	for _, e := range evs {
		if e.Event.Type == bot.EventScheduled {
			data = string(e.JSON)
		}
	}
	if !strings.Contains(data, `"kind":"freeze_override"`) || !strings.Contains(data, `"reason":"payment provider deadline"`) {
		t.Fatalf("the scheduled event does not carry the override: %s", data)
	}

	// A freeze declared by command over an upgrade already scheduled.
	r.do(t, "carol", "schedule ledger v1.9.0 at 2026-12-10 14:00 UTC")
	log.Reset()
	mustSay(t, "freeze add", r.try("dave", "freeze add audit from 2026-12-10 to 2026-12-11 services ledger reason external audit"), false,
		"Declared freeze audit: 2026-12-10 00:00 UTC to 2026-12-11 00:00 UTC, ledger.", "1 upgrade(s) already fall in it", "• UPG-2 ledger v1.9.0")
	notices := log.Kinds(bot.KindFreeze)
	if len(notices) != 1 || notices[0].Op != "reply" || notices[0].To != "t:#ledger" || !strings.Contains(notices[0].Text, "Freeze audit was declared by @dave over the window of UPG-2") {
		t.Fatalf("the thread notice: %+v", notices)
	}
	mustSay(t, "reschedule into it", r.try("carol", "reschedule UPG-2 2026-12-10 16:00 UTC"), true, "ledger is frozen", "freeze audit")
	mustSay(t, "freeze list", r.try("alice", "freeze list"), false, "❄ audit", "declared by @dave", "❄ release-week", "in the configuration")
	// A second store connection (another replica) sees the freeze.
	other := newReplica(t, o, clock.Now, log, windowed(t))
	mustSay(t, "another replica", other.try("carol", "schedule ledger v2.0.0 at 2026-12-10 18:00 UTC"), true, "freeze audit")
}

// TestWeeklySeriesOnThreeReplicas is the third acceptance point: three
// replicas share the store and the clock; a weekly series creates each
// occurrence once, and each occurrence gets its 7-day reminder.
func TestWeeklySeriesOnThreeReplicas(t *testing.T) {
	o := storetest.Target(t)
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	so := bot.SchedulerOptions{Reconcile: -1}
	reps := []*replica{
		newReplicaWith(t, o, clock.Now, log, so, windowed(t)),
		newReplicaWith(t, o, clock.Now, log, so, windowed(t)),
		newReplicaWith(t, o, clock.Now, log, so, windowed(t)),
	}
	// Every Tuesday 02:00 Berlin until the end of the year; the freeze
	// takes the first one (24 November), which is said and skipped.
	m := reps[0].try("alice", "schedule payments v2.5.0 every tue 02:00 Europe/Berlin for 1h until 2026-12-31")
	mustSay(t, "the series", m, false, "Scheduled series SER-1", "2026-11-24 01:00 UTC: skipped, frozen by release-week",
		"Next occurrence: 2026-12-01 01:00 UTC, created 2026-11-23 01:00 UTC.")
	if skipped := log.Kinds(bot.KindFreeze); len(skipped) != 1 || skipped[0].Op != "post" || !strings.Contains(skipped[0].Text, "is skipped: freeze release-week") {
		t.Fatalf("the skipped occurrence was not said in #payments: %+v", skipped)
	}

	// Six weeks, every hour, all three schedulers claiming at once.
	ctx := context.Background()
	for at := start0; at.Before(start0.Add(42 * 24 * time.Hour)); at = at.Add(time.Hour) {
		clock.Set(at)
		var wg sync.WaitGroup
		for _, r := range reps {
			wg.Go(func() {
				if _, err := r.sched.RunDue(ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		for _, r := range reps {
			r.b.Flush()
		}
	}

	occ, err := reps[0].st.Occurrences(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	dates := []string{"2026-11-24", "2026-12-01", "2026-12-08", "2026-12-15", "2026-12-22", "2026-12-29"}
	if got := slices.Sorted(func(yield func(string) bool) {
		for d := range occ {
			if !yield(d) {
				return
			}
		}
	}); !slices.Equal(got, dates) {
		t.Fatalf("occurrence dates %v, want %v", got, dates)
	}
	roots := map[string]int{}
	for _, s := range log.Ops("post") {
		if s.Msg.Kind == bot.KindRoot {
			roots[s.Msg.UpgradeID]++
		}
	}
	reminders := map[string]int{}
	for _, s := range log.Kinds(bot.KindReminder) {
		if strings.Contains(s.Text, "(in 7d)") {
			reminders[s.Msg.UpgradeID]++
		}
	}
	for _, d := range dates[1:] {
		id := commands.FormatID(occ[d])
		u, err := reps[1].st.Get(ctx, occ[d])
		if err != nil {
			t.Fatalf("%s (%s): %v", id, d, err)
		}
		if u.Series == nil || u.Series.ID != 1 || u.Series.Date != d || u.Version != "v2.5.0" || u.Duration() != time.Hour {
			t.Errorf("%s: %+v %v", id, u.Series, u.Duration())
		}
		if roots[id] != 1 {
			t.Errorf("%s (%s) has %d root messages, want 1", id, d, roots[id])
		}
		if reminders[id] != 1 {
			t.Errorf("%s (%s) got %d 7-day reminders, want 1", id, d, reminders[id])
		}
	}
	if occ["2026-11-24"] != 0 {
		t.Errorf("the frozen Tuesday became %s", commands.FormatID(occ["2026-11-24"]))
	}
	all, _ := reps[2].st.List(ctx, bot.Filter{})
	if len(all) != len(dates)-1 {
		t.Errorf("%d upgrades in the store, want %d", len(all), len(dates)-1)
	}
	s, err := reps[2].st.GetSeries(ctx, 1)
	if err != nil || s.State != bot.SeriesEnded {
		t.Fatalf("after its until date the series is %+v (%v)", s, err)
	}
	if next, ok, _ := reps[0].st.NextDue(ctx); ok {
		t.Fatalf("a job is left at %v", next)
	}
}

// TestSeriesJobOfADeadReplica: a replica claims the series' job, records
// the occurrence's date and dies before creating the upgrade; once its
// lease runs out another replica creates that upgrade, once, under the
// number recorded.
func TestSeriesJobOfADeadReplica(t *testing.T) {
	o := storetest.Target(t)
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	alive := newReplicaWith(t, o, clock.Now, log, bot.SchedulerOptions{Reconcile: -1})
	alive.do(t, "alice", "schedule payments v3 every thu 10:00 UTC for 1h until 2026-12-31")
	// Thursday 26 November was created at once; 3 December is due on the 25th.
	ctx := context.Background()
	alive.at(t, clock, time.Date(2026, 11, 25, 9, 59, 0, 0, time.UTC)) // the first one's reminders so far
	clock.Set(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	dead := storetest.Open(t, o)
	claimed, err := dead.Claim(ctx, clock.Now(), 2*time.Minute, 10)
	if err != nil || len(claimed) != 1 || claimed[0].Kind != bot.JobSeries {
		t.Fatalf("the doomed replica claimed %+v, %v", claimed, err)
	}
	id, _ := dead.NextID(ctx)
	if rec, first, err := dead.ClaimOccurrence(ctx, 1, "2026-12-03", id); err != nil || !first || rec != id {
		t.Fatalf("claim: %d %v %v", rec, first, err)
	}
	dead.Close() // dies before creating UPG-id

	alive.at(t, clock, clock.Now().Add(time.Minute))
	if _, err := alive.st.Get(ctx, id); err == nil {
		t.Fatal("created while the dead replica's lease still held")
	}
	alive.at(t, clock, clock.Now().Add(2*time.Minute))
	u, err := alive.st.Get(ctx, id)
	if err != nil || u.Series == nil || u.Series.Date != "2026-12-03" {
		t.Fatalf("the occurrence the dead replica claimed: %+v, %v", u, err)
	}
	alive.at(t, clock, clock.Now().Add(time.Hour))
	all, _ := alive.st.List(ctx, bot.Filter{})
	if len(all) != 2 {
		t.Fatalf("%d upgrades, want the two occurrences", len(all))
	}
}

// TestTuesdayWindowInTheWeekBerlinsClocksChange is the fourth acceptance
// point: Berlin's clocks go forward on Sunday 28 March 2027; a Tuesday
// 02:30 window keeps its local time that week, an hour earlier in UTC,
// and next, slots and the occurrences of a series say so.
func TestTuesdayWindowInTheWeekBerlinsClocksChange(t *testing.T) {
	clock, log := bottest.NewClock(time.Date(2027, 3, 17, 12, 0, 0, 0, time.UTC)), &bottest.Recorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, log, func(c *bot.Config) {
		c.Services[1].Windows = []commands.Window{bottest.Window(t, "tue 02:30-04:30 Europe/Berlin")}
	})
	said := "Clocks in Europe/Berlin go forward on Sunday 28 March: this window opens at 02:30 CEST, which is 00:30 UTC (it was 01:30 UTC the week before)."
	mustSay(t, "slots", r.try("bob", "slots payments 2"), false,
		"1. 2027-03-23 01:30 UTC to 2027-03-23 03:30 UTC", "2. 2027-03-30 00:30 UTC to 2027-03-30 02:30 UTC", said)
	r.do(t, "carol", "schedule ledger v1 at 2027-03-23 02:00 Europe/Berlin")
	mustSay(t, "next", r.try("alice", "schedule payments v4 next"), false,
		"Scheduled UPG-2 payments v4: 2027-03-30 00:30 UTC to 2027-03-30 01:30 UTC (1h).", said, "overlaps UPG-1 ledger v1")

	// A series at 02:30 Berlin on Tuesdays: its occurrence of 30 March is
	// at 00:30 UTC, and its pre-brief says why.
	r.do(t, "alice", "schedule payments v5 every tue 02:30 Europe/Berlin for 1h until 2027-04-06")
	for at := clock.Now(); at.Before(time.Date(2027, 3, 23, 0, 0, 0, 0, time.UTC)); at = at.Add(6 * time.Hour) {
		r.at(t, clock, at)
	}
	var root string
	for _, s := range log.Ops("post") {
		if s.Msg.Kind == bot.KindRoot && strings.Contains(s.Text, "2027-03-30 00:30 UTC") && strings.Contains(s.Text, "payments v5") {
			root = s.Text
		}
	}
	if !strings.Contains(root, "Time: 🕑 Clocks in Europe/Berlin go forward on Sunday 28 March: it starts at 02:30 CEST, which is 00:30 UTC") {
		t.Fatalf("the occurrence of 30 March does not say the change:\n%s", root)
	}
}

// TestWindowsReportOnTheRealStore: an admin's freeze, kept in Redis, is
// read by the report of standard windows the status API serves.
func TestWindowsReportOnTheRealStore(t *testing.T) {
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, log, windowed(t))
	r.do(t, "dave", "freeze add payments-migration from 2026-12-01 00:00 UTC for 1d services payments reason schema migration")
	rep, err := r.b.Windows(context.Background(), "payments", 3)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range rep.Slots {
		why := "free"
		for _, f := range s.Frozen {
			why = f.Name
		}
		got = append(got, fmt.Sprintf("%s %s", s.Start.UTC().Format("01-02"), why))
	}
	if want := []string{"11-24 release-week", "12-01 payments-migration", "12-08 free"}; !slices.Equal(got, want) {
		t.Fatalf("windows %q, want %q", got, want)
	}
}

// TestSeriesGoesOnPastADateItsVersionWasTypedOn: a replica claims a date of
// a series for an upgrade and dies before creating it; meanwhile the same
// version is scheduled by hand over that date. The date is skipped (one
// upgrade of the version), and the series goes on with the next weeks.
func TestSeriesGoesOnPastADateItsVersionWasTypedOn(t *testing.T) {
	o := storetest.Target(t)
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	alive := newReplicaWith(t, o, clock.Now, log, bot.SchedulerOptions{Reconcile: -1})
	alive.do(t, "alice", "schedule payments v3 every thu 10:00 UTC for 1h until 2026-12-31")
	ctx := context.Background()
	alive.at(t, clock, time.Date(2026, 11, 25, 9, 59, 0, 0, time.UTC))
	clock.Set(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	dead := storetest.Open(t, o)
	claimed, err := dead.Claim(ctx, clock.Now(), 2*time.Minute, 10)
	if err != nil || len(claimed) != 1 || claimed[0].Kind != bot.JobSeries {
		t.Fatalf("claimed %+v, %v", claimed, err)
	}
	id, _ := dead.NextID(ctx)
	if _, _, err := dead.ClaimOccurrence(ctx, 1, "2026-12-03", id); err != nil {
		t.Fatal(err)
	}
	dead.Close() // dies before creating UPG-<id>
	hand := alive.do(t, "alice", "schedule payments v3 at 2026-12-03 10:30 UTC for 1h")

	for range 20 { // the dead replica's lease runs out; three weeks pass
		alive.at(t, clock, clock.Now().Add(24*time.Hour))
	}
	occ, err := alive.st.Occurrences(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, date := range []string{"2026-12-10", "2026-12-17"} {
		if occ[date] == 0 {
			t.Fatalf("the series stopped: no occurrence on %s (occurrences %v)", date, occ)
		}
	}
	on3 := alive.list(t, time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC))
	if len(on3) != 1 || !strings.Contains(plain(hand), on3[0].Key()) {
		t.Fatalf("3 December: %d upgrades, want only the one typed (%s)", len(on3), plain(hand))
	}
}

// TestTwoSeriesOfOneVersionOnTwoReplicas: two series of one version, their
// jobs due at the same moment and run by two replicas at once, make one
// upgrade of each date. (The command refuses the second series now, TestTheSameSeriesOnTwoReplicasAtOnce;
// one stored before it did is put in the store by hand.)
func TestTwoSeriesOfOneVersionOnTwoReplicas(t *testing.T) {
	for range 5 {
		a, b, clock := twoReplicas(t)
		a.do(t, "alice", "schedule payments v3 every thu 10:00 UTC for 1h until 2026-12-31")
		ctx := context.Background()
		first, err := a.st.GetSeries(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		second := *first
		if second.ID, err = a.st.NextSeriesID(ctx); err != nil {
			t.Fatal(err)
		}
		second.Rev = 1
		if err := a.st.SaveSeries(ctx, &second); err != nil {
			t.Fatal(err)
		}
		due := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC).Add(-bot.DefaultSeriesLead)
		if err := a.st.ReplaceJobs(ctx, bot.SeriesJobOwner(second.ID), 1, []bot.Job{{ID: "next", Kind: bot.JobSeries, Due: due}}, clock.Now()); err != nil {
			t.Fatal(err)
		}
		clock.Set(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
		var wg sync.WaitGroup
		for _, r := range []*replica{a, b} {
			wg.Go(func() { r.sched.RunDue(ctx); r.b.Flush() })
		}
		wg.Wait()
		if on3 := a.list(t, time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)); len(on3) != 1 {
			t.Fatalf("3 December has %d upgrades of payments v3, want 1", len(on3))
		}
	}
}

// TestTheSameSeriesOnTwoReplicasAtOnce (QA): the same every command, typed
// twice, made a second series that skipped every week and could not be
// ended; it is refused now, also when two replicas take the two commands
// at the same moment: the store adds a series only when no active one of
// its version and recurrence is stored.
func TestTheSameSeriesOnTwoReplicasAtOnce(t *testing.T) {
	for range 5 {
		a, b, _ := twoReplicas(t)
		var wg sync.WaitGroup
		answers := make([]bot.Message, 2)
		for i, r := range []*replica{a, b} {
			wg.Go(func() {
				answers[i] = r.try("alice", "schedule payments v3 every thu 10:00 UTC for 1h until 2026-12-31")
				r.b.Flush()
			})
		}
		wg.Wait()
		refused := 0
		for _, m := range answers {
			if m.Kind == bot.KindError {
				refused++
				mustSay(t, "the second series", m, true, "already scheduled by series SER-", "/upgrade cancel SER-")
			}
		}
		all, err := a.st.ListSeries(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if refused != 1 || len(all) != 1 {
			t.Fatalf("%d refused, %d stored; want 1 and 1:\n%s\n%s", refused, len(all), plain(answers[0]), plain(answers[1]))
		}
	}
}

// twoReplicas are two replicas on a store of their own, on one clock,
// their schedulers reconciling never (the test runs what falls due).
func twoReplicas(t *testing.T) (a, b *replica, clock *bottest.Clock) {
	t.Helper()
	o := storetest.Target(t)
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	so := bot.SchedulerOptions{Reconcile: -1}
	return newReplicaWith(t, o, clock.Now, log, so), newReplicaWith(t, o, clock.Now, log, so), clock
}

// list is every upgrade with a window between from and to.
func (r *replica) list(t *testing.T, from, to time.Time) []*bot.Upgrade {
	t.Helper()
	us, err := r.st.List(context.Background(), bot.Filter{From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	return us
}
