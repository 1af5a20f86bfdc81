// Package jsonwalk reads JSON in one pass, for adapters that want a few
// fields of a large payload (an interaction with the message it came from)
// without encoding/json's two scans and reflection. It knows no platform:
// each adapter walks its own schema with these primitives.
//
// The contract: a Walker accepts only what encoding/json accepts, and reads
// what it accepts exactly as encoding/json would. Every method reports
// false for anything it does not read that way (invalid JSON, an escaped or
// non-ASCII key, nesting deeper than MaxDepth, a number out of range...),
// and the caller then decodes the whole document with encoding/json, whose
// result and errors stay the rule. The adapters' FuzzDecodeInteraction
// hold them to it.
package jsonwalk

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// MaxDepth bounds nesting; deeper documents are left to encoding/json.
const MaxDepth = 200

// Walker reads the JSON document it was made with, from its start on.
type Walker struct {
	b     []byte
	i     int
	depth int
}

// New returns a Walker at the start of b.
func New(b []byte) Walker { return Walker{b: b} }

// Bytes returns the whole document.
func (w *Walker) Bytes() []byte { return w.b }

// Mark is a place in the document to come back to.
type Mark struct{ i, depth int }

// Mark returns the place the walker is at.
func (w *Walker) Mark() Mark { return Mark{w.i, w.depth} }

// Reset takes the walker back (or forth) to m.
func (w *Walker) Reset(m Mark) { w.i, w.depth = m.i, m.depth }

// Since returns the document's bytes from m to where the walker is.
func (w *Walker) Since(m Mark) []byte { return w.b[m.i:w.i] }

func (w *Walker) ws() {
	// Payloads mostly have no whitespace: one comparison to see none.
	for w.i < len(w.b) && w.b[w.i] <= ' ' {
		switch w.b[w.i] {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return
		}
	}
}

// Peek returns the next byte after whitespace, 0 at the end.
func (w *Walker) Peek() byte {
	w.ws()
	if w.i >= len(w.b) {
		return 0
	}
	return w.b[w.i]
}

// End reports whether nothing but whitespace is left.
func (w *Walker) End() bool {
	w.ws()
	return w.i == len(w.b)
}

