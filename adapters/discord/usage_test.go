package discord

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/upgradebot/upgradebot/commands"
)

// optionMention is an option named with its value's placeholder in a
// refusal or hint: "reason:<reason...>", "every:<weekday> <time>".
var optionMention = regexp.MustCompile(`\b([a-z]+):(<[^>]*>(?: <[^>]*>)*)`)

// TestUsageLinesNameValuesAsTheGrammar: QA saw `start id:UPG-1
// anyway:<reason...>` in a hint under the usage line `/upgrade start
// id:<id> [anyway:<anyway>]`, and `Missing reason:<reason...>` over
// `rollback id:<id> reason:<reason>`. Every subcommand's usage line now
// names each option's value as the typed grammar does (its usage or help
// page), never by the option's name when the grammar says otherwise.
func TestUsageLinesNameValuesAsTheGrammar(t *testing.T) {
	st := style{command: "/upgrade"}
	for _, name := range subcommandNames() {
		sub := subcommandDef(name)
		line := st.usage(sub)
		grammar := commands.Usage(name) + "\n" + commands.HelpText(name)
		for _, o := range sub.Options {
			h := hole(name, o)
			switch {
			case o.Type == discordgo.ApplicationCommandOptionBoolean:
				if h != "<True|False>" {
					t.Errorf("%s: %s:%s", name, o.Name, h)
				}
			case len(o.Choices) > 0 && o.Name != optTopic:
				for _, c := range o.Choices {
					if !strings.Contains(h, c.Value.(string)) {
						t.Errorf("%s: %s:%s lacks the choice %v", name, o.Name, h, c.Value)
					}
				}
			default:
				for _, p := range regexp.MustCompile(`<[^>]*>`).FindAllString(h, -1) {
					if !strings.Contains(grammar, p) {
						t.Errorf("%s: %s:%s is not in the typed grammar's usage:\n%s", name, o.Name, h, grammar)
					}
				}
			}
			if !strings.Contains(line, o.Name+":"+h) {
				t.Errorf("%s: usage %q lacks %s:%s", name, line, o.Name, h)
			}
		}
	}
	want := map[string]string{
		"start":      "/upgrade start id:<id> [anyway:<reason...>]",
		"rollback":   "/upgrade rollback id:<id> reason:<reason...>",
		"ready":      "/upgrade ready id:<id> criterion:<criterion...>",
		"reschedule": "/upgrade reschedule id:<id> when:<time> [duration:<duration>] [anyway:<reason...>]",
	}
	for name, w := range want {
		if got := st.usage(subcommandDef(name)); got != w {
			t.Errorf("usage of %s:\n got %s\nwant %s", name, got, w)
		}
	}
	if page := st.helpPage("").Plain(nil); strings.Contains(page, "<anyway>") || !strings.Contains(page, "[anyway:<reason...>]") {
		t.Errorf("help overview:\n%s", page)
	}
}

// TestRefusalsNameOptionsAsTheUsage walks every subcommand: each option
// left blank, the others as in its example; whatever a refusal names as
// option:<value> is written so in the usage line under it.
func TestRefusalsNameOptionsAsTheUsage(t *testing.T) {
	st := style{command: "/upgrade"}
	env := commands.Env{Now: testNow, Location: mustZone("UTC")}
	seen := 0
	for _, name := range subcommandNames() {
		sub := subcommandDef(name)
		line := st.usage(sub)
		for _, blank := range append([]*discordgo.ApplicationCommandOption{nil}, sub.Options...) {
			o := options{}
			if blank != nil {
				for _, e := range examples[name] {
					o[e.name] = &discordgo.ApplicationCommandInteractionDataOption{Name: e.name, Value: exampleValue(sub, e)}
				}
				if blank.Type != discordgo.ApplicationCommandOptionString {
					continue
				}
				o[blank.Name] = &discordgo.ApplicationCommandInteractionDataOption{Name: blank.Name, Value: " "}
			}
			_, err := build(name, o, env)
			if err == nil {
				continue
			}
			for _, m := range optionMention.FindAllString(err.Error(), -1) {
				seen++
				if !strings.Contains(line, m) {
					t.Errorf("%s (%v blank): the refusal names %s, the usage %q", name, blank != nil, m, line)
				}
			}
		}
	}
	if seen < 10 {
		t.Errorf("only %d options named in refusals: the walk did not reach them", seen)
	}
}

// exampleValue is an example's value as Discord sends it for its option.
func exampleValue(sub *discordgo.ApplicationCommandOption, e example) any {
	for _, o := range sub.Options {
		if o.Name != e.name {
			continue
		}
		switch o.Type {
		case discordgo.ApplicationCommandOptionBoolean:
			return e.value == "True"
		case discordgo.ApplicationCommandOptionInteger:
			n, _ := strconv.Atoi(e.value)
			return float64(n)
		}
	}
	return e.value
}

// TestHintsNameOptionsAsTheUsage walks every hint the core writes
// (hint("verb", Arg{…}) in ../../bot): each argument it leaves for the
// reader to fill in reads on Discord as the usage line of its subcommand
// writes it (QA: criterion:<criterion...> and anyway:<reason...> in hints,
// [anyway:<anyway>] in the usage).
func TestHintsNameOptionsAsTheUsage(t *testing.T) {
	st := style{command: "/upgrade"}
	files, err := filepath.Glob("../../bot/*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	seen := 0
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) < 2 {
				return true
			}
			if fn, ok := call.Fun.(*ast.Ident); !ok || fn.Name != "hint" {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok {
				return true
			}
			verb, _ := strconv.Unquote(lit.Value)
			sub := subcommandDef(verb)
			if sub == nil {
				t.Errorf("%s: a hint of %q, which Discord does not have", fset.Position(call.Pos()), verb)
				return true
			}
			line := st.usage(sub)
			for _, a := range call.Args[1:] {
				name, placeholder, filled := argOf(a)
				if filled || name == "" {
					continue
				}
				if placeholder == "" {
					placeholder = "<" + name + ">"
				}
				seen++
				if !strings.Contains(line, name+":"+placeholder) {
					t.Errorf("%s: the hint's %s:%s is not in the usage %q", fset.Position(a.Pos()), name, placeholder, line)
				}
			}
			return true
		})
	}
	if seen < 10 {
		t.Errorf("only %d hint arguments to fill in found: the walk did not reach them", seen)
	}
}

// argOf reads an Arg{…} literal: its Name, its Placeholder, and whether it
// has a Value (nothing to fill in).
func argOf(e ast.Expr) (name, placeholder string, filled bool) {
	lit, ok := e.(*ast.CompositeLit)
	if !ok {
		return "", "", true
	}
	for _, el := range lit.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		key, _ := kv.Key.(*ast.Ident)
		s := ""
		if b, ok := kv.Value.(*ast.BasicLit); ok {
			s, _ = strconv.Unquote(b.Value)
		}
		switch key.Name {
		case "Name":
			name = s
		case "Placeholder":
			placeholder = s
		case "Value":
			filled = true
		}
	}
	return name, placeholder, filled
}
