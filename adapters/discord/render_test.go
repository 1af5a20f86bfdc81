package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/commands"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// indentJSON encodes v readably: golden files keep <, > and & as they are.
func indentJSON(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func goldenDirectory() *bot.Directory {
	return bot.NewDirectory(bot.Config{
		People: []bot.Person{
			{Name: "alice", IDs: []string{"slack:U0ALICE", "discord:801"}},
			{Name: "bob", IDs: []string{"discord:802"}},
			{Name: "carol", IDs: []string{"discord:803"}},
			{Name: "dave", IDs: []string{"slack:U0DAVE"}},
		},
		Services: []bot.Service{
			{Name: "ledger", Owners: []string{"dave"}, Channels: []string{"slack:C0LEDGER"}},
			{Name: "payments", Owners: []string{"alice"}, Channels: []string{"discord:901"}, DependsOn: []string{"ledger"}},
			{Name: "checkout", Owners: []string{"bob", "carol", "discord:&950"}, DependsOn: []string{"payments"}},
		},
		Groups: []string{"discord:&950"},
	})
}

var start = time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)

func goldenUpgrade(d *bot.Directory) *bot.Upgrade {
	return &bot.Upgrade{
		ID: 7, Service: "payments", Version: "v2.4.0", Start: start, End: start.Add(90 * time.Minute),
		Region: "eu-west-1", Impact: "checkout <may> fail & *retry*", State: bot.Scheduled,
		Owners: d.OwnerKeys("payments"), CreatedBy: "alice", Audience: d.Audience("payments"),
		BlastRadius: d.Dependents("payments"), Channels: []string{"discord:901"},
	}
}

// sendJSON is a message as the adapter sends it to a channel.
func sendJSON(t *testing.T, m bot.Message) []byte {
	t.Helper()
	p := testStyle.render(m)
	return indentJSON(t, &discordgo.MessageSend{Content: p.Content, Embeds: p.Embeds, Components: p.Components, AllowedMentions: p.AllowedMentions})
}

func TestGoldenMessages(t *testing.T) {
	d := goldenDirectory()
	acks := []bot.Ack{
		{Scope: bot.ScopeBrief, Who: "bob", Via: "discord:802", At: start.Add(-time.Hour)},
		{Scope: bot.ScopeBrief, Who: "discord:899", Via: "discord:899", At: start.Add(-time.Hour)},
	}
	conflicted := goldenUpgrade(d)
	conflicted.Conflicts = []bot.Conflict{{ID: 5, Service: "ledger", Version: "v9", Start: start.Add(30 * time.Minute), End: start.Add(2 * time.Hour)}}
	conflicted.Release = &bot.Release{Repo: "acme/payments", Tag: "v2.4.0", Name: "Spring", URL: "https://github.com/acme/payments/releases/tag/v2.4.0"}
	rolled := goldenUpgrade(d)
	rolled.State, rolled.Reason = bot.RolledBack, "error rate > 5% & <rising>"
	done := goldenUpgrade(d)
	done.State = bot.Completed
	done.Failures = []bot.Failure{{Notice: "root", Target: "discord:904", Error: "discord create message: 50001 Missing Access"}}

	tests := []struct {
		name string
		msg  bot.Message
	}{
		{"root_scheduled", d.Root(goldenUpgrade(d), acks)},
		{"root_conflict_release", d.Root(conflicted, nil)},
		{"root_completed_failure", d.Root(done, acks)},
		{"rollback_alert", d.Notice(bot.KindRollback, rolled, bot.Decision{Actor: "alice"})},
		{"root_rolled_back", d.Root(rolled, acks)},
		{"started", d.Notice(bot.KindStarted, goldenUpgrade(d), bot.Decision{Actor: "alice", At: start.Add(-time.Hour)})},
		{"reminder", d.Reminder(goldenUpgrade(d), acks, time.Hour, 0)},
		{"window_open", d.WindowOpen(goldenUpgrade(d))},
		{"escalation", d.Escalation(rolled, bot.ScopeRollback)},
		{"overrun", d.Overrun(goldenUpgrade(d))},
		{"error_reply", bot.Message{Kind: bot.KindError, Lines: []bot.Text{
			bot.T("Unknown service \"pay<ments>\". Known services: checkout, ledger, payments."),
			bot.T("Usage: ").Code("/upgrade schedule <service> <version> at <time>"),
		}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.name, sendJSON(t, tc.msg))
		})
	}
}

