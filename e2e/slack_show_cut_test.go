package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	slackadapter "github.com/upgradebot/upgradebot/adapters/slack"
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
			"… (cut: too long for one Slack message; see all of it on <https://upgrades.example.com/upgrades/1|UPG-1's page>, its decisions and acknowledgments with `/upgrade log UPG-1`, who has not acknowledged with `/upgrade pending UPG-1`)"},
		{"without pages", "",
			"… (cut: too long for one Slack message; see its decisions and acknowledgments with `/upgrade log UPG-1`, who has not acknowledged with `/upgrade pending UPG-1`)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSlackEnv(t, slackadapter.ModeHTTP, func(c *bot.Config) { c.PageURL = tc.pageURL })
			slackContains(t, "schedule", slackAnswerText(e.slash("alice", "C0OPS", "schedule payments v2.4.0 at 2026-12-01 03:00")), "Scheduled *UPG-1 payments v2.4.0*")
			e.settle()
			// Failed deliveries enough to fill more than 50 blocks.
			ctx := context.Background()
			u, err := e.store.Get(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			for range 1200 {
				u.Failures = append(u.Failures, bot.Failure{At: slackNow, Notice: "reminder", Target: "slack:C0PAYMENTS", Error: "channel_not_found " + strings.Repeat("x", 100)})
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
