package bot_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
)

// acksReads counts the reads of all of an upgrade's acknowledgments.
type acksReads struct {
	*bottest.MemStore
	n atomic.Int64
}

func (s *acksReads) Acks(ctx context.Context, id int) ([]bot.Ack, error) {
	s.n.Add(1)
	return s.MemStore.Acks(ctx, id)
}

// A root refresh after this replica's presses does not read all the
// acknowledgments again: the replica keeps those it recorded. The root
// still shows every one of them.
func TestRootRefreshesKeepTheAcknowledgments(t *testing.T) {
	st, rec := &acksReads{MemStore: bottest.NewMemStore()}, &bottest.Recorder{}
	b := bot.New(bot.Options{Config: testConfig(), Store: st, Messenger: bot.Router{"test": rec},
		Now: func() time.Time { return t0 }, RefreshIntervalSet: true})
	t.Cleanup(b.Flush)
	b.Handle(context.Background(), who("alice"), schedulePayments)
	b.Flush()
	pressAs(b, context.Background(), bot.Actor{ID: "test:UX000"}, "UPG-1", "brief")
	b.Flush()
	before := st.n.Load()
	for i := 1; i < 30; i++ {
		pressAs(b, context.Background(), bot.Actor{ID: fmt.Sprintf("test:UX%03d", i)}, "UPG-1", "brief")
		b.Flush()
	}
	if n := st.n.Load() - before; n != 0 {
		t.Errorf("29 presses and their root refreshes read all acknowledgments %d times; want 0", n)
	}
	edits := rec.Ops("edit")
	if last := lines(edits[len(edits)-1].Msg); !strings.Contains(last, "@UX000") || !strings.Contains(last, "and 10 others") {
		t.Fatalf("the last root does not show the 30 acknowledgments:\n%s", last)
	}
	if m := lines(b.Handle(context.Background(), who("bob"), "show 1")); strings.Count(m, "• brief:") != 30 {
		t.Fatalf("show after the presses:\n%s", m)
	}
}

// Two replicas share the store: what one records, the other's show and
// root show, although each keeps the acknowledgments it read.
func TestAcknowledgmentsOfAnotherReplicaShow(t *testing.T) {
	st := bottest.NewMemStore()
	recA, recB := &bottest.Recorder{}, &bottest.Recorder{}
	replica := func(rec *bottest.Recorder) *bot.Bot {
		b := bot.New(bot.Options{Config: testConfig(), Store: st, Messenger: bot.Router{"test": rec},
			Now: func() time.Time { return t0 }, RefreshIntervalSet: true})
		t.Cleanup(b.Flush)
		return b
	}
	a, b := replica(recA), replica(recB)
	a.Handle(context.Background(), who("alice"), schedulePayments)
	a.Flush()
	pressAs(a, context.Background(), who("carol").Actor, "UPG-1", "brief")
	a.Flush()
	if m := lines(a.Handle(context.Background(), who("dave"), "show 1")); !strings.Contains(m, "Acknowledged 1/3") {
		t.Fatalf("show on replica A:\n%s", m)
	}
	pressAs(b, context.Background(), who("bob").Actor, "UPG-1", "brief")
	b.Flush()
	if m := lines(a.Handle(context.Background(), who("dave"), "show 1")); !strings.Contains(m, "Acknowledged 2/3") || !strings.Contains(m, "brief: @bob") {
		t.Fatalf("replica A does not show replica B's acknowledgment:\n%s", m)
	}
	pressAs(a, context.Background(), who("alice").Actor, "UPG-1", "brief")
	a.Flush()
	edits := recA.Ops("edit")
	if last := lines(edits[len(edits)-1].Msg); !strings.Contains(last, "Acknowledged 3/3") {
		t.Fatalf("replica A's root does not count replica B's acknowledgment:\n%s", last)
	}
}
