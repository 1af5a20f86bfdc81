package discord

import (
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
	"github.com/upgradebot/upgradebot/bot/bottest"
)

const lateTold = "interaction came after Discord's answer limit; not acted on, its invoker told by direct message"

// dmCount is how many direct messages user got on api.
func dmCount(api *discordtest.Server, user string) int {
	ch := api.DMChannel(user)
	if ch == "" {
		return 0
	}
	return len(api.Messages(ch))
}

// TestGatewayLateInteractionTwice: a late press delivered twice (both
// replayed on RESUME) tells its invoker once; the second is ignored as a
// duplicate, as one in time is.
func TestGatewayLateInteractionTwice(t *testing.T) {
	logs := &logBuf{}
	f := newFixture(t, ModeGateway, logs.capture)
	f.ready()
	press := f.api.Press(bob, discordtest.Message{ID: "4001", ChannelID: chPayments, Content: "root"}, ActionAck+":UPG-1:brief")
	f.clock.Advance(time.Minute)
	f.gw.Interaction(t, press)
	f.gw.Interaction(t, press)
	f.api.Eventually(t, 10*time.Second, "one told and one ignored", func() bool {
		return len(logs.find("INFO", lateTold)) == 1 && len(logs.find("INFO", "duplicate interaction ignored")) == 1
	})
	f.settle()
	if n := dmCount(f.api, bob.ID); n != 1 {
		t.Errorf("bob got %d direct messages", n)
	}
	if dup := logs.find("INFO", "duplicate interaction ignored"); dup[0]["interaction"] != press.ID {
		t.Errorf("logged %v", dup)
	}
	if n := len(logs.find("INFO", lateTold)); n != 1 {
		t.Errorf("%d told lines", n)
	}
}

// TestGatewayLateInteractionTwoReplicas: a late press delivered to two
// replicas sharing the store (Once) tells its invoker once.
func TestGatewayLateInteractionTwoReplicas(t *testing.T) {
	logs := &logBuf{}
	once := &bottest.Once{}
	shared := func(o *Options) { o.Once = once }
	f1 := newFixture(t, ModeGateway, logs.capture, shared)
	f2 := newFixture(t, ModeGateway, logs.capture, shared)
	f1.ready()
	f2.ready()
	press := f1.api.Press(bob, discordtest.Message{ID: "4001", ChannelID: chPayments, Content: "root"}, ActionAck+":UPG-1:brief")
	f1.clock.Advance(time.Minute)
	f2.clock.Advance(time.Minute)
	f1.gw.Interaction(t, press)
	f2.gw.Interaction(t, press)
	f1.api.Eventually(t, 10*time.Second, "one told and one ignored", func() bool {
		return len(logs.find("INFO", lateTold)) == 1 && len(logs.find("INFO", "duplicate interaction ignored")) == 1
	})
	f1.settle()
	f2.settle()
	if n := dmCount(f1.api, bob.ID) + dmCount(f2.api, bob.ID); n != 1 {
		t.Errorf("bob got %d direct messages", n)
	}
}

// TestGatewayInteractionWithoutIDOrToken: an INTERACTION_CREATE with no
// token, or no interaction at all, is skipped with a warning: nothing is
// answered.
func TestGatewayInteractionWithoutIDOrToken(t *testing.T) {
	logs := &logBuf{}
	f := newFixture(t, ModeGateway, logs.capture)
	f.ready()
	const skipped = "interaction without an id or a token; skipped"
	list := f.api.Command(alice, chOps, "list")
	f.gw.Dispatch(t, "INTERACTION_CREATE", map[string]any{"id": list.ID, "application_id": discordtest.AppID, "type": 2, "data": list.Data})
	f.gw.Dispatch(t, "INTERACTION_CREATE", map[string]any{"id": "1", "type": 3, "data": map[string]any{"custom_id": ActionAck + ":UPG-1:brief", "component_type": 2}})
	f.gw.Dispatch(t, "INTERACTION_CREATE", "garbage")
	f.api.Eventually(t, 10*time.Second, "three warnings", func() bool { return len(logs.find("WARN", skipped)) == 3 })
	if w := logs.find("WARN", skipped); w[0]["interaction"] != list.ID && w[1]["interaction"] != list.ID && w[2]["interaction"] != list.ID {
		t.Errorf("logged %v", w)
	}
	// One with its token is answered as usual, and it alone.
	f.send(f.api.Command(alice, chOps, "list"))
	f.settle()
	if n := len(f.api.Calls("interaction_callback")); n != 1 {
		t.Errorf("%d answers", n)
	}
}
