// Package bot is the core of upgradebot: the domain (upgrades, states,
// acknowledgments, notices), its rules, and the small interfaces it needs
// from the outside (Store, Messenger, Releases). It knows no chat platform
// and no database.
package bot

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/upgradebot/upgradebot/commands"
)

// Options wires a Bot.
type Options struct {
	Config    Config
	Store     Store
	Messenger Messenger
	Releases  Releases    // optional
	Sinks     []EventSink // optional
	Now       Clock       // defaults to time.Now
	Logger    *slog.Logger
	// RefreshInterval bounds how often one root message is edited under a
	// burst of acknowledgments (default 1s; 0 in the console is fine).
	RefreshInterval time.Duration
	// RefreshIntervalSet makes a zero RefreshInterval mean "no delay".
	RefreshIntervalSet bool
	// ReleaseTimeout bounds the release lookup of a link (default 10s); the
	// upgrade's later notices wait for it, so it stays short.
	ReleaseTimeout time.Duration
}

// DefaultReleaseTimeout bounds a release lookup when Options does not say.
const DefaultReleaseTimeout = 10 * time.Second

// Bot handles commands and button presses for any adapter.
type Bot struct {
	cfg      Config
	dir      *Directory
	store    Store
	msg      Messenger
	releases Releases
	sinks    []EventSink
	now      Clock
	log      *slog.Logger
	out      *outbox
	planner  Planner
	// releaseTimeout bounds one release lookup.
	releaseTimeout time.Duration
	// onFailure counts undelivered notices (metrics); optional.
	onFailure func(Kind)
	// notices records command notices until delivered, when the store can.
	notices NoticeLog
	// noticeSeq orders the notices this replica records at the same instant.
	noticeSeq atomic.Uint64
}

// Planner keeps the due jobs of an upgrade in step with its window
// (the scheduler); the Bot calls it after every change.
type Planner interface {
	Plan(ctx context.Context, u *Upgrade) error
}

// New builds a Bot.
func New(o Options) *Bot {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Config.DefaultLocation == nil {
		o.Config.DefaultLocation = time.UTC
	}
	if o.Config.MaxWindow <= 0 {
		o.Config.MaxWindow = 24 * time.Hour
	}
	if o.Config.DefaultDuration <= 0 {
		o.Config.DefaultDuration = time.Hour
	}
	interval := o.RefreshInterval
	if interval == 0 && !o.RefreshIntervalSet {
		interval = time.Second
	}
	if o.ReleaseTimeout <= 0 {
		o.ReleaseTimeout = DefaultReleaseTimeout
	}
	b := &Bot{cfg: o.Config, dir: NewDirectory(o.Config), store: o.Store, msg: o.Messenger,
		releases: o.Releases, sinks: o.Sinks, now: o.Now, log: o.Logger, releaseTimeout: o.ReleaseTimeout}
	b.out = newOutbox(b.log, interval)
	b.notices, _ = o.Store.(NoticeLog)
	return b
}

// OnDeliveryFailure installs a counter of undelivered notices (metrics).
func (b *Bot) OnDeliveryFailure(fn func(Kind)) { b.onFailure = fn }

// SetPlanner installs the scheduler; nil disables planning.
func (b *Bot) SetPlanner(p Planner) { b.planner = p }

// Directory exposes who is who, for adapters that render mentions.
func (b *Bot) Directory() *Directory { return b.dir }

// Config returns the core configuration.
func (b *Bot) Config() Config { return b.cfg }

// Store returns the store, for read-only views (status API, calendar).
func (b *Bot) Store() Store { return b.store }

// Now returns the bot's current time.
func (b *Bot) Now() time.Time { return b.now() }

// Flush waits until every queued notice has been delivered; the console and
// tests use it to see a command's effects in order.
func (b *Bot) Flush() { b.out.flush() }

