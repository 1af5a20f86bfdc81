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

// Reconcile re-plans the upgrades that may still have jobs to run: every
// scheduled or in-progress upgrade, and those rolled back recently enough
// for their rollback escalation to be ahead. It repairs a plan that failed
// or never ran (the process died between saving a change and planning
// it). With full false, and a queue that reports PlannedRevisions, only
// upgrades whose jobs were planned from an older revision (or that have
// none) are re-planned; full re-plans them all, which also applies a
// changed configuration (reminders, escalate_after) to existing upgrades.
// Re-planning is idempotent and revision-guarded, so replicas may
// reconcile concurrently. It returns how many upgrades it re-planned.
func (s *Scheduler) Reconcile(ctx context.Context, full bool) (int, error) {
	now := s.o.Now()
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

// reconcileLoop reconciles fully when Run starts, then every
// Options.Reconcile the plans that are behind. With a Once, one replica per
// period does it (the others find the key taken); without, every replica
// does, which is harmless.
func (s *Scheduler) reconcileLoop(ctx context.Context) {
	pass := func(key string, ttl time.Duration, full bool) {
		if s.once != nil {
			first, err := s.once.First(ctx, key, ttl)
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
		n, err := s.Reconcile(ctx, full)
		if err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "reconciling planned jobs failed", "replanned", n, "err", err)
			return
		}
		if n > 0 || full {
			s.log.InfoContext(ctx, "reconciled planned jobs", "replanned", n, "full", full, "took", s.o.Now().Sub(t0).String())
		}
	}
	pass("scheduler:reconcile:start", time.Minute, true)
	repeat(ctx, s.o.Reconcile, func() { pass("scheduler:reconcile", s.o.Reconcile*9/10, false) })
}
