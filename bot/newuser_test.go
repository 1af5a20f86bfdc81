package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
	"github.com/upgradebot/upgradebot/commands"
)

// Tests for what a new user ran into: bounds, early starts, presses that ask
// for nothing, duplicate windows, DST said out loud, people's own zones.

func TestAStartBeyondMaxLeadIsRefusedAndTakesNoID(t *testing.T) {
	f := newFixture(t)
	for _, cmd := range []string{
		"schedule payments v9 at 9999-12-31 02:00 UTC",
		"schedule payments v9 at 2028-01-01 02:00 UTC",
		"schedule payments v9 in 400d",
	} {
		f.fails(t, "alice", cmd, "more than 365d ahead (max_lead)", "check the date")
	}
	if r := lines(f.ok(t, "alice", "schedule payments v2 in 2h")); !strings.Contains(r, "Scheduled UPG-1 ") {
		t.Fatalf("a refused schedule used up an id: %s", r)
	}
}

func earlyFixture(t *testing.T) *fixture {
	t.Helper()
	cfg := testConfig()
	cfg.EarlyStart = time.Hour
	f := &fixture{st: bottest.NewMemStore(), rec: &bottest.Recorder{}, clock: bottest.NewClock(t0)}
	f.b = bot.New(bot.Options{Config: cfg, Store: f.st, Messenger: bot.Router{"test": f.rec}, Now: f.clock.Now, RefreshIntervalSet: true})
	t.Cleanup(f.b.Flush)
	return f
}

func TestStartIsAllowedOnlyWithinEarlyStart(t *testing.T) {
	f := earlyFixture(t)
	f.ok(t, "alice", "schedule payments v2.4.0 in 3h for 2h") // 13:00 to 15:00 UTC
	f.fails(t, "alice", "start 1", "UPG-1's window opens 2026-11-22 13:00 UTC (in 3h); it may be started at most 1h before (early_start)",
		"move the window: /upgrade reschedule UPG-1 <time>")
	if u, _ := f.st.Get(context.Background(), 1); u.State != bot.Scheduled || !u.StartedAt.IsZero() {
		t.Fatalf("a refused start changed the upgrade: %+v", u)
	}
	f.advance(2*time.Hour + 15*time.Minute) // 45 minutes early
	f.ok(t, "alice", "start 1")
	show := lines(f.ok(t, "bob", "show 1"))
	if miss, ok := contains(show, "State: in progress", "Window: 2026-11-22 13:00 UTC to 2026-11-22 15:00 UTC (2h)", "Started: 2026-11-22 12:15 UTC"); !ok {
		t.Fatalf("show lacks %q:\n%s", miss, show)
	}
	if root := lines(lastRoot(t, f.rec, "test:#payments")); !strings.Contains(root, "Started: 2026-11-22 12:15 UTC") {
		t.Fatalf("the root does not show the actual start:\n%s", root)
	}
	f.advance(time.Hour)
	f.ok(t, "alice", "complete 1 all green")
	if l := lines(f.ok(t, "bob", "list payments all")); !strings.Contains(l, "completed · 2026-11-22 13:00 UTC to 2026-11-22 15:00 UTC · started 2026-11-22 12:15 UTC · ended 2026-11-22 13:15 UTC") {
		t.Fatalf("list does not show what happened beside the plan: %s", l)
	}
}

func TestALateStartSaysTheWindowAlreadyEnded(t *testing.T) {
	f := earlyFixture(t)
	f.ok(t, "alice", "schedule payments v2.4.0 in 30m for 1h")
	f.advance(2 * time.Hour)
	f.rec.Reset()
	if r := lines(f.ok(t, "alice", "start 1")); !strings.Contains(r, "its window already ended 2026-11-22 11:30 UTC: extend it with /upgrade extend UPG-1 <duration>") {
		t.Fatalf("reply: %s", r)
	}
	started := f.rec.Kinds(bot.KindStarted)
	if len(started) != 1 || !strings.Contains(started[0].Text, "started by @alice; its window already ended 2026-11-22 11:30 UTC.") {
		t.Fatalf("the thread notice: %+v", started)
	}
}

