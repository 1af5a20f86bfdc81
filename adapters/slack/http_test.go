package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/internal/syncbuf"
)

func slash(f *fixture, text, trigger string) slackgo.SlashCommand {
	return slackgo.SlashCommand{
		TeamID: "T0TEST", ChannelID: "C0OPS", ChannelName: "ops", UserID: "U0ALICE", UserName: "alice",
		Command: "/upgrade", Text: text, TriggerID: trigger, ResponseURL: f.api.ResponseURL("cmd-" + trigger),
	}
}

func (f *fixture) command(t *testing.T, sc slackgo.SlashCommand) (int, []byte) {
	t.Helper()
	resp, body := f.do(t, slacktestapi.SignedRequest(t, f.srv.URL+PathCommands, testSecret, slacktestapi.CommandForm(sc), f.clock.now()))
	return resp.StatusCode, body
}

func (f *fixture) press(t *testing.T, p slacktestapi.Press) int {
	t.Helper()
	resp, _ := f.do(t, slacktestapi.SignedRequest(t, f.srv.URL+PathInteractions, testSecret, slacktestapi.InteractionForm(t, slacktestapi.BlockAction(p)), f.clock.now()))
	return resp.StatusCode
}

func TestCommandAnsweredInTheResponse(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.api.AddUser("U0ALICE", "alice", "Europe/Berlin")

	status, body := f.command(t, slash(f, "list payments", "tr-1"))
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	ans := decodeAnswer(t, body)
	if ans["response_type"] != "ephemeral" || ans["text"] != "handled: list payments" || ans["blocks"] == nil {
		t.Errorf("answer = %v", ans)
	}
	invs, texts := f.core.handled()
	if len(invs) != 1 || texts[0] != "list payments" {
		t.Fatalf("core got %v %v", invs, texts)
	}
	inv := invs[0]
	if inv.Actor.ID != "slack:U0ALICE" || inv.Actor.Name != "alice" || inv.Channel != "slack:C0OPS" {
		t.Errorf("invocation = %+v", inv)
	}
	if inv.Location == nil || inv.Location.String() != "Europe/Berlin" {
		t.Errorf("location = %v, want the user's Slack zone", inv.Location)
	}
	if n := len(f.api.Calls("response_url")); n != 0 {
		t.Errorf("%d response_url posts for an answer given in time", n)
	}
}

func TestSlowCommandSaysWorkingOnItThenAnswersOnTheResponseURL(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.a.deadline.Budget = 50 * time.Millisecond
	release := make(chan struct{})
	f.core.handle = func(ctx context.Context, _ bot.Invocation, text string) bot.Message {
		<-release
		return bot.Message{Kind: bot.KindReply, Lines: []bot.Text{bot.T("finally: " + text)}}
	}
	status, body := f.command(t, slash(f, "show 7", "tr-slow")) // the work waits for release: an answer that waited would never come
	if status != http.StatusOK || decodeAnswer(t, body)["text"] != "Working on it…" {
		t.Fatalf("first answer %d %s", status, body)
	}
	close(release)
	f.api.Eventually(t, 5*time.Second, "the late answer", func() bool { return len(f.api.Calls("response_url")) == 1 })
	c := f.api.Calls("response_url")[0]
	if c.Path != "/respond/cmd-tr-slow" || c.Param("text") != "finally: show 7" || c.Param("response_type") != "ephemeral" {
		t.Errorf("late answer %s %s", c.Path, c.JSON)
	}
}

func TestCommandRetriesAreHandledOnce(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	sc := slash(f, "rollback 7 broken", "tr-dup")
	if status, _ := f.command(t, sc); status != http.StatusOK {
		t.Fatal(status)
	}
	req := slacktestapi.SignedRequest(t, f.srv.URL+PathCommands, testSecret, slacktestapi.CommandForm(sc), f.clock.now())
	req.Header.Set("X-Slack-Retry-Num", "1")
	req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
	resp, body := f.do(t, req)
	if resp.StatusCode != http.StatusOK || len(body) != 0 {
		t.Errorf("retry answered %d %q, want an empty 200", resp.StatusCode, body)
	}
	if _, texts := f.core.handled(); len(texts) != 1 {
		t.Errorf("command ran %d times", len(texts))
	}
}

