package slack

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/upgradebot/upgradebot/bot"
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

func testDirectory() *bot.Directory {
	return bot.NewDirectory(bot.Config{
		People: []bot.Person{
			{Name: "alice", IDs: []string{"slack:U0ALICE", "discord:801"}},
			{Name: "bob", IDs: []string{"slack:U0BOB"}},
			{Name: "carol", IDs: []string{"slack:U0CAROL"}},
			{Name: "dave", IDs: []string{"slack:U0DAVE"}},
			{Name: "erin", IDs: []string{"discord:805"}},
		},
		Services: []bot.Service{
			{Name: "ledger", Owners: []string{"dave"}, Channels: []string{"slack:C0LEDGER"}},
			{Name: "payments", Owners: []string{"alice"}, Channels: []string{"slack:C0PAYMENTS"}, DependsOn: []string{"ledger"}},
			{Name: "checkout", Owners: []string{"bob", "carol", "slack:S0SRE", "erin"}, DependsOn: []string{"payments"}},
		},
	})
}

var start = time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)

func testUpgrade(d *bot.Directory) *bot.Upgrade {
	return &bot.Upgrade{
		ID: 7, Service: "payments", Version: "v2.4.0", Start: start, End: start.Add(90 * time.Minute),
		Region: "eu-west-1", Impact: "checkout <may> fail & retry", State: bot.Scheduled,
		Owners: d.OwnerKeys("payments"), CreatedBy: "alice", Audience: d.Audience("payments"),
		BlastRadius: d.Dependents("payments"), Channels: []string{"slack:C0PAYMENTS"},
	}
}

func renderJSON(t *testing.T, m bot.Message) []byte {
	t.Helper()
	return indentJSON(t, struct {
		Text   string          `json:"text"`
		Blocks []slackgo.Block `json:"blocks"`
	}{testStyle.fallback(m), testStyle.blocks(m)})
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

func TestGoldenMessages(t *testing.T) {
	d := testDirectory()
	acks := []bot.Ack{
		{Scope: bot.ScopeBrief, Who: "bob", Via: "slack:U0BOB", At: start.Add(-time.Hour)},
		{Scope: bot.ScopeBrief, Who: "slack:U0ZED", Via: "slack:U0ZED", At: start.Add(-time.Hour)},
	}
	conflicted := testUpgrade(d)
	conflicted.Conflicts = []bot.Conflict{{ID: 5, Service: "ledger", Version: "v9", Start: start.Add(30 * time.Minute), End: start.Add(2 * time.Hour)}}
	conflicted.Release = &bot.Release{Repo: "acme/payments", Tag: "v2.4.0", Name: "Spring", URL: "https://github.com/acme/payments/releases/tag/v2.4.0"}
	rolled := testUpgrade(d)
	rolled.State, rolled.Reason = bot.RolledBack, "error rate > 5% & <rising>"
	done := testUpgrade(d)
	done.State = bot.Completed
	done.Failures = []bot.Failure{{Notice: "root", Target: "slack:C0GONE", Error: "slack chat.postMessage: channel_not_found"}}

	tests := []struct {
		name string
		msg  bot.Message
	}{
		{"root_scheduled", d.Root(testUpgrade(d), acks)},
		{"root_conflict_release", d.Root(conflicted, nil)},
		{"root_completed_failure", d.Root(done, acks)},
		{"rollback_alert", d.Notice(bot.KindRollback, rolled, bot.Decision{Actor: "alice"})},
		{"root_rolled_back", d.Root(rolled, acks)},
		{"reminder", d.Reminder(testUpgrade(d), acks, time.Hour, 0)},
		{"escalation", d.Escalation(rolled, bot.ScopeRollback)},
		{"overrun", d.Overrun(testUpgrade(d))},
		{"error_reply", bot.Message{Kind: bot.KindError, Lines: []bot.Text{
			bot.T("Unknown service \"pay<ments>\". Known services: checkout, ledger, payments."),
			bot.T("Usage: ").Code("/upgrade schedule <service> <version> at <time>"),
		}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.name, renderJSON(t, tc.msg))
		})
	}
}

func TestGoldenReplyPayloads(t *testing.T) {
	reply := bot.Message{Kind: bot.KindReply, UpgradeID: "UPG-7", Lines: []bot.Text{
		bot.T("📋 Scheduled ").Bold("UPG-7 payments v2.4.0").Add(": ").Time(start).Add(" to ").Time(start.Add(time.Hour)).Add(" (1h)."),
		bot.T("Blast radius: checkout."),
	}, UTC: bot.T("In UTC: 2026-12-01 02:00 to 2026-12-01 03:00 UTC.")}
	for _, tc := range []struct {
		name string
		p    answer
	}{
		{"answer_ephemeral", testStyle.payload(reply)},
		{"answer_working", testStyle.workingOnIt()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.name, indentJSON(t, tc.p))
		})
	}
}

