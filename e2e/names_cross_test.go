package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
	"github.com/upgradebot/upgradebot/bot"
)

// TestOutsidersAreNamedOnTheOtherPlatform: mallory (Discord 1009) and
// zed.slack (Slack U0ZED) are not in [[people]]; they acknowledge on their
// own platforms. Each platform mentions its own users by id (the platform
// shows their names) and names the other platform's by the name their
// platform gave with the press, on the root, in show and in log, never by
// an id that means nothing there. payments' owner role (discord:&3001) and
// user group (slack:S0RISK), whose names are not known, read as words on
// the other platform.
func TestOutsidersAreNamedOnTheOtherPlatform(t *testing.T) {
	se, de := newCrossEnv(t, func(c *bot.Config) {
		c.Services[1].Owners = []string{"alice", "discord:&3001", "slack:S0RISK"}
		c.Groups = []string{"discord:&3001", "slack:S0RISK"}
	})
	se.api.SetGroup("S0RISK", "U0ALICE")
	settle := func() { se.slack.Wait(); de.discord.Wait(); de.bot.Flush() }

	slackContains(t, "scheduling on Slack", slackAnswerText(se.slash("alice", "C0OPS", "schedule payments v2.4.0 at 2026-12-01 03:00 for 90m")), "Scheduled")
	settle()
	sroot, droot := se.root("C0PAYMENTS"), de.root(dcPayments)
	slackContains(t, "Slack root", sroot.BlockText(), "waiting for <@U0ALICE> a Discord role <!subteam^S0RISK>")
	slackContains(t, "Slack root's text", sroot.Text, "waiting for @alice a Discord role @S0RISK")
	discordContains(t, "Discord root", droot.Text(), "waiting for <@1001> <@&3001> a Slack user group")

	mallory := discordtest.Member{ID: "1009", Name: "mallory"}
	bs := droot.Buttons()
	if len(bs) != 1 {
		t.Fatalf("Discord root buttons: %+v", bs)
	}
	discordContains(t, "mallory on Discord", de.send(de.api.Press(mallory, droot, bs[0].CustomID)).Text(), "Thanks!")
	slackContains(t, "zed on Slack", se.press("U0ZED", "zed.slack", sroot), "Thanks!")
	settle()

	slackRoot := se.root("C0PAYMENTS").BlockText()
	slackContains(t, "Slack root after the presses", slackRoot, "Also seen by @mallory <@U0ZED>")
	discordContains(t, "Discord root after the presses", de.root(dcPayments).Text(), "Also seen by <@1009> @zed.slack")

	show := slackAnswerText(se.slash("alice", "C0OPS", "show UPG-1"))
	slackContains(t, "show on Slack", show, "• brief: @mallory (not in the audience)", "• brief: <@U0ZED> (not in the audience)")
	log := slackAnswerText(se.slash("alice", "C0OPS", "log UPG-1"))
	slackContains(t, "log on Slack", log, "@mallory · acknowledged")
	dshow := de.command("alice", dcOps, "show", dO("id", "UPG-1"))
	discordContains(t, "show on Discord", dshow, "brief: <@1009> (not in the audience)", "brief: @zed.slack (not in the audience)")
	dlog := de.command("alice", dcOps, "log", dO("id", "UPG-1"))
	discordContains(t, "log on Discord", dlog, "@zed.slack · acknowledged")

	for what, got := range map[string]string{"Slack root": slackRoot, "Slack show": show, "Slack log": log} {
		for _, id := range []string{"@1009", "&3001"} {
			if strings.Contains(got, id) {
				t.Errorf("%s names %s by id:\n%s", what, id, got)
			}
		}
	}
	for what, got := range map[string]string{"Discord root": de.root(dcPayments).Text(), "Discord show": dshow, "Discord log": dlog} {
		for _, id := range []string{"U0ZED", "S0RISK"} {
			if strings.Contains(got, id) {
				t.Errorf("%s names %s by id:\n%s", what, id, got)
			}
		}
	}
}

// TestSlackTextNamesTheOtherPlatformsChannels: the plain text of a Slack
// answer (its notification and fallback) names a Discord channel with its
// platform, as the blocks do.
func TestSlackTextNamesTheOtherPlatformsChannels(t *testing.T) {
	se, de := newCrossEnv(t)
	slackContains(t, "scheduling on Slack", slackAnswerText(se.slash("alice", "C0OPS", "schedule payments v2.4.0 at 2026-12-01 03:00 for 90m")), "Scheduled")
	se.slack.Wait()
	de.discord.Wait()
	de.bot.Flush()
	show := se.slash("alice", "C0OPS", "show UPG-1")
	text, _ := show["text"].(string)
	slackContains(t, "show's text", text, "#"+dcPayments+" (Discord)")
	if strings.Contains(text, "#C0PAYMENTS (Slack)") {
		t.Errorf("show's text names a Slack channel's platform on Slack:\n%s", text)
	}
}

// TestSlackUnknownActionIsAnswered: a signed press whose action_id is not
// one of upgradebot's is answered privately, as on Discord, and records
// nothing.
func TestSlackUnknownActionIsAnswered(t *testing.T) {
	for _, actionID := range []string{"upgrade_ack_v0", "Upgrade_Ack"} {
		t.Run(actionID, func(t *testing.T) {
			e := newSlackEnv(t, "http")
			slackContains(t, "schedule", slackAnswerText(e.slash("alice", "C0OPS", "schedule payments v2.4.0 at 2026-12-01 03:00 for 90m")), "Scheduled")
			e.settle()
			root := e.root("C0PAYMENTS")
			respond := "unknown-" + actionID
			cb := slacktestapi.BlockAction(slacktestapi.Press{
				UserID: "U0BOB", UserName: "bob", ChannelID: root.Channel, MessageTS: root.TS,
				ActionID: actionID, Value: "UPG-1:brief", TriggerID: "trig-" + actionID,
				ActionTS: fmt.Sprintf("1700000001.%06d", len(actionID)), ResponseURL: e.api.ResponseURL(respond),
			})
			req := slacktestapi.SignedRequest(t, e.srv.URL+"/slack/interactions", slackSecret, slacktestapi.InteractionForm(t, cb), slackNow)
			if status, body := e.do(req); status != http.StatusOK {
				t.Fatalf("press: status %d %s", status, body)
			}
			answer := e.api.WaitResponse(t, respond, 1, 10*time.Second)
			slackContains(t, "answer", answer.Param("text"), "This button is not one of upgradebot's.")
			if answer.Param("response_type") != "ephemeral" {
				t.Errorf("answer not private: %s", answer.JSON)
			}
			e.settle()
			if st := e.pendingText(t); !strings.Contains(st, "<@U0BOB>") {
				t.Errorf("bob's press was recorded: %s", st)
			}
		})
	}
}

// pendingText is the answer to pending UPG-1.
func (e *slackEnv) pendingText(t *testing.T) string {
	t.Helper()
	return slackAnswerText(e.slash("alice", "C0OPS", "pending UPG-1"))
}
