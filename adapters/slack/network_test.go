package slack

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/upgradebot/upgradebot/adapters/outbound"
	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
	"github.com/upgradebot/upgradebot/bot"
)

// network stands between the adapter and the real network: it counts the
// connections the adapter opens and, once healed, takes them to one address
// whatever host they name (as if DNS, the route or the firewall were fixed).
type network struct {
	mu     sync.Mutex
	dials  int
	healed string
}

func (n *network) dial(ctx context.Context, netw, addr string) (net.Conn, error) {
	n.mu.Lock()
	n.dials++
	if n.healed != "" {
		addr = n.healed
	}
	n.mu.Unlock()
	return (&net.Dialer{}).DialContext(ctx, netw, addr)
}

func (n *network) heal(addr string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.healed = addr
}

func (n *network) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dials
}

// client is an HTTP client whose connections go through n; it trusts only
// the system's certificate authorities.
func (n *network) client() *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: n.dial}}
}

// newNetAdapter is an http-mode adapter (routes registered, so Ready depends
// only on Slack) whose Web API is apiURL, with the tests' fast retries.
func newNetAdapter(t *testing.T, apiURL string, client *http.Client) *Adapter {
	t.Helper()
	a, err := New(Options{
		BotToken: "xoxb-never-shown", SigningSecret: testSecret, APIURL: apiURL, Mode: ModeHTTP,
		Core: &fakeCore{}, HTTPClient: client,
	})
	if err != nil {
		t.Fatal(err)
	}
	a.retry = fastRetry
	a.Routes(http.NewServeMux())
	t.Cleanup(a.Wait)
	return a
}

