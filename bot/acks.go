package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/upgradebot/upgradebot/commands"
)

// Acknowledgments: who has seen which notice. An acknowledgment is per
// principal and scope; the first one stands.

// AckStatus is who has acknowledged one scope of an upgrade.
type AckStatus struct {
	Scope   string
	Acked   []Principal // audience members who acknowledged
	Pending []Principal // audience members who have not
	Others  []Principal // acknowledged but not in the audience ("also seen by"), in the order they did
	Total   int         // size of the audience
}

// Status computes the acknowledgment status of scope from the stored acks,
// in time linear in the audience and the acks.
func (d *Directory) Status(u *Upgrade, acks []Ack, scope string) AckStatus {
	st := AckStatus{Scope: scope, Total: len(u.Audience)}
	audience := make(map[string]bool, len(u.Audience))
	for _, k := range u.Audience {
		audience[k] = true
	}
	done := make(map[string]string, len(acks)) // by key: the name her platform gave, if any
	// A member who acknowledged for an audience group is in the audience
	// through it: not "also seen by".
	through := map[string]bool{}
	for _, a := range acks {
		if a.Scope != scope {
			continue
		}
		if _, ok := done[a.Who]; !ok || a.By == "" {
			done[a.Who] = pressedName(a)
		}
		if p := d.presser(a); p != a.Who && audience[a.Who] {
			through[p] = true
		}
	}
	st.Acked = make([]Principal, 0, len(done))
	for _, k := range u.Audience {
		if name, ok := done[k]; ok {
			st.Acked = append(st.Acked, d.PrincipalNamed(k, name))
		} else {
			st.Pending = append(st.Pending, d.Principal(k))
		}
	}
	seen := map[string]bool{}
	for _, a := range acks {
		if a.Scope == scope && !audience[a.Who] && !through[a.Who] && !seen[a.Who] {
			seen[a.Who] = true
			st.Others = append(st.Others, d.PrincipalNamed(a.Who, pressedName(a)))
		}
	}
	return st
}

// pressedName is the name of a's presser as her platform gave it, when
// the acknowledgment is her own (not her group's).
func pressedName(a Ack) string {
	if a.By != "" {
		return ""
	}
	return a.Name
}

// presser is the principal who pressed for a: a.Who itself, or, for a group
// acknowledged by one of its members, that member.
func (d *Directory) presser(a Ack) string {
	if a.Via == "" {
		return a.Who
	}
	return d.KeyOf(a.Via)
}

// AckEntry is one press as people read it: who pressed, when they first
// did, and the groups the press answered for.
type AckEntry struct {
	Who Principal
	At  time.Time
	For []Principal
}

// Acked lists the acknowledgments of scope once per person who pressed,
// in the order they came: a member's press for her group is one entry.
func (d *Directory) Acked(acks []Ack, scope string) []AckEntry {
	var out []AckEntry
	index := make(map[string]int, len(acks))
	for _, a := range acks {
		if a.Scope != scope {
			continue
		}
		p := d.presser(a)
		i, ok := index[p]
		if !ok {
			i = len(out)
			index[p] = i
			out = append(out, AckEntry{Who: d.PrincipalNamed(p, a.Name), At: a.At})
		}
		if p != a.Who {
			out[i].For = append(out[i].For, d.Principal(a.Who))
		}
	}
	return out
}

// ButtonPress is one press of an Acknowledge button (or ack by command).
type ButtonPress struct {
	Actor  Actor
	Button AckButton // the upgrade and scope; an empty Scope means the latest notice's
	// Delivery is the platform's id of this press, so that a re-sent one
	// changes nothing; "" when there is none.
	Delivery string
}

// Press records an Acknowledge press and returns the private answer for the
// presser; a press the platform sent again gives a KindDuplicate message
// (answer nothing). A press on a button costs one store round trip: what it
// needs to know of the upgrade never changes (cached), and the store checks
// the state, records the acknowledgments, their decisions and events, and
// the delivery, in one step.
func (b *Bot) Press(ctx context.Context, p ButtonPress) Message {
	t0 := time.Now()
	m, err := b.press(ctx, p)
	b.observeCommand(p.Actor, CommandPress, m, err, t0)
	return m
}

