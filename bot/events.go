package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// events publishes what happened to upgrades: to the store's stream, then to
// the sinks (webhooks, metrics). Commands and the scheduler share it.
type events struct {
	store Store
	sinks []EventSink
	now   Clock
	log   *slog.Logger
	// outbox, when the store has one, moves events written with their
	// change (acknowledgments) to the shared stream; relays runs that in
	// the background, in the upgrade's order. It is a queue of its own,
	// not the one of the upgrade's chat deliveries: an event never waits
	// behind a platform that is slow or down.
	outbox EventOutbox
	relays *outbox

	mu      sync.Mutex
	pending map[int]bool // a relay of the upgrade is queued and not started
}

// event builds an event of u; the change that carries it in its
// Decision.Event writes it in the same step.
func (e *events) event(ctx context.Context, u *Upgrade, typ, actor string, data map[string]any) *Event {
	if data == nil {
		data = map[string]any{}
	}
	return &Event{ID: randomID(), Type: typ, UpgradeID: u.Key(), Service: u.Service, At: e.now().UTC(), Actor: actor, RequestID: RequestID(ctx), Data: data}
}

// written hands the event a change wrote with it to the sinks and relays
// it to the shared stream in the background.
func (e *events) written(u *Upgrade, ev *Event) {
	if ev == nil {
		return
	}
	e.recorded(*ev)
	e.relay(u.ID)
}

// emit publishes an event of u that has no stored change of its own (a
// reminder, an overrun). id, when not empty, names the event: the same
// moment run twice (a replica died after the notice) is one event. A
// failure is logged: what it describes has happened already.
func (e *events) emit(ctx context.Context, u *Upgrade, id, typ, actor string, data map[string]any) {
	ev := e.event(ctx, u, typ, actor, data)
	if id != "" {
		ev.ID = id
	}
	if err := e.store.Publish(ctx, u.ID, *ev); err != nil {
		e.log.ErrorContext(ctx, "publishing event failed", "event", typ, "upgrade", u.Key(), "err", err)
		return
	}
	e.written(u, ev)
}

// recorded hands an event the store has recorded to the sinks.
func (e *events) recorded(ev Event) {
	for _, s := range e.sinks {
		s.Event(ev)
	}
}

// jobEventID names the event of one run of a due job: the upgrade, the job
// and its moment, so a job run again after a crash publishes it once.
func jobEventID(j Job) string {
	sum := sha256.Sum256([]byte(strconv.Itoa(j.Upgrade) + "/" + j.ID + "/" + j.Due.UTC().Format(time.RFC3339Nano)))
	return hex.EncodeToString(sum[:12])
}

// relay moves the events written with the upgrade's changes to the shared
// stream, in the background; relays of one upgrade that pile up are one.
func (e *events) relay(id int) {
	if e.outbox == nil {
		return
	}
	e.mu.Lock()
	if e.pending[id] {
		e.mu.Unlock()
		return
	}
	if e.pending == nil {
		e.pending = map[int]bool{}
	}
	e.pending[id] = true
	e.mu.Unlock()
	e.relays.enqueue(id, func(ctx context.Context) {
		// Wait a moment, so that a burst of presses is relayed together.
		t := time.NewTimer(relayGather)
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
		e.mu.Lock()
		delete(e.pending, id)
		e.mu.Unlock()
		if _, err := e.outbox.RelayEvents(ctx, id); err != nil {
			e.log.WarnContext(ctx, "relaying events to the shared stream failed; the next sweep does it", "upgrade", id, "err", err)
		}
	})
}

// flush waits until every queued relay has run.
func (e *events) flush() { e.relays.flush() }

// relayGather is how long a relay waits for more events of its upgrade.
const relayGather = 50 * time.Millisecond

// relayLookback is how long after its window ended an upgrade may still
// have events to relay: a rollback is acknowledged within a day or two.
const relayLookback = 48 * time.Hour

// RelayEvents moves to the shared stream the events that presses wrote with
// their change and that are not there yet, for every upgrade that may have
// some: the active ones and those whose windows ended within two days. A
// replica that died between a press and its background relay leaves them
// for this sweep. It returns how many events it moved.
func (b *Bot) RelayEvents(ctx context.Context) (int, error) {
	if b.ev.outbox == nil {
		return 0, nil
	}
	active, err := b.store.List(ctx, Filter{States: []State{Scheduled, InProgress}})
	if err != nil {
		return 0, fmt.Errorf("relay events: %w", err)
	}
	recent, err := b.store.List(ctx, Filter{From: b.now().Add(-relayLookback)})
	if err != nil {
		return 0, fmt.Errorf("relay events: %w", err)
	}
	seen := map[int]bool{}
	n := 0
	var errs []error
	for _, u := range append(active, recent...) {
		if seen[u.ID] {
			continue
		}
		seen[u.ID] = true
		m, err := b.ev.outbox.RelayEvents(ctx, u.ID)
		n += m
		if err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
		}
	}
	return n, errors.Join(errs...)
}

// relayLoop runs RelayEvents when Run starts and every interval.
func (b *Bot) relayLoop(ctx context.Context, every time.Duration) {
	pass := func() {
		n, err := b.RelayEvents(ctx)
		if err != nil && ctx.Err() == nil {
			b.log.WarnContext(ctx, "relaying events left behind failed", "relayed", n, "err", err)
		} else if n > 0 {
			b.log.InfoContext(ctx, "relayed events a replica left behind", "events", n)
		}
	}
	pass()
	repeat(ctx, every, pass)
}
