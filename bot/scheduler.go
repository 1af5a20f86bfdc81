package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// SchedulerOptions tunes the scheduler; zero values take the defaults.
type SchedulerOptions struct {
	Now     Clock
	Logger  *slog.Logger
	Lease   time.Duration // how long a claimed batch is ours before others may retake it (2m)
	MaxIdle time.Duration // the longest sleep without looking at Redis (30s)
	Batch   int           // jobs claimed per round trip (20)
	// Workers is how many jobs of a claimed batch run at once (4). Jobs of
	// one upgrade always run one after the other, in due order.
	Workers int
	// JobTimeout is one job's budget (30s), never more than what is left
	// of the batch's lease.
	JobTimeout time.Duration
	// Grace is how long a job already started may go on once Run's context
	// ends (shutdown), before it is cut off and put back (5s).
	Grace time.Duration
	// RetryMin and RetryMax bound the back-off of a failed job: it is due
	// again RetryMin after its first failure, twice as long after each
	// further one, at most RetryMax (5s, 5m).
	RetryMin, RetryMax time.Duration
	// Reconcile is how often Run re-plans the upgrades whose jobs are behind
	// their revision (5m); Run also re-plans every active upgrade when it
	// starts. Negative disables both.
	Reconcile time.Duration
	// LateAfter is how late a job may be before its notice says so (1m).
	LateAfter time.Duration
	// Recover is how often Run looks for command notices another replica
	// queued and never delivered (it died), and sends them (30s; see
	// Bot.RecoverNotices). Negative disables it.
	Recover time.Duration
}

// Scheduler turns an upgrade's window into due jobs (reminders, window
// open, overrun, escalation) and runs them when they fall due. Any number of
// replicas may run one against the same JobQueue: each job is claimed by
// one replica at a time and put back if that replica dies (lease).
type Scheduler struct {
	b    *Bot
	q    JobQueue
	once Once
	dlog DeliveryLog
	o    SchedulerOptions
	log  *slog.Logger
}

