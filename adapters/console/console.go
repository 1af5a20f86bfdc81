// Package console is the terminal adapter: a REPL (and a script runner when
// stdin is not a terminal) that runs /upgrade commands as a chosen person
// and prints every message the bot would post, edit or send directly.
//
// It stands in for every platform at once: its Messenger takes the ids of
// any platform ("slack:C0123", "discord:1122…", "console:#ops"), so with a
// real configuration it is the dry run of what the bot would say, where
// and to whom.
package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/commands"
)

// Platform is the id prefix of console channels and people: "console:#payments".
const Platform = "console"

// Messenger prints what the bot posts, on any platform. Output is buffered
// until Drain so a command's reply is shown before the background notices
// it causes.
type Messenger struct {
	loc *time.Location
	dir *bot.Directory // names the people direct messages go to

	// shared: the store is one a serve uses too (see Shared).
	shared bool

	mu      sync.Mutex
	next    int
	buf     strings.Builder
	styles  map[string]Style // by platform (WriteHints)
	failing map[string]bool  // channels whose platform fails (:fail)
}

// Fail makes every post, reply and edit in channel fail, as a platform
// that is failing or busy would after its retries (on), or heals it.
func (m *Messenger) Fail(channel string, on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failing == nil {
		m.failing = map[string]bool{}
	}
	m.failing[channel] = on
}

// healAll heals every channel made to fail (:fail off).
func (m *Messenger) healAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.failing)
}

// failingErr is a delivery to a channel made to fail with :fail: it may
// pass (bot.TryLaterError), as a platform's 5xx after the retries.
type failingErr struct{ channel string }

func (e failingErr) Error() string {
	return "the platform of " + short(e.channel) + " is failing (console :fail; :fail off " + short(e.channel) + " heals it)"
}
func (failingErr) TryLater() bool { return true }

// Advice implements bot.AdvisedError, as the platforms advise on a 5xx.
func (failingErr) Advice() string {
	return "The platform was failing or busy; nothing to change, and later notices go out as usual."
}

// Quiet wraps the console's log handler: a log record about a failure made
// with :fail is left out, since the transcript shows it where it happens.
func Quiet(next slog.Handler) slog.Handler { return quiet{next} }

type quiet struct{ next slog.Handler }

func (q quiet) Enabled(ctx context.Context, l slog.Level) bool { return q.next.Enabled(ctx, l) }
func (q quiet) WithAttrs(as []slog.Attr) slog.Handler          { return quiet{q.next.WithAttrs(as)} }
func (q quiet) WithGroup(name string) slog.Handler             { return quiet{q.next.WithGroup(name)} }

func (q quiet) Handle(ctx context.Context, r slog.Record) error {
	made := false
	r.Attrs(func(a slog.Attr) bool {
		if err, ok := a.Value.Any().(error); ok && errors.As(err, new(failingErr)) {
			made = true
		}
		return !made
	})
	if made {
		return nil
	}
	return q.next.Handle(ctx, r)
}

// failed reports whether channel fails (:fail), printing the attempt.
func (m *Messenger) failed(channel, what string) error {
	m.mu.Lock()
	on := m.failing[channel]
	m.mu.Unlock()
	if !on {
		return nil
	}
	m.write(fmt.Sprintf("── %s · %s not delivered: the platform is failing (:fail)\n", short(channel), what))
	return failingErr{channel}
}

// Shared says the console runs on a store that a serve uses too (a real
// Redis, not memory://). The messages the console shows as posted exist
// nowhere else, so the references it hands back name the console
// ("console:slack:C0123"): serve never takes them for a platform's own and
// never edits or replies to a Slack or Discord message that does not exist.
func (m *Messenger) Shared() { m.shared = true }

// ref is the reference of a message the console "posted" in channel.
func (m *Messenger) ref(channel string) bot.MessageRef {
	if m.shared && !strings.HasPrefix(channel, Platform+":") {
		channel = Platform + ":" + channel
	}
	return bot.MessageRef{Channel: channel, ID: m.newID()}
}

