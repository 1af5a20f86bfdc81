package bottest

import (
	"context"
	"sync"
	"time"
)

// Once is bot.Once in memory (the store's, without expiry), with Forget:
// shared by the adapters of a test as the store is by replicas.
type Once struct {
	mu   sync.Mutex
	keys map[string]bool
}

// First reports whether key is new, and remembers it.
func (o *Once) First(_ context.Context, key string, _ time.Duration) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.keys[key] {
		return false, nil
	}
	if o.keys == nil {
		o.keys = map[string]bool{}
	}
	o.keys[key] = true
	return true, nil
}

// Forget forgets key, as if it had never been seen.
func (o *Once) Forget(_ context.Context, key string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.keys, key)
	return nil
}
