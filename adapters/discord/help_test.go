package discord

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/commands"
)

// typedGrammar reports what of the typed grammar a Discord answer shows:
// usage lines, examples and pointers that nobody can type on Discord.
func typedGrammar(text string) []string {
	var found []string
	for _, name := range commands.Names() {
		for _, u := range strings.Split(commands.Usage(name), "\n") {
			if strings.Contains(text, u) {
				found = append(found, u)
			}
		}
	}
	for _, s := range []string{"Type /upgrade help <subcommand>", "/upgrade help <subcommand>", "/upgrade show <id>",
		"Example: /upgrade", "/upgrade schedule payments v2.4.0", "Words may be \"double quoted\""} {
		if strings.Contains(text, s) {
			found = append(found, s)
		}
	}
	return found
}

// TestHelpIsDiscords: /upgrade help on Discord lists each subcommand with
// its options by name, and help topic:<subcommand> that subcommand's
// options, their choices and an example in option syntax; nothing of the
// typed grammar is shown.
func TestHelpIsDiscords(t *testing.T) {
	f := newFixture(t, ModeGateway)
	f.ready()

	overview := f.send(f.api.Command(alice, chOps, "help"))
	text := overview.Text()
	if !overview.Ephemeral() || strings.Contains(text, "(cut:") {
		t.Fatalf("the overview is not private or is cut: %+v", overview)
	}
	for _, want := range []string{
		"`/upgrade schedule service:<service> version:<version> [when:<time>] [duration:<duration>]",
		"`/upgrade show id:<id>` — one upgrade: window, state, release, acks, threads",
		"`/upgrade complete id:<id> [note:<note...>]` — close the window successfully",
		"`/upgrade freeze action:<add|list|remove> [name:<name>]",
		"`/upgrade help [topic:<subcommand>]`",
		"For a subcommand's options and an example: `/upgrade help topic:<subcommand>`.",
		"Durations: 90m, 2h",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the overview lacks %q:\n%s", want, text)
		}
	}
	if bad := typedGrammar(text); len(bad) > 0 {
		t.Errorf("the overview shows the typed grammar %q:\n%s", bad, text)
	}

	page := f.send(f.api.Command(alice, chOps, "help", O("topic", "schedule")))
	text = page.Text()
	for _, want := range []string{
		"`/upgrade schedule service:<service> version:<version> [when:<time>] [duration:<duration>] [region:<name>] [impact:<text...>] [every:<weekday> <time>] [until:<date>] [anyway:<reason...>]`\nPlan a new upgrade window.",
		"• `service` (required): a configured service; suggested as you type",
		"• `until`: with every: the last date, YYYY-MM-DD",
		"Example: `/upgrade schedule service:payments version:v2.4.0 when:tomorrow 02:00 Europe/Berlin duration:2h region:eu-west impact:card payments may fail`",
		"Times: tomorrow 2am",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("help topic:schedule lacks %q:\n%s", want, text)
		}
	}
	if bad := typedGrammar(text); len(bad) > 0 {
		t.Errorf("help topic:schedule shows the typed grammar %q:\n%s", bad, text)
	}

	// Choices are listed by the names Discord shows.
	text = f.send(f.api.Command(alice, chOps, "help", O("topic", "cancel"))).Text()
	for _, want := range []string{"• `scope`: for an occurrence of a recurring upgrade: this occurrence, or the whole series; one of: this occurrence only, the whole series",
		"Example: `/upgrade cancel id:UPG-7 reason:release blocked`", "id: UPG-7, upg-7, #7 or 7."} {
		if !strings.Contains(text, want) {
			t.Errorf("help topic:cancel lacks %q:\n%s", want, text)
		}
	}

	// The stats answer points here for how each figure is counted.
	if text := f.send(f.api.Command(alice, chOps, "help", O("topic", "stats"))).Text(); !strings.Contains(text, "Rollback rate: rolled back, of completed and rolled back.") {
		t.Errorf("help topic:stats does not say how the figures are counted:\n%s", text)
	}

	for _, topic := range []string{"ready", "waive", "unready"} {
		if text := f.send(f.api.Command(alice, chOps, "help", O("topic", topic))).Text(); !strings.Contains(text, "A criterion is named by its number in the upgrade's checklist") {
			t.Errorf("help topic:%s does not say how a criterion is named:\n%s", topic, text)
		}
	}

	// Every page fits and shows none of the typed grammar.
	for _, name := range commands.Names() {
		ans := f.send(f.api.Command(alice, chOps, "help", O("topic", name)))
		if bad := typedGrammar(ans.Text()); len(bad) > 0 || strings.Contains(ans.Text(), "(cut:") || !strings.Contains(ans.Text(), "Example: `/upgrade "+name) {
			t.Errorf("help topic:%s shows %q, or is cut, or has no example:\n%s", name, bad, ans.Text())
		}
	}
}

