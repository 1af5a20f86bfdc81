package bot_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
)

// at is a UTC instant of 2026, to the minute.
func at(month time.Month, day, hour, min int) time.Time {
	return time.Date(2026, month, day, hour, min, 0, 0, time.UTC)
}

func brief(who string, t time.Time) bot.Ack { return bot.Ack{Scope: bot.ScopeBrief, Who: who, At: t} }

func rolledBackAck(who string, t time.Time) bot.Ack {
	return bot.Ack{Scope: bot.ScopeRollback, Who: who, At: t}
}

// statsFixture is ten upgrades with known windows, outcomes and
// acknowledgments. The figures expected of them are worked out by hand in
// TestComputeStatsAgainstAHandComputedFixture; "now" is 22 November 10:00
// UTC, so the last 30 days begin 23 October 10:00 and the last 90 days
// 24 August 10:00.
func statsFixture() []bot.StatsRecord {
	up := func(id int, service string, st bot.State, created, start, end, started, finished time.Time, audience ...string) *bot.Upgrade {
		return &bot.Upgrade{ID: id, Service: service, Version: "v1", State: st, CreatedAt: created, Start: start, End: end,
			StartedAt: started, FinishedAt: finished, Audience: audience}
	}
	var zero time.Time
	recs := []bot.StatsRecord{
		// U1: started 30 min early, completed 10 min before the planned end.
		// carol acknowledged after the early start but before the planned one:
		// not before the window opened. dave is not in the audience.
		{Upgrade: up(1, "payments", bot.Completed, at(11, 1, 10, 0), at(11, 10, 2, 0), at(11, 10, 4, 0), at(11, 10, 1, 30), at(11, 10, 3, 50), "alice", "bob", "carol"),
			Acks: []bot.Ack{brief("dave", at(11, 1, 10, 1)), brief("alice", at(11, 1, 11, 0)), brief("bob", at(11, 1, 12, 0)), brief("carol", at(11, 10, 1, 45))}},
		// U2: rolled back in progress, 30 min before the planned end.
		{Upgrade: up(2, "payments", bot.RolledBack, at(11, 5, 10, 0), at(11, 15, 2, 0), at(11, 15, 3, 0), at(11, 15, 2, 0), at(11, 15, 2, 30), "alice", "bob"),
			Acks: []bot.Ack{brief("alice", at(11, 5, 10, 30)), brief("bob", at(11, 6, 10, 0)), rolledBackAck("alice", at(11, 15, 2, 40)), rolledBackAck("bob", at(11, 15, 3, 30))}},
		// U3: completed 1h30m after the planned end.
		{Upgrade: up(3, "ledger", bot.Completed, at(10, 25, 10, 0), at(11, 2, 10, 0), at(11, 2, 11, 0), at(11, 2, 10, 0), at(11, 2, 12, 30), "carol"),
			Acks: []bot.Ack{brief("carol", at(10, 25, 14, 0))}},
		// U4: cancelled the day before its window.
		{Upgrade: up(4, "ledger", bot.Cancelled, at(10, 30, 10, 0), at(11, 8, 10, 0), at(11, 8, 11, 0), zero, at(11, 7, 9, 0), "carol"),
			Acks: []bot.Ack{brief("carol", at(10, 30, 10, 15))}},
		// U5: in progress, past its planned end; bob never acknowledged.
		{Upgrade: up(5, "payments", bot.InProgress, at(11, 20, 10, 0), at(11, 22, 8, 0), at(11, 22, 9, 0), at(11, 22, 8, 0), zero, "alice", "bob"),
			Acks: []bot.Ack{brief("alice", at(11, 20, 10, 5))}},
		// U6: completed an hour late, rolled back 7 hours after (60 days ago).
		{Upgrade: up(6, "payments", bot.RolledBack, at(9, 10, 10, 0), at(9, 20, 2, 0), at(9, 20, 4, 0), at(9, 20, 2, 0), at(9, 20, 12, 0), "alice", "bob"),
			Acks:        []bot.Ack{brief("alice", at(9, 10, 12, 0)), brief("bob", at(9, 19, 10, 0)), rolledBackAck("alice", at(9, 20, 12, 20))},
			CompletedAt: at(9, 20, 5, 0)},
		// U7: completed 20 min late (80 days ago).
		{Upgrade: up(7, "ledger", bot.Completed, at(8, 30, 10, 0), at(9, 3, 10, 0), at(9, 3, 11, 0), at(9, 3, 10, 0), at(9, 3, 11, 20), "carol"),
			Acks: []bot.Ack{brief("carol", at(8, 30, 10, 45))}},
		// U8: its window is ahead: in no period.
		{Upgrade: up(8, "payments", bot.Scheduled, at(11, 21, 10, 0), at(12, 1, 2, 0), at(12, 1, 3, 0), zero, zero, "alice", "bob"),
			Acks: []bot.Ack{brief("alice", at(11, 21, 11, 0))}},
		// U9: 100 days ago: in no period.
		{Upgrade: up(9, "payments", bot.Completed, at(8, 1, 10, 0), at(8, 14, 2, 0), at(8, 14, 3, 0), at(8, 14, 2, 0), at(8, 14, 5, 0), "alice"),
			Acks: []bot.Ack{brief("alice", at(8, 1, 10, 10))}},
		// U10: its window opened and ended, never started, nobody acknowledged.
		{Upgrade: up(10, "checkout", bot.Scheduled, at(11, 20, 9, 0), at(11, 22, 9, 0), at(11, 22, 9, 30), zero, zero, "bob")},
	}
	// Readiness: U1 and U5 started ready, U2 started anyway, U10 has a
	// checklist but never started; the others have none. U1 and U6 have a
	// debrief.
	list := []bot.Criterion{{Text: "backups verified", State: bot.CriterionMet}}
	for _, i := range []int{0, 1, 4, 9} {
		recs[i].Upgrade.Readiness = list
	}
	recs[1].Upgrade.StartedAnyway = &bot.Anyway{Open: []string{"backups verified"}, Reason: "urgent"}
	recs[0].Upgrade.Debrief = &bot.Record{Text: "fine", By: "alice", At: at(11, 10, 5, 0)}
	recs[5].Upgrade.Debrief = &bot.Record{Text: "roll back sooner", By: "alice", At: at(9, 21, 5, 0)}
	return recs
}

