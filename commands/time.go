package commands

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseID accepts the id forms users copy from replies and type by hand
// (UPG-7, upg-7, #7, 7). The returned error is an *Error without Usage; Parse
// adds the usage of the subcommand being parsed.
func ParseID(s string) (int, error) {
	digits := s
	switch {
	case len(digits) > 4 && strings.EqualFold(digits[:4], "UPG-"):
		digits = digits[4:]
	case strings.HasPrefix(digits, "#"):
		digits = digits[1:]
	}
	// The refusal is built only when needed: ParseID is on every press.
	bad := func() error {
		return &Error{Token: s, Msg: fmt.Sprintf("cannot read %q as an upgrade id; use %s", s, idForms)}
	}
	if digits == "" {
		return 0, bad()
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, bad()
		}
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n <= 0 {
		return 0, bad()
	}
	return n, nil
}

// durationUnits are the extra units users expect for maintenance windows; Go's
// own units are delegated to time.ParseDuration so its rules stay authoritative.
var durationUnits = map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour}

// unitNames maps every unit spelling users type, in lower case, to the unit
// ParseDuration computes with. Units are case-insensitive, so "M" is minutes:
// months are not a duration unit here.
var unitNames = map[string]string{
	"ns": "ns", "us": "us", "µs": "us", "μs": "us", "ms": "ms",
	"s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
	"m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
	"h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
	"d": "d", "day": "d", "days": "d",
	"w": "w", "wk": "w", "wks": "w", "week": "w", "weeks": "w",
}

// isUnitWord reports whether s is a unit on its own, as in "3 days".
func isUnitWord(s string) bool {
	_, ok := unitNames[strings.ToLower(s)]
	return ok
}

// ParseDuration extends time.ParseDuration with d (24h) and w (168h), freely
// combined (1w2d, 1d12h), and with spelled-out units (90 minutes, 2 hours,
// 3 days, 1 week). Units are case-insensitive (2H, 90M, 1D); M is minutes.
// Spaces are ignored ("1 h 30 m"). It does not require a positive value or whole
// minutes: what is acceptable depends on where the duration is used, so Parse
// checks that and names the token.
func ParseDuration(s string) (time.Duration, error) {
	bad := func(why string) error {
		return &Error{Token: s, Msg: fmt.Sprintf("cannot read %q as a duration%s; use %s", s, why, durationForms)}
	}
	rest := strings.Join(strings.Fields(s), "")
	neg := false
	if rest != "" && (rest[0] == '+' || rest[0] == '-') {
		neg = rest[0] == '-'
		rest = rest[1:]
	}
	if rest == "" {
		return 0, bad("")
	}
	if rest == "0" {
		return 0, nil
	}
	var total time.Duration
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] == '.' || rest[i] >= '0' && rest[i] <= '9') {
			i++
		}
		num := rest[:i]
		j := i
		for j < len(rest) && rest[j] != '.' && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		typed := rest[i:j]
		rest = rest[j:]
		if num == "" {
			return 0, bad("")
		}
		if typed == "" {
			return 0, bad(" (missing unit)")
		}
		unit, ok := unitNames[strings.ToLower(typed)]
		if !ok {
			switch strings.ToLower(typed) {
			case "mo", "mon", "mos", "month", "months", "y", "yr", "yrs", "year", "years":
				return 0, bad(fmt.Sprintf(" (unknown unit %q: months and years are not durations here, use days or weeks)", typed))
			}
			return 0, bad(fmt.Sprintf(" (unknown unit %q)", typed))
		}
		var part time.Duration
		if mult, ok := durationUnits[unit]; ok {
			// Parse the number as hours so Go handles fractions (1.5d) exactly,
			// then scale with an overflow check.
			h, err := time.ParseDuration(num + "h")
			if err != nil {
				return 0, bad("")
			}
			k := mult / time.Hour
			if h > (1<<63-1)/k {
				return 0, bad(" (too long)")
			}
			part = h * k
		} else {
			d, err := time.ParseDuration(num + unit)
			if err != nil {
				return 0, bad("")
			}
			part = d
		}
		if total > (1<<63-1)-part {
			return 0, bad(" (too long)")
		}
		total += part
	}
	if neg {
		total = -total
	}
	return total, nil
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "sunday": time.Sunday,
	"mon": time.Monday, "monday": time.Monday,
	"tue": time.Tuesday, "tues": time.Tuesday, "tuesday": time.Tuesday,
	"wed": time.Wednesday, "weds": time.Wednesday, "wednesday": time.Wednesday,
	"thu": time.Thursday, "thur": time.Thursday, "thurs": time.Thursday, "thursday": time.Thursday,
	"fri": time.Friday, "friday": time.Friday,
	"sat": time.Saturday, "saturday": time.Saturday,
}

