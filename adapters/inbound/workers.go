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
	job := w.tracked(fn)
	for {
		if w.start(job) {
			return true
		}
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

// TryGo runs fn on a free worker, or on a new one while fewer than Max
// run, and reports whether it did; it never waits. When every worker is
// busy fn does not run and TryGo returns false: the caller decides whether
// to wait (Go) elsewhere.
func (w *Workers) TryGo(fn func()) bool {
	job := w.tracked(fn)
	if w.start(job) {
		return true
	}
	if w.Tracker != nil {
		w.Tracker.Done()
	}
	return false
}

// Start runs fn on a free worker, or on a new one while fewer than Max
// run, or else on a goroutine of its own: it never waits, for work that a
// platform's answer waits for (inbound.Within), which must not be held
// back, but which, on a worker, does not grow a new goroutine's stack
// through the core and the store again for every request.
func (w *Workers) Start(fn func()) {
	if job := w.tracked(fn); !w.start(job) {
		go job()
	}
}

// Running is how many worker goroutines there are now, busy or idle.
func (w *Workers) Running() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.running
}

// tracked counts fn with the Tracker, if any, from now until it ends.
func (w *Workers) tracked(fn func()) func() {
	w.init()
	if w.Tracker == nil {
		return fn
	}
	w.Tracker.Add() // before anyone can see the answer that follows
	return func() {
		defer w.Tracker.Done()
		fn()
	}
}

// start hands job to an idle worker, or to a new one while fewer than Max
// run, and reports whether it did.
func (w *Workers) start(job func()) bool {
	select {
	case w.work <- job: // an idle worker took it
		return true
	default:
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running < w.Max {
		w.running++
		go w.loop(job)
		return true
	}
	return false
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
		job = nil // an idle worker keeps nothing of the last request
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
