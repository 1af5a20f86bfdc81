package bot

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/upgradebot/upgradebot/commands"
)

func (b *Bot) service(name string) (Service, error) {
	s, ok := b.dir.Service(name)
	if !ok {
		return Service{}, Errorf(ENOTFOUND, "Unknown service %q. Known services: %s.", name, strings.Join(b.dir.ServiceNames(), ", "))
	}
	return s, nil
}

// schedule plans a new upgrade: every check comes before the id is taken,
// so a refused command changes nothing.
func (b *Bot) schedule(ctx context.Context, inv Invocation, c commands.Schedule) (Message, error) {
	svc, err := b.service(c.Service)
	if err != nil {
		return Message{}, err
	}
	if err := b.authorize(inv, svc.Name, "schedule upgrades of", ""); err != nil {
		return Message{}, err
	}
	d := c.Duration
	if d == 0 {
		d = b.cfg.DefaultDuration
	}
	if err := b.checkWindow(c.Start, d); err != nil {
		return Message{}, err
	}
	start, end := c.Start.UTC(), c.Start.Add(d).UTC()
	conflicts, err := b.conflicts(ctx, 0, svc.Name, start, end)
	if err != nil {
		return Message{}, err
	}
	id, err := b.store.NextID(ctx)
	if err != nil {
		return Message{}, fmt.Errorf("allocate id: %w", err)
	}
	now := b.now().UTC()
	actor := b.dir.KeyOf(inv.Actor.ID)
	u := &Upgrade{
		ID: id, Service: svc.Name, Version: c.Version, Start: start, End: end,
		Region: c.Region, Impact: c.Impact, State: Scheduled,
		Owners: b.dir.OwnerKeys(svc.Name), CreatedBy: actor,
		Audience: b.dir.Audience(svc.Name), BlastRadius: b.dir.Dependents(svc.Name),
		Conflicts: conflicts, Origin: inv.Channel, Channels: svc.Channels,
		CreatedAt: now, UpdatedAt: now, Rev: 1,
	}
	if len(u.Channels) == 0 && inv.Channel != "" {
		u.Channels = []string{inv.Channel}
	}
	dec := Decision{At: now, Actor: actor, Action: ActionScheduled, Start: start, End: end}
	if err := b.store.Create(ctx, u, dec); err != nil {
		return Message{}, fmt.Errorf("save %s: %w", u.Key(), err)
	}
	b.ev.emit(ctx, u, EventScheduled, actor, map[string]any{"start": start, "end": end, "version": u.Version})
	b.plan(ctx, u)
	b.out.roots(ctx, u.ID, inv.invoker())

	r := scheduledReply(u)
	if !c.ZoneGiven {
		r.Lines = append(r.Lines, b.readIn(inv, c.StartText))
	}
	if len(u.BlastRadius) > 0 {
		r.Lines = append(r.Lines, T("Blast radius: "+strings.Join(u.BlastRadius, ", ")+"."))
	}
	for _, cf := range conflicts {
		r.Lines = append(r.Lines, conflictWarning(cf))
	}
	r.Lines = append(r.Lines, T("The pre-brief is being posted to ").Channels(u.Channels).Add("."))
	return r, nil
}

// readIn says which zone a time typed without one was read in, so a user
// whose platform zone is unknown or wrong notices before the reminders do.
func (b *Bot) readIn(inv Invocation, typed string) Text {
	if inv.Location != nil {
		return T(fmt.Sprintf("%q was read in %s, your time zone.", typed, inv.Location))
	}
	return T(fmt.Sprintf("%q was read in %s, the bot's default time zone; add a zone (UTC, Europe/Berlin, +02:00) to choose another.", typed, b.cfg.DefaultLocation))
}

// conflicts finds active upgrades overlapping [start, end) of the service or
// of any service in its dependency chain (either direction).
func (b *Bot) conflicts(ctx context.Context, self int, service string, start, end time.Time) ([]Conflict, error) {
	related := map[string]bool{strings.ToLower(service): true}
	for _, s := range append(b.dir.Dependents(service), b.dir.Dependencies(service)...) {
		related[strings.ToLower(s)] = true
	}
	active, err := b.store.List(ctx, Filter{States: []State{Scheduled, InProgress}, From: start, To: end})
	if err != nil {
		return nil, fmt.Errorf("list active upgrades: %w", err)
	}
	var out []Conflict
	for _, o := range active {
		if o.ID == self || !related[strings.ToLower(o.Service)] || !o.Start.Before(end) || !start.Before(o.End) {
			continue
		}
		out = append(out, Conflict{ID: o.ID, Service: o.Service, Version: o.Version, Start: o.Start, End: o.End})
	}
	slices.SortFunc(out, func(a, b Conflict) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// refreshConflicts recomputes the overlap warnings after the window moved.
func (b *Bot) refreshConflicts(ctx context.Context, u *Upgrade) *Upgrade {
	cs, err := b.conflicts(ctx, u.ID, u.Service, u.Start, u.End)
	if err != nil {
		b.log.WarnContext(ctx, "conflict check failed", "upgrade", u.Key(), "err", err)
		return u
	}
	nu, err := change(ctx, b.store, b.now, u.ID, func(x *Upgrade) (Decision, error) {
		x.Conflicts = cs
		return Decision{}, nil
	})
	if err != nil {
		b.log.WarnContext(ctx, "saving conflicts failed", "upgrade", u.Key(), "err", err)
		return u
	}
	return nu
}
