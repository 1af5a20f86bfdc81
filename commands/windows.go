package commands

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// This file is the grammar of predictable windows: the standard maintenance
// windows of the configuration ("tue 02:00-05:00 Europe/Berlin"), the
// weekly recurrence of a series ("every tue 02:00"), and the subcommands
// slots and freeze. Local times are resolved by the DST rule of the time
// grammar (resolveLocal): a time skipped by the clocks moves forward by the
// gap, a time repeated is the first, and either way a note says so.

// weekly is a wall-clock time on one weekday in one zone.
type weekly struct {
	day    time.Weekday
	minute int // minutes after midnight
	loc    *time.Location
}

// on resolves the time on the local date y-m-d (which need not be its
// weekday), with the DST note.
func (w weekly) on(y int, m time.Month, d int) (time.Time, string) {
	return resolveLocal(y, m, d, w.minute/60, w.minute%60, w.loc)
}

// dates calls fn with every local date of the weekday from two days before
// from's date to the day after to's date, in order, until fn returns false.
func (w weekly) dates(from, to time.Time, fn func(y int, m time.Month, d int) bool) {
	fy, fm, fd := from.In(w.loc).Date()
	last := dateOnly(to.In(w.loc).Date()).AddDate(0, 0, 1)
	for t := dateOnly(fy, fm, fd-2); !t.After(last); t = t.AddDate(0, 0, 1) {
		if t.Weekday() != w.day {
			continue
		}
		y, m, d := t.Date()
		if !fn(y, m, d) {
			return
		}
	}
}

// shiftNote says that the clocks changed since the week before: the time is
// the same on the wall, so its UTC time moved. "" when nothing changed.
func (w weekly) shiftNote(what string, at time.Time, y int, m time.Month, d int) string {
	prev, _ := w.on(y, m, d-7)
	// The UTC time moved when a week apart is not 7×24h: the clocks
	// changed in between (or last week's local time fell in a gap, moved
	// forward, and this week's did not).
	moved := at.Sub(prev) - 7*24*time.Hour
	if moved == 0 {
		return ""
	}
	change, _ := at.ZoneBounds() // at's zone period starts with the change
	dir := "forward"
	if moved > 0 {
		dir = "back"
	}
	return fmt.Sprintf("Clocks in %s go %s on %s: %s %s, which is %s UTC (it was %s UTC the week before).",
		w.loc, dir, change.In(w.loc).Format("Monday 2 January"), what, at.Format("15:04 MST"),
		at.UTC().Format("15:04"), prev.UTC().Format("15:04"))
}

func dateOnly(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }

// weekdayName is the short name a window is written with: "Tue".
func weekdayName(d time.Weekday) string { return d.String()[:3] }

func clockText(minute int) string { return fmt.Sprintf("%02d:%02d", minute/60, minute%60) }

// Window is a standard maintenance window of a service: every week on Day,
// from Start to End wall-clock time in Loc. An End at or before the Start
// is on the next day (the window crosses midnight).
type Window struct {
	Day        time.Weekday
	Start, End int // minutes after midnight
	Loc        *time.Location
}

// Crosses reports a window that ends on the day after it starts.
func (w Window) Crosses() bool { return w.End <= w.Start }

// Nominal is the window's length on the wall clock; a day when the clocks
// change makes the real one an hour (or half an hour) shorter or longer.
func (w Window) Nominal() time.Duration {
	m := w.End - w.Start
	if m <= 0 {
		m += 24 * 60
	}
	return time.Duration(m) * time.Minute
}

// String writes the window the way the configuration does, normalised:
// "Tue 02:00-05:00 Europe/Berlin".
func (w Window) String() string {
	return weekdayName(w.Day) + " " + clockText(w.Start) + "-" + clockText(w.End) + " " + w.Loc.String()
}

// Occurrence is one week's instance of a standard window, resolved to
// instants.
type Occurrence struct {
	Window     Window
	Start, End time.Time
	// Note says how a DST change affects this occurrence: a local time that
	// does not exist or exists twice (resolved by the time grammar's rule),
	// a window that is shorter or longer than on the wall clock, or clocks
	// that changed since the week before (the window keeps its local time,
	// so its UTC time moves). "" normally.
	Note string
}

