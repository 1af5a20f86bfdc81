package commands

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// token is one word of the input. quoted remembers whether any part was in
// quotes, because a quoted "for" is a literal word, never the keyword.
type token struct {
	text   string
	quoted bool
}

// isQuote accepts the curly quotes that Slack and phone keyboards substitute
// for a typed ", so users do not have to fight autocorrect.
func isQuote(r rune) bool { return r == '"' || r == '“' || r == '”' }

func tokenize(s string) ([]token, *Error) {
	var (
		toks  []token
		b     strings.Builder
		inTok bool
		quote bool
		start int // byte offset where the current token began
	)
	flush := func() {
		if inTok {
			toks = append(toks, token{text: b.String(), quoted: quote})
		}
		b.Reset()
		inTok, quote = false, false
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			flush()
			i += size
			continue
		}
		if !inTok {
			inTok, start = true, i
		}
		if !isQuote(r) {
			b.WriteString(s[i : i+size])
			i += size
			continue
		}
		quote = true
		j := i + size
		closed := false
		for j < len(s) {
			r2, size2 := utf8.DecodeRuneInString(s[j:])
			if isQuote(r2) {
				b.WriteString(s[i+size : j])
				i, closed = j+size2, true
				break
			}
			j += size2
		}
		if !closed {
			tok := strings.TrimSpace(s[start:])
			return nil, &Error{Token: tok, Msg: fmt.Sprintf("unterminated quote: %s; close it with another \"", tok)}
		}
	}
	flush()
	return toks, nil
}

// Parse turns the text after /upgrade into a typed command. Errors are always
// *Error, naming the offending token and carrying the subcommand's usage, so the
// adapter can reply without knowing the grammar.
func Parse(text string, env Env) (Command, error) {
	toks, terr := tokenize(text)
	if terr != nil {
		terr.Usage = usageFor(guessSubcommand(text))
		return nil, terr
	}
	if len(toks) > 0 && !toks[0].quoted && strings.EqualFold(toks[0].text, "/upgrade") {
		toks = toks[1:]
	}
	if len(toks) == 0 {
		return Help{}, nil
	}
	name := strings.ToLower(toks[0].text)
	if lookup(name) == nil {
		msg := fmt.Sprintf("unknown subcommand %q", toks[0].text)
		if s := suggest(name); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		msg += "; valid subcommands: " + strings.Join(Names(), ", ")
		return nil, &Error{Token: toks[0].text, Msg: msg, Usage: shortUsage}
	}
	p := &parser{name: name, toks: toks, pos: 1, env: env}
	switch name {
	case "schedule":
		return p.schedule()
	case "list":
		return p.list()
	case "show":
		if n, ok := p.seriesID(); ok {
			return ShowSeries{ID: n}, p.end()
		}
		return idOnly(p, func(id int) Command { return Show{ID: id} })
	case "start":
		return p.start()
	case "ack":
		return idOnly(p, func(id int) Command { return Ack{ID: id} })
	case "pending":
		return idOnly(p, func(id int) Command { return Pending{ID: id} })
	case "log":
		return idOnly(p, func(id int) Command { return Log{ID: id} })
	case "complete":
		id, err := p.id()
		if err != nil {
			return nil, err
		}
		return Complete{ID: id, Note: p.rest()}, nil
	case "cancel":
		if n, ok := p.seriesID(); ok {
			scope := p.cancelScope()
			return Cancel{Series: n, Scope: scope, Reason: p.rest()}, nil
		}
		id, err := p.id()
		if err != nil {
			return nil, err
		}
		scope := p.cancelScope()
		return Cancel{ID: id, Scope: scope, Reason: p.rest()}, nil
	case "rollback":
		id, err := p.id()
		if err != nil {
			return nil, err
		}
		reason := p.rest()
		if reason == "" {
			return nil, p.fail("", "%s", MissingRollbackReason)
		}
		return Rollback{ID: id, Reason: reason}, nil
	case "reschedule":
		return p.reschedule()
	case "extend":
		return p.extend()
	case "link":
		return p.link()
	case "ready":
		return p.ready()
	case "waive", "unready":
		return p.waive()
	case "plan":
		return p.plan()
	case "debrief":
		return p.debrief()
	case "stats":
		return p.stats()
	case "slots":
		return p.slots()
	case "freeze":
		return p.freeze()
	default: // "help"
		return p.help()
	}
}

// guessSubcommand picks the usage to show when the text cannot even be split
// into tokens.
func guessSubcommand(text string) string {
	f := strings.Fields(text)
	if len(f) > 0 && strings.EqualFold(f[0], "/upgrade") {
		f = f[1:]
	}
	if len(f) == 0 {
		return ""
	}
	return strings.ToLower(f[0])
}

// Subcommand is the known subcommand that text names ("schedule"), or ""
// when it names none; logs and metrics use it for text that did not parse,
// and stay bounded to the subcommands there are.
func Subcommand(text string) string {
	if name := guessSubcommand(text); lookup(name) != nil {
		return name
	}
	return ""
}