func TestSSLCheck(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	resp, body := f.do(t, slacktestapi.SignedRequest(t, f.srv.URL+PathCommands, testSecret, "ssl_check=1&token=x", f.clock.now()))
	if resp.StatusCode != http.StatusOK || len(body) != 0 {
		t.Errorf("ssl_check answered %d %q", resp.StatusCode, body)
	}
}

func TestWrongSlashCommandName(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	sc := slash(f, "list", "tr-n")
	sc.Command = "/deploy"
	_, body := f.command(t, sc)
	if txt, _ := decodeAnswer(t, body)["text"].(string); !strings.Contains(txt, "/upgrade") {
		t.Errorf("answer %q", txt)
	}
	if _, texts := f.core.handled(); len(texts) != 0 {
		t.Error("the core must not run a foreign command")
	}
}

func TestRefusedRequests(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	good := slacktestapi.CommandForm(slash(f, "schedule payments v2 in 1h", "tr-r"))
	now := f.clock.now()
	ts := strconv.FormatInt(now.Unix(), 10)
	build := func(path, body string, headers map[string]string) *http.Request {
		return slacktestapi.FormRequest(t, f.srv.URL+path, body, headers)
	}
	signed := func(path, body string) *http.Request {
		return slacktestapi.SignedRequest(t, f.srv.URL+path, testSecret, body, now)
	}
	huge := "text=" + strings.Repeat("a", maxBody)
	tests := []struct {
		name string
		req  *http.Request
		want int
	}{
		{"forged signature", build(PathCommands, good, map[string]string{headerTimestamp: ts, headerSignature: slacktestapi.Signature("not-the-secret", ts, []byte(good))}), 401},
		{"signature of another body", build(PathCommands, good+"&x=1", map[string]string{headerTimestamp: ts, headerSignature: slacktestapi.Signature(testSecret, ts, []byte(good))}), 401},
		{"not v0", build(PathCommands, good, map[string]string{headerTimestamp: ts, headerSignature: "v1=" + strings.TrimPrefix(slacktestapi.Signature(testSecret, ts, []byte(good)), "v0=")}), 401},
		{"stale timestamp", slacktestapi.SignedRequest(t, f.srv.URL+PathCommands, testSecret, good, now.Add(-5*time.Minute-time.Second)), 401},
		{"timestamp from the future", slacktestapi.SignedRequest(t, f.srv.URL+PathCommands, testSecret, good, now.Add(6*time.Minute)), 401},
		{"timestamp not a number", build(PathCommands, good, map[string]string{headerTimestamp: "soon", headerSignature: "v0=00"}), 401},
		{"missing signature", build(PathCommands, good, map[string]string{headerTimestamp: ts}), 401},
		{"missing timestamp", build(PathCommands, good, map[string]string{headerSignature: slacktestapi.Signature(testSecret, ts, []byte(good))}), 401},
		{"no headers on interactions", build(PathInteractions, "payload={}", nil), 401},
		{"oversized body", signed(PathCommands, huge), 413},
		{"oversized interaction", signed(PathInteractions, "payload="+strings.Repeat("a", maxBody)), 413},
		{"malformed form", signed(PathCommands, "a=%zz"), 400},
		{"command without user", signed(PathCommands, "channel_id=C1&text=list"), 400},
		{"interaction without payload", signed(PathInteractions, "x=1"), 400},
		{"interaction payload not JSON", signed(PathInteractions, "payload=%7Bnope"), 400},
		{"interaction without user", signed(PathInteractions, "payload=%7B%22type%22%3A%22block_actions%22%7D"), 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := f.do(t, tc.req)
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	t.Run("chunked oversized body", func(t *testing.T) {
		req := signed(PathCommands, huge)
		req.ContentLength = -1 // no Content-Length: the limit applies while reading
		resp, _ := f.do(t, req)
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413", resp.StatusCode)
		}
	})
	// Authenticated before any work (http.md), in this order: an announced
	// length over 1 MiB is 413 whatever the headers; then headers that are
	// missing, malformed or stale are 401, the body unread; then a body over
	// 1 MiB sent without its length is 413 while reading, whoever signed it.
	for _, path := range []string{PathCommands, PathInteractions} {
		body := huge
		if path == PathInteractions {
			body = "payload=" + strings.Repeat("a", maxBody)
		}
		for _, c := range []struct {
			name    string
			headers map[string]string
			chunked int // the answer without a length
		}{
			{"unsigned", nil, 401},
			{"malformed", map[string]string{headerTimestamp: ts, headerSignature: "v0=00"}, 401},
			{"stale", map[string]string{headerTimestamp: strconv.FormatInt(now.Add(-time.Hour).Unix(), 10), headerSignature: slacktestapi.Signature(testSecret, ts, []byte(body))}, 401},
			{"forged", map[string]string{headerTimestamp: ts, headerSignature: slacktestapi.Signature("not-the-secret", ts, []byte(body))}, 413},
			{"signed", map[string]string{headerTimestamp: ts, headerSignature: slacktestapi.Signature(testSecret, ts, []byte(body))}, 413},
		} {
			for _, length := range []bool{true, false} {
				want := 413
				if !length {
					want = c.chunked
				}
				t.Run(fmt.Sprintf("oversized %s %s, length announced %v", c.name, path, length), func(t *testing.T) {
					req := build(path, body, c.headers)
					if !length {
						req.ContentLength = -1
					}
					resp, _ := f.do(t, req)
					if resp.StatusCode != want {
						t.Errorf("status %d, want %d", resp.StatusCode, want)
					}
				})
			}
		}
	}
	t.Run("GET is not served", func(t *testing.T) {
		resp, err := http.Get(f.srv.URL + PathCommands)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET: %d", resp.StatusCode)
		}
	})
	f.a.Wait()
	if invs, _ := f.core.handled(); len(invs) != 0 || len(f.core.pressed()) != 0 {
		t.Errorf("refused requests reached the core: %v %v", invs, f.core.pressed())
	}
	if calls := f.api.Calls(); len(calls) != 0 {
		t.Errorf("refused requests caused Slack calls: %v", calls)
	}
}

