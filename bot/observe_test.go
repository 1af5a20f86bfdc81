package bot_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
	"github.com/upgradebot/upgradebot/commands"
)

// observed is a bot.Observer that writes down every call, as
// "command test schedule ok", "notice root posted", "ack brief 1m0s",
// "job reminder 0s".
type observed struct {
	mu    sync.Mutex
	calls []string
}

func (o *observed) add(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, s)
}

func (o *observed) Command(platform, command, outcome string, took time.Duration) {
	if took < 0 {
		o.add("negative latency")
	}
	if !slices.Contains(bot.CommandOutcomes, outcome) || !slices.Contains(append(commands.Names(), bot.CommandPress, bot.CommandUnknown), command) {
		o.add(fmt.Sprintf("command %s %s %s, which commands.Names or bot.CommandOutcomes lacks", platform, command, outcome))
		return
	}
	o.add(fmt.Sprintf("command %s %s %s", platform, command, outcome))
}
func (o *observed) Notice(kind bot.Kind, outcome string) {
	// What /metrics starts at zero must hold every kind and outcome told.
	known := slices.Contains(bot.NoticeOutcomes, outcome) || kind == bot.KindRoot && (outcome == bot.NoticeEdited || outcome == bot.NoticeEditFailed)
	if !slices.Contains(bot.NoticeKinds, kind) || !known {
		o.add(fmt.Sprintf("notice %s %s, which bot.NoticeKinds or bot.NoticeOutcomes lacks", kind, outcome))
		return
	}
	o.add(fmt.Sprintf("notice %s %s", kind, outcome))
}
func (o *observed) Ack(scope string, since time.Duration) {
	o.add(fmt.Sprintf("ack %s %s", scope, since))
}
func (o *observed) Job(kind bot.JobKind, lag time.Duration) {
	o.add(fmt.Sprintf("job %s %s", kind, lag))
}

// take returns the calls so far and forgets them.
func (o *observed) take() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	c := o.calls
	o.calls = nil
	return c
}

func observedFixture(t *testing.T) (*fixture, *observed) {
	t.Helper()
	obs := &observed{}
	f := &fixture{st: bottest.NewMemStore(), rec: &bottest.Recorder{}, clock: bottest.NewClock(t0)}
	f.b = bot.New(bot.Options{Config: testConfig(), Store: f.st, Messenger: bot.Router{"test": f.rec, "other": f.rec},
		Now: f.clock.Now, RefreshIntervalSet: true, Observer: obs})
	t.Cleanup(f.b.Flush)
	return f, obs
}

func wantCalls(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: observed\n  %q\nwant\n  %q", what, got, want)
	}
}

// wantCallsAnyOrder is wantCalls where a notice goes out in the background
// while the command is observed: either may come first.
func wantCallsAnyOrder(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	wantCalls(t, what, slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))...)
}

func TestObserverHearsCommandsNoticesAndAcks(t *testing.T) {
	f, obs := observedFixture(t)
	ctx := context.Background()

	f.ok(t, "alice", schedulePayments)
	f.b.Flush()
	wantCallsAnyOrder(t, "schedule", obs.take(), "command test schedule ok", "notice root posted")

	// Refusals: of the rules, of the grammar (the verb is known), and text
	// naming no subcommand (the label stays bounded: no free text).
	f.do(t, "alice", "rollback UPG-1 broken")
	f.do(t, "alice", "schedule payments")
	f.do(t, "alice", "deploy UPG-1 to prod now")
	f.do(t, "alice", "show UPG-99")
	wantCalls(t, "refusals", obs.take(), "command test rollback refused", "command test schedule refused",
		"command test unknown refused", "command test show refused")

	// A press: the command, the acknowledgment (a minute after the pre-brief
	// went out), the root refreshed; a press sent again is a duplicate.
	f.advance(time.Minute)
	press := bot.ButtonPress{Actor: who("bob").Actor, Button: bot.AckButton{UpgradeID: "UPG-1", Scope: "brief"}, Delivery: "d1"}
	f.b.Press(ctx, press)
	f.b.Flush()
	f.b.Press(ctx, press)
	pressAs(f.b, ctx, who("bob").Actor, "UPG-9", "brief")
	presses := obs.take()
	if len(presses) != 5 {
		t.Fatalf("presses: observed %q", presses)
	}
	wantCallsAnyOrder(t, "the first press", presses[:3], "ack brief 1m0s", "command test press ok", "notice root edited")
	wantCalls(t, "presses", presses[3:], "command test press duplicate", "command test press refused")

	// A rollback acknowledged through the head cached before it (bob's
	// press above): the time counts from the rollback, not the scheduling.
	f.ok(t, "alice", "start UPG-1")
	f.ok(t, "alice", "rollback UPG-1 error rate")
	obs.take()
	f.advance(90 * time.Second)
	pressAs(f.b, ctx, who("carol").Actor, "UPG-1", "rollback")
	pressAs(f.b, ctx, who("alice").Actor, "UPG-1", "rollback")
	f.b.Flush()
	got := obs.take()
	for _, want := range []string{"ack rollback 1m30s", "command test press ok"} {
		if n := countOf(got, want); n != 2 {
			t.Errorf("%q observed %d times, want 2: %q", want, n, got)
		}
	}

	// A notice that does not reach its thread is a failure of its kind.
	f.ok(t, "carol", "schedule ledger v9 at 2026-12-02 02:00 UTC for 1h")
	f.rec.Fail("test:#ledger", errors.New("channel_not_found"))
	f.ok(t, "carol", "cancel UPG-2 not needed")
	got = obs.take()
	if countOf(got, "notice cancelled failed") != 1 || countOf(got, "command test cancel ok") != 1 {
		t.Errorf("a failed cancellation notice: observed %q", got)
	}
}

func countOf(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

func TestObserverDefaultsToNothing(t *testing.T) {
	// Without an Observer every path still runs (NopObserver).
	f := newFixture(t)
	f.ok(t, "alice", schedulePayments)
	pressAs(f.b, context.Background(), who("bob").Actor, "UPG-1", "brief")
	f.do(t, "alice", "nonsense")
}
