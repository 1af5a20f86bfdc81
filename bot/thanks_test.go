package bot_test

import (
	"context"
	"testing"
)

// The thanks for an acknowledgment is the same message for everyone who
// acknowledges the same scope of the same upgrade, and says so with its
// stamp (an adapter renders it once); another scope or upgrade is another
// message, and the answers that name a time are not stamped.
func TestAckThanksIsStampedPerUpgradeAndScope(t *testing.T) {
	f := newFixture(t)
	f.ok(t, "alice", schedulePayments)
	f.ok(t, "bob", "schedule checkout v1.0.0 at 2026-12-02 02:00 UTC for 1h")
	ctx := context.Background()
	bob := pressAs(f.b, ctx, who("bob").Actor, "UPG-1", "brief")
	carol := pressAs(f.b, ctx, who("carol").Actor, "UPG-1", "brief")
	other := pressAs(f.b, ctx, who("bob").Actor, "UPG-2", "brief")
	if bob.Stamp == "" || bob.Stamp != carol.Stamp || lines(bob) != lines(carol) {
		t.Fatalf("two thanks for UPG-1: stamps %q and %q, texts %q and %q", bob.Stamp, carol.Stamp, lines(bob), lines(carol))
	}
	if other.Stamp == bob.Stamp || lines(other) == lines(bob) {
		t.Errorf("thanks for UPG-2 shares UPG-1's stamp %q: %q", other.Stamp, lines(other))
	}
	if again := pressAs(f.b, ctx, who("bob").Actor, "UPG-1", "brief"); again.Stamp != "" {
		t.Errorf("'already acknowledged at …' is stamped %q", again.Stamp)
	}
}
