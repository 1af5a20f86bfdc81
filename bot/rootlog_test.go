package bot_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
	"github.com/upgradebot/upgradebot/internal/syncbuf"
)

// lvlWithMsg counts the log lines at level whose message is msg.
func lvlWithMsg(logs, level, msg string) int {
	n := 0
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "level="+level+" ") && strings.Contains(l, `msg="`+msg+`"`) {
			n++
		}
	}
	return n
}

// TestARootThatKeepsFailingIsLoggedOncePerStreak: during a platform
// outage every background retry of a root message logged a WARN (the
// last sessions' "root retry log noise"): a day-long outage logged one per
// try. Now the first failure of a streak is a WARN, the retries that fail
// again are at DEBUG, and the roots showing the upgrade again is one INFO
// naming how many tries failed; a new failure then starts a new streak.
func TestARootThatKeepsFailingIsLoggedOncePerStreak(t *testing.T) {
	var logs syncbuf.Buffer
	rec := &bottest.Recorder{}
	clock := bottest.NewClock(t0)
	b := bot.New(bot.Options{Config: testConfig(), Store: bottest.NewMemStore(), Messenger: bot.Router{"test": rec, "other": rec},
		Now: clock.Now, RefreshIntervalSet: true, RootRetry: time.Minute,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	t.Cleanup(b.Flush)
	ctx := context.Background()
	b.Handle(ctx, who("alice"), schedulePayments)
	b.Flush()

	const failed, back = "editing root message failed; trying again later", "root messages show the upgrade again"
	rec.Fail("test:#payments", errBusy) // the outage begins
	pressAs(b, ctx, bot.Actor{ID: "test:UBOB", Name: "bob"}, "1", "brief")
	b.Flush()
	for range 3 { // the background retries meet the outage
		clock.Advance(time.Hour)
		bot.RetryRootsNow(b)
		b.Flush()
	}
	got := logs.String()
	if w, d := lvlWithMsg(got, "WARN", failed), lvlWithMsg(got, "DEBUG", failed); w != 1 || d != 3 {
		t.Fatalf("%d WARN and %d DEBUG lines for 4 failed edits, want 1 WARN and 3 DEBUG:\n%s", w, d, got)
	}
	if n := lvlWithMsg(got, "INFO", back); n != 0 {
		t.Fatalf("the roots were said to be back during the outage:\n%s", got)
	}

	rec.Fail("test:#payments", nil) // the platform answers again
	clock.Advance(time.Hour)
	bot.RetryRootsNow(b)
	b.Flush()
	got = logs.String()
	if n := lvlWithMsg(got, "INFO", back); n != 1 || !strings.Contains(got, "upgrade=UPG-1 failures=4") {
		t.Fatalf("%d INFO lines on recovery, want one naming the 4 failures:\n%s", n, got)
	}

	// A new outage is a new streak: its first failure is a WARN again.
	rec.Fail("test:#payments", errBusy)
	pressAs(b, ctx, bot.Actor{ID: "test:UCAROL", Name: "carol"}, "1", "brief")
	b.Flush()
	if w := lvlWithMsg(logs.String(), "WARN", failed); w != 2 {
		t.Fatalf("%d WARN lines after a second outage began, want 2:\n%s", w, logs.String())
	}
}

// TestAStreakEndsThoughAChannelIsGoneForGood: payments posts to #payments
// and to #gone, a channel that does not exist. Its root is missing for
// good, so the roots were never "complete" and a streak of failed edits of
// #payments never ended: the recovery logged no INFO and the next outage
// of the upgrade logged at DEBUG only. Now every edit passing ends the
// streak, whatever root is missing for good, and only failures that may
// pass count into it.
func TestAStreakEndsThoughAChannelIsGoneForGood(t *testing.T) {
	var logs syncbuf.Buffer
	rec := &bottest.Recorder{}
	clock := bottest.NewClock(t0)
	cfg := testConfig()
	for i := range cfg.Services {
		if cfg.Services[i].Name == "payments" {
			cfg.Services[i].Channels = []string{"test:#payments", "test:#gone"}
		}
	}
	b := bot.New(bot.Options{Config: cfg, Store: bottest.NewMemStore(), Messenger: bot.Router{"test": rec, "other": rec},
		Now: clock.Now, RefreshIntervalSet: true, RootRetry: time.Minute,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	t.Cleanup(b.Flush)
	ctx := context.Background()
	rec.Fail("test:#gone", errors.New("channel_not_found")) // for good
	b.Handle(ctx, who("alice"), schedulePayments)
	b.Flush()

	const failed, back = "editing root message failed; trying again later", "root messages show the upgrade again"
	rec.Fail("test:#payments", errBusy) // outage 1
	pressAs(b, ctx, bot.Actor{ID: "test:UBOB", Name: "bob"}, "1", "brief")
	b.Flush()
	clock.Advance(time.Hour)
	bot.RetryRootsNow(b)
	b.Flush()
	if w := lvlWithMsg(logs.String(), "WARN", failed); w != 1 {
		t.Fatalf("%d WARN lines for outage 1, want 1:\n%s", w, logs.String())
	}

	rec.Fail("test:#payments", nil) // recovery
	clock.Advance(time.Hour)
	bot.RetryRootsNow(b)
	b.Flush()
	if n := lvlWithMsg(logs.String(), "INFO", back); n != 1 {
		t.Fatalf("%d INFO lines when #payments showed the upgrade again, want 1:\n%s", n, logs.String())
	}

	rec.Fail("test:#payments", errBusy) // outage 2
	pressAs(b, ctx, bot.Actor{ID: "test:UCAROL", Name: "carol"}, "1", "brief")
	b.Flush()
	if w := lvlWithMsg(logs.String(), "WARN", failed); w != 2 {
		t.Fatalf("%d WARN lines after outage 2 began, want 2:\n%s", w, logs.String())
	}
}

// TestGivingUpOnARootIsLogged: after maxRootRetries failed tries the
// background retries stopped without a word (the streak's one WARN was
// hours old). Now giving up is one WARN, naming the upgrade and the tries.
func TestGivingUpOnARootIsLogged(t *testing.T) {
	var logs syncbuf.Buffer
	rec := &bottest.Recorder{}
	clock := bottest.NewClock(t0)
	b := bot.New(bot.Options{Config: testConfig(), Store: bottest.NewMemStore(), Messenger: bot.Router{"test": rec, "other": rec},
		Now: clock.Now, RefreshIntervalSet: true, RootRetry: time.Minute,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	t.Cleanup(b.Flush)
	ctx := context.Background()
	b.Handle(ctx, who("alice"), schedulePayments)
	b.Flush()
	rec.Fail("test:#payments", errBusy) // an outage that does not end
	pressAs(b, ctx, bot.Actor{ID: "test:UBOB", Name: "bob"}, "1", "brief")
	b.Flush()
	for range 120 { // more than the retries made
		clock.Advance(time.Hour)
		bot.RetryRootsNow(b)
		b.Flush()
	}
	got := logs.String()
	const gaveUp = "gave up refreshing root messages after 101 tries; the next change tries again"
	if n := lvlWithMsg(got, "WARN", gaveUp); n != 1 || !strings.Contains(got, "upgrade=UPG-1 tries=101") {
		t.Fatalf("%d WARN lines on giving up, want one naming the upgrade and the tries:\n%s", n, got[max(0, len(got)-3000):])
	}
}
