package e2e

import (
	"strings"
	"testing"

	discordadapter "github.com/upgradebot/upgradebot/adapters/discord"
)

// TestDiscordCancelScopeWithoutSeries: on Discord the scope is an option of
// its own, chosen from a list, so it is never the first word of a reason.
// scope:series on an upgrade that is no occurrence of a series is refused and
// cancels nothing; scope:occurrence cancels the upgrade itself, with the
// reason given, not "occurrence".
func TestDiscordCancelScopeWithoutSeries(t *testing.T) {
	e := newDiscordEnv(t, discordadapter.ModeHTTP)
	e.command("alice", dcOps, "schedule", dO("service", "payments"), dO("version", "v2.4.0"), dO("when", "2026-12-01 03:00"))
	e.command("alice", dcOps, "schedule", dO("service", "payments"), dO("version", "v2.5.0"), dO("when", "2026-12-02 03:00"))
	e.settle()

	ans := e.command("alice", dcOps, "cancel", dO("id", "UPG-1"), dO("scope", "series"), dO("reason", "vendor delay"))
	discordContains(t, "scope:series refused", ans,
		"UPG-1 is not part of a series, so there is no series to cancel; nothing changed.",
		"`/upgrade cancel id:UPG-1 [reason:<reason...>]`", "Usage: `/upgrade cancel id:<id>")
	if strings.Contains(ans, "Cancelled") {
		t.Errorf("scope:series cancelled an upgrade without a series: %s", ans)
	}
	discordContains(t, "UPG-1 after the refusal", e.command("alice", dcOps, "show", dO("id", "UPG-1")), "State: scheduled")

	ans = e.command("alice", dcOps, "cancel", dO("id", "UPG-2"), dO("scope", "occurrence"), dO("reason", "vendor delay"))
	discordContains(t, "scope:occurrence", ans, "Cancelled **UPG-2 payments v2.5.0**")
	if strings.Contains(ans, "read as the reason") {
		t.Errorf("the scope chosen as an option was read as the reason: %s", ans)
	}
	e.settle()
	log := e.command("bob", dcOps, "log", dO("id", "UPG-2"))
	discordContains(t, "UPG-2's log", log, "cancelled · why: vendor delay")
	if strings.Contains(log, "occurrence") {
		t.Errorf("the log records the scope as the reason: %s", log)
	}

	// Said first, as without the scope: an upgrade that can no longer be
	// cancelled, and someone who may not cancel it; neither is told to
	// leave out the scope.
	ans = e.command("alice", dcOps, "cancel", dO("id", "UPG-2"), dO("scope", "series"), dO("reason", "again"))
	discordContains(t, "scope:series on a cancelled upgrade", ans, "UPG-2 is cancelled; it can no longer be cancelled.")
	ans2 := e.command("bob", dcOps, "cancel", dO("id", "UPG-1"), dO("scope", "series"), dO("reason", "mine"))
	discordContains(t, "scope:series by someone who may not cancel", ans2, "not allowed")
	for _, a := range []string{ans, ans2} {
		if strings.Contains(a, "leave out the scope") {
			t.Errorf("told to leave out the scope where that cannot help: %s", a)
		}
	}
}