// ParseTime reads an absolute time (the <time> of "[at] <time>") from the front
// of tokens and reports how many tokens it used, so the caller can go on with
// the options that follow. The time is to the minute (seconds are dropped) and a
// local time in a DST gap or overlap is resolved by resolveLocal's rule. It
// does not reject past times: that is a property of the command, not of the
// syntax, and Parse reports it with the UTC instant.
//
// A trailing zone token is only consumed when it looks like a zone (UTC, GMT, Z,
// something with a '/', or a signed offset), so option keywords after the time
// are never mistaken for zones.
func ParseTime(tokens []string, env Env) (time.Time, int, error) {
	a, err := parseTime(tokens, env)
	if err != nil {
		return time.Time{}, 0, err
	}
	return a.t, a.n, nil
}

// absTime is an absolute time as read by parseTime.
type absTime struct {
	t        time.Time      // to the minute
	n        int            // tokens used
	zone     *time.Location // the zone the user wrote (IANA, UTC, offset, RFC 3339 suffix); nil if none
	note     string         // the DST sentence, "" when the local time was unambiguous
	midnight bool           // the clock was the word midnight
}

// dayKind is the day part of an absolute time.
type dayKind int

const (
	noDay dayKind = iota // a bare clock time: its next occurrence
	onDate
	onToday
	onTomorrow
	onWeekday
)

type day struct {
	kind       dayKind
	year       int
	month      time.Month
	dom        int
	wd         time.Weekday
	text       string // as typed, e.g. "next tuesday"
	tokenCount int
}

// parseDay reads a day (2026-12-01, today, tomorrow, mon, next monday) from the
// front of tokens. It returns ok=false, and no error, when the first token is
// not a day at all.
func parseDay(tokens []string) (day, bool, error) {
	if len(tokens) == 0 {
		return day{}, false, nil
	}
	first := tokens[0]
	lower := strings.ToLower(first)
	if w, ok := weekdays[lower]; ok {
		return day{kind: onWeekday, wd: w, text: first, tokenCount: 1}, true, nil
	}
	switch lower {
	case "today":
		return day{kind: onToday, text: first, tokenCount: 1}, true, nil
	case "tomorrow":
		return day{kind: onTomorrow, text: first, tokenCount: 1}, true, nil
	case "next":
		// "next tuesday" is the next Tuesday at that time, the same as "tuesday".
		if len(tokens) < 2 {
			return day{}, false, &Error{Msg: withTimeForms(`missing the weekday after "next", e.g. next tuesday 14:00`)}
		}
		w, ok := weekdays[strings.ToLower(tokens[1])]
		if !ok {
			return day{}, false, &Error{Token: tokens[1], Msg: withTimeForms(fmt.Sprintf(`cannot read %q as a weekday after "next", e.g. next tuesday 14:00`, tokens[1]))}
		}
		return day{kind: onWeekday, wd: w, text: first + " " + tokens[1], tokenCount: 2}, true, nil
	}
	if y, m, d, ok := parseDate(first); ok {
		return day{kind: onDate, year: y, month: m, dom: d, text: first, tokenCount: 1}, true, nil
	}
	return day{}, false, nil
}

// clock is a wall-clock time of day, to the minute.
type clock struct {
	hour, minute int
	midnight     bool
}

// amPM recognises the 12-hour suffixes: am, pm, a.m., p.m. in any case.
func amPM(s string) (pm, ok bool) {
	switch strings.ToLower(s) {
	case "am", "a.m.", "a.m":
		return false, true
	case "pm", "p.m.", "p.m":
		return true, true
	}
	return false, false
}

// to24 turns a 12-hour reading into 24 hours: 12am is 00:00, 12pm is 12:00.
func to24(h int, pm bool) (int, bool) {
	if h < 1 || h > 12 {
		return 0, false
	}
	if h == 12 {
		h = 0
	}
	if pm {
		h += 12
	}
	return h, true
}