// TestSlackUnreachable: a Slack the bot cannot reach (a name that does not
// resolve, a closed port, a certificate it does not trust) is a transient
// network failure: each call is retried, posts included (the request never
// left), the error recorded on the upgrade says "cannot reach Slack" and
// never names the token, /readyz says so instead of blaming the token, and
// the next successful check makes the adapter ready again.
func TestSlackUnreachable(t *testing.T) {
	type world struct {
		apiURL string
		n      *network
		fake   *slacktestapi.Server // the Slack that answers once healed
	}
	tests := []struct {
		name      string
		setup     func(t *testing.T) world
		code      string
		wantErr   func(w world) string // the whole error text
		wantReady func(w world) string
		heal      func(w world, a *Adapter)
	}{
		{
			name: "unresolvable host",
			setup: func(t *testing.T) world {
				return world{apiURL: "http://slack.invalid/api/", n: &network{}, fake: slacktestapi.New(t)}
			},
			code:      codeNetwork,
			wantErr:   func(world) string { return "cannot reach Slack (chat.postMessage): dial tcp: lookup slack.invalid" },
			wantReady: func(world) string { return "slack: cannot reach Slack at slack.invalid: no such host" },
			heal:      func(w world, _ *Adapter) { w.n.heal(w.fake.Addr()) },
		},
		{
			name: "closed port",
			setup: func(t *testing.T) world {
				return world{apiURL: "http://" + closedPort(t) + "/api/", n: &network{}, fake: slacktestapi.New(t)}
			},
			code: codeNetwork,
			wantErr: func(w world) string {
				u, _ := url.Parse(w.apiURL)
				return "cannot reach Slack (chat.postMessage): dial tcp " + u.Host + ": connect: connection refused (after 4 attempts)"
			},
			wantReady: func(w world) string {
				u, _ := url.Parse(w.apiURL)
				return "slack: cannot reach Slack at " + u.Host + ": connection refused"
			},
			heal: func(w world, _ *Adapter) { w.n.heal(w.fake.Addr()) },
		},
		{
			name: "untrusted certificate",
			setup: func(t *testing.T) world {
				fake := slacktestapi.NewTLS(t)
				return world{apiURL: fake.APIURL(), n: &network{}, fake: fake}
			},
			code: codeTLS,
			wantErr: func(world) string {
				return "cannot reach Slack (chat.postMessage): tls: failed to verify certificate: x509: certificate signed by unknown authority (after 4 attempts)"
			},
			wantReady: func(w world) string {
				return "slack: cannot reach Slack at " + w.fake.Addr() + ": TLS: x509: certificate signed by unknown authority"
			},
			heal: func(w world, a *Adapter) { // the bot now trusts the certificate
				a.api = slackgo.New("xoxb-never-shown", slackgo.OptionHTTPClient(w.fake.Client()), slackgo.OptionAPIURL(w.fake.APIURL()))
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.setup(t)
			a := newNetAdapter(t, w.apiURL, w.n.client())
			ctx := context.Background()

			// A post is retried: a request that never connected cannot have been posted.
			_, err := a.Post(ctx, "slack:C0PAYMENTS", notice("hello"))
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("Post = %v, want an *Error", err)
			}
			if se.Code != tc.code || se.Attempts != fastRetry.attempts || se.Permanent || !se.Unreachable() || se.TokenRefused() {
				t.Errorf("error %q: code %q, %d attempts, permanent %v, unreachable %v, refused %v; want %q, %d attempts, transient, unreachable",
					err, se.Code, se.Attempts, se.Permanent, se.Unreachable(), se.TokenRefused(), tc.code, fastRetry.attempts)
			}
			if n := w.n.count(); n != fastRetry.attempts {
				t.Errorf("%d connections tried, want %d", n, fastRetry.attempts)
			}
			detail := bot.ErrorDetail(err) // what `show` lists on the upgrade
			if want := tc.wantErr(w); !strings.HasPrefix(detail, want) || !strings.HasSuffix(detail, fmt.Sprintf(" (after %d attempts)", fastRetry.attempts)) {
				t.Errorf("recorded error %q, want %q…", detail, want)
			}
			for _, secret := range []string{"xoxb-", "token", "/api/", "http"} {
				if strings.Contains(detail, secret) {
					t.Errorf("recorded error %q contains %q", detail, secret)
				}
			}
			if len(w.fake.Calls()) != 0 {
				t.Fatalf("the fake Slack was reached: %v", w.fake.Calls())
			}

			// Readiness names the host and the reason, not the token.
			if err := a.Ready(); err == nil || !strings.HasPrefix(err.Error(), "slack: checking the bot token (auth.test at ") {
				t.Fatalf("Ready before the first check = %v, want it checking the bot token", err)
			}
			if next := a.checkToken(ctx); next != a.recheckEvery {
				t.Errorf("next check in %s while Slack cannot be reached, want %s", next, a.recheckEvery)
			}
			ready := a.Ready()
			if ready == nil {
				t.Fatal("ready while Slack cannot be reached")
			}
			if want := tc.wantReady(w); ready.Error() != want {
				var dns *net.DNSError
				if tc.code == codeNetwork && errors.As(se, &dns) && !dns.IsNotFound && strings.HasPrefix(ready.Error(), "slack: cannot reach Slack at slack.invalid: DNS") {
					t.Logf("no DNS server here: %v", ready)
				} else {
					t.Errorf("Ready = %q, want %q", ready, want)
				}
			}
			if strings.Contains(ready.Error(), "refused: ") || strings.Contains(ready.Error(), "token") {
				t.Errorf("Ready blames the token: %q", ready)
			}

			// Slack is back: the next check clears it, and posts go out.
			tc.heal(w, a)
			if next := a.checkToken(ctx); next != a.checkEvery {
				t.Errorf("next check in %s once fine, want %s", next, a.checkEvery)
			}
			if err := a.Ready(); err != nil {
				t.Errorf("Ready after Slack answered: %v", err)
			}
			if _, err := a.Post(ctx, "slack:C0PAYMENTS", notice("hello")); err != nil {
				t.Errorf("Post after Slack answered: %v", err)
			}
		})
	}
}

// TestReadinessComesBackWithSlack: while Slack cannot be reached, Run says
// so at once and checks again every recheckEvery (not every 5 minutes), so
// readiness returns soon after Slack does.
func TestReadinessComesBackWithSlack(t *testing.T) {
	fake := slacktestapi.New(t)
	n := &network{}
	a := newNetAdapter(t, "http://slack.invalid/api/", n.client())
	a.retry.attempts = 1000 // the first check is still retrying when readiness turns
	a.checkEvery, a.recheckEvery = time.Hour, 20*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()

	fake.Eventually(t, 5*time.Second, "not ready while slack.invalid does not resolve", func() bool {
		err := a.Ready()
		return err != nil && strings.HasPrefix(err.Error(), "slack: cannot reach Slack at slack.invalid: ")
	})
	n.heal(fake.Addr())
	fake.Eventually(t, 5*time.Second, "ready once Slack answers", func() bool { return a.Ready() == nil })
	if fake.Count("auth.test") == 0 {
		t.Error("no auth.test reached Slack")
	}
}

// TestReadyTellsRefusalFromFailure: only Slack's own verdict on the token
// means "the bot token was refused"; other answers and lost answers say
// what happened instead, and are checked again soon.
func TestReadyTellsRefusalFromFailure(t *testing.T) {
	tests := []struct {
		name      string
		fault     slacktestapi.Fault
		wantReady string // %s: the fake's host:port
		wantCalls int
		refused   bool
	}{
		{"invalid_auth", slacktestapi.Fault{Error: "invalid_auth"}, "slack: the bot token was refused: invalid_auth", 1, true},
		{"not_authed", slacktestapi.Fault{Error: "not_authed"}, "slack: the bot token was refused: not_authed", 1, true},
		{"account_inactive", slacktestapi.Fault{Error: "account_inactive"}, "slack: the bot token was refused: account_inactive", 1, true},
		{"token_revoked", slacktestapi.Fault{Error: "token_revoked"}, "slack: the bot token was refused: token_revoked", 1, true},
		{"wrong api_url (404)", slacktestapi.Fault{Status: http.StatusNotFound}, "slack: auth.test at %s failed: http_404", 1, false},
		{"Slack down (503)", slacktestapi.Fault{Status: http.StatusServiceUnavailable}, "slack: auth.test at %s failed: http_503", fastRetry.attempts, false},
		{"an answer that is not JSON", slacktestapi.Fault{Body: "<html>Bad gateway</html>"},
			"slack: auth.test at %s failed: unexpected answer: invalid character '<' looking for beginning of value", 1, false},
		{"connection dropped", slacktestapi.Fault{Hangup: true}, "slack: cannot reach Slack at %s: connection closed before Slack answered", fastRetry.attempts, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, ModeHTTP)
			f.api.FailAlways("auth.test", tc.fault)
			next := f.a.checkToken(context.Background())
			want := tc.wantReady
			if strings.Contains(want, "%s") {
				want = fmt.Sprintf(want, f.api.Addr())
			}
			if err := f.a.Ready(); err == nil || err.Error() != want {
				t.Errorf("Ready = %v, want %q", err, want)
			}
			if n := len(f.api.Calls("auth.test")); n != tc.wantCalls {
				t.Errorf("%d auth.test calls, want %d", n, tc.wantCalls)
			}
			if wantNext := map[bool]time.Duration{true: tokenCheckEvery, false: tokenRecheckEvery}[tc.refused]; next != wantNext {
				t.Errorf("next check in %s, want %s", next, wantNext)
			}
			f.api.ClearFaults()
			f.a.checkToken(context.Background())
			if err := f.a.Ready(); err != nil {
				t.Errorf("Ready once auth.test succeeds: %v", err)
			}
		})
	}
}

// TestDeliveryAfterADroppedConnection: a post whose connection closed
// before Slack answered may have been posted, so it is not repeated (it is
// recorded as failed, saying why); an edit is.
func TestDeliveryAfterADroppedConnection(t *testing.T) {
	f := newFixture(t, ModeSocket)
	ctx := context.Background()
	f.api.FailNext("chat.postMessage", slacktestapi.Fault{Hangup: true})
	_, err := f.a.Post(ctx, "slack:C0PAYMENTS", notice("once"))
	var se *Error
	if !errors.As(err, &se) || se.Code != codeNetwork || !se.Permanent || err.Error() != "cannot reach Slack (chat.postMessage): EOF" {
		t.Errorf("Post = %v, want a network failure not retried", err)
	}
	if n := len(f.api.Calls("chat.postMessage")); n != 1 {
		t.Errorf("%d posts, want 1", n)
	}

	ref, err := f.a.Post(ctx, "slack:C0PAYMENTS", notice("v1"))
	if err != nil {
		t.Fatal(err)
	}
	f.api.FailNext("chat.update", slacktestapi.Fault{Hangup: true})
	if err := f.a.Edit(ctx, ref, notice("v2")); err != nil {
		t.Errorf("edit after a dropped connection: %v", err)
	}
	if n := len(f.api.Calls("chat.update")); n != 2 {
		t.Errorf("%d chat.update calls, want 2", n)
	}
}

