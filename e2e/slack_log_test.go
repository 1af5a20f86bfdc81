package e2e

import (
	"fmt"
	"strings"
	"testing"

	slackadapter "github.com/upgradebot/upgradebot/adapters/slack"
	"github.com/upgradebot/upgradebot/bot"
)

// TestSlackLogReplacedRecords: the decision log of an upgrade whose rollback
// plan and debrief were recorded twice says whose record each replaced and
// when as every other entry does on Slack: the person as a mention, the time
// as a date token each reader sees in their own zone (messages.md), not as
// plain "@bob of 2026-11-20 09:00 UTC".
func TestSlackLogReplacedRecords(t *testing.T) {
	e := newSlackEnv(t, slackadapter.ModeHTTP, readinessConfig)
	for _, step := range []struct{ who, text string }{
		{"alice", "schedule payments v2.4.0 at 2026-12-01 03:00 for 90m"},
		{"bob", "plan UPG-1 helm rollback payments"},
		{"alice", "plan UPG-1 https://runbooks.example.com/payments"},
		{"alice", "start UPG-1 anyway canary is down"},
		{"alice", "complete UPG-1"},
		{"bob", "debrief UPG-1 went fine"},
		{"alice", "debrief UPG-1 went fine, but the migration took 40m"},
	} {
		if ans := slackAnswerText(e.slash(step.who, "C0OPS", step.text)); ans == "" {
			t.Fatalf("%s: no answer", step.text)
		}
	}
	at := fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|2026-11-20 09:00 UTC>", slackNow.Unix())
	log := e.slash("carol", "C0OPS", "log UPG-1")
	slackContains(t, "log", slackAnswerText(log),
		" · <@U0ALICE> · plan recorded · https://runbooks.example.com/payments · why: replaces the rollback plan by <@U0BOB> of "+at,
		" · <@U0ALICE> · debrief recorded · went fine, but the migration took 40m · why: replaces the debrief by <@U0BOB> of "+at,
		// The notification text names them in words, in UTC.
		"why: replaces the debrief by @bob of 2026-11-20 09:00 UTC")
}

// TestSlackPendingNoAudience: pending of an upgrade of a service nobody owns
// (and nothing depends on) says that nobody is asked, as its root and its
// reminders do, rather than "Everyone has acknowledged ... (0/0)".
func TestSlackPendingNoAudience(t *testing.T) {
	e := newSlackEnv(t, slackadapter.ModeHTTP, func(c *bot.Config) {
		c.Services = append(c.Services, bot.Service{Name: "search", Channels: []string{"slack:C0SEARCH"}})
	})
	slackContains(t, "schedule", slackAnswerText(e.slash("dave", "C0OPS", "schedule search v1 at 2026-12-01 03:00")), "Scheduled *UPG-1 search v1*")
	e.settle()
	slackContains(t, "root", e.root("C0SEARCH").BlockText(), "Acknowledged 0/0 · no audience configured")
	got := slackAnswerText(e.slash("carol", "C0OPS", "pending UPG-1"))
	slackContains(t, "pending", got, "No audience is configured for search, so nobody is asked to acknowledge the pre-brief of UPG-1.")
	if strings.Contains(got, "Everyone has acknowledged") {
		t.Errorf("pending of an upgrade nobody is asked about says everyone acknowledged: %s", got)
	}
}
