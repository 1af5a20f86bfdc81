package store

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/upgradebot/upgradebot/internal/outage"
)

// TestADialTimeoutIsAnOutage: a Redis whose host drops packets (a host
// down, a partition, a firewall) makes dials time out, with the standard
// library's "dial tcp …: i/o timeout", which also matches
// context.DeadlineExceeded. It is Redis not answering, not the caller's
// context ending.
func TestADialTimeoutIsAnOutage(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "192.0.2.1:6379", MaxRetries: -1,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return (&net.Dialer{Deadline: time.Now().Add(-time.Second)}).DialContext(ctx, network, addr)
		}})
	rec := &outageRecorder{}
	s := New(client, Options{Outage: rec, Prefix: "dialtimeout"})
	defer s.Close()
	_, err := s.Get(context.Background(), 1)
	if n, _ := rec.counts(); err == nil || !Unreachable(err) || n == 0 {
		t.Errorf("a dial timeout (%v) is not taken for Redis not answering: unreachable %v, %d failures heard", err, Unreachable(err), n)
	}
}

// TestTheOutageHookCostsNothingOnSuccess: every command, a press's one
// round trip included, passes the hook; a success allocates nothing more.
func TestTheOutageHookCostsNothingOnSuccess(t *testing.T) {
	s := &Store{outage: outage.New(outage.Options{})}
	cmd := redis.NewCmd(context.Background(), "evalsha", "x", 0)
	next := func(ctx context.Context, cmd redis.Cmder) error { return nil }
	h := outageHook{s}.ProcessHook(next)
	ctx := context.Background()
	with := testing.AllocsPerRun(1000, func() { _ = h(ctx, cmd) })
	bare := testing.AllocsPerRun(1000, func() { _ = next(ctx, cmd) })
	if with > bare {
		t.Errorf("the outage hook allocates %v per successful command", with-bare)
	}
}
