package commands_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/upgradebot/upgradebot/commands"
)

// specUsage is copied from shared/spec/commands.md; the usage lines are part of
// the contract, so a drift must fail here. Where an issue changed the grammar
// it wins over the spec: `at` is optional, <time> includes `in <duration>`, and
// an error shows the one usage line of its subcommand (docs/commands.md).
var specUsage = map[string][]string{
	"schedule":   {"/upgrade schedule <service> <version> [at] <time> [for <duration>] [region <name>] [impact <text...>]"},
	"list":       {"/upgrade list [<service>] [all]"},
	"show":       {"/upgrade show <id>"},
	"start":      {"/upgrade start <id> [anyway <reason...>]"},
	"complete":   {"/upgrade complete <id> [<note...>]"},
	"rollback":   {"/upgrade rollback <id> <reason...>"},
	"cancel":     {"/upgrade cancel <id> [occurrence|series] [<reason...>]"},
	"reschedule": {"/upgrade reschedule <id> [at] <time> [for <duration>]"},
	"extend":     {"/upgrade extend <id> <duration>"},
	"ack":        {"/upgrade ack <id>"},
	"pending":    {"/upgrade pending <id>"},
	"link":       {"/upgrade link <id> <owner/repo> [<tag>]"},
	"ready":      {"/upgrade ready <id> <criterion...>"},
	"waive":      {"/upgrade waive <id> <criterion> <reason...>"},
	"unready":    {"/upgrade unready <id> <criterion> <reason...>"},
	"plan":       {"/upgrade plan <id> <url or text...>"},
	"debrief":    {"/upgrade debrief <id> <text...>"},
	"log":        {"/upgrade log <id>"},
	"stats":      {"/upgrade stats [<service>]"},
	"slots":      {"/upgrade slots <service> [<n>]"},
	"freeze": {
		"/upgrade freeze add <name> [from <time>] to <time>|for <duration> [services <service,...>|*] [regions <region,...>] [reason <text...>]",
		"/upgrade freeze list [all]",
		"/upgrade freeze remove <name> [<reason...>]",
	},
	"help": {"/upgrade help [<subcommand>]"},
}

func TestNames(t *testing.T) {
	want := "schedule list show start complete rollback cancel reschedule extend ack pending link ready waive unready plan debrief log stats slots freeze help"
	if got := strings.Join(commands.Names(), " "); got != want {
		t.Fatalf("Names() = %q, want %q", got, want)
	}
	commands.Names()[0] = "mutated"
	if commands.Names()[0] != "schedule" {
		t.Fatal("Names() exposes the internal table")
	}
}

func TestUsageMatchesSpec(t *testing.T) {
	for name, lines := range specUsage {
		if got, want := commands.Usage(name), strings.Join(lines, "\n"); got != want {
			t.Errorf("Usage(%q) = %q, want %q", name, got, want)
		}
		if got := commands.Usage(strings.ToUpper(name)); got != commands.Usage(name) {
			t.Errorf("Usage is case-sensitive for %q", name)
		}
	}
	all := commands.Usage("")
	if commands.Usage("nope") != all {
		t.Error("Usage of an unknown name should be the overview")
	}
	for _, n := range commands.Names() {
		if !strings.Contains(all, commands.Usage(n)) {
			t.Errorf("overview usage lacks %q", n)
		}
	}
}

func TestHelpText(t *testing.T) {
	overview := commands.HelpText("")
	for _, n := range commands.Names() {
		if !strings.Contains(overview, commands.Usage(n)) {
			t.Errorf("overview lacks the usage of %q", n)
		}
	}
	for _, topic := range []string{"nope", "  ", "/upgrade"} {
		if commands.HelpText(topic) != overview {
			t.Errorf("HelpText(%q) should fall back to the overview", topic)
		}
	}
	for _, n := range commands.Names() {
		page := commands.HelpText(n)
		if page == overview || !strings.HasPrefix(page, commands.Usage(n)) || !strings.Contains(page, "Example: /upgrade "+n) {
			t.Errorf("HelpText(%q) = %q", n, page)
		}
		if commands.HelpText(strings.ToUpper(n)) != page {
			t.Errorf("HelpText is case-sensitive for %q", n)
		}
	}
	if !strings.Contains(commands.HelpText("schedule"), "Europe/Berlin") {
		t.Error("schedule help should show the time forms")
	}
}

// Every example in the help must itself parse, or the help teaches errors.
func TestHelpExamplesParse(t *testing.T) {
	for _, n := range commands.Names() {
		page := commands.HelpText(n)
		_, ex, ok := strings.Cut(page, "Example: ")
		if !ok {
			t.Fatalf("no example for %q", n)
		}
		ex, _, _ = strings.Cut(ex, "\n")
		cmd, err := commands.Parse(ex, commands.Env{Now: now})
		if err != nil {
			t.Errorf("example %q: %v", ex, err)
			continue
		}
		if cmd.Name() != n {
			t.Errorf("example %q parsed as %q", ex, cmd.Name())
		}
	}
}

func TestHelpTopicFeedsHelpText(t *testing.T) {
	cmd, err := commands.Parse("help Extend", commands.Env{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if got := commands.HelpText(cmd.(commands.Help).Topic); !strings.HasPrefix(got, "/upgrade extend") {
		t.Fatalf("HelpText(topic) = %q", got)
	}
}

// Help and the forms shown in errors must not date: an example with a year in
// it expires and then teaches an error ("in the past").
func TestHelpHasNoYears(t *testing.T) {
	year := regexp.MustCompile(`\b(19|20|21)\d\d\b`) // a year, not "RFC 3339"
	texts := []string{commands.HelpText("")}
	for _, n := range commands.Names() {
		texts = append(texts, commands.HelpText(n))
	}
	// The forms appear in time errors too.
	_, err := commands.Parse("schedule p v at soon", commands.Env{Now: now})
	texts = append(texts, err.Error())
	for _, text := range texts {
		if m := year.FindString(text); m != "" {
			t.Errorf("help mentions %q, which will expire:\n%s", m, text)
		}
	}
}

// Unknown subcommands get the names and a pointer to help, not every usage line.
func TestUnknownSubcommandUsageIsShort(t *testing.T) {
	for _, in := range []string{"shedule payments", "frobnicate", `nope "unterminated`} {
		_, err := commands.Parse(in, commands.Env{Now: now})
		var e *commands.Error
		if !errors.As(err, &e) {
			t.Fatalf("Parse(%q) = %v", in, err)
		}
		if e.Usage == "" || strings.Contains(e.Usage, "\n") || !strings.Contains(e.Usage, "/upgrade help") {
			t.Errorf("Parse(%q) Usage = %q, want one line pointing at /upgrade help", in, e.Usage)
		}
	}
	_, err := commands.Parse("shedule", commands.Env{Now: now})
	if msg := err.(*commands.Error).Msg; !strings.Contains(msg, `did you mean "schedule"?`) || !strings.Contains(msg, strings.Join(commands.Names(), ", ")) {
		t.Errorf("unknown subcommand message %q lacks the suggestion or the names", msg)
	}
}