func TestPressRecordsAndAnswersPrivately(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	p := slacktestapi.Press{UserID: "U0BOB", UserName: "bob", ChannelID: "C0PAYMENTS", MessageTS: "1700000000.000100",
		ActionID: ActionAck, Value: "UPG-7:brief", TriggerID: "tr-p1", ActionTS: "1700000001.000001", ResponseURL: f.api.ResponseURL("press-1")}
	if status := f.press(t, p); status != http.StatusOK {
		t.Fatal(status)
	}
	f.a.Wait() // the press is recorded after Slack's 200
	got := f.core.pressed()
	if len(got) != 1 || !reflect.DeepEqual(got[0], pressCall{bot.Actor{ID: "slack:U0BOB", Name: "bob"}, "UPG-7", "brief", "slack:tr-p1"}) {
		t.Fatalf("presses = %+v", got)
	}
	f.api.Eventually(t, 5*time.Second, "the private answer", func() bool { return len(f.api.Calls("response_url")) == 1 })
	c := f.api.Calls("response_url")[0]
	var body map[string]any
	if err := json.Unmarshal(c.JSON, &body); err != nil {
		t.Fatal(err)
	}
	if body["response_type"] != "ephemeral" || body["replace_original"] != false || !strings.Contains(body["text"].(string), "UPG-7") {
		t.Errorf("answer = %v", body)
	}

	// Slack re-sends the same press: nothing happens twice.
	req := slacktestapi.SignedRequest(t, f.srv.URL+PathInteractions, testSecret, slacktestapi.InteractionForm(t, slacktestapi.BlockAction(p)), f.clock.now())
	req.Header.Set("X-Slack-Retry-Num", "1")
	if resp, _ := f.do(t, req); resp.StatusCode != http.StatusOK {
		t.Fatal(resp.StatusCode)
	}
	f.a.Wait()
	if n := len(f.core.pressed()); n != 1 {
		t.Errorf("press recorded %d times", n)
	}
	if n := len(f.api.Calls("response_url")); n != 1 {
		t.Errorf("%d answers", n)
	}
}

