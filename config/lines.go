package config

import (
	"sort"
	"strconv"
	"strings"
)

// keyLine is where a key path is written in the file.
type keyLine struct {
	line int  // from 1
	kv   bool // a "key = value" line, not a table header
	// named: the key's table is named on the key's own line, by the parts
	// of a dotted key before it (slack.listen = ...) or by the key holding
	// the inline table it is in (slack = { listen = ... }), not by the table
	// header above it. Such a key is not misplaced by a header.
	named bool
	// value is how a "key = value"'s value opens: '[' an inline array, '{'
	// an inline table, 0 anything else.
	value byte
}

// keyLines finds the line of each key path the file writes, as Problems
// name them ("server.listen", "people[1].timezone", "people[1]" for the
// header of an array of tables' entry, `"a.b"` for a quoted key holding a
// dot, "services[0].channels[1]" for an entry of a list written on a line of
// its own): a scan of the file, which the parser has already accepted, along the
// TOML 1.0 grammar: bare, "basic" and 'literal' keys, dotted keys (spaces
// around the dots), table headers and [[array]] headers (counted: the path
// has the entry's index), inline tables and arrays of them, strings on one or
// several lines. The parser does not tell where a key is (BurntSushi/toml
// keeps the positions to itself). A key's first line wins; each part of a
// dotted key ("x" and "x.y" of 'x'.y.z = 1) is on its line too, so an
// unknown key's problem, which names its first part, has it (as a table's
// header has: a key the table lacks is not on it). The scan is
// linear in the file's size.
func keyLines(data []byte) map[string]keyLine {
	sc := &lineScanner{
		s:     strings.TrimPrefix(string(data), "\ufeff"), // a BOM is not part of the first key
		line:  1,
		out:   map[string]keyLine{},
		count: map[string]int{},
	}
	sc.document()
	return sc.out
}

// lineScanner reads a valid TOML document for keyLines.
type lineScanner struct {
	s     string
	i     int
	line  int
	out   map[string]keyLine
	count map[string]int // array of tables' path (with its parents' indexes) -> entries so far
	// headers, when not nil, collects the table headers the scan meets (for
	// the syntax errors' messages, which must not take a header written in
	// a multi-line string for one).
	headers *[]tableHeader
}

// tableHeader is a table header the scan met.
type tableHeader struct {
	keys  []string
	array bool   // [[keys]]
	name  string // the table's path without the entry's index: "services", "people[1].extra"
	path  string // the table's path, as in Problems: "services[2]", "people[1].extra"
	line  int
}

func (sc *lineScanner) record(path string, l keyLine) {
	if _, ok := sc.out[path]; !ok {
		sc.out[path] = l
	}
}

func (sc *lineScanner) peek(prefix string) bool { return strings.HasPrefix(sc.s[sc.i:], prefix) }

func (sc *lineScanner) advance(n int) {
	end := min(sc.i+n, len(sc.s))
	sc.line += strings.Count(sc.s[sc.i:end], "\n")
	sc.i = end
}

// space skips blanks; with newlines, also line ends and comments.
func (sc *lineScanner) space(newlines bool) {
	for sc.i < len(sc.s) {
		switch c := sc.s[sc.i]; {
		case c == ' ' || c == '\t' || c == '\r':
			sc.i++
		case newlines && c == '\n':
			sc.advance(1)
		case newlines && c == '#':
			sc.skipLine()
		default:
			return
		}
	}
}

// skipLine goes to the line's end (a comment, or what the scan does not need).
func (sc *lineScanner) skipLine() {
	if j := strings.IndexByte(sc.s[sc.i:], '\n'); j >= 0 {
		sc.i += j
	} else {
		sc.i = len(sc.s)
	}
}

