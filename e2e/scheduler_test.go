// Package e2e holds end-to-end tests: the real core, the real Redis store
// (see storetest for which server) and platform fakes, one story per test.
package e2e

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
	"github.com/upgradebot/upgradebot/store"
	"github.com/upgradebot/upgradebot/store/storetest"
)

// timed lists the scheduler's notices (not the commands' ones) in order.
func timed(r *bottest.Recorder) []bottest.Sent {
	return r.Kinds(bot.KindReminder, bot.KindWindowOpen, bot.KindOverrun, bot.KindEscalation)
}

func schedConfig() bot.Config {
	return bot.Config{
		Services: []bot.Service{
			{Name: "ledger", Owners: []string{"carol"}, Channels: []string{"t:#ledger"}},
			{Name: "payments", Owners: []string{"alice"}, Channels: []string{"t:#payments"}, DependsOn: []string{"ledger"}},
			{Name: "checkout", Owners: []string{"bob", "carol"}, Channels: []string{"t:#checkout"}, DependsOn: []string{"payments"}},
		},
		People: []bot.Person{
			{Name: "alice", IDs: []string{"t:alice"}}, {Name: "bob", IDs: []string{"t:bob"}}, {Name: "carol", IDs: []string{"t:carol"}},
		},
		DefaultLocation: time.UTC, MaxWindow: 24 * time.Hour, DefaultDuration: time.Hour,
		Reminders:     []time.Duration{168 * time.Hour, 72 * time.Hour, time.Hour},
		EscalateAfter: 30 * time.Minute,
		EarlyStart:    30 * 24 * time.Hour,
	}
}

// replica is one bot process: its own store connection, bot and scheduler.
type replica struct {
	st    *store.Store
	b     *bot.Bot
	sched *bot.Scheduler
}

func newReplica(t *testing.T, o store.Options, clock func() time.Time, ms bot.Messenger, adjust ...func(*bot.Config)) *replica {
	t.Helper()
	return newReplicaWith(t, o, clock, ms, bot.SchedulerOptions{}, adjust...)
}

func (r *replica) do(t *testing.T, who, text string) bot.Message {
	t.Helper()
	m := r.b.Handle(context.Background(), bot.Invocation{Actor: bot.Actor{ID: "t:" + who}, Channel: "t:#ops"}, text)
	if m.Kind == bot.KindError {
		t.Fatalf("%s: /upgrade %s: %s", who, text, m.Plain(time.UTC))
	}
	r.b.Flush()
	return m
}

// at moves the clock and runs what fell due.
func (r *replica) at(t *testing.T, c *bottest.Clock, when time.Time) {
	t.Helper()
	c.Set(when)
	if _, err := r.sched.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.b.Flush()
}

func summary(ns []bottest.Sent) []string {
	var out []string
	for _, n := range ns {
		s := string(n.Msg.Kind) + "@" + n.To
		if n.Msg.Kind == bot.KindReminder {
			s += " " + strings.SplitN(strings.SplitN(n.Text, "(in ", 2)[1], ")", 2)[0]
		}
		out = append(out, s)
	}
	return out
}

var start0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func TestSchedulerRemindersWindowOpenOverrun(t *testing.T) {
	t.Logf("redis: %s", storetest.Backend())
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, log)
	r.do(t, "alice", "schedule payments v2.4.0 at 2026-11-30 10:00 UTC for 2h")
	win := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

	for _, step := range []time.Time{
		win.Add(-168 * time.Hour).Add(-time.Second), // nothing yet
		win.Add(-168 * time.Hour),
		win.Add(-72 * time.Hour),
		win.Add(-time.Hour),
		win,
		win.Add(2 * time.Hour),
		win.Add(30 * time.Hour), // nothing more
	} {
		r.at(t, clock, step)
	}
	got := summary(timed(log))
	want := []string{
		"reminder@t:#payments 7d", "reminder@t:#payments 3d", "reminder@t:#payments 1h",
		"escalation@t:alice", "escalation@t:bob", "escalation@t:carol",
		"window_open@t:#payments", "overrun@t:#payments",
	}
	// The escalation falls between the 1h reminder and the window open; the
	// DMs go out in audience order.
	if !slices.Equal(got, want) {
		t.Fatalf("timed notices:\n got %q\nwant %q", got, want)
	}
	// Every notice is an event (spec/http.md): the window-open notice and
	// each escalation's direct message too, in the shared stream.
	wantEvents := []string{bot.EventScheduled, bot.EventReminder, bot.EventReminder, bot.EventReminder,
		bot.EventEscalated, bot.EventEscalated, bot.EventEscalated, bot.EventWindowOpen, bot.EventOverrun}
	var events []string
	untilStream(t, r, func([]bot.StreamEvent) bool {
		events = streamTypes(t, r, "UPG-1")
		return slices.Equal(events, wantEvents)
	})
	if !slices.Equal(events, wantEvents) {
		t.Fatalf("events:\n got %q\nwant %q", events, wantEvents)
	}
}

