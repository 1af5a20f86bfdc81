package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"
)

// laneClock is a clock the test moves.
type laneClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *laneClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *laneClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// queued is a job waiting in a laneQueue, due at at.
type queued struct {
	j  Job
	at time.Time
}

// laneQueue is an in-memory JobQueue: Claim takes the jobs due by now,
// earliest first, at most max; check, when set, sees each claim's max.
type laneQueue struct {
	mu       sync.Mutex
	pending  []queued
	requeued []string // "id +offset from t0" of each Retry
	released []string // ids
	t0       time.Time
	wake     chan struct{}
	check    func(max int)
	// beforeRelease, when set, runs as each Release begins.
	beforeRelease func()
}

func newLaneQueue(t0 time.Time) *laneQueue {
	return &laneQueue{t0: t0, wake: make(chan struct{}, 1)}
}

func (q *laneQueue) add(jobs ...Job) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, j := range jobs {
		q.pending = append(q.pending, queued{j: j, at: j.Due})
	}
}

func (q *laneQueue) ReplaceJobs(context.Context, int, int, []Job, time.Time) error { return nil }
func (q *laneQueue) Claim(_ context.Context, now time.Time, lease time.Duration, max int) ([]Job, error) {
	if q.check != nil {
		q.check(max)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	slices.SortStableFunc(q.pending, func(a, b queued) int { return a.at.Compare(b.at) })
	var out []Job
	for len(out) < max && len(q.pending) > 0 && !q.pending[0].at.After(now) {
		j := q.pending[0].j
		j.Leased = now.Add(lease)
		out = append(out, j)
		q.pending = q.pending[1:]
	}
	return out, nil
}
func (q *laneQueue) Done(context.Context, Job) error { return nil }
func (q *laneQueue) Release(_ context.Context, jobs []Job) error {
	if q.beforeRelease != nil {
		q.beforeRelease()
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, j := range jobs {
		q.pending = append(q.pending, queued{j: j, at: j.Due})
		q.released = append(q.released, j.ID)
	}
	return nil
}
func (q *laneQueue) Retry(_ context.Context, j Job, at time.Time) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = append(q.pending, queued{j: j, at: at})
	q.requeued = append(q.requeued, j.ID+" +"+at.Sub(q.t0).String())
	return nil
}
func (q *laneQueue) NextDue(context.Context) (time.Time, bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) == 0 {
		return time.Time{}, false, nil
	}
	first := q.pending[0].at
	for _, p := range q.pending {
		if p.at.Before(first) {
			first = p.at
		}
	}
	return first, true, nil
}
func (q *laneQueue) Wake(context.Context) error {
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return nil
}
func (q *laneQueue) Wakeups(context.Context) <-chan struct{} { return q.wake }

// laneJobs is the jobs' exec: it records what ran, in order; a job listed
// in block waits until its channel is closed, in fail fails.
type laneJobs struct {
	mu      sync.Mutex
	ran     []string
	running map[string]bool
	block   map[string]chan struct{}
	started chan string     // hears of each job started
	seen    map[string]bool // of started, by waitStarted
	fail    map[string]bool
	then    map[string]func() // runs after the job

	releases []func() // of blockJob
}

func newLaneJobs() *laneJobs {
	return &laneJobs{running: map[string]bool{}, block: map[string]chan struct{}{},
		started: make(chan string, 100), seen: map[string]bool{}, fail: map[string]bool{}, then: map[string]func(){}}
}

func (x *laneJobs) exec(ctx context.Context, j Job) error {
	x.mu.Lock()
	x.ran = append(x.ran, j.ID)
	x.running[j.ID] = true
	block, fail, then := x.block[j.ID], x.fail[j.ID], x.then[j.ID]
	x.fail[j.ID] = false
	x.mu.Unlock()
	x.started <- j.ID
	if block != nil {
		<-block
	}
	x.mu.Lock()
	x.running[j.ID] = false
	x.mu.Unlock()
	if then != nil {
		then()
	}
	if fail {
		return errors.New("platform down")
	}
	return nil
}

