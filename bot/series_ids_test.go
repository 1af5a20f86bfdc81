package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
)

// TestASecondSeriesOfOneVersionIsRefused (QA): the same `every` command
// typed twice made SER-2, which skipped every week (the first series
// scheduling the version then), posted so into the channel each week, and
// could not be ended (no upgrade of its own to cancel). Like a second
// upgrade of one version, a series whose occurrences overlap those of an
// active series of its service and version is refused, privately, storing
// nothing and telling no channel, naming the series and how to end it.
func TestASecondSeriesOfOneVersionIsRefused(t *testing.T) {
	cfg := windowsConfig(t)
	cfg.Freezes = nil
	f := newWindowsFixture(t, cfg)
	ctx := context.Background()
	f.ok(t, "alice", "schedule payments v1 every wed 03:00 UTC for 1h until 2026-12-31")
	f.rec.Reset()
	f.fails(t, "alice", "schedule payments v1 every wed 03:00 UTC for 1h until 2026-12-31",
		"payments v1 is already scheduled by series SER-1 (payments v1 every Wed 03:00 UTC for 1h until 2026-12-31): its occurrence from 2026-11-25 03:00 UTC to 2026-11-25 04:00 UTC would overlap this series' from 2026-11-25 03:00 UTC; nothing was scheduled.",
		"/upgrade show SER-1", "/upgrade cancel SER-1 [<reason...>]")
	// The version's case aside, in another zone, over part of the hour,
	// from a later week on: the same.
	f.fails(t, "alice", "schedule PAYMENTS V1 every wed 04:30 Europe/Berlin for 2h", "already scheduled by series SER-1")
	f.fails(t, "alice", "schedule payments v1 every wed 02:30 UTC for 1h", "already scheduled by series SER-1")
	if all, err := f.st.ListSeries(ctx); err != nil || len(all) != 1 {
		t.Fatalf("stored %d series, want 1 (%v)", len(all), err)
	}
	if sent := f.rec.All(); len(sent) != 0 {
		t.Fatalf("a refused series told the channels: %+v", sent)
	}
	if us, _ := f.st.List(ctx, bot.Filter{}); len(us) != 1 {
		t.Fatalf("%d upgrades, want the first series' one", len(us))
	}
	// Not overlapping: another version, another day, right after it.
	f.ok(t, "alice", "schedule payments v2 every wed 03:00 UTC for 1h")
	f.ok(t, "alice", "schedule payments v1 every fri 03:00 UTC for 1h")
	f.ok(t, "alice", "schedule payments v1 every thu 03:00 UTC for 1h")
	// On the same date, later that day: the store gives a date of a
	// version to one series, so the second would skip every week.
	f.fails(t, "alice", "schedule payments v1 every wed 10:00 UTC for 1h",
		"its occurrence from 2026-11-25 03:00 UTC to 2026-11-25 04:00 UTC falls on 2026-11-25, as this series' at 2026-11-25 10:00 UTC, and a series ships a version once a date; nothing was scheduled.")

	// Ended, SER-1 holds the version no more: made again, its first
	// occurrence is an upgrade of its own, not skipped for SER-1.
	f.ok(t, "alice", "cancel SER-1 moved to fridays")
	f.rec.Reset()
	m := f.ok(t, "alice", "schedule payments v1 every wed 03:00 UTC for 1h until 2026-12-31")
	has(t, "the series made again", lines(m), "Scheduled series SER-5", "• UPG-5 payments v1 · 2026-11-25 03:00 UTC to 2026-11-25 04:00 UTC")
	if skipped := f.rec.Kinds(bot.KindSeries); len(skipped) != 0 {
		t.Fatalf("skipped for the cancelled series: %+v", skipped)
	}
}

// TestCancelASeriesByItsID (QA): `cancel SER-1` answered that SER-1 is no
// upgrade id, and a series whose first occurrence was not created yet
// could not be ended at all. cancel SER-n ends it as cancel <id> series
// does: the same permissions, its scheduled occurrences cancelled with
// the reason in their decision log.
func TestCancelASeriesByItsID(t *testing.T) {
	cfg := windowsConfig(t)
	cfg.Freezes = nil
	cfg.SeriesLead = 24 * time.Hour // Wednesday's occurrence is created Tuesday
	f := newWindowsFixture(t, cfg)
	ctx := context.Background()
	m := f.ok(t, "alice", "schedule payments v1 every wed 03:00 UTC for 1h")
	if strings.Contains(lines(m), "UPG-") {
		t.Fatalf("an occurrence was created at once:\n%s", lines(m))
	}
	f.fails(t, "bob", "cancel SER-1", "You are not allowed to cancel SER-1 (payments): only the owners of payments (@alice) or an admin may.")
	f.fails(t, "alice", "cancel SER-1 occurrence", "SER-1 is a series; nothing changed.", "/upgrade cancel SER-1 [<reason...>]")
	f.fails(t, "alice", "cancel SER-9", "There is no series SER-9.")
	m = f.ok(t, "alice", "cancel ser-1, not needed")
	has(t, "the cancel", lines(m), "🚫 Cancelled series SER-1: payments v1 every Wed 03:00 UTC for 1h; no more occurrences will be created.")
	s, err := f.st.GetSeries(ctx, 1)
	if err != nil || s.State != bot.SeriesCancelled || s.Reason != "not needed" || s.EndedBy != "alice" {
		t.Fatalf("series %+v %v", s, err)
	}
	f.fails(t, "alice", "cancel SER-1", "Series SER-1 (payments v1 every Wed 03:00 UTC for 1h) was cancelled already, by @alice")

	// With occurrences: the scheduled ones are cancelled, logged as the
	// series' cancel, as by cancel <id> series.
	f.ok(t, "alice", "schedule payments v2 every mon 03:00 UTC for 1h") // created at once: UPG-1
	m = f.ok(t, "dave", "cancel SER-2 series vendor gone")
	has(t, "the cancel", lines(m), "Cancelled series SER-2", "• cancelled UPG-1 payments v2")
	if u, _ := f.st.Get(ctx, 1); u.State != bot.Cancelled || u.Reason != "series SER-2 cancelled: vendor gone" {
		t.Fatalf("UPG-1 %s %q", u.State, u.Reason)
	}
	has(t, "the log", lines(f.ok(t, "alice", "log 1")), "series SER-2 cancelled: vendor gone")
	if ev := eventData(t, f.st, bot.EventCancelled); len(ev) != 1 {
		t.Fatalf("cancelled events: %v", ev)
	}
}

// TestShowASeries (QA): show SER-1 shows the series, its next occurrence
// and what its occurrences became; a series id where an upgrade's is
// wanted says what to give instead.
func TestShowASeries(t *testing.T) {
	cfg := windowsConfig(t)
	cfg.Freezes = nil
	f := newWindowsFixture(t, cfg)
	f.ok(t, "alice", "schedule payments v1 every wed 03:00 UTC for 1h until 2026-12-31 region eu-west")
	m := f.ok(t, "bob", "show SER-1")
	if !m.Kind.Private() {
		t.Fatalf("show is not private: %v", m.Kind)
	}
	has(t, "show SER-1", lines(m), "🔁 SER-1 payments v1 every Wed 03:00 UTC for 1h until 2026-12-31",
		"Scheduled by @alice at 2026-11-22 10:00 UTC. Region eu-west.",
		"Active. Next occurrence: 2026-12-02 03:00 UTC to 2026-12-02 04:00 UTC, created 2026-11-24 03:00 UTC.",
		"• 2026-11-25: UPG-1 scheduled · 2026-11-25 03:00 UTC to 2026-11-25 04:00 UTC",
		"To end it (no more occurrences; its scheduled ones are cancelled): /upgrade cancel SER-1 [<reason...>].")
	f.fails(t, "alice", "show SER-2", "There is no series SER-2.")
	f.fails(t, "alice", "start SER-1", "SER-1 is a series, not an upgrade", "cancel SER-1")
	f.ok(t, "alice", "cancel SER-1 done")
	m = f.ok(t, "alice", "show ser-1")
	has(t, "show SER-1 cancelled", lines(m), "Cancelled by @alice at 2026-11-22 10:00 UTC: done; no more occurrences are created.",
		"• 2026-11-25: UPG-1 cancelled")
	if strings.Contains(lines(m), "To end it") {
		t.Fatalf("a cancelled series offers its cancel:\n%s", lines(m))
	}
}