// untilStream reads the shared stream until done says it holds what the
// test waits for (the relay is in the background), for 10 s at most.
func untilStream(t *testing.T, r *replica, done func([]bot.StreamEvent) bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		evs, err := r.st.EventsAfter(context.Background(), "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		if done(evs) {
			return
		}
	}
}

// TestWindowOpenEventSaysLateAsTheNoticeDoes: a job run seconds after its
// moment (a poll's lag) is on time, in its event as in its notice; one a
// minute or more late says how late.
func TestWindowOpenEventSaysLateAsTheNoticeDoes(t *testing.T) {
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, log)
	r.do(t, "alice", "schedule payments v2.4.0 in 3h for 1h")
	r.do(t, "alice", "schedule payments v2.5.0 in 6h for 1h")
	r.at(t, clock, start0.Add(3*time.Hour+2*time.Second))
	r.at(t, clock, start0.Add(6*time.Hour+5*time.Minute))
	want := map[string]string{"UPG-1": "0s", "UPG-2": "5m0s"}
	got := map[string]string{}
	untilStream(t, r, func(evs []bot.StreamEvent) bool {
		for _, e := range evs {
			if e.Event.Type == bot.EventWindowOpen {
				got[e.Event.UpgradeID], _ = e.Event.Data["late"].(string)
			}
		}
		return len(got) == len(want)
	})
	if !maps.Equal(got, want) {
		t.Fatalf("late of the window_open events: %v, want %v", got, want)
	}
}

func TestSchedulerRescheduleMovesCancelRemoves(t *testing.T) {
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, log)
	r.do(t, "alice", "schedule payments v2.4.0 at 2026-11-30 10:00 UTC for 2h")
	r.do(t, "alice", "reschedule 1 at 2026-12-04 10:00 UTC")
	r.at(t, clock, time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)) // the old 7-day reminder time
	if got := timed(log); len(got) != 0 {
		t.Fatalf("a stale reminder fired: %v", summary(got))
	}
	r.at(t, clock, time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)) // the new 7-day reminder
	if got := summary(timed(log)); !slices.Equal(got, []string{"reminder@t:#payments 7d"}) {
		t.Fatalf("after reschedule: %q", got)
	}
	r.do(t, "alice", "cancel 1 postponed")
	log.Reset()
	for d := 0; d < 10; d++ {
		r.at(t, clock, time.Date(2026, 11, 27+d, 10, 0, 0, 0, time.UTC))
	}
	if got := timed(log); len(got) != 0 {
		t.Fatalf("a cancelled upgrade still sent: %v", summary(got))
	}
	if next, ok, err := r.st.NextDue(context.Background()); err != nil || ok {
		t.Fatalf("jobs left after cancel: %v %v %v", next, ok, err)
	}
}

