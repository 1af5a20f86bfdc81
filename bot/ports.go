package bot

import (
	"context"
	"time"
)

// This file holds every interface the core consumes; the implementations
// live outside (../store, ../adapters) or, for Planner, in the scheduler.

// Store keeps everything that matters. The Redis implementation lives in
// ../store; every method is safe for concurrent use by many replicas. The
// contract suite in bottest runs against every implementation.
type Store interface {
	// NextID allocates the next upgrade number.
	NextID(ctx context.Context) (int, error)
	// Create saves a new upgrade (Rev 1) and the first decision-log entry.
	// The same call made again (the same d.Event id) after its write landed
	// succeeds, changing nothing; after another's, ErrConflict.
	Create(ctx context.Context, u *Upgrade, d Decision) error
	// Get loads one upgrade; a missing one is an error wrapping ErrNotFound.
	Get(ctx context.Context, id int) (*Upgrade, error)
	// Update saves u if the stored revision is u.Rev-1, and appends d to the
	// decision log (when d.Action is set) in the same step; otherwise ErrConflict.
	// The same call made again (the same d.Event id) finds its own write and
	// succeeds, changing nothing; so the core settles a write whose outcome
	// is unknown by sending it again (settle).
	Update(ctx context.Context, u *Upgrade, d Decision) error
	// List returns the upgrades that match, ordered by start.
	List(ctx context.Context, f Filter) ([]*Upgrade, error)
	// Ack records one press in one step: unless w.Delivery was seen before
	// (a re-sent press changes nothing), and if the upgrade's state still
	// asks for w.Scope (scheduled or in progress for brief, rolled back
	// for rollback), each entry's acknowledgment is recorded when that
	// principal has none for the scope yet (first wins), together with its
	// decision and its event. A missing upgrade is ErrNotFound.
	Ack(ctx context.Context, id int, w AckWrite) (AckResult, error)
	// Acks lists all acknowledgments of an upgrade, oldest first.
	Acks(ctx context.Context, id int) ([]Ack, error)
	// Log returns the decision log, oldest first.
	Log(ctx context.Context, id int) ([]Decision, error)
	// Publish records an event of upgrade id that has no stored change of
	// its own (a reminder, an overrun): with the upgrade's events when the
	// store keeps them apart (EventOutbox), else on the shared, capped event
	// stream. An event whose ID was recorded before is recorded once. The
	// event of a change travels in its Decision.Event instead and is written
	// by Create and Update in the same step as the change.
	Publish(ctx context.Context, id int, e Event) error
}

// EventOutbox is an optional capability of a Store that writes an event
// with the change it describes, under the upgrade (Create, Update, Ack and
// Publish do): RelayEvents
// moves the upgrade's events not yet in the shared stream there, exactly
// once whoever calls it and however often (a replica that died after the
// change leaves them for the next call).
type EventOutbox interface {
	RelayEvents(ctx context.Context, id int) (int, error)
}

// Versions is an optional capability of a Store: an upgrade's revision and
// its count of acknowledgments in one cheap round trip. Every change of an
// upgrade bumps the revision and acknowledgments only ever add up, so the
// pair tells whether a view read earlier is still current. A missing
// upgrade is ErrNotFound.
type Versions interface {
	Version(ctx context.Context, id int) (rev, acks int, err error)
}

// Tidier is an optional capability of a Store with housekeeping to do
// for its lists to be complete: an upgrade whose writer died before the
// store had indexed the change, an upgrade whose retention ran out. The
// scheduler's reconciler has it done before it lists (one replica per
// period), so that List and every other read write nothing.
type Tidier interface {
	Tidy(ctx context.Context) error
}

// Messenger posts on chat platforms. Channel and user ids carry the
// platform prefix ("slack:C0123"); implementations retry what is worth
// retrying and return an error only when the message could not be delivered.
//
// A call whose ctx is a root message's refresh or background retry
// (IsRootRefresh) logs its own retries at DEBUG, not one WARN per attempt:
// the core logs such failures once per streak (a WARN when they start, an
// INFO when the edits pass again), so an outage of hours stays a few lines.
type Messenger interface {
	// Post puts a new message in a channel: the root of an upgrade thread
	// (KindRoot), or a message of its own (a release is out, an occurrence
	// is skipped) that starts no thread.
	Post(ctx context.Context, channel string, m Message) (MessageRef, error)
	// Reply answers in the thread of root; m.AlsoInChannel also shows it in the channel.
	Reply(ctx context.Context, root MessageRef, m Message) (MessageRef, error)
	// Edit replaces a message's content.
	Edit(ctx context.Context, ref MessageRef, m Message) error
	// Direct sends a direct message to one user.
	Direct(ctx context.Context, user string, m Message) (MessageRef, error)
}

// Invoker is who typed a command, where, and the platform's own handle for
// answering that invocation later. The core never looks inside Handle; it
// keeps it so that a failure found in the background reaches the invoker
// by the way they came.
type Invoker struct {
	User    string `json:"user"`    // platform id of the person
	Channel string `json:"channel"` // where the command was typed
	Handle  string `json:"handle,omitempty"`
}