// TestHelpExamplesAreTakenAsTheySay: each subcommand's example names only
// its own options, and, given the way Discord sends it, is read without a
// refusal.
func TestHelpExamplesAreTakenAsTheySay(t *testing.T) {
	env := commands.Env{Now: testNow, Location: mustZone("UTC")}
	for _, sub := range Definition().Options {
		ex, ok := examples[sub.Name]
		if !ok {
			t.Errorf("%s has no example", sub.Name)
			continue
		}
		o := options{}
		for _, e := range ex {
			var def *discordgo.ApplicationCommandOption
			for _, d := range sub.Options {
				if d.Name == e.name {
					def = d
				}
			}
			if def == nil {
				t.Errorf("%s: the example's %s is not one of its options", sub.Name, e.name)
				continue
			}
			var v any = e.value
			switch def.Type {
			case discordgo.ApplicationCommandOptionBoolean:
				v = e.value == "True"
			case discordgo.ApplicationCommandOptionInteger:
				n, err := strconv.Atoi(e.value)
				if err != nil {
					t.Errorf("%s: %s:%s is not a whole number", sub.Name, e.name, e.value)
				}
				v = float64(n)
			}
			o[e.name] = &discordgo.ApplicationCommandInteractionDataOption{Name: e.name, Type: def.Type, Value: v}
		}
		for _, d := range sub.Options {
			if _, given := o[d.Name]; d.Required && !given {
				t.Errorf("%s: the example lacks the required %s", sub.Name, d.Name)
			}
		}
		if _, err := build(sub.Name, o, env); err != nil {
			t.Errorf("%s: the example %q is refused: %v", sub.Name, testStyle.exampleOf(sub.Name), err)
		}
	}
}

// TestUsageIsDiscords: a refusal shows the subcommand's usage with its
// options by name, once, whether the options or the core refused.
func TestUsageIsDiscords(t *testing.T) {
	f := newFixture(t, ModeGateway)
	f.ready()
	tests := []struct {
		sub  string
		opts []discordtest.Opt
		want string
	}{
		{"show", nil, "Missing id:\\<id\\>; use UPG-7, upg-7, #7 or 7.\nUsage: `/upgrade show id:<id>`"},
		{"show", []discordtest.Opt{O("id", "42")}, "Unknown upgrade UPG-42. Try `/upgrade list`.\nUsage: `/upgrade show id:<id>`"},
		{"rollback", []discordtest.Opt{O("id", "1")}, "Usage: `/upgrade rollback id:<id> reason:<reason...>`"},
		{"freeze", []discordtest.Opt{O("action", "add")}, "Usage: `/upgrade freeze action:<add|list|remove> [name:<name>] [from:<time>] [to:<time>] [duration:<duration>] [services:<service,...>] [regions:<region,...>] [reason:<reason...>] [all:<True|False>]`"},
		{"schedule", []discordtest.Opt{O("service", "payments"), O("version", "v1"), O("when", "someday")}, "Usage: `/upgrade schedule service:<service> version:<version> [when:<time>]"},
	}
	for _, tc := range tests {
		t.Run(tc.sub, func(t *testing.T) {
			ans := f.send(f.api.Command(alice, chOps, tc.sub, tc.opts...))
			text := ans.Text()
			if !ans.Ephemeral() || !strings.Contains(text, tc.want) {
				t.Errorf("got\n%s\nwant it to hold\n%s", text, tc.want)
			}
			if bad := typedGrammar(text); len(bad) > 0 || strings.Contains(text, "or: ") || strings.Count(text, "Usage: ") != 1 {
				t.Errorf("the refusal shows the typed grammar %q, or more than one usage:\n%s", bad, text)
			}
		})
	}
	// The core's refusal of typed text, rendered for Discord, too.
	inv := bot.Invocation{Actor: bot.Actor{ID: "discord:1001"}, Channel: "discord:" + chOps}
	got := testStyle.render(f.b.Handle(context.Background(), inv, "freeze add")).Content
	if strings.Count(got, "Usage: `/upgrade freeze action:<add|list|remove>") != 1 || strings.Contains(got, "or:") {
		t.Errorf("freeze's usage on Discord:\n%s", got)
	}
	// A usage that is no one subcommand's (a typed unknown subcommand) is
	// left as the core words it.
	got = testStyle.render(f.b.Handle(context.Background(), inv, "frobnicate")).Content
	if !strings.Contains(got, "(/upgrade help lists them)") {
		t.Errorf("unknown typed subcommand on Discord:\n%s", got)
	}
	if us, _ := f.st.List(context.Background(), bot.Filter{}); len(us) != 0 {
		t.Errorf("%d upgrades stored", len(us))
	}
}

// TestMissingOrUnknownSubcommand: an /upgrade interaction without a
// subcommand, or with one that is not registered, says so and lists the
// subcommands, privately, changing nothing.
func TestMissingOrUnknownSubcommand(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.ready()
	list := "valid subcommands: " + strings.Join(commands.Names(), ", ") + "."
	none := f.api.Command(alice, chOps, "show")
	data := none.Data.(discordgo.ApplicationCommandInteractionData)
	data.Options = []*discordgo.ApplicationCommandInteractionDataOption{}
	none.Data = data
	for _, tc := range []struct {
		i    *discordgo.Interaction
		want string
	}{
		{none, "Missing subcommand; " + list},
		{f.api.Command(alice, chOps, "frobnicate"), `Unknown subcommand "frobnicate"; ` + list},
		{f.api.Command(alice, chOps, "frobnicate", O("id", "UPG-1")), `Unknown subcommand "frobnicate"; ` + list},
	} {
		ans := f.send(tc.i)
		if ans.Text() != tc.want || !ans.Ephemeral() {
			t.Errorf("got\n%s\nwant\n%s", ans.Text(), tc.want)
		}
	}
	f.settle()
	if us, _ := f.st.List(context.Background(), bot.Filter{}); len(us) != 0 {
		t.Errorf("%d upgrades stored", len(us))
	}
}
