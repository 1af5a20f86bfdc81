package discord

import (
	"reflect"
	"strings"
	"testing"

	"github.com/upgradebot/upgradebot/commands"
)

// A line typed with Discord's options, as the hints to a person on Discord
// write them, is the command the same options sent from Discord build,
// which is the one the text grammar gives for the same words: options in
// any order, values with spaces and colons, quoted values.
func TestTypedOptionsReadAsDiscordSendsThem(t *testing.T) {
	env := commands.Env{Now: testNow, Location: mustZone("Europe/Berlin")}
	for _, tc := range []struct{ typed, text string }{
		{"show id:UPG-7", "show UPG-7"},
		{"SHOW ID:#7", "show 7"},
		{"start id:7", "start 7"},
		{"start id:7 anyway:the vendor signed off", "start 7 anyway the vendor signed off"},
		{`rollback id:7 reason:"vendor delay"`, "rollback 7 vendor delay"},
		{`rollback reason:"vendor delay" id:7`, "rollback 7 vendor delay"},
		{"rollback id:7 reason: error rate up", "rollback 7 error rate up"},
		{"schedule service:payments version:v2.4.0 when:tomorrow 02:00 duration:90m", "schedule payments v2.4.0 tomorrow 02:00 for 90m"},
		{`schedule when:"tomorrow 02:00" version:"v2.4.0" service:payments region:eu-west impact:"read-only for 5 minutes"`,
			`schedule payments v2.4.0 tomorrow 02:00 region eu-west impact "read-only for 5 minutes"`},
		{"schedule service:payments version:v2 every:tue 02:00 duration:1h until:2027-03-31", "schedule payments v2 every tue 02:00 for 1h until 2027-03-31"},
		{"reschedule id:7 when:in 3 days", "reschedule 7 in 3 days"},
		{"extend id:7 duration:30m", "extend 7 30m"},
		{"complete id:7 note:all good: no errors", "complete 7 all good: no errors"},
		{"cancel id:7 scope:series", "cancel 7 series"},
		{"list all:true", "list all"},
		{"list service:payments all:false", "list payments"},
		{"slots service:payments count:3", "slots payments 3"},
		{"link id:7 repo:https://github.com/acme/payments/releases/tag/v2.4.0", "link 7 https://github.com/acme/payments/releases/tag/v2.4.0"},
		{"link id:7 repo:acme/payments tag:v2.4.0", "link 7 acme/payments v2.4.0"},
		{"help topic:schedule", "help schedule"},
		{"ready id:7 criterion:2", "ready 7 2"},
		// A typed id, then options: the id is the id option's.
		{"cancel UPG-2 scope:series reason:oops", "cancel UPG-2 series oops"},
		{`cancel UPG-1, reason:"vendor delay"`, "cancel UPG-1 vendor delay"},
		{"rollback #7 reason: error rate up", "rollback 7 error rate up"},
	} {
		t.Run(tc.typed, func(t *testing.T) {
			got, ok, err := Typed(tc.typed, env)
			if !ok || err != nil {
				t.Fatalf("Typed: ok %v, %v", ok, err)
			}
			want, err := commands.Parse(tc.text, env)
			if err != nil {
				t.Fatalf("parse %q: %v", tc.text, err)
			}
			if !reflect.DeepEqual(normal(got), normal(want)) {
				t.Errorf("typed options build\n%#v\nthe grammar\n%#v", got, want)
			}
		})
	}
	// Quotes that are not around the whole value stay, as Discord sends them.
	c, _, err := Typed(`rollback id:7 reason:"foo" broke "bar" `, env)
	if want := (commands.Rollback{ID: 7, Reason: `"foo" broke "bar"`}); err != nil || c != want {
		t.Errorf(`reason:"foo" broke "bar": %#v, %v; want %#v`, c, err, want)
	}
}

// Text in the typed grammar is not Discord's: Typed leaves it alone, so
// Slack-style lines keep being read by commands.Parse.
func TestTypedLeavesTheGrammarsText(t *testing.T) {
	env := commands.Env{Now: testNow, Location: mustZone("Europe/Berlin")}
	for _, text := range []string{"show UPG-7", "list", "list all", "help", "help schedule", "schedule payments v2 tomorrow 02:00",
		"link 7 https://github.com/acme/payments", "link https://github.com/acme/payments", "windows", "rollback 7 db: down",
		"rollback 7 the note: says so", "link 7 https://github.com/acme/payments/tag:v2"} {
		if c, ok, err := Typed(text, env); ok {
			t.Errorf("%q read as options: %#v, %v", text, c, err)
		}
	}
}

// What Discord's client would not send is refused, saying what is valid:
// an option the subcommand lacks, a value a boolean, integer or choice
// option cannot take, an option twice; a missing required one as an
// interaction without it is.
func TestTypedOptionsRefused(t *testing.T) {
	env := commands.Env{Now: testNow, Location: mustZone("Europe/Berlin")}
	for typed, want := range map[string]string{
		"show ids:7":                           `unknown option "ids" for /upgrade show; valid options: id`,
		"show id:7 reason:why":                 `unknown option "reason" for /upgrade show; valid options: id`,
		"rollback id:7 note:x reason:y":        `unknown option "note" for /upgrade rollback; valid options: id, reason`,
		"list all:yes":                         `"yes" is not a value of option all; valid values: true, false`,
		"slots service:payments count:three":   `"three" is not a whole number, as option count takes`,
		"cancel id:7 scope:all":                `"all" is not a choice of option scope; valid choices: occurrence, series`,
		"help topic:nothing":                   `"nothing" is not a choice of option topic; valid choices: schedule, list,`,
		"show id:7 id:8":                       `option "id" is given twice`,
		"rollback id:7":                        "missing reason:<reason...>",
		"rollback reason:why":                  "missing id:<id>",
		"cancel UPG-2 the vendor scope:series": `"the vendor" mixes words with options; write either options only, as /upgrade cancel id:UPG-2 scope:series, or words only`,
		"cancel UPG-2 scope:all":               `"all" is not a choice of option scope`,
	} {
		_, ok, err := Typed(typed, env)
		if !ok || err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: ok %v, %v; want refused with %q", typed, ok, err, want)
		}
	}
}
