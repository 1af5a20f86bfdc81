package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// runner claims due jobs from a JobQueue and runs them, knowing nothing of
// what they do (exec): on a few workers, the jobs of one upgrade one after
// the other in a lane of their own (jobLanes), each within its own budget
// and its claim's lease, a failed one again after a back-off; on shutdown
// it puts back what it did not start. Any number of replicas may run one
// against the same queue.
type runner struct {
	q    JobQueue
	o    SchedulerOptions
	now  Clock
	log  *slog.Logger
	exec func(ctx context.Context, j Job) error
	obs  Observer // hears how late each job starts

	// held are the upgrades with a failed job due again later (retryHold);
	// kept across loops and runDue calls (the console steps its clock
	// with runDue).
	heldMu sync.Mutex
	held   map[int]*retryHold
}

// loop runs due jobs until ctx ends. It claims due jobs whenever a worker
// is free, also while other jobs run, and otherwise sleeps until the next
// due time (at most MaxIdle), until a replica announces a change, or until
// one of its lanes ends or puts a job back. When ctx ends it waits for its
// lanes, which put back what they did not start.
func (r *runner) loop(ctx context.Context) {
	wake := r.q.Wakeups(ctx)
	l := r.lanes(ctx)
	defer l.wg.Wait()
	for {
		asked, got, err := l.claim()
		if err != nil && ctx.Err() == nil {
			r.log.ErrorContext(ctx, "running due jobs failed", "err", err)
		}
		if ctx.Err() != nil {
			return
		}
		if asked > 0 && got == asked {
			continue // more may be due
		}
		var timer <-chan time.Time // nil: every worker is busy, wait for one (kick)
		if asked > 0 {
			timer = time.After(r.idle(ctx)) // collected once unreferenced (Go 1.23)
		}
		select {
		case <-ctx.Done():
			return
		case _, ok := <-wake:
			if !ok {
				wake = nil // no more wake-ups: the timer and the lanes still wake us
			}
		case <-timer:
		case <-l.kick:
		}
	}
}

// idle is how long the loop sleeps when nothing more is due: until the
// next due time, at most MaxIdle.
func (r *runner) idle(ctx context.Context) time.Duration {
	sleep := r.o.MaxIdle
	if next, ok, err := r.q.NextDue(ctx); err == nil && ok {
		sleep = min(sleep, max(next.Sub(r.now()), 0))
	}
	if sleep <= 0 {
		sleep = 10 * time.Millisecond // a job leased elsewhere is due; don't spin
	}
	return sleep
}

// runDue runs every job due now and reports how many it started: it
// claims as many as it has workers, waits for them, and again, until a
// claim finds nothing (so it also runs the jobs that those it ran made
// due).
func (r *runner) runDue(ctx context.Context) (int, error) {
	l := r.lanes(ctx)
	for ctx.Err() == nil {
		_, got, err := l.claim()
		l.wg.Wait()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return l.started(), err
		}
		if got == 0 {
			break
		}
	}
	return l.started(), nil
}

// claimedJob is a claimed job with the end of its claim's lease.
type claimedJob struct {
	Job
	leaseEnd time.Time
}

// jobLanes runs claimed jobs in one lane per upgrade: a goroutine that
// holds one of Options.Workers workers (a token) and runs the jobs of its
// upgrade one after the other, in the order they were claimed (due
// order), while the lanes of other upgrades run beside it. Jobs claimed
// for an upgrade whose lane is running join its queue, so an upgrade's
// notices never overtake each other on this replica (other replicas may
// claim its later jobs meanwhile), and a slow one (a platform's
// Retry-After, a platform out of reach) holds up its own upgrade only.
//
// Each job gets its own budget (JobTimeout) bounded by what is left of its
// claim's lease (less a margin), and is only started while some of it is
// left: two replicas never send the same job. When a job's lease is
// almost over, or ctx ends, the lane puts that job and the rest of its
// queue back (Release) for any replica to claim at once. A failed job is
// retried after a back-off (RetryMin, doubling, at most RetryMax), and
// the jobs of its upgrade that the lane starts until then (claimed with
// it or after it) are put back to fall due just after it, in order.
type jobLanes struct {
	r      *runner
	ctx    context.Context
	tokens chan struct{} // one per free worker
	kick   chan struct{} // a lane ended or put a job back: claim again
	wg     sync.WaitGroup

	mu     sync.Mutex
	queued map[int][]claimedJob // the running lanes by upgrade: the jobs they have not started yet

	ran atomic.Int64 // jobs started
}

// retryHold holds back an upgrade's jobs until its failed job starts
// again on this replica, or until RetryMin after its retry time (another
// replica took the retry, or putting it back failed; here a retry due
// sorts before the jobs held after it). A job is held after only its
// first heldAttempts failures: one that keeps failing does not hold up its
// upgrade's later notices for long (35 s with the default back-off).
type retryHold struct {
	until time.Time // the failed job is due again
	id    string    // the failed job
	n     int       // jobs put back after it so far
}