func TestMrkdwn(t *testing.T) {
	at := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   bot.Text
		want string
	}{
		{"plain escaped", bot.T("a < b & c > d"), "a &lt; b &amp; c &gt; d"},
		{"no broadcast injection", bot.T("<!channel> hi"), "&lt;!channel&gt; hi"},
		{"bold", bot.T("x ").Bold("UPG-7"), "x *UPG-7*"},
		{"bold keeps spaces outside", bot.Text{}.Bold(" UPG-7 "), " *UPG-7* "},
		{"bold empty", bot.Text{}.Bold("  "), "  "},
		{"code", bot.Text{}.Code("/upgrade ack <id>"), "`/upgrade ack &lt;id&gt;`"},
		{"time", bot.Text{}.Time(at), "<!date^1796090400^{date_short_pretty} {time}|2026-12-01 02:00 UTC>"},
		{"time in another zone renders UTC fallback", bot.Text{}.Time(at.In(time.FixedZone("X", 3600))), "<!date^1796090400^{date_short_pretty} {time}|2026-12-01 02:00 UTC>"},
		{"user", bot.Text{}.Mention(bot.Principal{Key: "bob", Name: "bob", IDs: []string{"discord:1", "slack:U0BOB"}}), "<@U0BOB>"},
		{"enterprise user", bot.Text{}.Mention(bot.Principal{Key: "w", IDs: []string{"slack:W0ENT"}}), "<@W0ENT>"},
		{"group", bot.Text{}.Mention(bot.Principal{Key: "slack:S0SRE", Name: "S0SRE", IDs: []string{"slack:S0SRE"}}), "<!subteam^S0SRE>"},
		{"channel", bot.Text{}.Channel("slack:C0654321"), "<#C0654321>"},
		{"discord channel, labelled", bot.Text{}.Channel("discord:112233445566778800"), "#112233445566778800 (Discord)"},
		{"console channel, labelled", bot.Text{}.Channel("console:#ops"), "#ops (console)"},
		{"channels of both", bot.Text{}.Channels([]string{"slack:C0654321", "discord:112233445566778800"}), "<#C0654321>, #112233445566778800 (Discord)"},
		{"not on slack", bot.Text{}.Mention(bot.Principal{Key: "erin", Name: "erin", IDs: []string{"discord:805"}}), "@erin"},
		{"no name", bot.Text{}.Mention(bot.Principal{Key: "console:x<y"}), "@console:x&lt;y"},
		{"link", bot.Text{}.Link("acme/payments v2 <beta>", "https://github.com/acme/payments/releases/tag/v2?a=1&b=2"), "<https://github.com/acme/payments/releases/tag/v2?a=1&amp;b=2|acme/payments v2 &lt;beta&gt;>"},
		{"link cannot close early", bot.Text{}.Link("x", "https://e.com/a|b>c"), "<https://e.com/a%7Cb%3Ec|x>"},
		{"bare link", bot.Text{}.Link("", "https://e.com"), "<https://e.com>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := testStyle.mrkdwn(tc.in); got != tc.want {
				t.Errorf("mrkdwn = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestBlocksStayWithinSlackLimits(t *testing.T) {
	long := strings.Repeat("ü", 4000)
	m := bot.Message{Title: strings.Repeat("T", 300), Ack: &bot.AckButton{UpgradeID: "UPG-1", Scope: bot.ScopeBrief}}
	for i := 0; i < 25; i++ {
		m.Fields = append(m.Fields, bot.Field{Label: "F", Value: bot.T(long)})
	}
	for i := 0; i < 200; i++ {
		m.Lines = append(m.Lines, bot.T(long))
	}
	bs := testStyle.blocks(m)
	if len(bs) > maxBlocks {
		t.Fatalf("%d blocks, Slack takes %d", len(bs), maxBlocks)
	}
	if _, ok := bs[len(bs)-1].(*slackgo.ActionBlock); !ok {
		t.Errorf("the Acknowledge button must survive truncation; last block is %T", bs[len(bs)-1])
	}
	for i, b := range bs {
		switch b := b.(type) {
		case *slackgo.HeaderBlock:
			if n := len([]rune(b.Text.Text)); n > maxHeader {
				t.Errorf("block %d: header of %d characters", i, n)
			}
		case *slackgo.SectionBlock:
			if b.Text != nil && len(b.Text.Text) > maxSectionText {
				t.Errorf("block %d: section text of %d bytes", i, len(b.Text.Text))
			}
			if len(b.Fields) > maxFields {
				t.Errorf("block %d: %d fields", i, len(b.Fields))
			}
			for _, f := range b.Fields {
				if len(f.Text) > maxField {
					t.Errorf("block %d: field of %d bytes", i, len(f.Text))
				}
			}
		}
	}
	if got := testStyle.fallback(m); len(got) > maxFallbackText {
		t.Errorf("fallback text of %d bytes", len(got))
	}
}

func TestFallbackIsPlainAndMarksAlerts(t *testing.T) {
	d := testDirectory()
	u := testUpgrade(d)
	u.State, u.Reason = bot.RolledBack, "db <down>"
	got := testStyle.fallback(d.Notice(bot.KindRollback, u, bot.Decision{Actor: "alice"}))
	if !strings.HasPrefix(got, "🚨 ROLLBACK: UPG-7 payments v2.4.0") {
		t.Errorf("rollback fallback starts %q", got[:40])
	}
	if !strings.Contains(got, "db &lt;down&gt;") || strings.Contains(got, "<down>") {
		t.Errorf("user text must be escaped in the fallback: %q", got)
	}
	if got := testStyle.fallback(bot.Message{Alert: true, Lines: []bot.Text{bot.T("Something is on fire.")}}); !strings.HasPrefix(got, ":rotating_light: Something") {
		t.Errorf("an alert without an emoji of its own gets the alarm: %q", got)
	}
	if got := testStyle.fallback(bot.Message{}); got == "" {
		t.Error("fallback must never be empty (Slack refuses no_text)")
	}
}

func TestUnescapeTypedText(t *testing.T) {
	tests := map[string]string{
		"impact a &amp; b":        "impact a & b",
		"&lt;after&gt; deploy":    "<after> deploy",
		"literal &amp;lt; stays":  "literal &lt; stays",
		"no entities":             "no entities",
		"&quot;quotes&quot; stay": "&quot;quotes&quot; stay",
	}
	for in, want := range tests {
		if got := unescape(in); got != want {
			t.Errorf("unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLongMentionLineKeepsEveryMention: a rollback alert to 300 people is
// longer than one section may be; it continues in the next section and
// every mention arrives whole.
func TestLongMentionLineKeepsEveryMention(t *testing.T) {
	var ps []bot.Principal
	for i := range 300 {
		ps = append(ps, bot.Principal{Key: fmt.Sprintf("u%d", i), IDs: []string{fmt.Sprintf("slack:U%08d", i)}})
	}
	m := bot.Message{Kind: bot.KindRollback, Lines: []bot.Text{bot.Text{}.Mentions(ps).Add(" please acknowledge.")}}
	var all strings.Builder
	for _, b := range testStyle.blocks(m) {
		sec, ok := b.(*slackgo.SectionBlock)
		if !ok || sec.Text == nil {
			continue
		}
		if len(sec.Text.Text) > maxSectionText {
			t.Fatalf("a section of %d bytes; Slack refuses more than %d", len(sec.Text.Text), maxSectionText)
		}
		all.WriteString(sec.Text.Text + "\n")
	}
	got := all.String()
	for i := range 300 {
		if !strings.Contains(got, fmt.Sprintf("<@U%08d>", i)) {
			t.Fatalf("mention %d lost:\n%s", i, got)
		}
	}
	if !strings.Contains(got, "please acknowledge.") || strings.Count(got, "<@") != 300 {
		t.Fatalf("line not whole:\n%s", got)
	}
}

// TestEveryNoticeFallbackLeadsWithOneEmoji: the notification text of every
// notice starts with exactly one emoji, never the alarm on top of its own.
func TestEveryNoticeFallbackLeadsWithOneEmoji(t *testing.T) {
	d := testDirectory()
	u := testUpgrade(d)
	u.Release = &bot.Release{Repo: "acme/payments", Tag: "v2.4.0", URL: "https://github.com/acme/payments/releases/tag/v2.4.0"}
	rolled := testUpgrade(d)
	rolled.State, rolled.Reason = bot.RolledBack, "errors"
	notices := map[string]bot.Message{
		"reminder":            d.Reminder(u, nil, time.Hour, 0),
		"window_open":         d.WindowOpen(u),
		"started":             d.Notice(bot.KindStarted, u, bot.Decision{Actor: "alice"}),
		"completed":           d.Notice(bot.KindCompleted, u, bot.Decision{Actor: "alice"}),
		"cancelled":           d.Notice(bot.KindCancelled, u, bot.Decision{Actor: "alice"}),
		"rescheduled":         d.Notice(bot.KindRescheduled, u, bot.Decision{Actor: "alice", PrevStart: start.Add(-time.Hour), PrevEnd: u.End.Add(-time.Hour)}),
		"extended":            d.Notice(bot.KindExtended, u, bot.Decision{Actor: "alice", By: time.Hour}),
		"rollback":            d.Notice(bot.KindRollback, rolled, bot.Decision{Actor: "alice"}),
		"overrun":             d.Overrun(u),
		"escalation brief":    d.Escalation(u, bot.ScopeBrief),
		"escalation rollback": d.Escalation(rolled, bot.ScopeRollback),
		"release_linked":      d.Linked(u),
	}
	for name, m := range notices {
		got := testStyle.fallback(m)
		first, rest, _ := strings.Cut(got, " ")
		if !startsWithEmoji(first) && !strings.HasPrefix(first, ":") {
			t.Errorf("%s: fallback %q does not lead with an emoji", name, got)
		}
		if r := strings.TrimSpace(rest); startsWithEmoji(r) || strings.HasPrefix(r, ":") {
			t.Errorf("%s: fallback %q leads with two emoji", name, got)
		}
	}
}

// splitMarkup returns what is wrong with mrkdwn s that a cut may have
// broken: an escape (&amp;, &lt;, &gt;) or a Slack token (<@U…>,
// <!date…>, <url|label>) cut in two; "" when nothing is.
func splitMarkup(s string) string {
	s = strings.TrimSuffix(s, "…")
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '&':
			rest := s[i:]
			if !strings.HasPrefix(rest, "&amp;") && !strings.HasPrefix(rest, "&lt;") && !strings.HasPrefix(rest, "&gt;") {
				return fmt.Sprintf("a split escape at byte %d: %q", i, rest[:min(len(rest), 8)])
			}
		case '<':
			j := strings.IndexByte(s[i:], '>')
			if j < 0 {
				return fmt.Sprintf("a split token at byte %d: %q", i, s[i:min(len(s), i+20)])
			}
			i += j
		}
	}
	return ""
}

// TestTruncationSplitsNoEscapeOrToken: QA scheduled with an impact of 1000
// "&"; the Impact field was cut at Slack's 2,000 characters in the middle of
// an escape (…&amp;&am…), and the plain-text fallback too. A cut moves back
// to the start of the escape or token it would split.
func TestTruncationSplitsNoEscapeOrToken(t *testing.T) {
	d := testDirectory()
	u := testUpgrade(d)
	for _, impact := range []string{strings.Repeat("&", 1000), "x" + strings.Repeat("&", 1000), "xy" + strings.Repeat("<", 1000), strings.Repeat("&", 1000) + strings.Repeat("a", 3000)} {
		u.Impact = impact
		m := d.Root(u, nil)
		m.Lines = append(m.Lines, bot.T("impact "+impact+impact))
		for i, b := range testStyle.blocks(m) {
			sec, ok := b.(*slackgo.SectionBlock)
			if !ok {
				continue
			}
			if sec.Text != nil {
				if why := splitMarkup(sec.Text.Text); why != "" {
					t.Errorf("block %d, section text: %s", i, why)
				}
			}
			for _, f := range sec.Fields {
				if why := splitMarkup(f.Text); why != "" {
					t.Errorf("block %d, field %.20q: %s", i, f.Text, why)
				}
				if len(f.Text) > maxField {
					t.Errorf("field of %d bytes", len(f.Text))
				}
			}
		}
		if fb := testStyle.fallback(m); splitMarkup(fb) != "" || len(fb) > maxFallbackText {
			t.Errorf("fallback of %d bytes: %s", len(fb), splitMarkup(fb))
		}
	}
	// A single span longer than a section: a link or a time is dropped
	// whole rather than cut.
	for _, s := range []string{
		truncate("ab"+link("x", "https://example.com/"+strings.Repeat("a", 40)), 30),
		truncate(strings.Repeat("x", 20)+slackDate(time.Unix(1_790_000_000, 0)), 30),
		truncate("abc"+mention(bot.Principal{IDs: []string{"slack:U0123456789"}}), 10),
	} {
		if why := splitMarkup(s); why != "" || !strings.HasSuffix(s, "…") {
			t.Errorf("%q: %s", s, why)
		}
	}
}

// A list too long for one message ends with how to narrow it, typed as on
// Slack, like Discord's in its own syntax.
func TestACutListSaysHowToNarrowIt(t *testing.T) {
	m := bot.Message{Title: "Upcoming and running upgrades", Narrow: &bot.Hint{Verb: "list", Args: []bot.Arg{{Name: "service"}}}}
	for i := range 3000 {
		m.Lines = append(m.Lines, bot.T(fmt.Sprintf("• UPG-%d payments v2.%d · scheduled · %s", i, i, strings.Repeat("x", 200))))
	}
	bs := testStyle.blocks(m)
	if len(bs) > maxBlocks {
		t.Fatalf("%d blocks", len(bs))
	}
	last, ok := bs[len(bs)-1].(*slackgo.SectionBlock)
	if want := "… (cut: too long for one Slack message; narrow it with `/upgrade list &lt;service&gt;`)"; !ok || last.Text == nil || last.Text.Text != want {
		t.Errorf("the last block is %#v, want the note %q", last.Text, want)
	}
}
