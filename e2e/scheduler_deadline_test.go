package e2e

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	slackadapter "github.com/upgradebot/upgradebot/adapters/slack"
	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
	"github.com/upgradebot/upgradebot/internal/syncbuf"
	"github.com/upgradebot/upgradebot/store/storetest"
)

// These tests are about a scheduler's notice whose time runs out while a
// platform keeps it waiting (Slack's 429 with Retry-After, a post not
// answered yet): a reminder is no use once the window has opened, a
// window-open notice once it has ended, and a shutdown cuts a wait short.

// deadlineWindow is the window of these tests: payments, 10:00 to 12:00.
var deadlineWindow = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

// slackScheduler is one bot with the real store, the Slack adapter against
// a fake Slack, a fake clock and a scheduler that runs due jobs when told
// (at) or on its own (Run). Its log is kept.
type slackScheduler struct {
	api   *slacktestapi.Server
	b     *bot.Bot
	sched *bot.Scheduler
	clock *bottest.Clock
	logs  *syncbuf.Buffer
}

// newSlackScheduler schedules payments for deadlineWindow, its root's post
// answered with rootFaults first.
func newSlackScheduler(t *testing.T, so bot.SchedulerOptions, rootFaults ...slacktestapi.Fault) *slackScheduler {
	t.Helper()
	clock, logs := bottest.NewClock(slackNow), &syncbuf.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	st := storetest.Open(t, storetest.Target(t))
	cfg := slackConfig()
	cfg.Reminders = []time.Duration{time.Hour}
	api := slacktestapi.New(t)
	for name, id := range slackPeople {
		api.AddUser(id, name, "Europe/Berlin")
	}
	router := bot.Router{}
	so.Now = clock.Now
	so.When = clock.When // a notice's time runs out when the test moves the clock there
	b := bot.New(bot.Options{Config: cfg, Store: st, Messenger: router, Once: st, Queue: st, Scheduler: so, Now: clock.Now, RefreshIntervalSet: true, Logger: log})
	t.Cleanup(b.Flush)
	a, err := slackadapter.New(slackadapter.Options{
		BotToken: "xoxb-e2e", SigningSecret: slackSecret, APIURL: api.APIURL(), Mode: slackadapter.ModeHTTP,
		Core: b, Now: clock.Now, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	router[slackadapter.Platform] = a
	s := &slackScheduler{api: api, b: b, sched: b.Scheduler(), clock: clock, logs: logs}
	api.FailNext("chat.postMessage", rootFaults...)
	s.do(t, "alice", "schedule payments v2.4.0 at 2026-11-30 10:00 UTC for 2h")
	if n := len(api.Messages("C0PAYMENTS")); len(rootFaults) == 0 && n != 1 {
		t.Fatalf("after scheduling: %d messages in #payments, want the root alone", n)
	}
	return s
}

func (s *slackScheduler) do(t *testing.T, who, text string) string {
	t.Helper()
	m := s.b.Handle(context.Background(), bot.Invocation{Actor: bot.Actor{ID: "slack:" + slackPeople[who]}, Channel: "slack:C0OPS"}, text)
	if m.Kind == bot.KindError {
		t.Fatalf("%s: /upgrade %s: %s", who, text, m.Plain(time.UTC))
	}
	s.b.Flush()
	return m.Plain(time.UTC)
}

// at moves the clock and runs what fell due.
func (s *slackScheduler) at(t *testing.T, when time.Time) {
	t.Helper()
	s.clock.Set(when)
	if _, err := s.sched.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.b.Flush()
}

// atWhileHeld moves the clock to when and runs what fell due until a call
// held by the fake Slack (arrived) has reached it, then moves the clock to
// then (the window opens, say) and waits for the jobs to end: no real
// seconds to wait for a notice's time to run out.
func (s *slackScheduler) atWhileHeld(t *testing.T, when time.Time, arrived <-chan struct{}, then time.Time) {
	t.Helper()
	s.clock.Set(when)
	ran := make(chan error, 1)
	go func() {
		_, err := s.sched.RunDue(context.Background())
		ran <- err
	}()
	select {
	case <-arrived:
	case err := <-ran:
		t.Fatalf("the jobs ended (%v) before the held call reached Slack", err)
	}
	s.clock.Set(then)
	// A guard, not a wait: moving the clock ends the held call at once;
	// a When hook not wired would leave it held for the notice's real
	// time (minutes).
	select {
	case err := <-ran:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatalf("the jobs did not end a minute after the clock moved to %v: is the When hook wired?", then)
	}
	s.b.Flush()
}

// replies are the thread replies Slack took in #payments.
func (s *slackScheduler) replies() []slacktestapi.Message {
	var out []slacktestapi.Message
	for _, m := range s.api.Messages("C0PAYMENTS") {
		if m.ThreadTS != "" {
			out = append(out, m)
		}
	}
	return out
}

// replyCalls are the thread replies the bot asked Slack to post, answered
// or not.
func (s *slackScheduler) replyCalls() []slacktestapi.Call {
	var out []slacktestapi.Call
	for _, c := range s.api.Calls("chat.postMessage") {
		if c.Param("thread_ts") != "" {
			out = append(out, c)
		}
	}
	return out
}

// TestAReminderIsNotPostedAfterTheWindowOpened: the 1h reminder, sent late
// ten seconds before the window opens, is answered 429 with Retry-After: 20.
// Waiting for it would post the reminder after the window opened: it is
// not waited for, and the reminder is recorded as failed.
func TestAReminderIsNotPostedAfterTheWindowOpened(t *testing.T) {
	s := newSlackScheduler(t, bot.SchedulerOptions{})
	s.api.FailNext("chat.postMessage", slacktestapi.Fault{Status: http.StatusTooManyRequests, RetryAfter: "20"})
	s.at(t, deadlineWindow.Add(-10*time.Second))
	if got := s.replies(); len(got) != 0 {
		t.Fatalf("the reminder was posted after its Retry-After, once the window had opened: %q", got[0].Text)
	}
	if n := len(s.replyCalls()); n != 1 {
		t.Fatalf("the reminder was asked for %d times, want once (answered 429)", n)
	}
	show := s.do(t, "bob", "show 1")
	if !strings.Contains(show, "Failed delivery of reminder to") {
		t.Fatalf("show does not list the reminder that could not be posted in time:\n%s", show)
	}
	// Why: Slack asked to wait past the window's start, not merely
	// "rate_limited".
	if want := "not posted before the window opened: the platform asked to wait 20s, longer than was left (slack chat.postMessage: rate_limited)"; !strings.Contains(show, want) {
		t.Fatalf("show does not say why the reminder was not posted, want %q:\n%s", want, show)
	}
}

// TestAWindowOpenNoticeIsNotPostedAfterTheWindowEnded: the window-open
// notice, sent late ten seconds before the window ends, is answered 429 with
// Retry-After: 20: it is not posted once the window has ended.
func TestAWindowOpenNoticeIsNotPostedAfterTheWindowEnded(t *testing.T) {
	s := newSlackScheduler(t, bot.SchedulerOptions{})
	s.api.FailNext("chat.postMessage", slacktestapi.Fault{Status: http.StatusTooManyRequests, RetryAfter: "20"})
	end := deadlineWindow.Add(2 * time.Hour)
	s.at(t, end.Add(-10*time.Second)) // the reminder is skipped: the window has opened
	if got := s.replies(); len(got) != 0 {
		t.Fatalf("the window-open notice was posted after its Retry-After, once the window had ended: %q", got[0].Text)
	}
	if n := len(s.replyCalls()); n != 1 {
		t.Fatalf("the window-open notice was asked for %d times, want once (answered 429)", n)
	}
	show := s.do(t, "bob", "show 1")
	if !strings.Contains(show, "Failed delivery of window open to") {
		t.Fatalf("show does not list the window-open notice that could not be posted in time:\n%s", show)
	}
	if want := "not posted before the window ended: the platform asked to wait 20s, longer than was left"; !strings.Contains(show, want) {
		t.Fatalf("show does not say why the window-open notice was not posted, want %q:\n%s", want, show)
	}
}

// TestAReminderStillUnansweredWhenTheWindowOpensIsRecordedAsFailed: Slack
// does not answer the reminder's post before the window opens. The post is
// given up then and recorded as failed, saying why (show lists it), not
// cut off and tried again later, when the reminder is no longer sent.
func TestAReminderStillUnansweredWhenTheWindowOpensIsRecordedAsFailed(t *testing.T) {
	s := newSlackScheduler(t, bot.SchedulerOptions{})
	arrived, _ := s.api.Hold(t, "chat.postMessage")
	s.atWhileHeld(t, deadlineWindow.Add(-10*time.Minute), arrived, deadlineWindow) // the window opens while Slack holds the reminder
	show := s.do(t, "bob", "show 1")
	// Why: Slack had not answered when the window opened, not a failure
	// of Slack's ("slack chat.postMessage: error").
	if want := "Failed delivery of reminder to #C0PAYMENTS at 2026-11-30 10:00 UTC: not posted before the window opened: no answer from Slack yet (chat.postMessage)\n"; !strings.Contains(show, want) {
		t.Fatalf("show does not list the reminder not posted before the window opened, want %q:\n%s", want, show)
	}
	// Not tried again: the window has opened, and the failure stands.
	s.at(t, deadlineWindow.Add(time.Minute))
	if n := len(s.replyCalls()); n != 2 { // the reminder, and the window-open notice
		t.Fatalf("%d replies asked for, want the reminder once and the window-open notice", n)
	}
	if show := s.do(t, "bob", "show 1"); strings.Contains(show, "posted after all") {
		t.Fatalf("the reminder's failure was marked posted after all:\n%s", show)
	}
}

// TestAReminderWhoseRootIsStillBeingPostedWhenTheWindowOpensIsRecordedAsFailed:
// the root was refused when the upgrade was scheduled, so the reminder
// posts it first; Slack does not answer that post before the window
// opens. The reminder is recorded as failed there, saying why, and not
// tried again.
func TestAReminderWhoseRootIsStillBeingPostedWhenTheWindowOpensIsRecordedAsFailed(t *testing.T) {
	s := newSlackScheduler(t, bot.SchedulerOptions{}, slacktestapi.Fault{Error: "channel_not_found"})
	arrived, _ := s.api.Hold(t, "chat.postMessage")
	s.atWhileHeld(t, deadlineWindow.Add(-10*time.Minute), arrived, deadlineWindow) // the window opens while Slack holds the root
	show := s.do(t, "bob", "show 1")
	if !strings.Contains(show, "Failed delivery of reminder to") || !strings.Contains(show, "not posted before the window opened") {
		t.Fatalf("show does not list the reminder not posted before the window opened:\n%s", show)
	}
}

// TestANoticeCutOffIsNotLoggedAsPosted: the scheduler is shut down while
// the reminder waits out Slack's Retry-After. The notice's log line says
// it was interrupted, not posted.
func TestANoticeCutOffIsNotLoggedAsPosted(t *testing.T) {
	s := newSlackScheduler(t, bot.SchedulerOptions{Grace: time.Millisecond, Reconcile: -1})
	s.api.FailNext("chat.postMessage", slacktestapi.Fault{Status: http.StatusTooManyRequests, RetryAfter: "20"})
	s.clock.Set(deadlineWindow.Add(-time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.sched.Run(ctx) }()
	s.api.Eventually(t, 10*time.Second, "the reminder answered 429", func() bool {
		return len(s.replyCalls()) == 1
	})
	cancel() // shutdown, while the adapter waits out the Retry-After
	<-done
	s.b.Flush()
	if got := s.replies(); len(got) != 0 {
		t.Fatalf("the reminder was posted: %q", got[0].Text)
	}
	var line string
	for l := range strings.Lines(s.logs.String()) {
		if strings.Contains(l, "msg=notice notice=reminder") {
			line = l
		}
	}
	if line == "" {
		t.Fatalf("no notice line logged for the reminder:\n%s", s.logs.String())
	}
	if strings.Contains(line, "outcome=posted") || !strings.Contains(line, "outcome=interrupted") || !strings.Contains(line, "interrupted=1") {
		t.Fatalf("the notice cut off by the shutdown is logged as\n%s want outcome=interrupted, interrupted=1", line)
	}
}

// slowRoots is a platform whose root posts are answered only once the
// caller has given up (slow), and whose replies never look at ctx.
type slowRoots struct {
	countingRecorder
	slow atomic.Bool
}

func (s *slowRoots) Post(ctx context.Context, ch string, m bot.Message) (bot.MessageRef, error) {
	if s.slow.Load() {
		<-ctx.Done()
		return bot.MessageRef{}, ctx.Err()
	}
	return s.countingRecorder.Post(ctx, ch, m)
}

// TestAReminderIsNotRepliedOnceItsRootTookItsTime: the reminder posts
// its missing root in #busy first, which takes until the window opens; it
// does not then reply in #payments either, even on a platform that would
// post it without looking at the time.
func TestAReminderIsNotRepliedOnceItsRootTookItsTime(t *testing.T) {
	clock, rec := bottest.NewClock(start0), &slowRoots{}
	r := newReplica(t, storetest.Target(t), clock.Now, rec, func(c *bot.Config) {
		c.Services[1].Channels = []string{"t:#payments", "t:#busy"}
	})
	rec.Fail("t:#busy", refused{}) // the root, when scheduled
	r.do(t, "alice", "schedule payments v2.4.0 at 2026-11-30 10:00 UTC for 2h")
	rec.Fail("t:#busy", nil)
	rec.slow.Store(true)
	r.at(t, clock, laterWindow.Add(-3*time.Second))
	if n := rec.replies.Load(); n != 0 {
		t.Fatalf("the reminder was replied %d times once the window had opened", n)
	}
	var why []string
	for _, f := range failuresOf(t, r, bot.KindReminder) {
		why = append(why, f.Error)
	}
	if len(why) != 2 || !strings.Contains(why[0], "not posted before the window opened") || !strings.Contains(why[1], "not posted before the window opened") {
		t.Fatalf("reminder failures %q, want one per channel: not posted before the window opened", why)
	}
}

// slowReminders is a platform that answers a reminder's reply only once
// the caller has given up.
type slowReminders struct{ bottest.Recorder }

func (s *slowReminders) Reply(ctx context.Context, root bot.MessageRef, m bot.Message) (bot.MessageRef, error) {
	if m.Kind == bot.KindReminder {
		<-ctx.Done()
		return bot.MessageRef{}, ctx.Err()
	}
	return s.Recorder.Reply(ctx, root, m)
}

// TestAReminderCutShortByTheWindowStartsNoEscalation: the last reminder,
// sent late just before the window opens, is still unanswered when it
// opens, and recorded as failed. Nobody is then chased with escalation
// direct messages during the window for a reminder they did not see, as
// when the reminder is skipped because the window has opened.
func TestAReminderCutShortByTheWindowStartsNoEscalation(t *testing.T) {
	clock, rec := bottest.NewClock(start0), &slowReminders{}
	r := newReplica(t, storetest.Target(t), clock.Now, rec)
	r.do(t, "alice", "schedule payments v2.4.0 at 2026-11-30 10:00 UTC for 2h")
	r.at(t, clock, laterWindow.Add(-3*time.Second))
	if f := failuresOf(t, r, bot.KindReminder); len(f) != 1 || !strings.Contains(f[0].Error, "not posted before the window opened") {
		t.Fatalf("reminder failures %+v, want one: not posted before the window opened", f)
	}
	r.at(t, clock, laterWindow.Add(time.Hour)) // past the escalation's moment, in the window
	if dms := rec.Kinds(bot.KindEscalation); len(dms) != 0 {
		t.Fatalf("%d escalation DMs sent during the window for a reminder cut short by it (first to %s)", len(dms), dms[0].To)
	}
	if opened := rec.Kinds(bot.KindWindowOpen); len(opened) != 1 {
		t.Fatalf("%d window-open notices, want one", len(opened))
	}
}

// lateReminders is a platform that posts a reminder's reply only once
// the caller has given up, and then says it posted it (as one that does
// not look at ctx).
type lateReminders struct{ bottest.Recorder }

func (s *lateReminders) Reply(ctx context.Context, root bot.MessageRef, m bot.Message) (bot.MessageRef, error) {
	if m.Kind == bot.KindReminder {
		<-ctx.Done()
		return s.Recorder.Reply(context.WithoutCancel(ctx), root, m)
	}
	return s.Recorder.Reply(ctx, root, m)
}

// TestAReminderPostedAsTheWindowOpensStillStartsTheEscalation: the last
// reminder, sent just before the window opens, is posted, though the
// platform says so only once the window has opened. It was not cut short:
// nothing is recorded as failed, and the escalation follows it as it
// follows any reminder that went out.
func TestAReminderPostedAsTheWindowOpensStillStartsTheEscalation(t *testing.T) {
	clock, rec := bottest.NewClock(start0), &lateReminders{}
	r := newReplica(t, storetest.Target(t), clock.Now, rec)
	r.do(t, "alice", "schedule payments v2.4.0 at 2026-11-30 10:00 UTC for 2h")
	r.at(t, clock, laterWindow.Add(-3*time.Second))
	if n := len(rec.Kinds(bot.KindReminder)); n != 1 {
		t.Fatalf("%d reminders posted, want one", n)
	}
	if f := failuresOf(t, r, bot.KindReminder); len(f) != 0 {
		t.Fatalf("reminder failures %+v, want none: it was posted", f)
	}
	r.at(t, clock, laterWindow.Add(time.Hour))
	if dms := rec.Kinds(bot.KindEscalation); len(dms) == 0 {
		t.Fatal("no escalation followed the reminder that was posted")
	}
}

// TestAReminderRateLimitedLongBeforeTheWindowIsSentAgain: the 1h reminder
// is answered 429 with a Retry-After of 40 s, longer than its job may
// wait, but long before the window opens. Its failure is Slack's rate
// limit, not "not posted before the window opened", and the reminder is
// sent again after the job's back-off.
func TestAReminderRateLimitedLongBeforeTheWindowIsSentAgain(t *testing.T) {
	s := newSlackScheduler(t, bot.SchedulerOptions{})
	s.api.FailNext("chat.postMessage", slacktestapi.Fault{Status: http.StatusTooManyRequests, RetryAfter: "40"})
	s.at(t, deadlineWindow.Add(-time.Hour))
	show := s.do(t, "bob", "show 1")
	if !strings.Contains(show, "Failed delivery of reminder to #C0PAYMENTS at 2026-11-30 09:00 UTC: slack chat.postMessage: rate_limited") || strings.Contains(show, "not posted before") {
		t.Fatalf("show does not list the reminder's rate limit as it is:\n%s", show)
	}
	s.at(t, deadlineWindow.Add(-time.Hour+time.Minute)) // past the job's back-off
	if got := s.replies(); len(got) != 1 {
		t.Fatalf("%d reminders posted after the back-off, want one", len(got))
	}
	if show := s.do(t, "bob", "show 1"); !strings.Contains(show, "posted after all") {
		t.Fatalf("the reminder's failure is not marked posted after all:\n%s", show)
	}
}
