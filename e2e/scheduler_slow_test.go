package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	slackadapter "github.com/upgradebot/upgradebot/adapters/slack"
	"github.com/upgradebot/upgradebot/bot"
)

// windowOpenIn reports whether the window-open notice was posted in a
// thread of channel.
func (e *slackEnv) windowOpenIn(channel string) bool {
	for _, m := range e.channelMessages(channel) {
		if m.ThreadTS != "" && strings.Contains(m.BlockText()+m.Text, " is open, waiting for") {
			return true
		}
	}
	return false
}

// TestASlowJobDoesNotHoldUpJobsFallingDueAfterIt: Slack does not answer
// the window-open notice of payments yet (a slow platform, a Retry-After
// waited out in the job). The window of search opens a minute later: its
// notice goes out at once, without waiting for payments'; payments' goes
// out when Slack answers.
func TestASlowJobDoesNotHoldUpJobsFallingDueAfterIt(t *testing.T) {
	e := newSlackEnvScheduled(t, slackadapter.ModeHTTP, func(c *bot.Config) {
		c.Services = append(c.Services, bot.Service{Name: "search", Owners: []string{"carol"}, Channels: []string{"slack:C0SEARCH"}})
	})
	ctx := context.Background()
	e.slash("alice", "C0OPS", "schedule payments v2.4.0 at 2026-12-01 03:00")
	e.slash("carol", "C0OPS", "schedule search v1.2.0 at 2026-12-01 03:01")
	e.settle()
	opensA, ok, err := e.store.NextDue(ctx)
	if err != nil || !ok {
		t.Fatalf("no job planned: %v", err)
	}

	held, release := e.api.Hold(t, "chat.postMessage")
	e.clock.Set(opensA)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = e.bot.Scheduler().Run(runCtx) }()
	defer func() { release(); stop(); <-done }()
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("payments' window-open notice never reached Slack")
	}

	e.clock.Set(opensA.Add(time.Minute))
	if err := e.store.Wake(ctx); err != nil {
		t.Fatal(err)
	}
	e.api.Eventually(t, 30*time.Second, "search's window-open notice", func() bool { return e.windowOpenIn("C0SEARCH") })
	if e.windowOpenIn("C0PAYMENTS") {
		t.Fatal("search's window-open notice went out only once Slack had taken payments' (or given up on it): held up by another upgrade's job")
	}
	release()
	e.api.Eventually(t, 30*time.Second, "payments' window-open notice once Slack answers", func() bool { return e.windowOpenIn("C0PAYMENTS") })
}
