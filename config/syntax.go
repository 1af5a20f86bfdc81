package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// SyntaxError is invalid TOML, located and explained: the line, the key being
// written when it is known, what is wrong and how to write it. Its text never
// quotes a secret: on a secret's line (or one that looks like it) it names the
// key at most. It wraps the parser's toml.ParseError.
type SyntaxError struct {
	// File is the configuration file; empty for LoadBytes.
	File string
	// Line is where the mistake is, from 1 (a table header missing its "]"
	// is on its own line, not the next one where the parser stopped).
	Line int
	// Key is the key path being written, e.g. "reminders.escalate_after" or
	// "people[1].timezone"; or the table's path when the key is not one of
	// the configuration's; empty when neither is known.
	Key string
	// Msg says what is wrong; Hint, if not empty, how to write it.
	Msg, Hint string

	err error
}

// Error is "FILE:LINE: KEY: MSG; HINT" ("line LINE: ..." without a file).
func (e *SyntaxError) Error() string {
	var b strings.Builder
	if e.File != "" {
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	} else {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString("; " + e.Hint)
	}
	return b.String()
}

func (e *SyntaxError) Unwrap() error { return e.err }

// quotedHint follows the advice to quote a value.
const quotedHint = "durations, times and words are quoted strings"

// hiddenMsg replaces what the parser says on a line that may hold a secret.
const hiddenMsg = "invalid TOML syntax (details hidden: the line may hold a secret)"

