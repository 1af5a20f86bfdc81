package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack/socketmode"

	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/internal/syncbuf"
)

// runSocketFixture starts the adapter in socket mode against a fake Socket
// Mode server and waits until it is connected.
func runSocketFixture(t *testing.T, setup ...func(*fixture)) (*fixture, *slacktestapi.Socket) {
	t.Helper()
	f := newFixture(t, ModeSocket)
	for _, s := range setup {
		s(f)
	}
	sock := slacktestapi.NewSocket(t)
	f.api.SetSocketURL(sock.URL())
	if f.a.Ready() == nil {
		t.Error("ready before connecting")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	})
	sock.WaitConnected(t, 1, 10*time.Second)
	f.api.Eventually(t, 5*time.Second, "Ready", func() bool { return f.a.Ready() == nil })
	return f, sock
}

// ackedThenAnswered checks that a slash-command envelope is acked at once and
// empty, and returns the answer that then arrives on its response_url.
func ackedThenAnswered(t *testing.T, f *fixture, sock *slacktestapi.Socket, env, trigger string) map[string]any {
	t.Helper()
	if p := sock.WaitAck(t, env, 5*time.Second); string(p) != "null" {
		t.Errorf("acked with %s; socket mode acks first, empty, and works after", p)
	}
	return decodeAnswer(t, f.api.WaitResponse(t, "cmd-"+trigger, 1, 5*time.Second).JSON)
}

func TestSocketModeCommandIsAckedFirstThenAnswered(t *testing.T) {
	f, sock := runSocketFixture(t)
	if c := f.api.Calls("apps.connections.open"); len(c) != 1 || !strings.HasPrefix(c[0].Header.Get("Authorization"), "Bearer xapp-") {
		t.Errorf("apps.connections.open calls: %v", c)
	}
	sc := slash(f, "list", "tr-s1")
	env := sock.SlashCommand(t, sc, 0)
	ans := ackedThenAnswered(t, f, sock, env, "tr-s1")
	if ans["response_type"] != "ephemeral" || ans["text"] != "handled: list" {
		t.Errorf("answer %v", ans)
	}
	// Slack re-sends the envelope (retry_attempt 1): acked, not run again.
	env2 := sock.SlashCommand(t, sc, 1)
	if p := sock.WaitAck(t, env2, 5*time.Second); string(p) != "null" {
		t.Errorf("retry acked with %s, want a bare ack", p)
	}
	if invs, _ := f.core.handled(); len(invs) != 1 || invs[0].Actor.ID != "slack:U0ALICE" || invs[0].Channel != "slack:C0OPS" {
		t.Errorf("core got %+v", invs)
	}
}

func TestSocketModeSlowCommand(t *testing.T) {
	release := make(chan struct{})
	f, sock := runSocketFixture(t, func(f *fixture) {
		f.a.deadline.Budget = 50 * time.Millisecond
		f.core.handle = func(context.Context, bot.Invocation, string) bot.Message {
			<-release
			return bot.Message{Kind: bot.KindReply, Lines: []bot.Text{bot.T("done")}}
		}
	})
	env := sock.SlashCommand(t, slash(f, "show 1", "tr-s2"), 0)
	if ans := ackedThenAnswered(t, f, sock, env, "tr-s2"); ans["text"] != "Working on it…" {
		t.Errorf("first answer %v", ans)
	}
	close(release)
	if got := f.api.WaitResponse(t, "cmd-tr-s2", 2, 5*time.Second).Param("text"); got != "done" {
		t.Errorf("late answer %q", got)
	}
}

func TestSocketModePressIsAckedFirst(t *testing.T) {
	release := make(chan struct{})
	f, sock := runSocketFixture(t, func(f *fixture) {
		f.a.core = &blockingCore{fakeCore: f.core, release: release}
	})
	p := slacktestapi.Press{UserID: "U0BOB", UserName: "bob", ChannelID: "C0PAYMENTS", ActionID: ActionAck,
		Value: "UPG-7:brief", TriggerID: "tr-s3", ResponseURL: f.api.ResponseURL("p")}
	env := sock.Interaction(t, slacktestapi.BlockAction(p))
	// The ack arrives while the press is still being worked on.
	if got := sock.WaitAck(t, env, 5*time.Second); string(got) != "null" {
		t.Errorf("interaction acked with %s", got)
	}
	close(release)
	f.api.Eventually(t, 5*time.Second, "the private answer", func() bool { return len(f.api.Calls("response_url")) == 1 })
	again := sock.Interaction(t, slacktestapi.BlockAction(p)) // the same press, re-sent
	sock.WaitAck(t, again, 5*time.Second)
	f.a.Wait()
	if n := len(f.core.pressed()); n != 1 {
		t.Errorf("press recorded %d times", n)
	}
}

// blockingCore holds presses until release is closed.
type blockingCore struct {
	*fakeCore
	release chan struct{}
}

func (b *blockingCore) Press(ctx context.Context, p bot.ButtonPress) bot.Message {
	<-b.release
	return b.fakeCore.Press(ctx, p)
}

