package e2e

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
	"github.com/upgradebot/upgradebot/commands"
	"github.com/upgradebot/upgradebot/store"
	"github.com/upgradebot/upgradebot/store/storetest"
)

// hangingPlatform delivers like a Recorder, except that the deliveries its
// hang function picks never answer: they return only when their context
// ends, as a platform that stopped responding does.
type hangingPlatform struct {
	bottest.Recorder
	hang    func(to string, m bot.Message) bool
	started chan string   // optional: gets the target of each hanging delivery
	release chan struct{} // optional: closing it ends every hanging delivery
	hanging atomic.Int32  // deliveries hanging right now
}

func (h *hangingPlatform) wait(ctx context.Context, to string, m bot.Message) error {
	if h.hang == nil || !h.hang(to, m) {
		return nil
	}
	h.hanging.Add(1)
	defer h.hanging.Add(-1)
	if h.started != nil {
		h.started <- to
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-h.release:
		return errors.New("the replica was killed")
	}
}

func (h *hangingPlatform) Reply(ctx context.Context, root bot.MessageRef, m bot.Message) (bot.MessageRef, error) {
	if err := h.wait(ctx, root.Channel, m); err != nil {
		return bot.MessageRef{}, err
	}
	return h.Recorder.Reply(ctx, root, m)
}

func (h *hangingPlatform) Direct(ctx context.Context, user string, m bot.Message) (bot.MessageRef, error) {
	if err := h.wait(ctx, user, m); err != nil {
		return bot.MessageRef{}, err
	}
	return h.Recorder.Direct(ctx, user, m)
}

// newReplicaWith is newReplica with scheduler options (Now is the clock).
func newReplicaWith(t *testing.T, o store.Options, clock func() time.Time, ms bot.Messenger, so bot.SchedulerOptions, adjust ...func(*bot.Config)) *replica {
	t.Helper()
	st := storetest.Open(t, o)
	cfg := schedConfig()
	for _, fn := range adjust {
		fn(&cfg)
	}
	b := bot.New(bot.Options{Config: cfg, Store: st, Messenger: bot.Router{"t": ms}, Now: clock, RefreshIntervalSet: true, Queue: st, Scheduler: so})
	t.Cleanup(b.Flush)
	so.Now = clock
	return &replica{st: st, b: b, sched: b.Scheduler()}
}

