package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/upgradebot/upgradebot/commands"
)

// Change freezes: stretches of time in which no upgrade of some services
// (or of every service) may be scheduled, rescheduled or extended into.
// They come from the configuration ([[freezes]]) and from admins
// (`freeze add`, kept by a FreezeStore). An admin may override one for one
// upgrade with `anyway <reason...>`; that is logged and shown.

// Freeze is one change freeze.
type Freeze struct {
	Name string    `json:"name"`
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Services it applies to, as configured; empty or "*": every service.
	Services []string `json:"services,omitempty"`
	// Regions restrict it to upgrades in one of them (case-insensitive);
	// empty: every region. An upgrade without a region is in every region.
	Regions []string `json:"regions,omitempty"`
	Reason  string   `json:"reason,omitempty"`
	// Configured: declared in the configuration, not by command.
	Configured bool `json:"-"`
	// Who declared it and when (commands only), and who removed it.
	CreatedBy     string    `json:"created_by,omitempty"`
	CreatedAt     time.Time `json:"created_at,omitzero"`
	RemovedBy     string    `json:"removed_by,omitempty"`
	RemovedAt     time.Time `json:"removed_at,omitzero"`
	RemovedReason string    `json:"removed_reason,omitempty"`
}

// Everywhere reports a freeze of every service.
func (f Freeze) Everywhere() bool {
	return len(f.Services) == 0 || slices.Contains(f.Services, "*")
}

// Applies reports whether the freeze holds for an upgrade of service in
// region ("" for none: every region).
func (f Freeze) Applies(service, region string) bool {
	if !f.Everywhere() && !slices.ContainsFunc(f.Services, func(s string) bool { return strings.EqualFold(s, service) }) {
		return false
	}
	if len(f.Regions) == 0 || region == "" {
		return true
	}
	return slices.ContainsFunc(f.Regions, func(r string) bool { return strings.EqualFold(r, region) })
}

// Overlaps reports whether [start, end) meets the freeze.
func (f Freeze) Overlaps(start, end time.Time) bool {
	return start.Before(f.To) && f.From.Before(end)
}

// Removed reports a freeze an admin removed.
func (f Freeze) Removed() bool { return !f.RemovedAt.IsZero() }

// Current reports a freeze that still holds or is ahead at now.
func (f Freeze) Current(now time.Time) bool { return !f.Removed() && f.To.After(now) }

// scope words what a freeze applies to: "every service", "payments,
// ledger", with " in eu-west" for regions.
func (f Freeze) scope() string {
	s := "every service"
	if !f.Everywhere() {
		s = strings.Join(f.Services, ", ")
	}
	if len(f.Regions) > 0 {
		s += " in " + strings.Join(f.Regions, ", ")
	}
	return s
}

// FreezesOver picks the freezes that hold for an upgrade of service in
// region over [start, end) and are not removed.
func FreezesOver(fs []Freeze, service, region string, start, end time.Time) []Freeze {
	var out []Freeze
	for _, f := range fs {
		if !f.Removed() && f.Applies(service, region) && f.Overlaps(start, end) {
			out = append(out, f)
		}
	}
	return out
}

// allFreezes lists the freezes of the configuration and the stored ones,
// removed ones included, by start.
func (b *Bot) allFreezes(ctx context.Context) ([]Freeze, error) {
	out := slices.Clone(b.cfg.Freezes)
	for i := range out {
		out[i].Configured = true
	}
	if b.freezes != nil {
		stored, err := b.freezes.Freezes(ctx)
		if err != nil {
			return nil, fmt.Errorf("load freezes: %w", err)
		}
		out = append(out, stored...)
	}
	slices.SortStableFunc(out, func(a, b Freeze) int { return cmp.Or(a.From.Compare(b.From), cmp.Compare(a.Name, b.Name)) })
	return out, nil
}

// Freezes lists the freezes that hold now or later, for the status
// surface; all adds those removed or ended in the last 30 days.
func (b *Bot) Freezes(ctx context.Context, all bool) ([]Freeze, error) {
	fs, err := b.allFreezes(ctx)
	if err != nil {
		return nil, err
	}
	now := b.now()
	return slices.DeleteFunc(fs, func(f Freeze) bool {
		if all {
			return f.To.Before(now.Add(-RecentWindow)) && (!f.Removed() || f.RemovedAt.Before(now.Add(-RecentWindow)))
		}
		return !f.Current(now)
	}), nil
}

