package bot

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"
)

// The state machine of ../shared/spec/commands.md, as one table: each row
// is a verb of the grammar, the states it may leave, where it goes, and
// what it leaves behind (decision, event, thread notice). change applies a
// row; the rows differ only in data and in a few checks of their own.
//
//	scheduled --start--> in_progress --complete--> completed
//	    |                     |                        |
//	    +--cancel--> cancelled +--rollback--> rolled_back <--rollback-- (completed, within 24h)
//
// reschedule only while scheduled; extend while scheduled or in progress.
type transition struct {
	verb   string  // the subcommand
	doing  string  // for refusals, when not the verb: "You are not allowed to roll back UPG-7"
	from   []State // the states it may leave
	to     State   // the state it enters; "" keeps the state
	action string  // the decision-log action; the event is "upgrade.<action>"
	notice Kind    // the thread notice
	// said names what a command's free text is in the event's data:
	// "reason" (rollback, cancel) or "note" (complete).
	said string
	// refuse words a refusal better than "it can no longer be …" for some
	// states, with the command that helps instead.
	refuse map[State]instead
	// check is a row's own rule beyond its states (rollback within 24h of
	// completion, a window that still makes sense); nil for none.
	check func(b *Bot, u *Upgrade, e edit) error
	// apply changes the window and fills the decision, beyond the state.
	apply func(u *Upgrade, e edit, d *Decision)
}

// instead is a refusal for one state: what is wrong, and the verb of the
// command that helps instead, if any.
type instead struct{ why, verb string }

func (r instead) text(u *Upgrade) Text {
	t := T(u.Key() + " " + r.why)
	if r.verb != "" {
		t = t.Add(" ").Command(idHint(r.verb, u)).Add(".")
	}
	return t
}

// edit is what one command brings besides its verb.
type edit struct {
	text  string        // reason or note
	start time.Time     // reschedule: the new start
	dur   time.Duration // reschedule: the new length (0: keep)
	by    time.Duration // extend
	// anyway is an admin's reason to override a freeze (reschedule,
	// extend); freezes are those the new window is judged against.
	anyway  string
	freezes []Freeze
	// notReady is the reason to start although readiness criteria are
	// open (start <id> anyway <reason...>).
	notReady string
}

// RollbackWindow is how long after completion a rollback is still accepted.
const RollbackWindow = 24 * time.Hour

var transitions = map[string]transition{
	"start": {verb: "start", from: []State{Scheduled}, to: InProgress, action: ActionStarted, notice: KindStarted,
		check: (*Bot).checkStart},
	"complete": {verb: "complete", from: []State{InProgress}, to: Completed, action: ActionCompleted, notice: KindCompleted, said: "note",
		refuse: map[State]instead{Scheduled: {"is scheduled; start it first with", "start"}}},
	"rollback": {verb: "rollback", doing: "roll back", from: []State{InProgress, Completed}, to: RolledBack, action: ActionRolledBack, notice: KindRollback, said: "reason",
		refuse: map[State]instead{Scheduled: {"is scheduled and has not started; cancel it instead with", "cancel"}},
		check:  rollbackInTime},
	"cancel": {verb: "cancel", from: []State{Scheduled}, to: Cancelled, action: ActionCancelled, notice: KindCancelled, said: "reason",
		refuse: map[State]instead{InProgress: {"is in progress; it can no longer be cancelled (complete it or roll it back).", ""}}},
	"reschedule": {verb: "reschedule", from: []State{Scheduled}, action: ActionRescheduled, notice: KindRescheduled,
		check: (*Bot).checkReschedule, apply: moveWindow},
	"extend": {verb: "extend", from: []State{Scheduled, InProgress}, action: ActionExtended, notice: KindExtended,
		check: (*Bot).checkExtend, apply: extendWindow},
}

// event is the row's event type: "upgrade." and its action.
func (t transition) event() string { return "upgrade." + t.action }

// done is the row's past tense for refusals: "rolled back".
func (t transition) done() string { return strings.ReplaceAll(t.action, "_", " ") }

// doingWord is the row's verb for refusals: "roll back".
func (t transition) doingWord() string { return cmp.Or(t.doing, t.verb) }