// heldAttempts is how many failures of a job hold back its upgrade's
// later jobs.
const heldAttempts = 3

// over reports whether the hold has lapsed without its job starting here.
func (h *retryHold) over(now time.Time, grace time.Duration) bool {
	return !now.Before(h.until.Add(grace))
}

// hold holds back the jobs of the upgrade of j, which failed and is due
// again at until.
func (r *runner) hold(j Job, until time.Time) {
	r.heldMu.Lock()
	defer r.heldMu.Unlock()
	if r.held == nil {
		r.held = map[int]*retryHold{}
	}
	r.held[j.Upgrade] = &retryHold{until: until, id: j.ID}
}

// heldTo reports when j, about to start, must be put back to wait for a
// failed job of its upgrade: just after that job's retry, in the order
// they come (zero: j may start). The hold ends when the failed job itself
// starts again. Past its retry time, the job not started yet, j looks
// again RetryMin later.
func (r *runner) heldTo(j Job) time.Time {
	r.heldMu.Lock()
	defer r.heldMu.Unlock()
	h := r.held[j.Upgrade]
	if h == nil {
		return time.Time{}
	}
	now := r.now()
	if j.ID == h.id || h.over(now, r.o.RetryMin) {
		delete(r.held, j.Upgrade)
		return time.Time{}
	}
	h.n++
	at := h.until
	if !now.Before(at) {
		at = now.Add(r.o.RetryMin)
	}
	return at.Add(time.Duration(h.n) * time.Millisecond)
}

// forgetLapsedHolds drops the holds that lapsed (retryHold.over).
func (r *runner) forgetLapsedHolds(now time.Time) {
	r.heldMu.Lock()
	defer r.heldMu.Unlock()
	for u, h := range r.held {
		if h.over(now, r.o.RetryMin) {
			delete(r.held, u)
		}
	}
}

func (r *runner) lanes(ctx context.Context) *jobLanes {
	l := &jobLanes{r: r, ctx: ctx, tokens: make(chan struct{}, r.o.Workers), kick: make(chan struct{}, 1),
		queued: map[int][]claimedJob{}}
	for range r.o.Workers {
		l.tokens <- struct{}{}
	}
	return l
}

// claim claims due jobs, as many as there are free workers (at most
// Options.Batch), and gives each to its upgrade's lane, starting the lanes
// not running. It reports how many jobs it asked for and got.
func (l *jobLanes) claim() (asked, got int, err error) {
	asked = min(l.r.o.Batch, len(l.tokens))
	if asked == 0 {
		return 0, 0, nil
	}
	now := l.r.now()
	jobs, err := l.r.q.Claim(l.ctx, now, l.r.o.Lease, asked)
	if err != nil {
		return asked, 0, fmt.Errorf("claim due jobs: %w", err)
	}
	l.r.forgetLapsedHolds(now)
	var start []int
	l.mu.Lock()
	for _, j := range jobs {
		q, running := l.queued[j.Upgrade]
		if !running {
			start = append(start, j.Upgrade)
		}
		l.queued[j.Upgrade] = append(q, claimedJob{Job: j, leaseEnd: now.Add(l.r.o.Lease)})
	}
	l.mu.Unlock()
	for _, u := range start {
		<-l.tokens // one is free: only claim takes them, at most one a job
		l.wg.Go(func() { l.lane(u) })
	}
	return asked, len(jobs), nil
}

// started reports how many jobs the lanes started.
func (l *jobLanes) started() int { return int(l.ran.Load()) }

// poke wakes the loop to claim again.
func (l *jobLanes) poke() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// next takes the next job of the upgrade's lane; ok is false when its
// queue is empty, and the lane has ended. heldTo is set when the job must
// wait for a failed job of its upgrade: the moment to put it back at.
func (l *jobLanes) next(upgrade int) (j claimedJob, heldTo time.Time, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	q := l.queued[upgrade]
	if len(q) == 0 {
		delete(l.queued, upgrade)
		return claimedJob{}, time.Time{}, false
	}
	j, l.queued[upgrade] = q[0], q[1:]
	return j, l.r.heldTo(j.Job), true
}

// lane runs the jobs of one upgrade, then gives its worker back.
func (l *jobLanes) lane(upgrade int) {
	defer func() {
		l.tokens <- struct{}{}
		l.poke()
	}()
	r, ctx := l.r, l.ctx
	margin := r.o.Lease / 10
	for {
		j, heldTo, ok := l.next(upgrade)
		if !ok {
			return
		}
		if !heldTo.IsZero() {
			// A job of the upgrade failed and is retried later: this one
			// waits for it, so its notices keep their order.
			r.requeue(ctx, j.Job, heldTo)
			l.poke()
			continue
		}
		left := j.leaseEnd.Sub(r.now()) - margin
		if ctx.Err() != nil || left <= 0 {
			l.putBack(upgrade, j)
			return
		}
		l.ran.Add(1)
		err := r.runJob(ctx, j.Job, min(r.o.JobTimeout, left))
		if err == nil {
			continue
		}
		if d, ok := errors.AsType[*deferred](err); ok {
			// Not due yet after all: back in the queue at its new moment,
			// no attempt counted; the upgrade's later jobs go on.
			r.log.InfoContext(ctx, "due job deferred", "upgrade", j.Upgrade, "job", j.ID, "until", d.until, "why", d.why)
			r.requeue(ctx, j.Job, d.until)
			l.poke()
			continue
		}
		if _, later := errors.AsType[*laterError](err); ctx.Err() != nil && !later {
			// Cut off by the shutdown: not the job's fault, so no back-off;
			// another replica takes it at once (and skips the threads it
			// already reached).
			r.log.WarnContext(ctx, "due job interrupted by shutdown; putting it back", "upgrade", j.Upgrade, "job", j.ID, "err", err)
			l.putBack(upgrade, j)
			return
		}
		at := r.retry(ctx, j.Job, err)
		if j.Attempt < heldAttempts {
			r.hold(j.Job, at)
		}
		l.poke()
	}
}

