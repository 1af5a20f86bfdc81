package discord

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/upgradebot/upgradebot/commands"
)

// Typed reads a command written with Discord's options, as the hints and
// help pages to a person on Discord write it: `show id:UPG-7`,
// `rollback id:7 reason:"vendor delay"` (what follows /upgrade). The
// options are those of the registered command (Definition), in any order,
// and the command is built as an interaction carrying them is (build), so
// a line typed in the console means what the same options sent from
// Discord mean.
//
// A typed id may come first, the options after it (`cancel UPG-2
// scope:series`, `cancel UPG-1, reason:"vendor delay"`): it is read as
// id:<the id>; other words before the first option are refused.
//
// ok is false when text is not in that form (no subcommand Discord has,
// or no name:value of its options after it): it is the typed grammar's, for
// commands.Parse. A value runs to the next name:value of an option
// Discord has, or is quoted ("vendor delay", the quotes taken off). Names
// the subcommand does not have, a value a boolean, integer or choice
// option cannot take, and an option given twice are refused, with what is
// valid, as Discord's client refuses them.
func Typed(text string, env commands.Env) (cmd commands.Command, ok bool, err error) {
	name, rest, _ := strings.Cut(strings.TrimSpace(text), " ")
	sub := subcommandDef(strings.ToLower(name))
	rest = strings.TrimSpace(rest)
	if sub == nil || rest == "" {
		return nil, false, nil
	}
	if _, after, isOption := optionAt(rest); !isOption || strings.HasPrefix(after, "//") {
		// A URL is the typed grammar's (link 7 https://…), not an option.
		withID, ok, err := idThenOptions(sub, rest)
		if !ok || err != nil {
			return nil, ok, err
		}
		rest = withID
	}
	o, err := typedOptions(sub, rest)
	if err != nil {
		return nil, true, err
	}
	cmd, err = build(sub.Name, o, env)
	return cmd, true, err
}

// idThenOptions reads a typed id followed by options ("UPG-2
// scope:series", "UPG-1, reason:vendor delay") as id:<the id> and the
// options, when sub has an id option and a later word is one of sub's
// options: left to the text grammar, the options would be read as words
// (the reason "scope:series"). ok is false when no later word is one of
// sub's options (the grammar's line); words between the id and the first
// option mix the two forms and are refused.
func idThenOptions(sub *discordgo.ApplicationCommandOption, rest string) (withID string, ok bool, err error) {
	if optionDef(sub, optID) == nil {
		return "", false, nil
	}
	words := strings.Fields(rest)
	first := -1
	for i, w := range words[1:] {
		if name, after, isOption := optionAt(w); isOption && !strings.HasPrefix(after, "//") && optionDef(sub, name) != nil {
			first = i + 1
			break
		}
	}
	if first < 0 {
		return "", false, nil
	}
	if first > 1 {
		return "", true, &commands.Error{
			Msg: fmt.Sprintf("%q mixes words with options; write either options only, as /%s %s id:%s %s, or words only, with no name:value",
				strings.Join(words[1:first], " "), commandName, sub.Name, words[0], strings.Join(words[first:], " ")),
			Usage: commands.Usage(sub.Name),
		}
	}
	_, options, _ := strings.Cut(strings.TrimLeft(rest, " \t"), words[0])
	return optID + ":" + words[0] + " " + strings.TrimLeft(options, " \t"), true, nil
}

// typedOptions splits rest ("id:7 reason:vendor delay") into sub's options.
func typedOptions(sub *discordgo.ApplicationCommandOption, rest string) (options, error) {
	refuse := func(format string, args ...any) error {
		return &commands.Error{Msg: fmt.Sprintf(format, args...), Usage: commands.Usage(sub.Name)}
	}
	o := options{}
	for rest != "" {
		name, after, _ := optionAt(rest)
		def := optionDef(sub, name)
		if def == nil {
			return nil, refuse("unknown option %q for /%s %s; valid options: %s", name, commandName, sub.Name, subOptionNames(sub))
		}
		if _, twice := o[def.Name]; twice {
			return nil, refuse("option %q is given twice", def.Name)
		}
		var value string
		value, rest = typedValue(after)
		v, err := typedValueOf(def, value)
		if err != nil {
			return nil, refuse("%v", err)
		}
		o[def.Name] = &discordgo.ApplicationCommandInteractionDataOption{Name: def.Name, Type: def.Type, Value: v}
	}
	return o, nil
}

