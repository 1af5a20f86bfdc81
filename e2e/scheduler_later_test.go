package e2e

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
	"github.com/upgradebot/upgradebot/store"
	"github.com/upgradebot/upgradebot/store/storetest"
)

// rateLimited is a platform's failure that may pass (bot.TryLaterError):
// a Retry-After longer than the scheduler's job could wait.
type rateLimited struct{}

func (rateLimited) Error() string  { return "test chat.postMessage: rate_limited" }
func (rateLimited) TryLater() bool { return true }

// refused is a failure that cannot pass.
type refused struct{}

func (refused) Error() string { return "test chat.postMessage: is_archived" }

// countingRecorder counts the reminders it was asked to reply with and
// the messages it was asked to post, those that failed included.
type countingRecorder struct {
	bottest.Recorder
	replies, posts atomic.Int32
}

func (c *countingRecorder) Post(ctx context.Context, ch string, m bot.Message) (bot.MessageRef, error) {
	c.posts.Add(1)
	return c.Recorder.Post(ctx, ch, m)
}

func (c *countingRecorder) Reply(ctx context.Context, root bot.MessageRef, m bot.Message) (bot.MessageRef, error) {
	if m.Kind == bot.KindReminder {
		c.replies.Add(1)
	}
	return c.Recorder.Reply(ctx, root, m)
}

