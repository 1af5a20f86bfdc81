package discord

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/commands"
)

// recorder stands in for the core's Do: it records each command with who
// ran it and answers "done"; Upgrades answers the upgrades given.
type recorder struct {
	Core
	mu       sync.Mutex
	cmds     []commands.Command
	actors   []string
	upgrades []*bot.Upgrade
}

func (r *recorder) Do(_ context.Context, inv bot.Invocation, cmd commands.Command) bot.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cmds = append(r.cmds, cmd)
	r.actors = append(r.actors, inv.Actor.ID)
	return bot.Message{Kind: bot.KindReply, Lines: []bot.Text{bot.T("done: " + cmd.Name())}}
}

func (r *recorder) Upgrades(context.Context, bot.Filter) ([]*bot.Upgrade, error) {
	return r.upgrades, nil
}

func (r *recorder) ran() ([]commands.Command, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]commands.Command(nil), r.cmds...), append([]string(nil), r.actors...)
}

// TestDefinitionOfReadiness: the readiness subcommands and start's anyway,
// with their options, within Discord's 25 subcommands and 25 choices.
func TestDefinitionOfReadiness(t *testing.T) {
	def := Definition()
	if n := len(def.Options); n > 25 {
		t.Errorf("%d subcommands; Discord takes at most 25", n)
	}
	subs := map[string]*discordgo.ApplicationCommandOption{}
	for _, o := range def.Options {
		subs[o.Name] = o
	}
	want := map[string][]string{ // option: required?
		"ready":   {"id!", "criterion!"},
		"waive":   {"id!", "criterion!", "reason!"},
		"unready": {"id!", "criterion!", "reason!"},
		"plan":    {"id!", "plan!"},
		"debrief": {"id!", "text!"},
		"start":   {"id!", "anyway"},
	}
	for name, opts := range want {
		s := subs[name]
		if s == nil {
			t.Errorf("no %q subcommand", name)
			continue
		}
		var got []string
		for _, o := range s.Options {
			n := o.Name
			if o.Required {
				n += "!"
			}
			got = append(got, n)
		}
		if !reflect.DeepEqual(got, opts) {
			t.Errorf("%s options %v, want %v", name, got, opts)
		}
	}
	if d := subs["ready"].Options[1].Description; d != "its number, exact text or a unique prefix" || !subs["ready"].Options[1].Autocomplete {
		t.Errorf("criterion: %q autocomplete %v", d, subs["ready"].Options[1].Autocomplete)
	}
	if d := subs["plan"].Options[1].Description; d != "a runbook link or the steps" {
		t.Errorf("plan: %q", d)
	}
	if d := subs["start"].Options[1].Description; !strings.Contains(d, "readiness criteria still open") {
		t.Errorf("start's anyway: %q", d)
	}
	topic := subs["help"].Options[0]
	if n := len(topic.Choices); n > 25 || n != len(commands.Names()) {
		t.Errorf("help topic has %d choices for %d subcommands; Discord takes at most 25", n, len(commands.Names()))
	}
	// Every subcommand is one the grammar knows, and the other way round.
	names := map[string]bool{}
	for _, n := range commands.Names() {
		names[n] = true
	}
	for n := range subs {
		if !names[n] {
			t.Errorf("the subcommand %q is not in the grammar (commands.Names)", n)
		}
	}
}