// optionAt reports whether s starts with an option's name and its colon
// ("reason:…"), giving the name (lower-cased) and what follows the colon.
func optionAt(s string) (name, after string, ok bool) {
	i := strings.IndexByte(s, ':')
	if i <= 0 {
		return "", "", false
	}
	for _, r := range s[:i] {
		if r > unicode.MaxASCII || !unicode.IsLetter(r) {
			return "", "", false
		}
	}
	return strings.ToLower(s[:i]), s[i+1:], true
}

// typedValue is the value at the start of s and what follows it: a quoted
// value ends at its closing quote when an option or the end follows; any
// other runs to the next word that is an option Discord has ("note:",
// "when:"), so a value may hold spaces and colons (when:tomorrow 02:00,
// repo:https://github.com/acme/payments/releases/tag/v2).
func typedValue(after string) (value, rest string) {
	s := strings.TrimLeft(after, " \t")
	if s == "" || (len(s) < len(after) && startsOption(s)) {
		return "", s // given empty: "anyway: id:7"
	}
	if first, n := utf8.DecodeRuneInString(s); isQuote(first) {
		if end := strings.IndexFunc(s[n:], isQuote); end >= 0 {
			_, m := utf8.DecodeRuneInString(s[n+end:])
			after := s[n+end+m:]
			rest := strings.TrimLeft(after, " \t")
			if rest == "" || (len(rest) < len(after) && startsOption(rest)) {
				return s[n : n+end], rest
			}
		}
	}
	// Unquoted, or quotes that are part of the value ("foo" broke "bar").
	for i := 0; i < len(s); i++ {
		if (s[i] == ' ' || s[i] == '\t') && startsOption(strings.TrimLeft(s[i:], " \t")) {
			return strings.TrimSpace(s[:i]), strings.TrimLeft(s[i:], " \t")
		}
	}
	return strings.TrimSpace(s), ""
}

// startsOption reports whether s starts with the name of an option of any
// subcommand and its colon: where a value ends. One of another subcommand
// ends it too, to be refused by name rather than read as words.
func startsOption(s string) bool {
	name, _, ok := optionAt(s)
	return ok && allOptionNames()[name]
}

// allOptionNames are the option names of every subcommand.
func allOptionNames() map[string]bool {
	names := map[string]bool{}
	for _, sub := range definition().Options {
		for _, o := range sub.Options {
			names[o.Name] = true
		}
	}
	return names
}

// optionDef is sub's option named name, nil for none.
func optionDef(sub *discordgo.ApplicationCommandOption, name string) *discordgo.ApplicationCommandOption {
	for _, o := range sub.Options {
		if o.Name == name {
			return o
		}
	}
	return nil
}

// subOptionNames lists sub's options as its usage line names them.
func subOptionNames(sub *discordgo.ApplicationCommandOption) string {
	var names []string
	for _, o := range sub.Options {
		names = append(names, o.Name)
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// typedValueOf is value as Discord sends it for def: a string as typed, a
// boolean or a number (JSON's, a float64) read from it, a choice only one
// of def's.
func typedValueOf(def *discordgo.ApplicationCommandOption, value string) (any, error) {
	if len(def.Choices) > 0 {
		var valid []string
		for _, c := range def.Choices {
			if s := fmt.Sprint(c.Value); strings.EqualFold(s, value) {
				return s, nil
			} else if !slices.Contains(valid, s) {
				valid = append(valid, s)
			}
		}
		return nil, fmt.Errorf("%q is not a choice of option %s; valid choices: %s", value, def.Name, strings.Join(valid, ", "))
	}
	switch def.Type {
	case discordgo.ApplicationCommandOptionBoolean:
		switch strings.ToLower(value) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not a value of option %s; valid values: true, false", value, def.Name)
	case discordgo.ApplicationCommandOptionInteger:
		n, err := strconv.Atoi(value)
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number, as option %s takes", value, def.Name)
		}
		return float64(n), nil
	}
	return value, nil
}
