package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/upgradebot/upgradebot/commands"
)

// The read side of the core: views of upgrades for show, list and pending,
// and for every adapter that shows upgrades outside chat (status API,
// calendar, status page). Reading never writes.

// Window is a stretch of time; a zero End means it has not ended yet, a
// zero Start that it has not started.
type Window struct {
	Start time.Time
	End   time.Time
}

// View is one upgrade as people and systems read it.
type View struct {
	Upgrade *Upgrade // state, region, impact, release, threads, failures, …
	Planned Window   // the window as planned
	Actual  Window   // when it really started and finished; zero until then
	Owners  []Principal
	// Audience is who must acknowledge: the owners of the service and of
	// every service that depends on it.
	Audience []Principal
	// Scope is what acknowledgments are asked for now: brief, or rollback
	// after a rollback.
	Scope string
	// Brief and Rollback are the acknowledgments of each scope.
	Brief, Rollback Acknowledgments
	// AckedAt is when the latest acknowledgment (of any scope, for anyone)
	// was made; zero without any. An acknowledgment does not change the
	// upgrade (its Rev and UpdatedAt), so UpdatedAt and AckedAt together
	// say when anything about it last changed.
	AckedAt time.Time
}

// ChangedAt is when anything about the upgrade last changed: the upgrade
// itself (UpdatedAt) or its acknowledgments (AckedAt), whichever is later.
func (v View) ChangedAt() time.Time {
	if v.AckedAt.After(v.Upgrade.UpdatedAt) {
		return v.AckedAt
	}
	return v.Upgrade.UpdatedAt
}

// Acknowledgments are the acknowledgments of one scope of an upgrade.
type Acknowledgments struct {
	AckStatus
	// Entries are the presses, once per person who pressed, in order,
	// with the groups each answered for.
	Entries []AckEntry
}

// Pending is who has not acknowledged the scope asked for now.
func (v View) Pending() []Principal { return v.Current().Pending }

// Current is the status of the scope asked for now.
func (v View) Current() Acknowledgments {
	if v.Scope == ScopeRollback {
		return v.Rollback
	}
	return v.Brief
}

// Reader reads upgrades for people and systems. With a store that tells
// versions (Versions), a view that has not changed since it was last read
// is served from memory after one cheap round trip: an upgrade with
// thousands of acknowledgments is decoded and counted once per change, not
// once per read. Views it returns are shared: read them, never change them.
type Reader struct {
	store    Store
	dir      *Directory
	versions Versions
	acks     *ackCache // shared with the bot's presses and root refreshes

	mu    sync.Mutex
	views map[int]cachedView
	// nonce tells this Reader's stamps from another's in the same process
	// (another bot, another directory).
	nonce string
}

type cachedView struct {
	rev, acks int
	view      View
	// shown is the show answer of view, built the first time it is asked
	// for (under Reader.mu); stamped with the version it was built from.
	shown *Message
}

// readers numbers the Readers of this process (Reader.nonce).
var readers atomic.Uint64

// viewCacheSize bounds the views kept; when full, all are forgotten.
const viewCacheSize = 256

// NewReader builds the read side over a store.
func NewReader(st Store, dir *Directory) *Reader {
	r := &Reader{store: st, dir: dir, views: map[int]cachedView{}, acks: newAckCache(st),
		nonce: strconv.FormatUint(readers.Add(1), 10)}
	r.versions, _ = st.(Versions)
	return r
}

// View reads one upgrade; a missing one is an ENOTFOUND error.
func (r *Reader) View(ctx context.Context, id int) (View, error) {
	v, _, err := r.versioned(ctx, id)
	return v, err
}

