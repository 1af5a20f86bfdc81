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

// The figures of stats over 20 upgrades of 10,000 people each, every one
// of whom acknowledged: linear in the audience and the acknowledgments
// (a scan of the audience per acknowledgment made it quadratic: 159 ms
// for 20 upgrades of 2,000).
func BenchmarkComputeStats20x10k(b *testing.B) {
	_, u, acks := bigUpgrade(10000)
	u.State, u.CreatedAt = bot.Completed, t0
	records := make([]bot.StatsRecord, 20)
	for i := range records {
		records[i] = bot.StatsRecord{Upgrade: u, Acks: acks}
	}
	now := u.Start.Add(24 * time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		bot.ComputeStats("", records, now)
	}
}

// Allocation budgets: counts, not times, so they hold on any machine. The
// status and the root message allocate a bounded number of times per
// acknowledgment (linear, never quadratic).
func TestHotPathAllocationBudgets(t *testing.T) {
	for _, n := range []int{1000, 4000} {
		d, u, acks := bigUpgrade(n)
		per := func(f func()) float64 { return testing.AllocsPerRun(5, f) / float64(n) }
		if a := per(func() { d.Status(u, acks, bot.ScopeBrief) }); a > 2 {
			t.Errorf("status of %d acks: %.2f allocations per ack; budget 2", n, a)
		}
		if a := per(func() { d.Root(u, acks) }); a > 2 {
			t.Errorf("root of %d acks: %.2f allocations per ack; budget 2", n, a)
		}
	}
}
