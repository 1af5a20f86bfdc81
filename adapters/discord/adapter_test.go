package discord

import (
	"strings"
	"testing"

	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
)

var O = discordtest.O

// TestScheduleAndPress: in both modes, /upgrade schedule is answered
// privately, the root goes to the service's channel with a thread started
// on it, and a press of its Acknowledge button is recorded and answered.
func TestScheduleAndPress(t *testing.T) {
	for _, mode := range []string{ModeGateway, ModeHTTP} {
		t.Run(mode, func(t *testing.T) {
			f := newFixture(t, mode)
			f.ready()
			ans := f.send(f.api.Command(alice, chOps, "schedule", O("service", "payments"), O("version", "v2.4.0"),
				O("when", "2026-12-01 02:00"), O("duration", "90m")))
			if !ans.Ephemeral() || !strings.Contains(ans.Text(), "Scheduled **UPG-1 payments v2.4.0**") {
				t.Fatalf("answer: ephemeral %v %q", ans.Ephemeral(), ans.Text())
			}
			f.settle()
			roots := f.api.Messages(chPayments)
			if len(roots) != 1 {
				t.Fatalf("payments holds %d messages", len(roots))
			}
			root := roots[0]
			if th, ok := f.api.Channel(root.ID); !ok || th.ParentID != chPayments {
				t.Fatalf("no thread on the root: %+v", th)
			}
			if b := root.Buttons(); len(b) != 1 || b[0].CustomID != "upgrade_ack:UPG-1:brief" || b[0].Label != "Acknowledge" {
				t.Fatalf("buttons %+v", b)
			}
			ans = f.send(f.api.Press(bob, root, root.Buttons()[0].CustomID))
			if !ans.Ephemeral() || !strings.Contains(ans.Text(), "Thanks! You acknowledged the upgrade window of") {
				t.Fatalf("press answer %q", ans.Text())
			}
			f.settle()
			root, _ = f.api.Message(root.ID)
			if !strings.Contains(root.Text(), "Acknowledged 1/3 · waiting for <@1001> <@&3001>") {
				t.Errorf("root after the press:\n%s", root.Text())
			}
		})
	}
}

// TestOwnerRole: a member holding a role named as an owner may change the
// service's upgrades and her press answers for the role, read from the
// interaction's member.roles without asking Discord.
func TestOwnerRole(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.ready()
	if ans := f.send(f.api.Command(zed, chOps, "schedule", O("service", "checkout"), O("version", "v3"), O("when", "in 2h"))); !strings.Contains(ans.Text(), "You are not allowed to schedule upgrades of checkout") {
		t.Fatalf("zed without the role: %s", ans.Text())
	}
	ans := f.send(f.api.Command(carol, chOps, "schedule", O("service", "checkout"), O("version", "v3"), O("when", "in 2h")))
	if !strings.Contains(ans.Text(), "Scheduled **UPG-1 checkout v3**") {
		t.Fatalf("carol with the owner role: %s", ans.Text())
	}
	f.settle()
	root := f.api.Messages(chCheckout)[0]
	if !strings.Contains(root.Text(), "Acknowledged 0/2 · waiting for <@1002> <@&3001>") {
		t.Fatalf("root: %s", root.Text())
	}
	calls := len(f.api.Calls())
	if ans := f.send(f.api.Press(carol, root, "upgrade_ack:UPG-1:brief")); !strings.Contains(ans.Text(), "Thanks!") {
		t.Fatalf("carol's press: %s", ans.Text())
	}
	f.settle()
	root, _ = f.api.Message(root.ID)
	if !strings.Contains(root.Text(), "Acknowledged 1/2 · waiting for <@1002>") {
		t.Errorf("root after carol's press for the role: %s", root.Text())
	}
	for _, c := range f.api.Calls()[calls:] {
		if c.Op != "edit_message" {
			t.Errorf("the press made a %s call", c.Op)
		}
	}
}
