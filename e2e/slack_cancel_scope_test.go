package e2e

import (
	"strings"
	"testing"

	slackadapter "github.com/upgradebot/upgradebot/adapters/slack"
)

// TestSlackCancelSeriesWithoutSeries: on Slack the scope is typed, as the
// first word after the id. "series" on an upgrade that is no occurrence of a
// series is refused privately and cancels nothing, as scope:series is on
// Discord (it was: the upgrade was cancelled, with "series" as the reason);
// the refusal says how to cancel it, and how to quote the word to have it
// as the reason, which then cancels it.
func TestSlackCancelSeriesWithoutSeries(t *testing.T) {
	e := newSlackEnv(t, slackadapter.ModeHTTP)
	slackContains(t, "schedule", slackAnswerText(e.slash("alice", "C0OPS", "schedule payments v2.4.0 at 2026-12-01 03:00")), "Scheduled *UPG-1 payments v2.4.0*")
	e.settle()

	ans := e.slash("alice", "C0OPS", "cancel UPG-1 series vendor delay")
	if ans["response_type"] != "ephemeral" {
		t.Errorf("the refusal is not private: %v", ans)
	}
	got := slackAnswerText(ans)
	slackContains(t, "series refused", got,
		"UPG-1 is not part of a series, so there is no series to cancel; nothing changed.",
		"`/upgrade cancel UPG-1 [&lt;reason...&gt;]`", "`/upgrade cancel UPG-1 \"series vendor delay\"`")
	if strings.Contains(got, "Cancelled") {
		t.Errorf("series cancelled an upgrade without a series: %s", got)
	}
	e.settle()
	slackContains(t, "UPG-1 after the refusal", slackAnswerText(e.slash("alice", "C0OPS", "show UPG-1")), "scheduled")

	slackContains(t, "quoted", slackAnswerText(e.slash("alice", "C0OPS", `cancel UPG-1 "series vendor delay"`)), "Cancelled *UPG-1 payments v2.4.0*")
	e.settle()
	slackContains(t, "UPG-1's log", slackAnswerText(e.slash("bob", "C0OPS", "log UPG-1")), "cancelled · why: series vendor delay")
}