// failuresOf lists the failures of notice k recorded on upgrade 1.
func failuresOf(t *testing.T, r *replica, k bot.Kind) []bot.Failure {
	t.Helper()
	u, err := r.st.Get(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	var out []bot.Failure
	for _, f := range u.Failures {
		if f.Notice == string(k) {
			out = append(out, f)
		}
	}
	return out
}

// failedIn lists the channels of failures of notice k, sorted, with
// "+" after those posted after all.
func failedIn(t *testing.T, r *replica, k bot.Kind) []string {
	t.Helper()
	var out []string
	for _, f := range failuresOf(t, r, k) {
		s := f.Target
		if !f.PostedAt.IsZero() {
			s += "+"
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// countEvents counts the events of type typ of UPG-1 in the shared stream.
func countEvents(t *testing.T, r *replica, typ string) int {
	t.Helper()
	n := 0
	for _, e := range streamTypes(t, r, "UPG-1") {
		if e == typ {
			n++
		}
	}
	return n
}

// nextDue is when the scheduler's next job falls due.
func nextDue(t *testing.T, r *replica) time.Time {
	t.Helper()
	at, ok, err := r.sched.NextDue(context.Background())
	if err != nil || !ok {
		t.Fatalf("no job due: %v", err)
	}
	return at
}

// runUntil runs every job that falls due up to until.
func runUntil(t *testing.T, r *replica, c *bottest.Clock, until time.Time) {
	t.Helper()
	for range 50 {
		at, ok, err := r.sched.NextDue(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !ok || at.After(until) {
			break
		}
		r.at(t, c, at)
	}
	r.at(t, c, until)
}

var laterWindow = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

// TestARateLimitedReminderIsSentOnceThePlatformTakesIt: QA made Slack
// answer a reminder with 429 and Retry-After: 40, longer than the job's
// 30 s: the reminder was recorded as failed and never sent, although Slack
// took posts again 40 s later. It is now sent again with the job's
// back-off; its failure, recorded at once, is then marked posted after all
// and no longer counted on the root.
func TestARateLimitedReminderIsSentOnceThePlatformTakesIt(t *testing.T) {
	clock, rec := bottest.NewClock(start0), &countingRecorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, rec)
	r.do(t, "alice", "schedule payments v2.4.0 at 2026-11-30 10:00 UTC for 2h")

	rec.Fail("t:#payments", rateLimited{})
	r.at(t, clock, laterWindow.Add(-time.Hour))
	if got := summary(timed(&rec.Recorder)); len(got) != 0 || rec.replies.Load() != 1 {
		t.Fatalf("while rate limited: sent %q after %d tries", got, rec.replies.Load())
	}
	if got := failedIn(t, r, bot.KindReminder); !slices.Equal(got, []string{"t:#payments"}) {
		t.Fatalf("while rate limited, failures recorded in %q, want #payments", got)
	}
	retry := nextDue(t, r)
	if wait := retry.Sub(clock.Now()); wait <= 0 || wait > time.Minute {
		t.Fatalf("the reminder is due again in %s, want the job's back-off", wait)
	}

	rec.Fail("t:#payments", nil) // Slack takes posts again
	r.at(t, clock, retry)
	if got := summary(timed(&rec.Recorder)); !slices.Equal(got, []string{"reminder@t:#payments 1h"}) {
		t.Fatalf("after the rate limit: %q, want the 1h reminder once", got)
	}
	if got := failedIn(t, r, bot.KindReminder); !slices.Equal(got, []string{"t:#payments+"}) {
		t.Fatalf("after the retry, failures %q, want the one of #payments posted after all", got)
	}
	show := r.do(t, "bob", "show 1").Plain(time.UTC)
	if !strings.Contains(show, "Failed delivery of reminder to #payments") || !strings.Contains(show, "(posted after all at 2026-11-30 09:00 UTC)") {
		t.Fatalf("show does not say the reminder was posted after all:\n%s", show)
	}
	if strings.Contains(show, "could not be delivered") {
		t.Fatalf("the root still counts a reminder posted after all:\n%s", show)
	}
	if n := countEvents(t, r, bot.EventReminder); n != 1 {
		t.Fatalf("%d reminder events, want 1", n)
	}
	// Nothing more of it.
	runUntil(t, r, clock, laterWindow.Add(-time.Second))
	if n := rec.replies.Load(); n != 2 {
		t.Fatalf("tried %d times, want twice", n)
	}
}

// TestARateLimitThatLastsIsRecordedOnce: a platform that keeps failing
// gets the reminder tried again for about five minutes; its failure is
// recorded once, and it is then no longer tried.
func TestARateLimitThatLastsIsRecordedOnce(t *testing.T) {
	clock, rec := bottest.NewClock(start0), &countingRecorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, rec)
	r.do(t, "alice", "schedule payments v2.4.0 at 2026-11-30 10:00 UTC for 2h")
	rec.Fail("t:#payments", rateLimited{})
	first := laterWindow.Add(-time.Hour)
	r.at(t, clock, first)                            // the 7-day and 3-day reminders are superseded
	runUntil(t, r, clock, first.Add(35*time.Minute)) // past the escalation
	tries := rec.replies.Load()
	var last time.Time
	for _, f := range failuresOf(t, r, bot.KindReminder) {
		last = f.At
	}
	if got := failedIn(t, r, bot.KindReminder); !slices.Equal(got, []string{"t:#payments"}) {
		t.Fatalf("recorded failures in %q, want the reminder's, once", got)
	}
	if last != first {
		t.Fatalf("the failure was recorded at %s, want at the first try (%s)", last, first)
	}
	if tries < 5 || tries > 10 {
		t.Fatalf("tried %d times in 35 minutes, want several over about five", tries)
	}
	show := r.do(t, "bob", "show 1").Plain(time.UTC)
	if !strings.Contains(show, "Failed delivery of reminder to #payments") || strings.Contains(show, "posted after all") {
		t.Fatalf("show does not list the reminder that could not be sent:\n%s", show)
	}
	// The escalation follows the reminder as it would have.
	if got := summary(rec.Kinds(bot.KindEscalation)); len(got) != 3 {
		t.Fatalf("escalations %q, want alice, bob and carol", got)
	}
}

// TestAReminderRateLimitedMomentsBeforeTheWindowIsNotTriedAgain: a reminder
// that could only be sent again once the window has opened (when it is no
// longer sent) is recorded as failed and tried once.
func TestAReminderRateLimitedMomentsBeforeTheWindowIsNotTriedAgain(t *testing.T) {
	clock, rec := bottest.NewClock(start0), &countingRecorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, rec)
	r.do(t, "alice", "schedule payments v2.4.0 at 2026-11-30 10:00 UTC for 2h")
	rec.Fail("t:#payments", rateLimited{})
	r.at(t, clock, laterWindow.Add(-3*time.Second)) // the 1h reminder, late
	if got := failedIn(t, r, bot.KindReminder); len(got) != 1 {
		t.Fatalf("recorded %q, want the reminder's failure", got)
	}
	runUntil(t, r, clock, laterWindow.Add(-time.Millisecond))
	if n := rec.replies.Load(); n != 1 {
		t.Fatalf("tried %d times, want once", n)
	}
}

// TestARateLimitedThreadIsTriedAgainAloneAndNothingIsRecordedTwice: of a
// reminder to four channels, one is delivered, one is rate limited, one
// refused (archived) and one has no thread (its root was refused when the
// upgrade was scheduled, and again now). Each failure is recorded once; the
// retry sends the reminder only where it was rate limited, and does not
// post the refused root again.
func TestARateLimitedThreadIsTriedAgainAloneAndNothingIsRecordedTwice(t *testing.T) {
	clock, rec := bottest.NewClock(start0), &countingRecorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, rec, func(c *bot.Config) {
		c.Services[1].Channels = []string{"t:#payments", "t:#busy", "t:#archived", "t:#gone"}
	})
	rec.Fail("t:#gone", refused{})
	r.do(t, "alice", "schedule payments v2.4.0 at 2026-11-30 10:00 UTC for 2h")
	rec.Fail("t:#busy", rateLimited{})
	rec.Fail("t:#archived", refused{})
	goneRoots := func() int {
		u, _ := r.st.Get(context.Background(), 1)
		n := 0
		for _, f := range u.Failures {
			if f.Target == "t:#gone" {
				n++
			}
		}
		return n
	}
	r.at(t, clock, laterWindow.Add(-time.Hour))
	if got := summary(timed(&rec.Recorder)); !slices.Equal(got, []string{"reminder@t:#payments 1h"}) {
		t.Fatalf("first try: %q", got)
	}
	want := []string{"t:#archived", "t:#busy", "t:#gone"}
	if got := failedIn(t, r, bot.KindReminder); !slices.Equal(got, want) {
		t.Fatalf("after the first try, failures in %q, want %q", got, want)
	}
	gone, posts := goneRoots(), rec.posts.Load()
	rec.Fail("t:#busy", nil)
	r.at(t, clock, nextDue(t, r))
	got := summary(timed(&rec.Recorder))
	if !slices.Equal(got, []string{"reminder@t:#payments 1h", "reminder@t:#busy 1h"}) {
		t.Fatalf("after the retry: %q, want the reminder once in each channel that takes it", got)
	}
	want = []string{"t:#archived", "t:#busy+", "t:#gone"}
	if got := failedIn(t, r, bot.KindReminder); !slices.Equal(got, want) {
		t.Fatalf("after the retry, failures in %q, want %q", got, want)
	}
	if n := goneRoots(); n != gone {
		t.Fatalf("the retry recorded %d more failures in #gone", n-gone)
	}
	if n := rec.posts.Load(); n != posts {
		t.Fatalf("the retry posted %d messages (the root refused in #gone again?), want none", n-posts)
	}
}

// TestAWindowOpenRateLimitedThenStartedStaysRecorded (review): the window
// opens, its notice reaches #payments but is rate limited in #busy, and the
// owner starts the upgrade before the retry, which the re-plan drops. The
// failure in #busy stays recorded, and the notice's event was published,
// once.
func TestAWindowOpenRateLimitedThenStartedStaysRecorded(t *testing.T) {
	clock, rec := bottest.NewClock(start0), &countingRecorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, rec, func(c *bot.Config) {
		c.Services[1].Channels = []string{"t:#payments", "t:#busy"}
	})
	r.do(t, "alice", "schedule payments v2.4.0 at 2026-11-30 10:00 UTC for 2h")
	rec.Fail("t:#busy", rateLimited{})
	r.at(t, clock, laterWindow)
	if got := summary(rec.Kinds(bot.KindWindowOpen)); !slices.Equal(got, []string{"window_open@t:#payments"}) {
		t.Fatalf("first try: %q", got)
	}
	r.do(t, "alice", "start 1")
	runUntil(t, r, clock, laterWindow.Add(30*time.Minute))
	if got := failedIn(t, r, bot.KindWindowOpen); !slices.Equal(got, []string{"t:#busy"}) {
		t.Fatalf("window-open failures in %q, want #busy's", got)
	}
	if n := countEvents(t, r, bot.EventWindowOpen); n != 1 {
		t.Fatalf("%d window_open events, want 1 (it was posted in #payments)", n)
	}
}

// TestTheLastReminderRateLimitedSomewhereStillStartsTheEscalation
// (review): the last reminder reaches #payments but not #busy; the brief
// escalation follows it as usual, while the retry goes on.
func TestTheLastReminderRateLimitedSomewhereStillStartsTheEscalation(t *testing.T) {
	clock, rec := bottest.NewClock(start0), &countingRecorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, rec, func(c *bot.Config) {
		c.Services[1].Channels = []string{"t:#payments", "t:#busy"}
	})
	r.do(t, "alice", "schedule payments v2.4.0 at 2026-11-30 10:00 UTC for 2h")
	rec.Fail("t:#busy", rateLimited{})
	r.at(t, clock, laterWindow.Add(-time.Hour))
	runUntil(t, r, clock, laterWindow.Add(-20*time.Minute))
	got := summary(timed(&rec.Recorder))
	want := []string{"reminder@t:#payments 1h", "escalation@t:alice", "escalation@t:bob", "escalation@t:carol"}
	if !slices.Equal(got, want) {
		t.Fatalf("sent %q, want %q", got, want)
	}
	if n := countEvents(t, r, bot.EventReminder); n != 1 {
		t.Fatalf("%d reminder events, want 1", n)
	}
}

// panicky panics replying with a reminder in one channel.
type panicky struct {
	countingRecorder
	boom   string
	panics atomic.Int32
}

