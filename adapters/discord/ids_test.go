package discord

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/commands"
)

// TestIDOptionReadsAsTheGrammar: an id pasted with the comma or period
// after it (from a list, or a sentence) was refused on Discord (id:UPG-7,)
// while Slack and the console read it as the id. The id option reads ids
// by the grammar's rule: the same command as typed, and the same refusals.
func TestIDOptionReadsAsTheGrammar(t *testing.T) {
	env := commands.Env{Now: testNow, Location: mustZone("Europe/Berlin")}
	for _, tc := range []struct {
		sub  string
		o    options
		text string
	}{
		{"show", opts("id", "UPG-7,"), "show UPG-7,"},
		{"log", opts("id", "#7."), "log #7."},
		{"start", opts("id", "upg-7,"), "start upg-7,"},
		{"cancel", opts("id", "7.", "reason", "not needed"), "cancel 7. not needed"},
		{"ready", opts("id", " UPG-7. ", "criterion", "2"), "ready UPG-7. 2"},
	} {
		t.Run(tc.text, func(t *testing.T) { buildsAsTyped(t, tc.sub, tc.o, tc.text, env) })
	}
	// Refused with the grammar's very words: an id in brackets or before
	// a colon is told to leave out the punctuation, a list that the
	// command takes one id (id:(UPG-7) and id:UPG-7, UPG-8 were "cannot
	// read … as an upgrade id; use UPG-7, …").
	for id, want := range map[string]string{
		"UPG-7,,":      "leave out the punctuation: UPG-7",
		"(UPG-7)":      `cannot read "(UPG-7)" as an upgrade id; leave out the punctuation: UPG-7`,
		"[#7]":         "leave out the punctuation: #7",
		"UPG-7:":       "leave out the punctuation: UPG-7",
		"7;":           "leave out the punctuation: 7",
		"UPG-7, UPG-8": "show takes one upgrade id, not a list (UPG-7, UPG-8); give one, e.g. UPG-7",
		"7, 8":         "show takes one upgrade id, not a list (7, 8); give one, e.g. 7",
		",":            "as an upgrade id",
		"UPG-,":        "as an upgrade id",
	} {
		_, err := build("show", opts("id", id), env)
		_, perr := commands.Parse("show "+id, env)
		var e, pe *commands.Error
		if !errorsAs(err, &e) || !strings.Contains(e.Msg, want) || e.Usage != commands.Usage("show") {
			t.Errorf("id:%s: %v; want it refused with %q and the usage", id, err, want)
		}
		if !errorsAs(perr, &pe) || e == nil || pe.Msg != e.Msg {
			t.Errorf("show %s: the grammar says %v; want it refused as on Discord: %v", id, perr, err)
		}
	}
}

// TestIDOptionHoldsTheIDAlone: words after the id in the id option are
// refused and change nothing. cancel's scope typed after it, as the typed
// grammar takes it (cancel UPG-7 series), is pointed at Discord's scope
// option, or at the reason option when it begins the reason (it was
// "cannot read "UPG-7 series" as an upgrade id"); other words are refused
// as no id.
func TestIDOptionHoldsTheIDAlone(t *testing.T) {
	env := commands.Env{Now: testNow, Location: mustZone("Europe/Berlin")}
	for _, tc := range []struct {
		sub       string
		o         options
		want      string   // Msg, the text grammar's reading
		scope     string   // the scope hint's scope:, "" for no hints
		hintWords []string // the other arguments of the scope hint (reason:…), then of the reason hint
	}{
		{"cancel", opts("id", "UPG-7, series, vendor delay"), `choose "series" in the scope option`, "series", []string{"vendor delay", "series vendor delay"}},
		{"cancel", opts("id", "UPG-7 vendor delay"), `cannot read "UPG-7 vendor delay" as an upgrade id; use UPG-7`, "", nil},
		// Review: the scope option given is kept, not contradicted by a
		// hint; a list after the scope word is refused as a list is.
		{"cancel", opts("id", "UPG-7 series", "scope", "occurrence"),
			`"UPG-7 series" is more than an upgrade id: give the id alone, UPG-7; the scope is the scope option's, occurrence`, "", nil},
		{"cancel", opts("id", "UPG-7 series,", "scope", "series", "reason", "oops"),
			`"UPG-7 series," is more than an upgrade id: give the id alone, UPG-7; the scope is the scope option's, series`, "", nil},
		{"cancel", opts("id", "UPG-7 series, UPG-8"), "cancel takes one upgrade id, not a list (UPG-7 series, UPG-8); give one, e.g. UPG-7", "", nil},
		{"cancel", opts("id", "#7 series, #8,", "scope", "series"), "cancel takes one upgrade id, not a list (#7 series, #8,); give one, e.g. UPG-7", "", nil},
		{"cancel", opts("id", "7 occurrence, 8 9"), "cancel takes one upgrade id, not a list (7 occurrence, 8 9); give one, e.g. UPG-7", "", nil},
		{"cancel", opts("id", "UPG-7 series, 8"), "cancel takes one upgrade id, not a list", "", nil},
		{"cancel", opts("id", "UPG-7 series, 3 retries failed"), `choose "series" in the scope option`, "series", []string{"3 retries failed", "series 3 retries failed"}},
		{"show", opts("id", "UPG-7 series"), `cannot read "UPG-7 series" as an upgrade id; use UPG-7`, "", nil},
	} {
		t.Run(tc.sub+" "+tc.o.text(optID), func(t *testing.T) {
			c, err := build(tc.sub, tc.o, env)
			var e *commands.Error
			if !errorsAs(err, &e) || !strings.Contains(e.Msg, tc.want) || e.Usage != commands.Usage(tc.sub) {
				t.Fatalf("%#v, %v; want refused with %q and the usage", c, err, tc.want)
			}
			var hints []*commands.Suggestion
			for _, p := range e.Says {
				if p.Hint != nil {
					hints = append(hints, p.Hint)
				}
			}
			if tc.scope == "" {
				if len(hints) != 0 {
					t.Errorf("hints %+v; want none", hints)
				}
				return
			}
			id := commands.SuggestionArg{Name: "id", Value: "UPG-7"}
			asScope := []commands.SuggestionArg{id, {Name: "scope", Value: tc.scope}}
			if tc.hintWords[0] != "" {
				asScope = append(asScope, commands.SuggestionArg{Name: "reason", Value: tc.hintWords[0]})
			}
			want := []*commands.Suggestion{{Verb: "cancel", Args: asScope}, {Verb: "cancel", Args: []commands.SuggestionArg{id, {Name: "reason", Value: tc.hintWords[1]}}}}
			if !reflect.DeepEqual(hints, want) {
				t.Errorf("hints\n%+v\nwant\n%+v", hints, want)
			}
		})
	}
}

