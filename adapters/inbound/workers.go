package inbound

import (
	"context"
	"sync"
	"time"
)

// Workers runs work that follows a platform's answer (recording a press
// after Slack's 200, say) on at most Max goroutines at once, and pushes
// back when they are all busy: Go then waits until one is free, so the
// answer to the platform waits too. Without the push-back a sustained
// burst would answer far faster than the work can be done, and the work
// would pile up in memory, each waiting goroutine scanned by every garbage
// collection, the platform thinking everything recorded that is not yet.
//
// The goroutines stay for the next piece of work (a new goroutine's stack
// grows again, copied each time, for every press) and leave after Idle
// without any. The zero value is not usable: set Max, and Tracker for
// Wait.
type Workers struct {
	Max     int           // goroutines at most
	Idle    time.Duration // a goroutine without work leaves after this; 30 s when 0
	Tracker *Tracker      // counts each piece of work from Go until it is done

	once    sync.Once
	work    chan func()
	left    chan struct{} // a goroutine left: a waiting Go may start another
	mu      sync.Mutex
	running int
}

func (w *Workers) init() {
	w.once.Do(func() {
		w.work = make(chan func())
		w.left = make(chan struct{}, 1)
	})
}

// Go runs fn on a free worker, starting one while fewer than Max run, or
// waits for one to be free. It returns false, without running fn, when ctx
// ends first (the platform gave up on its answer and will send again).
func (w *Workers) Go(ctx context.Context, fn func()) bool {
	w.init()
	if w.Tracker != nil {
		w.Tracker.Add() // before anyone can see the answer that follows
	}
	job := fn
	if w.Tracker != nil {
		job = func() {
			defer w.Tracker.Done()
			fn()
		}
	}
	for {
		select {
		case w.work <- job: // an idle worker took it
			return true
		default:
		}
		w.mu.Lock()
		if w.running < w.Max {
			w.running++
			w.mu.Unlock()
			go w.loop(job)
			return true
		}
		w.mu.Unlock()
		select {
		case w.work <- job:
			return true
		case <-w.left: // one left while we looked: there is room again
		case <-ctx.Done():
			if w.Tracker != nil {
				w.Tracker.Done()
			}
			return false
		}
	}
}

func (w *Workers) loop(job func()) {
	idle := w.Idle
	if idle <= 0 {
		idle = 30 * time.Second
	}
	t := time.NewTimer(idle)
	defer t.Stop()
	for {
		job()
		t.Reset(idle)
		select {
		case job = <-w.work:
			continue
		case <-t.C:
		}
		w.mu.Lock()
		w.running--
		w.mu.Unlock()
		select {
		case w.left <- struct{}{}:
		default:
		}
		return
	}
}
