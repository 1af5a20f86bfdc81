package bot

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/upgradebot/upgradebot/commands"
)

// This file is the platform-neutral message model: what the core says, as
// data. Each adapter renders it in its own markup, in one place.

// SpanKind says how an adapter renders one piece of text.
type SpanKind int

// The kinds of span. Adapters render each their own way: a Time in each
// reader's zone where the platform can, a Mention so that it notifies, a
// Command the way their users type commands.
const (
	SpanText SpanKind = iota
	SpanBold
	SpanCode
	SpanTime
	SpanMention
	SpanLink
	SpanChannel // a channel (or, for failures, any platform target) by id
	SpanCommand // a command to type, as data (Hint)
	// SpanTyped is words in the typed grammar (a help page, an example),
	// their command written as commands.DefaultCommand: each platform
	// writes its own command name there. SpanTypedCode is the same shown
	// as code (a usage line).
	SpanTyped
	SpanTypedCode
)

// Span is one piece of rich text.
type Span struct {
	Kind SpanKind
	Text string    // text, bold, code; the label of a link
	At   time.Time // SpanTime
	Who  Principal // SpanMention
	URL  string    // SpanLink
	ID   string    // SpanChannel: "slack:C0123", "console:#ops"
	Hint *Hint     `json:",omitempty"` // SpanCommand
	// Verb is, on a SpanTypedCode usage line of a refusal, the subcommand
	// whose usage it is ("show"), so that a platform whose users do not
	// type the grammar (Discord's options) writes that subcommand's usage
	// its own way; "" for anything else.
	Verb string `json:",omitempty"`
	// Options is, on a SpanText, the words a platform whose users give
	// commands as named options (Discord's), not typed in the grammar,
	// shows instead of Text: a sentence about typing ("quote it") said
	// the options' way ("give it in the reason option"). "" for none.
	Options string `json:",omitempty"`
}

// Hint is a command a message suggests, as data (subcommand and arguments),
// so each adapter writes it the way its users type it: the text grammar
// after the configured command name ("<command> start UPG-7"), or a
// command with named options ("<command> start id:UPG-7"). A Hint without
// a Verb is part of a command, its arguments only ("anyway <reason...>",
// "anyway:<reason...>").
type Hint struct {
	Verb string // the subcommand, e.g. "start"; "" for arguments only
	Args []Arg
}

// Arg is one argument of a Hint.
type Arg struct {
	Name        string // the option's name: "id", "duration", "when"
	Value       string // the value; empty shows the placeholder
	Keyword     string // the word that introduces it in typed text ("at"), if any
	Placeholder string // what to show without a value; default "<Name>"
	// Quote: typed, the value goes in quotes (a reason that begins with a
	// word the command reads as a keyword); an option takes it as is.
	Quote bool
	// Optional: the command works without it; without a value it shows
	// in brackets ("[<reason...>]", "[reason:<reason...>]") so nobody
	// takes the placeholder for something they must type.
	Optional bool
}

// Hole is what an argument without a value shows: "<duration>".
func (a Arg) Hole() string {
	if a.Placeholder != "" {
		return a.Placeholder
	}
	return "<" + a.Name + ">"
}

// Typed writes the hint in the text grammar after command, the way it is
// typed in a chat or the console: "<command> extend UPG-7 <duration>".
func (h Hint) Typed(command string) string {
	var words []string
	if h.Verb != "" {
		words = append(words, command, h.Verb)
	}
	for _, a := range h.Args {
		var arg []string
		if a.Keyword != "" {
			arg = append(arg, a.Keyword)
		}
		v := a.Value
		switch {
		case v == "":
			v = a.Hole()
		case a.Quote:
			v = `"` + v + `"`
		}
		arg = append(arg, v)
		words = append(words, a.Bracket(strings.Join(arg, " ")))
	}
	return strings.Join(words, " ")
}

// Bracket puts the written argument s in brackets when the argument is
// optional and has no value: "[<reason...>]", "[anyway <reason...>]".
func (a Arg) Bracket(s string) string {
	if a.Optional && a.Value == "" {
		return "[" + s + "]"
	}
	return s
}

// hint builds a Hint; idHint is the common "verb <id>".
func hint(verb string, args ...Arg) Hint { return Hint{Verb: verb, Args: args} }

