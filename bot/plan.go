package bot

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"time"
)

// PlanRules are the configuration a plan of jobs follows.
type PlanRules struct {
	Reminders     []time.Duration // offsets before the start
	EscalateAfter time.Duration   // after the last reminder or a rollback; 0: never
}

// Fingerprint names the rules in a short word: the same for equal rules
// (reminders in any order), another for others.
func (r PlanRules) Fingerprint() string {
	offs := slices.Clone(r.Reminders)
	slices.Sort(offs)
	h := fnv.New64a()
	for _, o := range offs {
		fmt.Fprintf(h, "%d,", int64(o))
	}
	fmt.Fprintf(h, "e%d", int64(r.EscalateAfter))
	return strconv.FormatUint(h.Sum64(), 36)
}

// PlanJobs is the pure plan of an upgrade: every job its state and window
// call for, past ones included (the queue adds those it has not done yet,
// and the scheduler decides whether they are still useful when they run;
// see JobQueue.ReplaceJobs). Jobs due before the upgrade was created are
// left out: they were never owed (an upgrade scheduled two days ahead has
// no three-day reminder, not even a late one), and so is a reminder due
// within preBriefCovers of its creation (scheduled an hour ahead, or an
// hour and two minutes: the pre-brief is that reminder).
//
// The brief escalation is planned escalate_after after the last reminder's
// moment, or after the window was set (the pre-brief, or the rescheduled
// notice) when that was later or there are no reminders: an upgrade scheduled for half an hour from
// now has no one-hour reminder, and its escalation comes escalate_after
// after the pre-brief, not with it. When it runs, it follows the reminder
// as it actually went out
// (escalate_after after a late one, none for one never posted: see
// Scheduler.afterReminder), so its planned Due stays its identity. It stays
// planned while the upgrade is in progress: whoever has not acknowledged
// the pre-brief of a running upgrade still gets the direct message, until
// the window ends.
func PlanJobs(u *Upgrade, r PlanRules) []Job {
	var jobs []Job
	add := func(j Job) {
		if j.Due.Before(u.CreatedAt) {
			return
		}
		j.Upgrade = u.ID
		jobs = append(jobs, j)
	}
	briefEscalation := func() {
		if r.EscalateAfter <= 0 {
			return
		}
		// After the last reminder, or the pre-brief itself when there are
		// no reminders (before = []): the pre-brief is then the last.
		from := u.windowSet()
		if len(r.Reminders) > 0 {
			if last := u.Start.Add(-slices.Min(r.Reminders)); last.After(from) {
				from = last
			}
		}
		add(Job{ID: "escalation:brief", Kind: JobEscalation, Scope: ScopeBrief, Due: from.Add(r.EscalateAfter)})
	}
	switch u.State {
	case Scheduled:
		for _, off := range r.Reminders {
			// A reminder due within minutes of the upgrade's creation
			// (scheduled about that long ahead) is the pre-brief, just
			// out: it is not owed as well.
			if due := u.Start.Add(-off); reminderOwed(u, due) {
				add(Job{ID: "reminder:" + off.String(), Kind: JobReminder, Offset: off, Due: due})
			}
		}
		briefEscalation()
		add(Job{ID: "window_open", Kind: JobWindowOpen, Due: u.Start})
		add(Job{ID: "overrun", Kind: JobOverrun, Due: u.End})
	case InProgress:
		briefEscalation()
		add(Job{ID: "overrun", Kind: JobOverrun, Due: u.End})
	case RolledBack:
		// Planned escalate_after after the rollback; when it runs it follows
		// the rollback alert as it went out (Scheduler.afterAlert).
		if r.EscalateAfter > 0 {
			add(Job{ID: "escalation:rollback", Kind: JobEscalation, Scope: ScopeRollback, Due: u.FinishedAt.Add(r.EscalateAfter)})
		}
	}
	return jobs
}

// Planned reports whether j is part of the plan of u as it is now: same
// job, same due time. A job that is not was planned from an older state of
// the upgrade (a failed or overtaken re-plan) and must not run.
func Planned(u *Upgrade, j Job, r PlanRules) bool {
	for _, p := range PlanJobs(u, r) {
		if p.ID == j.ID {
			return p.Kind == j.Kind && p.Scope == j.Scope && p.Offset == j.Offset && p.Due.Equal(j.Due)
		}
	}
	return false
}

// preBriefCovers is how soon after the pre-brief a reminder would say the
// same again: one due then is not owed.
const preBriefCovers = 5 * time.Minute

// reminderOwed reports whether a reminder of u due at due is owed: not
// when it falls before, or within preBriefCovers of, u's creation.
func reminderOwed(u *Upgrade, due time.Time) bool {
	return due.After(u.CreatedAt.Add(preBriefCovers))
}

// supersededBy reports the reminder that makes a reminder of offset
// pointless at now: one closer to the start that is due as well (after
// downtime, only the latest of the reminders that piled up is sent).
func supersededBy(u *Upgrade, offset time.Duration, now time.Time, r PlanRules) (time.Duration, bool) {
	var by time.Duration
	found := false
	for _, off := range r.Reminders {
		if off < offset && !now.Before(u.Start.Add(-off)) && (!found || off < by) {
			by, found = off, true
		}
	}
	return by, found
}

// windowSet is when u's window was set: its last reschedule that moved the
// start, else its creation.
func (u *Upgrade) windowSet() time.Time {
	if u.WindowSetAt.After(u.CreatedAt) {
		return u.WindowSetAt
	}
	return u.CreatedAt
}