// freezeCmd runs freeze add, list and remove.
func (b *Bot) freezeCmd(ctx context.Context, inv Invocation, c commands.Freeze) (Message, error) {
	if c.Action == "list" {
		fs, err := b.Freezes(ctx, c.All)
		if err != nil {
			return Message{}, err
		}
		return freezeList(b.dir, fs, c.All, b.now()), nil
	}
	if !b.dir.IsAdmin(inv.Actor) {
		return Message{}, refusal(EFORBIDDEN, b.withAdmins(T("Only an admin may "+c.Action+" freezes (admins: ")).Add("); anyone may list them."))
	}
	if b.freezes == nil {
		return Message{}, Errorf(EINVALID, "This bot keeps no freezes of its own (its store cannot); declare them in the configuration ([[freezes]]).")
	}
	if c.Action == "add" {
		return b.addFreeze(ctx, inv, c)
	}
	return b.removeFreeze(ctx, inv, c)
}

// withAdmins appends the admins, as mentions that name without calling.
func (b *Bot) withAdmins(t Text) Text {
	admins := b.dir.Principals(b.dir.admins)
	if len(admins) == 0 {
		return t.Add("none are configured")
	}
	return listed(t, admins)
}

func (b *Bot) addFreeze(ctx context.Context, inv Invocation, c commands.Freeze) (Message, error) {
	f := Freeze{Name: c.FreezeName, From: c.From.UTC(), To: c.To.UTC(), Regions: c.Regions, Reason: c.Reason,
		CreatedBy: b.dir.KeyOf(inv.Actor.ID), CreatedAt: b.now().UTC()}
	for _, s := range c.Services {
		if s == "*" {
			f.Services = []string{"*"}
			break
		}
		svc, err := b.service(s)
		if err != nil {
			return Message{}, err
		}
		if !slices.Contains(f.Services, svc.Name) {
			f.Services = append(f.Services, svc.Name)
		}
	}
	if len(f.Services) == 0 {
		f.Services = []string{"*"}
	}
	all, err := b.allFreezes(ctx)
	if err != nil {
		return Message{}, err
	}
	var prev *Freeze
	for _, o := range all {
		if !strings.EqualFold(o.Name, f.Name) {
			continue
		}
		switch {
		case o.Configured:
			return Message{}, Errorf(EINVALID, "A freeze named %s is declared in the configuration; pick another name.", o.Name)
		case o.Current(b.now()):
			return Message{}, refusal(EINVALID, T("Freeze "+o.Name+" exists already (").Time(o.From).Add(" to ").Time(o.To).
				Add("); pick another name, or remove it first: ").Command(hint("freeze", Arg{Name: "action", Value: "remove"}, Arg{Name: "name", Value: o.Name})).Add("."))
		}
		o := o
		prev = &o // a removed or ended freeze of that name is replaced
		f.Name = o.Name
	}
	if err := b.freezes.SaveFreeze(ctx, f.Name, &f, prev); err != nil {
		if errors.Is(err, ErrConflict) {
			return Message{}, refusal(ECONFLICT, T("Freeze "+f.Name+" was changed meanwhile; look at ").Command(hint("freeze", Arg{Name: "action", Value: "list"})).Add(" and try again."))
		}
		return Message{}, fmt.Errorf("save freeze %s: %w", f.Name, err)
	}
	b.log.InfoContext(ctx, "freeze declared", "freeze", f.Name, "by", f.CreatedBy, "from", f.From, "to", f.To, "services", f.scope(), "reason", f.Reason)
	b.pruneFreezes(ctx, all)
	caught, err := b.upgradesIn(ctx, f)
	if err != nil {
		return Message{}, err
	}
	by := b.dir.Principal(f.CreatedBy)
	for _, u := range caught {
		b.out.notify(ctx, u.ID, freezeNotice(u, f, by, true), inv.invoker())
	}
	return freezeAdded(f, c.Notes, caught), nil
}