func TestSocketModeMalformedEnvelopes(t *testing.T) {
	f, sock := runSocketFixture(t)
	envs := []slacktestapi.Envelope{
		{Type: "slash_commands", Payload: map[string]any{"text": "list"}},       // no user, no channel
		{Type: "interactive", Payload: map[string]any{"type": "block_actions"}}, // no user
		{Type: "events_api", Payload: map[string]any{"type": "event_callback", "event": map[string]any{"type": "app_mention"}}},
		{Type: "slash_commands", Payload: "xx"}, // a payload that does not decode
		{Type: "interactive", Payload: []int{1}},
		{Type: "something_new", Payload: map[string]any{}}, // a type the bot does not know
	}
	for _, e := range envs {
		id := sock.Send(t, e)
		sock.WaitAck(t, id, 5*time.Second)
	}
	f.a.Wait()
	if invs, _ := f.core.handled(); len(invs) != 0 || len(f.core.pressed()) != 0 {
		t.Error("malformed envelopes reached the core")
	}
	// The connection survives garbage.
	env := sock.SlashCommand(t, slash(f, "help", "tr-s4"), 0)
	if ans := ackedThenAnswered(t, f, sock, env, "tr-s4"); ans["text"] != "handled: help" {
		t.Errorf("after garbage: %v", ans)
	}
}

func TestAnswerJSONRoundTrip(t *testing.T) {
	// What Slack receives must decode into the fields it reads.
	b, err := json.Marshal(testStyle.payload(bot.Message{Lines: []bot.Text{bot.T("hi")}}))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if m["response_type"] != "ephemeral" || m["text"] != "hi" { // answers are private
		t.Errorf("answer %s", b)
	}
	if _, ok := m["replace_original"]; ok {
		t.Error("replace_original belongs only to response_url posts")
	}
}

func TestSocketModeAnswerTooBigForAnAck(t *testing.T) {
	f, sock := runSocketFixture(t, func(f *fixture) {
		f.core.handle = func(context.Context, bot.Invocation, string) bot.Message {
			m := bot.Message{Kind: bot.KindReply}
			for i := 0; i < 300; i++ {
				m.Lines = append(m.Lines, bot.T(strings.Repeat("long line ", 10)))
			}
			return m
		}
	})
	env := sock.SlashCommand(t, slash(f, "list all", "tr-big"), 0)
	if p := sock.WaitAck(t, env, 5*time.Second); string(p) != "null" {
		t.Errorf("acked with %d bytes; Slack drops acks of 20 KB or more", len(p))
	}
	f.api.Eventually(t, 5*time.Second, "the answer on the response_url", func() bool { return len(f.api.Calls("response_url")) == 1 })
	if c := f.api.Calls("response_url")[0]; len(c.JSON) < 20*1024 || c.Param("response_type") != "ephemeral" {
		t.Errorf("response_url got %d bytes, %s", len(c.JSON), c.Param("response_type"))
	}
}

func TestSocketModeReconnectsWhenSlackAsks(t *testing.T) {
	f, sock := runSocketFixture(t)
	sock.Disconnect(t)
	sock.WaitConnected(t, 2, 10*time.Second)
	if n := len(f.api.Calls("apps.connections.open")); n != 2 {
		t.Errorf("apps.connections.open called %d times, want a fresh URL per connection", n)
	}
	f.api.Eventually(t, 5*time.Second, "Ready after reconnecting", func() bool { return f.a.Ready() == nil })
	env := sock.SlashCommand(t, slash(f, "help", "tr-re"), 0)
	if ans := ackedThenAnswered(t, f, sock, env, "tr-re"); ans["text"] != "handled: help" {
		t.Errorf("after reconnecting: %v", ans)
	}
}

// TestSocketModeLogsADroppedConnection: QA saw a connection that dropped
// without Slack's disconnect message logged by nothing but a new "socket
// mode connected": slack-go says why only in its debug log. The drop is
// logged at WARN with its cause, the reconnection at INFO, and neither
// says the app token or the WebSocket URL's ticket.
func TestSocketModeLogsADroppedConnection(t *testing.T) {
	var logs syncbuf.Buffer
	clk := newStepClock()
	f, sock := runSocketFixture(t, func(f *fixture) {
		f.a.log = slog.New(slog.NewJSONHandler(&logs, nil))
		f.a.socketClock = clk
	})
	f.api.SetSocketURL(sock.URL() + "?ticket=tkt-SECRET&app_id=A0TEST")
	waitOpened(t, f, 1)
	clk.Advance(socketStableAfter) // a connection that lasted (one that did not: socket_flap_test.go)
	sock.Drop(t)
	sock.WaitConnected(t, 2, 10*time.Second)
	f.api.Eventually(t, 5*time.Second, "the reconnection logged", func() bool {
		return strings.Contains(logs.String(), "socket mode reconnected")
	})
	var warned, reconnected bool
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		switch e["msg"] {
		case "socket mode connection dropped; reconnecting":
			cause, _ := e["cause"].(string)
			warned = e["level"] == "WARN" && strings.Contains(cause, "close 1006")
		case "socket mode reconnected":
			reconnected = e["level"] == "INFO" && e["after"] == "connection dropped"
		}
	}
	if !warned || !reconnected {
		t.Errorf("want the drop at WARN with its cause, then the reconnection at INFO; log:\n%s", logs.String())
	}
	for _, secret := range []string{"xapp-", "tkt-SECRET", "ticket"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log says %q:\n%s", secret, logs.String())
		}
	}

	// Slack's own request to reconnect is no problem: no WARN.
	waitOpened(t, f, 2)
	clk.Advance(socketStableAfter)
	logs.Reset()
	sock.Disconnect(t)
	sock.WaitConnected(t, 3, 10*time.Second)
	f.api.Eventually(t, 5*time.Second, "the reconnection logged", func() bool {
		return strings.Contains(logs.String(), "socket mode reconnected")
	})
	if strings.Contains(logs.String(), "WARN") || !strings.Contains(logs.String(), "slack asked to reconnect") {
		t.Errorf("after Slack asked to reconnect, log:\n%s", logs.String())
	}
}

