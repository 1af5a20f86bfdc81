package e2e

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
	"github.com/upgradebot/upgradebot/store/storetest"
)

// downPlatform delivers like a Recorder until closed; from then on every
// delivery blocks until release is closed (or its context ends), as a
// platform that is down and retried with backoff does.
type downPlatform struct {
	bottest.Recorder
	closed  atomic.Bool
	blocked atomic.Int32 // deliveries blocked right now
	release chan struct{}
}

func (g *downPlatform) wait(ctx context.Context) error {
	if !g.closed.Load() {
		return nil
	}
	g.blocked.Add(1)
	defer g.blocked.Add(-1)
	select {
	case <-g.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *downPlatform) Post(ctx context.Context, ch string, m bot.Message) (bot.MessageRef, error) {
	if err := g.wait(ctx); err != nil {
		return bot.MessageRef{}, err
	}
	return g.Recorder.Post(ctx, ch, m)
}

func (g *downPlatform) Reply(ctx context.Context, root bot.MessageRef, m bot.Message) (bot.MessageRef, error) {
	if err := g.wait(ctx); err != nil {
		return bot.MessageRef{}, err
	}
	return g.Recorder.Reply(ctx, root, m)
}

func (g *downPlatform) Edit(ctx context.Context, ref bot.MessageRef, m bot.Message) error {
	if err := g.wait(ctx); err != nil {
		return err
	}
	return g.Recorder.Edit(ctx, ref, m)
}

func (g *downPlatform) Direct(ctx context.Context, user string, m bot.Message) (bot.MessageRef, error) {
	if err := g.wait(ctx); err != nil {
		return bot.MessageRef{}, err
	}
	return g.Recorder.Direct(ctx, user, m)
}

// streamTypes lists the types of upgrade id's events in the shared stream,
// in stream order.
func streamTypes(t *testing.T, r *replica, id string) []string {
	t.Helper()
	evs, err := r.st.EventsAfter(context.Background(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		if e.Event.UpgradeID == id {
			out = append(out, e.Event.Type)
		}
	}
	return out
}

// An acknowledgment's event reaches the shared stream (and so SSE and the
// webhooks) while the upgrade's chat deliveries are stuck on a platform
// that does not answer: the relay does not queue behind them. The events
// of the upgrade stay in order, each once.
func TestEventsRelayedWhileChatDeliveriesHang(t *testing.T) {
	clock := bottest.NewClock(start0)
	p := &downPlatform{release: make(chan struct{})}
	r := newReplica(t, storetest.Target(t), clock.Now, p)
	released := false
	release := func() {
		if !released {
			released = true
			close(p.release)
		}
	}
	t.Cleanup(release) // before the replica's Flush (cleanups run last first)

	r.do(t, "alice", "schedule payments v2.4.0 in 3d for 1h")
	waitFor(t, "the scheduled event in the stream", func() bool {
		return slices.Equal(streamTypes(t, r, "UPG-1"), []string{bot.EventScheduled})
	})

	p.closed.Store(true)
	for _, who := range []string{"bob", "carol"} {
		m := r.b.Handle(context.Background(), bot.Invocation{Actor: bot.Actor{ID: "t:" + who}, Channel: "t:#ops"}, "ack UPG-1")
		if m.Kind == bot.KindError {
			t.Fatalf("%s: ack: %s", who, m.Plain(time.UTC))
		}
	}
	waitFor(t, "a root refresh to hang on the platform", func() bool { return p.blocked.Load() > 0 })

	want := []string{bot.EventScheduled, bot.EventAcknowledged, bot.EventAcknowledged}
	deadline := time.Now().Add(20 * time.Second) // generous: it only bounds a failing run
	for !slices.Equal(streamTypes(t, r, "UPG-1"), want) {
		if time.Now().After(deadline) {
			t.Fatalf("with the chat deliveries hanging, the stream has %q of UPG-1, want %q", streamTypes(t, r, "UPG-1"), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if p.blocked.Load() == 0 {
		t.Fatal("the deliveries stopped hanging before the check: the test proves nothing")
	}

	release()
	r.b.Flush()
	if n, err := r.b.RelayEvents(context.Background()); err != nil || n != 0 {
		t.Fatalf("a sweep after the relays moved %d events (%v), want 0", n, err)
	}
	if got := streamTypes(t, r, "UPG-1"); !slices.Equal(got, want) {
		t.Fatalf("at the end the stream has %q of UPG-1, want %q", got, want)
	}
}
