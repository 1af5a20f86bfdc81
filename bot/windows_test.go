package bot_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
	"github.com/upgradebot/upgradebot/commands"
)

// The clock of these tests is Sunday 22 November 2026, 10:00 UTC (t0); the
// coming Tuesday's payments window, 02:00-05:00 in Berlin, is 01:00-04:00
// UTC on 24 November.

// windowsConfig gives payments its Tuesday window and a freeze over the
// coming Tuesday.
func windowsConfig(t *testing.T) bot.Config {
	cfg := testConfig()
	cfg.Services[1].Windows = []commands.Window{bottest.Window(t, "tue 02:00-05:00 Europe/Berlin")}
	cfg.Freezes = []bot.Freeze{{Name: "release-week", From: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC),
		To: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), Services: []string{"*"}, Reason: "quarterly release", Configured: true}}
	return cfg
}

func newWindowsFixture(t *testing.T, cfg bot.Config) *fixture {
	t.Helper()
	f := &fixture{st: bottest.NewMemStore(), rec: &bottest.Recorder{}, clock: bottest.NewClock(t0)}
	f.b = bot.New(bot.Options{Config: cfg, Store: f.st, Messenger: bot.Router{"test": f.rec, "other": f.rec},
		Now: f.clock.Now, RefreshIntervalSet: true})
	t.Cleanup(f.b.Flush)
	return f
}

func eventData(t *testing.T, st *bottest.MemStore, typ string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, e := range st.Events() {
		if e.Type != typ {
			continue
		}
		raw, _ := json.Marshal(e.Data)
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		out = append(out, m)
	}
	return out
}

func has(t *testing.T, what, got string, want ...string) {
	t.Helper()
	if miss, ok := contains(got, want...); !ok {
		t.Fatalf("%s lacks %q:\n%s", what, miss, got)
	}
}

func TestScheduleOutsideStandardWindowsIsWarned(t *testing.T) {
	cfg := windowsConfig(t)
	cfg.Freezes = nil
	f := newWindowsFixture(t, cfg)
	in := f.ok(t, "alice", "schedule payments v1 at 2026-12-01 02:30 Europe/Berlin for 2h")
	if strings.Contains(lines(in), "Outside") {
		t.Fatalf("a window inside the standard window was warned:\n%s", lines(in))
	}
	out := f.ok(t, "alice", "schedule payments v2 at 2026-12-01 06:00 Europe/Berlin for 1h")
	warning := "Outside payments' standard windows (Tue 02:00-05:00 Europe/Berlin)"
	has(t, "the reply", lines(out), "Scheduled UPG-2", warning)
	has(t, "the pre-brief", lines(lastRoot(t, f.rec, "test:#payments")), "Warning: ⚠ "+warning)
	has(t, "the decision log", lines(f.ok(t, "bob", "log UPG-2")), "scheduled", "⚠ Outside the standard windows (Tue 02:00-05:00 Europe/Berlin)")
	data := eventData(t, f.st, bot.EventScheduled)
	if _, ok := data[0]["warnings"]; ok {
		t.Fatalf("the event of the window inside has warnings: %v", data[0])
	}
	if w, _ := data[1]["warnings"].([]any); len(w) != 1 || w[0].(map[string]any)["kind"] != bot.WarnOutsideWindows {
		t.Fatalf("the event of the window outside: %v", data[1])
	}
	// Moved inside, the warning goes; moved out again, it comes back.
	has(t, "the reschedule", lines(f.ok(t, "alice", "reschedule 2 2026-12-08 03:00 Europe/Berlin")), "Rescheduled UPG-2")
	if strings.Contains(lines(lastRoot(t, f.rec, "test:#payments")), "Outside") {
		t.Fatal("the warning stayed after the window moved into the standard window")
	}
	has(t, "an extend past the window's end", lines(f.ok(t, "alice", "extend 2 2h")), warning)
	// A service without windows is never warned.
	if strings.Contains(lines(f.ok(t, "carol", "schedule ledger v9 at 2026-12-02 13:00 UTC")), "standard windows") {
		t.Fatal("ledger has no standard windows and was warned")
	}
}