func (sc *lineScanner) document() {
	var table string // the path of the current table
	for {
		sc.space(true)
		if sc.i >= len(sc.s) {
			return
		}
		line := sc.line
		switch {
		case sc.peek("[["):
			sc.advance(2)
			sc.space(false)
			keys := sc.key()
			if keys == nil { // not TOML the parser took: leave the line
				sc.skipLine()
				continue
			}
			table = sc.tablePath(keys[:len(keys)-1], line)
			name := joinPath(table, keys[len(keys)-1])
			table = name + "[" + strconv.Itoa(sc.count[name]) + "]"
			sc.count[name]++
			sc.record(table, keyLine{line: line})
			if sc.headers != nil {
				*sc.headers = append(*sc.headers, tableHeader{keys: keys, array: true, name: name, path: table, line: line})
			}
			sc.skipLine()
		case sc.peek("["):
			sc.advance(1)
			sc.space(false)
			keys := sc.key()
			table = sc.tablePath(keys, line)
			if sc.headers != nil && keys != nil {
				*sc.headers = append(*sc.headers, tableHeader{keys: keys, name: table, path: table, line: line})
			}
			sc.skipLine()
		default:
			if !sc.keyValue(table, false) {
				sc.skipLine() // not TOML the parser took: leave the line
			}
		}
	}
}

// tablePath is the path of a table header's keys: an array of tables' name
// stands for its last entry ([people.x] after [[people]] is "people[0].x").
// Each table on the way is on the header's line, unless written before.
func (sc *lineScanner) tablePath(keys []string, line int) string {
	path := ""
	for _, k := range keys {
		path = joinPath(path, k)
		if n, ok := sc.count[path]; ok {
			path += "[" + strconv.Itoa(n-1) + "]"
			continue
		}
		sc.record(path, keyLine{line: line})
	}
	return path
}

// keyValue reads "key = value" in the table at path; false if it is not one.
// inline: the table is an inline table's (its key is on this line or above).
func (sc *lineScanner) keyValue(table string, inline bool) bool {
	line := sc.line
	keys := sc.key()
	sc.space(false)
	if keys == nil || !sc.peek("=") {
		return false
	}
	sc.advance(1)
	sc.space(false)
	var value byte
	if rest := sc.s[sc.i:]; rest != "" && (rest[0] == '[' || rest[0] == '{') {
		value = rest[0]
	}
	path := table
	for i, k := range keys {
		path = joinPath(path, k)
		// The tables a dotted key makes are like a header's: a key they
		// lack is not on this line.
		l := keyLine{line: line, named: inline || i > 0}
		if i == len(keys)-1 {
			l.kv, l.value = true, value
		}
		sc.record(path, l)
	}
	sc.value(path)
	return true
}

// key reads a key, dotted or not, and its parts unquoted; nil if none.
func (sc *lineScanner) key() []string {
	var keys []string
	for {
		k, ok := sc.simpleKey()
		if !ok {
			return nil
		}
		keys = append(keys, k)
		j := sc.i
		sc.space(false)
		if !sc.peek(".") {
			sc.i = j
			return keys
		}
		sc.advance(1)
		sc.space(false)
	}
}

func (sc *lineScanner) simpleKey() (string, bool) {
	rest := sc.s[sc.i:]
	switch {
	case rest == "":
		return "", false
	case rest[0] == '"':
		n := basicEnd(rest)
		if n < 0 {
			return "", false
		}
		sc.i += n
		if k, err := strconv.Unquote(rest[:n]); err == nil {
			return k, true
		}
		return rest[1 : n-1], true
	case rest[0] == '\'':
		n := strings.IndexByte(rest[1:], '\'')
		if n < 0 {
			return "", false
		}
		sc.i += n + 2
		return rest[1 : n+1], true
	}
	n := 0
	for n < len(rest) && isBare(rest[n]) {
		n++
	}
	if n == 0 {
		return "", false
	}
	sc.i += n
	return rest[:n], true
}

func isBare(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

// basicEnd is the length of the "basic" string s starts with, quotes
// included; -1 if it does not end on its line.
func basicEnd(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		case '\n':
			return -1
		}
	}
	return -1
}

