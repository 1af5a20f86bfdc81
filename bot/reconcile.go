package bot

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// rollbackLookback bounds how long before a rollback its upgrade's window
// may have ended for Reconcile to find it: a day to roll back after
// completing, and a day of overrun.
const rollbackLookback = RollbackWindow + 24*time.Hour

// Reconcile has the store tidy itself (Tidier), then re-plans the
// upgrades that may still have jobs to run: every scheduled or in-progress
// upgrade, and those rolled back recently enough for their rollback
// escalation to be ahead. It repairs a plan that failed
// or never ran (the process died between saving a change and planning
// it). With full false, and a queue that reports PlannedRevisions, only
// upgrades whose jobs were planned from an older revision (or that have
// none) are re-planned; full re-plans them all, which also applies a
// changed configuration (reminders, escalate_after) to existing upgrades.
// Re-planning is idempotent and revision-guarded, so replicas may
// reconcile concurrently. It returns how many upgrades it re-planned.
func (s *Scheduler) Reconcile(ctx context.Context, full bool) (int, error) {
	now := s.o.Now()
	if t, ok := s.store.(Tidier); ok {
		if err := t.Tidy(ctx); err != nil {
			s.log.WarnContext(ctx, "reconcile: the store's housekeeping failed; listing the upgrades as they are indexed", "err", err)
		}
	}
	ups, err := s.store.List(ctx, Filter{States: []State{Scheduled, InProgress}})
	if err != nil {
		return 0, fmt.Errorf("reconcile: list active upgrades: %w", err)
	}
	if ea := s.rules.EscalateAfter; ea > 0 {
		// Windows that ended recently and have started: a narrow index range.
		rb, err := s.store.List(ctx, Filter{States: []State{RolledBack}, From: now.Add(-ea - rollbackLookback), To: now.Add(time.Millisecond)})
		if err != nil {
			return 0, fmt.Errorf("reconcile: list rolled-back upgrades: %w", err)
		}
		for _, u := range rb {
			if u.FinishedAt.Add(ea).After(now) {
				ups = append(ups, u)
			}
		}
	}
	if pr, ok := s.queue.(PlannedRevisions); ok && !full && len(ups) > 0 {
		ids := make([]int, len(ups))
		for i, u := range ups {
			ids[i] = u.ID
		}
		revs, err := pr.PlannedRevs(ctx, ids)
		if err != nil {
			return 0, fmt.Errorf("reconcile: %w", err)
		}
		behind := ups[:0]
		for _, u := range ups {
			if rev, ok := revs[u.ID]; !ok || rev < u.Rev {
				behind = append(behind, u)
			}
		}
		ups = behind
	}
	var (
		n    int
		errs []error
	)
	for _, u := range ups {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		if err := s.queue.ReplaceJobs(ctx, u.ID, u.Rev, s.Jobs(u), s.o.Now()); err != nil {
			errs = append(errs, fmt.Errorf("re-plan %s: %w", u.Key(), err))
			continue
		}
		n++
	}
	if s.series != nil {
		m, err := s.series.reconcileSeries(ctx)
		if err != nil {
			errs = append(errs, err)
		}
		n += m
	}
	if n > 0 {
		if err := s.queue.Wake(ctx); err != nil {
			s.log.WarnContext(ctx, "waking schedulers failed", "err", err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return n, fmt.Errorf("reconcile: %w", err)
	}
	return n, nil
}

// The start-up reconcile pass is retried after reconcileRetryMin, then
// twice as long after each further failure, at most reconcileRetryMax.
const (
	reconcileRetryMin = time.Second
	reconcileRetryMax = 30 * time.Second
)

// reconcileLoop reconciles fully when Run starts (startupReconcile), then
// every Options.Reconcile the plans that are behind. With a Once, one
// replica per period does it (the others find the key taken); without,
// every replica does, which is harmless.
func (s *Scheduler) reconcileLoop(ctx context.Context) {
	s.startupReconcile(ctx)
	repeat(ctx, s.o.Reconcile, func() {
		if s.once != nil {
			first, err := s.once.First(ctx, "scheduler:reconcile", s.o.Reconcile*9/10)
			if err != nil {
				if ctx.Err() == nil {
					s.log.WarnContext(ctx, "reconcile: electing a replica failed", "err", err)
				}
				return
			}
			if !first {
				return
			}
		}
		t0 := s.o.Now()
		n, err := s.Reconcile(ctx, false)
		if err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "reconciling planned jobs failed", "replanned", n, "err", err)
			return
		}
		if n > 0 {
			s.log.InfoContext(ctx, "reconciled planned jobs", "replanned", n, "full", false, "took", s.o.Now().Sub(t0).String())
		}
	})
}

// startupReconcile makes the full pass Run starts with, on the one replica
// that takes the scheduler:reconcile:start:<rules> key (every replica
// without a Once): replicas that start together with the same reminders and
// escalation make one pass, and a start with other rules (a changed
// configuration deployed, or reverted, within the key's minute) makes its
// own, so the upgrades are planned by its rules at once, not skipped as
// stale until the next change. Redis may be down or loading as the bot
// starts, so taking the key and the pass are retried with back-off
// (reconcileRetryMin doubling to reconcileRetryMax) until the pass succeeds
// or ctx ends. The replica that took the key retries its pass without
// taking the key again, so a pass that failed after the election is not
// stopped by its own key; should its retries outlast the key (a minute), a
// replica starting then may make a pass too, which is harmless.
func (s *Scheduler) startupReconcile(ctx context.Context) {
	elected := s.once == nil
	wait := reconcileRetryMin
	for {
		if !elected {
			first, err := s.once.First(ctx, "scheduler:reconcile:start:"+s.rules.Fingerprint(), time.Minute)
			switch {
			case err != nil:
				if ctx.Err() != nil {
					return
				}
				s.log.WarnContext(ctx, "reconcile at start: electing a replica failed; retrying", "in", wait.String(), "err", err)
			case !first:
				return // another replica makes the pass
			default:
				elected = true
			}
		}
		if elected {
			t0 := s.o.Now()
			n, err := s.Reconcile(ctx, true)
			if ctx.Err() != nil {
				return
			}
			if err == nil {
				s.log.InfoContext(ctx, "reconciled planned jobs", "replanned", n, "full", true, "took", s.o.Now().Sub(t0).String())
				return
			}
			s.log.ErrorContext(ctx, "reconciling planned jobs at start failed; retrying", "replanned", n, "in", wait.String(), "err", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, reconcileRetryMax)
	}
}
