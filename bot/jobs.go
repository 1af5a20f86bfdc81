package bot

import "time"

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
