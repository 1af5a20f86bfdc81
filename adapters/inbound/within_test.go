package inbound_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/adapters/inbound"
)

// goroutine returns the calling goroutine's number (from its stack trace's
// first line, "goroutine 7 [running]:").
func goroutine() int {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	n, _ := strconv.Atoi(string(b[:bytes.IndexByte(b, ' ')]))
	return n
}

// Start never waits: with every worker busy, the work runs on a goroutine
// of its own at once (the platform's answer waits for it).
func TestWorkersStartNeverWaits(t *testing.T) {
	var tr inbound.Tracker
	w := inbound.Workers{Max: 1, Tracker: &tr}
	release, ran := make(chan struct{}), make(chan struct{})
	w.Start(func() { <-release })
	go w.Start(func() { close(ran) }) // a Start that waited would hang here, not the test
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("work started while the only worker was busy did not run")
	}
	close(release)
	tr.Wait()
}

// A request's work within the deadline runs on goroutines kept from the
// requests before, whose stacks have grown already, rather than on a new
// one each time; and it still answers in time and hands a late result on.
func TestWithinRunsOnKeptWorkers(t *testing.T) {
	var tr inbound.Tracker
	d := &inbound.Deadline{Budget: time.Minute, Timeout: time.Minute, Tracker: &tr,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Workers: &inbound.Workers{Max: 2}}
	ctx := context.Background()
	const requests = 200
	seen := map[int]bool{}
	for range requests {
		g, ok := inbound.Within(d, ctx, func(context.Context) int { return goroutine() }, nil)
		if !ok {
			t.Fatal("work did not answer within a minute")
		}
		seen[g] = true
		tr.Wait()
	}
	// One after the other, a request finds the workers idle, unless the one
	// before has not quite gone back to waiting: then it runs on a goroutine
	// of its own. That is rare (a goroutine per request would be 200).
	if len(seen) >= requests/4 {
		t.Fatalf("%d requests one after the other ran on %d goroutines; want nearly all on the 2 kept", requests, len(seen))
	}

	d.Budget = time.Millisecond
	late := make(chan int, 1)
	release := make(chan struct{})
	if _, ok := inbound.Within(d, ctx, func(context.Context) int { <-release; return 7 }, func(_ context.Context, n int) { late <- n }); ok {
		t.Fatal("work that waits answered within a millisecond")
	}
	close(release)
	if n := <-late; n != 7 {
		t.Fatalf("the late result was %d, want 7", n)
	}
	tr.Wait()
}

// deep uses about n KiB of stack.
//
//go:noinline
func deep(n int) byte {
	var pad [1024]byte
	pad[n%1024] = byte(n)
	if n == 0 {
		return pad[0]
	}
	return deep(n-1) + pad[n%1024]
}

// BenchmarkWithinDeepWork: work that needs 32 KiB of stack, as a command
// through the core, the store and the Redis client does, on a new
// goroutine per request (its stack grown, copied, each time) and on kept
// workers.
func BenchmarkWithinDeepWork(b *testing.B) {
	for _, kept := range []bool{false, true} {
		name := "goroutine-per-request"
		if kept {
			name = "kept-workers"
		}
		b.Run(name, func(b *testing.B) {
			var tr inbound.Tracker
			d := &inbound.Deadline{Budget: time.Minute, Timeout: time.Minute, Tracker: &tr,
				Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			if kept {
				d.Workers = &inbound.Workers{Max: 16}
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					inbound.Within(d, ctx, func(context.Context) byte { return deep(32) }, nil)
				}
			})
			tr.Wait()
		})
	}
}
