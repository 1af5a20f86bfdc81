package slack

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	slackgo "github.com/slack-go/slack"

	"github.com/upgradebot/upgradebot/bot"
)

// Block Kit limits (https://api.slack.com/reference/block-kit/blocks); going
// over them makes Slack refuse the whole message with invalid_blocks.
const (
	maxHeader       = 150
	maxSectionText  = 3000
	maxField        = 2000
	maxFields       = 10
	maxBlocks       = 50
	maxFallbackText = 3000
)

// escape makes user-provided text inert in mrkdwn: only &, < and > are
// control characters there.
func escape(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// style renders the core's messages for one Slack app: its command name
// is how command hints are written.
type style struct {
	command string // the slash command, "/upgrade"
}

// mrkdwn renders rich text the way Slack shows it: times in each reader's
// zone, mentions that notify, commands as typed. Every message part goes
// through here.
func (st style) mrkdwn(t bot.Text) string {
	var b strings.Builder
	for _, s := range t {
		switch s.Kind {
		case bot.SpanCommand:
			if s.Hint != nil {
				b.WriteString(wrap(s.Hint.Typed(st.command), "`"))
			}
		case bot.SpanBold:
			b.WriteString(wrap(s.Text, "*"))
		case bot.SpanCode:
			b.WriteString(wrap(s.Text, "`"))
		case bot.SpanTyped:
			b.WriteString(escape(bot.Retyped(s.Text, st.command)))
		case bot.SpanTypedCode:
			b.WriteString(wrap(bot.Retyped(s.Text, st.command), "`"))
		case bot.SpanTime:
			b.WriteString(slackDate(s.At))
		case bot.SpanMention:
			b.WriteString(mention(s.Who))
		case bot.SpanLink:
			b.WriteString(link(s.Text, s.URL))
		case bot.SpanChannel:
			b.WriteString(channelRef(s.ID))
		default:
			b.WriteString(escape(s.Text))
		}
	}
	return b.String()
}

// wrap puts a mrkdwn marker around s; Slack ignores markers next to spaces, so
// surrounding whitespace stays outside.
func wrap(s, marker string) string {
	core := strings.TrimSpace(s)
	if core == "" {
		return escape(s)
	}
	i := strings.Index(s, core)
	return escape(s[:i]) + marker + escape(core) + marker + escape(s[i+len(core):])
}

// slackDate renders an instant in the reader's own zone, with a UTC fallback
// for clients that cannot: <!date^UNIX^{date_short_pretty} {time}|… UTC>.
func slackDate(at time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", at.Unix(), at.UTC().Format("2006-01-02 15:04 UTC"))
}

// channelRef links a Slack channel (<#C…>) or user (<@U…>); a channel of
// another platform is named in plain text with its platform, so that its id
// is not taken for a Slack channel: "#112233445566778800 (Discord)".
func channelRef(id string) string {
	rest, ok := strings.CutPrefix(id, Platform+":")
	if !ok || rest == "" {
		name := escape(bot.ChannelName(id))
		if p := otherPlatform(id); p != "" {
			name += " (" + p + ")"
		}
		return name
	}
	switch rest[0] {
	case 'C', 'G', 'D':
		return "<#" + rest + ">"
	case 'U', 'W':
		return "<@" + rest + ">"
	}
	return escape(rest)
}

// otherPlatform names the platform of an id that is not Slack's
// ("discord:1122…" is Discord's), or "" for Slack's or an id without one.
func otherPlatform(id string) string {
	p, _, ok := strings.Cut(id, ":")
	switch {
	case !ok || p == "" || p == Platform:
		return ""
	case p == "discord":
		return "Discord"
	}
	return p
}

// mention notifies a Slack user or user group; principals known only on
// other platforms are named instead.
func mention(p bot.Principal) string {
	for _, id := range p.IDs {
		rest, ok := strings.CutPrefix(id, Platform+":")
		if !ok || rest == "" {
			continue
		}
		switch rest[0] {
		case 'U', 'W':
			return "<@" + rest + ">"
		case 'S':
			return "<!subteam^" + rest + ">"
		}
	}
	if p.Group && p.Anonymous() {
		return escape(groupWords(p.Key))
	}
	name := p.Name
	if name == "" {
		name = p.Key
	}
	return "@" + escape(name)
}

// plainMention is a mention in the plain-text fallback: @name, or the
// words for a group of another platform whose name is not known, as the
// blocks write it.
func plainMention(p bot.Principal) string {
	if p.Group && p.Anonymous() && !strings.HasPrefix(p.Key, Platform+":") {
		return groupWords(p.Key)
	}
	return "@" + p.Name
}

// groupWords names a group of another platform whose name is not known,
// rather than by an id that means nothing here: "a Discord role".
func groupWords(id string) string {
	if strings.HasPrefix(id, "discord:&") {
		return "a Discord role"
	}
	if p := otherPlatform(id); p != "" {
		return "a " + p + " group"
	}
	return "a group"
}

// link renders <url|label>; the URL must not close the link early.
func link(label, url string) string {
	u := strings.NewReplacer("&", "&amp;", "<", "%3C", ">", "%3E", "|", "%7C").Replace(url)
	if label == "" || label == url {
		return "<" + u + ">"
	}
	return "<" + u + "|" + escape(label) + ">"
}

// chunks renders a line as mrkdwn pieces of at most n bytes, cut only
// between spans, so a long mention line (a rollback alert to hundreds of
// people) continues in the next section instead of losing mentions, and no
// <@…> or <!date…> is ever split. Only a single span longer than n is cut.
func (st style) chunks(t bot.Text, n int) []string {
	var out []string
	var cur strings.Builder
	for _, sp := range t {
		r := st.mrkdwn(bot.Text{sp})
		if cur.Len() > 0 && cur.Len()+len(r) > n {
			out = append(out, cur.String())
			cur.Reset()
		}
		cur.WriteString(truncate(r, n))
	}
	if cur.Len() > 0 || len(out) == 0 {
		s := cur.String()
		if strings.TrimSpace(s) == "" && len(out) == 0 {
			s = " "
		}
		out = append(out, s)
	}
	return out
}

// truncate cuts mrkdwn s to at most n bytes on a rune boundary, marking
// the cut. It never splits an escape (&amp;, &lt;, &gt;) or a Slack token
// (<@U…>, <!date…>, <url|label>): the cut moves back to its start, so a
// token longer than n is left out whole. In rendered text a bare & or <
// only ever starts one of them (text is escaped).
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if i := strings.LastIndexByte(s[:cut], '<'); i >= 0 && strings.IndexByte(s[i:cut], '>') < 0 {
		cut = i
	}
	if i := strings.LastIndexByte(s[:cut], '&'); i >= 0 && cut-i < len("&amp;") && strings.IndexByte(s[i:cut], ';') < 0 {
		cut = i
	}
	return s[:cut] + "…"
}