// NewScheduler builds a scheduler and makes it the bot's Planner. When q
// also implements Once, escalations are de-duplicated per person and scope;
// when it implements DeliveryLog, a retried notice skips the threads it
// already reached.
func NewScheduler(b *Bot, q JobQueue, o SchedulerOptions) *Scheduler {
	if o.Now == nil {
		o.Now = b.now
	}
	if o.Logger == nil {
		o.Logger = b.log
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.MaxIdle <= 0 {
		o.MaxIdle = 30 * time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 20
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.JobTimeout <= 0 {
		o.JobTimeout = 30 * time.Second
	}
	if o.Grace <= 0 {
		o.Grace = 5 * time.Second
	}
	if o.RetryMin <= 0 {
		o.RetryMin = 5 * time.Second
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = max(5*time.Minute, o.RetryMin)
	}
	if o.Reconcile == 0 {
		o.Reconcile = 5 * time.Minute
	}
	if o.LateAfter <= 0 {
		o.LateAfter = time.Minute
	}
	if o.Recover == 0 {
		o.Recover = 30 * time.Second
	}
	s := &Scheduler{b: b, q: q, o: o, log: o.Logger}
	s.once, _ = q.(Once)
	s.dlog, _ = q.(DeliveryLog)
	b.SetPlanner(s)
	return s
}

// Jobs lists every job the upgrade's state calls for, past ones included;
// the queue drops those already past unless they are overdue and unsent
// (see JobQueue.ReplaceJobs), so offsets already past at scheduling time are skipped.
//
// The brief escalation stays planned while the upgrade is in progress:
// whoever has not acknowledged the pre-brief of a running upgrade still
// gets the direct message, until the window ends.
func (s *Scheduler) Jobs(u *Upgrade) []Job {
	var jobs []Job
	add := func(j Job) {
		j.Upgrade = u.ID
		jobs = append(jobs, j)
	}
	cfg := s.b.cfg
	briefEscalation := func() {
		if len(cfg.Reminders) > 0 && cfg.EscalateAfter > 0 {
			last := slices.Min(cfg.Reminders)
			add(Job{ID: "escalation:brief", Kind: JobEscalation, Scope: ScopeBrief, Due: u.Start.Add(-last).Add(cfg.EscalateAfter)})
		}
	}
	switch u.State {
	case Scheduled:
		for _, off := range cfg.Reminders {
			add(Job{ID: "reminder:" + off.String(), Kind: JobReminder, Offset: off, Due: u.Start.Add(-off)})
		}
		briefEscalation()
		add(Job{ID: "window_open", Kind: JobWindowOpen, Due: u.Start})
		add(Job{ID: "overrun", Kind: JobOverrun, Due: u.End})
	case InProgress:
		briefEscalation()
		add(Job{ID: "overrun", Kind: JobOverrun, Due: u.End})
	case RolledBack:
		if cfg.EscalateAfter > 0 {
			add(Job{ID: "escalation:rollback", Kind: JobEscalation, Scope: ScopeRollback, Due: u.FinishedAt.Add(cfg.EscalateAfter)})
		}
	}
	return jobs
}

// planned reports whether j is part of the plan of u as it is now: same
// job, same due time. A job that is not was planned from an older state of
// the upgrade (a failed or overtaken re-plan) and must not run.
func (s *Scheduler) planned(u *Upgrade, j Job) bool {
	for _, p := range s.Jobs(u) {
		if p.ID == j.ID {
			return p.Kind == j.Kind && p.Scope == j.Scope && p.Offset == j.Offset && p.Due.Equal(j.Due)
		}
	}
	return false
}

// Plan implements Planner: it replaces the upgrade's jobs and wakes every replica.
func (s *Scheduler) Plan(ctx context.Context, u *Upgrade) error {
	if err := s.q.ReplaceJobs(ctx, u.ID, u.Rev, s.Jobs(u), s.o.Now()); err != nil {
		return fmt.Errorf("plan jobs of %s: %w", u.Key(), err)
	}
	if err := s.q.Wake(ctx); err != nil {
		s.log.WarnContext(ctx, "waking schedulers failed", "err", err)
	}
	return nil
}

// Run claims and runs due jobs until ctx ends, sleeping until the next due
// time (at most MaxIdle) or until a replica announces a change. It also
// reconciles the plans (see Reconcile) when it starts and every
// Options.Reconcile. When ctx ends, jobs claimed but not started go back to
// the queue at once and a job already started gets Options.Grace to finish;
// Run returns when that is done.
func (s *Scheduler) Run(ctx context.Context) error {
	var bg sync.WaitGroup
	defer bg.Wait()
	if s.o.Reconcile > 0 {
		bg.Go(func() { s.reconcileLoop(ctx) })
	}
	if s.o.Recover > 0 && s.b.notices != nil {
		bg.Go(func() { s.recoverLoop(ctx, s.o.Recover) })
	}
	wake := s.q.Wakeups(ctx)
	for {
		if _, err := s.RunDue(ctx); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "running due jobs failed", "err", err)
		}
		sleep := s.o.MaxIdle
		if next, ok, err := s.q.NextDue(ctx); err == nil && ok {
			sleep = min(sleep, max(next.Sub(s.o.Now()), 0))
		}
		if sleep <= 0 {
			sleep = 10 * time.Millisecond // a job leased elsewhere is due; don't spin
		}
		t := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// RunDue runs every job due now and reports how many it started.
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
func (s *Scheduler) RunDue(ctx context.Context) (int, error) {
	n := 0
	for ctx.Err() == nil {
		claimed := s.o.Now()
		jobs, err := s.q.Claim(ctx, claimed, s.o.Lease, s.o.Batch)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return n, fmt.Errorf("claim due jobs: %w", err)
		}
		if len(jobs) == 0 {
			break
		}
		n += s.runBatch(ctx, jobs, claimed.Add(s.o.Lease))
	}
	return n, nil
}

// runBatch runs one claimed batch on the workers and puts back what it
// did not start.
func (s *Scheduler) runBatch(ctx context.Context, jobs []Job, leaseEnd time.Time) int {
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
	for range min(s.o.Workers, len(groups)) {
		wg.Go(func() {
			for g := range work {
				r, rest := s.runGroup(ctx, g, leaseEnd)
				mu.Lock()
				ran += r
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
		s.log.InfoContext(ctx, "putting back due jobs not started", "jobs", len(unstarted), "why", why)
		sctx, cancel := s.storeCtx(ctx)
		defer cancel()
		if err := s.q.Release(sctx, unstarted); err != nil {
			s.log.ErrorContext(ctx, "putting back due jobs failed; they return when their lease ends", "jobs", len(unstarted), "err", err)
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
func (s *Scheduler) runGroup(ctx context.Context, g []Job, leaseEnd time.Time) (int, []Job) {
	margin := s.o.Lease / 10
	for i, j := range g {
		left := leaseEnd.Sub(s.o.Now()) - margin
		if ctx.Err() != nil || left <= 0 {
			return i, g[i:]
		}
		err := s.runJob(ctx, j, min(s.o.JobTimeout, left))
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			// Cut off by the shutdown: not the job's fault, so no back-off;
			// another replica takes it at once (and skips the threads it
			// already reached).
			s.log.WarnContext(ctx, "due job interrupted by shutdown; putting it back", "upgrade", j.Upgrade, "job", j.ID, "err", err)
			return i + 1, g[i:]
		}
		at := s.retry(ctx, j, err)
		// The later jobs of the upgrade wait for it, so its notices keep
		// their order.
		for k, later := range g[i+1:] {
			s.requeue(ctx, later, at.Add(time.Duration(k+1)*time.Millisecond))
		}
		return i + 1, nil
	}
	return len(g), nil
}

// runJob runs one job within budget and marks it done. The job's context
// survives ctx (shutdown) by Options.Grace, so a notice being sent is not
// cut off halfway without need.
func (s *Scheduler) runJob(ctx context.Context, j Job, budget time.Duration) error {
	jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), budget)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		t := time.NewTimer(s.o.Grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-jctx.Done():
		}
	})
	defer stop()
	if err := s.execute(jctx, j); err != nil {
		return err
	}
	dctx, dcancel := s.storeCtx(ctx)
	defer dcancel()
	if err := s.q.Done(dctx, j); err != nil {
		s.log.ErrorContext(ctx, "marking job done failed; it may be sent again after its lease", "upgrade", j.Upgrade, "job", j.ID, "err", err)
	}
	return nil
}

// storeCtx is for the queue bookkeeping that must happen even when ctx has
// ended (shutdown): Done, Release, Retry, recording failures.
func (s *Scheduler) storeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}

// backoff is how long a job waits after its attempt-th failure.
func (s *Scheduler) backoff(attempt int) time.Duration {
	d := s.o.RetryMin
	for i := 1; i < attempt && d < s.o.RetryMax; i++ {
		d *= 2
	}
	return min(d, s.o.RetryMax)
}

// retry puts a failed job back after its back-off and returns when it is
// due again.
func (s *Scheduler) retry(ctx context.Context, j Job, err error) time.Time {
	j.Attempt++
	wait := s.backoff(j.Attempt)
	at := s.o.Now().Add(wait)
	s.log.ErrorContext(ctx, "due job failed; retrying", "upgrade", j.Upgrade, "job", j.ID, "attempt", j.Attempt, "in", wait.String(), "err", err)
	s.requeue(ctx, j, at)
	return at
}

func (s *Scheduler) requeue(ctx context.Context, j Job, at time.Time) {
	sctx, cancel := s.storeCtx(ctx)
	defer cancel()
	if err := s.q.Retry(sctx, j, at); err != nil {
		s.log.ErrorContext(ctx, "putting a job back failed; it returns when its lease ends", "upgrade", j.Upgrade, "job", j.ID, "err", err)
	}
}

// execute sends what the job stands for, unless it is stale (the upgrade
// changed since it was planned) or too late to be useful.
func (s *Scheduler) execute(ctx context.Context, j Job) error {
	u, err := s.b.store.Get(ctx, j.Upgrade)
	if err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return nil
		}
		return fmt.Errorf("load upgrade %d: %w", j.Upgrade, err)
	}
	now := s.o.Now()
	late := now.Sub(j.Due)
	skip := func(why string) error {
		s.log.InfoContext(ctx, "due job skipped", "upgrade", u.Key(), "job", j.ID, "why", why, "late", late.String())
		return nil
	}
	if !s.planned(u, j) {
		return skip("stale: the upgrade changed since the job was planned")
	}
	switch j.Kind {
	case JobReminder:
		if !now.Before(u.Start) {
			return skip("too late: the window has opened")
		}
		if by, ok := s.supersededBy(u, j, now); ok {
			return skip("superseded by the " + FormatDuration(by) + " reminder")
		}
		acks, err := s.b.store.Acks(ctx, u.ID)
		if err != nil {
			return fmt.Errorf("load acks: %w", err)
		}
		if late < s.o.LateAfter {
			late = 0
		}
		if err := s.deliver(ctx, u, j, s.b.dir.Reminder(u, acks, j.Offset, late)); err != nil {
			return err
		}
		s.b.emit(ctx, u, EventReminder, "upgradebot", map[string]any{"before": j.Offset.String(), "late": late.String()})
	case JobWindowOpen:
		if !now.Before(u.End) {
			return skip("too late: the window has ended")
		}
		if err := s.deliver(ctx, u, j, s.b.dir.WindowOpen(u)); err != nil {
			return err
		}
	case JobOverrun:
		if err := s.deliver(ctx, u, j, s.b.dir.Overrun(u)); err != nil {
			return err
		}
		s.b.emit(ctx, u, EventOverrun, "upgradebot", map[string]any{"state": string(u.State), "end": u.End})
	case JobEscalation:
		return s.escalate(ctx, u, j, now)
	default:
		return skip("unknown job kind " + string(j.Kind))
	}
	return nil
}