func TestFreezeRefusesAnOwnerAndAnAdminOverridesIt(t *testing.T) {
	f := newWindowsFixture(t, windowsConfig(t))
	into := "schedule payments v2.5.0 at 2026-11-24 02:30 Europe/Berlin for 1h"
	f.fails(t, "alice", into, "payments is frozen from 2026-11-23 00:00 UTC to 2026-11-26 00:00 UTC (freeze release-week: quarterly release)",
		"Only an admin may override a freeze (@dave)", "/upgrade slots payments", "Usage: /upgrade schedule")
	f.fails(t, "alice", into+" anyway the customer needs it", "only an admin may override a freeze (@dave)")
	f.fails(t, "dave", into, "end the command with anyway <reason...> to override it")
	if len(f.st.Events()) != 0 {
		t.Fatal("a refusal stored something")
	}

	m := f.ok(t, "dave", into+" region eu-west anyway customer escalation #4521")
	has(t, "the reply", lines(m), "Scheduled UPG-1", "❄ Freeze release-week (2026-11-23 00:00 UTC to 2026-11-26 00:00 UTC) overridden by @dave: customer escalation #4521.")
	has(t, "the pre-brief", lines(lastRoot(t, f.rec, "test:#payments")), "Override: ❄ Freeze release-week", "overridden by @dave: customer escalation #4521")
	has(t, "the decision log", lines(f.ok(t, "alice", "log 1")), "dave · scheduled", "Freeze release-week", "why: customer escalation #4521")
	w, _ := eventData(t, f.st, bot.EventScheduled)[0]["warnings"].([]any)
	if len(w) != 1 || w[0].(map[string]any)["freeze"] != "release-week" || w[0].(map[string]any)["reason"] != "customer escalation #4521" {
		t.Fatalf("the event's warnings: %v", w)
	}

	// The override holds for this upgrade: the owner may extend it within
	// the freeze without overriding again.
	has(t, "the extend", lines(f.ok(t, "alice", "extend 1 30m")), "Extended UPG-1", "overridden by @dave")
	// Another upgrade is refused there: rescheduled into it, extended into it.
	f.ok(t, "alice", "schedule payments v2.6.0 at 2026-11-26 00:30 UTC for 1h")
	f.fails(t, "alice", "reschedule 2 2026-11-25 01:00 UTC", "payments is frozen", "freeze release-week")
	f.ok(t, "alice", "reschedule 2 2026-11-26 01:00 UTC")
	if f.do(t, "alice", "extend 2 1h").Kind != bot.KindReply {
		t.Fatal("an extend away from the freeze was refused")
	}
	m = f.ok(t, "dave", "reschedule 2 2026-11-25 03:00 UTC anyway hotfix has to go out")
	has(t, "the admin's reschedule", lines(m), "Rescheduled UPG-2", "overridden by @dave: hotfix has to go out")
	var notice string
	for _, s := range f.rec.Kinds(bot.KindRescheduled) {
		notice = s.Text
	}
	has(t, "the thread notice", notice, "was rescheduled by @dave", "overridden by @dave: hotfix has to go out")

	// anyway with nothing to override is said, and logs no reason.
	m = f.ok(t, "dave", "schedule payments v3 at 2026-12-01 02:00 Europe/Berlin anyway just in case")
	has(t, "an idle anyway", lines(m), "No freeze holds over this window, so anyway overrode nothing")
	if strings.Contains(lines(f.ok(t, "dave", "log 3")), "why:") {
		t.Fatal("an idle anyway logged its reason")
	}
}

func TestNextPicksTheFirstFreeStandardWindowAndSaysWhy(t *testing.T) {
	f := newWindowsFixture(t, windowsConfig(t))
	m := f.ok(t, "alice", "schedule payments v2.5.0 next for 2h")
	has(t, "next", lines(m), "Scheduled UPG-1 payments v2.5.0: 2026-12-01 01:00 UTC to 2026-12-01 03:00 UTC (2h)",
		"The next free standard window of payments: 2026-12-01 01:00 UTC to 2026-12-01 04:00 UTC (3h, Tue 02:00-05:00 Europe/Berlin).",
		"Skipped 1 earlier window(s):", "• 2026-11-24 01:00 UTC: frozen by release-week (quarterly release)")
	f.ok(t, "alice", "cancel 1 choose again")

	// ledger (which payments depends on) takes the Tuesday after the freeze.
	f.ok(t, "carol", "schedule ledger v9 at 2026-12-01 03:00 Europe/Berlin for 1h")
	m = f.ok(t, "alice", "schedule payments v2.5.0 next")
	has(t, "next again", lines(m), "Scheduled UPG-3", "2026-12-08 01:00 UTC to 2026-12-08 02:00 UTC (1h)", "Skipped 2 earlier window(s):",
		"• 2026-11-24 01:00 UTC: frozen by release-week",
		"• 2026-12-01 01:00 UTC: overlaps UPG-2 ledger v9 (2026-12-01 02:00 UTC to 2026-12-01 03:00 UTC) (payments depends on ledger)")
	// checkout depends on payments: its upgrade blocks payments' window too.
	f.ok(t, "bob", "schedule checkout v4 at 2026-12-15 04:00 Europe/Berlin")
	m = f.ok(t, "alice", "schedule payments v2.6.0 next for 3h")
	has(t, "next past a dependent", lines(m), "2026-12-22 01:00 UTC", "overlaps UPG-4 checkout v4", "(checkout depends on payments)",
		"overlaps UPG-3 payments v2.5.0 (2026-12-08 01:00 UTC to 2026-12-08 02:00 UTC)")
	// A window too short for the length asked is skipped, and said.
	f.fails(t, "alice", "schedule payments v2.7.0 next for 4h", "No standard window of payments in the next 365d is free for 4h",
		"only 3h long, 4h needed")
	f.fails(t, "carol", "schedule ledger v10 next", "ledger has no standard windows", `windows = ["tue 02:00-05:00 Europe/Berlin"]`)
}

func TestSlotsListsFreeWindowsAndWhyOthersAreNot(t *testing.T) {
	f := newWindowsFixture(t, windowsConfig(t))
	f.ok(t, "carol", "schedule ledger v9 at 2026-12-01 03:00 Europe/Berlin")
	m := f.ok(t, "bob", "slots payments 2")
	has(t, "slots", lines(m), "Free standard windows of payments",
		"1. 2026-12-08 01:00 UTC to 2026-12-08 04:00 UTC (3h, Tue 02:00-05:00 Europe/Berlin)",
		"2. 2026-12-15 01:00 UTC to 2026-12-15 04:00 UTC",
		"Not free:", "• 2026-11-24 01:00 UTC: frozen by release-week", "• 2026-12-01 01:00 UTC: overlaps UPG-1 ledger v9",
		"Take the first free one with /upgrade schedule payments <version> next.")
	if strings.Contains(lines(m), "3. ") {
		t.Fatalf("slots 2 listed more:\n%s", lines(m))
	}
	if n := len(regexp.MustCompile(`(?m)^\d+\. `).FindAllString(lines(f.ok(t, "bob", "slots payments")), -1)); n != commands.DefaultSlots {
		t.Fatalf("slots without n listed %d", n)
	}
	f.fails(t, "bob", "slots paymnts", `Unknown service "paymnts"`)
	f.fails(t, "bob", "slots checkout", "checkout has no standard windows")
}

