package e2e

import (
	"strings"
	"testing"

	discordadapter "github.com/upgradebot/upgradebot/adapters/discord"
	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
	"github.com/upgradebot/upgradebot/bot"
)

// TestDiscordFailuresAreRecorded: a channel Discord does not know fails for
// good and is not retried; the invoker hears of it privately, as a
// follow-up of her command; the root says so and show lists it, while the
// other channel's thread carries on. A rate-limited post waits and arrives.
func TestDiscordFailuresAreRecorded(t *testing.T) {
	e := newDiscordEnv(t, discordadapter.ModeHTTP, func(c *bot.Config) {
		c.Services[1].Channels = []string{"discord:" + dcPayments, "discord:2998"}
	})
	e.api.AddChannels(dcLedger, dcPayments, dcCheckout, dcOps)
	// The first post is held unanswered until alice has her answer, and the
	// next one is rate-limited: her answer must not wait for posting.
	_, release := e.api.Hold(t, "create_message")
	e.api.FailNext("create_message", discordtest.Fault{Status: 429, RetryAfter: 0.5})

	i := e.api.Command(discordPeople["alice"], dcOps, "schedule", dO("service", "payments"), dO("version", "v2.4.0"), dO("when", "in 3h"))
	discordContains(t, "answer", e.send(i).Text(), "Scheduled")
	release()
	e.settle()
	var gone int
	for _, c := range e.api.Calls("create_message") {
		// A rate-limited try (whichever post came second) is no answer.
		if c.Vars["channel"] == "2998" && c.Status != 429 {
			gone++
		}
	}
	if gone != 1 {
		t.Errorf("Unknown Channel was tried %d times; it is permanent", gone)
	}
	ex, _ := e.api.Exchange(i.Token)
	if len(ex.Followups) != 1 || !ex.Followups[0].Ephemeral() ||
		!strings.Contains(ex.Followups[0].Content, "could not be posted to <#2998>: discord create message: 10003 Unknown Channel") {
		t.Errorf("alice was not told privately as a follow-up: %+v", ex.Followups)
	}
	discordContains(t, "root", e.root(dcPayments).Text(), "⚠ 1 notice(s) could not be delivered; see `/upgrade show id:UPG-1`")
	show := e.command("carol", dcOps, "show", dO("id", "UPG-1"))
	discordContains(t, "show", show, "⚠ Failed delivery of root to <#2998>", "discord create message: 10003 Unknown Channel", "Thread in <#2002>")
	if strings.Contains(show, discordtest.Token) {
		t.Error("show reveals the bot token")
	}
}
