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

func (b *Bot) service(name string) (Service, error) {
	s, ok := b.dir.Service(name)
	if !ok {
		return Service{}, Errorf(ENOTFOUND, "Unknown service %q. Known services: %s.", name, strings.Join(b.dir.ServiceNames(), ", "))
	}
	return s, nil
}

// schedule plans a new upgrade: every check comes before the id is taken,
// so a refused command changes nothing. next takes the service's next free
// standard window as the start; every makes a series (series.go).
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
	if c.Every != nil {
		return b.scheduleSeries(ctx, inv, svc, c, d)
	}
	var next picked
	if c.Next {
		if next, err = b.pickNext(ctx, svc, c.Region, d); err != nil {
			return Message{}, err
		}
		c.Start = next.slot.Start
	}
	if err := b.checkWindow(c.Start, d); err != nil {
		return Message{}, err
	}
	start, end := c.Start.UTC(), c.Start.Add(d).UTC()
	conflicts, err := b.conflicts(ctx, 0, svc.Name, start, end)
	if err != nil {
		return Message{}, err
	}
	if cf, dup := versionScheduled(conflicts, svc.Name, c.Version); dup {
		return Message{}, refusal(EINVALID, alreadyScheduled(svc.Name, c.Version, cf).Add("; ").Then(moveThatOne(cf)).Add("."))
	}
	fs, err := b.allFreezes(ctx)
	if err != nil {
		return Message{}, err
	}
	v, err := b.judge(inv, svc, c.Region, start, end, time.Time{}, c.Anyway, fs, nil)
	if err != nil {
		return Message{}, withImpactHint(err, c.AnywayInImpact)
	}
	v.anywayInImpact = c.AnywayInImpact
	u := b.draft(svc, inv, c.Version, start, end, c.Region, c.Impact, conflicts)
	u.Warnings = v.warnings
	reason := ""
	if v.overrode {
		reason = c.Anyway
	}
	autoLink, err := b.open(ctx, u, u.CreatedBy, reason, inv.invoker())
	if err != nil {
		return Message{}, err
	}

	r := scheduledReply(u)
	if c.Next {
		r.Lines = append(r.Lines, next.lines(b, svc.Name)...)
	} else {
		r.Lines = append(r.Lines, b.readAs(inv, typed{c.StartText, c.Zone, c.ZoneGiven, c.TimeNote}, u)...)
	}
	r.Lines = append(r.Lines, v.lines(b.dir, svc.Name)...)
	r.Lines = append(r.Lines, b.scheduledLines(u, svc, autoLink)...)
	return r, nil
}

// scheduledLines are the lines every answer to a new upgrade ends with:
// its blast radius, its overlaps, where the pre-brief goes, the release.
func (b *Bot) scheduledLines(u *Upgrade, svc Service, autoLink bool) []Text {
	var out []Text
	if len(u.BlastRadius) > 0 {
		out = append(out, T("Blast radius: "+strings.Join(u.BlastRadius, ", ")+"."))
	}
	for _, cf := range u.Conflicts {
		out = append(out, conflictWarning(cf))
	}
	out = append(out, T("The pre-brief is being posted to ").Channels(u.Channels).Add("."))
	if autoLink {
		out = append(out, autoLinkNote(svc.Repo, u.Version))
	}
	return out
}

// draft builds a new scheduled upgrade of svc for the invoker, not saved
// and without an id yet.
func (b *Bot) draft(svc Service, inv Invocation, version string, start, end time.Time, region, impact string, conflicts []Conflict) *Upgrade {
	now := b.now().UTC()
	u := &Upgrade{
		Service: svc.Name, Version: version, Start: start, End: end,
		Region: region, Impact: impact, State: Scheduled,
		Owners: b.dir.OwnerKeys(svc.Name), CreatedBy: b.dir.KeyOf(inv.Actor.ID),
		Audience: b.dir.Audience(svc.Name), BlastRadius: b.dir.Dependents(svc.Name),
		Conflicts: conflicts, Origin: inv.Channel, Channels: svc.Channels,
		CreatedAt: now, UpdatedAt: now, Rev: 1, CalendarRev: 1,
	}
	if len(u.Channels) == 0 && inv.Channel != "" {
		u.Channels = []string{inv.Channel}
	}
	u.Readiness = checklist(svc.Readiness)
	return u
}

