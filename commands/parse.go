package commands

import (
	"fmt"
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
		terr.Usage = Usage(guessSubcommand(text))
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
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		msg += "; valid subcommands: " + strings.Join(Names(), ", ")
		return nil, &Error{Token: toks[0].text, Msg: msg, Usage: Usage("")}
	}
	p := &parser{name: name, toks: toks, pos: 1, env: env}
	switch name {
	case "schedule":
		return p.schedule()
	case "list":
		return p.list()
	case "show":
		return idOnly(p, func(id int) Command { return Show{ID: id} })
	case "start":
		return idOnly(p, func(id int) Command { return Start{ID: id} })
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
		id, err := p.id()
		if err != nil {
			return nil, err
		}
		return Cancel{ID: id, Reason: p.rest()}, nil
	case "rollback":
		id, err := p.id()
		if err != nil {
			return nil, err
		}
		reason := p.rest()
		if reason == "" {
			return nil, p.fail("", "missing <reason...>: a rollback alert must say why")
		}
		return Rollback{ID: id, Reason: reason}, nil
	case "reschedule":
		return p.reschedule()
	case "extend":
		return p.extend()
	case "link":
		return p.link()
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
	name string // the subcommand, for the usage attached to errors
	toks []token
	pos  int
	env  Env
}

func (p *parser) fail(tok, format string, args ...any) error {
	return &Error{Token: tok, Msg: fmt.Sprintf(format, args...), Usage: Usage(p.name)}
}

// withUsage attaches this subcommand's usage to an error from a helper
// (ParseID, ParseTime, ParseDuration), which cannot know the subcommand.
func (p *parser) withUsage(err error) error {
	if e, ok := err.(*Error); ok {
		c := *e
		c.Usage = Usage(p.name)
		return &c
	}
	return p.fail("", "%v", err)
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
	return strings.Join(words, " ")
}

func (p *parser) id() (int, error) {
	if !p.more() {
		return 0, p.fail("", "missing <id>; use %s", idForms)
	}
	n, err := ParseID(p.next().text)
	if err != nil {
		return 0, p.withUsage(err)
	}
	return n, nil
}

// word reads a required positional value, treating an unquoted stop keyword
// as "missing" so "schedule payments at ..." says the version is missing
// rather than taking "at" as the version.
func (p *parser) word(what string, stops ...string) (string, error) {
	if !p.more() || keyword(p.peek(), stops...) != "" {
		return "", p.fail("", "missing %s", what)
	}
	t := p.next()
	if strings.TrimSpace(t.text) == "" {
		return "", p.fail("", "%s is empty", what)
	}
	return t.text, nil
}

// positiveDuration reads the duration after a keyword; zero or negative would
// make an empty or inverted window, so they are rejected here with the token.
func (p *parser) positiveDuration(after, role string) (time.Duration, string, error) {
	if !p.more() {
		return 0, "", p.fail("", "missing <duration> after %s", after)
	}
	tok := p.next().text
	d, err := ParseDuration(tok)
	if err != nil {
		return 0, "", p.withUsage(err)
	}
	if d <= 0 {
		return 0, "", p.fail(tok, "%s %q must be greater than zero", role, tok)
	}
	return d, tok, nil
}

func (p *parser) texts() []string {
	out := make([]string, 0, len(p.toks)-p.pos)
	for _, t := range p.toks[p.pos:] {
		out = append(out, t.text)
	}
	return out
}

// at parses "<time> [zone]" and rejects past instants, naming what was typed and
// showing the UTC instant it was read as, so DST or zone surprises are visible.
func (p *parser) at() (time.Time, string, bool, error) {
	toks := p.texts()
	var (
		t     time.Time
		n     int
		zoned bool
		err   error
		text  string
	)
	if len(toks) > 0 && strings.ContainsAny(toks[0], " \t") {
		// A quoted time ("2026-12-01 02:00 UTC") is one token holding the
		// whole time, zone included.
		words := strings.Fields(toks[0])
		t, n, zoned, err = parseTime(words, p.env)
		if err == nil && n < len(words) {
			err = &Error{Token: toks[0], Msg: fmt.Sprintf("cannot read %q as a time: %q is left over; use %s", toks[0], strings.Join(words[n:], " "), timeForms)}
		}
		if err != nil {
			return time.Time{}, "", false, p.withUsage(err)
		}
		text, n = strings.Join(words, " "), 1
	} else {
		t, n, zoned, err = parseTime(toks, p.env)
		if err != nil {
			return time.Time{}, "", false, p.withUsage(err)
		}
		text = strings.Join(toks[:n], " ")
	}
	p.pos += n
	if t.Before(p.env.Now) {
		return time.Time{}, "", false, p.fail(text, "the start time %q is in the past: it means %s, and it is now %s",
			text, formatUTC(t), formatUTC(p.env.Now))
	}
	return t, text, zoned, nil
}