// TestIDOptionScopeAloneIsTheScopeOption: cancel's scope alone after the
// id, with no scope option (id:UPG-7 series), is read as that option, so
// the core decides as for scope:series. It was refused with a hint to
// scope:series that the core then refused for an upgrade of no series.
func TestIDOptionScopeAloneIsTheScopeOption(t *testing.T) {
	env := commands.Env{Now: testNow, Location: mustZone("Europe/Berlin")}
	for _, tc := range []struct{ id, scope string }{
		{"UPG-7 series", "series"},
		{"#7 Occurrence", "occurrence"},
		{"7. series", "series"},
	} {
		for _, reason := range []string{"", "oops"} {
			got, err := build("cancel", opts("id", tc.id, "reason", reason), env)
			want, werr := build("cancel", opts("id", "UPG-7", "scope", tc.scope, "reason", reason), env)
			if err != nil || werr != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("id:%s reason:%s: %#v, %v; want %#v (%v)", tc.id, reason, got, err, want, werr)
			}
		}
	}
}

// TestIDOptionScopeThroughDiscord: id:UPG-n series ends the series of an
// occurrence, and for an upgrade of no series is refused as scope:series
// is, pointing at the reason option; nothing changes then.
func TestIDOptionScopeThroughDiscord(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.ready()
	if ans := f.send(f.api.Command(alice, chOps, "schedule", O("service", "payments"), O("version", "v2.4.0"), O("when", "2026-12-01 02:00"))); !strings.Contains(ans.Text(), "Scheduled") {
		t.Fatalf("schedule: %s", ans.Text())
	}
	f.settle()
	ans := f.send(f.api.Command(alice, chOps, "cancel", O("id", "UPG-1 series"), O("reason", "oops")))
	opt := f.send(f.api.Command(alice, chOps, "cancel", O("id", "UPG-1"), O("scope", "series"), O("reason", "oops")))
	if !strings.Contains(ans.Content, "UPG-1 is not part of a series") || !strings.Contains(ans.Content, "reason:") || ans.Content != opt.Content || !ans.Ephemeral() {
		t.Errorf("id:UPG-1 series on no series:\n%s\nwant as scope:series:\n%s", ans.Content, opt.Content)
	}
	f.settle()
	if u, err := f.st.Get(context.Background(), 1); err != nil || u.State != bot.Scheduled {
		t.Fatalf("UPG-1 after the refusal: %+v, %v; want it scheduled", u, err)
	}
	if ans := f.send(f.api.Command(alice, chOps, "schedule", O("service", "payments"), O("version", "v2.5.0"), O("every", "tue 02:00"), O("duration", "1h"))); !strings.Contains(ans.Text(), "Scheduled") {
		t.Fatalf("schedule every: %s", ans.Text())
	}
	f.settle()
	us, err := f.st.List(context.Background(), bot.Filter{States: []bot.State{bot.Scheduled}})
	if err != nil {
		t.Fatal(err)
	}
	var occ *bot.Upgrade
	for _, u := range us {
		if u.Series != nil {
			occ = u
			break
		}
	}
	if occ == nil {
		t.Fatalf("no occurrence scheduled: %+v", us)
	}
	ans = f.send(f.api.Command(alice, chOps, "cancel", O("id", occ.Key()+" series")))
	f.settle()
	after, err := f.st.List(context.Background(), bot.Filter{States: []bot.State{bot.Scheduled}})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range after {
		if u.Series != nil {
			t.Errorf("%s of the series is still scheduled after cancel id:%s series: %s", u.Key(), occ.Key(), ans.Text())
		}
	}
	if u, err := f.st.Get(context.Background(), occ.ID); err != nil || u.State != bot.Cancelled {
		t.Errorf("%s after cancel id:%s series: %+v, %v; want it cancelled", occ.Key(), occ.Key(), u, err)
	}
}