// parseClockTokens reads a time of day from the front of tokens: 14:00,
// 14:00:30 (seconds dropped), 2am, 2:30pm, 2 am, 2:30 PM, noon or midnight. It
// returns ok=false with a hint for the error when the first token is no clock.
func parseClockTokens(tokens []string) (c clock, n int, ok bool, hint string) {
	if len(tokens) == 0 {
		return clock{}, 0, false, ""
	}
	first := tokens[0]
	switch strings.ToLower(first) {
	case "noon":
		return clock{hour: 12}, 1, true, ""
	case "midnight":
		return clock{midnight: true}, 1, true, ""
	}
	twelve := " (12-hour times run from 1 to 12: 12am is 00:00, 12pm is noon)"
	// One token with its suffix: 2am, 2:30pm, 12a.m.
	low := strings.ToLower(first)
	for _, suf := range []string{"a.m.", "p.m.", "a.m", "p.m", "am", "pm"} {
		body, found := strings.CutSuffix(low, suf)
		if !found || body == "" {
			continue
		}
		h, m, ok := parseHourMinute(body)
		if !ok {
			return clock{}, 0, false, ""
		}
		pm, _ := amPM(suf)
		if h, ok = to24(h, pm); !ok {
			return clock{}, 0, false, twelve
		}
		return clock{hour: h, minute: m}, 1, true, ""
	}
	h, m, _, _, isClock := parseClock(first)
	_, bareHour := atoiDigits(first)
	bareHour = bareHour && len(first) <= 2
	if len(tokens) > 1 && (isClock || bareHour) {
		// Two tokens: 2 am, 2:30 PM.
		if pm, ok := amPM(tokens[1]); ok {
			if bareHour {
				h, _ = atoiDigits(first)
				m = 0
			}
			if h, ok = to24(h, pm); !ok {
				return clock{}, 0, false, twelve
			}
			return clock{hour: h, minute: m}, 2, true, ""
		}
	}
	if isClock {
		return clock{hour: h, minute: m}, 1, true, ""
	}
	if bareHour {
		// Suggest only what reads: 2am, 2pm or 2:00; 14:00 (14pm is refused);
		// nothing for an hour no clock has (25).
		switch n, _ := atoiDigits(first); {
		case n >= 1 && n <= 12:
			return clock{}, 0, false, fmt.Sprintf(" (write %sam, %spm or %s:00)", first, first, first)
		case n <= 23:
			return clock{}, 0, false, fmt.Sprintf(" (write %s:00)", first)
		}
	}
	return clock{}, 0, false, ""
}

// parseHourMinute reads the body of a 12-hour time: 2, 02, 2:30, 2:30:15.
func parseHourMinute(s string) (int, int, bool) {
	if h, ok := atoiDigits(s); ok && len(s) <= 2 {
		return h, 0, true
	}
	h, m, _, _, ok := parseClock(s)
	return h, m, ok
}