func idHint(verb string, u *Upgrade) Hint { return hint(verb, Arg{Name: "id", Value: u.Key()}) }

// args is part of a command, its arguments only: the words to add to one.
func args(a ...Arg) Hint { return Hint{Args: a} }

// anywayArg is the reason that overrides (a freeze, open readiness
// criteria): "anyway <reason...>" typed, the option anyway on Discord.
var anywayArg = Arg{Name: "anyway", Keyword: "anyway", Placeholder: "<reason...>"}

// cancelReasonArg is cancel's reason, which it may go without:
// "cancel <id> [<reason...>]".
var cancelReasonArg = Arg{Name: "reason", Placeholder: "<reason...>", Optional: true}

// Text is a line of rich text.
type Text []Span

// T starts a Text with plain words.
func T(s string) Text { return Text{{Kind: SpanText, Text: s}} }

// Add appends plain words.
func (t Text) Add(s string) Text { return append(t, Span{Kind: SpanText, Text: s}) }

// AddEither appends plain words that depend on how the reader gives
// commands: typed, in the grammar (Slack, the console), or withOptions,
// as named options (Discord; Span.Options).
func (t Text) AddEither(typed, withOptions string) Text {
	return append(t, Span{Kind: SpanText, Text: typed, Options: withOptions})
}

// Bold appends emphasized words.
func (t Text) Bold(s string) Text { return append(t, Span{Kind: SpanBold, Text: s}) }

// Code appends literal words.
func (t Text) Code(s string) Text { return append(t, Span{Kind: SpanCode, Text: s}) }

// Typed appends words in the typed grammar, such as a help page: each
// platform writes its own command name where they say
// commands.DefaultCommand.
func (t Text) Typed(s string) Text { return append(t, Span{Kind: SpanTyped, Text: s}) }

// TypedCode appends a usage line of the typed grammar, shown as code, with
// the platform's own command name.
func (t Text) TypedCode(s string) Text { return append(t, Span{Kind: SpanTypedCode, Text: s}) }

// Retyped writes s, in the typed grammar, with command in place of
// commands.DefaultCommand wherever that starts a word ("/upgrade show" and
// "(/upgrade help" but not "/upgrades").
func Retyped(s, command string) string {
	const def = commands.DefaultCommand
	if command == "" || command == def || !strings.Contains(s, def) {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, def)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(def)
		starts := i == 0 || strings.IndexByte(" \t\n(`\"'", s[i-1]) >= 0
		ends := end == len(s) || strings.IndexByte(" \t\n)`\"'.,;:", s[end]) >= 0
		b.WriteString(s[:i])
		if starts && ends {
			b.WriteString(command)
		} else {
			b.WriteString(def)
		}
		s = s[end:]
	}
}

// Command appends a command to type.
func (t Text) Command(h Hint) Text { return append(t, Span{Kind: SpanCommand, Hint: &h}) }

// Time appends an instant, rendered in the reader's zone where the platform can.
func (t Text) Time(at time.Time) Text { return append(t, Span{Kind: SpanTime, At: at}) }

// Link appends a hyperlink.
func (t Text) Link(label, url string) Text {
	return append(t, Span{Kind: SpanLink, Text: label, URL: url})
}

// Channel appends a channel reference by its platform id.
func (t Text) Channel(id string) Text { return append(t, Span{Kind: SpanChannel, ID: id}) }

// Channels appends channel references separated by commas.
func (t Text) Channels(ids []string) Text {
	for i, id := range ids {
		if i > 0 {
			t = t.Add(", ")
		}
		t = t.Channel(id)
	}
	return t
}

// Mention appends one mention.
func (t Text) Mention(p Principal) Text { return append(t, Span{Kind: SpanMention, Who: p}) }

// Mentions appends mentions separated by spaces.
func (t Text) Mentions(ps []Principal) Text {
	for i, p := range ps {
		if i > 0 {
			t = t.Add(" ")
		}
		t = t.Mention(p)
	}
	return t
}

// Then appends another text.
func (t Text) Then(more Text) Text { return append(t, more...) }

// ChannelName is how plain text shows a channel id: without the platform
// prefix, as #name ("slack:C0123" -> "#C0123", "console:#ops" -> "#ops").
// Adapters render real channel links themselves.
func ChannelName(id string) string {
	_, rest, ok := strings.Cut(id, ":")
	if !ok || rest == "" {
		return id
	}
	if strings.HasPrefix(rest, "#") {
		return rest
	}
	return "#" + rest
}

