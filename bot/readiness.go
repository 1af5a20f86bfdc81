package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/upgradebot/upgradebot/commands"
)

// The behaviour of readiness (issue 14): the go/no-go checklist each
// upgrade copies from its service, the rollback plan on record and the
// debrief after the end. The data is in readiness_model.go; starting with
// open criteria is part of the start transition (transitions.go).

// Kinds of the readiness thread notices.
const (
	// KindReadiness tells the thread a criterion was met, waived or reopened.
	KindReadiness Kind = "readiness"
	// KindPlanRecorded tells the thread the rollback plan was recorded.
	KindPlanRecorded Kind = "plan_recorded"
	// KindDebriefPrompt asks the owners for a debrief after the end; it
	// carries Message.Debrief.
	KindDebriefPrompt Kind = "debrief_prompt"
	// KindDebriefRecorded tells the thread the debrief was recorded.
	KindDebriefRecorded Kind = "debrief_recorded"
)

// checklist is a new upgrade's copy of its service's criteria, all open.
func checklist(texts []string) []Criterion {
	if len(texts) == 0 {
		return nil
	}
	out := make([]Criterion, 0, len(texts))
	for _, t := range texts {
		out = append(out, Criterion{Text: strings.TrimSpace(t), State: CriterionOpen})
	}
	return out
}

// OpenCriteria are the texts of the criteria of u still open, in order.
func (u *Upgrade) OpenCriteria() []string {
	var out []string
	for _, c := range u.Readiness {
		if c.State == CriterionOpen {
			out = append(out, c.Text)
		}
	}
	return out
}

// ReadyCount is how many criteria of u are met or waived.
func (u *Upgrade) ReadyCount() int {
	n := 0
	for _, c := range u.Readiness {
		if c.State != CriterionOpen {
			n++
		}
	}
	return n
}

// mentionsPlan reports whether a criterion asks only for a rollback plan on
// record ("rollback plan", "rollback plan recorded", "rollback plan on
// record", any case), so that recording one meets it. A criterion that asks
// for more ("rollback plan reviewed", "rollback plan tested") is met by
// people, not by the plan's mere existence.
func mentionsPlan(text string) bool {
	switch strings.Join(strings.Fields(strings.ToLower(text)), " ") {
	case "rollback plan", "rollback plan recorded", "rollback plan on record":
		return true
	}
	return false
}

// resolveCriterion finds the criterion of u that name means: its number
// (from 1), its text (any case) or a unique start of it. It returns the
// index in u.Readiness.
func resolveCriterion(u *Upgrade, name string) (int, error) {
	name = strings.TrimSpace(name)
	if len(u.Readiness) == 0 {
		return 0, Errorf(EINVALID, "%s has no readiness criteria: its service %s had none configured when it was scheduled.", u.Key(), u.Service)
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(name, "#")); err == nil {
		if n >= 1 && n <= len(u.Readiness) {
			return n - 1, nil
		}
		return 0, criteriaError(u, fmt.Sprintf("%s has no criterion %d", u.Key(), n))
	}
	lower := strings.ToLower(name)
	var prefixed []int
	for i, c := range u.Readiness {
		t := strings.ToLower(c.Text)
		if t == lower {
			return i, nil
		}
		if lower != "" && strings.HasPrefix(t, lower) {
			prefixed = append(prefixed, i)
		}
	}
	switch len(prefixed) {
	case 1:
		return prefixed[0], nil
	case 0:
		return 0, criteriaError(u, fmt.Sprintf("%s has no criterion %q", u.Key(), name))
	}
	var which []string
	for _, i := range prefixed {
		which = append(which, fmt.Sprintf("%d. %s", i+1, u.Readiness[i].Text))
	}
	return 0, criteriaError(u, fmt.Sprintf("%q could be any of %s; name it by its number or more of its text", name, strings.Join(which, ", ")))
}

// criteriaError is a refusal that lists the criteria of u with their
// numbers, so the next try can name one.
func criteriaError(u *Upgrade, why string) error {
	t := T(sentence(why) + " Its criteria:")
	for i, c := range u.Readiness {
		t = t.Add(fmt.Sprintf("\n%d. %s (%s)", i+1, c.Text, c.State))
	}
	return refusal(ENOTFOUND, t)
}

