package store

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/redis/go-redis/v9"
)

// Outage hears whether Redis answers: Failed for each call that failed
// because Redis did not answer (refused, reset, timed out, loading, ...),
// Answered for each call Redis answered (a success, or an error reply such
// as WRONGTYPE). serve passes an outage.Tracker, which keeps the log calm
// while Redis is down.
type Outage interface {
	Failed(err error)
	Answered()
}

// unanswered marks an error of a call that Redis did not answer. Its text
// is the cause's: what the store's callers log does not change.
type unanswered struct{ err error }

func (e *unanswered) Error() string { return e.err.Error() }
func (e *unanswered) Unwrap() error { return e.err }

// Unavailable marks it for the core (bot.Unavailable): try again later.
func (e *unanswered) Unavailable() bool { return true }

// Unreachable reports whether err, returned by the store (wrapped or not),
// comes from a call that Redis did not answer, rather than from an answer
// (a missing key, a refused script, a conflict) or from the caller's own
// context ending.
func Unreachable(err error) bool {
	var u *unanswered
	return errors.As(err, &u)
}

// noAnswer reports whether err, as go-redis returns it, means Redis did
// not answer: a network error (refused, reset, timed out, no such host), a
// TLS handshake that failed (a certificate not trusted, a server without
// TLS),
// a connection closed under the reply, a pool that got no connection, no
// Sentinel reachable, or a server that is up but does not serve (LOADING,
// MASTERDOWN, CLUSTERDOWN). The caller's context ending is not one: it
// says nothing of Redis.
//
// A network timeout is one, although it also matches
// context.DeadlineExceeded (a dial that timed out, since Go 1.23): the
// caller's own context ending is told apart by the caller (ctx.Err()),
// not from the error.
func noAnswer(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, redis.ErrClosed) {
		return false
	}
	var (
		ne  net.Error
		cve *tls.CertificateVerificationError // rediss:// to a server whose certificate is not trusted
		rhe tls.RecordHeaderError             // rediss:// to a server that does not speak TLS
		ae  tls.AlertError                    // the server refused the handshake
	)
	if errors.As(err, &ne) || errors.As(err, &cve) || errors.As(err, &rhe) || errors.As(err, &ae) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, redis.ErrPoolTimeout) {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	for _, p := range []string{"LOADING", "MASTERDOWN", "CLUSTERDOWN"} {
		if redis.HasErrorPrefix(err, p) {
			return true
		}
	}
	return strings.Contains(err.Error(), "all sentinels specified in configuration are unreachable")
}

// answered tells s.outage what err says of Redis and returns err, marked
// when Redis did not answer.
//
// ctx is the call's: when it has ended, the call failed for that, and
// says nothing of Redis. A success costs no allocation and no lock.
func (s *Store) answered(ctx context.Context, err error) error {
	if err == nil {
		if s.outage != nil {
			s.outage.Answered()
		}
		return nil
	}
	switch {
	case ctx.Err() != nil:
		return err // the caller's context ended
	case Unreachable(err):
		if s.outage != nil {
			s.outage.Failed(err)
		}
		return err
	case noAnswer(err):
		u := &unanswered{err}
		if s.outage != nil {
			s.outage.Failed(u)
		}
		return u
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, redis.ErrClosed):
		// Says nothing of Redis.
	default:
		// A success, or an answer that is an error (redis.Nil among them).
		if s.outage != nil {
			s.outage.Answered()
		}
	}
	return err
}

// outageHook passes every command's outcome through Store.answered, so the
// errors of calls Redis did not answer are marked (Unreachable) and the
// Outage hears of them. go-redis runs a new connection's handshake through
// the same hooks: its commands are left out, since a server that answers
// them may still not serve (a hung Redis, one loading its data).
type outageHook struct{ s *Store }

func (h outageHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h outageHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if handshake(cmd) {
			return next(ctx, cmd)
		}
		return h.s.answered(ctx, next(ctx, cmd))
	}
}

func (h outageHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 0 && handshake(cmds[0]) {
			return next(ctx, cmds)
		}
		err := next(ctx, cmds)
		for _, c := range cmds {
			if cerr := c.Err(); ctx.Err() == nil && noAnswer(cerr) {
				c.SetErr(&unanswered{cerr})
			}
		}
		return h.s.answered(ctx, err)
	}
}

// handshake reports whether cmd is one go-redis sends as it sets up a
// connection (the store itself sends none of them).
func handshake(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "hello", "auth", "select", "readonly", "client":
		return true
	}
	return false
}

// unsure reports whether err, from a write, leaves its outcome unknown:
// the command may have reached Redis and been applied, but its answer did
// not come back (the caller's deadline ran out, the connection was cut or
// timed out under the reply). An answer (an error reply) says it was not
// applied; a pool that gave no connection or a dial that failed (refused,
// a name that did not resolve, a dial that timed out), that it was never
// sent.
func unsure(err error) bool {
	var reply redis.Error
	switch {
	case err == nil, errors.As(err, &reply), errors.Is(err, redis.ErrPoolTimeout), errors.Is(err, redis.ErrClosed),
		errors.Is(err, syscall.ECONNREFUSED), dialFailed(err):
		return false
	}
	return true
}

// dialFailed reports whether err comes from opening a connection (no
// command was written on it): a *net.OpError of Op "dial", or a name that
// did not resolve.
func dialFailed(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}
