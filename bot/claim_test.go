package bot_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
)

// claimOnce is a Once with Forget (as the Redis store), claims never expire
// within the test; failNext makes the next First fail (a Redis timeout).
type claimOnce struct {
	mu       sync.Mutex
	seen     map[string]bool
	failNext atomic.Bool
	forgot   []string
}

func (o *claimOnce) First(_ context.Context, key string, _ time.Duration) (bool, error) {
	if len(key) > 5 && key[:5] == "root:" && o.failNext.CompareAndSwap(true, false) {
		return false, errors.New("redis: i/o timeout")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen == nil {
		o.seen = map[string]bool{}
	}
	if o.seen[key] {
		return false, nil
	}
	o.seen[key] = true
	return true, nil
}

func (o *claimOnce) Forget(_ context.Context, key string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.seen, key)
	o.forgot = append(o.forgot, key)
	return nil
}

// panicky panics on its first Post.
type panicky struct {
	bot.Messenger
	n atomic.Int32
}

func (p *panicky) Post(ctx context.Context, ch string, m bot.Message) (bot.MessageRef, error) {
	if p.n.Add(1) == 1 {
		panic("adapter bug")
	}
	return p.Messenger.Post(ctx, ch, m)
}

// A root post that panicked kept its claim (review): the next notice of
// the upgrade waited in claimRoot until the claim expired (2 min). The
// claim is given back now.
func TestARootPostThatPanicsGivesItsClaimBack(t *testing.T) {
	rec := &bottest.Recorder{}
	once := &claimOnce{}
	b := bot.New(bot.Options{Config: testConfig(), Store: bottest.NewMemStore(), Once: once,
		Messenger: bot.Router{"test": &panicky{Messenger: rec}, "other": rec},
		Now:       func() time.Time { return t0 }, RefreshIntervalSet: true, RootRetry: -1})
	b.Handle(context.Background(), who("alice"), schedulePayments)
	b.Flush()
	b.Handle(context.Background(), who("alice"), "extend 1 30m")
	done := make(chan struct{})
	go func() { b.Flush(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("the extend notice is still waiting for a root claim nobody holds (posts %d)", len(rec.Ops("post")))
	}
}

// A replica whose First failed posts without the claim; when that post
// fails it must not give back the claim another replica holds (review: it
// did, and a third try posted a second root).
func TestAPostWithoutTheClaimDoesNotGiveBackAnothers(t *testing.T) {
	rec := &bottest.Recorder{}
	once := &claimOnce{}
	once.seen = map[string]bool{"root:1:test:#payments": true} // replica B is posting it
	st := bottest.NewMemStore()
	b := bot.New(bot.Options{Config: testConfig(), Store: st, Once: once, Messenger: bot.Router{"test": rec, "other": rec},
		Now: func() time.Time { return t0 }, RefreshIntervalSet: true, RootRetry: -1})
	once.failNext.Store(true)
	rec.Fail("test:#payments", errBusy)
	// dedupe of the command uses First too: make only the root's First fail
	b.Handle(context.Background(), who("alice"), schedulePayments)
	b.Flush()
	if len(once.forgot) > 0 {
		t.Fatalf("replica A never held the claim, yet gave back replica B's: forgot %v (a third try now posts a second root while B posts)", once.forgot)
	}
}