// Drain waits, until ctx ends, for every queued notice to be delivered, as
// a stopping process should. It returns how many delivery tasks were still
// queued or running when ctx ended (0: all delivered); those are logged.
func (b *Bot) Drain(ctx context.Context) int {
	done := make(chan struct{})
	go func() { b.out.flush(); close(done) }()
	select {
	case <-done:
		return 0
	case <-ctx.Done():
	}
	n := b.out.pending()
	if n > 0 {
		if b.notices != nil {
			b.log.WarnContext(ctx, "stopping with notices not yet delivered; they stay recorded and another replica sends them", "tasks", n)
		} else {
			b.log.ErrorContext(ctx, "stopping with notices not yet delivered; the changes are saved, their thread notices are lost", "tasks", n)
		}
	}
	return n
}

// Invocation is the context of one command: who typed it, where, in which zone.
type Invocation struct {
	Actor    Actor
	Channel  string         // "slack:C0123", where the command was typed
	Location *time.Location // the user's zone, when the platform says it
}

func (b *Bot) location(inv Invocation) *time.Location {
	if inv.Location != nil {
		return inv.Location
	}
	return b.cfg.DefaultLocation
}

// readIn says which zone a time typed without one was read in, so a user
// whose platform zone is unknown or wrong notices before the reminders do.
func (b *Bot) readIn(inv Invocation, typed string) Text {
	if inv.Location != nil {
		return T(fmt.Sprintf("%q was read in %s, your time zone.", typed, inv.Location))
	}
	return T(fmt.Sprintf("%q was read in %s, the bot's default time zone; add a zone (UTC, Europe/Berlin, +02:00) to choose another.", typed, b.cfg.DefaultLocation))
}

// Handle parses text (what follows /upgrade) and executes it. It always
// returns a message for the invoker; failures are ephemeral and change nothing.
func (b *Bot) Handle(ctx context.Context, inv Invocation, text string) Message {
	cmd, err := commands.Parse(text, commands.Env{Now: b.now(), Location: b.location(inv)})
	if err != nil {
		var pe *commands.Error
		if errors.As(err, &pe) {
			m := errorMessage(sentence(pe.Msg))
			return withUsage(m, pe.Usage)
		}
		return errorMessage(err.Error())
	}
	return b.Run(ctx, inv, cmd)
}

// Run executes a typed command (Discord maps its options onto these).
func (b *Bot) Run(ctx context.Context, inv Invocation, cmd commands.Command) Message {
	m, err := b.execute(ctx, inv, cmd)
	if err != nil {
		if ErrorCode(err) == EINTERNAL {
			b.log.ErrorContext(ctx, "command failed", "command", cmd.Name(), "actor", inv.Actor.ID, "err", err)
		}
		em := errorMessage(ErrorMessage(err))
		if ErrorCode(err) != EINTERNAL && cmd.Name() != "help" {
			em = withUsage(em, commands.Usage(cmd.Name()))
		}
		return em
	}
	return m
}

// sentence makes a parser message read like the bot's own: a capital first
// letter and a closing period ("the start time … is in the past" becomes
// "The start time … is in the past.").
func sentence(msg string) string {
	if msg == "" {
		return msg
	}
	if c := msg[0]; c >= 'a' && c <= 'z' {
		msg = string(c-'a'+'A') + msg[1:]
	}
	if !strings.ContainsAny(msg[len(msg)-1:], ".?!:") {
		msg += "."
	}
	return msg
}

func errorMessage(msg string) Message {
	m := Message{Kind: KindError, Ephemeral: true}
	for _, l := range strings.Split(msg, "\n") {
		m.Lines = append(m.Lines, T(l))
	}
	return m
}

// withUsage appends the usage lines of a subcommand, each as literal text.
func withUsage(m Message, usage string) Message {
	for i, u := range strings.Split(usage, "\n") {
		if u == "" {
			continue
		}
		label := "Usage: "
		if i > 0 {
			label = "   or: "
		}
		m.Lines = append(m.Lines, T(label).Code(u))
	}
	return m
}

func reply(lines ...Text) Message { return Message{Kind: KindReply, Ephemeral: true, Lines: lines} }

