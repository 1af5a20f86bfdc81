package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	discordadapter "github.com/upgradebot/upgradebot/adapters/discord"
	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
)

// The Discord side of scheduler_deadline_test.go: a reminder has only
// until its window opens, and `show` says why it was not posted.

// discordDeadline schedules payments on Discord for 02:00 and returns the
// window's start.
func discordDeadline(t *testing.T) (*discordEnv, time.Time) {
	t.Helper()
	e := newDiscordEnv(t, discordadapter.ModeGateway)
	discordContains(t, "schedule", e.command("alice", dcOps, "schedule", dO("service", "payments"), dO("version", "v2.4.0"), dO("when", "2026-12-01 02:00 UTC")), "Scheduled")
	e.settle()
	return e, time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
}

// TestADiscordReminderStillUnansweredWhenTheWindowOpensSaysSo: Discord does
// not answer the reminder's post before the window opens. It is recorded
// as not posted before the window opened because Discord had not answered,
// not as a failure of Discord's. The window opens when the test moves the
// clock, once the post has reached Discord: no real seconds to wait.
func TestADiscordReminderStillUnansweredWhenTheWindowOpensSaysSo(t *testing.T) {
	e, win := discordDeadline(t)
	arrived, _ := e.api.Hold(t, "create_message") // answered once the bot gives up
	e.clock.Set(win.Add(-10 * time.Minute))       // the 1h reminder, late; the wall clock would give it 10 minutes
	ran := make(chan error, 1)
	go func() {
		_, err := e.bot.Scheduler().RunDue(context.Background())
		ran <- err
	}()
	select {
	case <-arrived: // the post reached Discord, which does not answer
	case err := <-ran:
		t.Fatalf("the reminder's job ended (%v) before its post reached Discord", err)
	}
	e.clock.Set(win) // the window opens
	// A guard, not a wait: moving the clock ends the held call at once;
	// a When hook not wired would leave it held for the notice's real
	// time (minutes).
	select {
	case err := <-ran:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatalf("the jobs did not end a minute after the clock moved to %v: is the When hook wired?", win)
	}
	e.settle()
	show := e.command("dave", dcOps, "show", dO("id", "UPG-1"))
	want := "⚠ Failed delivery of reminder to <#2002> at <t:1796090400:f> (<t:1796090400:R>): not posted before the window opened: no answer from Discord yet (create message)\n"
	if !strings.Contains(show+"\n", want) {
		t.Fatalf("show does not say why the reminder was not posted, want %q:\n%s", want, show)
	}
}

// TestADiscordReminderRateLimitedPastTheWindowSaysSo: the reminder, sent
// late ten seconds before the window opens, is answered 429 with a
// retry_after of 20 s. It is not waited for, and the failure says Discord
// asked to wait longer than was left, not merely "rate limited".
func TestADiscordReminderRateLimitedPastTheWindowSaysSo(t *testing.T) {
	e, win := discordDeadline(t)
	e.api.FailNext("create_message", discordtest.Fault{Status: http.StatusTooManyRequests, RetryAfter: 20})
	e.at(win.Add(-10 * time.Second))
	if n := countTo(e.api.Calls("create_message"), e.root(dcPayments).ID); n != 1 {
		t.Fatalf("the reminder was asked for %d times, want once (answered 429)", n)
	}
	show := e.command("dave", dcOps, "show", dO("id", "UPG-1"))
	want := "not posted before the window opened: the platform asked to wait 20s, longer than was left (discord create message: rate limited)"
	if !strings.Contains(show, want) {
		t.Fatalf("show does not say why the reminder was not posted, want %q:\n%s", want, show)
	}
}