// TestSocketModeAnswerFallsBackWhenTheResponseURLRefuses: QA's response_url
// answered 404 and the command's answer was lost (only the log had it).
// It now goes, as every private answer, with chat.postEphemeral in the
// channel where the command was typed, else as a direct message.
func TestSocketModeAnswerFallsBackWhenTheResponseURLRefuses(t *testing.T) {
	f, sock := runSocketFixture(t)
	f.api.KnownChannels("C0OPS")

	f.api.FailNext("response_url", slacktestapi.Fault{Status: 404})
	sock.SlashCommand(t, slash(f, "list", "tr-f1"), 0)
	f.api.Eventually(t, 5*time.Second, "the answer in the channel", func() bool { return len(f.api.Calls("chat.postEphemeral")) == 1 })
	if c := f.api.Calls("chat.postEphemeral")[0]; c.Param("channel") != "C0OPS" || c.Param("user") != "U0ALICE" || c.Param("text") != "handled: list" {
		t.Errorf("ephemeral answer %v", c.Form)
	}
	if n := len(f.api.Calls("response_url")); n != 1 {
		t.Errorf("the response_url was tried %d times", n)
	}

	// Typed where the bot cannot post (a channel it is not in): a DM.
	sc := slash(f, "show 7", "tr-f2")
	sc.ChannelID = "C0PRIVATE"
	f.api.FailNext("response_url", slacktestapi.Fault{Status: 404})
	sock.SlashCommand(t, sc, 0)
	f.api.Eventually(t, 5*time.Second, "the answer by direct message", func() bool { return len(f.api.Messages("D0ALICE")) == 1 })
	if m := f.api.Messages("D0ALICE")[0]; m.Text != "handled: show 7" {
		t.Errorf("direct message %q", m.Text)
	}
	if c := f.api.Calls("chat.postEphemeral"); len(c) != 2 || c[1].Error != "channel_not_found" {
		t.Errorf("postEphemeral calls %+v", c)
	}
}

// TestSocketModeReconnectionAfterAnEarlyDrop: a connection that drops
// within milliseconds of connecting has its end told (slack-go's goroutine)
// before its own hello is read from the events. It was then logged as
// "reconnected", and the next connection, the real reconnection, as
// "connected". Whenever a connection was up before, the next is
// "reconnected", after the drop. The events come in the order slack-go
// can give them, with no connection and no timing.
func TestSocketModeReconnectionAfterAnEarlyDrop(t *testing.T) {
	var logs syncbuf.Buffer
	clk := newStepClock()
	a := &Adapter{log: slog.New(slog.NewJSONHandler(&logs, nil)), socketClock: clk}
	ctx := context.Background()
	// (Up long enough for no pause and no streak: those are in socket_flap_test.go.)
	a.socketOpened(ctx)
	clk.Advance(socketStableAfter)
	a.socketDropped(ctx, "websocket: close 1006 (abnormal closure): unexpected EOF") // the first connection's end, told first
	a.socketEvent(ctx, nil, socketmode.Event{Type: socketmode.EventTypeConnected})   // its hello, read late
	a.socketEvent(ctx, nil, socketmode.Event{Type: socketmode.EventTypeHello})
	a.socketEvent(ctx, nil, socketmode.Event{Type: socketmode.EventTypeConnecting}) // the second connection
	a.socketEvent(ctx, nil, socketmode.Event{Type: socketmode.EventTypeConnected})
	a.socketEvent(ctx, nil, socketmode.Event{Type: socketmode.EventTypeHello})
	a.socketEvent(ctx, nil, socketmode.Event{Type: socketmode.EventTypeConnecting}) // a third, whose end was not told
	a.socketEvent(ctx, nil, socketmode.Event{Type: socketmode.EventTypeConnected})

	var ups []string
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		switch e["msg"] {
		case "socket mode connected":
			ups = append(ups, "connected")
		case "socket mode reconnected":
			ups = append(ups, fmt.Sprintf("reconnected after %v", e["after"]))
		}
	}
	want := []string{"connected", "reconnected after connection dropped", "reconnected after connection ended"}
	if !slices.Equal(ups, want) {
		t.Errorf("logged %q, want %q; log:\n%s", ups, want, logs.String())
	}
}
