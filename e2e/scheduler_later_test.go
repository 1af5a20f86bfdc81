package e2e

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
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

// countingRecorder counts the replies it was asked for, those that failed
// included.
type countingRecorder struct {
	bottest.Recorder
	replies atomic.Int32
}

func (c *countingRecorder) Reply(ctx context.Context, root bot.MessageRef, m bot.Message) (bot.MessageRef, error) {
	if m.Kind == bot.KindReminder {
		c.replies.Add(1)
	}
	return c.Recorder.Reply(ctx, root, m)
}

// reminderFailures lists the reminder failures recorded on upgrade 1.
func reminderFailures(t *testing.T, r *replica) []bot.Failure {
	t.Helper()
	u, err := r.st.Get(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	var out []bot.Failure
	for _, f := range u.Failures {
		if f.Notice == string(bot.KindReminder) {
			out = append(out, f)
		}
	}
	return out
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

var laterWindow = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

// TestARateLimitedReminderIsSentOnceThePlatformTakesIt: QA made Slack
// answer a reminder with 429 and Retry-After: 40, longer than the job's
// 30 s: the reminder was recorded as failed at once and never sent,
// although Slack took posts again 40 s later. It is now sent again with
// the job's back-off, and once delivered nothing is recorded as failed.
func TestARateLimitedReminderIsSentOnceThePlatformTakesIt(t *testing.T) {
	clock, rec := bottest.NewClock(start0), &countingRecorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, rec)
	r.do(t, "alice", "schedule payments v2.4.0 at 2026-11-30 10:00 UTC for 2h")

	rec.Fail("t:#payments", rateLimited{})
	r.at(t, clock, laterWindow.Add(-time.Hour))
	if got := summary(timed(&rec.Recorder)); len(got) != 0 || rec.replies.Load() != 1 {
		t.Fatalf("while rate limited: sent %q after %d tries", got, rec.replies.Load())
	}
	if f := reminderFailures(t, r); len(f) != 0 {
		t.Fatalf("a reminder to be sent again is recorded as failed: %+v", f)
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
	if f := reminderFailures(t, r); len(f) != 0 {
		t.Fatalf("a reminder delivered on its retry is recorded as failed: %+v", f)
	}
	if p := r.do(t, "bob", "show 1").Plain(time.UTC); strings.Contains(p, "Failed delivery") {
		t.Fatalf("show lists a failure of a delivered reminder:\n%s", p)
	}
	var reminders int
	for _, e := range streamTypes(t, r, "UPG-1") {
		if e == bot.EventReminder {
			reminders++
		}
	}
	if reminders != 1 {
		t.Fatalf("%d reminder events, want 1", reminders)
	}
}

// TestARateLimitThatLastsIsRecordedOnce: a platform that keeps failing
// gets the reminder tried again for about ten minutes; then its failure is
// recorded, once, and shown, and the reminder is not tried again.
func TestARateLimitThatLastsIsRecordedOnce(t *testing.T) {
	clock, rec := bottest.NewClock(start0), &countingRecorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, rec)
	r.do(t, "alice", "schedule payments v2.4.0 at 2026-11-30 10:00 UTC for 2h")
	rec.Fail("t:#payments", rateLimited{})
	first := laterWindow.Add(-time.Hour)
	r.at(t, clock, first)
	for range 20 {
		if len(reminderFailures(t, r)) > 0 {
			break
		}
		r.at(t, clock, nextDue(t, r))
	}
	fails := reminderFailures(t, r)
	if len(fails) != 1 || fails[0].Target != "t:#payments" || !strings.Contains(fails[0].Error, "rate_limited") {
		t.Fatalf("recorded %+v, want the reminder's failure once", fails)
	}
	tries, took := rec.replies.Load(), clock.Now().Sub(first)
	if tries < 5 || took < 5*time.Minute || took > 20*time.Minute {
		t.Fatalf("given up after %d tries over %s, want several over about ten minutes", tries, took)
	}
	if p := r.do(t, "bob", "show 1").Plain(time.UTC); !strings.Contains(p, "Failed delivery of reminder to #payments") {
		t.Fatalf("show does not list the reminder that could not be sent:\n%s", p)
	}
	// Nothing more of it, up to the window's opening.
	r.at(t, clock, laterWindow.Add(-time.Second))
	if n := rec.replies.Load(); n != tries {
		t.Fatalf("the reminder was tried %d more times after its failure was recorded", n-tries)
	}
	if fails := reminderFailures(t, r); len(fails) != 1 {
		t.Fatalf("recorded %+v, want the reminder's failure once", fails)
	}
}

// TestAReminderRateLimitedMomentsBeforeTheWindowIsRecordedAtOnce: a
// reminder that could only be sent again after the window opened (when it
// is no longer sent) is recorded as failed at once, not dropped.
func TestAReminderRateLimitedMomentsBeforeTheWindowIsRecordedAtOnce(t *testing.T) {
	clock, rec := bottest.NewClock(start0), &countingRecorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, rec)
	r.do(t, "alice", "schedule payments v2.4.0 at 2026-11-30 10:00 UTC for 2h")
	rec.Fail("t:#payments", rateLimited{})
	r.at(t, clock, laterWindow.Add(-3*time.Second)) // the 1h reminder, late
	if fails := reminderFailures(t, r); len(fails) != 1 {
		t.Fatalf("recorded %+v, want the reminder's failure", fails)
	}
	if n := rec.replies.Load(); n != 1 {
		t.Fatalf("tried %d times, want once", n)
	}
}

// TestARateLimitedThreadIsTriedAgainAloneAndAnotherIsRecordedOnce: of a
// reminder to four channels, one is delivered, one is rate limited, one
// refused (archived) and one has no thread (its root was refused when the
// upgrade was scheduled, and again now). The refusals are recorded at
// once; the retry sends the reminder only where it was rate limited, and
// records nothing twice.
func TestARateLimitedThreadIsTriedAgainAloneAndAnotherIsRecordedOnce(t *testing.T) {
	clock, rec := bottest.NewClock(start0), &countingRecorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, rec, func(c *bot.Config) {
		c.Services[1].Channels = []string{"t:#payments", "t:#busy", "t:#archived", "t:#gone"}
	})
	rec.Fail("t:#gone", refused{})
	r.do(t, "alice", "schedule payments v2.4.0 at 2026-11-30 10:00 UTC for 2h")
	rec.Fail("t:#busy", rateLimited{})
	rec.Fail("t:#archived", refused{})
	r.at(t, clock, laterWindow.Add(-time.Hour))
	if got := summary(timed(&rec.Recorder)); !slices.Equal(got, []string{"reminder@t:#payments 1h"}) {
		t.Fatalf("first try: %q", got)
	}
	targets := func() []string {
		var out []string
		for _, f := range reminderFailures(t, r) {
			out = append(out, f.Target)
		}
		slices.Sort(out)
		return out
	}
	refusals := []string{"t:#archived", "t:#gone"}
	if got := targets(); !slices.Equal(got, refusals) {
		t.Fatalf("after the first try recorded failures in %q, want only the refusals %q", got, refusals)
	}
	rec.Fail("t:#busy", nil)
	r.at(t, clock, nextDue(t, r))
	got := summary(timed(&rec.Recorder))
	if !slices.Equal(got, []string{"reminder@t:#payments 1h", "reminder@t:#busy 1h"}) {
		t.Fatalf("after the retry: %q, want the reminder once in each channel that takes it", got)
	}
	if got := targets(); !slices.Equal(got, refusals) {
		t.Fatalf("after the retry recorded failures in %q, want only the refusals %q, once each", got, refusals)
	}
}
