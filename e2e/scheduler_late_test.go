package e2e

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
	"github.com/upgradebot/upgradebot/store"
	"github.com/upgradebot/upgradebot/store/storetest"
)

// These tests are about plans that lag their moment: the queue adds every
// job it has not done yet, whether or not its time has passed, and the
// scheduler decides when it runs whether it is still useful.

// TestWindowOpenedASecondAgoIsSent: the window of an upgrade created a
// minute before its start opened a second ago when its plan lands (a busy
// Redis); its window-open notice still goes out, and only once.
func TestWindowOpenedASecondAgoIsSent(t *testing.T) {
	o := storetest.Target(t)
	win := start0.Add(time.Hour)
	clock, log := bottest.NewClock(win.Add(time.Second)), &bottest.Recorder{}
	r := newReplica(t, o, clock.Now, log)
	u := &bot.Upgrade{ID: 1, Service: "payments", Version: "v1", Start: win, End: win.Add(time.Hour), State: bot.Scheduled,
		Threads: []bot.MessageRef{{Channel: "t:#payments", ID: "root"}}, CreatedAt: win.Add(-time.Minute), UpdatedAt: win.Add(-time.Minute), Rev: 1}
	ctx := context.Background()
	if err := r.st.Create(ctx, u, bot.Decision{At: u.CreatedAt, Action: bot.ActionScheduled, Start: u.Start, End: u.End}); err != nil {
		t.Fatal(err)
	}
	if err := r.sched.Plan(ctx, u); err != nil {
		t.Fatal(err)
	}
	r.at(t, clock, clock.Now())
	got := timed(log)
	if s := summary(got); !slices.Equal(s, []string{"window_open@t:#payments"}) {
		t.Fatalf("after a plan a second late: %q, want the window-open notice", s)
	}
	if strings.Contains(got[0].Text, "late") {
		t.Errorf("a notice a second late (under LateAfter) says it is late: %s", got[0].Text)
	}
	// Re-planned (a full reconcile, another replica): it never comes back.
	other := newReplica(t, o, clock.Now, log)
	if _, err := other.sched.Reconcile(ctx, true); err != nil {
		t.Fatal(err)
	}
	other.at(t, clock, clock.Now().Add(time.Minute))
	r.at(t, clock, clock.Now())
	if s := summary(timed(log)); len(s) != 1 {
		t.Fatalf("after a re-plan: %q, want the window open once", s)
	}
}

// TestRepairedPlanSendsLateNotices: planning the new upgrade failed, and the
// reconciler repairs it minutes after its window opened. The notices its
// window still calls for go out and say how late they are: the window
// open; the 1h reminder does not (the window has opened), nor the brief
// escalation, which follows that reminder. The overrun, sent late, says so
// too.
func TestRepairedPlanSendsLateNotices(t *testing.T) {
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	st := storetest.Open(t, storetest.Target(t))
	q := &failPlan{Store: st}
	b := bot.New(bot.Options{Config: schedConfig(), Store: st, Messenger: bot.Router{"t": log}, Now: clock.Now, RefreshIntervalSet: true, Queue: q})
	t.Cleanup(b.Flush)
	r := &replica{st: st, b: b, sched: b.Scheduler()}
	q.fail.Store(true)
	r.do(t, "alice", "schedule payments v2.4.0 in 2h for 1h")
	win := start0.Add(2 * time.Hour)

	clock.Set(win.Add(3 * time.Minute))
	if n, err := r.sched.Reconcile(context.Background(), false); err != nil || n != 1 {
		t.Fatalf("Reconcile = %d, %v; want the upgrade re-planned", n, err)
	}
	r.at(t, clock, clock.Now())
	want := []string{"window_open@t:#payments"}
	got := timed(log)
	if s := summary(got); !slices.Equal(s, want) {
		t.Fatalf("after the repair: %q, want %q", s, want)
	}
	if text := got[0].Text; !strings.Contains(text, "This notice is 3m late.") {
		t.Errorf("the late window-open notice does not say it is late:\n%s", text)
	}
	log.Reset()
	// Every scheduler was down when the window ended.
	r.at(t, clock, win.Add(time.Hour+10*time.Minute))
	got = timed(log)
	if s := summary(got); !slices.Equal(s, []string{"overrun@t:#payments"}) {
		t.Fatalf("after the window: %q, want the overrun", s)
	}
	if text := got[0].Text; !strings.Contains(text, "This notice is 10m late.") {
		t.Errorf("the late overrun does not say it is late:\n%s", text)
	}
}

