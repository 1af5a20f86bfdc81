// Package bot is the core of upgradebot: the domain (upgrades, states,
// acknowledgments, notices), its rules, the words it says, and the small
// interfaces it needs from the outside (ports.go). It knows no chat
// platform and no database; docs/architecture.md draws the whole shape.
//
// The core has two faces. Commands come in (Bot.Handle for typed text,
// Bot.Do for a typed command, Bot.Press for a button) and give a private
// answer plus notices delivered in the background (Delivery). The read side
// (Reader) gives views of upgrades to show, list and every adapter that
// shows them elsewhere.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
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
	Observer  Observer // optional: metrics
	// Queue, when set, gives the Bot a Scheduler on it (reminders, window
	// open, overrun, escalation), tuned by Scheduler.
	Queue     JobQueue
	Scheduler SchedulerOptions
	// RefreshInterval bounds how often one root message is edited under a
	// burst of acknowledgments (default 1s; 0 in the console is fine).
	RefreshInterval time.Duration
	// RefreshIntervalSet makes a zero RefreshInterval mean "no delay".
	RefreshIntervalSet bool
	// ReleaseTimeout bounds the release lookup of a link (default 10s); the
	// upgrade's later notices wait for it, so it stays short.
	ReleaseTimeout time.Duration
	// CommandTimeout bounds the core's work of one command or button press,
	// every read and write of the store in it together, the store's own
	// retries included (default DefaultCommandTimeout). A command out of time
	// is answered as one whose store did not answer. What the command
	// queues (notices, events, a release lookup) has time of its own.
	CommandTimeout time.Duration
	// Once de-duplicates commands a platform sent again (the store);
	// without it only reads are (in memory).
	Once Once
	// Recover is how often Run looks for command notices that a replica
	// recorded and never delivered (it died), and sends them (30s; see
	// RecoverNotices). Negative disables it.
	Recover time.Duration
	// RootRetry is the first wait before Run tries again a root message
	// that a platform did not take after its retries (not posted, or an
	// edit failed); it doubles with each failure, up to 15 minutes
	// (default DefaultRootRetry). Negative disables it.
	RootRetry time.Duration
	// DeliverOnFlush holds the notices that commands and jobs queue until
	// Flush, which delivers them one at a time in the order they were
	// queued, after what the command or job sent itself: the console
	// shows a transcript in a stable order with it. Never for serve:
	// nothing queued would go out until a Flush.
	DeliverOnFlush bool
	// Redact hides secrets in a platform's error text before it is kept on
	// an upgrade or told to anyone (a server may echo back the token it
	// was sent); nil keeps the text as it is.
	Redact func(string) string
}

// DefaultReleaseTimeout bounds a release lookup when Options does not say.
const DefaultReleaseTimeout = 10 * time.Second

// DefaultCommandTimeout bounds a command or press when Options does not
// say: long enough for a store that answers slowly (a fail-over, a disk
// that stalls), short enough that a person is told within seconds that a
// store which hangs did not answer. Slack and Discord have been told
// "working on it" by then (their 3 s) and get the answer afterwards.
const DefaultCommandTimeout = 5 * time.Second

// Bot handles commands and button presses for any adapter.
type Bot struct {
	*Reader // the read side: View, Views, Upgrades, Log

	cfg      Config
	dir      *Directory
	store    Store
	releases Releases
	now      Clock
	log      *slog.Logger
	out      *Delivery
	ev       *events
	planner  Planner // nil: nothing is planned
	sched    *Scheduler
	recover  time.Duration
	// rootRetry is Options.RootRetry: 0 when Run does not retry roots.
	rootRetry time.Duration
	heads     *heads  // what a press needs of an upgrade, cached
	once      Once    // de-duplicates re-sent commands that change something; optional
	recent    *recent // de-duplicates re-sent reads, in memory
	obs       Observer
	freezes   FreezeStore // freezes declared by command; optional (the store's)
	series    SeriesStore // recurring upgrades; optional (the store's)
	// releaseTimeout bounds one release lookup.
	releaseTimeout time.Duration
	// commandTimeout bounds one command or press (Options.CommandTimeout).
	commandTimeout time.Duration
}