func TestAPressThatAsksForNothingChangesNothing(t *testing.T) {
	cases := []struct {
		name  string
		steps []string
		scope string
		want  string
	}{
		{"cancelled", []string{"cancel 1"}, "brief", "There is nothing to acknowledge: UPG-1 is cancelled."},
		{"completed", []string{"start 1", "complete 1"}, "", "There is nothing to acknowledge: UPG-1 is completed."},
		{"the pre-brief after a rollback", []string{"start 1", "rollback 1 broken"}, "brief",
			"UPG-1 was rolled back, so its pre-brief needs no acknowledgment any more. Acknowledge the rollback alert instead: /upgrade ack UPG-1."},
		{"a rollback alert never raised", nil, "rollback", "UPG-1 has not been rolled back, so there is no rollback alert."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.ok(t, "alice", schedulePayments)
			for _, s := range c.steps {
				f.ok(t, "alice", s)
			}
			before := len(f.st.EventTypes())
			acks, _ := f.st.Acks(context.Background(), 1)
			m := pressAs(f.b, context.Background(), who("bob").Actor, "UPG-1", c.scope)
			if m.Kind != bot.KindError || !strings.Contains(lines(m), c.want) {
				t.Fatalf("press: %s", lines(m))
			}
			if c.scope == "" { // the same by command
				f.fails(t, "bob", "ack 1", c.want)
			}
			after, _ := f.st.Acks(context.Background(), 1)
			if len(after) != len(acks) || len(f.st.EventTypes()) != before {
				t.Fatalf("a refused press recorded something: %d acks, %d events", len(after)-len(acks), len(f.st.EventTypes())-before)
			}
		})
	}
}

func TestTheSameVersionTwiceIsRefusedAndOverlapsWarnBothSides(t *testing.T) {
	f := newFixture(t)
	f.ok(t, "alice", schedulePayments) // UPG-1, 2026-12-01 02:00 to 04:00
	f.fails(t, "alice", "schedule payments v2.4.0 at 2026-12-01 03:00 UTC",
		"payments v2.4.0 is already scheduled as UPG-1, from 2026-12-01 02:00 UTC to 2026-12-01 04:00 UTC",
		"/upgrade reschedule UPG-1 <time>", "/upgrade extend UPG-1 <duration>")
	// Another version of the same service, or a related service, only warns.
	r := lines(f.ok(t, "carol", "schedule ledger v3 at 2026-12-01 03:00 UTC for 2h")) // UPG-2: the refusal took no id
	if !strings.Contains(r, "Scheduled UPG-2 ") || !strings.Contains(r, "overlaps UPG-1 payments v2.4.0") {
		t.Fatalf("reply: %s", r)
	}
	if show := lines(f.ok(t, "bob", "show 1")); !strings.Contains(show, "Conflict: ⚠ overlaps UPG-2 ledger v3 (2026-12-01 03:00 UTC to 2026-12-01 05:00 UTC)") {
		t.Fatalf("the earlier upgrade does not name the later one:\n%s", show)
	}
	if root := lines(lastRoot(t, f.rec, "test:#payments")); !strings.Contains(root, "overlaps UPG-2 ledger v3") {
		t.Fatalf("the earlier root does not name the later one:\n%s", root)
	}
	// Moving the later one moves the warning; moving it away removes it.
	f.ok(t, "carol", "reschedule 2 at 2026-12-01 03:30 UTC")
	if show := lines(f.ok(t, "bob", "show 1")); !strings.Contains(show, "overlaps UPG-2 ledger v3 (2026-12-01 03:30 UTC to 2026-12-01 05:30 UTC)") {
		t.Fatalf("the warning did not follow the window:\n%s", show)
	}
	f.ok(t, "carol", "reschedule 2 at 2026-12-02 03:00 UTC")
	if show := lines(f.ok(t, "bob", "show 1")); strings.Contains(show, "overlaps") {
		t.Fatalf("a warning stayed after the window moved away:\n%s", show)
	}
	f.ok(t, "carol", "reschedule 2 at 2026-12-01 01:00 UTC")
	f.ok(t, "carol", "cancel 2")
	if show := lines(f.ok(t, "bob", "show 1")); strings.Contains(show, "overlaps") {
		t.Fatalf("a cancelled upgrade is still named:\n%s", show)
	}
}