// Occurrences lists the occurrences of w that end after from and start
// before to, in order.
func (w Window) Occurrences(from, to time.Time) []Occurrence {
	var out []Occurrence
	start := weekly{day: w.Day, minute: w.Start, loc: w.Loc}
	end := weekly{day: w.Day, minute: w.End, loc: w.Loc}
	start.dates(from, to, func(y int, m time.Month, d int) bool {
		s, sn := start.on(y, m, d)
		ed := d
		if w.Crosses() {
			ed++
		}
		e, en := end.on(y, m, ed)
		if !e.After(from) || !s.Before(to) {
			return true
		}
		var notes []string
		for _, n := range []string{sn, en} {
			if n != "" {
				notes = append(notes, n)
			}
		}
		if real := e.Sub(s); real != w.Nominal() {
			if sn == "" && en == "" {
				change, _ := e.In(w.Loc).ZoneBounds() // the end's zone period starts with the change
				notes = append(notes, fmt.Sprintf("The clocks change during this window on %s in %s, so it lasts %s, not %s.",
					change.In(w.Loc).Format("2 January"), w.Loc, shortDuration(real), shortDuration(w.Nominal())))
			} else {
				notes = append(notes, fmt.Sprintf("It lasts %s, not %s.", shortDuration(real), shortDuration(w.Nominal())))
			}
		}
		if len(notes) == 0 {
			if n := start.shiftNote("this window opens at", s, y, m, d); n != "" {
				notes = append(notes, n)
			}
		}
		out = append(out, Occurrence{Window: w, Start: s, End: e, Note: strings.Join(notes, " ")})
		return true
	})
	return out
}

// Covers reports whether [start, end) lies within one occurrence of w.
func (w Window) Covers(start, end time.Time) bool {
	for _, o := range w.Occurrences(start, end) {
		if !start.Before(o.Start) && !end.After(o.End) {
			return true
		}
	}
	return false
}

// windowForms is how a standard window is written, for errors.
const windowForms = `<weekday> <start>-<end> [<zone>], e.g. "tue 02:00-05:00 Europe/Berlin" or "thu 22:00-01:00 America/New_York" (an end before the start is on the next day)`

// ParseWindow reads a standard window as the configuration writes it:
// "tue 02:00-05:00 Europe/Berlin", "thu 22:00-01:00 America/New_York",
// "sat 9am - 1pm UTC". The zone is optional (def, the bot's default time
// zone, when left out). Errors are *Error without Usage.
func ParseWindow(s string, def *time.Location) (Window, error) {
	bad := func(format string, args ...any) error {
		return &Error{Token: s, Msg: fmt.Sprintf("cannot read %q as a standard window: ", s) + fmt.Sprintf(format, args...) + "; write " + windowForms}
	}
	norm := strings.NewReplacer("–", "-", "—", "-").Replace(s)
	f := strings.Fields(norm)
	if len(f) < 2 {
		return Window{}, bad("it needs a weekday and a start-end")
	}
	day, ok := weekdays[strings.ToLower(f[0])]
	if !ok {
		return Window{}, bad("%q is not a weekday", f[0])
	}
	loc := def
	if loc == nil {
		loc = time.UTC
	}
	rest := f[1:]
	if last := rest[len(rest)-1]; len(rest) > 1 && looksLikeZone(last) {
		z, far, err := readZone(last)
		switch {
		case far:
			return Window{}, bad("%s", err.(*Error).Msg)
		case err != nil:
			return Window{}, bad("unknown time zone %q", last)
		}
		loc, rest = z, rest[:len(rest)-1]
	} else if len(rest) > 1 && isZoneAbbreviation(last) {
		return Window{}, bad("the abbreviation %q is ambiguous; use an IANA name like Europe/Berlin", last)
	}
	from, to, ok := strings.Cut(strings.Join(rest, ""), "-")
	if !ok {
		return Window{}, bad("the start and end must be joined by -")
	}
	clockOf := func(part, which string) (int, error) {
		c, n, ok, hint := parseClockTokens([]string{part})
		if !ok || n != 1 {
			return 0, bad("cannot read the %s %q as a clock time%s", which, part, hint)
		}
		return c.hour*60 + c.minute, nil
	}
	start, err := clockOf(from, "start")
	if err != nil {
		return Window{}, err
	}
	end, err := clockOf(to, "end")
	if err != nil {
		return Window{}, err
	}
	if start == end {
		return Window{}, bad("it ends when it starts")
	}
	return Window{Day: day, Start: start, End: end, Loc: loc}, nil
}