// New builds a Bot, and its Scheduler when o.Queue is set.
func New(o Options) *Bot {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Observer == nil {
		o.Observer = NopObserver{}
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
	if o.Config.MaxLead <= 0 {
		o.Config.MaxLead = 365 * 24 * time.Hour
	}
	interval := o.RefreshInterval
	if interval == 0 && !o.RefreshIntervalSet {
		interval = time.Second
	}
	if o.ReleaseTimeout <= 0 {
		o.ReleaseTimeout = DefaultReleaseTimeout
	}
	if o.CommandTimeout <= 0 {
		o.CommandTimeout = DefaultCommandTimeout
	}
	if o.Recover == 0 {
		o.Recover = 30 * time.Second
	}
	if o.RootRetry == 0 {
		o.RootRetry = DefaultRootRetry
	}
	dir := NewDirectory(o.Config)
	b := &Bot{
		Reader: NewReader(o.Store, dir),
		cfg:    o.Config, dir: dir, store: o.Store, releases: o.Releases, now: o.Now, log: o.Logger,
		out:     newDelivery(o.Store, o.Messenger, dir, o.Now, o.Logger, interval),
		recover: o.Recover, releaseTimeout: o.ReleaseTimeout, commandTimeout: o.CommandTimeout,
		heads: &heads{max: 10000}, once: o.Once, recent: newRecent(10000, dedupeTTL), obs: o.Observer,
	}
	b.out.obs = o.Observer
	b.out.once = o.Once
	if o.Redact != nil {
		b.out.redact = o.Redact
	}
	if o.RootRetry > 0 {
		b.rootRetry = o.RootRetry
		b.out.owed.base = o.RootRetry
	}
	b.out.out.onFlush = o.DeliverOnFlush
	if o.DeliverOnFlush {
		// One list of held tasks, run in the order they were queued: the
		// console shows every edit where it happened.
		b.out.edits = b.out.out
	}
	b.out.acks = b.Reader.acks
	if o.Config.EscalateAfter > 0 {
		// The rollback escalation follows the alert (Scheduler.afterAlert).
		b.out.sent, _ = o.Queue.(SentLog)
	}
	// Relays have their own per-upgrade queue: on the deliveries' one, an
	// event would wait for the chat notices queued before it.
	b.ev = &events{store: o.Store, sinks: o.Sinks, now: o.Now, log: o.Logger, relays: newOutbox(o.Logger.With("queue", "events relay"), o.Now, 0)}
	b.ev.outbox, _ = o.Store.(EventOutbox)
	b.freezes, _ = o.Store.(FreezeStore)
	b.series, _ = o.Store.(SeriesStore)
	if o.Queue != nil {
		b.sched = newScheduler(schedulerParts{cfg: o.Config, dir: dir, store: o.Store, queue: o.Queue, out: b.out, ev: b.ev}, o.Scheduler, o.Now, o.Logger)
		b.planner = b.sched
		b.sched.series = b
	}
	return b
}

// Scheduler returns the scheduler, nil without Options.Queue.
func (b *Bot) Scheduler() *Scheduler { return b.sched }

// Directory tells who is who, for adapters that render mentions or list people.
func (b *Bot) Directory() *Directory { return b.dir }

// Now returns the bot's current time.
func (b *Bot) Now() time.Time { return b.now() }

// Answer tells the invoker of a command privately, by the way they came.
func (b *Bot) Answer(ctx context.Context, to Invoker, m Message) error {
	return b.out.Answer(ctx, to, m)
}

// Run does the core's background work until ctx ends: the scheduler (when
// there is one) and the recovery of notices other replicas left behind.
func (b *Bot) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	if b.recover > 0 && b.out.notices != nil {
		wg.Go(func() { b.recoverLoop(ctx, b.recover) })
	}
	if b.recover > 0 && b.ev.outbox != nil {
		wg.Go(func() { b.relayLoop(ctx, 4*b.recover) })
	}
	if b.rootRetry > 0 {
		wg.Go(func() { b.out.rootRetryLoop(ctx, min(b.rootRetry, 5*time.Second)) })
	}
	var err error
	if b.sched != nil {
		err = b.sched.Run(ctx)
	} else {
		<-ctx.Done()
	}
	wg.Wait()
	return err
}

// Flush waits until every queued notice has been delivered and every
// queued event relayed to the shared stream; the console and tests use it
// to see a command's effects in order.
func (b *Bot) Flush() {
	b.out.flush()
	b.ev.flush() // after the notices: a link's notice task writes an event
}

