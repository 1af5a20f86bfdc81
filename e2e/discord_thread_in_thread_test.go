package e2e

import (
	"strings"
	"testing"

	discordadapter "github.com/upgradebot/upgradebot/adapters/discord"
	"github.com/upgradebot/upgradebot/bot"
)

// TestDiscordScheduleTypedInAThread: a service with no channels posts its
// upgrade where the command was typed. Typed in a thread (here the thread of
// another upgrade), the root goes there, and Discord, which has no threads in
// threads, refuses to start one on it (50024): that thread is the upgrade's
// thread. Nothing is reported as failed, the notices follow the root there,
// and one also shown "in the channel" is not posted twice.
func TestDiscordScheduleTypedInAThread(t *testing.T) {
	e := newDiscordEnv(t, discordadapter.ModeHTTP, func(c *bot.Config) {
		c.Services = append(c.Services, bot.Service{Name: "search", Owners: []string{"alice"}})
	})
	e.command("alice", dcOps, "schedule", dO("service", "payments"), dO("version", "v2.4.0"), dO("when", "2026-12-01 03:00"))
	e.settle()
	thread := e.root(dcPayments).ID // UPG-1's thread

	ans := e.command("alice", thread, "schedule", dO("service", "search"), dO("version", "v9"), dO("when", "2026-12-02 03:00"))
	discordContains(t, "scheduling answer", ans, "Scheduled **UPG-2 search v9**")
	e.settle()
	var root rootSeen
	for _, m := range e.api.Messages(thread) {
		if len(m.Embeds) > 0 && strings.Contains(m.Text(), "UPG-2 search v9") {
			root = rootSeen{m.ID, m.Text(), len(m.Buttons())}
		}
	}
	if root.id == "" || root.buttons == 0 {
		t.Fatalf("no root of UPG-2 with its button in the thread: %+v", e.api.Messages(thread))
	}
	for _, c := range e.api.Calls("followup") {
		t.Errorf("alice was told of a failure: %s", c.JSON)
	}
	show := e.command("alice", dcOps, "show", dO("id", "UPG-2"))
	if strings.Contains(show, "Failed delivery") || strings.Contains(show, "could not be delivered") {
		t.Errorf("show reports a failure: %s", show)
	}

	// A cancel is a thread reply also shown in the channel: here both are the thread.
	e.command("alice", dcOps, "cancel", dO("id", "UPG-2"), dO("reason", "not needed"))
	e.settle()
	n := 0
	for _, m := range e.api.Messages(thread) {
		if strings.Contains(m.Text(), "UPG-2 search v9** was cancelled") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the cancel notice is in the thread %d times, want once", n)
	}
	discordContains(t, "UPG-2 after the cancel", e.command("alice", dcOps, "show", dO("id", "UPG-2")), "State: cancelled")
	if show := e.command("alice", dcOps, "show", dO("id", "UPG-2")); strings.Contains(show, "Failed delivery") {
		t.Errorf("show reports a failure after the cancel: %s", show)
	}
}

type rootSeen struct {
	id, text string
	buttons  int
}
