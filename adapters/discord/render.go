package discord

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/upgradebot/upgradebot/bot"
)

// Discord's limits on a message
// (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
// Going over one makes Discord refuse the whole message (50035 Invalid Form
// Body), so every renderer below keeps within them and cuts instead.
const (
	maxContent     = 2000
	maxEmbedTitle  = 256
	maxEmbedDesc   = 4096
	maxEmbedFields = 25
	maxFieldName   = 256
	maxFieldValue  = 1024
	maxEmbedTotal  = 6000
	maxMentions    = 100 // allowed_mentions users, and roles, each
	maxThreadName  = 100
	maxChoiceName  = 100
	maxChoices     = 25
)

// The colours of the root message's embed, by state: Discord's own palette.
const (
	colourScheduled  = 0x5865F2 // blurple
	colourInProgress = 0xFEE75C // yellow
	colourCompleted  = 0x57F287 // green
	colourAlert      = 0xED4245 // red: rolled back, alerts
	colourCancelled  = 0x99AAB5 // grey
)

// style renders the core's messages for Discord: command hints start with
// the application command's name.
type style struct {
	command string // "/upgrade"
}

// payload is one message as Discord takes it, whichever endpoint sends it
// (a channel message, an edit, an interaction response, a follow-up).
type payload struct {
	Content         string
	Embeds          []*discordgo.MessageEmbed
	Components      []discordgo.MessageComponent
	AllowedMentions *discordgo.MessageAllowedMentions
}

// piece is one rendered span: its markdown, and whom it mentions.
type piece struct {
	md   string
	user string // a Discord user it mentions
	role string // a Discord role it mentions
	// by marks an attribution ("started by @alice"): the person is named,
	// not called, so it never pings.
	by bool
	// words marks plain words (no markup of their own), which may be
	// shortened when a message is too long.
	words bool
}

// mdEscaper makes text typed by people inert in Discord markdown: no
// formatting, no <@…>, <#…> or <t:…> of their own, no masked links.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, `*`, `\*`, `_`, `\_`, "`", "\\`", `~`, `\~`, `|`, `\|`,
	`<`, `\<`, `>`, `\>`, `[`, `\[`, `]`, `\]`,
	"\n#", "\n\\#", "\n-", "\n\\-",
)

func escape(s string) string {
	if strings.ContainsAny(s, "\\*_`~|<>[]\n") {
		s = mdEscaper.Replace(s)
	}
	// A heading or a list item only starts a line.
	if strings.HasPrefix(s, "#") || strings.HasPrefix(s, "- ") {
		s = `\` + s
	}
	return s
}

// pieces renders rich text the way Discord shows it: times in each reader's
// zone, mentions of Discord users and roles, command hints as the
// application command with its options. Every message part goes through here.
func (st style) pieces(t bot.Text) []piece {
	out := make([]piece, 0, len(t))
	for i, s := range t {
		switch s.Kind {
		case bot.SpanMention:
			p := mention(s.Who)
			p.by = i > 0 && t[i-1].Kind == bot.SpanText && strings.HasSuffix(t[i-1].Text, " by ")
			out = append(out, p)
		case bot.SpanCommand:
			if s.Hint != nil {
				out = append(out, piece{md: code(st.hint(*s.Hint))})
			}
		case bot.SpanBold:
			out = append(out, piece{md: wrap(s.Text, "**")})
		case bot.SpanCode:
			out = append(out, piece{md: code(s.Text)})
		case bot.SpanTyped:
			out = append(out, piece{md: escape(bot.Retyped(s.Text, st.command))})
		case bot.SpanTypedCode:
			out = append(out, piece{md: code(bot.Retyped(s.Text, st.command))})
		case bot.SpanTime:
			out = append(out, piece{md: timestamp(s.At)})
		case bot.SpanLink:
			out = append(out, piece{md: link(s.Text, s.URL)})
		case bot.SpanChannel:
			out = append(out, piece{md: channelRef(s.ID)})
		default:
			out = append(out, piece{md: escape(s.Text), words: true})
		}
	}
	return out
}

// markdown renders a whole text.
func (st style) markdown(t bot.Text) string {
	var b strings.Builder
	for _, p := range st.pieces(t) {
		b.WriteString(p.md)
	}
	return b.String()
}

// hint writes a command the way Discord users type it: the application
// command, the subcommand, then each option as name:value (only the options
// for a hint without a subcommand).
func (st style) hint(h bot.Hint) string {
	var words []string
	if h.Verb != "" {
		words = append(words, st.command, h.Verb)
	}
	for _, a := range h.Args {
		v := a.Value
		if v == "" {
			v = a.Hole()
		}
		words = append(words, a.Bracket(a.Name+":"+v))
	}
	return strings.Join(words, " ")
}

// wrap puts a markdown marker around s, keeping surrounding spaces outside
// (Discord ignores "** x**").
func wrap(s, marker string) string {
	core := strings.TrimSpace(s)
	if core == "" {
		return escape(s)
	}
	i := strings.Index(s, core)
	return escape(s[:i]) + marker + escape(core) + marker + escape(s[i+len(core):])
}

// code is an inline code span; one holding a backtick is fenced with two.
func code(s string) string {
	if s == "" {
		return ""
	}
	if strings.Contains(s, "`") {
		return "`` " + s + " ``"
	}
	return "`" + s + "`"
}

