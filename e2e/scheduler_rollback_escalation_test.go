package e2e

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
	"github.com/upgradebot/upgradebot/store/storetest"
)

// The rollback escalation follows the rollback alert as it actually went
// out (messages.md: "escalate_after after a rollback alert"): the alert is
// a command notice, delivered by the outbox, late when the platform is slow
// or the replica that took the command died and another recovered it.

// alertGate holds the rollback alert until open is closed (started tells
// when it is held), then posts it to the shared recorder, or refuses it
// with fail.
type alertGate struct {
	*bottest.Recorder
	started chan struct{}
	open    chan struct{}
	once    sync.Once
	fail    error
}

// release lets the alert go (again: no-op); a test registers it as a
// cleanup after its replicas, so a failed test does not hang in their Flush.
func (g *alertGate) release() { g.once.Do(func() { close(g.open) }) }

func newAlertGate(log *bottest.Recorder) *alertGate {
	return &alertGate{Recorder: log, started: make(chan struct{}, 1), open: make(chan struct{})}
}

func (g *alertGate) Reply(ctx context.Context, root bot.MessageRef, m bot.Message) (bot.MessageRef, error) {
	if m.Kind == bot.KindRollback {
		if g.started != nil {
			g.started <- struct{}{}
		}
		select {
		case <-g.open:
		case <-ctx.Done():
			return bot.MessageRef{}, ctx.Err()
		}
		if g.fail != nil {
			return bot.MessageRef{}, g.fail
		}
	}
	return g.Recorder.Reply(ctx, root, m)
}

// rollbackEscalatedTo lists the rollback escalation's direct messages.
func rollbackEscalatedTo(log *bottest.Recorder) []string {
	var dms []string
	for _, n := range log.Kinds(bot.KindEscalation) {
		if strings.Contains(n.Text, "ROLLBACK") {
			dms = append(dms, n.To)
		}
	}
	return dms
}

// startedUpgrade schedules payments and starts it at its window; the time.
func startedUpgrade(t *testing.T, r *replica, clock *bottest.Clock) time.Time {
	t.Helper()
	r.do(t, "alice", "schedule payments v2.4.0 in 10m for 1h")
	win := start0.Add(10 * time.Minute)
	clock.Set(win)
	r.do(t, "alice", "start 1")
	return win
}

// rollbackNoWait types the rollback command on r without waiting for its
// notices.
func rollbackNoWait(t *testing.T, r *replica) {
	t.Helper()
	m := r.b.Handle(context.Background(), bot.Invocation{Actor: bot.Actor{ID: "t:alice"}, Channel: "t:#ops"}, "rollback 1 broken")
	if m.Kind == bot.KindError {
		t.Fatalf("rollback: %s", m.Plain(time.UTC))
	}
}

// TestRollbackEscalationKeepsItsMomentAfterAnAlertOnTime: the alert goes
// out with the rollback; the escalation escalate_after later, not a moment
// sooner or later, and once.
func TestRollbackEscalationKeepsItsMomentAfterAnAlertOnTime(t *testing.T) {
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	r := newReplica(t, storetest.Target(t), clock.Now, log, shortReminders(2*time.Minute, time.Minute))
	at := startedUpgrade(t, r, clock).Add(5 * time.Minute)
	clock.Set(at)
	r.do(t, "alice", "rollback 1 broken")
	r.do(t, "bob", "ack 1")
	escalatesAt(t, r, clock, log, rollbackEscalatedTo, at.Add(time.Minute), []string{"t:alice", "t:carol"})
	r.at(t, clock, at.Add(30*time.Minute))
	if dms := rollbackEscalatedTo(log); len(dms) != 2 {
		t.Fatalf("rollback escalations: %q, want each once", dms)
	}
}

// TestRollbackEscalationAfterARefusedAlert: the platform refuses the alert
// (recorded as a failure on the upgrade) after holding it 20s; the
// escalation, which then is all that reaches people, comes escalate_after
// after that.
func TestRollbackEscalationAfterARefusedAlert(t *testing.T) {
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	gate := newAlertGate(log)
	gate.fail = errors.New("channel_not_found")
	r := newReplica(t, storetest.Target(t), clock.Now, gate, shortReminders(2*time.Minute, time.Minute))
	t.Cleanup(gate.release)
	at := startedUpgrade(t, r, clock).Add(5 * time.Minute)
	clock.Set(at)
	rollbackNoWait(t, r)
	<-gate.started
	clock.Set(at.Add(20 * time.Second))
	gate.release()
	r.b.Flush()
	if n := len(log.Kinds(bot.KindRollback)); n != 0 {
		t.Fatalf("%d rollback alerts posted, want none (refused)", n)
	}
	r.at(t, clock, at.Add(time.Minute))
	escalatesAt(t, r, clock, log, rollbackEscalatedTo, at.Add(80*time.Second), everyone)
}

