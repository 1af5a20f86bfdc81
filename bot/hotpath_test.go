package bot_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
)

// countingStore counts the store calls made on behalf of one request: those
// whose context carries the request's mark (background work does not).
type countingStore struct {
	*bottest.MemStore
	mu      sync.Mutex
	calls   []string
	once    memOnce
	onceErr error
}

type markKey struct{}

func (c *countingStore) count(ctx context.Context, name string) {
	if ctx.Value(markKey{}) == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, name)
}

func (c *countingStore) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = nil
	return out
}

func (c *countingStore) Get(ctx context.Context, id int) (*bot.Upgrade, error) {
	c.count(ctx, "Get")
	return c.MemStore.Get(ctx, id)
}

func (c *countingStore) Version(ctx context.Context, id int) (int, int, error) {
	c.count(ctx, "Version")
	return c.MemStore.Version(ctx, id)
}

func (c *countingStore) Acks(ctx context.Context, id int) ([]bot.Ack, error) {
	c.count(ctx, "Acks")
	return c.MemStore.Acks(ctx, id)
}

func (c *countingStore) Ack(ctx context.Context, id int, w bot.AckWrite) (bot.AckResult, error) {
	c.count(ctx, "Ack")
	return c.MemStore.Ack(ctx, id, w)
}

func (c *countingStore) Publish(ctx context.Context, id int, e bot.Event) error {
	c.count(ctx, "Publish")
	return c.MemStore.Publish(ctx, id, e)
}

// The calls a read must make at most once, and the writes it must not make.
func (c *countingStore) List(ctx context.Context, f bot.Filter) ([]*bot.Upgrade, error) {
	c.count(ctx, "List")
	return c.MemStore.List(ctx, f)
}

func (c *countingStore) Create(ctx context.Context, u *bot.Upgrade, d bot.Decision) error {
	c.count(ctx, "Create")
	return c.MemStore.Create(ctx, u, d)
}

func (c *countingStore) Update(ctx context.Context, u *bot.Upgrade, d bot.Decision) error {
	c.count(ctx, "Update")
	return c.MemStore.Update(ctx, u, d)
}

func (c *countingStore) Freezes(ctx context.Context) ([]bot.Freeze, error) {
	c.count(ctx, "Freezes")
	return c.MemStore.Freezes(ctx)
}

func (c *countingStore) SaveFreeze(ctx context.Context, name string, f, prev *bot.Freeze) error {
	c.count(ctx, "SaveFreeze")
	return c.MemStore.SaveFreeze(ctx, name, f, prev)
}

func (c *countingStore) ListSeries(ctx context.Context) ([]*bot.Series, error) {
	c.count(ctx, "ListSeries")
	return c.MemStore.ListSeries(ctx)
}

func (c *countingStore) SaveSeries(ctx context.Context, s *bot.Series) error {
	c.count(ctx, "SaveSeries")
	return c.MemStore.SaveSeries(ctx, s)
}

func (c *countingStore) ClaimOccurrence(ctx context.Context, series int, date string, upgrade int) (int, bool, error) {
	c.count(ctx, "ClaimOccurrence")
	return c.MemStore.ClaimOccurrence(ctx, series, date, upgrade)
}

func (c *countingStore) ClaimVersion(ctx context.Context, service, version, date string, series int) (int, error) {
	c.count(ctx, "ClaimVersion")
	return c.MemStore.ClaimVersion(ctx, service, version, date, series)
}

// memOnce is the store's Once in memory.
type memOnce struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (o *memOnce) first(key string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen == nil {
		o.seen = map[string]bool{}
	}
	if o.seen[key] {
		return false
	}
	o.seen[key] = true
	return true
}

func countingFixture(t *testing.T) (*bot.Bot, *countingStore, context.Context) {
	t.Helper()
	st := &countingStoreWithOnce{countingStore: countingStore{MemStore: bottest.NewMemStore()}}
	b := bot.New(bot.Options{Config: testConfig(), Store: st, Once: st, Messenger: bot.Router{"test": &bottest.Recorder{}},
		Now: func() time.Time { return t0 }, RefreshIntervalSet: true})
	t.Cleanup(b.Flush)
	return b, &st.countingStore, context.WithValue(context.Background(), markKey{}, true)
}

// countingStoreWithOnce is a countingStore that is also the bot's Once.
type countingStoreWithOnce struct {
	countingStore
}

func (c *countingStoreWithOnce) First(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	c.count(ctx, "First")
	if c.onceErr != nil {
		return false, c.onceErr
	}
	return c.once.first(key), nil
}

