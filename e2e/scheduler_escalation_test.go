package e2e

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
	"github.com/upgradebot/upgradebot/store/storetest"
)

// The brief escalation follows the last reminder as it actually went out:
// escalate_after after it was posted, not after its planned moment, and
// not at all when it was never posted (messages.md: "escalate_after after
// a rollback alert or the last reminder").

// shortReminders is one reminder before before the start, the escalation
// after after it.
func shortReminders(before, after time.Duration) func(*bot.Config) {
	return func(c *bot.Config) {
		c.Reminders = []time.Duration{before}
		c.EscalateAfter = after
	}
}

func escalatedTo(log *bottest.Recorder) []string {
	var dms []string
	for _, n := range log.Kinds(bot.KindEscalation) {
		dms = append(dms, n.To)
	}
	return dms
}

var everyone = []string{"t:alice", "t:bob", "t:carol"}

// escalatesAt runs r's due jobs a moment before due, when sent (who was
// escalated, read from log) must be nobody, then at due, when it must be
// want: an escalation exactly at its moment, not a millisecond sooner.
func escalatesAt(t *testing.T, r *replica, clock *bottest.Clock, log *bottest.Recorder, sent func(*bottest.Recorder) []string, due time.Time, want []string) {
	t.Helper()
	r.at(t, clock, due.Add(-time.Millisecond))
	if dms := sent(log); len(dms) != 0 {
		t.Fatalf("escalated before %s: %q", due.Format(time.TimeOnly+".000"), dms)
	}
	r.at(t, clock, due)
	if dms := sent(log); !slices.Equal(dms, want) {
		t.Fatalf("escalated at %s to %q, want %q", due.Format(time.TimeOnly+".000"), dms, want)
	}
}

// TestEscalationKeepsItsMomentAfterAReminderOnTime: the reminder goes out
// when planned; the escalation escalate_after later, not a moment sooner.
func TestEscalationKeepsItsMomentAfterAReminderOnTime(t *testing.T) {
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, log, shortReminders(2*time.Minute, time.Minute))
	r.do(t, "alice", "schedule payments v2.4.0 in 10m for 1h")
	win := start0.Add(10 * time.Minute)
	r.at(t, clock, win.Add(-2*time.Minute))
	if n := len(log.Kinds(bot.KindReminder)); n != 1 {
		t.Fatalf("%d reminders at their moment, want 1", n)
	}
	escalatesAt(t, r, clock, log, escalatedTo, win.Add(-time.Minute), everyone)
}

// TestEscalationFollowsALateReminder: every replica was down when the
// reminder fell due; it goes out 1m10s late, a few seconds before the
// escalation's planned moment has passed too. The escalation does not go
// out with it: it comes escalate_after after the reminder was posted.
func TestEscalationFollowsALateReminder(t *testing.T) {
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, log, shortReminders(2*time.Minute, time.Minute))
	r.do(t, "alice", "schedule payments v2.4.0 in 10m for 1h")
	win := start0.Add(10 * time.Minute)
	posted := win.Add(-50 * time.Second) // the reminder's moment + 1m10s
	r.at(t, clock, posted)
	rem := log.Kinds(bot.KindReminder)
	if len(rem) != 1 || !strings.Contains(rem[0].Text, "this reminder is 1m10s late") {
		t.Fatalf("want one late reminder, got %+v", rem)
	}
	if dms := escalatedTo(log); len(dms) != 0 {
		t.Fatalf("escalated together with the late reminder: %q", dms)
	}
	r.do(t, "bob", "ack 1")
	escalatesAt(t, r, clock, log, escalatedTo, posted.Add(time.Minute), []string{"t:alice", "t:carol"})
	// Re-planned (a full reconcile): it never comes back.
	if _, err := r.sched.Reconcile(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	r.at(t, clock, win.Add(30*time.Minute))
	if dms := escalatedTo(log); len(dms) != 2 {
		t.Fatalf("escalations after a re-plan: %q, want each once", dms)
	}
}