func TestComputeStatsAgainstAHandComputedFixture(t *testing.T) {
	now := at(11, 22, 10, 0)
	from30, from90 := at(10, 23, 10, 0), at(8, 24, 10, 0)
	h, m := time.Hour, time.Minute
	type want struct {
		service  string
		days     int
		outcomes bot.Outcomes
		rollback bot.Rate
		acks     bot.AckTimes
		before   bot.Rate
		overrun  bot.Overrun
		debriefs bot.Rate
		atStart  bot.StartReadiness
	}
	for _, w := range []want{
		// Every service, last 30 days: U1 U2 U3 U4 U5 U10.
		{service: "", days: 30,
			outcomes: bot.Outcomes{Total: 6, Completed: 2, RolledBack: 1, Cancelled: 1, InProgress: 1, Scheduled: 1},
			rollback: bot.Rate{Part: 1, Whole: 3}, // U2 of U1 U2 U3
			// Pre-brief, from scheduling: U1 alice 1h, bob 2h, carol 8d15h45m = 207h45m (dave is no audience);
			// U2 alice 30m, bob 24h; U3 carol 4h; U4 carol 15m; U5 alice 5m.
			// Sorted 5m 15m 30m 1h 2h 4h 24h 207h45m: median (1h+2h)/2 = 1h30m; p90 rank ⌈7.2⌉ = 8: 207h45m.
			// Rollback, from the rollback: U2 alice 10m, bob 1h: median 35m; p90 rank ⌈1.8⌉ = 2: 1h.
			acks: bot.AckTimes{Brief: bot.Durations{Count: 8, Median: 90 * m, P90: 207*h + 45*m},
				Rollback: bot.Durations{Count: 2, Median: 35 * m, P90: h}},
			// U4 cancelled is left out. U1 opened at its early start 01:30: alice, bob
			// yes, carol (01:45) no: 2/3; U2 2/2; U3 1/1; U5 alice yes, bob no: 1/2;
			// U10 0/1. 6 of 9.
			before: bot.Rate{Part: 6, Whole: 9},
			// U1 0 (10m early), U2 0 (rolled back 30m before the end), U3 1h30m: median 0.
			overrun: bot.Overrun{Finished: 3, Overran: 1, Median: 0},
			// U1 of U1 U2 U3; U1 U5 ready, U2 anyway (U3 has no checklist, U10 never started).
			debriefs: bot.Rate{Part: 1, Whole: 3}, atStart: bot.StartReadiness{Started: 3, Ready: 2, Anyway: 1}},
		// Every service, last 90 days: also U6 and U7 (U8 ahead, U9 too old).
		{service: "", days: 90,
			outcomes: bot.Outcomes{Total: 8, Completed: 3, RolledBack: 2, Cancelled: 1, InProgress: 1, Scheduled: 1},
			rollback: bot.Rate{Part: 2, Whole: 5},
			// Also U6 alice 2h, bob 9d = 216h; U7 carol 45m. Sorted 5m 15m 30m 45m 1h
			// 2h 2h 4h 24h 207h45m 216h: median the 6th, 2h; p90 rank ⌈9.9⌉ = 10: 207h45m.
			// Rollback also U6 alice 20m: 10m 20m 1h: median 20m; p90 rank 3: 1h.
			acks: bot.AckTimes{Brief: bot.Durations{Count: 11, Median: 2 * h, P90: 207*h + 45*m},
				Rollback: bot.Durations{Count: 3, Median: 20 * m, P90: h}},
			before: bot.Rate{Part: 9, Whole: 12}, // also U6 2/2, U7 1/1
			// U6 ended at its completion 05:00, 1h late (not at its rollback); U7 20m:
			// 0 0 20m 1h 1h30m: median 20m.
			overrun: bot.Overrun{Finished: 5, Overran: 3, Median: 20 * m},
			// U1 U6 of U1 U2 U3 U6 U7.
			debriefs: bot.Rate{Part: 2, Whole: 5}, atStart: bot.StartReadiness{Started: 3, Ready: 2, Anyway: 1}},
		// payments, last 30 days: U1 U2 U5.
		{service: "payments", days: 30,
			outcomes: bot.Outcomes{Total: 3, Completed: 1, RolledBack: 1, InProgress: 1},
			rollback: bot.Rate{Part: 1, Whole: 2},
			// 5m 30m 1h 2h 24h 207h45m: median (1h+2h)/2; p90 rank ⌈5.4⌉ = 6.
			acks: bot.AckTimes{Brief: bot.Durations{Count: 6, Median: 90 * m, P90: 207*h + 45*m},
				Rollback: bot.Durations{Count: 2, Median: 35 * m, P90: h}},
			before:   bot.Rate{Part: 5, Whole: 7}, // 2/3 + 2/2 + 1/2
			overrun:  bot.Overrun{Finished: 2, Overran: 0, Median: 0},
			debriefs: bot.Rate{Part: 1, Whole: 2}, atStart: bot.StartReadiness{Started: 3, Ready: 2, Anyway: 1}},
		// payments, last 90 days: also U6.
		{service: "payments", days: 90,
			outcomes: bot.Outcomes{Total: 4, Completed: 1, RolledBack: 2, InProgress: 1},
			rollback: bot.Rate{Part: 2, Whole: 3},
			// 5m 30m 1h 2h 2h 24h 207h45m 216h: median (2h+2h)/2; p90 rank ⌈7.2⌉ = 8: 216h.
			acks: bot.AckTimes{Brief: bot.Durations{Count: 8, Median: 2 * h, P90: 216 * h},
				Rollback: bot.Durations{Count: 3, Median: 20 * m, P90: h}},
			before:   bot.Rate{Part: 7, Whole: 9},
			overrun:  bot.Overrun{Finished: 3, Overran: 1, Median: 0}, // 0 0 1h
			debriefs: bot.Rate{Part: 2, Whole: 3}, atStart: bot.StartReadiness{Started: 3, Ready: 2, Anyway: 1}},
		// checkout: only U10, which nobody acknowledged and nobody started.
		{service: "checkout", days: 30,
			outcomes: bot.Outcomes{Total: 1, Scheduled: 1},
			before:   bot.Rate{Part: 0, Whole: 1}},
		{service: "checkout", days: 90,
			outcomes: bot.Outcomes{Total: 1, Scheduled: 1},
			before:   bot.Rate{Part: 0, Whole: 1}},
		// sandbox: nothing at all.
		{service: "sandbox", days: 30},
		{service: "sandbox", days: 90},
	} {
		st := bot.ComputeStats(w.service, statsFixture(), now)
		if st.Service != w.service || !st.At.Equal(now) || len(st.Periods) != 2 {
			t.Fatalf("%q: %+v", w.service, st)
		}
		got := st.Periods[0]
		from := from30
		if w.days == 90 {
			got, from = st.Periods[1], from90
		}
		expect := bot.PeriodStats{Days: w.days, From: from, To: now, Outcomes: w.outcomes, TimeToAck: w.acks, AckedBeforeWindow: w.before, Overrun: w.overrun,
			Debriefs: w.debriefs, AtStart: w.atStart}
		if !reflect.DeepEqual(got, expect) {
			t.Errorf("%q, %d days:\n got %+v\nwant %+v", w.service, w.days, got, expect)
		}
		if r := got.Outcomes.RollbackRate(); r != w.rollback {
			t.Errorf("%q, %d days: rollback rate %+v, want %+v", w.service, w.days, r, w.rollback)
		}
	}
	// Ten acknowledgments 1m to 10m after scheduling: the median is the mean of
	// the 5th and 6th, 5m30s; p90 is the 9th (rank ⌈0.9·10⌉ = 9), 9m, not the 10th.
	ten := &bot.Upgrade{ID: 11, Service: "sandbox", State: bot.Scheduled, CreatedAt: at(11, 1, 0, 0), Start: at(11, 2, 0, 0), End: at(11, 2, 1, 0)}
	var tenAcks []bot.Ack
	for i := 1; i <= 10; i++ {
		who := fmt.Sprintf("p%d", i)
		ten.Audience = append(ten.Audience, who)
		tenAcks = append(tenAcks, brief(who, at(11, 1, 0, i)))
	}
	if got := bot.ComputeStats("", []bot.StatsRecord{{Upgrade: ten, Acks: tenAcks}}, now).Periods[0].TimeToAck.Brief; got != (bot.Durations{Count: 10, Median: 5*m + 30*time.Second, P90: 9 * m}) {
		t.Errorf("ten acknowledgments: %+v", got)
	}
	// Rates as fractions; no data is no fraction, not 0 or NaN.
	if f, ok := (bot.Rate{Part: 6, Whole: 9}).Fraction(); !ok || f != 6.0/9 {
		t.Errorf("6 of 9 = %v, %v", f, ok)
	}
	if _, ok := (bot.Rate{}).Fraction(); ok {
		t.Error("0 of 0 has a fraction")
	}
}

