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
	var parsed []*ast.File
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, f)
	}
	// An argument may be a variable holding an Arg{…} (cancelReasonArg,
	// why := Arg{…}): read what it was given.
	vars := argVars(parsed)
	seen := 0
	for _, f := range parsed {
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
				lits := []ast.Expr{a}
				if id, ok := a.(*ast.Ident); ok && vars[id.Name] != nil {
					lits = vars[id.Name]
				}
				for _, lit := range lits {
					name, placeholder, filled, optional := argOf(lit)
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
					// QA: the overrun notice said "cancel UPG-1 <reason...>"
					// under the usage cancel <id> [<reason...>].
					inUsage := strings.Contains(line, "["+name+":"+placeholder+"]")
					switch {
					case optional && !inUsage:
						t.Errorf("%s: the hint's %s is optional, but the usage %q requires it", fset.Position(a.Pos()), name, line)
					case !optional && inUsage && !neededHere[name]:
						t.Errorf("%s: the hint's %s reads as required, but the usage %q has it optional: mark it Optional", fset.Position(a.Pos()), name, line)
					}
				}
			}
			return true
		})
	}
	if seen < 10 {
		t.Errorf("only %d hint arguments to fill in found: the walk did not reach them", seen)
	}
}

// neededHere are the options optional in their usage that a hint asks for
// as the point of what it suggests: "start anyway <reason...>" to start
// with criteria open, "link … <tag>" to link the right tag; schedule's
// when is optional only because every may take its place.
var neededHere = map[string]bool{"anyway": true, "tag": true, "when": true}

// argVars maps each variable assigned an Arg{…} literal in files (var x =
// Arg{…}, x := Arg{…}) to those literals.
func argVars(files []*ast.File) map[string][]ast.Expr {
	vars := map[string][]ast.Expr{}
	add := func(names []ast.Expr, values []ast.Expr) {
		for i, v := range values {
			lit, ok := v.(*ast.CompositeLit)
			if !ok || i >= len(names) {
				continue
			}
			if typ, ok := lit.Type.(*ast.Ident); !ok || typ.Name != "Arg" {
				continue
			}
			if id, ok := names[i].(*ast.Ident); ok {
				vars[id.Name] = append(vars[id.Name], lit)
			}
		}
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				names := make([]ast.Expr, len(n.Names))
				for i, id := range n.Names {
					names[i] = id
				}
				add(names, n.Values)
			case *ast.AssignStmt:
				add(n.Lhs, n.Rhs)
			}
			return true
		})
	}
	return vars
}

// argOf reads an Arg{…} literal: its Name, its Placeholder, whether it
// has a Value (nothing to fill in) and whether it is Optional.
func argOf(e ast.Expr) (name, placeholder string, filled, optional bool) {
	lit, ok := e.(*ast.CompositeLit)
	if !ok {
		return "", "", true, false
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
		case "Optional":
			optional = true
			if id, ok := kv.Value.(*ast.Ident); ok && id.Name == "false" {
				optional = false
			}
		}
	}
	return name, placeholder, filled, optional
}