// KeyIs matches a key as encoding/json matches a field name: exactly, else
// ignoring ASCII case (Object only passes keys that are plain ASCII).
func KeyIs(k []byte, name string) bool {
	if len(k) != len(name) {
		return false
	}
	for i := range len(k) {
		c := k[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != name[i] {
			return false
		}
	}
	return true
}

// fieldOf is the index of the name a key matches as KeyIs does, 0 for none.
func fieldOf(k []byte, names []string) int {
	for n := 1; n < len(names); n++ {
		if KeyIs(k, names[n]) {
			return n
		}
	}
	return 0
}

// Fields reads an object, calling field positioned at the value of each
// key that is one of names (by index, from 1: names[0] is not matched, and
// there are at most 63), and skipping the others. A field given twice is
// refused: encoding/json merges objects and reuses slices, left to it.
func (w *Walker) Fields(names []string, field func(f int) bool) bool {
	var seen uint64
	return w.Object(func(key []byte) bool {
		f := fieldOf(key, names)
		if f == 0 {
			return w.Skip()
		}
		if seen&(1<<f) != 0 {
			return false
		}
		seen |= 1 << f
		return field(f)
	})
}

// Object reads an object, calling member with each key (plain ASCII, no
// escapes: others are refused) positioned at its value.
//
// Object, Array and Skip each write out their loop: the step after a
// member or element as a shared helper cost a Slack press 2% more
// instructions.
func (w *Walker) Object(member func(key []byte) bool) bool {
	if w.Peek() != '{' {
		return false
	}
	w.depth++
	if w.depth > MaxDepth {
		return false
	}
	w.i++
	if w.Peek() == '}' {
		w.i++
		w.depth--
		return true
	}
	for {
		if w.Peek() != '"' {
			return false
		}
		start := w.i + 1
		end := start
		for end < len(w.b) && plainASCII[w.b[end]] {
			end++
		}
		if end >= len(w.b) || w.b[end] != '"' {
			return false // unusual keys are left to encoding/json
		}
		w.i = end + 1
		if w.Peek() != ':' {
			return false
		}
		w.i++
		w.ws()
		if !member(w.b[start:end]) {
			return false
		}
		switch w.Peek() {
		case ',':
			w.i++
		case '}':
			w.i++
			w.depth--
			return true
		default:
			return false
		}
	}
}

// Array reads an array, calling elem positioned at each element.
func (w *Walker) Array(elem func() bool) bool {
	if w.Peek() != '[' {
		return false
	}
	w.depth++
	if w.depth > MaxDepth {
		return false
	}
	w.i++
	if w.Peek() == ']' {
		w.i++
		w.depth--
		return true
	}
	for {
		if !elem() {
			return false
		}
		switch w.Peek() {
		case ',':
			w.i++
		case ']':
			w.i++
			w.depth--
			return true
		default:
			return false
		}
	}
}

// Null reads a null if there is one.
func (w *Walker) Null() bool { return w.Peek() == 'n' && w.lit("null") }

func (w *Walker) lit(s string) bool {
	if len(w.b)-w.i < len(s) || string(w.b[w.i:w.i+len(s)]) != s {
		return false
	}
	w.i += len(s)
	return true
}

// PlainString reads a string of printable ASCII without escapes (most
// strings of a payload, and every key Object passes on) and returns where
// its inside stands in Bytes. At anything else it reads nothing. It does
// not pass over whitespace first: call it where Peek (or a Null that read
// nothing) left the walker.
func (w *Walker) PlainString() (start, end int, ok bool) {
	if w.i >= len(w.b) || w.b[w.i] != '"' {
		return 0, 0, false
	}
	start = w.i + 1
	end = start
	for end < len(w.b) && plainASCII[w.b[end]] {
		end++
	}
	if end >= len(w.b) || w.b[end] != '"' {
		return 0, 0, false
	}
	w.i = end + 1
	return start, end, true
}

// Str reads a string into *dst; null leaves *dst as it is.
func (w *Walker) Str(dst *string) bool {
	if w.Null() {
		return true
	}
	if w.Peek() != '"' {
		return false
	}
	start := w.i
	plain := true
	j := w.i + 1
	for ; j < len(w.b); j++ {
		c := w.b[j]
		if c == '"' {
			break
		}
		if c == '\\' {
			plain = false
			j++
			continue
		}
		if c < 0x20 {
			return false
		}
		if c >= 0x80 {
			plain = false
		}
	}
	if j >= len(w.b) {
		return false
	}
	w.i = j + 1
	raw := w.b[start+1 : j]
	if plain {
		*dst = string(raw)
		return true
	}
	if !validEscapedString(raw) {
		return false
	}
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		*dst = string(raw)
		return true
	}
	// Escapes or invalid UTF-8: encoding/json's own rules, for this string.
	return json.Unmarshal(w.b[start:w.i], dst) == nil
}

// Uint reads a number into an unsigned integer of the given size, as
// encoding/json does: digits only, in range; null reads as 0.
func (w *Walker) Uint(bits int) (uint64, bool) {
	if w.Null() {
		return 0, true
	}
	start := w.i
	if !w.number() {
		return 0, false
	}
	n, err := strconv.ParseUint(string(w.b[start:w.i]), 10, bits)
	return n, err == nil
}

// Int reads a number into a signed integer of the given size, as
// encoding/json does; null reads as 0.
func (w *Walker) Int(bits int) (int64, bool) {
	if w.Null() {
		return 0, true
	}
	start := w.i
	if !w.number() {
		return 0, false
	}
	n, err := strconv.ParseInt(string(w.b[start:w.i]), 10, bits)
	return n, err == nil
}

// Bool reads true or false; null reads as false.
func (w *Walker) Bool() (bool, bool) {
	switch w.Peek() {
	case 't':
		return true, w.lit("true")
	case 'f':
		return false, w.lit("false")
	case 'n':
		return false, w.lit("null")
	}
	return false, false
}

