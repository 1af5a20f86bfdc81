package bot

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/upgradebot/upgradebot/commands"
)

// This file holds the wording of every notice (../shared/spec/messages.md).
// Adapters only render; they never compose sentences of their own.

// AckStatus is who has acknowledged one scope of an upgrade.
type AckStatus struct {
	Scope   string
	Acked   []Principal // audience members who acknowledged
	Pending []Principal // audience members who have not
	Others  []Principal // acknowledged but not in the audience ("also seen by")
	Total   int         // size of the audience
}

// Status computes the acknowledgment status of scope from the stored acks.
func (d *Directory) Status(u *Upgrade, acks []Ack, scope string) AckStatus {
	st := AckStatus{Scope: scope, Total: len(u.Audience)}
	done := map[string]bool{}
	for _, a := range acks {
		if a.Scope == scope {
			done[a.Who] = true
		}
	}
	for _, k := range u.Audience {
		if done[k] {
			st.Acked = append(st.Acked, d.Principal(k))
		} else {
			st.Pending = append(st.Pending, d.Principal(k))
		}
	}
	// A member who acknowledged for an audience group is in the audience
	// through it: not "also seen by".
	through := map[string]bool{}
	for _, a := range acks {
		if p := d.presser(a); a.Scope == scope && p != a.Who && slices.Contains(u.Audience, a.Who) {
			through[p] = true
		}
	}
	var seen []string
	for _, a := range acks {
		if a.Scope == scope && !slices.Contains(u.Audience, a.Who) && !through[a.Who] && !slices.Contains(seen, a.Who) {
			seen = append(seen, a.Who)
			st.Others = append(st.Others, d.Principal(a.Who))
		}
	}
	return st
}

// presser is the principal who pressed for a: a.Who itself, or, for a group
// acknowledged by one of its members, that member.
func (d *Directory) presser(a Ack) string {
	if a.Via == "" {
		return a.Who
	}
	return d.KeyOf(a.Via)
}

// AckEntry is one press as people read it: who pressed, when they first
// did, and the groups the press answered for.
type AckEntry struct {
	Who Principal
	At  time.Time
	For []Principal
}

// Acked lists the acknowledgments of scope once per person who pressed,
// in the order they came: a member's press for her group is one entry.
func (d *Directory) Acked(acks []Ack, scope string) []AckEntry {
	var out []AckEntry
	index := map[string]int{}
	for _, a := range acks {
		if a.Scope != scope {
			continue
		}
		p := d.presser(a)
		i, ok := index[p]
		if !ok {
			i = len(out)
			index[p] = i
			out = append(out, AckEntry{Who: d.Principal(p), At: a.At})
		}
		if p != a.Who {
			out[i].For = append(out[i].For, d.Principal(a.Who))
		}
	}
	return out
}

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