func TestGoldenInteractionResponses(t *testing.T) {
	f := &Adapter{style: testStyle}
	reply := bot.Message{Kind: bot.KindReply, UpgradeID: "UPG-7", Lines: []bot.Text{
		bot.T("📋 Scheduled ").Bold("UPG-7 payments v2.4.0").Add(": ").Time(start).Add(" to ").Time(start.Add(time.Hour)).Add(" (1h)."),
		bot.T("Blast radius: checkout."),
	}, UTC: bot.T("In UTC: 2026-12-01 02:00 to 2026-12-01 03:00 UTC.")}
	for _, tc := range []struct {
		name string
		r    *discordgo.InteractionResponse
	}{
		{"answer_ephemeral", f.private(reply)},
		{"answer_deferred", deferred()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.name, indentJSON(t, tc.r))
		})
	}
	golden(t, "command", indentJSON(t, Definition()))
}

func TestMarkdown(t *testing.T) {
	at := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	d := goldenDirectory()
	tests := []struct {
		name string
		in   bot.Text
		want string
	}{
		{"plain escaped", bot.T("a < b & *c* _d_ `e` ~f~ |g| [h](i) #j"), `a \< b & \*c\* \_d\_ \` + "`e\\`" + ` \~f\~ \|g\| \[h\](i) #j`},
		{"no heading or list", bot.T("# big\n- item"), `\# big` + "\n" + `\- item`},
		{"no mention injection", bot.T("<@123> <@&456> @everyone"), `\<@123\> \<@&456\> @everyone`},
		{"bold keeps spaces outside", bot.Text{}.Bold(" UPG-7 "), " **UPG-7** "},
		{"bold escapes", bot.Text{}.Bold("a*b"), `**a\*b**`},
		{"code", bot.Text{}.Code("/upgrade <id>"), "`/upgrade <id>`"},
		{"code with a backtick", bot.Text{}.Code("a`b"), "`` a`b ``"},
		{"time", bot.Text{}.Time(at), "<t:1796090400:f> (<t:1796090400:R>)"},
		{"user", bot.Text{}.Mention(d.Principal("bob")), "<@802>"},
		{"person on two platforms", bot.Text{}.Mention(d.Principal("alice")), "<@801>"},
		{"role", bot.Text{}.Mention(d.Principal("discord:&950")), "<@&950>"},
		{"slack only", bot.Text{}.Mention(d.Principal("dave")), "@dave"},
		{"unlisted user", bot.Text{}.Mention(d.Principal("discord:77")), "<@77>"},
		{"channel", bot.Text{}.Channel("discord:901"), "<#901>"},
		{"slack channel, labelled", bot.Text{}.Channel("slack:C0LEDGER"), "#C0LEDGER (Slack)"},
		{"console channel, labelled", bot.Text{}.Channel("console:#ops"), "#ops (console)"},
		{"channels of both", bot.Text{}.Channels([]string{"discord:901", "slack:C0LEDGER"}), "<#901>, #C0LEDGER (Slack)"},
		{"link", bot.Text{}.Link("acme/payments v2", "https://github.com/acme/payments/releases/tag/v2 (x)"), "[acme/payments v2](https://github.com/acme/payments/releases/tag/v2%20%28x%29)"},
		{"bare link", bot.Text{}.Link("", "https://example.com/a"), "https://example.com/a"},
		{"hint", bot.Text{}.Command(bot.Hint{Verb: "start", Args: []bot.Arg{{Name: "id", Value: "UPG-7"}}}), "`/upgrade start id:UPG-7`"},
		{"hint with holes", bot.Text{}.Command(bot.Hint{Verb: "schedule", Args: []bot.Arg{{Name: "service"}, {Name: "when", Keyword: "at", Placeholder: "<time>"}}}),
			"`/upgrade schedule service:<service> when:<time>`"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := testStyle.markdown(tc.in); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestAllowedMentions: a notice pings exactly whom it calls: the reminder
// those who have not acknowledged, the rollback alert the audience but not
// the person named as its author, and nobody for the root, the started
// notice, an answer or a direct message.
func TestAllowedMentions(t *testing.T) {
	d := goldenDirectory()
	u := goldenUpgrade(d)
	acks := []bot.Ack{{Scope: bot.ScopeBrief, Who: "bob", Via: "discord:802", At: start}}
	rolled := goldenUpgrade(d)
	rolled.State, rolled.Reason = bot.RolledBack, "latency"
	bobAdmin := bot.Decision{Actor: "discord:555"} // an admin outside the audience rolls back
	tests := []struct {
		name         string
		m            bot.Message
		users, roles []string
	}{
		{"root", d.Root(u, acks), nil, nil},
		{"reminder", d.Reminder(u, acks, time.Hour, 0), []string{"801", "803"}, []string{"950"}},
		{"rollback", d.Notice(bot.KindRollback, rolled, bobAdmin), []string{"801", "802", "803"}, []string{"950"}},
		{"window open", d.WindowOpen(u), []string{"801"}, nil},
		{"overrun", d.Overrun(u), []string{"801"}, nil},
		{"started", d.Notice(bot.KindStarted, u, bot.Decision{Actor: "alice", At: start}), nil, nil},
		{"escalation", d.Escalation(u, bot.ScopeBrief), nil, nil},
		{"answer", bot.Message{Kind: bot.KindReply, Lines: []bot.Text{bot.Text{}.Mention(d.Principal("bob"))}}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			am := testStyle.render(tc.m).AllowedMentions
			if am == nil || am.Parse == nil || len(am.Parse) != 0 {
				t.Fatalf("allowed_mentions must be sent with an empty parse list: %+v", am)
			}
			if !slices.Equal(am.Users, tc.users) || !slices.Equal(am.Roles, tc.roles) {
				t.Errorf("users %v roles %v, want %v %v", am.Users, am.Roles, tc.users, tc.roles)
			}
		})
	}
	if c := testStyle.render(d.Notice(bot.KindRollback, rolled, bobAdmin)).Content; !strings.Contains(c, "Rolled back by <@555>") {
		t.Errorf("the author is still named: %s", c)
	}
}

// TestLimits: messages too big for Discord are cut, with a pointer to show,
// never refused: a rollback alert to 400 people, a huge impact, 40 conflicts.
func TestLimits(t *testing.T) {
	var people []bot.Person
	var owners []string
	for i := range 400 {
		name := fmt.Sprintf("p%03d", i)
		people = append(people, bot.Person{Name: name, IDs: []string{fmt.Sprintf("discord:%d", 100000000000000000+i)}})
		owners = append(owners, name)
	}
	d := bot.NewDirectory(bot.Config{People: people, Services: []bot.Service{{Name: "payments", Owners: owners}}})
	u := &bot.Upgrade{ID: 7, Service: "payments", Version: "v2", Start: start, End: start.Add(time.Hour), State: bot.RolledBack,
		Owners: d.OwnerKeys("payments"), Audience: d.Audience("payments"), Reason: strings.Repeat("why ", 50),
		Impact: strings.Repeat("x", 3000)}
	for i := range 40 {
		u.Conflicts = append(u.Conflicts, bot.Conflict{ID: i + 10, Service: "ledger", Version: "v9", Start: start, End: start.Add(time.Hour)})
	}
	u.State = bot.Scheduled
	root := testStyle.render(d.Root(u, nil))
	u.State = bot.RolledBack
	alert := testStyle.render(d.Notice(bot.KindRollback, u, bot.Decision{Actor: "p000"}))

	if n := utf8.RuneCountInString(alert.Content); n > maxContent {
		t.Errorf("alert content is %d characters", n)
	}
	if !strings.HasSuffix(alert.Content, "(cut: too long for one Discord message; see `/upgrade show id:UPG-7`)") {
		t.Errorf("the cut alert does not point to show: …%s", alert.Content[len(alert.Content)-120:])
	}
	if n := len(alert.AllowedMentions.Users); n == 0 || n > maxMentions || n != strings.Count(alert.Content, "<@")-1 {
		t.Errorf("%d users allowed for %d mentions shown", n, strings.Count(alert.Content, "<@"))
	}
	e := root.Embeds[0]
	total := utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Description)
	if len(e.Fields) > maxEmbedFields {
		t.Errorf("%d fields", len(e.Fields))
	}
	for _, f := range e.Fields {
		if utf8.RuneCountInString(f.Value) > maxFieldValue || f.Value == "" {
			t.Errorf("field %s has %d characters", f.Name, utf8.RuneCountInString(f.Value))
		}
		total += utf8.RuneCountInString(f.Name) + utf8.RuneCountInString(f.Value)
	}
	if total > maxEmbedTotal || utf8.RuneCountInString(e.Description) > maxEmbedDesc {
		t.Errorf("embed has %d characters, description %d", total, utf8.RuneCountInString(e.Description))
	}
	if last := e.Fields[len(e.Fields)-1]; last.Value != "22 more not shown; see `/upgrade show id:UPG-7`" {
		t.Errorf("the last field is %q", last.Value)
	}
	if !strings.HasPrefix(e.Description, "Acknowledged 0/400") || !strings.HasSuffix(e.Description, "(cut: too long for one Discord message; see `/upgrade show id:UPG-7`)") {
		t.Errorf("description: %s", e.Description)
	}
}

func TestAckIDRoundTrip(t *testing.T) {
	btn := bot.AckButton{UpgradeID: "UPG-7", Scope: bot.ScopeRollback}
	if got := ackID(btn); got != "upgrade_ack:UPG-7:rollback" {
		t.Fatalf("custom_id %q", got)
	}
	if got, ok := parseAckID(ackID(btn)); !ok || got != btn {
		t.Fatalf("round trip: %+v %v", got, ok)
	}
	for _, bad := range []string{"", "upgrade_ack", "upgrade_ack:", "upgrade_ack:UPG-7", "upgrade_ack::brief", "upgrade_ack:UPG-7:", "other:UPG-7:brief", "upgrade_ack:UPG-7:brief:x"} {
		if _, ok := parseAckID(bad); ok {
			t.Errorf("%q parsed as a button of ours", bad)
		}
	}
}

// Every subcommand of the grammar is a subcommand of the Discord command,
// so a verb added to the grammar cannot be forgotten here.
func TestDefinitionHasEveryVerb(t *testing.T) {
	have := map[string]bool{}
	for _, o := range Definition().Options {
		have[o.Name] = true
	}
	for _, n := range commands.Names() {
		if !have[n] {
			t.Errorf("the Discord command has no %q subcommand", n)
		}
	}
}

// TestLongReasonKeepsTheCall: a rollback reason of 1,950 characters (the
// core takes up to 2,000) is shortened in the alert, which still calls the
// whole audience and shows the rollback plan; show has the reason in full.
func TestLongReasonKeepsTheCall(t *testing.T) {
	d := goldenDirectory()
	rolled := goldenUpgrade(d)
	rolled.State, rolled.Reason = bot.RolledBack, strings.TrimSpace(strings.Repeat("word ", 390))
	rolled.Plan = &bot.Record{Text: "flip the flag back", By: "alice", At: start}
	p := testStyle.render(d.Notice(bot.KindRollback, rolled, bot.Decision{Actor: "alice"}))
	if n := utf8.RuneCountInString(p.Content); n > maxContent {
		t.Fatalf("alert content is %d characters", n)
	}
	for _, want := range []string{"Reason: word word", "word…", "<@801> <@802> <@803> <@&950> please acknowledge.", "Rollback plan: flip the flag back",
		"(cut: too long for one Discord message; see `/upgrade show id:UPG-7`)"} {
		if !strings.Contains(p.Content, want) {
			t.Errorf("the alert lacks %q:\n%s", want, p.Content)
		}
	}
	if am := p.AllowedMentions; !slices.Equal(am.Users, []string{"801", "802", "803"}) || !slices.Equal(am.Roles, []string{"950"}) {
		t.Errorf("the alert calls users %v roles %v", am.Users, am.Roles)
	}
}

// TestStatsHintIsTypable: the stats answer points to its help the Discord
// way, with the help command's own option.
func TestStatsHintIsTypable(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	m := f.b.Do(context.Background(), bot.Invocation{Actor: bot.Actor{ID: "discord:1001", Name: "alice"}}, commands.Stats{})
	content := testStyle.markdown(m.Lines[len(m.Lines)-1])
	if !strings.Contains(content, "`/upgrade help topic:stats`") {
		t.Errorf("the stats answer ends %q", content)
	}
	var help *discordgo.ApplicationCommandOption
	for _, o := range Definition().Options {
		if o.Name == "help" {
			help = o
		}
	}
	if help == nil || len(help.Options) != 1 || help.Options[0].Name != "topic" {
		t.Fatalf("the help subcommand's options: %+v", help)
	}
}

// TestShowRestatesTheWindowInUTC: show's window is in each reader's zone,
// and restated in UTC, as schedule's answer is.
func TestShowRestatesTheWindowInUTC(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	ctx := context.Background()
	u := &bot.Upgrade{ID: 7, Service: "payments", Version: "v2.4.0", Start: start, End: start.Add(2 * time.Hour), State: bot.Scheduled, Rev: 1}
	if err := f.st.Create(ctx, u, bot.Decision{At: testNow, Actor: "alice", Action: bot.ActionScheduled}); err != nil {
		t.Fatal(err)
	}
	m := f.b.Do(ctx, bot.Invocation{Actor: bot.Actor{ID: "discord:1001", Name: "alice"}}, commands.Show{ID: 7})
	p := testStyle.render(m)
	if len(p.Embeds) != 1 {
		t.Fatalf("show renders %+v", p)
	}
	want := "In UTC: " + start.UTC().Format("2006-01-02 15:04") + " to " + start.Add(2*time.Hour).UTC().Format("2006-01-02 15:04") + " UTC."
	if !strings.Contains(p.Embeds[0].Description, want) {
		t.Errorf("show's description lacks %q:\n%s", want, p.Embeds[0].Description)
	}
}

// TestAnswersNamePeopleAndTimesTheDiscordWay: an answer that names who did
// something and when writes a Discord mention (which does not call, in an
// answer) and a Discord timestamp, not "@bob" and a UTC string.
func TestAnswersNamePeopleAndTimesTheDiscordWay(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	ctx := context.Background()
	u := &bot.Upgrade{ID: 7, Service: "payments", Version: "v2.4.0", Start: start, End: start.Add(time.Hour), State: bot.Scheduled, Rev: 1,
		Owners:    []string{"alice"},
		Readiness: []bot.Criterion{{Text: "backups verified", State: bot.CriterionMet, By: "bob", At: testNow}}}
	if err := f.st.Create(ctx, u, bot.Decision{At: testNow, Actor: "alice", Action: bot.ActionScheduled}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		who   bot.Actor
		cmd   commands.Command
		wants []string
	}{
		{bot.Actor{ID: "discord:1001", Name: "alice"}, commands.Ready{ID: 7, Criterion: "1"},
			[]string{"is already met (by <@1002>, <t:" + strconv.FormatInt(testNow.Unix(), 10) + ":f>"}},
		{bot.Actor{ID: "discord:1003", Name: "carol"}, commands.Start{ID: 7},
			[]string{"only the owners of payments (<@1001>) or an admin may."}},
	} {
		p := testStyle.render(f.b.Do(ctx, bot.Invocation{Actor: tc.who}, tc.cmd))
		for _, w := range tc.wants {
			if !strings.Contains(p.Content, w) {
				t.Errorf("%s: the answer lacks %q:\n%s", tc.cmd.Name(), w, p.Content)
			}
		}
		if am := p.AllowedMentions; len(am.Users) != 0 || len(am.Roles) != 0 {
			t.Errorf("%s: an answer calls %v %v", tc.cmd.Name(), am.Users, am.Roles)
		}
	}
}

// TestArgumentHints: a hint without a subcommand is the options alone,
// as Discord users give them; the typed grammar writes the same words
// without the command.
func TestArgumentHints(t *testing.T) {
	h := bot.Hint{Args: []bot.Arg{{Name: "anyway", Keyword: "anyway", Placeholder: "<reason...>"}}}
	if got := testStyle.hint(h); got != "anyway:<reason...>" {
		t.Errorf("Discord: %q", got)
	}
	if got := h.Typed("/upgrade"); got != "anyway <reason...>" {
		t.Errorf("typed: %q", got)
	}
	line := bot.T("override it with ").Command(h).Add(".")
	if got := testStyle.markdown(line); got != "override it with `anyway:<reason...>`." {
		t.Errorf("Discord line: %q", got)
	}
	if got := line.Plain(nil); got != "override it with anyway <reason...>." {
		t.Errorf("plain line: %q", got)
	}
}

// An optional argument left to fill in shows in brackets, as in the usage
// (QA: "cancel it with /upgrade cancel UPG-1 <reason...>", which takes no
// reason if none is given); one with a value shows as is.
func TestOptionalArgumentHints(t *testing.T) {
	why := bot.Arg{Name: "reason", Placeholder: "<reason...>", Optional: true}
	h := bot.Hint{Verb: "cancel", Args: []bot.Arg{{Name: "id", Value: "UPG-1"}, why}}
	if got := testStyle.hint(h); got != "/upgrade cancel id:UPG-1 [reason:<reason...>]" {
		t.Errorf("Discord: %q", got)
	}
	if got := h.Typed("/upgrade"); got != "/upgrade cancel UPG-1 [<reason...>]" {
		t.Errorf("typed: %q", got)
	}
	why.Value = "late"
	h.Args[1] = why
	if got, want := testStyle.hint(h)+" | "+h.Typed("/upgrade"), "/upgrade cancel id:UPG-1 reason:late | /upgrade cancel UPG-1 late"; got != want {
		t.Errorf("with a value: %q, want %q", got, want)
	}
}

// A list too long for one message ends with how to narrow it, written as
// Discord's options, in plain content and in an embed alike.
func TestACutListSaysHowToNarrowIt(t *testing.T) {
	for _, tc := range []struct {
		narrow bot.Hint
		want   string
	}{
		{bot.Hint{Verb: "list", Args: []bot.Arg{{Name: "service"}}}, "(cut: too long for one Discord message; narrow it with `/upgrade list service:<service>`)"},
		{bot.Hint{Verb: "list", Args: []bot.Arg{{Name: "service", Value: "payments"}}}, "(cut: too long for one Discord message; narrow it with `/upgrade list service:payments`)"},
	} {
		m := bot.Message{Title: "Upcoming and running upgrades", Narrow: &tc.narrow}
		for i := range 300 {
			m.Lines = append(m.Lines, bot.T(fmt.Sprintf("• UPG-%d payments v2.%d · scheduled · tomorrow", i, i)))
		}
		p := testStyle.render(m)
		text := p.Content
		if len(p.Embeds) > 0 {
			text = p.Embeds[0].Description
		}
		if !strings.HasSuffix(text, tc.want) {
			t.Errorf("the cut list ends …%s\nwant …%s", text[max(0, len(text)-120):], tc.want)
		}
		m.Kind = bot.KindReminder // not private: plain content
		if p := testStyle.render(m); !strings.HasSuffix(p.Content, tc.want) {
			t.Errorf("the cut content ends …%s\nwant …%s", p.Content[max(0, len(p.Content)-120):], tc.want)
		}
	}
}

// A show too long for one Discord message said "see /upgrade show id:UPG-7",
// the command that gave it; it now says where what was cut can be read, as
// the core words it (Elsewhere), in its description and its last field.
func TestACutShowPointsElsewhere(t *testing.T) {
	m := bot.Message{UpgradeID: "UPG-7", Title: "UPG-7 payments v2",
		Elsewhere: bot.T("its decisions with ").Command(bot.Hint{Verb: "log", Args: []bot.Arg{{Name: "id", Value: "UPG-7"}}})}
	for i := range 40 {
		m.Fields = append(m.Fields, bot.Field{Label: fmt.Sprintf("F%d", i), Value: bot.T("x")})
	}
	for i := range 300 {
		m.Lines = append(m.Lines, bot.T(fmt.Sprintf("⚠ Failed delivery %d of the reminder: %s", i, strings.Repeat("x", 40))))
	}
	e := testStyle.render(m).Embeds[0]
	if want := "(cut: too long for one Discord message; see its decisions with `/upgrade log id:UPG-7`)"; !strings.HasSuffix(e.Description, want) {
		t.Errorf("the cut show ends …%s\nwant …%s", e.Description[max(0, len(e.Description)-120):], want)
	}
	if last := e.Fields[len(e.Fields)-1]; last.Value != "16 more not shown; see its decisions with `/upgrade log id:UPG-7`" {
		t.Errorf("the last field is %q", last.Value)
	}
}