// versioned reads one upgrade like View and says whether the view is the
// cached one of that version (cached false: read without versions).
func (r *Reader) versioned(ctx context.Context, id int) (v View, c cachedView, err error) {
	if r.versions == nil {
		u, err := load(ctx, r.store, id)
		if err != nil {
			return View{}, cachedView{}, err
		}
		v, err := r.view(ctx, u)
		return v, cachedView{}, err
	}
	held := r.acks.held(id)
	rev, acks, err := r.versions.Version(ctx, id)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			_, err = load(ctx, r.store, id) // the same refusal as everywhere
		}
		return View{}, cachedView{}, err
	}
	r.mu.Lock()
	c, ok := r.views[id]
	r.mu.Unlock()
	if ok && c.rev == rev && c.acks == acks {
		return c.view, c, nil
	}
	u, err := load(ctx, r.store, id)
	if err != nil {
		return View{}, cachedView{}, err
	}
	all, err := r.acks.counted(ctx, id, acks, false, held)
	if err != nil {
		return View{}, cachedView{}, fmt.Errorf("load acks of %s: %w", u.Key(), err)
	}
	v = r.dir.View(u, all)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.views) >= viewCacheSize {
		clear(r.views)
	}
	// What was read may be newer than the version asked (a change between
	// the two reads): keyed by what was read, a later read catches up.
	c = cachedView{rev: u.Rev, acks: len(all), view: v}
	r.views[id] = c
	return v, c, nil
}

// shown is the answer to show: while the upgrade and its acknowledgments
// are unchanged, the same message, built once and stamped with their
// version so that adapters can keep its rendering too.
func (r *Reader) shown(ctx context.Context, id int) (Message, error) {
	v, c, err := r.versioned(ctx, id)
	if err != nil {
		return Message{}, err
	}
	if c.view.Upgrade == nil { // not cached: built for this read only
		return r.dir.showReply(v), nil
	}
	r.mu.Lock()
	if c, ok := r.views[id]; ok && c.shown != nil && c.view.Upgrade == v.Upgrade {
		r.mu.Unlock()
		return *c.shown, nil
	}
	r.mu.Unlock()
	m := r.dir.showReply(v)
	// Shared from now on: an append by a reader must copy, never write
	// into the cached message's arrays.
	m.Lines, m.Fields = m.Lines[:len(m.Lines):len(m.Lines)], m.Fields[:len(m.Fields):len(m.Fields)]
	m.Stamp = "show " + strconv.Itoa(id) + " " + strconv.Itoa(c.rev) + " " + strconv.Itoa(c.acks) + " " + r.nonce
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur, ok := r.views[id]; ok && cur.view.Upgrade == v.Upgrade {
		cur.shown = &m
		r.views[id] = cur
	}
	return m, nil
}

// Upgrades reads the upgrades that match f, ordered by start, without their
// acknowledgments: for listings that do not show them.
func (r *Reader) Upgrades(ctx context.Context, f Filter) ([]*Upgrade, error) {
	us, err := r.store.List(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list upgrades: %w", err)
	}
	return us, nil
}