// timestamp renders an instant in each reader's own zone, with how far off
// it is: <t:UNIX:f> (<t:UNIX:R>).
func timestamp(at time.Time) string {
	u := strconv.FormatInt(at.Unix(), 10)
	return "<t:" + u + ":f> (<t:" + u + ":R>)"
}

// link renders [label](url); the URL must not close the link early.
func link(label, url string) string {
	u := strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E").Replace(url)
	if label == "" || label == url {
		return u
	}
	return "[" + escape(label) + "](" + u + ")"
}

// channelRef links a Discord channel (<#…>); a channel of another platform
// is named in plain text with its platform, so that its id is not taken for
// a Discord channel: "#C0LEDGER (Slack)".
func channelRef(id string) string {
	rest, ok := strings.CutPrefix(id, Platform+":")
	if !ok || rest == "" || strings.HasPrefix(rest, "&") {
		name := bot.ChannelName(id)
		if n, ok := strings.CutPrefix(name, "#"); ok {
			name = "#" + escape(n)
		} else {
			name = escape(name)
		}
		if p := otherPlatform(id); p != "" {
			name += " (" + p + ")"
		}
		return name
	}
	return "<#" + rest + ">"
}

// otherPlatform names the platform of an id that is not Discord's
// ("slack:C0123" is Slack's), or "" for Discord's or an id without one.
func otherPlatform(id string) string {
	p, _, ok := strings.Cut(id, ":")
	switch {
	case !ok || p == "" || p == Platform:
		return ""
	case p == "slack":
		return "Slack"
	}
	return p
}

// mention calls a Discord user (<@…>) or role (<@&…>); principals known
// only on other platforms are named instead.
func mention(p bot.Principal) piece {
	for _, id := range p.IDs {
		rest, ok := strings.CutPrefix(id, Platform+":")
		if !ok || rest == "" {
			continue
		}
		if role, ok := strings.CutPrefix(rest, "&"); ok && role != "" {
			return piece{md: "<@&" + role + ">", role: role}
		}
		return piece{md: "<@" + rest + ">", user: rest}
	}
	if p.Group && p.Anonymous() {
		return piece{md: escape(groupWords(p.Key))}
	}
	name := p.Name
	if name == "" {
		name = p.Key
	}
	return piece{md: "@" + escape(name)}
}

