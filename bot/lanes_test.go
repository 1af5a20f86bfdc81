package bot_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
)

// pairedPlatforms are two platforms: slow takes its n-th post (reply,
// edit) only once fast has taken its n-th, as a platform that answers a
// rate limit or hangs while the other one works. A bot that posts the
// platforms one after the other, slow first, waits for ever.
type pairedPlatforms struct {
	mu   sync.Mutex
	cond *sync.Cond
	fast map[string]int // ops done by the fast platform
	slow map[string]int // ops started by the slow platform
	open bool           // the test is over: let everything through
}

func newPairedPlatforms() *pairedPlatforms {
	p := &pairedPlatforms{fast: map[string]int{}, slow: map[string]int{}}
	p.cond = sync.NewCond(&p.mu)
	return p
}

func (p *pairedPlatforms) slowWaits(op string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.slow[op]++
	for !p.open && p.fast[op] < p.slow[op] {
		p.cond.Wait()
	}
}

func (p *pairedPlatforms) fastDid(op string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fast[op]++
	p.cond.Broadcast()
}

func (p *pairedPlatforms) letAllThrough() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.open = true
	p.cond.Broadcast()
}

type slowPlatform struct {
	bot.Messenger
	p *pairedPlatforms
}

func (s slowPlatform) Post(ctx context.Context, ch string, m bot.Message) (bot.MessageRef, error) {
	s.p.slowWaits("post")
	return s.Messenger.Post(ctx, ch, m)
}

func (s slowPlatform) Reply(ctx context.Context, root bot.MessageRef, m bot.Message) (bot.MessageRef, error) {
	s.p.slowWaits("reply")
	return s.Messenger.Reply(ctx, root, m)
}

func (s slowPlatform) Edit(ctx context.Context, ref bot.MessageRef, m bot.Message) error {
	s.p.slowWaits("edit")
	return s.Messenger.Edit(ctx, ref, m)
}

type fastPlatform struct {
	bot.Messenger
	p *pairedPlatforms
}

func (f fastPlatform) Post(ctx context.Context, ch string, m bot.Message) (bot.MessageRef, error) {
	defer f.p.fastDid("post")
	return f.Messenger.Post(ctx, ch, m)
}

func (f fastPlatform) Reply(ctx context.Context, root bot.MessageRef, m bot.Message) (bot.MessageRef, error) {
	defer f.p.fastDid("reply")
	return f.Messenger.Reply(ctx, root, m)
}

func (f fastPlatform) Edit(ctx context.Context, ref bot.MessageRef, m bot.Message) error {
	defer f.p.fastDid("edit")
	return f.Messenger.Edit(ctx, ref, m)
}

