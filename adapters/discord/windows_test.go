package discord

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/commands"
)

func opts(kv ...any) options {
	o := options{}
	for i := 0; i+1 < len(kv); i += 2 {
		name := kv[i].(string)
		o[name] = &discordgo.ApplicationCommandInteractionDataOption{Name: name, Value: kv[i+1]}
	}
	return o
}

// TestWindowOptionsReadAsTheGrammar: next, every/until, anyway, cancel's
// scope, slots and freeze, as options, build the command the text grammar
// gives for the same words.
func TestWindowOptionsReadAsTheGrammar(t *testing.T) {
	berlin := mustZone("Europe/Berlin")
	env := commands.Env{Now: testNow, Location: berlin}
	for _, tc := range []struct {
		sub  string
		o    options
		text string
	}{
		{"schedule", opts("service", "payments", "version", "v2", "when", "next", "duration", "2h"), "schedule payments v2 next for 2h"},
		{"schedule", opts("service", "payments", "version", "v2", "when", "NEXT", "region", "eu-west"), "schedule payments v2 next region eu-west"},
		{"schedule", opts("service", "payments", "version", "v2", "every", "tue 02:00", "duration", "1h", "until", "2027-03-31"),
			"schedule payments v2 every tue 02:00 for 1h until 2027-03-31"},
		{"schedule", opts("service", "payments", "version", "v2", "every", "every thursday at 10pm America/New_York", "duration", "90m"),
			"schedule payments v2 every thursday at 10pm America/New_York for 90m"},
		{"schedule", opts("service", "payments", "version", "v2", "when", "2026-12-01 02:00", "anyway", "card network deadline"),
			"schedule payments v2 at 2026-12-01 02:00 anyway card network deadline"},
		{"reschedule", opts("id", "UPG-7", "when", "tue 14:00", "anyway", "hotfix"), "reschedule UPG-7 tue 14:00 anyway hotfix"},
		{"extend", opts("id", "7", "duration", "30m", "anyway", "still migrating"), "extend 7 30m anyway still migrating"},
		{"cancel", opts("id", "7", "scope", "series", "reason", "not needed"), "cancel 7 series not needed"},
		{"cancel", opts("id", "7", "scope", "occurrence"), "cancel 7 occurrence"},
		{"slots", opts("service", "payments", "count", 3.0), "slots payments 3"},
		{"slots", opts("service", "payments"), "slots payments"},
		{"freeze", opts("action", "list", "all", true), "freeze list all"},
		{"freeze", opts("action", "remove", "name", "year-end", "reason", "lifted early"), "freeze remove year-end lifted early"},
		{"freeze", opts("action", "add", "name", "year-end", "from", "2026-12-20", "to", "2027-01-04 Europe/Berlin",
			"services", "payments, checkout", "regions", "eu-west", "reason", "year-end trading"),
			`freeze add year-end from 2026-12-20 to 2027-01-04 Europe/Berlin services payments,checkout regions eu-west reason year-end trading`},
		{"freeze", opts("action", "add", "name", "incident", "duration", "4 hours"), "freeze add incident for 4 hours"},
	} {
		t.Run(tc.text, func(t *testing.T) { buildsAsTyped(t, tc.sub, tc.o, tc.text, env) })
	}
	// A reason is free text: a lone quote in it is kept, not a broken quote.
	if c, err := build("freeze", opts("action", "add", "name", "x", "duration", "1h", "reason", `the "big one`), env); err != nil || c.(commands.Freeze).Reason != `the "big one` {
		t.Errorf("a reason with a quote: %#v, %v", c, err)
	}
	for _, tc := range []struct {
		sub, msg string
		o        options
	}{
		{"schedule", "give when or every, not both", opts("service", "payments", "version", "v2", "when", "next", "every", "tue 02:00", "duration", "1h")},
		{"schedule", "missing duration: a recurring upgrade", opts("service", "payments", "version", "v2", "every", "tue 02:00")},
		{"schedule", "until only ends a recurring upgrade", opts("service", "payments", "version", "v2", "when", "next", "until", "2027-01-01")},
		{"schedule", "missing the start: when", opts("service", "payments", "version", "v2")},
		{"schedule", "next picks a window outside every freeze", opts("service", "payments", "version", "v2", "when", "next", "anyway", "x")},
		{"schedule", `cannot read "tues-day" as a weekday after every`, opts("service", "payments", "version", "v2", "every", "tues-day 02:00", "duration", "1h")},
		{"slots", "missing service:<service>", opts()},
		{"slots", "the count must be a whole number from 1 to 20", opts("service", "payments", "count", 21.0)},
		{"freeze", "missing the end: to:<time> or duration:<duration>", opts("action", "add", "name", "x")},
		{"freeze", "missing name:<name> of the freeze to remove", opts("action", "remove")},
		{"freeze", "missing name:<name> of the freeze", opts("action", "add", "duration", "1h")},
		{"freeze", "give to or duration, not both", opts("action", "add", "name", "x", "to", "2026-12-01", "duration", "1h")},
	} {
		_, err := build(tc.sub, tc.o, env)
		var e *commands.Error
		if !errorsAs(err, &e) || !strings.Contains(e.Msg, tc.msg) || !strings.HasPrefix(e.Usage, "/upgrade "+tc.sub) {
			t.Errorf("%s %v: %v; want an error saying %q with the usage", tc.sub, tc.o, err, tc.msg)
		}
	}
}

