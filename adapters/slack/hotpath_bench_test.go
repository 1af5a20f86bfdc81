package slack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

// pressForm is the body Slack posts for a press: one form field, payload.
func pressForm(tb testing.TB) []byte {
	return []byte(slacktestapi.InteractionForm(tb, pressCallback()))
}

// What reading a press's payload out of its form costs (the form is
// copied into the request's buffer first each time, as formValue may
// unescape in place).
func BenchmarkFormValuePress(b *testing.B) {
	form := pressForm(b)
	buf := make([]byte, len(form))
	b.SetBytes(int64(len(form)))
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, form)
		if v, err := formValue(buf, "payload"); err != nil || len(v) == 0 {
			b.Fatal(err)
		}
	}
}

// What checking a press's v0 signature costs.
func BenchmarkSignaturePress(b *testing.B) {
	form := pressForm(b)
	const ts = "1700000000"
	sig, secret := slacktestapi.Signature(testSecret, ts, form), []byte(testSecret)
	b.SetBytes(int64(len(form)))
	b.ReportAllocs()
	for b.Loop() {
		if err := checkSignature(secret, ts, sig, form); err != nil {
			b.Fatal(err)
		}
	}
}

// rewindBody is a request body read again each time round.
type rewindBody struct{ bytes.Reader }

func (*rewindBody) Close() error { return nil }

// What a press request costs from its headers to its verified body:
// the timestamp, the body read, the signature.
func BenchmarkVerifyPressRequest(b *testing.B) {
	form := pressForm(b)
	at := time.Unix(1_790_000_000, 0)
	a := &Adapter{secret: []byte(testSecret), now: func() time.Time { return at }, log: slog.New(slog.DiscardHandler)}
	r := slacktestapi.SignedRequest(b, "http://x"+PathInteractions, testSecret, string(form), at)
	var body rewindBody
	r.Body = &body
	w := httptest.NewRecorder()
	b.SetBytes(int64(len(form)))
	b.ReportAllocs()
	for b.Loop() {
		body.Reset(form)
		if got, ok := a.readSigned(w, r); !ok || len(got) != len(form) {
			b.Fatalf("refused: %d", w.Code)
		}
	}
	if w.Code != http.StatusOK {
		b.Fatalf("answered %d", w.Code)
	}
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
	}); n > 13 {
		t.Errorf("decoding a press allocates %.0f times; the budget is 13, its strings and its actions (encoding/json: about 21, slack-go's full decode: about 165)", n)
	}
	// The payload out of the form Slack posts: unescaped in the request's
	// buffer, no copy (url.ParseQuery copies the whole form, then each field).
	form := pressForm(t)
	buf := make([]byte, len(form))
	if n := testing.AllocsPerRun(100, func() { copy(buf, form); _, _ = formValue(buf, "payload") }); n > 0 {
		t.Errorf("reading the payload of a press's form allocates %.0f times; the budget is 0", n)
	}
	// The signature: an HMAC kept keyed between requests.
	const ts = "1700000000"
	sig, secret := slacktestapi.Signature(testSecret, ts, form), []byte(testSecret)
	if n := testing.AllocsPerRun(100, func() { _ = checkSignature(secret, ts, sig, form) }); n > 0 && !raceEnabled {
		t.Errorf("checking a press's signature allocates %.0f times; the budget is 0", n)
	}
}
