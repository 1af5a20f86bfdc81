package e2e

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	slackadapter "github.com/upgradebot/upgradebot/adapters/slack"
	"github.com/upgradebot/upgradebot/adapters/web"
	"github.com/upgradebot/upgradebot/bot"
)

// TestSlackCutShowPointsElsewhere: a show too long for one Slack message
// (more than 50 blocks) ended "see /upgrade show UPG-1", the command that
// had just given it. It now says where what was cut can be read: the
// upgrade's page when the bot has pages anyone may open, the decision log
// and pending.
func TestSlackCutShowPointsElsewhere(t *testing.T) {
	for _, tc := range []struct {
		name, pageURL, want string
	}{
		{"with pages", "https://upgrades.example.com/",
			"… (cut: too long for one Slack message; see all of it on <https://upgrades.example.com/upgrades/1|UPG-1's page>)"},
		{"without pages", "",
			"… (cut: too long for one Slack message; see its acknowledgments, rollback plan and debrief with `/upgrade log UPG-1`)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSlackEnv(t, slackadapter.ModeHTTP, func(c *bot.Config) { c.UpgradePage = web.UpgradePage(tc.pageURL) })
			slackContains(t, "schedule", slackAnswerText(e.slash("alice", "C0OPS", "schedule payments v2.4.0 at 2026-12-01 03:00")), "Scheduled *UPG-1 payments v2.4.0*")
			e.settle()
			// Threads enough to fill more than 50 blocks (failed
			// deliveries are capped in show).
			ctx := context.Background()
			u, err := e.store.Get(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 1500 {
				u.Threads = append(u.Threads, bot.MessageRef{Channel: "slack:C0PAY" + strconv.Itoa(i), ID: "1", URL: "https://example.slack.com/archives/C0PAY/p" + strings.Repeat("1", 80)})
			}
			u.Rev++
			if err := e.store.Update(ctx, u, bot.Decision{}); err != nil {
				t.Fatal(err)
			}

			ans := e.slash("bob", "C0OPS", "show UPG-1")
			raw, _ := json.Marshal(ans["blocks"])
			var blocks []struct {
				Type string `json:"type"`
				Text *struct {
					Text string `json:"text"`
				} `json:"text"`
			}
			if err := json.Unmarshal(raw, &blocks); err != nil {
				t.Fatal(err)
			}
			if len(blocks) == 0 || len(blocks) > 50 {
				t.Fatalf("%d blocks", len(blocks))
			}
			last := blocks[len(blocks)-1]
			if last.Text == nil || last.Text.Text != tc.want {
				t.Errorf("the cut show ends with %+v, want %q", last.Text, tc.want)
			}
		})
	}
}
