package discord

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/internal/closedport"
	"github.com/upgradebot/upgradebot/internal/syncbuf"
)

// TestAPostItsCallerGaveUpSaysDiscordHadNotAnswered: the caller gives a
// post up, for a reason of its own (a reminder's window opened), while
// Discord has not answered. The error says so, not the cause again as
// Discord's failure, and the post is not to be tried again.
func TestAPostItsCallerGaveUpSaysDiscordHadNotAnswered(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.api.FailNext("create_message", discordtest.Fault{Delay: time.Minute})
	ctx, cancel := context.WithTimeoutCause(context.Background(), 300*time.Millisecond, errors.New("not posted before the window opened"))
	defer cancel()
	_, err := f.a.Post(ctx, "discord:"+chPayments, notice(bot.KindReminder, "hello"))
	if err == nil || err.Error() != "no answer from Discord yet (create message)" {
		t.Fatalf("err = %v, want: no answer from Discord yet (create message)", err)
	}
	if e, ok := errors.AsType[bot.TryLaterError](err); !ok || e.TryLater() {
		t.Errorf("a post that may have been taken is not to be tried again, got TryLater: %v", err)
	}
}

// TestARateLimitLongerThanTheCallerMayWaitTellsTheWait: Discord answers
// 429 with a retry_after longer than the caller has left: the post fails
// at once, and its error tells the core the wait Discord asked for.
func TestARateLimitLongerThanTheCallerMayWaitTellsTheWait(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.api.FailNext("create_message", discordtest.Fault{Status: http.StatusTooManyRequests, RetryAfter: 4})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := f.a.Post(ctx, "discord:"+chPayments, notice(bot.KindReminder, "hello"))
	w, ok := errors.AsType[bot.WaitError](err)
	if !ok || w.Wait() != 4*time.Second || err.Error() != "discord create message: rate limited" {
		t.Fatalf("err = %v, want discord create message: rate limited, asking to wait 4s", err)
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
// reason of its own (a reminder's window opened), before Discord answered.
// When the request was sent (a connection made, Discord silent), Discord
// may have done it: "no answer from Discord yet". When the connection was
// still being made (the dial, the TLS handshake), the request never left:
// "could not reach Discord yet", with the network advice, and with the
// reason of the attempts before when there were any. Both count as an
// API call that got no answer (unreachable), as on Slack.
func TestAPostGivenUpSaysWhetherItLeft(t *testing.T) {
	late := errors.New("not posted before the window opened")
	closed := closedport.Addr(t)
	const advice = "The bot cannot reach Discord: check the network (DNS, firewall or proxy, CA certificates) or discord.api_url, not the token."
	tests := []struct {
		name   string
		apiURL string
		trace  func(giveUp func()) *httptrace.ClientTrace
		want   string
		advice string
	}{
		{
			name:   "the request was sent",
			apiURL: "http://" + neverAccepts(t) + discordtest.Version,
			trace: func(giveUp func()) *httptrace.ClientTrace {
				return &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { giveUp() }}
			},
			want: "no answer from Discord yet (create message)",
		},
		{
			name:   "still in the TLS handshake",
			apiURL: "https://" + neverAccepts(t) + discordtest.Version,
			trace: func(giveUp func()) *httptrace.ClientTrace {
				return &httptrace.ClientTrace{TLSHandshakeStart: giveUp}
			},
			// A first attempt cut in a handshake that may be healthy: no
			// network advice (it was given here, untruthfully).
			want: "could not reach Discord yet (create message)",
		},
		{
			name:   "still in the TLS handshake after a certificate not trusted",
			apiURL: "https://" + untrusted(t) + discordtest.Version,
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
			want:   "could not reach Discord yet (create message): tls: failed to verify certificate: x509: certificate signed by unknown authority (after 2 attempts)",
			advice: advice,
		},
		{
			name:   "still dialing after a refused connection",
			apiURL: "http://" + closed + discordtest.Version,
			trace: func(giveUp func()) *httptrace.ClientTrace {
				var dials atomic.Int32
				return &httptrace.ClientTrace{ConnectStart: func(string, string) {
					if dials.Add(1) == 2 { // the first is refused, the second is cut short
						giveUp()
					}
				}}
			},
			want:   "could not reach Discord yet (create message): dial tcp " + closed + ": connect: connection refused (after 2 attempts)",
			advice: advice,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obs := &countingObserver{}
			a, err := New(Options{BotToken: discordtest.Token, ApplicationID: discordtest.AppID, APIURL: tc.apiURL,
				Core: bot.New(bot.Options{Config: testConfig()}), Logger: testLogger(), HTTPClient: &http.Client{Transport: &http.Transport{}}, Observer: obs})
			if err != nil {
				t.Fatal(err)
			}
			a.retry = fastRetry
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			ctx = httptrace.WithClientTrace(ctx, tc.trace(func() { cancel(late) }))
			_, err = a.Post(ctx, "discord:"+chPayments, notice(bot.KindReminder, "hello"))
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v, want: %s", err, tc.want)
			}
			if got := bot.ErrorAdvice(err); got != tc.advice {
				t.Errorf("advice %q, want %q", got, tc.advice)
			}
			if e, ok := errors.AsType[bot.TryLaterError](err); !ok || e.TryLater() {
				t.Errorf("a post its caller gave up is not to be tried again (it may have been posted), got TryLater: %v", err)
			}
			obs.mu.Lock()
			calls := slices.Clone(obs.calls)
			obs.mu.Unlock()
			if len(calls) == 0 || calls[len(calls)-1] != "call discord create_message unreachable" {
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
	var logs syncbuf.Buffer
	f := newFixture(t, ModeHTTP, func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ref, err := f.a.Post(context.Background(), "discord:"+chPayments, notice(bot.KindReminder, "root"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ctx   context.Context
		level string
	}{{bot.WithRootRefresh(context.Background()), "DEBUG"}, {context.Background(), "WARN"}} {
		logs.Reset()
		f.api.FailNext("edit_message", discordtest.Fault{Status: 502}, discordtest.Fault{Status: 503})
		if err := f.a.Edit(tc.ctx, ref, notice(bot.KindReminder, "root, edited")); err != nil {
			t.Fatal(err)
		}
		if got := logs.String(); strings.Count(got, `level=`+tc.level+` msg="discord call failed; retrying"`) != 2 || strings.Count(got, `msg="discord call failed; retrying"`) != 2 {
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
