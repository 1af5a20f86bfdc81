package slack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"syscall"
	"time"

	slackgo "github.com/slack-go/slack"
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

// Error is a Slack Web API call that failed for good: a permanent ok:false
// error, or a transient one that outlasted the retries. Its text is what
// `show` lists on the upgrade, so it never holds a token or a body.
type Error struct {
	Method    string // e.g. "chat.postMessage"
	Code      string // Slack's error code, or "http_503", "rate_limited", "timeout", "network"
	Attempts  int
	Permanent bool // retrying the same call cannot help
	Err       error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Attempts > 1 {
		return fmt.Sprintf("slack %s: %s (after %d attempts)", e.Method, e.Code, e.Attempts)
	}
	return fmt.Sprintf("slack %s: %s", e.Method, e.Code)
}

// Unwrap returns slack-go's error.
func (e *Error) Unwrap() error { return e.Err }

// idempotent Web API methods may be repeated after a request that may have
// reached Slack (a timeout, a dropped connection); posting twice would not be.
var idempotent = map[string]bool{
	"chat.update": true, "users.info": true, "conversations.open": true,
	"auth.test": true, "chat.getPermalink": true,
}

// mayHaveArrived reports whether a failed request may still have been
// processed by Slack: its answer was lost, not refused.
func mayHaveArrived(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return false
	}
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// classify says whether err is worth another try, how long to wait first
// (zero: use the backoff), and the code to report.
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
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		// A timeout of this one request (the caller's own context is checked by call).
		return true, 0, "timeout"
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return true, 0, "network"
	}
	return false, 0, "error"
}

// call runs one Web API call with retries: a 429 waits its Retry-After, a
// 5xx, timeout or broken connection backs off exponentially, a permanent
// ok:false error returns at once. It stops when ctx ends.
func (a *Adapter) call(ctx context.Context, method string, fn func(ctx context.Context) error) error {
	backoff := a.retry.base
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		retry, wait, code := classify(err)
		if retry && !idempotent[method] && mayHaveArrived(err) {
			// Slack may have posted it already; a second post would show
			// the notice twice. Record it as failed instead.
			retry = false
		}
		fail := &Error{Method: method, Code: code, Attempts: attempt, Permanent: !retry, Err: err}
		if !retry || attempt >= a.retry.attempts || ctx.Err() != nil {
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
		a.log.WarnContext(ctx, "slack call failed; retrying", "method", method, "code", code, "attempt", attempt, "wait", wait.String())
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fail
		}
	}
}