var (
	_ bot.Messenger = (*Messenger)(nil)
	_ bot.Answerer  = (*Messenger)(nil)
)

// NewMessenger builds a Messenger rendering times in loc (and UTC); dir,
// when set, names the person behind a platform id.
func NewMessenger(loc *time.Location, dir *bot.Directory) *Messenger {
	return &Messenger{loc: loc, dir: dir}
}

// Style is how a platform writes commands, for the dry run of what it
// would show.
type Style struct {
	// Command is its command name ("/deploybot", Slack's slack.command):
	// in help pages and usage lines, and as the console takes it typed
	// (besides /upgrade).
	Command string
	// Hint writes its command hints (Slack: after Command; Discord: with
	// the command's options).
	Hint func(bot.Hint) string
	// Native, when set, is a message as the platform shows it before
	// rendering (Discord writes help pages and usage lines from its
	// registered command).
	Native func(bot.Message) bot.Message
	// Typed, when set, reads a command written with the platform's own
	// syntax (Discord's options: "show id:UPG-7"), so that a hint copied
	// from that platform's reply can be typed back. ok is false when text
	// is not in that syntax; it is then read as the typed grammar.
	Typed func(text string, env commands.Env) (cmd commands.Command, ok bool, err error)
}

// WriteHints makes the messages to platform's channels and people show
// their commands that platform's own way, so the dry run shows what each
// platform would post, and the private replies of a person on it what
// that platform would answer. main.go wires the platforms' styles.
func (m *Messenger) WriteHints(platform string, st Style) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.styles == nil {
		m.styles = map[string]Style{}
	}
	m.styles[platform] = st
}

// commandWord reports whether word is the command name of a platform the
// console stands in for (WriteHints), so that a hint copied from a reply
// can be typed as it is.
func (m *Messenger) commandWord(word string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, st := range m.styles {
		if st.Command != "" && strings.EqualFold(st.Command, word) {
			return true
		}
	}
	return false
}

// typed reads text (what follows /upgrade) in a platform's own syntax
// (Style.Typed): the one of reader's platform first, then the others', in
// name order. ok is false when no platform's syntax is text's.
func (m *Messenger) typed(reader, text string, env commands.Env) (cmd commands.Command, ok bool, err error) {
	own := m.style(reader)
	m.mu.Lock()
	readers := []func(string, commands.Env) (commands.Command, bool, error){own.Typed}
	for _, platform := range slices.Sorted(maps.Keys(m.styles)) {
		readers = append(readers, m.styles[platform].Typed)
	}
	m.mu.Unlock()
	for _, read := range readers {
		if read == nil {
			continue
		}
		if cmd, ok, err := read(text, env); ok {
			return cmd, true, err
		}
	}
	return nil, false, nil
}

// plain renders for the reader of target (a channel or person id): times
// in loc, commands the way target's platform writes them.
func (m *Messenger) plain(target string, loc *time.Location) bot.Plain {
	p := bot.Plain{Loc: loc, Platforms: m.dir != nil && m.dir.ManyPlatforms()}
	st := m.style(target)
	p.Command, p.Hint = st.Command, st.Hint
	return p
}

// style is how target's platform (target a channel or person id) writes
// commands; the zero Style (the console's own: /upgrade) when WriteHints
// did not set one.
func (m *Messenger) style(target string) Style {
	platform, _, ok := strings.Cut(strings.TrimPrefix(target, Platform+":"), ":")
	if !ok {
		return Style{}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.styles[platform]
}

// native is msg as target's platform shows it (Style.Native).
func (m *Messenger) native(target string, msg bot.Message) bot.Message {
	if st := m.style(target); st.Native != nil {
		return st.Native(msg)
	}
	return msg
}

// answered is whose platform writes a private answer to inv: the
// channel's, or, in a console channel, the person's (a person on Slack
// reads the answer Slack would give).
func answered(to bot.Invoker) string {
	if strings.HasPrefix(to.Channel, Platform+":") && to.User != "" {
		return to.User
	}
	return to.Channel
}

// short is how a header names a channel: console channels by their name,
// other platforms' with their prefix, so the dry run shows where it goes.
func short(id string) string { return strings.TrimPrefix(id, Platform+":") }

// readerZone is where the person behind id reads times: their configured
// zone, else the console's.
func (m *Messenger) readerZone(id string) *time.Location {
	if m.dir != nil {
		if loc := m.dir.Location(id); loc != nil {
			return loc
		}
	}
	return m.loc
}

// person names the person behind a platform id as messages mention them,
// with the id beside it unless it is the console's: "alice (slack:U0123)",
// "U0CAROL (slack:U0CAROL)" for an owner configured by id only.
func (m *Messenger) person(id string) string {
	if m.dir == nil {
		return short(id)
	}
	name := m.dir.Principal(id).Name
	if strings.HasPrefix(id, Platform+":") {
		return name
	}
	return name + " (" + id + ")"
}

func (m *Messenger) write(s string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.buf.WriteString(s)
}

func (m *Messenger) newID() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	return fmt.Sprintf("m%d", m.next)
}

