package discord

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
	"github.com/upgradebot/upgradebot/bot"
)

// pressPayload is a press of the Acknowledge button on an upgrade's root
// message as Discord posts it: with the message, its embeds and buttons.
func pressPayload(tb testing.TB) []byte {
	t0 := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	u := &bot.Upgrade{ID: 7, Service: "payments", Version: "v2.4.0", State: bot.Scheduled, Start: t0, End: t0.Add(2 * time.Hour),
		Owners: []string{"alice"}, Audience: []string{"alice", "bob", "carol"}, Region: "eu-west", Impact: "card payments may fail"}
	p := testStyle.render(bot.NewDirectory(testConfig()).Root(u, nil))
	api := discordtest.New(tb)
	i := api.Press(discordtest.Member{ID: "1002", Name: "bob", Roles: []string{"3001"}},
		discordtest.Message{ID: "4001", ChannelID: "2002", Content: p.Content, Embeds: p.Embeds}, ActionAck+":UPG-7:brief")
	i.Message.Components = p.Components
	return discordtest.Marshal(tb, i)
}

// What a press costs to decode: the fields the adapter reads, walked...
func BenchmarkDecodePress(b *testing.B) {
	js := pressPayload(b)
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if _, err := decodeInteraction(js); err != nil {
			b.Fatal(err)
		}
	}
}

// ...the same fields by encoding/json (the walker's way out)...
func BenchmarkDecodePressJSON(b *testing.B) {
	js := pressPayload(b)
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if _, err := decodeInteractionJSON(js); err != nil {
			b.Fatal(err)
		}
	}
}

// What a press's authentic read costs: headers, body and signature.
func BenchmarkReadSignedPress(b *testing.B) {
	js := pressPayload(b)
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	a := &Adapter{pubKey: pub, now: func() time.Time { return at }, log: slog.New(slog.DiscardHandler)}
	req := discordtest.SignedRequest(b, "http://bot"+PathInteractions, priv, js, at)
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		r := *req
		r.Body = io.NopCloser(bytes.NewReader(js))
		if _, ok := a.readSigned(httptest.NewRecorder(), &r); !ok {
			b.Fatal("refused")
		}
	}
}

// ...and, for comparison, discordgo's whole Interaction.
func BenchmarkDecodePressDiscordgo(b *testing.B) {
	js := pressPayload(b)
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		var i discordgo.Interaction
		if err := json.Unmarshal(js, &i); err != nil {
			b.Fatal(err)
		}
	}
}

// commandPayload is /upgrade schedule with options, as Discord posts it.
func commandPayload(tb testing.TB) []byte {
	api := discordtest.New(tb)
	i := api.Command(discordtest.Member{ID: "1002", Name: "bob", Roles: []string{"3001"}}, "2099", "schedule",
		discordtest.O("service", "payments"), discordtest.O("version", "v2.4.0"), discordtest.O("start", "2026-12-01 02:00"),
		discordtest.Opt{Name: "dry", Value: true})
	return discordtest.Marshal(tb, i)
}

// What a slash command costs to decode.
func BenchmarkDecodeCommand(b *testing.B) {
	js := commandPayload(b)
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if _, err := decodeInteraction(js); err != nil {
			b.Fatal(err)
		}
	}
}

// What a slash command costs by encoding/json.
func BenchmarkDecodeCommandJSON(b *testing.B) {
	js := commandPayload(b)
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if _, err := decodeInteractionJSON(js); err != nil {
			b.Fatal(err)
		}
	}
}

// What checking a press's signature costs.
func BenchmarkVerifyPress(b *testing.B) {
	js := pressPayload(b)
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	msg := append([]byte("1764554400"), js...)
	sig := ed25519.Sign(priv, msg)
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if err := verify(pub, msg, sig); err != nil {
			b.Fatal(err)
		}
	}
}

// reportCPU reports the CPU time the process spent per operation, from
// now to when the returned func is called: cpu-ns/op, which ns/op (wall
// clock, waiting for a core on a shared machine included) does not tell.
func reportCPU(b *testing.B) func() {
	start := cpuTime(b)
	return func() { b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op") }
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Allocation budget of the decode on every interaction: counts, not times,
// so it holds on any machine.
func TestHotPathAllocationBudgets(t *testing.T) {
	for _, c := range []struct {
		what   string
		js     []byte
		budget float64
	}{
		{"a press", pressPayload(t), 7},
		{"a command", commandPayload(t), 23},
	} {
		if n := testing.AllocsPerRun(100, func() { _, _ = decodeInteraction(c.js) }); n > c.budget {
			t.Errorf("decoding %s allocates %.0f times; the budget is %.0f", c.what, n, c.budget)
		}
	}
}

// The small decode gives the handlers what discordgo's full one gives them,
// for every kind of interaction they serve.
func TestDecodeInteractionReadsWhatDiscordgoReads(t *testing.T) {
	api := discordtest.New(t)
	bob := discordtest.Member{ID: "1002", Name: "bob", Roles: []string{"3001", "3002"}}
	dm := api.Command(bob, "2099", "show", discordtest.O("id", "UPG-1"))
	dm.Member, dm.User = nil, &discordgo.User{ID: "1003", Username: "carol", GlobalName: "Carol C"}
	nick := api.Command(bob, "2099", "list")
	nick.Member.Nick = "Bobby"
	for name, i := range map[string]*discordgo.Interaction{
		"command":      api.Command(bob, "2099", "schedule", discordtest.O("service", "payments"), discordtest.O("version", "v2.4.0"), discordtest.Opt{Name: "dry", Value: true}),
		"autocomplete": api.Autocomplete(bob, "2099", "show", discordtest.Opt{Name: "id", Value: "UPG", Focused: true}),
		"press":        api.Press(bob, discordtest.Message{ID: "4001", ChannelID: "2002", Content: "root"}, ActionAck+":UPG-7:brief"),
		"modal":        api.Submit(bob, "2002", "upgrade_debrief:UPG-7", map[string]string{"what": "went fine", "followups": "none"}),
		"ping":         discordtest.Ping(),
		"dm":           dm,
		"nick":         nick,
	} {
		js := discordtest.Marshal(t, i)
		var want discordgo.Interaction
		if err := json.Unmarshal(js, &want); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := decodeInteraction(js)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// What the handlers read: everything but the message a button is on.
		want.Message = nil
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("%s:\n got %#v\nwant %#v", name, got, &want)
		}
	}
}
