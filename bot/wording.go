package bot

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/upgradebot/upgradebot/commands"
)

// This file holds the wording of every message the bot sends: the notices
// of ../shared/spec/messages.md and the answers to commands. Adapters only
// render; they never compose sentences of their own, but for what to do
// about one of their errors (AdvisedError), which only they can tell.

// reply is a private answer to a command or press.
func reply(lines ...Text) Message { return Message{Kind: KindReply, Lines: lines} }

// errorMessage is a refusal: the invoker's input changed nothing.
func errorMessage(lines ...Text) Message { return Message{Kind: KindError, Lines: lines} }

// ackLine renders "Acknowledged 3/5 · waiting for @bob @carol".
func ackLine(st AckStatus) Text {
	label := "Acknowledged"
	if st.Scope == ScopeRollback {
		label = "Rollback acknowledged"
	}
	t := T(fmt.Sprintf("%s %d/%d", label, len(st.Acked), st.Total))
	switch {
	case st.Total == 0:
		t = t.Add(" · no audience configured")
	case len(st.Pending) == 0:
		t = t.Add(" · everyone has acknowledged")
	default:
		t = t.Add(" · waiting for ").Mentions(st.Pending)
	}
	return t
}

// stateAckLine is the acknowledgment line of an upgrade in its state:
// once completed or cancelled nobody is waited for any more, so only the
// count stays.
func (d *Directory) stateAckLine(u *Upgrade, st AckStatus) Text {
	switch u.State {
	case Scheduled, InProgress, RolledBack:
		return ackLine(st)
	}
	return T(fmt.Sprintf("Acknowledged %d/%d", len(st.Acked), st.Total))
}

func windowText(u *Upgrade) Text {
	return Text{}.Time(u.Start).Add(" to ").Time(u.End).Add(" (" + FormatDuration(u.Duration()) + ")")
}

// inUTC restates a window in UTC for readers whose platform shows it in
// their own zone (Message.UTC).
func inUTC(start, end time.Time) Text {
	return T("In UTC: " + start.UTC().Format("2006-01-02 15:04") + " to " + end.UTC().Format("2006-01-02 15:04") + " UTC.")
}

// untilText says how far off a start is, to the minute: "in 3d", "in 1h",
// "in under a minute" (never "in 0m").
func untilText(left time.Duration) string {
	if left < time.Minute {
		return "in under a minute"
	}
	return "in " + FormatDuration(left.Truncate(time.Minute))
}

// FormatDuration renders a duration the way people type it: 90m is 1h30m,
// 25h stays 25h, whole days from two days on: 3d, 7d, 2d12h.
func FormatDuration(d time.Duration) string {
	if d <= 0 {
		return "0m"
	}
	var b strings.Builder
	if d >= 48*time.Hour {
		fmt.Fprintf(&b, "%dd", d/(24*time.Hour))
		d %= 24 * time.Hour
	}
	for _, u := range []struct {
		unit string
		size time.Duration
	}{{"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}} {
		if n := d / u.size; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.unit)
			d -= n * u.size
		}
	}
	if b.Len() == 0 {
		return d.String()
	}
	return b.String()
}

func conflictText(c Conflict) Text {
	return T(fmt.Sprintf("%s %s %s (", commands.FormatID(c.ID), c.Service, c.Version)).Time(c.Start).Add(" to ").Time(c.End).Add(")")
}

func conflictWarning(c Conflict) Text {
	return T("⚠ Warning: this window overlaps ").Then(conflictText(c)).Add(".")
}

// releaseLabel names a release: "acme/payments v2.4.0 (Payments 2.4)".
func releaseLabel(r *Release) string {
	if r.Name != "" && r.Name != r.Tag {
		return fmt.Sprintf("%s %s (%s)", r.Repo, r.Tag, r.Name)
	}
	return r.Repo + " " + r.Tag
}

