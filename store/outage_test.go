package store

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/upgradebot/upgradebot/internal/syncbuf"
)

// outageRecorder counts what a store tells its Outage.
type outageRecorder struct {
	mu       sync.Mutex
	failed   []error
	answered int
}

func (r *outageRecorder) Failed(err error) {
	r.mu.Lock()
	r.failed = append(r.failed, err)
	r.mu.Unlock()
}
func (r *outageRecorder) Answered() { r.mu.Lock(); r.answered++; r.mu.Unlock() }

func (r *outageRecorder) counts() (int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.failed), r.answered
}

type lockedBuffer = syncbuf.Buffer

// TestUnreachableErrors: against an address that refuses connections, the
// store's errors are marked Unreachable (their text unchanged), its Outage
// hears of each, and go-redis's own "failed to dial" lines go to the
// Outage rather than the log; once a server listens there, the Outage
// hears that it answers, and an answer that is an error is not marked.
func TestUnreachableErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var logs lockedBuffer
	rec := &outageRecorder{}
	ctx := context.Background()
	s, err := Open(ctx, Options{URL: "redis://:s3cretpw@" + addr + "/0?max_retries=-1", Lazy: true, Outage: rec, Prefix: "upgradebot-test-outage"}, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	defer redis.SetLogger(clientLogger{slog.New(slog.DiscardHandler), nil})

	if _, err := s.Get(ctx, 1); err == nil || !Unreachable(err) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("Get = %v (Unreachable %v), want a refused connection, marked", err, Unreachable(err))
	}
	if _, _, err := s.NextDue(ctx); err == nil || !Unreachable(err) { // a pipeline
		t.Errorf("NextDue = %v, want marked Unreachable", err)
	}
	if _, err := s.First(ctx, "outage-test", time.Second); err == nil || !Unreachable(err) { // a script
		t.Errorf("First = %v, want marked Unreachable", err)
	}
	if n, a := rec.counts(); n < 4 || a != 0 {
		t.Errorf("outage heard %d failures, %d answers; want at least 4 failures (the ping and three calls), no answer", n, a)
	}
	if strings.Contains(logs.String(), "redis client:") {
		t.Errorf("go-redis's dial failures were logged:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "s3cretpw") {
		t.Errorf("the log reveals the password:\n%s", logs.String())
	}
	// The caller's own context ending says nothing of Redis.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	before, _ := rec.counts()
	if _, err := s.Get(cctx, 1); err == nil || Unreachable(err) {
		t.Errorf("Get with a cancelled context = %v, want an error not marked", err)
	}
	if n, _ := rec.counts(); n != before {
		t.Errorf("a cancelled call counted as a failure")
	}

	m := miniredis.NewMiniRedis()
	m.RequireAuth("s3cretpw")
	if err := m.StartAddr(addr); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	deadline := time.Now().Add(10 * time.Second)
	for s.Ping(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the store did not reconnect")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, a := rec.counts(); a == 0 {
		t.Error("the outage did not hear that Redis answers")
	}
	// An answer that is an error (a wrong type) is Redis answering.
	if err := m.Set("upgradebot-test-outage:plain", "x"); err != nil {
		t.Fatal(err)
	}
	_, a0 := rec.counts()
	err = s.client.HGet(ctx, "upgradebot-test-outage:plain", "f").Err()
	if err == nil || Unreachable(err) || errors.Is(err, redis.Nil) {
		t.Errorf("HGet on a string = %v, want WRONGTYPE, not marked", err)
	}
	if _, a := rec.counts(); a != a0+1 {
		t.Errorf("an error answer was not heard as an answer")
	}
	if err := s.client.Get(ctx, "upgradebot-test-outage:none").Err(); !errors.Is(err, redis.Nil) || Unreachable(err) {
		t.Errorf("Get of a missing key = %v, want redis.Nil, not marked", err)
	}
}

// Without an Outage, go-redis's lines are logged as before.
func TestClientLoggerWithoutOutage(t *testing.T) {
	var logs lockedBuffer
	l := clientLogger{slog.New(slog.NewJSONHandler(&logs, nil)), nil}
	l.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %v", 5, &net.OpError{Op: "dial", Err: errors.New("refused")})
	if !strings.Contains(logs.String(), "redis client: redis: connection pool: failed to dial after 5 attempts") {
		t.Errorf("logged %q", logs.String())
	}
	rec := &outageRecorder{}
	var logs2 lockedBuffer
	l = clientLogger{slog.New(slog.NewJSONHandler(&logs2, nil)), rec}
	l.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %v", 5, &net.OpError{Op: "dial", Err: errors.New("refused")})
	l.Printf(context.Background(), "sentinel: new master=%q addr=%q", "m", "a:1")
	if n, _ := rec.counts(); n != 1 || strings.Contains(logs2.String(), "failed to dial") || !strings.Contains(logs2.String(), "new master") {
		t.Errorf("with an outage: %d failures heard, logged %q", n, logs2.String())
	}
}

// A rediss:// whose server's certificate is not trusted (or that speaks no
// TLS) is Redis out of reach too: go-redis's "failed to dial ... tls: ..."
// lines go to the Outage (QA: 13 WARN lines in 3 s), and a message that
// carries no error (Sentinel's "selected addr") is logged at INFO, not
// WARN.
func TestClientLoggerTLSAndNews(t *testing.T) {
	rec := &outageRecorder{}
	var logs lockedBuffer
	l := clientLogger{slog.New(slog.NewJSONHandler(&logs, nil)), rec}
	cert := &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}
	l.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %v", 5, fmt.Errorf("tls: %w", cert))
	l.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %v", 5, tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"})
	if n, _ := rec.counts(); n != 2 || strings.Contains(logs.String(), "failed to dial") {
		t.Errorf("TLS failures: %d heard by the Outage, logged %q", n, logs.String())
	}
	l.Printf(context.Background(), "sentinel: selected addr=%s masterAddr=%s", "10.0.0.1:26379", "10.0.0.2:6379")
	if !strings.Contains(logs.String(), `"level":"INFO","msg":"redis client: sentinel: selected addr=10.0.0.1:26379`) {
		t.Errorf("Sentinel's news: logged %q, want INFO", logs.String())
	}
	// A problem go-redis tells without an error value is still a warning.
	l.Printf(context.Background(), "addIdleConn panic: %+v", "runtime error: index out of range")
	if !strings.Contains(logs.String(), `"level":"WARN","msg":"redis client: addIdleConn panic`) {
		t.Errorf("a problem without an error value: logged %q, want WARN", logs.String())
	}
}