// press is Press; err is why recording the acknowledgment failed.
func (b *Bot) press(ctx context.Context, p ButtonPress) (Message, error) {
	id, err := commands.ParseID(p.Button.UpgradeID)
	if err != nil {
		return errorMessage(T(fmt.Sprintf("Unknown upgrade %q.", p.Button.UpgradeID))), nil
	}
	if s := p.Button.Scope; s != "" && !ValidScope(s) {
		return errorMessage(T(fmt.Sprintf("Unknown acknowledgment scope %q; use brief or rollback.", s))), nil
	}
	parent, t0 := NewRequest(ctx), time.Now()
	ctx, cancel := context.WithTimeout(parent, b.commandTimeout)
	defer cancel()
	m, err := b.ack(ctx, p.Actor, id, p.Button.Scope, p.Delivery)
	if err != nil {
		err = b.outOfTime(parent, ctx, err)
		m = b.failed(ctx, "press", p.Actor, err)
	}
	if m.Kind != KindDuplicate && b.log.Enabled(ctx, slog.LevelInfo) { // its attributes cost allocations
		b.log.LogAttrs(ctx, slog.LevelInfo, "press", slog.String("command", CommandPress), slog.String("platform", platformOf(p.Actor.ID)), slog.String("actor", p.Actor.ID),
			slog.String("upgrade", commands.FormatID(id)), slog.String("scope", p.Button.Scope), slog.String("outcome", outcome(m, err)),
			slog.String("took", time.Since(t0).String()))
	}
	return m, err
}

// ackable refuses an acknowledgment that asks for nothing: of a finished
// upgrade, of the pre-brief after a rollback (the rollback alert is what
// needs it now), or of a rollback alert that was never raised.
func ackable(u *Upgrade, scope string) error {
	switch {
	case u.State == Completed || u.State == Cancelled:
		return Errorf(EINVALID, "There is nothing to acknowledge: %s is %s.", u.Key(), u.State.Words())
	case scope == ScopeBrief && u.State == RolledBack:
		return refusal(EINVALID, T("There is nothing to acknowledge here: "+u.Key()+" was rolled back, so its pre-brief needs no acknowledgment any more. Acknowledge the rollback alert instead: ").
			Command(idHint("ack", u)).Add("."))
	case scope == ScopeRollback && u.State != RolledBack:
		return Errorf(EINVALID, "There is nothing to acknowledge: %s has not been rolled back, so there is no rollback alert.", u.Key())
	}
	return nil
}

// ack records the actor's acknowledgment of scope (the latest notice's
// when empty): for herself, and for each audience group she answers for.
// Each first acknowledgment is one decision and one event; a repeat
// changes nothing and says when.
func (b *Bot) ack(ctx context.Context, actor Actor, id int, scope, delivery string) (Message, error) {
	var u *Upgrade
	var err error
	if scope == "" { // the state decides: read it
		if u, err = load(ctx, b.store, id); err != nil {
			return Message{}, err
		}
		scope = u.CurrentScope()
	} else if u, err = b.heads.get(ctx, b.store, id); err != nil {
		return Message{}, err
	}
	now := b.now().UTC()
	self := b.dir.KeyOf(actor.ID)
	name := "" // a person of [[people]] is named by the configuration
	if self == actor.ID {
		name = ChatName(actor.Name)
	}
	w := AckWrite{Scope: scope, Delivery: delivery}
	for _, key := range b.dir.Satisfies(actor, u.Audience) {
		e := AckEntryWrite{
			Ack:      Ack{Scope: scope, Who: key, Via: actor.ID, At: now, Name: name},
			Decision: Decision{At: now, Actor: key, Action: ActionAcknowledged, Scope: scope, Via: actor.ID, Name: name},
			Event: Event{ID: randomID(), Type: EventAcknowledged, UpgradeID: u.Key(), Service: u.Service, At: now, Actor: self,
				RequestID: RequestID(ctx), Data: map[string]any{"scope": scope, "via": actor.ID}},
		}
		if key != self {
			e.Ack.By, e.Decision.Actor, e.Decision.For, e.Event.Data["for"] = self, self, key, key
		}
		w.Entries = append(w.Entries, e)
	}
	res, err := b.recordAck(ctx, id, w)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return Message{}, refusal(ENOTFOUND, T("Unknown upgrade "+u.Key()+". Try ").Command(hint("list")).Add("."))
		}
		return Message{}, fmt.Errorf("record ack of %s: %w", u.Key(), err)
	}
	switch {
	case res.Duplicate:
		return Message{Kind: KindDuplicate, UpgradeID: u.Key()}, nil
	case res.Refused:
		cur := u.Clone()
		cur.State = res.State
		if err := ackable(cur, scope); err != nil {
			return Message{}, err
		}
		return Message{}, fmt.Errorf("ack of %s refused in state %s", u.Key(), res.State)
	}
	recorded := false
	for i, first := range res.First {
		if first {
			recorded = true
			b.ev.recorded(w.Entries[i].Event)
		}
	}
	if recorded {
		b.observeAcks(ctx, u, scope, res.First, now)
	}
	alone := actor.GroupsUnknown && !slices.Contains(u.Audience, self) // counted for her alone, maybe not for her group
	if !recorded {
		stands := res.Standing[0]
		if stands.Who != self && b.dir.KeyOf(stands.Via) != self {
			// Her group was answered for by another member.
			return ackedForYou(u, scope, b.dir.Principal(stands.Who), b.dir.PrincipalNamed(b.dir.KeyOf(stands.Via), stands.Name), stands.At), nil
		}
		m := ackedBefore(u, scope, stands.At)
		if alone {
			m.Lines = append(m.Lines, T(pressAgainNote))
		}
		return m, nil
	}
	b.out.refreshRoot(id)
	b.ev.relay(id)
	m := b.heads.thanks(u, scope)
	if alone {
		// She is not in the audience herself, and the platform could not
		// say whether she is in a group of it: this counts for her alone.
		m.Stamp = "" // no longer the shared answer
		m.Lines = append(slices.Clip(m.Lines), T(pressAgainNote))
	}
	return m, nil
}