// TestEscalationOfASkippedReminderIsNotSent: every replica was down across
// the reminder's moment and the window's start. The reminder is skipped
// (the window has opened); so is the escalation that would have chased
// it. The window-open notice still goes out.
func TestEscalationOfASkippedReminderIsNotSent(t *testing.T) {
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, log, shortReminders(time.Minute, 30*time.Second))
	r.do(t, "alice", "schedule payments v2.4.0 in 10m for 1h")
	win := start0.Add(10 * time.Minute)
	for _, at := range []time.Duration{10 * time.Second, 30 * time.Second, 40 * time.Second, time.Minute, 10 * time.Minute, 59 * time.Minute} {
		r.at(t, clock, win.Add(at))
	}
	if got := summary(timed(log)); !slices.Equal(got, []string{"window_open@t:#payments"}) {
		t.Fatalf("got %q, want only the window-open notice", got)
	}
	// Nothing of it is left in the queue but the overrun.
	if next, ok, err := r.sched.NextDue(context.Background()); err != nil || !ok || !next.Equal(win.Add(time.Hour)) {
		t.Fatalf("next due = %v %v %v, want the overrun", next, ok, err)
	}
}

// reminderGate holds every reminder until open is closed, telling
// started when one is held; then it posts it.
type reminderGate struct {
	bottest.Recorder
	started chan struct{}
	open    chan struct{}
}

func (g *reminderGate) Reply(ctx context.Context, root bot.MessageRef, m bot.Message) (bot.MessageRef, error) {
	if m.Kind == bot.KindReminder {
		g.started <- struct{}{}
		<-g.open
	}
	return g.Recorder.Reply(ctx, root, m)
}

