package slack

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/internal/syncbuf"
)

// TestAPostItsCallerGaveUpSaysSlackHadNotAnswered: the caller gives a post
// up, for a reason of its own (a reminder's window opened), while Slack has
// not answered. The error says so, not "slack chat.postMessage: error",
// and the post is not to be tried again (Slack may have taken it).
func TestAPostItsCallerGaveUpSaysSlackHadNotAnswered(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	arrived, _ := f.api.Hold(t, "chat.postMessage")
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() { <-arrived; cancel(errors.New("not posted before the window opened")) }()
	_, err := f.a.Post(ctx, "slack:C0PAYMENTS", notice("hello"))
	if err == nil || err.Error() != "no answer from Slack yet (chat.postMessage)" {
		t.Fatalf("err = %v, want: no answer from Slack yet (chat.postMessage)", err)
	}
	if e, ok := errors.AsType[bot.TryLaterError](err); !ok || e.TryLater() {
		t.Errorf("a post that may have been taken is not to be tried again, got TryLater: %v", err)
	}
}

// TestARateLimitLongerThanTheCallerMayWaitTellsTheWait: Slack answers 429
// with a Retry-After longer than the caller has left: the post fails at
// once, and its error tells the core the wait Slack asked for.
func TestARateLimitLongerThanTheCallerMayWaitTellsTheWait(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.api.FailNext("chat.postMessage", slacktestapi.Fault{Status: http.StatusTooManyRequests, RetryAfter: "4"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := f.a.Post(ctx, "slack:C0PAYMENTS", notice("hello"))
	w, ok := errors.AsType[bot.WaitError](err)
	if !ok || w.Wait() != 4*time.Second || err.Error() != "slack chat.postMessage: rate_limited" {
		t.Fatalf("err = %v, want slack chat.postMessage: rate_limited, asking to wait 4s", err)
	}
}

// neverAccepts is a real listener on 127.0.0.1 that never accepts: the
// kernel completes the TCP handshake, and nothing ever reads or answers.
func neverAccepts(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// TestAPostGivenUpSaysWhetherItLeft: the caller gives a post up, for a
// reason of its own (a reminder's window opened), before Slack answered.
// When the request was sent (a connection made, Slack silent), Slack may
// have taken it: "no answer from Slack yet". When the connection was still
// being made (the dial, the TLS handshake), the request never left:
// "could not reach Slack yet", with the network advice, and with the
// reason of the attempts before when there were any. Both count as an
// API call that got no answer (unreachable), as on Discord.
func TestAPostGivenUpSaysWhetherItLeft(t *testing.T) {
	late := errors.New("not posted before the window opened")
	closed := closedPort(t)
	tests := []struct {
		name    string
		apiURL  string
		trace   func(giveUp func()) *httptrace.ClientTrace
		want    string
		attempt int
		advice  string
	}{
		{
			name:   "the request was sent",
			apiURL: "http://" + neverAccepts(t) + "/api/",
			trace: func(giveUp func()) *httptrace.ClientTrace {
				return &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { giveUp() }}
			},
			want: "no answer from Slack yet (chat.postMessage)", attempt: 1,
		},
		{
			name:   "still in the TLS handshake",
			apiURL: "https://" + neverAccepts(t) + "/api/",
			trace: func(giveUp func()) *httptrace.ClientTrace {
				return &httptrace.ClientTrace{TLSHandshakeStart: giveUp}
			},
			want: "could not reach Slack yet (chat.postMessage)", attempt: 1,
			// A first attempt cut in a handshake that may be healthy: no
			// network advice (it was given here, untruthfully).
		},
		{
			name:   "still in the TLS handshake after a certificate not trusted",
			apiURL: "https://" + untrusted(t) + "/api/",
			trace: func(giveUp func()) *httptrace.ClientTrace {
				var shakes atomic.Int32
				return &httptrace.ClientTrace{TLSHandshakeStart: func() {
					if shakes.Add(1) == 2 { // the first fails on the certificate, the second is cut short
						giveUp()
					}
				}}
			},
			// The first attempt's TLS failure was dropped (only a
			// net.OpError's was told).
			want:    "could not reach Slack yet (chat.postMessage): tls: failed to verify certificate: x509: certificate signed by unknown authority (after 2 attempts)",
			attempt: 2,
			advice:  "The bot cannot reach Slack: check the network (DNS, firewall or proxy, CA certificates) or slack.api_url, not the token.",
		},
		{
			name:   "still dialing after a refused connection",
			apiURL: "http://" + closed + "/api/",
			trace: func(giveUp func()) *httptrace.ClientTrace {
				var dials atomic.Int32
				return &httptrace.ClientTrace{ConnectStart: func(string, string) {
					if dials.Add(1) == 2 { // the first is refused, the second is cut short
						giveUp()
					}
				}}
			},
			want:    "could not reach Slack yet (chat.postMessage): dial tcp " + closed + ": connect: connection refused (after 2 attempts)",
			attempt: 2,
			advice:  "The bot cannot reach Slack: check the network (DNS, firewall or proxy, CA certificates) or slack.api_url, not the token.",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newNetAdapter(t, tc.apiURL, &http.Client{Transport: &http.Transport{}})
			obs := &apiCalls{}
			a.obs = obs
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			ctx = httptrace.WithClientTrace(ctx, tc.trace(func() { cancel(late) }))
			_, err := a.Post(ctx, "slack:C0PAYMENTS", notice("hello"))
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v, want: %s", err, tc.want)
			}
			if got := bot.ErrorAdvice(err); got != tc.advice {
				t.Errorf("advice %q, want %q", got, tc.advice)
			}
			if e, ok := errors.AsType[bot.TryLaterError](err); !ok || e.TryLater() {
				t.Errorf("a post its caller gave up is not to be tried again (it may have been posted), got TryLater: %v", err)
			}
			calls := obs.take()
			if len(calls) == 0 || calls[len(calls)-1] != "call slack chat.postMessage unreachable" {
				t.Errorf("observed %q, want the last call counted unreachable", calls)
			}
		})
	}
}

// TestRetriesOfTheCoresBackgroundWorkAreLoggedAtDebug: a root message's
// refresh or background retry (bot.IsRootRefresh) logs its failures once per
// streak in the core; the adapter's own retries of such a call are at
// DEBUG, where they were a WARN per attempt for every try of an outage.
// Any other call's retries stay WARNs.
func TestRetriesOfTheCoresBackgroundWorkAreLoggedAtDebug(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	var logs syncbuf.Buffer
	f.a.log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ref, err := f.a.Post(context.Background(), "slack:C0PAYMENTS", notice("root"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ctx   context.Context
		level string
	}{{bot.WithRootRefresh(context.Background()), "DEBUG"}, {context.Background(), "WARN"}} {
		logs.Reset()
		f.api.FailNext("chat.update", slacktestapi.Fault{Status: http.StatusServiceUnavailable}, slacktestapi.Fault{Status: http.StatusServiceUnavailable})
		if err := f.a.Edit(tc.ctx, ref, notice("hello")); err != nil {
			t.Fatal(err)
		}
		if got := logs.String(); strings.Count(got, `level=`+tc.level+` msg="slack call failed; retrying"`) != 2 || strings.Count(got, "level=") != 2 {
			t.Errorf("want the 2 retries at %s:\n%s", tc.level, got)
		}
	}
}

// untrusted is the address of a TLS server whose certificate the client
// does not trust (x509: certificate signed by unknown authority).
func untrusted(t *testing.T) string {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}
