package slack

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
	"github.com/upgradebot/upgradebot/internal/syncbuf"
)

// pressOf is an Acknowledge press of user i, with a trigger of its own.
func pressOf(f *fixture, i int) slacktestapi.Press {
	return slacktestapi.Press{UserID: fmt.Sprintf("U%04d", i), UserName: fmt.Sprintf("user%d", i), ChannelID: "C0PAYMENTS",
		ActionID: ActionAck, Value: "UPG-7:brief", TriggerID: fmt.Sprintf("tr-b%d", i), ResponseURL: f.api.ResponseURL(fmt.Sprintf("p%d", i))}
}

// QA: 300 presses while every press worker was busy (slow response_url
// posts) held the read loop, so every later envelope, a slash command
// too, was acknowledged after Slack's 3 s. Every envelope is now acked at
// once, and a command's work does not wait for the presses.
func TestSocketModeAcksEveryEnvelopeAtOnceBehindAPressBacklog(t *testing.T) {
	release := make(chan struct{})
	f, sock := runSocketFixture(t, func(f *fixture) {
		f.a.presses.Max = 2
		f.a.core = &blockingCore{fakeCore: f.core, release: release}
	})
	released := false
	t.Cleanup(func() { // before the fixture's own cleanups, which Wait
		if !released {
			close(release)
		}
	})
	const n = 12
	var envs []string
	for i := range n {
		envs = append(envs, sock.Interaction(t, slacktestapi.BlockAction(pressOf(f, i))))
	}
	cmd := sock.SlashCommand(t, slash(f, "list", "tr-b-cmd"), 0)
	for _, env := range envs {
		if p := sock.WaitAck(t, env, 5*time.Second); string(p) != "null" {
			t.Errorf("press acked with %s", p)
		}
	}
	// The command is acked and answered while all presses still wait.
	if ans := ackedThenAnswered(t, f, sock, cmd, "tr-b-cmd"); ans["text"] != "handled: list" {
		t.Errorf("command answer %v", ans)
	}
	if got := len(f.core.pressed()); got != 0 {
		t.Fatalf("%d presses recorded before the release", got)
	}
	released = true
	close(release)
	f.a.Wait()
	if got := len(f.core.pressed()); got != n {
		t.Errorf("%d presses recorded, want %d", got, n)
	}
	// Slack re-sends one of them: acked, acted on once.
	cb := slacktestapi.BlockAction(pressOf(f, 3))
	again := sock.Send(t, slacktestapi.Envelope{Type: "interactive", Payload: &cb, RetryAttempt: 1, RetryReason: "timeout"})
	sock.WaitAck(t, again, 5*time.Second)
	f.a.Wait()
	if got := len(f.core.pressed()); got != n {
		t.Errorf("after a re-send: %d presses recorded, want %d", got, n)
	}
}

