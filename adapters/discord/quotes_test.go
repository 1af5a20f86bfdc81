package discord

import (
	"testing"

	"github.com/upgradebot/upgradebot/commands"
)

// A value typed in quotes on Discord reads as the same words typed quoted
// on Slack or in the console: one pair of surrounding quotes, straight or
// curly, is taken off service, version, region, impact and reason.
func TestQuotedOptionValuesReadAsTheGrammar(t *testing.T) {
	env := commands.Env{Now: testNow, Location: mustZone("Europe/Berlin")}
	for _, tc := range []struct {
		sub  string
		o    options
		text string
	}{
		{"schedule", opts("service", `"payments"`, "version", `"v4"`, "when", "next", "region", `“eu-west”`, "impact", `"read-only for 5 minutes"`),
			`schedule payments v4 next region eu-west impact "read-only for 5 minutes"`},
		{"schedule", opts("service", "payments", "version", ` “v4” `, "when", "next"), "schedule payments v4 next"},
		{"list", opts("service", `"payments"`), "list payments"},
		{"stats", opts("service", `"payments"`), "stats payments"},
		{"slots", opts("service", `"payments"`), "slots payments"},
		{"rollback", opts("id", "7", "reason", `"error rate up"`), "rollback 7 error rate up"},
		{"cancel", opts("id", "7", "reason", `“not needed”`), "cancel 7 not needed"},
	} {
		t.Run(tc.text, func(t *testing.T) { buildsAsTyped(t, tc.sub, tc.o, tc.text, env) })
	}
	// Only one pair around the whole of a value with no other quote: quotes
	// inside stay, and so does a lone one.
	for in, want := range map[string]string{`"v4`: `"v4`, `v"4"`: `v"4"`, `""v4""`: `""v4""`, `"`: `"`} {
		c, err := build("schedule", opts("service", "payments", "version", in, "when", "next"), env)
		if err != nil || c.(commands.Schedule).Version != want {
			t.Errorf("version:%s: %#v, %v; want version %q", in, c, err, want)
		}
	}
	// Two quoted words are not one quoted value.
	c, err := build("rollback", opts("id", "7", "reason", `"foo" broke "bar"`), env)
	if err != nil || c.(commands.Rollback).Reason != `"foo" broke "bar"` {
		t.Errorf(`reason:"foo" broke "bar": %#v, %v; want it as typed`, c, err)
	}
	// Quotes around nothing are no value.
	if _, err := build("rollback", opts("id", "7", "reason", `""`), env); err == nil {
		t.Error(`rollback reason:"": accepted; want the missing reason refused`)
	}
}