func errorsAs(err error, e **commands.Error) bool {
	pe, ok := err.(*commands.Error)
	*e = pe
	return ok
}

// normal makes two commands comparable: zones by name.
func normal(c commands.Command) any {
	switch x := c.(type) {
	case commands.Schedule:
		if x.Every != nil {
			e := *x.Every
			e.Text, e.Loc = "", time.FixedZone(e.Loc.String(), 0)
			x.Every = &e
		}
		x.Zone = nil
		return x
	case commands.Reschedule:
		x.Zone = nil
		return x
	case commands.Cancel:
		x.ScopeOption = false // the grammar cannot tell a scope from a reason's first word
		return x
	}
	return c
}

// TestDefinitionOfWindowOptions: the new options are where Discord wants
// them (required ones first) and when is now optional on schedule.
func TestDefinitionOfWindowOptions(t *testing.T) {
	subs := map[string]*discordgo.ApplicationCommandOption{}
	for _, o := range Definition().Options {
		subs[o.Name] = o
	}
	has := func(sub string, names ...string) {
		t.Helper()
		var got []string
		for _, o := range subs[sub].Options {
			got = append(got, o.Name)
		}
		for _, n := range names {
			if !strings.Contains(" "+strings.Join(got, " ")+" ", " "+n+" ") {
				t.Errorf("%s lacks option %q (has %v)", sub, n, got)
			}
		}
	}
	has("schedule", "when", "every", "until", "anyway")
	has("reschedule", "anyway")
	has("extend", "anyway")
	has("cancel", "scope")
	has("slots", "service", "count")
	has("freeze", "action", "name", "from", "to", "duration", "services", "regions", "reason", "all")
	for _, o := range subs["schedule"].Options {
		if o.Name == "when" && o.Required {
			t.Error("when is required, so every alone cannot be given")
		}
	}
}

// TestSlotsAndFreezeOverDiscord: the subcommands answer over the fake
// Discord the way the typed grammar answers; a long answer (help) goes
// in an embed rather than being cut.
func TestSlotsAndFreezeOverDiscord(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.ready()
	inv := bot.Invocation{Actor: bot.Actor{ID: "discord:1001"}, Channel: "discord:" + chOps}
	for _, tc := range []struct {
		sub  string
		opts []discordtest.Opt
		text string
	}{
		{"slots", []discordtest.Opt{O("service", "payments")}, "slots payments"},
		{"freeze", []discordtest.Opt{O("action", "list")}, "freeze list"},
		{"freeze", []discordtest.Opt{O("action", "add"), O("name", "x"), O("duration", "1h")}, "freeze add x for 1h"},
	} {
		want := testStyle.render(f.b.Handle(context.Background(), inv, tc.text)).Content
		got := f.send(f.api.Command(alice, chOps, tc.sub, tc.opts...))
		if got.Content != want || !got.Ephemeral() {
			t.Errorf("%s: Discord says\n%s\nthe grammar says\n%s", tc.text, got.Content, want)
		}
	}
	help := f.send(f.api.Command(alice, chOps, "help"))
	if len(help.Embeds) != 1 || !strings.Contains(help.Embeds[0].Description, "/upgrade freeze action:<add|list|remove>") || strings.Contains(help.Text(), "(cut:") {
		t.Fatalf("the help overview is cut, or not in an embed: %+v", help)
	}
}