// TestNextAcrossBerlinsClockChange: a Tuesday 02:30 window in the week
// Berlin's clocks go forward (Sunday 28 March 2027) keeps its local time,
// and the reply says that it is an hour earlier in UTC.
func TestNextAcrossBerlinsClockChange(t *testing.T) {
	cfg := testConfig()
	cfg.Services[1].Windows = []commands.Window{bottest.Window(t, "tue 02:30-04:30 Europe/Berlin")}
	f := newWindowsFixture(t, cfg)
	f.clock.Set(time.Date(2027, 3, 24, 12, 0, 0, 0, time.UTC)) // the Wednesday before
	m := f.ok(t, "alice", "schedule payments v3 next")
	has(t, "next", lines(m), "2027-03-30 00:30 UTC to 2027-03-30 01:30 UTC",
		"Clocks in Europe/Berlin go forward on Sunday 28 March: this window opens at 02:30 CEST, which is 00:30 UTC (it was 01:30 UTC the week before).")
}

// A freeze of some regions holds for an upgrade without a region (in
// every region): the refusal names the regions and says that naming one
// the freeze does not cover is accepted (QA: it read as if payments were
// frozen everywhere). A reschedule cannot name a region, so it is not
// offered there.
func TestARegionalFreezeSaysWhichRegionsItCovers(t *testing.T) {
	cfg := windowsConfig(t)
	cfg.Freezes = []bot.Freeze{{Name: "hf", From: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC),
		Regions: []string{"eu"}, Reason: "hotfix", Configured: true}}
	f := newWindowsFixture(t, cfg)
	f.ok(t, "alice", "schedule payments v1 at 2026-12-08 10:00 UTC")
	into := "schedule payments v3 at 2026-12-02 10:00 UTC"
	f.fails(t, "alice", into, "payments is frozen from 2026-12-01 09:00 UTC to 2026-12-03 00:00 UTC (freeze hf in region eu: hotfix). "+
		"An upgrade without a region counts as in every region: name a region it does not cover (region <name>) or pick a time outside it. Only an admin may override a freeze (@dave).")
	f.fails(t, "dave", into, "name a region it does not cover (region <name>) or pick a time outside it, or end the command with anyway <reason...> to override it.")
	f.fails(t, "alice", into+" region EU", "(freeze hf in region eu: hotfix); pick a time outside it. Only an admin")
	f.ok(t, "alice", into+" region us")
	f.fails(t, "alice", "reschedule 1 2026-12-02 11:00 UTC", "(freeze hf in region eu: hotfix). An upgrade without a region counts as in every region: pick a time outside it. Only an admin")
	// A freeze of every region says nothing of regions.
	f.ok(t, "dave", "freeze add all from 2026-12-04 00:00 UTC to 2026-12-05 00:00 UTC reason audit")
	f.fails(t, "alice", "schedule payments v4 at 2026-12-04 10:00 UTC", "(freeze all: audit); pick a time outside it. Only an admin")
}

func TestFreezeByCommand(t *testing.T) {
	cfg := windowsConfig(t)
	cfg.Freezes = nil
	f := newWindowsFixture(t, cfg)
	f.ok(t, "alice", "schedule payments v1 at 2026-12-21 10:00 UTC")
	f.ok(t, "carol", "schedule ledger v2 at 2026-12-22 10:00 UTC region us-east")
	f.ok(t, "bob", "schedule checkout v3 at 2027-01-10 10:00 UTC")

	f.fails(t, "alice", "freeze add year-end from 2026-12-20 to 2027-01-04 reason trading", "Only an admin may add freezes (admins: @dave)")
	f.fails(t, "dave", "freeze add year-end from 2026-12-20 to 2027-01-04 services paymnts", `Unknown service "paymnts"`)
	f.rec.Reset()
	m := f.ok(t, "dave", "freeze add year-end from 2026-12-20 to 2027-01-04 services payments,ledger regions eu-west reason year-end trading")
	has(t, "freeze add", lines(m), "Declared freeze year-end: 2026-12-20 00:00 UTC to 2027-01-04 00:00 UTC, payments, ledger in eu-west.",
		"Reason: year-end trading", "1 upgrade(s) already fall in it", "• UPG-1 payments v1")
	// UPG-2 is in us-east, where the freeze does not hold; UPG-3 is after it.
	if strings.Contains(lines(m), "UPG-2") || strings.Contains(lines(m), "UPG-3") {
		t.Fatal("an upgrade the freeze does not hold for was listed")
	}
	notices := f.rec.Kinds(bot.KindFreeze)
	if len(notices) != 1 || notices[0].To != "test:#payments" || !strings.Contains(notices[0].Text, "Freeze year-end was declared by @dave over the window of UPG-1") ||
		!strings.Contains(notices[0].Text, "reschedule UPG-1 <time>") || !notices[0].Msg.AlsoInChannel {
		t.Fatalf("thread notices: %+v", notices)
	}
	f.fails(t, "alice", "schedule payments v4 at 2026-12-24 10:00 UTC", "freeze year-end")
	f.fails(t, "dave", "freeze add year-end for 1d", "Freeze year-end exists already", "/upgrade freeze remove year-end")

	has(t, "freeze list", lines(f.ok(t, "carol", "freeze list")), "Change freezes", "❄ year-end", "payments, ledger in eu-west · year-end trading", "declared by @dave")
	f.fails(t, "alice", "freeze remove year-end", "Only an admin may remove freezes")
	f.fails(t, "dave", "freeze remove yearend", "No freeze is named yearend (known: year-end)")
	f.rec.Reset()
	has(t, "freeze remove", lines(f.ok(t, "dave", "freeze remove year-end trading moved to January")), "Removed freeze year-end", "The threads of the 1 upgrade(s) it held were told.")
	if lifted := f.rec.Kinds(bot.KindFreeze); len(lifted) != 1 || !strings.Contains(lifted[0].Text, "Freeze year-end was removed by @dave") {
		t.Fatalf("lifted notices: %+v", lifted)
	}
	f.ok(t, "alice", "schedule payments v4 at 2026-12-24 10:00 UTC")
	has(t, "freeze list", lines(f.ok(t, "carol", "freeze list")), "No freeze holds now or later.")
	has(t, "freeze list all", lines(f.ok(t, "carol", "freeze list all")), "removed by @dave", "trading moved to January")
	f.fails(t, "dave", "freeze remove year-end", "was removed already")
	// The name may be used again once removed.
	f.ok(t, "dave", "freeze add year-end for 2h")
}

