package discord

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/upgradebot/upgradebot/adapters/outbound"
	"github.com/upgradebot/upgradebot/bot"
)

// retryPolicy bounds how hard one REST call is retried.
type retryPolicy struct {
	attempts     int           // tries in all, the first included
	base         time.Duration // first backoff after a 5xx or network error
	max          time.Duration // backoff cap
	maxRetryWait time.Duration // cap on a retry_after we are willing to honour
}

var defaultRetry = retryPolicy{attempts: 5, base: 500 * time.Millisecond, max: 8 * time.Second, maxRetryWait: 60 * time.Second}

// Discord's JSON error codes the adapter acts on
// (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json).
const (
	codeUnknownChannel     = 10003
	codeUnknownMessage     = 10008
	codeUnknownWebhook     = 10015
	codeUnknownInteraction = 10062
	codeAlreadyAnswered    = 40060
	codeMissingAccess      = 50001
	codeCannotDM           = 50007
	codeInvalidToken       = 50027
	codeArchivedThread     = 50083
	codeThreadExists       = 160004
	codeWrongChannelType   = 50024 // e.g. starting a thread in a thread
)

// What happened to a call that got no answer from Discord (Error.Kind).
const (
	kindNetwork = "network"
	kindTimeout = "timeout"
	kindTLS     = "tls"
	// kindNoAnswer: the caller gave the call up, for a reason of its own
	// (its context's cause: a reminder's window opened), before Discord
	// answered. Discord may have done it all the same.
	kindNoAnswer = "no answer"
	// kindNotConnected: the caller gave the call up, for a reason of its
	// own, while the connection to Discord was still being made (DNS, the
	// TCP dial, the TLS handshake): the request never left, so Discord
	// cannot have done it.
	kindNotConnected = "not connected"
	// kindBadBody: the API answered with success, but its body was not
	// what the call gets back (a proxy's page, a test server's stub).
	kindBadBody = "bad body"
)

// bodyHead is how much of a successful answer's body is kept to say what
// it was when it is not what the call expected (Error.Body).
const bodyHead = 120

// expects is what a call gets back, by Op, as an unexpected body's
// refusal says it ("not the list of commands").
var expects = map[string]string{"register command": "the list of commands"}

// Error is a REST call that failed for good: Discord refused it, or a
// transient failure outlasted the retries. Its text is what `show` lists on
// the upgrade, so it never holds a token, a URL (interaction tokens are in
// URLs) or a request body.
type Error struct {
	Op        string // what the call does: "create message", "start thread", …
	Status    int    // HTTP status; 0 when Discord never answered
	Code      int    // Discord's JSON error code; 0 when none
	Message   string // Discord's message for Code ("Missing Access")
	Kind      string // "network", "timeout", "tls" when Discord never answered
	Host      string // the configured API host, for a redirect (3xx) it answered
	Attempts  int
	Permanent bool // retrying the same call cannot help, or could post twice
	// RetryAfter is the wait Discord asked for (a 429's retry_after), not
	// waited: longer than the caller could wait, or the retries ran out.
	// 0 for any other failure.
	RetryAfter time.Duration
	Err        error // the last attempt's failure (for a call given up, why it was)
	// Body is, for an answer of success whose body was not what the call
	// gets back (kindBadBody), its first bytes, the bot token hidden.
	Body string
	// Earlier is why the attempts before failed when they could not reach
	// Discord (Unreachable: a refused connection, a certificate not trusted),
	// for a call given up before its last attempt had a connection; nil
	// otherwise.
	Earlier error
}

var _ bot.WaitError = (*Error)(nil)

// Wait implements bot.WaitError: the wait Discord asked for, not waited.
func (e *Error) Wait() time.Duration { return e.RetryAfter }

// TryLater implements bot.TryLaterError: a failure that outlasted the
// retries (Discord failing, busy or out of reach) may pass, and the call
// surely did not take effect, so the core tries a root message again later.
func (e *Error) TryLater() bool { return !e.Permanent }

// Error implements error: "discord create message: 50001 Missing Access",
// "discord create message: HTTP 503", or for a Discord that never answered
// "cannot reach Discord (create message): dial tcp 127.0.0.1:1: connect:
// connection refused (after 5 attempts)".
func (e *Error) Error() string {
	var s string
	switch {
	case e.Unreachable():
		s = fmt.Sprintf("cannot reach Discord (%s): %s", e.Op, outbound.Detail(e.Err))
	case e.Kind == kindNoAnswer:
		s = fmt.Sprintf("no answer from Discord yet (%s)", e.Op)
	case e.Kind == kindNotConnected:
		s = fmt.Sprintf("could not reach Discord yet (%s)", e.Op)
		if e.Earlier != nil {
			// The attempts before's reason: "connection refused".
			s += ": " + outbound.Detail(e.Earlier)
		}
	case e.Kind == kindBadBody:
		s = fmt.Sprintf("discord %s: %s", e.Op, e.badBody())
	case e.Code != 0:
		s = fmt.Sprintf("discord %s: %d %s", e.Op, e.Code, e.Message)
	case e.Status == http.StatusTooManyRequests:
		s = fmt.Sprintf("discord %s: rate limited", e.Op)
	case e.redirect():
		s = fmt.Sprintf("discord %s: HTTP %d from %s (discord.api_url), a redirect, not followed", e.Op, e.Status, e.Host)
	case e.Status != 0:
		s = fmt.Sprintf("discord %s: HTTP %d", e.Op, e.Status)
	default:
		s = fmt.Sprintf("discord %s: %s", e.Op, outbound.Detail(e.Err))
	}
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return s
}