// Every is the weekly recurrence of a series: on Day at Minute (after
// midnight, wall clock) in Loc, the occurrences' local dates up to Until.
type Every struct {
	Day    time.Weekday
	Minute int
	Loc    *time.Location
	// ZoneGiven reports that the recurrence named its zone; otherwise it
	// was read in Env.Location.
	ZoneGiven bool
	// Text is the recurrence as typed, e.g. "tue 02:00 Europe/Berlin".
	Text string
	// Until is the last local date an occurrence may fall on, as
	// YYYY-MM-DD; "" for no end.
	Until string
}

// String writes the recurrence normalised: "Tue 02:00 Europe/Berlin".
func (e Every) String() string {
	return weekdayName(e.Day) + " " + clockText(e.Minute) + " " + e.Loc.String()
}

func (e Every) weekly() weekly { return weekly{day: e.Day, minute: e.Minute, loc: e.Loc} }

// Date is one occurrence of a recurrence: its local date (YYYY-MM-DD,
// which names it) and its start.
type Date struct {
	Date  string
	Start time.Time
	// Note says how a DST change affects the start (as Occurrence.Note).
	Note string
}

// Next returns the first occurrence that starts at or after from and on
// or before Until; false when there is none any more.
func (e Every) Next(from time.Time) (Date, bool) {
	var out Date
	found := false
	w := e.weekly()
	w.dates(from, from.AddDate(0, 0, 8), func(y int, m time.Month, d int) bool {
		t, note := w.on(y, m, d)
		if t.Before(from) {
			return true
		}
		date := dateOnly(y, m, d).Format("2006-01-02")
		if e.Until != "" && date > e.Until {
			return false
		}
		if note == "" {
			note = w.shiftNote("it starts at", t, y, m, d)
		}
		out, found = Date{Date: date, Start: t, Note: note}, true
		return false
	})
	return out, found
}

// On returns the occurrence on date (YYYY-MM-DD): false when date is not
// its weekday or lies after Until.
func (e Every) On(date string) (Date, bool) {
	d, err := time.Parse("2006-01-02", date)
	if err != nil || d.Weekday() != e.Day || e.Until != "" && date > e.Until {
		return Date{}, false
	}
	w := e.weekly()
	t, note := w.on(d.Date())
	if note == "" {
		y, m, dd := d.Date()
		note = w.shiftNote("it starts at", t, y, m, dd)
	}
	return Date{Date: date, Start: t, Note: note}, true
}

// ChangeNote says when the clocks change inside an occurrence that starts
// at start and lasts d (a series keeps its length, so its local end moves):
// "" when they do not.
func (e Every) ChangeNote(start time.Time, d time.Duration) string {
	end := start.Add(d).In(e.Loc)
	_, so := start.In(e.Loc).Zone()
	_, eo := end.Zone()
	if so == eo {
		return ""
	}
	change, _ := end.ZoneBounds()
	return fmt.Sprintf("The clocks change during this occurrence on %s in %s: it ends at %s, %s after it starts.",
		change.In(e.Loc).Format("2 January"), e.Loc, end.Format("15:04 MST"), shortDuration(d))
}

// After returns the occurrence following the one on date (YYYY-MM-DD).
func (e Every) After(date string) (Date, bool) {
	d, err := time.Parse("2006-01-02", date)
	if err != nil {
		return Date{}, false
	}
	y, m, dd := d.AddDate(0, 0, 1).Date()
	from, _ := resolveLocal(y, m, dd, 0, 0, e.Loc)
	return e.Next(from)
}