func TestConfiguredFreezesAreListedAndRemovedOnlyInTheConfiguration(t *testing.T) {
	f := newWindowsFixture(t, windowsConfig(t))
	has(t, "freeze list", lines(f.ok(t, "bob", "freeze list")), "❄ release-week", "every service · quarterly release · in the configuration")
	f.fails(t, "dave", "freeze remove release-week", "declared in the configuration")
	f.fails(t, "dave", "freeze add release-week for 1d", "declared in the configuration; pick another name")
	fs, err := f.b.Freezes(context.Background(), false)
	if err != nil || len(fs) != 1 || !fs[0].Configured {
		t.Fatalf("Freezes = %+v, %v", fs, err)
	}
}

// TestSeriesAtTheCommand: without a scheduler (no queue), a series still
// creates the occurrences due when it is made; cancel asks which is meant.
func TestSeriesAtTheCommand(t *testing.T) {
	cfg := windowsConfig(t)
	cfg.Freezes = nil
	f := newWindowsFixture(t, cfg)
	m := f.ok(t, "alice", "schedule payments v2.5.0 every tue 02:00 Europe/Berlin for 1h until 2026-12-31")
	// Tuesday 24 November is 2 days ahead and 1 December 9 days: the lead
	// is 8 days, so only the first is created now.
	has(t, "the series", lines(m), "Scheduled series SER-1: payments v2.5.0 every Tue 02:00 Europe/Berlin for 1h until 2026-12-31.",
		"created 8d before its window", "• UPG-1 payments v2.5.0 · 2026-11-24 01:00 UTC to 2026-11-24 02:00 UTC",
		"Next occurrence: 2026-12-01 01:00 UTC, created 2026-11-23 01:00 UTC.", "The pre-brief is being posted to #payments.")
	root := lines(lastRoot(t, f.rec, "test:#payments"))
	has(t, "the occurrence's pre-brief", root, "Series: SER-1 · every Tue 02:00 Europe/Berlin", "Acknowledged 0/")
	if ev := eventData(t, f.st, bot.EventScheduled); len(ev) != 1 || ev[0]["series"] != float64(1) {
		t.Fatalf("the occurrence's event: %v", ev)
	}

	m = f.ok(t, "alice", "cancel UPG-1")
	has(t, "cancel asks", lines(m), "UPG-1 is the 2026-11-24 occurrence of series SER-1", "Nothing is cancelled yet",
		"/upgrade cancel UPG-1 occurrence [<reason...>]", "/upgrade cancel UPG-1 series [<reason...>]")
	if u, _ := f.st.Get(context.Background(), 1); u.State != bot.Scheduled {
		t.Fatal("asking cancelled")
	}
	f.fails(t, "bob", "cancel UPG-1 series", "You are not allowed to cancel UPG-1")
	has(t, "cancel the occurrence", lines(f.ok(t, "alice", "cancel UPG-1 occurrence team offsite")), "Cancelled UPG-1", "Series SER-1 goes on")

	// A one-off upgrade has no series to cancel: refused; quoted, "series"
	// is the first word of its reason.
	f.ok(t, "alice", "schedule payments v9 at 2026-12-03 10:00 UTC")
	f.fails(t, "alice", "cancel 2 series of failures upstream", "UPG-2 is not part of a series")
	if u, _ := f.st.Get(context.Background(), 2); u.State != bot.Scheduled {
		t.Fatalf("a refused cancel left UPG-2 %s", u.State)
	}
	f.ok(t, "alice", `cancel 2 "series of failures upstream"`)
	if u, _ := f.st.Get(context.Background(), 2); u.State != bot.Cancelled || u.Reason != "series of failures upstream" {
		t.Fatalf("one-off cancel: %s %q", u.State, u.Reason)
	}
}

// TestExtendIsJudgedOnWhatItAdds: a freeze declared over the start of an
// upgrade does not stop an extend that stays out of it; one that reaches
// into a freeze is refused.
func TestExtendIsJudgedOnWhatItAdds(t *testing.T) {
	cfg := testConfig()
	f := newWindowsFixture(t, cfg)
	f.ok(t, "alice", "schedule payments v1 at 2026-12-01 10:00 UTC for 1h")
	f.ok(t, "dave", "freeze add morning from 2026-12-01 09:00 UTC to 2026-12-01 10:30 UTC")
	f.ok(t, "dave", "freeze add evening from 2026-12-01 12:00 UTC to 2026-12-01 13:00 UTC")
	has(t, "an extend out of the freeze", lines(f.ok(t, "alice", "extend 1 30m")), "Extended UPG-1", "now ends 2026-12-01 11:30 UTC")
	f.fails(t, "alice", "extend 1 1h", "payments is frozen from 2026-12-01 12:00 UTC to 2026-12-01 13:00 UTC (freeze evening)")
	f.fails(t, "alice", "reschedule 1 2026-12-01 09:30 UTC", "freeze morning")
	// An admin's anyway overrides the freeze that meets the window as it
	// was, too: it holds over the window, so the anyway is not idle.
	m := lines(f.ok(t, "dave", "extend 1 15m anyway audit agreed"))
	has(t, "an admin's extend with anyway", m, "Freeze morning (2026-12-01 09:00 UTC to 2026-12-01 10:30 UTC) overridden by @dave: audit agreed.")
	if strings.Contains(m, "overrode nothing") {
		t.Fatalf("an anyway over a freeze that holds was called idle:\n%s", m)
	}
}