// syntaxErr turns the parser's error into a SyntaxError that says where, at
// which key, and how to write the common mistakes: an unquoted duration, time
// or word, a table header without its "]", a string without a quote.
func syntaxErr(file string, data []byte, err error) error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	// The parser reads past a byte order mark; its positions are in the rest.
	src := strings.TrimPrefix(string(data), "\ufeff")
	lineNo := pe.Position.Line
	if s := pe.Position.Start; s > 0 && s <= len(src) {
		lineNo = 1 + strings.Count(src[:s], "\n")
	}
	lines := strings.Split(src, "\n")
	for i := range lines {
		lines[i] = strings.TrimSuffix(lines[i], "\r")
	}
	line := ""
	if lineNo >= 1 && lineNo <= len(lines) {
		line = lines[lineNo-1]
	}
	se := &SyntaxError{File: file, Line: lineNo, Msg: pe.Message, err: err}

	before := scanBefore(lines, lineNo)
	tablePath, tableKeys := before.tableAt()
	tableType, tableKnown := schemaType(reflect.TypeOf(Config{}), tableKeys)
	if !tableKnown {
		tablePath = "" // a header nobody meant: do not repeat it
	}
	se.Key = tablePath

	trimmed := strings.TrimSpace(stripComment(line))
	// The key being written on this line, if it is one of the configuration's.
	var (
		keyName   string
		valueType reflect.Type
		value     string
		isKV      bool
	)
	if eq := strings.IndexByte(trimmed, '='); eq > 0 && !strings.HasPrefix(trimmed, "[") {
		isKV = true
		value = strings.TrimSpace(trimmed[eq+1:])
		keys := splitKey(trimmed[:eq])
		if t, ok := schemaType(tableType, keys); ok && tableKnown && len(keys) > 0 {
			keyName = keys[len(keys)-1]
			valueType = t
			se.Key = joinKeys(tablePath, keys)
		}
	}

	// A table header written twice (or a table's header after the table
	// was written as a key): said as the header, never a value.
	if strings.Contains(pe.Message, "has already been defined") || strings.Contains(pe.Message, "was already created") {
		if keys, array, ok := header(trimmed); ok {
			se.Key = ""
			se.Msg, se.Hint = before.headerTwice(keys, array)
			return se
		}
	}
	// A key set twice: the parser's words name the key, never a value, so
	// this is said on a secret's line too.
	if strings.Contains(pe.Message, "has already been defined") {
		se.Msg = "set twice in this table; keep one"
		return se
	}
	last := pe.LastKey
	if i := strings.LastIndexByte(last, '.'); i >= 0 {
		last = last[i+1:]
	}
	// A // comment: said before a secret's line is hidden, as it echoes
	// nothing of the line. One after a key's value or a header too.
	if strings.HasPrefix(trimmed, "//") {
		se.Key = ""
		se.Msg = "a comment starts with #, not //"
		se.Hint = "write # before the comment"
		return se
	}
	if i := outsideStrings(trimmed, "//"); i > 0 && decodesLine(trimmed[:i]) {
		if !isKV {
			se.Key = ""
		}
		se.Msg = "a comment starts with #, not //"
		se.Hint = "write # before the comment"
		return se
	}
	if isSecretKey(last) || isSecretKey(keyName) || mayHoldSecret(line) {
		se.Msg = hiddenMsg
		if keyName != "" {
			se.Hint = "write " + keyName + " = " + example(valueType, "…")
		}
		return se
	}

	switch {
	case strings.HasPrefix(trimmed, "[[") && !strings.HasSuffix(trimmed, "]]"):
		name := strings.TrimSpace(strings.TrimRight(trimmed[2:], "]"))
		se.Key = ""
		se.Msg = fmt.Sprintf("table header %s is missing its closing \"]]\"", trimmed)
		se.Hint = "write [[" + name + "]]"
	case strings.HasPrefix(trimmed, "[") && !strings.HasPrefix(trimmed, "[[") && !strings.Contains(trimmed, "]"):
		se.Key = ""
		se.Msg = fmt.Sprintf("table header %s is missing its closing \"]\"", trimmed)
		se.Hint = "write [" + strings.TrimSpace(trimmed[1:]) + "]"
	case !isKV:
	case keyName == "":
		// A key that is not the configuration's: say what to do, not what is there.
		if wordLike(value) && !decodes(value) {
			se.Msg = "a value is not quoted"
			se.Hint = `write e.g. escalate_after = "30m" (` + quotedHint + ")"
		}
	case value == "":
		se.Msg = "the value after \"=\" is missing"
		se.Hint = "write " + keyName + " = " + example(valueType, "…")
	case strings.HasPrefix(value, "{") && valueType.Kind() == reflect.Slice && valueType.Elem().Kind() != reflect.Struct:
		// channels = {slack = C123}: the table is the first mistake.
		se.Hint = keyName + " takes a list in square brackets, not a { … } table; write it as e.g. " + keyName + " = " + listExampleOf(se.Key)
	case strings.HasPrefix(value, `"""`) || strings.HasPrefix(value, "'''") || strings.HasPrefix(value, "{"):
	case value[0] == '"' || value[0] == '\'':
		if closing(value) < 0 {
			se.Msg = "the string has no closing quote"
			se.Hint = "write " + keyName + " = " + value + value[:1]
		}
	case value[0] == '[':
		if fixed, bare := quoteBareElements(value); bare != "" {
			se.Msg = bare + " is not quoted"
			se.Hint = "write " + keyName + " = " + fixed + " (" + quotedHint + ")"
		}
	case valueType.Kind() == reflect.Bool:
		if !decodes(value) {
			se.Msg = value + " is not true or false"
			se.Hint = "write " + keyName + " = true or " + keyName + " = false"
		}
	case strings.ContainsAny(value, `"'`):
		if !decodes(value) {
			se.Msg = "the string has no opening quote"
			se.Hint = "write " + keyName + ` = "` + strings.Trim(value, `"'`) + `"`
		}
	case wordLike(value) && !decodes(value):
		se.Msg = value + " is not quoted"
		se.Hint = "write " + keyName + " = " + strconv.Quote(value) + " (" + quotedHint + ")"
	}
	// The parser's own words may quote the line it stopped on, which may
	// be the next one.
	if se.Msg == pe.Message && pe.Position.Line != lineNo && pe.Position.Line >= 1 && pe.Position.Line <= len(lines) && mayHoldSecret(lines[pe.Position.Line-1]) {
		se.Msg, se.Hint = hiddenMsg, ""
	}
	return se
}

