package discord

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
)

// decodeInteraction decodes what the handlers read of an interaction into
// discordgo's type, its data typed as discordgo does (the gateway hands
// them the same), exactly as decodeInteractionJSON does. The payload (a
// press's is 2 to 3 KB, most of it the message the button is on) is walked
// once, reading only the fields the handlers use; encoding/json scans it
// twice (a validity check, then the decode) and then the data again, and
// was a press's largest cost after the signature. Anything out of the
// ordinary (an escaped or non-ASCII key, a field given twice or with an
// unexpected type, invalid JSON) is left to encoding/json, so that its
// result and its errors stay the rule (FuzzDecodeInteraction).
func decodeInteraction(body []byte) (*discordgo.Interaction, error) {
	if i, ok := walkInteraction(body); ok {
		return i, nil
	}
	return decodeInteractionJSON(body)
}

// The fields read of each object, by index (from 1) into its names.
const (
	topID = 1 + iota
	topAppID
	topType
	topData
	topGuildID
	topChannelID
	topMember
	topUser
	topLocale
	topToken
	topVersion
)

var topNames = []string{"", topID: "id", topAppID: "application_id", topType: "type", topData: "data", topGuildID: "guild_id",
	topChannelID: "channel_id", topMember: "member", topUser: "user", topLocale: "locale", topToken: "token", topVersion: "version"}

const (
	memberUser = 1 + iota
	memberNick
	memberRoles
)

var memberNames = []string{"", memberUser: "user", memberNick: "nick", memberRoles: "roles"}

const (
	userID = 1 + iota
	userUsername
	userGlobalName
)

var userNames = []string{"", userID: "id", userUsername: "username", userGlobalName: "global_name"}

const (
	componentCustomID = 1 + iota
	componentType
	componentValues
)

var componentNames = []string{"", componentCustomID: "custom_id", componentType: "component_type", componentValues: "values"}

const (
	cmdID = 1 + iota
	cmdName
	cmdType
	cmdResolved
	cmdOptions
	cmdTargetID
)

var cmdNames = []string{"", cmdID: "id", cmdName: "name", cmdType: "type", cmdResolved: "resolved",
	cmdOptions: "options", cmdTargetID: "target_id"}

const (
	optionName = 1 + iota
	optionType
	optionValue
	optionOptions
	optionFocused
)

var optionNames = []string{"", optionName: "name", optionType: "type", optionValue: "value", optionOptions: "options", optionFocused: "focused"}

// walkInteraction reads the whole document (an object, then nothing) as
// decodeInteractionJSON does, or returns false for anything it does not
// read exactly as that does. Every field starts zero and is read at most
// once (a field given twice is left to encoding/json), so a null, which
// encoding/json skips, reads as zero.
func walkInteraction(body []byte) (*discordgo.Interaction, bool) {
	w := walker{b: body}
	i := &discordgo.Interaction{}
	dataStart, dataEnd := -1, -1
	ok := w.fields(topNames, func(f int) bool {
		var ok bool
		switch f {
		case topID:
			ok = w.str(&i.ID)
		case topAppID:
			ok = w.str(&i.AppID)
		case topType:
			var n uint64
			n, ok = w.uint(8)
			i.Type = discordgo.InteractionType(n)
		case topData:
			dataStart = w.i
			ok = w.skip()
			dataEnd = w.i
		case topGuildID:
			ok = w.str(&i.GuildID)
		case topChannelID:
			ok = w.str(&i.ChannelID)
		case topMember:
			i.Member, ok = w.member()
		case topUser:
			i.User, ok = w.user()
		case topLocale:
			ok = w.str((*string)(&i.Locale))
		case topToken:
			ok = w.str(&i.Token)
		case topVersion:
			var n int64
			n, ok = w.int(strconv.IntSize)
			i.Version = int(n)
		}
		return ok
	})
	if !ok || !w.end() {
		return nil, false
	}
	// The data is read once its type is known: as Discord sends it, the
	// type comes first, but JSON does not say so.
	w.i, w.depth = dataStart, 1
	switch i.Type {
	case discordgo.InteractionApplicationCommand, discordgo.InteractionApplicationCommandAutocomplete:
		d := &discordgo.ApplicationCommandInteractionData{}
		if dataStart >= 0 && !w.null() && !w.fields(cmdNames, func(f int) bool {
			var ok bool
			switch f {
			case cmdID:
				ok = w.str(&d.ID)
			case cmdName:
				ok = w.str(&d.Name)
			case cmdType:
				var n uint64
				n, ok = w.uint(8)
				d.CommandType = discordgo.ApplicationCommandType(n)
			case cmdResolved:
				d.Resolved, ok = w.resolved()
			case cmdOptions:
				d.Options, ok = w.options()
			case cmdTargetID:
				ok = w.str(&d.TargetID)
			}
			return ok
		}) {
			return nil, false
		}
		w.finish()
		i.Data = *d
	case discordgo.InteractionMessageComponent:
		d := &discordgo.MessageComponentInteractionData{}
		if dataStart >= 0 && !w.null() && !w.fields(componentNames, func(f int) bool {
			var ok bool
			switch f {
			case componentCustomID:
				ok = w.str(&d.CustomID)
			case componentType:
				var n uint64
				n, ok = w.uint(strconv.IntSize)
				d.ComponentType = discordgo.ComponentType(n)
			case componentValues:
				ok = w.strs(&d.Values)
			}
			return ok
		}) {
			return nil, false
		}
		w.finish()
		i.Data = *d
	case discordgo.InteractionModalSubmit:
		// A modal's components: discordgo's own decoding.
		data := []byte("null")
		if dataStart >= 0 {
			data = body[dataStart:dataEnd]
		}
		var d discordgo.ModalSubmitInteractionData
		if json.Unmarshal(data, &d) != nil {
			return nil, false
		}
		w.finish()
		i.Data = d
	default:
		w.finish()
	}
	if i.Member != nil {
		i.Member.GuildID = i.GuildID
	}
	return i, true
}