// pruneFreezes forgets stored freezes that ended (or were removed) more
// than RecentWindow ago: list all no longer shows them.
func (b *Bot) pruneFreezes(ctx context.Context, all []Freeze) {
	old := b.now().Add(-RecentWindow)
	for _, f := range all {
		if f.Configured || !f.To.Before(old) && (!f.Removed() || !f.RemovedAt.Before(old)) {
			continue
		}
		f := f
		if err := b.freezes.SaveFreeze(ctx, f.Name, nil, &f); err != nil && !errors.Is(err, ErrConflict) {
			b.log.WarnContext(ctx, "forgetting an old freeze failed", "freeze", f.Name, "err", err)
		}
	}
}

// upgradesIn lists the active upgrades a freeze holds for.
func (b *Bot) upgradesIn(ctx context.Context, f Freeze) ([]*Upgrade, error) {
	us, err := b.store.List(ctx, Filter{States: []State{Scheduled, InProgress}, From: f.From, To: f.To})
	if err != nil {
		return nil, fmt.Errorf("list upgrades in freeze %s: %w", f.Name, err)
	}
	return slices.DeleteFunc(us, func(u *Upgrade) bool { return !f.Applies(u.Service, u.Region) || !f.Overlaps(u.Start, u.End) }), nil
}

func (b *Bot) removeFreeze(ctx context.Context, inv Invocation, c commands.Freeze) (Message, error) {
	all, err := b.allFreezes(ctx)
	if err != nil {
		return Message{}, err
	}
	var names []string
	for _, o := range all {
		if !strings.EqualFold(o.Name, c.FreezeName) {
			if !o.Removed() {
				names = append(names, o.Name)
			}
			continue
		}
		if o.Configured {
			return Message{}, Errorf(EINVALID, "Freeze %s is declared in the configuration ([[freezes]]); remove it there and restart the bot.", o.Name)
		}
		if o.Removed() {
			return Message{}, Errorf(EINVALID, "Freeze %s was removed already, by %s.", o.Name, b.dir.Principal(o.RemovedBy).Name)
		}
		prev := o
		o.RemovedBy, o.RemovedAt, o.RemovedReason = b.dir.KeyOf(inv.Actor.ID), b.now().UTC(), c.Reason
		if err := b.freezes.SaveFreeze(ctx, o.Name, &o, &prev); err != nil {
			if errors.Is(err, ErrConflict) {
				return Message{}, refusal(ECONFLICT, T("Freeze "+o.Name+" was changed meanwhile; look at ").Command(hint("freeze", Arg{Name: "action", Value: "list"})).Add(" and try again."))
			}
			return Message{}, fmt.Errorf("remove freeze %s: %w", o.Name, err)
		}
		b.log.InfoContext(ctx, "freeze removed", "freeze", o.Name, "by", o.RemovedBy, "reason", o.RemovedReason)
		var lifted []*Upgrade
		if o.To.After(b.now()) {
			if lifted, err = b.upgradesIn(ctx, o); err != nil {
				return Message{}, err
			}
		}
		by := b.dir.Principal(o.RemovedBy)
		for _, u := range lifted {
			b.out.notify(ctx, u.ID, freezeNotice(u, o, by, false), inv.invoker())
		}
		m := reply(T("❄ Removed freeze " + o.Name + "."))
		if len(lifted) > 0 {
			m.Lines = append(m.Lines, T(fmt.Sprintf("The threads of the %d upgrade(s) it held were told.", len(lifted))))
		}
		return m, nil
	}
	known := "there are none"
	if len(names) > 0 {
		known = "known: " + strings.Join(names, ", ")
	}
	return Message{}, refusal(ENOTFOUND, T("No freeze is named "+c.FreezeName+" ("+known+"); see ").Command(hint("freeze", Arg{Name: "action", Value: "list"})).Add("."))
}

// KindFreeze is the thread notice that a freeze was declared over, or
// lifted from, an upgrade's window.
const KindFreeze Kind = "freeze"

// freezeText words a freeze on one line: name, when, what, why.
func freezeText(f Freeze) Text {
	t := T("❄ ").Bold(f.Name).Add(" · ").Time(f.From).Add(" to ").Time(f.To).Add(" · " + f.scope())
	if f.Reason != "" {
		t = t.Add(" · " + f.Reason)
	}
	return t
}