// TestReadinessOptionsBuildTheCommands: each subcommand's options become
// the typed command the grammar gives; a missing required value is refused
// with the subcommand's usage.
func TestReadinessOptionsBuildTheCommands(t *testing.T) {
	opts := func(kv ...string) options {
		o := options{}
		for i := 0; i < len(kv); i += 2 {
			o[kv[i]] = &discordgo.ApplicationCommandInteractionDataOption{Name: kv[i], Type: discordgo.ApplicationCommandOptionString, Value: kv[i+1]}
		}
		return o
	}
	ok := []struct {
		sub  string
		o    options
		want commands.Command
	}{
		{"ready", opts("id", "UPG-7", "criterion", "2"), commands.Ready{ID: 7, Criterion: "2"}},
		{"ready", opts("id", "#7", "criterion", " backups "), commands.Ready{ID: 7, Criterion: "backups"}},
		{"waive", opts("id", "7", "criterion", "canary green", "reason", "no canary for a config change"), commands.Waive{ID: 7, Criterion: "canary green", Reason: "no canary for a config change"}},
		{"unready", opts("id", "upg-7", "criterion", "1", "reason", "the backup failed"), commands.Unready{ID: 7, Criterion: "1", Reason: "the backup failed"}},
		{"plan", opts("id", "7", "plan", "https://runbooks.example/payments"), commands.Plan{ID: 7, Text: "https://runbooks.example/payments"}},
		{"debrief", opts("id", "7", "text", "went fine; pre-warm caches next time"), commands.Debrief{ID: 7, Text: "went fine; pre-warm caches next time"}},
		{"start", opts("id", "7", "anyway", "the fix cannot wait"), commands.Start{ID: 7, Anyway: "the fix cannot wait"}},
		{"start", opts("id", "7"), commands.Start{ID: 7}},
	}
	for _, tc := range ok {
		got, err := build(tc.sub, tc.o, commands.Env{})
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %v: %#v %v, want %#v", tc.sub, tc.o, got, err, tc.want)
		}
	}
	bad := []struct {
		sub  string
		o    options
		want string
	}{
		{"ready", opts("id", "7"), "missing criterion:<criterion...>"},
		{"ready", opts("criterion", "1"), "missing id:<id>"},
		{"waive", opts("id", "7", "criterion", "1"), "missing reason:<reason...>; say why it does not apply this time"},
		{"waive", opts("id", "7", "reason", "x"), "missing criterion:<criterion>"},
		{"unready", opts("id", "7", "criterion", "1", "reason", "  "), "missing reason:<reason...>"},
		{"plan", opts("id", "7"), "missing plan:<url or text...>"},
		{"debrief", opts("id", "7"), "missing text:<text...>"},
		{"debrief", opts("id", "UPG-x", "text", "t"), "UPG-x"},
		{"start", opts("id", "7", "anyway", "   "), "missing the reason in anyway:<reason...>; say why it starts"},
	}
	for _, tc := range bad {
		_, err := build(tc.sub, tc.o, commands.Env{})
		var e *commands.Error
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: %v, want %q", tc.sub, tc.o, err, tc.want)
		} else if !errors.As(err, &e) || e.Usage != commands.Usage(tc.sub) {
			t.Errorf("%s: the refusal has no usage: %#v", tc.sub, err)
		}
	}
}

func TestReadinessIDs(t *testing.T) {
	b := bot.ReadyButton{UpgradeID: "UPG-7", Criterion: 2, Text: "canary green"}
	if got := readyID(b); got != "upgrade_ready:UPG-7:2" {
		t.Fatalf("custom_id %q", got)
	}
	if u, n, ok := parseReadyID(readyID(b)); !ok || u != "UPG-7" || n != 2 {
		t.Fatalf("round trip: %q %d %v", u, n, ok)
	}
	for _, bad := range []string{"", "upgrade_ready", "upgrade_ready:", "upgrade_ready:UPG-7", "upgrade_ready:UPG-7:", "upgrade_ready::2",
		"upgrade_ready:UPG-7:0", "upgrade_ready:UPG-7:-1", "upgrade_ready:UPG-7:x", "upgrade_ready:UPG-7:02", "upgrade_ready:UPG-7:2:3", "upgrade_ack:UPG-7:2"} {
		if _, _, ok := parseReadyID(bad); ok {
			t.Errorf("%q parsed as a Mark met button", bad)
		}
	}
	if got := debriefID("UPG-7"); got != "upgrade_debrief:UPG-7" {
		t.Fatalf("debrief custom_id %q", got)
	}
	if u, ok := parseDebriefID("upgrade_debrief:UPG-7"); !ok || u != "UPG-7" {
		t.Fatalf("debrief round trip: %q %v", u, ok)
	}
	for _, bad := range []string{"", "upgrade_debrief", "upgrade_debrief:", "upgrade_debrief:UPG-7:x", "upgrade_ready:UPG-7"} {
		if _, ok := parseDebriefID(bad); ok {
			t.Errorf("%q parsed as a debrief id", bad)
		}
	}
}

