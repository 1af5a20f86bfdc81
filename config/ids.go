package config

import (
	"fmt"
	"strings"
)

// IDKind says what a platform id refers to.
type IDKind int

// The kinds of platform id.
const (
	KindUser          IDKind = iota + 1 // slack:U..., slack:W...
	KindGroup                           // slack:S... (Slack user group)
	KindChannel                         // slack:C..., slack:G..., slack:D...
	KindRole                            // discord:&<snowflake>
	KindUserOrChannel                   // discord:<snowflake>: a user or a channel, by context
	KindConsole                         // console:<name>: a console user or channel, by context
)

// String names the kind for messages.
func (k IDKind) String() string {
	switch k {
	case KindUser:
		return "user"
	case KindGroup:
		return "user group"
	case KindChannel:
		return "channel"
	case KindRole:
		return "role"
	case KindUserOrChannel:
		return "user or channel"
	case KindConsole:
		return "console id"
	}
	return "unknown"
}

// ID is a parsed platform id such as "slack:U012AB3CD" or "discord:&112233".
type ID struct {
	// Platform is "slack", "discord" or "console".
	Platform string
	// Value is the id without platform prefix or the "&" of a Discord role.
	Value string
	// Kind is what the id refers to.
	Kind IDKind
}

// String renders the id in its configuration form.
func (id ID) String() string {
	if id.Kind == KindRole {
		return id.Platform + ":&" + id.Value
	}
	return id.Platform + ":" + id.Value
}

// IsID reports whether s is written as a platform id ("platform:value") rather than a person's name.
func IsID(s string) bool { return strings.Contains(s, ":") }

// ParseID parses a platform id: slack:U/W (user), slack:S (user group), slack:C/G/D (channel),
// discord:<snowflake>, discord:&<snowflake> (role) or console:<name>.
func ParseID(s string) (ID, error) {
	platform, value, ok := strings.Cut(s, ":")
	if !ok {
		return ID{}, fmt.Errorf("%s is not a platform id (slack:..., discord:... or console:...)", quoteSafe(s))
	}
	switch platform {
	case "slack":
		// The type letter and at least one more: real ids are longer
		// (U012AB3CD), but tests and fakes use short ones (U1, C1).
		if len(value) < 2 || !isUpperAlnum(value) {
			return ID{}, fmt.Errorf("%s is not a Slack id (slack:U..., slack:W..., slack:S..., slack:C..., slack:G..., slack:D...)", quoteSafe(s))
		}
		kind := IDKind(0)
		switch value[0] {
		case 'U', 'W':
			kind = KindUser
		case 'S':
			kind = KindGroup
		case 'C', 'G', 'D':
			kind = KindChannel
		default:
			return ID{}, fmt.Errorf("%s is not a Slack id (slack:U..., slack:W..., slack:S..., slack:C..., slack:G..., slack:D...)", quoteSafe(s))
		}
		return ID{Platform: platform, Value: value, Kind: kind}, nil
	case "discord":
		kind := KindUserOrChannel
		if strings.HasPrefix(value, "&") {
			kind, value = KindRole, value[1:]
		}
		if !isSnowflake(value) {
			return ID{}, fmt.Errorf("%s is not a Discord id (discord:<snowflake> or discord:&<role snowflake>)", quoteSafe(s))
		}
		return ID{Platform: platform, Value: value, Kind: kind}, nil
	case "console":
		if value == "" || strings.ContainsFunc(value, isSpace) {
			return ID{}, fmt.Errorf("%s is not a console id (console:<name>, one word)", quoteSafe(s))
		}
		return ID{Platform: platform, Value: value, Kind: KindConsole}, nil
	}
	return ID{}, fmt.Errorf("%s has an unknown platform (use slack:, discord: or console:)", quoteSafe(s))
}

func isUpperAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func isSnowflake(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }
