package slack

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
	"github.com/upgradebot/upgradebot/bot"
)

func notice(lines ...string) bot.Message {
	m := bot.Message{Kind: bot.KindStarted, UpgradeID: "UPG-7"}
	for _, l := range lines {
		m.Lines = append(m.Lines, bot.T(l))
	}
	return m
}

func TestMessengerWireFormat(t *testing.T) {
	f := newFixture(t, ModeSocket)
	ctx := context.Background()
	d := testDirectory()
	u := testUpgrade(d)

	root, err := f.a.Post(ctx, "slack:C0PAYMENTS", d.Root(u, nil))
	if err != nil {
		t.Fatal(err)
	}
	if root != (bot.MessageRef{Channel: "slack:C0PAYMENTS", ID: "1700000000.000100", URL: "https://test.slack.com/archives/C0PAYMENTS/p1700000000000100"}) {
		t.Errorf("root ref = %+v", root)
	}
	reply, err := f.a.Reply(ctx, root, notice("started"))
	if err != nil {
		t.Fatal(err)
	}
	u.State, u.Reason = bot.RolledBack, "broken"
	alert, err := f.a.Reply(ctx, root, d.Notice(bot.KindRollback, u, bot.Decision{Actor: "alice"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.a.Edit(ctx, root, d.Root(u, nil)); err != nil {
		t.Fatal(err)
	}
	dm, err := f.a.Direct(ctx, "slack:U0BOB", d.Escalation(u, bot.ScopeRollback))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Direct(ctx, "slack:U0BOB", notice("again")); err != nil {
		t.Fatal(err)
	}

	if reply.Channel != "slack:C0PAYMENTS" || reply.ID == root.ID || alert.ID == reply.ID {
		t.Errorf("reply refs %+v %+v", reply, alert)
	}
	if dm.Channel != "slack:D0BOB" {
		t.Errorf("direct message ref %+v", dm)
	}
	posts := f.api.Calls("chat.postMessage")
	if len(posts) != 5 {
		t.Fatalf("%d posts", len(posts))
	}
	tests := []struct {
		name                      string
		call                      int
		channel, thread, broadcst string
	}{
		{"root", 0, "C0PAYMENTS", "", ""},
		{"thread reply", 1, "C0PAYMENTS", root.ID, ""},
		{"rollback is broadcast", 2, "C0PAYMENTS", root.ID, "true"},
		{"direct message", 3, "D0BOB", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := posts[tc.call]
			if c.Param("channel") != tc.channel || c.Param("thread_ts") != tc.thread || c.Param("reply_broadcast") != tc.broadcst {
				t.Errorf("channel=%q thread_ts=%q reply_broadcast=%q", c.Param("channel"), c.Param("thread_ts"), c.Param("reply_broadcast"))
			}
			if c.Param("text") == "" {
				t.Error("no fallback text")
			}
			var blocks []map[string]any
			if err := json.Unmarshal([]byte(c.Param("blocks")), &blocks); err != nil || len(blocks) == 0 {
				t.Errorf("blocks %q: %v", c.Param("blocks"), err)
			}
		})
	}
	if n := len(f.api.Calls("conversations.open")); n != 1 {
		t.Errorf("conversations.open called %d times; the DM channel should be cached", n)
	}
	edited, _ := f.api.Message("C0PAYMENTS", root.ID)
	if edited.Edits != 1 || !strings.Contains(edited.BlockText(), "Rollback acknowledged 0/5") {
		t.Errorf("root after edit: %d edits, %s", edited.Edits, edited.Blocks)
	}
	if !strings.Contains(slacktestapi.BlocksText([]byte(posts[2].Param("blocks"))), "<@U0BOB>") {
		t.Error("the rollback alert must mention the audience")
	}
}

func TestMessengerRefusesOtherPlatforms(t *testing.T) {
	f := newFixture(t, ModeSocket)
	ctx := context.Background()
	if _, err := f.a.Post(ctx, "discord:123", notice("x")); err == nil {
		t.Error("posted to a discord channel")
	}
	if _, err := f.a.Direct(ctx, "slack:", notice("x")); err == nil {
		t.Error("sent to an empty id")
	}
	if err := f.a.Edit(ctx, bot.MessageRef{Channel: "console:x", ID: "1"}, notice("x")); err == nil {
		t.Error("edited a console message")
	}
	if len(f.api.Calls()) != 0 {
		t.Error("Slack was called")
	}
}

func TestDeliveryRetries(t *testing.T) {
	tests := []struct {
		name       string
		faults     []slacktestapi.Fault
		wantErr    string // empty: delivered
		wantCalls  int
		permanent  bool
		minElapsed time.Duration
	}{
		{"429 waits Retry-After", []slacktestapi.Fault{{Status: 429, RetryAfter: "1"}}, "", 2, false, time.Second},
		{"5xx retried", []slacktestapi.Fault{{Status: 500}, {Status: 503}}, "", 3, false, 0},
		{"transient ok:false retried", []slacktestapi.Fault{{Error: "internal_error"}}, "", 2, false, 0},
		{"5xx until attempts run out", []slacktestapi.Fault{{Status: 502}, {Status: 502}, {Status: 502}, {Status: 502}, {Status: 502}}, "slack chat.postMessage: http_502 (after 4 attempts)", 4, false, 0},
		{"channel_not_found is permanent", []slacktestapi.Fault{{Error: "channel_not_found"}}, "slack chat.postMessage: channel_not_found", 1, true, 0},
		{"not_in_channel is permanent", []slacktestapi.Fault{{Error: "not_in_channel"}}, "slack chat.postMessage: not_in_channel", 1, true, 0},
		{"is_archived is permanent", []slacktestapi.Fault{{Error: "is_archived"}}, "slack chat.postMessage: is_archived", 1, true, 0},
		{"invalid_auth is permanent", []slacktestapi.Fault{{Error: "invalid_auth"}}, "slack chat.postMessage: invalid_auth", 1, true, 0},
		{"account_inactive is permanent", []slacktestapi.Fault{{Error: "account_inactive"}}, "slack chat.postMessage: account_inactive", 1, true, 0},
		{"msg_too_long is permanent", []slacktestapi.Fault{{Error: "msg_too_long"}}, "slack chat.postMessage: msg_too_long", 1, true, 0},
		{"4xx is permanent", []slacktestapi.Fault{{Status: 404}}, "slack chat.postMessage: http_404", 1, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, ModeSocket)
			f.api.FailNext("chat.postMessage", tc.faults...)
			started := time.Now()
			_, err := f.a.Post(context.Background(), "slack:C0PAYMENTS", notice("hello"))
			elapsed := time.Since(started)
			if n := len(f.api.Calls("chat.postMessage")); n != tc.wantCalls {
				t.Errorf("%d calls, want %d", n, tc.wantCalls)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("not delivered: %v", err)
				}
				if elapsed < tc.minElapsed {
					t.Errorf("delivered after %s, before the %s Slack asked for", elapsed, tc.minElapsed)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			var se *Error
			if !errors.As(err, &se) || se.Permanent != tc.permanent {
				t.Errorf("error %#v: permanent should be %v", err, tc.permanent)
			}
		})
	}
}

func TestDeliveryStopsWithItsContext(t *testing.T) {
	f := newFixture(t, ModeSocket)
	f.api.FailNext("chat.postMessage", slacktestapi.Fault{Status: http.StatusTooManyRequests, RetryAfter: "30"})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	started := time.Now()
	_, err := f.a.Post(ctx, "slack:C0PAYMENTS", notice("hello"))
	if err == nil {
		t.Fatal("delivered despite the rate limit")
	}
	if elapsed := time.Since(started); elapsed > 2*time.Second {
		t.Errorf("gave up after %s; a wait longer than the context must not be started", elapsed)
	}
}

// TestARateLimitLongerThanTheNoticeHasIsToTryLater: a thread reply that
// Slack rate limits for longer than the notice may wait (a scheduler's
// job has 30 s) fails at once with an error the core sends again later
// (bot.TryLaterError), not one it records as failed for good.
func TestARateLimitLongerThanTheNoticeHasIsToTryLater(t *testing.T) {
	f := newFixture(t, ModeSocket)
	root, err := f.a.Post(context.Background(), "slack:C0PAYMENTS", notice("root"))
	if err != nil {
		t.Fatal(err)
	}
	f.api.FailNext("chat.postMessage", slacktestapi.Fault{Status: http.StatusTooManyRequests, RetryAfter: "40"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	started := time.Now()
	_, err = f.a.Reply(ctx, root, notice("reminder"))
	var later bot.TryLaterError
	if err == nil || !errors.As(err, &later) || !later.TryLater() {
		t.Fatalf("reply rate limited for 40 s: %v, want an error to try later", err)
	}
	// Waiting would take the notice's 30 s; failing at once takes far less.
	if elapsed := time.Since(started); elapsed > 15*time.Second {
		t.Errorf("failed after %s; a wait longer than the notice has must not be started", elapsed)
	}
	if got := err.Error(); !strings.Contains(got, "rate_limited") {
		t.Errorf("error %q does not say Slack rate limited it", got)
	}
}

func TestDeliveryRetriesTimeouts(t *testing.T) {
	f := newFixture(t, ModeSocket)
	f.a.http.Timeout = 100 * time.Millisecond
	f.api.FailNext("chat.update", slacktestapi.Fault{Delay: 300 * time.Millisecond})
	ref, err := f.a.Post(context.Background(), "slack:C0PAYMENTS", notice("v1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.a.Edit(context.Background(), ref, notice("v2")); err != nil {
		t.Fatalf("edit after one timeout: %v", err)
	}
	if n := len(f.api.Calls("chat.update")); n != 2 {
		t.Errorf("%d chat.update calls, want 2", n)
	}
}

// flakyAPI stands in for slack-go: chat.postMessage fails with errs in turn.
type flakyAPI struct {
	webAPI
	errs  []error
	calls int
}

func (f *flakyAPI) PostMessageContext(context.Context, string, ...slackgo.MsgOption) (string, string, error) {
	f.calls++
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return "", "", err
	}
	return "C1", "1700000000.000900", nil
}

func (f *flakyAPI) AuthTestContext(context.Context) (*slackgo.AuthTestResponse, error) {
	return nil, errors.New("not here")
}

func TestDeliveryClassifiesTransportErrors(t *testing.T) {
	reset := &url.Error{Op: "Post", URL: "https://slack.com/api/chat.postMessage", Err: &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}}
	refused := &url.Error{Op: "Post", URL: "https://slack.com/api/chat.postMessage", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	noHost := &url.Error{Op: "Post", URL: "https://slack.invalid/api/chat.postMessage", Err: &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "slack.invalid", IsNotFound: true}}}
	untrusted := &url.Error{Op: "Post", URL: "https://slack.com/api/chat.postMessage", Err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}}
	lateAnswer := &url.Error{Op: "Post", URL: "https://slack.com/api/chat.postMessage", Err: timeoutError{}}
	tests := []struct {
		name      string
		errs      []error
		wantCalls int
		wantErr   bool
	}{
		// The post may have reached Slack: posting again could show it twice.
		{"a post whose connection was reset is not repeated", []error{reset, reset}, 1, true},
		{"a post cut off by EOF is not repeated", []error{io.ErrUnexpectedEOF}, 1, true},
		{"a refused connection (never sent) is retried", []error{refused, refused}, 3, false},
		{"a name that does not resolve (never sent) is retried", []error{noHost, noHost}, 3, false},
		{"a failed TLS handshake (never sent) is retried", []error{untrusted}, 2, false},
		{"a post whose answer timed out is not repeated", []error{lateAnswer}, 1, true},
		{"a 503 status is retried", []error{slackgo.StatusCodeError{Code: 503, Status: "503 Service Unavailable"}}, 2, false},
		{"a 429 without Retry-After is retried", []error{slackgo.StatusCodeError{Code: 429, Status: "429"}}, 2, false},
		{"cancellation is not", []error{context.Canceled}, 1, true},
		{"unknown errors are not", []error{errors.New("json: cannot unmarshal")}, 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, ModeSocket)
			api := &flakyAPI{errs: tc.errs}
			f.a.api = api
			_, err := f.a.Post(context.Background(), "slack:C1", notice("x"))
			if (err != nil) != tc.wantErr {
				t.Errorf("err = %v", err)
			}
			if api.calls != tc.wantCalls {
				t.Errorf("%d calls, want %d", api.calls, tc.wantCalls)
			}
		})
	}
}