// platformName is the platform of a channel id as people write it, from
// the id's prefix: "slack:C0123" is Slack's; "" for an id without one.
func platformName(id string) string {
	p, _, ok := strings.Cut(id, ":")
	if !ok || p == "" {
		return ""
	}
	r, n := utf8.DecodeRuneInString(p)
	return string(unicode.ToUpper(r)) + p[n:]
}

// Plain renders rich text without markup: times in Loc and in UTC, mentions
// as @name, command hints as typed after Command. It is the rendering of
// the console and of notification fallbacks.
type Plain struct {
	Loc     *time.Location // nil: UTC only
	Command string         // the command hints start with; default commands.DefaultCommand
	// Hint, when set, writes command hints instead (a platform's own
	// syntax, for a dry run of what that platform would show).
	Hint func(Hint) string
	// Platforms names each channel's platform after it, from its id's
	// prefix ("#C0123 (Slack)"): set where channels are on more than one
	// platform (Directory.ManyPlatforms).
	Platforms bool
	// Home, when set, is the platform of the reader (an id prefix,
	// "slack"): a channel of any other platform is named with its
	// platform ("#1122… (Discord)"), as Platforms does for every channel.
	Home string
	// Mention, when set, writes a mention instead of "@name" (a platform's
	// words for a group it cannot name).
	Mention func(Principal) string
}

