package bot

import (
	"fmt"
	"strings"
	"time"
)

// SpanKind says how an adapter renders one piece of text.
type SpanKind int

// The kinds of span. Adapters render each their own way: a Time as Slack's
// <!date^…> or Discord's <t:…>, a Mention as <@U…> or <@&…>.
const (
	SpanText SpanKind = iota
	SpanBold
	SpanCode
	SpanTime
	SpanMention
	SpanLink
	SpanChannel // a channel (or, for failures, any platform target) by id
)

// Span is one piece of rich text.
type Span struct {
	Kind SpanKind
	Text string    // text, bold, code; the label of a link
	At   time.Time // SpanTime
	Who  Principal // SpanMention
	URL  string    // SpanLink
	ID   string    // SpanChannel: "slack:C0123", "console:#ops"
}

// Text is a line of rich text.
type Text []Span

// T starts a Text with plain words.
func T(s string) Text { return Text{{Kind: SpanText, Text: s}} }

// Add appends plain words.
func (t Text) Add(s string) Text { return append(t, Span{Kind: SpanText, Text: s}) }

// Bold appends emphasized words.
func (t Text) Bold(s string) Text { return append(t, Span{Kind: SpanBold, Text: s}) }

// Code appends literal words.
func (t Text) Code(s string) Text { return append(t, Span{Kind: SpanCode, Text: s}) }

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

// Plain renders the text without markup: times in loc and UTC, mentions as @name.
func (t Text) Plain(loc *time.Location) string {
	var b strings.Builder
	for _, s := range t {
		switch s.Kind {
		case SpanTime:
			b.WriteString(FormatTime(s.At, loc))
		case SpanMention:
			b.WriteString("@" + s.Who.Name)
		case SpanChannel:
			b.WriteString(ChannelName(s.ID))
		case SpanLink:
			if s.Text != "" && s.Text != s.URL {
				fmt.Fprintf(&b, "%s (%s)", s.Text, s.URL)
			} else {
				b.WriteString(s.URL)
			}
		default:
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

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

// The notices of ../shared/spec/messages.md, plus replies to commands.
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
	KindError       Kind = "error" // an ephemeral error answer
)

// Field is one labelled value of a structured message (the root message).
type Field struct {
	Label string
	Value Text
}

// AckButton asks the reader to press Acknowledge for one scope of one upgrade.
type AckButton struct {
	UpgradeID string // "UPG-7"
	Scope     string // brief or rollback
}

// Value is the button payload: "UPG-7:brief" (Slack value; Discord custom_id suffix).
func (a AckButton) Value() string { return a.UpgradeID + ":" + a.Scope }

// Message is a platform-neutral message: a notice in a thread or channel,
// a direct message, or a reply to a command.
type Message struct {
	Kind      Kind
	UpgradeID string // "UPG-7", empty for replies not about one upgrade
	Title     string // heading, e.g. "UPG-7 payments v2.4.0"
	Lines     []Text
	// UTC restates the message's times in UTC, for renderings that show
	// times in each reader's own zone (Slack <!date>), right after the first
	// line. Plain renderings (Plain, the console) already show every time in
	// UTC and leave it out.
	UTC       Text
	Fields    []Field
	Ack       *AckButton
	Broadcast bool // thread reply also shown in the channel (Slack reply_broadcast)
	Alert     bool // loud: rollback and overrun
	Ephemeral bool // replies: only the invoker sees it
}

// Plain renders the whole message as plain text, the notification fallback.
// Its times carry UTC, so the UTC restatement is left out.
func (m Message) Plain(loc *time.Location) string {
	var parts []string
	if m.Title != "" {
		parts = append(parts, m.Title)
	}
	for _, l := range m.Lines {
		parts = append(parts, l.Plain(loc))
	}
	for _, f := range m.Fields {
		parts = append(parts, f.Label+": "+f.Value.Plain(loc))
	}
	return strings.Join(parts, "\n")
}