// TestReadinessButtons: a Mark met button per open criterion, five to a
// row after the Acknowledge button, never more than five rows; Write
// debrief on the debrief prompt.
func TestReadinessButtons(t *testing.T) {
	ready := func(n int) []bot.ReadyButton {
		var out []bot.ReadyButton
		for i := 1; i <= n; i++ {
			out = append(out, bot.ReadyButton{UpgradeID: "UPG-7", Criterion: i, Text: "criterion " + strings.Repeat("x", i)})
		}
		return out
	}
	shape := func(p payload) []int {
		var rows []int
		for _, r := range p.Components {
			rows = append(rows, len(r.(discordgo.ActionsRow).Components))
		}
		return rows
	}
	root := bot.Message{Kind: bot.KindRoot, Title: "UPG-7 payments v2.4.0", UpgradeID: "UPG-7", Lines: []bot.Text{bot.T("x")},
		Ack: &bot.AckButton{UpgradeID: "UPG-7", Scope: bot.ScopeBrief}}
	for _, tc := range []struct {
		n    int
		ack  bool
		want []int
	}{
		{0, true, []int{1}},
		{3, true, []int{1, 3}},
		{5, false, []int{5}},
		{6, true, []int{1, 5, 1}},
		{20, true, []int{1, 5, 5, 5, 5}},
		{30, true, []int{1, 5, 5, 5, 5}},
		{30, false, []int{5, 5, 5, 5, 5}},
	} {
		m := root
		m.Ready = ready(tc.n)
		if !tc.ack {
			m.Ack = nil
		}
		if got := shape(testStyle.render(m)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%d criteria, ack %v: rows %v, want %v", tc.n, tc.ack, got, tc.want)
		}
	}

	m := root
	m.Ready = []bot.ReadyButton{{UpgradeID: "UPG-7", Criterion: 1, Text: "backups verified"}, {UpgradeID: "UPG-7", Criterion: 3, Text: strings.Repeat("long ", 40)}}
	p := testStyle.render(m)
	row := p.Components[1].(discordgo.ActionsRow).Components
	first, second := row[0].(discordgo.Button), row[1].(discordgo.Button)
	if first.Label != "Mark met: backups verified" || first.CustomID != "upgrade_ready:UPG-7:1" || first.Style != discordgo.SuccessButton {
		t.Errorf("first button %+v", first)
	}
	if utf8.RuneCountInString(second.Label) != 80 || !strings.HasSuffix(second.Label, "…") || second.CustomID != "upgrade_ready:UPG-7:3" {
		t.Errorf("long button %q (%d characters) %s", second.Label, utf8.RuneCountInString(second.Label), second.CustomID)
	}

	// The core's own messages, as Discord gets them.
	d := goldenDirectory()
	u := goldenUpgrade(d)
	u.Readiness = []bot.Criterion{
		{Text: "backups verified", State: bot.CriterionMet, By: "alice", At: start.Add(-2 * time.Hour)},
		{Text: "canary green", State: bot.CriterionOpen},
		{Text: "rollback plan reviewed", State: bot.CriterionWaived, By: "bob", At: start.Add(-time.Hour), Reason: "reviewed for v2.3.9 <last week>"},
		{Text: "load test *passed*", State: bot.CriterionOpen},
	}
	u.Plan = &bot.Record{Text: "https://runbooks.example/payments/rollback", By: "alice", At: start.Add(-3 * time.Hour)}
	golden(t, "root_readiness", sendJSON(t, d.Root(u, nil)))
	golden(t, "window_open_not_ready", sendJSON(t, d.WindowOpen(u)))
	done := goldenUpgrade(d)
	done.State = bot.Completed
	prompt := d.DebriefPrompt(done)
	golden(t, "debrief_prompt", sendJSON(t, prompt))
	p = testStyle.render(prompt)
	if len(p.Components) != 1 {
		t.Fatalf("prompt components %+v", p.Components)
	}
	btn := p.Components[0].(discordgo.ActionsRow).Components[0].(discordgo.Button)
	if btn.Label != "Write debrief" || btn.CustomID != "upgrade_debrief:UPG-7" {
		t.Errorf("debrief button %+v", btn)
	}
	golden(t, "debrief_modal", indentJSON(t, debriefModal("UPG-7")))
}