// TestTheSameVersionIsNotMovedOrExtendedOverItself: reschedule and extend
// refuse to make an upgrade overlap another of its service and version, as
// schedule does, naming that one; anyway does not lift it (nor schedule's),
// and nothing changes. An occurrence of a series counts like any upgrade.
func TestTheSameVersionIsNotMovedOrExtendedOverItself(t *testing.T) {
	f := newWindowsFixture(t, testConfig())
	f.ok(t, "alice", "schedule payments v1 at 2026-11-24 10:00 UTC for 2h") // UPG-1
	f.ok(t, "alice", "schedule payments v1 at 2026-11-24 14:00 UTC for 1h") // UPG-2
	before := len(f.st.Events())
	f.fails(t, "alice", "reschedule 2 at 2026-11-24 11:00 UTC",
		"payments v1 is already scheduled as UPG-1, from 2026-11-24 10:00 UTC to 2026-11-24 12:00 UTC; moved to 2026-11-24 11:00 UTC to 2026-11-24 12:00 UTC, UPG-2 would overlap it. "+
			"Pick a time clear of it, or move or lengthen that one instead (/upgrade reschedule UPG-1 <time>, /upgrade extend UPG-1 <duration>).",
		"Usage: /upgrade reschedule")
	f.fails(t, "dave", "reschedule 2 at 2026-11-24 11:00 UTC anyway we must", "payments v1 is already scheduled as UPG-1")
	f.fails(t, "dave", "schedule payments v1 at 2026-11-24 11:00 UTC anyway we must", "payments v1 is already scheduled as UPG-1")
	f.fails(t, "alice", "extend 1 3h",
		"payments v1 is already scheduled as UPG-2, from 2026-11-24 14:00 UTC to 2026-11-24 15:00 UTC; extended by 3h, UPG-1 would overlap it. "+
			"Extend it by less, or move that one later (/upgrade reschedule UPG-2 <time>).")
	f.fails(t, "dave", "extend 1 3h anyway we must", "payments v1 is already scheduled as UPG-2")
	if len(f.st.Events()) != before {
		t.Fatal("a refusal stored something")
	}
	for id, want := range map[int]string{1: "2026-11-24 10:00 UTC to 2026-11-24 12:00 UTC", 2: "2026-11-24 14:00 UTC to 2026-11-24 15:00 UTC"} {
		has(t, "show", lines(f.ok(t, "bob", fmt.Sprintf("show %d", id))), want)
	}
	// Up to it, or away from it, is fine.
	has(t, "an extend up to the other", lines(f.ok(t, "alice", "extend 1 2h")), "now ends 2026-11-24 14:00 UTC")
	f.ok(t, "alice", "reschedule 2 at 2026-11-25 10:00 UTC")

	// An occurrence of a series is an upgrade like any other.
	f.ok(t, "alice", "schedule payments v2 every fri 10:00 UTC for 1h until 2026-11-27") // UPG-3, 2026-11-27
	f.ok(t, "alice", "schedule payments v2 at 2026-11-28 10:00 UTC")                     // UPG-4
	f.fails(t, "alice", "reschedule 4 at 2026-11-27 10:30 UTC", "payments v2 is already scheduled as UPG-3, from 2026-11-27 10:00 UTC to 2026-11-27 11:00 UTC")
}

