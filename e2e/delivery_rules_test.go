package e2e

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
	"github.com/upgradebot/upgradebot/store"
	"github.com/upgradebot/upgradebot/store/storetest"
)

// Every thread notice follows one set of rules, whether a command causes it
// (started, here) or the scheduler does (window open, here). Each test below
// is one rule, run through both paths.

// threeThreads gives payments a thread in three channels.
func threeThreads(c *bot.Config) {
	c.Services[1].Channels = []string{"t:#payments", "t:#ledger", "t:#checkout"}
}

// win is the window of the upgrade every rule schedules.
var win = start0.Add(2 * time.Hour)

type noticePath struct {
	name string
	kind bot.Kind
	// send makes upgrade 1 send its notice, at the window's start.
	send func(t *testing.T, r *replica, clock *bottest.Clock)
}

var noticePaths = []noticePath{
	{"command", bot.KindStarted, func(t *testing.T, r *replica, clock *bottest.Clock) {
		clock.Set(win)
		r.do(t, "alice", "start 1")
	}},
	{"scheduler", bot.KindWindowOpen, func(t *testing.T, r *replica, clock *bottest.Clock) {
		r.at(t, clock, win)
	}},
}

func scheduleWindow(t *testing.T, r *replica) {
	t.Helper()
	r.do(t, "alice", "schedule payments v2.4.0 at "+win.Format("2006-01-02 15:04")+" UTC for 1h")
}

// sentTo lists where notices of kind went, in order.
func sentTo(r *bottest.Recorder, kind bot.Kind) []string {
	var out []string
	for _, s := range r.Kinds(kind) {
		out = append(out, s.To)
	}
	return out
}

// Rule: a thread the notice already reached is skipped when the notice is
// sent again, so nobody reads it twice.
func TestDeliveryRuleSkipsThreadsAlreadyReached(t *testing.T) {
	want := []string{"t:#ledger", "t:#checkout"} // #payments was reached the first time
	t.Run("command", func(t *testing.T) {
		// The replica posts in #payments, then dies while #ledger hangs;
		// another replica recovers the recorded notice.
		o, clock := storetest.Target(t), bottest.NewClock(start0)
		p := &hangingPlatform{release: make(chan struct{}), hang: func(to string, m bot.Message) bool {
			return to == "t:#ledger" && m.Kind == bot.KindStarted
		}}
		dead := newReplicaWith(t, o, clock.Now, p, bot.SchedulerOptions{}, threeThreads)
		t.Cleanup(func() { close(p.release) })
		scheduleWindow(t, dead)
		clock.Set(win)
		if m := dead.b.Handle(context.Background(), bot.Invocation{Actor: bot.Actor{ID: "t:alice"}, Channel: "t:#ops"}, "start 1"); m.Kind == bot.KindError {
			t.Fatal(m.Plain(time.UTC))
		}
		waitFor(t, "the notice to hang in #ledger", func() bool { return p.hanging.Load() == 1 })
		if got := sentTo(&p.Recorder, bot.KindStarted); !slices.Equal(got, []string{"t:#payments"}) {
			t.Fatalf("before the crash: %q", got)
		}
		live := &bottest.Recorder{}
		r := newReplicaWith(t, o, clock.Now, live, bot.SchedulerOptions{}, threeThreads)
		clock.Advance(bot.RecoverAfter + time.Second)
		if n, err := r.b.RecoverNotices(context.Background()); err != nil || n != 1 {
			t.Fatalf("recovered %d notices, err %v", n, err)
		}
		r.b.Flush()
		if got := sentTo(live, bot.KindStarted); !slices.Equal(got, want) {
			t.Fatalf("the recovered notice went to %q, want %q", got, want)
		}
	})
	t.Run("scheduler", func(t *testing.T) {
		// The job posts in #payments, runs out of time in #ledger, and is retried.
		clock := bottest.NewClock(start0)
		var once atomic.Bool
		p := &hangingPlatform{hang: func(to string, m bot.Message) bool {
			return to == "t:#ledger" && m.Kind == bot.KindWindowOpen && once.CompareAndSwap(false, true)
		}}
		r := newReplicaWith(t, storetest.Target(t), clock.Now, p, bot.SchedulerOptions{JobTimeout: time.Second}, threeThreads)
		scheduleWindow(t, r)
		r.at(t, clock, win)
		if got := sentTo(&p.Recorder, bot.KindWindowOpen); !slices.Equal(got, []string{"t:#payments"}) {
			t.Fatalf("first attempt: %q", got)
		}
		p.Reset()
		r.at(t, clock, win.Add(5*time.Second)) // the retry's back-off
		if got := sentTo(&p.Recorder, bot.KindWindowOpen); !slices.Equal(got, want) {
			t.Fatalf("the retry went to %q, want %q", got, want)
		}
	})
}

