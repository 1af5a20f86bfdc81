package e2e

import (
	"strings"
	"testing"

	discordadapter "github.com/upgradebot/upgradebot/adapters/discord"
	slackadapter "github.com/upgradebot/upgradebot/adapters/slack"
)

// TestDiscordSeriesByItsID (QA): a series id in Discord's id option
// answered that it is no upgrade id. show id:SER-1 shows the series,
// cancel id:SER-1 ends it (scope:series too), the other subcommands say
// what to give instead; a second series of one version is refused,
// privately, naming the first.
func TestDiscordSeriesByItsID(t *testing.T) {
	e := newDiscordEnv(t, discordadapter.ModeHTTP)
	schedule := func() string {
		return e.command("alice", dcOps, "schedule", dO("service", "payments"), dO("version", "v1"), dO("every", "wed 03:00 UTC"),
			dO("duration", "1h"), dO("until", "2026-12-31"))
	}
	discordContains(t, "the series", schedule(), "Scheduled series SER-1")
	e.settle()
	ans := schedule()
	discordContains(t, "the same series again", ans, "payments v1 is already scheduled by series SER-1", "`/upgrade cancel id:SER-1 [reason:<reason...>]`")
	discordContains(t, "show id:SER-1", e.command("bob", dcOps, "show", dO("id", "SER-1")),
		"SER-1 **payments v1 every Wed 03:00 UTC for 1h until 2026-12-31**", "Occurrences (1):")
	discordContains(t, "start id:SER-1", e.command("alice", dcOps, "start", dO("id", "SER-1")), "SER-1 is a series, not an upgrade", "`/upgrade show id:SER-1`", "`/upgrade cancel id:SER-1 [reason:<reason...>]`")
	ans = e.command("alice", dcOps, "cancel", dO("id", "SER-1"), dO("scope", "series"), dO("reason", "moved to fridays"))
	discordContains(t, "cancel id:SER-1", ans, "Cancelled series SER-1", "cancelled **UPG-1 payments v1**")
	e.settle()
	discordContains(t, "UPG-1's log", e.command("bob", dcOps, "log", dO("id", "UPG-1")), "series SER-1 cancelled: moved to fridays")
	discordContains(t, "show id:ser-1", e.command("alice", dcOps, "show", dO("id", "ser-1")), "Cancelled by")
}

// TestSlackSeriesByItsID: the same on Slack, typed.
func TestSlackSeriesByItsID(t *testing.T) {
	e := newSlackEnv(t, slackadapter.ModeHTTP)
	slackContains(t, "schedule", slackAnswerText(e.slash("alice", "C0OPS", "schedule payments v1 every wed 03:00 UTC for 1h")), "Scheduled series SER-1")
	e.settle()
	ans := e.slash("alice", "C0OPS", "schedule payments v1 every wed 03:00 UTC for 1h")
	if ans["response_type"] != "ephemeral" {
		t.Errorf("the refusal is not private: %v", ans)
	}
	slackContains(t, "the same series again", slackAnswerText(ans), "payments v1 is already scheduled by series SER-1", "`/upgrade cancel SER-1 [&lt;reason...&gt;]`")
	slackContains(t, "start SER-1", slackAnswerText(e.slash("alice", "C0OPS", "start SER-1")), "`/upgrade show SER-1`", "`/upgrade cancel SER-1 [&lt;reason...&gt;]`")
	slackContains(t, "show SER-1", slackAnswerText(e.slash("bob", "C0OPS", "show SER-1")), "Occurrences (1):")
	got := slackAnswerText(e.slash("alice", "C0OPS", "cancel SER-1 moved to fridays"))
	slackContains(t, "cancel SER-1", got, "Cancelled series SER-1")
	if strings.Contains(got, "Cannot read") {
		t.Fatalf("SER-1 not read: %s", got)
	}
}
