package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func testUpgrade(id int, service string, start time.Time, d time.Duration) *bot.Upgrade {
	return &bot.Upgrade{
		ID: id, Service: service, Version: "v1." + strconv.Itoa(id), Start: start.UTC(), End: start.Add(d).UTC(),
		State: bot.Scheduled, CreatedBy: "alice", Audience: []string{"bob", "carol"},
		Channels: []string{"slack:C1"}, CreatedAt: t0, UpdatedAt: t0, Rev: 1,
	}
}

func decision(action string) bot.Decision {
	return bot.Decision{At: t0, Actor: "alice", Action: action}
}

// create stores a new upgrade under a fresh id.
func create(t *testing.T, s *Store, service string, start time.Time, d time.Duration, st bot.State) *bot.Upgrade {
	t.Helper()
	ctx := context.Background()
	id, err := s.NextID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u := testUpgrade(id, service, start, d)
	u.State = st
	if err := s.Create(ctx, u, decision("scheduled")); err != nil {
		t.Fatalf("Create %d: %v", id, err)
	}
	return u
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestNextID(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	var (
		mu   sync.Mutex
		seen = map[int]bool{}
		wg   sync.WaitGroup
	)
	for range 10 {
		wg.Go(func() {
			for range 10 {
				id, err := s.NextID(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for id := 1; id <= 100; id++ {
		if !seen[id] {
			t.Fatalf("id %d was not handed out; got %d distinct ids", id, len(seen))
		}
	}
	if id, _ := s.NextID(ctx); id != 101 {
		t.Errorf("next id = %d, want 101", id)
	}
}

func TestCreateGetUpdate(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	u := testUpgrade(7, "payments", t0.Add(48*time.Hour), 2*time.Hour)
	u.Rev = 0 // Create sets it
	u.Release = &bot.Release{Repo: "acme/payments", Tag: "v1.7", URL: "https://example.com"}
	u.Conflicts = []bot.Conflict{{ID: 3, Service: "ledger", Start: t0, End: t0.Add(time.Hour)}}
	if err := s.Create(ctx, u, decision("scheduled")); err != nil {
		t.Fatal(err)
	}
	if u.Rev != 1 {
		t.Errorf("Create left Rev = %d, want 1", u.Rev)
	}
	got, err := s.Get(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	if mustJSON(t, got) != mustJSON(t, u) {
		t.Errorf("Get after Create:\n got %s\nwant %s", mustJSON(t, got), mustJSON(t, u))
	}

	got.State, got.StartedAt, got.Rev = bot.InProgress, t0.Add(48*time.Hour), 2
	if err := s.Update(ctx, got, bot.Decision{At: t0, Actor: "bob", Action: "started"}); err != nil {
		t.Fatal(err)
	}
	got.Note = "silent change"
	got.Rev = 3
	if err := s.Update(ctx, got, bot.Decision{}); err != nil {
		t.Fatal(err)
	}
	again, err := s.Get(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	if mustJSON(t, again) != mustJSON(t, got) {
		t.Errorf("Get after Update:\n got %s\nwant %s", mustJSON(t, again), mustJSON(t, got))
	}
	log, err := s.Log(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, d := range log {
		actions = append(actions, d.Action)
	}
	if !slices.Equal(actions, []string{"scheduled", "started"}) {
		t.Errorf("log actions = %v, want [scheduled started] (an empty Action is not logged)", actions)
	}

	if err := s.Create(ctx, testUpgrade(7, "payments", t0, time.Hour), decision("scheduled")); !errors.Is(err, bot.ErrConflict) {
		t.Errorf("Create of an existing id = %v, want ErrConflict", err)
	}
}

func TestGetMissing(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	if _, err := s.Get(ctx, 404); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Get(404) = %v, want ErrNotFound", err)
	}
	u := testUpgrade(404, "x", t0, time.Hour)
	u.Rev = 2
	if err := s.Update(ctx, u, decision("started")); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Update(404) = %v, want ErrNotFound", err)
	}
	if _, _, err := ack1(ctx, s, 404, bot.Ack{Scope: bot.ScopeBrief, Who: "bob", At: t0}); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Ack(404) = %v, want ErrNotFound", err)
	}
	if acks, err := s.Acks(ctx, 404); err != nil || len(acks) != 0 {
		t.Errorf("Acks(404) = %v, %v", acks, err)
	}
	if log, err := s.Log(ctx, 404); err != nil || len(log) != 0 {
		t.Errorf("Log(404) = %v, %v", log, err)
	}
}

func TestUpdateConflict(t *testing.T) {
	s := newTestStore(t)
	other := reopen(t, s.opts)
	ctx := context.Background()
	u := create(t, s, "payments", t0, time.Hour, bot.Scheduled)

	for round := range 20 {
		a, err := s.Get(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		b := a.Clone()
		a.Rev++
		b.Rev++
		a.Note, b.Note = "a", "b"
		var errA, errB error
		var wg sync.WaitGroup
		wg.Go(func() { errA = s.Update(ctx, a, decision("noted")) })
		wg.Go(func() { errB = other.Update(ctx, b, decision("noted")) })
		wg.Wait()
		var winner string
		switch {
		case errA == nil && errors.Is(errB, bot.ErrConflict):
			winner = "a"
		case errB == nil && errors.Is(errA, bot.ErrConflict):
			winner = "b"
		default:
			t.Fatalf("round %d: errA=%v errB=%v; want exactly one ErrConflict", round, errA, errB)
		}
		got, err := s.Get(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Note != winner || got.Rev != round+2 {
			t.Fatalf("round %d: stored note=%q rev=%d, want %q rev %d", round, got.Note, got.Rev, winner, round+2)
		}
	}
	log, _ := s.Log(ctx, u.ID)
	if len(log) != 21 {
		t.Errorf("log has %d entries, want 21 (a losing update logs nothing)", len(log))
	}
}

func TestList(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	h := time.Hour
	// ids 1..6 in creation order; starts deliberately out of order.
	a := create(t, s, "payments", t0.Add(10*h), 2*h, bot.Scheduled)  // [10,12]
	b := create(t, s, "ledger", t0.Add(1*h), 2*h, bot.InProgress)    // [1,3]
	c := create(t, s, "payments", t0.Add(-50*h), 1*h, bot.Completed) // [-50,-49]
	d := create(t, s, "search", t0.Add(10*h), 1*h, bot.Scheduled)    // [10,11], same start as a
	e := create(t, s, "payments", t0.Add(30*h), 1*h, bot.Cancelled)  // [30,31]
	f := create(t, s, "ledger", t0.Add(100*h), 1*h, bot.RolledBack)  // [100,101]

	ids := func(us []*bot.Upgrade) []int {
		var out []int
		for _, u := range us {
			out = append(out, u.ID)
		}
		return out
	}
	active := []bot.State{bot.Scheduled, bot.InProgress}
	tests := []struct {
		name string
		f    bot.Filter
		want []int
	}{
		{"all", bot.Filter{}, []int{c.ID, b.ID, a.ID, d.ID, e.ID, f.ID}},
		{"service", bot.Filter{Service: "payments"}, []int{c.ID, a.ID, e.ID}},
		{"active", bot.Filter{States: active}, []int{b.ID, a.ID, d.ID}},
		{"scheduled only", bot.Filter{States: []bot.State{bot.Scheduled}}, []int{a.ID, d.ID}},
		{"finished", bot.Filter{States: []bot.State{bot.Completed, bot.Cancelled, bot.RolledBack}}, []int{c.ID, e.ID, f.ID}},
		{"mixed states", bot.Filter{States: []bot.State{bot.InProgress, bot.Completed}}, []int{c.ID, b.ID}},
		{"from", bot.Filter{From: t0.Add(11 * h)}, []int{a.ID, d.ID, e.ID, f.ID}}, // end >= from, inclusive
		{"to", bot.Filter{To: t0.Add(10 * h)}, []int{c.ID, b.ID}},                 // start < to, exclusive
		{"window", bot.Filter{From: t0.Add(2 * h), To: t0.Add(31 * h)}, []int{b.ID, a.ID, d.ID, e.ID}},
		{"window active", bot.Filter{States: active, From: t0.Add(2 * h), To: t0.Add(31 * h)}, []int{b.ID, a.ID, d.ID}},
		{"window service", bot.Filter{Service: "payments", From: t0.Add(-49 * h), To: t0.Add(10*h + time.Millisecond)}, []int{c.ID, a.ID}},
		{"active after", bot.Filter{States: active, From: t0.Add(4 * h)}, []int{a.ID, d.ID}},
		{"nothing", bot.Filter{Service: "nope"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.List(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), tt.want) {
				t.Errorf("List = %v, want %v", ids(got), tt.want)
			}
			for _, u := range got {
				if !tt.f.Match(u) {
					t.Errorf("upgrade %d does not match the filter", u.ID)
				}
			}
		})
	}

	// Moving and finishing an upgrade moves it in the indexes.
	a.Start, a.End, a.State, a.Rev = t0.Add(200*h), t0.Add(201*h), bot.Completed, 2
	if err := s.Update(ctx, a, decision("completed")); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.List(ctx, bot.Filter{States: active}); !slices.Equal(ids(got), []int{b.ID, d.ID}) {
		t.Errorf("active after completing %d = %v", a.ID, ids(got))
	}
	if got, _ := s.List(ctx, bot.Filter{From: t0.Add(150 * h)}); !slices.Equal(ids(got), []int{a.ID}) {
		t.Errorf("after moving %d = %v", a.ID, ids(got))
	}
}

// cmdCounter counts the upgrade reads (HMGET) that go through a client.
type cmdCounter struct{ hmget atomic.Int64 }

func (c *cmdCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *cmdCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.count(cmd)
		return next(ctx, cmd)
	}
}
func (c *cmdCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			c.count(cmd)
		}
		return next(ctx, cmds)
	}
}
func (c *cmdCounter) count(cmd redis.Cmder) {
	if cmd.Name() == "hmget" {
		c.hmget.Add(1)
	}
}

// TestListReadsOnlyCandidates checks that the common queries do not load
// the history: with many finished upgrades stored, listing the active ones
// or a window reads only the upgrades that can match.
func TestListReadsOnlyCandidates(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	const finishedCount = 2000
	// Seed the history concurrently: one Create is a few round trips.
	var wg sync.WaitGroup
	ids := make(chan int, finishedCount)
	for i := range finishedCount {
		ids <- i
	}
	close(ids)
	for range 16 {
		wg.Go(func() {
			for i := range ids {
				id, err := s.NextID(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				u := testUpgrade(id, "svc"+strconv.Itoa(i%10), t0.Add(-time.Duration(i+10)*24*time.Hour), time.Hour)
				u.State = bot.Completed
				if err := s.Create(ctx, u, decision("scheduled")); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	live := []*bot.Upgrade{
		create(t, s, "payments", t0.Add(time.Hour), time.Hour, bot.Scheduled),
		create(t, s, "ledger", t0.Add(-time.Hour), 3*time.Hour, bot.InProgress),
		create(t, s, "search", t0.Add(40*24*time.Hour), time.Hour, bot.Scheduled),
	}

	counter := &cmdCounter{}
	s.client.AddHook(counter)
	check := func(name string, f bot.Filter, want, maxReads int) {
		t.Helper()
		counter.hmget.Store(0)
		got, err := s.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != want {
			t.Errorf("%s: %d upgrades, want %d", name, len(got), want)
		}
		if n := counter.hmget.Load(); n > int64(maxReads) {
			t.Errorf("%s: read %d upgrades, want at most %d", name, n, maxReads)
		}
	}
	active := []bot.State{bot.Scheduled, bot.InProgress}
	check("active", bot.Filter{States: active}, 3, 3)
	check("active window", bot.Filter{States: active, From: t0, To: t0.Add(24 * time.Hour)}, 2, 2)
	check("calendar month", bot.Filter{From: t0.Add(-20 * 24 * time.Hour), To: t0.Add(10 * 24 * time.Hour)}, 2+11, 2+11+1)
	check("upcoming", bot.Filter{From: t0}, 3, 3)
	_ = live
}

func TestAckFirstWins(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	u := create(t, s, "payments", t0, time.Hour, bot.Scheduled)

	const n = 50
	type result struct {
		ack   bot.Ack
		first bool
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			a := bot.Ack{Scope: bot.ScopeBrief, Who: "bob", Via: "slack:U" + strconv.Itoa(i), At: t0.Add(time.Duration(i) * time.Second)}
			got, first, err := ack1(ctx, s, u.ID, a)
			if err != nil {
				t.Error(err)
			}
			results[i] = result{got, first}
		})
	}
	wg.Wait()
	firsts := 0
	for i, r := range results {
		if r.first {
			firsts++
			if r.ack.Via != "slack:U"+strconv.Itoa(i) {
				t.Errorf("the first acker got back %+v", r.ack)
			}
		}
		if !r.ack.At.Equal(results[0].ack.At) || r.ack.Via != results[0].ack.Via {
			t.Errorf("acker %d sees %+v, acker 0 sees %+v", i, r.ack, results[0].ack)
		}
	}
	if firsts != 1 {
		t.Errorf("%d ackers were first, want 1", firsts)
	}

	// Another person is a separate acknowledgment; the rollback scope
	// waits for a rollback.
	if _, first, err := ack1(ctx, s, u.ID, bot.Ack{Scope: bot.ScopeBrief, Who: "carol", At: t0.Add(-time.Minute)}); err != nil || !first {
		t.Errorf("carol's ack: first=%v err=%v", first, err)
	}
	if _, _, err := ack1(ctx, s, u.ID, bot.Ack{Scope: bot.ScopeRollback, Who: "bob", At: t0.Add(time.Hour)}); err == nil {
		t.Error("a rollback ack of a scheduled upgrade was recorded")
	}
	u.Rev++
	u.State = bot.RolledBack
	if err := s.Update(ctx, u, decision("rolled_back")); err != nil {
		t.Fatal(err)
	}
	if _, first, err := ack1(ctx, s, u.ID, bot.Ack{Scope: bot.ScopeRollback, Who: "bob", At: t0.Add(time.Hour)}); err != nil || !first {
		t.Errorf("bob's rollback ack: first=%v err=%v", first, err)
	}
	acks, err := s.Acks(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var who []string
	for _, a := range acks {
		who = append(who, a.Scope+"|"+a.Who)
	}
	if !slices.Equal(who, []string{"brief|carol", "brief|bob", "rollback|bob"}) {
		t.Errorf("Acks in time order = %v", who)
	}

	log, err := s.Log(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var bobBrief int
	for _, d := range log {
		if d.Action == bot.ActionAcknowledged && d.Actor == "bob" && d.Scope == bot.ScopeBrief {
			bobBrief++
			if !d.At.Equal(results[0].ack.At) {
				t.Errorf("ack decision at %v, the standing ack at %v", d.At, results[0].ack.At)
			}
		}
	}
	if bobBrief != 1 || len(log) != 5 {
		t.Errorf("log has %d entries with %d brief acks of bob, want 5 and 1: %+v", len(log), bobBrief, log)
	}
}

func TestLogOrder(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	u := create(t, s, "payments", t0, time.Hour, bot.Scheduled)
	want := []string{"scheduled"}
	for i := range 30 {
		u.Rev++
		action := fmt.Sprintf("step-%02d", i)
		if err := s.Update(ctx, u, bot.Decision{At: t0, Actor: "bob", Action: action, Detail: "d", Reason: "r"}); err != nil {
			t.Fatal(err)
		}
		want = append(want, action)
	}
	log, err := s.Log(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range log {
		got = append(got, d.Action)
	}
	if !slices.Equal(got, want) {
		t.Errorf("log = %v\nwant %v", got, want)
	}
	if d := log[1]; d.Actor != "bob" || d.Detail != "d" || d.Reason != "r" || !d.At.Equal(t0) {
		t.Errorf("entry round trip: %+v", d)
	}
}

func TestLogCapped(t *testing.T) {
	s := newTestStoreOpts(t, Options{LogMaxLen: 10})
	ctx := context.Background()
	u := create(t, s, "payments", t0, time.Hour, bot.Scheduled)
	for range 300 {
		u.Rev++
		if err := s.Update(ctx, u, decision("noted")); err != nil {
			t.Fatal(err)
		}
	}
	// MAXLEN ~ trims whole stream nodes (100 entries by default), so the
	// log stays near its cap rather than at it.
	if n := s.client.XLen(ctx, s.logKey(u.ID)).Val(); n < 10 || n > 150 {
		t.Errorf("log length %d, want about 10", n)
	}
}

func pttl(t *testing.T, s *Store, key string) time.Duration {
	t.Helper()
	d, err := s.client.PTTL(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRetention(t *testing.T) {
	s := newTestStoreOpts(t, Options{Retention: 48 * time.Hour})
	ctx := context.Background()
	u := create(t, s, "payments", t0, time.Hour, bot.Scheduled)
	if _, _, err := ack1(ctx, s, u.ID, bot.Ack{Scope: bot.ScopeBrief, Who: "bob", At: t0}); err != nil {
		t.Fatal(err)
	}
	keys := []string{s.upgKey(u.ID), s.acksKey(u.ID), s.logKey(u.ID)}
	for _, k := range keys {
		if d := pttl(t, s, k); d != -1 {
			t.Errorf("active upgrade: PTTL %s = %v, want none (-1)", k, d)
		}
	}

	for _, st := range []bot.State{bot.InProgress, bot.Completed, bot.RolledBack} {
		u.State = st
		u.Rev++
		if err := s.Update(ctx, u, decision(string(st))); err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			d := pttl(t, s, k)
			switch {
			case !finished(st) && d != -1:
				t.Errorf("%s: PTTL %s = %v, want none", st, k, d)
			case finished(st) && (d <= 0 || d > 48*time.Hour):
				t.Errorf("%s: PTTL %s = %v, want (0, 48h]", st, k, d)
			}
		}
	}
	// A rollback after completion keeps the upgrade finished, and an ack of a
	// finished upgrade expires with it.
	if _, first, err := ack1(ctx, s, u.ID, bot.Ack{Scope: bot.ScopeRollback, Who: "bob", At: t0}); err != nil || !first {
		t.Fatalf("rollback ack: %v %v", first, err)
	}
	for _, k := range keys {
		if d := pttl(t, s, k); d <= 0 {
			t.Errorf("after rollback ack: PTTL %s = %v, want > 0", k, d)
		}
	}
	// An upgrade created finished expires too; a new one with a fresh ack
	// hash follows the data's expiry.
	c := create(t, s, "ledger", t0, time.Hour, bot.RolledBack)
	if d := pttl(t, s, s.upgKey(c.ID)); d <= 0 {
		t.Errorf("created rolled back: PTTL = %v", d)
	}
	if _, _, err := ack1(ctx, s, c.ID, bot.Ack{Scope: bot.ScopeRollback, Who: "bob", At: t0}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{s.acksKey(c.ID), s.outboxKey(c.ID)} {
		if d := pttl(t, s, k); d <= 0 {
			t.Errorf("%s of a rolled-back upgrade: PTTL = %v, want > 0", k, d)
		}
	}
	if d := pttl(t, s, s.upgKey(create(t, s, "x", t0, time.Hour, bot.Scheduled).ID)); d != -1 {
		t.Errorf("new scheduled upgrade: PTTL = %v", d)
	}

	forever := reopen(t, Options{Prefix: s.prefix, Retention: -1})
	u.Rev++
	u.State = bot.Completed
	if err := forever.Update(ctx, u, decision("noted")); err != nil {
		t.Fatal(err)
	}
	if d := pttl(t, s, s.upgKey(u.ID)); d != -1 {
		t.Errorf("negative Retention: PTTL = %v, want none", d)
	}
}

// indexState is every index of s, for comparing before and after.
func indexState(t *testing.T, s *Store) map[string]any {
	t.Helper()
	ctx := context.Background()
	out := map[string]any{}
	for _, k := range []string{"start", "end", "active", "expire", "pending"} {
		zs, err := s.client.ZRangeWithScores(ctx, s.idxKey(k), 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		out[k] = zs
	}
	revs, err := s.client.HGetAll(ctx, s.idxKey("rev")).Result()
	if err != nil {
		t.Fatal(err)
	}
	out["rev"] = revs
	return out
}

// TestIndexSelfHealing simulates the failures the index step can meet: a
// writer that died between its write and its index step, and upgrades whose
// keys expired.
func TestIndexSelfHealing(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	u := create(t, s, "payments", t0, time.Hour, bot.Scheduled)
	gone := create(t, s, "ledger", t0, time.Hour, bot.Completed)

	// A writer moved u and died before its index step: the index still has
	// the old window and an old pending marker.
	u.Start, u.End, u.Rev = t0.Add(100*time.Hour), t0.Add(101*time.Hour), 2
	data, _ := json.Marshal(u)
	s.client.HSet(ctx, s.upgKey(u.ID), "rev", 2, "json", data)
	s.client.ZAdd(ctx, s.idxKey("pending"), redis.Z{Score: float64(time.Now().Add(-time.Hour).UnixMilli()), Member: fmt.Sprintf("%d/2", u.ID)})
	// gone expired: its retention ran out.
	s.client.Del(ctx, s.upgKey(gone.ID), s.acksKey(gone.ID), s.logKey(gone.ID))
	s.client.ZAdd(ctx, s.idxKey("expire"), redis.Z{Score: float64(time.Now().Add(-time.Second).UnixMilli()), Member: strconv.Itoa(gone.ID)})

	// A list is a read: it writes nothing, so it repairs nothing. It
	// works from the index as it is, and skips what is gone.
	before := indexState(t, s)
	all, err := s.List(ctx, bot.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].ID != u.ID {
		t.Errorf("List before tidying = %v, want upgrade %d only (the other is gone)", all, u.ID)
	}
	if after := indexState(t, s); !reflect.DeepEqual(after, before) {
		t.Errorf("List changed the indexes:\nbefore %v\nafter  %v", before, after)
	}

	// The reconciler's housekeeping repairs them.
	if err := s.Tidy(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := s.List(ctx, bot.Filter{From: t0.Add(50 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != u.ID {
		t.Errorf("List after repair = %v, want upgrade %d", got, u.ID)
	}
	if got, _ := s.List(ctx, bot.Filter{}); len(got) != 1 {
		t.Errorf("List all = %d upgrades, want 1", len(got))
	}
	for _, k := range []string{"start", "end", "expire"} {
		if _, err := s.client.ZScore(ctx, s.idxKey(k), strconv.Itoa(gone.ID)).Result(); !errors.Is(err, redis.Nil) {
			t.Errorf("index %s still holds the expired upgrade (err %v)", k, err)
		}
	}
	if n := s.client.ZCard(ctx, s.idxKey("pending")).Val(); n != 0 {
		t.Errorf("%d pending markers left", n)
	}
	// A stale index write (older rev) does not undo a newer one.
	old := *u
	old.Rev, old.Start = 1, t0
	if err := s.runIndex(ctx, &old, ""); err != nil {
		t.Fatal(err)
	}
	if sc := s.client.ZScore(ctx, s.idxKey("start"), strconv.Itoa(u.ID)).Val(); int64(sc) != u.Start.UnixMilli() {
		t.Errorf("stale index write applied: score %v", sc)
	}
}

func TestPublish(t *testing.T) {
	s := newTestStoreOpts(t, Options{EventsMaxLen: 10})
	ctx := context.Background()
	for i := range 500 {
		e := bot.Event{ID: "evt-" + strconv.Itoa(i), Type: bot.EventScheduled, UpgradeID: "UPG-1", Service: "payments", At: t0, Actor: "alice",
			Data: map[string]any{"n": i}}
		if err := s.Publish(ctx, 1, e); err != nil { // no such upgrade: straight to the stream
			t.Fatal(err)
		}
	}
	n, err := s.client.XLen(ctx, s.eventsKey()).Result()
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 || n > 150 {
		t.Errorf("event stream holds %d entries, want about 10", n)
	}
	last, err := s.client.XRevRangeN(ctx, s.eventsKey(), "+", "-", 1).Result()
	if err != nil || len(last) != 1 {
		t.Fatalf("XREVRANGE: %v %v", last, err)
	}
	v := last[0].Values
	var e bot.Event
	if err := json.Unmarshal([]byte(v["event"].(string)), &e); err != nil {
		t.Fatal(err)
	}
	if v["id"] != "evt-499" || v["type"] != bot.EventScheduled || e.ID != "evt-499" || e.Service != "payments" || e.Data["n"] != 499.0 {
		t.Errorf("last entry = %v", v)
	}
}

func TestOnce(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	first, err := s.First(ctx, "slack:Ev123", time.Minute)
	if err != nil || !first {
		t.Fatalf("First = %v, %v; want true", first, err)
	}
	if again, err := s.First(ctx, "slack:Ev123", time.Minute); err != nil || again {
		t.Errorf("second First = %v, %v; want false", again, err)
	}
	if other, err := s.First(ctx, "slack:Ev124", time.Minute); err != nil || !other {
		t.Errorf("First of another key = %v, %v; want true", other, err)
	}
	if d := pttl(t, s, s.onceKey("slack:Ev123")); d <= 0 || d > time.Minute {
		t.Errorf("PTTL = %v, want (0, 1m]", d)
	}
	if _, err := s.First(ctx, "k", 0); err == nil {
		t.Error("First with ttl 0 succeeded; it would never expire")
	}
}

// TestReopen checks persistence across a restart: a new Store on the same
// server and prefix sees everything the old one wrote.
func TestReopen(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	u := create(t, s, "payments", t0, time.Hour, bot.Scheduled)
	if _, _, err := ack1(ctx, s, u.ID, bot.Ack{Scope: bot.ScopeBrief, Who: "bob", Via: "slack:U1", At: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceJobs(ctx, u.ID, 0, []bot.Job{{ID: "window_open", Kind: bot.JobWindowOpen, Due: t0}}, epoch); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	r := reopen(t, s.opts)
	got, err := r.Get(ctx, u.ID)
	if err != nil || mustJSON(t, got) != mustJSON(t, u) {
		t.Fatalf("Get after reopen = %+v, %v", got, err)
	}
	if acks, err := r.Acks(ctx, u.ID); err != nil || len(acks) != 1 || acks[0].Via != "slack:U1" {
		t.Errorf("Acks after reopen = %+v, %v", acks, err)
	}
	if log, err := r.Log(ctx, u.ID); err != nil || len(log) != 2 {
		t.Errorf("Log after reopen = %+v, %v", log, err)
	}
	if us, err := r.List(ctx, bot.Filter{States: []bot.State{bot.Scheduled}}); err != nil || len(us) != 1 {
		t.Errorf("List after reopen = %v, %v", us, err)
	}
	if jobs, err := r.Claim(ctx, t0, time.Minute, 10); err != nil || len(jobs) != 1 {
		t.Errorf("Claim after reopen = %v, %v", jobs, err)
	}
	if id, err := r.NextID(ctx); err != nil || id != u.ID+1 {
		t.Errorf("NextID after reopen = %d, %v", id, err)
	}
}

// ack1 records one acknowledgment as a press of its own, with the decision
// and event the core would compose, and returns the one that stands and
// whether a was it.
func ack1(ctx context.Context, s *Store, id int, a bot.Ack) (bot.Ack, bool, error) {
	res, err := s.Ack(ctx, id, bot.AckWrite{Scope: a.Scope, Entries: []bot.AckEntryWrite{{
		Ack:      a,
		Decision: bot.Decision{At: a.At, Actor: a.Who, Action: bot.ActionAcknowledged, Scope: a.Scope, Via: a.Via},
		Event:    bot.Event{ID: fmt.Sprintf("ev-%d-%s-%s-%d", id, a.Scope, a.Who, a.At.UnixNano()), Type: bot.EventAcknowledged, At: a.At, Actor: a.Who},
	}}})
	switch {
	case err != nil:
		return bot.Ack{}, false, err
	case res.Refused:
		return bot.Ack{}, false, fmt.Errorf("the upgrade is %s", res.State)
	}
	return res.Standing[0], res.First[0], nil
}

// A press's event is written with the press, under the upgrade, and
// reaches the shared stream exactly once however often it is relayed: also
// when a relay died after appending and before moving its cursor.
func TestAckEventsAreRelayedExactlyOnce(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	u := create(t, s, "payments", t0, time.Hour, bot.Scheduled)
	for _, who := range []string{"bob", "carol", "dave"} {
		if _, first, err := ack1(ctx, s, u.ID, bot.Ack{Scope: bot.ScopeBrief, Who: who, At: t0}); err != nil || !first {
			t.Fatal(first, err)
		}
	}
	shared := func() []string {
		msgs, err := s.client.XRange(ctx, s.eventsKey(), "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range msgs {
			ids = append(ids, m.Values["id"].(string))
		}
		return ids
	}
	if got := shared(); len(got) != 0 {
		t.Fatalf("events in the shared stream before any relay: %v", got)
	}
	if n, err := s.RelayEvents(ctx, u.ID); err != nil || n != 3 {
		t.Fatalf("RelayEvents = %d, %v; want 3", n, err)
	}
	want := shared()
	if len(want) != 3 || !strings.Contains(want[0], "bob") || !strings.Contains(want[2], "dave") {
		t.Fatalf("shared stream = %v; want the three presses in order", want)
	}
	if n, _ := s.RelayEvents(ctx, u.ID); n != 0 {
		t.Fatalf("a second relay moved %d events", n)
	}
	// A relay that appended but died before moving the cursor: the next one
	// finds the events there already.
	if err := s.client.HDel(ctx, s.upgKey(u.ID), "relayed").Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.client.XAdd(ctx, &redis.XAddArgs{Stream: s.outboxKey(u.ID), Values: []any{"id", "late", "type", bot.EventAcknowledged, "event", "{}"}}).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RelayEvents(ctx, u.ID); err != nil || n != 1 {
		t.Fatalf("relay after a lost cursor = %d, %v; want only the new event", n, err)
	}
	if got := shared(); !slices.Equal(got, append(want, "late")) {
		t.Fatalf("shared stream = %v", got)
	}
	if n, _ := s.client.XLen(ctx, s.outboxKey(u.ID)).Result(); n > 1 {
		t.Errorf("the outbox keeps %d relayed events", n)
	}
}

// The keys a press writes are the upgrade's keys (made in place there).
func TestAckWritesTheUpgradesKeys(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	if err := s.Create(ctx, testUpgrade(3, "payments", t0.Add(48*time.Hour), time.Hour), bot.Decision{Action: bot.ActionScheduled}); err != nil {
		t.Fatal(err)
	}
	e := bot.AckEntryWrite{Ack: bot.Ack{Scope: bot.ScopeBrief, Who: "alice", At: t0}, Decision: bot.Decision{At: t0, Action: bot.ActionAcknowledged},
		Event: bot.Event{ID: "ev-keys", Type: bot.EventAcknowledged, At: t0}}
	if _, err := s.Ack(ctx, 3, bot.AckWrite{Scope: bot.ScopeBrief, Delivery: "slack:trig-keys", Entries: []bot.AckEntryWrite{e}}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{s.acksKey(3), s.logKey(3), s.outboxKey(3), s.onceUpgKey(3, "slack:trig-keys")} {
		if n, err := s.client.Exists(ctx, key).Result(); err != nil || n != 1 {
			t.Errorf("%s: exists %d, %v", key, n, err)
		}
	}
}

// An upgrade written before the state had a field of its own is checked
// by the state in its JSON: acknowledged while scheduled, refused once
// completed; a missing one is not found.
func TestAckReadsTheStateOfOlderRecords(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	open, done := create(t, s, "payments", t0, time.Hour, bot.Scheduled), create(t, s, "ledger", t0, time.Hour, bot.Completed)
	for _, u := range []*bot.Upgrade{open, done} {
		if err := s.client.HDel(ctx, s.upgKey(u.ID), "state").Err(); err != nil {
			t.Fatal(err)
		}
	}
	if _, first, err := ack1(ctx, s, open.ID, bot.Ack{Scope: bot.ScopeBrief, Who: "bob", At: t0}); err != nil || !first {
		t.Fatalf("ack of a scheduled upgrade without a state field: first %v, %v", first, err)
	}
	res, err := s.Ack(ctx, done.ID, bot.AckWrite{Scope: bot.ScopeBrief, Entries: []bot.AckEntryWrite{{Ack: bot.Ack{Scope: bot.ScopeBrief, Who: "bob", At: t0}}}})
	if err != nil || !res.Refused || res.State != bot.Completed {
		t.Fatalf("ack of a completed upgrade without a state field: %+v, %v", res, err)
	}
	if _, err := s.Ack(ctx, 9999, bot.AckWrite{Scope: bot.ScopeBrief, Entries: []bot.AckEntryWrite{{Ack: bot.Ack{Scope: bot.ScopeBrief, Who: "bob", At: t0}}}}); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("ack of a missing upgrade: %v", err)
	}
}

// TestReconcileIndexesWhatAWriterLeftHalfDone: a writer created an
// upgrade and died before its index step. A list (a read) neither sees it
// nor repairs it; the reconciler has the store tidy itself first, so it
// finds the upgrade and plans its jobs, and lists see it from then on.
func TestReconcileIndexesWhatAWriterLeftHalfDone(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	u := create(t, s, "payments", t0.Add(48*time.Hour), time.Hour, bot.Scheduled)
	id := strconv.Itoa(u.ID)
	for _, k := range []string{"start", "end", "active"} {
		s.client.ZRem(ctx, s.idxKey(k), id)
	}
	s.client.HDel(ctx, s.idxKey("rev"), id)
	s.client.ZAdd(ctx, s.idxKey("pending"), redis.Z{Score: float64(time.Now().Add(-time.Hour).UnixMilli()), Member: id + "/1"})

	if got, err := s.List(ctx, bot.Filter{}); err != nil || len(got) != 0 {
		t.Fatalf("List = %v, %v; want nothing yet (the index step never ran)", got, err)
	}
	cfg := bot.Config{
		People:   []bot.Person{{Name: "alice", IDs: []string{"slack:U0ALICE"}}},
		Services: []bot.Service{{Name: "payments", Owners: []string{"alice"}, Channels: []string{"slack:C1"}}},
	}
	core := bot.New(bot.Options{Config: cfg, Store: s, Queue: s, Messenger: bot.Router{"slack": &bottest.Recorder{}},
		Now: func() time.Time { return t0 }, Recover: -1})
	n, err := core.Scheduler().Reconcile(ctx, true)
	if err != nil || n != 1 {
		t.Fatalf("Reconcile = %d, %v; want the upgrade its writer left unindexed re-planned", n, err)
	}
	if _, ok, err := s.NextDue(ctx); err != nil || !ok {
		t.Fatalf("NextDue = %v, %v; want its jobs planned", ok, err)
	}
	if got, err := s.List(ctx, bot.Filter{States: []bot.State{bot.Scheduled}}); err != nil || len(got) != 1 || got[0].ID != u.ID {
		t.Fatalf("List after reconciling = %v, %v; want upgrade %d", got, err, u.ID)
	}
}