func (x *laneJobs) isRunning(id string) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.running[id]
}

func (x *laneJobs) order() []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return slices.Clone(x.ran)
}

func laneRunner(q JobQueue, c *laneClock, x *laneJobs, o SchedulerOptions) *runner {
	log := slog.New(slog.DiscardHandler)
	return &runner{q: q, o: o.withDefaults(c.Now, log), now: c.Now, log: log, exec: x.exec, obs: NopObserver{}}
}

// blockJob makes job id wait, when it runs, until release is called (or
// the test ends).
func (x *laneJobs) blockJob(id string) (release func()) {
	ch := make(chan struct{})
	x.block[id] = ch
	release = sync.OnceFunc(func() { close(ch) })
	x.releases = append(x.releases, release)
	return release
}

// waitStarted waits for job id to have started (by the test's goroutine).
func (x *laneJobs) waitStarted(t *testing.T, id, what string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for !x.seen[id] {
		select {
		case got := <-x.started:
			x.seen[got] = true
		case <-timeout:
			t.Fatalf("%s: not within 10s (ran %q)", what, x.order())
		}
	}
}

// runLoop runs r.loop until cancel is called or the test ends (which
// also lets x's blocked jobs go); done is closed when it returned.
func runLoop(t *testing.T, r *runner, x *laneJobs) (cancel func(), done <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); r.loop(ctx) }()
	t.Cleanup(func() {
		cancel()
		for _, release := range x.releases {
			release()
		}
		<-stopped
	})
	return cancel, stopped
}

var lanesT0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// A job of upgrade 1 is slow (a thread notice waiting on a platform). The
// jobs falling due meanwhile are claimed: upgrade 2's runs at once, and
// upgrade 1's next one waits for the slow one, then runs after it.
func TestJobsClaimedWhileTheirUpgradeRunsWaitForIt(t *testing.T) {
	c := &laneClock{t: lanesT0}
	q, x := newLaneQueue(lanesT0), newLaneJobs()
	slow := x.blockJob("1/window_open")
	var overtaken bool
	q.add(Job{ID: "1/window_open", Upgrade: 1, Kind: JobWindowOpen, Due: lanesT0})
	r := laneRunner(q, c, x, SchedulerOptions{})
	// exec of 1/overrun checks that 1/window_open is over.
	inner := r.exec
	r.exec = func(ctx context.Context, j Job) error {
		if j.ID == "1/overrun" && x.isRunning("1/window_open") {
			overtaken = true
		}
		return inner(ctx, j)
	}
	cancel, done := runLoop(t, r, x)
	x.waitStarted(t, "1/window_open", "the slow job to start")

	c.Set(lanesT0.Add(time.Minute))
	q.add(Job{ID: "1/overrun", Upgrade: 1, Kind: JobOverrun, Due: lanesT0.Add(time.Minute)},
		Job{ID: "2/window_open", Upgrade: 2, Kind: JobWindowOpen, Due: lanesT0.Add(time.Minute)})
	_ = q.Wake(context.Background())
	x.waitStarted(t, "2/window_open", "upgrade 2's job to run while upgrade 1's is slow")
	slow()
	x.waitStarted(t, "1/overrun", "upgrade 1's next job to run after its slow one")
	cancel()
	<-done
	if overtaken {
		t.Errorf("upgrade 1's overrun ran while its window-open notice was still being sent")
	}
	if got, want := x.order(), []string{"1/window_open", "2/window_open", "1/overrun"}; !slices.Equal(got, want) {
		t.Errorf("jobs ran in the order %q, want %q", got, want)
	}
}