// watchedStore is a MemStore that notes every write once watching starts.
type watchedStore struct {
	*bottest.MemStore
	mu       sync.Mutex
	watching bool
	writes   []string
}

func (w *watchedStore) note(name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.watching {
		w.writes = append(w.writes, name)
	}
}

func (w *watchedStore) watch() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.watching, w.writes = true, nil
}

func (w *watchedStore) written() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.writes...)
}

func (w *watchedStore) NextID(ctx context.Context) (int, error) {
	w.note("NextID")
	return w.MemStore.NextID(ctx)
}

func (w *watchedStore) Create(ctx context.Context, u *bot.Upgrade, d bot.Decision) error {
	w.note("Create")
	return w.MemStore.Create(ctx, u, d)
}

func (w *watchedStore) Update(ctx context.Context, u *bot.Upgrade, d bot.Decision) error {
	w.note("Update")
	return w.MemStore.Update(ctx, u, d)
}

func (w *watchedStore) Ack(ctx context.Context, id int, a bot.AckWrite) (bot.AckResult, error) {
	w.note("Ack")
	return w.MemStore.Ack(ctx, id, a)
}

func (w *watchedStore) Publish(ctx context.Context, id int, e bot.Event) error {
	w.note("Publish")
	return w.MemStore.Publish(ctx, id, e)
}

