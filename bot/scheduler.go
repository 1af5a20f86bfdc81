package bot

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// SchedulerOptions tunes the scheduler; zero values take the defaults.
type SchedulerOptions struct {
	Now     Clock
	Logger  *slog.Logger
	Lease   time.Duration // how long a claimed job is ours before others may retake it (2m)
	MaxIdle time.Duration // the longest sleep without looking at Redis (30s)
	Batch   int           // jobs claimed per round trip (20)
	// LateAfter is how late a job may be before its notice says so (1m).
	LateAfter time.Duration
}

// Scheduler turns an upgrade's window into due jobs (reminders, window
// open, overrun, escalation) and runs them when they fall due. Any number of
// replicas may run one against the same JobQueue: each job is claimed by
// one replica at a time and put back if that replica dies (lease).
type Scheduler struct {
	b    *Bot
	q    JobQueue
	once Once
	o    SchedulerOptions
	log  *slog.Logger
}

// NewScheduler builds a scheduler and makes it the bot's Planner. When q
// also implements Once, escalations are de-duplicated per person and scope.
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
	if o.LateAfter <= 0 {
		o.LateAfter = time.Minute
	}
	s := &Scheduler{b: b, q: q, o: o, log: o.Logger}
	s.once, _ = q.(Once)
	b.SetPlanner(s)
	return s
}

// Jobs lists every job the upgrade's state calls for, past ones included;
// the queue drops those already past unless they are overdue and unsent
// (see JobQueue.ReplaceJobs), so offsets already past at scheduling time are skipped.
func (s *Scheduler) Jobs(u *Upgrade) []Job {
	var jobs []Job
	add := func(j Job) {
		j.Upgrade = u.ID
		jobs = append(jobs, j)
	}
	cfg := s.b.cfg
	switch u.State {
	case Scheduled:
		for _, off := range cfg.Reminders {
			add(Job{ID: "reminder:" + off.String(), Kind: JobReminder, Offset: off, Due: u.Start.Add(-off)})
		}
		if len(cfg.Reminders) > 0 && cfg.EscalateAfter > 0 {
			last := slices.Min(cfg.Reminders)
			add(Job{ID: "escalation:brief", Kind: JobEscalation, Scope: ScopeBrief, Due: u.Start.Add(-last).Add(cfg.EscalateAfter)})
		}
		add(Job{ID: "window_open", Kind: JobWindowOpen, Due: u.Start})
		add(Job{ID: "overrun", Kind: JobOverrun, Due: u.End})
	case InProgress:
		add(Job{ID: "overrun", Kind: JobOverrun, Due: u.End})
	case RolledBack:
		if cfg.EscalateAfter > 0 {
			add(Job{ID: "escalation:rollback", Kind: JobEscalation, Scope: ScopeRollback, Due: u.FinishedAt.Add(cfg.EscalateAfter)})
		}
	}
	return jobs
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
// time (at most MaxIdle) or until a replica announces a change.
func (s *Scheduler) Run(ctx context.Context) error {
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

// RunDue runs every job due now and reports how many it ran.
//
// A claimed batch shares one lease. Each job gets only what is left of it
// (less a margin), and once the lease runs short the rest of the batch is
// left alone: it returns to the queue when the lease expires, so a slow
// platform can delay a notice but never make two replicas send it.
func (s *Scheduler) RunDue(ctx context.Context) (int, error) {
	n := 0
	margin := s.o.Lease / 10
	for {
		claimed := s.o.Now()
		jobs, err := s.q.Claim(ctx, claimed, s.o.Lease, s.o.Batch)
		if err != nil {
			return n, fmt.Errorf("claim due jobs: %w", err)
		}
		if len(jobs) == 0 {
			return n, nil
		}
		leaseEnd := claimed.Add(s.o.Lease)
		for i, j := range jobs {
			left := leaseEnd.Sub(s.o.Now()) - margin
			if left <= 0 && i > 0 {
				s.log.WarnContext(ctx, "lease running out; leaving the rest of the batch to expire and be retaken",
					"left_jobs", len(jobs)-i, "lease", s.o.Lease.String())
				break
			}
			s.runJob(ctx, j, max(left, margin))
			n++
		}
	}
}

func (s *Scheduler) runJob(ctx context.Context, j Job, budget time.Duration) {
	jctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	if err := s.execute(jctx, j); err != nil {
		// Leave the job leased: when the lease ends another round retries it.
		s.log.ErrorContext(ctx, "due job failed; it will be retried after its lease", "upgrade", j.Upgrade, "job", j.ID, "err", err)
		return
	}
	if err := s.q.Done(ctx, j); err != nil {
		s.log.ErrorContext(ctx, "marking job done failed", "upgrade", j.Upgrade, "job", j.ID, "err", err)
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
	switch j.Kind {
	case JobReminder:
		if u.State != Scheduled || !u.Start.Add(-j.Offset).Equal(j.Due) {
			return skip("stale: the upgrade changed")
		}
		if !now.Before(u.Start) {
			return skip("too late: the window has opened")
		}
		acks, err := s.b.store.Acks(ctx, u.ID)
		if err != nil {
			return fmt.Errorf("load acks: %w", err)
		}
		if late < s.o.LateAfter {
			late = 0
		}
		if _, err := s.b.deliverThreads(ctx, u, s.b.dir.Reminder(u, acks, j.Offset, late)); err != nil {
			return err
		}
		s.b.emit(ctx, u, EventReminder, "upgradebot", map[string]any{"before": j.Offset.String(), "late": late.String()})
	case JobWindowOpen:
		if u.State != Scheduled || !u.Start.Equal(j.Due) {
			return skip("stale: started or changed")
		}
		if !now.Before(u.End) {
			return skip("too late: the window has ended")
		}
		if _, err := s.b.deliverThreads(ctx, u, s.b.dir.WindowOpen(u)); err != nil {
			return err
		}
	case JobOverrun:
		if !u.State.Active() || !u.End.Equal(j.Due) {
			return skip("stale: finished or extended")
		}
		if _, err := s.b.deliverThreads(ctx, u, s.b.dir.Overrun(u)); err != nil {
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
	for _, p := range s.b.dir.Status(u, acks, j.Scope).Pending {
		if p.Group {
			continue // a group has no inbox; its members were mentioned in the thread
		}
		if s.once != nil {
			first, err := s.once.First(ctx, fmt.Sprintf("escalated:%d:%s:%s", u.ID, j.Scope, p.Key), 90*24*time.Hour)
			if err != nil {
				return fmt.Errorf("dedupe escalation: %w", err)
			}
			if !first {
				continue
			}
		}
		s.directToPerson(ctx, u, p, msg)
	}
	return nil
}

// directToPerson tries the person's identities in order until one platform
// takes the direct message.
func (s *Scheduler) directToPerson(ctx context.Context, u *Upgrade, p Principal, m Message) {
	var errs []string
	for _, id := range p.IDs {
		if _, err := s.b.msg.Direct(ctx, id, m); err == nil {
			return
		} else {
			errs = append(errs, err.Error())
		}
	}
	err := fmt.Errorf("%s", strings.Join(errs, "; "))
	s.b.recordFailures(ctx, u.ID, []Failure{s.b.failure(ctx, u, m.Kind, p.Key, err)})
}
