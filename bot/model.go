package bot

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/upgradebot/upgradebot/commands"
)

// State is where an upgrade is in its life; the values are part of the contract.
type State string

// The states of an upgrade (../shared/spec/commands.md).
const (
	Scheduled  State = "scheduled"
	InProgress State = "in_progress"
	Completed  State = "completed"
	RolledBack State = "rolled_back"
	Cancelled  State = "cancelled"
)

// Words is the state as people read it: "in progress", "rolled back".
func (s State) Words() string { return strings.ReplaceAll(string(s), "_", " ") }

// Active reports whether the window still matters (not finished).
func (s State) Active() bool { return s == Scheduled || s == InProgress }

// Ack scopes: which notice an acknowledgment answers.
const (
	ScopeBrief    = "brief"
	ScopeRollback = "rollback"
)

// ValidScope reports whether s is a known acknowledgment scope.
func ValidScope(s string) bool { return s == ScopeBrief || s == ScopeRollback }

// MessageRef points at one posted message. Channel carries the platform
// prefix ("slack:C0123"), ID is the platform's id of the message.
type MessageRef struct {
	Channel string `json:"channel"`
	ID      string `json:"id"`
	// Thread is the platform's thread id when it differs from ID (Discord
	// starts a thread channel on the root message).
	Thread string `json:"thread,omitempty"`
	// URL is a permalink when the platform gives one.
	URL string `json:"url,omitempty"`
}