func (w *watchedStore) RecordNotice(ctx context.Context, n bot.PendingNotice) error {
	w.note("RecordNotice")
	return w.MemStore.RecordNotice(ctx, n)
}

// TestStatsThroughTheBot runs a day of two upgrades through the commands,
// then asks for the figures: a private answer, as every read's, that
// changes nothing and posts nothing; the service is matched
// case-insensitively and an unknown one is refused with the known ones.
func TestStatsThroughTheBot(t *testing.T) {
	st := &watchedStore{MemStore: bottest.NewMemStore()}
	f := &fixture{st: st.MemStore, rec: &bottest.Recorder{}, clock: bottest.NewClock(t0)} // 10:00 UTC
	f.b = bot.New(bot.Options{Config: testConfig(), Store: st, Messenger: bot.Router{"test": f.rec}, Now: f.clock.Now, RefreshIntervalSet: true})
	t.Cleanup(f.b.Flush)
	ctx := context.Background()
	f.ok(t, "alice", "schedule payments v1 at 2026-11-22 12:00 UTC for 1h") // audience alice, bob, carol
	f.ok(t, "carol", "schedule ledger v9 at 2026-11-22 14:30 UTC for 1h")   // audience carol, alice, bob
	f.advance(30 * time.Minute)                                             // 10:30
	pressAs(f.b, ctx, who("bob").Actor, "UPG-1", bot.ScopeBrief)            // 30m
	pressAs(f.b, ctx, who("alice").Actor, "UPG-2", bot.ScopeBrief)          // 30m
	f.advance(time.Hour)                                                    // 11:30
	pressAs(f.b, ctx, who("carol").Actor, "UPG-1", bot.ScopeBrief)          // 1h30m, before the window
	f.advance(40 * time.Minute)                                             // 12:10
	f.ok(t, "alice", "start UPG-1")
	f.advance(70 * time.Minute) // 13:20: 20 min past the planned end
	f.ok(t, "alice", "complete UPG-1")
	f.advance(40 * time.Minute) // 14:00
	f.ok(t, "alice", "rollback UPG-1 checkout errors")
	f.advance(15 * time.Minute)                                     // 14:15
	pressAs(f.b, ctx, who("bob").Actor, "UPG-1", bot.ScopeRollback) // 15m
	f.advance(5 * time.Minute)                                      // 14:20
	f.ok(t, "carol", "cancel UPG-2")
	f.advance(40 * time.Minute) // 15:00: both windows have opened
	f.b.Flush()
	f.rec.Reset()
	st.watch()

	since := map[int]string{30: "2026-10-23 15:00 UTC", 90: "2026-08-24 15:00 UTC"}
	both := func(title, outcomes string, figures ...string) string {
		out := []string{title}
		for _, days := range []int{30, 90} {
			out = append(out, fmt.Sprintf("Last %d days (since %s): %s", days, since[days], outcomes))
			out = append(out, figures...)
		}
		return strings.Join(append(out, "How each figure is counted: /upgrade help stats."), "\n")
	}
	for _, c := range []struct{ as, text, want string }{
		// UPG-1 rolled back 20m after completing 20m late; UPG-2 cancelled.
		// Pre-brief: 30m 30m 1h30m: median 30m, p90 1h30m. Rollback: bob 15m.
		// Before the window: bob and carol of UPG-1's three (UPG-2 cancelled).
		{"bob", "stats", both("Upgrade statistics", "2 upgrades: 1 rolled back, 1 cancelled.",
			"• Rollback rate: 100% (1 of 1 finished)",
			"• Time to acknowledge the pre-brief: median 30m, p90 1h30m (3 acknowledgments)",
			"• Time to acknowledge a rollback: median 15m, p90 15m (1 acknowledgment)",
			"• Acknowledged before the window opened: 67% (2 of 3 asked)",
			"• Overrun: median 20m; 1 of 1 finished upgrade ran past the planned end",
			"• Debriefs: 0% (0 of 1 finished)",
			"• Readiness at start: no upgrade with a readiness checklist was started")},
		// payments alone: 30m 1h30m: median 1h, p90 1h30m.
		{"carol", "stats PAYMENTS", both("Upgrade statistics of payments", "1 upgrade: 1 rolled back.",
			"• Rollback rate: 100% (1 of 1 finished)",
			"• Time to acknowledge the pre-brief: median 1h, p90 1h30m (2 acknowledgments)",
			"• Time to acknowledge a rollback: median 15m, p90 15m (1 acknowledgment)",
			"• Acknowledged before the window opened: 67% (2 of 3 asked)",
			"• Overrun: median 20m; 1 of 1 finished upgrade ran past the planned end",
			"• Debriefs: 0% (0 of 1 finished)",
			"• Readiness at start: no upgrade with a readiness checklist was started")},
		// ledger: a cancelled upgrade is owed nothing; figures without data say so.
		{"dave", "stats ledger", both("Upgrade statistics of ledger", "1 upgrade: 1 cancelled.",
			"• Rollback rate: no finished upgrades yet",
			"• Time to acknowledge the pre-brief: median 30m, p90 30m (1 acknowledgment)",
			"• Time to acknowledge a rollback: no rollbacks",
			"• Acknowledged before the window opened: nobody was asked to acknowledge",
			"• Overrun: no finished upgrades yet",
			"• Debriefs: no finished upgrades yet",
			"• Readiness at start: no upgrade with a readiness checklist was started")},
		{"alice", "stats sandbox", "Upgrade statistics of sandbox\n" +
			"Last 30 days (since 2026-10-23 15:00 UTC): no upgrade windows opened.\n" +
			"Last 90 days (since 2026-08-24 15:00 UTC): no upgrade windows opened.\n" +
			"How each figure is counted: /upgrade help stats."},
	} {
		m := f.do(t, c.as, c.text)
		if m.Kind != bot.KindReply || !m.Kind.Private() {
			t.Errorf("%s: %s answer, want a private reply: %s", c.text, m.Kind, lines(m))
		}
		if got := lines(m); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.text, got, c.want)
		}
	}
	f.fails(t, "alice", "stats paymnts", `Unknown service "paymnts". Known services: checkout, ledger, payments, sandbox.`, "Usage: /upgrade stats [<service>]")
	f.fails(t, "alice", "stats payments ledger", `Unexpected "ledger"`)
	// A re-sent stats is recognised in memory, as every read is.
	inv := who("bob")
	inv.Delivery = "test:stats-1"
	if m := f.b.Handle(ctx, inv, "stats"); m.Kind != bot.KindReply {
		t.Fatal(lines(m))
	}
	if m := f.b.Handle(ctx, inv, "stats"); m.Kind != bot.KindDuplicate {
		t.Fatalf("a re-sent stats: %s", m.Kind)
	}
	f.b.Flush()
	if w := st.written(); len(w) != 0 {
		t.Errorf("stats wrote to the store: %v", w)
	}
	if sent := f.rec.All(); len(sent) != 0 {
		t.Errorf("stats sent messages: %+v", sent)
	}
	// Bot.Stats, what the API serves, has the same figures.
	got, err := f.b.Stats(ctx, "Payments")
	if err != nil || got.Service != "payments" || got.Periods[0].Overrun.Median != 20*time.Minute || got.Periods[0].TimeToAck.Brief.Median != time.Hour {
		t.Fatalf("Bot.Stats: %+v, %v", got, err)
	}
	if _, err := f.b.Stats(ctx, "nope"); bot.ErrorCode(err) != bot.ENOTFOUND || !strings.Contains(bot.ErrorMessage(err), "Known services: checkout, ledger, payments, sandbox") {
		t.Fatalf("Bot.Stats of an unknown service: %v", err)
	}
}