// ParseEvery reads a recurrence as stored ("Tue 02:00 Europe/Berlin", the
// String form).
func ParseEvery(s string) (Every, error) {
	return ParseRecurrence(s, "", Env{Location: time.UTC})
}

// ParseRecurrence reads a recurrence as typed into a platform's options:
// every ("tue 02:00", "tuesday at 2am Europe/Berlin"; without a zone, in
// env.Location) and until ("" or a YYYY-MM-DD date), the way Parse reads
// "every ... until ..." after schedule. Errors are *Error without Usage.
func ParseRecurrence(every, until string, env Env) (Every, error) {
	toks, terr := tokenize(every)
	if terr != nil {
		return Every{}, terr
	}
	p := &parser{name: "schedule", toks: toks, env: env}
	if p.keywordAt(0, "every") {
		p.pos++
	}
	e, err := p.everyBody()
	if err == nil {
		err = p.end()
	}
	if err == nil && until != "" {
		p.toks, p.pos = []token{{text: until}}, 0
		err = p.until(&e, env.Now)
	}
	if err != nil {
		if pe, ok := err.(*Error); ok {
			pe.Usage = ""
		}
		return Every{}, err
	}
	return e, nil
}

// nameRe is what names a freeze: one word, as configuration names are.
var nameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// ValidName reports whether s may name a freeze.
func ValidName(s string) bool { return nameRe.MatchString(s) && len(s) <= 64 }

// Slots lists the next free standard windows of a service.
type Slots struct {
	Service string
	N       int // how many; 0 means DefaultSlots
}

// DefaultSlots and MaxSlots bound how many free windows slots lists.
const (
	DefaultSlots = 5
	MaxSlots     = 20
)

// Freeze adds, lists or removes change freezes.
type Freeze struct {
	Action string // "add", "list" or "remove"
	// FreezeName names the freeze (add, remove): one word (ValidName).
	FreezeName string
	// From and To bound the freeze (add); From is Env.Now when not typed.
	From, To         time.Time
	FromText, ToText string // as typed; FromText "" means now
	// Notes are how a DST change made a typed time read, one sentence each.
	Notes []string
	// Services are the services it applies to, as typed; empty or "*":
	// every service.
	Services []string
	// Regions restrict it to upgrades in these regions; empty: every region.
	Regions []string
	Reason  string
	All     bool // list: also ended and removed freezes
}

// Name implements Command.
func (Slots) Name() string { return "slots" }

// Name implements Command.
func (Freeze) Name() string { return "freeze" }

// CancelOccurrence and CancelSeries are the scopes of cancelling an
// occurrence of a series (Cancel.Scope).
const (
	CancelOccurrence = "occurrence"
	CancelSeries     = "series"
)

// nextAhead reports the keyword next standing for "the next free standard
// window": at the end, or before an option. Anything else after it is the
// start of a time such as "next tuesday 14:00".
func (p *parser) nextAhead() bool {
	return p.keywordAt(p.pos, "next") && (p.pos+1 == len(p.toks) || p.keywordAt(p.pos+1, "for", "region", "impact", "anyway"))
}

func (p *parser) keywordAt(i int, kws ...string) bool {
	return i < len(p.toks) && keyword(p.toks[i], kws...) != ""
}