// Conflict names another active upgrade whose window overlaps, of the same
// service or one in its dependency chain.
type Conflict struct {
	ID      int       `json:"id"`
	Service string    `json:"service"`
	Version string    `json:"version"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	// State is the other upgrade's state when the conflict was found (for
	// the words "already in progress as UPG-1"); not stored.
	State State `json:"-"`
}

// asWord says how the other upgrade holds its window: "scheduled", or
// "in progress" once started.
func (c Conflict) asWord() string {
	if c.State == InProgress {
		return InProgress.Words()
	}
	return Scheduled.Words()
}

// Release is the release an upgrade ships, as the release lookup
// (Releases) or a release event found it. The core keeps no URL layout of
// its own: a release linked without a lookup (none configured, or it
// failed) has only Repo and Tag, no URL, and shows as "owner/repo tag".
type Release struct {
	Repo string `json:"repo"` // "owner/name", as linked
	Tag  string `json:"tag"`
	Name string `json:"name,omitempty"`
	URL  string `json:"url"` // the release's page; "" when not looked up
	// Notes are the first lines of the release notes in the core's neutral
	// markup, which the wording turns into rich text (so each platform
	// renders them in its own syntax): one item a line; a line "# text" is
	// a heading, "- text" a list item (two more spaces of indentation per
	// nesting level); within a line, **bold**, `code` and
	// [label](https://url); everything else is plain text.
	Notes      string    `json:"notes,omitempty"`
	At         time.Time `json:"published_at,omitzero"` // when it was published
	Author     string    `json:"author,omitempty"`      // who published it, as the host names them
	Prerelease bool      `json:"prerelease,omitempty"`
	// Unconfirmed: the host was asked and did not confirm it (not found,
	// not visible, not reachable); it is linked as typed. Only for the
	// notice of that link, not kept.
	Unconfirmed bool `json:"-"`
}

// Failure records a notice that could not be delivered after retries.
type Failure struct {
	At     time.Time `json:"at"`
	Notice string    `json:"notice"`
	Target string    `json:"target"`
	Error  string    `json:"error"`
	// Advice is what to do about it, when the platform's error says
	// (AdvisedError); told to the invoker, not kept.
	Advice string `json:"-"`
	// PostedAt is when a root that had failed was posted after all (by a
	// later notice or a retry), or a scheduler's notice that had failed in
	// a way that may pass (its job's retry); zero while it has not been. Such a failure
	// is still listed, but no longer counted on the root.
	PostedAt time.Time `json:"posted_at,omitzero"`
}

// Upgrade is one planned upgrade window of one service.
type Upgrade struct {
	ID          int          `json:"id"`
	Service     string       `json:"service"`
	Version     string       `json:"version"`
	Start       time.Time    `json:"start"`
	End         time.Time    `json:"end"`
	Region      string       `json:"region,omitempty"`
	Impact      string       `json:"impact,omitempty"`
	State       State        `json:"state"`
	Owners      []string     `json:"owners,omitempty"`       // service owners (principal keys) at scheduling
	CreatedBy   string       `json:"created_by"`             // principal key of who scheduled it
	Audience    []string     `json:"audience,omitempty"`     // principal keys who must acknowledge
	BlastRadius []string     `json:"blast_radius,omitempty"` // services that depend on this one
	Conflicts   []Conflict   `json:"conflicts,omitempty"`    // overlapping upgrades when last planned
	Origin      string       `json:"origin,omitempty"`       // channel the command was typed in
	Channels    []string     `json:"channels,omitempty"`     // where threads were requested
	Threads     []MessageRef `json:"threads,omitempty"`      // root messages actually posted
	Release     *Release     `json:"release,omitempty"`
	Failures    []Failure    `json:"failures,omitempty"`
	Reason      string       `json:"reason,omitempty"` // rollback or cancel reason
	Note        string       `json:"note,omitempty"`   // completion note
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
	StartedAt   time.Time    `json:"started_at,omitzero"`
	FinishedAt  time.Time    `json:"finished_at,omitzero"` // completed, rolled back or cancelled
	// WindowSetAt is when its window's start was last moved by reschedule;
	// zero until then (the window was set when it was created). The brief
	// escalation follows the pre-brief or the rescheduled notice when the
	// last reminder's moment had passed by then (PlanJobs).
	WindowSetAt time.Time `json:"window_set_at,omitzero"`
	// CompletedAt is when it was completed, kept when a completed upgrade
	// is rolled back later (FinishedAt is then the rollback).
	CompletedAt time.Time `json:"completed_at,omitzero"`
	// Warnings are what its current window was warned about or overridden
	// for when it was last set (outside the standard windows, a freeze
	// overridden, a DST note); see windows.go.
	Warnings []Warning `json:"warnings,omitempty"`
	// Series names the recurring upgrade this is an occurrence of; nil
	// for a one-off upgrade.
	Series *SeriesRef `json:"series,omitempty"`
	// Readiness is the go/no-go checklist, copied from the service's
	// configuration when scheduled (readiness_model.go).
	Readiness []Criterion `json:"readiness,omitempty"`
	// Plan is the rollback plan on record; nil until one is recorded.
	Plan *Record `json:"rollback_plan,omitempty"`
	// StartedAnyway is set when it was started with criteria still open.
	StartedAnyway *Anyway `json:"started_anyway,omitempty"`
	// Debrief is what happened and what to change, recorded after the end.
	Debrief *Record `json:"debrief,omitempty"`
	// Rev counts saved changes; stores use it for compare-and-set.
	Rev int `json:"rev"`
	// CalendarRev counts the saved versions that a calendar shows
	// differently (CalendarView): 1 when created, one more for each such
	// change; 0 in a record written before it was kept. See Sequence.
	CalendarRev int `json:"calendar_rev,omitempty"`
}

// Sequence is the calendar event's SEQUENCE (RFC 5545 3.8.7.4): 0 for a
// new upgrade, one more for each change a calendar shows (its window,
// state, title, region or description), none for the bookkeeping (a
// failed delivery recorded, conflicts, warnings). A record from before
// CalendarRev was kept goes on from its Rev, the number calendars were
// given then, so the sequence never goes back.
func (u *Upgrade) Sequence() int {
	if u.CalendarRev == 0 {
		return u.Rev
	}
	return u.CalendarRev - 1
}

// CalendarView is what a calendar shows of the upgrade
// (adapters/web/calendar.go): its window, state, title, region, impact,
// blast radius, release, readiness (which criteria are open), a start
// taken anyway, the rollback plan and the debrief, encoded so that two
// versions can be compared. Not its id or creation, which never change,
// nor UpdatedAt; nor the threads' links that the description lists: they
// are recorded as the pre-brief is posted, just after the upgrade was
// created, which is no new version of the event.
func (u *Upgrade) CalendarView() []byte {
	type criterion struct {
		Text string
		Open bool
	}
	v := struct {
		Start, End               time.Time
		State                    State
		Service, Version, Region string
		Impact                   string
		BlastRadius              []string
		Repo, Tag, ReleaseURL    string
		Readiness                []criterion
		Anyway                   *Anyway
		Plan, Debrief            string
	}{Start: u.Start.UTC(), End: u.End.UTC(), State: u.State, Service: u.Service, Version: u.Version,
		Region: u.Region, Impact: u.Impact, BlastRadius: u.BlastRadius, Anyway: u.StartedAnyway}
	if r := u.Release; r != nil {
		v.Repo, v.Tag, v.ReleaseURL = r.Repo, r.Tag, r.URL
	}
	for _, c := range u.Readiness {
		v.Readiness = append(v.Readiness, criterion{Text: c.Text, Open: c.State == CriterionOpen || c.State == ""})
	}
	if u.Plan != nil {
		v.Plan = u.Plan.Text
	}
	if u.Debrief != nil {
		v.Debrief = u.Debrief.Text
	}
	b, _ := json.Marshal(v) // plain strings, times and slices: cannot fail
	return b
}

// EndedAt is when the upgrade's work ended: its completion (also when it
// was rolled back later), else when it was rolled back or cancelled; zero
// while it has not ended.
func (u *Upgrade) EndedAt() time.Time {
	if !u.CompletedAt.IsZero() {
		return u.CompletedAt
	}
	return u.FinishedAt
}

// FailureResolved reports whether f, one of u's failures, was made good:
// a root posted after all (PostedAt, or a thread in its channel: a replica
// of an older version may have rewritten the upgrade without PostedAt), a
// thread started after all on its root (PostedAt, or the thread known), or
// a scheduler's notice its job's retry posted after all (PostedAt). Such a
// failure is still listed (show, the status API and page mark it) but no
// longer counted on the root.
func (u *Upgrade) FailureResolved(f Failure) bool {
	switch f.Notice {
	case string(KindRoot):
		return !f.PostedAt.IsZero() || slices.ContainsFunc(u.Threads, func(t MessageRef) bool { return t.Channel == f.Target })
	case string(KindThread):
		return !f.PostedAt.IsZero() || slices.ContainsFunc(u.Threads, func(t MessageRef) bool { return t.Channel == f.Target && t.Thread != "" })
	}
	return !f.PostedAt.IsZero() // a scheduler's notice sent again (toThreads)
}

// Key is the user-facing id, e.g. UPG-7.
func (u *Upgrade) Key() string { return commands.FormatID(u.ID) }

// Title is the heading used everywhere: "UPG-7 payments v2.4.0".
func (u *Upgrade) Title() string { return u.Key() + " " + u.Service + " " + u.Version }

// Duration is the window's length.
func (u *Upgrade) Duration() time.Duration { return u.End.Sub(u.Start) }

// CurrentScope is the scope that the latest acknowledgeable notice asks for.
func (u *Upgrade) CurrentScope() string {
	if u.State == RolledBack {
		return ScopeRollback
	}
	return ScopeBrief
}

// Clone returns a deep copy, so callers can mutate without aliasing.
func (u *Upgrade) Clone() *Upgrade {
	c := *u
	c.Owners = append([]string(nil), u.Owners...)
	c.Audience = append([]string(nil), u.Audience...)
	c.BlastRadius = append([]string(nil), u.BlastRadius...)
	c.Conflicts = append([]Conflict(nil), u.Conflicts...)
	c.Channels = append([]string(nil), u.Channels...)
	c.Threads = append([]MessageRef(nil), u.Threads...)
	c.Failures = append([]Failure(nil), u.Failures...)
	c.Warnings = append([]Warning(nil), u.Warnings...)
	if u.Series != nil {
		sr := *u.Series
		c.Series = &sr
	}
	if u.Release != nil {
		r := *u.Release
		c.Release = &r
	}
	c.Readiness = append([]Criterion(nil), u.Readiness...)
	if u.Plan != nil {
		p := *u.Plan
		c.Plan = &p
	}
	if u.Debrief != nil {
		d := *u.Debrief
		c.Debrief = &d
	}
	if u.StartedAnyway != nil {
		a := *u.StartedAnyway
		a.Open = append([]string(nil), a.Open...)
		c.StartedAnyway = &a
	}
	return &c
}

// Ack is one person's acknowledgment of one scope. Who is the principal key
// (a [[people]] name, or the platform id of someone not listed).
type Ack struct {
	Scope string    `json:"scope"`
	Who   string    `json:"who"`
	Via   string    `json:"via"`          // the platform identity that pressed
	By    string    `json:"by,omitempty"` // who pressed, when not Who: a member answering for her group
	At    time.Time `json:"at"`
	// Name is the presser's name as her chat platform gave it with the
	// press, kept only when she is not in [[people]] (Via is then her
	// key), so that another platform names her rather than her id
	// (ChatName bounds it).
	Name string `json:"name,omitempty"`
}

// AckWrite is one press as the store records it: the acknowledgments it
// makes (the presser's own, and her groups'), each with its decision and
// its event, written together or not at all.
type AckWrite struct {
	Scope    string
	Delivery string // the platform's id of the press; "" for none
	Entries  []AckEntryWrite
}

// AckEntryWrite is one acknowledgment of a press, with what goes with it.
type AckEntryWrite struct {
	Ack      Ack
	Decision Decision
	Event    Event
}

// AckResult is what a press changed.
type AckResult struct {
	// Duplicate: the delivery was recorded before; nothing changed.
	Duplicate bool
	// Refused is set, with the upgrade's State, when the state no longer
	// asks for the scope; nothing changed.
	Refused bool
	State   State
	// Standing is, per entry, the acknowledgment that stands; First says
	// whether it was recorded now.
	Standing []Ack
	First    []bool
}

// AcceptsScope reports whether an upgrade in state s asks for
// acknowledgments of scope: the pre-brief while scheduled or in progress,
// the rollback alert once rolled back.
func (s State) AcceptsScope(scope string) bool {
	if scope == ScopeRollback {
		return s == RolledBack
	}
	return s == Scheduled || s == InProgress
}

// Decision is one entry of an upgrade's decision log. The core composes it
// with structured fields; views turn it into words.
type Decision struct {
	// Event is the event of the change, written by the store in the same
	// step as the change (Create, Update), so that no stored change is ever
	// without its event. It is not part of the decision log.
	Event *Event `json:"-"`
	// More are further events of the same change (a rollback plan that
	// meets a criterion: its upgrade.readiness event), written with it.
	More []*Event `json:"-"`

	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`  // principal key, or "upgradebot" for the scheduler
	Action string    `json:"action"` // one of the Action constants
	Reason string    `json:"reason,omitempty"`
	// The window after the change (scheduled, rescheduled, extended).
	Start time.Time `json:"start,omitzero"`
	End   time.Time `json:"end,omitzero"`
	// The window before the change (rescheduled).
	PrevStart time.Time `json:"prev_start,omitzero"`
	PrevEnd   time.Time `json:"prev_end,omitzero"`
	// By is how much later the window ends (extended).
	By time.Duration `json:"by,omitempty"`
	// Scope, Via and For describe an acknowledgment: which notice, from
	// which platform identity, and the group it answered for (when the
	// actor pressed for her group rather than herself).
	Scope string `json:"scope,omitempty"`
	Via   string `json:"via,omitempty"`
	For   string `json:"for,omitempty"`
	// Name is the actor's name as her chat platform gave it, for an
	// acknowledgment by someone not in [[people]] (Ack.Name).
	Name string `json:"name,omitempty"`
	// Criterion is the readiness criterion a readiness entry is about.
	Criterion string `json:"criterion,omitempty"`
	// Open are the readiness criteria still open when it was started
	// anyway (Reason then says why).
	Open []string `json:"open,omitempty"`
	// Repo and Tag name a linked release.
	Repo string `json:"repo,omitempty"`
	Tag  string `json:"tag,omitempty"`
	// Detail is free text; entries written before the structured fields
	// existed keep theirs.
	Detail string `json:"detail,omitempty"`
	// ReplacesBy and ReplacesAt name the rollback plan or debrief a
	// recorded one replaced: who recorded that one, and when. Reason says
	// the same in words, in UTC (for the status page and the feed, and for
	// entries written before these fields); the decision log in chat
	// renders these instead, the person as a mention and the time in each
	// reader's zone.
	ReplacesBy string    `json:"replaces_by,omitempty"`
	ReplacesAt time.Time `json:"replaces_at,omitzero"`
	// Warnings are what the change was warned about, or what it overrode
	// (Reason then says why): scheduled outside the standard windows, a
	// freeze overridden by an admin.
	Warnings []Warning `json:"warnings,omitempty"`
}