// TestReadinessPresses: in both modes a Mark met press runs ready as the
// presser, Write debrief opens the modal, and its submission runs debrief;
// each answer is private. Bad custom ids are refused privately and run
// nothing.
func TestReadinessPresses(t *testing.T) {
	for _, mode := range []string{ModeGateway, ModeHTTP} {
		t.Run(mode, func(t *testing.T) {
			f := newFixture(t, mode)
			f.ready()
			rec := &recorder{Core: f.a.core}
			f.a.core = rec
			root := discordtest.Message{ID: "5555", ChannelID: chPayments}

			ans := f.send(f.api.Press(bob, root, "upgrade_ready:UPG-7:2"))
			if !ans.Ephemeral() || ans.Text() != "done: ready" {
				t.Errorf("ready press: ephemeral %v %q", ans.Ephemeral(), ans.Text())
			}

			// The form opens only for an upgrade that has ended and is the
			// presser's to debrief; otherwise the refusal comes at once.
			debrief := func(who discordtest.Member, id string) discordtest.Reply {
				return f.send(f.api.Press(who, discordtest.Message{ID: "5556", ChannelID: "7777"}, "upgrade_debrief:"+id))
			}
			if ans := debrief(alice, "UPG-7"); ans.Type == discordgo.InteractionResponseModal || !ans.Ephemeral() || !strings.Contains(ans.Text(), "Unknown upgrade UPG-7.") {
				t.Errorf("debrief press for no upgrade: %+v", ans)
			}
			ctx := context.Background()
			for _, u := range []*bot.Upgrade{
				{ID: 7, Service: "payments", Version: "v2.4.0", Start: testNow.Add(-2 * time.Hour), End: testNow.Add(-time.Hour), State: bot.Completed, Rev: 1},
				{ID: 8, Service: "payments", Version: "v2.5.0", Start: testNow.Add(time.Hour), End: testNow.Add(2 * time.Hour), State: bot.Scheduled, Rev: 1},
			} {
				if err := f.st.Create(ctx, u, bot.Decision{At: testNow, Actor: "alice", Action: bot.ActionScheduled}); err != nil {
					t.Fatal(err)
				}
			}
			if ans := debrief(alice, "UPG-8"); ans.Type == discordgo.InteractionResponseModal || !ans.Ephemeral() ||
				!strings.Contains(ans.Text(), "UPG-8 is scheduled; a debrief is recorded once it is completed or rolled back.") {
				t.Errorf("debrief press for a scheduled upgrade: %+v", ans)
			}
			if ans := debrief(bob, "UPG-7"); ans.Type == discordgo.InteractionResponseModal || !ans.Ephemeral() ||
				!strings.Contains(ans.Text(), "You are not allowed to record the debrief of UPG-7") {
				t.Errorf("debrief press by someone not an owner: %+v", ans)
			}

			ans = debrief(alice, "UPG-7")
			if ans.Type != discordgo.InteractionResponseModal || ans.CustomID != "upgrade_debrief:UPG-7" || ans.Title != "Debrief UPG-7" {
				t.Fatalf("debrief press: %+v", ans)
			}
			in := ans.Inputs()
			if len(in) != 1 || in[0].CustomID != "text" || in[0].Label != "What happened, what to change" || in[0].Style != discordgo.TextInputParagraph || !in[0].Required {
				t.Errorf("modal inputs %+v", in)
			}

			ans = f.send(f.api.Submit(alice, "7777", ans.CustomID, map[string]string{"text": "  it went fine; warm the caches first next time \n"}))
			if !ans.Ephemeral() || ans.Text() != "done: debrief" {
				t.Errorf("submission: ephemeral %v %q", ans.Ephemeral(), ans.Text())
			}

			cmds, actors := rec.ran()
			want := []commands.Command{commands.Ready{ID: 7, Criterion: "2"}, commands.Debrief{ID: 7, Text: "it went fine; warm the caches first next time"}}
			if !reflect.DeepEqual(cmds, want) || !reflect.DeepEqual(actors, []string{"discord:1002", "discord:1001"}) {
				t.Errorf("ran %#v as %v", cmds, actors)
			}

			// What is not well formed is refused privately and runs nothing.
			for _, tc := range []struct{ id, want string }{
				{"upgrade_ready:UPG-7", "This Mark met button is not one of upgradebot's."},
				{"upgrade_ready:UPG-7:0", "This Mark met button is not one of upgradebot's."},
				{"upgrade_ready:UPG-7:two", "This Mark met button is not one of upgradebot's."},
				{"upgrade_ready:PAY-7:2", "This Mark met button is not one of upgradebot's."},
				{"upgrade_debrief:", "This Write debrief button is not one of upgradebot's."},
				{"upgrade_debrief:PAY-7", "This Write debrief button is not one of upgradebot's."},
			} {
				ans := f.send(f.api.Press(bob, root, tc.id))
				if !ans.Ephemeral() || !strings.Contains(ans.Text(), tc.want) {
					t.Errorf("%s: ephemeral %v %q", tc.id, ans.Ephemeral(), ans.Text())
				}
			}
			for _, tc := range []struct {
				id     string
				values map[string]string
				want   string
			}{
				{"upgrade_ack:UPG-7:brief", map[string]string{"text": "x"}, "This form is not one of upgradebot's."},
				{"upgrade_debrief:UPG-7:x", map[string]string{"text": "x"}, "This form is not one of upgradebot's."},
				{"upgrade_debrief:UPG-7", map[string]string{"text": "   "}, "The debrief is empty"},
				{"upgrade_debrief:UPG-7", map[string]string{"other": "x"}, "The debrief is empty"},
			} {
				ans := f.send(f.api.Submit(bob, chPayments, tc.id, tc.values))
				if !ans.Ephemeral() || !strings.Contains(ans.Text(), tc.want) {
					t.Errorf("submit %s %v: ephemeral %v %q", tc.id, tc.values, ans.Ephemeral(), ans.Text())
				}
			}
			if cmds, _ := rec.ran(); len(cmds) != 2 {
				t.Errorf("refusals ran %#v", cmds[2:])
			}
		})
	}
}

