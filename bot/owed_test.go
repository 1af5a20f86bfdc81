package bot_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
	"github.com/upgradebot/upgradebot/internal/syncbuf"
)

// busy is a platform failing for a while (a 5xx after the retries).
type busy struct{}

func (busy) Error() string  { return "test: HTTP 502 (after 5 attempts)" }
func (busy) TryLater() bool { return true }

var errBusy error = busy{}

// TestTheNextNoticePostsARootThatFailed: QA scheduled while Discord was
// failing; the root was never posted again, so every later notice of the
// upgrade failed with "no thread to reply in" although the platform was
// back. The next notice now posts the root first, then replies in it.
func TestTheNextNoticePostsARootThatFailed(t *testing.T) {
	f := newFixture(t)
	f.rec.Fail("test:#payments", errBusy)
	f.ok(t, "alice", schedulePayments)
	if posts := f.rec.Ops("post"); len(posts) != 0 {
		t.Fatalf("posted %+v while failing", posts)
	}
	f.rec.Fail("test:#payments", nil) // the platform answers again
	f.rec.Reset()
	f.ok(t, "alice", "extend 1 30m")
	all := f.rec.All()
	if len(all) < 2 || all[0].Op != "post" || all[0].To != "test:#payments" || !strings.Contains(all[0].Text, "UPG-1 payments v2.4.0") ||
		!strings.Contains(all[0].Text, "2026-12-01 04:30") {
		t.Fatalf("want the root (with the extended window) posted first, got %+v", all)
	}
	if all[1].Op != "reply" || all[1].To != "test:#payments" || !strings.Contains(all[1].Text, "was extended by 30m") {
		t.Fatalf("want the extend notice in the new thread, got %+v", all[1])
	}
	if told := f.rec.Ops("answer"); len(told) != 0 {
		t.Fatalf("the invoker was told of a failure: %+v", told)
	}
	// The root no longer counts the failure it made good (review: the new
	// root said "1 notice(s) could not be delivered" about itself); show
	// still lists it, saying it was posted after all.
	if strings.Contains(all[0].Text, "could not be delivered") {
		t.Errorf("the root counts its own failure:\n%s", all[0].Text)
	}
	if show := lines(f.ok(t, "alice", "show 1")); !strings.Contains(show, "Failed delivery of root to #payments at 2026-11-22") ||
		!strings.Contains(show, "(posted after all at ") {
		t.Errorf("show:\n%s", show)
	}
}

// TestTheNextNoticeSaysWhyTheRootStillFails: when the root still cannot be
// posted, the notice's failure carries the platform's error, told once.
func TestTheNextNoticeSaysWhyTheRootStillFails(t *testing.T) {
	f := newFixture(t)
	f.rec.Fail("test:#payments", errBusy)
	f.ok(t, "alice", schedulePayments)
	f.rec.Reset()
	f.ok(t, "alice", "extend 1 30m")
	told := f.rec.Ops("answer")
	if len(told) != 1 || !strings.Contains(told[0].Text, "no thread to reply in: the pre-brief could not be posted: test: HTTP 502") {
		t.Fatalf("told %+v", told)
	}
}