// releaseText is the release's label, linked to its page when a lookup
// gave one (the core makes up no URL), and marked when it is a pre-release.
func releaseText(r *Release) Text {
	t := Text{}
	if r.URL != "" {
		t = t.Link(releaseLabel(r), r.URL)
	} else {
		t = t.Add(releaseLabel(r))
	}
	if r.Prerelease {
		t = t.Add(" · pre-release")
	}
	return t
}

// publishedText says when and by whom a release was published, nil when
// neither is known.
func publishedText(r *Release) Text {
	switch {
	case !r.At.IsZero() && r.Author != "":
		return T("Published ").Time(r.At).Add(" by " + r.Author + ".")
	case !r.At.IsZero():
		return T("Published ").Time(r.At).Add(".")
	case r.Author != "":
		return T("Published by " + r.Author + ".")
	}
	return nil
}

// noteLinesShown is how many lines of release notes a notice shows.
const noteLinesShown = 5

// noteLines turns the first n lines of release notes in the neutral markup
// (Release.Notes) into rich text, with a last line "…" when there are more.
func noteLines(notes string, n int) []Text {
	var out []Text
	for _, l := range strings.Split(strings.ReplaceAll(notes, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if len(out) == n {
			return append(out, T("…"))
		}
		out = append(out, noteLine(l))
	}
	return out
}

// noteLine renders one line of notes: a heading in bold, a list item after
// a bullet (indented ones after a hollow bullet), inline markup as spans.
func noteLine(l string) Text {
	item := strings.TrimLeft(l, " ")
	indent := len(l) - len(item)
	switch {
	case strings.HasPrefix(item, "# "):
		t := noteInline(strings.TrimSpace(item[2:]))
		for i := range t {
			if t[i].Kind == SpanText {
				t[i].Kind = SpanBold
			}
		}
		return t
	case strings.HasPrefix(item, "- "):
		bullet := "• "
		if indent >= 2 {
			bullet = strings.Repeat("  ", min(indent/2, 3)) + "◦ "
		}
		return T(bullet).Then(noteInline(strings.TrimSpace(item[2:])))
	}
	return noteInline(strings.TrimSpace(item))
}

// noteMarkup finds the inline markup of notes: **bold**, `code`, [label](url).
var noteMarkup = regexp.MustCompile("\\*\\*([^*]+)\\*\\*|`([^`]+)`|\\[([^\\]]+)\\]\\((https?://[^)\\s]+)\\)")

func noteInline(s string) Text {
	t := Text{}
	last := 0
	for _, m := range noteMarkup.FindAllStringSubmatchIndex(s, -1) {
		if m[0] > last {
			t = t.Add(s[last:m[0]])
		}
		switch {
		case m[2] >= 0:
			t = t.Bold(s[m[2]:m[3]])
		case m[4] >= 0:
			t = t.Code(s[m[4]:m[5]])
		default:
			t = t.Link(s[m[6]:m[7]], s[m[8]:m[9]])
		}
		last = m[1]
	}
	if last < len(s) {
		t = t.Add(s[last:])
	}
	return t
}

// alsoSeen is how many outsiders the root message names.
const alsoSeen = 20

// Root builds the root message of an upgrade thread: the pre-brief, edited in
// place on every change.
func (d *Directory) Root(u *Upgrade, acks []Ack) Message {
	m := Message{Kind: KindRoot, UpgradeID: u.Key(), Title: u.Title()}
	m.Fields = append(d.fields(u), d.readinessFields(u)...)
	m.Ready = readyButtons(u)
	switch u.State {
	case Scheduled, InProgress, RolledBack:
		st := d.Status(u, acks, u.CurrentScope())
		m.Lines = append(m.Lines, ackLine(st))
		if n := len(st.Others); n > 0 {
			// Outsiders are not mentioned to notify them; a few names say
			// enough: the first to acknowledge, in the order they did
			// (Status lists them so), as show lists acknowledgments.
			t := T("Also seen by ").Mentions(st.Others[:min(n, alsoSeen)])
			if n > alsoSeen {
				t = t.Add(fmt.Sprintf(" and %d %s", n-alsoSeen, plural(n-alsoSeen, "other", "others")))
			}
			m.Lines = append(m.Lines, t)
		}
		m.Ack = &AckButton{UpgradeID: u.Key(), Scope: u.CurrentScope()}
	default:
		m.Lines = append(m.Lines, d.stateAckLine(u, d.Status(u, acks, ScopeBrief)))
	}
	n := 0
	for _, f := range u.Failures {
		if !u.FailureResolved(f) {
			n++
		}
	}
	if n > 0 {
		m.Lines = append(m.Lines, T(fmt.Sprintf("⚠ %d notice(s) could not be delivered; see ", n)).Command(idHint("show", u)))
	}
	return m
}

// fields are the labelled facts of an upgrade, as the root message and
// show present them.
func (d *Directory) fields(u *Upgrade) []Field {
	fs := []Field{
		{"State", T(u.State.Words())},
		{"Window", windowText(u)},
	}
	// What really happened, beside the plan, once it happens.
	if !u.StartedAt.IsZero() {
		fs = append(fs, Field{"Started", Text{}.Time(u.StartedAt)})
	}
	if !u.FinishedAt.IsZero() {
		label := "Ended"
		if u.State == Cancelled {
			label = "Cancelled"
		}
		fs = append(fs, Field{label, Text{}.Time(u.EndedAt())})
	}
	if u.State == RolledBack && !u.CompletedAt.IsZero() {
		fs = append(fs, Field{"Rolled back", Text{}.Time(u.FinishedAt)})
	}
	if u.Region != "" {
		fs = append(fs, Field{"Region", T(u.Region)})
	}
	if u.Impact != "" {
		fs = append(fs, Field{"Impact", T(u.Impact)})
	}
	owner := T("anyone (no owners configured)")
	if len(u.Owners) > 0 {
		owner = Text{}.Mentions(d.Principals(u.Owners))
	}
	fs = append(fs, Field{"Owner", owner})
	release := T("not linked yet")
	if u.Release != nil {
		release = releaseText(u.Release)
	}
	fs = append(fs, Field{"Release", release})
	radius := T("none")
	if len(u.BlastRadius) > 0 {
		radius = T(strings.Join(u.BlastRadius, ", "))
	}
	fs = append(fs, Field{"Blast radius", radius})
	if u.State.Active() { // a finished window conflicts with nothing any more
		for _, c := range u.Conflicts {
			fs = append(fs, Field{"Conflict", T("⚠ overlaps ").Then(conflictText(c))})
		}
	}
	return append(fs, d.windowFields(u)...)
}

func thread(u *Upgrade, k Kind) Message {
	return Message{Kind: k, UpgradeID: u.Key()}
}

// Notice is the thread notice of a transition (started, completed,
// cancelled, rescheduled, extended, rollback), from its decision.
func (d *Directory) Notice(k Kind, u *Upgrade, dec Decision) Message {
	by := d.Principal(dec.Actor)
	m := thread(u, k)
	switch k {
	case KindStarted:
		line := T("🚀 ").Bold(u.Title()).Add(" started by ").Mention(by)
		if !u.End.After(dec.At) {
			line = line.Add("; its window already ended ").Time(u.End)
		} else {
			line = line.Add("; the window ends ").Time(u.End)
		}
		m.Lines = append(m.Lines, line.Add("."))
		if len(dec.Open) > 0 {
			m.Lines = append(m.Lines, T(fmt.Sprintf("⚠ Started anyway with %d open: %s — %s", len(dec.Open), strings.Join(quoteAll(dec.Open), ", "), dec.Reason)))
		}
	case KindCompleted:
		m.Lines = append(m.Lines, T("✅ ").Bold(u.Title()).Add(" completed by ").Mention(by).Add("."))
		if u.Note != "" {
			m.Lines = append(m.Lines, T("Note: "+u.Note))
		}
	case KindCancelled:
		m.AlsoInChannel = true
		line := T("🚫 ").Bold(u.Title()).Add(" was cancelled by ").Mention(by)
		if u.Reason != "" {
			line = line.Add(": " + u.Reason)
		}
		m.Lines = append(m.Lines, line.Add("."))
	case KindRescheduled:
		m.AlsoInChannel = true
		m.Lines = append(m.Lines, T("📅 ").Bold(u.Title()).Add(" was rescheduled by ").Mention(by).
			Add(": now ").Time(u.Start).Add(" to ").Time(u.End).Add(" ("+FormatDuration(u.Duration())+"), was ").Time(dec.PrevStart).Add(" to ").Time(dec.PrevEnd).Add("."))
	case KindExtended:
		m.Lines = append(m.Lines, T("⏳ ").Bold(u.Title()).Add(" was extended by "+FormatDuration(dec.By)+" by ").Mention(by).Add("; it now ends ").Time(u.End).Add("."))
	case KindRollback:
		// The loud one: also in the channel, the whole audience mentioned,
		// with its own Acknowledge.
		m.AlsoInChannel, m.Alert = true, true
		m.Title = "🚨 ROLLBACK: " + u.Title()
		ask := T("Please acknowledge.")
		if audience := d.Principals(u.Audience); len(audience) > 0 {
			ask = Text{}.Mentions(audience).Add(" please acknowledge.")
		}
		m.Lines = append(m.Lines, T("Rolled back by ").Mention(by).Add(". Reason: "+u.Reason), ask)
		if u.Plan != nil {
			m.Lines = append(m.Lines, T("🧭 Rollback plan: "+u.Plan.Text))
		} else {
			m.Lines = append(m.Lines, T("🧭 No rollback plan is on record."))
		}
		m.Ack = &AckButton{UpgradeID: u.Key(), Scope: ScopeRollback}
	}
	if k == KindRescheduled || k == KindExtended { // what the new window was warned about, or overrode
		m.Lines = append(m.Lines, d.warningLines(u.Service, dec.Warnings)...)
	}
	return m
}

// Reminder is the pre-brief reminder before the window; late says how late it is sent.
func (d *Directory) Reminder(u *Upgrade, acks []Ack, before, late time.Duration) Message {
	m := thread(u, KindReminder)
	st := d.Status(u, acks, ScopeBrief)
	left := before - late
	line := T("⏰ Reminder: ").Bold(u.Title()).Add(" starts ").Time(u.Start).Add(" (" + untilText(left) + ")")
	if late > 0 {
		line = line.Add(fmt.Sprintf(" — this reminder is %s late", FormatDuration(late.Truncate(time.Second))))
	}
	m.Lines = append(m.Lines, line.Add("."))
	switch {
	case len(st.Pending) > 0:
		m.Lines = append(m.Lines, T("Please acknowledge: ").Mentions(st.Pending))
	case st.Total == 0:
		m.Lines = append(m.Lines, T("No audience is configured for "+u.Service+", so nobody is asked to acknowledge."))
	default:
		m.Lines = append(m.Lines, T("Everyone has acknowledged."))
	}
	if open := openNumbered(u); len(open) > 0 && before == d.lastReminder {
		// The last reminder before the window is the go/no-go call.
		them := them(len(open))
		t := T("☐ Not ready yet, " + openCount(len(open), false) + ": " + strings.Join(open, ", ") + ". ")
		if owners := d.Principals(u.Owners); len(owners) > 0 {
			t = t.Mentions(owners).Add(" please mark " + them + " met (")
		} else {
			t = t.Add("Mark " + them + " met (")
		}
		m.Lines = append(m.Lines, t.Command(hint("ready", Arg{Name: "id", Value: u.Key()}, Arg{Name: "criterion", Placeholder: "<criterion...>"})).
			Add(") or waive "+them+" before the window opens."))
		m.Ready = readyButtons(u)
	}
	m.Ack = &AckButton{UpgradeID: u.Key(), Scope: ScopeBrief}
	return m
}

// WindowOpen says the window has begun and the owner should start; with
// readiness criteria open it is a "not ready" warning naming them.
func (d *Directory) WindowOpen(u *Upgrade) Message {
	m := thread(u, KindWindowOpen)
	if open := openNumbered(u); len(open) > 0 {
		m.Alert = true
		m.Lines = append(m.Lines, T("⚠️ NOT READY: the window for ").Bold(u.Title()).Add(" is open, but "+openCount(len(open), true)+": "+strings.Join(open, ", ")+"."))
		them := them(len(open))
		next := T("Mark " + them + " met or waive " + them)
		if owners := d.Principals(u.Owners); len(owners) > 0 {
			next = Text{}.Mentions(owners).Add(", mark " + them + " met or waive " + them)
		}
		m.Lines = append(m.Lines, next.Add(", then ").Command(idHint("start", u)).Add("; or take responsibility with ").
			Command(hint("start", Arg{Name: "id", Value: u.Key()}, Arg{Name: "anyway", Keyword: "anyway", Placeholder: "<reason...>"})).Add("."))
		m.Ready = readyButtons(u)
		return m
	}
	if owners := d.Principals(u.Owners); len(owners) > 0 {
		m.Lines = append(m.Lines, T("🟢 The window for ").Bold(u.Title()).Add(" is open, waiting for the owner to start: ").Mentions(owners))
	} else {
		m.Lines = append(m.Lines, T("🟢 The window for ").Bold(u.Title()).Add(" is open, waiting for someone to start it ("+u.Service+" has no owners, so anyone may)."))
	}
	m.Lines = append(m.Lines, T("Start it with ").Command(idHint("start", u)).Add("."))
	return m
}

// Overrun warns the owners that the window ended without completion.
func (d *Directory) Overrun(u *Upgrade) Message {
	m := thread(u, KindOverrun)
	m.Alert = true
	line := T("⚠️ The window of ").Bold(u.Title()).Add(" ended ").Time(u.End).Add(" but it is still " + u.State.Words() + ".")
	if owners := d.Principals(u.Owners); len(owners) > 0 {
		line = line.Add(" ").Mentions(owners)
	}
	m.Lines = append(m.Lines, line)
	// What the owner can still do depends on the state (see the state machine).
	id := Arg{Name: "id", Value: u.Key()}
	extend := hint("extend", id, Arg{Name: "duration"})
	if u.State == InProgress {
		m.Lines = append(m.Lines, T("Complete it with ").Command(idHint("complete", u)).Add(", extend it with ").Command(extend).
			Add(" or roll it back with ").Command(hint("rollback", id, Arg{Name: "reason", Placeholder: "<reason...>"})).Add("."))
	} else {
		m.Lines = append(m.Lines, T("Start it late with ").Command(idHint("start", u)).Add(", extend it with ").Command(extend).
			Add(", reschedule it with ").Command(hint("reschedule", id, Arg{Name: "when", Placeholder: "<time>"})).
			Add(" or cancel it with ").Command(cancelHint(u)).Add("."))
	}
	return m
}

// cancelHint is the command that cancels u: for an occurrence of a series,
// only it (cancel <id> alone would ask which).
func cancelHint(u *Upgrade) Hint {
	id := Arg{Name: "id", Value: u.Key()}
	if u.Series != nil {
		return hint("cancel", id, Arg{Name: "scope", Value: commands.CancelOccurrence}, cancelReasonArg)
	}
	return hint("cancel", id, cancelReasonArg)
}

// Escalation is the direct message to one person who has not acknowledged.
func (d *Directory) Escalation(u *Upgrade, scope string) Message {
	m := thread(u, KindEscalation)
	what, icon := "the upgrade window of", "🔔"
	if scope == ScopeRollback {
		what, icon = "the ROLLBACK of", "🚨"
		m.Alert = true
	}
	m.Lines = append(m.Lines,
		T(icon+" You have not yet acknowledged "+what+" ").Bold(u.Title()).Add(" (window ").Time(u.Start).Add(" to ").Time(u.End).Add(")."),
		T("Please press Acknowledge or type ").Command(idHint("ack", u)).Add("."),
	)
	m.Ack = &AckButton{UpgradeID: u.Key(), Scope: scope}
	return m
}

// Linked announces the release linked to u in its threads: its name and
// page, when and by whom it was published, the first lines of its notes.
func (d *Directory) Linked(u *Upgrade) Message {
	m := thread(u, KindLinked)
	r := u.Release
	m.Lines = append(m.Lines, T("📦 Release linked: ").Then(releaseText(r)))
	if r.Unconfirmed {
		m.Lines = append(m.Lines, T("⚠ GitHub did not confirm this release, so it is linked as typed; whoever linked it was told why."))
	}
	if p := publishedText(r); p != nil {
		m.Lines = append(m.Lines, p)
	}
	m.Lines = append(m.Lines, noteLines(r.Notes, noteLinesShown)...)
	return m
}

// ReleaseOut tells a service's channels that a release of its repository
// is out while no upgrade of the service to that version is planned, with
// the command that plans one.
func (d *Directory) ReleaseOut(service string, r Release) Message {
	m := Message{Kind: KindReleaseOut}
	line := T("📦 ").Then(releaseText(&r)).Add(" is out")
	if !r.At.IsZero() {
		line = line.Add(", published ").Time(r.At)
	}
	if r.Author != "" {
		line = line.Add(" by " + r.Author)
	}
	m.Lines = append(m.Lines, line.Add("."),
		T("No upgrade of ").Bold(service).Add(" to "+r.Tag+" is planned yet; to plan one: ").
			Command(hint("schedule", Arg{Name: "service", Value: service}, Arg{Name: "version", Value: r.Tag}, Arg{Name: "when", Keyword: "at", Placeholder: "<time>"})))
	m.Lines = append(m.Lines, noteLines(r.Notes, noteLinesShown)...)
	return m
}

// autoLinkNote tells whoever schedules an upgrade of a service with a
// repository that its release is linked by itself.
func autoLinkNote(repo, version string) Text {
	return T("📦 The release " + repo + " " + version + " is looked up on GitHub and linked when found.")
}

// linkingReply answers link at once; the lookup and the notice follow.
func linkingReply(u *Upgrade, repo, tag string) Message {
	m := reply(T("📦 Linking " + repo + " " + tag + " to ").Bold(u.Title()).Add("; the release notice follows in the thread."))
	m.UpgradeID = u.Key()
	return m
}

// releaseLookupFailed tells the invoker of link, privately, why the release
// could not be looked up, that the upgrade keeps it as typed, and what to do.
func releaseLookupFailed(u *Upgrade, repo, tag string, e *ReleaseError) Message {
	m := Message{Kind: KindError, UpgradeID: u.Key()}
	what := repo + " " + tag
	again := hint("link", Arg{Name: "id", Value: u.Key()}, Arg{Name: "repo", Value: repo}, Arg{Name: "tag", Value: tag})
	var first, next Text
	switch e.Problem {
	case ReleaseNotFound:
		tags := tag
		if alts := otherTags(tag); len(alts) > 0 {
			tags += " (nor " + strings.Join(alts, " nor ") + ")"
		}
		first = T("⚠ " + repo + " has no published release tagged " + tags + " on GitHub.")
		next = T("Link the right tag with ").Command(hint("link", Arg{Name: "id", Value: u.Key()}, Arg{Name: "repo", Value: repo}, Arg{Name: "tag"})).Add(".")
	case ReleaseNoRepository:
		why := "it is private and the bot has no GitHub token (github.token)."
		if e.Token {
			why = "it is private and the bot's GitHub token cannot read it (it needs read access to its contents)."
		}
		first = T("⚠ The bot cannot see the GitHub repository " + repo + ": it does not exist, or " + why)
		next = T("Check the name, or ask an operator about the token; then ").Command(again).Add(".")
	case ReleaseDenied:
		first = T("⚠ GitHub refused the bot's token, so " + what + " could not be looked up.")
		next = T("An operator should check github.token; then ").Command(again).Add(".")
	case ReleaseRateLimited:
		if e.ResetAt.IsZero() {
			first = T("⚠ The bot has used up its GitHub rate limit for now, so " + what + " could not be looked up.")
			next = T("Try again in a few minutes: ").Command(again).Add(".")
		} else {
			// Times are shown to the minute: the next one, so that trying
			// again at the time shown is never too early.
			reset := e.ResetAt
			if r := reset.Truncate(time.Minute); r.Before(reset) {
				reset = r.Add(time.Minute)
			}
			first = T("⚠ The bot has used up its GitHub rate limit until ").Time(reset).Add(", so " + what + " could not be looked up.")
			next = T("Try again after ").Time(reset).Add(": ").Command(again).Add(".")
		}
	case ReleaseIncomplete:
		first = T("⚠ GitHub answered for " + what + " without the release's tag or page, so it cannot be linked.")
		next = T("Check the release on GitHub (is it published, with its tag?), then ").Command(again).Add(".")
	default:
		first = T("⚠ GitHub could not be reached or did not answer in time, so " + what + " could not be looked up.")
		next = T("Try again later: ").Command(again).Add(".")
	}
	m.Lines = append(m.Lines, first,
		T(u.Key()+" keeps working with the release as typed, "+what+", without a link or notes."), next)
	return m
}

// generalAdvice is what to do about a failed delivery whose error comes
// with no advice of its own (AdvisedError).
const generalAdvice = "The error says why: the channel, the bot's access to it, its token or the network."

// NoticeWords is a notice's kind as its readers say it: "window open", not
// the stored "window_open".
func NoticeWords(notice string) string { return strings.ReplaceAll(notice, "_", " ") }

// deliveryFailed tells a command's invoker that part of its effect did not
// reach a channel, and what to do about it: each error's own advice, once,
// else the general one.
func deliveryFailed(u *Upgrade, fails []Failure) Message {
	m := Message{Kind: KindError, UpgradeID: u.Key()}
	var advice []string
	for _, f := range fails {
		if f.Notice == string(KindThread) {
			m.Lines = append(m.Lines, T(fmt.Sprintf("⚠ The root of %s was posted to ", u.Key())).Channel(f.Target).
				Add(", but its thread could not be started (its next notice tries again): "+f.Error+"."))
		} else {
			m.Lines = append(m.Lines, T(fmt.Sprintf("⚠ The %s notice of %s could not be posted to ", NoticeWords(f.Notice), u.Key())).Channel(f.Target).Add(": "+f.Error+"."))
		}
		a := f.Advice
		if a == "" {
			a = generalAdvice
		}
		if !slices.Contains(advice, a) {
			advice = append(advice, a)
		}
	}
	if len(advice) == 0 {
		advice = append(advice, generalAdvice)
	}
	for _, a := range advice[:len(advice)-1] {
		m.Lines = append(m.Lines, T(a))
	}
	m.Lines = append(m.Lines, T(advice[len(advice)-1]+" The failure is recorded: ").Command(idHint("show", u)).Add("."))
	return m
}

// transitionReply is the invoker's answer to a transition.
func transitionReply(verb string, u *Upgrade, now time.Time) Message {
	switch verb {
	case "start":
		if !u.End.After(now) {
			return reply(T("🚀 Started ").Bold(u.Title()).Add("; its window already ended ").Time(u.End).Add(": extend it with ").
				Command(hint("extend", Arg{Name: "id", Value: u.Key()}, Arg{Name: "duration"})).Add(" so people know how long it runs."))
		}
		return reply(T("🚀 Started ").Bold(u.Title()).Add("; the window ends ").Time(u.End).Add("."))
	case "complete":
		return reply(T("✅ Completed ").Bold(u.Title()).Add("."))
	case "rollback":
		return reply(T("🚨 Rolled back ").Bold(u.Title()).Add("; the alert is going out to everyone affected."))
	case "cancel":
		return reply(T("🚫 Cancelled ").Bold(u.Title()).Add("."))
	case "reschedule":
		r := reply(T("📅 Rescheduled ").Bold(u.Title()).Add(": the window is now ").Time(u.Start).Add(" to ").Time(u.End).Add(" (" + FormatDuration(u.Duration()) + ")."))
		r.UTC = inUTC(u.Start, u.End)
		return r
	case "extend":
		return reply(T("⏳ Extended ").Bold(u.Title()).Add("; it now ends ").Time(u.End).Add("."))
	}
	return reply(T("Done: " + verb + " " + u.Title() + "."))
}

// scheduledReply is the invoker's answer to schedule.
func scheduledReply(u *Upgrade) Message {
	r := reply(T("📋 Scheduled ").Bold(u.Title()).Add(": ").Time(u.Start).Add(" to ").Time(u.End).Add(" (" + FormatDuration(u.Duration()) + ")."))
	r.UTC = inUTC(u.Start, u.End)
	r.UpgradeID = u.Key()
	return r
}

// ackScope names what a scope's acknowledgment is of.
func ackScope(scope string) string {
	if scope == ScopeRollback {
		return "the rollback of"
	}
	return "the upgrade window of"
}

// ackThanks is the same for everyone who acknowledges scope of u, so it is
// stamped: an adapter renders and encodes it once per upgrade and scope.
func ackThanks(u *Upgrade, scope string) Message {
	title := u.Title()
	m := reply(T("Thanks! You acknowledged " + ackScope(scope) + " ").Bold(title).Add("."))
	m.Stamp = "thanks " + scope + " " + title
	return m
}

func ackedBefore(u *Upgrade, scope string, at time.Time) Message {
	return reply(T("You already acknowledged " + ackScope(scope) + " ").Bold(u.Title()).Add(" at ").Time(at).Add("."))
}

func ackedForYou(u *Upgrade, scope string, group, by Principal, at time.Time) Message {
	return reply(Text{}.Mention(group).Add(" already acknowledged " + ackScope(scope) + " ").Bold(u.Title()).
		Add(", by ").Mention(by).Add(" at ").Time(at).Add("; nothing more is needed from you."))
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

// refused is the answer to a refused command: the reason, then how the
// subcommand is typed (usage is the grammar's usage text, one form a line).
func refused(t Text, usage string) Message {
	m := errorMessage()
	for _, l := range splitLines(t) {
		m.Lines = append(m.Lines, l)
	}
	for i, u := range strings.Split(usage, "\n") {
		if u == "" {
			continue
		}
		label := "Usage: "
		if i > 0 {
			label = "   or: "
		}
		m.Lines = append(m.Lines, T(label).TypedCode(u))
	}
	return m
}

// splitLines cuts a text at the newlines of its plain spans.
func splitLines(t Text) []Text {
	var out []Text
	cur := Text{}
	for _, s := range t {
		if s.Kind != SpanText || !strings.Contains(s.Text, "\n") {
			cur = append(cur, s)
			continue
		}
		parts := strings.Split(s.Text, "\n")
		for i, p := range parts {
			if i > 0 {
				out = append(out, cur)
				cur = Text{}
			}
			if p != "" {
				cur = cur.Add(p)
			}
		}
	}
	return append(out, cur)
}