// parseTime reads an absolute time: [day] clock [zone], clock day [zone] or one
// RFC 3339 token. Without a day, the clock time means its next occurrence
// (today if still ahead, else tomorrow).
func parseTime(tokens []string, env Env) (absTime, error) {
	if len(tokens) == 0 {
		return absTime{}, &Error{Msg: "missing the time; use " + timeForms}
	}
	loc := env.Location
	if loc == nil {
		loc = time.UTC
	}
	first := tokens[0]
	unparseable := func(tok, hint string) error {
		return &Error{Token: tok, Msg: fmt.Sprintf("cannot read %q as a time%s; use %s", tok, hint, timeForms)}
	}

	var (
		d        day
		c        clock
		ownZone  *time.Location // zone written inside an RFC 3339 token
		consumed int
	)
	if rd, c2, z, ok, err := parseTForm(first); ok || err != nil {
		if e, isErr := err.(*Error); isErr {
			return absTime{}, e
		}
		if err != nil {
			return absTime{}, unparseable(first, "")
		}
		d, c, ownZone, consumed = rd, c2, z, 1
	} else if dd, isDay, err := parseDay(tokens); err != nil {
		return absTime{}, err
	} else if isDay {
		d, consumed = dd, dd.tokenCount
		// "tomorrow at 2am" reads like "tomorrow 2am".
		if consumed+1 < len(tokens) && strings.EqualFold(tokens[consumed], "at") {
			consumed++
		}
		if consumed >= len(tokens) {
			return absTime{}, &Error{Msg: withTimeForms(fmt.Sprintf("missing the clock time after %q, e.g. %s 02:00", d.text, d.text))}
		}
		cc, n, ok, hint := parseClockTokens(tokens[consumed:])
		if !ok {
			return absTime{}, unparseable(tokens[consumed], fmt.Sprintf(" after %q%s", d.text, hint))
		}
		c, consumed = cc, consumed+n
	} else {
		cc, n, ok, hint := parseClockTokens(tokens)
		if !ok {
			return absTime{}, unparseable(first, hint)
		}
		c, consumed = cc, n
		// "2am tomorrow", "noon next friday": the day may follow the clock.
		dd, isDay, err := parseDay(tokens[consumed:])
		if err != nil {
			return absTime{}, err
		}
		if isDay {
			d, consumed = dd, consumed+dd.tokenCount
		}
	}

	var zone *time.Location
	if consumed < len(tokens) && looksLikeZone(tokens[consumed]) {
		tok := tokens[consumed]
		if ownZone != nil {
			return absTime{}, &Error{Token: tok, Msg: fmt.Sprintf("the time %q already carries its zone; drop %q", first, tok)}
		}
		z, err := parseZone(tok)
		if err != nil {
			return absTime{}, err
		}
		zone = z
		consumed++
	}
	if ownZone != nil {
		zone = ownZone
	}
	if zone != nil {
		loc = zone
	}

	// Relative days are counted in the zone the user meant, not in UTC: just after
	// midnight in Berlin it is still the previous day in UTC, so "today" differs.
	now := env.Now.In(loc)
	y, m, dom := now.Date()
	on := func(days int) (time.Time, string) {
		cy, cm, cd := time.Date(y, m, dom+days, 12, 0, 0, 0, time.UTC).Date()
		return resolveLocal(cy, cm, cd, c.hour, c.minute, loc)
	}
	var (
		t    time.Time
		note string
	)
	switch d.kind {
	case onDate:
		t, note = resolveLocal(d.year, d.month, d.dom, c.hour, c.minute, loc)
	case onToday:
		t, note = on(0)
	case onTomorrow:
		t, note = on(1)
	case onWeekday:
		off := (int(d.wd) - int(now.Weekday()) + 7) % 7
		t, note = on(off)
		if off == 0 && !env.ahead(t) { // this very minute is no longer ahead (but for a freeze's start)
			t, note = on(7)
		}
	default: // a bare clock time: its next occurrence
		t, note = on(0)
		if !env.ahead(t) {
			t, note = on(1)
		}
	}
	return absTime{t: t, n: consumed, zone: zone, note: note, midnight: c.midnight}, nil
}

// parseTForm reads 2026-12-01T02:00[:SS[.frac]][Z|±hh:mm] as one token. ok is
// false when s does not start like one; err is set when it does but is broken.
func parseTForm(s string) (day, clock, *time.Location, bool, error) {
	if len(s) <= 11 || (s[10] != 'T' && s[10] != 't') {
		return day{}, clock{}, nil, false, nil
	}
	y, mo, dom, ok := parseDate(s[:10])
	if !ok {
		return day{}, clock{}, nil, false, nil
	}
	bad := errors.New("bad RFC 3339 time")
	var zone *time.Location
	text := asciiUpper(s[11:])
	if cut := strings.IndexAny(text, "Z+-"); cut >= 0 {
		z, ok, far := parseZoneSuffix(text[cut:])
		if far {
			return day{}, clock{}, nil, false, &Error{Token: s, Msg: offsetRangeMsg(s[11+cut:], s)}
		}
		if !ok {
			return day{}, clock{}, nil, false, bad
		}
		zone, text = z, text[:cut]
	}
	h, m, _, _, ok := parseClock(text)
	if !ok {
		return day{}, clock{}, nil, false, bad
	}
	return day{kind: onDate, year: y, month: mo, dom: dom, text: s[:10], tokenCount: 1}, clock{hour: h, minute: m}, zone, true, nil
}