// quoted is a criterion as sentences quote it.
func quoted(s string) string { return "'" + s + "'" }

// named is criterion i of u as sentences name it: "'canary green' (2)".
func named(u *Upgrade, i int) string {
	return fmt.Sprintf("%s (%d)", quoted(u.Readiness[i].Text), i+1)
}

// readinessChange is one change of a criterion, for the answer.
type readinessChange struct {
	u       *Upgrade
	i       int  // index of the criterion
	already Text // non-empty: nothing changed, and why
	// prior is the reason of the waiver a new waiver replaced.
	prior string
}

// MaxRecordLen is the longest rollback plan or debrief accepted, in
// characters: a chat message, not a document (link the document).
const MaxRecordLen = 2000

// checkRecord refuses an empty or overlong plan or debrief (commands given
// as data, a form's submission, bypass the parser).
func checkRecord(what, text string) error {
	if strings.TrimSpace(text) == "" {
		return Errorf(EINVALID, "The %s is empty; write it, or link it.", what)
	}
	return checkLength(what, text)
}

// checkLength refuses a text put on record (a plan, a debrief, a reason,
// a note) longer than MaxRecordLen.
func checkLength(what, text string) error {
	if n := utf8.RuneCountInString(text); n > MaxRecordLen {
		return Errorf(EINVALID, "The %s is %d characters long; at most %d fit, so nothing changed. Shorten it, or put the rest in a document and link it.", what, n, MaxRecordLen)
	}
	return nil
}

// checkReason refuses a required reason that is missing or blank with
// missing (the grammar's words, so typed and given as data alike), and an
// overlong one.
func checkReason(what, reason, missing string) error {
	if strings.TrimSpace(reason) == "" {
		return Errorf(EINVALID, "%s", sentence(missing))
	}
	return checkLength(what, reason)
}

// setCriterion changes one criterion of upgrade id to state, for the
// invoker, with its decision, event, thread notice and root refresh.
func (b *Bot) setCriterion(ctx context.Context, inv Invocation, id int, name, state, reason string) (Message, error) {
	if strings.TrimSpace(name) == "" {
		return Message{}, Errorf(EINVALID, "Name the criterion: %s.", "its number in the checklist, its text or the start of it")
	}
	reason = strings.TrimSpace(reason)
	switch state {
	case CriterionWaived:
		if err := checkReason("reason", reason, commands.MissingWaiveReason); err != nil {
			return Message{}, err
		}
	case CriterionOpen:
		if err := checkReason("reason", reason, commands.MissingUnreadyReason); err != nil {
			return Message{}, err
		}
	}
	actor := b.dir.KeyOf(inv.Actor.ID)
	doing := map[string]string{CriterionMet: "mark readiness criteria of", CriterionWaived: "waive readiness criteria of", CriterionOpen: "reopen readiness criteria of"}[state]
	var (
		d  Decision
		rc readinessChange
	)
	u, err := change(ctx, b.store, b.now, id, func(u *Upgrade) (Decision, error) {
		if err := b.authorize(inv, u.Service, doing, u.Key()); err != nil {
			return Decision{}, err
		}
		if !u.State.Active() {
			return Decision{}, Errorf(EINVALID, "%s is %s; its readiness no longer changes.", u.Key(), u.State.Words())
		}
		i, err := resolveCriterion(u, name)
		if err != nil {
			return Decision{}, err
		}
		c := &u.Readiness[i]
		rc = readinessChange{i: i}
		switch {
		case state == CriterionWaived && c.State == CriterionWaived && reason != c.Reason:
			rc.prior = c.Reason // a new reason replaces the old one
		case c.State == state:
			rc.already = b.alreadyText(u, i)
			return Decision{}, errUnchanged
		case state == CriterionWaived && c.State == CriterionMet:
			return Decision{}, refusal(EINVALID, T(named(u, i)+" of "+u.Key()+" is met already; to waive it, reopen it first with ").
				Command(hint("unready", Arg{Name: "id", Value: u.Key()}, Arg{Name: "criterion", Value: strconv.Itoa(i + 1)}, Arg{Name: "reason", Placeholder: "<reason...>"})).Add("."))
		}
		now := b.now().UTC()
		action := map[string]string{CriterionMet: ActionReadinessMet, CriterionWaived: ActionReadinessWaived, CriterionOpen: ActionReadinessReopened}[state]
		*c = Criterion{Text: c.Text, State: state}
		if state != CriterionOpen {
			c.By, c.At, c.Reason = actor, now, reason
		}
		d = Decision{At: now, Actor: actor, Action: action, Criterion: c.Text, Reason: reason}
		d.Event = b.ev.event(ctx, u, EventReadiness, actor, readinessData(i, *c, reason))
		return d, nil
	})
	if errors.Is(err, errUnchanged) {
		return reply(rc.already), nil
	}
	if err != nil {
		return Message{}, err
	}
	rc.u = u
	ctx, cancel := afterSave(ctx)
	defer cancel()
	b.ev.written(u, d.Event)
	b.out.refreshRoot(u.ID)
	b.out.notify(ctx, u.ID, b.dir.ReadinessNotice(u, rc.i, d, rc.prior), inv.invoker())
	return readinessReply(u, rc.i, state, rc.prior != ""), nil
}