// TestAnywayAgainReplacesTheOverride: a freeze overridden for an upgrade
// still holds over its new window. An admin's new anyway is the override
// now (the new reason, by the new admin), logged and shown, never called
// idle; without anyway the earlier override carries over; an owner's
// anyway overrides nothing, says so truthfully, and is not logged.
func TestAnywayAgainReplacesTheOverride(t *testing.T) {
	cfg := testConfig()
	cfg.Admins = append(cfg.Admins, "bob")
	f := newWindowsFixture(t, cfg)
	f.ok(t, "alice", "schedule payments v1 at 2026-11-24 10:00 UTC for 1h")
	f.ok(t, "dave", "freeze add fz from 2026-11-24 11:00 UTC to 2026-11-24 14:00 UTC reason test")
	has(t, "the first override", lines(f.ok(t, "dave", "extend 1 2h anyway urgent")), "overridden by @dave: urgent.")

	m := lines(f.ok(t, "bob", "reschedule 1 at 2026-11-24 12:30 UTC for 30m anyway second reason"))
	has(t, "the second override", m, "Rescheduled UPG-1", "❄ Freeze fz (2026-11-24 11:00 UTC to 2026-11-24 14:00 UTC) overridden by @bob: second reason.")
	if strings.Contains(m, "overrode nothing") || strings.Contains(m, "urgent") {
		t.Fatalf("the new anyway was not the override:\n%s", m)
	}
	has(t, "the pre-brief", lines(lastRoot(t, f.rec, "test:#payments")), "Override: ❄ Freeze fz", "overridden by @bob: second reason.")
	notices := f.rec.Kinds(bot.KindRescheduled)
	has(t, "the thread notice", notices[len(notices)-1].Text, "was rescheduled by @bob", "overridden by @bob: second reason.")
	has(t, "the decision log", lines(f.ok(t, "alice", "log 1")), "dave · extended", "why: urgent",
		"bob · rescheduled · from 2026-11-24 10:00 UTC to 2026-11-24 12:30 UTC, until 2026-11-24 13:00 UTC · ❄ Freeze fz (2026-11-24 11:00 UTC to 2026-11-24 14:00 UTC) overridden by @bob. · why: second reason")
	w, _ := eventData(t, f.st, bot.EventRescheduled)[0]["warnings"].([]any)
	if len(w) != 1 || w[0].(map[string]any)["by"] != "bob" || w[0].(map[string]any)["reason"] != "second reason" {
		t.Fatalf("the event's warnings: %v", w)
	}
	// An extend further into the freeze with anyway replaces it too.
	has(t, "an extend with anyway", lines(f.ok(t, "dave", "extend 1 30m anyway third")), "overridden by @dave: third.")

	// Moved within the freeze without anyway, the override carries over.
	has(t, "the owner's move", lines(f.ok(t, "alice", "reschedule 1 at 2026-11-24 12:00 UTC for 30m")), "overridden by @dave: third.")
	// The owner's anyway overrides nothing, and says why.
	m = lines(f.ok(t, "alice", "reschedule 1 at 2026-11-24 12:30 UTC for 30m anyway mine"))
	has(t, "an owner's anyway", m, "overridden by @dave: third.",
		"Only an admin may override a freeze, so anyway overrode nothing (and its reason is not logged); this change needed no override.")
	if strings.Contains(m, "No freeze holds") {
		t.Fatalf("the owner was told no freeze holds:\n%s", m)
	}
	if strings.Contains(lines(f.ok(t, "alice", "log 1")), "mine") {
		t.Fatal("the owner's idle anyway was logged")
	}
}

// TestAnIdleAnywayAfterAnImpactSaysHowToQuoteIt: an unquoted anyway ends
// an impact; when it overrode nothing, or had no reason, the reply says how
// to have the word in the impact.
func TestAnIdleAnywayAfterAnImpactSaysHowToQuoteIt(t *testing.T) {
	f := newWindowsFixture(t, testConfig())
	hint := `; to have the word in the impact, quote it: impact "things anyway hotfix".`
	has(t, "an idle anyway after an impact", lines(f.ok(t, "alice", "schedule payments v1 at 2026-12-01 10:00 UTC impact things anyway hotfix")),
		"No freeze holds over this window, so anyway overrode nothing (and its reason is not logged)"+hint)
	has(t, "a series' idle anyway after an impact", lines(f.ok(t, "dave", "schedule payments v2 every wed 02:00 UTC for 1h impact things anyway hotfix")),
		"it does not carry over to later ones"+hint)
	if m := lines(f.ok(t, "alice", "schedule payments v3 at 2026-12-02 10:00 UTC anyway hotfix")); strings.Contains(m, "quote it") {
		t.Fatalf("an anyway after no impact was given the impact's hint:\n%s", m)
	}
	f.fails(t, "alice", "schedule payments v4 in 2d impact it will be slow anyway",
		`Missing <reason...> after anyway: overriding a freeze must say why; to have the word in the impact, quote it: impact "it will be slow anyway"`)
}