// badBody says what was wrong with an answer of success (kindBadBody):
// "HTTP 200 with a body that is not the list of commands: \"<html>…\"".
func (e *Error) badBody() string {
	want, ok := expects[e.Op]
	if !ok {
		want = "what Discord answers to " + e.Op
	}
	if e.Body == "" {
		return fmt.Sprintf("HTTP %d with an empty body, not %s", e.Status, want)
	}
	return fmt.Sprintf("HTTP %d with a body that is not %s: %s", e.Status, want, e.Body)
}

// redirect reports whether the API host answered with a redirect, which
// is not followed (Discord's API does not redirect).
func (e *Error) redirect() bool { return e.Status >= 300 && e.Status < 400 }

// Unwrap returns discordgo's (or the transport's) error.
func (e *Error) Unwrap() error { return e.Err }

// Unreachable reports whether Discord never answered the call.
func (e *Error) Unreachable() bool {
	return e.Kind == kindNetwork || e.Kind == kindTimeout || e.Kind == kindTLS
}

// HasCode reports whether the call was refused with Discord's JSON error code.
func (e *Error) HasCode(code int) bool { return e.Code == code }

// TokenRefused reports whether Discord refused the bot token.
func (e *Error) TokenRefused() bool {
	return e.Status == http.StatusUnauthorized && e.Code != codeInvalidToken
}

// codeMissingPermissions: the bot's role lacks a permission in the channel.
const codeMissingPermissions = 50013

var _ bot.AdvisedError = (*Error)(nil)

// Advice implements bot.AdvisedError: what to do about the failure; ""
// when the error says nothing certain.
func (e *Error) Advice() string {
	switch {
	case e.TokenRefused():
		return "Discord refused the bot token: reset it in the Developer Portal and update discord.bot_token."
	case e.Unreachable() && outbound.NeverSent(e.Err), e.Kind == kindNotConnected && e.Earlier != nil:
		return "The bot cannot reach Discord: check the network (DNS, firewall or proxy, CA certificates) or discord.api_url, not the token."
	case e.Unreachable():
		return "The connection to Discord failed before it answered, so the notice may have been posted anyway; if it keeps happening, check the network or proxy, not the token."
	case e.Code == codeMissingAccess:
		return "The bot cannot see the channel: give it View Channels there (and Send Messages in Threads for a thread)."
	case e.Code == codeMissingPermissions:
		return "The bot lacks a permission in the channel: Send Messages, Embed Links, Read Message History, Create Public Threads, Send Messages in Threads."
	case e.Code == codeUnknownChannel:
		return "No such channel: check the channel id in the service's channels."
	case e.redirect():
		return "The host at discord.api_url (" + e.Host + ") answered with a redirect, which Discord's API never does, so it was not followed: point discord.api_url at the API itself."
	case e.Status == http.StatusTooManyRequests || e.Status >= 500:
		return "Discord was failing or busy; nothing to change, and later notices go out as usual."
	}
	return ""
}

// codeOf returns the Discord JSON error code of a failed call, 0 for none.
func codeOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// attempt is what the transport saw of one try of a call: discordgo turns
// some answers into errors that no longer carry them (a 502 becomes
// "Exceeded Max retries", a 429 with a body it cannot read a JSON error).
type attempt struct {
	status     int
	retryAfter time.Duration
	connected  atomic.Bool // the request had a connection to leave on
	// head is the first bytes of a successful answer's body, as read by
	// discordgo (headBody), to say what it was if it could not be read.
	head []byte
}

// headBody keeps the first bodyHead bytes read of a body in its attempt.
type headBody struct {
	io.ReadCloser
	at *attempt
}

func (b *headBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if room := bodyHead + 1 - len(b.at.head); room > 0 && n > 0 {
		b.at.head = append(b.at.head, p[:min(n, room)]...)
	}
	return n, err
}

type attemptKey struct{}

func (at *attempt) saw(resp *http.Response) {
	at.status = resp.StatusCode
	if v := resp.Header.Get("Retry-After"); v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 {
			at.retryAfter = time.Duration(secs * float64(time.Second))
		}
	}
}

