package bot_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
)

// hungStore is a store that, once hung, answers no call: each waits until
// its caller's deadline and fails with it, as the Redis store does when a
// Redis that takes connections and never answers (stopped, swapping) holds
// a call until its caller's time runs out. The store cannot tell whose
// deadline that was, so its error is not marked as unavailable. A call
// whose caller would wait longer than limit (or forever) is not waited on:
// it fails at once and is counted (tooLong).
type hungStore struct {
	*bottest.MemStore
	limit   time.Duration
	called  func() // when set, called as each call starts to wait
	hung    atomic.Bool
	mu      sync.Mutex
	calls   []hungCall
	tooLong int
}

// hungCall is one call the hung store got: when, and until when its caller waited.
type hungCall struct {
	what     string
	at       time.Time
	deadline time.Time
}

func (s *hungStore) wait(ctx context.Context, what string) error {
	at := time.Now()
	deadline, ok := ctx.Deadline()
	s.mu.Lock()
	if !ok || deadline.Sub(at) > s.limit {
		s.tooLong++
		s.mu.Unlock()
		return fmt.Errorf("store: %s: the caller would wait %v", what, deadline.Sub(at))
	}
	s.calls = append(s.calls, hungCall{what: what, at: at, deadline: deadline})
	s.mu.Unlock()
	if s.called != nil {
		s.called()
	}
	<-ctx.Done()
	return fmt.Errorf("store: %s: read tcp 127.0.0.1:6379: i/o timeout: %w", what, ctx.Err())
}

// took returns and forgets the calls so far.
func (s *hungStore) took() ([]hungCall, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	calls, n := s.calls, s.tooLong
	s.calls, s.tooLong = nil, 0
	return calls, n
}

func (s *hungStore) NextID(ctx context.Context) (int, error) {
	if s.hung.Load() {
		return 0, s.wait(ctx, "NextID")
	}
	return s.MemStore.NextID(ctx)
}

func (s *hungStore) Create(ctx context.Context, u *bot.Upgrade, d bot.Decision) error {
	if s.hung.Load() {
		return s.wait(ctx, "Create")
	}
	return s.MemStore.Create(ctx, u, d)
}

func (s *hungStore) Get(ctx context.Context, id int) (*bot.Upgrade, error) {
	if s.hung.Load() {
		return nil, s.wait(ctx, "Get")
	}
	return s.MemStore.Get(ctx, id)
}

func (s *hungStore) Update(ctx context.Context, u *bot.Upgrade, d bot.Decision) error {
	if s.hung.Load() {
		return s.wait(ctx, "Update")
	}
	return s.MemStore.Update(ctx, u, d)
}

func (s *hungStore) List(ctx context.Context, f bot.Filter) ([]*bot.Upgrade, error) {
	if s.hung.Load() {
		return nil, s.wait(ctx, "List")
	}
	return s.MemStore.List(ctx, f)
}

func (s *hungStore) Ack(ctx context.Context, id int, w bot.AckWrite) (bot.AckResult, error) {
	if s.hung.Load() {
		return bot.AckResult{}, s.wait(ctx, "Ack")
	}
	return s.MemStore.Ack(ctx, id, w)
}

func (s *hungStore) Acks(ctx context.Context, id int) ([]bot.Ack, error) {
	if s.hung.Load() {
		return nil, s.wait(ctx, "Acks")
	}
	return s.MemStore.Acks(ctx, id)
}

func (s *hungStore) Log(ctx context.Context, id int) ([]bot.Decision, error) {
	if s.hung.Load() {
		return nil, s.wait(ctx, "Log")
	}
	return s.MemStore.Log(ctx, id)
}

func (s *hungStore) Version(ctx context.Context, id int) (int, int, error) {
	if s.hung.Load() {
		return 0, 0, s.wait(ctx, "Version")
	}
	return s.MemStore.Version(ctx, id)
}

// While the store hangs, every command and press is told that the store
// could not be reached, after one budget (Options.CommandTimeout) for all
// of its reads and writes together: show, which reads the upgrade's
// version, then the upgrade and its acknowledgments, no later than a
// list. The adapters give a command's work two minutes (it outlives the
// platform's 3 s); the store's own retries and each read's timeout used to
// take what they liked of that: a show took 30 s.
func TestEveryCommandGivesUpOnAHungStoreAfterOneBudget(t *testing.T) {
	const budget = 100 * time.Millisecond
	st := &hungStore{MemStore: bottest.NewMemStore(), limit: budget}
	b := bot.New(bot.Options{Config: testConfig(), Store: st, Messenger: bot.Router{"test": &bottest.Recorder{}},
		Now: func() time.Time { return t0 }, RefreshIntervalSet: true, CommandTimeout: budget})
	if m := b.Handle(context.Background(), who("alice"), schedulePayments); m.Kind == bot.KindError {
		t.Fatal(lines(m))
	}
	b.Flush()
	st.hung.Store(true)

	// The work context an adapter gives a command: far longer than the budget.
	work := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 2*time.Minute)
	}
	check := func(what string, m bot.Message) {
		t.Helper()
		calls, tooLong := st.took()
		if out := lines(m); m.Kind != bot.KindError || !strings.Contains(out, "could not reach its store just now") {
			t.Errorf("%s while the store hangs: %s", what, out)
		}
		if tooLong > 0 {
			t.Errorf("%s: %d calls to the store would have waited longer than the command's %v", what, tooLong, budget)
		}
		if len(calls) == 0 {
			t.Fatalf("%s asked the store nothing", what)
		}
		for _, c := range calls[1:] {
			if !c.deadline.Equal(calls[0].deadline) {
				t.Errorf("%s: %s waited until %v, %s until %v: each call had time of its own, not the command's", what, calls[0].what, calls[0].deadline, c.what, c.deadline)
			}
		}
	}
	for _, text := range []string{"show UPG-1", "pending UPG-1", "log UPG-1", "list", "stats", "ack UPG-1", "start UPG-1", "cancel UPG-1", schedulePayments} {
		ctx, cancel := work()
		m := b.Handle(ctx, who("alice"), text)
		cancel()
		check(text, m)
	}
	ctx, cancel := work()
	m := b.Press(ctx, bot.ButtonPress{Actor: bot.Actor{ID: "test:UBOB"}, Button: bot.AckButton{UpgradeID: "UPG-1", Scope: bot.ScopeBrief}, Delivery: "test:d1"})
	cancel()
	check("a press", m)
}

// Without Options.CommandTimeout a command has DefaultCommandTimeout, 5 s.
func TestACommandHasFiveSecondsByDefault(t *testing.T) {
	if bot.DefaultCommandTimeout != 5*time.Second {
		t.Fatalf("DefaultCommandTimeout = %v; docs/redis.md and docs/deploy.md say 5 s", bot.DefaultCommandTimeout)
	}
	st := &hungStore{MemStore: bottest.NewMemStore(), limit: bot.DefaultCommandTimeout}
	b := bot.New(bot.Options{Config: testConfig(), Store: st, Messenger: bot.Router{"test": &bottest.Recorder{}},
		Now: func() time.Time { return t0 }, RefreshIntervalSet: true})
	st.hung.Store(true)
	// Waiting 5 s is not needed: the call ends as soon as it is seen.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st.called = cancel
	b.Handle(ctx, who("bob"), "list")
	if calls, tooLong := st.took(); len(calls) != 1 || tooLong != 0 {
		t.Fatalf("list with the default timeout: calls %v, %d waiting longer than %v", calls, tooLong, bot.DefaultCommandTimeout)
	}
}
