// Package outbound is the plumbing the chat adapters share for calling a
// platform's API: why a call failed (the network, TLS, or certainly never
// sent, so that repeating it cannot post twice), in words for /readyz, and
// a bounded cache of each user's direct-message channel. It knows no
// platform: each adapter keeps its own retry policy and error type.
package outbound

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"syscall"
)

// Detail is the text of a network failure without the request's URL (a
// Slack response_url or a Discord interaction URL holds a secret): the
// *url.Error's cause.
func Detail(err error) string {
	if err == nil {
		return "no answer"
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		err = ue.Err
	}
	return err.Error()
}

// NeverSent reports whether a failed request certainly never reached the
// platform: the name did not resolve, the connection was refused or could
// not be made, or the TLS handshake failed. Repeating it cannot post twice.
func NeverSent(err error) bool {
	var dns *net.DNSError
	var op *net.OpError
	return errors.As(err, &dns) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH) ||
		(errors.As(err, &op) && op.Op == "dial") ||
		TLSHandshakeFailed(err)
}

// TLSHandshakeFailed reports a TLS handshake that failed before any
// request was written: a certificate the bot does not trust, a server that
// does not speak TLS.
func TLSHandshakeFailed(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		header   tls.RecordHeaderError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		roots    x509.SystemRootsError
	)
	return errors.As(err, &verify) || errors.As(err, &header) || errors.As(err, &unknown) ||
		errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &roots) ||
		strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}

// TLSFailed reports any TLS failure: a failed handshake, or a TLS alert
// (Go reports a received alert as a *net.OpError "remote error: tls: …").
func TLSFailed(err error) bool {
	if TLSHandshakeFailed(err) {
		return true
	}
	var alert tls.AlertError
	var op *net.OpError
	return errors.As(err, &alert) || (errors.As(err, &op) && op.Op == "remote error") ||
		strings.HasPrefix(Detail(err), "tls: ")
}

// NetworkFailed reports a failure of the connection itself (DNS, dial,
// reset, EOF) rather than an answer of the platform's.
func NetworkFailed(err error) bool {
	var dns *net.DNSError
	var op *net.OpError
	return errors.As(err, &dns) || errors.As(err, &op) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// Reason is a few words on why platform ("Slack", "Discord") could not be
// reached, for /readyz: "no such host", "connection refused", "TLS: x509:
// certificate signed by unknown authority", "timed out".
func Reason(err error, platform string) string {
	var (
		dns    *net.DNSError
		verify *tls.CertificateVerificationError
		header tls.RecordHeaderError
		op     *net.OpError
		ne     net.Error
	)
	switch {
	case errors.As(err, &dns):
		switch {
		case dns.IsNotFound:
			return "no such host"
		case dns.IsTimeout:
			return "DNS lookup timed out"
		}
		return "DNS lookup failed: " + dns.Err
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.As(err, &verify) && verify.Err != nil:
		return "TLS: " + verify.Err.Error()
	case errors.As(err, &header):
		return "TLS: the server does not speak TLS"
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return "TLS: the server answered in plain HTTP"
	case TLSFailed(err):
		if errors.As(err, &op) && op.Err != nil {
			return "TLS: " + strings.TrimPrefix(op.Err.Error(), "tls: ")
		}
		return "TLS: " + strings.TrimPrefix(Detail(err), "tls: ")
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "no route to host"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection closed before " + platform + " answered"
	case errors.As(err, &op) && op.Err != nil:
		return op.Err.Error()
	}
	return Detail(err)
}

// Host is the host:port a failed request went to, from its *url.Error;
// "" when unknown.
func Host(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			return u.Host
		}
	}
	return ""
}

// DMs remembers the direct-message channel of each user; bounded by
// forgetting everything when full (opening one again is cheap).
type DMs struct {
	mu  sync.Mutex
	max int
	m   map[string]string
}

// NewDMs keeps at most max users' channels.
func NewDMs(max int) *DMs { return &DMs{max: max, m: map[string]string{}} }

// Get returns the user's channel, if known.
func (c *DMs) Get(user string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, ok := c.m[user]
	return ch, ok
}

// Put remembers the user's channel.
func (c *DMs) Put(user, ch string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[user] = ch
}