// Post implements bot.Messenger.
func (m *Messenger) Post(_ context.Context, channel string, msg bot.Message) (bot.MessageRef, error) {
	if err := m.failed(channel, "new message"); err != nil {
		return bot.MessageRef{}, err
	}
	ref := m.ref(channel)
	m.write(render(fmt.Sprintf("── %s · new message %s", short(channel), ref.ID), m.native(channel, msg), m.plain(channel, m.loc)))
	return ref, nil
}

// Reply implements bot.Messenger.
func (m *Messenger) Reply(_ context.Context, root bot.MessageRef, msg bot.Message) (bot.MessageRef, error) {
	if err := m.failed(root.Channel, "reply in thread "+root.ID); err != nil {
		return bot.MessageRef{}, err
	}
	ref := m.ref(root.Channel)
	where := fmt.Sprintf("── %s · thread %s · reply %s", short(root.Channel), root.ID, ref.ID)
	if msg.AlsoInChannel {
		where += " · also sent to the channel"
	}
	m.write(render(where, m.native(root.Channel, msg), m.plain(root.Channel, m.loc)))
	return ref, nil
}

// Edit implements bot.Messenger. It prints the whole edited message, as a
// platform's edit (Slack chat.update) carries it.
func (m *Messenger) Edit(_ context.Context, ref bot.MessageRef, msg bot.Message) error {
	if err := m.failed(ref.Channel, "edit of message "+ref.ID); err != nil {
		return err
	}
	m.write(render(fmt.Sprintf("── %s · message %s edited", short(ref.Channel), ref.ID), m.native(ref.Channel, msg), m.plain(ref.Channel, m.loc)))
	return nil
}

// Direct implements bot.Messenger.
func (m *Messenger) Direct(_ context.Context, user string, msg bot.Message) (bot.MessageRef, error) {
	ref := m.ref(user)
	m.write(render(fmt.Sprintf("── direct message to @%s", m.person(user)), m.native(user, msg), m.plain(user, m.readerZone(user))))
	return ref, nil
}

// Answer implements bot.Answerer: a message only the invoker sees.
func (m *Messenger) Answer(_ context.Context, to bot.Invoker, msg bot.Message) error {
	m.write(render(fmt.Sprintf("── %s · only %s can see this", short(to.Channel), m.person(to.User)), m.native(answered(to), msg), m.plain(answered(to), m.readerZone(to.User))))
	return nil
}

// Drain returns and clears what was printed since the last Drain.
func (m *Messenger) Drain() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.buf.String()
	m.buf.Reset()
	return s
}

// Clock is the console's adjustable clock: real time (or a fixed start in
// tests) plus whatever :advance added.
type Clock struct {
	mu     sync.Mutex
	base   func() time.Time
	offset time.Duration
}

// NewClock starts a clock at base() moving with it.
func NewClock(base func() time.Time) *Clock { return &Clock{base: base} }

// Now returns the console's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base().Add(c.offset)
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// AdvanceTo moves the clock forward to t; it never moves it back.
func (c *Clock) AdvanceTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d := t.Sub(c.base().Add(c.offset)); d > 0 {
		c.offset += d
	}
}