func (p *parser) location() *time.Location {
	if p.env.Location == nil {
		return time.UTC
	}
	return p.env.Location
}

func (p *parser) schedule() (Command, error) {
	var c Schedule
	var err error
	if c.Service, err = p.word("<service>", "at", "in"); err != nil {
		return nil, err
	}
	if c.Version, err = p.word("<version>", "at", "in"); err != nil {
		return nil, err
	}
	if !p.more() {
		return nil, p.fail("", "missing the start: at <time> or in <duration>")
	}
	kw := p.next()
	afterTime := -1 // only an absolute time can be followed by a (misplaced) zone
	switch keyword(kw, "at", "in") {
	case "at":
		if c.Start, c.StartText, c.ZoneGiven, err = p.at(); err != nil {
			return nil, err
		}
		afterTime = p.pos
	case "in":
		d, tok, err := p.positiveDuration("in", "the offset")
		if err != nil {
			return nil, err
		}
		c.Start = p.env.Now.Add(d).In(p.location())
		c.StartText = "in " + tok
		c.ZoneGiven = true // relative: no zone to guess
	default:
		return nil, p.fail(kw.text, "expected at <time> or in <duration> after the version, not %q", kw.text)
	}

	seen := map[string]bool{}
	for p.more() {
		t := p.next()
		opt := keyword(t, "for", "region", "impact")
		if opt != "" && seen[opt] {
			return nil, p.fail(t.text, "%q is given twice", t.text)
		}
		seen[opt] = true
		switch opt {
		case "for":
			if c.Duration, _, err = p.positiveDuration("for", "the window duration"); err != nil {
				return nil, err
			}
		case "region":
			if c.Region, err = p.word("<name> after region", "for", "region", "impact"); err != nil {
				return nil, err
			}
		case "impact":
			if c.Impact = p.rest(); c.Impact == "" {
				return nil, p.fail("", "missing <text...> after impact")
			}
		default:
			if p.pos-1 == afterTime {
				if err := p.zoneAfterTime(t.text); err != nil {
					return nil, err
				}
			}
			return nil, p.fail(t.text, "unexpected %q; after the start only for <duration>, region <name> and impact <text...> may follow", t.text)
		}
	}
	return c, nil
}

// zoneAfterTime explains a zone-like token that ParseTime left over: a second
// zone, or an abbreviation such as CET. Anything else is left to the generic
// "unexpected" error.
func (p *parser) zoneAfterTime(tok string) error {
	switch {
	case looksLikeZone(tok):
		return p.fail(tok, "%q: the time already has a zone; give only one", tok)
	case isZoneAbbreviation(tok):
		return p.fail(tok, "%q is not a time zone this bot understands (abbreviations are ambiguous); use UTC, an IANA name like Europe/Berlin, or an offset like +01:00", tok)
	}
	return nil
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
		return nil, p.fail("", "missing at <time>")
	}
	if kw := p.next(); keyword(kw, "at") == "" {
		return nil, p.fail(kw.text, "expected at <time> after the id, not %q", kw.text)
	}
	if c.Start, c.StartText, c.ZoneGiven, err = p.at(); err != nil {
		return nil, err
	}
	if p.more() && keyword(p.peek(), "for") != "" {
		p.next()
		if c.Duration, _, err = p.positiveDuration("for", "the window duration"); err != nil {
			return nil, err
		}
	} else if p.more() {
		if err := p.zoneAfterTime(p.peek().text); err != nil {
			return nil, err
		}
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
	by, _, err := p.positiveDuration("the id", "the extension")
	if err != nil {
		return nil, err
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	return Extend{ID: id, By: by}, nil
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
				return nil, p.fail("", "<service> is empty")
			}
			c.Service = t.text
		default:
			return nil, p.fail(t.text, "unexpected %q; list takes at most a service and all", t.text)
		}
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
	if c.Repo, ok = parseRepo(tok); !ok {
		return nil, p.fail(tok, "%q is not a GitHub repository; use owner/repo, e.g. acme/payments", tok)
	}
	if p.more() {
		t := p.next()
		if strings.TrimSpace(t.text) == "" {
			return nil, p.fail("", "<tag> is empty; leave it out to use the upgrade's version")
		}
		c.Tag = t.text
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	return c, nil
}

// parseRepo validates owner/repo against GitHub's naming rules, so a typo is
// caught here instead of as a 404 from the API later. A pasted
// https://github.com/owner/repo URL is accepted and reduced to owner/repo.
func parseRepo(s string) (string, bool) {
	r := s
	lower := strings.ToLower(r)
	for _, prefix := range []string{"https://github.com/", "http://github.com/", "github.com/"} {
		if strings.HasPrefix(lower, prefix) {
			r = r[len(prefix):]
			break
		}
	}
	r = strings.TrimSuffix(r, "/")
	r = strings.TrimSuffix(r, ".git")
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
			msg += fmt.Sprintf("; did you mean %q?", s)
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