// versionIsKeyword refuses a version that is really the keyword next or
// every, as in "schedule payments next for 2h" or "schedule payments every
// tue 02:00 for 1h": read positionally, the keyword would be the version. A
// quoted version is always the version.
func (p *parser) versionIsKeyword() error {
	vt := p.toks[p.pos-1]
	if vt.quoted {
		return nil
	}
	kw := keyword(vt, "next", "every")
	if kw == "" {
		return nil
	}
	// What follows reads as a start: "next tomorrow 02:00" or "every in
	// 2h" would otherwise schedule version "next" or "every" quietly.
	_, timeAhead := startsTime(p.texts(p.pos), p.env)
	// So does the next-window form, or a series: "next next" or "every every
	// tue 02:00 for 1h" would otherwise take the keyword as the version.
	timeAhead = timeAhead || p.keywordAt(p.pos, "at", "in", "every") || p.nextAhead()
	switch {
	case kw == "next" && (!p.more() || p.keywordAt(p.pos, "for", "region", "impact", "anyway") || timeAhead):
	case kw == "every" && p.more():
		if _, isDay := weekdays[strings.ToLower(p.peek().text)]; !isDay && !timeAhead {
			return nil
		}
	default:
		return nil
	}
	return p.fail(vt.text, "missing <version>: %q reads as the start; if %q is the version, quote it", vt.text, vt.text)
}

// every reads "every <weekday> [at] <clock> [<zone>]" (the keyword is next).
func (p *parser) every() (Every, error) {
	p.next()
	return p.everyBody()
}

func (p *parser) everyBody() (Every, error) {
	start := p.pos
	forms := "every <weekday> <time> [<zone>] for <duration> [until <date>], e.g. every tue 02:00 Europe/Berlin for 1h until 2027-03-31"
	if !p.more() {
		return Every{}, p.fail("", "missing the weekday after every; write %s", forms)
	}
	t := p.next()
	day, ok := weekdays[strings.ToLower(t.text)]
	if !ok {
		return Every{}, p.fail(t.text, "cannot read %q as a weekday after every; write %s", t.text, forms)
	}
	if p.more() && keyword(p.peek(), "at") != "" {
		p.next()
	}
	c, n, ok, hint := parseClockTokens(p.texts(p.pos))
	if !ok {
		tok := ""
		if p.more() {
			tok = p.peek().text
		}
		return Every{}, p.fail(tok, "missing or unreadable clock time after every %s%s; write %s", t.text, hint, forms)
	}
	p.pos += n
	e := Every{Day: day, Minute: c.hour*60 + c.minute, Loc: p.env.Location}
	if e.Loc == nil {
		e.Loc = time.UTC
	}
	if p.more() && looksLikeZone(p.peek().text) {
		z, err := parseZone(p.next().text)
		if err != nil {
			return Every{}, p.withUsage(err)
		}
		e.Loc, e.ZoneGiven = z, true
	}
	// A second zone or an abbreviation (CET) gets the words the one-off time
	// gets, not "unexpected"; the options that may follow are no zones.
	if p.more() && keyword(p.peek(), "for", "region", "impact", "anyway", "until") == "" {
		tok := p.peek().text
		if msg := zoneAfterMsg(tok, func(m string) string { return m + "; write " + forms }); msg != "" {
			return Every{}, p.fail(tok, "%s", msg)
		}
	}
	e.Text = strings.Join(p.texts(start)[:p.pos-start], " ")
	return e, nil
}

// until reads the date after until: the last local date an occurrence may
// fall on.
func (p *parser) until(e *Every, now time.Time) error {
	if !p.more() {
		return p.fail("", "missing <date> after until, e.g. until 2027-03-31")
	}
	t := p.next()
	if !isDate(t.text) {
		return p.fail(t.text, "cannot read %q as a date after until; write YYYY-MM-DD, e.g. until 2027-03-31 (the last day an occurrence may fall on)", t.text)
	}
	if t.text < now.In(e.Loc).Format("2006-01-02") {
		return p.fail(t.text, "until %s is in the past", t.text)
	}
	e.Until = t.text
	return nil
}

// restUntilAnyway is rest() for impact: the text runs to the end of the
// line or to an unquoted anyway, which starts the override. It is trimmed as
// rest is: a quoted blank is no text.
func (p *parser) restUntilAnyway() string {
	var words []string
	for p.more() && keyword(p.peek(), "anyway") == "" {
		if t := p.next(); t.text != "" {
			words = append(words, t.text)
		}
	}
	return strings.TrimSpace(strings.Join(words, " "))
}

