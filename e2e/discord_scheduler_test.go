package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"

	discordadapter "github.com/upgradebot/upgradebot/adapters/discord"
	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
)

// TestDiscordReminderAndEscalation: for a service whose only channel is on
// Discord, the reminder reaches the upgrade's thread and calls whoever has
// not acknowledged; the escalation reaches them by direct message, with its
// own Acknowledge button that counts; someone who does not accept direct
// messages is recorded as a failed delivery, tried once, and shown in show.
func TestDiscordReminderAndEscalation(t *testing.T) {
	e := newDiscordEnv(t, discordadapter.ModeGateway)
	e.api.RefuseDMs(discordPeople["carol"].ID)
	win := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	discordContains(t, "schedule", e.command("alice", dcOps, "schedule", dO("service", "payments"), dO("version", "v2.4.0"), dO("when", "2026-12-01 02:00 UTC")), "Scheduled")
	e.settle()
	root := e.root(dcPayments)
	discordContains(t, "bob's ack", e.press("bob", root), "Thanks!")

	e.at(win.Add(-72 * time.Hour))
	e.at(win.Add(-time.Hour))
	thread := e.api.Messages(root.ID)
	if len(thread) != 2 {
		t.Fatalf("thread holds %d messages, want the two reminders", len(thread))
	}
	for _, r := range thread {
		discordContains(t, "reminder", r.Content, "⏰ Reminder: **UPG-1 payments v2.4.0** starts <t:1796090400:f>", "Please acknowledge: <@1001> <@1003>")
		if r.AllowedMentions == nil || !slices.Equal(r.AllowedMentions.Users, []string{"1001", "1003"}) {
			t.Errorf("the reminder pings %+v", r.AllowedMentions)
		}
		if b := r.Buttons(); len(b) != 1 || b[0].CustomID != "upgrade_ack:UPG-1:brief" {
			t.Errorf("reminder button %+v", b)
		}
	}

	e.at(win.Add(-30 * time.Minute)) // escalate_after the last reminder
	dm := e.api.DMChannel(discordPeople["alice"].ID)
	msgs := e.api.Messages(dm)
	if dm == "" || len(msgs) != 1 {
		t.Fatalf("alice's direct messages: %q %+v", dm, msgs)
	}
	discordContains(t, "escalation", msgs[0].Content, "🔔 You have not yet acknowledged the upgrade window of **UPG-1 payments v2.4.0**",
		"`/upgrade ack id:UPG-1`")
	if tries := e.api.Calls("create_message"); countTo(tries, e.api.DMChannel(discordPeople["carol"].ID)) != 1 {
		t.Errorf("carol's refused DM was tried %d times", countTo(tries, e.api.DMChannel(discordPeople["carol"].ID)))
	}
	// alice acknowledges from the direct message.
	discordContains(t, "alice's ack from the DM", e.press("alice", msgs[0]), "Thanks! You acknowledged the upgrade window of")
	e.settle()
	discordContains(t, "root", e.root(dcPayments).Text(), "Acknowledged 2/3 · waiting for <@1003>")

	show := e.command("dave", dcOps, "show", dO("id", "UPG-1"))
	discordContains(t, "show", show, "⚠ Failed delivery of escalation to", "discord create message: 50007 Cannot send messages to this user")
	// Nothing more for carol later: it is recorded, not retried.
	e.at(win.Add(-10 * time.Minute))
	if n := countTo(e.api.Calls("create_message"), e.api.DMChannel(discordPeople["carol"].ID)); n != 1 {
		t.Errorf("carol's DM tried %d times", n)
	}
}

func countTo(calls []discordtest.Call, channel string) int {
	n := 0
	for _, c := range calls {
		if strings.HasSuffix(c.Path, "/channels/"+channel+"/messages") {
			n++
		}
	}
	return n
}
