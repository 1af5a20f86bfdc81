package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// runner claims due jobs from a JobQueue and runs them, knowing nothing of
// what they do (exec): on a few workers, the jobs of one upgrade one after
// the other, each within its own budget and its claim's lease, a failed
// one again after a back-off; on shutdown it puts back what it did not
// start. Any number of replicas may run one against the same queue.
type runner struct {
	q    JobQueue
	o    SchedulerOptions
	now  Clock
	log  *slog.Logger
	exec func(ctx context.Context, j Job) error
	obs  Observer // hears how late each job starts
}

// loop runs due jobs until ctx ends, sleeping until the next due time (at
// most MaxIdle) or until a replica announces a change.
func (r *runner) loop(ctx context.Context) {
	wake := r.q.Wakeups(ctx)
	for {
		if _, err := r.runDue(ctx); err != nil && ctx.Err() == nil {
			r.log.ErrorContext(ctx, "running due jobs failed", "err", err)
		}
		sleep := r.o.MaxIdle
		if next, ok, err := r.q.NextDue(ctx); err == nil && ok {
			sleep = min(sleep, max(next.Sub(r.now()), 0))
		}
		if sleep <= 0 {
			sleep = 10 * time.Millisecond // a job leased elsewhere is due; don't spin
		}
		t := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// runDue runs every job due now and reports how many it started.
//
// A claimed batch shares one lease. Its jobs run on Options.Workers
// workers, the jobs of one upgrade one after the other in due order, each
// with its own budget (JobTimeout) bounded by what is left of the lease
// (less a margin). A job is only started while some of the lease is left;
// the jobs not started go back to the queue at once (Release), so a slow
// notice delays only its own upgrade, and a claimed batch never outlives
// its lease: two replicas never send the same job. A failed job is retried
// after a back-off (RetryMin, doubling, at most RetryMax), and the later
// jobs of its upgrade in the batch wait for it.
func (r *runner) runDue(ctx context.Context) (int, error) {
	n := 0
	for ctx.Err() == nil {
		claimed := r.now()
		jobs, err := r.q.Claim(ctx, claimed, r.o.Lease, r.o.Batch)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return n, fmt.Errorf("claim due jobs: %w", err)
		}
		if len(jobs) == 0 {
			break
		}
		n += r.runBatch(ctx, jobs, claimed.Add(r.o.Lease))
	}
	return n, nil
}

// runBatch runs one claimed batch on the workers and puts back what it
// did not start.
func (r *runner) runBatch(ctx context.Context, jobs []Job, leaseEnd time.Time) int {
	groups := byUpgrade(jobs)
	work := make(chan []Job, len(groups))
	for _, g := range groups {
		work <- g
	}
	close(work)
	var (
		mu        sync.Mutex
		ran       int
		unstarted []Job
		wg        sync.WaitGroup
	)
	for range min(r.o.Workers, len(groups)) {
		wg.Go(func() {
			for g := range work {
				n, rest := r.runGroup(ctx, g, leaseEnd)
				mu.Lock()
				ran += n
				unstarted = append(unstarted, rest...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(unstarted) > 0 {
		why := "lease running out"
		if ctx.Err() != nil {
			why = "shutting down"
		}
		r.log.InfoContext(ctx, "putting back due jobs not started", "jobs", len(unstarted), "why", why)
		sctx, cancel := bookkeeping(ctx)
		defer cancel()
		if err := r.q.Release(sctx, unstarted); err != nil {
			r.log.ErrorContext(ctx, "putting back due jobs failed; they return when their lease ends", "jobs", len(unstarted), "err", err)
		}
	}
	return ran
}

// byUpgrade splits jobs (earliest first) into one list per upgrade, each in
// due order.
func byUpgrade(jobs []Job) [][]Job {
	var groups [][]Job
	at := map[int]int{}
	for _, j := range jobs {
		i, ok := at[j.Upgrade]
		if !ok {
			i = len(groups)
			at[j.Upgrade] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], j)
	}
	return groups
}

// runGroup runs the claimed jobs of one upgrade in order. It returns how
// many it started and those it did not start, to be put back.
func (r *runner) runGroup(ctx context.Context, g []Job, leaseEnd time.Time) (int, []Job) {
	margin := r.o.Lease / 10
	for i, j := range g {
		left := leaseEnd.Sub(r.now()) - margin
		if ctx.Err() != nil || left <= 0 {
			return i, g[i:]
		}
		err := r.runJob(ctx, j, min(r.o.JobTimeout, left))
		if err == nil {
			continue
		}
		if d, ok := errors.AsType[*deferred](err); ok {
			// Not due yet after all: back in the queue at its new moment,
			// no attempt counted; the upgrade's later jobs go on.
			r.log.InfoContext(ctx, "due job deferred", "upgrade", j.Upgrade, "job", j.ID, "until", d.until, "why", d.why)
			r.requeue(ctx, j, d.until)
			continue
		}
		if _, later := errors.AsType[*laterError](err); ctx.Err() != nil && !later {
			// Cut off by the shutdown: not the job's fault, so no back-off;
			// another replica takes it at once (and skips the threads it
			// already reached).
			r.log.WarnContext(ctx, "due job interrupted by shutdown; putting it back", "upgrade", j.Upgrade, "job", j.ID, "err", err)
			return i + 1, g[i:]
		}
		at := r.retry(ctx, j, err)
		// The later jobs of the upgrade wait for it, so its notices keep
		// their order.
		for k, later := range g[i+1:] {
			r.requeue(ctx, later, at.Add(time.Duration(k+1)*time.Millisecond))
		}
		return i + 1, nil
	}
	return len(g), nil
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