// member reads a member: null, or an object.
func (w *walker) member() (*discordgo.Member, bool) {
	if w.null() {
		return nil, true
	}
	m := &discordgo.Member{}
	return m, w.fields(memberNames, func(f int) bool {
		var ok bool
		switch f {
		case memberUser:
			m.User, ok = w.user()
		case memberNick:
			ok = w.str(&m.Nick)
		case memberRoles:
			ok = w.strs(&m.Roles)
		}
		return ok
	})
}

// user reads a user: null, or an object.
func (w *walker) user() (*discordgo.User, bool) {
	if w.null() {
		return nil, true
	}
	u := &discordgo.User{}
	return u, w.fields(userNames, func(f int) bool {
		var ok bool
		switch f {
		case userID:
			ok = w.str(&u.ID)
		case userUsername:
			ok = w.str(&u.Username)
		case userGlobalName:
			ok = w.str(&u.GlobalName)
		}
		return ok
	})
}

// resolved reads a command's resolved users, members, roles, channels and
// messages with encoding/json: the handlers do not read them, and the
// bot's options never resolve any.
func (w *walker) resolved() (*discordgo.ApplicationCommandInteractionDataResolved, bool) {
	if w.null() {
		return nil, true
	}
	start := w.i
	if !w.skip() {
		return nil, false
	}
	r := &discordgo.ApplicationCommandInteractionDataResolved{}
	return r, json.Unmarshal(w.b[start:w.i], r) == nil
}

// options reads a command's options: null, or an array of options (or
// nulls).
func (w *walker) options() ([]*discordgo.ApplicationCommandInteractionDataOption, bool) {
	if w.null() {
		return nil, true
	}
	out := make([]*discordgo.ApplicationCommandInteractionDataOption, 0, 4) // a subcommand's options, mostly
	ok := w.array(func() bool {
		if w.null() {
			out = append(out, nil)
			return true
		}
		o := &discordgo.ApplicationCommandInteractionDataOption{}
		out = append(out, o)
		return w.fields(optionNames, func(f int) bool {
			var ok bool
			switch f {
			case optionName:
				ok = w.str(&o.Name)
			case optionType:
				var n uint64
				n, ok = w.uint(8)
				o.Type = discordgo.ApplicationCommandOptionType(n)
			case optionValue:
				o.Value, ok = w.any()
			case optionOptions:
				o.Options, ok = w.options()
			case optionFocused:
				o.Focused, ok = w.bool()
			}
			return ok
		})
	})
	return out, ok
}

// walker reads JSON from b at i. Each method returns false for anything
// it does not read exactly as encoding/json does; the caller then falls
// back to encoding/json. (The Slack adapter walks its payloads the same way.)
type walker struct {
	b     []byte
	i     int
	depth int
	// The plain strings read, copied out together by finish.
	pend  [maxWalkStrings]pendingString
	npend int
}