// truncateRunes cuts s to at most n characters (Slack counts plain_text in characters).
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func mdText(s string) *slackgo.TextBlockObject {
	return slackgo.NewTextBlockObject(slackgo.MarkdownType, s, false, false)
}

// ackValue is the button's value on the wire: "UPG-7:brief".
func ackValue(a bot.AckButton) string { return a.UpgradeID + ":" + a.Scope }

// parseAckValue reads a button's value back; ok is false for a value that
// is not one of ours.
func parseAckValue(v string) (bot.AckButton, bool) {
	id, scope, ok := strings.Cut(v, ":")
	if !ok || id == "" || scope == "" {
		return bot.AckButton{}, false
	}
	return bot.AckButton{UpgradeID: id, Scope: scope}, true
}

// ackButton is the Acknowledge button of a notice: primary, or danger for a rollback.
func ackButton(a bot.AckButton) *slackgo.ButtonBlockElement {
	btn := slackgo.NewButtonBlockElement(ActionAck, ackValue(a),
		slackgo.NewTextBlockObject(slackgo.PlainTextType, "Acknowledge", false, false))
	if a.Scope == bot.ScopeRollback {
		return btn.WithStyle(slackgo.StyleDanger)
	}
	return btn.WithStyle(slackgo.StylePrimary)
}

