package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/upgradebot/upgradebot/adapters/outbound"
	"github.com/upgradebot/upgradebot/bot"
)

var (
	_ bot.AdvisedError = (*Error)(nil)
	_ bot.WaitError    = (*Error)(nil)
)

// retryPolicy bounds how hard one Web API call is retried.
type retryPolicy struct {
	attempts     int           // tries in all, the first included
	base         time.Duration // first backoff after a 5xx or network error
	max          time.Duration // backoff cap
	maxRetryWait time.Duration // cap on a Retry-After we are willing to honour
}

var defaultRetry = retryPolicy{attempts: 5, base: 500 * time.Millisecond, max: 8 * time.Second, maxRetryWait: 60 * time.Second}

// transientCodes are ok:false errors that say "try again later"; every other
// code (channel_not_found, not_in_channel, is_archived, invalid_auth,
// account_inactive, msg_too_long, invalid_blocks, …) means the same call can
// never succeed, so it is not retried.
var transientCodes = map[string]bool{
	"ratelimited":         true,
	"rate_limited":        true,
	"internal_error":      true,
	"fatal_error":         true,
	"service_unavailable": true,
	"request_timeout":     true,
}

// Codes of the failures in which Slack never answered (Error.Code): the
// request could not be sent (DNS, refused connection, TLS handshake) or its
// answer was lost (timeout, dropped connection). All are transient.
const (
	codeNetwork = "network"
	codeTimeout = "timeout"
	codeTLS     = "tls"
	// codeNoAnswer: the caller gave up the call, for a reason of its own
	// (its context's cause: a reminder's window opened), before Slack
	// answered. Slack may have taken it all the same.
	codeNoAnswer = "no_answer"
	// codeNotConnected: the caller gave up the call, for a reason of its
	// own, while the connection to Slack was still being made (DNS, the
	// TCP dial, the TLS handshake): the request never left, so Slack
	// cannot have taken it.
	codeNotConnected = "not_connected"
)

// refusalCodes are Slack's own answers that mean the bot token itself is
// refused. Only these make /readyz say "the bot token was refused".
var refusalCodes = map[string]bool{
	"invalid_auth":     true,
	"not_authed":       true,
	"account_inactive": true,
	"token_revoked":    true,
	"token_expired":    true,
}

// Error is a Slack Web API call that failed for good: a permanent ok:false
// error, or a transient one that outlasted the retries. Its text is what
// `show` lists on the upgrade, so it never holds a token, a URL or a body.
type Error struct {
	Method    string // e.g. "chat.postMessage"
	Code      string // Slack's error code, or "http_503", "rate_limited", "network", "timeout", "tls"
	Attempts  int
	Permanent bool   // retrying the same call cannot help, or could post twice
	Host      string // the configured API host, for a redirect (3xx) it answered
	// RetryAfter is the wait Slack asked for (a 429's Retry-After, or a
	// second for a 429 without one), not waited: longer than the caller
	// could wait, or the retries ran out. 0 for any other failure.
	RetryAfter time.Duration
	Err        error // the last attempt's failure (for a call given up, why it was)
	// Earlier is why the attempts before failed when they could not reach
	// Slack (Unreachable: a refused connection, a certificate not trusted),
	// for a call given up before its last attempt had a connection; nil
	// otherwise.
	Earlier error
}

// Wait implements bot.WaitError: the wait Slack asked for, not waited.
func (e *Error) Wait() time.Duration { return e.RetryAfter }

// redirect reports whether the Web API host answered with a redirect,
// which is not followed (Slack's Web API does not redirect).
func (e *Error) redirect() bool { return e.Host != "" && strings.HasPrefix(e.Code, "http_3") }

// TryLater implements bot.TryLaterError: a failure that outlasted the
// retries (Slack failing, busy or out of reach) may pass, and the call
// surely did not take effect, so the core tries a root message again later.
func (e *Error) TryLater() bool { return !e.Permanent }