// Upgrade 1's first job fails (retried after the back-off); its next job,
// due now but claimed after the failure, waits for the retry and runs
// after it.
func TestAJobClaimedAfterItsUpgradesJobFailedWaitsForItsRetry(t *testing.T) {
	c := &laneClock{t: lanesT0}
	q, x := newLaneQueue(lanesT0), newLaneJobs()
	x.fail["1/reminder"] = true
	q.add(Job{ID: "1/reminder", Upgrade: 1, Kind: JobReminder, Due: lanesT0.Add(-time.Second)},
		Job{ID: "1/window_open", Upgrade: 1, Kind: JobWindowOpen, Due: lanesT0})
	r := laneRunner(q, c, x, SchedulerOptions{Batch: 1}) // one job a claim
	if n, err := r.runDue(context.Background()); err != nil || n != 1 {
		t.Fatalf("runDue = %d, %v; want the failed reminder only", n, err)
	}
	if got, want := q.requeued, []string{"1/reminder +5s", "1/window_open +5.001s"}; !slices.Equal(got, want) {
		t.Fatalf("put back %q, want %q: the window-open notice after the reminder's retry", got, want)
	}
	c.Set(lanesT0.Add(6 * time.Second))
	if n, err := r.runDue(context.Background()); err != nil || n != 2 {
		t.Fatalf("runDue after the back-off = %d, %v; want both", n, err)
	}
	if got, want := x.order(), []string{"1/reminder", "1/reminder", "1/window_open"}; !slices.Equal(got, want) {
		t.Errorf("jobs ran in the order %q, want %q", got, want)
	}
}

// runDue runs what the jobs it ran made due (a job that plans another one
// due now, as a recurring upgrade's does).
func TestRunDueRunsJobsMadeDueByTheJobsItRan(t *testing.T) {
	c := &laneClock{t: lanesT0}
	q, x := newLaneQueue(lanesT0), newLaneJobs()
	x.then["1/series"] = func() { q.add(Job{ID: "2/window_open", Upgrade: 2, Kind: JobWindowOpen, Due: lanesT0}) }
	q.add(Job{ID: "1/series", Upgrade: 1, Kind: JobWindowOpen, Due: lanesT0})
	r := laneRunner(q, c, x, SchedulerOptions{})
	if n, err := r.runDue(context.Background()); err != nil || n != 2 {
		t.Fatalf("runDue = %d, %v; want 2", n, err)
	}
	if got, want := x.order(), []string{"1/series", "2/window_open"}; !slices.Equal(got, want) {
		t.Errorf("jobs ran %q, want %q", got, want)
	}
}

// With two workers busy on slow jobs, the runner claims no more: what is
// due stays in the queue for other replicas. Each worker that frees up
// claims one more.
func TestRunnerClaimsOnlyAsManyAsItHasFreeWorkers(t *testing.T) {
	c := &laneClock{t: lanesT0}
	q, x := newLaneQueue(lanesT0), newLaneJobs()
	var ids []string
	var release []func()
	for u := 1; u <= 5; u++ {
		id := fmt.Sprintf("%d/window_open", u)
		ids = append(ids, id)
		release = append(release, x.blockJob(id))
		q.add(Job{ID: id, Upgrade: u, Kind: JobWindowOpen, Due: lanesT0.Add(time.Duration(u-5) * time.Millisecond)})
	}
	r := laneRunner(q, c, x, SchedulerOptions{Workers: 2})
	var mu sync.Mutex
	var over []string
	q.check = func(max int) {
		busy := 0
		x.mu.Lock()
		for _, b := range x.running {
			if b {
				busy++
			}
		}
		x.mu.Unlock()
		if max > 2-busy {
			mu.Lock()
			over = append(over, fmt.Sprintf("claimed up to %d with %d of 2 workers busy", max, busy))
			mu.Unlock()
		}
	}
	cancel, done := runLoop(t, r, x)
	for i, id := range ids {
		x.waitStarted(t, id, id+" to start")
		if i >= 1 {
			release[i-1]() // a worker frees up: the next one is claimed
		}
	}
	release[4]()
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(over) > 0 {
		t.Errorf("the runner claimed more than its free workers: %q", over)
	}
	if got := x.order(); !slices.Equal(slices.Sorted(slices.Values(got)), ids) {
		t.Errorf("jobs ran %q, want %q", got, ids)
	}
}