// TestHintsAreOptions: what the core's answers and notices tell a Discord
// user to type is in option syntax (anyway:<reason...>, to:<time>), never
// the typed grammar's words (anyway <reason...>, to <time>).
func TestHintsAreOptions(t *testing.T) {
	cfg := testConfig()
	cfg.Admins = []string{"alice"}
	f := newFixtureConfig(t, ModeHTTP, cfg, nil)
	f.ready()
	say := func(sub string, o ...discordtest.Opt) string {
		t.Helper()
		return f.send(f.api.Command(alice, chOps, sub, o...)).Text()
	}
	// In progress now, its window in the freeze declared below.
	say("schedule", O("service", "checkout"), O("version", "v1"), O("when", "in 1h"))
	say("start", O("id", "1"))
	for _, tc := range []struct{ got, want string }{
		{say("freeze", O("action", "add"), O("name", "x")), "Missing the end: to:\\<time\\> or duration:\\<duration\\>."},
		{say("freeze", O("action", "add"), O("name", "year-end"), O("from", "2026-11-20 09:00"), O("to", "2026-12-10 00:00")),
			"Scheduling, rescheduling or extending into it is refused; an admin may override it with `anyway:<reason...>`."},
		{say("schedule", O("service", "payments"), O("version", "v2"), O("when", "2026-12-05 02:00")),
			"; pick a time outside it, or end the command with `anyway:<reason...>` to override it."},
		{say("rollback", O("id", "1")), "Missing reason:\\<reason...\\>; a rollback alert must say why.\nUsage: `/upgrade rollback id:<id> reason:<reason...>`"},
		{say("waive", O("id", "1"), O("criterion", "1")), "Missing reason:\\<reason...\\>; say why it does not apply this time."},
		{say("help", O("topic", "cancel")), "asks first: cancel only this occurrence, or the whole series (it ends, and its scheduled occurrences are cancelled too)."},
	} {
		if !strings.Contains(tc.got, tc.want) {
			t.Errorf("got\n%s\nwant it to hold\n%s", tc.got, tc.want)
		}
		for _, typed := range []string{"anyway \\<reason", "anyway <reason", "to \\<time\\>", "for \\<duration\\>", "Missing \\<", "occurrence cancels only it"} {
			if strings.Contains(tc.got, typed) {
				t.Errorf("the typed grammar's %q in\n%s", typed, tc.got)
			}
		}
	}
	f.settle()
	var notice string
	for _, m := range f.api.Messages("") {
		if strings.Contains(m.Text(), "It is in progress and goes on") {
			notice = m.Text()
		}
	}
	if !strings.Contains(notice, "unless an admin overrides it (`anyway:<reason...>`). Finish it with `/upgrade complete id:UPG-1`") {
		t.Errorf("the notice of the freeze over UPG-1 in progress:\n%s", notice)
	}
}

// buildsAsTyped checks that the options of subcommand sub build the
// command the typed grammar reads from text.
func buildsAsTyped(t *testing.T, sub string, o options, text string, env commands.Env) {
	t.Helper()
	got, err := build(sub, o, env)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	want, err := commands.Parse(text, env)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if !reflect.DeepEqual(normal(got), normal(want)) {
		t.Errorf("Discord builds\n%#v\nthe grammar\n%#v", got, want)
	}
}