// Answerer is an optional Messenger capability: a private answer to the
// invoker of a command, through the invocation's handle, else in the
// channel visible to them only. Without it, or when it fails, the core
// sends a direct message.
type Answerer interface {
	Answer(ctx context.Context, to Invoker, m Message) error
}

// Releases looks up a release of a repository ("owner/name") by its exact
// tag, or else by the first of others, tried in turn, that has a published
// release (the core passes every spelling of a version, v2.4.0, 2.4.0,
// V2.4.0, the one typed as tag). Optional: without it, link keeps the release as typed (no
// URL, no notes) and scheduling links nothing by itself. The core bounds
// each call with its own timeout. A problem other than "not found" ends
// the call. An error the user should hear about wraps a *ReleaseError
// (ErrReleaseNotFound when none of the tags has a release, ErrReleaseNoRepository,
// ErrReleaseDenied, ErrReleaseRateLimited with its ResetAt,
// ErrReleaseUnavailable, ErrReleaseIncomplete), so the core words it
// without knowing the host; any other error reads as unavailable.
type Releases interface {
	Release(ctx context.Context, repo, tag string, others ...string) (Release, error)
}

// EventSink receives every event after it is stored (webhooks, metrics).
// It must not block.
type EventSink interface {
	Event(e Event)
}

// Planner keeps the due jobs of an upgrade in step with its window (the
// Scheduler); the Bot calls it after every change.
type Planner interface {
	Plan(ctx context.Context, u *Upgrade) error
}

// Clock tells the time; tests and the console move it by hand.
type Clock func() time.Time

// Observer is told what the core did, for metrics. Every method is called
// on a hot path: it must be cheap and never block. The labels it is given
// are bounded (platform prefixes, subcommand verbs, kinds, scopes,
// outcomes), never ids or free text. NopObserver is the default.
type Observer interface {
	// Command: a command or button press was answered. platform is the
	// invoker's id prefix ("slack"); command the subcommand verb, "press"
	// for an Acknowledge button, "unknown" for text naming none; outcome
	// one of the Outcome constants; took is how long the answer took.
	Command(platform, command, outcome string, took time.Duration)
	// Notice: one notice reached, or failed to reach, one place (a thread,
	// a channel, a person); outcome is one of the Notice constants.
	Notice(kind Kind, outcome string)
	// Ack: one acknowledgment of scope was recorded, since after the notice
	// it answers (the pre-brief: the upgrade was scheduled; the rollback
	// alert: it was rolled back); since is negative when that is unknown.
	Ack(scope string, since time.Duration)
	// Job: the scheduler started a due job of kind, lag after it was due.
	Job(kind JobKind, lag time.Duration)
}