// checkStart: an upgrade may start at most early_start before its window.
func (b *Bot) checkStart(u *Upgrade, _ edit) error {
	now := b.now()
	if earliest := u.Start.Add(-b.cfg.EarlyStart); now.Before(earliest) {
		return refusal(EINVALID, T(u.Key()+"'s window opens ").Time(u.Start).Add(" ("+untilText(u.Start.Sub(now))+"); it may be started at most "+
			FormatDuration(b.cfg.EarlyStart)+" before (early_start). To start earlier, move the window: ").
			Command(hint("reschedule", Arg{Name: "id", Value: u.Key()}, Arg{Name: "when", Placeholder: "<time>"})).Add("."))
	}
	return nil
}

// rollbackInTime: a completed upgrade may be rolled back within a day.
func rollbackInTime(b *Bot, u *Upgrade, _ edit) error {
	if u.State == Completed && b.now().Sub(u.FinishedAt) > RollbackWindow {
		return Errorf(EINVALID, "%s was completed more than 24h ago; it can no longer be rolled back.", u.Key())
	}
	return nil
}

// checkReschedule: the new window changes something and makes sense.
func (b *Bot) checkReschedule(u *Upgrade, e edit) error {
	d := cmpOr(e.dur, u.Duration())
	if e.start.Equal(u.Start) && d == u.Duration() {
		return refusal(EINVALID, T(u.Key()+" is already scheduled from ").Time(u.Start).Add(" to ").Time(u.End).Add("; nothing changed."))
	}
	return b.checkWindow(e.start, d)
}

func moveWindow(u *Upgrade, e edit, d *Decision) {
	length := cmpOr(e.dur, u.Duration())
	d.PrevStart, d.PrevEnd = u.Start, u.End
	if !e.start.Equal(u.Start) {
		u.WindowSetAt = d.At
	}
	u.Start, u.End = e.start.UTC(), e.start.Add(length).UTC()
	d.Start, d.End = u.Start, u.End
}

// checkExtend: the longer window fits max_window and ends in the future.
func (b *Bot) checkExtend(u *Upgrade, e edit) error {
	if d := u.Duration() + e.by; d > b.cfg.MaxWindow {
		return Errorf(EINVALID, "Extending %s by %s makes the window %s, longer than the maximum of %s (max_window).", u.Key(), FormatDuration(e.by), FormatDuration(d), FormatDuration(b.cfg.MaxWindow))
	}
	if now, end := b.now(), u.End.Add(e.by); !end.After(now) {
		// The least whole minutes (what extend takes) that end it after now.
		least := now.Sub(u.End).Truncate(time.Minute) + time.Minute
		when := "in the past"
		if end.Equal(now) {
			when = "right now"
		}
		return refusal(EINVALID, T(u.Key()+" would still end "+when+", at ").Time(end).Add("; extend by at least "+FormatDuration(least)+"."))
	}
	return nil
}

func extendWindow(u *Upgrade, e edit, d *Decision) {
	u.End = u.End.Add(e.by)
	d.By, d.Start, d.End = e.by, u.Start, u.End
}

func cmpOr(d, otherwise time.Duration) time.Duration {
	if d == 0 {
		return otherwise
	}
	return d
}

// changed is the outcome of a transition: the upgrade as saved, the
// decision it logged, and, for a new window, what judge found of it.
type changed struct {
	u *Upgrade
	d Decision
	v verdict
}

