package slack

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// decodeInteraction decodes what the adapter reads of an interaction
// payload into in, exactly as json.Unmarshal(data, in) would. A press's
// payload (3 to 4 KB, most of it the message the button is on) is walked
// once, reading only the fields the adapter uses; encoding/json scans it
// twice (a validity check, then the decode) and was a tenth of a press's
// CPU. Anything out of the ordinary (an escaped or non-ASCII key, a field
// given twice or with an unexpected type, a modal's state, invalid JSON) is
// left to json.Unmarshal, so that its result and its errors stay the rule
// (FuzzDecodeInteraction).
func decodeInteraction(data []byte, in *interaction) error {
	w := walker{b: data}
	if w.interaction(in) {
		return nil
	}
	*in = interaction{}
	return json.Unmarshal(data, in)
}

// walker reads JSON from b at i. Each method returns false for anything
// it does not read exactly as encoding/json does; the caller then falls
// back to encoding/json.
type walker struct {
	b     []byte
	i     int
	depth int
}

// maxWalkDepth bounds nesting; deeper documents go to encoding/json.
const maxWalkDepth = 200

func (w *walker) ws() {
	// Slack's payloads have no whitespace: one comparison to see none.
	for w.i < len(w.b) && w.b[w.i] <= ' ' {
		switch w.b[w.i] {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return
		}
	}
}

// peek returns the next byte after whitespace, 0 at the end.
func (w *walker) peek() byte {
	w.ws()
	if w.i >= len(w.b) {
		return 0
	}
	return w.b[w.i]
}

// interaction reads the whole document: an object, then nothing.
func (w *walker) interaction(in *interaction) bool {
	var seen uint32
	ok := w.object(func(key []byte) bool {
		f := topField(key)
		if f == fieldNone {
			return w.skip()
		}
		if seen&(1<<f) != 0 {
			return false // given twice: encoding/json merges, left to it
		}
		seen |= 1 << f
		switch f {
		case fieldType:
			return w.str(&in.Type)
		case fieldTriggerID:
			return w.str(&in.TriggerID)
		case fieldResponseURL:
			return w.str(&in.ResponseURL)
		case fieldUser:
			return w.fields(func(k []byte) bool {
				switch {
				case keyIs(k, "id"):
					return w.str(&in.User.ID)
				case keyIs(k, "name"):
					return w.str(&in.User.Name)
				case keyIs(k, "username"):
					return w.str(&in.User.Username)
				}
				return w.skip()
			})
		case fieldChannel:
			return w.fields(func(k []byte) bool {
				if keyIs(k, "id") {
					return w.str(&in.Channel.ID)
				}
				return w.skip()
			})
		case fieldContainer:
			return w.fields(func(k []byte) bool {
				switch {
				case keyIs(k, "channel_id"):
					return w.str(&in.Container.ChannelID)
				case keyIs(k, "thread_ts"):
					return w.str(&in.Container.ThreadTs)
				}
				return w.skip()
			})
		case fieldMessage:
			return w.fields(func(k []byte) bool {
				if keyIs(k, "thread_ts") {
					return w.str(&in.Message.ThreadTs)
				}
				return w.skip()
			})
		case fieldActions:
			return w.actions(&in.Actions)
		case fieldView:
			return w.fields(func(k []byte) bool {
				switch {
				case keyIs(k, "callback_id"):
					return w.str(&in.View.CallbackID)
				case keyIs(k, "private_metadata"):
					return w.str(&in.View.PrivateMetadata)
				case keyIs(k, "state"):
					return w.null() // a modal's inputs: left to encoding/json
				}
				return w.skip()
			})
		}
		return false
	})
	if !ok {
		return false
	}
	w.ws()
	return w.i == len(w.b)
}

// The top-level fields of interaction, as bits of a set.
const (
	fieldNone = iota
	fieldType
	fieldTriggerID
	fieldResponseURL
	fieldUser
	fieldChannel
	fieldContainer
	fieldMessage
	fieldActions
	fieldView
)

func topField(k []byte) int {
	switch {
	case keyIs(k, "type"):
		return fieldType
	case keyIs(k, "trigger_id"):
		return fieldTriggerID
	case keyIs(k, "response_url"):
		return fieldResponseURL
	case keyIs(k, "user"):
		return fieldUser
	case keyIs(k, "channel"):
		return fieldChannel
	case keyIs(k, "container"):
		return fieldContainer
	case keyIs(k, "message"):
		return fieldMessage
	case keyIs(k, "actions"):
		return fieldActions
	case keyIs(k, "view"):
		return fieldView
	}
	return fieldNone
}