// Drain waits, until ctx ends, for every queued notice to be delivered and
// every queued event relayed, as a stopping process should. It returns how
// many delivery and relay tasks were still queued or running when ctx
// ended (0: all done); those are logged.
func (b *Bot) Drain(ctx context.Context) int {
	done := make(chan struct{})
	go func() { b.Flush(); close(done) }()
	select {
	case <-done:
		return 0
	case <-ctx.Done():
	}
	r, _ := b.ev.relays.pending()
	if r > 0 {
		b.log.WarnContext(ctx, "stopping with events not yet relayed to the shared stream; they stay in their upgrades' outboxes and a replica's sweep relays them", "tasks", r)
	}
	retries := int(b.out.owed.running.Load())
	if retries > 0 {
		b.log.WarnContext(ctx, "stopping with root messages not yet tried again; the upgrades' next change or notice tries them", "tasks", retries)
	}
	tasks, refreshes := b.out.pending()
	if refreshes > 0 {
		b.log.WarnContext(ctx, "stopping with root messages not yet refreshed; they show the latest state again at the upgrade's next press or change", "tasks", refreshes)
	}
	n := max(tasks-retries-refreshes, 0)
	if n > 0 {
		if b.out.notices != nil {
			b.log.WarnContext(ctx, "stopping with notices not yet delivered; they stay recorded and another replica sends them", "tasks", n)
		} else {
			b.log.ErrorContext(ctx, "stopping with notices not yet delivered; the changes are saved, their thread notices are lost", "tasks", n)
		}
	}
	return n + r + retries + refreshes
}

// Invocation is the context of one command: who typed it, where, in which
// zone, and how to reach them again.
type Invocation struct {
	Actor    Actor
	Channel  string         // "slack:C0123", where the command was typed
	Location *time.Location // the user's zone, when the platform says it
	// Handle is the platform's own handle for answering this invocation
	// later (opaque to the core); empty when there is none.
	Handle string
	// Delivery is the platform's id of this request, so that one it sends
	// again is answered with a KindDuplicate message and changes nothing;
	// "" when there is none.
	Delivery string
}

// invoker is whom a command's background failures are told to.
func (inv Invocation) invoker() *Invoker {
	if inv.Actor.ID == "" {
		return nil
	}
	return &Invoker{User: inv.Actor.ID, Channel: inv.Channel, Handle: inv.Handle}
}

// location is the zone a user's times are read and shown in: the one
// their platform says, else the one the configuration gives the person,
// else the bot's default. own is false for the default.
func (b *Bot) location(inv Invocation) (loc *time.Location, own bool) {
	if inv.Location != nil {
		return inv.Location, true
	}
	if l := b.dir.Location(inv.Actor.ID); l != nil {
		return l, true
	}
	return b.cfg.DefaultLocation, false
}

// Env is what parsing the invoker's input needs: the bot's clock, the
// zone their times are read in (see location) and the GitHub Enterprise
// host whose release pages link reads (Config.ReleaseHost). Platforms that
// take options rather than text (Discord) read a time option or a pasted
// release page with it, as Handle does.
func (b *Bot) Env(inv Invocation) commands.Env {
	loc, _ := b.location(inv)
	return commands.Env{Now: b.now(), Location: loc, ReleaseHost: b.cfg.ReleaseHost}
}

// Handle parses text (what follows the command name) and executes it. It
// always returns a private answer for the invoker; refusals change nothing.
func (b *Bot) Handle(ctx context.Context, inv Invocation, text string) Message {
	ctx, t0 := NewRequest(ctx), time.Now()
	cmd, err := commands.Parse(text, b.Env(inv))
	if err != nil {
		m := ParseRefusal(err)
		b.logCommand(ctx, inv, verbOf(text), nil, m, nil, t0)
		b.observeCommand(inv.Actor, verbOf(text), m, nil, t0)
		return m
	}
	return b.do(ctx, inv, cmd, t0)
}

// ParseRefusal is the answer to input the grammar refused (a
// *commands.Error, with the usage it carries), worded as Handle words it;
// platforms that read options themselves refuse bad ones with it.
func ParseRefusal(err error) Message {
	var pe *commands.Error
	if errors.As(err, &pe) {
		return usageRefused(refusalText(pe), pe.Usage)
	}
	return errorMessage(ErrorText(err)) // not the user's input: the generic words
}