// anywayInImpact says how to have the word anyway in the impact when an
// unquoted anyway ended it: quote the whole impact. The words have no
// quotes left (the tokenizer took them), so one pair of quotes holds them.
func anywayInImpact(impact, reason string) string {
	words := impact + " anyway"
	if reason != "" {
		words += " " + reason
	}
	return `to have the word in the impact, quote it: impact "` + words + `"`
}

// anyway reads an optional "anyway <reason...>" at the end of the line:
// an admin's override of a freeze, with why.
func (p *parser) anyway() (string, error) {
	if !p.more() || keyword(p.peek(), "anyway") == "" {
		return "", nil
	}
	p.next()
	reason := p.rest()
	if reason == "" {
		return "", p.fail("", "missing <reason...> after anyway: overriding a freeze must say why")
	}
	return reason, nil
}

// cancelScope reads the optional occurrence or series after cancel's id,
// one comma or period after it being no part of it ("series, vendor
// delay").
func (p *parser) cancelScope() string {
	if p.more() && !p.peek().quoted {
		if k := ScopeWord(p.peek().text); k != "" {
			p.next()
			return k
		}
	}
	return ""
}

// ScopeWord is the scope of cancel (CancelOccurrence, CancelSeries) that
// the word typed after its id names, in any letter case, one comma or
// period after it being no part of it; "" for none.
func ScopeWord(w string) string {
	w, _ = cutIDPunct(w)
	return keyword(token{text: w}, CancelOccurrence, CancelSeries)
}