// JobQueue is the durable schedule of due jobs shared by every replica.
type JobQueue interface {
	// ReplaceJobs makes jobs the complete set of pending jobs of the upgrade,
	// atomically: jobs of the upgrade not listed are removed (also in flight).
	// Whether a listed job is added depends on whether it was done (Done:
	// sent, or skipped as no longer useful), not on whether its time has
	// passed: the queue remembers each job it finished with its due time, and
	// a job listed again at that due time stays done, so a sent job never
	// comes back. Any other listed job is pending afterwards, overdue or not:
	// a plan that lags its moment (applied late, or repaired by Reconcile)
	// still gets the job, and the scheduler decides when it runs whether it
	// is still useful (and says it is late). A job moved to another due time
	// is a new job. A pending job listed unchanged stays where it is (due, in
	// flight, waiting for a retry), so it falls due once. now is the caller's
	// clock; a queue that kept no records before may use it to leave alone
	// jobs due before it started keeping them. rev is the upgrade's revision
	// the jobs were planned from: a plan older than the last one applied is
	// ignored, so concurrent changes cannot leave the jobs of a superseded
	// window behind.
	ReplaceJobs(ctx context.Context, upgrade, rev int, jobs []Job, now time.Time) error
	// Claim takes up to max jobs due at or before now for this replica,
	// leased until now+lease; jobs whose lease expired are due again.
	// A job is held by at most one replica at a time.
	Claim(ctx context.Context, now time.Time, lease time.Duration, max int) ([]Job, error)
	// Done removes a claimed job for good and remembers it as done (see
	// ReplaceJobs), also when a re-plan removed it while it ran.
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

// SentLog is an optional capability of a JobQueue: when a job's notice
// actually went out. The scheduler records the last reminder with it, so
// that the brief escalation falls due escalate_after after the reminder
// was posted (late, after downtime) rather than after its planned moment,
// and not at all when it never was (skipped: the window opened first).
// The outbox records the rollback alert with it (Job{ID: RollbackAlertID,
// Due: the rollback}), which the rollback escalation follows likewise.
type SentLog interface {
	// MarkSent records at as when j (its upgrade, id and due time) was
	// sent, unless a time is recorded for it already: the first wins, so
	// a job run again after a crash keeps the time it first went out.
	MarkSent(ctx context.Context, j Job, at time.Time) error
	// SentAt reports when j (upgrade, id, due time) was recorded sent: a
	// zero at when it was not. known is false when the queue cannot tell:
	// j fell due before it started keeping these records (a job done by an
	// older version of the bot).
	SentAt(ctx context.Context, j Job) (at time.Time, known bool, err error)
}

// DueCounter is an optional capability of a JobQueue: how many jobs are
// due at or before now and not being run by any replica (pending, or
// leased by a claim that ran out), the backlog of every scheduler.
type DueCounter interface {
	DueJobs(ctx context.Context, now time.Time) (int, error)
}

// PlannedRevisions is an optional capability of a JobQueue: the revision
// of each upgrade its pending jobs were planned from (upgrades without
// jobs are left out). With it, a periodic Reconcile re-plans only the
// upgrades whose plan is behind.
type PlannedRevisions interface {
	PlannedRevs(ctx context.Context, ids []int) (map[int]int, error)
}

// NoticeLog is an optional capability of a Store: the shared record of
// command notices queued but not yet delivered (see durable.go). Every
// method is one cheap call; the core treats failures as best effort
// (logged, the notice is still delivered from memory).
type NoticeLog interface {
	// RecordNotice saves n, scored by n.At.
	RecordNotice(ctx context.Context, n PendingNotice) error
	// TouchNotice moves n's score to at, if n is still recorded: its task
	// started, so it is not stale before at+RecoverAfter.
	TouchNotice(ctx context.Context, n PendingNotice, at time.Time) error
	// MarkNotice remembers that part of n (one thread) was dealt with, so a
	// recovered n skips it (ClaimNotices returns the marks in n.Reached).
	MarkNotice(ctx context.Context, n PendingNotice, part string) error
	// ForgetNotice deletes n and its marks.
	ForgetNotice(ctx context.Context, n PendingNotice) error
	// ClaimNotices atomically takes up to max notices scored at or before
	// before, oldest first, and scores them now, so no other caller gets
	// them until they are stale again.
	ClaimNotices(ctx context.Context, before, now time.Time, max int) ([]PendingNotice, error)
}

// FreezeStore is an optional capability of a Store: the change freezes
// admins declare by command (those of the configuration are in
// Config.Freezes). Freezes are few; every method reads or writes them all
// in one step.
type FreezeStore interface {
	// Freezes lists the stored freezes, removed ones included, by name.
	Freezes(ctx context.Context) ([]Freeze, error)
	// SaveFreeze stores f under name if what is stored under name is
	// still prev (nil: nothing), and deletes name when f is nil;
	// otherwise it changes nothing and returns ErrConflict.
	SaveFreeze(ctx context.Context, name string, f, prev *Freeze) error
}

// SeriesStore is an optional capability of a Store: recurring upgrades
// and which upgrade each of their occurrences became.
type SeriesStore interface {
	// NextSeriesID allocates the next series number.
	NextSeriesID(ctx context.Context) (int, error)
	// SaveSeries stores s if the stored revision is s.Rev-1 (a new series
	// has Rev 1); otherwise ErrConflict.
	SaveSeries(ctx context.Context, s *Series) error
	// AddSeries stores s, a new series (Rev 1), unless an active series
	// of its service and version (matched without regard to case) and its
	// recurrence (Every) is stored, in one step: it then stores nothing
	// and returns that series' id; 0 when s was stored. A series of that
	// id stored already is ErrConflict.
	AddSeries(ctx context.Context, s *Series) (existing int, err error)
	// GetSeries loads one series; a missing one wraps ErrNotFound.
	GetSeries(ctx context.Context, id int) (*Series, error)
	// ListSeries lists every stored series, by id.
	ListSeries(ctx context.Context) ([]*Series, error)
	// ClaimOccurrence records upgrade (0: skipped) as the occurrence of
	// series on date (YYYY-MM-DD) unless one is recorded already, in one
	// step. It returns what is recorded and whether this call recorded it,
	// so that across replicas each date becomes one upgrade.
	ClaimOccurrence(ctx context.Context, series int, date string, upgrade int) (recorded int, first bool, err error)
	// Occurrences maps each date of the series recorded so far to its
	// upgrade (0: skipped).
	Occurrences(ctx context.Context, series int) (map[string]int, error)
	// ClaimVersion records series as the one whose occurrence on date
	// ships version of service (matched without regard to case) unless
	// another is recorded already, in one step, and returns the one
	// recorded: two series of one version, run by two replicas at once,
	// make one upgrade of it.
	ClaimVersion(ctx context.Context, service, version, date string, series int) (recorded int, err error)
	// ReleaseVersion undoes ClaimVersion of series, when series is the one
	// recorded: its occurrence on date was cancelled (its series ended),
	// so another series may ship version on date.
	ReleaseVersion(ctx context.Context, service, version, date string, series int) error
}