// A platform that is slow to take a message (Slack's rate limit answered
// with Retry-After, a platform that hangs until its timeout) held back the
// root, the notices and the root's edits of every channel after its own,
// on other platforms too (audit: two Retry-After: 2 held the Discord root
// back 4 s). The platforms of one notice now go side by side: the other
// platform's message goes out while the slow one still waits.
func TestASlowPlatformDoesNotHoldBackTheOthers(t *testing.T) {
	cfg := paymentsOn("slow:#payments", "fast:#payments") // slow first
	rec := &bottest.Recorder{}
	p := newPairedPlatforms()
	b := bot.New(bot.Options{Config: cfg, Store: bottest.NewMemStore(), Once: &claimOnce{},
		Messenger: bot.Router{"slow": slowPlatform{rec, p}, "fast": fastPlatform{rec, p}},
		Now:       func() time.Time { return t0 }, RefreshIntervalSet: true, RootRetry: -1})
	t.Cleanup(func() { p.letAllThrough(); b.Flush() })

	flushed := func(what string) {
		t.Helper()
		done := make(chan struct{})
		go func() { b.Flush(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			p.mu.Lock()
			defer p.mu.Unlock()
			t.Fatalf("%s: the fast platform waited for the slow one (slow started %v, fast did %v)", what, p.slow, p.fast)
		}
	}
	b.Handle(context.Background(), who("alice"), schedulePayments)
	flushed("the roots")
	b.Handle(context.Background(), who("alice"), "extend 1 30m")
	flushed("the extend notice and its root refresh")

	// Both platforms got everything, in their own order.
	for _, ch := range []string{"slow:#payments", "fast:#payments"} {
		var ops []string
		for _, s := range rec.All() {
			if s.To == ch {
				ops = append(ops, s.Op)
			}
		}
		if len(ops) == 0 || ops[0] != "post" || !slices.Contains(ops, "reply") || !slices.Contains(ops, "edit") {
			t.Errorf("%s got %v, want its root posted, the notice replied and the root edited", ch, ops)
		}
	}
}

// A panic in a platform's adapter while the platforms of a notice went
// side by side was raised in a goroutine of its own, where nothing
// recovered it, and brought the process down (QA); in order, the outbox
// recovers it and logs it. It is raised again in the outbox's goroutine
// now, and the claim of the root is given back as before.
func TestAPanicOnOnePlatformDoesNotBringTheBotDown(t *testing.T) {
	cfg := paymentsOn("test:#payments", "other:#payments")
	rec := &bottest.Recorder{}
	once := &claimOnce{}
	b := bot.New(bot.Options{Config: cfg, Store: bottest.NewMemStore(), Once: once,
		Messenger: bot.Router{"test": &panicky{Messenger: rec}, "other": rec},
		Now:       func() time.Time { return t0 }, RefreshIntervalSet: true, RootRetry: -1})
	b.Handle(context.Background(), who("alice"), schedulePayments)
	b.Flush() // the process is still here
	if posts := rec.Ops("post"); len(posts) != 1 || posts[0].To != "other:#payments" {
		t.Errorf("posts %+v, want the other platform's root", posts)
	}
	once.mu.Lock()
	defer once.mu.Unlock()
	if !slices.Contains(once.forgot, "root:1:test:#payments") {
		t.Errorf("the claim of the root that panicked was not given back: %v", once.forgot)
	}
}

// savesSignalled is a store that says when an upgrade was saved.
type savesSignalled struct {
	*bottest.MemStore
	saved chan *bot.Upgrade
}

func (s savesSignalled) Update(ctx context.Context, u *bot.Upgrade, d bot.Decision) error {
	err := s.MemStore.Update(ctx, u, d)
	if err == nil {
		select {
		case s.saved <- u:
		default:
		}
	}
	return err
}

// A root posted on one platform was remembered only once every platform
// was done: while another platform held its root (a rate limit, an
// outage) for up to the task's 2 minutes, a replica that died left the
// posted root unknown, and the replica that recovered the notice posted it
// a second time (QA). Each root's thread is saved as soon as it is posted.
func TestARootIsRememberedWhileAnotherPlatformIsSlow(t *testing.T) {
	cfg := paymentsOn("slow:#payments", "fast:#payments")
	rec := &bottest.Recorder{}
	slow := &stuck{Messenger: rec, entered: make(chan struct{}, 1), release: make(chan struct{})}
	st := savesSignalled{MemStore: bottest.NewMemStore(), saved: make(chan *bot.Upgrade, 16)}
	b := bot.New(bot.Options{Config: cfg, Store: st, Once: &claimOnce{},
		Messenger: bot.Router{"slow": slow, "fast": rec},
		Now:       func() time.Time { return t0 }, RefreshIntervalSet: true, RootRetry: -1})
	t.Cleanup(func() { close(slow.release); b.Flush() })
	b.Handle(context.Background(), who("alice"), schedulePayments)
	<-slow.entered // the slow platform holds its root from now on
	for {
		select {
		case u := <-st.saved:
			if slices.ContainsFunc(u.Threads, func(r bot.MessageRef) bool { return r.Channel == "fast:#payments" }) {
				return // remembered while the slow platform still holds its root
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the fast platform's root is not saved while the slow platform holds its own")
		}
	}
}

// editsHeld holds the root edits, once hold is set, until release is
// closed; posts and replies go through.
type editsHeld struct {
	bot.Messenger
	hold    atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (e *editsHeld) Edit(ctx context.Context, ref bot.MessageRef, m bot.Message) error {
	if e.hold.Load() {
		select {
		case e.entered <- struct{}{}:
		default:
		}
		select {
		case <-e.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return e.Messenger.Edit(ctx, ref, m)
}

// A root refresh waited on the upgrade's queue of notices: while a
// platform was slow to take the edit (a Slack chat.update that hangs,
// tried 5 times, 84 s in QA), the next notice of the upgrade, a rollback
// alert included, waited for it on every platform (QA: a Discord alert
// 1m24s late). Refreshes have queues
// of their own now.
func TestANoticeDoesNotWaitForARootEdit(t *testing.T) {
	cfg := paymentsOn("slow:#payments", "fast:#payments")
	rec := &bottest.Recorder{}
	slow := &editsHeld{Messenger: rec, entered: make(chan struct{}, 1), release: make(chan struct{})}
	fast := &signalled{Messenger: rec, done: make(chan string, 64)}
	b := bot.New(bot.Options{Config: cfg, Store: bottest.NewMemStore(), Once: &claimOnce{},
		Messenger: bot.Router{"slow": slow, "fast": fast},
		Now:       func() time.Time { return t0 }, RefreshIntervalSet: true, RootRetry: -1})
	t.Cleanup(func() { close(slow.release); b.Flush() })
	b.Handle(context.Background(), who("alice"), schedulePayments)
	b.Flush()
	slow.hold.Store(true)
	if m := pressAs(b, context.Background(), bot.Actor{ID: "test:UALICE"}, "UPG-1", "brief"); !strings.Contains(lines(m), "Thanks") {
		t.Fatalf("press: %s", lines(m))
	}
	<-slow.entered // the refresh is stuck in the slow platform's edit
	for len(fast.done) > 0 {
		<-fast.done
	}
	if r := b.Handle(context.Background(), who("alice"), "extend 1 30m"); r.Kind == bot.KindError {
		t.Fatal(lines(r))
	}
	for {
		select {
		case op := <-fast.done:
			if op == "reply" {
				return // the notice reached the fast platform's thread
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the notice waited for the slow platform's root edit")
		}
	}
}

// signalled is a platform that says when it posted or replied.
type signalled struct {
	bot.Messenger
	done chan string
}

func (s *signalled) Post(ctx context.Context, ch string, m bot.Message) (bot.MessageRef, error) {
	ref, err := s.Messenger.Post(ctx, ch, m)
	s.done <- "post"
	return ref, err
}

func (s *signalled) Reply(ctx context.Context, root bot.MessageRef, m bot.Message) (bot.MessageRef, error) {
	ref, err := s.Messenger.Reply(ctx, root, m)
	s.done <- "reply"
	return ref, err
}

// The notices of no upgrade (a release out, a series' skipped occurrence)
// shared one queue: a platform slow to take one held back the next, of
// another service, on another platform (QA: ledger's "is out" 14.85 s
// late behind payments' on a hanging Slack). Each has a queue of its own.
func TestNoticesOfNoUpgradeDoNotWaitForEachOther(t *testing.T) {
	cfg := testConfig()
	for i := range cfg.Services {
		switch cfg.Services[i].Name {
		case "payments":
			cfg.Services[i].Channels, cfg.Services[i].Repo = []string{"slow:#payments"}, "acme/payments"
		case "ledger":
			cfg.Services[i].Channels, cfg.Services[i].Repo = []string{"fast:#ledger"}, "acme/ledger"
		}
	}
	rec := &bottest.Recorder{}
	slow := &stuck{Messenger: rec, entered: make(chan struct{}, 1), release: make(chan struct{})}
	fast := &signalled{Messenger: rec, done: make(chan string, 16)}
	b := bot.New(bot.Options{Config: cfg, Store: bottest.NewMemStore(), Messenger: bot.Router{"slow": slow, "fast": fast},
		Now: func() time.Time { return t0 }, RefreshIntervalSet: true, RootRetry: -1})
	t.Cleanup(func() { close(slow.release); b.Flush() })
	ctx := context.Background()
	if _, err := b.ReleasePublished(ctx, published("v2.5.0")); err != nil {
		t.Fatal(err)
	}
	<-slow.entered // payments' "is out" is stuck
	ledger := published("v1.1.0")
	ledger.Repo, ledger.URL = "acme/ledger", releasePage("acme/ledger", "v1.1.0")
	if _, err := b.ReleasePublished(ctx, ledger); err != nil {
		t.Fatal(err)
	}
	select {
	case <-fast.done:
	case <-time.After(20 * time.Second):
		t.Fatal("ledger's notice waited for payments' on another platform")
	}
}

// failingUpdates is a store whose next n saves fail as a Redis that does
// not answer.
type failingUpdates struct {
	*bottest.MemStore
	n atomic.Int32
}

func (s *failingUpdates) Update(ctx context.Context, u *bot.Upgrade, d bot.Decision) error {
	if s.n.Add(-1) >= 0 {
		return unreachable{}
	}
	return s.MemStore.Update(ctx, u, d)
}

// A root posted while Redis did not answer for longer than one save's
// 10 s lost its thread for good (QA: 30 s of kill -STOP): show listed no
// thread, the next notice posted nothing there. The save is tried again.
func TestARootPostedWhileTheStoreDoesNotAnswerKeepsItsThread(t *testing.T) {
	st := &failingUpdates{MemStore: bottest.NewMemStore()}
	// The root's post goes through; then the store stops answering for
	// three saves.
	ms := postThen{Messenger: &bottest.Recorder{}, then: func() { st.n.Store(3) }}
	b := bot.New(bot.Options{Config: testConfig(), Store: st, Messenger: bot.Router{"test": ms},
		Now: func() time.Time { return t0 }, RefreshIntervalSet: true, RootRetry: -1})
	ctx := context.Background()
	b.Handle(ctx, who("alice"), schedulePayments)
	b.Flush()
	if n := st.n.Load(); n >= 0 {
		t.Fatalf("the store failed %d saves fewer than it was to", n+1)
	}
	u, err := st.Get(ctx, 1)
	if err != nil || len(u.Threads) != 1 || u.Threads[0].Channel != "test:#payments" {
		t.Fatalf("threads %+v (%v), want the root's", u, err)
	}
}

// postThen calls then after each post.
type postThen struct {
	bot.Messenger
	then func()
}

func (p postThen) Post(ctx context.Context, ch string, m bot.Message) (bot.MessageRef, error) {
	ref, err := p.Messenger.Post(ctx, ch, m)
	p.then()
	return ref, err
}

// paymentsOn is the test configuration with payments' channels set.
func paymentsOn(channels ...string) bot.Config {
	cfg := testConfig()
	for i := range cfg.Services {
		if cfg.Services[i].Name == "payments" {
			cfg.Services[i].Channels = channels
		}
	}
	return cfg
}