// groupWords names a group of another platform whose name is not known,
// rather than by an id that means nothing here: "a Slack user group".
func groupWords(id string) string {
	p, _, _ := strings.Cut(id, ":")
	switch p {
	case "slack":
		return "a Slack user group"
	case "", Platform:
		return "a group"
	}
	return "a " + p + " group"
}

// runes counts as Discord counts: characters, not bytes.
func runes(s string) int { return utf8.RuneCountInString(s) }

// truncate cuts s to at most n characters, marking the cut.
func truncate(s string, n int) string {
	if runes(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// cutNote is what a message too long for Discord ends with: how to ask
// for less of it (Narrow), or where the whole of it can be read (Elsewhere,
// for show, which would otherwise point at itself; else show).
func (st style) cutNote(m bot.Message) string {
	switch {
	case m.Narrow != nil:
		return "… (cut: too long for one Discord message; narrow it with " + code(st.hint(*m.Narrow)) + ")"
	case len(m.Elsewhere) > 0: // show itself: where its parts cut off are
		return "… (cut: too long for one Discord message; see " + st.markdown(m.Elsewhere) + ")"
	case m.UpgradeID == "":
		return "… (cut: too long for one Discord message)"
	}
	return "… (cut: too long for one Discord message; see " + code(st.command+" show id:"+m.UpgradeID) + ")"
}

// block renders lines into at most limit characters, one line each. A
// block too long is cut between pieces, so no <@…> or <t:…> is ever split
// (only plain words are cut inside), and ends with note. The pieces that
// made it in are returned too: their mentions are the ones shown.
func (st style) block(lines []bot.Text, limit int, note string) (string, []piece) {
	var all []piece
	total := 0
	for i, l := range lines {
		if i > 0 {
			all = append(all, piece{md: "\n"})
		}
		all = append(all, st.pieces(l)...)
	}
	for _, p := range all {
		total += runes(p.md)
	}
	var b strings.Builder
	if total <= limit {
		for _, p := range all {
			b.WriteString(p.md)
		}
		return b.String(), all
	}
	room := limit - runes(note)
	if all, total = shorten(all, total, room); total <= room {
		for _, p := range all {
			b.WriteString(p.md)
		}
		b.WriteString(note)
		return b.String(), all
	}
	n := 0
	var used []piece
	for _, p := range all {
		w := runes(p.md)
		if n+w > room {
			if left := room - n; left > 0 && p.user == "" && p.role == "" && !strings.ContainsAny(p.md, "<`[") {
				b.WriteString(string([]rune(p.md)[:left]))
			}
			break
		}
		b.WriteString(p.md)
		used = append(used, p)
		n += w
	}
	b.WriteString(note)
	return b.String(), used
}

// keepWords is the least a shortened run of plain words keeps.
const keepWords = 80

// shorten fits pieces into room characters by shortening the longest plain
// words first (a long rollback reason, a long note), so that the mentions,
// times, links and lines after them stay: a rollback alert with a reason
// of 2,000 characters still calls its audience. It returns the pieces and
// their length, more than room when shortening words is not enough.
func shorten(all []piece, total, room int) ([]piece, int) {
	for total > room {
		longest, w := -1, keepWords
		for i, p := range all {
			if n := runes(p.md); p.words && n > w {
				longest, w = i, n
			}
		}
		if longest < 0 {
			return all, total
		}
		r := []rune(all[longest].md)
		keep := max(keepWords, len(r)-(total-room))
		kept := strings.TrimRight(string(r[:keep-1]), " ")
		if strings.HasSuffix(kept, `\`) && !strings.HasSuffix(kept, `\\`) {
			kept = kept[:len(kept)-1] // half an escape would show
		}
		all[longest].md = kept + "…"
		total -= len(r) - runes(all[longest].md)
	}
	return all, total
}

// withUTC puts the message's UTC restatement after its first line: Discord
// shows each time in the reader's own zone.
func withUTC(m bot.Message) []bot.Text {
	lines := m.Lines
	if len(m.UTC) > 0 {
		at := min(1, len(lines))
		lines = append(append(append([]bot.Text(nil), lines[:at]...), m.UTC), lines[at:]...)
	}
	return lines
}

// pings reports whether a notice of this kind calls the people it
// mentions (../shared/spec/messages.md): reminders those who have not
// acknowledged, window open and overrun the owners, the rollback alert the
// whole audience, the debrief prompt the owners it asks. Every other
// message names people without notifying them.
func pings(k bot.Kind) bool {
	switch k {
	case bot.KindReminder, bot.KindRollback, bot.KindWindowOpen, bot.KindOverrun, bot.KindDebriefPrompt:
		return true
	}
	return false
}

// allowed is the allowed_mentions of a message: exactly the users and roles
// it means to call, and never @everyone or @here. It is always sent, so
// Discord never pings what the bot did not mean to.
func allowed(ps []piece, call bool) *discordgo.MessageAllowedMentions {
	am := &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
	if !call {
		return am
	}
	seen := map[string]bool{}
	for _, p := range ps {
		key := p.user + "&" + p.role
		switch {
		case p.by || seen[key]:
			continue
		case p.user != "" && len(am.Users) < maxMentions:
			am.Users = append(am.Users, p.user)
		case p.role != "" && len(am.Roles) < maxMentions:
			am.Roles = append(am.Roles, p.role)
		}
		seen[key] = true
	}
	return am
}

// render lays a message out for Discord. The root message and anything
// with fields (show) is an embed: title, state colour, fields, and the
// lines below them; so is a private answer too long for plain content
// (help, a long list), as an embed's description holds twice as much.
// Every other message is plain content, where mentions can notify: its
// title in bold, then its lines. A notice that asks for an acknowledgment
// carries the Acknowledge button; the root message a Mark-met button per
// open readiness criterion, the debrief prompt Write debrief (readiness.go).
// Help pages and usage lines are Discord's own (help.go).
func (st style) render(m bot.Message) payload {
	m = st.native(m) // help and usage the Discord way (help.go)
	var p payload
	if m.Kind == bot.KindRoot || len(m.Fields) > 0 || m.Kind.Private() && st.tooLong(m) {
		p.Embeds = []*discordgo.MessageEmbed{st.embed(m)}
		p.AllowedMentions = allowed(nil, false) // mentions in embeds never notify anyway
	} else {
		lines := withUTC(m)
		if m.Title != "" {
			lines = append([]bot.Text{bot.Text{}.Bold(m.Title)}, lines...)
		}
		var used []piece
		p.Content, used = st.block(lines, maxContent, st.cutNote(m))
		if strings.TrimSpace(p.Content) == "" {
			p.Content = "…"
		}
		p.AllowedMentions = allowed(used, pings(m.Kind))
	}
	p.Components = components(m)
	return p
}

// tooLong reports a message whose lines do not fit in plain content.
func (st style) tooLong(m bot.Message) bool {
	lines := withUTC(m)
	if m.Title != "" {
		lines = append([]bot.Text{bot.Text{}.Bold(m.Title)}, lines...)
	}
	n := len(lines)
	for _, l := range lines {
		for _, p := range st.pieces(l) {
			n += runes(p.md)
		}
	}
	return n > maxContent
}

// embed is a message with fields: title, colour, fields, then the lines as
// the description, within every embed limit (6000 characters in all).
func (st style) embed(m bot.Message) *discordgo.MessageEmbed {
	e := &discordgo.MessageEmbed{Type: discordgo.EmbedTypeRich, Title: truncate(m.Title, maxEmbedTitle), Color: colour(m)}
	total := runes(e.Title)
	fields := m.Fields
	if len(fields) > maxEmbedFields {
		more := bot.T(fmt.Sprintf("%d more not shown", len(fields)-maxEmbedFields+1))
		switch {
		case len(m.Elsewhere) > 0: // show itself
			more = more.Add("; see ").Then(m.Elsewhere)
		case m.UpgradeID != "":
			more = more.Add("; see ").Command(bot.Hint{Verb: "show", Args: []bot.Arg{{Name: "id", Value: m.UpgradeID}}})
		}
		fields = append(fields[:maxEmbedFields-1:maxEmbedFields-1], bot.Field{Label: "…", Value: more})
	}
	for _, f := range fields {
		name := truncate(f.Label, maxFieldName)
		value, _ := st.block([]bot.Text{f.Value}, maxFieldValue, "…")
		if strings.TrimSpace(value) == "" {
			value = "—"
		}
		// Short facts side by side; the window, impact and conflicts get a line of their own.
		inline := runes(value) <= 40 && f.Label != "Window"
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: name, Value: value, Inline: inline})
		total += runes(name) + runes(value)
	}
	// The description gets what the title and fields leave of the total.
	room := min(maxEmbedDesc, maxEmbedTotal-total-200)
	note := st.cutNote(m)
	lines := withUTC(m)
	if len(lines) > 0 && room > runes(note)+1 {
		e.Description, _ = st.block(lines, room, note)
	}
	return e
}

// colour is the embed's colour: the upgrade's state (the "State" field),
// red for an alert.
func colour(m bot.Message) int {
	if m.Alert {
		return colourAlert
	}
	for _, f := range m.Fields {
		if f.Label != "State" {
			continue
		}
		switch strings.TrimSpace(f.Value.Plain(time.UTC)) {
		case bot.Scheduled.Words():
			return colourScheduled
		case bot.InProgress.Words():
			return colourInProgress
		case bot.Completed.Words():
			return colourCompleted
		case bot.RolledBack.Words():
			return colourAlert
		case bot.Cancelled.Words():
			return colourCancelled
		}
	}
	return 0
}

// ackID is the button's custom_id on the wire: "upgrade_ack:UPG-7:brief".
func ackID(a bot.AckButton) string { return ActionAck + ":" + a.UpgradeID + ":" + a.Scope }

// parseAckID reads a custom_id back; ok is false for one that is not ours.
func parseAckID(id string) (bot.AckButton, bool) {
	rest, ok := strings.CutPrefix(id, ActionAck+":")
	if !ok {
		return bot.AckButton{}, false
	}
	upgrade, scope, ok := strings.Cut(rest, ":")
	if !ok || upgrade == "" || scope == "" || strings.Contains(scope, ":") {
		return bot.AckButton{}, false
	}
	return bot.AckButton{UpgradeID: upgrade, Scope: scope}, true
}

// ackRow is the Acknowledge button of a notice: blurple, or red for a rollback.
func ackRow(a bot.AckButton) discordgo.ActionsRow {
	style := discordgo.PrimaryButton
	if a.Scope == bot.ScopeRollback {
		style = discordgo.DangerButton
	}
	return discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.Button{Label: "Acknowledge", Style: style, CustomID: ackID(a)},
	}}
}

// threadName names the thread started on a root message: its title.
func threadName(m bot.Message) string {
	name := strings.TrimSpace(m.Title)
	if name == "" {
		name = m.UpgradeID
	}
	if name == "" {
		name = "upgrade"
	}
	return truncate(name, maxThreadName)
}

// Command is the command Discord users type, "/upgrade": for the console's
// dry run of what Discord would show.
const Command = "/" + commandName

// HintText writes a command hint the way Discord users type it, with the
// command's options ("/upgrade start id:UPG-7"): for the console's dry run
// of what Discord would show.
func HintText(h bot.Hint) string { return style{command: Command}.hint(h) }

// Native is m as Discord shows it before rendering: a help page written
// from the registered command, usage lines with its options. For the
// console's dry run of what Discord would show.
func Native(m bot.Message) bot.Message { return style{command: Command}.native(m) }