// Text renders one line.
func (p Plain) Text(t Text) string {
	var b strings.Builder
	for _, s := range t {
		switch s.Kind {
		case SpanTime:
			b.WriteString(FormatTime(s.At, p.Loc))
		case SpanMention:
			if p.Mention != nil {
				b.WriteString(p.Mention(s.Who))
			} else {
				b.WriteString("@" + s.Who.Name)
			}
		case SpanChannel:
			b.WriteString(ChannelName(s.ID))
			if p.Platforms || (p.Home != "" && !strings.HasPrefix(s.ID, p.Home+":")) {
				if name := platformName(s.ID); name != "" {
					b.WriteString(" (" + name + ")")
				}
			}
		case SpanLink:
			if s.Text != "" && s.Text != s.URL {
				fmt.Fprintf(&b, "%s (%s)", s.Text, s.URL)
			} else {
				b.WriteString(s.URL)
			}
		case SpanCommand:
			switch {
			case s.Hint == nil:
			case p.Hint != nil:
				b.WriteString(p.Hint(*s.Hint))
			default:
				b.WriteString(s.Hint.Typed(p.command()))
			}
		case SpanTyped, SpanTypedCode:
			b.WriteString(Retyped(s.Text, p.command()))
		default:
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

func (p Plain) command() string {
	if p.Command == "" {
		return commands.DefaultCommand
	}
	return p.Command
}

// Message renders a whole message, the notification fallback. Its times
// carry UTC, so the UTC restatement is left out.
func (p Plain) Message(m Message) string {
	var parts []string
	if m.Title != "" {
		parts = append(parts, m.Title)
	}
	for _, l := range m.Lines {
		parts = append(parts, p.Text(l))
	}
	for _, f := range m.Fields {
		parts = append(parts, f.Label+": "+p.Text(f.Value))
	}
	return strings.Join(parts, "\n")
}

// Plain renders the text without markup, times in loc and UTC.
func (t Text) Plain(loc *time.Location) string { return Plain{Loc: loc}.Text(t) }

// FormatTime renders an instant for plain text: in loc, and in UTC when loc is another zone.
func FormatTime(at time.Time, loc *time.Location) string {
	utc := at.UTC().Format("2006-01-02 15:04 UTC")
	if loc == nil || loc == time.UTC || loc.String() == "UTC" {
		return utc
	}
	return at.In(loc).Format("2006-01-02 15:04 MST") + " (" + utc + ")"
}

// Kind names a notice; adapters may use it for styling and golden files.
type Kind string

// The notices of ../shared/spec/messages.md, plus answers to commands.
const (
	KindRoot        Kind = "root" // the pre-brief, kept current
	KindReminder    Kind = "reminder"
	KindWindowOpen  Kind = "window_open"
	KindStarted     Kind = "started"
	KindCompleted   Kind = "completed"
	KindCancelled   Kind = "cancelled"
	KindRescheduled Kind = "rescheduled"
	KindExtended    Kind = "extended"
	KindRollback    Kind = "rollback"
	KindOverrun     Kind = "overrun"
	KindEscalation  Kind = "escalation"
	KindLinked      Kind = "release_linked"
	KindReply       Kind = "reply" // an answer to the invoker
	KindError       Kind = "error" // a refusal: the invoker's input changed nothing
	// KindReleaseOut tells a service's channels that a release of its
	// repository is out and no upgrade to it is planned (a post of its own,
	// not in a thread).
	KindReleaseOut Kind = "release_out"
	// KindDuplicate answers a delivery the platform sent again, already
	// handled: the adapter answers nothing.
	KindDuplicate Kind = "duplicate"
	// KindThread is the thread a platform starts on a root (Discord): the
	// root stands, but its thread could not be started (PostedError). Only
	// its failure is recorded; the next notice tries to start it again.
	KindThread Kind = "thread"
)

// Private reports whether a message of this kind is for one person only:
// answers to commands and button presses are, by definition.
func (k Kind) Private() bool { return k == KindReply || k == KindError }

// Field is one labelled value of a structured message (the root message).
type Field struct {
	Label string
	Value Text
}

// AckButton asks the reader to press Acknowledge for one scope of one
// upgrade. Each adapter encodes it in its own wire form, and decodes it,
// in one place.
type AckButton struct {
	UpgradeID string // "UPG-7"
	Scope     string // brief or rollback
}

// Message is a platform-neutral message: a notice in a thread or channel, a
// direct message, or an answer to a command. Answers (Kind.Private) are
// only ever shown to the person who typed the command or pressed the button.
type Message struct {
	Kind      Kind
	UpgradeID string // "UPG-7", empty for answers not about one upgrade
	Title     string // heading, e.g. "UPG-7 payments v2.4.0"
	Lines     []Text
	// UTC restates the message's times in UTC, right after the first line,
	// for renderings that show times in each reader's own zone. Plain
	// renderings show every time in UTC already and leave it out.
	UTC    Text
	Fields []Field
	Ack    *AckButton
	// Ready are the buttons that mark open readiness criteria met (the
	// root message); Debrief opens the debrief form (the debrief prompt).
	Ready   []ReadyButton
	Debrief *DebriefButton
	// AlsoInChannel shows a thread notice in the channel too, not only in
	// the upgrade's thread.
	AlsoInChannel bool
	// ThreadTitle is the title of the upgrade whose thread a notice goes
	// to (the root's Title), for a platform that names a thread it has to
	// start late, at a reply (the core sets it on every thread notice).
	ThreadTitle string `json:",omitempty"`
	Alert       bool   // loud: rollback and overrun
	// Stamp, when not empty, names this exact message: within one process,
	// every message with the same Stamp is the same message, so an adapter
	// may keep its rendering and encoding under it. The core stamps the
	// answers it serves from memory (show of an unchanged upgrade, the
	// thanks for a press); such a message is shared: read it, never change
	// it.
	Stamp string
	// Help marks a help page (the answer to help): its Lines are the page
	// in the typed grammar, which Slack and the console show; a platform
	// whose users type commands another way (Discord's options) writes
	// its own page for Help.Topic instead.
	Help *HelpPage `json:",omitempty"`
	// Narrow, when set, is the command that asks for less of what this
	// message shows (list of one service): an adapter that has to cut the
	// message for its platform's size limit says it in the cut's note.
	Narrow *Hint `json:",omitempty"`
	// Elsewhere, when set, says where what an adapter cuts off this message
	// can be read instead, for a message about one upgrade that pointing at
	// the upgrade's show would not help (show itself): the cut's note says
	// it ("see " and these words) instead of naming show.
	Elsewhere Text `json:",omitempty"`
}

// HelpPage is which help page a message is.
type HelpPage struct {
	// Topic is the subcommand whose page it is ("schedule"), or "" for
	// the overview (help without a topic, or with one that names no
	// subcommand).
	Topic string
}

// Plain renders the whole message as plain text with times in loc and UTC.
func (m Message) Plain(loc *time.Location) string { return Plain{Loc: loc}.Message(m) }