// readinessData is the data of an upgrade.readiness event.
func readinessData(i int, c Criterion, reason string) map[string]any {
	return map[string]any{"criterion": c.Text, "number": i + 1, "state": c.State, "reason": reason}
}

// alreadyText says that a criterion is in the state asked for already.
func (b *Bot) alreadyText(u *Upgrade, i int) Text {
	c := u.Readiness[i]
	head := T(named(u, i) + " of " + u.Key())
	switch c.State {
	case CriterionMet:
		t := head.Add(" is already met (by ").Mention(b.dir.Principal(c.By))
		if c.Auto {
			t = t.Add(" recording the rollback plan")
		}
		return t.Add(", ").Time(c.At).Add("); nothing changed.")
	case CriterionWaived:
		return head.Add(" is already waived with that reason (by ").Mention(b.dir.Principal(c.By)).Add(": " + c.Reason + "); nothing changed.")
	}
	return head.Add(" is already open; nothing changed.")
}

// readyCountText is "2/3 ready".
func readyCountText(u *Upgrade) string {
	return fmt.Sprintf("%d/%d ready", u.ReadyCount(), len(u.Readiness))
}

// readinessReply answers the invoker of ready, waive or unready:
// "✅ Marked 'canary green' (2) of UPG-1 payments v2.4.0 met (2/3 ready)."
// A waiver that replaced the reason of one says so.
func readinessReply(u *Upgrade, i int, state string, rewaived bool) Message {
	what := map[string]string{CriterionMet: "Marked", CriterionWaived: "Waived", CriterionOpen: "Reopened"}[state]
	icon := map[string]string{CriterionMet: "✅", CriterionWaived: "➖", CriterionOpen: "☐"}[state]
	t := T(icon + " " + what + " " + named(u, i) + " of ").Bold(u.Title())
	switch {
	case state == CriterionMet:
		t = t.Add(" met")
	case rewaived:
		t = t.Add(" with a new reason, replacing the old one")
	}
	t = t.Add(" (" + readyCountText(u) + ").")
	m := reply(t)
	m.UpgradeID = u.Key()
	return m
}

// ReadinessNotice tells the thread of u that criterion i changed by dec:
// "@alice marked 'canary green' met (2/3 ready)".
// prior is the reason of the waiver a new waiver replaced, if any.
func (d *Directory) ReadinessNotice(u *Upgrade, i int, dec Decision, prior string) Message {
	m := thread(u, KindReadiness)
	c := u.Readiness[i]
	by := d.Principal(dec.Actor)
	var line Text
	switch dec.Action {
	case ActionReadinessMet:
		line = T("✅ ").Mention(by).Add(" marked " + quoted(c.Text) + " met")
	case ActionReadinessWaived:
		line = T("➖ ").Mention(by).Add(" waived " + quoted(c.Text) + ": " + dec.Reason)
		if prior != "" {
			line = line.Add(" (replacing the earlier reason: " + prior + ")")
		}
	default:
		line = T("☐ ").Mention(by).Add(" reopened " + quoted(c.Text) + ": " + dec.Reason)
	}
	m.Lines = append(m.Lines, line.Add(" ("+readyCountText(u)+")."))
	return m
}

