package store

import (
	"context"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/internal/closedport"
)

// TestOpenDoesNotWaitLongForSentinels: with no Sentinel answering, the
// first ping took half a minute and more (QA: 37 s), and serve did not
// listen meanwhile, so a liveness probe would have killed it. Open now
// gives up the ping after startupPing and serve starts, not ready.
func TestOpenDoesNotWaitLongForSentinels(t *testing.T) {
	url := "redis+sentinel://" + closedport.Addr(t) + "," + closedport.Addr(t) + "," + closedport.Addr(t) + "/mymaster/0"
	done := make(chan error, 1)
	var s *Store
	go func() {
		var err error
		s, err = Open(context.Background(), Options{URL: url, Lazy: true}, nil)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Open (lazy) = %v, want a store that retries", err)
		}
		s.Close()
	case <-time.After(20 * time.Second): // four times the bound; it took 37 s and more
		t.Fatal("Open still waiting after 20s")
	}
}
