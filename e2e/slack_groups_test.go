package e2e

import (
	"testing"

	slackadapter "github.com/upgradebot/upgradebot/adapters/slack"
	"github.com/upgradebot/upgradebot/bot"
)

// TestSlackUserGroupOwns: checkout is owned by the Slack user group
// S0CHECKOUT. Its member bob may change checkout's upgrades, carol (not in
// it) may not; an upgrade of payments mentions the group, and bob's press
// acknowledges for it.
func TestSlackUserGroupOwns(t *testing.T) {
	e := newSlackEnv(t, slackadapter.ModeHTTP, func(c *bot.Config) {
		for i := range c.Services {
			if c.Services[i].Name == "checkout" {
				c.Services[i].Owners = []string{"slack:S0CHECKOUT"}
			}
		}
	})
	e.api.SetGroup("S0CHECKOUT", "U0BOB", "U0ERIN")

	slackContains(t, "bob, a member", slackAnswerText(e.slash("bob", "C0OPS", "schedule checkout v9.1 at 2026-12-02 03:00")), "Scheduled UPG-1 checkout v9.1")
	slackContains(t, "carol, not a member", slackAnswerText(e.slash("carol", "C0OPS", "start UPG-1")),
		"You are not allowed to start UPG-1 (checkout)")

	slackContains(t, "alice", slackAnswerText(e.slash("alice", "C0OPS", "schedule payments v2.4.0 at 2026-12-01 03:00")), "Scheduled UPG-2")
	e.settle()
	root := e.root("C0PAYMENTS")
	slackContains(t, "payments root", root.BlockText(), "Acknowledged 0/2 · waiting for <@U0ALICE> <!subteam^S0CHECKOUT>")

	e.press("U0BOB", "bob", root)
	e.settle()
	slackContains(t, "payments root after bob", e.root("C0PAYMENTS").BlockText(), "Acknowledged 1/2 · waiting for <@U0ALICE>")
	slackContains(t, "pending", slackAnswerText(e.slash("dave", "C0OPS", "pending UPG-2")),
		"1 of 2 has not acknowledged the pre-brief of UPG-2: <@U0ALICE>")

	if n := len(e.api.Calls("usergroups.users.list")); n != 1 {
		t.Errorf("usergroups.users.list called %d times; the members are cached", n)
	}
}