// Rule: a notice with no thread to go to (the pre-brief reached no
// channel) first posts the pre-brief again; when that fails too, the
// notice is recorded as a failure with the platform's error, shown by
// show, and a command's invoker is told.
func TestDeliveryRuleRecordsANoticeWithNowhereToGo(t *testing.T) {
	for _, path := range noticePaths {
		t.Run(path.name, func(t *testing.T) {
			clock, rec := bottest.NewClock(start0), &bottest.Recorder{}
			r := newReplica(t, storetest.Target(t), clock.Now, rec)
			rec.Fail("t:#payments", errors.New("channel_not_found"))
			scheduleWindow(t, r)
			rec.Reset()
			path.send(t, r, clock)
			show := r.do(t, "bob", "show 1").Plain(time.UTC)
			if !strings.Contains(show, "Failed delivery of "+bot.NoticeWords(string(path.kind))+" to #payments") ||
				!strings.Contains(show, "no thread to reply in: the pre-brief could not be posted: channel_not_found") {
				t.Fatalf("show does not tell the %s notice went nowhere:\n%s", path.kind, show)
			}
			checkInvokerTold(t, rec, path, "#payments")
		})
	}
}

// Rule: once the platform takes it again, the next notice of an upgrade
// whose pre-brief reached no channel posts the pre-brief first, then
// replies in its thread.
func TestDeliveryRulePostsAMissingPreBriefFirst(t *testing.T) {
	for _, path := range noticePaths {
		t.Run(path.name, func(t *testing.T) {
			clock, rec := bottest.NewClock(start0), &bottest.Recorder{}
			r := newReplica(t, storetest.Target(t), clock.Now, rec)
			rec.Fail("t:#payments", errors.New("channel_not_found"))
			scheduleWindow(t, r)
			rec.Fail("t:#payments", nil)
			rec.Reset()
			path.send(t, r, clock)
			var got []string
			for _, s := range rec.All() {
				if s.To == "t:#payments" {
					got = append(got, s.Op+" "+string(s.Msg.Kind))
				}
			}
			if len(got) < 2 || got[0] != "post "+string(bot.KindRoot) || got[1] != "reply "+string(path.kind) {
				t.Fatalf("#payments got %q, want the pre-brief posted, then the %s notice in its thread", got, path.kind)
			}
			if show := r.do(t, "bob", "show 1").Plain(time.UTC); strings.Contains(show, "no thread to reply in") {
				t.Fatalf("a failure is recorded:\n%s", show)
			}
		})
	}
}

// Rule: a thread the platform refuses is recorded as a failure, once, and
// the notice still reaches the other threads; a command's invoker is told.
func TestDeliveryRuleRecordsARefusedThread(t *testing.T) {
	for _, path := range noticePaths {
		t.Run(path.name, func(t *testing.T) {
			clock, rec := bottest.NewClock(start0), &bottest.Recorder{}
			r := newReplicaWith(t, storetest.Target(t), clock.Now, rec, bot.SchedulerOptions{}, threeThreads)
			scheduleWindow(t, r)
			rec.Reset()
			rec.Fail("t:#ledger", errors.New("is_archived"))
			path.send(t, r, clock)
			if got := sentTo(rec, path.kind); !slices.Equal(got, []string{"t:#payments", "t:#checkout"}) {
				t.Fatalf("the %s notice went to %q", path.kind, got)
			}
			u, err := r.st.Get(context.Background(), 1)
			if err != nil {
				t.Fatal(err)
			}
			var fails []string
			for _, f := range u.Failures {
				fails = append(fails, f.Notice+" "+f.Target+" "+f.Error)
			}
			if want := []string{string(path.kind) + " t:#ledger is_archived"}; !slices.Equal(fails, want) {
				t.Fatalf("failures %q, want %q", fails, want)
			}
			checkInvokerTold(t, rec, path, "#ledger")
		})
	}
}