// value reads the value of the key at path: an inline table's keys and an
// array's inline tables ("services[1]") are on their lines, and so is each
// entry of a list written on a line of its own ("channels[1]"; the entries
// on the key's line are at its line without being recorded, which keeps
// the common one-line list cheap).
func (sc *lineScanner) value(path string) {
	rest := sc.s[sc.i:]
	switch {
	case strings.HasPrefix(rest, `"""`), strings.HasPrefix(rest, "'''"):
		sc.multiline(rest[:3])
	case strings.HasPrefix(rest, `"`):
		if n := basicEnd(rest); n > 0 {
			sc.i += n
		} else {
			sc.skipLine()
		}
	case strings.HasPrefix(rest, "'"):
		if n := strings.IndexByte(rest[1:], '\''); n >= 0 {
			sc.i += n + 2
		} else {
			sc.skipLine()
		}
	case strings.HasPrefix(rest, "["):
		first := sc.line
		sc.advance(1)
		for n := 0; ; n++ {
			sc.space(true)
			if sc.i >= len(sc.s) || sc.peek("]") {
				break
			}
			elem := path + "[" + strconv.Itoa(n) + "]"
			if sc.peek("{") || sc.line != first {
				sc.record(elem, keyLine{line: sc.line, kv: true, named: true})
			}
			sc.value(elem)
			sc.space(true)
			if !sc.peek(",") {
				break
			}
			sc.advance(1)
		}
		sc.space(true)
		if sc.peek("]") {
			sc.advance(1)
		}
	case strings.HasPrefix(rest, "{"):
		sc.advance(1)
		for {
			sc.space(true)
			if sc.i >= len(sc.s) || sc.peek("}") {
				break
			}
			if !sc.keyValue(path, true) {
				break
			}
			sc.space(true)
			if !sc.peek(",") {
				break
			}
			sc.advance(1)
		}
		sc.space(true)
		if sc.peek("}") {
			sc.advance(1)
		}
	default: // a number, boolean or date: up to what follows a value
		n := strings.IndexAny(rest, ",]}#\n")
		if n < 0 {
			n = len(rest)
		}
		sc.i += n
	}
}

// multiline skips a string of several lines, from its opening delim.
func (sc *lineScanner) multiline(delim string) {
	j := sc.i + 3
	for j < len(sc.s) {
		if delim == `"""` && sc.s[j] == '\\' {
			j += 2
			continue
		}
		if strings.HasPrefix(sc.s[j:], delim) {
			j += 3
			// up to two quotes more belong to the string (""""" ends it with "")
			for k := 0; k < 2 && j < len(sc.s) && sc.s[j] == delim[0]; k++ {
				j++
			}
			break
		}
		j++
	}
	sc.advance(j - sc.i)
}

// lineOf is the file's line of the key a problem is about, 0 when the file
// does not write it: a value from the environment, a missing key, a problem
// of several keys ("services: dependency cycle ..."). A list's entry
// ("reminders.before[1]", or the entry a problem of the list is about,
// Problem.entry) is on its own line when the list is written over several,
// else on its list's; a key an inline table lacks ("discord.bot_token" of
// discord = { mode = "http" }) on the line of the key that holds the table.
func (c Config) lineOf(p Problem) int {
	if c.keyLines == nil || strings.HasPrefix(p.Path, "env ") {
		return 0
	}
	path := p.Path
	if p.entry > 0 {
		path += "[" + strconv.Itoa(p.entry-1) + "]"
	}
	if l, ok := c.keyLines[path]; ok {
		return l.line
	}
	for q := parentPath(path); q != ""; q = parentPath(q) {
		if l, ok := c.keyLines[q]; ok {
			if l.kv {
				return l.line
			}
			return 0 // a table's header: the key is not written
		}
	}
	return 0
}

// parentPath drops the last key or index of a path: "people[1].timezone"
// -> "people[1]" -> "people"; "" at the top.
func parentPath(p string) string {
	if i := strings.LastIndexAny(p, ".["); i > 0 {
		return p[:i]
	}
	return ""
}

// InFileOrder sets each problem's Line and sorts problems as the file's
// lines run, so they read top to bottom against it; the problems without a
// line (see lineOf) come after, in the order given. ps is changed in place
// and returned.
func (c Config) InFileOrder(ps []Problem) []Problem {
	for i := range ps {
		ps[i].Line = c.lineOf(ps[i])
	}
	line := func(p Problem) int {
		if p.Line > 0 {
			return p.Line
		}
		return int(^uint(0) >> 1)
	}
	sort.SliceStable(ps, func(i, j int) bool { return line(ps[i]) < line(ps[j]) })
	return ps
}