// blocks lays a message out in Block Kit: a header with the title, sections
// of fields, sections of lines, and the buttons (Acknowledge, Mark met,
// Write debrief).
func (st style) blocks(m bot.Message) []slackgo.Block {
	var out []slackgo.Block
	if m.Title != "" {
		out = append(out, slackgo.NewHeaderBlock(slackgo.NewTextBlockObject(slackgo.PlainTextType, truncateRunes(m.Title, maxHeader), true, false)))
	}
	for i := 0; i < len(m.Fields); i += maxFields {
		var fields []*slackgo.TextBlockObject
		for _, f := range m.Fields[i:min(i+maxFields, len(m.Fields))] {
			fields = append(fields, mdText(truncate("*"+escape(f.Label)+"*\n"+st.mrkdwn(f.Value), maxField)))
		}
		out = append(out, slackgo.NewSectionBlock(nil, fields, nil))
	}
	var section strings.Builder
	flush := func() {
		if section.Len() > 0 {
			out = append(out, slackgo.NewSectionBlock(mdText(section.String()), nil, nil))
			section.Reset()
		}
	}
	lines := m.Lines
	if len(m.UTC) > 0 { // times render in each reader's zone: restate them in UTC
		at := min(1, len(lines))
		lines = append(append(append([]bot.Text(nil), lines[:at]...), m.UTC), lines[at:]...)
	}
	for _, l := range lines {
		for _, line := range st.chunks(l, maxSectionText) {
			if section.Len() > 0 && section.Len()+1+len(line) > maxSectionText {
				flush()
			}
			if section.Len() > 0 {
				section.WriteByte('\n')
			}
			section.WriteString(line)
		}
	}
	flush()
	actions := actionBlocks(m)
	if limit := maxBlocks - len(actions); len(out) > limit {
		out = append(out[:limit-1], slackgo.NewSectionBlock(mdText(st.cutNote(m)), nil, nil))
	}
	return append(out, actions...)
}

// cutNote is what a message too long for Slack ends with: how to ask for
// less of it (Narrow), or where the whole of it can be read (Elsewhere, for
// show, which would otherwise point at itself; else show).
func (st style) cutNote(m bot.Message) string {
	switch {
	case m.Narrow != nil:
		return "… (cut: too long for one Slack message; narrow it with " + wrap(m.Narrow.Typed(st.command), "`") + ")"
	case len(m.Elsewhere) > 0: // show itself: where its parts cut off are
		return "… (cut: too long for one Slack message; see " + st.mrkdwn(m.Elsewhere) + ")"
	case m.UpgradeID == "":
		return "… (cut: too long for one Slack message)"
	}
	return "… (cut: too long for one Slack message; see " + wrap(st.command+" show "+m.UpgradeID, "`") + ")"
}

// fallback is the plain text Slack shows in notifications and in clients
// that cannot render blocks.
func (st style) fallback(m bot.Message) string {
	s := escape(bot.Plain{Loc: time.UTC, Command: st.command, Home: Platform, Mention: plainMention}.Message(m))
	if m.Alert && !startsWithEmoji(s) { // one emoji: the notice's own, else the alarm
		s = ":rotating_light: " + s
	}
	if strings.TrimSpace(s) == "" {
		s = " "
	}
	return truncate(s, maxFallbackText)
}

// startsWithEmoji reports whether s begins with a pictograph (🚨, ⚠️, ✅…).
func startsWithEmoji(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.Is(unicode.So, r)
}

// msgOptions are the chat.postMessage/chat.update options of a message.
func (st style) msgOptions(m bot.Message) []slackgo.MsgOption {
	return []slackgo.MsgOption{
		slackgo.MsgOptionText(st.fallback(m), false),
		slackgo.MsgOptionBlocks(st.blocks(m)...),
	}
}

// answer is the JSON Slack takes as the answer to a slash command (HTTP body
// or Socket Mode ack) and on a response_url.
type answer struct {
	ResponseType    string          `json:"response_type,omitempty"`
	Text            string          `json:"text"`
	Blocks          []slackgo.Block `json:"blocks,omitempty"`
	ReplaceOriginal *bool           `json:"replace_original,omitempty"`
}

// payload renders an answer to a command or press: the core's answers are
// private, so Slack shows them to the invoker only (ephemeral).
func (st style) payload(m bot.Message) answer {
	return answer{ResponseType: slackgo.ResponseTypeEphemeral, Text: st.fallback(m), Blocks: st.blocks(m)}
}

// workingOnIt is the first answer when the bot needs longer than Slack waits.
func (st style) workingOnIt() answer {
	return st.payload(bot.Message{Kind: bot.KindReply, Lines: []bot.Text{bot.T("Working on it…")}})
}