func (p *parser) slots() (Command, error) {
	var c Slots
	var err error
	if c.Service, err = p.word("<service>", "the service"); err != nil {
		return nil, err
	}
	if p.more() {
		t := p.next()
		n, err := strconv.Atoi(t.text)
		if err != nil || n < 1 || n > MaxSlots {
			return nil, p.fail(t.text, "cannot read %q as how many windows to list; give a number from 1 to %d", t.text, MaxSlots)
		}
		c.N = n
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	return c, nil
}

// freezeKeywords end a list of services or regions in freeze add.
var freezeKeywords = []string{"from", "to", "for", "services", "service", "regions", "region", "reason"}

func (p *parser) freeze() (Command, error) {
	if !p.more() {
		return nil, p.fail("", "missing add, list or remove after freeze")
	}
	t := p.next()
	action := keyword(t, "add", "list", "remove")
	if action == "" {
		return nil, p.fail(t.text, "unknown %q after freeze; use add, list or remove", t.text)
	}
	c := Freeze{Action: action}
	switch action {
	case "list":
		if p.more() && keyword(p.peek(), "all") != "" {
			p.next()
			c.All = true
		}
		return c, p.end()
	case "remove":
		if !p.more() {
			return nil, p.fail("", "missing <name> of the freeze to remove")
		}
		c.FreezeName = p.next().text
		c.Reason = p.rest()
		return c, nil
	}
	if !p.more() || keyword(p.peek(), freezeKeywords...) != "" {
		return nil, p.fail("", "missing <name> of the freeze, one word such as year-end")
	}
	c.FreezeName = p.next().text
	if !ValidName(c.FreezeName) {
		return nil, p.fail(c.FreezeName, "cannot name a freeze %q: use one word of letters, digits, \".\", \"_\" or \"-\"", c.FreezeName)
	}
	seen := map[string]bool{}
	var length time.Duration
	for p.more() {
		t := p.next()
		kw := keyword(t, freezeKeywords...)
		switch kw {
		case "service":
			kw = "services"
		case "region":
			kw = "regions"
		}
		if kw == "to" && seen["for"] || kw == "for" && seen["to"] {
			return nil, p.fail(t.text, "the options to and for cannot both be given: each says when the freeze ends, so give one (to <time> or for <duration>)")
		}
		if kw != "" && seen[kw] {
			return nil, p.fail(t.text, "the option %q is given twice", t.text)
		}
		seen[kw] = true
		switch kw {
		case "from", "to":
			w, err := p.freezeTime(kw == "from")
			if err != nil {
				return nil, err
			}
			if w.Note != "" {
				c.Notes = append(c.Notes, w.Note)
			}
			if kw == "from" {
				c.From, c.FromText = w.Start, w.Text
			} else {
				c.To, c.ToText = w.Start, w.Text
			}
		case "for":
			d, err := p.duration("for", "the freeze's length")
			if err != nil {
				return nil, err
			}
			length = d
		case "services", "regions":
			list := p.words()
			if len(list) == 0 {
				return nil, p.fail("", "missing the %s after %s", kw, t.text)
			}
			if kw == "services" {
				c.Services = list
			} else {
				c.Regions = list
			}
		case "reason":
			if c.Reason = p.rest(); c.Reason == "" {
				return nil, p.fail("", "missing <text...> after reason")
			}
		default:
			return nil, p.fail(t.text, "unexpected %q; freeze add takes from <time>, to <time> or for <duration>, services, regions and reason", t.text)
		}
	}
	if c.FromText == "" {
		c.From = p.env.Now.Truncate(time.Minute)
	}
	switch {
	case length > 0:
		c.To = c.From.Add(length)
		c.ToText = "for " + shortDuration(length)
	case c.ToText == "":
		return nil, p.fail("", "missing the end: to <time> or for <duration>")
	}
	if !c.To.After(c.From) {
		return nil, p.fail(c.ToText, "the freeze must end after it starts (%s is not after %s)", formatIn(c.To, p.env.Location), formatIn(c.From, p.env.Location))
	}
	return c, nil
}

// freezeTime reads a start or end of a freeze: any absolute time the
// grammar reads, and also a bare date (YYYY-MM-DD, optionally with a
// zone), which is the midnight that starts that day. A start (from) at the
// very minute it is now means now: the freeze holds from now ("from 09:00"
// at 09:00 is today's, not tomorrow's as for schedule); an end at it is
// still its next occurrence.
func (p *parser) freezeTime(from bool) (When, error) {
	env := p.env
	env.thisMinute = from
	env.end = !from
	rest := p.toks[p.pos:]
	if len(rest) > 0 && rest[0].quoted && strings.Contains(rest[0].text, " ") {
		// A quoted time: "2026-12-20 Europe/Berlin" is read as if unquoted.
		var inner []token
		for _, w := range strings.Fields(rest[0].text) {
			inner = append(inner, token{text: w})
		}
		q := &parser{name: p.name, toks: inner, env: p.env}
		w, err := q.freezeTime(from)
		if err == nil && q.more() {
			err = q.fail(q.peek().text, "unexpected %q after the time %q", q.peek().text, w.Text)
		}
		if err != nil {
			return When{}, err
		}
		p.pos++
		return w, nil
	}
	if len(rest) > 0 && isDate(rest[0].text) {
		if _, _, ok, _ := parseClockTokens(p.texts(p.pos + 1)); !ok {
			// A day: the midnight it starts with.
			inner := append([]token{rest[0], {text: "00:00"}}, rest[1:]...)
			w, n, err := readWhen(inner, env)
			if e, ok := err.(*Error); ok {
				// Say the date as it was typed, without the clock added here.
				typed := rest[0].text + " 00:00"
				e.Token = strings.Replace(e.Token, typed, rest[0].text, 1)
				e.Msg = strings.Replace(e.Msg, typed, rest[0].text, 1)
			}
			if err != nil {
				return When{}, p.withUsage(err)
			}
			p.pos += n - 1
			w.Text = strings.Replace(w.Text, " 00:00", "", 1)
			return w, nil
		}
	}
	w, n, err := readWhen(rest, env)
	if err != nil {
		return When{}, p.withUsage(err)
	}
	p.pos += n
	return w, nil
}

// words reads words up to the next keyword of freeze add, each split at
// commas: "payments,ledger", "payments ledger", "*".
func (p *parser) words() []string {
	var out []string
	for p.more() && keyword(p.peek(), freezeKeywords...) == "" {
		for _, w := range strings.Split(p.next().text, ",") {
			if w = strings.TrimSpace(w); w != "" {
				out = append(out, w)
			}
		}
	}
	return out
}
