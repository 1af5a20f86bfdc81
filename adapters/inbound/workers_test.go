package inbound_test

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/adapters/inbound"
)

// A burst larger than the workers waits for them (the platform's answer
// with it) instead of piling up; every piece of work runs once, never more
// than Max at a time, and Wait sees all of it.
func TestWorkersPushBackWhenAllAreBusy(t *testing.T) {
	var tr inbound.Tracker
	w := inbound.Workers{Max: 2, Tracker: &tr}
	release := make(chan struct{})
	var running, most, ran atomic.Int32
	work := func() {
		n := running.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		<-release
		running.Add(-1)
		ran.Add(1)
	}
	ctx := context.Background()
	for range 2 {
		if !w.Go(ctx, work) {
			t.Fatal("Go refused work while a worker was free")
		}
	}
	third := make(chan bool)
	go func() { third <- w.Go(ctx, work) }()
	select {
	case <-third:
		t.Fatal("a third piece of work was taken while both workers were busy")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if !<-third {
		t.Fatal("the waiting work was refused once a worker was free")
	}
	tr.Wait()
	if ran.Load() != 3 || most.Load() > 2 {
		t.Errorf("ran %d pieces of work (want 3), at most %d at once (want ≤ 2)", ran.Load(), most.Load())
	}
}

// Work whose caller gives up while every worker is busy is not run, and
// not counted as running.
func TestWorkersGiveUpWithTheCaller(t *testing.T) {
	var tr inbound.Tracker
	w := inbound.Workers{Max: 1, Tracker: &tr}
	release := make(chan struct{})
	w.Go(context.Background(), func() { <-release })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	if w.Go(ctx, func() { ran = true }) {
		t.Fatal("Go took work after its caller had given up")
	}
	close(release)
	tr.Wait()
	if ran {
		t.Error("work whose caller gave up ran")
	}
}

// Idle workers leave, and later work starts new ones.
func TestWorkersLeaveWhenIdleAndComeBack(t *testing.T) {
	var tr inbound.Tracker
	w := inbound.Workers{Max: 1, Idle: time.Millisecond, Tracker: &tr}
	var mu sync.Mutex
	n := 0
	for i := range 3 {
		w.Go(context.Background(), func() { mu.Lock(); n++; mu.Unlock() })
		tr.Wait()
		// The worker leaves once idle: none is left running.
		deadline := time.Now().Add(10 * time.Second)
		for w.Running() != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: %d workers still running 10 s after their work, idle 1 ms", i, w.Running())
			}
			runtime.Gosched()
		}
	}
	if n != 3 {
		t.Errorf("%d of 3 pieces of work ran", n)
	}
}

// TryGo runs work on a free worker and never waits: with every worker busy
// it runs nothing, counts nothing, and says so.
func TestWorkersTryGoNeverWaits(t *testing.T) {
	var tr inbound.Tracker
	w := inbound.Workers{Max: 1, Tracker: &tr}
	release, started := make(chan struct{}), make(chan struct{})
	if !w.TryGo(func() { close(started); <-release }) {
		t.Fatal("TryGo refused with a worker free")
	}
	<-started
	ran := false
	if w.TryGo(func() { ran = true }) {
		t.Fatal("TryGo ran work with every worker busy")
	}
	close(release)
	tr.Wait()
	if ran {
		t.Error("the refused work ran")
	}
}