// call runs one REST call with retries: a 429 waits its retry_after, a 5xx,
// timeout, DNS, TLS or connection failure backs off exponentially, any
// other refusal returns at once. A call that is not idempotent (posting a
// message) is not repeated after a failure in which Discord may have done
// it already (a timeout, a dropped connection). It stops when ctx ends.
func (a *Adapter) call(ctx context.Context, op string, idempotent bool, fn func(opts ...discordgo.RequestOption) error) error {
	backoff := a.retry.base
	var last *Error // the attempt before, retried
	for n := 1; ; n++ {
		at := &attempt{}
		actx := httptrace.WithClientTrace(context.WithValue(ctx, attemptKey{}, at), &httptrace.ClientTrace{
			GotConn: func(httptrace.GotConnInfo) { at.connected.Store(true) },
		})
		err := fn(discordgo.WithContext(actx))
		if err == nil {
			a.observe(op, nil)
			return nil
		}
		if cause := context.Cause(ctx); ctx.Err() != nil && cause != ctx.Err() && (errors.Is(err, cause) || errors.Is(err, ctx.Err())) {
			// The caller gave the call up for a reason of its own (a
			// reminder's window opened) while Discord had not answered:
			// not a failure of Discord's, and not to be repeated. Either
			// the request was sent and Discord may have done it, or the
			// connection was still being made and it never left.
			fail := &Error{Op: op, Status: at.status, Kind: kindNoAnswer, Attempts: n, Permanent: true, Err: err}
			if !at.connected.Load() {
				fail.Kind = kindNotConnected
				if last != nil && last.Unreachable() {
					fail.Earlier = last.Err // why the attempts before failed
				}
			}
			a.observe(op, fail)
			return fail
		}
		fail, retry, wait := classify(op, err, at)
		if fail.Kind == kindBadBody {
			fail.Body = a.shownBody(at.head)
		}
		if fail.Status == http.StatusTooManyRequests {
			fail.RetryAfter = wait
		}
		if fail.redirect() {
			fail.Host = a.apiHost
		}
		a.observe(op, fail)
		fail.Attempts = n
		if retry && !idempotent && fail.Unreachable() && !outbound.NeverSent(err) {
			// The request may have reached Discord and only its answer was
			// lost: a second post would show the notice twice. Record it
			// as failed instead. A request that never left is safe to repeat.
			retry = false
		}
		fail.Permanent = !retry
		if !retry || n >= a.retry.attempts || ctx.Err() != nil {
			return fail
		}
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
		last = fail
		a.obs.APIRetry(Platform, method(op))
		a.log.Log(ctx, retryLevel(ctx), "discord call failed; retrying", "op", op, "status", fail.Status, "code", fail.Code, "kind", fail.Kind, "attempt", n, "wait", wait.String())
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fail
		}
	}
}

// classify turns a failed try into an Error and says whether another try
// may help and how long to wait first (zero: use the backoff).
func classify(op string, err error, at *attempt) (*Error, bool, time.Duration) {
	e := &Error{Op: op, Status: at.status, Err: err}
	var rl *discordgo.RateLimitError
	var re *discordgo.RESTError
	var ne net.Error
	switch {
	case errors.As(err, &rl):
		e.Status = http.StatusTooManyRequests
		wait := time.Second
		if rl.RateLimit != nil && rl.TooManyRequests != nil && rl.RetryAfter > 0 {
			wait = rl.RetryAfter
		}
		return e, true, max(wait, 50*time.Millisecond)
	case errors.As(err, &re):
		if re.Response != nil {
			e.Status = re.Response.StatusCode
		}
		if re.Message != nil {
			e.Code, e.Message = re.Message.Code, re.Message.Message
		}
		if e.Status == http.StatusTooManyRequests {
			return e, true, max(at.retryAfter, time.Second)
		}
		return e, e.Status >= 500, 0
	case at.status == http.StatusTooManyRequests:
		// discordgo could not read the 429's body; its header still says when.
		return e, true, max(at.retryAfter, time.Second)
	case at.status >= 500:
		// A 502 that discordgo reports as "Exceeded Max retries".
		return e, true, 0
	case at.status >= 200 && at.status < 300 && errors.Is(err, discordgo.ErrJSONUnmarshal):
		// Success, with a body that is not what the call gets back: the
		// same call gets the same answer.
		e.Kind = kindBadBody
		return e, false, 0
	case errors.Is(err, context.Canceled):
		return e, false, 0
	case outbound.TLSFailed(err):
		e.Kind = kindTLS
		return e, true, 0
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		e.Kind = kindTimeout
		return e, true, 0
	case outbound.NetworkFailed(err):
		e.Kind = kindNetwork
		return e, true, 0
	}
	return e, false, 0
}

// shownBody is the start of an unexpected body as an error says it: quoted,
// cut (…), the bot token hidden, so a server that echoes the request's
// headers back shows no secret.
func (a *Adapter) shownBody(head []byte) string {
	if len(head) == 0 {
		return ""
	}
	cut := len(head) > bodyHead
	head = head[:min(len(head), bodyHead)]
	for len(head) > 0 && !utf8.Valid(head) { // no rune cut in half
		head = head[:len(head)-1]
	}
	s := string(head)
	if a.token != "" && len(a.token) >= 4 {
		s = strings.ReplaceAll(s, a.token, "[redacted]")
	}
	s = strconv.Quote(s)
	if cut {
		s += "…"
	}
	return s
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