// TestRollbackEscalationWaitsForALateAlert: the platform holds the alert
// for 1m30s (retries); the escalation's planned moment (rollback + 1m)
// comes on another replica meanwhile. It waits, and follows the alert
// escalate_after after it was posted.
func TestRollbackEscalationWaitsForALateAlert(t *testing.T) {
	o := storetest.Target(t)
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	gate := newAlertGate(log)
	a := newReplica(t, o, clock.Now, gate, shortReminders(2*time.Minute, time.Minute))
	b := newReplica(t, o, clock.Now, log, shortReminders(2*time.Minute, time.Minute))
	t.Cleanup(gate.release)
	at := startedUpgrade(t, a, clock).Add(5 * time.Minute)
	clock.Set(at)
	rollbackNoWait(t, a)
	<-gate.started
	b.at(t, clock, at.Add(time.Minute))
	if dms := rollbackEscalatedTo(log); len(dms) != 0 {
		t.Fatalf("escalated while the alert had not gone out: %q", dms)
	}
	posted := at.Add(90 * time.Second)
	clock.Set(posted)
	gate.release()
	a.b.Flush()
	if n := len(log.Kinds(bot.KindRollback)); n != 1 {
		t.Fatalf("%d rollback alerts, want 1", n)
	}
	b.do(t, "bob", "ack 1")
	b.at(t, clock, at.Add(2*time.Minute)) // looks again: the alert is out
	escalatesAt(t, b, clock, log, rollbackEscalatedTo, posted.Add(time.Minute), []string{"t:alice", "t:carol"})
	b.at(t, clock, posted.Add(30*time.Minute))
	if dms := rollbackEscalatedTo(log); len(dms) != 2 {
		t.Fatalf("rollback escalations: %q, want each once", dms)
	}
}

// TestRollbackEscalationFollowsARecoveredAlert: the replica that took the
// rollback dies with the alert queued; another recovers it RecoverAfter
// later and posts it. The escalation comes escalate_after after that, not
// at its planned moment.
func TestRollbackEscalationFollowsARecoveredAlert(t *testing.T) {
	o := storetest.Target(t)
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	dead := &hangingPlatform{hang: func(_ string, m bot.Message) bool { return m.Kind == bot.KindRollback },
		started: make(chan string, 1), release: make(chan struct{})}
	a := newReplica(t, o, clock.Now, dead, shortReminders(2*time.Minute, time.Minute))
	t.Cleanup(func() { close(dead.release) }) // before a's Flush: the dead replica lets go
	b := newReplica(t, o, clock.Now, log, shortReminders(2*time.Minute, time.Minute))
	at := startedUpgrade(t, a, clock).Add(5 * time.Minute)
	clock.Set(at)
	rollbackNoWait(t, a)
	<-dead.started
	b.at(t, clock, at.Add(time.Minute))
	b.at(t, clock, at.Add(2*time.Minute))
	if dms := rollbackEscalatedTo(log); len(dms) != 0 {
		t.Fatalf("escalated while the alert had not gone out: %q", dms)
	}
	recovered := at.Add(bot.RecoverAfter)
	clock.Set(recovered)
	// The alert, and the debrief prompt queued behind it.
	if n, err := b.b.RecoverNotices(context.Background()); err != nil || n != 2 {
		t.Fatalf("RecoverNotices = %d, %v; want the alert and the debrief prompt", n, err)
	}
	b.b.Flush()
	if n := len(log.Kinds(bot.KindRollback)); n != 1 {
		t.Fatalf("%d rollback alerts, want 1", n)
	}
	b.at(t, clock, at.Add(3*time.Minute))
	escalatesAt(t, b, clock, log, rollbackEscalatedTo, recovered.Add(time.Minute), everyone)
}

// TestRollbackEscalationAfterALateAlertOnceWithTwoReplicas: two replicas
// run whatever is due at once while the alert is held 1m40s; each person
// gets the escalation once, escalate_after after the alert.
func TestRollbackEscalationAfterALateAlertOnceWithTwoReplicas(t *testing.T) {
	o := storetest.Target(t)
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	gate := newAlertGate(log)
	reps := []*replica{
		newReplica(t, o, clock.Now, gate, shortReminders(2*time.Minute, time.Minute)),
		newReplica(t, o, clock.Now, log, shortReminders(2*time.Minute, time.Minute)),
	}
	t.Cleanup(gate.release)
	at := startedUpgrade(t, reps[0], clock).Add(5 * time.Minute)
	clock.Set(at)
	rollbackNoWait(t, reps[0])
	<-gate.started
	both := func(when time.Time) {
		clock.Set(when)
		var wg sync.WaitGroup
		for _, r := range reps {
			wg.Go(func() {
				if _, err := r.sched.RunDue(context.Background()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		reps[1].b.Flush()
	}
	both(at.Add(time.Minute))
	posted := at.Add(100 * time.Second)
	clock.Set(posted)
	gate.release()
	reps[0].b.Flush()
	for _, d := range []time.Duration{0, 20 * time.Second, time.Minute - time.Millisecond} {
		both(posted.Add(d))
	}
	if dms := rollbackEscalatedTo(log); len(dms) != 0 {
		t.Fatalf("escalated early: %q", dms)
	}
	for _, d := range []time.Duration{time.Minute, time.Minute, 2 * time.Minute, 10 * time.Minute} {
		both(posted.Add(d))
	}
	dms := rollbackEscalatedTo(log)
	slices.Sort(dms)
	if !slices.Equal(dms, everyone) {
		t.Fatalf("rollback escalations: %q, want each person once", dms)
	}
}