// TestIDOptionRefusalsThroughDiscord: sent from Discord, an id option
// holding the id in brackets, a list, or cancel's scope after the id is
// refused privately with what to send instead, written with Discord's
// options, and changes nothing: the upgrade stays scheduled and no message
// is posted or edited.
func TestIDOptionRefusalsThroughDiscord(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.ready()
	if ans := f.send(f.api.Command(alice, chOps, "schedule", O("service", "payments"), O("version", "v2.4.0"), O("when", "2026-12-01 02:00"))); !strings.Contains(ans.Text(), "Scheduled") {
		t.Fatalf("schedule: %s", ans.Text())
	}
	f.settle()
	calls := len(f.api.Calls())
	for _, tc := range []struct {
		sub  string
		opts []discordtest.Opt
		want string
	}{
		{"cancel", []discordtest.Opt{O("id", "(UPG-1)"), O("reason", "vendor delay")},
			`Cannot read "(UPG-1)" as an upgrade id; leave out the punctuation: UPG-1.` + "\nUsage: `/upgrade cancel id:<id> [reason:<reason...>] [scope:<occurrence|series>]`"},
		{"show", []discordtest.Opt{O("id", "UPG-1, UPG-2")},
			"Show takes one upgrade id, not a list (UPG-1, UPG-2); give one, e.g. UPG-1.\nUsage: `/upgrade show id:<id>`"},
		{"cancel", []discordtest.Opt{O("id", "UPG-1 series late")},
			`"UPG-1 series late" is more than an upgrade id: give the id alone and choose "series" in the scope option: ` +
				"`/upgrade cancel id:UPG-1 scope:series reason:late`; if \"series\" begins the reason, give it in the reason option: " +
				"`/upgrade cancel id:UPG-1 reason:series late`.\nUsage: `/upgrade cancel id:<id> [reason:<reason...>] [scope:<occurrence|series>]`"},
		{"cancel", []discordtest.Opt{O("id", "UPG-1 series, UPG-2")},
			"Cancel takes one upgrade id, not a list (UPG-1 series, UPG-2); give one, e.g. UPG-1.\nUsage: `/upgrade cancel id:<id> [reason:<reason...>] [scope:<occurrence|series>]`"},
		{"cancel", []discordtest.Opt{O("id", "UPG-1 series"), O("scope", "occurrence")},
			`"UPG-1 series" is more than an upgrade id: give the id alone, UPG-1; the scope is the scope option's, occurrence.` + "\nUsage: `/upgrade cancel id:<id> [reason:<reason...>] [scope:<occurrence|series>]`"},
	} {
		ans := f.send(f.api.Command(alice, chOps, tc.sub, tc.opts...))
		if ans.Content != tc.want || !ans.Ephemeral() {
			t.Errorf("%s %+v: ephemeral %v\n%s\nwant\n%s", tc.sub, tc.opts, ans.Ephemeral(), ans.Content, tc.want)
		}
	}
	f.settle()
	for _, c := range f.api.Calls()[calls:] {
		t.Errorf("a refusal made a %s call", c.Op)
	}
	if u, err := f.st.Get(context.Background(), 1); err != nil || u.State != bot.Scheduled {
		t.Errorf("UPG-1 after the refusals: %+v, %v; want it scheduled", u, err)
	}
}

// TestNoSeriesRefusalSaysOptions: the refusal of cancelling the series
// of an upgrade that is part of none, when "series" was typed after the
// id, says on Discord to give the word in the reason option, as its hint
// writes it (reason:series oops), where Slack says to quote it ("series
// oops"); it said "quote it" before an unquoted reason:series oops.
func TestNoSeriesRefusalSaysOptions(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.ready()
	f.send(f.api.Command(alice, chOps, "schedule", O("service", "payments"), O("version", "v2.4.0"), O("when", "2026-12-01 02:00")))
	f.settle()
	inv := bot.Invocation{Actor: bot.Actor{ID: "discord:1001"}, Channel: "discord:" + chOps}
	m := f.b.Handle(context.Background(), inv, "cancel UPG-1 series oops")
	got := testStyle.render(m).Content
	want := "if \"series\" begins the reason, give it in the reason option: `/upgrade cancel id:UPG-1 reason:series oops`."
	if !strings.Contains(got, "UPG-1 is not part of a series") || !strings.Contains(got, want) || strings.Contains(got, "quote") {
		t.Errorf("Discord shows\n%s\nwant it to say\n%s", got, want)
	}
	if plain := (bot.Plain{}).Message(m); !strings.Contains(plain, `if "series" begins the reason, quote it: /upgrade cancel UPG-1 "series oops".`) {
		t.Errorf("the typed grammar's reading lost its words:\n%s", plain)
	}
}