func TestEscalationOnlyToThoseWhoHaveNotAcknowledged(t *testing.T) {
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, log)
	r.do(t, "alice", "schedule payments v2.4.0 in 3h for 1h")
	r.do(t, "bob", "ack 1")
	r.at(t, clock, start0.Add(2*time.Hour))                // the 1h reminder
	r.at(t, clock, start0.Add(2*time.Hour+30*time.Minute)) // 1h reminder + 30m
	var dms []string
	for _, n := range timed(log) {
		if n.Msg.Kind == bot.KindEscalation {
			dms = append(dms, n.To)
		}
	}
	if !slices.Equal(dms, []string{"t:alice", "t:carol"}) {
		t.Fatalf("brief escalation went to %q, want alice and carol", dms)
	}

	r.do(t, "alice", "start 1")
	r.do(t, "alice", "rollback 1 broken")
	r.do(t, "carol", "ack 1")
	log.Reset()
	r.at(t, clock, start0.Add(3*time.Hour)) // rollback + 30m
	dms = nil
	for _, n := range timed(log) {
		if n.Msg.Kind == bot.KindEscalation {
			dms = append(dms, n.To)
			if !strings.Contains(n.Text, "ROLLBACK") {
				t.Errorf("rollback escalation text: %s", n.Text)
			}
		}
	}
	if !slices.Equal(dms, []string{"t:alice", "t:bob"}) {
		t.Fatalf("rollback escalation went to %q, want alice and bob", dms)
	}
}

// TestThreeReplicasSendEachJobOnce: 1,000 upgrades whose 1h reminder is
// due, three schedulers on one Redis claiming at once: each reminder is
// posted exactly once.
func TestThreeReplicasSendEachJobOnce(t *testing.T) {
	const n = 1000
	o := storetest.Target(t)
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	reps := []*replica{newReplica(t, o, clock.Now, log), newReplica(t, o, clock.Now, log), newReplica(t, o, clock.Now, log)}
	ctx := context.Background()
	win := start0.Add(2 * time.Hour)
	for i := 1; i <= n; i++ {
		u := &bot.Upgrade{ID: i, Service: "payments", Version: "v1", Start: win, End: win.Add(time.Hour), State: bot.Scheduled,
			Audience: []string{"alice"}, Threads: []bot.MessageRef{{Channel: "t:#payments", ID: "root"}}, Rev: 1}
		if err := reps[0].st.Create(ctx, u, bot.Decision{Action: "scheduled"}); err != nil {
			t.Fatal(err)
		}
		if err := reps[i%3].sched.Plan(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	clock.Set(win.Add(-time.Hour)) // every 1h reminder is due
	var wg sync.WaitGroup
	counts := make([]int, len(reps))
	for i, r := range reps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := r.sched.RunDue(ctx)
			if err != nil {
				t.Error(err)
			}
			counts[i] = c
		}()
	}
	wg.Wait()
	per := map[string]int{}
	for _, nt := range timed(log) {
		per[nt.Msg.UpgradeID]++
	}
	if len(per) != n {
		t.Fatalf("%d upgrades got a reminder, want %d", len(per), n)
	}
	for id, c := range per {
		if c != 1 {
			t.Fatalf("%s got %d reminders", id, c)
		}
	}
	t.Logf("jobs run per replica: %v", counts)
}

// TestDeadReplicaJobIsRetakenAfterLease: a replica claims a due job and dies
// before sending; another sends it once the lease has run out, not before.
func TestDeadReplicaJobIsRetakenAfterLease(t *testing.T) {
	o := storetest.Target(t)
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	alive := newReplica(t, o, clock.Now, log)
	alive.do(t, "alice", "schedule payments v2.4.0 in 2h for 1h")
	ctx := context.Background()

	clock.Set(start0.Add(time.Hour)) // the 1h reminder is due
	dead := storetest.Open(t, o)
	claimed, err := dead.Claim(ctx, clock.Now(), 2*time.Minute, 10)
	if err != nil || len(claimed) != 1 || claimed[0].Kind != bot.JobReminder {
		t.Fatalf("the doomed replica claimed %v, %v", claimed, err)
	}
	dead.Close() // it dies without sending

	alive.at(t, clock, start0.Add(time.Hour+time.Minute))
	if got := timed(log); len(got) != 0 {
		t.Fatalf("sent while the lease still held: %v", summary(got))
	}
	alive.at(t, clock, start0.Add(time.Hour+2*time.Minute+time.Second))
	if got := summary(timed(log)); !slices.Equal(got, []string{"reminder@t:#payments 57m"}) {
		t.Fatalf("after the lease: %q", got)
	}
}