// checklistText is the checklist as one multi-line value: a line per
// criterion, "☐ 1. backups verified", "✅ 2. canary green — @alice, <time>",
// "➖ 3. rollback plan reviewed — waived by @bob: <reason>".
func (d *Directory) checklistText(u *Upgrade) Text {
	t := Text{}
	for i, c := range u.Readiness {
		if i > 0 {
			t = t.Add("\n")
		}
		head := fmt.Sprintf("%d. %s", i+1, c.Text)
		switch c.State {
		case CriterionMet:
			t = t.Add("✅ " + head + " — ")
			if c.Auto {
				t = t.Add("rollback plan recorded by ")
			}
			t = t.Mention(d.Principal(c.By)).Add(", ").Time(c.At)
		case CriterionWaived:
			t = t.Add("➖ " + head + " — waived by ").Mention(d.Principal(c.By)).Add(": " + c.Reason)
		default:
			t = t.Add("☐ " + head)
		}
	}
	return t
}

// readinessFields are the root message's and show's readiness facts: the
// checklist, the rollback plan, a start taken anyway, the debrief.
func (d *Directory) readinessFields(u *Upgrade) []Field {
	var fs []Field
	if len(u.Readiness) > 0 {
		fs = append(fs, Field{"Readiness", d.checklistText(u)})
	}
	switch {
	case u.Plan != nil:
		t := d.recordText(u.Plan)
		if u.State == RolledBack && u.Plan.At.After(u.FinishedAt) { // not the plan the rollback had
			t = t.Add(" (recorded after the rollback)")
		}
		fs = append(fs, Field{"Rollback plan", t})
	case u.State == RolledBack || (u.State != Cancelled && len(u.Readiness) > 0):
		// Whether a rolled-back upgrade had a plan is part of its story,
		// as the rollback alert says; teams that keep a checklist are
		// asked for one in every state that takes one.
		fs = append(fs, Field{"Rollback plan", T("none on record; add one with ").Command(hint("plan", Arg{Name: "id", Value: u.Key()}, Arg{Name: "plan", Placeholder: "<url or text...>"}))})
	}
	if a := u.StartedAnyway; a != nil {
		fs = append(fs, Field{"Started anyway", T(fmt.Sprintf("with %d open: %s — %s", len(a.Open), strings.Join(quoteAll(a.Open), ", "), a.Reason))})
	}
	if u.Debrief != nil {
		fs = append(fs, Field{"Debrief", d.recordText(u.Debrief)})
	}
	return fs
}

// recordTextShort is how long a record a field (the root message, show)
// shows in full; show adds a longer one whole among its lines.
const recordTextShort = 300

// recordText is a record with who and when: "<text> — @alice, <time>".
func (d *Directory) recordText(r *Record) Text {
	text := r.Text
	if len([]rune(text)) > recordTextShort {
		text = string([]rune(text)[:recordTextShort]) + "…"
	}
	return T(text + " — ").Mention(d.Principal(r.By)).Add(", ").Time(r.At)
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = quoted(s)
	}
	return out
}

// readyButtons are the buttons of the open criteria of u, while it may
// still change.
func readyButtons(u *Upgrade) []ReadyButton {
	if !u.State.Active() {
		return nil
	}
	var out []ReadyButton
	for i, c := range u.Readiness {
		if c.State == CriterionOpen {
			out = append(out, ReadyButton{UpgradeID: u.Key(), Criterion: i + 1, Text: c.Text})
		}
	}
	return out
}