func TestDSTIsSaidOutLoudAndTheTypedZoneEchoed(t *testing.T) {
	f := newFixture(t)
	r := lines(f.ok(t, "alice", "schedule payments v2.4.0 at 2027-03-14 02:30 America/New_York for 1h"))
	for _, want := range []string{
		"02:30 does not exist on 14 March in America/New_York (clocks jump from 02:00 to 03:00); read as 03:30 EDT.",
		"2027-03-14 07:30 UTC to 2027-03-14 08:30 UTC",                       // the instant, read forward
		"In America/New_York: 2027-03-14 03:30 EDT to 2027-03-14 04:30 EDT.", // in the zone typed
	} {
		if !strings.Contains(r, want) {
			t.Errorf("reply lacks %q:\n%s", want, r)
		}
	}
	r = lines(f.ok(t, "alice", "reschedule 1 at 2027-11-07 01:30 America/New_York"))
	if !strings.Contains(r, "01:30 happens twice on 7 November in America/New_York") || !strings.Contains(r, "In America/New_York: 2027-11-07 01:30 EDT") {
		t.Errorf("reschedule reply:\n%s", r)
	}
}

func TestAPersonsOwnZoneReadsTheirTimes(t *testing.T) {
	cfg := testConfig()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	cfg.People[0].Location = ny // alice; bob has none
	st, rec := bottest.NewMemStore(), &bottest.Recorder{}
	b := bot.New(bot.Options{Config: cfg, Store: st, Messenger: bot.Router{"test": rec}, Now: func() time.Time { return t0 }, RefreshIntervalSet: true})
	t.Cleanup(b.Flush)
	r := lines(b.Handle(context.Background(), who("alice"), "schedule payments v2 at 2026-12-01 02:00"))
	if !strings.Contains(r, `"2026-12-01 02:00" was read in America/New_York, your time zone.`) || !strings.Contains(r, "2026-12-01 07:00 UTC") {
		t.Fatalf("alice's reply: %s", r)
	}
	r = lines(b.Handle(context.Background(), who("bob"), "schedule checkout v3 at 2026-12-01 02:00"))
	if !strings.Contains(r, `"2026-12-01 02:00" was read in UTC, the bot's default time zone`) {
		t.Fatalf("bob's reply: %s", r)
	}
}

func TestStatesReadAsWords(t *testing.T) {
	f := newFixture(t)
	f.ok(t, "alice", schedulePayments)
	f.ok(t, "alice", "start 1")
	f.fails(t, "alice", "start 1", "UPG-1 is in progress; it can no longer be started.")
	f.ok(t, "alice", "rollback 1 broken")
	for _, cmd := range []string{"show 1", "list all", "log 1"} {
		out := lines(f.ok(t, "bob", cmd))
		if strings.Contains(out, "rolled_back") || strings.Contains(out, "in_progress") {
			t.Errorf("%s shows a state id:\n%s", cmd, out)
		}
		if !strings.Contains(out, "rolled back") {
			t.Errorf("%s lacks the state in words:\n%s", cmd, out)
		}
	}
}

func TestErrorRepliesAreShort(t *testing.T) {
	f := newFixture(t)
	f.ok(t, "alice", schedulePayments)
	cases := []struct {
		as, cmd string
		usage   int    // usage lines
		want    string // part of the reply
	}{
		{"alice", "schedule payments v1 at someday", 1, "Usage: /upgrade schedule <service> <version> [at] <time>"},
		{"alice", "complete 1", 1, "Usage: /upgrade complete <id> [<note...>]"},
		// A refusal of who may is an error too: it shows the usage, as
		// spec/commands.md has every error do.
		{"bob", "start 1", 1, "You are not allowed to start UPG-1"},
		{"alice", "shedule payments v1 in 2h", 1, `did you mean "schedule"?`},
	}
	for _, c := range cases {
		m := f.do(t, c.as, c.cmd)
		out := lines(m)
		if m.Kind != bot.KindError || !strings.Contains(out, c.want) {
			t.Errorf("%s: %s", c.cmd, out)
		}
		if n := strings.Count(out, "Usage:") + strings.Count(out, "   or:"); n != c.usage {
			t.Errorf("%s: %d usage lines, want %d:\n%s", c.cmd, n, c.usage, out)
		}
	}
}