// TestWakeAcrossReplicas: a replica sleeping in Run is woken when another
// plans a nearer job, and sends it on time without polling.
func TestWakeAcrossReplicas(t *testing.T) {
	o := storetest.Target(t)
	log := &bottest.Recorder{}
	planner := newReplica(t, o, time.Now, log)
	q := &sleepWatch{Store: storetest.Open(t, o), asleep: make(chan struct{})}
	sent := &sentWatch{Recorder: log, windowOpen: make(chan struct{})}
	b := bot.New(bot.Options{Config: schedConfig(), Store: q.Store, Messenger: bot.Router{"t": sent}, RefreshIntervalSet: true,
		Queue: q, Scheduler: bot.SchedulerOptions{MaxIdle: time.Hour}})
	runner := b.Scheduler()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = runner.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	// It has subscribed to wake-ups (before its first look at the queue)
	// and found nothing due: from here it sleeps MaxIdle unless woken. A
	// job planned before this would be found by that look, woken or not.
	select {
	case <-q.asleep:
	case <-time.After(30 * time.Second):
		t.Fatal("the replica never looked at its empty queue")
	}

	u := &bot.Upgrade{ID: 1, Service: "payments", Version: "v1", Start: time.Now().Add(500 * time.Millisecond).Truncate(time.Millisecond),
		State: bot.Scheduled, Threads: []bot.MessageRef{{Channel: "t:#payments", ID: "root"}}, Rev: 1}
	u.End = u.Start.Add(time.Hour)
	if err := planner.st.Create(ctx, u, bot.Decision{Action: "scheduled"}); err != nil {
		t.Fatal(err)
	}
	if err := planner.sched.Plan(ctx, u); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sent.windowOpen:
	case <-time.After(30 * time.Second):
		t.Fatal("the sleeping replica never sent the window-open notice (MaxIdle is 1h, so only a wake-up could)")
	}
}

// sleepWatch is a replica's job queue that tells when the replica's
// scheduler is about to sleep with nothing planned: NextDue, its last look
// before it sleeps, found no job.
type sleepWatch struct {
	*store.Store
	once   sync.Once
	asleep chan struct{}
}

func (q *sleepWatch) NextDue(ctx context.Context) (time.Time, bool, error) {
	at, ok, err := q.Store.NextDue(ctx)
	if err == nil && !ok {
		q.once.Do(func() { close(q.asleep) })
	}
	return at, ok, err
}

// sentWatch records like its Recorder and tells when a window-open notice
// went out.
type sentWatch struct {
	*bottest.Recorder
	once       sync.Once
	windowOpen chan struct{}
}

func (s *sentWatch) Reply(ctx context.Context, root bot.MessageRef, m bot.Message) (bot.MessageRef, error) {
	ref, err := s.Recorder.Reply(ctx, root, m)
	s.seen(m, err)
	return ref, err
}

func (s *sentWatch) Post(ctx context.Context, ch string, m bot.Message) (bot.MessageRef, error) {
	ref, err := s.Recorder.Post(ctx, ch, m)
	s.seen(m, err)
	return ref, err
}

func (s *sentWatch) seen(m bot.Message, err error) {
	if err == nil && m.Kind == bot.KindWindowOpen {
		s.once.Do(func() { close(s.windowOpen) })
	}
}

// TestLateReminderStillUsefulIsSentLate: every replica was down when the 1h
// reminder fell due; an extend re-plans meanwhile; when a scheduler runs
// again before the window opens, the reminder goes out and says it is late.
// A 7-day reminder whose window has already opened is skipped instead.
func TestLateReminderStillUsefulIsSentLate(t *testing.T) {
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, log)
	r.do(t, "alice", "schedule payments v2.4.0 at 2026-11-30 10:00 UTC for 2h")
	win := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	r.at(t, clock, win.Add(-168*time.Hour))
	r.at(t, clock, win.Add(-72*time.Hour))
	log.Reset()

	clock.Set(win.Add(-40 * time.Minute)) // down since 1h before: the reminder is 20m overdue
	r.do(t, "alice", "extend 1 30m")      // re-plans while it is overdue
	r.at(t, clock, win.Add(-40*time.Minute))
	var reminders []string
	for _, n := range timed(log) {
		if n.Msg.Kind == bot.KindReminder {
			reminders = append(reminders, n.Text)
		}
	}
	if len(reminders) != 1 || !strings.Contains(reminders[0], "this reminder is 20m late") || !strings.Contains(reminders[0], "(in 40m)") {
		t.Fatalf("want one late 1h reminder, got %q", reminders)
	}
}

