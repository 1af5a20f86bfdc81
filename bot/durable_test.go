package bot_test

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
)

// replica is a Bot on a shared store and clock, with its own messenger.
func replica(st *bottest.MemStore, clock *bottest.Clock, m bot.Messenger) *bot.Bot {
	return bot.New(bot.Options{Config: testConfig(), Store: st, Messenger: bot.Router{"test": m}, Now: clock.Now, RefreshIntervalSet: true})
}

// crashed starts a replica whose platform calls hang: its outbox takes the
// first notice and never finishes. The test abandons it, as if it had been
// killed; when the test ends it is let go.
func crashed(t *testing.T, st *bottest.MemStore, clock *bottest.Clock) (*bot.Bot, *stuck) {
	stk := &stuck{Messenger: &bottest.Recorder{}, entered: make(chan struct{}, 1), release: make(chan struct{})}
	b := replica(st, clock, stk)
	t.Cleanup(func() { close(stk.release); b.Flush() })
	return b, stk
}

func sentKinds(rec *bottest.Recorder) []string {
	var out []string
	for _, s := range rec.All() {
		if s.Op == "post" || s.Op == "reply" {
			out = append(out, s.Op+" "+string(s.Msg.Kind))
		}
	}
	return out
}

func TestCrashedReplicaNoticesAreRecoveredOnce(t *testing.T) {
	ctx := context.Background()
	st, clock := bottest.NewMemStore(), bottest.NewClock(t0)
	dead, stk := crashed(t, st, clock)
	for _, cmd := range []string{"schedule ledger v1.2.0 in 1h", "start 1", "rollback 1 broken"} {
		if m := dead.Handle(ctx, who("carol"), cmd); m.Kind == bot.KindError {
			t.Fatalf("%s: %s", cmd, lines(m))
		}
	}
	<-stk.entered // the root post is under way; then the replica dies
	if n := st.PendingNotices(); n != 4 {
		t.Fatalf("%d notices recorded, want 4 (root, started, rollback, debrief prompt)", n)
	}

	rec := &bottest.Recorder{}
	live := replica(st, clock, rec)
	clock.Advance(time.Minute) // the dead replica might still be working on them
	if n, err := live.RecoverNotices(ctx); err != nil || n != 0 {
		t.Fatalf("recovered %d notices before they were stale (err %v)", n, err)
	}
	clock.Advance(2 * time.Minute)
	if n, err := live.RecoverNotices(ctx); err != nil || n != 4 {
		t.Fatalf("recovered %d notices, want 4 (err %v)", n, err)
	}
	live.Flush()
	if n, _ := live.RecoverNotices(ctx); n != 0 {
		t.Fatalf("recovered %d notices again", n)
	}
	live.Flush()
	want := []string{"post root", "reply started", "reply rollback", "reply debrief_prompt"}
	if got := sentKinds(rec); !slices.Equal(got, want) {
		t.Fatalf("the live replica sent %q, want %q", got, want)
	}
	alert := rec.Kinds(bot.KindRollback)[0]
	if !alert.Msg.Alert || !alert.Msg.AlsoInChannel || alert.To != "test:#ledger" {
		t.Errorf("recovered rollback alert: %+v", alert)
	}
	u, err := st.Get(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Failures) != 0 || len(u.Threads) != 1 {
		t.Errorf("after recovery: failures %+v, threads %+v", u.Failures, u.Threads)
	}
	if n := st.PendingNotices(); n != 0 {
		t.Errorf("%d notice records left after delivery", n)
	}
}

func TestRecoveredRootPostSkipsChannelsWithThread(t *testing.T) {
	ctx := context.Background()
	st, clock := bottest.NewMemStore(), bottest.NewClock(t0)
	rec := &bottest.Recorder{}
	b := replica(st, clock, rec)
	if m := b.Handle(ctx, who("carol"), "schedule ledger v1.2.0 in 1h"); m.Kind == bot.KindError {
		t.Fatal(lines(m))
	}
	b.Flush()
	if n := len(rec.Ops("post")); n != 1 || st.PendingNotices() != 0 {
		t.Fatalf("%d roots posted, %d records left", n, st.PendingNotices())
	}
	// A replica posted the root and died before forgetting its record.
	_ = st.RecordNotice(ctx, bot.PendingNotice{Key: "1/x", At: t0, Kind: bot.PendingRoots, Upgrade: 1})
	clock.Advance(bot.RecoverAfter + time.Second)
	if n, err := b.RecoverNotices(ctx); err != nil || n != 1 {
		t.Fatalf("recovered %d, err %v", n, err)
	}
	b.Flush()
	if n := len(rec.Ops("post")); n != 1 {
		t.Fatalf("the recovered root post posted again: %d roots", n)
	}
	if u, _ := st.Get(ctx, 1); len(u.Threads) != 1 || len(u.Failures) != 0 {
		t.Fatalf("threads %+v, failures %+v", u.Threads, u.Failures)
	}
	if st.PendingNotices() != 0 {
		t.Fatalf("record left behind")
	}
}

func TestDrainLeavesUndeliveredNoticesRecorded(t *testing.T) {
	ctx := context.Background()
	st, clock := bottest.NewMemStore(), bottest.NewClock(t0)
	b, stk := crashed(t, st, clock)
	if m := b.Handle(ctx, who("carol"), "schedule ledger v1.2.0 in 1h"); m.Kind == bot.KindError {
		t.Fatal(lines(m))
	}
	<-stk.entered
	dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if n := b.Drain(dctx); n == 0 {
		t.Fatal("Drain reported everything delivered")
	}
	if n := st.PendingNotices(); n != 1 {
		t.Fatalf("%d records after a drain that ran out of time, want 1 for another replica", n)
	}
}

func TestMessageJSONRoundTrip(t *testing.T) {
	f := newFixture(t)
	f.ok(t, "carol", "schedule ledger v1.2.0 in 1h")
	f.ok(t, "carol", "start 1")
	f.ok(t, "carol", "rollback 1 broken")
	f.ok(t, "carol", "link 1 acme/ledger")
	for _, s := range f.rec.All() {
		js, err := json.Marshal(s.Msg)
		if err != nil {
			t.Fatal(err)
		}
		var back bot.Message
		if err := json.Unmarshal(js, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, s.Msg) {
			t.Errorf("%s message does not survive JSON:\n got %+v\nwant %+v", s.Msg.Kind, back, s.Msg)
		}
	}
}