// runBot runs b's background work (Run) until the test ends.
func runBot(t *testing.T, b *bot.Bot) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// waitSent waits until rec has delivered a message that ok accepts.
func waitSent(t *testing.T, rec *bottest.Recorder, what string, ok func(bottest.Sent) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, s := range rec.All() {
			if ok(s) {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("never saw %s; sent %+v", what, rec.All())
}

// TestRootsThePlatformDidNotTakeAreTriedAgain: QA saw a root that failed
// to post never come, and a root whose edit failed stay stale for good
// ("Acknowledged 0/3" after a press). Run now tries both again after a
// wait, without waiting for the next change or notice.
func TestRootsThePlatformDidNotTakeAreTriedAgain(t *testing.T) {
	f := &fixture{st: bottest.NewMemStore(), rec: &bottest.Recorder{}, clock: bottest.NewClock(t0)}
	f.b = bot.New(bot.Options{Config: testConfig(), Store: f.st, Messenger: bot.Router{"test": f.rec, "other": f.rec},
		Now: f.clock.Now, RefreshIntervalSet: true, RootRetry: 10 * time.Millisecond})
	t.Cleanup(f.b.Flush)
	runBot(t, f.b)

	// A root not posted is posted once the wait is over and the platform answers.
	f.rec.Fail("test:#payments", errBusy)
	f.ok(t, "alice", schedulePayments)
	f.rec.Fail("test:#payments", nil)
	f.advance(time.Minute)
	waitSent(t, f.rec, "the root posted again", func(s bottest.Sent) bool {
		return s.Op == "post" && s.To == "test:#payments" && strings.Contains(s.Text, "UPG-1 payments v2.4.0")
	})

	// A root whose edit failed shows the final state once the platform answers.
	f.b.Flush()
	f.rec.Fail("test:#payments", errBusy)
	pressAs(f.b, context.Background(), bot.Actor{ID: "test:UBOB", Name: "bob"}, "1", "brief")
	f.b.Flush()
	f.rec.Fail("test:#payments", nil)
	f.advance(time.Minute)
	waitSent(t, f.rec, "the root edited to show the press", func(s bottest.Sent) bool {
		return s.Op == "edit" && s.To == "test:#payments" && strings.Contains(s.Text, "Acknowledged 1/")
	})
}

// TestOnlyFailuresThatMayPassAreTriedAgain: a channel that does not exist
// (an error that does not say to try later) is not tried in the
// background; the next notice still tries it (an admin may have fixed it).
func TestOnlyFailuresThatMayPassAreTriedAgain(t *testing.T) {
	f := &fixture{st: bottest.NewMemStore(), rec: &bottest.Recorder{}, clock: bottest.NewClock(t0)}
	f.b = bot.New(bot.Options{Config: testConfig(), Store: f.st, Messenger: bot.Router{"test": f.rec, "other": f.rec},
		Now: f.clock.Now, RefreshIntervalSet: true, RootRetry: 10 * time.Millisecond})
	t.Cleanup(f.b.Flush)
	f.rec.Fail("test:#payments", errors.New("test: channel_not_found"))
	f.ok(t, "alice", schedulePayments)
	f.rec.Fail("test:#ledger", errBusy)
	f.ok(t, "carol", "schedule ledger v9 at 2026-12-03 02:00 UTC for 1h")
	f.rec.Fail("test:#payments", nil)
	f.rec.Fail("test:#ledger", nil)
	f.advance(time.Minute)
	runBot(t, f.b)
	// Both are due at once and tried in id order: once UPG-2's root is
	// posted, UPG-1 was passed over.
	waitSent(t, f.rec, "UPG-2's root posted again", func(s bottest.Sent) bool {
		return s.Op == "post" && s.To == "test:#ledger"
	})
	f.b.Flush()
	if posts := f.rec.Ops("post"); len(posts) != 1 {
		t.Fatalf("posted %+v; the channel that did not exist was tried again in the background", posts)
	}
}

// switchable delivers with whichever Messenger it holds now.
type switchable struct{ m atomic.Pointer[bot.Messenger] }

func (s *switchable) to(m bot.Messenger) { s.m.Store(&m) }
func (s *switchable) Post(ctx context.Context, ch string, m bot.Message) (bot.MessageRef, error) {
	return (*s.m.Load()).Post(ctx, ch, m)
}
func (s *switchable) Reply(ctx context.Context, r bot.MessageRef, m bot.Message) (bot.MessageRef, error) {
	return (*s.m.Load()).Reply(ctx, r, m)
}
func (s *switchable) Edit(ctx context.Context, r bot.MessageRef, m bot.Message) error {
	return (*s.m.Load()).Edit(ctx, r, m)
}
func (s *switchable) Direct(ctx context.Context, u string, m bot.Message) (bot.MessageRef, error) {
	return (*s.m.Load()).Direct(ctx, u, m)
}

// TestDrainTellsRootRetriesApart: a root retry cut short by a stop is not
// a recorded notice that another replica sends (review: Drain said so);
// the log says what becomes of it.
func TestDrainTellsRootRetriesApart(t *testing.T) {
	rec := &bottest.Recorder{}
	sw := &switchable{}
	sw.to(rec)
	var logs syncbuf.Buffer
	clock := bottest.NewClock(t0)
	b := bot.New(bot.Options{Config: testConfig(), Store: bottest.NewMemStore(), Messenger: bot.Router{"test": sw, "other": sw},
		Now: clock.Now, RefreshIntervalSet: true, RootRetry: 10 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	rec.Fail("test:#payments", errBusy)
	b.Handle(context.Background(), who("alice"), schedulePayments)
	b.Flush()
	st := &stuck{Messenger: rec, entered: make(chan struct{}, 1), release: make(chan struct{})}
	sw.to(st)
	clock.Advance(time.Minute)
	runBot(t, b)
	select {
	case <-st.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the root was never tried again")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if n := b.Drain(ctx); n != 1 {
		t.Errorf("Drain = %d, want the one retry", n)
	}
	close(st.release)
	b.Flush()
	if got := logs.String(); !strings.Contains(got, "stopping with root messages not yet tried again") || strings.Contains(got, "notices not yet delivered") {
		t.Errorf("log:\n%s", got)
	}
}

// TestARetryThatMeetsALastingErrorRecordsIt: the root failed with a 503;
// the background retry then met channel_not_found. show listed only the
// 503, whose advice is "nothing to change" (QA); the lasting error is now
// recorded too.
func TestARetryThatMeetsALastingErrorRecordsIt(t *testing.T) {
	f := &fixture{st: bottest.NewMemStore(), rec: &bottest.Recorder{}, clock: bottest.NewClock(t0)}
	f.b = bot.New(bot.Options{Config: testConfig(), Store: f.st, Messenger: bot.Router{"test": f.rec, "other": f.rec},
		Now: f.clock.Now, RefreshIntervalSet: true, RootRetry: 10 * time.Millisecond})
	t.Cleanup(f.b.Flush)
	f.rec.Fail("test:#payments", errBusy)
	f.ok(t, "alice", schedulePayments)
	f.rec.Fail("test:#payments", errors.New("test: channel_not_found"))
	f.advance(time.Minute)
	runBot(t, f.b)
	deadline := time.Now().Add(10 * time.Second)
	for {
		u, err := f.st.Get(context.Background(), 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(u.Failures) == 2 && u.Failures[1].Error == "test: channel_not_found" && u.Failures[1].Notice == "root" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("failures %+v", u.Failures)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if told := f.rec.Ops("answer"); len(told) != 1 { // the schedule's, not the retry's
		t.Errorf("told %d times", len(told))
	}
}

// countingPosts counts the posts to each channel.
type countingPosts struct {
	*bottest.Recorder
	mu    sync.Mutex
	posts map[string]int
}

func (c *countingPosts) Post(ctx context.Context, ch string, m bot.Message) (bot.MessageRef, error) {
	c.mu.Lock()
	c.posts[ch]++
	c.mu.Unlock()
	return c.Recorder.Post(ctx, ch, m)
}

func (c *countingPosts) count(ch string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.posts[ch]
}

// TestTheRetryPostsOnlyWhereItMayPass: one channel failed with a 503, one
// does not exist. The background retry posted in both, and recorded the
// one that does not exist again, so the root counted it twice (QA). Only
// the channel whose failure may pass is posted again.
func TestTheRetryPostsOnlyWhereItMayPass(t *testing.T) {
	cfg := testConfig()
	cfg.Services[1].Channels = []string{"test:#payments", "test:#gone"}
	rec := &countingPosts{Recorder: &bottest.Recorder{}, posts: map[string]int{}}
	st, clock := bottest.NewMemStore(), bottest.NewClock(t0)
	b := bot.New(bot.Options{Config: cfg, Store: st, Messenger: bot.Router{"test": rec, "other": rec},
		Now: clock.Now, RefreshIntervalSet: true, RootRetry: 10 * time.Millisecond})
	t.Cleanup(b.Flush)
	rec.Fail("test:#payments", errBusy)
	rec.Fail("test:#gone", errors.New("test: channel_not_found"))
	b.Handle(context.Background(), who("alice"), schedulePayments)
	b.Flush()
	rec.Fail("test:#payments", nil)
	clock.Advance(time.Minute)
	runBot(t, b)
	waitSent(t, rec.Recorder, "the root posted in #payments", func(s bottest.Sent) bool { return s.Op == "post" && s.To == "test:#payments" })
	b.Flush()
	if n := rec.count("test:#gone"); n != 1 {
		t.Errorf("%d posts to the channel that does not exist, want the first only", n)
	}
	u, err := st.Get(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Failures) != 2 {
		t.Errorf("failures %+v, want the two of the first post", u.Failures)
	}
}