// A press on a button is one store round trip: what it needs of the upgrade
// never changes and is cached; the store checks the state, records the
// acknowledgment, its decision, its event and the delivery in one step.
func TestAPressIsOneStoreRoundTrip(t *testing.T) {
	b, st, ctx := countingFixture(t)
	b.Handle(context.Background(), who("alice"), schedulePayments)
	b.Flush()
	press := func(who, delivery string) bot.Message {
		return b.Press(ctx, bot.ButtonPress{Actor: bot.Actor{ID: "test:U" + strings.ToUpper(who)}, Button: bot.AckButton{UpgradeID: "UPG-1", Scope: "brief"}, Delivery: delivery})
	}
	press("bob", "d1") // the first press of this replica reads the upgrade once
	st.take()
	if m := press("carol", "d2"); !strings.Contains(lines(m), "Thanks!") {
		t.Fatal(lines(m))
	}
	if calls := st.take(); len(calls) != 1 || calls[0] != "Ack" {
		t.Fatalf("a press made the store calls %v; want one Ack", calls)
	}
	// Re-sent by the platform: answered with nothing, recorded once.
	if m := press("carol", "d2"); m.Kind != bot.KindDuplicate {
		t.Fatalf("a re-sent press: %s %s", m.Kind, lines(m))
	}
	if acks, _ := st.MemStore.Acks(context.Background(), 1); len(acks) != 2 {
		t.Fatalf("%d acks after a re-sent press, want 2", len(acks))
	}
	if n := len(st.MemStore.EventTypes()); n != 3 { // scheduled, bob, carol
		t.Fatalf("%d events, want 3", n)
	}
}

// Reads write nothing: a re-sent show is recognised in memory. A re-sent
// change is recognised by the store (shared by replicas); when the store
// cannot tell, the command runs rather than being lost.
func TestReSentCommandsChangeNothingAndReadsWriteNothing(t *testing.T) {
	b, st, ctx := countingFixture(t)
	inv := who("alice")
	inv.Delivery = "test:trigger-1"
	if m := b.Handle(ctx, inv, schedulePayments); m.Kind != bot.KindReply {
		t.Fatal(lines(m))
	}
	if m := b.Handle(ctx, inv, schedulePayments); m.Kind != bot.KindDuplicate {
		t.Fatalf("a re-sent schedule: %s %s", m.Kind, lines(m))
	}
	if us, _ := st.MemStore.List(context.Background(), bot.Filter{}); len(us) != 1 {
		t.Fatalf("%d upgrades after a re-sent schedule", len(us))
	}
	b.Flush() // the pre-brief's post (it claims the post with First) is done
	st.take()
	inv.Delivery = "test:trigger-2"
	for range 2 {
		b.Handle(ctx, inv, "show 1")
	}
	for _, c := range st.take() {
		if c == "First" || c == "Ack" || c == "Publish" {
			t.Fatalf("show wrote to the store: %v", c)
		}
	}
	if m := b.Handle(ctx, inv, "show 1"); m.Kind != bot.KindDuplicate {
		t.Fatalf("a re-sent show: %s", m.Kind)
	}
	b.Flush()
	st.onceErr = errors.New("redis: connection refused")
	inv.Delivery = "test:trigger-3"
	if m := b.Handle(ctx, inv, "start 1"); m.Kind != bot.KindReply {
		t.Fatalf("with de-duplication down the command must run: %s", lines(m))
	}
}

// show of an upgrade that did not change is served from memory after one
// cheap version check; any change, an acknowledgment included, shows.
func TestShowOfAnUnchangedUpgradeIsServedFromMemory(t *testing.T) {
	b, st, ctx := countingFixture(t)
	b.Handle(context.Background(), who("alice"), schedulePayments)
	b.Flush()
	b.Handle(ctx, who("bob"), "show 1")
	st.take()
	if m := lines(b.Handle(ctx, who("bob"), "show 1")); !strings.Contains(m, "Acknowledged 0/3") {
		t.Fatal(m)
	}
	if calls := st.take(); len(calls) != 1 || calls[0] != "Version" {
		t.Fatalf("show of an unchanged upgrade made the store calls %v; want one Version", calls)
	}
	// The same answer, stamped so that adapters keep its rendering.
	first, again := b.Handle(ctx, who("bob"), "show 1"), b.Handle(ctx, who("dave"), "show 1")
	if first.Stamp == "" || again.Stamp != first.Stamp || lines(again) != lines(first) {
		t.Fatalf("two shows of an unchanged upgrade: stamps %q and %q", first.Stamp, again.Stamp)
	}
	// A reader appending to the shared answer does not change the next one.
	_ = append(first.Lines, bot.T("scribble"))
	pressAs(b, context.Background(), who("carol").Actor, "UPG-1", "brief")
	after := b.Handle(ctx, who("bob"), "show 1")
	if m := lines(after); !strings.Contains(m, "Acknowledged 1/3") || !strings.Contains(m, "brief: @carol") || strings.Contains(m, "scribble") {
		t.Fatalf("show after a press:\n%s", m)
	}
	if after.Stamp == first.Stamp {
		t.Fatalf("show after a press has the stamp of the one before: %q", after.Stamp)
	}
	b.Handle(context.Background(), who("alice"), "start 1")
	if m := b.Handle(ctx, who("bob"), "show 1"); m.Stamp == after.Stamp || !strings.Contains(lines(m), "in progress") {
		t.Fatalf("show after start (stamp %q, was %q):\n%s", m.Stamp, after.Stamp, lines(m))
	}
}