// refusalText is a parse error's message as a sentence: its pieces (Says)
// when it has them, so that code shows as code and each platform writes
// the commands it suggests its own way; else its Msg.
func refusalText(pe *commands.Error) Text {
	if len(pe.Says) == 0 {
		return T(sentence(pe.Msg))
	}
	t := Text{}
	for i, p := range pe.Says {
		switch {
		case p.Hint != nil:
			h := Hint{Verb: p.Hint.Verb}
			for _, a := range p.Hint.Args {
				h.Args = append(h.Args, Arg{Name: a.Name, Value: a.Value, Placeholder: a.Placeholder, Optional: a.Optional})
			}
			t = t.Command(h)
		case p.Code:
			t = t.Code(p.Text)
		case i == 0:
			t = t.Add(strings.ToUpper(p.Text[:min(1, len(p.Text))]) + p.Text[min(1, len(p.Text)):])
		default:
			t = t.Add(p.Text)
		}
	}
	if last := pe.Says[len(pe.Says)-1]; last.Hint != nil || last.Code || last.Text == "" || !strings.ContainsAny(last.Text[len(last.Text)-1:], ".?!:") {
		t = t.Add(".")
	}
	return t
}

// Do executes a typed command (platforms with structured options build these).
func (b *Bot) Do(ctx context.Context, inv Invocation, cmd commands.Command) Message {
	return b.do(NewRequest(ctx), inv, cmd, time.Now())
}

func (b *Bot) do(parent context.Context, inv Invocation, cmd commands.Command, t0 time.Time) Message {
	ctx, cancel := context.WithTimeout(parent, b.commandTimeout)
	defer cancel()
	if dup, err := b.duplicate(ctx, inv, cmd); err != nil {
		b.log.WarnContext(ctx, "de-duplication unavailable; running the command", "err", err)
	} else if dup {
		m := Message{Kind: KindDuplicate}
		b.observeCommand(inv.Actor, cmd.Name(), m, nil, t0)
		return m
	}
	m, err := b.execute(ctx, inv, cmd)
	if err != nil {
		err = b.outOfTime(parent, ctx, err)
		usage := ""
		if code := ErrorCode(err); code != EINTERNAL && cmd.Name() != "help" {
			usage = commands.UsageOf(cmd)
		}
		m = usageRefused(ErrorText(b.logged(ctx, cmd.Name(), inv.Actor, err)), usage)
	}
	b.logCommand(ctx, inv, cmd.Name(), cmd, m, err, t0)
	b.observeCommand(inv.Actor, cmd.Name(), m, err, t0)
	return m
}

// logCommand logs the one line of a command: what, by whom, on which
// upgrade, and how it went (ok, refused, error).
func (b *Bot) logCommand(ctx context.Context, inv Invocation, name string, cmd commands.Command, m Message, err error, t0 time.Time) {
	upgrade := m.UpgradeID
	if upgrade == "" {
		if id := commandUpgrade(cmd); id > 0 {
			upgrade = commands.FormatID(id)
		}
	}
	b.log.LogAttrs(ctx, slog.LevelInfo, "command", slog.String("command", name), slog.String("platform", platformOf(inv.Actor.ID)),
		slog.String("actor", inv.Actor.ID), slog.String("upgrade", upgrade), slog.String("outcome", outcome(m, err)),
		slog.String("took", time.Since(t0).String()))
}

// outcome words how a command or press went: ok, refused (the user's
// input changed nothing) or error (something broke).
func outcome(m Message, err error) string {
	switch {
	case err != nil && ErrorCode(err) == EINTERNAL:
		return OutcomeError
	case err != nil || m.Kind == KindError:
		return OutcomeRefused
	}
	return OutcomeOK
}

// platformOf is the platform of an id ("slack:U1" → "slack"), without
// allocating; "unknown" for an id without a prefix, so that it never
// carries an id.
func platformOf(id string) string {
	if p, _, ok := strings.Cut(id, ":"); ok && p != "" {
		return p
	}
	return "unknown"
}