// The presses waiting for a worker are bounded: past the backlog a press is
// left unacknowledged (Slack tells the presser, who presses again), and the
// envelopes after it are still acked at once.
func TestSocketModePressBacklogIsBounded(t *testing.T) {
	release := make(chan struct{})
	var logs syncbuf.Buffer
	f, sock := runSocketFixture(t, func(f *fixture) {
		f.a.presses.Max = 1
		f.a.backlog = make(chan struct{}, 1)
		f.a.core = &blockingCore{fakeCore: f.core, release: release}
		f.a.log = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	released := false
	t.Cleanup(func() {
		if !released {
			close(release)
		}
	})
	first := sock.Interaction(t, slacktestapi.BlockAction(pressOf(f, 1)))
	second := sock.Interaction(t, slacktestapi.BlockAction(pressOf(f, 2)))
	third := sock.Interaction(t, slacktestapi.BlockAction(pressOf(f, 3)))
	cmd := sock.SlashCommand(t, slash(f, "help", "tr-b-help"), 0)
	sock.WaitAck(t, first, 5*time.Second)
	sock.WaitAck(t, second, 5*time.Second)
	sock.WaitAck(t, cmd, 5*time.Second) // read after the third: it was handled
	if p, ok := sock.Acked(third); ok {
		t.Errorf("the press past the backlog was acked (%s)", p)
	}
	if !strings.Contains(logs.String(), "press not acknowledged") {
		t.Errorf("log:\n%s", logs.String())
	}
	released = true
	close(release)
	f.a.Wait()
	if got := len(f.core.pressed()); got != 2 {
		t.Errorf("%d presses recorded, want 2", got)
	}
	// Slack sends it again: now there is room.
	cb := slacktestapi.BlockAction(pressOf(f, 3))
	again := sock.Send(t, slacktestapi.Envelope{Type: "interactive", Payload: &cb, RetryAttempt: 1, RetryReason: "timeout"})
	sock.WaitAck(t, again, 5*time.Second)
	f.a.Wait()
	if got := len(f.core.pressed()); got != 3 {
		t.Errorf("%d presses recorded, want 3", got)
	}
}

// runUnconnected starts the adapter in socket mode with fast retries and
// returns its log and a channel that gets Run's result.
func runUnconnected(t *testing.T, f *fixture) (*syncbuf.Buffer, <-chan error) {
	t.Helper()
	var logs syncbuf.Buffer
	f.a.log = slog.New(slog.NewJSONHandler(&logs, nil))
	f.a.socketRetryFirst, f.a.socketRetryMax = 10*time.Millisecond, 40*time.Millisecond
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
	return &logs, done
}

// QA: a refused app token made serve exit ("slack socket mode:
// invalid_auth"), naming neither the token nor its setting. The adapter
// now keeps trying, not ready with the reason, logs once what to do, and
// is ready again by itself once the token works.
func TestSocketModeRefusedAppTokenKeepsRetrying(t *testing.T) {
	for _, code := range []string{"invalid_auth", "token_revoked"} {
		t.Run(code, func(t *testing.T) {
			f := newFixture(t, ModeSocket)
			sock := slacktestapi.NewSocket(t)
			f.api.SetSocketURL(sock.URL())
			f.api.FailAlways("apps.connections.open", slacktestapi.Fault{Error: code})
			logs, done := runUnconnected(t, f)
			want := "slack: socket mode is not connected: the app token was refused: " + code
			f.api.Eventually(t, 5*time.Second, "three attempts", func() bool { return len(f.api.Calls("apps.connections.open")) >= 3 })
			select {
			case err := <-done:
				t.Fatalf("Run returned %v", err)
			default:
			}
			if err := f.a.Ready(); err == nil || err.Error() != want {
				t.Errorf("Ready = %v, want %q", err, want)
			}
			out := logs.String()
			if n := strings.Count(out, `"level":"ERROR"`); n != 1 {
				t.Errorf("%d ERROR lines, want one:\n%s", n, out)
			}
			for _, s := range []string{"slack.app_token", "UPGRADEBOT_SLACK_APP_TOKEN", "connections:write", code} {
				if !strings.Contains(out, s) {
					t.Errorf("log does not say %q:\n%s", s, out)
				}
			}
			if strings.Contains(out, "xapp-test") {
				t.Errorf("the token is in the log:\n%s", out)
			}
			f.api.ClearFaults()
			sock.WaitConnected(t, 1, 5*time.Second)
			f.api.Eventually(t, 5*time.Second, "Ready", func() bool { return f.a.Ready() == nil })
			if !strings.Contains(logs.String(), "slack accepts the app token again") {
				t.Errorf("no recovery line:\n%s", logs.String())
			}
		})
	}
}

// QA: the token revoked, the routine reconnection Slack asks for
// (disconnect, refresh_requested) stopped the process. It now waits, not
// ready, for the token to work again.
func TestSocketModeTokenRevokedAtReconnect(t *testing.T) {
	f, sock := runSocketFixture(t, func(f *fixture) {
		f.a.socketRetryFirst, f.a.socketRetryMax = 10*time.Millisecond, 40*time.Millisecond
	})
	f.api.FailAlways("apps.connections.open", slacktestapi.Fault{Error: "token_revoked"})
	sock.Disconnect(t)
	f.api.Eventually(t, 5*time.Second, "not ready with the reason", func() bool {
		err := f.a.Ready()
		return err != nil && err.Error() == "slack: socket mode is not connected: the app token was refused: token_revoked"
	})
	f.api.Eventually(t, 5*time.Second, "a retry", func() bool { return len(f.api.Calls("apps.connections.open")) >= 3 })
	f.api.ClearFaults()
	sock.WaitConnected(t, 2, 5*time.Second)
	f.api.Eventually(t, 5*time.Second, "Ready again", func() bool { return f.a.Ready() == nil })
	env := sock.SlashCommand(t, slash(f, "help", "tr-rv"), 0)
	if ans := ackedThenAnswered(t, f, sock, env, "tr-rv"); ans["text"] != "handled: help" {
		t.Errorf("after the token works again: %v", ans)
	}
}

// A 404 from apps.connections.open (slack-go's "invalid auth") is handled
// as every refusal: retried, not ready with the reason.
func TestSocketModeConnectionsOpen404(t *testing.T) {
	f := newFixture(t, ModeSocket)
	f.api.FailAlways("apps.connections.open", slacktestapi.Fault{Status: 404})
	logs, done := runUnconnected(t, f)
	f.api.Eventually(t, 5*time.Second, "two attempts", func() bool { return len(f.api.Calls("apps.connections.open")) >= 2 })
	select {
	case err := <-done:
		t.Fatalf("Run returned %v", err)
	default:
	}
	if err := f.a.Ready(); err == nil || err.Error() != "slack: socket mode is not connected: the app token was refused: http_404" {
		t.Errorf("Ready = %v", err)
	}
	if !strings.Contains(logs.String(), "UPGRADEBOT_SLACK_APP_TOKEN") {
		t.Errorf("log:\n%s", logs.String())
	}
}

// QA: /readyz said only "socket mode is not connected" while
// apps.connections.open failed; it now says how.
func TestSocketModeNotConnectedSaysWhy(t *testing.T) {
	for _, c := range []struct {
		fault slacktestapi.Fault
		want  string
	}{
		{slacktestapi.Fault{Status: 503}, "apps.connections.open failed: http_503"},
		{slacktestapi.Fault{Error: "internal_error"}, "apps.connections.open failed: internal_error"},
	} {
		t.Run(c.want, func(t *testing.T) {
			f := newFixture(t, ModeSocket)
			f.api.FailAlways("apps.connections.open", c.fault)
			runUnconnected(t, f)
			want := "slack: socket mode is not connected: " + c.want
			f.api.Eventually(t, 5*time.Second, want, func() bool {
				err := f.a.Ready()
				return err != nil && err.Error() == want
			})
		})
	}
}