// TestEscalationWaitsForAReminderNotYetPosted: one replica is still
// posting the reminder (a slow platform) when the escalation's planned
// moment comes on another; the escalation waits for the reminder, and
// follows it escalate_after after it went out.
func TestEscalationWaitsForAReminderNotYetPosted(t *testing.T) {
	o := storetest.Target(t)
	clock := bottest.NewClock(start0)
	slow := &reminderGate{started: make(chan struct{}, 1), open: make(chan struct{})}
	log := &bottest.Recorder{}
	a := newReplica(t, o, clock.Now, slow, shortReminders(2*time.Minute, 30*time.Second))
	b := newReplica(t, o, clock.Now, log, shortReminders(2*time.Minute, 30*time.Second))
	a.do(t, "alice", "schedule payments v2.4.0 in 10m for 1h")
	win := start0.Add(10 * time.Minute)
	clock.Set(win.Add(-2 * time.Minute))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := a.sched.RunDue(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	<-slow.started // a holds the reminder
	b.at(t, clock, win.Add(-90*time.Second))
	if dms := escalatedTo(log); len(dms) != 0 {
		t.Fatalf("escalated while the reminder had not gone out: %q", dms)
	}
	posted := win.Add(-80 * time.Second)
	clock.Set(posted)
	close(slow.open)
	<-done
	a.b.Flush()
	if n := len(slow.Kinds(bot.KindReminder)); n != 1 {
		t.Fatalf("%d reminders, want 1", n)
	}
	b.at(t, clock, win.Add(-60*time.Second)) // looks again: the reminder is out
	escalatesAt(t, b, clock, log, escalatedTo, posted.Add(30*time.Second), everyone)
}

// TestEscalationAfterALateReminderOnceWithTwoReplicas: two replicas on one
// Redis come back together after the reminder's moment and run whatever is
// due at once: one late reminder, and each person's escalation once,
// escalate_after after it.
func TestEscalationAfterALateReminderOnceWithTwoReplicas(t *testing.T) {
	o := storetest.Target(t)
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	reps := []*replica{
		newReplica(t, o, clock.Now, log, shortReminders(2*time.Minute, time.Minute)),
		newReplica(t, o, clock.Now, log, shortReminders(2*time.Minute, time.Minute)),
	}
	reps[0].do(t, "alice", "schedule payments v2.4.0 in 10m for 1h")
	win := start0.Add(10 * time.Minute)
	posted := win.Add(-50 * time.Second)
	both := func(at time.Time) {
		clock.Set(at)
		var wg sync.WaitGroup
		for _, r := range reps {
			wg.Go(func() {
				if _, err := r.sched.RunDue(context.Background()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		for _, r := range reps {
			r.b.Flush()
		}
	}
	both(posted)
	if n := len(log.Kinds(bot.KindReminder)); n != 1 {
		t.Fatalf("%d reminders, want 1", n)
	}
	if dms := escalatedTo(log); len(dms) != 0 {
		t.Fatalf("escalated together with the late reminder: %q", dms)
	}
	both(posted.Add(59 * time.Second))
	if dms := escalatedTo(log); len(dms) != 0 {
		t.Fatalf("escalated early: %q", dms)
	}
	for _, at := range []time.Duration{time.Minute, time.Minute, 2 * time.Minute, 10 * time.Minute} {
		both(posted.Add(at))
	}
	dms := escalatedTo(log)
	slices.Sort(dms)
	if !slices.Equal(dms, everyone) {
		t.Fatalf("escalations: %q, want each person once", dms)
	}
}

// TestEscalationFollowsThePreBriefWhenNoReminderWasOwed: the upgrade is
// scheduled after its last reminder's moment (the window is 5 minutes off,
// the reminder 10 minutes before it). No reminder goes out; the
// escalation comes escalate_after after the pre-brief, not with it at the
// moment of scheduling (its plan used to put it at the reminder's moment
// + escalate_after, here the very moment of scheduling).
func TestEscalationFollowsThePreBriefWhenNoReminderWasOwed(t *testing.T) {
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, log, shortReminders(10*time.Minute, 5*time.Minute))
	r.do(t, "alice", "schedule payments v2.4.0 in 5m for 1h")
	r.at(t, clock, start0)
	if dms := escalatedTo(log); len(dms) != 0 {
		t.Fatalf("escalated together with the pre-brief: %q", dms)
	}
	r.do(t, "bob", "ack 1")
	escalatesAt(t, r, clock, log, escalatedTo, start0.Add(5*time.Minute), []string{"t:alice", "t:carol"})
	if n := len(log.Kinds(bot.KindReminder)); n != 0 {
		t.Fatalf("%d reminders, want none (never owed)", n)
	}
}

// TestEscalationFollowsARescheduleIntoTheReminderPeriod: the reminder went
// out for the first window; the window is then moved closer, past its new
// reminder's moment. The escalation does not go out at once with the
// rescheduled notice: it comes escalate_after after it.
func TestEscalationFollowsARescheduleIntoTheReminderPeriod(t *testing.T) {
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, log, shortReminders(10*time.Minute, 5*time.Minute))
	r.do(t, "alice", "schedule payments v2.4.0 in 1h for 1h")
	r.at(t, clock, start0.Add(50*time.Minute)) // the reminder
	if n := len(log.Kinds(bot.KindReminder)); n != 1 {
		t.Fatalf("%d reminders, want 1", n)
	}
	moved := start0.Add(52 * time.Minute)
	clock.Set(moved)
	r.do(t, "alice", "reschedule 1 in 5m")
	r.at(t, clock, moved)
	if dms := escalatedTo(log); len(dms) != 0 {
		t.Fatalf("escalated together with the rescheduled notice: %q", dms)
	}
	escalatesAt(t, r, clock, log, escalatedTo, moved.Add(5*time.Minute), everyone)
}

// TestEscalationSurvivesARescheduleThatKeepsTheStart: the reminder went
// out late, so the escalation waits for escalate_after after it; meanwhile
// the owner lengthens the window without moving its start. The start set
// nothing new: the escalation still goes out (it used to be dropped as
// "never owed", the reschedule being taken for a new window).
func TestEscalationSurvivesARescheduleThatKeepsTheStart(t *testing.T) {
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, log, shortReminders(2*time.Minute, time.Minute))
	r.do(t, "alice", "schedule payments v2.4.0 at 2026-11-22 10:10 UTC for 1h")
	win := start0.Add(10 * time.Minute)
	posted := win.Add(-50 * time.Second) // the reminder, 1m10s late
	r.at(t, clock, posted)
	if rem := log.Kinds(bot.KindReminder); len(rem) != 1 || !strings.Contains(rem[0].Text, "late") {
		t.Fatalf("want one late reminder, got %+v", rem)
	}
	clock.Set(posted.Add(20 * time.Second))
	r.do(t, "alice", "reschedule 1 at 2026-11-22 10:10 UTC for 2h")
	escalatesAt(t, r, clock, log, escalatedTo, posted.Add(time.Minute), everyone)
}

// carolOnDiscordReminded schedules payments (a Slack and a Discord
// channel; a 1h reminder, escalate_after 30m), with alice and bob reached
// on Slack and carol on Discord only, and runs its reminder.
func carolOnDiscordReminded(t *testing.T) (*slackEnv, *discordEnv, *bot.Upgrade) {
	t.Helper()
	se, de := newCrossEnv(t, func(c *bot.Config) {
		c.Reminders = []time.Duration{time.Hour}
		c.EscalateAfter = 30 * time.Minute
		for i, p := range c.People {
			if p.Name == "carol" {
				c.People[i].IDs = []string{"discord:" + discordPeople["carol"].ID}
			}
		}
	})
	if !strings.Contains(slackAnswerText(se.slash("alice", "C0OPS", "schedule payments v2.4.0 at 2026-12-01 03:00 for 90m")), "Scheduled") {
		t.Fatal("not scheduled")
	}
	se.slack.Wait()
	de.settle()
	u, err := de.store.Get(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	de.at(u.Start.Add(-time.Hour)) // the reminder, in both threads
	return se, de, u
}

// escalateWhileSlackHolds runs the brief escalation of u (its moment,
// half an hour before the window) while Slack holds its first direct
// message: it returns once Slack has that call, with release to let
// Slack answer and done, the escalation's end.
func escalateWhileSlackHolds(t *testing.T, se *slackEnv, de *discordEnv, u *bot.Upgrade) (release func(), done <-chan error) {
	t.Helper()
	arrived, release := se.api.Hold(t, "conversations.open")
	de.clock.Set(u.Start.Add(-30 * time.Minute))
	ran := make(chan error, 1)
	go func() {
		_, err := de.bot.Scheduler().RunDue(context.Background())
		ran <- err
	}()
	select {
	case <-arrived:
	case err := <-ran:
		t.Fatalf("the escalation ran without asking Slack for a direct message: %v", err)
	}
	return release, ran
}

// TestAnEscalationOnASlowPlatformDoesNotHoldUpTheOthers: payments has a
// Slack and a Discord channel; alice and bob are reached on Slack, carol
// on Discord only. Slack does not answer the escalation's first direct
// message (held): carol's reaches her on Discord all the same, while
// Slack's is still held, not after it; once Slack answers, alice and bob
// get theirs, and nothing is recorded as failed.
func TestAnEscalationOnASlowPlatformDoesNotHoldUpTheOthers(t *testing.T) {
	se, de, u := carolOnDiscordReminded(t)
	ctx := context.Background()

	release, done := escalateWhileSlackHolds(t, se, de, u)
	carol := discordPeople["carol"].ID
	de.api.Eventually(t, 10*time.Second, "carol's escalation on Discord while Slack holds the first of alice's and bob's", func() bool {
		dm := de.api.DMChannel(carol)
		return dm != "" && len(de.api.Messages(dm)) > 0
	})
	if calls := se.api.Calls("conversations.open"); len(calls) != 0 {
		t.Fatalf("Slack answered %d direct messages before carol's escalation reached Discord, want it still held", len(calls))
	}
	discordContains(t, "carol's escalation", de.api.Messages(de.api.DMChannel(carol))[0].Text(), "UPG-1")

	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	de.settle()
	var to []string
	for _, c := range se.api.Calls("chat.postMessage") {
		if ch := c.Param("channel"); strings.HasPrefix(ch, "D") {
			to = append(to, ch)
		}
	}
	slices.Sort(to)
	if want := []string{"D0ALICE", "D0BOB"}; !slices.Equal(to, want) {
		t.Errorf("escalations on Slack to %q, want %q", to, want)
	}
	if u, err := de.store.Get(ctx, 1); err != nil || len(u.Failures) != 0 {
		t.Errorf("failures %+v %v, want none", u, err)
	}
}

// directPanics is a platform whose first direct message panics, as an
// adapter with a bug.
type directPanics struct {
	bot.Messenger
	n atomic.Int32
}

func (p *directPanics) Direct(ctx context.Context, user string, m bot.Message) (bot.MessageRef, error) {
	if p.n.Add(1) == 1 {
		panic("adapter bug")
	}
	return p.Messenger.Direct(ctx, user, m)
}

// TestAPanicInOnePlatformsEscalationIsThatPersonsFailure: the Slack
// adapter panics on alice's escalation. The scheduler goes on: her
// failure is recorded on the upgrade, bob still gets his on Slack and
// carol hers on Discord, and the job is done (not run again).
func TestAPanicInOnePlatformsEscalationIsThatPersonsFailure(t *testing.T) {
	se, de, u := carolOnDiscordReminded(t)
	ctx := context.Background()
	// Nothing is under way (settled): the router may change.
	de.router["slack"] = &directPanics{Messenger: de.router["slack"]}
	de.at(u.Start.Add(-30 * time.Minute))

	if dm := de.api.DMChannel(discordPeople["carol"].ID); dm == "" || len(de.api.Messages(dm)) != 1 {
		t.Error("carol got no escalation on Discord")
	}
	var to []string
	for _, c := range se.api.Calls("chat.postMessage") {
		if ch := c.Param("channel"); strings.HasPrefix(ch, "D") {
			to = append(to, ch)
		}
	}
	if !slices.Equal(to, []string{"D0BOB"}) {
		t.Errorf("escalations on Slack to %q, want bob's", to)
	}
	u, err := de.store.Get(ctx, 1)
	if err != nil || len(u.Failures) != 1 || u.Failures[0].Target != "alice" || !strings.Contains(u.Failures[0].Error, "panic") {
		t.Fatalf("failures %+v %v, want alice's, a panic", u, err)
	}
	if next, ok, err := de.bot.Scheduler().NextDue(ctx); err != nil || !ok || !next.Equal(u.Start) {
		t.Errorf("next job at %s (%v %v), want the window's opening: the escalation done, not run again", next, ok, err)
	}
}

// TestAnEscalationRefusedOnOnePlatformIsRecordedWhileAnotherIsSlow: carol
// does not take direct messages from the bot on Discord, while Slack holds
// the escalation of alice and bob. Her refusal is on the upgrade (show
// lists it) while Slack is still held, not only once the job ends: her
// send-once key is taken, so a crash meanwhile must not lose it.
func TestAnEscalationRefusedOnOnePlatformIsRecordedWhileAnotherIsSlow(t *testing.T) {
	se, de, u := carolOnDiscordReminded(t)
	ctx := context.Background()
	de.api.RefuseDMs(discordPeople["carol"].ID)
	release, done := escalateWhileSlackHolds(t, se, de, u)
	de.api.Eventually(t, 10*time.Second, "carol's refusal recorded while Slack holds alice's and bob's", func() bool {
		got, err := de.store.Get(ctx, 1)
		return err == nil && len(got.Failures) == 1 && got.Failures[0].Target == "carol"
	})
	if calls := se.api.Calls("conversations.open"); len(calls) != 0 {
		t.Fatalf("Slack answered %d direct messages before carol's refusal was recorded, want it still held", len(calls))
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