// checkInvokerTold: the invoker of a command hears privately of a notice
// that did not reach a channel; the scheduler's notices have nobody to tell.
func checkInvokerTold(t *testing.T, rec *bottest.Recorder, path noticePath, channel string) {
	t.Helper()
	told := rec.Ops("answer")
	if path.name == "scheduler" {
		if len(told) != 0 {
			t.Fatalf("someone was told of a scheduler notice: %+v", told)
		}
		return
	}
	if len(told) != 1 || told[0].To != "t:alice" || !strings.Contains(told[0].Text, "The "+bot.NoticeWords(string(path.kind))+" notice of UPG-1 could not be posted to "+channel) {
		t.Fatalf("the invoker was not told that %s failed: %+v", channel, told)
	}
}

// gatedPosts holds every root post until release is closed, counting them.
type gatedPosts struct {
	bottest.Recorder
	release chan struct{}
	posts   atomic.Int32
}

func (g *gatedPosts) Post(ctx context.Context, ch string, m bot.Message) (bot.MessageRef, error) {
	if m.Kind == bot.KindRoot {
		g.posts.Add(1)
		select {
		case <-g.release:
		case <-ctx.Done():
			return bot.MessageRef{}, ctx.Err()
		}
	}
	return g.Recorder.Post(ctx, ch, m)
}

// claimMet is a replica's Once (the store) that tells when a root post
// was found claimed by the other replica.
type claimMet struct {
	*store.Store
	met chan struct{}
}

func (c claimMet) First(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	first, err := c.Store.First(ctx, key, ttl)
	if err == nil && !first && strings.HasPrefix(key, "root:") {
		select {
		case c.met <- struct{}{}:
		default:
		}
	}
	return first, err
}

// Rule: when two replicas each send a notice of an upgrade whose pre-brief
// is missing, one posts it and both reply in its thread (review: both
// posted it, and one replied under a second root nobody ever edited).
func TestDeliveryRuleOneReplicaPostsAMissingPreBrief(t *testing.T) {
	o, clock := storetest.Target(t), bottest.NewClock(start0)
	gate := &gatedPosts{release: make(chan struct{})}
	met := make(chan struct{}, 1)
	replicaOf := func() *replica {
		st := storetest.Open(t, o)
		b := bot.New(bot.Options{Config: schedConfig(), Store: st, Messenger: bot.Router{"t": gate}, Once: claimMet{st, met}, Now: clock.Now, RefreshIntervalSet: true, RootRetry: -1})
		t.Cleanup(b.Flush)
		return &replica{st: st, b: b}
	}
	a, b := replicaOf(), replicaOf()
	gate.Fail("t:#payments", errors.New("test: HTTP 502"))
	close(gate.release)
	scheduleWindow(t, a)
	gate.Fail("t:#payments", nil)
	gate.release = make(chan struct{})
	gate.posts.Store(0)
	gate.Reset()

	done := make(chan struct{}, 2)
	for _, r := range []*replica{a, b} {
		go func() { r.do(t, "alice", "extend 1 15m"); done <- struct{}{} }()
	}
	waitFor(t, "a root post", func() bool { return gate.posts.Load() >= 1 })
	// The other replica's notice meets the claim while the post hangs
	// (without the claim it posts too, and the count below says so).
	select {
	case <-met:
	case <-time.After(10 * time.Second):
	}
	close(gate.release)
	<-done
	<-done
	if n := gate.posts.Load(); n != 1 {
		t.Fatalf("the missing pre-brief was posted %d times", n)
	}
	u, err := a.st.Get(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Threads) != 1 {
		t.Fatalf("threads %+v", u.Threads)
	}
	replies := gate.Ops("reply")
	if len(replies) != 2 || replies[0].To != "t:#payments" || replies[1].To != "t:#payments" {
		t.Fatalf("replies %+v, want both extend notices in #payments", replies)
	}
}
