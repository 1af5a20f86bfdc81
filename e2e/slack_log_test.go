package e2e

import (
	"fmt"
	"testing"

	slackadapter "github.com/upgradebot/upgradebot/adapters/slack"
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
