package slack

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
	"github.com/upgradebot/upgradebot/bot"
)

// pressPayload is a real block_actions payload as Slack posts it.
func pressPayload(tb testing.TB) []byte {
	cb := pressCallback()
	js, err := json.Marshal(&cb)
	if err != nil {
		tb.Fatal(err)
	}
	return js
}

func pressCallback() slackgo.InteractionCallback {
	return slacktestapi.BlockAction(slacktestapi.Press{UserID: "U0BOB", UserName: "bob", ChannelID: "C0PAYMENTS", MessageTS: "1700000000.000100",
		ActionID: ActionAck, Value: "UPG-7:brief", TriggerID: "tr-1", ActionTS: "1700000001.000001", ResponseURL: "https://hooks.slack.com/actions/T/1/x"})
}

// What a press costs to decode: the fields the adapter reads, walked...
func BenchmarkDecodePress(b *testing.B) {
	js := pressPayload(b)
	b.ReportAllocs()
	for b.Loop() {
		var in interaction
		if err := decodeInteraction(js, &in); err != nil || len(in.Actions) != 1 {
			b.Fatal(err)
		}
	}
}

// ...the same fields with encoding/json...
func BenchmarkDecodePressEncodingJSON(b *testing.B) {
	js := pressPayload(b)
	b.ReportAllocs()
	for b.Loop() {
		var in interaction
		if err := json.Unmarshal(js, &in); err != nil || len(in.Actions) != 1 {
			b.Fatal(err)
		}
	}
}

// ...and, for comparison, slack-go's whole InteractionCallback.
func BenchmarkDecodePressSlackGo(b *testing.B) {
	js := pressPayload(b)
	b.ReportAllocs()
	for b.Loop() {
		var cb slackgo.InteractionCallback
		if err := json.Unmarshal(js, &cb); err != nil {
			b.Fatal(err)
		}
	}
}

// Rendering the root message of an upgrade whose audience is 10,000
// people, 9,000 of them still pending, in Block Kit.
func BenchmarkRenderRoot10k(b *testing.B) {
	d := testDirectory()
	u := testUpgrade(d)
	u.Audience = nil
	var acks []bot.Ack
	for i := range 10000 {
		key := fmt.Sprintf("slack:U%07d", i)
		u.Audience = append(u.Audience, key)
		if i < 1000 {
			acks = append(acks, bot.Ack{Scope: bot.ScopeBrief, Who: key, Via: key, At: time.Unix(1_790_000_000, 0)})
		}
	}
	root := d.Root(u, acks)
	b.ReportAllocs()
	for b.Loop() {
		testStyle.msgOptions(root)
	}
}

// Allocation budgets of the hot paths: counts, not times, so they hold on
// any machine; a change that regresses them fails here.
func TestHotPathAllocationBudgets(t *testing.T) {
	js := pressPayload(t)
	if n := testing.AllocsPerRun(100, func() {
		var in interaction
		_ = decodeInteraction(js, &in)
	}); n > 16 {
		t.Errorf("decoding a press allocates %.0f times; the budget is 16 (encoding/json: about 21, slack-go's full decode: about 165)", n)
	}
	// The payload out of the form Slack posts: one copy, of the payload
	// (url.ParseQuery copies the whole form, then each field).
	form := []byte(slacktestapi.InteractionForm(t, pressCallback()))
	if n := testing.AllocsPerRun(100, func() { _, _ = formValue(form, "payload") }); n > 1 {
		t.Errorf("reading the payload of a press's form allocates %.0f times; the budget is 1", n)
	}
}