// TestListShowsTheActiveSeries: list names each active recurring upgrade
// with its next occurrence; a cancelled one is gone.
func TestListShowsTheActiveSeries(t *testing.T) {
	f := newWindowsFixture(t, testConfig())
	f.ok(t, "bob", "schedule checkout v3 every thu 22:00 UTC for 1h")
	has(t, "list", lines(f.ok(t, "carol", "list")), "UPG-1 checkout v3",
		"🔁 SER-1 checkout v3 every Thu 22:00 UTC for 1h · next occurrence 2026-12-03 22:00 UTC, created 2026-11-25 22:00 UTC")
	if strings.Contains(lines(f.ok(t, "carol", "list payments")), "SER-1") {
		t.Fatal("list payments shows checkout's series")
	}
	f.ok(t, "bob", "cancel 1 series")
	if strings.Contains(lines(f.ok(t, "carol", "list")), "SER-1") {
		t.Fatal("a cancelled series is still listed")
	}
	// A series' region shows in its scheduling reply and its list line
	// (QA: both dropped it).
	has(t, "a series in a region", lines(f.ok(t, "bob", "schedule checkout v4 every thu 22:00 UTC for 1h region eu")),
		"Scheduled series SER-2: checkout v4 every Thu 22:00 UTC for 1h · region eu.")
	has(t, "list of a series in a region", lines(f.ok(t, "carol", "list")),
		"🔁 SER-2 checkout v4 every Thu 22:00 UTC for 1h · region eu · next occurrence")
}

// TestSeriesSkipsADateItsVersionIsScheduledOn: an occurrence whose window
// overlaps an upgrade of the same service and version (typed by hand, or
// made by another series) is skipped and said so, as a one-off schedule of
// it is refused: two upgrades of one version would double its threads.
func TestSeriesSkipsADateItsVersionIsScheduledOn(t *testing.T) {
	cfg := windowsConfig(t)
	cfg.Freezes = nil
	f := newWindowsFixture(t, cfg)
	f.ok(t, "alice", "schedule payments v2.5.0 at 2026-11-24 01:30 UTC for 1h")
	f.rec.Reset()
	m := f.ok(t, "alice", "schedule payments v2.5.0 every tue 02:00 Europe/Berlin for 1h until 2026-12-31")
	has(t, "the series", lines(m), "Scheduled series SER-1",
		"• 2026-11-24 01:00 UTC: skipped, payments v2.5.0 is already scheduled as UPG-1 then.")
	if _, err := f.st.Get(context.Background(), 2); err == nil {
		t.Fatal("the skipped date was created as UPG-2")
	}
	skipped := f.rec.Kinds(bot.KindSeries)
	if len(skipped) != 1 || skipped[0].To != "test:#payments" ||
		!strings.Contains(skipped[0].Text, "is skipped: the same version is already scheduled as UPG-1, from 2026-11-24 01:30 UTC to 2026-11-24 02:30 UTC.") {
		t.Fatalf("skip notices: %+v", skipped)
	}
	if roots := f.rec.Kinds(bot.KindRoot); len(roots) != 0 {
		t.Fatalf("a pre-brief went out for the skipped date: %+v", roots)
	}

	// Another version on the same date is an occurrence like any other.
	has(t, "another version", lines(f.ok(t, "alice", "schedule payments v2.6.0 every tue 02:00 Europe/Berlin for 1h until 2026-12-31")),
		"• UPG-2 payments v2.6.0 · 2026-11-24 01:00 UTC to 2026-11-24 02:00 UTC")
	// A second identical series is refused (TestASecondSeriesOfOneVersionIsRefused).
	f.fails(t, "alice", "schedule payments v2.6.0 every tue 02:00 Europe/Berlin for 1h until 2026-12-31", "already scheduled by series SER-2")
}

// TestSeriesSkipSaysTheBlockingUpgradesState: an occurrence skipped for an
// upgrade of its version already under way says it is in progress, not
// scheduled (QA: "already scheduled as UPG-1" of one in progress).
func TestSeriesSkipSaysTheBlockingUpgradesState(t *testing.T) {
	cfg := windowsConfig(t)
	cfg.Freezes = nil
	f := newWindowsFixture(t, cfg)
	f.ok(t, "alice", "schedule payments v2.5.0 at 2026-11-24 00:30 UTC for 1h")
	f.clock.Set(time.Date(2026, 11, 24, 0, 40, 0, 0, time.UTC))
	f.ok(t, "alice", "start 1")
	f.rec.Reset()
	m := f.ok(t, "alice", "schedule payments v2.5.0 every tue 02:00 Europe/Berlin for 1h until 2026-12-31")
	has(t, "the series", lines(m), "• 2026-11-24 01:00 UTC: skipped, payments v2.5.0 is already in progress as UPG-1 then.")
	skipped := f.rec.Kinds(bot.KindSeries)
	if len(skipped) != 1 || !strings.Contains(skipped[0].Text, "is skipped: the same version is already in progress as UPG-1, from 2026-11-24 00:30 UTC to 2026-11-24 01:30 UTC.") {
		t.Fatalf("skip notices: %+v", skipped)
	}
}