// A store that cannot tell versions gets no stamped answers: nothing is
// kept that could not be checked.
func TestShowWithoutVersionsIsNotStamped(t *testing.T) {
	b := bot.New(bot.Options{Config: testConfig(), Store: noVersions{bottest.NewMemStore()}, Messenger: bot.Router{"test": &bottest.Recorder{}},
		Now: func() time.Time { return t0 }, RefreshIntervalSet: true})
	t.Cleanup(b.Flush)
	b.Handle(context.Background(), who("alice"), schedulePayments)
	b.Flush()
	for range 2 {
		if m := b.Handle(context.Background(), who("bob"), "show 1"); m.Stamp != "" || !strings.Contains(lines(m), "Acknowledged 0/3") {
			t.Fatalf("show without versions (stamp %q):\n%s", m.Stamp, lines(m))
		}
	}
}

// noVersions is a store that does not tell versions.
type noVersions struct{ bot.Store }

// show lists at most 50 acknowledgments of a scope and counts the rest.
func TestShowOfThousandsOfAcknowledgmentsStaysShort(t *testing.T) {
	f := newFixture(t)
	f.ok(t, "alice", schedulePayments)
	for i := range 120 {
		pressAs(f.b, context.Background(), bot.Actor{ID: "test:UX" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + string(rune('a'+i/26))}, "UPG-1", "brief")
	}
	show := lines(f.ok(t, "bob", "show 1"))
	if n := strings.Count(show, "• brief:"); n != 50 || !strings.Contains(show, "• … and 70 more brief acknowledgments") {
		t.Fatalf("show lists %d acknowledgments:\n%s", n, show)
	}
}

// Allocation budget of show of an unchanged upgrade: the version check, the
// answer kept from the last show; nothing built again.
func TestShowOfAnUnchangedUpgradeAllocationBudget(t *testing.T) {
	b, _, ctx := countingFixture(t)
	b.Handle(context.Background(), who("alice"), schedulePayments)
	b.Flush()
	inv := who("bob")
	b.Handle(ctx, inv, "show 1")
	n := testing.AllocsPerRun(100, func() { b.Handle(ctx, inv, "show 1") })
	if n > 12 {
		t.Errorf("show of an unchanged upgrade allocates %.0f times; the budget is 12", n)
	}
}

// pressStore has one scheduled upgrade and records every acknowledgment
// as the first, allocating nothing itself: what a press allocates with it
// is the core's.
type pressStore struct {
	bot.Store // anything else a press must not call
	u         *bot.Upgrade
	res       bot.AckResult
}

func (s *pressStore) Get(context.Context, int) (*bot.Upgrade, error) { return s.u, nil }
func (s *pressStore) Acks(context.Context, int) ([]bot.Ack, error)   { return nil, nil }
func (s *pressStore) Publish(context.Context, int, bot.Event) error  { return nil }
func (s *pressStore) Ack(context.Context, int, bot.AckWrite) (bot.AckResult, error) {
	return s.res, nil
}

