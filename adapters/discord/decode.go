package discord

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/upgradebot/upgradebot/adapters/inbound/jsonwalk"
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
	w := walker{Walker: jsonwalk.New(body)}
	i := &discordgo.Interaction{}
	var data jsonwalk.Mark // where the data stands, at depth 1
	var dataRaw []byte
	hasData := false
	ok := w.Fields(topNames, func(f int) bool {
		var ok bool
		switch f {
		case topID:
			ok = w.str(&i.ID)
		case topAppID:
			ok = w.str(&i.AppID)
		case topType:
			var n uint64
			n, ok = w.Uint(8)
			i.Type = discordgo.InteractionType(n)
		case topData:
			data, hasData = w.Mark(), true
			ok = w.Skip()
			dataRaw = w.Since(data)
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
			n, ok = w.Int(strconv.IntSize)
			i.Version = int(n)
		}
		return ok
	})
	if !ok || !w.End() {
		return nil, false
	}
	// The data is read once its type is known: as Discord sends it, the
	// type comes first, but JSON does not say so.
	w.Reset(data)
	switch i.Type {
	case discordgo.InteractionApplicationCommand, discordgo.InteractionApplicationCommandAutocomplete:
		d := &discordgo.ApplicationCommandInteractionData{}
		if hasData && !w.Null() && !w.Fields(cmdNames, func(f int) bool {
			var ok bool
			switch f {
			case cmdID:
				ok = w.str(&d.ID)
			case cmdName:
				ok = w.str(&d.Name)
			case cmdType:
				var n uint64
				n, ok = w.Uint(8)
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
		if hasData && !w.Null() && !w.Fields(componentNames, func(f int) bool {
			var ok bool
			switch f {
			case componentCustomID:
				ok = w.str(&d.CustomID)
			case componentType:
				var n uint64
				n, ok = w.Uint(strconv.IntSize)
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
		raw := []byte("null")
		if hasData {
			raw = dataRaw
		}
		var d discordgo.ModalSubmitInteractionData
		if json.Unmarshal(raw, &d) != nil {
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
	if w.Null() {
		return nil, true
	}
	m := &discordgo.Member{}
	return m, w.Fields(memberNames, func(f int) bool {
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
	if w.Null() {
		return nil, true
	}
	u := &discordgo.User{}
	return u, w.Fields(userNames, func(f int) bool {
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
	if w.Null() {
		return nil, true
	}
	start := w.Mark()
	if !w.Skip() {
		return nil, false
	}
	r := &discordgo.ApplicationCommandInteractionDataResolved{}
	return r, json.Unmarshal(w.Since(start), r) == nil
}

// options reads a command's options: null, or an array of options (or
// nulls).
func (w *walker) options() ([]*discordgo.ApplicationCommandInteractionDataOption, bool) {
	if w.Null() {
		return nil, true
	}
	out := make([]*discordgo.ApplicationCommandInteractionDataOption, 0, 4) // a subcommand's options, mostly
	ok := w.Array(func() bool {
		if w.Null() {
			out = append(out, nil)
			return true
		}
		o := &discordgo.ApplicationCommandInteractionDataOption{}
		out = append(out, o)
		return w.Fields(optionNames, func(f int) bool {
			var ok bool
			switch f {
			case optionName:
				ok = w.str(&o.Name)
			case optionType:
				var n uint64
				n, ok = w.Uint(8)
				o.Type = discordgo.ApplicationCommandOptionType(n)
			case optionValue:
				o.Value, ok = w.Any()
			case optionOptions:
				o.Options, ok = w.options()
			case optionFocused:
				o.Focused, ok = w.Bool()
			}
			return ok
		})
	})
	return out, ok
}

// walker reads an interaction with jsonwalk's primitives. Each method
// returns false for anything it does not read exactly as encoding/json
// does; the caller then falls back to encoding/json.
type walker struct {
	jsonwalk.Walker
	// The plain strings read, copied out together by finish.
	pend  [maxWalkStrings]pendingString
	npend int
}

// pendingString is a plain string of the document, at start:end, to be
// set in *dst.
type pendingString struct {
	dst        *string
	start, end int
}

// maxWalkStrings is how many strings finish copies out together (a press
// has about a dozen); the others are copied out one by one.
const maxWalkStrings = 24

// finish sets the strings read: all of them copied out of the document in
// one allocation (the handlers keep some of them, an interaction's ids,
// token and names; never the payload they were read from).
func (w *walker) finish() {
	b := w.Bytes()
	n := 0
	for _, p := range w.pend[:w.npend] {
		n += p.end - p.start
	}
	var sb strings.Builder
	sb.Grow(n)
	for _, p := range w.pend[:w.npend] {
		sb.Write(b[p.start:p.end])
	}
	all, off := sb.String(), 0
	for _, p := range w.pend[:w.npend] {
		*p.dst = all[off : off+p.end-p.start]
		off += p.end - p.start
	}
	w.npend = 0
}

// str reads a string into *dst (set by finish if it is plain, as most
// are); null leaves it.
func (w *walker) str(dst *string) bool {
	if w.Null() {
		return true
	}
	start, end, ok := w.PlainString() // where Null left it: past any whitespace
	if !ok {
		// Escapes, non-ASCII or invalid: read on its own.
		return w.Str(dst)
	}
	switch {
	case end == start:
		// "" leaves *dst as it is: empty.
	case w.npend < len(w.pend):
		w.pend[w.npend] = pendingString{dst, start, end}
		w.npend++
	default:
		*dst = string(w.Bytes()[start:end])
	}
	return true
}

// strs reads an array of strings (or nulls, read as "") into *dst; null
// leaves it. The array is counted first, so that its strings stay where
// finish sets them.
func (w *walker) strs(dst *[]string) bool {
	if w.Null() {
		return true
	}
	start, n := w.Mark(), 0
	if !w.Array(func() bool { n++; return w.Skip() }) {
		return false
	}
	end := w.Mark()
	out := make([]string, n)
	w.Reset(start)
	n = 0
	if !w.Array(func() bool { ok := w.str(&out[n]); n++; return ok }) || w.Mark() != end {
		return false
	}
	*dst = out
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