func (b *Bot) execute(ctx context.Context, inv Invocation, cmd commands.Command) (Message, error) {
	switch c := cmd.(type) {
	case commands.Schedule:
		return b.schedule(ctx, inv, c)
	case commands.List:
		return b.list(ctx, c)
	case commands.Show:
		return b.show(ctx, c.ID)
	case commands.Start:
		return b.start(ctx, inv, c)
	case commands.Complete:
		return b.complete(ctx, inv, c)
	case commands.Rollback:
		return b.rollback(ctx, inv, c)
	case commands.Cancel:
		return b.cancel(ctx, inv, c)
	case commands.Reschedule:
		return b.reschedule(ctx, inv, c)
	case commands.Extend:
		return b.extend(ctx, inv, c)
	case commands.Ack:
		return b.ackCommand(ctx, inv, c.ID)
	case commands.Pending:
		return b.pending(ctx, c.ID)
	case commands.Link:
		return b.link(ctx, inv, c)
	case commands.Log:
		return b.decisionLog(ctx, c.ID)
	case commands.Help:
		return reply(T(commands.HelpText(c.Topic))), nil
	}
	return Message{}, fmt.Errorf("bot: unhandled command %T", cmd)
}

func (b *Bot) service(name string) (Service, error) {
	s, ok := b.dir.Service(name)
	if !ok {
		return Service{}, Errorf(ENOTFOUND, "Unknown service %q. Known services: %s.", name, strings.Join(b.dir.ServiceNames(), ", "))
	}
	return s, nil
}

func (b *Bot) get(ctx context.Context, id int) (*Upgrade, error) {
	u, err := b.store.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(ENOTFOUND, "Unknown upgrade %s. Try /upgrade list.", commands.FormatID(id))
	} else if err != nil {
		return nil, fmt.Errorf("load %s: %w", commands.FormatID(id), err)
	}
	return u, nil
}

func (b *Bot) authorize(inv Invocation, service, verb string, id string) error {
	if b.dir.CanChange(inv.Actor, service) {
		return nil
	}
	s, _ := b.dir.Service(service)
	var names []string
	for _, p := range b.dir.Principals(b.dir.OwnerKeys(s.Name)) {
		names = append(names, "@"+p.Name)
	}
	target := service
	if id != "" {
		target = id + " (" + service + ")"
	}
	return Errorf(EFORBIDDEN, "You are not allowed to %s %s: only the owners of %s (%s) or an admin may.", verb, target, s.Name, strings.Join(names, ", "))
}

func (b *Bot) checkWindow(start time.Time, d time.Duration) error {
	if d <= 0 {
		return Errorf(EINVALID, "The window must end after it starts.")
	}
	if d > b.cfg.MaxWindow {
		return Errorf(EINVALID, "A window of %s is longer than the maximum of %s (max_window).", FormatDuration(d), FormatDuration(b.cfg.MaxWindow))
	}
	if !start.After(b.now()) {
		return Errorf(EINVALID, "The start %s is in the past.", start.UTC().Format("2006-01-02 15:04 UTC"))
	}
	return nil
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
	detail := fmt.Sprintf("window %s to %s", start.Format(time.RFC3339), end.Format(time.RFC3339))
	if err := b.store.Create(ctx, u, Decision{At: now, Actor: actor, Action: "scheduled", Detail: detail}); err != nil {
		return Message{}, fmt.Errorf("save %s: %w", u.Key(), err)
	}
	b.emit(ctx, u, EventScheduled, actor, map[string]any{"start": start, "end": end, "version": u.Version})
	b.plan(ctx, u)
	b.postRoots(ctx, u, &inv)

	r := reply(T("📋 Scheduled ").Bold(u.Title()).Add(": ").Time(start).Add(" to ").Time(end).Add(" (" + FormatDuration(d) + ")."))
	r.UTC = inUTC(start, end)
	if !c.ZoneGiven {
		r.Lines = append(r.Lines, b.readIn(inv, c.StartText))
	}
	if len(u.BlastRadius) > 0 {
		r.Lines = append(r.Lines, T("Blast radius: "+strings.Join(u.BlastRadius, ", ")+"."))
	}
	for _, cf := range conflicts {
		r.Lines = append(r.Lines, append(append(T("⚠ Warning: this window overlaps "), conflictText(cf)...), T(".")...))
	}
	r.Lines = append(r.Lines, T("The pre-brief is being posted to ").Channels(u.Channels).Add("."))
	r.UpgradeID = u.Key()
	return r, nil
}