func (p *panicky) Reply(ctx context.Context, root bot.MessageRef, m bot.Message) (bot.MessageRef, error) {
	if root.Channel == p.boom && m.Kind == bot.KindReminder {
		p.panics.Add(1)
		panic("adapter bug")
	}
	return p.countingRecorder.Reply(ctx, root, m)
}

// TestAThreadWhoseAdapterPanickedIsNotTriedAgain (review): one channel's
// adapter panics, another is rate limited; the retry for the second does
// not reply in the first again, nor record its failure twice.
func TestAThreadWhoseAdapterPanickedIsNotTriedAgain(t *testing.T) {
	clock, rec := bottest.NewClock(start0), &panicky{boom: "t:#boom"}
	r := newReplica(t, storetest.Target(t), clock.Now, rec, func(c *bot.Config) {
		c.Services[1].Channels = []string{"t:#payments", "t:#busy", "t:#boom"}
	})
	r.do(t, "alice", "schedule payments v2.4.0 at 2026-11-30 10:00 UTC for 2h")
	rec.Fail("t:#busy", rateLimited{})
	r.at(t, clock, laterWindow.Add(-time.Hour))
	rec.Fail("t:#busy", nil)
	r.at(t, clock, nextDue(t, r))
	if got := failedIn(t, r, bot.KindReminder); !slices.Equal(got, []string{"t:#boom", "t:#busy+"}) || rec.panics.Load() != 1 {
		t.Fatalf("the panicking thread was tried %d times; failures in %q", rec.panics.Load(), got)
	}
}

// TestRateLimitedThenRefusedIsRecordedOnce (review): a reminder rate
// limited in #busy, then refused there on the retry (the channel was
// archived meanwhile): one notice, one channel, one failure on the root.
func TestRateLimitedThenRefusedIsRecordedOnce(t *testing.T) {
	clock, rec := bottest.NewClock(start0), &countingRecorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, rec, func(c *bot.Config) {
		c.Services[1].Channels = []string{"t:#payments", "t:#busy"}
	})
	r.do(t, "alice", "schedule payments v2.4.0 at 2026-11-30 10:00 UTC for 2h")
	rec.Fail("t:#busy", rateLimited{})
	r.at(t, clock, laterWindow.Add(-time.Hour))
	rec.Fail("t:#busy", refused{})
	r.at(t, clock, nextDue(t, r))
	runUntil(t, r, clock, laterWindow.Add(-time.Minute))
	if got := failedIn(t, r, bot.KindReminder); !slices.Equal(got, []string{"t:#busy"}) {
		t.Fatalf("failures of the reminder in %q, want #busy's once", got)
	}
	if n := rec.replies.Load(); n != 3 {
		t.Fatalf("tried %d times, want 3 (#payments, #busy twice)", n)
	}
}

// plainQueue is a JobQueue without the optional DeliveryLog (a queue of
// an embedder's own).
type plainQueue struct{ bot.JobQueue }