// The actions of the decision log.
const (
	ActionScheduled    = "scheduled"
	ActionStarted      = "started"
	ActionCompleted    = "completed"
	ActionRolledBack   = "rolled_back"
	ActionCancelled    = "cancelled"
	ActionRescheduled  = "rescheduled"
	ActionExtended     = "extended"
	ActionAcknowledged = "acknowledged"
	ActionLinked       = "release_linked"
)

// Event types (../shared/spec/http.md).
const (
	EventScheduled    = "upgrade.scheduled"
	EventRescheduled  = "upgrade.rescheduled"
	EventStarted      = "upgrade.started"
	EventCompleted    = "upgrade.completed"
	EventRolledBack   = "upgrade.rolled_back"
	EventCancelled    = "upgrade.cancelled"
	EventExtended     = "upgrade.extended"
	EventAcknowledged = "upgrade.acknowledged"
	EventLinked       = "upgrade.release_linked"
	EventReminder     = "upgrade.reminder"
	EventOverrun      = "upgrade.overrun"
	EventReadiness    = "upgrade.readiness"
	// EventWindowOpen and EventEscalated are the events of the window-open
	// notice and of an escalation's direct message: beyond spec/http.md's
	// list, which its rule "every notice is an event" calls for.
	EventWindowOpen = "upgrade.window_open"
	EventEscalated  = "upgrade.escalated"
)