// inUTC restates a window in UTC for readers whose platform shows it in
// their own zone (Message.UTC).
func inUTC(start, end time.Time) Text {
	return T("In UTC: " + start.UTC().Format("2006-01-02 15:04") + " to " + end.UTC().Format("2006-01-02 15:04") + " UTC.")
}

// mutate applies fn to the latest stored upgrade and saves it, retrying when
// another replica changed it meanwhile. fn returns the decision to log.
func (b *Bot) mutate(ctx context.Context, id int, fn func(u *Upgrade) (Decision, error)) (*Upgrade, error) {
	for attempt := 0; ; attempt++ {
		u, err := b.get(ctx, id)
		if err != nil {
			return nil, err
		}
		d, err := fn(u)
		if err != nil {
			return nil, err
		}
		u.Rev++
		u.UpdatedAt = b.now().UTC()
		err = b.store.Update(ctx, u, d)
		if errors.Is(err, ErrConflict) && attempt < 10 {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("save %s: %w", u.Key(), err)
		}
		return u, nil
	}
}

// transition changes the state of an upgrade after checking the state
// machine and the actor's rights.
func (b *Bot) transition(ctx context.Context, inv Invocation, id int, verb string, allowed func(u *Upgrade) error, apply func(u *Upgrade) Decision) (*Upgrade, error) {
	actor := b.dir.KeyOf(inv.Actor.ID)
	return b.mutate(ctx, id, func(u *Upgrade) (Decision, error) {
		if err := b.authorize(inv, u.Service, verb, u.Key()); err != nil {
			return Decision{}, err
		}
		if err := allowed(u); err != nil {
			return Decision{}, err
		}
		d := apply(u)
		d.At, d.Actor = b.now().UTC(), actor
		return d, nil
	})
}

func noLonger(u *Upgrade, verb string) error {
	return Errorf(EINVALID, "%s is %s; it can no longer be %s.", u.Key(), u.State, verb)
}

func (b *Bot) start(ctx context.Context, inv Invocation, c commands.Start) (Message, error) {
	u, err := b.transition(ctx, inv, c.ID, "start", func(u *Upgrade) error {
		if u.State != Scheduled {
			return noLonger(u, "started")
		}
		return nil
	}, func(u *Upgrade) Decision {
		u.State, u.StartedAt = InProgress, b.now().UTC()
		return Decision{Action: "started"}
	})
	if err != nil {
		return Message{}, err
	}
	b.afterChange(ctx, u, EventStarted, inv, nil, b.dir.Started(u, b.dir.KeyOf(inv.Actor.ID)))
	if !u.End.After(b.now()) {
		return reply(T("🚀 Started ").Bold(u.Title()).Add("; its window already ended ").Time(u.End).Add(": extend it with ").
			Code("/upgrade extend " + u.Key() + " <duration>").Add(" so people know how long it runs.")), nil
	}
	return reply(T("🚀 Started ").Bold(u.Title()).Add("; the window ends ").Time(u.End).Add(".")), nil
}

func (b *Bot) complete(ctx context.Context, inv Invocation, c commands.Complete) (Message, error) {
	u, err := b.transition(ctx, inv, c.ID, "complete", func(u *Upgrade) error {
		switch u.State {
		case InProgress:
			return nil
		case Scheduled:
			return Errorf(EINVALID, "%s is scheduled; start it first with /upgrade start %s.", u.Key(), u.Key())
		}
		return noLonger(u, "completed")
	}, func(u *Upgrade) Decision {
		u.State, u.FinishedAt, u.Note = Completed, b.now().UTC(), c.Note
		return Decision{Action: "completed", Reason: c.Note}
	})
	if err != nil {
		return Message{}, err
	}
	b.afterChange(ctx, u, EventCompleted, inv, map[string]any{"note": c.Note}, b.dir.CompletedMsg(u, b.dir.KeyOf(inv.Actor.ID)))
	return reply(T("✅ Completed ").Bold(u.Title()).Add(".")), nil
}