// Views reads the upgrades that match f, ordered by start, with their
// acknowledgments.
func (r *Reader) Views(ctx context.Context, f Filter) ([]View, error) {
	us, err := r.store.List(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list upgrades: %w", err)
	}
	out := make([]View, 0, len(us))
	for _, u := range us {
		v, err := r.view(ctx, u)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (r *Reader) view(ctx context.Context, u *Upgrade) (View, error) {
	acks, err := r.store.Acks(ctx, u.ID)
	if err != nil {
		return View{}, fmt.Errorf("load acks of %s: %w", u.Key(), err)
	}
	return r.dir.View(u, acks), nil
}

// View composes the view of an upgrade from its stored acknowledgments.
func (d *Directory) View(u *Upgrade, acks []Ack) View {
	status := func(scope string) Acknowledgments {
		return Acknowledgments{AckStatus: d.Status(u, acks, scope), Entries: d.Acked(acks, scope)}
	}
	var acked time.Time
	for _, a := range acks {
		if a.At.After(acked) {
			acked = a.At
		}
	}
	return View{
		AckedAt:  acked,
		Upgrade:  u,
		Planned:  Window{Start: u.Start, End: u.End},
		Actual:   Window{Start: u.StartedAt, End: u.EndedAt()},
		Owners:   d.Principals(u.Owners),
		Audience: d.Principals(u.Audience),
		Scope:    u.CurrentScope(),
		Brief:    status(ScopeBrief),
		Rollback: status(ScopeRollback),
	}
}

// Log reads the decision log of an upgrade, oldest first.
func (r *Reader) Log(ctx context.Context, id int) (*Upgrade, []Decision, error) {
	u, err := load(ctx, r.store, id)
	if err != nil {
		return nil, nil, err
	}
	log, err := r.store.Log(ctx, id)
	if err != nil {
		return nil, nil, fmt.Errorf("load log of %s: %w", u.Key(), err)
	}
	return u, log, nil
}

// RecentWindow is how far back `list all` looks for finished upgrades.
const RecentWindow = 30 * 24 * time.Hour

func (b *Bot) list(ctx context.Context, c commands.List) (Message, error) {
	f := Filter{States: []State{Scheduled, InProgress}}
	if c.Service != "" {
		svc, err := b.service(c.Service)
		if err != nil {
			return Message{}, err
		}
		f.Service = svc.Name
	}
	if c.All {
		f.States = nil
		f.From = b.now().Add(-RecentWindow)
		f.AnyActive = true // overdue ones too, as plain list shows them
	}
	us, err := b.Upgrades(ctx, f)
	if err != nil {
		return Message{}, err
	}
	m := listReply(us, f.Service, c.All)
	m.Lines = append(m.Lines, b.seriesLines(ctx, f.Service)...)
	switch { // what asks for less, should the list be too long for one message
	case f.Service == "":
		m.Narrow = &Hint{Verb: "list", Args: []Arg{{Name: "service"}}}
	case c.All:
		m.Narrow = &Hint{Verb: "list", Args: []Arg{{Name: "service", Value: f.Service}}}
	}
	return m, nil
}

func (b *Bot) show(ctx context.Context, id int) (Message, error) {
	return b.shown(ctx, id)
}

func (b *Bot) pending(ctx context.Context, id int) (Message, error) {
	v, err := b.View(ctx, id)
	if err != nil {
		return Message{}, err
	}
	return pendingReply(v), nil
}

func (b *Bot) decisionLog(ctx context.Context, id int) (Message, error) {
	u, log, err := b.Log(ctx, id)
	if err != nil {
		return Message{}, err
	}
	m := reply()
	m.Title = "Decision log of " + u.Title()
	for _, d := range log {
		m.Lines = append(m.Lines, b.dir.logLine(u, d))
	}
	return m, nil
}

// listReply shows upgrades a line each.
func listReply(us []*Upgrade, service string, all bool) Message {
	of := ""
	if service != "" {
		of = " of " + service
	}
	if len(us) == 0 {
		if all {
			return reply(T("No upgrades" + of + " in the last 30 days or ahead."))
		}
		return reply(T("No upcoming or running upgrades" + of + ". Plan one with ").Command(hint("schedule",
			Arg{Name: "service"}, Arg{Name: "version"}, Arg{Name: "when", Keyword: "at", Placeholder: "<time>"})).Add("."))
	}
	m := reply()
	m.Title = "Upcoming and running upgrades" + of
	if all {
		m.Title = "Upgrades" + of + " in the last 30 days and ahead"
	}
	for _, u := range us {
		line := T("• ").Bold(u.Title()).Add(" · " + u.State.Words() + " · ").Time(u.Start).Add(" to ").Time(u.End)
		if !u.StartedAt.IsZero() {
			line = line.Add(" · started ").Time(u.StartedAt)
		}
		if !u.FinishedAt.IsZero() && u.State != Cancelled {
			line = line.Add(" · ended ").Time(u.EndedAt())
		}
		if u.State == RolledBack && !u.CompletedAt.IsZero() {
			line = line.Add(" · rolled back ").Time(u.FinishedAt)
		}
		if len(u.Readiness) > 0 && u.State.Active() {
			line = line.Add(" · " + readyCountText(u))
		}
		m.Lines = append(m.Lines, line)
	}
	return m
}

// showAcks is how many acknowledgments of a scope show lists one by one;
// beyond that a chat message is no place for them.
const showAcks = 50

// showFailures is how many failed deliveries show lists, the latest.
const showFailures = 20

// showReply is everything about one upgrade.
func (d *Directory) showReply(v View) Message {
	u := v.Upgrade
	m := reply()
	// A long plan or debrief is shortened in its field (a platform's field
	// holds about 1,000 characters) and shown whole among the lines below.
	m.Title, m.Fields, m.UpgradeID = u.Title(), append(d.fields(u), d.readinessFields(u)...), u.Key()
	m.UTC = inUTC(u.Start, u.End) // the window field shows each reader's own zone
	m.Elsewhere = d.showElsewhere(u)
	m.Lines = append(m.Lines, d.stateAckLine(u, v.Current().AckStatus))
	audience := make(map[string]bool, len(u.Audience))
	for _, k := range u.Audience {
		audience[k] = true
	}
	for _, scope := range []Acknowledgments{v.Brief, v.Rollback} {
		for i, e := range scope.Entries {
			if i == showAcks {
				m.Lines = append(m.Lines, T(fmt.Sprintf("• … and %d more %s acknowledgments", len(scope.Entries)-showAcks, scope.Scope)))
				break
			}
			line := T("• " + scope.Scope + ": ").Mention(e.Who)
			switch {
			case len(e.For) > 0:
				line = line.Add(" (for ").Mentions(e.For).Add(")")
			case !audience[e.Who.Key]:
				line = line.Add(" (not in the audience)")
			}
			m.Lines = append(m.Lines, line.Add(" at ").Time(e.At))
		}
	}
	if u.Reason != "" {
		m.Lines = append(m.Lines, T("Reason: "+u.Reason))
	}
	if u.Note != "" {
		m.Lines = append(m.Lines, T("Note: "+u.Note))
	}
	for _, r := range []struct {
		label string
		rec   *Record
	}{{"Rollback plan", u.Plan}, {"Debrief", u.Debrief}} {
		if r.rec != nil && len([]rune(r.rec.Text)) > recordTextShort {
			m.Lines = append(m.Lines, T(r.label+" in full: "+r.rec.Text))
		}
	}
	for _, t := range u.Threads {
		line := T("Thread in ").Channel(t.Channel)
		if t.URL != "" {
			line = line.Add(" · ").Link("open", t.URL)
		}
		m.Lines = append(m.Lines, line)
	}
	// The latest failed deliveries: a channel that keeps failing would
	// otherwise push everything after it out of a platform's message.
	fails := u.Failures[max(0, len(u.Failures)-showFailures):]
	for _, f := range fails {
		line := T("⚠ Failed delivery of " + NoticeWords(f.Notice) + " to ")
		if f.Notice == string(KindEscalation) {
			line = line.Mention(d.Principal(f.Target)) // a direct message: its target is a person
		} else {
			line = line.Channel(f.Target)
		}
		line = line.Add(" at ").Time(f.At).Add(": " + f.Error)
		if u.FailureResolved(f) {
			words := " (posted after all"
			if f.Notice == string(KindThread) {
				words = " (started after all"
			}
			if f.PostedAt.IsZero() { // known by its thread only (FailureResolved)
				line = line.Add(words + ")")
			} else {
				line = line.Add(words + " at ").Time(f.PostedAt).Add(")")
			}
		}
		m.Lines = append(m.Lines, line)
	}
	if n := len(u.Failures) - len(fails); n > 0 {
		m.Lines = append(m.Lines, T(fmt.Sprintf("⚠ … and %d more failed %s, earlier than these", n, plural(n, "delivery", "deliveries"))))
	}
	return m
}

// showElsewhere is where what a platform cuts off a long show can be read:
// the upgrade's page, when there is one anyone may open; else the decision
// log, which holds the parts a show is long with (the acknowledgments one
// by one, the rollback plan and the debrief in full). The failed deliveries
// are capped in show itself (showFailures).
func (d *Directory) showElsewhere(u *Upgrade) Text {
	if d.upgradePage != nil {
		return T("all of it on ").Link(u.Key()+"'s page", d.upgradePage(u.ID))
	}
	return T("its acknowledgments, rollback plan and debrief with ").Command(idHint("log", u))
}

// pendingReply says who has not acknowledged.
func pendingReply(v View) Message {
	u, st := v.Upgrade, v.Current()
	what := "the pre-brief"
	if st.Scope == ScopeRollback {
		what = "the rollback alert"
	}
	if u.State == Completed || u.State == Cancelled {
		return reply(T(fmt.Sprintf("%s is %s; no acknowledgment is needed any more (%d of %d acknowledged %s).",
			u.Key(), u.State.Words(), len(st.Acked), st.Total, what)))
	}
	if st.Total == 0 { // as the root ("no audience configured") and the reminders say
		return reply(T(fmt.Sprintf("No audience is configured for %s, so nobody is asked to acknowledge %s of %s.", u.Service, what, u.Key())))
	}
	if len(st.Pending) == 0 {
		return reply(T(fmt.Sprintf("Everyone has acknowledged %s of %s (%d/%d).", what, u.Key(), len(st.Acked), st.Total)))
	}
	return reply(T(fmt.Sprintf("%d of %d %s not acknowledged %s of %s: ", len(st.Pending), st.Total, plural(len(st.Pending), "has", "have"), what, u.Key())).Mentions(st.Pending))
}

// logLine is one decision as people read it: when, who (a mention, as show
// names people, so a platform shows its own name for someone not in
// [[people]] rather than an id), what, and the details of the action.
func (d *Directory) logLine(u *Upgrade, e Decision) Text {
	line := Text{}.Time(e.At).Add(" · ").Mention(d.PrincipalNamed(e.Actor, e.Name)).Add(" · " + strings.ReplaceAll(e.Action, "_", " "))
	var detail Text
	switch {
	case e.Action == ActionScheduled && !e.Start.IsZero():
		detail = T("window ").Time(e.Start).Add(" to ").Time(e.End)
	case e.Action == ActionRescheduled && !e.Start.IsZero():
		detail = T("from ").Time(e.PrevStart).Add(" to ").Time(e.Start).Add(", until ").Time(e.End)
	case e.Action == ActionExtended && e.By != 0:
		detail = T("by " + FormatDuration(e.By) + ", until ").Time(e.End)
	case e.Action == ActionAcknowledged && e.Scope != "":
		detail = T(e.Scope)
		if e.For != "" {
			detail = detail.Add(" for " + e.For)
		}
	case e.Action == ActionLinked && e.Repo != "":
		detail = T(e.Repo + " " + e.Tag)
	case e.Action == ActionStarted && len(e.Open) > 0:
		detail = T(fmt.Sprintf("anyway, with %d open: %s", len(e.Open), strings.Join(quoteAll(e.Open), ", ")))
	case e.Action == ActionReadinessMet || e.Action == ActionReadinessWaived || e.Action == ActionReadinessReopened:
		detail = T(quoted(e.Criterion))
	case e.Action == ActionPlanRecorded:
		detail = T(e.Detail)
		if e.Criterion != "" {
			detail = detail.Add(" · met " + strings.Join(quoteAll(PlanMet(u, e)), ", "))
		}
	case e.Detail != "":
		detail = T(e.Detail)
	}
	if detail != nil {
		line = line.Add(" · ").Then(detail)
	}
	for _, w := range e.Warnings {
		if w.Reason == e.Reason {
			w.Reason = "" // said once, as why
		}
		line = line.Add(" · ").Then(d.warningText("", w))
	}
	switch {
	case e.ReplacesBy != "" && !e.ReplacesAt.IsZero():
		what := "rollback plan"
		if e.Action == ActionDebriefRecorded {
			what = "debrief"
		}
		line = line.Add(" · why: replaces the " + what + " by ").Mention(d.Principal(e.ReplacesBy)).Add(" of ").Time(e.ReplacesAt)
	case e.Reason != "":
		line = line.Add(" · why: " + e.Reason)
	}
	return line
}
