package discord

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/bwmarrin/discordgo"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/commands"
)

// Help and usage the Discord way. The core's help pages and usage lines are
// in the typed grammar ("/upgrade show <id>"), which nobody can type on
// Discord: here they are written from the registered command itself
// (Definition), each subcommand with its options by name
// ("/upgrade show id:<id>"), optional ones in brackets.

// definition is the registered command, built once; read it, never change it.
var definition = sync.OnceValue(Definition)

// subcommandDef is the registered subcommand named name, nil for none.
func subcommandDef(name string) *discordgo.ApplicationCommandOption {
	for _, o := range definition().Options {
		if o.Type == discordgo.ApplicationCommandOptionSubCommand && o.Name == name {
			return o
		}
	}
	return nil
}

// subcommandNames are the registered subcommands, in help order.
func subcommandNames() []string {
	var names []string
	for _, o := range definition().Options {
		if o.Type == discordgo.ApplicationCommandOptionSubCommand {
			names = append(names, o.Name)
		}
	}
	return names
}

// usage writes how a subcommand is invoked: the command, the subcommand,
// then each option as name:<value>, optional ones in brackets, each value
// as the typed grammar's usage calls it (hole), so that usage lines,
// refusals and hints name it alike:
// "/upgrade complete id:<id> [note:<note...>]",
// "/upgrade start id:<id> [anyway:<reason...>]".
func (st style) usage(sub *discordgo.ApplicationCommandOption) string {
	words := []string{st.command, sub.Name}
	for _, o := range sub.Options {
		w := o.Name + ":" + hole(sub.Name, o)
		if !o.Required {
			w = "[" + w + "]"
		}
		words = append(words, w)
	}
	return strings.Join(words, " ")
}

// grammarNames are the options whose value the typed grammar's usage
// names otherwise than the option: "[at] <time>" is when, "<n>" count.
var grammarNames = map[string]string{optWhen: "time", optPlan: "url or text", optRepo: "owner/repo", optCount: "n", optTopic: "subcommand"}

// hole is what option o of subcommand sub shows without a value, taken
// from the typed grammar's usage of sub (commands.Usage, then its help
// page: schedule's other forms, the anyway its details tell of): "<reason...>" for rollback's reason, "<criterion...>" for
// ready's criterion but "<criterion>" for waive's, "<reason...>" for the
// value after the word anyway. A choice shows its values ("<add|list|remove>"),
// a boolean "<True|False>"; an option the grammar does not name, "<name>".
func hole(sub string, o *discordgo.ApplicationCommandOption) string {
	if o.Type == discordgo.ApplicationCommandOptionBoolean {
		return "<True|False>"
	}
	if len(o.Choices) > 0 && o.Name != optTopic {
		var vs []string
		for _, c := range o.Choices {
			vs = append(vs, fmt.Sprint(c.Value))
		}
		return "<" + strings.Join(vs, "|") + ">"
	}
	words := grammarWords(sub)
	names := []string{o.Name}
	if g, ok := grammarNames[o.Name]; ok {
		names = append(names, g)
	}
	// The value itself: <reason...>, [<note...>], <criterion>.
	for _, w := range words {
		for _, n := range names {
			if w == "<"+n+">" || w == "<"+n+"...>" {
				return w
			}
		}
	}
	// The value after its keyword: anyway <reason...>, region <name>,
	// every <weekday> <time>.
	for i, w := range words {
		if w != o.Name {
			continue
		}
		var vals []string
		for _, v := range words[i+1:] {
			if !strings.HasPrefix(v, "<") {
				break
			}
			vals = append(vals, v)
		}
		if len(vals) > 0 {
			return strings.Join(vals, " ")
		}
	}
	return "<" + o.Name + ">"
}

// grammarWords are the words and placeholders of the typed grammar's usage
// of a subcommand, brackets and bars taken out: "[anyway <reason...>]" is
// "anyway", "<reason...>".
var grammarWords = func() func(string) []string {
	var mu sync.Mutex
	cache := map[string][]string{}
	return func(sub string) []string {
		mu.Lock()
		defer mu.Unlock()
		if w, ok := cache[sub]; ok {
			return w
		}
		// The usage first, then its help page: schedule's other forms,
		// and the anyway <reason...> its details tell of.
		words := grammarToken.FindAllString(commands.Usage(sub)+"\n"+commands.HelpText(sub), -1)
		cache[sub] = words
		return words
	}
}()