// refusingAcks is a store whose acknowledgments cannot be read.
type refusingAcks struct {
	*bottest.MemStore
	calls atomic.Int32
}

func (s *refusingAcks) Acks(context.Context, int) ([]bot.Ack, error) {
	s.calls.Add(1)
	return nil, errors.New("redis: ERR something broke")
}

// When the store fails, stats says so, and stops reading: not one read
// per upgrade of the last 90 days.
func TestStatsStopsReadingWhenTheStoreFails(t *testing.T) {
	st := &refusingAcks{MemStore: bottest.NewMemStore()}
	b := bot.New(bot.Options{Config: testConfig(), Store: st, Messenger: bot.Router{"test": &bottest.Recorder{}}, Now: func() time.Time { return t0 }, RefreshIntervalSet: true})
	t.Cleanup(b.Flush)
	ctx := context.Background()
	for i := range 60 {
		u := &bot.Upgrade{ID: i + 1, Service: "payments", Version: fmt.Sprintf("v%d", i), State: bot.Completed,
			Start: t0.Add(-time.Duration(i+1) * time.Hour), End: t0.Add(-time.Duration(i) * time.Hour), CreatedAt: t0.Add(-48 * time.Hour)}
		if err := st.MemStore.Create(ctx, u, bot.Decision{Action: bot.ActionScheduled}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Stats(ctx, ""); err == nil || !strings.Contains(err.Error(), "something broke") {
		t.Fatalf("Stats = %v; want the store's error", err)
	}
	if n := st.calls.Load(); n > 16 {
		t.Errorf("%d reads of acknowledgments for 60 upgrades after the first failed; want it to stop", n)
	}
}
