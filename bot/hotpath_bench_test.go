package bot_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
)

// bigUpgrade is an upgrade whose audience is n people, every one of whom
// acknowledged the pre-brief, plus n/10 outsiders.
func bigUpgrade(n int) (*bot.Directory, *bot.Upgrade, []bot.Ack) {
	cfg := testConfig()
	u := &bot.Upgrade{ID: 7, Service: "payments", Version: "v2.4.0", State: bot.Scheduled,
		Start: t0.Add(48 * time.Hour), End: t0.Add(50 * time.Hour), Owners: []string{"alice"}}
	var acks []bot.Ack
	for i := range n {
		key := fmt.Sprintf("test:U%05d", i)
		u.Audience = append(u.Audience, key)
		acks = append(acks, bot.Ack{Scope: bot.ScopeBrief, Who: key, Via: key, At: t0.Add(time.Duration(i) * time.Second)})
	}
	for i := range n / 10 {
		key := fmt.Sprintf("test:X%05d", i)
		acks = append(acks, bot.Ack{Scope: bot.ScopeBrief, Who: key, Via: key, At: t0.Add(time.Duration(n+i) * time.Second)})
	}
	return bot.NewDirectory(cfg), u, acks
}

// The acknowledgment status grows linearly with the audience and the acks.
func BenchmarkStatus10k(b *testing.B) {
	d, u, acks := bigUpgrade(10000)
	b.ReportAllocs()
	for b.Loop() {
		d.Status(u, acks, bot.ScopeBrief)
	}
}

// Building the root message of an upgrade with 10,000 acknowledgments.
func BenchmarkRoot10k(b *testing.B) {
	d, u, acks := bigUpgrade(10000)
	b.ReportAllocs()
	for b.Loop() {
		d.Root(u, acks)
	}
}

// The view behind show, pending and the status API.
func BenchmarkView10k(b *testing.B) {
	d, u, acks := bigUpgrade(10000)
	b.ReportAllocs()
	for b.Loop() {
		d.View(u, acks)
	}
}