// TestWithoutADeliveryLogARateLimitedReminderIsNotSentTwice (review): a
// queue that remembers no threads reached cannot send a notice again in
// some threads only; the failure that may pass is recorded, as before.
func TestWithoutADeliveryLogARateLimitedReminderIsNotSentTwice(t *testing.T) {
	clock, rec := bottest.NewClock(start0), &countingRecorder{}
	st := storetest.Open(t, storetest.Target(t))
	cfg := schedConfig()
	cfg.Services[1].Channels = []string{"t:#payments", "t:#busy"}
	b := bot.New(bot.Options{Config: cfg, Store: st, Messenger: bot.Router{"t": rec}, Now: clock.Now, RefreshIntervalSet: true, Queue: plainQueue{st}, Scheduler: bot.SchedulerOptions{Now: clock.Now}})
	t.Cleanup(b.Flush)
	r := &replica{st: st, b: b, sched: b.Scheduler()}
	r.do(t, "alice", "schedule payments v2.4.0 at 2026-11-30 10:00 UTC for 2h")
	rec.Fail("t:#busy", rateLimited{})
	r.at(t, clock, laterWindow.Add(-time.Hour))
	rec.Fail("t:#busy", nil)
	runUntil(t, r, clock, laterWindow.Add(-time.Minute))
	if got := summary(rec.Kinds(bot.KindReminder)); !slices.Equal(got, []string{"reminder@t:#payments 1h"}) {
		t.Fatalf("reminders sent %q, want once to #payments", got)
	}
	if got := failedIn(t, r, bot.KindReminder); !slices.Equal(got, []string{"t:#busy"}) {
		t.Fatalf("failures %q, want #busy's", got)
	}
}

// countingLog counts the reads and marks of the threads a job reached.
type countingLog struct {
	*store.Store
	reads, marks atomic.Int32
}

func (c *countingLog) Delivered(ctx context.Context, j bot.Job) ([]string, error) {
	c.reads.Add(1)
	return c.Store.Delivered(ctx, j)
}

func (c *countingLog) MarkDelivered(ctx context.Context, j bot.Job, part string) error {
	c.marks.Add(1)
	return c.Store.MarkDelivered(ctx, j, part)
}

// TestAOneThreadReminderSentAtOnceCostsNoProgress (review): a reminder
// to one thread that goes out at once reads and writes no progress marks
// (a round trip each), as before it could be sent again.
func TestAOneThreadReminderSentAtOnceCostsNoProgress(t *testing.T) {
	clock, rec := bottest.NewClock(start0), &countingRecorder{}
	st := storetest.Open(t, storetest.Target(t))
	q := &countingLog{Store: st}
	b := bot.New(bot.Options{Config: schedConfig(), Store: st, Messenger: bot.Router{"t": rec}, Now: clock.Now, RefreshIntervalSet: true, Queue: q, Scheduler: bot.SchedulerOptions{Now: clock.Now}})
	t.Cleanup(b.Flush)
	r := &replica{st: st, b: b, sched: b.Scheduler()}
	r.do(t, "alice", "schedule payments v2.4.0 at 2026-11-30 10:00 UTC for 2h")
	r.at(t, clock, laterWindow.Add(-time.Hour))
	if got := summary(rec.Kinds(bot.KindReminder)); len(got) != 1 {
		t.Fatalf("reminders sent %q", got)
	}
	if q.reads.Load() != 0 || q.marks.Load() != 0 {
		t.Fatalf("a one-thread reminder sent at once: %d progress reads, %d marks, want none", q.reads.Load(), q.marks.Load())
	}
}

// TestOnlyTheFailureARetryMadeGoodIsMarked: the 3-day reminder was refused
// in #payments (for good), the 1-hour one rate limited there and then sent
// on its retry: only the 1-hour one's failure is marked posted after all.
func TestOnlyTheFailureARetryMadeGoodIsMarked(t *testing.T) {
	clock, rec := bottest.NewClock(start0), &countingRecorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, rec)
	r.do(t, "alice", "schedule payments v2.4.0 at 2026-11-30 10:00 UTC for 2h")
	rec.Fail("t:#payments", refused{})
	r.at(t, clock, laterWindow.Add(-72*time.Hour))
	rec.Fail("t:#payments", rateLimited{})
	r.at(t, clock, laterWindow.Add(-time.Hour))
	rec.Fail("t:#payments", nil)
	r.at(t, clock, nextDue(t, r))
	var got []string
	for _, f := range failuresOf(t, r, bot.KindReminder) {
		got = append(got, f.At.Format("01-02 15:04")+" "+strconv.FormatBool(!f.PostedAt.IsZero()))
	}
	if want := []string{"11-27 10:00 false", "11-30 09:00 true"}; !slices.Equal(got, want) {
		t.Fatalf("reminder failures (when, posted after all) %q, want %q", got, want)
	}
}