func TestSevenDayReminderAfterWindowOpenedIsSkipped(t *testing.T) {
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, log)
	r.do(t, "alice", "schedule payments v2.4.0 at 2026-11-30 10:00 UTC for 2h")
	// Nobody ran for 8 days: the window has opened (and is still running).
	// Reminders are useless now; the window-open notice is still useful
	// until the window ends. The brief escalation follows the last reminder,
	// which was never posted: there is none.
	r.at(t, clock, time.Date(2026, 11, 30, 11, 0, 0, 0, time.UTC))
	want := []string{"window_open@t:#payments"}
	if got := summary(timed(log)); !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// slowPlatform takes its time to post, and gives up when its context ends
// (as a real API client does), recording only what it delivered.
type slowPlatform struct {
	bottest.Recorder
	delay time.Duration
}

func (s *slowPlatform) Reply(ctx context.Context, root bot.MessageRef, m bot.Message) (bot.MessageRef, error) {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return bot.MessageRef{}, ctx.Err()
	}
	return s.Recorder.Reply(ctx, root, m)
}

// TestSlowPlatformNeverDoublesNotices: when posting is slower than a claimed
// batch's lease allows, the rest of the batch is left to expire and be
// retaken, so two replicas never send the same notice (real clocks).
func TestSlowPlatformNeverDoublesNotices(t *testing.T) {
	o := storetest.Target(t)
	slow := &slowPlatform{delay: 100 * time.Millisecond}
	ctx := context.Background()
	var reps []*replica
	for range 2 {
		st := storetest.Open(t, o)
		b := bot.New(bot.Options{Config: schedConfig(), Store: st, Messenger: bot.Router{"t": slow}, RefreshIntervalSet: true,
			Queue: st, Scheduler: bot.SchedulerOptions{Lease: 500 * time.Millisecond, Batch: 20}})
		reps = append(reps, &replica{st: st, b: b, sched: b.Scheduler()})
	}
	const n = 20
	soon := time.Now().Add(time.Second)
	for i := 1; i <= n; i++ {
		u := &bot.Upgrade{ID: i, Service: "payments", Version: "v1", Start: soon, End: soon.Add(time.Hour), State: bot.Scheduled,
			Threads: []bot.MessageRef{{Channel: "t:#payments", ID: "root"}}, Rev: 1}
		if err := reps[0].st.Create(ctx, u, bot.Decision{Action: "scheduled"}); err != nil {
			t.Fatal(err)
		}
		if err := reps[0].sched.Plan(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Until(soon))
	distinct := func() map[string]int {
		per := map[string]int{}
		for _, nt := range timed(&slow.Recorder) {
			per[nt.Msg.UpgradeID]++
		}
		return per
	}
	var wg sync.WaitGroup
	stop := time.Now().Add(20 * time.Second)
	for _, r := range reps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Keep running until everything is sent, then one more lease so
			// a duplicate would have its chance to show.
			var doneAt time.Time
			for time.Now().Before(stop) && (doneAt.IsZero() || time.Since(doneAt) < 700*time.Millisecond) {
				if _, err := r.sched.RunDue(ctx); err != nil {
					t.Error(err)
					return
				}
				if doneAt.IsZero() && len(distinct()) == n {
					doneAt = time.Now()
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	per := distinct()
	if len(per) != n {
		t.Fatalf("%d of %d notices sent", len(per), n)
	}
	for id, c := range per {
		if c != 1 {
			t.Errorf("%s was sent %d times", id, c)
		}
	}
}

// TestEscalationSkipsGroups: a group owns checkout; it is in the audience and
// mentioned in the thread, but has no inbox, so no direct message goes to it.
func TestEscalationSkipsGroups(t *testing.T) {
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, log, func(c *bot.Config) {
		c.Services[2].Owners = []string{"t:SCHECKOUT"}
		c.Groups = []string{"t:SCHECKOUT"}
	})
	r.do(t, "alice", "schedule payments v2.4.0 in 3h for 1h")
	r.at(t, clock, start0.Add(2*time.Hour)) // the 1h reminder
	r.at(t, clock, start0.Add(2*time.Hour+30*time.Minute))
	var dms []string
	for _, n := range timed(log) {
		if n.Msg.Kind == bot.KindEscalation {
			dms = append(dms, n.To)
		}
	}
	if !slices.Equal(dms, []string{"t:alice"}) {
		t.Fatalf("escalation DMs went to %q; the group has no inbox", dms)
	}
	if rem := log.Kinds(bot.KindReminder); len(rem) != 1 || !strings.Contains(rem[0].Text, "@alice @SCHECKOUT") {
		t.Fatalf("the reminder should mention the group: %+v", rem)
	}
}

// An upgrade scheduled about as far ahead as a reminder ("in 1h", or an
// hour and two minutes, with a 1h reminder) gets no reminder minutes after
// its pre-brief: the pre-brief is it. The team was pinged twice within a
// second (or two minutes).
func TestNoReminderMinutesAfterThePreBrief(t *testing.T) {
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, log)
	r.do(t, "alice", "schedule payments v2.4.0 in 1h for 1h")
	r.do(t, "carol", "schedule ledger v9 in 62m for 1h")
	r.do(t, "carol", "schedule checkout v3 in 66m for 1h")
	for _, m := range []time.Duration{0, 2, 6} {
		r.at(t, clock, start0.Add(m*time.Minute))
	}
	if got, want := summary(timed(log)), []string{"reminder@t:#checkout 1h"}; !slices.Equal(got, want) {
		t.Fatalf("reminders:\n got %q\nwant %q (only the one due 6 minutes after its pre-brief)", got, want)
	}
	log.Reset()
	r.at(t, clock, start0.Add(time.Hour))
	for _, n := range timed(log) {
		if n.Msg.Kind == bot.KindReminder {
			t.Fatalf("a reminder after the pre-briefs: %s", n.Text)
		}
	}
	// Whoever has not acknowledged is still chased, after the pre-brief.
	if got := summary(timed(log)); !slices.Contains(got, "escalation@t:alice") {
		t.Fatalf("no escalation: %q", got)
	}
}

// Without reminders (reminders.before = []), whoever has not acknowledged
// the pre-brief is still chased, escalate_after after it: the pre-brief is
// the last one (spec/config.md). Nobody was chased at all.
func TestWithoutRemindersTheEscalationFollowsThePreBrief(t *testing.T) {
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, log, func(c *bot.Config) { c.Reminders = nil })
	r.do(t, "alice", "schedule payments v2.4.0 in 2h for 1h")
	r.at(t, clock, start0.Add(29*time.Minute))
	if got := summary(timed(log)); len(got) != 0 {
		t.Fatalf("before escalate_after: %q", got)
	}
	r.at(t, clock, start0.Add(30*time.Minute))
	if got, want := summary(timed(log)), []string{"escalation@t:alice", "escalation@t:bob", "escalation@t:carol"}; !slices.Equal(got, want) {
		t.Fatalf("escalate_after after the pre-brief:\n got %q\nwant %q", got, want)
	}
}

// Upgrades scheduled before the bot chased without reminders have no
// escalation planned; the first start of this version plans one for each,
// long past: it is skipped, not a burst of direct messages about
// pre-briefs of days ago.
func TestWithoutRemindersAnEscalationDaysLateIsSkipped(t *testing.T) {
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	o := storetest.Target(t)
	r := newReplica(t, o, clock.Now, log, func(c *bot.Config) { c.Reminders = nil; c.EscalateAfter = 0 })
	r.do(t, "alice", "schedule payments v2.4.0 in 72h for 1h")
	clock.Set(start0.Add(48 * time.Hour))
	chaser := newReplica(t, o, clock.Now, log, func(c *bot.Config) { c.Reminders = nil })
	if _, err := chaser.sched.Reconcile(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	chaser.at(t, clock, start0.Add(48*time.Hour))
	if got := summary(timed(log)); len(got) != 0 {
		t.Fatalf("escalations 2 days after the pre-brief: %q", got)
	}
}