// Error implements error: "slack chat.postMessage: channel_not_found", or
// for a Slack that never answered "cannot reach Slack (chat.postMessage):
// dial tcp: lookup slack.invalid: no such host (after 5 attempts)".
func (e *Error) Error() string {
	var s string
	if e.Unreachable() {
		s = fmt.Sprintf("cannot reach Slack (%s): %s", e.Method, outbound.Detail(e.Err))
	} else if e.Code == codeNoAnswer {
		s = fmt.Sprintf("no answer from Slack yet (%s)", e.Method)
	} else if e.Code == codeNotConnected {
		s = fmt.Sprintf("could not reach Slack yet (%s)", e.Method)
		if e.Earlier != nil {
			// The attempts before's reason: "connection refused".
			s += ": " + outbound.Detail(e.Earlier)
		}
	} else if e.redirect() {
		s = fmt.Sprintf("slack %s: %s from %s (slack.api_url), a redirect, not followed", e.Method, e.Code, e.Host)
	} else {
		s = fmt.Sprintf("slack %s: %s", e.Method, e.Code)
	}
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return s
}

// Unwrap returns slack-go's error.
func (e *Error) Unwrap() error { return e.Err }

// Unreachable reports whether Slack never answered the call: a DNS,
// connection or TLS failure, or a timeout. The token was not judged.
func (e *Error) Unreachable() bool {
	return e.Code == codeNetwork || e.Code == codeTimeout || e.Code == codeTLS
}

// TokenRefused reports whether Slack answered that the bot token is not
// valid (invalid_auth, not_authed, account_inactive, token_revoked, …).
func (e *Error) TokenRefused() bool { return refusalCodes[e.Code] }

// Advice implements bot.AdvisedError: what to do about the failure, as
// docs/slack.md says; "" when the code says nothing certain.
func (e *Error) Advice() string {
	switch {
	case e.TokenRefused():
		return "Slack refused the bot token: reinstall the app and update the token (slack.bot_token)."
	case e.Unreachable() && outbound.NeverSent(e.Err), e.Code == codeNotConnected && e.Earlier != nil:
		return "The bot cannot reach Slack: check the network (DNS, firewall or proxy, CA certificates) or slack.api_url, not the token."
	case e.Unreachable():
		return "The connection to Slack failed before it answered, so the notice may have been posted anyway; if it keeps happening, check the network or proxy, not the token."
	case e.redirect():
		return "The host at slack.api_url (" + e.Host + ") answered with a redirect, which Slack's Web API never does, so it was not followed: point slack.api_url at the Web API itself."
	case transientCodes[e.Code] || strings.HasPrefix(e.Code, "http_5"):
		return "Slack was failing or busy; nothing to change, and later notices go out as usual."
	}
	switch e.Code {
	case "is_archived":
		return "The channel is archived: unarchive it, or change the service's channels."
	case "not_in_channel":
		return "The bot is not in the channel: invite it there."
	case "channel_not_found":
		return "Check the channel id in the service's channels; for a private channel, invite the bot first."
	case "missing_scope":
		return "The app lacks a permission (scope): add it in the app's settings and reinstall the app."
	case "msg_too_long", "invalid_blocks", "no_text":
		return "Slack refused the message itself, not the channel or the token: please report it with this error."
	}
	return ""
}

// idempotent Web API methods may be repeated after a request that may have
// reached Slack (a timeout, a dropped connection); posting twice would not be.
var idempotent = map[string]bool{
	"chat.update": true, "users.info": true, "conversations.open": true,
	"auth.test": true, "chat.getPermalink": true,
}

// classify says whether err is worth another try, how long to wait first
// (zero: use the backoff), and the code to report. Slack's answers come
// first; then failures in which Slack never answered, all transient: "tls",
// "timeout", "network" (DNS, refused or dropped connection).
func classify(err error) (retry bool, wait time.Duration, code string) {
	var rl *slackgo.RateLimitedError
	var se slackgo.SlackErrorResponse
	var sc slackgo.StatusCodeError
	var ne net.Error
	switch {
	case errors.As(err, &rl):
		return true, max(rl.RetryAfter, time.Second), "rate_limited"
	case errors.As(err, &se):
		return transientCodes[se.Err], 0, se.Err
	case errors.As(err, &sc):
		code = fmt.Sprintf("http_%d", sc.Code)
		if sc.Code == http.StatusTooManyRequests {
			return true, time.Second, code
		}
		return sc.Code >= 500, 0, code
	case errors.Is(err, context.Canceled):
		return false, 0, "canceled"
	case outbound.TLSFailed(err):
		return true, 0, codeTLS
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		// A timeout of this one request (the caller's own context is checked by call).
		return true, 0, codeTimeout
	case outbound.NetworkFailed(err):
		return true, 0, codeNetwork
	}
	return false, 0, "error"
}

