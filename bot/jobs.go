package bot

import (
	"context"
	"time"
)

// JobKind names what a due job does.
type JobKind string

// The kinds of due job.
const (
	JobReminder   JobKind = "reminder"    // pre-brief reminder, Offset before the start
	JobWindowOpen JobKind = "window_open" // at the start, if not started
	JobOverrun    JobKind = "overrun"     // at the end, if not finished
	JobEscalation JobKind = "escalation"  // direct messages to whoever has not acknowledged Scope
)

// Job is one timed action of one upgrade. ID is unique within the upgrade's
// jobs and stable across re-planning, e.g. "reminder:168h".
type Job struct {
	ID      string        `json:"id"`
	Upgrade int           `json:"upgrade"`
	Kind    JobKind       `json:"kind"`
	Scope   string        `json:"scope,omitempty"`  // escalation
	Offset  time.Duration `json:"offset,omitempty"` // reminder: how long before the start
	Due     time.Time     `json:"due"`
	// Attempt counts the earlier attempts that failed and were retried; the
	// queue keeps it beside the job (Claim fills it in, Retry stores it).
	Attempt int `json:"-"`
	// Leased is when the claim that returned the job runs out (Claim fills
	// it in); Release and Retry act only on the claim that holds the job.
	Leased time.Time `json:"-"`
}

// JobQueue is the durable schedule of due jobs shared by every replica.
type JobQueue interface {
	// ReplaceJobs makes jobs the complete set of pending jobs of the upgrade,
	// atomically: jobs of the upgrade not listed are removed (also in flight).
	// A listed job due at or before now is kept only if it is already
	// pending unchanged (overdue, not yet sent); it is never added, so a
	// re-plan neither loses a late job nor resurrects a sent one. rev is the
	// upgrade's revision the jobs were planned from: a plan older than the
	// last one applied is ignored, so concurrent changes cannot leave the
	// jobs of a superseded window behind.
	ReplaceJobs(ctx context.Context, upgrade, rev int, jobs []Job, now time.Time) error
	// Claim takes up to max jobs due at or before now for this replica,
	// leased until now+lease; jobs whose lease expired are due again.
	// A job is held by at most one replica at a time.
	Claim(ctx context.Context, now time.Time, lease time.Duration, max int) ([]Job, error)
	// Done removes a claimed job for good.
	Done(ctx context.Context, j Job) error
	// Release puts claimed jobs that were not started back at their due
	// time, so any replica may claim them at once. Jobs no longer held by
	// the caller (lease ran out, re-planned) are left alone.
	Release(ctx context.Context, jobs []Job) error
	// Retry puts a claimed job back, due at at, and remembers j.Attempt as
	// its count of failed attempts. A job no longer held is left alone.
	Retry(ctx context.Context, j Job, at time.Time) error
	// NextDue is when the earliest pending or leased job falls due.
	NextDue(ctx context.Context) (time.Time, bool, error)
	// Wake tells every replica's Wakeups that the schedule changed.
	Wake(ctx context.Context) error
	// Wakeups delivers a signal whenever any replica calls Wake, until ctx ends.
	Wakeups(ctx context.Context) <-chan struct{}
}

// Once remembers that something happened, for at least ttl; it is how
// inbound retries and repeated escalations are de-duplicated.
type Once interface {
	// First reports whether key is new; a second call with the same key
	// within ttl returns false.
	First(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// Forgetter is an optional capability of a Once: Forget drops a key so the
// next First of it is first again. The scheduler uses it to give back an
// escalation's key when the direct message could not be sent in time, so
// the job's retry reaches that person.
type Forgetter interface {
	Forget(ctx context.Context, key string) error
}

// DeliveryLog is an optional capability of a JobQueue: it remembers which
// parts of a claimed job (the threads of a notice) were delivered, so a
// retried job skips them instead of posting twice. The marks go with the
// job: Done, or re-planning it to another time, forgets them.
type DeliveryLog interface {
	Delivered(ctx context.Context, j Job) ([]string, error)
	MarkDelivered(ctx context.Context, j Job, part string) error
}

// PlannedRevisions is an optional capability of a JobQueue: the revision
// of each upgrade its pending jobs were planned from (upgrades without
// jobs are left out). With it, a periodic Reconcile re-plans only the
// upgrades whose plan is behind.
type PlannedRevisions interface {
	PlannedRevs(ctx context.Context, ids []int) (map[int]int, error)
}
