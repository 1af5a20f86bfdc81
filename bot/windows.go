package bot

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/upgradebot/upgradebot/commands"
)

// Standard maintenance windows and where an upgrade may go: a window
// outside the service's standard windows is allowed and warned; one in a
// freeze is refused unless an admin overrides it (anyway <reason...>);
// next and slots find the standard windows that are free (outside every
// freeze, overlapping no active upgrade of the service or of a service in
// its dependency chain, either direction).

// The kinds of Warning.
const (
	// WarnOutsideWindows: the window lies outside the service's standard
	// windows (Windows lists them).
	WarnOutsideWindows = "outside_windows"
	// WarnFreezeOverride: an admin scheduled into a freeze anyway (Freeze,
	// From, To; By and Reason).
	WarnFreezeOverride = "freeze_override"
	// WarnTime: how a DST change affects the window (Note).
	WarnTime = "time"
)

// Warning is one thing an upgrade's window was warned about, or
// overrode, when it was set.
type Warning struct {
	Kind    string    `json:"kind"`
	Windows []string  `json:"windows,omitempty"`
	Freeze  string    `json:"freeze,omitempty"`
	From    time.Time `json:"from,omitzero"`
	To      time.Time `json:"to,omitzero"`
	By      string    `json:"by,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	Note    string    `json:"note,omitempty"`
}

// warningText words a warning for the root message, show, replies and the
// decision log.
func (d *Directory) warningText(service string, w Warning) Text {
	switch w.Kind {
	case WarnOutsideWindows:
		whose := "the"
		if service != "" {
			whose = possessive(service)
		}
		return T("⚠ Outside " + whose + " standard windows (" + strings.Join(w.Windows, ", ") + ").")
	case WarnFreezeOverride:
		t := T("❄ Freeze ").Bold(w.Freeze).Add(" (").Time(w.From).Add(" to ").Time(w.To).Add(") overridden by ").Mention(d.Principal(w.By))
		if w.Reason != "" {
			t = t.Add(": " + w.Reason)
		}
		return t.Add(".")
	}
	return T("🕑 " + w.Note)
}

// possessive is "payments'" or "ledger's".
func possessive(name string) string {
	if strings.HasSuffix(name, "s") {
		return name + "'"
	}
	return name + "'s"
}

// windowFields are what the root message and show say of an upgrade's
// window beyond the plan: its series, and its warnings.
func (d *Directory) windowFields(u *Upgrade) []Field {
	var fs []Field
	if u.Series != nil {
		fs = append(fs, Field{"Series", T(SeriesKey(u.Series.ID) + " · every " + u.Series.Every)})
	}
	for _, w := range u.Warnings {
		label := "Warning"
		switch w.Kind {
		case WarnFreezeOverride:
			label = "Override"
		case WarnTime:
			label = "Time"
		}
		fs = append(fs, Field{label, d.warningText(u.Service, w)})
	}
	return fs
}

// WarningText words a warning as plain text (times in UTC), for surfaces
// without rich text: the status API.
func (d *Directory) WarningText(service string, w Warning) string {
	return d.warningText(service, w).Plain(time.UTC)
}

// warningLines words the warnings of a change, for its reply and notice.
func (d *Directory) warningLines(service string, ws []Warning) []Text {
	var out []Text
	for _, w := range ws {
		out = append(out, d.warningText(service, w))
	}
	return out
}

// verdict is what judge found of a window: its warnings (kept on the
// upgrade and logged with the change) and whether an anyway had nothing
// to override.
type verdict struct {
	warnings []Warning
	// overrode: an override was made by this change (the reason is logged).
	overrode bool
	// idle: anyway was given, and overrode nothing.
	idle bool
	// held: idle although a freeze holds over the window: the invoker is
	// no admin, and the change needed no override (one made before
	// stands, or an extend adds nothing inside the freeze).
	held bool
	// anywayInImpact: the anyway ended an impact; how to have the word in
	// the impact instead (commands.Schedule.AnywayInImpact).
	anywayInImpact string
}

// judge checks a window [start, end) of an upgrade of svc in region for
// the invoker: a freeze that holds over it refuses it, unless the invoker
// is an admin who gave anyway <reason>, or the upgrade overrode that freeze
// before (kept: its current warnings; the override carries over). Only the
// part from blockFrom on counts for refusing when it is set (an extend:
// what it adds). An admin's anyway overrides every freeze that holds over
// the window, an earlier override of it included: the new reason and admin
// replace the old. Outside the service's standard windows it is warned.
// Pure: the caller loads the freezes. The command being judged creates
// the upgrade, so it may name a region (schedule); rejudge judges an
// upgrade's new window, with its region.
func (b *Bot) judge(inv Invocation, svc Service, region string, start, end, blockFrom time.Time, anyway string, fs []Freeze, kept []Warning) (verdict, error) {
	return b.judgeWindow(inv, svc, region, true, start, end, blockFrom, anyway, fs, kept)
}

// judgeWindow is judge; regionGiven says whether the command may name
// the upgrade's region, to say so when a freeze of some regions holds for
// an upgrade without one.
func (b *Bot) judgeWindow(inv Invocation, svc Service, region string, regionGiven bool, start, end, blockFrom time.Time, anyway string, fs []Freeze, kept []Warning) (verdict, error) {
	var v verdict
	admin := b.dir.IsAdmin(inv.Actor)
	override := anyway != "" && admin
	over := FreezesOver(fs, svc.Name, region, start, end)
	keptFor := func(f Freeze) int {
		return slices.IndexFunc(kept, func(w Warning) bool { return w.Kind == WarnFreezeOverride && w.Freeze == f.Name })
	}
	var blocking []Freeze
	for _, f := range over {
		if keptFor(f) >= 0 {
			continue // overridden for this upgrade before
		}
		if !blockFrom.IsZero() && !f.Overlaps(blockFrom, end) {
			continue // it only meets the part of the window that was there before
		}
		blocking = append(blocking, f)
	}
	if len(blocking) > 0 && !override {
		f := blocking[0]
		why := T(svc.Name + " is frozen from ").Time(f.From).Add(" to ").Time(f.To).Add(" (freeze ").Bold(f.Name)
		if len(f.Regions) > 0 {
			why = why.Add(" in " + regionsText(f.Regions))
		}
		if f.Reason != "" {
			why = why.Add(": " + f.Reason)
		}
		why = why.Add(")")
		if len(blocking) > 1 {
			why = why.Add(fmt.Sprintf(", and by %d more freeze(s)", len(blocking)-1))
		}
		// A freeze of some regions holds for an upgrade without a region,
		// which counts as in every region: say so, and that naming a
		// region none of them covers is not frozen.
		pick := T("; pick a time outside it")
		if region == "" && !slices.ContainsFunc(blocking, func(f Freeze) bool { return len(f.Regions) == 0 }) {
			pick = T(". An upgrade without a region counts as in every region: pick a time outside it")
			if regionGiven {
				pick = T(". An upgrade without a region counts as in every region: name a region it does not cover (").
					Command(args(Arg{Name: "region", Keyword: "region", Placeholder: "<name>"})).Add(") or pick a time outside it")
			}
		}
		free := T(" See the free windows with ").Command(hint("slots", Arg{Name: "service", Value: svc.Name})).Add(".")
		switch {
		case anyway == "" && admin:
			return verdict{}, refusal(EINVALID, why.Then(pick).Add(", or end the command with ").Command(args(anywayArg)).Add(" to override it.").Then(free))
		case anyway == "":
			return verdict{}, refusal(EINVALID, b.withAdmins(why.Then(pick).Add(". Only an admin may override a freeze (")).Add(").").Then(free))
		default:
			return verdict{}, refusal(EFORBIDDEN, b.withAdmins(why.Add("; only an admin may override a freeze (")).Add(")."))
		}
	}
	by := b.dir.KeyOf(inv.Actor.ID)
	for _, f := range over {
		switch i := keptFor(f); {
		case override:
			v.warnings = append(v.warnings, Warning{Kind: WarnFreezeOverride, Freeze: f.Name, From: f.From, To: f.To, By: by, Reason: anyway})
		case i >= 0:
			v.warnings = append(v.warnings, kept[i])
		}
	}
	v.overrode = override && len(over) > 0
	v.idle = anyway != "" && !v.overrode
	v.held = v.idle && len(over) > 0
	if len(svc.Windows) > 0 && !slices.ContainsFunc(svc.Windows, func(w commands.Window) bool { return w.Covers(start, end) }) {
		v.warnings = append([]Warning{{Kind: WarnOutsideWindows, Windows: windowNames(svc.Windows)}}, v.warnings...)
	}
	return v, nil
}

// regionsText names a freeze's regions: "region eu", "regions eu, us".
func regionsText(rs []string) string {
	if len(rs) == 1 {
		return "region " + rs[0]
	}
	return "regions " + strings.Join(rs, ", ")
}

func windowNames(ws []commands.Window) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.String()
	}
	return out
}

// lines words a verdict for the reply of the change.
func (v verdict) lines(d *Directory, service string) []Text {
	out := d.warningLines(service, v.warnings)
	if v.idle {
		t := T("No freeze holds over this window, so anyway overrode nothing (and its reason is not logged)")
		if v.held {
			t = T("Only an admin may override a freeze, so anyway overrode nothing (and its reason is not logged); this change needed no override")
		}
		out = append(out, t.Add(anywayInImpact(v.anywayInImpact)+"."))
	}
	return out
}

// anywayInImpact is what a note that anyway overrode nothing adds when
// the anyway ended an impact: how to have the word in the impact.
func anywayInImpact(hint string) string {
	if hint == "" {
		return ""
	}
	return "; " + hint
}

// Slot is one occurrence of a standard window and what keeps it from
// being free.
type Slot struct {
	commands.Occurrence
	// Frozen are the freezes that hold over it.
	Frozen []Freeze
	// Busy are the active upgrades of the service or its dependency chain
	// that overlap it.
	Busy []Conflict
	// Short: it is shorter than the window asked for.
	Short bool
}

// Free reports a window nothing keeps from being used.
func (s Slot) Free() bool { return len(s.Frozen) == 0 && len(s.Busy) == 0 && !s.Short }

// SlotQuery is what the slot search looks at.
type SlotQuery struct {
	Service string
	Region  string // "" for none: every region-specific freeze counts
	Windows []commands.Window
	Freezes []Freeze
	// Busy are the active upgrades of the service and of every service in
	// its dependency chain.
	Busy []*Upgrade
	// After: only windows starting after it; Until: none starting after it.
	After, Until time.Time
	Need         time.Duration // 0: any length
	// Free is how many free windows to find; Max bounds how many windows
	// are looked at (0: no bound but Until).
	Free, Max int
}

// FindSlots walks the occurrences of the standard windows in order, from
// q.After, and returns each with what keeps it from being free, until it
// has found q.Free free ones, looked at q.Max, or passed q.Until. Pure.
func FindSlots(q SlotQuery) []Slot {
	var out []Slot
	free := 0
	// A month at a time, so a long horizon costs only what is walked.
	for from := q.After; from.Before(q.Until); from = from.AddDate(0, 1, 0) {
		to := from.AddDate(0, 1, 0)
		if to.After(q.Until) {
			to = q.Until
		}
		var occ []commands.Occurrence
		for _, w := range q.Windows {
			for _, o := range w.Occurrences(from, to) {
				if o.Start.After(q.After) && !o.Start.Before(from) && o.Start.Before(to) {
					occ = append(occ, o)
				}
			}
		}
		slices.SortStableFunc(occ, func(a, b commands.Occurrence) int { return a.Start.Compare(b.Start) })
		for _, o := range occ {
			s := Slot{Occurrence: o, Short: q.Need > 0 && o.End.Sub(o.Start) < q.Need}
			s.Frozen = FreezesOver(q.Freezes, q.Service, q.Region, o.Start, o.End)
			for _, u := range q.Busy {
				if u.Start.Before(o.End) && o.Start.Before(u.End) {
					s.Busy = append(s.Busy, conflictOf(u))
				}
			}
			out = append(out, s)
			if s.Free() {
				free++
			}
			if free == q.Free || q.Max > 0 && len(out) == q.Max {
				return out
			}
		}
	}
	return out
}

// slotQuery gathers what the search of svc's windows needs: the freezes and
// the active upgrades of its dependency chain.
func (b *Bot) slotQuery(ctx context.Context, svc Service, region string, need time.Duration) (SlotQuery, error) {
	fs, err := b.allFreezes(ctx)
	if err != nil {
		return SlotQuery{}, err
	}
	now := b.now()
	active, err := b.store.List(ctx, Filter{States: []State{Scheduled, InProgress}, From: now})
	if err != nil {
		return SlotQuery{}, fmt.Errorf("list active upgrades: %w", err)
	}
	related := map[string]bool{strings.ToLower(svc.Name): true}
	for _, s := range append(b.dir.Dependents(svc.Name), b.dir.Dependencies(svc.Name)...) {
		related[strings.ToLower(s)] = true
	}
	active = slices.DeleteFunc(active, func(u *Upgrade) bool { return !related[strings.ToLower(u.Service)] })
	return SlotQuery{Service: svc.Name, Region: region, Windows: svc.Windows, Freezes: fs, Busy: active,
		After: now, Until: now.Add(b.cfg.MaxLead), Need: need}, nil
}

// noWindows refuses next and slots for a service without standard windows.
func noWindows(svc Service) error {
	return refusal(EINVALID, T(svc.Name+" has no standard windows, so there is no next one to take; give a time instead (").
		Command(hint("schedule", Arg{Name: "service", Value: svc.Name}, Arg{Name: "version"}, Arg{Name: "when", Keyword: "at", Placeholder: "<time>"})).
		Add("), or configure windows = [\"tue 02:00-05:00 Europe/Berlin\"] in its [[services]] entry."))
}

// skippedMax is how many windows not free a reply lists one by one.
const skippedMax = 10

// skipReason says why a window is not free.
func (b *Bot) skipReason(svc string, s Slot, need time.Duration) Text {
	var parts []Text
	for _, f := range s.Frozen {
		t := T("frozen by ").Bold(f.Name)
		if f.Reason != "" {
			t = t.Add(" (" + f.Reason + ")")
		}
		parts = append(parts, t)
	}
	for _, c := range s.Busy {
		t := T("overlaps ").Then(conflictText(c))
		switch {
		case strings.EqualFold(c.Service, svc):
		case slices.ContainsFunc(b.dir.Dependencies(svc), func(d string) bool { return strings.EqualFold(d, c.Service) }):
			t = t.Add(" (" + svc + " depends on " + c.Service + ")")
		default:
			t = t.Add(" (" + c.Service + " depends on " + svc + ")")
		}
		parts = append(parts, t)
	}
	if s.Short {
		parts = append(parts, T("only "+FormatDuration(s.End.Sub(s.Start))+" long, "+FormatDuration(need)+" needed"))
	}
	return joinTexts(parts, "; ")
}

// slotLine words one window: when, how long, which standard window.
func slotLine(prefix string, s Slot) Text {
	return T(prefix).Time(s.Start).Add(" to ").Time(s.End).Add(" (" + FormatDuration(s.End.Sub(s.Start)) + ", " + s.Window.String() + ")")
}

// skippedLines words the windows that were not free, at most skippedMax.
func (b *Bot) skippedLines(svc string, skipped []Slot, need time.Duration) []Text {
	var out []Text
	for i, s := range skipped {
		if i == skippedMax {
			out = append(out, T(fmt.Sprintf("• … and %d more", len(skipped)-skippedMax)))
			break
		}
		out = append(out, T("• ").Time(s.Start).Add(": ").Then(b.skipReason(svc, s, need)))
	}
	return out
}

// picked is the window next chose and those it passed over.
type picked struct {
	slot    Slot
	skipped []Slot
	need    time.Duration
}

// pickNext finds the next free standard window of svc that is at least
// need long, or refuses, saying why none is.
func (b *Bot) pickNext(ctx context.Context, svc Service, region string, need time.Duration) (picked, error) {
	if len(svc.Windows) == 0 {
		return picked{}, noWindows(svc)
	}
	q, err := b.slotQuery(ctx, svc, region, need)
	if err != nil {
		return picked{}, err
	}
	q.Free = 1
	slots := FindSlots(q)
	if n := len(slots); n > 0 && slots[n-1].Free() {
		return picked{slot: slots[n-1], skipped: slots[:n-1], need: need}, nil
	}
	t := T(fmt.Sprintf("No standard window of %s in the next %s is free for %s (%d looked at); give a time instead.",
		svc.Name, FormatDuration(b.cfg.MaxLead), FormatDuration(need), len(slots)))
	lines := append([]Text{t}, b.skippedLines(svc.Name, slots, need)...)
	return picked{}, refusal(EINVALID, joinTexts(lines, "\n")) // a refusal is one text: its lines joined
}

// joinTexts makes one text of several, sep between them.
func joinTexts(ts []Text, sep string) Text {
	out := Text{}
	for i, t := range ts {
		if i > 0 {
			out = out.Add(sep)
		}
		out = out.Then(t)
	}
	return out
}

// lines words what next chose, and why earlier windows were skipped.
func (p picked) lines(b *Bot, svc string) []Text {
	out := []Text{slotLine("🗓 The next free standard window of "+svc+": ", p.slot).Add(".")}
	if p.slot.Note != "" {
		out = append(out, T("🕑 "+p.slot.Note))
	}
	if len(p.skipped) > 0 {
		out = append(out, T(fmt.Sprintf("Skipped %d earlier window(s):", len(p.skipped))))
		out = append(out, b.skippedLines(svc, p.skipped, p.need)...)
	}
	return out
}

// slots answers /upgrade slots: the next n free standard windows of a
// service, and why the windows between were not free.
func (b *Bot) slots(ctx context.Context, c commands.Slots) (Message, error) {
	svc, err := b.service(c.Service)
	if err != nil {
		return Message{}, err
	}
	if len(svc.Windows) == 0 {
		return Message{}, noWindows(svc)
	}
	n := cmp.Or(c.N, commands.DefaultSlots)
	q, err := b.slotQuery(ctx, svc, "", 0)
	if err != nil {
		return Message{}, err
	}
	q.Free = n
	var free, skipped []Slot
	for _, s := range FindSlots(q) {
		if s.Free() {
			free = append(free, s)
		} else {
			skipped = append(skipped, s)
		}
	}
	m := reply()
	m.Title = "Free standard windows of " + svc.Name
	if len(free) == 0 {
		m.Lines = append(m.Lines, T("None in the next "+FormatDuration(b.cfg.MaxLead)+"."))
	}
	for i, s := range free {
		m.Lines = append(m.Lines, slotLine(fmt.Sprintf("%d. ", i+1), s))
		if s.Note != "" {
			m.Lines = append(m.Lines, T("   🕑 "+s.Note))
		}
	}
	if len(skipped) > 0 {
		m.Lines = append(m.Lines, T("Not free:"))
		m.Lines = append(m.Lines, b.skippedLines(svc.Name, skipped, 0)...)
	}
	m.Lines = append(m.Lines, T("Standard windows: "+strings.Join(windowNames(svc.Windows), ", ")+". Take the first free one with ").
		Command(hint("schedule", Arg{Name: "service", Value: svc.Name}, Arg{Name: "version"}, Arg{Name: "when", Value: "next"})).Add("."))
	return m, nil
}

// WindowsReport is the standard windows of a service and their next
// occurrences, free or not, for the status API.
type WindowsReport struct {
	Service Service
	Slots   []Slot
}

// Windows reads the next n occurrences of a service's standard windows,
// each with what keeps it from being free; an unknown service is ENOTFOUND.
func (b *Bot) Windows(ctx context.Context, service string, n int) (WindowsReport, error) {
	svc, err := b.service(service)
	if err != nil {
		return WindowsReport{}, err
	}
	r := WindowsReport{Service: svc}
	if len(svc.Windows) == 0 {
		return r, nil
	}
	q, err := b.slotQuery(ctx, svc, "", 0)
	if err != nil {
		return WindowsReport{}, err
	}
	q.Free, q.Max = -1, n
	r.Slots = FindSlots(q)
	return r, nil
}

// freezesFor loads the freezes a change of a window is judged against;
// only the verbs that move or lengthen a window need them.
func (b *Bot) freezesFor(ctx context.Context, verb string) ([]Freeze, error) {
	if verb != "reschedule" && verb != "extend" {
		return nil, nil
	}
	return b.allFreezes(ctx)
}

// rejudge judges the window a reschedule or extend gives u (already
// applied to u), refusing a freeze as schedule does; the warnings replace
// those of the window before and go with the decision, and an override's
// reason is the decision's reason.
func (b *Bot) rejudge(inv Invocation, u *Upgrade, e edit, d *Decision) (verdict, error) {
	svc, _ := b.dir.Service(u.Service)
	var added time.Time // an extend is judged on what it adds
	if e.by != 0 {
		added = u.End.Add(-e.by)
	}
	v, err := b.judgeWindow(inv, svc, u.Region, false, u.Start, u.End, added, e.anyway, e.freezes, u.Warnings)
	if err != nil {
		return verdict{}, err
	}
	var kept []Warning
	if d.PrevStart.IsZero() { // extended: the DST note of its start still holds
		kept = slices.DeleteFunc(slices.Clone(u.Warnings), func(w Warning) bool { return w.Kind != WarnTime })
	}
	u.Warnings = append(v.warnings, kept...)
	d.Warnings = v.warnings
	if v.overrode {
		d.Reason = e.anyway
	}
	return v, nil
}

// reschedule moves a window and words the answer.
func (b *Bot) reschedule(ctx context.Context, inv Invocation, c commands.Reschedule) (Message, error) {
	ch, err := b.transit(ctx, inv, "reschedule", c.ID, edit{start: c.Start, dur: c.Duration, anyway: c.Anyway})
	if err != nil {
		return Message{}, err
	}
	m := transitionReply("reschedule", ch.u, b.now())
	m.Lines = append(m.Lines, b.readAs(inv, typed{c.StartText, c.Zone, c.ZoneGiven, c.TimeNote}, ch.u)...)
	for _, cf := range ch.u.Conflicts {
		m.Lines = append(m.Lines, conflictWarning(cf))
	}
	m.Lines = append(m.Lines, ch.v.lines(b.dir, ch.u.Service)...)
	return m, nil
}

// extend lengthens a window and words the answer.
func (b *Bot) extend(ctx context.Context, inv Invocation, c commands.Extend) (Message, error) {
	ch, err := b.transit(ctx, inv, "extend", c.ID, edit{by: c.By, anyway: c.Anyway})
	if err != nil {
		return Message{}, err
	}
	m := transitionReply("extend", ch.u, b.now())
	m.Lines = append(m.Lines, ch.v.lines(b.dir, ch.u.Service)...)
	return m, nil
}

// addWarnings puts the warnings of a change in its event's data.
func addWarnings(data map[string]any, d Decision) {
	if len(d.Warnings) > 0 {
		data["warnings"] = d.Warnings
	}
}