// keyIs matches a key as encoding/json matches a field name: exactly, else
// ignoring ASCII case (object only passes keys that are plain ASCII).
func keyIs(k []byte, name string) bool {
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

// object reads an object, calling member with each key (plain ASCII, no
// escapes) positioned at its value.
func (w *walker) object(member func(key []byte) bool) bool {
	if w.peek() != '{' {
		return false
	}
	w.depth++
	if w.depth > maxWalkDepth {
		return false
	}
	w.i++
	if w.peek() == '}' {
		w.i++
		w.depth--
		return true
	}
	for {
		if w.peek() != '"' {
			return false
		}
		start := w.i + 1
		end := start
		for end < len(w.b) && plainKey[w.b[end]] {
			end++
		}
		if end >= len(w.b) || w.b[end] != '"' {
			return false // unusual keys are left to encoding/json
		}
		w.i = end + 1
		if w.peek() != ':' {
			return false
		}
		w.i++
		w.ws()
		if !member(w.b[start:end]) {
			return false
		}
		switch w.peek() {
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

// plainKey holds the bytes of a key object reads itself: printable ASCII
// but the quote and the backslash.
var plainKey = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plainString holds the bytes a string holds as they are: all but control
// characters, the quote and the backslash.
var plainString = func() (t [256]bool) {
	for c := 0x20; c < 0x100; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// fields reads a nested struct: an object, or null (which leaves it as it is).
func (w *walker) fields(member func(key []byte) bool) bool {
	if w.null() {
		return true
	}
	// A key given twice in a nested struct: the last wins, as in
	// encoding/json (every nested field is a string).
	return w.object(member)
}

// null reads a null if there is one.
func (w *walker) null() bool { return w.peek() == 'n' && w.lit("null") }

func (w *walker) lit(s string) bool {
	if len(w.b)-w.i < len(s) || string(w.b[w.i:w.i+len(s)]) != s {
		return false
	}
	w.i += len(s)
	return true
}

// str reads a string into *dst; null leaves *dst as it is.
func (w *walker) str(dst *string) bool {
	if w.null() {
		return true
	}
	if w.peek() != '"' {
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

// actions reads the actions array: null leaves it, each element an
// object (or null, a zero action).
func (w *walker) actions(dst *[]action) bool {
	if w.null() {
		return true
	}
	if w.peek() != '[' {
		return false
	}
	w.i++
	out := make([]action, 0, 1)
	if w.peek() == ']' {
		w.i++
		*dst = out
		return true
	}
	for {
		out = append(out, action{})
		a := &out[len(out)-1] // read in place: a variable would go to the heap
		if !w.null() {
			ok := w.object(func(k []byte) bool {
				switch {
				case keyIs(k, "action_id"):
					return w.str(&a.ActionID)
				case keyIs(k, "value"):
					return w.str(&a.Value)
				case keyIs(k, "action_ts"):
					return w.str(&a.ActionTs)
				}
				return w.skip()
			})
			if !ok {
				return false
			}
		}
		switch w.peek() {
		case ',':
			w.i++
		case ']':
			w.i++
			*dst = out
			return true
		default:
			return false
		}
	}
}

// skip reads any value without keeping it, checking it as encoding/json's
// scanner does.
func (w *walker) skip() bool {
	switch c := w.peek(); {
	case c == '"':
		return w.skipString()
	case c == '{':
		return w.skipObject()
	case c == '[':
		w.depth++
		if w.depth > maxWalkDepth {
			return false
		}
		w.i++
		if w.peek() == ']' {
			w.i++
			w.depth--
			return true
		}
		for {
			if !w.skip() {
				return false
			}
			switch w.peek() {
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

// skipObject reads an object without keeping it: any keys.
func (w *walker) skipObject() bool {
	w.depth++
	if w.depth > maxWalkDepth {
		return false
	}
	w.i++
	if w.peek() == '}' {
		w.i++
		w.depth--
		return true
	}
	for {
		if w.peek() != '"' || !w.skipString() || w.peek() != ':' {
			return false
		}
		w.i++
		if !w.skip() {
			return false
		}
		switch w.peek() {
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

// skipString reads a string without decoding it.
func (w *walker) skipString() bool {
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
func (w *walker) number() bool {
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