// TestParseRefusalKeepsInternalErrorsInternal: an error that is not about
// the user's input (a platform's options reader missing) is answered with
// the generic words, never its own text.
func TestParseRefusalKeepsInternalErrorsInternal(t *testing.T) {
	m := bot.ParseRefusal(errors.New(`discord: subcommand "x" has no options reader`))
	out := lines(m)
	if m.Kind != bot.KindError || strings.Contains(out, "options reader") || !strings.Contains(out, "Something went wrong on our side") {
		t.Errorf("the refusal says %q", out)
	}
}

// unreachable is a store error that says the store did not answer.
type unreachable struct{}

func (unreachable) Error() string     { return "dial tcp 10.0.0.9:6379: i/o timeout" }
func (unreachable) Unavailable() bool { return true }

// downStore is a store that cannot be reached.
type downStore struct{ *bottest.MemStore }

func (downStore) List(context.Context, bot.Filter) ([]*bot.Upgrade, error) {
	return nil, fmt.Errorf("store: list: %w", unreachable{})
}

// A command whose store did not answer tells its user to try again (and
// to check a change before repeating it), not that something broke: the
// operators see an outage. Other internal errors keep the generic words.
func TestAStoreThatDoesNotAnswerIsSaidSo(t *testing.T) {
	b := bot.New(bot.Options{Config: testConfig(), Store: downStore{bottest.NewMemStore()}, Messenger: bot.Router{"test": &bottest.Recorder{}},
		Now: func() time.Time { return t0 }, RefreshIntervalSet: true})
	m := b.Handle(context.Background(), who("alice"), "list")
	out := lines(m)
	if m.Kind != bot.KindError || !strings.Contains(out, "could not reach its store just now") || strings.Contains(out, "10.0.0.9") || strings.Contains(out, "Usage:") {
		t.Errorf("list with the store down: %s", out)
	}
	for err, want := range map[error]bool{
		unreachable{}:                        true,
		context.DeadlineExceeded:             false, // whose deadline? the caller knows
		errors.New("redis: ERR broken"):      false,
		bot.Errorf(bot.EINVALID, "bad time"): false,
	} {
		if got := bot.Unavailable(err); got != want {
			t.Errorf("Unavailable(%v) = %v, want %v", err, got, want)
		}
	}
}

// TestParseRefusalWritesTheSuggestedCommandAsTyped: a refusal that
// suggests a command (link's page that is no release page) shows it in the
// text grammar where commands are typed (Slack, the console), and its
// placeholder page as code, not a URL of the core's making.
func TestParseRefusalWritesTheSuggestedCommandAsTyped(t *testing.T) {
	_, err := commands.Parse("link 7 https://github.com/acme/payments/tree/v2.4.0", commands.Env{})
	m := bot.ParseRefusal(err)
	got := bot.Plain{Command: "/deploy"}.Text(m.Lines[0])
	want := `The page "https://github.com/acme/payments/tree/v2.4.0" is the code at v2.4.0, not its release; link it with /deploy link UPG-7 acme/payments v2.4.0, or paste its release page (…/releases/tag/v2.4.0).`
	if got != want {
		t.Errorf("refusal\n got %s\nwant %s", got, want)
	}
	if len(m.Lines[0]) < 3 || m.Lines[0][1].Kind != bot.SpanCommand || m.Lines[0][3].Kind != bot.SpanCode {
		t.Errorf("the command and the page are not a command and code: %+v", m.Lines[0])
	}
}