// Ticker runs the scheduler's jobs as the console's clock moves
// (*bot.Scheduler): :advance steps the clock from one due moment to the next.
type Ticker interface {
	// RunDue runs every job due now.
	RunDue(ctx context.Context) (int, error)
	// NextDue is when the earliest planned job falls due; false when none is.
	NextDue(ctx context.Context) (time.Time, bool, error)
}

// Core is what a Session needs of the bot (*bot.Bot).
type Core interface {
	Handle(ctx context.Context, inv bot.Invocation, text string) bot.Message
	Press(ctx context.Context, p bot.ButtonPress) bot.Message
	// Do runs a command given as data: what a readiness button or the
	// debrief form runs.
	Do(ctx context.Context, inv bot.Invocation, cmd commands.Command) bot.Message
	// Env is what reading the invoker's input needs (their zone, the
	// clock): for a command in a platform's own syntax (Style.Typed).
	Env(inv bot.Invocation) commands.Env
	// Flush waits for the notices a command caused, so they print after it.
	Flush()
	Directory() *bot.Directory
}

// Options configures a Session.
type Options struct {
	Bot       Core
	Messenger *Messenger
	Clock     *Clock
	Ticker    Ticker // optional: enables :advance
	Person    string // who types first
	Channel   string // where commands are typed, default "console:#ops"
	Location  *time.Location
	Out       io.Writer
	Echo      bool // print each input line (scripts)
	Prompt    bool // print a prompt (terminals)
}

// Session is one console conversation.
type Session struct {
	o      Options
	person string
}