// grammarToken is a placeholder ("<url or text...>") or a word of a usage.
var grammarToken = regexp.MustCompile(`<[^>]*>|[^\s<>\[\]|]+`)

// optionHole is option opt of subcommand sub as its usage line writes it,
// for a refusal that names it: "criterion:<criterion...>".
func optionHole(sub, opt string) string {
	if s := subcommandDef(sub); s != nil {
		for _, o := range s.Options {
			if o.Name == opt {
				return opt + ":" + hole(sub, o)
			}
		}
	}
	return opt + ":<" + opt + ">"
}

// example is one filled-in option of a help page's example.
type example struct{ name, value string }

// examples are the help pages' examples, in option syntax: the examples of
// the typed grammar's pages (commands.HelpText), as Discord users give them.
var examples = map[string][]example{
	"schedule":   {{optService, "payments"}, {optVersion, "v2.4.0"}, {optWhen, "tomorrow 02:00 Europe/Berlin"}, {optDuration, "2h"}, {optRegion, "eu-west"}, {optImpact, "card payments may fail"}},
	"list":       {{optService, "payments"}, {optAll, "True"}},
	"show":       {{optID, "UPG-7"}},
	"start":      {{optID, "UPG-7"}},
	"complete":   {{optID, "UPG-7"}, {optNote, "all green"}},
	"rollback":   {{optID, "UPG-7"}, {optReason, "error rate doubled"}},
	"cancel":     {{optID, "UPG-7"}, {optReason, "release blocked"}},
	"reschedule": {{optID, "UPG-7"}, {optWhen, "tue 14:00 Europe/Berlin"}, {optDuration, "90m"}},
	"extend":     {{optID, "UPG-7"}, {optDuration, "30m"}},
	"ack":        {{optID, "UPG-7"}},
	"pending":    {{optID, "UPG-7"}},
	"link":       {{optID, "UPG-7"}, {optRepo, "acme/payments"}, {optTag, "v2.4.0"}},
	"ready":      {{optID, "UPG-7"}, {optCriterion, "2"}},
	"waive":      {{optID, "UPG-7"}, {optCriterion, "canary green"}, {optReason, "no canary for this service"}},
	"unready":    {{optID, "UPG-7"}, {optCriterion, "backups"}, {optReason, "restore test failed"}},
	"plan":       {{optID, "UPG-7"}, {optPlan, "https://runbooks.example.com/payments/rollback"}},
	"debrief":    {{optID, "UPG-7"}, {optText, "migration took 40m, not 10; next time run it the day before"}},
	"log":        {{optID, "UPG-7"}},
	"stats":      {{optService, "payments"}},
	"slots":      {{optService, "payments"}, {optCount, "3"}},
	"freeze":     {{optAction, "add"}, {optName, "release-week"}, {optFrom, "mon 00:00"}, {optDuration, "5d"}, {optSvcs, "payments,ledger"}, {optReason, "quarterly release"}},
	"help":       {{optTopic, "schedule"}},
}

// exampleOf writes a subcommand's example: "/upgrade show id:UPG-7".
func (st style) exampleOf(name string) string {
	words := []string{st.command, name}
	for _, e := range examples[name] {
		words = append(words, e.name+":"+e.value)
	}
	return strings.Join(words, " ")
}

// native is m as Discord shows it: a help page written from the registered
// command, the words said for commands given as options (Span.Options) in
// place of the typed grammar's, and a refusal's usage lines in option
// syntax. Anything else is m itself (nothing is allocated for it: every
// rendering comes here).
func (st style) native(m bot.Message) bot.Message {
	if m.Help != nil {
		return st.helpPage(m.Help.Topic)
	}
	m.Lines = optionWords(m.Lines)
	if !hasUsage(m.Lines) {
		return m
	}
	out := m
	out.Lines = make([]bot.Text, 0, len(m.Lines))
	var seen []string
	for _, l := range m.Lines {
		i := usageSpan(l)
		if i < 0 {
			out.Lines = append(out.Lines, l)
			continue
		}
		verb := l[i].Verb
		sub := subcommandDef(verb)
		switch {
		case sub == nil:
			out.Lines = append(out.Lines, l)
		case slices.Contains(seen, verb):
			// Another form of the typed grammar ("   or: …"): on
			// Discord one subcommand has one usage.
		default:
			seen = append(seen, verb)
			nl := append(bot.Text(nil), l...)
			nl[i] = bot.Span{Kind: bot.SpanCode, Text: st.usage(sub)}
			out.Lines = append(out.Lines, nl)
		}
	}
	return out
}