// suggest finds the subcommand the user probably meant: a unique prefix
// ("sched") or a small typo ("shedule", "rolback").
func suggest(word string) string {
	if len(word) > 32 {
		return ""
	}
	var prefixed []string
	for _, n := range Names() {
		if len(word) >= 2 && strings.HasPrefix(n, word) {
			prefixed = append(prefixed, n)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	best, bestDist := "", 3
	for _, n := range Names() {
		d := Distance(word, n)
		limit := 2
		if len(n) <= 4 {
			limit = 1
		}
		if d <= limit && d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

// Distance is the edit distance between two words (in runes), used for
// "did you mean" suggestions here and in configuration errors.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

type parser struct {
	name  string // the subcommand, for the usage attached to errors
	usage string // the form being parsed, when not the subcommand's usage
	toks  []token
	pos   int
	env   Env
}

func (p *parser) fail(tok, format string, args ...any) error {
	return &Error{Token: tok, Msg: fmt.Sprintf(format, args...), Usage: p.usageText()}
}

// withUsage attaches this subcommand's usage to an error from a helper
// (ParseID, ParseTime, ParseDuration), which cannot know the subcommand.
func (p *parser) withUsage(err error) error {
	if e, ok := err.(*Error); ok {
		c := *e
		c.Usage = p.usageText()
		return &c
	}
	return p.fail("", "%v", err)
}

// usageText is the usage an error shows: the form being parsed (schedule's
// next or every), else the subcommand's usage.
func (p *parser) usageText() string {
	if p.usage != "" {
		return p.usage
	}
	return Usage(p.name)
}

func (p *parser) more() bool { return p.pos < len(p.toks) }

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) next() token {
	t := p.toks[p.pos]
	p.pos++
	return t
}

// keyword reports which of kws the token is; quoted tokens are never keywords.
func keyword(t token, kws ...string) string {
	if t.quoted {
		return ""
	}
	for _, k := range kws {
		if strings.EqualFold(t.text, k) {
			return k
		}
	}
	return ""
}

// end rejects leftovers: silently ignoring them would hide typos such as a
// misspelled option.
func (p *parser) end() error {
	if p.more() {
		t := p.peek()
		return p.fail(t.text, "unexpected %q at the end of %s", t.text, p.name)
	}
	return nil
}

// rest consumes the remaining tokens as free text, quotes removed.
func (p *parser) rest() string {
	var words []string
	for p.more() {
		if t := p.next(); t.text != "" {
			words = append(words, t.text)
		}
	}
	// A quoted blank ("   ") is no text: trimmed, it reads as missing.
	return strings.TrimSpace(strings.Join(words, " "))
}

func (p *parser) id() (int, error) {
	if !p.more() {
		return 0, p.fail("", "missing <id>; use %s", idForms)
	}
	t := p.next()
	n, err := ParseTypedID(t.text)
	if err != nil {
		// An id in brackets or before a colon ("(UPG-7)", "UPG-7:") is
		// still refused, the text after it being no part of the command's
		// form, but the refusal says what to type.
		if id := trimIDMarks(t.text); id != t.text {
			if _, e := ParseID(id); e == nil {
				return 0, p.fail(t.text, "cannot read %q as an upgrade id; leave out the punctuation: %s", t.text, id)
			}
		}
		return 0, p.withUsage(err) // naming the word as typed
	}
	bare, punct := cutIDPunct(t.text)
	if !punct {
		return n, nil
	}
	// But a list goes on with another id: the command takes one, and the
	// next would otherwise be read as its text (cancel UPG-7, UPG-8 would
	// cancel UPG-7 with the reason "UPG-8").
	if p.more() && strings.HasSuffix(t.text, ",") && p.idAhead(bare) {
		next := p.peek().text
		shown, _ := cutIDPunct(next)
		return 0, p.fail(t.text+" "+next, OneID, p.name, t.text+" "+shown, bare)
	}
	return n, nil
}

// OneID refuses a list of upgrade ids where the verb (first %s) takes
// one: the list as typed (second), and its first id (third).
const OneID = "%s takes one upgrade id, not a list (%s); give one, e.g. %s"

// IDAfter reports whether next, the word after an id typed as first
// (UPG-7, #7 or 7, a comma or period after it being no part of it) and a
// comma, goes on a list of ids as the grammar
// reads one: UPG-8 or #8 (a comma or period may follow), a bare number
// after a bare number (7, 8), or a bare number that ends the text (last)
// or that a comma follows (UPG-7, 8 and UPG-7, 8, 9). A bare number after
// UPG-7 that words follow is the text that may follow ("complete UPG-7, 3
// retries").
func IDAfter(first, next string, last bool) bool {
	first, _ = cutIDPunct(first)
	bare, _ := cutIDPunct(next)
	if _, err := ParseID(bare); err != nil {
		return false
	}
	if _, err := strconv.Atoi(bare); err != nil {
		return true // UPG-8, #8
	}
	if _, err := strconv.Atoi(first); err == nil {
		return true // 7, 8
	}
	return last || strings.HasSuffix(next, ",")
}

// ParseTypedID reads an id as the grammar reads one typed after a verb:
// ParseID's forms, and one comma or period after it, as an id pasted from
// a list or a sentence keeps ("UPG-7, UPG-8", "see UPG-7."), is no part of
// it. Anything else is refused, naming the word as typed. The platforms'
// own id fields (Discord's id option) read ids by this same rule.
func ParseTypedID(s string) (int, error) {
	n, err := ParseID(s)
	if err == nil {
		return n, nil
	}
	if sn, ok := ParseSeriesID(s); ok {
		return 0, seriesIDError(s, sn)
	}
	bare, punct := cutIDPunct(s)
	if !punct {
		return 0, err
	}
	if n, _ = ParseID(bare); n == 0 {
		return 0, err
	}
	return n, nil
}

// ParseIDField reads the value of a platform's own id field (such as
// Discord's id option), which holds one id alone, as the grammar reads an id typed
// after verb: ParseTypedID's forms, with the grammar's refusals of an id
// in brackets or before a colon ("(UPG-7)": leave out the punctuation)
// and of a list ("UPG-7, UPG-8": verb takes one id). rest is the words
// after the id, which the field is no place for: the platform says where
// they go (its other fields). Words are split at spaces, quotes kept: an
// id field has no quoting.
func ParseIDField(verb, s string) (n int, rest []string, err error) {
	words := strings.Fields(s)
	p := &parser{name: verb, toks: make([]token, len(words))}
	for i, w := range words {
		p.toks[i] = token{text: w}
	}
	if n, err = p.id(); err != nil {
		return 0, nil, err
	}
	if p.more() {
		rest = words[p.pos:]
	}
	return n, rest, nil
}

// trimIDMarks trims the brackets and marks an id may be typed with in a
// sentence: "(UPG-7)", "[#7]", "UPG-7:", "UPG-7;".
func trimIDMarks(s string) string {
	return strings.TrimRight(strings.TrimLeft(s, "([{"), ")]}:;,.")
}

// cutIDPunct cuts one comma or period off the end of a word.
func cutIDPunct(s string) (string, bool) {
	if n := len(s); n > 1 && (s[n-1] == ',' || s[n-1] == '.') {
		return s[:n-1], true
	}
	return s, false
}

// idAhead reports whether the next word is another upgrade id of a list
// after first, as IDAfter reads one.
func (p *parser) idAhead(first string) bool {
	return IDAfter(first, p.peek().text, p.pos+1 == len(p.toks))
}

// word reads a required positional value, treating an unquoted stop keyword
// as "missing" so "schedule payments at ..." says the version is missing
// rather than taking "at" as the version. what is the placeholder for "missing
// <service>", name the words for "the service is empty".
func (p *parser) word(what, name string, stops ...string) (string, error) {
	if !p.more() || keyword(p.peek(), stops...) != "" {
		return "", p.fail("", "missing %s", what)
	}
	t := p.next()
	if strings.TrimSpace(t.text) == "" {
		return "", p.fail("", "%s is empty", name)
	}
	return t.text, nil
}

// duration reads the duration after a keyword (see readDuration: positive,
// whole minutes, one token or "3 days").
func (p *parser) duration(after, role string) (time.Duration, error) {
	d, _, n, err := readDuration(p.toks[p.pos:], after, role)
	if err != nil {
		return 0, p.withUsage(err)
	}
	p.pos += n
	return d, nil
}

func (p *parser) texts(from int) []string {
	out := make([]string, 0, len(p.toks)-from)
	for _, t := range p.toks[from:] {
		out = append(out, t.text)
	}
	return out
}

// when reads the start: [at] <time> [zone] or in <duration> (see readWhen),
// rejecting past instants with the UTC instant they were read as, so DST or
// zone surprises are visible.
func (p *parser) when() (When, error) {
	w, n, err := readWhen(p.toks[p.pos:], p.env)
	if err != nil {
		return When{}, p.withUsage(err)
	}
	p.pos += n
	return w, nil
}

// startAhead reports whether the next token begins the start, with or without
// "at": the keywords, a quoted time, or anything shaped like a time (so that
// "25:00" gets the time error rather than "expected at <time>").
func (p *parser) startAhead() bool {
	t := p.peek()
	if keyword(t, "at", "in") != "" || strings.IndexFunc(t.text, unicode.IsSpace) >= 0 {
		return true
	}
	if _, ok := startsTime(p.texts(p.pos), p.env); ok {
		return true
	}
	if t.text != "" && t.text[0] >= '0' && t.text[0] <= '9' {
		return true
	}
	if _, isDay, err := parseDay(p.texts(p.pos)); isDay || err != nil {
		return true
	}
	_, _, ok, _ := parseClockTokens([]string{t.text})
	return ok
}

// versionIsTime refuses a version that is really the start of the time, as in
// "schedule payments tomorrow 02:00" (read positionally, "tomorrow" would be
// the version and 02:00 the start) or "schedule payments noon" (noon would be
// the version, and the start missing). A quoted version is always the version.
func (p *parser) versionIsTime() error {
	vt := p.toks[p.pos-1]
	if vt.quoted {
		return nil
	}
	n, ok := startsTime(p.texts(p.pos-1), p.env)
	// A version that is a whole time on its own (noon, 2am) is the start
	// too when nothing but options follows: "schedule payments noon".
	alone := n == 1 && (!p.more() || p.keywordAt(p.pos, "for", "region", "impact", "anyway"))
	if ok && (n >= 2 || alone) {
		text := strings.Join(p.texts(p.pos - 1)[:n], " ")
		return p.fail(vt.text, "missing <version>: %q reads as the start time; if %q is the version, quote it", text, vt.text)
	}
	return nil
}

func (p *parser) schedule() (Command, error) {
	var c Schedule
	var err error
	if c.Service, err = p.word("<service>", "the service", "at", "in"); err != nil {
		return nil, err
	}
	if c.Version, err = p.word("<version>", "the version", "at", "in"); err != nil {
		return nil, err
	}
	if err := p.versionIsTime(); err != nil {
		return nil, err
	}
	if err := p.versionIsKeyword(); err != nil {
		return nil, err
	}
	if !p.more() {
		return nil, p.fail("", "%s", withTimeForms("missing the start: at <time> or in <duration> (or next, or every <weekday> <time>)"))
	}
	afterTime := -1  // only an absolute time can be followed by a (misplaced) zone
	startAt := p.pos // the start's words, from startAt to startEnd: "in 30m"
	switch {
	case p.nextAhead():
		p.next()
		c.Next = true
		p.usage = scheduleNextUsage
	case keyword(p.peek(), "every") != "":
		p.usage = scheduleEveryUsage
		e, err := p.every()
		if err != nil {
			return nil, err
		}
		c.Every = &e
	case !p.startAhead():
		t := p.peek()
		return nil, p.fail(t.text, "%s", withTimeForms(fmt.Sprintf("expected at <time> or in <duration> after the version (or next, or every <weekday> <time>), not %q", t.text)))
	default:
		w, err := p.when()
		if err != nil {
			return nil, err
		}
		c.Start, c.StartText, c.Zone, c.ZoneGiven, c.TimeNote = w.Start, w.Text, w.Zone, w.ZoneGiven, w.Note
		if !w.relative() {
			afterTime = p.pos
		}
	}
	startEnd := p.pos
	forText := "" // the window duration as given: "for 1h"

	seen := map[string]bool{}
	impactEnd := -1 // where the impact stopped: at an anyway, or the end
	for p.more() {
		t := p.next()
		opt := keyword(t, "for", "region", "impact", "anyway", "until")
		if opt != "" && seen[opt] {
			return nil, p.fail(t.text, "the option %q is given twice", t.text)
		}
		seen[opt] = true
		switch opt {
		case "for":
			from := p.pos
			if c.Duration, err = p.duration("for", "the window duration"); err != nil {
				return nil, err
			}
			forText = strings.Join(append([]string{t.text}, p.texts(from)[:p.pos-from]...), " ")
		case "region":
			if c.Region, err = p.word("<name> after region", "the region name", "for", "region", "impact"); err != nil {
				return nil, err
			}
		case "impact":
			if c.Impact = p.restUntilAnyway(); c.Impact == "" {
				return nil, p.fail("", "missing <text...> after impact")
			}
			impactEnd = p.pos
		case "anyway":
			p.pos--
			afterImpact := p.pos == impactEnd
			if c.Anyway, err = p.anyway(); err != nil {
				if afterImpact {
					e := *err.(*Error)
					e.Msg += "; " + anywayInImpact(c.Impact, "")
					return nil, &e
				}
				return nil, err
			}
			if afterImpact {
				c.AnywayInImpact = anywayInImpact(c.Impact, c.Anyway)
			}
			if c.Next {
				return nil, p.fail(t.text, "next picks a window outside every freeze, so anyway has nothing to override; give a time instead to schedule into a freeze")
			}
		case "until":
			if c.Every == nil {
				return nil, p.fail(t.text, "until only ends a recurring upgrade: every <weekday> <time> for <duration> until <date>")
			}
			if err := p.until(c.Every, p.env.Now); err != nil {
				return nil, err
			}
		default:
			if p.pos-1 == afterTime {
				if err := p.zoneAfterTime(t.text); err != nil {
					return nil, err
				}
			}
			if err := p.durationWithoutFor(startAt, startEnd, forText); err != nil {
				return nil, err
			}
			if c.Every != nil {
				return nil, p.fail(t.text, "unexpected %q; after every <weekday> <time> only for <duration>, until <date>, region <name>, impact <text...> and anyway <reason...> may follow", t.text)
			}
			return nil, p.fail(t.text, "unexpected %q; after the start only for <duration>, region <name>, impact <text...> and anyway <reason...> may follow", t.text)
		}
	}
	if c.Every != nil && c.Duration == 0 {
		return nil, p.fail("", "missing for <duration>: a recurring upgrade says how long each window is, e.g. every tue 02:00 for 1h")
	}
	return c, nil
}

// durationWithoutFor explains an unexpected word of schedule's (the one
// just read) that reads as a duration: "in 30m 2h" most likely forgot the
// for, and is shown as it would read with it ("in 30m for 2h"); after
// "for 1h", "1h" gives the duration twice. The start's words are
// toks[startAt:startEnd]; forText is the for already given, if any. Any
// other word is left to the caller (nil).
func (p *parser) durationWithoutFor(startAt, startEnd int, forText string) error {
	at := p.pos - 1
	first := p.toks[at]
	if first.quoted || !isDurationPart(first) && !(at+1 < len(p.toks) && isNumberWord(first.text) && isUnitWord(p.toks[at+1].text)) {
		return nil
	}
	_, text, _, err := readDuration(p.toks[at:], "for", "the window duration")
	if err != nil {
		return nil
	}
	if forText != "" {
		return p.fail(text, "the window duration is given twice: %q, then %q; give it once", forText, text)
	}
	if at != startEnd || startEnd == startAt {
		return nil
	}
	fixed := strings.Join(p.texts(startAt)[:startEnd-startAt], " ") + " for " + text
	parts := []Part{
		{Text: fmt.Sprintf("unexpected %q right after the start; if it is the window's duration, put for before it: ", text)},
		{Text: fixed, Code: true},
	}
	e := p.fail(text, "%s", said(parts...)).(*Error)
	e.Says = parts
	return e
}

// zoneAfterTime explains a zone-like token that ParseTime left over: a second
// zone, or an abbreviation such as CET. Anything else is left to the generic
// "unexpected" error.
func (p *parser) zoneAfterTime(tok string) error {
	if msg := zoneAfterTimeMsg(tok); msg != "" {
		return p.fail(tok, "%s", msg)
	}
	return nil
}

// zoneAfterTimeMsg is the refusal of zoneAfterTime after a one-off time: a
// second zone is refused with the accepted time forms.
func zoneAfterTimeMsg(tok string) string {
	return zoneAfterMsg(tok, withTimeForms)
}

// zoneAfterMsg words the refusal of a zone-like token after a time;
// forms ends the refusal of a second zone with the forms of that time.
func zoneAfterMsg(tok string, forms func(string) string) string {
	switch {
	case looksLikeZone(tok):
		return forms(fmt.Sprintf("the time already has a zone, so %q is one too many (give only one)", tok))
	case isZoneAbbreviation(tok):
		return fmt.Sprintf("the abbreviation %q is not a time zone this bot understands (abbreviations are ambiguous); use UTC, an IANA name like Europe/Berlin, or an offset like +01:00", tok)
	}
	return ""
}

// isZoneAbbreviation spots CET, EST, PDT and friends: they look like zones to a
// user but are ambiguous, so they get a specific error instead of "unexpected".
func isZoneAbbreviation(s string) bool {
	if len(s) < 2 || len(s) > 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func (p *parser) reschedule() (Command, error) {
	var c Reschedule
	var err error
	if c.ID, err = p.id(); err != nil {
		return nil, err
	}
	if !p.more() {
		return nil, p.fail("", "%s", withTimeForms("missing the new start: at <time> or in <duration>"))
	}
	if !p.startAhead() {
		t := p.peek()
		return nil, p.fail(t.text, "%s", withTimeForms(fmt.Sprintf("expected at <time> or in <duration> after the id, not %q", t.text)))
	}
	w, err := p.when()
	if err != nil {
		return nil, err
	}
	c.Start, c.StartText, c.Zone, c.ZoneGiven, c.TimeNote = w.Start, w.Text, w.Zone, w.ZoneGiven, w.Note
	if p.more() && keyword(p.peek(), "for") != "" {
		p.next()
		if c.Duration, err = p.duration("for", "the window duration"); err != nil {
			return nil, err
		}
	} else if p.more() && !w.relative() {
		if err := p.zoneAfterTime(p.peek().text); err != nil {
			return nil, err
		}
	}
	if c.Anyway, err = p.anyway(); err != nil {
		return nil, err
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	return c, nil
}

func (p *parser) extend() (Command, error) {
	id, err := p.id()
	if err != nil {
		return nil, err
	}
	by, err := p.duration("the id", "the extension")
	if err != nil {
		return nil, err
	}
	anyway, err := p.anyway()
	if err != nil {
		return nil, err
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	return Extend{ID: id, By: by, Anyway: anyway}, nil
}

func (p *parser) list() (Command, error) {
	var c List
	for p.more() {
		t := p.next()
		switch {
		case keyword(t, "all") != "" && !c.All:
			c.All = true
		case c.Service == "" && keyword(t, "all") == "":
			if strings.TrimSpace(t.text) == "" {
				return nil, p.fail("", "the service is empty")
			}
			c.Service = t.text
		default:
			return nil, p.fail(t.text, "unexpected %q; list takes at most a service and all", t.text)
		}
	}
	return c, nil
}

func (p *parser) stats() (Command, error) {
	var c Stats
	if p.more() {
		t := p.next()
		if strings.TrimSpace(t.text) == "" {
			return nil, p.fail("", "the service is empty")
		}
		c.Service = t.text
	}
	if p.more() {
		t := p.peek()
		return nil, p.fail(t.text, "unexpected %q; stats takes at most a service", t.text)
	}
	return c, nil
}

func (p *parser) link() (Command, error) {
	var c Link
	var err error
	if c.ID, err = p.id(); err != nil {
		return nil, err
	}
	if !p.more() {
		return nil, p.fail("", "missing <owner/repo>, e.g. acme/payments")
	}
	tok := p.next().text
	var ok bool
	if c.Repo, c.Tag, ok = ParseRelease(tok, p.env); !ok {
		e := BadRelease(c.ID, tok, p.env)
		e.Usage = p.usageText()
		return nil, e
	}
	if p.more() {
		t := p.next()
		if strings.TrimSpace(t.text) == "" {
			return nil, p.fail("", "the tag is empty; leave it out to use the upgrade's version")
		}
		if c.Tag != "" && !SameVersion(c.Tag, t.text) {
			return nil, p.fail(t.text, TwoTags, c.Tag, t.text)
		}
		if c.Tag == "" {
			c.Tag = t.text
		}
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	return c, nil
}

// TwoTags refuses a release page's tag (first %q) with another one typed
// after it (second %q).
const TwoTags = "the release page is of the tag %q, and %q was typed too; give one"

// ParseRelease reads what link takes as its repository: owner/repo as
// ParseRepo reads it (tag ""), or a page of a repository on the GitHub
// whose pages link reads (env.ReleaseHost: github.com's, www.github.com
// too, when it is ""; else the GitHub Enterprise server's only, a
// github.com page naming a repository the server may not hold): the
// repository's own page (tag ""), or a release page,
// https://HOST/owner/repo/releases/tag/<tag>, which gives the tag too. A
// page of any other host is not read: the lookup would ask the configured
// GitHub for another site's repository.
func ParseRelease(s string, env Env) (repo, tag string, ok bool) {
	host, repo, page, ok := env.repoPage(s)
	if !ok {
		repo, ok := ownerRepo(s)
		return repo, "", ok
	}
	if !env.releaseHost(host) {
		return "", "", false
	}
	if page == "" {
		return repo, "", true
	}
	page, ok = strings.CutPrefix(page, "releases/tag/")
	if !ok {
		return "", "", false
	}
	tag, err := url.PathUnescape(page)
	if err != nil || tag == "" || strings.IndexFunc(tag, unseen) >= 0 {
		return "", "", false
	}
	return repo, tag, true
}

// githubHost is the host of github.com's pages; www.github.com is read as it.
const githubHost = "github.com"

// releaseHost reports whether link reads pages of host (as repoPage gives
// it): the Enterprise server's of ReleaseHost when there is one, else
// github.com's.
func (e Env) releaseHost(host string) bool {
	if e.ReleaseHost == "" {
		return host == githubHost
	}
	return strings.EqualFold(host, e.ReleaseHost)
}

// BadRelease is the refusal of s, which ParseRelease cannot read with env,
// as the repository to link to the upgrade id: for a page of a host link
// does not read (GitLab's, a documentation site's; github.com's when an
// Enterprise server is configured), which host link reads and how an
// Enterprise server's are read; for a page of a repository on that host of
// a kind that is no release page (the latest release, which changes; the
// list of releases or tags; the code at a tag or branch; a commit, a pull
// request, an issue), what it is and what to give instead; else BadRepo's:
// other pages say nothing sure.
func BadRelease(id int, s string, env Env) *Error {
	bad := &Error{Token: s, Msg: fmt.Sprintf(BadRepo, s)}
	host, repo, page, ok := env.repoPage(s)
	if !ok {
		return bad
	}
	if !env.releaseHost(host) {
		parts := otherHost(s, host, env.ReleaseHost)
		bad.Msg, bad.Says = said(parts...), parts
		return bad
	}
	first, rest, _ := strings.Cut(page, "/")
	var what string
	tag := "" // the tag to suggest; "" shows <tag>
	switch {
	case page == "releases/latest":
		what = "is the latest release, which changes with each release, so it cannot be linked"
	case page == "releases" || page == "releases/tag" || page == "tags":
		what = "lists every release of " + repo
	case first == "tree" && rest != "":
		ref, err := url.PathUnescape(rest)
		switch {
		case err != nil || strings.Contains(ref, "/") || strings.IndexFunc(ref, unseen) >= 0:
			what = "is code of " + repo + ", not a release"
		case isVersion(ref):
			what, tag = "is the code at "+ref+", not its release", ref
		default:
			what = "is the code at " + ref + ", not a release"
		}
	case (first == "commit" || first == "commits") && rest != "" || page == "commits":
		what = "is a commit, not a release"
	case first == "pull" && rest != "":
		what = "is a pull request, not a release"
	case first == "issues" && rest != "":
		what = "is an issue, not a release"
	default:
		return bad
	}
	which := "one"
	if tag != "" {
		which = "it"
	}
	shown := tag
	if shown == "" {
		shown = "<tag>"
	}
	parts := []Part{
		{Text: fmt.Sprintf("the page %q %s; link %s with ", s, what, which)},
		{Hint: &Suggestion{Verb: "link", Args: []SuggestionArg{{Name: "id", Value: FormatID(id)}, {Name: "repo", Value: repo}, {Name: "tag", Value: tag}}}},
		{Text: ", or paste its release page ("},
		{Text: "…/releases/tag/" + shown, Code: true},
		{Text: ")"},
	}
	bad.Msg, bad.Says = said(parts...), parts
	return bad
}

// otherHost refuses the page s of host, which is not the host link reads:
// the Enterprise server enterprise's, or github.com's when enterprise is
// "", saying which host link reads and how an operator has a GitHub
// Enterprise server's pages read.
func otherHost(s, host, enterprise string) []Part {
	var parts []Part
	if enterprise != "" {
		parts = []Part{{Text: fmt.Sprintf("the page %q is on %s, and link takes pages of %s (the GitHub Enterprise server of ", s, host, strings.ToLower(enterprise))},
			{Text: "github.api_url", Code: true}, {Text: ") only"}}
	} else {
		parts = []Part{{Text: fmt.Sprintf("the page %q is on %s, and link takes pages of github.com only (for a GitHub Enterprise server's, an operator sets ", s, host)},
			{Text: "github.api_url", Code: true}, {Text: " to its API, "}, {Text: "https://HOST/api/v3/", Code: true}, {Text: ")"}}
	}
	return append(parts, Part{Text: "; use "}, Part{Text: "owner/repo", Code: true}, Part{Text: ", e.g. acme/payments"})
}

// isVersion reports whether tag looks like a version: a digit first, after
// a v or V ("v2.4.0", "2.4.0"), as the release lookup reads one.
func isVersion(tag string) bool {
	rest := tag
	if len(tag) > 1 && (tag[0] == 'v' || tag[0] == 'V') {
		rest = tag[1:]
	}
	return rest != "" && rest[0] >= '0' && rest[0] <= '9'
}

// repoPage reads a URL of a page of a repository: https://HOST/owner/repo/PAGE
// (the scheme may be left out when HOST has a dot), HOST in lower case
// (www.github.com as github.com) without the scheme's default port (:443
// of https, or of no scheme; :80 of http), owner/repo as ParseRepo reads
// it, PAGE without its query, fragment and last slash ("" for the
// repository's own page). When ReleaseHost has a path (an Enterprise
// server behind a prefix, ghe.example.com/github), the pages of its host
// under that path are read past it, with that path in host, as
// ReleaseHost has it; the host's other pages keep the host alone.
func (e Env) repoPage(s string) (host, repo, page string, ok bool) {
	rest, scheme := s, ""
	for _, sc := range []string{"https://", "http://"} {
		if len(rest) > len(sc) && strings.EqualFold(rest[:len(sc)], sc) {
			rest, scheme = rest[len(sc):], sc
			break
		}
	}
	host, rest, _ = strings.Cut(rest, "/")
	if host == "" || scheme == "" && !strings.Contains(host, ".") {
		return "", "", "", false
	}
	host = strings.ToLower(host)
	if scheme == "http://" {
		host = strings.TrimSuffix(host, ":80")
	} else {
		host = strings.TrimSuffix(host, ":443")
	}
	if site, prefix, ok := strings.Cut(e.ReleaseHost, "/"); ok && strings.EqualFold(host, site) {
		if len(rest) > len(prefix) && strings.EqualFold(rest[:len(prefix)], prefix) && rest[len(prefix)] == '/' {
			host, rest = strings.ToLower(e.ReleaseHost), rest[len(prefix)+1:]
		}
	}
	owner, rest, _ := strings.Cut(rest, "/")
	name, rest, _ := strings.Cut(rest, "/")
	if repo, ok = ParseRepo(owner + "/" + name); !ok {
		return "", "", "", false
	}
	rest, _, _ = strings.Cut(rest, "?")
	rest, _, _ = strings.Cut(rest, "#")
	if host == "www."+githubHost {
		host = githubHost
	}
	return host, repo, strings.TrimRight(rest, "/"), true
}

// unseen are the characters no tag holds: spaces, control and format
// characters (a zero-width space), which a percent-encoded page could bring.
func unseen(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

// SameVersion reports whether two tags name one version: v2.4.0, V2.4.0 and
// 2.4.0 do.
func SameVersion(a, b string) bool {
	trim := func(t string) string {
		if len(t) > 1 && (t[0] == 'v' || t[0] == 'V') && t[1] >= '0' && t[1] <= '9' {
			return t[1:]
		}
		return t
	}
	return strings.EqualFold(trim(a), trim(b))
}

// BadRepo is the refusal of a repository ParseRepo cannot read, with the
// text as typed for %q.
const BadRepo = "cannot read %q as a GitHub repository; use owner/repo, e.g. acme/payments"

// ParseRepo validates owner/repo against GitHub's naming rules, so a typo is
// caught here instead of as a 404 from the API later. A pasted
// https://github.com/owner/repo URL (www.github.com too) is accepted and
// reduced to owner/repo.
func ParseRepo(s string) (string, bool) {
	r := s
	lower := strings.ToLower(r)
	for _, prefix := range []string{"https://github.com/", "http://github.com/", "github.com/", "https://www.github.com/", "http://www.github.com/", "www.github.com/"} {
		if strings.HasPrefix(lower, prefix) {
			r = r[len(prefix):]
			break
		}
	}
	return ownerRepo(r)
}

// ownerRepo is ParseRepo of owner/repo typed without a host.
func ownerRepo(r string) (string, bool) {
	// As often as they come, so that reading what ParseRepo gave again
	// gives the same (the core reads a repository an adapter read).
	for strings.HasSuffix(r, "/") || strings.HasSuffix(r, ".git") {
		r = strings.TrimSuffix(strings.TrimSuffix(r, "/"), ".git")
	}
	owner, repo, ok := strings.Cut(r, "/")
	if !ok || !validOwner(owner) || !validRepo(repo) {
		return "", false
	}
	return owner + "/" + repo, true
}

func validOwner(s string) bool {
	if len(s) < 1 || len(s) > 39 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func validRepo(s string) bool {
	if len(s) < 1 || len(s) > 100 || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func (p *parser) help() (Command, error) {
	if !p.more() {
		return Help{}, nil
	}
	t := p.next()
	topic := strings.ToLower(t.text)
	if lookup(topic) == nil {
		msg := fmt.Sprintf("no help for %q", t.text)
		if s := suggest(topic); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		msg += "; subcommands: " + strings.Join(Names(), ", ")
		return nil, p.fail(t.text, "%s", msg)
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	return Help{Topic: topic}, nil
}

func idOnly(p *parser, build func(int) Command) (Command, error) {
	id, err := p.id()
	if err != nil {
		return nil, err
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	return build(id), nil
}

// start reads "start <id> [anyway <reason...>]": anyway starts an upgrade
// whose readiness criteria are not all met, and needs a reason.
func (p *parser) start() (Command, error) {
	id, err := p.id()
	if err != nil {
		return nil, err
	}
	c := Start{ID: id}
	if !p.more() {
		return c, nil
	}
	t := p.next()
	if keyword(t, "anyway") == "" {
		return nil, p.fail(t.text, "unexpected %q after the id; to start with readiness criteria open, end with anyway <reason...>", t.text)
	}
	if c.Anyway = p.rest(); c.Anyway == "" {
		return nil, p.fail("", "%s", MissingAnywayReason)
	}
	return c, nil
}

// criterionHelp says how a criterion is named, for the errors of the
// readiness commands.
const criterionHelp = "its number in the checklist, its text or the start of it"

// ready reads "ready <id> <criterion...>": the criterion is the rest of
// the line.
func (p *parser) ready() (Command, error) {
	id, err := p.id()
	if err != nil {
		return nil, err
	}
	c := Ready{ID: id, Criterion: p.rest()}
	if strings.TrimSpace(c.Criterion) == "" {
		return nil, p.fail("", "missing <criterion>: %s", criterionHelp)
	}
	return c, nil
}

// waive reads "waive|unready <id> <criterion> <reason...>": the criterion
// is one word or a "quoted phrase", and the reason is required.
func (p *parser) waive() (Command, error) {
	id, err := p.id()
	if err != nil {
		return nil, err
	}
	if !p.more() {
		return nil, p.fail("", "missing <criterion>: %s (\"double quote\" one of several words)", criterionHelp)
	}
	criterion := strings.TrimSpace(p.next().text)
	if criterion == "" {
		return nil, p.fail("", "the criterion is empty: %s", criterionHelp)
	}
	reason := p.rest()
	if reason == "" {
		msg := MissingWaiveReason
		if p.name == "unready" {
			msg = MissingUnreadyReason
		}
		return nil, p.fail("", "%s (a criterion of several words is \"double quoted\")", msg)
	}
	if p.name == "unready" {
		return Unready{ID: id, Criterion: criterion, Reason: reason}, nil
	}
	return Waive{ID: id, Criterion: criterion, Reason: reason}, nil
}

// plan reads "plan <id> <url or text...>".
func (p *parser) plan() (Command, error) {
	id, err := p.id()
	if err != nil {
		return nil, err
	}
	c := Plan{ID: id, Text: p.rest()}
	if c.Text == "" {
		return nil, p.fail("", "missing <url or text...>: a runbook link or the steps of the way back")
	}
	return c, nil
}

// debrief reads "debrief <id> <text...>".
func (p *parser) debrief() (Command, error) {
	id, err := p.id()
	if err != nil {
		return nil, err
	}
	c := Debrief{ID: id, Text: p.rest()}
	if c.Text == "" {
		return nil, p.fail("", "missing <text...>: what happened, and what to change next time")
	}
	return c, nil
}