// open saves a new upgrade (taking the next id unless it has one) with its
// decision, by actor (reason: why a freeze was overridden, if one was), and
// does what every new upgrade does: its event, its jobs, its root messages,
// its release link, and the overlap warnings of the others. It reports
// whether the release is being looked up.
func (b *Bot) open(ctx context.Context, u *Upgrade, actor, reason string, inv *Invoker) (bool, error) {
	if u.ID == 0 {
		id, err := b.store.NextID(ctx)
		if err != nil {
			return false, fmt.Errorf("allocate id: %w", err)
		}
		u.ID = id
	}
	data := map[string]any{"start": u.Start, "end": u.End, "version": u.Version}
	if u.Series != nil {
		data["series"] = u.Series.ID
	}
	dec := Decision{At: u.CreatedAt, Actor: actor, Action: ActionScheduled, Start: u.Start, End: u.End, Reason: reason, Warnings: u.Warnings}
	addWarnings(data, dec)
	dec.Event = b.ev.event(ctx, u, EventScheduled, actor, data)
	err := b.store.Create(ctx, u, dec)
	if errors.Is(err, ErrOutcomeUnknown) {
		resend := func(ctx context.Context) error { return b.store.Create(ctx, u, dec) }
		err = settle(ctx, b.store, u, dec, err, resend) // nil: it was saved
	}
	if err != nil {
		return false, fmt.Errorf("save %s: %w", u.Key(), err)
	}
	ctx, cancel := afterSave(ctx)
	defer cancel()
	b.ev.written(u, dec.Event)
	b.plan(ctx, u)
	b.out.roots(ctx, u.ID, inv)
	svc, _ := b.dir.Service(u.Service)
	autoLink := svc.Repo != "" && b.releases != nil
	if autoLink {
		// The release of the version, if it is out already, is linked in the
		// background after the roots; one published later comes by the
		// release event (ReleasePublished).
		b.out.enqueue(ctx, PendingNotice{Kind: PendingLink, Upgrade: u.ID, Repo: svc.Repo, Tag: u.Version, Actor: Upgradebot}, b.linkTask)
	}
	b.warnOthers(ctx, u, nil, u.Conflicts)
	return autoLink, nil
}

// typed is a start time as the user typed it (commands.Schedule, Reschedule).
type typed struct {
	text      string
	zone      *time.Location // the zone typed; nil for none or a relative time
	zoneGiven bool
	note      string // how a DST change made the time read
}