// transit applies the row of verb to upgrade id for the invoker: it checks
// the invoker's rights, the state machine and the row's own rules against
// the latest stored state, saves the change with its decision, and then
// does what every change does (event, re-plan, root refresh, thread
// notice). A refusal changes nothing.
func (b *Bot) transit(ctx context.Context, inv Invocation, verb string, id int, e edit) (changed, error) {
	t := transitions[verb]
	actor := b.dir.KeyOf(inv.Actor.ID)
	var d Decision
	var v verdict
	var err error
	if e.freezes, err = b.freezesFor(ctx, verb); err != nil {
		return changed{}, err
	}
	u, err := change(ctx, b.store, b.now, id, func(u *Upgrade) (Decision, error) {
		if err := b.authorize(inv, u.Service, t.doingWord(), u.Key()); err != nil {
			return Decision{}, err
		}
		if !slices.Contains(t.from, u.State) {
			if r, ok := t.refuse[u.State]; ok {
				return Decision{}, refusal(EINVALID, r.text(u))
			}
			return Decision{}, Errorf(EINVALID, "%s is %s; it can no longer be %s.", u.Key(), u.State.Words(), t.done())
		}
		if t.check != nil {
			if err := t.check(b, u, e); err != nil {
				return Decision{}, err
			}
		}
		now := b.now().UTC()
		d = Decision{At: now, Actor: actor, Action: t.action, Reason: e.text}
		switch t.to {
		case "":
		case InProgress:
			if err := startReadiness(u, e, &d); err != nil {
				return Decision{}, err
			}
			u.State, u.StartedAt = t.to, now
		default:
			u.State, u.FinishedAt = t.to, now
			if t.to == Completed {
				u.CompletedAt = now
			}
		}
		switch t.said {
		case "note":
			u.Note = e.text
		case "reason":
			u.Reason = e.text
		}
		if t.apply != nil {
			t.apply(u, e, &d)
			if err := b.sameVersionAgain(ctx, u, e); err != nil {
				return Decision{}, err
			}
			if v, err = b.rejudge(inv, u, e, &d); err != nil {
				return Decision{}, err
			}
		}
		d.Event = b.ev.event(ctx, u, t.event(), actor, eventData(t, d))
		return d, nil
	})
	if err != nil {
		return changed{}, err
	}
	ctx, cancel := afterSave(ctx)
	defer cancel()
	if !d.Start.IsZero() || !u.State.Active() { // the window moved, or is over: the warnings follow
		u = b.syncConflicts(ctx, u)
	}
	b.ev.written(u, d.Event)
	b.plan(ctx, u)
	b.out.refreshRoot(u.ID)
	b.out.notify(ctx, u.ID, b.dir.Notice(t.notice, u, d), inv.invoker())
	if u.State == Completed || u.State == RolledBack {
		b.out.notify(ctx, u.ID, b.dir.DebriefPrompt(u), inv.invoker())
	}
	return changed{u: u, d: d, v: v}, nil
}

// eventData is what an event of a transition carries besides its type.
func eventData(t transition, d Decision) map[string]any {
	data := map[string]any{}
	if t.said != "" {
		data[t.said] = d.Reason
	}
	if !d.Start.IsZero() {
		data["start"], data["end"] = d.Start, d.End
	}
	if !d.PrevStart.IsZero() {
		data["previous_start"] = d.PrevStart
	}
	if d.By != 0 {
		data["by"] = d.By.String()
	}
	if len(d.Open) > 0 {
		data["open"], data["reason"] = d.Open, d.Reason
	}
	addWarnings(data, d)
	if len(data) == 0 {
		return nil
	}
	return data
}

// authorize checks that the invoker may change upgrades of service: its
// owners and the admins may; anyone may when it has no owners.
func (b *Bot) authorize(inv Invocation, service, doing string, id string) error {
	if b.dir.CanChange(inv.Actor, service) {
		return nil
	}
	s, _ := b.dir.Service(service)
	target := service
	if id != "" {
		target = id + " (" + service + ")"
	}
	t := T("You are not allowed to " + doing + " " + target + ": only the owners of " + s.Name + " (")
	t = listed(t, b.dir.Principals(b.dir.OwnerKeys(s.Name))).Add(") or an admin may.")
	if inv.Actor.GroupsUnknown {
		t = t.Add(" " + groupsUnknownNote)
	}
	return refusal(EFORBIDDEN, t)
}

// groupsUnknownNote tells someone refused, or thanked for herself alone,
// that the platform could not say which groups she is in.
const groupsUnknownNote = "The chat platform could not say just now which groups you are in: if you are in one of those named, try again in a minute."

// listed appends people as mentions separated by commas ("@bob, @carol").
// Platforms render them so they name without calling.
func listed(t Text, ps []Principal) Text {
	for i, p := range ps {
		if i > 0 {
			t = t.Add(", ")
		}
		t = t.Mention(p)
	}
	return t
}

// checkWindow refuses a window that is empty, too long or in the past.
func (b *Bot) checkWindow(start time.Time, d time.Duration) error {
	if d <= 0 {
		return Errorf(EINVALID, "The window must end after it starts.")
	}
	if d > b.cfg.MaxWindow {
		return Errorf(EINVALID, "A window of %s is longer than the maximum of %s (max_window).", FormatDuration(d), FormatDuration(b.cfg.MaxWindow))
	}
	if !start.After(b.now()) {
		return refusal(EINVALID, T("The start ").Time(start).Add(" is in the past."))
	}
	if lead := b.cfg.MaxLead; start.After(b.now().Add(lead)) {
		return refusal(EINVALID, T("The start ").Time(start).Add(" is more than "+FormatDuration(lead)+
			" ahead (max_lead); check the date, or ask an operator to raise max_lead."))
	}
	return nil
}