// Allocation budget of the core's part of a press (its request id, the
// acknowledgment with its decision and event, the answer, the
// acknowledgment cache, the root refresh it asks for, the log line at
// info), so that none creeps back: 23 when the budget was set, 14 with
// the cuts that came with it, 18 since a press has a deadline of its own
// (Options.CommandTimeout: its context and timer, 4).
func TestPressAllocationBudget(t *testing.T) {
	if raceEnabled {
		t.Skip("counted without the race detector")
	}
	st := &pressStore{u: &bot.Upgrade{ID: 1, Service: "payments", Version: "v2.4.0", State: bot.Scheduled, Audience: []string{"bob", "carol"}},
		res: bot.AckResult{Standing: []bot.Ack{{}}, First: []bool{true}}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// The root refresh the first press queues waits out its interval (1s)
	// while the presses are counted; not flushed, it ends on its own.
	b := bot.New(bot.Options{Config: testConfig(), Store: st, Messenger: bot.Router{}, Now: func() time.Time { return t0 }, Logger: log})
	ctx := context.Background()
	press := bot.ButtonPress{Actor: bot.Actor{ID: "test:UBOB"}, Button: bot.AckButton{UpgradeID: "UPG-1", Scope: bot.ScopeBrief}, Delivery: "test:d"}
	if m := b.Press(ctx, press); !strings.Contains(lines(m), "Thanks") {
		t.Fatal(lines(m))
	}
	const budget = 18
	if n := testing.AllocsPerRun(200, func() { b.Press(ctx, press) }); n > budget {
		t.Errorf("a press allocates %.1f times in the core; the budget is %d", n, budget)
	}
}

// The thanks for a press is built once per upgrade and scope and shared,
// stamped: the same for everyone, and a reader appending to it does not
// change the next one.
func TestThanksForAPressIsSharedAndStamped(t *testing.T) {
	b, _, ctx := countingFixture(t)
	b.Handle(context.Background(), who("alice"), schedulePayments)
	b.Flush()
	first := pressAs(b, ctx, who("bob").Actor, "UPG-1", "brief")
	_ = append(first.Lines, bot.T("scribble"))
	again := pressAs(b, ctx, who("carol").Actor, "UPG-1", "brief")
	if first.Stamp == "" || again.Stamp != first.Stamp || lines(again) != lines(first) || !strings.Contains(lines(again), "Thanks! You acknowledged") {
		t.Fatalf("two thanks: stamps %q and %q\n%s\n%s", first.Stamp, again.Stamp, lines(first), lines(again))
	}
	if strings.Contains(lines(again), "scribble") {
		t.Fatalf("a reader's append changed the next thanks:\n%s", lines(again))
	}
}

// list says of a series whose next occurrence falls in a freeze what the
// reply to scheduling it said, and stays a read: the upgrades, the series
// and the freezes, each read once however many series there are (the
// freezes not at all when no series is listed), and nothing written.
func TestListSaysASeriesNextOccurrenceFallsInAFreezeAndWritesNothing(t *testing.T) {
	b, st, ctx := countingFixture(t)
	bg := context.Background()
	for _, c := range []struct{ who, cmd string }{
		{"dave", "freeze add patch-week from 2026-11-30 00:00 UTC for 3d services ledger reason vendor patches"},
		{"carol", "schedule ledger v2 every tue 02:45 UTC for 1h"},
		{"bob", "schedule checkout v3 every thu 22:00 UTC for 1h"},
		{"alice", "schedule payments v4 every tue 03:00 UTC for 1h"},
	} {
		if m := b.Handle(bg, who(c.who), c.cmd); m.Kind != bot.KindReply {
			t.Fatalf("%s: %s", c.cmd, lines(m))
		}
	}
	b.Flush()
	st.take()
	const frozen = "It falls in the freeze patch-week: unless the freeze is lifted before it is created, it will be skipped, and the service's channels are told."
	m := lines(b.Handle(ctx, who("bob"), "list"))
	has(t, "list", m+"\n", // each series line ends there
		"🔁 SER-1 ledger v2 every Tue 02:45 UTC for 1h · next occurrence 2026-12-01 02:45 UTC, created 2026-11-23 02:45 UTC. "+frozen,
		"🔁 SER-2 checkout v3 every Thu 22:00 UTC for 1h · next occurrence 2026-12-03 22:00 UTC, created 2026-11-25 22:00 UTC\n",
		"🔁 SER-3 payments v4 every Tue 03:00 UTC for 1h · next occurrence 2026-12-01 03:00 UTC, created 2026-11-23 03:00 UTC\n")
	if n := strings.Count(m, "falls in the freeze"); n != 1 {
		t.Fatalf("list notes %d frozen occurrences, want 1 (the freeze holds for ledger only):\n%s", n, m)
	}
	if calls := st.take(); !slices.Equal(calls, []string{"List", "ListSeries", "Freezes"}) {
		t.Fatalf("list made the store calls %v; want List, ListSeries, Freezes", calls)
	}
	has(t, "list ledger", lines(b.Handle(ctx, who("bob"), "list ledger")), "🔁 SER-1 ledger v2", frozen)
	st.take()
	if m := lines(b.Handle(ctx, who("bob"), "list sandbox")); strings.Contains(m, "SER-") {
		t.Fatalf("list sandbox shows a series:\n%s", m)
	}
	if calls := st.take(); !slices.Equal(calls, []string{"List", "ListSeries"}) {
		t.Fatalf("list without series made the store calls %v; want List, ListSeries", calls)
	}
}