// pressAgainNote follows a press that counted for the presser alone
// because the platform could not say which groups she is in.
const pressAgainNote = "The chat platform could not say just now which groups you are in, so this counts for you alone, not for a group; press again in a minute to acknowledge for your group."

// recordAck writes a press, telling the acknowledgment cache that it is
// being written (a root refresh meanwhile may count it before the cache
// has it) and then what it recorded, even if the write panics.
func (b *Bot) recordAck(ctx context.Context, id int, w AckWrite) (res AckResult, err error) {
	counted := b.acks.writing(id)
	defer func() {
		var one [1]Ack // the usual press records one: no allocation
		b.acks.done(id, counted, recordedAcks(one[:0], w, res, err)...)
	}()
	return b.store.Ack(ctx, id, w)
}

// recordedAcks appends to out the acknowledgments a press recorded now.
func recordedAcks(out []Ack, w AckWrite, res AckResult, err error) []Ack {
	if err != nil || res.Duplicate || res.Refused {
		return out
	}
	for i, first := range res.First {
		if first && i < len(w.Entries) {
			out = append(out, w.Entries[i].Ack)
		}
	}
	return out
}

// heads caches what never changes of an upgrade once it is scheduled (its
// id, service, version and audience), so that a press reads nothing before
// its one write, and the thanks of its presses (the same for everyone).
// Bounded: when full it forgets everything.
type heads struct {
	mu  sync.Mutex
	m   map[int]*head
	max int
}

type head struct {
	u      *Upgrade
	thanks map[string]*Message // by scope; shared, stamped
}

func (h *heads) get(ctx context.Context, st Store, id int) (*Upgrade, error) {
	h.mu.Lock()
	e, ok := h.m[id]
	h.mu.Unlock()
	if ok {
		return e.u, nil
	}
	u, err := load(ctx, st, id)
	if err != nil {
		return nil, err
	}
	return h.put(u), nil
}

// put caches the head of u and returns it. CreatedAt and FinishedAt tell
// when the notices that acknowledgments answer went out; FinishedAt is set
// once, when the upgrade ends.
func (h *heads) put(u *Upgrade) *Upgrade {
	cut := &Upgrade{ID: u.ID, Service: u.Service, Version: u.Version, Audience: u.Audience, State: u.State,
		CreatedAt: u.CreatedAt, FinishedAt: u.FinishedAt}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil || len(h.m) >= h.max {
		h.m = make(map[int]*head)
	}
	h.m[u.ID] = &head{u: cut}
	return cut
}

// thanks is ackThanks(u, scope), built once per cached head and scope and
// shared: an adapter keeps its rendering under the stamp.
func (h *heads) thanks(u *Upgrade, scope string) Message {
	h.mu.Lock()
	e := h.m[u.ID]
	if e == nil || e.u != u { // not the cached head: built for this press only
		h.mu.Unlock()
		return ackThanks(u, scope)
	}
	if m := e.thanks[scope]; m != nil {
		h.mu.Unlock()
		return *m
	}
	h.mu.Unlock()
	m := ackThanks(u, scope)
	// Shared from now on: an append by a reader must copy, never write
	// into the kept message's arrays.
	m.Lines = m.Lines[:len(m.Lines):len(m.Lines)]
	h.mu.Lock()
	defer h.mu.Unlock()
	if e.thanks == nil {
		e.thanks = make(map[string]*Message, 2)
	}
	e.thanks[scope] = &m
	return m
}

// observeAcks tells the observer of each acknowledgment recorded now (first)
// and how long after its notice. A rollback acknowledged through a head
// cached before the rollback reads the upgrade once for its time, and
// caches that.
func (b *Bot) observeAcks(ctx context.Context, u *Upgrade, scope string, first []bool, now time.Time) {
	at := noticeSince(u, scope)
	if at.IsZero() && scope == ScopeRollback {
		if full, err := load(ctx, b.store, u.ID); err == nil {
			at = noticeSince(b.heads.put(full), scope)
		}
	}
	since := time.Duration(-1) // unknown
	if !at.IsZero() {
		since = max(now.Sub(at), 0)
	}
	for _, f := range first {
		if f {
			b.obs.Ack(scope, since)
		}
	}
}
