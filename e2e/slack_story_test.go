package e2e

import (
	"strings"
	"testing"

	slackadapter "github.com/upgradebot/upgradebot/adapters/slack"
)

// TestSlackUpgradeStory: alice schedules payments, bob and carol acknowledge
// the pre-brief, alice rolls it back, everyone is alerted, `show` tells all.
func TestSlackUpgradeStory(t *testing.T) {
	for _, mode := range []string{slackadapter.ModeHTTP, slackadapter.ModeSocket} {
		t.Run(mode, func(t *testing.T) {
			e := newSlackEnv(t, mode)

			// alice schedules payments; her Slack zone is Europe/Berlin, so
			// 03:00 without a zone is 02:00 UTC.
			ans := e.slash("alice", "C0OPS", `schedule payments v2.4.0 at 2026-12-01 03:00 for 90m region eu-west-1 impact "checkout may fail"`)
			if ans["response_type"] != "ephemeral" {
				t.Errorf("the scheduling answer must be private: %v", ans)
			}
			slackContains(t, "scheduling answer", slackAnswerText(ans),
				"Scheduled", "UPG-1 payments v2.4.0", "In UTC: 2026-12-01 02:00 to 2026-12-01 03:30 UTC",
				"<!date^1796090400^{date_short_pretty} {time}|2026-12-01 02:00 UTC>", "Blast radius: checkout",
				`was read in Europe/Berlin, your time zone.`)
			e.settle()

			// The root message is in the payments channel, with the button.
			if ms := e.channelMessages("C0PAYMENTS"); len(ms) != 1 {
				t.Fatalf("payments channel holds %d messages, want the root only", len(ms))
			}
			root := e.root("C0PAYMENTS")
			if root.TS != "1700000000.000100" {
				t.Errorf("root ts %s", root.TS)
			}
			if v := slackButtonValue(t, root); v != "UPG-1:brief" {
				t.Errorf("button value %q", v)
			}
			slackContains(t, "root message", root.BlockText(),
				"UPG-1 payments v2.4.0", "*State*\nscheduled", "*Region*\neu-west-1", "*Impact*\ncheckout may fail",
				"*Owner*\n<@U0ALICE>", "*Blast radius*\ncheckout", "*Release*\nnot linked yet",
				"<!date^1796090400^{date_short_pretty} {time}|2026-12-01 02:00 UTC>",
				"Acknowledged 0/3 · waiting for <@U0ALICE> <@U0BOB> <@U0CAROL>", "Acknowledge")
			slackContains(t, "root fallback text", root.Text, "UPG-1 payments v2.4.0", "Acknowledged 0/3")
			if len(e.channelMessages("C0OPS")) != 0 {
				t.Error("the thread belongs in the service's channel, not where the command was typed")
			}

			// bob and carol press Acknowledge.
			slackContains(t, "bob's answer", e.press("U0BOB", "bob", root), "Thanks! You acknowledged the upgrade window of", "UPG-1 payments v2.4.0")
			slackContains(t, "carol's answer", e.press("U0CAROL", "carol", root), "Thanks!")
			slackContains(t, "bob's second press", e.press("U0BOB", "bob", root), "You already acknowledged")
			e.settle()
			root = e.root("C0PAYMENTS")
			slackContains(t, "root after the presses", root.BlockText(), "Acknowledged 2/3 · waiting for <@U0ALICE>")
			if root.Edits == 0 {
				t.Error("the root message was never edited")
			}

			ans = e.slash("dave", "C0OPS", "pending UPG-1")
			slackContains(t, "pending", slackAnswerText(ans), "1 of 3 has not acknowledged the pre-brief of UPG-1", "<@U0ALICE>")
			if strings.Contains(slackAnswerText(ans), "<@U0BOB>") {
				t.Error("bob acknowledged; pending must not list him")
			}

			// alice starts, then rolls back with a reason.
			slackContains(t, "start", slackAnswerText(e.slash("alice", "C0OPS", "start UPG-1")), "Started")
			slackContains(t, "rollback", slackAnswerText(e.slash("alice", "C0OPS", "rollback UPG-1 error rate above 5% <after> deploy")), "Rolled back", "UPG-1")
			e.settle()

			var alert *struct{ ts, text string }
			for _, m := range e.channelMessages("C0PAYMENTS") {
				if m.ThreadTS == root.TS && m.Broadcast {
					alert = &struct{ ts, text string }{m.TS, m.BlockText()}
					if v := slackButtonValue(t, m); v != "UPG-1:rollback" {
						t.Errorf("the alert's button is %q", v)
					}
					if !strings.HasPrefix(m.Text, "🚨 ROLLBACK") {
						t.Errorf("alert fallback text %q", m.Text)
					}
				}
			}
			if alert == nil {
				t.Fatalf("no broadcast reply in the thread; messages: %+v", e.channelMessages("C0PAYMENTS"))
			}
			slackContains(t, "rollback alert", alert.text, "ROLLBACK: UPG-1 payments v2.4.0",
				"Rolled back by <@U0ALICE>. Reason: error rate above 5% &lt;after&gt; deploy",
				"<@U0ALICE> <@U0BOB> <@U0CAROL> please acknowledge.")
			var started bool
			for _, m := range e.channelMessages("C0PAYMENTS") {
				if m.ThreadTS == root.TS && !m.Broadcast && strings.Contains(m.BlockText(), "started by <@U0ALICE>") {
					started = true
				}
			}
			if !started {
				t.Error("no 'started' reply in the thread")
			}
			slackContains(t, "root after the rollback", e.root("C0PAYMENTS").BlockText(), "*State*\nrolled back", "Rollback acknowledged 0/3",
				"*Rollback plan*\nnone on record; add one with `/upgrade plan UPG-1 ")

			// carol acknowledges the rollback from the alert itself.
			alertMsg, _ := e.api.Message("C0PAYMENTS", alert.ts)
			slackContains(t, "carol's rollback ack", e.press("U0CAROL", "carol", alertMsg), "You acknowledged the rollback of")
			e.settle()
			slackContains(t, "root after the rollback ack", e.root("C0PAYMENTS").BlockText(), "Rollback acknowledged 1/3")

			ans = e.slash("bob", "C0CHECKOUT", "show UPG-1")
			slackContains(t, "show", slackAnswerText(ans), "UPG-1 payments v2.4.0", "rolled back",
				"Reason: error rate above 5% &lt;after&gt; deploy",
				"brief: <@U0BOB>", "brief: <@U0CAROL>", "rollback: <@U0CAROL>",
				"Thread in <#C0PAYMENTS> · <https://test.slack.com/archives/C0PAYMENTS/p"+strings.Replace(root.TS, ".", "", 1)+"|open>")
			if strings.Contains(slackAnswerText(ans), "Failed delivery") {
				t.Errorf("show reports failures: %s", slackAnswerText(ans))
			}
			for _, c := range e.api.Calls() {
				if c.Status != 200 || c.Error != "" {
					t.Errorf("Slack call %s failed: %d %s", c.Method, c.Status, c.Error)
				}
			}
		})
	}
}