// A failure found in the background reaches the invoker by the way they
// came: the command's response_url; when that is gone, an ephemeral
// message in the channel they typed in.
func TestAnswerGoesBackTheWayTheInvokerCame(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	ctx := context.Background()
	to := bot.Invoker{User: "slack:U0ALICE", Channel: "slack:C0OPS", Handle: f.api.ResponseURL("cmd-1")}
	m := bot.Message{Kind: bot.KindError, Lines: []bot.Text{bot.T("⚠ The started notice could not be posted. See ").Command(bot.Hint{Verb: "show", Args: []bot.Arg{{Name: "id", Value: "UPG-7"}}})}}
	if err := f.a.Answer(ctx, to, m); err != nil {
		t.Fatal(err)
	}
	rs := f.api.Responses("cmd-1")
	if len(rs) != 1 || rs[0].Param("response_type") != "ephemeral" || !strings.Contains(rs[0].Param("text"), "See /upgrade show UPG-7") {
		t.Fatalf("response_url posts: %+v", rs)
	}
	if n := len(f.api.Calls("chat.postEphemeral")); n != 0 {
		t.Fatalf("%d ephemeral posts besides the response_url", n)
	}

	f.api.FailNext("response_url", slacktestapi.Fault{Status: http.StatusNotFound}) // expired after 30 minutes
	if err := f.a.Answer(ctx, to, m); err != nil {
		t.Fatal(err)
	}
	eph := f.api.Calls("chat.postEphemeral")
	if len(eph) != 1 || eph[0].Param("channel") != "C0OPS" || eph[0].Param("user") != "U0ALICE" {
		t.Fatalf("fallback: %+v", eph)
	}
}