func windowText(u *Upgrade) Text {
	return Text{}.Time(u.Start).Add(" to ").Time(u.End).Add(" (" + FormatDuration(u.Duration()) + ")")
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

// Root builds the root message of an upgrade thread: the pre-brief, edited in
// place on every change.
func (d *Directory) Root(u *Upgrade, acks []Ack) Message {
	m := Message{Kind: KindRoot, UpgradeID: u.Key(), Title: u.Title()}
	m.Fields = append(m.Fields,
		Field{"State", T(string(u.State))},
		Field{"Window", windowText(u)},
	)
	if u.Region != "" {
		m.Fields = append(m.Fields, Field{"Region", T(u.Region)})
	}
	if u.Impact != "" {
		m.Fields = append(m.Fields, Field{"Impact", T(u.Impact)})
	}
	owner := T("anyone (no owners configured)")
	if len(u.Owners) > 0 {
		owner = Text{}.Mentions(d.Principals(u.Owners))
	}
	m.Fields = append(m.Fields, Field{"Owner", owner})
	release := T("not linked yet")
	if u.Release != nil {
		release = Text{}.Link(releaseLabel(u.Release), u.Release.URL)
	}
	m.Fields = append(m.Fields, Field{"Release", release})
	radius := T("none")
	if len(u.BlastRadius) > 0 {
		radius = T(strings.Join(u.BlastRadius, ", "))
	}
	m.Fields = append(m.Fields, Field{"Blast radius", radius})
	if u.State.Active() { // a finished window conflicts with nothing any more
		for _, c := range u.Conflicts {
			m.Fields = append(m.Fields, Field{"Conflict", append(T("⚠ overlaps "), conflictText(c)...)})
		}
	}
	switch u.State {
	case Scheduled, InProgress, RolledBack:
		st := d.Status(u, acks, u.CurrentScope())
		m.Lines = append(m.Lines, ackLine(st))
		if len(st.Others) > 0 {
			m.Lines = append(m.Lines, T("Also seen by ").Mentions(st.Others))
		}
		m.Ack = &AckButton{UpgradeID: u.Key(), Scope: u.CurrentScope()}
	default:
		st := d.Status(u, acks, ScopeBrief)
		m.Lines = append(m.Lines, T(fmt.Sprintf("Acknowledged %d/%d", len(st.Acked), st.Total)))
	}
	if n := len(u.Failures); n > 0 {
		m.Lines = append(m.Lines, T(fmt.Sprintf("⚠ %d notice(s) could not be delivered; see /upgrade show %s", n, u.Key())))
	}
	return m
}

func releaseLabel(r *Release) string {
	if r.Name != "" && r.Name != r.Tag {
		return fmt.Sprintf("%s %s (%s)", r.Repo, r.Tag, r.Name)
	}
	return r.Repo + " " + r.Tag
}

func thread(u *Upgrade, k Kind) Message {
	return Message{Kind: k, UpgradeID: u.Key()}
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
	if len(st.Pending) > 0 {
		m.Lines = append(m.Lines, T("Please acknowledge: ").Mentions(st.Pending))
	} else {
		m.Lines = append(m.Lines, T("Everyone has acknowledged."))
	}
	m.Ack = &AckButton{UpgradeID: u.Key(), Scope: ScopeBrief}
	return m
}

// WindowOpen says the window has begun and the owner should start.
func (d *Directory) WindowOpen(u *Upgrade) Message {
	m := thread(u, KindWindowOpen)
	m.Lines = append(m.Lines, T("🟢 The window for ").Bold(u.Title()).Add(" is open, waiting for the owner to start: ").Mentions(d.Principals(u.Owners)))
	m.Lines = append(m.Lines, T("Start it with ").Code("/upgrade start "+u.Key()).Add("."))
	return m
}

// Started announces the owner opened the window.
func (d *Directory) Started(u *Upgrade, by string) Message {
	m := thread(u, KindStarted)
	m.Lines = append(m.Lines, T("🚀 ").Bold(u.Title()).Add(" started by ").Mention(d.Principal(by)).Add("; the window ends ").Time(u.End).Add("."))
	return m
}

// CompletedMsg announces success.
func (d *Directory) CompletedMsg(u *Upgrade, by string) Message {
	m := thread(u, KindCompleted)
	m.Lines = append(m.Lines, T("✅ ").Bold(u.Title()).Add(" completed by ").Mention(d.Principal(by)).Add("."))
	if u.Note != "" {
		m.Lines = append(m.Lines, T("Note: "+u.Note))
	}
	return m
}

// CancelledMsg announces a withdrawn upgrade, also in the channel.
func (d *Directory) CancelledMsg(u *Upgrade, by string) Message {
	m := thread(u, KindCancelled)
	m.Broadcast = true
	line := T("🚫 ").Bold(u.Title()).Add(" was cancelled by ").Mention(d.Principal(by))
	if u.Reason != "" {
		line = line.Add(": " + u.Reason)
	}
	m.Lines = append(m.Lines, line.Add("."))
	return m
}

// RescheduledMsg announces a moved window, also in the channel.
func (d *Directory) RescheduledMsg(u *Upgrade, by string, oldStart, oldEnd time.Time) Message {
	m := thread(u, KindRescheduled)
	m.Broadcast = true
	m.Lines = append(m.Lines, T("📅 ").Bold(u.Title()).Add(" was rescheduled by ").Mention(d.Principal(by)).
		Add(": now ").Time(u.Start).Add(" to ").Time(u.End).Add(" ("+FormatDuration(u.Duration())+"), was ").Time(oldStart).Add(" to ").Time(oldEnd).Add("."))
	return m
}

// ExtendedMsg announces a later end.
func (d *Directory) ExtendedMsg(u *Upgrade, by string, delta time.Duration) Message {
	m := thread(u, KindExtended)
	m.Lines = append(m.Lines, T("⏳ ").Bold(u.Title()).Add(" was extended by "+FormatDuration(delta)+" by ").Mention(d.Principal(by)).Add("; it now ends ").Time(u.End).Add("."))
	return m
}

// RollbackAlert is the loud one: broadcast, the whole audience mentioned, with its own Acknowledge.
func (d *Directory) RollbackAlert(u *Upgrade, by string) Message {
	m := thread(u, KindRollback)
	m.Broadcast, m.Alert = true, true
	m.Title = "🚨 ROLLBACK: " + u.Title()
	m.Lines = append(m.Lines,
		T("Rolled back by ").Mention(d.Principal(by)).Add(". Reason: "+u.Reason),
		Text{}.Mentions(d.Principals(u.Audience)).Add(" please acknowledge."),
	)
	m.Ack = &AckButton{UpgradeID: u.Key(), Scope: ScopeRollback}
	return m
}

// Overrun warns the owners that the window ended without completion.
func (d *Directory) Overrun(u *Upgrade) Message {
	m := thread(u, KindOverrun)
	m.Alert = true
	m.Lines = append(m.Lines, T("⚠️ The window of ").Bold(u.Title()).Add(" ended ").Time(u.End).Add(" but it is still "+string(u.State)+". ").Mentions(d.Principals(u.Owners)))
	// What the owner can still do depends on the state (see the state machine).
	if u.State == InProgress {
		m.Lines = append(m.Lines, T("Complete it, extend it or roll it back."))
	} else {
		m.Lines = append(m.Lines, T("Start it late, extend it, reschedule it or cancel it."))
	}
	return m
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
		T("Please press Acknowledge or type ").Code("/upgrade ack "+u.Key()).Add("."),
	)
	m.Ack = &AckButton{UpgradeID: u.Key(), Scope: scope}
	return m
}

// Linked announces a release.
func (d *Directory) Linked(u *Upgrade) Message {
	m := thread(u, KindLinked)
	r := u.Release
	m.Lines = append(m.Lines, T("📦 Release linked: ").Link(releaseLabel(r), r.URL))
	if notes := firstLines(r.Notes, 5); notes != "" {
		m.Lines = append(m.Lines, T(notes))
	}
	return m
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}