// On shutdown a lane puts back the jobs it did not start, and the loop
// waits for it.
func TestALaneStoppedPutsBackWhatItDidNotStart(t *testing.T) {
	c := &laneClock{t: lanesT0}
	q, x := newLaneQueue(lanesT0), newLaneJobs()
	slow := x.blockJob("1/window_open")
	q.add(Job{ID: "1/window_open", Upgrade: 1, Kind: JobWindowOpen, Due: lanesT0},
		Job{ID: "1/overrun", Upgrade: 1, Kind: JobOverrun, Due: lanesT0})
	r := laneRunner(q, c, x, SchedulerOptions{})
	cancel, done := runLoop(t, r, x)
	x.waitStarted(t, "1/window_open", "the slow job to start")
	cancel()
	select {
	case <-done:
		t.Fatal("the loop returned before the job it started was over")
	default:
	}
	slow() // the loop waits for it: it ends within its grace
	<-done
	if got := x.order(); !slices.Equal(got, []string{"1/window_open"}) {
		t.Errorf("ran %q after the shutdown, want only the job started before it", got)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if !slices.Equal(q.released, []string{"1/overrun"}) {
		t.Errorf("put back %q, want the overrun not started", q.released)
	}
}

// Upgrade 1's reminder fails and is due again 5 s later, while the only
// worker is busy with upgrade 2's slow job past that moment. Upgrade 1's
// window-open notice, due in between, is claimed before the retry (it
// falls due first): it still waits for the reminder's retry to run.
func TestAJobClaimedPastItsUpgradesRetryTimeStillWaitsForTheRetry(t *testing.T) {
	c := &laneClock{t: lanesT0}
	q, x := newLaneQueue(lanesT0), newLaneJobs()
	x.fail["1/reminder"] = true
	slow := x.blockJob("2/window_open")
	q.add(Job{ID: "1/reminder", Upgrade: 1, Kind: JobReminder, Due: lanesT0.Add(-time.Millisecond)},
		Job{ID: "2/window_open", Upgrade: 2, Kind: JobWindowOpen, Due: lanesT0})
	r := laneRunner(q, c, x, SchedulerOptions{Workers: 1})
	cancel, done := runLoop(t, r, x)
	x.waitStarted(t, "2/window_open", "upgrade 2's slow job") // the reminder failed and was put back before
	q.add(Job{ID: "1/window_open", Upgrade: 1, Kind: JobWindowOpen, Due: lanesT0.Add(time.Second)})
	c.Set(lanesT0.Add(6 * time.Second)) // past the reminder's retry (+5s)
	slow()
	for n := len(x.seen); n < 4; n++ {
		if n == 3 { // the 3rd start: let any job put back for later fall due
			c.Set(lanesT0.Add(time.Minute))
			_ = q.Wake(t.Context())
		}
		select {
		case <-x.started:
		case <-time.After(10 * time.Second):
			t.Fatalf("ran %q", x.order())
		}
	}
	cancel()
	<-done
	if got, want := x.order(), []string{"1/reminder", "2/window_open", "1/reminder", "1/window_open"}; !slices.Equal(got, want) {
		t.Errorf("ran %q, want %q: the window-open notice overtook the reminder's retry", got, want)
	}
}

// RunDue (the console steps its clock with it) keeps the hold of a failed
// job from one call to the next: a job due after it, but before its
// retry, waits for the retry.
func TestRunDueKeepsAFailedJobsHoldBetweenCalls(t *testing.T) {
	c := &laneClock{t: lanesT0}
	q, x := newLaneQueue(lanesT0), newLaneJobs()
	x.fail["1/reminder"] = true
	q.add(Job{ID: "1/reminder", Upgrade: 1, Kind: JobReminder, Due: lanesT0},
		Job{ID: "1/window_open", Upgrade: 1, Kind: JobWindowOpen, Due: lanesT0.Add(time.Second)})
	r := laneRunner(q, c, x, SchedulerOptions{})
	for _, at := range []time.Duration{0, time.Second, 6 * time.Second} {
		c.Set(lanesT0.Add(at))
		if _, err := r.runDue(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := x.order(), []string{"1/reminder", "1/reminder", "1/window_open"}; !slices.Equal(got, want) {
		t.Errorf("ran %q, want %q", got, want)
	}
}

// Upgrade 1's second job waited behind its slow first one past its lease,
// so its lane puts it back. A later job of the upgrade claimed while it is
// being put back joins it rather than starting a lane of its own: it does
// not overtake it.
func TestAJobClaimedWhileItsUpgradesJobsArePutBackDoesNotOvertakeThem(t *testing.T) {
	c := &laneClock{t: lanesT0}
	q, x := newLaneQueue(lanesT0), newLaneJobs()
	slow := x.blockJob("1/a")
	q.add(Job{ID: "1/a", Upgrade: 1, Kind: JobReminder, Due: lanesT0}, Job{ID: "1/b", Upgrade: 1, Kind: JobWindowOpen, Due: lanesT0})
	claims := make(chan struct{}, 100)
	q.check = func(int) { claims <- struct{}{} }
	released := make(chan struct{})
	var once sync.Once
	q.beforeRelease = func() {
		once.Do(func() {
			defer close(released)
			for len(claims) > 0 {
				<-claims
			}
			q.add(Job{ID: "1/c", Upgrade: 1, Kind: JobOverrun, Due: lanesT0.Add(15 * time.Second)})
			_ = q.Wake(t.Context())
			// Until c was claimed and handed out: the claim after its
			// claim began, or c started.
			for n := 0; n < 2; {
				select {
				case <-claims:
					n++
				case id := <-x.started:
					if id == "1/c" {
						return
					}
				case <-time.After(10 * time.Second):
					t.Error("the job due meanwhile was not claimed")
					return
				}
			}
		})
	}
	r := laneRunner(q, c, x, SchedulerOptions{Workers: 2, Lease: 10 * time.Second})
	runLoop(t, r, x)
	x.waitStarted(t, "1/a", "the slow job")
	c.Set(lanesT0.Add(20 * time.Second)) // b's lease is over
	slow()
	<-released
	for !slices.Contains(x.order(), "1/b") || !slices.Contains(x.order(), "1/c") {
		select {
		case <-x.started:
		case <-time.After(10 * time.Second):
			t.Fatalf("ran %q, want b and c too", x.order())
		}
	}
	if got, want := x.order(), []string{"1/a", "1/b", "1/c"}; !slices.Equal(got, want) {
		t.Errorf("ran %q, want %q: a job claimed while its upgrade's jobs were put back overtook them", got, want)
	}
}

// Upgrade 1's escalation fails every time (a platform down): its
// window-open notice, due a second later, is held back for its first
// failures only, then runs although the escalation is still failing.
func TestAJobThatKeepsFailingHoldsUpItsUpgradeForAFewAttemptsOnly(t *testing.T) {
	c := &laneClock{t: lanesT0}
	q, x := newLaneQueue(lanesT0), newLaneJobs()
	x.fail["1/escalation"] = true
	x.then["1/escalation"] = func() {
		x.mu.Lock()
		x.fail["1/escalation"] = true // and the next time
		x.mu.Unlock()
	}
	q.add(Job{ID: "1/escalation", Upgrade: 1, Kind: JobEscalation, Due: lanesT0},
		Job{ID: "1/window_open", Upgrade: 1, Kind: JobWindowOpen, Due: lanesT0.Add(time.Second)})
	r := laneRunner(q, c, x, SchedulerOptions{})
	for at := time.Duration(0); at <= 3*time.Minute && !slices.Contains(x.order(), "1/window_open"); at += time.Second {
		c.Set(lanesT0.Add(at))
		if _, err := r.runDue(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	got := x.order()
	i := slices.Index(got, "1/window_open")
	if i < 0 {
		t.Fatalf("the window-open notice never ran in 3 minutes behind an escalation failing every time: ran %q", got)
	}
	if i < heldAttempts {
		t.Errorf("ran %q: the window-open notice overtook the escalation's first retries", got)
	}
}
