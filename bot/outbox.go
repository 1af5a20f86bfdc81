package bot

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// outbox runs delivery work in the background, in order per upgrade, so a
// command's answer never waits for a platform and a thread reply never
// overtakes the root message it belongs to. The relay of events to the
// shared stream has an outbox of its own (events.relays), so that it never
// waits behind a delivery.
type outbox struct {
	log      *slog.Logger
	now      Clock
	interval time.Duration // minimum gap between root edits of one upgrade

	mu        sync.Mutex
	queues    map[int][]func(context.Context)
	running   map[int]bool
	dirty     map[int]bool      // a root refresh is queued and not yet started
	tasks     int               // tasks queued, held or running
	refreshes int               // of them, coalesced ones (root refreshes)
	lastEdit  map[int]time.Time // when the root of an upgrade was last edited
	wg        sync.WaitGroup

	// onFlush holds every task until flush, which runs them one at a
	// time in the order they were queued (Options.DeliverOnFlush).
	onFlush  bool
	held     []heldTask
	flushing sync.Mutex // one flush runs the held tasks at a time
}

// heldTask is a task held until flush.
type heldTask struct {
	key  int
	task func(context.Context)
}

// taskTimeout bounds one delivery, retries included.
const taskTimeout = 2 * time.Minute

func newOutbox(log *slog.Logger, now Clock, interval time.Duration) *outbox {
	return &outbox{log: log, now: now, interval: interval, queues: map[int][]func(context.Context){},
		running: map[int]bool{}, dirty: map[int]bool{}, lastEdit: map[int]time.Time{}}
}

func (o *outbox) enqueue(key int, task func(context.Context)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.wg.Add(1)
	o.tasks++
	if o.onFlush {
		o.held = append(o.held, heldTask{key, task})
		return
	}
	o.queues[key] = append(o.queues[key], task)
	if !o.running[key] {
		o.running[key] = true
		go o.drain(key)
	}
}

func (o *outbox) drain(key int) {
	for {
		o.mu.Lock()
		q := o.queues[key]
		if len(q) == 0 {
			delete(o.queues, key)
			delete(o.running, key)
			o.mu.Unlock()
			return
		}
		task := q[0]
		o.queues[key] = q[1:]
		o.mu.Unlock()
		o.run(key, task)
	}
}

func (o *outbox) run(key int, task func(context.Context)) {
	defer o.wg.Done()
	defer func() {
		o.mu.Lock()
		o.tasks--
		o.mu.Unlock()
	}()
	defer func() {
		if r := recover(); r != nil {
			o.log.Error("background task panicked", "upgrade", key, "panic", fmt.Sprint(r))
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), taskTimeout)
	defer cancel()
	task(ctx)
}

// coalesce queues fn unless a refresh of key is already waiting: the waiting
// one reads the latest state when it runs, so nothing is lost. It keeps at
// least the interval between two runs of fn for one key, by the injected
// clock.
func (o *outbox) coalesce(key int, fn func(context.Context)) {
	o.mu.Lock()
	if o.dirty[key] {
		o.mu.Unlock()
		return
	}
	o.dirty[key] = true
	o.refreshes++
	o.mu.Unlock()
	o.enqueue(key, func(ctx context.Context) {
		defer func() {
			o.mu.Lock()
			o.refreshes--
			o.mu.Unlock()
		}()
		o.mu.Lock()
		last, edited := o.lastEdit[key]
		o.mu.Unlock()
		if wait := last.Add(o.interval).Sub(o.now()); edited && wait > 0 {
			t := time.NewTimer(min(wait, o.interval))
			select {
			case <-t.C:
			case <-ctx.Done():
			}
			t.Stop()
		}
		o.mu.Lock()
		o.dirty[key] = false
		o.mu.Unlock()
		fn(ctx)
		o.mu.Lock()
		o.lastEdit[key] = o.now()
		o.mu.Unlock()
	})
}

// queued reports whether a coalesced task of key is queued and not started.
func (o *outbox) queued(key int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.dirty[key]
}

func (o *outbox) flush() {
	if o.onFlush {
		o.runHeld()
	}
	o.wg.Wait()
}

// runHeld runs the held tasks one at a time, in the order they were
// queued, with those they queue in turn: every upgrade's in its order.
func (o *outbox) runHeld() {
	o.flushing.Lock()
	defer o.flushing.Unlock()
	for {
		o.mu.Lock()
		if len(o.held) == 0 {
			o.mu.Unlock()
			return
		}
		t := o.held[0]
		o.held = o.held[1:]
		o.mu.Unlock()
		o.run(t.key, t.task)
	}
}

// pending counts the tasks queued, held or running, and of them the
// coalesced ones (root refreshes).
func (o *outbox) pending() (tasks, refreshes int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.tasks, o.refreshes
}