// readAs says how a typed start was read, so nobody has to guess: how a DST
// change made it read, which zone a time without one was read in, and the
// window in the zone typed when that is not the reader's own.
func (b *Bot) readAs(inv Invocation, t typed, u *Upgrade) []Text {
	var out []Text
	if t.note != "" {
		out = append(out, T(t.note))
	}
	loc, own := b.location(inv)
	if !t.zoneGiven {
		if own {
			out = append(out, T(fmt.Sprintf("%q was read in %s, your time zone.", t.text, loc)))
		} else {
			out = append(out, T(fmt.Sprintf("%q was read in %s, the bot's default time zone; add a zone (UTC, Europe/Berlin, +02:00) to choose another.", t.text, loc)))
		}
	}
	if z := t.zone; z != nil && z.String() != "UTC" && z.String() != loc.String() {
		out = append(out, T("In "+z.String()+": "+u.Start.In(z).Format("2006-01-02 15:04 MST")+" to "+u.End.In(z).Format("2006-01-02 15:04 MST")+"."))
	}
	return out
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
		out = append(out, conflictOf(o))
	}
	slices.SortFunc(out, func(a, b Conflict) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// versionScheduled finds, among conflicts, an upgrade of the same service and
// version: scheduling that again would double its threads and reminders.
func versionScheduled(conflicts []Conflict, service, version string) (Conflict, bool) {
	for _, cf := range conflicts {
		if strings.EqualFold(cf.Service, service) && strings.EqualFold(cf.Version, version) {
			return cf, true
		}
	}
	return Conflict{}, false
}

// alreadyScheduled words the upgrade of the same version a window would
// overlap: "payments v1 is already scheduled as UPG-1, from ... to ...".
func alreadyScheduled(service, version string, cf Conflict) Text {
	return T(service + " " + version + " is already " + cf.asWord() + " as " + commands.FormatID(cf.ID) + ", from ").Time(cf.Start).Add(" to ").Time(cf.End)
}

// moveThatOne offers moving or lengthening the upgrade of the same version
// instead of making a second one over it.
func moveThatOne(cf Conflict) Text {
	id := commands.FormatID(cf.ID)
	return T("move or lengthen that one instead (").
		Command(hint("reschedule", Arg{Name: "id", Value: id}, Arg{Name: "when", Placeholder: "<time>"})).Add(", ").
		Command(hint("extend", Arg{Name: "id", Value: id}, Arg{Name: "duration"})).Add(")")
}

// sameVersionAgain refuses a reschedule or extend, already applied to u,
// that makes u overlap another active upgrade of its service and version,
// as schedule refuses a second one: the two would double its threads and
// reminders. An extend counts only what it adds (an overlap the window
// had before is left as it was). anyway does not lift it.
func (b *Bot) sameVersionAgain(ctx context.Context, u *Upgrade, e edit) error {
	conflicts, err := b.conflicts(ctx, u.ID, u.Service, u.Start, u.End)
	if err != nil {
		return err
	}
	if e.by != 0 {
		added := u.End.Add(-e.by)
		conflicts = slices.DeleteFunc(conflicts, func(c Conflict) bool { return c.Start.Before(added) })
	}
	cf, dup := versionScheduled(conflicts, u.Service, u.Version)
	if !dup {
		return nil
	}
	t := alreadyScheduled(u.Service, u.Version, cf)
	if e.by != 0 {
		return refusal(EINVALID, t.Add("; extended by "+FormatDuration(e.by)+", "+u.Key()+" would overlap it. Extend it by less, or move that one later (").
			Command(hint("reschedule", Arg{Name: "id", Value: commands.FormatID(cf.ID)}, Arg{Name: "when", Placeholder: "<time>"})).Add(")."))
	}
	return refusal(EINVALID, t.Add("; moved to ").Time(u.Start).Add(" to ").Time(u.End).Add(", "+u.Key()+" would overlap it. Pick a time clear of it, or ").
		Then(moveThatOne(cf)).Add("."))
}

func conflictOf(u *Upgrade) Conflict {
	return Conflict{ID: u.ID, Service: u.Service, Version: u.Version, Start: u.Start, End: u.End, State: u.State}
}

func sameConflicts(a, b []Conflict) bool {
	return slices.EqualFunc(a, b, func(x, y Conflict) bool {
		return x.ID == y.ID && x.Service == y.Service && x.Version == y.Version && x.Start.Equal(y.Start) && x.End.Equal(y.End)
	})
}

// syncConflicts keeps the overlap warnings in step after u changed: while u
// is active its own list is recomputed (its window may have moved), and the
// other side follows (warnOthers). A finished u keeps its list as history.
func (b *Bot) syncConflicts(ctx context.Context, u *Upgrade) *Upgrade {
	before := u.Conflicts
	var now []Conflict
	if u.State.Active() {
		cs, err := b.conflicts(ctx, u.ID, u.Service, u.Start, u.End)
		if err != nil {
			b.log.WarnContext(ctx, "conflict check failed", "upgrade", u.Key(), "err", err)
			return u
		}
		now = cs
		if !sameConflicts(now, u.Conflicts) {
			nu, err := change(ctx, b.store, b.now, u.ID, func(x *Upgrade) (Decision, error) {
				x.Conflicts = now
				return Decision{}, nil
			})
			if err != nil {
				b.log.WarnContext(ctx, "saving conflicts failed", "upgrade", u.Key(), "err", err)
			} else {
				u = nu
			}
		}
	}
	b.warnOthers(ctx, u, before, now)
	return u
}

// errUnchanged stops a change that would save nothing.
var errUnchanged = errors.New("nothing to change")

// warnOthers makes the warnings two-sided: every upgrade u now overlaps
// names u (with its current window) in its own list, and those it no
// longer overlaps, or all of them once u is finished, drop it. Their root
// messages follow.
func (b *Bot) warnOthers(ctx context.Context, u *Upgrade, before, now []Conflict) {
	ids := map[int]bool{}
	for _, c := range append(slices.Clone(before), now...) {
		ids[c.ID] = true
	}
	me := conflictOf(u)
	for id := range ids {
		overlaps := slices.ContainsFunc(now, func(c Conflict) bool { return c.ID == id })
		_, err := change(ctx, b.store, b.now, id, func(x *Upgrade) (Decision, error) {
			list := slices.DeleteFunc(slices.Clone(x.Conflicts), func(c Conflict) bool { return c.ID == u.ID })
			if overlaps && x.State.Active() {
				list = append(list, me)
				slices.SortFunc(list, func(a, b Conflict) int { return cmp.Compare(a.ID, b.ID) })
			}
			if sameConflicts(list, x.Conflicts) {
				return Decision{}, errUnchanged
			}
			x.Conflicts = list
			return Decision{}, nil
		})
		switch {
		case err == nil:
			b.out.refreshRoot(id)
		case !errors.Is(err, errUnchanged):
			b.log.WarnContext(ctx, "updating the overlap warnings of another upgrade failed", "upgrade", u.Key(), "other", id, "err", err)
		}
	}
}

// withImpactHint adds to a refusal of a window, when an unquoted anyway
// ended the impact, how to have the word in the impact instead: whoever
// typed "impact it will be slow anyway" most likely meant no override.
func withImpactHint(err error, hint string) error {
	var e *Error
	if hint == "" || !errors.As(err, &e) || len(e.Text) == 0 {
		return err
	}
	return refusal(e.Code, slices.Clone(e.Text).Add(" "+strings.ToUpper(hint[:1])+hint[1:]+"."))
}