// freezeNotice tells an upgrade's thread that a freeze now holds over its
// window (declared), or no longer does (lifted).
func freezeNotice(u *Upgrade, f Freeze, by Principal, declared bool) Message {
	m := thread(u, KindFreeze)
	if !declared {
		m.Lines = append(m.Lines, T("☀ Freeze ").Bold(f.Name).Add(" was removed by ").Mention(by).Add("; it no longer holds over ").Bold(u.Title()).Add("."))
		return m
	}
	m.AlsoInChannel = true
	m.Lines = append(m.Lines,
		T("❄ Freeze ").Bold(f.Name).Add(" was declared by ").Mention(by).Add(" over the window of ").Bold(u.Title()).Add(": ").Time(f.From).Add(" to ").Time(f.To).Add("."))
	if f.Reason != "" {
		m.Lines = append(m.Lines, T("Reason: "+f.Reason))
	}
	if u.State == InProgress {
		goesOn := T("It is in progress and goes on; extending it further into the freeze is refused unless an admin overrides it (").Command(args(anywayArg)).Add("). Finish it with ")
		if !u.End.Before(f.To) {
			// Its window runs past the freeze already: an extend adds time
			// after the freeze, which the freeze does not refuse.
			goesOn = T("It is in progress and goes on. Finish it with ")
		}
		m.Lines = append(m.Lines, goesOn.
			Command(idHint("complete", u)).Add(", or roll it back with ").
			Command(hint("rollback", Arg{Name: "id", Value: u.Key()}, Arg{Name: "reason", Placeholder: "<reason...>"})).Add("."))
		return m
	}
	m.Lines = append(m.Lines, T("It stays scheduled; move it out of the freeze with ").
		Command(hint("reschedule", Arg{Name: "id", Value: u.Key()}, Arg{Name: "when", Placeholder: "<time>"})).Add(", or cancel it."))
	return m
}

// freezeAdded answers freeze add: the freeze, and the upgrades it caught.
func freezeAdded(f Freeze, notes []string, caught []*Upgrade) Message {
	m := reply(T("❄ Declared freeze ").Bold(f.Name).Add(": ").Time(f.From).Add(" to ").Time(f.To).Add(", " + f.scope() + "."))
	m.UTC = inUTC(f.From, f.To)
	for _, n := range notes {
		m.Lines = append(m.Lines, T(n))
	}
	if f.Reason != "" {
		m.Lines = append(m.Lines, T("Reason: "+f.Reason))
	}
	m.Lines = append(m.Lines, T("Scheduling, rescheduling or extending into it is refused; an admin may override it with ").Command(args(anywayArg)).Add("."))
	if len(caught) == 0 {
		m.Lines = append(m.Lines, T("No scheduled upgrade falls in it."))
		return m
	}
	m.Lines = append(m.Lines, T(fmt.Sprintf("%d upgrade(s) already fall in it; their threads are being told:", len(caught))))
	for _, u := range caught {
		m.Lines = append(m.Lines, T("• ").Bold(u.Title()).Add(" · "+u.State.Words()+" · ").Time(u.Start).Add(" to ").Time(u.End))
	}
	return m
}

// freezeList answers freeze list.
func freezeList(d *Directory, fs []Freeze, all bool, now time.Time) Message {
	if len(fs) == 0 {
		if all {
			return reply(T("No freezes now, ahead, or in the last 30 days."))
		}
		return reply(T("No freeze holds now or later."))
	}
	m := reply()
	m.Title = "Change freezes"
	if all {
		m.Title += ", with those of the last 30 days"
	}
	for _, f := range fs {
		line := T("• ").Then(freezeText(f))
		switch {
		case f.Configured:
			line = line.Add(" · in the configuration")
		case f.CreatedBy != "":
			line = line.Add(" · declared by ").Mention(d.Principal(f.CreatedBy)).Add(" ").Time(f.CreatedAt)
		}
		switch {
		case f.Removed():
			line = line.Add(" · removed by ").Mention(d.Principal(f.RemovedBy)).Add(" ").Time(f.RemovedAt)
			if f.RemovedReason != "" {
				line = line.Add(": " + f.RemovedReason)
			}
		case !f.To.After(now):
			line = line.Add(" · ended")
		case !f.From.After(now):
			line = line.Add(" · holds now")
		}
		m.Lines = append(m.Lines, line)
	}
	return m
}
