package bot

import (
	"context"
	"fmt"
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
	Others  []Principal // acknowledged but not in the audience ("also seen by")
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
	done := make(map[string]bool, len(acks))
	// A member who acknowledged for an audience group is in the audience
	// through it: not "also seen by".
	through := map[string]bool{}
	for _, a := range acks {
		if a.Scope != scope {
			continue
		}
		done[a.Who] = true
		if p := d.presser(a); p != a.Who && audience[a.Who] {
			through[p] = true
		}
	}
	st.Acked = make([]Principal, 0, len(done))
	for _, k := range u.Audience {
		if done[k] {
			st.Acked = append(st.Acked, d.Principal(k))
		} else {
			st.Pending = append(st.Pending, d.Principal(k))
		}
	}
	seen := map[string]bool{}
	for _, a := range acks {
		if a.Scope == scope && !audience[a.Who] && !through[a.Who] && !seen[a.Who] {
			seen[a.Who] = true
			st.Others = append(st.Others, d.Principal(a.Who))
		}
	}
	return st
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
			out = append(out, AckEntry{Who: d.Principal(p), At: a.At})
		}
		if p != a.Who {
			out[i].For = append(out[i].For, d.Principal(a.Who))
		}
	}
	return out
}

// Press records an Acknowledge press (a button, or ack by command) and
// returns the private answer for the presser. An empty scope means the
// scope of the latest acknowledgeable notice.
func (b *Bot) Press(ctx context.Context, actor Actor, upgradeID, scope string) Message {
	id, err := commands.ParseID(upgradeID)
	if err != nil {
		return errorMessage(T(fmt.Sprintf("Unknown upgrade %q.", upgradeID)))
	}
	if scope == "" {
		u, err := load(ctx, b.store, id)
		if err != nil {
			return b.failed(ctx, "press", actor, err)
		}
		scope = u.CurrentScope()
	}
	if !ValidScope(scope) {
		return errorMessage(T(fmt.Sprintf("Unknown acknowledgment scope %q; use brief or rollback.", scope)))
	}
	m, err := b.ack(ctx, actor, id, scope)
	if err != nil {
		return b.failed(ctx, "press", actor, err)
	}
	return m
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

// ack records the actor's acknowledgment of scope: for herself, and for
// each audience group she answers for. Each first acknowledgment is one
// decision and one event; a repeat changes nothing and says when.
func (b *Bot) ack(ctx context.Context, actor Actor, id int, scope string) (Message, error) {
	u, err := load(ctx, b.store, id)
	if err != nil {
		return Message{}, err
	}
	if err := ackable(u, scope); err != nil {
		return Message{}, err
	}
	now := b.now().UTC()
	self := b.dir.KeyOf(actor.ID)
	var recorded bool // any key acknowledged for the first time
	var stands Ack
	for i, key := range b.dir.Satisfies(actor, u.Audience) {
		a := Ack{Scope: scope, Who: key, Via: actor.ID, At: now}
		d := Decision{At: now, Actor: key, Action: ActionAcknowledged, Scope: scope, Via: actor.ID}
		data := map[string]any{"scope": scope, "via": actor.ID}
		if key != self {
			a.By, d.Actor, d.For, data["for"] = self, self, key, key
		}
		a, isFirst, err := b.store.Ack(ctx, id, a, d)
		if err != nil {
			return Message{}, fmt.Errorf("record ack of %s: %w", u.Key(), err)
		}
		if i == 0 {
			stands = a
		}
		if isFirst {
			recorded = true
			b.ev.emit(ctx, u, EventAcknowledged, self, data)
		}
	}
	if !recorded {
		if stands.Who != self && b.dir.KeyOf(stands.Via) != self {
			// Her group was answered for by another member.
			return ackedForYou(u, scope, b.dir.Principal(stands.Who), b.dir.Principal(b.dir.KeyOf(stands.Via)), stands.At), nil
		}
		return ackedBefore(u, scope, stands.At), nil
	}
	b.out.refreshRoot(id)
	return ackThanks(u, scope), nil
}
