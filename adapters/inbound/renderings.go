package inbound

import "sync"

// Renderings keeps what an adapter made of stamped messages
// (bot.Message.Stamp: the same stamp, the same message): the answer
// rendered and encoded once, served again while the message is unchanged.
// It holds at most renderingsSize of them and forgets them all when full.
// The zero value is ready; what it holds is shared, never to be changed.
type Renderings[T any] struct {
	mu sync.Mutex
	m  map[string]T
}

const renderingsSize = 256

// Get returns the rendering kept under stamp; never one for "".
func (r *Renderings[T]) Get(stamp string) (T, bool) {
	var zero T
	if stamp == "" {
		return zero, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.m[stamp]
	return v, ok
}

// Put keeps v under stamp; a message without a stamp is not kept.
func (r *Renderings[T]) Put(stamp string, v T) {
	if stamp == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil || len(r.m) >= renderingsSize {
		r.m = make(map[string]T, 16)
	}
	r.m[stamp] = v
}