// TestModalSubmitNeedsTheSignature: a form submission is checked like every
// request: a bad signature is refused before anything runs.
func TestModalSubmitNeedsTheSignature(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.ready()
	rec := &recorder{Core: f.a.core}
	f.a.core = rec
	_, otherKey := discordtest.NewKey(t)
	body := discordtest.Marshal(t, f.api.Submit(alice, chPayments, "upgrade_debrief:UPG-1", map[string]string{"text": "forged"}))
	if status, _ := f.post(discordtest.SignedRequest(t, f.srv.URL+PathInteractions, otherKey, body, testNow)); status != http.StatusUnauthorized {
		t.Errorf("forged submission: status %d", status)
	}
	f.settle()
	if cmds, _ := rec.ran(); len(cmds) != 0 {
		t.Errorf("a forged submission ran %#v", cmds)
	}
	for _, c := range f.api.Calls() {
		if c.Op != "bulk_overwrite_commands" {
			t.Errorf("a forged submission made a Discord call: %s %s", c.Method, c.Path)
		}
	}
}

// TestCriterionAutocomplete: criterion suggests the criteria of the upgrade
// named by id, by number: the open ones for ready and waive, the others
// for unready.
func TestCriterionAutocomplete(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.ready()
	rec := &recorder{Core: f.a.core, upgrades: []*bot.Upgrade{{ID: 7, Service: "payments", State: bot.Scheduled, Readiness: []bot.Criterion{
		{Text: "backups verified", State: bot.CriterionMet, By: "alice"},
		{Text: "canary green", State: bot.CriterionOpen},
		{Text: "rollback plan reviewed", State: bot.CriterionOpen},
	}}}}
	f.a.core = rec
	choices := func(sub, id, typed string) string {
		r := f.send(f.api.Autocomplete(alice, chOps, sub, O("id", id), discordtest.Opt{Name: "criterion", Value: typed, Focused: true}))
		var out []string
		for _, c := range r.Choices {
			out = append(out, c.Name+"="+c.Value.(string))
		}
		return strings.Join(out, "|")
	}
	for _, tc := range []struct{ sub, id, typed, want string }{
		{"ready", "UPG-7", "", "2. canary green (open)=2|3. rollback plan reviewed (open)=3"},
		{"waive", "7", "roll", "3. rollback plan reviewed (open)=3"},
		{"unready", "#7", "", "1. backups verified (met)=1"},
		{"ready", "UPG-8", "", ""},
		{"ready", "", "", ""},
	} {
		if got := choices(tc.sub, tc.id, tc.typed); got != tc.want {
			t.Errorf("%s id:%s %q: %q, want %q", tc.sub, tc.id, tc.typed, got, tc.want)
		}
	}

	// With none met or waived, unready suggests nothing: an open criterion
	// cannot be opened again. Waived ones are suggested like met ones.
	rec.upgrades = []*bot.Upgrade{
		{ID: 8, Service: "payments", State: bot.Scheduled, Readiness: []bot.Criterion{
			{Text: "backups verified", State: bot.CriterionOpen}, {Text: "canary green", State: bot.CriterionOpen},
		}},
		{ID: 9, Service: "payments", State: bot.InProgress, Readiness: []bot.Criterion{
			{Text: "backups verified", State: bot.CriterionOpen}, {Text: "canary green", State: bot.CriterionWaived, By: "alice"},
		}},
	}
	for _, tc := range []struct{ sub, id, typed, want string }{
		{"unready", "UPG-8", "", ""},
		{"unready", "UPG-8", "backups", ""},
		{"unready", "UPG-9", "", "2. canary green (waived)=2"},
		{"ready", "UPG-9", "", "1. backups verified (open)=1"},
	} {
		if got := choices(tc.sub, tc.id, tc.typed); got != tc.want {
			t.Errorf("%s id:%s %q: %q, want %q", tc.sub, tc.id, tc.typed, got, tc.want)
		}
	}
}