// commandUpgrade is the upgrade a command names, 0 for none.
func commandUpgrade(cmd commands.Command) int {
	switch c := cmd.(type) {
	case commands.Show:
		return c.ID
	case commands.Start:
		return c.ID
	case commands.Complete:
		return c.ID
	case commands.Rollback:
		return c.ID
	case commands.Cancel:
		return c.ID
	case commands.Reschedule:
		return c.ID
	case commands.Extend:
		return c.ID
	case commands.Ack:
		return c.ID
	case commands.Pending:
		return c.ID
	case commands.Link:
		return c.ID
	case commands.Log:
		return c.ID
	case commands.Ready:
		return c.ID
	case commands.Waive:
		return c.ID
	case commands.Unready:
		return c.ID
	case commands.Plan:
		return c.ID
	case commands.Debrief:
		return c.ID
	}
	return 0
}

// outOfTime marks err, the internal error of a command or press whose own
// time (ctx, within parent) ran out, as a store that did not answer: in the
// core a command waits on nothing else. The store marks its errors only
// when a call failed within the caller's time (a deadline says nothing of
// whose it was); this deadline is the core's own.
func (b *Bot) outOfTime(parent, ctx context.Context, err error) error {
	if ErrorCode(err) != EINTERNAL || Unavailable(err) || parent.Err() != nil || !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return err
	}
	return &noAnswerInTime{err: err, after: b.commandTimeout}
}

// logged logs an internal error (the user only learns that something broke).
func (b *Bot) logged(ctx context.Context, what string, actor Actor, err error) error {
	if ErrorCode(err) == EINTERNAL {
		b.log.ErrorContext(ctx, what+" failed", "actor", actor.ID, "err", err)
	}
	return err
}

// failed is the answer to a press or command that failed.
func (b *Bot) failed(ctx context.Context, what string, actor Actor, err error) Message {
	return errorMessage(ErrorText(b.logged(ctx, what, actor, err)))
}

func (b *Bot) execute(ctx context.Context, inv Invocation, cmd commands.Command) (Message, error) {
	switch c := cmd.(type) {
	case commands.Schedule:
		if err := checkLength("impact", c.Impact); err != nil {
			return Message{}, err
		}
		if err := checkLength("reason", c.Anyway); err != nil {
			return Message{}, err
		}
		return b.schedule(ctx, inv, c)
	case commands.List:
		return b.list(ctx, c)
	case commands.Show:
		return b.show(ctx, c.ID)
	case commands.ShowSeries:
		return b.showSeries(ctx, c.ID)
	case commands.Start:
		return b.startCmd(ctx, inv, c)
	case commands.Complete:
		if err := checkLength("note", c.Note); err != nil {
			return Message{}, err
		}
		return b.transitionCmd(ctx, inv, "complete", c.ID, edit{text: c.Note})
	case commands.Rollback:
		c.Reason = strings.TrimSpace(c.Reason)
		if err := checkReason("reason", c.Reason, commands.MissingRollbackReason); err != nil {
			return Message{}, err
		}
		return b.transitionCmd(ctx, inv, "rollback", c.ID, edit{text: c.Reason})
	case commands.Cancel:
		if err := checkLength("reason", c.Reason); err != nil {
			return Message{}, err
		}
		return b.cancel(ctx, inv, c)
	case commands.Reschedule:
		if err := checkLength("reason", c.Anyway); err != nil {
			return Message{}, err
		}
		return b.reschedule(ctx, inv, c)
	case commands.Extend:
		if err := checkLength("reason", c.Anyway); err != nil {
			return Message{}, err
		}
		return b.extend(ctx, inv, c)
	case commands.Slots:
		return b.slots(ctx, c)
	case commands.Freeze:
		return b.freezeCmd(ctx, inv, c)
	case commands.Ack:
		return b.ack(ctx, inv.Actor, c.ID, "", inv.Delivery)
	case commands.Pending:
		return b.pending(ctx, c.ID)
	case commands.Link:
		return b.link(ctx, inv, c)
	case commands.Log:
		return b.decisionLog(ctx, c.ID)
	case commands.Ready:
		return b.setCriterion(ctx, inv, c.ID, c.Criterion, CriterionMet, "")
	case commands.Waive:
		return b.setCriterion(ctx, inv, c.ID, c.Criterion, CriterionWaived, c.Reason)
	case commands.Unready:
		return b.setCriterion(ctx, inv, c.ID, c.Criterion, CriterionOpen, c.Reason)
	case commands.Plan:
		return b.recordPlan(ctx, inv, c)
	case commands.Debrief:
		return b.recordDebrief(ctx, inv, c)
	case commands.Stats:
		return b.stats(ctx, c)
	case commands.Help:
		return helpReply(c.Topic), nil
	}
	return Message{}, fmt.Errorf("bot: unhandled command %T", cmd)
}