// RollbackWindow is how long after completion a rollback is still accepted.
const RollbackWindow = 24 * time.Hour

func (b *Bot) rollback(ctx context.Context, inv Invocation, c commands.Rollback) (Message, error) {
	u, err := b.transition(ctx, inv, c.ID, "roll back", func(u *Upgrade) error {
		switch {
		case u.State == InProgress:
			return nil
		case u.State == Completed && b.now().Sub(u.FinishedAt) <= RollbackWindow:
			return nil
		case u.State == Completed:
			return Errorf(EINVALID, "%s was completed more than 24h ago; it can no longer be rolled back.", u.Key())
		case u.State == Scheduled:
			return Errorf(EINVALID, "%s is scheduled and has not started; cancel it instead with /upgrade cancel %s.", u.Key(), u.Key())
		}
		return noLonger(u, "rolled back")
	}, func(u *Upgrade) Decision {
		u.State, u.FinishedAt, u.Reason = RolledBack, b.now().UTC(), c.Reason
		return Decision{Action: "rolled_back", Reason: c.Reason}
	})
	if err != nil {
		return Message{}, err
	}
	b.afterChange(ctx, u, EventRolledBack, inv, map[string]any{"reason": c.Reason}, b.dir.RollbackAlert(u, b.dir.KeyOf(inv.Actor.ID)))
	return reply(T("🚨 Rolled back ").Bold(u.Title()).Add("; the alert is going out to everyone affected.")), nil
}

func (b *Bot) cancel(ctx context.Context, inv Invocation, c commands.Cancel) (Message, error) {
	u, err := b.transition(ctx, inv, c.ID, "cancel", func(u *Upgrade) error {
		if u.State == InProgress {
			return Errorf(EINVALID, "%s is in_progress; it can no longer be cancelled (complete it or roll it back).", u.Key())
		} else if u.State != Scheduled {
			return noLonger(u, "cancelled")
		}
		return nil
	}, func(u *Upgrade) Decision {
		u.State, u.FinishedAt, u.Reason = Cancelled, b.now().UTC(), c.Reason
		return Decision{Action: "cancelled", Reason: c.Reason}
	})
	if err != nil {
		return Message{}, err
	}
	b.afterChange(ctx, u, EventCancelled, inv, map[string]any{"reason": c.Reason}, b.dir.CancelledMsg(u, b.dir.KeyOf(inv.Actor.ID)))
	return reply(T("🚫 Cancelled ").Bold(u.Title()).Add(".")), nil
}

func (b *Bot) reschedule(ctx context.Context, inv Invocation, c commands.Reschedule) (Message, error) {
	var old, oldEnd time.Time
	u, err := b.transition(ctx, inv, c.ID, "reschedule", func(u *Upgrade) error {
		if u.State != Scheduled {
			return noLonger(u, "rescheduled")
		}
		d := c.Duration
		if d == 0 {
			d = u.Duration()
		}
		if c.Start.Equal(u.Start) && d == u.Duration() {
			return Errorf(EINVALID, "%s is already scheduled from %s to %s; nothing changed.", u.Key(),
				u.Start.Format("2006-01-02 15:04 UTC"), u.End.Format("2006-01-02 15:04 UTC"))
		}
		return b.checkWindow(c.Start, d)
	}, func(u *Upgrade) Decision {
		d := c.Duration
		if d == 0 {
			d = u.Duration()
		}
		old, oldEnd = u.Start, u.End
		u.Start, u.End = c.Start.UTC(), c.Start.Add(d).UTC()
		return Decision{Action: "rescheduled", Detail: fmt.Sprintf("from %s to %s, until %s", old.Format(time.RFC3339), u.Start.Format(time.RFC3339), u.End.Format(time.RFC3339))}
	})
	if err != nil {
		return Message{}, err
	}
	u = b.refreshConflicts(ctx, u)
	b.afterChange(ctx, u, EventRescheduled, inv, map[string]any{"start": u.Start, "end": u.End, "previous_start": old}, b.dir.RescheduledMsg(u, b.dir.KeyOf(inv.Actor.ID), old, oldEnd))
	r := reply(T("📅 Rescheduled ").Bold(u.Title()).Add(": the window is now ").Time(u.Start).Add(" to ").Time(u.End).Add(" (" + FormatDuration(u.Duration()) + ")."))
	r.UTC = inUTC(u.Start, u.End)
	if !c.ZoneGiven {
		r.Lines = append(r.Lines, b.readIn(inv, c.StartText))
	}
	for _, cf := range u.Conflicts {
		r.Lines = append(r.Lines, append(append(T("⚠ Warning: this window overlaps "), conflictText(cf)...), T(".")...))
	}
	return r, nil
}