// notReady refuses the start of u while criteria are open, naming each
// and the command that starts it anyway.
func notReady(u *Upgrade, open []string) error {
	t := T(fmt.Sprintf("%s is not ready: %s:", u.Key(), openCount(len(open), true)))
	for _, c := range openNumbered(u) {
		t = t.Add("\n☐ " + c)
	}
	them := them(len(open))
	t = t.Add("\nMark " + them + " met (").Command(hint("ready", Arg{Name: "id", Value: u.Key()}, Arg{Name: "criterion", Placeholder: "<criterion...>"})).
		Add("), waive " + them + " (").Command(hint("waive", Arg{Name: "id", Value: u.Key()}, Arg{Name: "criterion"}, Arg{Name: "reason", Placeholder: "<reason...>"})).
		Add("), or take responsibility and start anyway: ").Command(hint("start", Arg{Name: "id", Value: u.Key()}, Arg{Name: "anyway", Keyword: "anyway", Placeholder: "<reason...>"})).Add(".")
	return refusal(EINVALID, t)
}

// openCount is "1 readiness criterion is open" or "3 readiness criteria
// are open" (without "is"/"are" when verb is false).
func openCount(n int, verb bool) string {
	s := fmt.Sprintf("%d readiness criterion", n)
	v := " is open"
	if n != 1 {
		s, v = fmt.Sprintf("%d readiness criteria", n), " are open"
	}
	if !verb {
		v = " open"
	}
	return s + v
}

