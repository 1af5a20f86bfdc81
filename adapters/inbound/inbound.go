// Package inbound is the plumbing every chat adapter needs for what a
// platform sends it: answering within the platform's deadline (Slack and
// Discord both give 3 seconds) and finishing the work in the background
// (on kept goroutines, Workers, which push back when the work after an
// answer falls behind), knowing when that background work is done (tests,
// shutdown), and ignoring a delivery the platform sent again. It knows no
// platform.
package inbound

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Tracker counts running background work. Unlike a sync.WaitGroup it may
// gain work while someone waits: a new request can always arrive.
type Tracker struct {
	mu   sync.Mutex
	n    int
	zero chan struct{} // closed while n == 0
}

// Add counts one more piece of work; call Done when it ends.
func (t *Tracker) Add() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == 0 {
		t.zero = make(chan struct{})
	}
	t.n++
}

// Done counts one piece of work as finished.
func (t *Tracker) Done() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n--
	if t.n == 0 {
		close(t.zero)
	}
}

// Idle returns a channel closed once no work is running.
func (t *Tracker) Idle() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == 0 {
		c := make(chan struct{})
		close(c)
		return c
	}
	return t.zero
}

// Wait blocks until no work is running.
func (t *Tracker) Wait() { <-t.Idle() }

// WaitAtMost waits until no work is running or limit has passed, and
// reports whether the work finished.
func (t *Tracker) WaitAtMost(limit time.Duration) bool {
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case <-t.Idle():
		return true
	case <-timer.C:
		return false
	}
}

// Deadline answers a platform in time: the work runs in the background,
// tracked, and the caller waits at most Budget for it.
type Deadline struct {
	Budget  time.Duration // how long the platform's request waits for the work
	Timeout time.Duration // bounds the work itself, which outlives the request
	Tracker *Tracker
	Log     *slog.Logger
	// Workers, when set, run the work (Workers.Start: never waiting), so
	// that a request's work does not start on a new goroutine whose stack
	// grows, copied, through the core, the store and the Redis client: that
	// was 7% of a show's CPU. Nil: a goroutine per request.
	Workers *Workers
}

// RequestWorkers is how many goroutines an adapter keeps for the work of
// its requests (Deadline.Workers); more requests at once run on goroutines
// of their own.
const RequestWorkers = 256

// Within runs work in the background and waits at most d.Budget for it.
// When work finishes in time its result is returned with true; otherwise
// false is returned at once and late, if set, receives the result when it
// comes. Work outlives the inbound request (the platform closes it after
// its deadline) but not d.Timeout. A panic in work is logged and gives the
// zero result.
func Within[T any](d *Deadline, parent context.Context, work func(context.Context) T, late func(context.Context, T)) (T, bool) {
	var (
		mu     sync.Mutex
		gaveUp bool
	)
	done := make(chan T, 1)
	d.Tracker.Add()
	run := func(f func()) { go f() }
	if d.Workers != nil {
		run = d.Workers.Start
	}
	run(func() {
		defer d.Tracker.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), d.Timeout)
		defer cancel()
		var res T
		func() {
			defer func() {
				if r := recover(); r != nil {
					d.Log.ErrorContext(ctx, "inbound handler panicked", "panic", fmt.Sprint(r))
				}
			}()
			res = work(ctx)
		}()
		mu.Lock()
		if !gaveUp {
			done <- res
			mu.Unlock()
			return
		}
		mu.Unlock()
		if late != nil {
			late(ctx, res)
		}
	})
	t := time.NewTimer(d.Budget)
	defer t.Stop()
	select {
	case res := <-done:
		return res, true
	case <-t.C:
	case <-parent.Done():
	}
	mu.Lock()
	defer mu.Unlock()
	select {
	case res := <-done:
		return res, true
	default:
		gaveUp = true
		var zero T
		return zero, false
	}
}

// Once remembers keys for a while (the store's SET NX).
type Once interface {
	First(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// Dedupe recognises a delivery a platform sent again (Slack retries,
// Discord re-sends, GitHub redeliveries) by a key taken from the payload,
// so every re-send of one request matches.
type Dedupe struct {
	Once   Once
	Prefix string        // namespaces the keys of one platform: "slack:"
	TTL    time.Duration // how long a key is remembered
	Log    *slog.Logger
}

// First reports whether the delivery with key is new. An empty key is
// always new. When the store cannot answer within 2 s, the request is
// processed rather than lost.
func (d Dedupe) First(ctx context.Context, key string) bool {
	if key == "" {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	ok, err := d.Once.First(ctx, d.Prefix+key, d.TTL)
	if err != nil {
		d.Log.WarnContext(ctx, "de-duplication unavailable; processing the request", "err", err)
		return true
	}
	return ok
}