// optionWords is lines with the words said for commands given as options
// (Span.Options: "give it in the reason option") in place of the typed
// grammar's ("quote it"); lines themselves when none has such words.
func optionWords(lines []bot.Text) []bot.Text {
	has := func(l bot.Text) bool {
		return slices.ContainsFunc(l, func(s bot.Span) bool { return s.Options != "" })
	}
	if !slices.ContainsFunc(lines, has) {
		return lines
	}
	out := make([]bot.Text, len(lines))
	for i, l := range lines {
		if !has(l) {
			out[i] = l
			continue
		}
		out[i] = make(bot.Text, len(l))
		for j, s := range l {
			if s.Options != "" {
				s.Text, s.Options = s.Options, ""
			}
			out[i][j] = s
		}
	}
	return out
}

// hasUsage reports whether lines hold a usage line of a subcommand.
func hasUsage(lines []bot.Text) bool {
	for _, l := range lines {
		if usageSpan(l) >= 0 {
			return true
		}
	}
	return false
}

// usageSpan is the index of the usage of a subcommand in l, -1 for none.
func usageSpan(l bot.Text) int {
	for i, s := range l {
		if s.Kind == bot.SpanTypedCode && s.Verb != "" {
			return i
		}
	}
	return -1
}

// helpPage is the help of /upgrade on Discord: the overview, each
// subcommand with its options and what it does, or one subcommand's page
// (topic), its options with what each takes, and an example.
func (st style) helpPage(topic string) bot.Message {
	m := bot.Message{Kind: bot.KindReply}
	add := func(t bot.Text) { m.Lines = append(m.Lines, t) }
	sub := subcommandDef(topic)
	if sub == nil {
		add(bot.Text{}.Code(st.command).Add(" plans and announces upgrade windows. Each subcommand takes its options by name; [optional] ones may be left out."))
		add(bot.T(""))
		for _, o := range definition().Options {
			if o.Type == discordgo.ApplicationCommandOptionSubCommand {
				add(bot.Text{}.Code(st.usage(o)).Add(" — " + o.Description))
			}
		}
		add(bot.T(""))
		add(bot.T("id: " + commands.IDForms + "; id, service and criterion suggest values as you type."))
		add(bot.T("Times (when, from, to): " + commands.TimeForms + "."))
		add(bot.T("Durations: " + commands.DurationForms + "."))
		add(bot.T("For a subcommand's options and an example: ").Code(st.command + " help topic:<subcommand>").Add("."))
		return m
	}
	add(bot.Text{}.Code(st.usage(sub)))
	add(bot.T(capital(sub.Description) + "."))
	ids, times, durations := false, false, false
	for _, o := range sub.Options {
		t := bot.Text{}.Code(o.Name)
		if o.Required {
			t = t.Add(" (required)")
		}
		t = t.Add(": " + o.Description)
		if len(o.Choices) > 0 {
			var names []string
			for _, c := range o.Choices {
				names = append(names, c.Name)
			}
			t = t.Add("; one of: " + strings.Join(names, ", "))
		}
		switch o.Type {
		case discordgo.ApplicationCommandOptionBoolean:
			t = t.Add("; True or False")
		case discordgo.ApplicationCommandOptionInteger:
			t = t.Add("; a whole number")
		}
		if o.Autocomplete {
			t = t.Add("; suggested as you type")
		}
		add(bot.T("• ").Then(t))
		switch o.Name {
		case optID:
			ids = true
		case optWhen, optFrom, optTo, optEvery:
			times = true
		case optDuration:
			durations = true
		}
	}
	add(bot.T("Example: ").Code(st.exampleOf(sub.Name)))
	if d := commands.NeutralDetails(sub.Name); d != "" {
		for _, l := range strings.Split(d, "\n") {
			add(bot.T(l))
		}
	}
	if ids {
		add(bot.T("id: " + commands.IDForms + "."))
	}
	if times {
		add(bot.T("Times: " + commands.TimeForms + "."))
	}
	if durations {
		add(bot.T("Durations: " + commands.DurationForms + "."))
	}
	return m
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