// header returns the keys of a table header line ("[slack]", "[[people]]",
// without its comment); array is true for an array of tables' header.
func header(trimmed string) (keys []string, array, ok bool) {
	switch {
	case strings.HasPrefix(trimmed, "[[") && strings.HasSuffix(trimmed, "]]"):
		return splitKey(trimmed[2 : len(trimmed)-2]), true, true
	case strings.HasPrefix(trimmed, "[") && strings.HasSuffix(trimmed, "]"):
		return splitKey(trimmed[1 : len(trimmed)-1]), false, true
	}
	return nil, false, false
}

// headerTwice says what is wrong with a header of a table the lines
// scanned (those before it) already define, and how to write it: "table
// [slack] defined twice", a table written as one table and as an array of
// tables, an array of tables added to an array written inline (TOML does not
// extend one), a table header of a key's value.
func (sc *lineScanner) headerTwice(keys []string, array bool) (msg, hint string) {
	name := toml.Key(keys).String()
	at := sc.tableName(keys)
	for _, h := range *sc.headers {
		if h.name != at {
			continue
		}
		switch {
		case h.array && !array:
			return "table [" + name + "] is an array of tables, written [[" + name + "]] above", "write [[" + name + "]] for each entry"
		case !h.array && array:
			return "table [[" + name + "]] is a single table, written [" + name + "] above", "write [[" + name + "]] for each entry, or [" + name + "] once"
		}
	}
	if l, ok := sc.out[at]; ok && l.kv {
		line := strconv.Itoa(l.line)
		switch {
		case array && l.value == '[':
			return "table [[" + name + "]] cannot add to " + name + " = [ … ] on line " + line + " (TOML does not extend an array written inline)",
				"write every entry as [[" + name + "]], or every one inside " + name + " = [ … ]"
		case l.value == '{' && !array:
			return "table [" + name + "] defined twice: " + name + " = { … } on line " + line + " defines it already (an inline table holds all its keys)", "keep one"
		case array:
			return "table [[" + name + "]] clashes with the key " + name + " on line " + line, "keep one"
		default:
			return "table [" + name + "] clashes with the key " + name + " on line " + line, "keep one"
		}
	}
	if array {
		return "table [[" + name + "]] is a key or a single table above", "write [[" + name + "]] for each entry"
	}
	return "table [" + name + "] defined twice", "keep one"
}

// scanBefore scans lines before line lineNo, the part of the file the parser
// took (its mistake is at lineNo), for their keys and table headers, so
// that a header or key written in a multi-line string is none.
func scanBefore(lines []string, lineNo int) *lineScanner {
	n := min(max(lineNo-1, 0), len(lines))
	headers := []tableHeader{}
	sc := &lineScanner{
		s:       strings.Join(lines[:n], "\n"),
		line:    1,
		out:     map[string]keyLine{},
		count:   map[string]int{},
		headers: &headers,
	}
	sc.document()
	return sc
}

// tableName is the path of the table a header of keys names, after the
// headers scanned, without its own entry's index: "services" for
// [[services]], "people[1].extra" for [people.extra] after two [[people]].
func (sc *lineScanner) tableName(keys []string) string {
	path := ""
	for i, k := range keys {
		path = joinPath(path, k)
		if n, ok := sc.count[path]; ok && i < len(keys)-1 {
			path += "[" + strconv.Itoa(n-1) + "]"
		}
	}
	return path
}

// mayHoldSecret reports whether a line names a secret or holds a URL.
func mayHoldSecret(line string) bool {
	return containsAny(strings.ToLower(line), "token", "secret", "password", "url", "://")
}

// tableAt returns the path (as in Problems, "people[1]") and the keys of the
// table the scanned lines end in: that of the last header.
func (sc *lineScanner) tableAt() (string, []string) {
	hs := *sc.headers
	if len(hs) == 0 {
		return "", nil
	}
	return hs[len(hs)-1].path, hs[len(hs)-1].keys
}