// withTimeForms ends a refusal of a start with the accepted forms, as
// "cannot read ... as a time" ends: a user who got the time wrong sees what
// is accepted, whatever the first sentence says was wrong.
func withTimeForms(msg string) string { return msg + "; use " + timeForms }

// startsTime reports whether the tokens open with something parseTime reads as
// a time, for the checks that keep an omitted "at" from swallowing words.
func startsTime(tokens []string, env Env) (int, bool) {
	a, err := parseTime(tokens, env)
	if err != nil {
		return 0, false
	}
	return a.n, true
}

// isDate reports whether s is exactly YYYY-MM-DD with a day that exists.
func isDate(s string) bool {
	_, _, _, ok := parseDate(s)
	return ok
}

func parseDate(s string) (int, time.Month, int, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, false
	}
	y, ok1 := atoiDigits(s[:4])
	m, ok2 := atoiDigits(s[5:7])
	d, ok3 := atoiDigits(s[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 {
		return 0, 0, 0, false
	}
	// time.Date normalises Feb 30 into March; a user typing it made a mistake.
	if time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Day() != d {
		return 0, 0, 0, false
	}
	return y, time.Month(m), d, true
}

// parseClock reads H:MM, HH:MM, HH:MM:SS or HH:MM:SS.fraction.
func parseClock(s string) (h, m, sec, nsec int, ok bool) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, 0, 0, 0, false
	}
	if len(parts[0]) < 1 || len(parts[0]) > 2 || len(parts[1]) != 2 {
		return 0, 0, 0, 0, false
	}
	h, ok1 := atoiDigits(parts[0])
	m, ok2 := atoiDigits(parts[1])
	if !ok1 || !ok2 || h > 23 || m > 59 {
		return 0, 0, 0, 0, false
	}
	if len(parts) == 3 {
		secs, frac, hasFrac := strings.Cut(parts[2], ".")
		var ok3 bool
		sec, ok3 = atoiDigits(secs)
		if len(secs) != 2 || !ok3 || sec > 59 {
			return 0, 0, 0, 0, false
		}
		if hasFrac {
			if frac == "" || len(frac) > 9 {
				return 0, 0, 0, 0, false
			}
			f, ok4 := atoiDigits(frac)
			if !ok4 {
				return 0, 0, 0, 0, false
			}
			for i := len(frac); i < 9; i++ {
				f *= 10
			}
			nsec = f
		}
	}
	return h, m, sec, nsec, true
}