// refreshConflicts recomputes the overlap warnings after the window moved.
func (b *Bot) refreshConflicts(ctx context.Context, u *Upgrade) *Upgrade {
	cs, err := b.conflicts(ctx, u.ID, u.Service, u.Start, u.End)
	if err != nil {
		b.log.WarnContext(ctx, "conflict check failed", "upgrade", u.Key(), "err", err)
		return u
	}
	nu, err := b.mutate(ctx, u.ID, func(x *Upgrade) (Decision, error) {
		x.Conflicts = cs
		return Decision{}, nil
	})
	if err != nil {
		b.log.WarnContext(ctx, "saving conflicts failed", "upgrade", u.Key(), "err", err)
		return u
	}
	return nu
}

func (b *Bot) extend(ctx context.Context, inv Invocation, c commands.Extend) (Message, error) {
	u, err := b.transition(ctx, inv, c.ID, "extend", func(u *Upgrade) error {
		if !u.State.Active() {
			return noLonger(u, "extended")
		}
		if d := u.Duration() + c.By; d > b.cfg.MaxWindow {
			return Errorf(EINVALID, "Extending %s by %s makes the window %s, longer than the maximum of %s (max_window).", u.Key(), FormatDuration(c.By), FormatDuration(d), FormatDuration(b.cfg.MaxWindow))
		}
		if now, end := b.now(), u.End.Add(c.By); !end.After(now) {
			return Errorf(EINVALID, "%s would still end in the past (at %s); extend by more than %s.", u.Key(), end.UTC().Format("2006-01-02 15:04 UTC"), FormatDuration(now.Sub(u.End).Truncate(time.Second)))
		}
		return nil
	}, func(u *Upgrade) Decision {
		u.End = u.End.Add(c.By)
		return Decision{Action: "extended", Detail: fmt.Sprintf("by %s, until %s", FormatDuration(c.By), u.End.Format(time.RFC3339))}
	})
	if err != nil {
		return Message{}, err
	}
	u = b.refreshConflicts(ctx, u)
	b.afterChange(ctx, u, EventExtended, inv, map[string]any{"by": c.By.String(), "end": u.End}, b.dir.ExtendedMsg(u, b.dir.KeyOf(inv.Actor.ID), c.By))
	return reply(T("⏳ Extended ").Bold(u.Title()).Add("; it now ends ").Time(u.End).Add(".")), nil
}

// afterChange does what every state change does: event, re-plan, root
// refresh and the thread notice, all but the event in the background.
func (b *Bot) afterChange(ctx context.Context, u *Upgrade, event string, inv Invocation, data map[string]any, notice Message) {
	b.emit(ctx, u, event, b.dir.KeyOf(inv.Actor.ID), data)
	b.plan(ctx, u)
	b.refreshRoot(u.ID)
	b.notifyThreads(ctx, u.ID, notice, &inv)
}

func (b *Bot) plan(ctx context.Context, u *Upgrade) {
	if b.planner == nil {
		return
	}
	if err := b.planner.Plan(ctx, u); err != nil {
		b.log.ErrorContext(ctx, "planning reminders failed", "upgrade", u.Key(), "err", err)
	}
}