// EventTypes lists every event type, in the order of the contract.
var EventTypes = []string{
	EventScheduled, EventRescheduled, EventStarted, EventCompleted, EventRolledBack, EventCancelled,
	EventExtended, EventAcknowledged, EventLinked, EventReminder, EventOverrun, EventReadiness,
	EventPlanRecorded, EventDebriefRecorded, EventWindowOpen, EventEscalated,
}

// Event is what other systems see of a change (the events stream, webhooks).
type Event struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	UpgradeID string    `json:"upgrade_id"`
	Service   string    `json:"service"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	// Data is never left out: {} when the event has nothing more to say
	// (spec/http.md lists data among every event's fields).
	Data map[string]any `json:"data"`
	// RequestID is the id of the command or press that caused the event,
	// as in the logs of its reply and posts; empty for the scheduler's.
	RequestID string `json:"request_id,omitempty"`
}

// StreamEvent is an event as the shared stream holds it: Pos is its
// position there (a Redis stream id, "1700000000000-0"), increasing in the
// order events were recorded; readers resume after a position.
type StreamEvent struct {
	Pos   string
	Event Event
	// JSON is the event as stored, what webhooks POST and subscribers get.
	JSON []byte
}

// PosAfter reports whether stream position a comes after b ("" comes
// before every position).
func PosAfter(a, b string) bool {
	am, as := splitPos(a)
	bm, bs := splitPos(b)
	if am != bm {
		return am > bm
	}
	return as > bs
}

func splitPos(p string) (ms, seq uint64) {
	m, s, _ := strings.Cut(p, "-")
	ms, _ = strconv.ParseUint(m, 10, 64)
	seq, _ = strconv.ParseUint(s, 10, 64)
	return ms, seq
}

// HookStatus is what the store keeps of the delivery of events to one
// outbound webhook endpoint.
type HookStatus struct {
	LastSuccess    time.Time
	LastError      string
	LastErrorAt    time.Time
	Delivered      int64 // events delivered
	Failed         int64 // events given up on after the retries
	FailedAttempts int64 // attempts that failed, retried or not
	Recent         []HookFailure
}

// HookFailure is an event a webhook endpoint never accepted.
type HookFailure struct {
	At        time.Time // when it was given up
	Pos       string
	EventID   string
	Type      string
	UpgradeID string
	Error     string // the last attempt's error
}

// StreamLoss is events a reader of the shared stream never got: the stream
// is capped, and they were trimmed off it before the reader took them (or
// while it held them unfinished and then stopped).
type StreamLoss struct {
	Count int64 // how many; at least this many when !Exact
	Exact bool
	// The lost events lie after position After and before position Before;
	// either is "" when unknown.
	After, Before string
	At            time.Time // when the loss was found (in a record)
}

// Filter selects upgrades for List. Zero fields select everything.
type Filter struct {
	Service string
	Region  string // case-insensitive
	States  []State
	From    time.Time // windows ending at or after From
	To      time.Time // windows starting before To
	// AnyActive lets scheduled and in-progress upgrades match whatever
	// their window, so that From and To bound only the finished ones:
	// `list all` shows an overdue upgrade as plain `list` does.
	AnyActive bool
}

// Match reports whether u passes the filter; stores may use it after a coarse query.
func (f Filter) Match(u *Upgrade) bool {
	if f.Service != "" && u.Service != f.Service {
		return false
	}
	if f.Region != "" && !strings.EqualFold(u.Region, f.Region) {
		return false
	}
	if len(f.States) > 0 {
		ok := false
		for _, s := range f.States {
			ok = ok || s == u.State
		}
		if !ok {
			return false
		}
	}
	if f.AnyActive && u.State.Active() {
		return true
	}
	if !f.From.IsZero() && u.End.Before(f.From) {
		return false
	}
	if !f.To.IsZero() && !u.Start.Before(f.To) {
		return false
	}
	return true
}