// TestSeriesReplyNamesEachOccurrencesOverlapsAndAnyway: every occurrence
// created at once says what it overlaps; anyway on a series is an admin's,
// and one that overrode nothing says so; until is the last date.
func TestSeriesReplyNamesEachOccurrencesOverlapsAndAnyway(t *testing.T) {
	cfg := windowsConfig(t)
	cfg.Freezes = nil
	f := newWindowsFixture(t, cfg)
	f.ok(t, "alice", "schedule payments v1 at 2026-12-01 01:30 UTC for 1h") // over the series' second Tuesday
	f.clock.Set(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))             // both Tuesdays are within the 8-day lead
	m := f.ok(t, "alice", "schedule payments v2 every tue 02:00 Europe/Berlin for 1h until 2026-12-01")
	has(t, "the series", lines(m),
		"• UPG-2 payments v2 · 2026-11-24 01:00 UTC to 2026-11-24 02:00 UTC\n",
		"• UPG-3 payments v2 · 2026-12-01 01:00 UTC to 2026-12-01 02:00 UTC ⚠ It overlaps UPG-1 payments v1 (2026-12-01 01:30 UTC to 2026-12-01 02:30 UTC).",
		"the series ends on 2026-12-01.")
	if strings.Contains(lines(m), "Warning: this window overlaps") {
		t.Fatalf("an overlap not said of its occurrence:\n%s", lines(m))
	}

	f.fails(t, "alice", "schedule payments v3 every wed 02:00 UTC for 1h anyway we must", "Only an admin may override a change freeze with anyway (@dave)")
	if _, err := f.st.GetSeries(context.Background(), 2); err == nil {
		t.Fatal("the refused series was stored")
	}
	has(t, "an idle anyway", lines(f.ok(t, "dave", "schedule payments v3 every wed 02:00 UTC for 1h anyway we must")),
		"No freeze holds over the occurrences created now, so anyway overrode nothing")
}

// TestCancelOfAnOccurrenceThatCannotBeCancelled: an occurrence in progress
// is not offered a cancel that would be refused; only ending its series.
func TestCancelOfAnOccurrenceThatCannotBeCancelled(t *testing.T) {
	cfg := windowsConfig(t)
	cfg.Freezes = nil
	f := newWindowsFixture(t, cfg)
	f.ok(t, "alice", "schedule payments v2 every tue 02:00 Europe/Berlin for 1h")
	f.clock.Set(time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC))
	f.ok(t, "alice", "start 1")
	f.fails(t, "alice", "cancel 1", "UPG-1 is in progress; it can no longer be cancelled (complete it or roll it back).",
		"To end its series SER-1 (no more occurrences; its scheduled ones are cancelled): /upgrade cancel UPG-1 series [<reason...>].")
	if msg := lines(f.do(t, "alice", "cancel 1")); strings.Contains(msg, "occurrence <reason") {
		t.Fatalf("offered to cancel the occurrence:\n%s", msg)
	}
}

// freezeOverRunning starts ledger's upgrade in window and has dave declare
// the freeze decl over it; it returns the fixture and the thread's freeze
// notice.
func freezeOverRunning(t *testing.T, window, decl string) (*fixture, string) {
	t.Helper()
	f := newWindowsFixture(t, testConfig())
	f.ok(t, "carol", "schedule ledger v2 at "+window)
	f.ok(t, "carol", "start 1")
	f.rec.Reset()
	f.ok(t, "dave", decl)
	notices := f.rec.Kinds(bot.KindFreeze)
	if len(notices) != 1 {
		t.Fatalf("notices: %+v", notices)
	}
	if strings.Contains(notices[0].Text, "reschedule") {
		t.Fatalf("suggests a reschedule:\n%s", notices[0].Text)
	}
	return f, notices[0].Text
}

// TestFreezeOverAnUpgradeInProgress: the thread of a running upgrade is
// told what it can do, not to move or cancel it.
func TestFreezeOverAnUpgradeInProgress(t *testing.T) {
	_, notice := freezeOverRunning(t, "2026-11-22 10:30 UTC for 2h", "freeze add incident for 3h services ledger reason incident")
	has(t, "the notice", notice,
		"It is in progress and goes on; extending it further into the freeze is refused unless an admin overrides it (anyway <reason...>).",
		"Finish it with /upgrade complete UPG-1, or roll it back with /upgrade rollback UPG-1 <reason...>.")
}

// QA: a freeze that ends before the window does is no reason to refuse an
// extend, and the notice said it would be.
func TestFreezeOverPartOfAnUpgradeInProgress(t *testing.T) {
	f, notice := freezeOverRunning(t, "2026-11-22 10:30 UTC for 4h", "freeze add short for 1h services ledger reason a short one")
	has(t, "the notice of a window that outlasts the freeze", notice, "It is in progress and goes on. Finish it with /upgrade complete UPG-1")
	if strings.Contains(notice, "extending it further") {
		t.Fatalf("says an extend would be refused:\n%s", notice)
	}
	has(t, "an extend past the freeze", lines(f.ok(t, "carol", "extend 1 30m")), "Extended UPG-1")
}

// An owner's impact that ends in an unquoted anyway, over a freeze: the
// refusal also says how to have the word in the impact, which the owner
// most likely meant.
func TestAnImpactAnywayRefusedOverAFreezeSaysHowToQuoteIt(t *testing.T) {
	f := newWindowsFixture(t, testConfig())
	f.ok(t, "dave", "freeze add fz from 2026-12-01 09:00 UTC to 2026-12-01 13:00 UTC reason test")
	f.fails(t, "alice", "schedule payments v1 at 2026-12-01 10:00 UTC impact it will be slow anyway for a while",
		`only an admin may override a freeze`, `To have the word in the impact, quote it: impact "it will be slow anyway for a while".`)
}