// pendingString is a plain string of b, at start:end, to be set in *dst.
type pendingString struct {
	dst        *string
	start, end int
}

// maxWalkStrings is how many strings finish copies out together (a press
// has about a dozen); the others are copied out one by one.
const maxWalkStrings = 24

// finish sets the strings read: all of them copied out of b in one
// allocation (the handlers keep some of them, an interaction's ids, token
// and names; never the payload they were read from).
func (w *walker) finish() {
	n := 0
	for _, p := range w.pend[:w.npend] {
		n += p.end - p.start
	}
	var sb strings.Builder
	sb.Grow(n)
	for _, p := range w.pend[:w.npend] {
		sb.Write(w.b[p.start:p.end])
	}
	all, off := sb.String(), 0
	for _, p := range w.pend[:w.npend] {
		*p.dst = all[off : off+p.end-p.start]
		off += p.end - p.start
	}
	w.npend = 0
}

// maxWalkDepth bounds nesting; deeper documents go to encoding/json.
const maxWalkDepth = 200

func (w *walker) ws() {
	if w.i < len(w.b) && w.b[w.i] > ' ' {
		return // the common case: Discord sends no whitespace
	}
	for w.i < len(w.b) {
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

// end reports whether nothing but whitespace is left.
func (w *walker) end() bool {
	w.ws()
	return w.i == len(w.b)
}

// fieldOf is the index of the name a key matches as encoding/json matches
// a field name (exactly, else ignoring ASCII case: object only passes keys
// that are plain ASCII), 0 for none.
func fieldOf(k []byte, names []string) int {
	for n := 1; n < len(names); n++ {
		if keyIs(k, names[n]) {
			return n
		}
	}
	return 0
}

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

// fields reads an object, calling field positioned at the value of each
// key that is one of names (by index), and skipping the others. A field
// given twice is left to encoding/json (which merges objects and reuses
// slices).
func (w *walker) fields(names []string, field func(f int) bool) bool {
	var seen uint64
	return w.object(func(key []byte) bool {
		f := fieldOf(key, names)
		if f == 0 {
			return w.skip()
		}
		if seen&(1<<f) != 0 {
			return false
		}
		seen |= 1 << f
		return field(f)
	})
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
		for end < len(w.b) && plainASCII[w.b[end]] {
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

// array reads an array, calling elem positioned at each element.
func (w *walker) array(elem func() bool) bool {
	if w.peek() != '[' {
		return false
	}
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
		if !elem() {
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

// str reads a string into *dst (set by finish if it is plain, as most
// are); null leaves it.
func (w *walker) str(dst *string) bool {
	if w.null() {
		return true
	}
	if w.peek() != '"' {
		return false
	}
	start := w.i
	j := w.i + 1
	for j < len(w.b) && plainASCII[w.b[j]] {
		j++
	}
	if j < len(w.b) && w.b[j] == '"' {
		w.i = j + 1
		switch {
		case j == start+1:
			// "" leaves *dst as it is: empty.
		case w.npend < len(w.pend):
			w.pend[w.npend] = pendingString{dst, start + 1, j}
			w.npend++
		default:
			*dst = string(w.b[start+1 : j])
		}
		return true
	}
	// Escapes, non-ASCII or invalid: read on its own.
	w.i = start
	return w.strNow(dst)
}

// strNow reads a string into *dst now; null leaves it.
func (w *walker) strNow(dst *string) bool {
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

// strs reads an array of strings (or nulls, read as "") into *dst; null
// leaves it. The array is counted first, so that its strings stay where
// finish sets them.
func (w *walker) strs(dst *[]string) bool {
	if w.null() {
		return true
	}
	start, n := w.i, 0
	if !w.array(func() bool { n++; return w.skip() }) {
		return false
	}
	end := w.i
	out := make([]string, n)
	w.i, n = start, 0
	if !w.array(func() bool { ok := w.str(&out[n]); n++; return ok }) || w.i != end {
		return false
	}
	*dst = out
	return true
}

// uint reads a number into an unsigned integer of the given size, as
// encoding/json does: digits only, in range; null reads as 0.
func (w *walker) uint(bits int) (uint64, bool) {
	if w.null() {
		return 0, true
	}
	start := w.i
	if !w.number() {
		return 0, false
	}
	n, err := strconv.ParseUint(string(w.b[start:w.i]), 10, bits)
	return n, err == nil
}

// int reads a number into a signed integer of the given size, as
// encoding/json does; null reads as 0.
func (w *walker) int(bits int) (int64, bool) {
	if w.null() {
		return 0, true
	}
	start := w.i
	if !w.number() {
		return 0, false
	}
	n, err := strconv.ParseInt(string(w.b[start:w.i]), 10, bits)
	return n, err == nil
}

// bool reads true or false; null reads as false.
func (w *walker) bool() (bool, bool) {
	switch w.peek() {
	case 't':
		return true, w.lit("true")
	case 'f':
		return false, w.lit("false")
	case 'n':
		return false, w.lit("null")
	}
	return false, false
}

// any reads a value into an empty interface as encoding/json does: a
// string, a float64, a bool or nil, and objects and arrays by encoding/json
// itself.
func (w *walker) any() (any, bool) {
	switch c := w.peek(); {
	case c == '"':
		var s string
		ok := w.strNow(&s)
		return s, ok
	case c == 't' || c == 'f':
		return w.bool()
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
		if !w.skip() {
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

// skip reads any value without keeping it, checking it as encoding/json's
// scanner does.
func (w *walker) skip() bool {
	switch c := w.peek(); {
	case c == '"':
		return w.skipString()
	case c == '{':
		// Keys of objects skipped are only checked: any string will do.
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

// wireInteraction is what the adapter reads of an interaction Discord
// posts: only the fields it uses. (discordgo's Interaction decodes every
// field, the message a button is on with all its embeds and components
// included, and the whole payload twice: the largest cost of a press.)
type wireInteraction struct {
	ID        string                    `json:"id"`
	AppID     string                    `json:"application_id"`
	Type      discordgo.InteractionType `json:"type"`
	Data      json.RawMessage           `json:"data"`
	GuildID   string                    `json:"guild_id"`
	ChannelID string                    `json:"channel_id"`
	Member    *struct {
		User  *wireUser `json:"user"`
		Nick  string    `json:"nick"`
		Roles []string  `json:"roles"`
	} `json:"member"`
	User    *wireUser        `json:"user"`
	Locale  discordgo.Locale `json:"locale"`
	Token   string           `json:"token"`
	Version int              `json:"version"`
}

type wireUser struct {
	ID         string `json:"id"`
	Username   string `json:"username"`
	GlobalName string `json:"global_name"`
}

func (u *wireUser) user() *discordgo.User {
	if u == nil {
		return nil
	}
	return &discordgo.User{ID: u.ID, Username: u.Username, GlobalName: u.GlobalName}
}

// decodeInteractionJSON is decodeInteraction by encoding/json: the rule the
// walker follows, and its way out for anything unusual.
func decodeInteractionJSON(body []byte) (*discordgo.Interaction, error) {
	var wi wireInteraction
	if err := json.Unmarshal(body, &wi); err != nil {
		return nil, err
	}
	i := &discordgo.Interaction{ID: wi.ID, AppID: wi.AppID, Type: wi.Type, GuildID: wi.GuildID, ChannelID: wi.ChannelID,
		User: wi.User.user(), Locale: wi.Locale, Token: wi.Token, Version: wi.Version}
	if m := wi.Member; m != nil {
		i.Member = &discordgo.Member{GuildID: wi.GuildID, User: m.User.user(), Nick: m.Nick, Roles: m.Roles}
	}
	data := []byte(wi.Data)
	if len(data) == 0 {
		data = []byte("null")
	}
	switch wi.Type {
	case discordgo.InteractionApplicationCommand, discordgo.InteractionApplicationCommandAutocomplete:
		var d discordgo.ApplicationCommandInteractionData
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, err
		}
		i.Data = d
	case discordgo.InteractionMessageComponent:
		var d struct {
			CustomID      string                  `json:"custom_id"`
			ComponentType discordgo.ComponentType `json:"component_type"`
			Values        []string                `json:"values"`
		}
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, err
		}
		i.Data = discordgo.MessageComponentInteractionData{CustomID: d.CustomID, ComponentType: d.ComponentType, Values: d.Values}
	case discordgo.InteractionModalSubmit:
		var d discordgo.ModalSubmitInteractionData
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, err
		}
		i.Data = d
	}
	return i, nil
}