func newEventID() string {
	var buf [12]byte
	_, _ = rand.Read(buf[:])
	return hex.EncodeToString(buf[:])
}

func (b *Bot) emit(ctx context.Context, u *Upgrade, typ, actor string, data map[string]any) {
	e := Event{ID: newEventID(), Type: typ, UpgradeID: u.Key(), Service: u.Service, At: b.now().UTC(), Actor: actor, Data: data}
	if err := b.store.Publish(ctx, e); err != nil {
		b.log.ErrorContext(ctx, "publishing event failed", "event", typ, "upgrade", u.Key(), "err", err)
	}
	for _, s := range b.sinks {
		s.Event(e)
	}
}

// Press records an Acknowledge press (button or /upgrade ack) and returns
// the private answer for the presser. An empty scope means the scope of the
// latest acknowledgeable notice.
func (b *Bot) Press(ctx context.Context, actor Actor, upgradeID, scope string) Message {
	id, err := commands.ParseID(upgradeID)
	if err != nil {
		return errorMessage(fmt.Sprintf("Unknown upgrade %q.", upgradeID))
	}
	if scope == "" {
		u, err := b.get(ctx, id)
		if err != nil {
			return errorMessage(ErrorMessage(err))
		}
		scope = u.CurrentScope()
	}
	if !ValidScope(scope) {
		return errorMessage(fmt.Sprintf("Unknown acknowledgment scope %q; use brief or rollback.", scope))
	}
	m, err := b.ack(ctx, actor, id, scope)
	if err != nil {
		if ErrorCode(err) == EINTERNAL {
			b.log.ErrorContext(ctx, "acknowledgment failed", "upgrade", upgradeID, "err", err)
		}
		return errorMessage(ErrorMessage(err))
	}
	return m
}

func (b *Bot) ackCommand(ctx context.Context, inv Invocation, id int) (Message, error) {
	u, err := b.get(ctx, id)
	if err != nil {
		return Message{}, err
	}
	return b.ack(ctx, inv.Actor, u.ID, u.CurrentScope())
}

func (b *Bot) ack(ctx context.Context, actor Actor, id int, scope string) (Message, error) {
	u, err := b.get(ctx, id)
	if err != nil {
		return Message{}, err
	}
	now := b.now().UTC()
	self := b.dir.KeyOf(actor.ID)
	var recorded bool // any key acknowledged for the first time
	var stands Ack
	for i, key := range b.dir.Satisfies(actor, u.Audience) {
		a := Ack{Scope: scope, Who: key, Via: actor.ID, At: now}
		data := map[string]any{"scope": scope, "via": actor.ID}
		if key != self {
			a.By, data["for"] = self, key
		}
		a, isFirst, err := b.store.Ack(ctx, id, a)
		if err != nil {
			return Message{}, fmt.Errorf("record ack of %s: %w", u.Key(), err)
		}
		if i == 0 {
			stands = a
		}
		if isFirst {
			recorded = true
			b.emit(ctx, u, EventAcknowledged, self, data)
		}
	}
	what := "the upgrade window of"
	if scope == ScopeRollback {
		what = "the rollback of"
	}
	if !recorded {
		if stands.Who != self && b.dir.KeyOf(stands.Via) != self {
			// Her group was answered for by another member.
			return reply(T("").Mention(b.dir.Principal(stands.Who)).Add(" already acknowledged " + what + " ").Bold(u.Title()).
				Add(", by ").Mention(b.dir.Principal(b.dir.KeyOf(stands.Via))).Add(" at ").Time(stands.At).Add("; nothing more is needed from you.")), nil
		}
		return reply(T("You already acknowledged " + what + " ").Bold(u.Title()).Add(" at ").Time(stands.At).Add(".")), nil
	}
	b.refreshRoot(id)
	return reply(T("Thanks! You acknowledged " + what + " ").Bold(u.Title()).Add(".")), nil
}