// call runs one Web API call with retries: a 429 waits its Retry-After, a
// 5xx, timeout, DNS, TLS or connection failure backs off exponentially, a
// permanent ok:false error returns at once. It stops when ctx ends.
func (a *Adapter) call(ctx context.Context, method string, fn func(ctx context.Context) error) error {
	return a.callObserved(ctx, method, fn, nil)
}

// callObserved is call that also hands each failed attempt it is about to
// retry to observe (nil: none).
func (a *Adapter) callObserved(ctx context.Context, method string, fn func(ctx context.Context) error, observe func(*Error)) error {
	backoff := a.retry.base
	var last *Error // the attempt before, retried
	for attempt := 1; ; attempt++ {
		var connected atomic.Bool // the request had a connection to leave on
		err := fn(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			GotConn: func(httptrace.GotConnInfo) { connected.Store(true) },
		}))
		if cause := context.Cause(ctx); err != nil && ctx.Err() != nil && cause != ctx.Err() && (errors.Is(err, cause) || errors.Is(err, ctx.Err())) {
			// The caller gave the call up for a reason of its own (a
			// reminder's window opened) while Slack had not answered:
			// not a failure of Slack's, and not to be repeated. Either
			// the request was sent and Slack may have taken it, or the
			// connection was still being made and it never left.
			a.obs.APICall(Platform, method, OutcomeUnreachable)
			if !connected.Load() {
				fail := &Error{Method: method, Code: codeNotConnected, Attempts: attempt, Permanent: true, Err: err}
				if last != nil && last.Unreachable() {
					fail.Earlier = last.Err // why the attempts before failed
				}
				return fail
			}
			return &Error{Method: method, Code: codeNoAnswer, Attempts: attempt, Permanent: true, Err: err}
		}
		a.observe(method, err)
		if err == nil {
			return nil
		}
		retry, wait, code := classify(err)
		fail := &Error{Method: method, Code: code, Attempts: attempt, Err: err}
		if wait > 0 {
			fail.RetryAfter = wait // only a rate limit says how long
		}
		if strings.HasPrefix(code, "http_3") && method != "response_url" {
			fail.Host = a.apiHost
		}
		if retry && !idempotent[method] && fail.Unreachable() && !outbound.NeverSent(err) {
			// The request may have reached Slack and only its answer was
			// lost (a timeout, a dropped connection): Slack may have posted
			// it already, and a second post would show the notice twice.
			// Record it as failed instead. A request that never left (DNS,
			// refused connection, TLS handshake) is safe to repeat.
			retry = false
		}
		fail.Permanent = !retry
		if !retry || attempt >= a.retry.attempts || ctx.Err() != nil {
			return fail
		}
		if observe != nil {
			observe(fail)
		}
		last = fail
		if wait == 0 {
			wait = backoff + rand.N(backoff/4+1)
			backoff = min(2*backoff, a.retry.max)
		}
		if wait > a.retry.maxRetryWait {
			return fail
		}
		if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
			return fail
		}
		a.log.Log(ctx, retryLevel(ctx), "slack call failed; retrying", "method", method, "code", code, "attempt", attempt, "wait", wait.String())
		a.obs.APIRetry(Platform, method)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fail
		}
	}
}

// retryLevel is the level of the log line of a retried call: WARN, or
// DEBUG for the core's background work on root messages, whose failures
// the core logs once per streak (bot.IsRootRefresh).
func retryLevel(ctx context.Context) slog.Level {
	if bot.IsRootRefresh(ctx) {
		return slog.LevelDebug
	}
	return slog.LevelWarn
}