// putBack ends the upgrade's lane: first and the jobs still in its queue go
// back to the queue at their due time (Release), for any replica to claim
// at once, first first. The lane counts as running until they are back, so
// a job of the upgrade claimed meanwhile joins them rather than starting a
// lane of its own ahead of them.
func (l *jobLanes) putBack(upgrade int, first claimedJob) {
	ctx := l.ctx
	why := "lease running out"
	if ctx.Err() != nil {
		why = "shutting down"
	}
	jobs := []Job{first.Job}
	for {
		l.mu.Lock()
		for _, j := range l.queued[upgrade] {
			jobs = append(jobs, j.Job)
		}
		if len(jobs) == 0 {
			delete(l.queued, upgrade)
			l.mu.Unlock()
			return
		}
		l.queued[upgrade] = nil // still running: claim queues here
		l.mu.Unlock()
		l.r.log.InfoContext(ctx, "putting back due jobs not started", "upgrade", upgrade, "jobs", len(jobs), "why", why)
		sctx, cancel := bookkeeping(ctx)
		if err := l.r.q.Release(sctx, jobs); err != nil {
			l.r.log.ErrorContext(ctx, "putting back due jobs failed; they return when their lease ends", "jobs", len(jobs), "err", err)
		}
		cancel()
		jobs = nil
	}
}

// deferred is what a job's exec returns when the job is not due yet after
// all (an escalation whose reminder went out late): the runner puts it back,
// held by no one, due at until, with the same identity (its planned Due) and
// attempt count, so a re-plan that lists it unchanged leaves it there, and
// it runs once, on whichever replica claims it then.
type deferred struct {
	until time.Time
	why   string
}

func (d *deferred) Error() string { return "deferred until " + d.until.String() + ": " + d.why }

// runJob runs one job within budget and marks it done. The job's context
// survives ctx (shutdown) by Options.Grace, so a notice being sent is not
// cut off halfway without need.
func (r *runner) runJob(ctx context.Context, j Job, budget time.Duration) error {
	r.obs.Job(j.Kind, max(r.now().Sub(j.Due), 0))
	jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), budget)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		t := time.NewTimer(r.o.Grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-jctx.Done():
		}
	})
	defer stop()
	if err := r.exec(jctx, j); err != nil {
		return err
	}
	dctx, dcancel := bookkeeping(ctx)
	defer dcancel()
	if err := r.q.Done(dctx, j); err != nil {
		r.log.ErrorContext(ctx, "marking job done failed; it may be sent again after its lease", "upgrade", j.Upgrade, "job", j.ID, "err", err)
	}
	return nil
}

// backoff is how long a job waits after its attempt-th failure.
func (r *runner) backoff(attempt int) time.Duration {
	d := r.o.RetryMin
	for i := 1; i < attempt && d < r.o.RetryMax; i++ {
		d *= 2
	}
	return min(d, r.o.RetryMax)
}

// retry puts a failed job back after its back-off and returns when it is
// due again.
func (r *runner) retry(ctx context.Context, j Job, err error) time.Time {
	j.Attempt++
	wait := r.backoff(j.Attempt)
	at := r.now().Add(wait)
	if _, later := errors.AsType[*laterError](err); later {
		// Expected, and may pass: its failures are recorded already.
		r.log.WarnContext(ctx, "due job's notice not delivered everywhere; sending it again", "upgrade", j.Upgrade, "job", j.ID, "attempt", j.Attempt, "in", wait.String(), "err", err)
	} else {
		r.log.ErrorContext(ctx, "due job failed; retrying", "upgrade", j.Upgrade, "job", j.ID, "attempt", j.Attempt, "in", wait.String(), "err", err)
	}
	r.requeue(ctx, j, at)
	return at
}

func (r *runner) requeue(ctx context.Context, j Job, at time.Time) {
	sctx, cancel := bookkeeping(ctx)
	defer cancel()
	if err := r.q.Retry(sctx, j, at); err != nil {
		r.log.ErrorContext(ctx, "putting a job back failed; it returns when its lease ends", "upgrade", j.Upgrade, "job", j.ID, "err", err)
	}
}