// TestCancelOfAOneOffWithASeriesWord: typed "series" on an upgrade that is
// no occurrence is refused and cancels nothing (it was: the upgrade was
// cancelled with "series" as the reason's first word, whatever was meant);
// the refusal says how to cancel it, and how to quote the word to have it
// in the reason. "occurrence" is the reason's first word (the upgrade
// itself is what it names), and the reply says so.
func TestCancelOfAOneOffWithASeriesWord(t *testing.T) {
	f := newFixture(t)
	f.ok(t, "alice", schedulePayments)
	before := len(f.st.Events())
	f.fails(t, "alice", "cancel 1 series oops",
		`UPG-1 is not part of a series, so there is no series to cancel; nothing changed. To cancel UPG-1 itself, leave out "series": /upgrade cancel UPG-1 [<reason...>]; if "series" begins the reason, quote it: /upgrade cancel UPG-1 "series oops".`)
	if n := len(f.st.Events()); n != before {
		t.Errorf("the refused cancel published %d events", n-before)
	}
	has(t, "UPG-1 after the refusal", lines(f.ok(t, "alice", "show 1")), "scheduled")
	f.fails(t, "alice", "cancel 1 series", `if "series" begins the reason, quote it: /upgrade cancel UPG-1 "series".`)
	// A comma after the word is no part of it: refused the same.
	f.fails(t, "alice", "cancel 1 series, vendor delay", `no series to cancel; nothing changed`)
	// Who may not cancel it hears that, not how to quote a word.
	f.fails(t, "bob", "cancel 1 series", "not allowed")

	// Quoted as the refusal says, the word is the reason.
	m := f.ok(t, "alice", `cancel 1 "series oops"`)
	if strings.Contains(lines(m), "not part of a series") {
		t.Fatalf("a quoted word gets the note:\n%s", lines(m))
	}
	if m := f.ok(t, "alice", "log 1"); !strings.Contains(lines(m), "series oops") {
		t.Fatalf("the reason is not in the log:\n%s", lines(m))
	}
	// Said again, the upgrade cannot be cancelled: that is the answer.
	f.fails(t, "alice", "cancel 1 series", "UPG-1 is cancelled")

	f.ok(t, "alice", schedulePayments)
	m = f.ok(t, "alice", "cancel 2 occurrence oops")
	has(t, "the reply", lines(m), "Cancelled", `UPG-2 is not part of a series, so "occurrence" was read as the reason.`)
	f.ok(t, "alice", schedulePayments)
	if m := f.ok(t, "alice", "cancel 3 no longer needed"); strings.Contains(lines(m), "not part of a series") {
		t.Fatalf("a plain reason gets the note:\n%s", lines(m))
	}
}

// QA: cancelling a series a second time said "🚫 Cancelled series SER-1"
// again and logged it again, while the first cancel's reason stayed. It
// now says who cancelled it and when, privately, changing nothing.
func TestCancellingASeriesAgainSaysItWasCancelled(t *testing.T) {
	cfg := windowsConfig(t)
	cfg.Freezes = nil
	f := newWindowsFixture(t, cfg)
	f.ok(t, "alice", "schedule payments v2.5.0 every tue 02:00 Europe/Berlin for 1h")
	has(t, "the first cancel", lines(f.ok(t, "alice", "cancel UPG-1 series done")), "🚫 Cancelled series SER-1", "• cancelled UPG-1")
	before := len(f.st.Events())
	f.fails(t, "alice", "cancel UPG-1 series done again",
		"Series SER-1 (payments v2.5.0 every Tue 02:00 Europe/Berlin for 1h) was cancelled already, by @alice at 2026-11-22 10:00 UTC: done; no more occurrences are created.")
	if n := len(f.st.Events()); n != before {
		t.Errorf("the second cancel published %d events", n-before)
	}
	s, err := f.st.GetSeries(context.Background(), 1)
	if err != nil || s.State != bot.SeriesCancelled || s.Reason != "done" {
		t.Fatalf("series after the second cancel: %+v, %v", s, err)
	}
}

// A cancel whose occurrences were not all cancelled (the replica died
// between the series and them) is finished by saying it again.
func TestCancellingASeriesAgainFinishesItsOccurrences(t *testing.T) {
	cfg := windowsConfig(t)
	cfg.Freezes = nil
	f := newWindowsFixture(t, cfg)
	f.ok(t, "alice", "schedule payments v2.5.0 every tue 02:00 Europe/Berlin for 1h")
	s, err := f.st.GetSeries(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	s.State, s.EndedBy, s.EndedAt, s.Reason = bot.SeriesCancelled, "alice", t0, "done"
	s.Rev++
	if err := f.st.SaveSeries(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	has(t, "the cancel said again", lines(f.ok(t, "alice", "cancel UPG-1 series")), "was cancelled already, by @alice", "• cancelled UPG-1")
	if u, _ := f.st.Get(context.Background(), 1); u.State != bot.Cancelled || u.Reason != "series SER-1 cancelled: done" {
		t.Fatalf("the occurrence: %s %q", u.State, u.Reason)
	}
}

// Review: a series ended (its last occurrence created, still scheduled)
// is cancelled as an active one is: the user's reason is kept, on the
// series and on the occurrence it cancels.
func TestCancellingAnEndedSeriesKeepsTheReason(t *testing.T) {
	cfg := windowsConfig(t)
	cfg.Freezes = nil
	f := newWindowsFixture(t, cfg)
	f.ok(t, "alice", "schedule payments v2.5.0 every tue 02:00 Europe/Berlin for 1h until 2026-11-24")
	if s, err := f.st.GetSeries(context.Background(), 1); err != nil || s.State != bot.SeriesEnded {
		t.Fatalf("the series: %+v, %v; want it ended, its only occurrence created", s, err)
	}
	has(t, "the cancel", lines(f.ok(t, "alice", "cancel UPG-1 series the vendor pulled the release")), "🚫 Cancelled series SER-1", "• cancelled UPG-1")
	if u, _ := f.st.Get(context.Background(), 1); u.State != bot.Cancelled || u.Reason != "series SER-1 cancelled: the vendor pulled the release" {
		t.Fatalf("the occurrence: %s %q", u.State, u.Reason)
	}
	if s, _ := f.st.GetSeries(context.Background(), 1); s.State != bot.SeriesCancelled || s.Reason != "the vendor pulled the release" || s.EndedBy != "alice" {
		t.Fatalf("the series: %+v", s)
	}
}
