package bot

import (
	"context"
	"log/slog"
)

// events publishes what happened to upgrades: to the store's stream, then to
// the sinks (webhooks, metrics). Commands and the scheduler share it.
type events struct {
	store Store
	sinks []EventSink
	now   Clock
	log   *slog.Logger
}

// emit publishes one event of u. A failure is logged: the change it
// describes is saved already.
func (e *events) emit(ctx context.Context, u *Upgrade, typ, actor string, data map[string]any) {
	ev := Event{ID: randomID(), Type: typ, UpgradeID: u.Key(), Service: u.Service, At: e.now().UTC(), Actor: actor, Data: data}
	if err := e.store.Publish(ctx, ev); err != nil {
		e.log.ErrorContext(ctx, "publishing event failed", "event", typ, "upgrade", u.Key(), "err", err)
	}
	for _, s := range e.sinks {
		s.Event(ev)
	}
}
