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