func atoiDigits(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// looksLikeZone decides whether the token after a time is meant as its zone.
func looksLikeZone(tok string) bool {
	up := asciiUpper(tok)
	switch {
	case up == "UTC" || up == "GMT" || up == "Z":
		return true
	case strings.HasPrefix(up, "UTC+") || strings.HasPrefix(up, "UTC-") ||
		strings.HasPrefix(up, "GMT+") || strings.HasPrefix(up, "GMT-"):
		return true
	case strings.Contains(tok, "/"):
		return true
	case len(tok) > 1 && (tok[0] == '+' || tok[0] == '-') && tok[1] >= '0' && tok[1] <= '9':
		return true
	}
	return false
}

func parseZone(tok string) (*time.Location, error) {
	z, _, err := readZone(tok)
	return z, err
}

// readZone is parseZone that also reports far: tok is a well-formed offset
// beyond ±14:00, refused as out of range rather than as an unknown zone.
func readZone(tok string) (z *time.Location, far bool, err error) {
	bad := &Error{Token: tok, Msg: fmt.Sprintf("unknown time zone %q; use UTC, an IANA name like Europe/Berlin, or an offset like +02:00", tok)}
	up := asciiUpper(tok)
	offset := func(s string) (*time.Location, bool, error) {
		z, ok, far := parseOffset(s)
		switch {
		case far:
			return nil, true, &Error{Token: tok, Msg: offsetRangeMsg(s, tok)}
		case !ok:
			return nil, false, bad
		}
		return z, false, nil
	}
	switch {
	case up == "UTC" || up == "GMT" || up == "Z":
		return time.UTC, false, nil
	case strings.HasPrefix(up, "UTC") || strings.HasPrefix(up, "GMT"):
		// UTC+2 means two hours ahead of UTC (unlike the inverted IANA Etc/GMT+2).
		return offset(tok[3:])
	case tok[0] == '+' || tok[0] == '-':
		return offset(tok)
	}
	if strings.HasPrefix(tok, "/") || strings.Contains(tok, "..") || strings.Contains(tok, "\\") {
		return nil, false, bad
	}
	if z, err := time.LoadLocation(tok); err == nil {
		return z, false, nil
	}
	// Zone files are case-sensitive but people type europe/berlin.
	if z, err := time.LoadLocation(canonicalZoneCase(tok)); err == nil {
		return z, false, nil
	}
	return nil, false, bad
}

// maxOffset is the furthest a UTC offset may lie from UTC: real zones span
// -12:00 to +14:00, and anything beyond ±14:00 is a typo rather than a zone.
const maxOffset = 14 * 60 * 60

// offsetRangeMsg refuses the well-formed offset off (as typed, within the
// token tok) that lies beyond ±14:00.
func offsetRangeMsg(off, tok string) string {
	in := ""
	if off != tok {
		in = fmt.Sprintf(" in %q", tok)
	}
	return fmt.Sprintf("the offset %q%s is out of range: an offset is at most ±14:00", off, in)
}

// canonicalZoneCase turns "america/new_york" into "America/New_York".
func canonicalZoneCase(s string) string {
	b := []byte(strings.ToLower(s))
	upper := true
	for i, c := range b {
		if upper && c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		upper = c == '/' || c == '_' || c == '-'
	}
	return string(b)
}

// parseZoneSuffix reads the Z or ±hh:mm ending an RFC 3339 token; far as in
// parseOffset.
func parseZoneSuffix(s string) (z *time.Location, ok, far bool) {
	if s == "Z" {
		return time.UTC, true, false
	}
	return parseOffset(s)
}

// parseOffset reads +02:00, -0530, +2 or +02. ok is false when s is no
// offset; far reports one that is well formed but beyond ±14:00 (maxOffset),
// so the refusal can say so rather than call it an unknown zone.
func parseOffset(s string) (z *time.Location, ok, far bool) {
	if len(s) < 2 || (s[0] != '+' && s[0] != '-') {
		return nil, false, false
	}
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	body := s[1:]
	var hs, ms string
	switch {
	case len(body) <= 2:
		hs = body
	case strings.Contains(body, ":"):
		hs, ms, _ = strings.Cut(body, ":")
		if len(ms) != 2 {
			return nil, false, false
		}
	case len(body) == 4:
		hs, ms = body[:2], body[2:]
	default:
		return nil, false, false
	}
	if len(hs) < 1 || len(hs) > 2 {
		return nil, false, false
	}
	h, ok := atoiDigits(hs)
	if !ok {
		return nil, false, false
	}
	m := 0
	if ms != "" {
		if m, ok = atoiDigits(ms); !ok || m > 59 {
			return nil, false, false
		}
	}
	if h*3600+m*60 > maxOffset {
		return nil, false, true
	}
	off := sign * (h*3600 + m*60)
	if off == 0 {
		return time.UTC, true, false
	}
	name := fmt.Sprintf("%c%02d:%02d", s[0], h, m)
	return time.FixedZone(name, off), true, false
}

// formatUTC renders an instant for error replies; seconds only when present,
// since users almost always type minutes.
func formatUTC(t time.Time) string {
	u := t.UTC()
	if u.Second() != 0 || u.Nanosecond() != 0 {
		return u.Format("2006-01-02 15:04:05 UTC")
	}
	return u.Format("2006-01-02 15:04 UTC")
}

// formatIn renders an instant for error replies in loc, with UTC beside
// it ("2026-11-23 10:00 CET (2026-11-23 09:00 UTC)"), as other replies
// give times; in UTC alone when loc is UTC or unknown.
func formatIn(t time.Time, loc *time.Location) string {
	if loc == nil || loc == time.UTC {
		return formatUTC(t)
	}
	l := t.In(loc)
	layout := "2006-01-02 15:04 MST"
	if l.Second() != 0 || l.Nanosecond() != 0 {
		layout = "2006-01-02 15:04:05 MST"
	}
	return l.Format(layout) + " (" + formatUTC(t) + ")"
}

// asciiUpper upper-cases ASCII letters only, keeping byte offsets identical to
// the input so prefixes found in the result can be sliced off the original.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