// supersededBy reports the reminder that makes j pointless: one closer to
// the start that is due as well (after downtime, only the latest of the
// reminders that piled up is sent).
func (s *Scheduler) supersededBy(u *Upgrade, j Job, now time.Time) (time.Duration, bool) {
	var by time.Duration
	found := false
	for _, off := range s.b.cfg.Reminders {
		if off < j.Offset && !now.Before(u.Start.Add(-off)) && (!found || off < by) {
			by, found = off, true
		}
	}
	return by, found
}

// deliver replies with m in every thread of u, for job j. A thread the
// platform refused is recorded as a failure on the upgrade, once. When the
// job runs out of time it returns an error so the job is retried; with a
// DeliveryLog, the retry skips the threads already dealt with.
func (s *Scheduler) deliver(ctx context.Context, u *Upgrade, j Job, m Message) error {
	if len(u.Threads) == 0 {
		s.noThread(ctx, u, m.Kind)
		return nil
	}
	track := s.dlog != nil && len(u.Threads) > 1 // one thread: the job's Done is the record
	var settled []string
	if track {
		var err error
		if settled, err = s.dlog.Delivered(ctx, j); err != nil {
			return fmt.Errorf("load the threads %s already reached: %w", j.ID, err)
		}
	}
	var fails []Failure
	defer func() {
		if len(fails) > 0 {
			rctx, cancel := s.storeCtx(ctx)
			defer cancel()
			s.b.recordFailures(rctx, u.ID, fails)
		}
	}()
	for _, t := range u.Threads {
		part := t.Channel + " " + t.ID
		if slices.Contains(settled, part) {
			continue
		}
		_, err := s.b.msg.Reply(ctx, t, m)
		if err != nil && ctx.Err() != nil {
			return fmt.Errorf("deliver %s of %s: %w", m.Kind, u.Key(), errors.Join(ctx.Err(), err))
		}
		if err != nil {
			fails = append(fails, s.b.failure(ctx, u, m.Kind, t.Channel, err))
		}
		if track {
			mctx, cancel := s.storeCtx(ctx)
			if merr := s.dlog.MarkDelivered(mctx, j, part); merr != nil {
				s.log.WarnContext(ctx, "remembering a delivered thread failed; a retry may post there again", "upgrade", u.Key(), "job", j.ID, "channel", t.Channel, "err", merr)
			}
			cancel()
		}
	}
	return nil
}