// Any reads a value into an empty interface as encoding/json does: a
// string, a float64, a bool or nil, and objects and arrays by encoding/json
// itself.
func (w *Walker) Any() (any, bool) {
	switch c := w.Peek(); {
	case c == '"':
		var s string
		ok := w.Str(&s)
		return s, ok
	case c == 't' || c == 'f':
		return w.Bool()
	case c == 'n':
		return nil, w.lit("null")
	case c == '-' || '0' <= c && c <= '9':
		start := w.i
		if !w.number() {
			return nil, false
		}
		f, err := strconv.ParseFloat(string(w.b[start:w.i]), 64)
		return f, err == nil
	case c == '{' || c == '[':
		start := w.i
		if !w.Skip() {
			return nil, false
		}
		var v any
		return v, json.Unmarshal(w.b[start:w.i], &v) == nil
	}
	return nil, false
}

// validEscapedString checks the inside of a string as encoding/json's
// scanner does: no control characters, only valid escapes.
func validEscapedString(s []byte) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 {
			return false
		}
		if c != '\\' {
			continue
		}
		i++
		if i >= len(s) {
			return false
		}
		switch s[i] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		case 'u':
			for k := 1; k <= 4; k++ {
				if i+k >= len(s) || !isHex(s[i+k]) {
					return false
				}
			}
			i += 4
		default:
			return false
		}
	}
	return true
}

// plainString holds the bytes a string's scan passes over: all but
// control characters, quotes and backslashes; plainASCII, those of them
// that are ASCII (of keys and of strings read as they are).
var plainString, plainASCII = func() (s, k [256]bool) {
	for c := 0x20; c < 256; c++ {
		s[c] = c != '"' && c != '\\'
		k[c] = s[c] && c < 0x80
	}
	return s, k
}()

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// Skip reads any value without keeping it, checking it as encoding/json's
// scanner does.
func (w *Walker) Skip() bool {
	switch c := w.Peek(); {
	case c == '"':
		return w.skipString()
	case c == '{':
		// Keys of objects skipped are only checked: any string will do.
		w.depth++
		if w.depth > MaxDepth {
			return false
		}
		w.i++
		if w.Peek() == '}' {
			w.i++
			w.depth--
			return true
		}
		for {
			if w.Peek() != '"' || !w.skipString() || w.Peek() != ':' {
				return false
			}
			w.i++
			if !w.Skip() {
				return false
			}
			switch w.Peek() {
			case ',':
				w.i++
			case '}':
				w.i++
				w.depth--
				return true
			default:
				return false
			}
		}
	case c == '[':
		w.depth++
		if w.depth > MaxDepth {
			return false
		}
		w.i++
		if w.Peek() == ']' {
			w.i++
			w.depth--
			return true
		}
		for {
			if !w.Skip() {
				return false
			}
			switch w.Peek() {
			case ',':
				w.i++
			case ']':
				w.i++
				w.depth--
				return true
			default:
				return false
			}
		}
	case c == 't':
		return w.lit("true")
	case c == 'f':
		return w.lit("false")
	case c == 'n':
		return w.lit("null")
	case c == '-' || '0' <= c && c <= '9':
		return w.number()
	}
	return false
}

// skipString reads a string without decoding it.
func (w *Walker) skipString() bool {
	j := w.i + 1
	for ; j < len(w.b); j++ {
		for j < len(w.b) && plainString[w.b[j]] {
			j++
		}
		if j >= len(w.b) {
			return false
		}
		c := w.b[j]
		if c == '"' {
			break
		}
		if c < 0x20 {
			return false
		}
		if c == '\\' {
			j++
			if j >= len(w.b) {
				return false
			}
			switch w.b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				for k := 1; k <= 4; k++ {
					if j+k >= len(w.b) || !isHex(w.b[j+k]) {
						return false
					}
				}
				j += 4
			default:
				return false
			}
		}
	}
	if j >= len(w.b) {
		return false
	}
	w.i = j + 1
	return true
}

// number reads a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (w *Walker) number() bool {
	b, i := w.b, w.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	w.i = i
	return true
}