// startCmd starts an upgrade; with readiness criteria open only anyway,
// with a reason, starts it.
func (b *Bot) startCmd(ctx context.Context, inv Invocation, c commands.Start) (Message, error) {
	if c.Anyway != "" { // given: a reason, not blank, not a document
		if err := checkReason("reason", c.Anyway, commands.MissingAnywayReason); err != nil {
			return Message{}, err
		}
	}
	c.Anyway = strings.TrimSpace(c.Anyway)
	ch, err := b.transit(ctx, inv, "start", c.ID, edit{notReady: c.Anyway})
	if err != nil {
		return Message{}, err
	}
	m := transitionReply("start", ch.u, b.now())
	switch {
	case len(ch.d.Open) > 0:
		m.Lines = append(m.Lines, T(fmt.Sprintf("Started anyway with %d open: %s — %s. This is logged and told in the thread.",
			len(ch.d.Open), strings.Join(quoteAll(ch.d.Open), ", "), ch.d.Reason)))
	case c.Anyway != "" && len(ch.u.Readiness) == 0:
		m.Lines = append(m.Lines, T(ch.u.Key()+" has no readiness checklist, so it simply started; anyway was not needed and is not recorded."))
	case c.Anyway != "":
		m.Lines = append(m.Lines, T("Every readiness criterion was met or waived, so it simply started; anyway was not needed and is not recorded."))
	}
	return m, nil
}

// transitionCmd applies a transition and words the answer.
func (b *Bot) transitionCmd(ctx context.Context, inv Invocation, verb string, id int, e edit) (Message, error) {
	ch, err := b.transit(ctx, inv, verb, id, e)
	if err != nil {
		return Message{}, err
	}
	return transitionReply(verb, ch.u, b.now()), nil
}

func (b *Bot) plan(ctx context.Context, u *Upgrade) {
	if b.planner == nil {
		return
	}
	if err := b.planner.Plan(ctx, u); err != nil {
		b.log.ErrorContext(ctx, "planning reminders failed", "upgrade", u.Key(), "err", err)
	}
}

// helpReply is a help page line by line, in the typed grammar: a platform
// lays a long page out in as many parts as it needs and writes its own
// command name. It is marked as the page of its topic (Message.Help), for
// platforms that write their own.
func helpReply(topic string) Message {
	m := reply()
	for _, l := range strings.Split(commands.HelpText(topic), "\n") {
		m.Lines = append(m.Lines, Text{}.Typed(l))
	}
	m.Help = &HelpPage{Topic: helpTopic(topic)}
	return m
}

// helpTopic is the subcommand a help topic names, as HelpText reads it
// (trimmed, any case), or "" when it names none (the overview).
func helpTopic(topic string) string {
	topic = strings.ToLower(strings.TrimSpace(topic))
	if slices.Contains(commands.Names(), topic) {
		return topic
	}
	return ""
}

// usageRefused is refused with each usage line marked with the subcommand
// it is the usage of (Span.Verb), when usage is one subcommand's usage:
// platforms that do not type the grammar write that usage their own way.
func usageRefused(t Text, usage string) Message {
	m := refused(t, usage)
	verb := usageVerb(usage)
	if verb == "" {
		return m
	}
	for _, l := range m.Lines {
		for i := range l {
			if l[i].Kind == SpanTypedCode {
				l[i].Verb = verb
			}
		}
	}
	return m
}

// usageVerb is the subcommand whose usage usage is (commands.Usage, or
// one form of it such as schedule's every), "" when it is none's (every
// usage line, or the pointer to help).
func usageVerb(usage string) string {
	if usage == "" {
		return ""
	}
	for _, n := range commands.Names() {
		u := commands.Usage(n)
		if u == usage {
			return n
		}
		if !strings.Contains(usage, "\n") && strings.HasPrefix(usage, "/upgrade "+n+" ") && strings.HasPrefix(u, "/upgrade "+n+" ") {
			return n
		}
	}
	return ""
}