// Command hints are written with the slash command the app is configured with.
func TestHintsUseTheConfiguredCommand(t *testing.T) {
	st := style{command: "/deploy"}
	m := bot.Message{Kind: bot.KindWindowOpen, Lines: []bot.Text{bot.T("Start it with ").Command(bot.Hint{Verb: "start", Args: []bot.Arg{{Name: "id", Value: "UPG-7"}}}).Add(".")}}
	if got := st.fallback(m); got != "Start it with /deploy start UPG-7." {
		t.Errorf("fallback = %q", got)
	}
	js, _ := json.Marshal(st.blocks(m))
	if !strings.Contains(string(js), "Start it with `/deploy start UPG-7`.") {
		t.Errorf("blocks = %s", js)
	}
}

// TestDeliveryErrorsSayWhatToDo: a failed post's error carries the advice
// of docs/slack.md for its cause (bot.AdvisedError), which the core tells
// the invoker instead of one sentence for every error.
func TestDeliveryErrorsSayWhatToDo(t *testing.T) {
	tests := []struct {
		name  string
		fault slacktestapi.Fault
		want  string // in the advice; "" for none
	}{
		{"is_archived", slacktestapi.Fault{Error: "is_archived"}, "unarchive it, or change the service's channels"},
		{"invalid_auth", slacktestapi.Fault{Error: "invalid_auth"}, "reinstall the app and update the token"},
		{"account_inactive", slacktestapi.Fault{Error: "account_inactive"}, "reinstall the app and update the token"},
		{"token_revoked", slacktestapi.Fault{Error: "token_revoked"}, "reinstall the app and update the token"},
		{"not_in_channel", slacktestapi.Fault{Error: "not_in_channel"}, "invite it there"},
		{"channel_not_found", slacktestapi.Fault{Error: "channel_not_found"}, "Check the channel id"},
		{"msg_too_long", slacktestapi.Fault{Error: "msg_too_long"}, "refused the message itself, not the channel or the token"},
		{"dropped connection", slacktestapi.Fault{Hangup: true}, "may have been posted anyway"},
		{"unknown code", slacktestapi.Fault{Error: "something_new"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, ModeSocket)
			f.api.FailNext("chat.postMessage", tc.fault)
			_, err := f.a.Post(context.Background(), "slack:C0SHOP", notice("hello"))
			if err == nil {
				t.Fatal("delivered")
			}
			got := bot.ErrorAdvice(fmt.Errorf("deliver: %w", err))
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("advice %q, want %q", got, tc.want)
			}
		})
	}
	// A Slack the bot cannot reach at all: the network, not the token.
	a := newNetAdapter(t, "http://"+closedPort(t)+"/api/", &http.Client{Timeout: 5 * time.Second})
	_, err := a.Post(context.Background(), "slack:C0SHOP", notice("hello"))
	if got := bot.ErrorAdvice(err); !strings.Contains(got, "cannot reach Slack: check the network") || !strings.Contains(got, "not the token") {
		t.Errorf("unreachable: advice %q", got)
	}
}
