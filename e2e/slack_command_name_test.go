package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	slackgo "github.com/slack-go/slack"

	slackadapter "github.com/upgradebot/upgradebot/adapters/slack"
)

// TestSlackHelpAndUsageSayTheConfiguredCommand: an app whose slash command
// is /chg ([slack] command) is told /chg everywhere, in help pages and in
// the usage of a refusal too; and the whole help overview arrives, laid
// out in sections Slack accepts (at most 3,000 characters each).
func TestSlackHelpAndUsageSayTheConfiguredCommand(t *testing.T) {
	e := newSlackEnvCommand(t, slackadapter.ModeHTTP, "/chg")
	for _, tc := range []struct {
		text  string
		wants []string
	}{
		{"help", []string{"/chg plans and announces upgrade windows.", "/chg schedule &lt;service&gt; &lt;version&gt;",
			"Words may be \"double quoted\"; keywords are case-insensitive.",
			"Type /chg help &lt;subcommand&gt; for details and an example."}},
		{"help start", []string{"/chg start &lt;id&gt; [anyway &lt;reason...&gt;]", "Example: /chg start UPG-7"}},
		{"show UPG-99", []string{"Unknown upgrade UPG-99. Try `/chg list`.", "Usage: `/chg show &lt;id&gt;`"}},
		{"shedule payments", []string{"Usage: `/chg &lt;subcommand&gt; ... (/chg help lists them)`"}},
	} {
		ans := e.slash("alice", "C0OPS", tc.text)
		got := slackAnswerText(ans)
		slackContains(t, tc.text, got, tc.wants...)
		if strings.Contains(got, "/upgrade") {
			t.Errorf("%s: the answer names /upgrade, not the app's /chg:\n%s", tc.text, got)
		}
		raw, _ := json.Marshal(ans["blocks"])
		var blocks slackgo.Blocks
		if err := json.Unmarshal(raw, &blocks); err != nil {
			t.Fatalf("%s: blocks: %v", tc.text, err)
		}
		for _, b := range blocks.BlockSet {
			if s, ok := b.(*slackgo.SectionBlock); ok && s.Text != nil && len([]rune(s.Text.Text)) > 3000 {
				t.Errorf("%s: a section of %d characters; Slack refuses more than 3,000", tc.text, len([]rune(s.Text.Text)))
			}
		}
	}
}