// seedWindows stores n scheduled upgrades whose windows open at start,
// each with one thread per channel, and plans them (at the clock's now).
func seedWindows(t *testing.T, r *replica, n int, start time.Time, channels ...string) {
	t.Helper()
	ctx := context.Background()
	for i := 1; i <= n; i++ {
		u := &bot.Upgrade{ID: i, Service: "payments", Version: "v1", Start: start, End: start.Add(time.Hour), State: bot.Scheduled, Rev: 1}
		for k, ch := range channels {
			u.Threads = append(u.Threads, bot.MessageRef{Channel: ch, ID: "root" + string(rune('a'+k))})
		}
		if err := r.st.Create(ctx, u, bot.Decision{Action: "scheduled"}); err != nil {
			t.Fatal(err)
		}
		if err := r.sched.Plan(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
}

// waitFor polls cond until it holds; the bound is generous, since it only
// decides how long a failing run takes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSlowJobDoesNotStarveItsBatch: ten window-open notices fall due at
// once on two replicas; the platform never answers the one of UPG-1. The
// other nine go out while UPG-1's still hangs, instead of waiting for the
// batch's lease; at shutdown UPG-1's job is put back, not left leased.
func TestSlowJobDoesNotStarveItsBatch(t *testing.T) {
	o := storetest.Target(t)
	clock := bottest.NewClock(start0)
	p := &hangingPlatform{hang: func(_ string, m bot.Message) bool { return m.UpgradeID == "UPG-1" }, started: make(chan string, 1)}
	// A job may take a minute (real time) and a lease two (the test clock,
	// which stands still): only the worker pool lets the others through.
	so := bot.SchedulerOptions{JobTimeout: time.Minute, Grace: 50 * time.Millisecond, Reconcile: -1}
	reps := []*replica{newReplicaWith(t, o, clock.Now, p, so), newReplicaWith(t, o, clock.Now, p, so)}
	win := start0.Add(time.Hour)
	seedWindows(t, reps[0], 10, win, "t:#payments")
	clock.Set(win)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, r := range reps {
		wg.Go(func() {
			if _, err := r.sched.RunDue(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	select {
	case <-p.started:
	case <-time.After(30 * time.Second):
		t.Fatal("UPG-1's window-open notice was never attempted")
	}
	waitFor(t, "the nine other window-open notices", func() bool { return len(p.Kinds(bot.KindWindowOpen)) == 9 })
	// The batches' other due jobs (the late reminders and escalations) are
	// run too, or still being claimed: shut down only once none is left.
	waitFor(t, "every other due job run", func() bool {
		n, err := reps[0].st.DueJobs(context.Background(), clock.Now())
		return err == nil && n == 0
	})
	if p.hanging.Load() != 1 {
		t.Fatal("UPG-1's reply returned before the others were sent")
	}
	cancel() // shutdown: UPG-1's job gets its grace, then goes back
	wg.Wait()
	var ids []string
	for _, n := range p.Kinds(bot.KindWindowOpen) {
		ids = append(ids, n.Msg.UpgradeID)
	}
	if slices.Contains(ids, "UPG-1") || len(ids) != 9 {
		t.Fatalf("sent window-open of %q", ids)
	}
	// A job another replica was still running when the shutdown came (an
	// escalation putting itself back for later) is put back too: only
	// UPG-1's window open must be among them.
	got, err := reps[1].st.Claim(context.Background(), clock.Now(), time.Minute, 20)
	var opens []int
	for _, j := range got {
		if j.Kind == bot.JobWindowOpen {
			opens = append(opens, j.Upgrade)
		}
	}
	if err != nil || !slices.Equal(opens, []int{1}) {
		t.Fatalf("after shutdown, claimable now: %+v, %v; want UPG-1's window open, put back at once", got, err)
	}
}

// TestFailedJobIsRetriedWithBackoff: a notice whose platform times out is
// due again 5s later, then 10s after the next failure, and is sent once
// the platform answers; it does not stay leased at its old due time.
func TestFailedJobIsRetriedWithBackoff(t *testing.T) {
	clock := bottest.NewClock(start0)
	var attempts atomic.Int32
	p := &hangingPlatform{hang: func(_ string, m bot.Message) bool {
		return m.Kind == bot.KindWindowOpen && attempts.Add(1) <= 2
	}}
	r := newReplicaWith(t, storetest.Target(t), clock.Now, p, bot.SchedulerOptions{JobTimeout: time.Second})
	win := start0.Add(time.Hour)
	seedWindows(t, r, 1, win, "t:#payments")
	ctx := context.Background()
	// The 1h reminder and its escalation go out on time first, so that
	// only the window open is left (a reminder skipped by jumping to the
	// window would leave its escalation to drop itself a second later).
	r.at(t, clock, start0)
	r.at(t, clock, start0.Add(30*time.Minute))
	r.at(t, clock, win)
	for _, wait := range []time.Duration{5 * time.Second, 10 * time.Second} {
		next, ok, err := r.st.NextDue(ctx)
		if err != nil || !ok || !next.Equal(clock.Now().Add(wait)) {
			t.Fatalf("after a failure: next due %v (%v, %v), want %v later", next, ok, err, wait)
		}
		r.at(t, clock, clock.Now().Add(wait-time.Millisecond))
		if n := attempts.Load(); n != int32(wait/(5*time.Second)) {
			t.Fatalf("retried before its back-off: %d attempts", n)
		}
		r.at(t, clock, clock.Now().Add(time.Millisecond))
	}
	if got := summary(timed(&p.Recorder)); !slices.Equal(got, []string{"reminder@t:#payments 1h", "window_open@t:#payments"}) {
		t.Fatalf("sent %q, want the reminder, then the window open once, at the third attempt", got)
	}
}

// TestShutdownPutsBackUnstartedJobs: Run stops while it sends the first of
// five due notices. That one finishes within the grace period and is done
// (no other replica sends it again); the four not started are claimable
// at once rather than after the lease.
func TestShutdownPutsBackUnstartedJobs(t *testing.T) {
	o := storetest.Target(t)
	clock := bottest.NewClock(start0)
	release := make(chan struct{})
	started := make(chan string, 1)
	p := &gatedPlatform{gate: release, started: started}
	r := newReplicaWith(t, o, clock.Now, p, bot.SchedulerOptions{Workers: 1, Grace: time.Minute, Reconcile: -1})
	win := start0.Add(time.Hour)
	seedWindows(t, r, 5, win, "t:#payments")
	clock.Set(win)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.sched.Run(ctx) }()
	var first string
	select {
	case first = <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("no notice was attempted")
	}
	cancel()
	close(release) // the platform answers, after the shutdown began
	<-done
	if got := timed(&p.Recorder); len(got) != 1 {
		t.Fatalf("sent %v, want only the job that had started (%s)", summary(got), first)
	}
	other := storetest.Open(t, o)
	got, err := other.Claim(context.Background(), clock.Now(), time.Minute, 20)
	if err != nil {
		t.Fatal(err)
	}
	var open []string
	for _, j := range got {
		if j.Kind == bot.JobWindowOpen {
			open = append(open, commands.FormatID(j.Upgrade))
		}
	}
	if len(open) != 4 || slices.Contains(open, first) {
		t.Fatalf("window-open jobs claimable right after the shutdown: %q; want the 4 not started, not %s (sent and done)", open, first)
	}
	// Nor does it come back after its lease: it was marked done.
	later, err := other.Claim(context.Background(), clock.Now().Add(time.Hour), time.Minute, 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range later {
		if commands.FormatID(j.Upgrade) == first && j.Kind == bot.JobWindowOpen {
			t.Fatalf("the job sent during the grace period was not marked done: %+v", j)
		}
	}
}

// gatedPlatform holds every reply until gate is closed (or its context
// ends).
type gatedPlatform struct {
	bottest.Recorder
	gate    chan struct{}
	started chan string
}

func (g *gatedPlatform) Reply(ctx context.Context, root bot.MessageRef, m bot.Message) (bot.MessageRef, error) {
	select {
	case g.started <- m.UpgradeID:
	default:
	}
	select {
	case <-g.gate:
	case <-ctx.Done():
		return bot.MessageRef{}, ctx.Err()
	}
	return g.Recorder.Reply(ctx, root, m)
}

// failPlan makes the next ReplaceJobs fail, as Redis loading or a lost
// connection would.
type failPlan struct {
	*store.Store
	fail atomic.Bool
}

func (f *failPlan) ReplaceJobs(ctx context.Context, upgrade, rev int, jobs []bot.Job, now time.Time) error {
	if f.fail.CompareAndSwap(true, false) {
		return errors.New("LOADING Redis is loading the dataset in memory")
	}
	return f.Store.ReplaceJobs(ctx, upgrade, rev, jobs, now)
}

// TestReconcileRedoesAFailedPlan: a reschedule is saved but planning its
// jobs fails. The stale brief escalation of the old window is skipped when
// it falls due, and the reconciler plans the new window: its reminders,
// escalation, window open and overrun all go out.
func TestReconcileRedoesAFailedPlan(t *testing.T) {
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	st := storetest.Open(t, storetest.Target(t))
	q := &failPlan{Store: st}
	b := bot.New(bot.Options{Config: schedConfig(), Store: st, Messenger: bot.Router{"t": log}, Now: clock.Now, RefreshIntervalSet: true, Queue: q})
	t.Cleanup(b.Flush)
	sched := b.Scheduler()
	r := &replica{st: st, b: b, sched: sched}
	r.do(t, "alice", "schedule payments v2.4.0 at 2026-11-30 10:00 UTC for 2h")
	q.fail.Store(true)
	r.do(t, "alice", "reschedule 1 at 2026-12-04 10:00 UTC")
	ctx := context.Background()

	// The old window's escalation is still planned; it must not fire.
	old := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	r.at(t, clock, old.Add(-30*time.Minute))
	if got := timed(log); len(got) != 0 {
		t.Fatalf("jobs of the old window fired: %q", summary(got))
	}
	n, err := sched.Reconcile(ctx, false)
	if err != nil || n != 1 {
		t.Fatalf("Reconcile = %d, %v; want the one upgrade re-planned", n, err)
	}
	if n, err := sched.Reconcile(ctx, false); err != nil || n != 0 {
		t.Fatalf("second Reconcile = %d, %v; want nothing left to re-plan", n, err)
	}
	win := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{win.Add(-72 * time.Hour), win.Add(-time.Hour), win.Add(-30 * time.Minute), win, win.Add(2 * time.Hour)} {
		r.at(t, clock, at)
	}
	want := []string{
		"reminder@t:#payments 3d", "reminder@t:#payments 1h",
		"escalation@t:alice", "escalation@t:bob", "escalation@t:carol",
		"window_open@t:#payments", "overrun@t:#payments",
	}
	if got := summary(timed(log)); !slices.Equal(got, want) {
		t.Fatalf("timed notices:\n got %q\nwant %q", got, want)
	}
}

// TestRunReconcilesWhenItStarts: the plan of a new upgrade failed; a
// scheduler that starts afterwards plans it, without any command.
func TestRunReconcilesWhenItStarts(t *testing.T) {
	o := storetest.Target(t)
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	st := storetest.Open(t, o)
	q := &failPlan{Store: st}
	b := bot.New(bot.Options{Config: schedConfig(), Store: st, Messenger: bot.Router{"t": log}, Now: clock.Now, RefreshIntervalSet: true, Queue: q})
	t.Cleanup(b.Flush)
	q.fail.Store(true)
	(&replica{st: st, b: b}).do(t, "alice", "schedule payments v2.4.0 in 3h for 1h")
	if _, ok, _ := st.NextDue(context.Background()); ok {
		t.Fatal("the failed plan left jobs")
	}
	runner := newReplicaWith(t, o, clock.Now, log, bot.SchedulerOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = runner.sched.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "the upgrade's jobs to be planned", func() bool {
		next, ok, _ := st.NextDue(context.Background())
		return ok && next.Equal(start0.Add(2*time.Hour)) // the 1h reminder
	})
}

// TestStaleRollbackEscalationIsSkipped: a rollback escalation planned for
// another time than the current plan gives (an older escalate_after, a
// failed re-plan) is skipped.
func TestStaleRollbackEscalationIsSkipped(t *testing.T) {
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, log)
	r.do(t, "alice", "schedule payments v2.4.0 in 1h for 1h")
	clock.Set(start0.Add(time.Hour))
	r.do(t, "alice", "start 1")
	r.do(t, "alice", "rollback 1 broken")
	ctx := context.Background()
	u, err := r.st.Get(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	stale := bot.Job{ID: "escalation:rollback", Kind: bot.JobEscalation, Scope: bot.ScopeRollback, Due: u.FinishedAt.Add(10 * time.Minute)}
	if err := r.st.ReplaceJobs(ctx, 1, u.Rev, []bot.Job{stale}, clock.Now()); err != nil {
		t.Fatal(err)
	}
	r.at(t, clock, u.FinishedAt.Add(10*time.Minute))
	if got := timed(log); len(got) != 0 {
		t.Fatalf("a stale rollback escalation was sent: %q", summary(got))
	}
}

// TestEscalationThatTimedOutIsRetried: the direct message to bob times
// out. He is not skipped for good: the job's retry reaches him and carol,
// and alice, already reached, gets nothing twice.
func TestEscalationThatTimedOutIsRetried(t *testing.T) {
	clock := bottest.NewClock(start0)
	var once atomic.Bool
	p := &hangingPlatform{hang: func(to string, m bot.Message) bool {
		return to == "t:bob" && m.Kind == bot.KindEscalation && once.CompareAndSwap(false, true)
	}}
	r := newReplicaWith(t, storetest.Target(t), clock.Now, p, bot.SchedulerOptions{JobTimeout: time.Second})
	r.do(t, "alice", "schedule payments v2.4.0 in 3h for 1h")
	r.at(t, clock, start0.Add(2*time.Hour)) // the 1h reminder
	due := start0.Add(2*time.Hour + 30*time.Minute)
	r.at(t, clock, due)
	var dms []string
	for _, n := range p.Kinds(bot.KindEscalation) {
		dms = append(dms, n.To)
	}
	// The job ran out of time at bob; carol comes with the retry.
	if !slices.Equal(dms, []string{"t:alice"}) {
		t.Fatalf("first attempt reached %q", dms)
	}
	r.at(t, clock, due.Add(5*time.Second))
	dms = nil
	for _, n := range p.Kinds(bot.KindEscalation) {
		dms = append(dms, n.To)
	}
	if !slices.Equal(dms, []string{"t:alice", "t:bob", "t:carol"}) {
		t.Fatalf("escalations after the retry: %q, want each person once", dms)
	}
	u, _ := r.st.Get(context.Background(), 1)
	for _, f := range u.Failures {
		if f.Notice == string(bot.KindEscalation) {
			t.Errorf("a timed-out escalation that was retried is recorded as failed: %+v", f)
		}
	}
}

// TestBacklogSendsOnlyTheLatestReminder: the bot was down from 8 days to
// 3 days before the window. The 7-day and 3-day reminders are both due;
// only the 3-day one goes out.
func TestBacklogSendsOnlyTheLatestReminder(t *testing.T) {
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, log)
	r.do(t, "alice", "schedule payments v2.4.0 at 2026-11-30 10:00 UTC for 2h")
	r.at(t, clock, start0.Add(5*24*time.Hour))
	if got := summary(timed(log)); !slices.Equal(got, []string{"reminder@t:#payments 3d"}) {
		t.Fatalf("after the downtime: %q, want only the 3-day reminder", got)
	}
}

// TestBriefEscalationWhileInProgress: the owner starts the upgrade before
// the brief escalation falls due; whoever has not acknowledged the
// pre-brief still gets the direct message.
func TestBriefEscalationWhileInProgress(t *testing.T) {
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, log)
	r.do(t, "alice", "schedule payments v2.4.0 in 3h for 1h")
	r.do(t, "bob", "ack 1")
	r.at(t, clock, start0.Add(2*time.Hour)) // the 1h reminder
	r.do(t, "alice", "start 1")             // early
	r.at(t, clock, start0.Add(2*time.Hour+30*time.Minute))
	var dms []string
	for _, n := range log.Kinds(bot.KindEscalation) {
		dms = append(dms, n.To)
	}
	if !slices.Equal(dms, []string{"t:alice", "t:carol"}) {
		t.Fatalf("brief escalation of the running upgrade went to %q, want alice and carol", dms)
	}
}

// TestARestartWithOtherRemindersReplansAtOnce: a replica that starts with
// other reminders within a minute of the last start (a configuration
// change deployed, or reverted, quickly) plans the upgrades by them at
// once. The start-up pass was elected once a minute whatever the rules:
// the new reminders were never planned, and the old ones were skipped as
// stale when they fell due, so nobody was reminded.
func TestARestartWithOtherRemindersReplansAtOnce(t *testing.T) {
	o := storetest.Target(t)
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	ctx := context.Background()
	run := func(r *replica) func() {
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = r.sched.Run(rctx) }()
		return func() { cancel(); <-done }
	}
	first := newReplica(t, o, clock.Now, log)
	first.do(t, "alice", "schedule payments v2.4.0 in 3h for 1h")
	stop := run(first)
	waitFor(t, "the first replica's start-up election", func() bool {
		return slices.ContainsFunc(storetest.Keys(t, o), func(k string) bool { return strings.Contains(k, "scheduler:reconcile:start") })
	})
	stop()
	if next, ok, _ := first.st.NextDue(ctx); !ok || !next.Equal(start0.Add(2*time.Hour)) {
		t.Fatalf("next job %v (%v); want the 1h reminder at %v", next, ok, start0.Add(2*time.Hour))
	}

	second := newReplica(t, o, clock.Now, log, func(c *bot.Config) { c.Reminders = []time.Duration{2 * time.Hour} })
	defer run(second)()
	waitFor(t, "the 2h reminder of the new rules to be planned", func() bool {
		next, ok, _ := second.st.NextDue(ctx)
		return ok && next.Equal(start0.Add(time.Hour))
	})
}
