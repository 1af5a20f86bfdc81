package store

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/upgradebot/upgradebot/internal/closedport"
)

// Every kind of client Open builds honours its callers' deadlines
// (ContextTimeoutEnabled): a readiness probe's 2 s, a scrape's, a
// command's answer budget. Left to go-redis's own read timeout (3 s, and
// tried again), a call to a Redis that takes connections and never answers
// (hung, stopped with SIGSTOP) took 6.6 s whatever its deadline: a probe
// 5 s, a command 25 s, the status page a minute.
func TestEveryClientHonoursItsCallersDeadlines(t *testing.T) {
	addr := closedport.Addr(t)
	for _, o := range []Options{
		{URL: "redis://" + addr + "/0"},
		{URL: "redis+sentinel://" + addr + "/mymaster"},
		{ClusterAddrs: []string{addr}},
		{URL: "memory://"},
	} {
		o.Lazy = true
		ctx, cancel := context.WithCancel(context.Background())
		if o.URL != "memory://" {
			cancel() // no need to wait for an answer: the client is what counts
		}
		s, err := Open(ctx, o, nil)
		cancel()
		if err != nil {
			t.Fatalf("Open(%+v): %v", o, err)
		}
		var on bool
		switch c := s.client.(type) {
		case *redis.Client:
			on = c.Options().ContextTimeoutEnabled
		case *redis.ClusterClient:
			on = c.Options().ContextTimeoutEnabled
		default:
			t.Fatalf("Open(%+v) built a %T", o, c)
		}
		if !on {
			t.Errorf("Open(%+v): the client ignores its callers' deadlines (ContextTimeoutEnabled false)", o)
		}
		_ = s.Close()
	}
}