// them is "it" for one criterion, "them" for more.
func them(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// openNumbered are the open criteria of u as "2. canary green".
func openNumbered(u *Upgrade) []string {
	var out []string
	for i, c := range u.Readiness {
		if c.State == CriterionOpen {
			out = append(out, fmt.Sprintf("%d. %s", i+1, c.Text))
		}
	}
	return out
}

// startReadiness applies the readiness rule of start to u: with criteria
// open, only a start anyway (with its reason) goes ahead, and is recorded.
func startReadiness(u *Upgrade, e edit, d *Decision) error {
	open := u.OpenCriteria()
	if len(open) == 0 {
		return nil
	}
	if e.notReady == "" {
		return notReady(u, open)
	}
	u.StartedAnyway = &Anyway{Open: open, Reason: e.notReady}
	d.Open, d.Reason = open, e.notReady
	return nil
}

// recordPlan records the rollback plan of upgrade id; an open criterion
// that mentions the rollback plan is met by it, in the same save.
func (b *Bot) recordPlan(ctx context.Context, inv Invocation, c commands.Plan) (Message, error) {
	if err := checkRecord("rollback plan", c.Text); err != nil {
		return Message{}, err
	}
	actor := b.dir.KeyOf(inv.Actor.ID)
	var (
		d        Decision
		auto     []int
		replaced bool
	)
	u, err := change(ctx, b.store, b.now, c.ID, func(u *Upgrade) (Decision, error) {
		if err := b.authorize(inv, u.Service, "record the rollback plan of", u.Key()); err != nil {
			return Decision{}, err
		}
		if u.State == Cancelled {
			return Decision{}, Errorf(EINVALID, "%s is cancelled; it needs no rollback plan.", u.Key())
		}
		now := b.now().UTC()
		replaced = u.Plan != nil
		d = Decision{At: now, Actor: actor, Action: ActionPlanRecorded, Detail: c.Text}
		if replaced {
			d.Reason = "replaces the rollback plan by @" + b.dir.Principal(u.Plan.By).Name + " of " + FormatTime(u.Plan.At, nil)
			d.ReplacesBy, d.ReplacesAt = u.Plan.By, u.Plan.At
		}
		u.Plan = &Record{Text: c.Text, By: actor, At: now}
		auto = nil
		var met []string
		if u.State.Active() {
			for i := range u.Readiness {
				if cr := &u.Readiness[i]; cr.State == CriterionOpen && mentionsPlan(cr.Text) {
					*cr = Criterion{Text: cr.Text, State: CriterionMet, By: actor, At: now, Auto: true}
					auto = append(auto, i)
					met = append(met, cr.Text)
				}
			}
		}
		if len(met) > 0 {
			d.Criterion = strings.Join(met, ", ")
		}
		data := map[string]any{"plan": c.Text, "replaced": replaced}
		if len(met) > 0 {
			data["met"] = met
		}
		d.Event = b.ev.event(ctx, u, EventPlanRecorded, actor, data)
		// The criteria met by the plan have their readiness events too,
		// written with the plan in the same step.
		for _, i := range auto {
			d.More = append(d.More, b.ev.event(ctx, u, EventReadiness, actor, readinessData(i, u.Readiness[i], "")))
		}
		return d, nil
	})
	if err != nil {
		return Message{}, err
	}
	ctx, cancel := afterSave(ctx)
	defer cancel()
	b.ev.written(u, d.Event)
	for _, ev := range d.More {
		b.ev.written(u, ev)
	}
	b.out.refreshRoot(u.ID)
	b.out.notify(ctx, u.ID, b.dir.PlanNotice(u, auto, replaced), inv.invoker())
	what := "🧭 Recorded the rollback plan of "
	if replaced {
		what = "🧭 Replaced the rollback plan of "
	}
	t := T(what).Bold(u.Title())
	for _, i := range auto {
		t = t.Add("; " + named(u, i) + " is met by it")
	}
	if len(auto) > 0 { // the count changed: say it
		t = t.Add(" (" + readyCountText(u) + ")")
	}
	m := reply(t.Add("."))
	m.UpgradeID = u.Key()
	return m, nil
}

// PlanMet are the criteria a plan_recorded decision d of u met
// automatically: its Criterion, the texts comma-joined, split back along
// the criteria of u (a criterion's own text may hold a comma).
func PlanMet(u *Upgrade, d Decision) []string {
	rest := d.Criterion
	var out []string
	for rest != "" {
		n := 0
		for _, c := range u.Readiness {
			if t := c.Text; len(t) > n && strings.HasPrefix(rest, t) && (len(rest) == len(t) || strings.HasPrefix(rest[len(t):], ", ")) {
				n = len(t)
			}
		}
		if n == 0 { // not one of its criteria (any more): split at commas
			return append(out, strings.Split(rest, ", ")...)
		}
		out = append(out, rest[:n])
		rest = strings.TrimPrefix(rest[n:], ", ")
	}
	return out
}

// PlanNotice tells the thread the rollback plan of u was recorded, and
// which criteria it met.
func (d *Directory) PlanNotice(u *Upgrade, auto []int, replaced bool) Message {
	m := thread(u, KindPlanRecorded)
	what := " recorded the rollback plan: "
	if replaced {
		what = " replaced the rollback plan: "
	}
	m.Lines = append(m.Lines, T("🧭 ").Mention(d.Principal(u.Plan.By)).Add(what+u.Plan.Text))
	for _, i := range auto {
		m.Lines = append(m.Lines, T("✅ "+quoted(u.Readiness[i].Text)+" is met by it ("+readyCountText(u)+")."))
	}
	return m
}

// mayDebrief refuses a debrief of an upgrade that has not ended, or by
// someone not allowed to change it.
func (b *Bot) mayDebrief(inv Invocation, u *Upgrade) error {
	if err := b.authorize(inv, u.Service, "record the debrief of", u.Key()); err != nil {
		return err
	}
	if u.State != Completed && u.State != RolledBack {
		return Errorf(EINVALID, "%s is %s; a debrief is recorded once it is completed or rolled back.", u.Key(), u.State.Words())
	}
	return nil
}

// CheckDebrief tells a platform, with one read and before it opens a
// debrief form, whether inv may record the debrief of upgrade id: ok, or
// the refusal to answer instead (unknown upgrade, not ended yet, not
// allowed), so nobody writes a debrief only to have it refused. When the
// store cannot tell, the form opens: its submission is checked again.
func (b *Bot) CheckDebrief(ctx context.Context, inv Invocation, id int) (Message, bool) {
	u, err := load(ctx, b.store, id)
	if err == nil {
		err = b.mayDebrief(inv, u)
	}
	if err == nil {
		return Message{}, true
	}
	if ErrorCode(err) == EINTERNAL {
		b.log.WarnContext(ctx, "debrief check failed; opening the form anyway", "actor", inv.Actor.ID, "err", err)
		return Message{}, true
	}
	return refused(ErrorText(err), ""), false
}

// recordDebrief records the debrief of a finished upgrade; a later one
// replaces it.
func (b *Bot) recordDebrief(ctx context.Context, inv Invocation, c commands.Debrief) (Message, error) {
	c.Text = strings.TrimSpace(c.Text)
	if err := checkRecord("debrief", c.Text); err != nil {
		return Message{}, err
	}
	actor := b.dir.KeyOf(inv.Actor.ID)
	var (
		d        Decision
		replaced bool
	)
	u, err := change(ctx, b.store, b.now, c.ID, func(u *Upgrade) (Decision, error) {
		if err := b.mayDebrief(inv, u); err != nil {
			return Decision{}, err
		}
		now := b.now().UTC()
		d = Decision{At: now, Actor: actor, Action: ActionDebriefRecorded, Detail: c.Text}
		if replaced = u.Debrief != nil; replaced {
			d.Reason = "replaces the debrief by @" + b.dir.Principal(u.Debrief.By).Name + " of " + FormatTime(u.Debrief.At, nil)
			d.ReplacesBy, d.ReplacesAt = u.Debrief.By, u.Debrief.At
		}
		u.Debrief = &Record{Text: c.Text, By: actor, At: now}
		d.Event = b.ev.event(ctx, u, EventDebriefRecorded, actor, map[string]any{"debrief": c.Text, "replaced": replaced})
		return d, nil
	})
	if err != nil {
		return Message{}, err
	}
	ctx, cancel := afterSave(ctx)
	defer cancel()
	b.ev.written(u, d.Event)
	b.out.refreshRoot(u.ID)
	b.out.notify(ctx, u.ID, b.dir.DebriefNotice(u, replaced), inv.invoker())
	what := "Recorded the debrief of "
	if replaced {
		what = "Replaced the debrief of "
	}
	m := reply(T("📝 " + what).Bold(u.Title()).Add(". Thank you."))
	m.UpgradeID = u.Key()
	return m, nil
}

// DebriefPrompt asks the owners of u, once it completed or was rolled
// back, what happened and what to change. A completed upgrade rolled back
// later is asked again only in words that point back at the first prompt
// (the debrief on record, or the one asked for at completion): one debrief
// per upgrade.
func (d *Directory) DebriefPrompt(u *Upgrade) Message {
	m := thread(u, KindDebriefPrompt)
	how := "completed"
	if u.State == RolledBack {
		how = "rolled back"
	}
	owners := d.Principals(u.Owners)
	line := T("📝 ").Bold(u.Title()).Add(" is " + how + ". ")
	ask, how2 := " write a short debrief: what happened, and what to change next time.", "."
	switch r := u.Debrief; {
	case r != nil: // completed, debriefed, then rolled back
		// " by " before the mention names its author without calling them
		// (only the owners are asked).
		line = line.Add("A debrief is on record, written by ").Mention(d.Principal(r.By)).Add(" at ").Time(r.At).Add(". ")
		ask, how2 = " bring it up to date: what happened since, and what to change next time.", "; the new debrief replaces it."
	case u.State == RolledBack && !u.CompletedAt.IsZero():
		// Completed, asked for a debrief then, rolled back before one was
		// written: one debrief tells both, so this prompt takes the place
		// of the first rather than asking again as if it were new.
		line = line.Add("It was completed first; the debrief asked for then is not written yet, and this request replaces it. ")
		ask = " write one debrief covering both: what happened, why it was rolled back, and what to change next time."
	}
	if len(owners) > 0 {
		line = line.Mentions(owners).Add(", please")
	} else {
		line = line.Add("Please")
	}
	m.Lines = append(m.Lines, line.Add(ask),
		T("Press Write debrief, or type ").Command(hint("debrief", Arg{Name: "id", Value: u.Key()}, Arg{Name: "text", Placeholder: "<text...>"})).Add(how2))
	m.Debrief = &DebriefButton{UpgradeID: u.Key()}
	return m
}

// DebriefNotice tells the thread the debrief of u was recorded.
func (d *Directory) DebriefNotice(u *Upgrade, replaced bool) Message {
	m := thread(u, KindDebriefRecorded)
	what := " recorded the debrief: "
	if replaced {
		what = " replaced the debrief: "
	}
	m.Lines = append(m.Lines, T("📝 ").Mention(d.Principal(u.Debrief.By)).Add(what+u.Debrief.Text))
	return m
}
