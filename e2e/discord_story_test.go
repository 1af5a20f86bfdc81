package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"

	discordadapter "github.com/upgradebot/upgradebot/adapters/discord"
	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
	"github.com/upgradebot/upgradebot/bot"
)

var dO = discordtest.O

// TestDiscordUpgradeStory is the Slack story on Discord, in gateway and in
// http mode: alice schedules payments, bob and carol acknowledge the
// pre-brief (bob twice), alice starts and rolls it back, everyone is
// alerted and carol acknowledges the alert, `pending` and `show` tell all;
// then a transition the state forbids, a cancel by someone not allowed,
// and a time in the past are refused and change nothing.
func TestDiscordUpgradeStory(t *testing.T) {
	for _, mode := range []string{discordadapter.ModeGateway, discordadapter.ModeHTTP} {
		t.Run(mode, func(t *testing.T) {
			e := newDiscordEnv(t, mode)

			// alice's zone is Europe/Berlin ([[people]]): 03:00 is 02:00 UTC.
			ans := e.command("alice", dcOps, "schedule", dO("service", "payments"), dO("version", "v2.4.0"), dO("when", "2026-12-01 03:00"),
				dO("duration", "90m"), dO("region", "eu-west-1"), dO("impact", "checkout may fail"))
			discordContains(t, "scheduling answer", ans, "Scheduled **UPG-1 payments v2.4.0**", "<t:1796090400:f> (<t:1796090400:R>)",
				"In UTC: 2026-12-01 02:00 to 2026-12-01 03:30 UTC", "Blast radius: checkout", `"2026-12-01 03:00" was read in Europe/Berlin, your time zone.`)
			e.settle()

			// The root in the payments channel, with its thread and button.
			if ms := e.api.Messages(dcPayments); len(ms) != 1 {
				t.Fatalf("payments holds %d messages, want the root only", len(ms))
			}
			root := e.root(dcPayments)
			if th, ok := e.api.Channel(root.ID); !ok || th.ParentID != dcPayments || th.Name != "UPG-1 payments v2.4.0" {
				t.Fatalf("no thread on the root: %+v", th)
			}
			if b := root.Buttons(); b[0].CustomID != "upgrade_ack:UPG-1:brief" {
				t.Errorf("button %+v", b)
			}
			discordContains(t, "root", root.Text(), "UPG-1 payments v2.4.0", "State: scheduled", "Region: eu-west-1", "Impact: checkout may fail",
				"Owner: <@1001>", "Blast radius: checkout", "Release: not linked yet", "<t:1796090400:f>",
				"Acknowledged 0/3 · waiting for <@1001> <@1002> <@1003>")
			if len(e.api.Messages(dcOps)) != 0 {
				t.Error("the thread belongs in the service's channel, not where the command was typed")
			}

			// bob and carol press Acknowledge; bob presses again.
			discordContains(t, "bob's answer", e.press("bob", root), "Thanks! You acknowledged the upgrade window of **UPG-1 payments v2.4.0**")
			discordContains(t, "carol's answer", e.press("carol", root), "Thanks!")
			discordContains(t, "bob's second press", e.press("bob", root), "You already acknowledged")
			e.settle()
			root = e.root(dcPayments)
			discordContains(t, "root after the presses", root.Text(), "Acknowledged 2/3 · waiting for <@1001>")
			if root.Edits == 0 {
				t.Error("the root message was never edited")
			}

			ans = e.command("dave", dcOps, "pending", dO("id", "UPG-1"))
			discordContains(t, "pending", ans, "1 of 3 has not acknowledged the pre-brief of UPG-1: <@1001>")

			// alice starts, then rolls back with a reason.
			discordContains(t, "start", e.command("alice", dcOps, "start", dO("id", "#1")), "Started")
			discordContains(t, "rollback", e.command("alice", dcOps, "rollback", dO("id", "1"), dO("reason", "error rate above 5% <after> deploy")), "Rolled back **UPG-1")
			e.settle()

			thread := e.api.Messages(root.ID)
			if len(thread) != 3 || !strings.Contains(thread[0].Content, "started by <@1001>") || !strings.Contains(thread[2].Content, "please write a short debrief") {
				t.Fatalf("thread: %+v", thread)
			}
			alert := thread[1]
			discordContains(t, "rollback alert", alert.Content, "**🚨 ROLLBACK: UPG-1 payments v2.4.0**",
				`Rolled back by <@1001>. Reason: error rate above 5% \<after\> deploy`, "<@1001> <@1002> <@1003> please acknowledge.")
			if b := alert.Buttons(); len(b) != 1 || b[0].CustomID != "upgrade_ack:UPG-1:rollback" {
				t.Errorf("the alert's button %+v", b)
			}
			if am := alert.AllowedMentions; am == nil || !slices.Equal(am.Users, []string{"1001", "1002", "1003"}) || len(am.Parse) != 0 {
				t.Errorf("the alert pings %+v", am)
			}
			// Also shown in the channel, as a reply to the root that pings nobody.
			var copied bool
			for _, m := range e.api.Messages(dcPayments) {
				if m.Reference != nil && m.Reference.MessageID == root.ID && strings.Contains(m.Content, "ROLLBACK") {
					copied = len(m.AllowedMentions.Users) == 0
				}
			}
			if !copied {
				t.Error("the rollback alert is not shown in the channel (without pinging twice)")
			}
			discordContains(t, "root after the rollback", e.root(dcPayments).Text(), "State: rolled back", "Rollback acknowledged 0/3",
				"Rollback plan: none on record; add one with `/upgrade plan id:UPG-1 plan:")

			// carol acknowledges the rollback from the alert itself.
			discordContains(t, "carol's rollback ack", e.press("carol", alert), "You acknowledged the rollback of")
			e.settle()
			discordContains(t, "root after the rollback ack", e.root(dcPayments).Text(), "Rollback acknowledged 1/3")

			ans = e.command("bob", dcCheckout, "show", dO("id", "upg-1"))
			discordContains(t, "show", ans, "UPG-1 payments v2.4.0", "State: rolled back", `Reason: error rate above 5% \<after\> deploy`,
				"brief: <@1002>", "brief: <@1003>", "rollback: <@1003>",
				"Thread in <#2002> · [open](https://discord.com/channels/"+discordtest.GuildID+"/2002/"+root.ID+")")
			if strings.Contains(ans, "Failed delivery") {
				t.Errorf("show reports failures: %s", ans)
			}

			// Refusals: they change nothing and post nothing.
			before := len(e.api.Calls("create_message"))
			discordContains(t, "a forbidden transition", e.command("alice", dcOps, "start", dO("id", "UPG-1")),
				"UPG-1 is rolled back; it can no longer be started.")
			discordContains(t, "an unauthorized cancel", e.command("bob", dcOps, "cancel", dO("id", "UPG-1")),
				"You are not allowed to cancel UPG-1 (payments): only the owners of payments (<@"+discordPeople["alice"].ID+">) or an admin may.")
			discordContains(t, "a time in the past", e.command("alice", dcOps, "schedule", dO("service", "payments"), dO("version", "v2.5.0"), dO("when", "2026-11-19 10:00")),
				"is in the past", "Usage: `/upgrade schedule")
			e.settle()
			if n := len(e.api.Calls("create_message")); n != before {
				t.Errorf("refusals posted %d messages", n-before)
			}
			if ups, _ := e.store.List(context.Background(), bot.Filter{}); len(ups) != 1 || ups[0].State != bot.RolledBack {
				t.Errorf("after the refusals: %+v", ups)
			}
			for _, c := range e.api.Calls() {
				if c.Status >= 300 || c.Status == 0 {
					t.Errorf("Discord call %s %s failed: %d %d", c.Method, c.Path, c.Status, c.Code)
				}
			}
		})
	}
}

func discordContains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}