func TestPressVariants(t *testing.T) {
	tests := []struct {
		name        string
		press       slacktestapi.Press
		wantPress   bool
		wantMethod  string // where the private answer goes
		wantInReply string
		wantThread  string // thread_ts of the private answer
	}{
		{"no response_url: chat.postEphemeral", slacktestapi.Press{UserID: "U0CAROL", ChannelID: "C0PAYMENTS", ActionID: ActionAck, Value: "UPG-3:brief", ActionTS: "1.2", MessageTS: "1700000000.000100"}, true, "chat.postEphemeral", "UPG-3", ""},
		{"no response_url, button in a thread: answered in that thread", slacktestapi.Press{UserID: "U0CAROL", ChannelID: "C0PAYMENTS", ActionID: ActionAck, Value: "UPG-3:rollback", ActionTS: "1.3", MessageTS: "1700000000.000200", ThreadTS: "1700000000.000100"}, true, "chat.postEphemeral", "UPG-3", "1700000000.000100"},
		{"foreign button value", slacktestapi.Press{UserID: "U0CAROL", ChannelID: "C0PAYMENTS", ActionID: ActionAck, Value: "nonsense", TriggerID: "t2"}, false, "chat.postEphemeral", "not one of upgradebot", ""},
		{"other action_id: answered, nothing recorded", slacktestapi.Press{UserID: "U0CAROL", ChannelID: "C0PAYMENTS", ActionID: "something_else", Value: "UPG-3:brief", TriggerID: "t3"}, false, "chat.postEphemeral", "This button is not one of upgradebot's.", ""},
		{"action_id in another case: answered, nothing recorded", slacktestapi.Press{UserID: "U0CAROL", ChannelID: "C0PAYMENTS", ActionID: "Upgrade_Ack", Value: "UPG-3:brief", TriggerID: "t4"}, false, "chat.postEphemeral", "This button is not one of upgradebot's.", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, ModeHTTP)
			if status := f.press(t, tc.press); status != http.StatusOK {
				t.Fatal(status)
			}
			f.a.Wait()
			if got := len(f.core.pressed()) == 1; got != tc.wantPress {
				t.Errorf("pressed = %v, want %v", got, tc.wantPress)
			}
			calls := f.api.Calls()
			if tc.wantMethod == "" {
				if len(calls) != 0 {
					t.Errorf("unexpected calls %v", calls)
				}
				return
			}
			if len(calls) != 1 || calls[0].Method != tc.wantMethod {
				t.Fatalf("calls = %v", calls)
			}
			if c := calls[0]; c.Param("user") != tc.press.UserID || c.Param("channel") != "C0PAYMENTS" || !strings.Contains(c.Param("text"), tc.wantInReply) {
				t.Errorf("ephemeral answer %v", c.Form)
			}
			if got := calls[0].Param("thread_ts"); got != tc.wantThread {
				t.Errorf("private answer thread_ts = %q, want %q", got, tc.wantThread)
			}
		})
	}
}

// A press with neither response_url nor channel cannot be answered: the
// log says so, in those words, and nothing is called.
func TestPressWithNowhereToAnswerIsLogged(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	var logs syncbuf.Buffer
	f.a.log = slog.New(slog.NewTextHandler(&logs, nil))
	if status := f.press(t, slacktestapi.Press{UserID: "U0CAROL", ActionID: ActionAck, Value: "UPG-3:brief", TriggerID: "t5"}); status != http.StatusOK {
		t.Fatal(status)
	}
	f.a.Wait()
	if len(f.core.pressed()) != 1 {
		t.Error("the press was not recorded")
	}
	if calls := f.api.Calls(); len(calls) != 0 {
		t.Errorf("calls %v", calls)
	}
	if got := logs.String(); !strings.Contains(got, "level=WARN") || !strings.Contains(got, "the press could not be answered: its payload has neither response_url nor channel") {
		t.Errorf("log:\n%s", got)
	}
}

func TestOtherInteractionTypesAreIgnored(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	cb := slackgo.InteractionCallback{Type: slackgo.InteractionTypeShortcut, User: slackgo.User{ID: "U1"}, TriggerID: "t"}
	resp, _ := f.do(t, slacktestapi.SignedRequest(t, f.srv.URL+PathInteractions, testSecret, slacktestapi.InteractionForm(t, cb), f.clock.now()))
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d", resp.StatusCode)
	}
	f.a.Wait()
	if len(f.core.pressed()) != 0 || len(f.api.Calls()) != 0 {
		t.Error("a shortcut must not do anything")
	}
}