// TestNoNoticeOwedBeforeTheWindowWasSet: a new upgrade gets no reminder
// whose moment came before it was scheduled, and a rescheduled one none
// from before it was rescheduled: neither the 3-day reminder of a window
// moved to two days ahead, nor the 1h reminder and the escalation of one
// moved to 20 minutes ahead. The reminders of the new window that fall
// due later go out.
func TestNoNoticeOwedBeforeTheWindowWasSet(t *testing.T) {
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, log)
	ctx := context.Background()
	r.do(t, "alice", "schedule payments v2.4.0 in 3h for 1h")
	// The 7-day and 3-day reminders were never owed: not even planned.
	if next, ok, err := r.st.NextDue(ctx); err != nil || !ok || !next.Equal(start0.Add(2*time.Hour)) {
		t.Fatalf("next due %v (%v, %v), want the 1h reminder", next, ok, err)
	}
	r.do(t, "alice", "cancel 1 moved")

	r.do(t, "alice", "schedule payments v2.4.0 at 2026-12-10 10:00 UTC for 1h")
	r.at(t, clock, time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC))
	r.do(t, "alice", "reschedule 2 at 2026-12-01 10:00 UTC")
	r.at(t, clock, clock.Now())
	if got := timed(log); len(got) != 0 {
		t.Fatalf("right after the reschedule to two days ahead: %q, want nothing", summary(got))
	}
	r.at(t, clock, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	if s := summary(timed(log)); !slices.Equal(s, []string{"reminder@t:#payments 1h"}) {
		t.Fatalf("an hour before the new window: %q, want the 1h reminder", s)
	}
	r.do(t, "alice", "cancel 2 done with it")
	log.Reset()

	r.do(t, "alice", "schedule payments v2.5.0 at 2026-12-10 10:00 UTC for 1h")
	r.at(t, clock, time.Date(2026, 12, 2, 9, 50, 0, 0, time.UTC))
	r.do(t, "alice", "reschedule 3 at 2026-12-02 10:10 UTC")
	r.at(t, clock, clock.Now())
	if got := timed(log); len(got) != 0 {
		t.Fatalf("right after the reschedule to 20 minutes ahead: %q, want nothing", summary(got))
	}
	r.at(t, clock, time.Date(2026, 12, 2, 10, 10, 0, 0, time.UTC))
	if s := summary(timed(log)); !slices.Equal(s, []string{"window_open@t:#payments"}) {
		t.Fatalf("at the new window: %q, want the window open", s)
	}
}

// flakyRedis is a store whose first calls fail, as they do while Redis is
// down or loading as the bot starts: firstFails calls of Once.First, then
// listFails calls of List. planned gets a signal after each plan applied.
type flakyRedis struct {
	*store.Store
	firstFails, listFails atomic.Int32
	firstCalls, listCalls atomic.Int32
	planned               chan struct{}
}

var errRedisDown = errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")

func (f *flakyRedis) First(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	f.firstCalls.Add(1)
	if f.firstFails.Add(-1) >= 0 {
		return false, errRedisDown
	}
	return f.Store.First(ctx, key, ttl)
}

func (f *flakyRedis) List(ctx context.Context, flt bot.Filter) ([]*bot.Upgrade, error) {
	f.listCalls.Add(1)
	if f.listFails.Add(-1) >= 0 {
		return nil, errRedisDown
	}
	return f.Store.List(ctx, flt)
}

func (f *flakyRedis) ReplaceJobs(ctx context.Context, upgrade, rev int, jobs []bot.Job, now time.Time) error {
	if err := f.Store.ReplaceJobs(ctx, upgrade, rev, jobs, now); err != nil {
		return err
	}
	select {
	case f.planned <- struct{}{}:
	default:
	}
	return nil
}

// TestStartupReconcileRetriesUntilRedisAnswers: Redis is down as the
// scheduler starts: electing the replica that reconciles fails, then the
// elected replica's pass fails. Both are retried, without a restart, and
// the upgrade whose plan was lost gets its jobs; the replica is elected
// once (its own key does not stop its retry).
func TestStartupReconcileRetriesUntilRedisAnswers(t *testing.T) {
	o := storetest.Target(t)
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	st := storetest.Open(t, o)
	u := &bot.Upgrade{ID: 1, Service: "payments", Version: "v1", Start: start0.Add(3 * time.Hour), End: start0.Add(4 * time.Hour),
		State: bot.Scheduled, Threads: []bot.MessageRef{{Channel: "t:#payments", ID: "root"}}, CreatedAt: start0, UpdatedAt: start0, Rev: 1}
	if err := st.Create(context.Background(), u, bot.Decision{At: start0, Action: bot.ActionScheduled}); err != nil {
		t.Fatal(err) // saved, never planned: the process died in between
	}
	f := &flakyRedis{Store: storetest.Open(t, o), planned: make(chan struct{}, 1)}
	f.firstFails.Store(1)
	f.listFails.Store(1)
	b := bot.New(bot.Options{Config: schedConfig(), Store: f, Messenger: bot.Router{"t": log}, Now: clock.Now, RefreshIntervalSet: true, Queue: f})
	t.Cleanup(b.Flush)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = b.Scheduler().Run(ctx) }()
	defer func() { cancel(); <-done }()
	select {
	case <-f.planned:
	case <-time.After(30 * time.Second):
		t.Fatalf("the start-up reconcile never planned the upgrade (First called %d times, List %d)", f.firstCalls.Load(), f.listCalls.Load())
	}
	if next, ok, err := st.NextDue(context.Background()); err != nil || !ok || !next.Equal(start0.Add(2*time.Hour)) {
		t.Fatalf("next due %v (%v, %v), want the 1h reminder", next, ok, err)
	}
	if n := f.firstCalls.Load(); n != 2 {
		t.Errorf("the start-up key was taken %d times, want 2 (a failure, then once)", n)
	}
	if n := f.listCalls.Load(); n < 2 {
		t.Errorf("List called %d times, want the failed pass and its retry", n)
	}
}
