package commands

import (
	"cmp"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// When is a start time as the user gave it: "[at] <time> [zone]" or
// "in <duration>".
type When struct {
	// Start is the instant, always to the minute: in Zone when the user named
	// one, else in Env.Location (UTC when nil).
	Start time.Time
	// Text is the time as typed, without a leading "at": "tomorrow 2am
	// Europe/Berlin", "in 90 minutes"; for replies and errors.
	Text string
	// Zone is the zone the user typed (an IANA name, UTC, an offset or an RFC 3339
	// suffix); nil when they typed none or gave a relative "in" time.
	Zone *time.Location
	// ZoneGiven reports that the time named its zone or was relative; otherwise
	// it was read in Env.Location.
	ZoneGiven bool
	// Note is one sentence for the reply when a local time fell in a DST gap or
	// overlap and was resolved by the rule (see resolveLocal); "" otherwise.
	Note string
}

// relative reports a start given as "in <duration>".
func (w When) relative() bool { return w.ZoneGiven && w.Zone == nil }

// ParseWhen reads a whole start-time text as typed into a platform's option
// ("tomorrow 2am", "in 90 minutes", "2026-12-01 02:00 Europe/Berlin", "at noon")
// the way Parse reads the start of schedule and reschedule. It rejects past
// times and anything left over. Errors are *Error without Usage: the caller knows
// which command the text belongs to.
func ParseWhen(text string, env Env) (When, error) {
	toks, terr := tokenize(text)
	if terr != nil {
		return When{}, terr
	}
	w, n, err := readWhen(toks, env)
	if err != nil {
		return When{}, err
	}
	if n < len(toks) {
		tok := toks[n].text
		if !w.relative() {
			if msg := zoneAfterTimeMsg(tok); msg != "" {
				return When{}, &Error{Token: tok, Msg: msg}
			}
		}
		return When{}, &Error{Token: tok, Msg: fmt.Sprintf("unexpected %q after the time %q; use %s", tok, w.Text, timeForms)}
	}
	return w, nil
}

// readWhen reads a start time from the front of toks: an optional "at" and an
// absolute time, or "in <duration>". A quoted token holding spaces is the whole
// time, zone included. It rejects past times. Errors are *Error without Usage.
func readWhen(toks []token, env Env) (When, int, error) {
	skip := 0
	if len(toks) > 0 && keyword(toks[0], "at") != "" {
		skip = 1
	}
	rest := toks[skip:]
	if len(rest) == 0 {
		return When{}, 0, &Error{Msg: "missing the time; use " + timeForms}
	}
	var (
		w   When
		n   int
		err error
	)
	if first := rest[0]; strings.IndexFunc(first.text, unicode.IsSpace) >= 0 {
		words := strings.Fields(first.text)
		if skip == 0 && len(words) > 1 && strings.EqualFold(words[0], "at") {
			words = words[1:]
		}
		inner := make([]token, len(words))
		for i, s := range words {
			inner[i] = token{text: s}
		}
		if len(inner) == 0 {
			return When{}, 0, &Error{Msg: "missing the time; use " + timeForms}
		}
		var used int
		if w, used, err = readTime(inner, env, skip == 0); err != nil {
			return When{}, 0, err
		}
		if used < len(words) {
			return When{}, 0, &Error{Token: first.text, Msg: fmt.Sprintf("cannot read %q as a time: %q is left over; use %s", first.text, strings.Join(words[used:], " "), timeForms)}
		}
		if !w.relative() {
			w.Text = strings.Join(words, " ")
		}
		n = 1
	} else if w, n, err = readTime(rest, env, skip == 0); err != nil {
		return When{}, 0, err
	}
	if env.past(w.Start) {
		loc := cmp.Or(w.Zone, env.Location) // where it was read
		what := "start"
		if env.end {
			what = "end"
		}
		msg := fmt.Sprintf("the %s time %q is in the past: it means %s, and it is now %s", what, w.Text, formatIn(w.Start, loc), formatIn(env.Now, loc))
		if strings.Contains(strings.ToLower(w.Text), "midnight") {
			msg += "; midnight is the start of a day, so for the coming one write midnight or tomorrow midnight"
		}
		return When{}, 0, &Error{Token: w.Text, Msg: msg}
	}
	return w, skip + n, nil
}

// readTime reads "in <duration>" (when allowed) or an absolute time, without
// the past check.
func readTime(toks []token, env Env, allowIn bool) (When, int, error) {
	loc := env.Location
	if loc == nil {
		loc = time.UTC
	}
	if allowIn && keyword(toks[0], "in") != "" {
		d, text, n, err := readDuration(toks[1:], "in", "the time from now")
		if err != nil {
			return When{}, 0, err
		}
		// now+d to the whole minute: the window starts at a minute a person can
		// read, never at a hidden second.
		start := env.Now.Add(d).Truncate(time.Minute).In(loc)
		return When{Start: start, Text: "in " + text, ZoneGiven: true}, 1 + n, nil
	}
	texts := make([]string, len(toks))
	for i, t := range toks {
		texts[i] = t.text
	}
	a, err := parseTime(texts, env)
	if err != nil {
		return When{}, 0, err
	}
	return When{
		Start:     a.t,
		Text:      strings.Join(texts[:a.n], " "),
		Zone:      a.zone,
		ZoneGiven: a.zone != nil,
		Note:      a.note,
	}, a.n, nil
}

// readDuration reads the duration after a keyword (after names it for the
// errors): one token (90m, 1h30m, 2H), number-and-unit pairs (3 days,
// 1 hour 30 minutes, an hour), or parts of both kinds in a row, summed
// (1h 30m, 1 hour 30m, 1h 30 minutes). It must be positive and whole
// minutes: zero or negative would make an empty or inverted window, and a
// window starts and ends on the minute, so sub-minute parts are refused
// rather than dropped.
//
// Only well-formed parts are read: a word that is no duration (a keyword, a
// version, a bare number) ends the duration and is left to the caller.
func readDuration(toks []token, after, role string) (time.Duration, string, int, error) {
	if len(toks) == 0 {
		return 0, "", 0, &Error{Msg: fmt.Sprintf("missing <duration> after %s; use %s", after, durationForms)}
	}
	n := 0
	var parse string
	// Parts after the first must each be smaller than the smallest unit
	// before them (1d 2h 30m): "in 30m 2h" or "for 1h 1h" is no duration a
	// user means, more likely a forgotten "for", and is left to the caller.
	var below time.Duration
	fits := func(part, unit string) bool {
		d, err := ParseDuration(part)
		u, uerr := ParseDuration("1" + unit)
		if err != nil || uerr != nil || n > 0 && d >= below {
			return false
		}
		below = u
		return true
	}
	for n < len(toks) {
		if n+1 < len(toks) && !toks[n].quoted && !toks[n+1].quoted && isNumberWord(toks[n].text) && isUnitWord(toks[n+1].text) {
			num := toks[n].text
			if strings.EqualFold(num, "a") || strings.EqualFold(num, "an") {
				num = "1"
			}
			if !fits(num+toks[n+1].text, toks[n+1].text) {
				break
			}
			parse += num + toks[n+1].text
			n += 2
			continue
		}
		if isDurationPart(toks[n]) && fits(toks[n].text, lastUnit(toks[n].text)) {
			parse += toks[n].text
			n++
			continue
		}
		break
	}
	var text string
	if n == 0 && len(toks) > 1 && !toks[1].quoted && isNumberWord(toks[0].text) && isLetters(toks[1].text) {
		// "1 month", "2 yrs": name both words and let ParseDuration say why,
		// quoting them as typed (it ignores the space).
		text = toks[0].text + " " + toks[1].text
		_, err := ParseDuration(text)
		return 0, "", 0, &Error{Token: text, Msg: err.(*Error).Msg}
	}
	if n == 0 {
		// One token that is no well-formed part (-2h, 0, soon): ParseDuration
		// or the checks below say why.
		text, parse, n = toks[0].text, toks[0].text, 1
	} else {
		text = toks[0].text
		for _, t := range toks[1:n] {
			text += " " + t.text
		}
	}
	d, err := ParseDuration(parse)
	if err != nil {
		return 0, "", 0, &Error{Token: text, Msg: err.(*Error).Msg}
	}
	switch {
	case d <= 0:
		return 0, "", 0, &Error{Token: text, Msg: fmt.Sprintf("%s %q must be greater than zero", role, text)}
	case d < time.Minute:
		return 0, "", 0, &Error{Token: text, Msg: fmt.Sprintf("%s %q is under a minute; times and durations are whole minutes, so use 1m or more", role, text)}
	case d%time.Minute != 0:
		lo := d.Truncate(time.Minute)
		return 0, "", 0, &Error{Token: text, Msg: fmt.Sprintf("%s %q is not a whole number of minutes; durations are whole minutes, e.g. %s or %s", role, text, shortDuration(lo), shortDuration(lo+time.Minute))}
	}
	return d, text, n, nil
}

// lastUnit is the unit a compact duration ends with: "m" of 1h30m.
func lastUnit(s string) string {
	i := len(s)
	for i > 0 && (s[i-1] >= 'a' && s[i-1] <= 'z' || s[i-1] >= 'A' && s[i-1] <= 'Z') {
		i--
	}
	return s[i:]
}

// isDurationPart reports an unquoted token that is a duration on its own,
// with its units and without a sign: 1h, 30m, 1h30m, 1.5d. A bare number, a
// version (2.4.0) or a clock (2am) is none.
func isDurationPart(t token) bool {
	s := t.text
	if t.quoted || s == "" || s[0] < '0' || s[0] > '9' || isNumberWord(s) {
		return false
	}
	_, err := ParseDuration(s)
	return err == nil
}

// isNumberWord reports a plain number (2, 1.5) or "a"/"an", the first half of
// a spelled-out duration such as "3 days" or "an hour".
func isNumberWord(s string) bool {
	if strings.EqualFold(s, "a") || strings.EqualFold(s, "an") {
		return true
	}
	digits := false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] >= '0' && s[i] <= '9':
			digits = true
		case s[i] == '.':
		default:
			return false
		}
	}
	return digits
}

// shortDuration writes a whole-minute duration the way users type it: 2m,
// 1h30m, 3h.
func shortDuration(d time.Duration) string {
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func isLetters(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}