// TestClassifyNetworkErrors pins the classification of failures in which
// Slack never answered: code, retried or not, whether the request surely
// never left (so a post may be repeated), and the reason /readyz gives.
func TestClassifyNetworkErrors(t *testing.T) {
	post := func(err error) error {
		return &url.Error{Op: "Post", URL: "https://slack.com/api/chat.postMessage", Err: err}
	}
	dial := func(err error) error { return &net.OpError{Op: "dial", Net: "tcp", Err: err} }
	timeoutErr := &net.DNSError{Err: "i/o timeout", Name: "slack.com", IsTimeout: true}
	tests := []struct {
		name      string
		err       error
		code      string
		retry     bool
		neverSent bool
		reason    string
	}{
		{"no such host", post(dial(&net.DNSError{Err: "no such host", Name: "slack.invalid", IsNotFound: true})), codeNetwork, true, true, "no such host"},
		{"DNS server failure", post(dial(&net.DNSError{Err: "server misbehaving", Name: "slack.com", IsTemporary: true})), codeNetwork, true, true, "DNS lookup failed: server misbehaving"},
		{"DNS timeout", post(dial(timeoutErr)), codeTimeout, true, true, "DNS lookup timed out"},
		{"connection refused", post(dial(&os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED})), codeNetwork, true, true, "connection refused"},
		{"no route", post(dial(&os.SyscallError{Syscall: "connect", Err: syscall.EHOSTUNREACH})), codeNetwork, true, true, "no route to host"},
		{"dial timeout", post(dial(timeoutError{})), codeTimeout, true, true, "timed out"},
		{"untrusted certificate", post(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), codeTLS, true, true, "TLS: x509: certificate signed by unknown authority"},
		{"wrong host certificate", post(x509.HostnameError{Certificate: &x509.Certificate{}, Host: "slack.com"}), codeTLS, true, true, "TLS: x509: certificate is not valid for any names, but wanted to match slack.com"},
		{"not TLS", post(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), codeTLS, true, true, "TLS: the server does not speak TLS"},
		{"plain HTTP answer", post(errors.New("http: server gave HTTP response to HTTPS client")), codeTLS, true, true, "TLS: the server answered in plain HTTP"},
		{"TLS alert", post(&net.OpError{Op: "remote error", Err: errors.New("tls: handshake failure")}), codeTLS, true, false, "TLS: handshake failure"},
		{"timeout awaiting the answer", post(timeoutError{}), codeTimeout, true, false, "timed out"},
		{"deadline", context.DeadlineExceeded, codeTimeout, true, false, "timed out"},
		{"connection reset", post(&net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}), codeNetwork, true, false, "connection reset"},
		{"EOF", post(io.EOF), codeNetwork, true, false, "connection closed before Slack answered"},
		{"canceled", post(context.Canceled), "canceled", false, false, ""},
		{"Slack refuses the token", slackgo.SlackErrorResponse{Err: "invalid_auth"}, "invalid_auth", false, false, ""},
		{"Slack is down", slackgo.StatusCodeError{Code: 502}, "http_502", true, false, ""},
		{"unknown", errors.New("json: cannot unmarshal"), "error", false, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			retry, _, code := classify(tc.err)
			if code != tc.code || retry != tc.retry {
				t.Errorf("classify = %v, %q; want %v, %q", retry, code, tc.retry, tc.code)
			}
			if got := outbound.NeverSent(tc.err); got != tc.neverSent {
				t.Errorf("neverSent = %v", got)
			}
			e := &Error{Method: "chat.postMessage", Code: code, Attempts: 1, Err: tc.err}
			if !e.Unreachable() {
				return
			}
			if got := outbound.Reason(tc.err, "Slack"); got != tc.reason {
				t.Errorf("netReason = %q, want %q", got, tc.reason)
			}
			if strings.Contains(e.Error(), "https://") {
				t.Errorf("the error shows the URL: %q", e)
			}
		})
	}
}

// timeoutError is a net.Error that timed out.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// An auth.test answer that cannot be read is logged with the parser's
// error, never the token.
func TestUnreadableAuthTestIsLoggedWithItsReason(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	var logs strings.Builder
	f.a.log = slog.New(slog.NewJSONHandler(&logs, nil))
	f.api.FailAlways("auth.test", slacktestapi.Fault{Body: "<html>Bad gateway</html>"})
	f.a.checkToken(context.Background())
	line := logs.String()
	if !strings.Contains(line, `"code":"error"`) || !strings.Contains(line, `"err":"invalid character '<' looking for beginning of value"`) {
		t.Errorf("log lacks the reason: %s", line)
	}
	if strings.Contains(line, "xoxb-") {
		t.Errorf("log has the token: %s", line)
	}
}