// NewSession builds a session.
func NewSession(o Options) *Session {
	if o.Channel == "" {
		o.Channel = Platform + ":#ops"
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	return &Session{o: o, person: o.Person}
}

// actor maps the console person to a platform identity: a configured
// person's first id (so owner and audience rules apply as on a real
// platform), a platform id as typed (slack:U0123, as an owners list may
// name someone), else console:<name>.
func (s *Session) actor() bot.Actor {
	if p, ok := s.o.Bot.Directory().Person(s.person); ok && len(p.IDs) > 0 {
		return bot.Actor{ID: p.IDs[0], Name: p.Name}
	}
	if platform, rest, ok := strings.Cut(s.person, ":"); ok && platform != "" && rest != "" {
		if p, ok := s.byPlatformID(); ok {
			return bot.Actor{ID: s.person, Name: p.Name} // one identity of a configured person
		}
		return bot.Actor{ID: s.person, Name: rest}
	}
	return bot.Actor{ID: Platform + ":" + s.person, Name: s.person}
}

// Run reads lines until EOF or :quit, or until ctx ends, even while it
// waits for a line (then it returns ctx's error).
func (s *Session) Run(ctx context.Context, in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for {
		if s.o.Prompt {
			fmt.Fprintf(s.o.Out, "%s> ", s.name())
		}
		scanned := make(chan bool, 1)
		go func() { scanned <- sc.Scan() }()
		var more bool
		select {
		case <-ctx.Done():
			// The read goes on until the process ends; its line is dropped.
			if s.o.Prompt {
				fmt.Fprintln(s.o.Out) // leave the shell a fresh line
			}
			return ctx.Err()
		case more = <-scanned:
		}
		if !more {
			break
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if s.o.Echo {
			fmt.Fprintf(s.o.Out, "\n%s> %s\n", s.name(), line)
		}
		if quit := s.Line(ctx, line); quit {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("console: read input: %w", err)
	}
	return nil
}

// Line runs one input line and prints its effects; it reports whether to quit.
func (s *Session) Line(ctx context.Context, line string) (quit bool) {
	out := s.o.Out
	word, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	if s.o.Messenger.commandWord(word) {
		// A platform's own command name (slack.command), as the replies
		// of a person on that platform write it.
		word = commands.DefaultCommand
	}
	switch strings.ToLower(word) {
	case commands.DefaultCommand:
		inv := s.invocation()
		// Discord's options (show id:UPG-7), as the hints to a person on
		// Discord write them, are read as Discord reads them; any other
		// text by the typed grammar.
		cmd, ok, err := s.o.Messenger.typed(inv.Actor.ID, rest, s.o.Bot.Env(inv))
		switch {
		case !ok:
			s.printReply(s.o.Bot.Handle(ctx, inv, rest))
		case err != nil:
			s.printReply(bot.ParseRefusal(err))
		default:
			s.printReply(s.o.Bot.Do(ctx, inv, cmd))
		}
	case ":as":
		if rest == "" {
			fmt.Fprintln(out, "usage: :as <person>")
			return false
		}
		s.person = rest
		fmt.Fprintf(out, "you are now %s (%s)\n", s.name(), s.actor().ID)
		s.NoteStranger()
	case ":press":
		id, scope, _ := strings.Cut(rest, " ")
		if id == "" {
			fmt.Fprintln(out, "usage: :press <UPG-id> [brief|rollback]")
			return false
		}
		s.printReply(s.o.Bot.Press(ctx, bot.ButtonPress{Actor: s.actor(), Button: bot.AckButton{UpgradeID: id, Scope: strings.TrimSpace(scope)}}))
	case ":ready":
		// A press of Mark met: the criterion by its number, as the button sends it.
		id, n, _ := strings.Cut(rest, " ")
		num, err := commands.ParseID(id)
		if n = strings.TrimSpace(n); err != nil || n == "" {
			fmt.Fprintln(out, "usage: :ready <UPG-id> <criterion number>")
			return false
		}
		s.printReply(s.o.Bot.Do(ctx, s.invocation(), commands.Ready{ID: num, Criterion: n}))
	case ":debrief":
		// The debrief form of Write debrief, submitted.
		id, text, _ := strings.Cut(rest, " ")
		num, err := commands.ParseID(id)
		if text = strings.TrimSpace(text); err != nil || text == "" {
			fmt.Fprintln(out, "usage: :debrief <UPG-id> <text...>")
			return false
		}
		s.printReply(s.o.Bot.Do(ctx, s.invocation(), commands.Debrief{ID: num, Text: text}))
	case ":fail":
		s.fail(rest)
	case ":advance":
		s.advance(ctx, rest)
	case ":help":
		fmt.Fprint(out, consoleHelp)
	case ":quit", ":exit":
		return true
	default:
		fmt.Fprintf(out, "unknown input %q: type /upgrade help for commands, :help for console commands\n", word)
	}
	return false
}

// fail makes a channel's platform fail, or heals it: ":fail #payments",
// ":fail off #payments". A channel without a platform prefix is the
// console's.
func (s *Session) fail(rest string) {
	if s.o.Messenger.shared {
		fmt.Fprintln(s.o.Out, ":fail works on the console's own Redis only (memory://): on a Redis a serve uses, the failures it records would show on real upgrades")
		return
	}
	on := true
	if w, r, _ := strings.Cut(rest, " "); strings.EqualFold(w, "off") {
		on, rest = false, strings.TrimSpace(r)
	}
	if !on && rest == "" {
		s.o.Messenger.healAll()
		fmt.Fprintln(s.o.Out, "every channel takes posts again")
		return
	}
	if rest == "" || strings.ContainsAny(rest, " \t") {
		fmt.Fprintln(s.o.Out, "usage: :fail <channel> (e.g. :fail #payments), :fail off [<channel>]")
		return
	}
	var known []string
	if d := s.o.Messenger.dir; d != nil {
		for _, name := range d.ServiceNames() {
			if svc, ok := d.Service(name); ok {
				known = append(known, svc.Channels...)
			}
		}
	}
	channels := resolveChannels(rest, known)
	if len(channels) == 0 {
		if on && len(known) > 0 {
			for i, k := range known {
				known[i] = short(k)
			}
			fmt.Fprintf(s.o.Out, "no service posts to %s; the services' channels: %s\n", rest, strings.Join(slices.Compact(slices.Sorted(slices.Values(known))), ", "))
			return
		}
		channels = []string{typedChannel(rest)}
	}
	for _, channel := range channels {
		s.o.Messenger.Fail(channel, on)
		if on {
			fmt.Fprintf(s.o.Out, "%s now fails every post, reply and edit, as a platform failing after its retries\n", short(channel))
		} else {
			fmt.Fprintf(s.o.Out, "%s takes posts again\n", short(channel))
		}
	}
}

// typedChannel is the channel id a :fail argument names as typed: a
// platform id as it is, else a console channel.
func typedChannel(typed string) string {
	if strings.Contains(typed, ":") {
		return typed
	}
	return Platform + ":" + typed
}

// resolveChannels is the services' channels (known) a :fail argument means:
// the one it names exactly (slack:C0PAYMENTS, #payments for the console's
// console:#payments), else every one whose name matches it as the bot's
// messages write it, with or without the # (#C0PAYMENTS for
// slack:C0PAYMENTS, #ops for console:ops).
func resolveChannels(typed string, known []string) []string {
	if id := typedChannel(typed); slices.Contains(known, id) {
		return []string{id}
	}
	if strings.Contains(typed, ":") {
		return nil
	}
	name := strings.TrimPrefix(typed, "#")
	var out []string
	for _, k := range known {
		_, n, _ := strings.Cut(k, ":")
		if strings.EqualFold(strings.TrimPrefix(n, "#"), name) && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// maxAdvanceSteps bounds the due moments one :advance stops at. A job that
// keeps failing is retried seconds later, again and again; without a bound
// :advance would step through those retries for ever.
const maxAdvanceSteps = 1000

// advance moves the clock forward by the duration arg, stopping at each
// moment a job falls due on the way, in order: each reminder, escalation
// or alert is sent at its own time (not late, and not replaced by a later
// reminder that piled up with it), under the clock line of its moment.
// Moments that send nothing are passed silently; the clock line of the
// target is always printed.
func (s *Session) advance(ctx context.Context, arg string) {
	out := s.o.Out
	if s.o.Ticker == nil {
		fmt.Fprintln(out, ":advance is off in this console: it runs on a real Redis, where serve sends the reminders that fall due (use redis.url = \"memory://\" to step through time)")
		return
	}
	d, err := commands.ParseDuration(arg)
	if err != nil || d <= 0 {
		fmt.Fprintf(out, "usage: :advance <duration>, e.g. :advance 2h or :advance 7d (%q is not a duration)\n", arg)
		return
	}
	target := s.o.Clock.Now().Add(d)
	for step := 0; ; step++ {
		if ctx.Err() != nil {
			return
		}
		next, ok, err := s.o.Ticker.NextDue(ctx)
		if err != nil {
			fmt.Fprintf(out, "looking for due jobs failed: %v\n", err)
			break
		}
		if !ok || !next.Before(target) {
			break // what falls due at the target runs below
		}
		if step == maxAdvanceSteps {
			fmt.Fprintf(out, ":advance stopped after %d due moments at %s, short of %s: jobs keep falling due (a job that fails is retried seconds later; see the log). The clock stays here; :advance again to go on.\n",
				maxAdvanceSteps, bot.FormatTime(s.o.Clock.Now(), s.location()), bot.FormatTime(target, s.location()))
			return
		}
		s.o.Clock.AdvanceTo(next)
		s.runDue(ctx, false)
	}
	s.o.Clock.AdvanceTo(target)
	s.runDue(ctx, true)
}

// runDue runs the jobs due at the console's time and prints what they sent,
// under the clock line (always, or only when something was sent).
func (s *Session) runDue(ctx context.Context, always bool) {
	_, err := s.o.Ticker.RunDue(ctx)
	s.o.Bot.Flush()
	sent := s.o.Messenger.Drain()
	if always || sent != "" || err != nil {
		// In the reader's zone, as the replies are.
		fmt.Fprintf(s.o.Out, "the clock is now %s\n", bot.FormatTime(s.o.Clock.Now(), s.location()))
	}
	if err != nil {
		fmt.Fprintf(s.o.Out, "running due jobs failed: %v\n", err)
	}
	fmt.Fprint(s.o.Out, sent)
}

// NoteStranger says, when the current person is not one the configuration
// names, what they may do: as :as says it, for the first person too.
func (s *Session) NoteStranger() {
	if !s.known() {
		fmt.Fprintf(s.o.Out, "note: %s is not a configured person: you may read and acknowledge, but you own nothing and are in no audience\n", s.person)
	}
}

// known reports whether the current person is someone the configuration
// names: a [[people]] entry, or a platform id among owners and admins.
func (s *Session) known() bool {
	dir := s.o.Bot.Directory()
	if _, ok := dir.Person(s.person); ok {
		return true
	}
	if _, ok := s.byPlatformID(); ok {
		return true
	}
	return dir.Named(s.person)
}

// byPlatformID is the configured person whose platform id the current
// person is ("slack:U0BOB" is bob), if any.
func (s *Session) byPlatformID() (bot.Person, bool) {
	if !strings.Contains(s.person, ":") {
		return bot.Person{}, false
	}
	dir := s.o.Bot.Directory()
	return dir.Person(dir.KeyOf(s.person))
}

// name is what the prompt, the replies and :as call the current person,
// as the messages name them: a platform id of a [[people]] entry is that
// person ("slack:U0BOB" is bob), any other platform id is called by the
// id's name ("slack:U0CAROL" is U0CAROL, as the root's "@U0CAROL" and the
// direct message's "@U0CAROL (slack:U0CAROL)"), anyone else as typed.
func (s *Session) name() string {
	return s.o.Bot.Directory().Principal(s.actor().ID).Name
}

// invocation is a command typed by the current person. A terminal tells no
// zone, so the core reads times in the person's configured zone, or the
// default one (and says which).
func (s *Session) invocation() bot.Invocation {
	return bot.Invocation{Actor: s.actor(), Channel: s.o.Channel}
}

// location is where the current person reads times: their configured zone,
// else the console's default.
func (s *Session) location() *time.Location {
	if loc := s.o.Bot.Directory().Location(s.actor().ID); loc != nil {
		return loc
	}
	return s.o.Location
}

func (s *Session) printReply(m bot.Message) {
	header := "── reply to " + s.name() + " (only you can see this)"
	// As the person's platform answers: a person on Slack reads its
	// command name (slack.command) in the hints, one on Discord its options.
	id := s.actor().ID
	st := s.o.Messenger.style(id)
	if st.Native != nil {
		m = st.Native(m)
	}
	p := bot.Plain{Loc: s.location(), Command: st.Command, Hint: st.Hint, Platforms: s.o.Bot.Directory().ManyPlatforms()}
	fmt.Fprint(s.o.Out, render(header, m, p))
	s.o.Bot.Flush()
	fmt.Fprint(s.o.Out, s.o.Messenger.Drain())
}

const consoleHelp = `Console commands:
  /upgrade ...              run a command as the current person (try /upgrade help), typed as
                            on Slack (/upgrade show UPG-7) or with Discord's options
                            (/upgrade show id:UPG-7); or slack.command, e.g. /ops
  :as <person>              switch person, e.g. :as bob
  :press <UPG-id> [scope]   press Acknowledge (scope brief or rollback; default: the latest notice)
  :ready <UPG-id> <n>       press Mark met on readiness criterion n
  :debrief <UPG-id> <text>  press Write debrief and submit the form with text
  :fail <channel>           make the platform of a channel fail (posts, replies, edits), e.g.
                            :fail #payments (or slack:C0PAYMENTS, #C0PAYMENTS); :fail off
                            #payments heals it, :fail off heals all
  :advance <duration>       move the clock forward, e.g. :advance 7d, stopping at each moment
                            something falls due on the way: every reminder, escalation and
                            alert is sent at its own time, under its "the clock is now" line
  :help                     this help
  :quit                     leave (also Ctrl-D, or Ctrl-C on an empty line)
Line editing (in a terminal): ←/→ move, ↑/↓ recall earlier lines, Ctrl-A/Ctrl-E go to the
start/end, Ctrl-U/Ctrl-K delete before/after the cursor, Ctrl-W the word before it; Ctrl-C
abandons the line being typed.
`