func TestReady(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.a.checkToken(context.Background())
	if err := f.a.Ready(); err != nil {
		t.Errorf("http mode with routes, the token checked: %v", err)
	}
	a, err := New(Options{BotToken: "xoxb-1", SigningSecret: "s", Mode: ModeHTTP, Core: &fakeCore{}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Ready() == nil {
		t.Error("http mode without routes must not be ready")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.Run(ctx); err != nil {
		t.Errorf("Run in http mode: %v", err)
	}
}

// QA: /readyz answered 200 while the first check of the bot token
// (auth.test) still waited for Slack, up to 15 s against a Slack that does
// not answer, though the token was not known to work. Until that check has
// a verdict the adapter is not ready and says why; it is ready once Slack
// accepts the token. Ready itself never calls Slack.
func TestNotReadyUntilTheFirstTokenCheckEnds(t *testing.T) {
	for _, mode := range []string{ModeHTTP, ModeSocket} {
		t.Run(mode, func(t *testing.T) {
			f := newFixture(t, mode)
			var sock *slacktestapi.Socket
			if mode == ModeSocket {
				sock = slacktestapi.NewSocket(t)
				f.api.SetSocketURL(sock.URL())
			}
			arrived, release := f.api.Hold(t, "auth.test")
			want := "slack: checking the bot token (auth.test at " + f.api.Addr() + ")"
			if mode == ModeHTTP {
				if err := f.a.Ready(); err == nil || err.Error() != want {
					t.Errorf("before Run: Ready = %v, want %q", err, want)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- f.a.Run(ctx) }()
			defer func() { cancel(); <-done }()
			<-arrived
			if mode == ModeSocket {
				// Not connected first ("socket mode is not connected"), then
				// connected and still checking.
				sock.WaitConnected(t, 1, 10*time.Second)
				f.api.Eventually(t, 5*time.Second, "connected, checking the bot token", func() bool {
					err := f.a.Ready()
					return err != nil && err.Error() == want
				})
			}
			calls := len(f.api.Calls())
			for range 3 {
				if err := f.a.Ready(); err == nil || err.Error() != want {
					t.Fatalf("while auth.test waits for Slack: Ready = %v, want %q", err, want)
				}
			}
			if n := len(f.api.Calls()); n != calls {
				t.Errorf("Ready called Slack: %d calls, were %d", n, calls)
			}
			release()
			f.api.Eventually(t, 5*time.Second, "ready once Slack accepts the token", func() bool { return f.a.Ready() == nil })
		})
	}
}

// TestReadyReportsARefusedToken: with a bot token Slack refuses, /readyz
// must say so (and why) instead of reporting ready while every post fails;
// once the token works again, the adapter is ready.
func TestReadyReportsARefusedToken(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.api.FailAlways("auth.test", slacktestapi.Fault{Error: "token_revoked"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.a.Run(ctx) }()
	f.api.Eventually(t, 5*time.Second, "not ready with a revoked token", func() bool {
		err := f.a.Ready()
		return err != nil && strings.Contains(err.Error(), "token_revoked")
	})
	if err := f.a.Ready(); strings.Contains(err.Error(), "xoxb-") {
		t.Errorf("the readiness reason reveals the token: %v", err)
	}
	cancel()
	<-done

	f.api.ClearFaults()
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	go func() { done <- f.a.Run(ctx) }()
	f.api.Eventually(t, 5*time.Second, "ready once the token works", func() bool { return f.a.Ready() == nil })
	cancel()
	<-done
}

func TestNewChecksOptions(t *testing.T) {
	b := &fakeCore{}
	tests := []struct {
		name string
		o    Options
	}{
		{"no bot", Options{BotToken: "xoxb-1", AppToken: "xapp-1"}},
		{"no bot token", Options{AppToken: "xapp-1", Core: b}},
		{"socket without app token", Options{BotToken: "xoxb-1", Core: b}},
		{"socket with a bot token as app token", Options{BotToken: "xoxb-1", AppToken: "xoxb-2", Core: b}},
		{"http without secret", Options{BotToken: "xoxb-1", Mode: ModeHTTP, Core: b}},
		{"unknown mode", Options{BotToken: "xoxb-1", Mode: "rtm", Core: b}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.o); err == nil {
				t.Error("New accepted it")
			} else if strings.Contains(err.Error(), "xoxb-1") || strings.Contains(err.Error(), "xapp-1") {
				t.Errorf("error reveals a token: %v", err)
			}
		})
	}
}

func TestCommandAnsweredWithinThreeSecondsWhateverSlackAndRedisDo(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.api.FailAlways("users.info", slacktestapi.Fault{Delay: 10 * time.Second})
	gaveUp := make(chan struct{})
	f.core.handle = func(ctx context.Context, _ bot.Invocation, text string) bot.Message {
		<-ctx.Done() // Redis hangs for the core too
		close(gaveUp)
		return bot.Message{Kind: bot.KindError, Lines: []bot.Text{bot.T("gave up: " + text)}}
	}
	f.a.deadline.Timeout = 3 * time.Second
	status, body := f.command(t, slash(f, "list", "tr-hang"))
	select {
	case <-gaveUp: // the work gives up at 3 s, when Slack has given up too
		t.Error("answered only when the work gave up, at 3 s; Slack gives up then")
	default:
	}
	if status != http.StatusOK || decodeAnswer(t, body)["text"] != "Working on it…" {
		t.Errorf("answer %d %s", status, body)
	}
	// The real answer still arrives when the work gives up.
	f.api.Eventually(t, 10*time.Second, "the late answer", func() bool { return len(f.api.Calls("response_url")) == 1 })
	if got := f.api.Calls("response_url")[0].Param("text"); got != "gave up: list" {
		t.Errorf("late answer %q", got)
	}
}

func TestRoutesOnlyInHTTPMode(t *testing.T) {
	f := newFixture(t, ModeSocket)
	mux := http.NewServeMux()
	f.a.Routes(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	req := slacktestapi.SignedRequest(t, srv.URL+PathCommands, "", slacktestapi.CommandForm(slash(f, "list", "t")), f.clock.now())
	resp, _ := f.do(t, req)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("socket mode serves %s: %d", PathCommands, resp.StatusCode)
	}

	// Even if the endpoints were reached, an empty secret verifies nothing.
	f.a.secret = nil
	rec := httptest.NewRecorder()
	f.a.serveCommand(rec, slacktestapi.SignedRequest(t, "http://x"+PathCommands, "", slacktestapi.CommandForm(slash(f, "list", "t2")), f.clock.now()))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("a request signed with the empty secret got %d", rec.Code)
	}
	if invs, _ := f.core.handled(); len(invs) != 0 {
		t.Error("the core ran")
	}
}

// The private answers of successive presses go over one kept-alive
// connection to Slack: the adapter reads each response to its end (an
// unread body closes the connection, a new TLS handshake per press).
func TestPressAnswersReuseTheConnection(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	var mu sync.Mutex
	conns, answers := 0, 0
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		answers++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			conns++
			mu.Unlock()
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	for i := range 5 {
		p := slacktestapi.Press{UserID: fmt.Sprintf("U0P%d", i), UserName: "p", ChannelID: "C0PAYMENTS", MessageTS: "1700000000.000100",
			ActionID: ActionAck, Value: "UPG-7:brief", TriggerID: fmt.Sprintf("tr-reuse-%d", i), ResponseURL: srv.URL + "/answer"}
		if status := f.press(t, p); status != http.StatusOK {
			t.Fatal(status)
		}
		f.a.Wait() // one answer at a time, so each can reuse the last one's connection
	}
	mu.Lock()
	defer mu.Unlock()
	if answers != 5 || conns != 1 {
		t.Errorf("%d answers over %d connections, want 5 over 1", answers, conns)
	}
}

// TestLateAnswerFallsBackToADirectMessage: a command answered late whose
// response_url is refused, typed in a channel the bot cannot post in:
// the answer arrives as a direct message.
func TestLateAnswerFallsBackToADirectMessage(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.a.deadline.Budget = 50 * time.Millisecond
	f.api.KnownChannels("C0OPS")
	release := make(chan struct{})
	f.core.handle = func(ctx context.Context, _ bot.Invocation, text string) bot.Message {
		<-release
		return bot.Message{Kind: bot.KindReply, Lines: []bot.Text{bot.T("finally: " + text)}}
	}
	sc := slash(f, "show 7", "tr-late-dm")
	sc.ChannelID = "C0PRIVATE"
	f.api.FailNext("response_url", slacktestapi.Fault{Status: 404})
	if _, body := f.command(t, sc); decodeAnswer(t, body)["text"] != "Working on it…" {
		t.Fatalf("first answer %s", body)
	}
	close(release)
	f.api.Eventually(t, 5*time.Second, "the late answer by direct message", func() bool { return len(f.api.Messages("D0ALICE")) == 1 })
	if m := f.api.Messages("D0ALICE")[0]; m.Text != "finally: show 7" {
		t.Errorf("direct message %q", m.Text)
	}
}