// noThread records that a notice had nowhere to go: the pre-brief reached
// no channel, so there is no thread to reply in.
func (s *Scheduler) noThread(ctx context.Context, u *Upgrade, k Kind) {
	err := errors.New("no thread to reply in: the pre-brief could not be posted")
	var fails []Failure
	for _, ch := range u.Channels {
		fails = append(fails, s.b.failure(ctx, u, k, ch, err))
	}
	if len(fails) == 0 {
		fails = append(fails, s.b.failure(ctx, u, k, "its threads", err))
	}
	rctx, cancel := s.storeCtx(ctx)
	defer cancel()
	s.b.recordFailures(rctx, u.ID, fails)
}

func (s *Scheduler) escalate(ctx context.Context, u *Upgrade, j Job, now time.Time) error {
	switch {
	case j.Scope == ScopeBrief && u.State != Scheduled && u.State != InProgress:
		return nil
	case j.Scope == ScopeBrief && !now.Before(u.End):
		s.log.InfoContext(ctx, "escalation skipped: the window has ended", "upgrade", u.Key())
		return nil
	case j.Scope == ScopeRollback && u.State != RolledBack:
		return nil
	}
	acks, err := s.b.store.Acks(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("load acks: %w", err)
	}
	msg := s.b.dir.Escalation(u, j.Scope)
	forget, _ := s.once.(Forgetter)
	var retry []error
	for _, p := range s.b.dir.Status(u, acks, j.Scope).Pending {
		if p.Group {
			continue // a group has no inbox; its members were mentioned in the thread
		}
		if err := ctx.Err(); err != nil {
			// Out of time before reaching this person: the retry will.
			retry = append(retry, fmt.Errorf("escalate %s to %s: %w", u.Key(), p.Key, err))
			break
		}
		key := fmt.Sprintf("escalated:%d:%s:%s", u.ID, j.Scope, p.Key)
		if s.once != nil {
			first, err := s.once.First(ctx, key, 90*24*time.Hour)
			if err != nil {
				return fmt.Errorf("dedupe escalation: %w", err)
			}
			if !first {
				continue
			}
		}
		err := s.directToPerson(ctx, p, msg)
		if err == nil {
			continue
		}
		retryable := ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
		if retryable && (s.once == nil || forget != nil) {
			// Not refused, just out of time: give the key back so the
			// job's retry reaches this person.
			if forget != nil {
				fctx, cancel := s.storeCtx(ctx)
				if ferr := forget.Forget(fctx, key); ferr != nil {
					cancel()
					s.recordEscalationFailure(ctx, u, p, msg, errors.Join(err, ferr))
					continue
				}
				cancel()
			}
			retry = append(retry, fmt.Errorf("escalate %s to %s: %w", u.Key(), p.Key, err))
			continue
		}
		s.recordEscalationFailure(ctx, u, p, msg, err)
	}
	return errors.Join(retry...)
}

func (s *Scheduler) recordEscalationFailure(ctx context.Context, u *Upgrade, p Principal, m Message, err error) {
	rctx, cancel := s.storeCtx(ctx)
	defer cancel()
	s.b.recordFailures(rctx, u.ID, []Failure{s.b.failure(ctx, u, m.Kind, p.Key, err)})
}

// directToPerson tries the person's identities in order until one platform
// takes the direct message; it returns every identity's error otherwise.
func (s *Scheduler) directToPerson(ctx context.Context, p Principal, m Message) error {
	var errs []error
	for _, id := range p.IDs {
		_, err := s.b.msg.Direct(ctx, id, m)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return fmt.Errorf("%s has no identity to message", p.Key)
	}
	return errors.Join(errs...)
}