// schemaType follows keys from t through the configuration's tables; a table
// array ([[people]]) stands for its entries. ok is false for a key it lacks.
func schemaType(t reflect.Type, keys []string) (reflect.Type, bool) {
	for _, k := range keys {
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil, false
		}
		i, ok := fieldsOf(t)[k]
		if !ok {
			return nil, false
		}
		t = t.Field(i).Type
	}
	if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct {
		t = t.Elem()
	}
	return t, true
}

func joinKeys(path string, keys []string) string {
	for _, k := range keys {
		path = joinPath(path, k)
	}
	return path
}

// splitKey splits a dotted key, dropping the quotes of quoted parts (a
// quoted part may hold a dot: "a.b".c is two keys). On a line that is not
// valid TOML it splits at every dot.
func splitKey(s string) []string {
	sc := &lineScanner{s: strings.TrimSpace(s)}
	if keys := sc.key(); keys != nil && sc.i == len(sc.s) {
		return keys
	}
	var keys []string
	for _, k := range strings.Split(s, ".") {
		k = strings.TrimSpace(k)
		if len(k) >= 2 && (k[0] == '"' || k[0] == '\'') && k[len(k)-1] == k[0] {
			k = k[1 : len(k)-1]
		}
		keys = append(keys, k)
	}
	return keys
}

// stripComment drops a # comment that is not inside a string.
func stripComment(line string) string {
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote == 0 && c == '#':
			return line[:i]
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case quote == '"' && c == '\\':
			i++
		case c == quote:
			quote = 0
		}
	}
	return line
}

// outsideStrings is the index of the first sub in line outside a quoted
// string, or -1.
func outsideStrings(line, sub string) int {
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote == 0 && strings.HasPrefix(line[i:], sub):
			return i
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case quote == '"' && c == '\\':
			i++
		case c == quote:
			quote = 0
		}
	}
	return -1
}

// decodesLine reports whether a line is valid TOML on its own: a key and
// its value, or a table header.
func decodesLine(line string) bool {
	var m map[string]any
	_, err := toml.Decode(line, &m)
	return err == nil
}

// closing is the index of the quote that ends the string value starts with, or -1.
func closing(value string) int {
	q := value[0]
	for i := 1; i < len(value); i++ {
		switch {
		case q == '"' && value[i] == '\\':
			i++
		case value[i] == q:
			return i
		}
	}
	return -1
}

// wordLike reports whether value starts like a word, number, duration or time.
func wordLike(value string) bool {
	if value == "" {
		return false
	}
	c := value[0]
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("+-.:_", c) >= 0
}

// decodes reports whether value is a valid TOML value on its own.
func decodes(value string) bool {
	var m map[string]any
	_, err := toml.Decode("v = "+value, &m)
	return err == nil
}

// quoteBareElements quotes the unquoted words of a one-line list, returning
// the list so written and the first such word ("" if none).
func quoteBareElements(list string) (fixed, bare string) {
	inner, ok := strings.CutPrefix(list, "[")
	if !ok {
		return "", ""
	}
	inner, ok = strings.CutSuffix(strings.TrimSpace(inner), "]")
	if !ok || strings.ContainsAny(inner, `"'[]{}`) {
		return "", ""
	}
	var parts []string
	for _, el := range strings.Split(inner, ",") {
		el = strings.TrimSpace(el)
		if el == "" {
			continue
		}
		if !decodes(el) {
			if bare == "" {
				bare = el
			}
			el = strconv.Quote(el)
		}
		parts = append(parts, el)
	}
	return "[" + strings.Join(parts, ", ") + "]", bare
}

// example is how a value of type t is written, with v standing for its text.
func example(t reflect.Type, v string) string {
	switch {
	case t == nil:
		return `"` + v + `"`
	case t.Kind() == reflect.Bool:
		return "true"
	case t.Kind() == reflect.Slice:
		return `["` + v + `"]`
	}
	return `"` + v + `"`
}
