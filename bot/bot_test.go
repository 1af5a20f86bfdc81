package bot_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
	"github.com/upgradebot/upgradebot/commands"
	"github.com/upgradebot/upgradebot/internal/syncbuf"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

type fixture struct {
	b     *bot.Bot
	st    *bottest.MemStore
	rec   *bottest.Recorder
	clock *bottest.Clock
}

func testConfig() bot.Config {
	return bot.Config{
		Services: []bot.Service{
			{Name: "ledger", Owners: []string{"carol"}, Channels: []string{"test:#ledger"}},
			{Name: "payments", Owners: []string{"alice"}, Channels: []string{"test:#payments"}, DependsOn: []string{"ledger"}},
			{Name: "checkout", Owners: []string{"bob", "test:UCAROL"}, Channels: []string{"test:#checkout"}, DependsOn: []string{"payments"}},
			{Name: "sandbox"}, // no owners, no channels
		},
		People: []bot.Person{
			{Name: "alice", IDs: []string{"test:UALICE", "other:1001"}},
			{Name: "bob", IDs: []string{"test:UBOB"}},
			{Name: "carol", IDs: []string{"test:UCAROL"}},
			{Name: "dave", IDs: []string{"test:UDAVE"}},
		},
		Admins:          []string{"dave"},
		DefaultLocation: time.UTC,
		MaxWindow:       24 * time.Hour,
		DefaultDuration: time.Hour,
		Reminders:       []time.Duration{168 * time.Hour, 72 * time.Hour, time.Hour},
		EscalateAfter:   30 * time.Minute,
		EarlyStart:      30 * 24 * time.Hour, // the stories start days ahead; TestEarlyStart checks the rule
	}
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{st: bottest.NewMemStore(), rec: &bottest.Recorder{}, clock: bottest.NewClock(t0)}
	f.b = bot.New(bot.Options{Config: testConfig(), Store: f.st, Messenger: bot.Router{"test": f.rec, "other": f.rec},
		Now: f.clock.Now, RefreshIntervalSet: true})
	t.Cleanup(f.b.Flush)
	return f
}

func (f *fixture) advance(d time.Duration) { f.clock.Advance(d) }

func who(name string) bot.Invocation {
	return bot.Invocation{Actor: bot.Actor{ID: "test:U" + strings.ToUpper(name), Name: name}, Channel: "test:#ops"}
}

// do runs a command and waits for its notices.
func (f *fixture) do(t *testing.T, as, text string) bot.Message {
	t.Helper()
	m := f.b.Handle(context.Background(), who(as), text)
	f.b.Flush()
	return m
}

func (f *fixture) ok(t *testing.T, as, text string) bot.Message {
	t.Helper()
	m := f.do(t, as, text)
	if m.Kind == bot.KindError {
		t.Fatalf("%s: /upgrade %s failed: %s", as, text, lines(m))
	}
	return m
}

func (f *fixture) fails(t *testing.T, as, text string, want ...string) {
	t.Helper()
	m := f.do(t, as, text)
	if m.Kind != bot.KindError || !m.Kind.Private() {
		t.Fatalf("%s: /upgrade %s: want a private error, got %s", as, text, lines(m))
	}
	if miss, ok := contains(lines(m), want...); !ok {
		t.Fatalf("%s: /upgrade %s: error %q lacks %q", as, text, lines(m), miss)
	}
}

func lastRoot(t *testing.T, r *bottest.Recorder, channel string) bot.Message {
	t.Helper()
	var root *bot.Message
	for _, s := range r.All() {
		if (s.Op == "post" || s.Op == "edit") && s.To == channel && s.Msg.Kind == bot.KindRoot {
			root = &s.Msg
		}
	}
	if root == nil {
		t.Fatalf("no root message in %s", channel)
	}
	return *root
}

const schedulePayments = "schedule payments v2.4.0 at 2026-12-01 02:00 UTC for 2h region eu-west impact card payments may fail"

func TestScheduleAckRollbackStory(t *testing.T) {
	f := newFixture(t)
	r := f.ok(t, "alice", schedulePayments)
	if miss, ok := contains(lines(r), "Scheduled UPG-1 payments v2.4.0", "2026-12-01 02:00 UTC", "(2h)", "Blast radius: checkout"); !ok {
		t.Fatalf("schedule reply lacks %q:\n%s", miss, lines(r))
	}
	posts := f.rec.Ops("post")
	if len(posts) != 1 || posts[0].To != "test:#payments" {
		t.Fatalf("want one root in #payments, got %+v", posts)
	}
	root := posts[0].Msg
	if miss, ok := contains(lines(root), "UPG-1 payments v2.4.0", "State: scheduled", "Region: eu-west",
		"Impact: card payments may fail", "Owner: @alice", "Blast radius: checkout",
		"Acknowledged 0/3 · waiting for @alice @bob @carol"); !ok {
		t.Fatalf("root lacks %q:\n%s", miss, lines(root))
	}
	if root.Ack == nil || *root.Ack != (bot.AckButton{UpgradeID: "UPG-1", Scope: "brief"}) {
		t.Fatalf("root ack button = %+v, want UPG-1:brief", root.Ack)
	}

	if m := pressAs(f.b, context.Background(), who("bob").Actor, "UPG-1", "brief"); !strings.Contains(lines(m), "Thanks") {
		t.Fatalf("first press: %s", lines(m))
	}
	f.advance(time.Minute)
	pressAs(f.b, context.Background(), who("carol").Actor, "UPG-1", "brief")
	again := pressAs(f.b, context.Background(), who("bob").Actor, "UPG-1", "brief")
	if !strings.Contains(lines(again), "already acknowledged") || !strings.Contains(lines(again), "2026-11-22 10:00 UTC") {
		t.Fatalf("second press should say when: %s", lines(again))
	}
	f.b.Flush()
	if got := lines(lastRoot(t, f.rec, "test:#payments")); !strings.Contains(got, "Acknowledged 2/3 · waiting for @alice") {
		t.Fatalf("root after two acks:\n%s", got)
	}
	if got := lines(f.ok(t, "dave", "pending 1")); !strings.Contains(got, "1 of 3 has not acknowledged the pre-brief of UPG-1: @alice") {
		t.Fatalf("pending: %s", got)
	}

	f.fails(t, "alice", "rollback UPG-1 broken", "UPG-1 is scheduled and has not started", "Usage:")
	f.ok(t, "alice", "start UPG-1")
	f.rec.Reset()
	f.ok(t, "alice", `rollback #1 "error rate 5%" on card auth`)
	replies := f.rec.Ops("reply")
	if len(replies) != 2 || replies[1].Msg.Kind != bot.KindDebriefPrompt {
		t.Fatalf("want the rollback alert and the debrief prompt, got %+v", replies)
	}
	alert := replies[0].Msg
	if !alert.AlsoInChannel || !alert.Alert || alert.Ack == nil || *alert.Ack != (bot.AckButton{UpgradeID: "UPG-1", Scope: "rollback"}) {
		t.Fatalf("rollback alert must be broadcast, loud, with its own ack: %+v", alert)
	}
	if miss, ok := contains(lines(alert), "ROLLBACK", "Reason: error rate 5% on card auth", "@alice @bob @carol"); !ok {
		t.Fatalf("alert lacks %q:\n%s", miss, lines(alert))
	}
	show := lines(f.ok(t, "bob", "show upg-1"))
	if miss, ok := contains(show, "State: rolled back", "Rollback acknowledged 0/3", "brief: @bob at 2026-11-22 10:00 UTC", "brief: @carol at 2026-11-22 10:01 UTC", "Reason: error rate 5% on card auth"); !ok {
		t.Fatalf("show lacks %q:\n%s", miss, show)
	}
	log := lines(f.ok(t, "bob", "log 1"))
	for _, want := range []string{"alice · scheduled · window 2026-12-01 02:00 UTC to 2026-12-01 04:00 UTC", "bob · acknowledged · brief", "carol · acknowledged · brief", "alice · started", "alice · rolled back · why: error rate 5% on card auth"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if got, want := strings.Join(f.st.EventTypes(), ","), "upgrade.scheduled,upgrade.acknowledged,upgrade.acknowledged,upgrade.started,upgrade.rolled_back"; got != want {
		t.Errorf("events = %s, want %s", got, want)
	}
	// QA: a plain start's event had no data, which spec/http.md lists
	// among every event's fields; a receiver reading event["data"] failed.
	evs, err := f.st.EventsAfter(context.Background(), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(e.JSON, &fields); err != nil {
			t.Fatal(err)
		}
		if d := fields["data"]; len(d) == 0 || d[0] != '{' {
			t.Errorf("%s has data %s, want an object: %s", e.Event.Type, d, e.JSON)
		}
	}
}

func TestTransitions(t *testing.T) {
	// reach builds an upgrade in the given state with id 1.
	reach := map[bot.State][]string{
		bot.Scheduled:  nil,
		bot.InProgress: {"start 1"},
		bot.Completed:  {"start 1", "complete 1 fine"},
		bot.RolledBack: {"start 1", "rollback 1 bad"},
		bot.Cancelled:  {"cancel 1 not needed"},
	}
	cases := []struct {
		from bot.State
		cmd  string
		want string // "" = allowed, else part of the refusal
		to   bot.State
	}{
		{bot.Scheduled, "start 1", "", bot.InProgress},
		{bot.Scheduled, "complete 1", "UPG-1 is scheduled; start it first", ""},
		{bot.Scheduled, "rollback 1 x", "cancel it instead", ""},
		{bot.Scheduled, "cancel 1", "", bot.Cancelled},
		{bot.Scheduled, "reschedule 1 at 2026-12-02 02:00 UTC", "", bot.Scheduled},
		{bot.Scheduled, "extend 1 1h", "", bot.Scheduled},
		{bot.InProgress, "start 1", "UPG-1 is in progress; it can no longer be started", ""},
		{bot.InProgress, "complete 1", "", bot.Completed},
		{bot.InProgress, "rollback 1 x", "", bot.RolledBack},
		{bot.InProgress, "cancel 1", "UPG-1 is in progress; it can no longer be cancelled", ""},
		{bot.InProgress, "reschedule 1 at 2026-12-02 02:00 UTC", "UPG-1 is in progress; it can no longer be rescheduled", ""},
		{bot.InProgress, "extend 1 1h", "", bot.InProgress},
		{bot.Completed, "start 1", "UPG-1 is completed; it can no longer be started", ""},
		{bot.Completed, "complete 1", "UPG-1 is completed; it can no longer be completed", ""},
		{bot.Completed, "rollback 1 x", "", bot.RolledBack},
		{bot.Completed, "cancel 1", "UPG-1 is completed; it can no longer be cancelled", ""},
		{bot.Completed, "extend 1 1h", "UPG-1 is completed; it can no longer be extended", ""},
		{bot.RolledBack, "start 1", "UPG-1 is rolled back; it can no longer be started", ""},
		{bot.RolledBack, "rollback 1 x", "UPG-1 is rolled back; it can no longer be rolled back", ""},
		{bot.RolledBack, "complete 1", "UPG-1 is rolled back; it can no longer be completed", ""},
		{bot.Cancelled, "start 1", "UPG-1 is cancelled; it can no longer be started", ""},
		{bot.Cancelled, "reschedule 1 at 2026-12-02 02:00 UTC", "UPG-1 is cancelled; it can no longer be rescheduled", ""},
		{bot.Cancelled, "cancel 1", "UPG-1 is cancelled; it can no longer be cancelled", ""},
	}
	for _, c := range cases {
		t.Run(string(c.from)+"/"+c.cmd, func(t *testing.T) {
			f := newFixture(t)
			f.ok(t, "alice", schedulePayments)
			for _, step := range reach[c.from] {
				f.ok(t, "alice", step)
			}
			before, _ := f.st.Get(context.Background(), 1)
			if c.want != "" {
				f.fails(t, "alice", c.cmd, c.want)
				after, _ := f.st.Get(context.Background(), 1)
				if after.Rev != before.Rev || after.State != c.from {
					t.Fatalf("a refused command changed the upgrade: rev %d->%d state %s", before.Rev, after.Rev, after.State)
				}
				return
			}
			f.ok(t, "alice", c.cmd)
			if after, _ := f.st.Get(context.Background(), 1); after.State != c.to {
				t.Fatalf("state = %s, want %s", after.State, c.to)
			}
		})
	}
}

func TestRollbackOfCompletedOnlyWithin24h(t *testing.T) {
	f := newFixture(t)
	f.ok(t, "alice", schedulePayments)
	f.ok(t, "alice", "start 1")
	f.ok(t, "alice", "complete 1")
	f.advance(25 * time.Hour)
	f.fails(t, "alice", "rollback 1 late regression", "completed more than 24h ago")
}

func TestAuthorization(t *testing.T) {
	f := newFixture(t)
	f.fails(t, "bob", schedulePayments, "not allowed", "owners of payments (@alice)")
	if n, _ := f.st.List(context.Background(), bot.Filter{}); len(n) != 0 {
		t.Fatalf("a refused schedule stored %d upgrades", len(n))
	}
	f.ok(t, "alice", schedulePayments)
	f.fails(t, "bob", "start 1", "not allowed to start UPG-1 (payments)")
	f.ok(t, "dave", "start 1") // admin
	f.ok(t, "bob", "show 1")   // anyone reads
	f.ok(t, "bob", "ack 1")    // anyone acknowledges
	f.ok(t, "bob", "schedule sandbox v1 in 2h")
	f.ok(t, "bob", "schedule checkout v9 in 3h") // bob owns checkout
	if len(f.rec.Ops("post")) != 3 {
		t.Fatalf("posts = %d", len(f.rec.Ops("post")))
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	cases := []struct{ cmd, want string }{
		{"schedule paymnts v1 at 2026-12-01 02:00", `Unknown service "paymnts". Known services: checkout, ledger, payments, sandbox.`},
		{"schedule payments v1 at 2025-01-01 02:00", `The start time "2025-01-01 02:00" is in the past`},
		{"schedule payments v1 at 2026-12-01 02:00 for 25h", "A window of 25h is longer than the maximum of 24h"},
		{"schedule payments v1 at someday", "Usage:"},
		{"show UPG-99", "Unknown upgrade UPG-99"},
		{"start 42", "Unknown upgrade UPG-42"},
		{"frobnicate 1", "frobnicate"},
	}
	for _, c := range cases {
		t.Run(c.cmd, func(t *testing.T) {
			f := newFixture(t)
			f.fails(t, "alice", c.cmd, c.want)
			if us, _ := f.st.List(context.Background(), bot.Filter{}); len(us) != 0 || len(f.rec.All()) != 0 || len(f.st.EventTypes()) != 0 {
				t.Fatalf("bad input changed something: %d upgrades, %d messages", len(us), len(f.rec.All()))
			}
		})
	}
}

func TestConflictWarnings(t *testing.T) {
	f := newFixture(t)
	f.ok(t, "carol", "schedule ledger v1.2.0 at 2026-12-01 01:00 UTC for 2h")
	f.ok(t, "bob", "schedule sandbox v1 at 2026-12-01 01:00 UTC for 2h") // unrelated: no warning
	r := f.ok(t, "alice", schedulePayments)
	if miss, ok := contains(lines(r), "Warning: this window overlaps UPG-1 ledger v1.2.0 (2026-12-01 01:00 UTC to 2026-12-01 03:00 UTC)"); !ok {
		t.Fatalf("reply lacks %q:\n%s", miss, lines(r))
	}
	if strings.Contains(lines(r), "UPG-2") {
		t.Fatalf("unrelated service warned: %s", lines(r))
	}
	root := lastRoot(t, f.rec, "test:#payments")
	if !strings.Contains(lines(root), "Conflict: ⚠ overlaps UPG-1 ledger v1.2.0") {
		t.Fatalf("pre-brief lacks the warning:\n%s", lines(root))
	}
	r = f.ok(t, "alice", "schedule payments v2.5.0 at 2026-12-01 04:00 UTC")
	if strings.Contains(lines(r), "overlaps") {
		t.Fatalf("a later window warned: %s", lines(r))
	}
}

func TestPersonCountsOnceAndOutsidersShownApart(t *testing.T) {
	f := newFixture(t)
	f.ok(t, "alice", schedulePayments)
	ctx := context.Background()
	pressAs(f.b, ctx, bot.Actor{ID: "test:UALICE"}, "UPG-1", "brief")
	if m := pressAs(f.b, ctx, bot.Actor{ID: "other:1001"}, "UPG-1", "brief"); !strings.Contains(lines(m), "already acknowledged") {
		t.Fatalf("alice's second identity counted again: %s", lines(m))
	}
	pressAs(f.b, ctx, bot.Actor{ID: "test:UZED", Name: "zed"}, "UPG-1", "brief")
	f.b.Flush()
	root := lines(lastRoot(t, f.rec, "test:#payments"))
	if miss, ok := contains(root, "Acknowledged 1/3 · waiting for @bob @carol", "Also seen by @zed"); !ok {
		t.Fatalf("root lacks %q:\n%s", miss, root)
	}
}

// TestAlsoSeenByInTheOrderTheyAcknowledged: the outsiders on the root are
// named in the order they pressed, first first, as show and the status
// page list acknowledgments, not in the order of their ids.
func TestAlsoSeenByInTheOrderTheyAcknowledged(t *testing.T) {
	f := newFixture(t)
	f.ok(t, "alice", schedulePayments)
	ctx := context.Background()
	for _, id := range []string{"test:UZED", "test:UMAX", "test:UABE"} {
		pressAs(f.b, ctx, bot.Actor{ID: id}, "UPG-1", "brief")
		f.advance(time.Minute)
	}
	f.b.Flush()
	root := lines(lastRoot(t, f.rec, "test:#payments"))
	if !strings.Contains(root, "Also seen by @UZED @UMAX @UABE\n") {
		t.Fatalf("the root does not name the outsiders in the order they pressed (UZED, UMAX, UABE):\n%s", root)
	}
}

func TestGroupOwnerSatisfiedByMember(t *testing.T) {
	cfg := testConfig()
	cfg.Services[2].Owners = []string{"test:SOPS"}
	st, rec := bottest.NewMemStore(), &bottest.Recorder{}
	b := bot.New(bot.Options{Config: cfg, Store: st, Messenger: bot.Router{"test": rec}, Now: func() time.Time { return t0 }, RefreshIntervalSet: true})
	b.Handle(context.Background(), who("alice"), schedulePayments)
	pressAs(b, context.Background(), bot.Actor{ID: "test:UEVE", Groups: []string{"test:SOPS"}}, "1", "brief")
	m := b.Handle(context.Background(), who("alice"), "pending 1")
	b.Flush()
	if got := lines(m); !strings.Contains(got, "1 of 2 has not acknowledged") || strings.Contains(got, "SOPS") {
		t.Fatalf("a group member's ack should satisfy the group: %s", got)
	}
}

func TestFailedDeliveryIsRecorded(t *testing.T) {
	f := newFixture(t)
	f.rec.Fail("test:#payments", errors.New("slack: channel_not_found"))
	f.ok(t, "alice", schedulePayments)
	show := lines(f.ok(t, "alice", "show 1"))
	if miss, ok := contains(show, "Failed delivery of root to #payments", "channel_not_found"); !ok {
		t.Fatalf("show lacks %q:\n%s", miss, show)
	}
	// The invoker is told privately, by the way they came.
	told := f.rec.Ops("answer")
	if len(told) != 1 || told[0].To != "test:UALICE" || !strings.Contains(told[0].Text, "could not be posted to #payments: slack: channel_not_found") {
		t.Fatalf("the invoker was not told: %+v", told)
	}
}

// A channel no adapter of this bot serves (a platform that is off; a
// console thread under serve) is recorded with a plain reason, not an error
// code, and says why when the bot knows (QA: "upgradebot invalid: no
// adapter is enabled for \"console:#payments\"" in show).
func TestAChannelNoPlatformServesIsSaidPlainly(t *testing.T) {
	cfg := testConfig()
	cfg.Services[1].Channels = []string{"test:#payments", "console:#payments", "gone:#payments"}
	st, rec := bottest.NewMemStore(), &bottest.Recorder{}
	router := bot.Router{"test": rec, "console": bot.Unserved("console threads are only shown by the console")}
	b := bot.New(bot.Options{Config: cfg, Store: st, Messenger: router, Now: func() time.Time { return t0 }, RefreshIntervalSet: true})
	t.Cleanup(b.Flush)
	b.Handle(context.Background(), who("alice"), schedulePayments)
	b.Flush()
	show := lines(b.Handle(context.Background(), who("alice"), "show 1"))
	if miss, ok := contains(show,
		"Failed delivery of root to #payments at 2026-11-22 10:00 UTC: no platform of this bot posts to console:#payments (console threads are only shown by the console)",
		"Failed delivery of root to #payments at 2026-11-22 10:00 UTC: no platform of this bot posts to gone:#payments\n"); !ok {
		t.Fatalf("show lacks %q:\n%s", miss, show)
	}
	if strings.Contains(show, "upgradebot invalid") || strings.Contains(show, "adapter") {
		t.Errorf("show speaks of errors and adapters:\n%s", show)
	}
	told := rec.Ops("answer")
	if len(told) != 1 || !strings.Contains(told[0].Text, "This bot runs no platform that posts there") {
		t.Fatalf("the invoker was not told what to do: %+v", told)
	}
	if _, err := router.Post(context.Background(), "gone:#x", bot.Message{}); bot.ErrorCode(err) != bot.EINVALID {
		t.Errorf("code %q, want %q: nothing changes by trying again", bot.ErrorCode(err), bot.EINVALID)
	}
}

// advisedErr is a platform's error that says what to do about it.
type advisedErr struct{ code, advice string }

func (e advisedErr) Error() string  { return "test: " + e.code }
func (e advisedErr) Advice() string { return e.advice }

// TestInvokerIsToldTheAdviceOfTheError: QA got "Check that the channel
// exists and the bot is a member of it" for every error, a refused token
// included. The advice now follows the error: the platform's own when its
// error has one (bot.AdvisedError), once per advice, else a general one
// that claims nothing about the cause.
func TestInvokerIsToldTheAdviceOfTheError(t *testing.T) {
	cfg := testConfig()
	cfg.Services[1].Channels = []string{"test:#payments", "test:#payments-eu", "test:#payments-us"}
	st, rec := bottest.NewMemStore(), &bottest.Recorder{}
	b := bot.New(bot.Options{Config: cfg, Store: st, Messenger: bot.Router{"test": rec}, Now: func() time.Time { return t0 }, RefreshIntervalSet: true})
	t.Cleanup(b.Flush)
	token := "Reinstall the app and update the token."
	rec.Fail("test:#payments", fmt.Errorf("post: %w", advisedErr{"invalid_auth", token}))
	rec.Fail("test:#payments-eu", advisedErr{"token_revoked", token})
	b.Handle(context.Background(), who("alice"), schedulePayments)
	b.Flush()
	told := rec.Ops("answer")
	if len(told) != 1 {
		t.Fatalf("told %+v", told)
	}
	got := told[0].Text
	want := token + " The failure is recorded: /upgrade show UPG-1."
	if !strings.Contains(got, "could not be posted to #payments: post: test: invalid_auth.") || !strings.Contains(got, "#payments-eu: test: token_revoked.") ||
		!strings.Contains(got, want) || strings.Count(got, token) != 1 || strings.Contains(got, "member of it") {
		t.Fatalf("told:\n%s\nwant the errors' advice once: %q", got, want)
	}

	// An error without advice gets the general one, which names no cause;
	// with one that has advice, each is said.
	rec.Fail("test:#payments-us", errors.New("test: no_idea"))
	b.Handle(context.Background(), who("alice"), "schedule payments v2.5.0 at 2026-12-02 02:00 UTC")
	b.Flush()
	told = rec.Ops("answer")
	general := "The error says why: the channel, the bot's access to it, its token or the network."
	if len(told) != 2 || !strings.Contains(told[1].Text, token+"\n"+general+" The failure is recorded: /upgrade show UPG-2.") {
		t.Fatalf("told %+v", told[1:])
	}
}

func TestInvokerIsToldByDirectMessageWhenTheirPlatformCannotAnswer(t *testing.T) {
	f := newFixture(t)
	f.rec.Fail("test:#payments", errors.New("channel_not_found"))
	f.rec.Fail("answer test:UALICE", errors.New("expired_url"))
	f.ok(t, "alice", schedulePayments)
	dms := f.rec.Ops("direct")
	if len(dms) != 1 || dms[0].To != "test:UALICE" || !strings.Contains(dms[0].Text, "could not be posted to #payments") {
		t.Fatalf("the invoker was not told by a direct message: %+v", dms)
	}
}

func TestLinkWithoutGitHubShowsTheReleaseAsTyped(t *testing.T) {
	f := newFixture(t)
	f.ok(t, "alice", schedulePayments)
	f.rec.Reset()
	r := f.ok(t, "alice", "link 1 acme/payments")
	if got := lines(r); !strings.Contains(got, "Linking acme/payments v2.4.0 to UPG-1 payments v2.4.0; the release notice follows in the thread.") {
		t.Fatalf("reply: %s", got)
	}
	replies := f.rec.Ops("reply")
	if len(replies) != 1 || !strings.Contains(replies[0].Text, "Release linked: acme/payments v2.4.0") {
		t.Fatalf("release notice: %+v", replies)
	}
	root := lastRoot(t, f.rec, "test:#payments")
	if !strings.Contains(lines(root), "Release: acme/payments v2.4.0") {
		t.Fatalf("root lacks the release:\n%s", lines(root))
	}
	// The core makes up no URL: without a lookup there is nothing to link.
	for _, m := range []bot.Message{replies[0].Msg, root} {
		if strings.Contains(m.Plain(time.UTC), "https://") || hasSpan(m, bot.SpanLink) {
			t.Errorf("a release linked without a lookup has a link:\n%s", lines(m))
		}
	}
	if told := f.rec.Ops("answer"); len(told) != 0 {
		t.Errorf("without GitHub configured nobody is told of a failed lookup: %+v", told)
	}
	f.fails(t, "alice", "link 1 not-a-repo", "owner/repo")
}

// hasSpan reports whether any line or field of m has a span of kind k.
func hasSpan(m bot.Message, k bot.SpanKind) bool {
	texts := append([]bot.Text(nil), m.Lines...)
	for _, f := range m.Fields {
		texts = append(texts, f.Value)
	}
	for _, t := range texts {
		for _, s := range t {
			if s.Kind == k {
				return true
			}
		}
	}
	return false
}

func TestRescheduleAndExtendRules(t *testing.T) {
	f := newFixture(t)
	f.ok(t, "alice", schedulePayments)
	r := f.ok(t, "alice", "reschedule 1 at 2026-12-03 04:00 UTC")
	if !strings.Contains(lines(r), "2026-12-03 04:00 UTC to 2026-12-03 06:00 UTC") {
		t.Fatalf("reschedule keeps the duration: %s", lines(r))
	}
	f.fails(t, "alice", "extend 1 23h", "longer than the maximum")
	f.ok(t, "alice", "extend 1 30m")
	u, _ := f.st.Get(context.Background(), 1)
	if got := u.End.Format(time.RFC3339); got != "2026-12-03T06:30:00Z" {
		t.Fatalf("end = %s", got)
	}
	var broadcast int
	for _, s := range f.rec.Ops("reply") {
		if s.Msg.AlsoInChannel {
			broadcast++
		}
	}
	if broadcast != 1 {
		t.Fatalf("rescheduled is shown in the channel, extended is not: %d broadcasts", broadcast)
	}
}

func TestRootEditsCoalesced(t *testing.T) {
	st, rec := bottest.NewMemStore(), &bottest.Recorder{}
	b := bot.New(bot.Options{Config: testConfig(), Store: st, Messenger: bot.Router{"test": rec},
		Now: func() time.Time { return t0 }, RefreshInterval: 300 * time.Millisecond})
	b.Handle(context.Background(), who("alice"), schedulePayments)
	b.Flush()
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pressAs(b, context.Background(), bot.Actor{ID: fmt.Sprintf("test:UX%03d", i)}, "UPG-1", "brief")
		}()
	}
	wg.Wait()
	b.Flush()
	edits := rec.Ops("edit")
	if len(edits) == 0 || len(edits) > 5 {
		t.Fatalf("100 presses gave %d edits; want a few", len(edits))
	}
	last := lines(edits[len(edits)-1].Msg)
	if acks, _ := st.Acks(context.Background(), 1); len(acks) != 100 || !strings.Contains(last, "Also seen by") || strings.Count(last, "@UX") != 20 || !strings.Contains(last, "and 80 others") {
		t.Fatalf("final state not shown: %d acks, last edit:\n%s", len(acks), last)
	}
}

// releasePage is where the stand-ins of GitHub say a release lives.
func releasePage(repo, tag string) string {
	return "https://github.example/" + repo + "/releases/tag/" + tag
}

// slowReleases is a GitHub stand-in that takes its time.
type slowReleases struct{ delay time.Duration }

func (s slowReleases) Release(ctx context.Context, repo, tag string, _ ...string) (bot.Release, error) {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return bot.Release{}, ctx.Err()
	}
	return bot.Release{Repo: repo, Tag: tag, Name: "Payments 2.4", URL: releasePage(repo, tag),
		Notes: "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7"}, nil
}

// heldReleases is a GitHub stand-in that answers only once released.
type heldReleases struct{ release chan struct{} }

func (h heldReleases) Release(ctx context.Context, repo, tag string, others ...string) (bot.Release, error) {
	select {
	case <-h.release:
	case <-ctx.Done():
		return bot.Release{}, ctx.Err()
	}
	return slowReleases{}.Release(ctx, repo, tag, others...)
}

func TestLinkLooksUpTheReleaseInTheBackground(t *testing.T) {
	st, rec := bottest.NewMemStore(), &bottest.Recorder{}
	gh := heldReleases{release: make(chan struct{})}
	b := bot.New(bot.Options{Config: testConfig(), Store: st, Messenger: bot.Router{"test": rec},
		Releases: gh, Now: func() time.Time { return t0 }, RefreshIntervalSet: true})
	b.Handle(context.Background(), who("alice"), schedulePayments)
	b.Flush()
	// GitHub does not answer until the reply is there: a reply that waited
	// for it would never come.
	replied := make(chan bot.Message, 1)
	go func() { replied <- b.Handle(context.Background(), who("alice"), "link 1 acme/payments") }()
	var r bot.Message
	select {
	case r = <-replied:
	case <-time.After(30 * time.Second):
		close(gh.release)
		t.Fatal("the reply waited for GitHub")
	}
	close(gh.release)
	if !strings.Contains(lines(r), "Linking acme/payments v2.4.0 to UPG-1") {
		t.Fatalf("reply: %s", lines(r))
	}
	b.Flush()
	replies := rec.Ops("reply")
	if len(replies) != 1 {
		t.Fatalf("release notices: %d", len(replies))
	}
	if miss, ok := contains(replies[0].Text, "acme/payments v2.4.0 (Payments 2.4) ("+releasePage("acme/payments", "v2.4.0")+")", "line 5", "…"); !ok || strings.Contains(replies[0].Text, "line 6") {
		t.Fatalf("release notice lacks %q or shows too much:\n%s", miss, replies[0].Text)
	}
	if root := lines(lastRoot(t, rec, "test:#payments")); !strings.Contains(root, "Release: acme/payments v2.4.0 (Payments 2.4) ("+releasePage("acme/payments", "v2.4.0")+")") {
		t.Fatalf("root lacks the release's name and page:\n%s", root)
	}
}

func TestReplySaysWhichZoneATimeWithoutOneWasReadIn(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tz database:", err)
	}
	cases := []struct {
		name string
		loc  *time.Location // what the platform said of the user's zone
		cmd  string
		want string // "" = no such line
	}{
		{"user's zone", berlin, "schedule payments v1 at 2026-12-01 02:00", `"2026-12-01 02:00" was read in Europe/Berlin, your time zone.`},
		{"default zone", nil, "schedule payments v1 at 2026-12-01 02:00", `"2026-12-01 02:00" was read in UTC, the bot's default time zone; add a zone`},
		{"zone given", berlin, "schedule payments v1 at 2026-12-01 02:00 UTC", ""},
		{"relative", nil, "schedule payments v1 in 3d", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			inv := who("alice")
			inv.Location = c.loc
			m := f.b.Handle(context.Background(), inv, c.cmd)
			if m.Kind == bot.KindError {
				t.Fatalf("%s failed: %s", c.cmd, lines(m))
			}
			got := lines(m)
			if c.want == "" {
				if strings.Contains(got, "was read in") {
					t.Errorf("reply names a zone although the time had one:\n%s", got)
				}
				return
			}
			if !strings.Contains(got, c.want) {
				t.Errorf("reply lacks %q:\n%s", c.want, got)
			}
			// The same applies when the window moves.
			r := f.b.Handle(context.Background(), inv, "reschedule UPG-1 at 2026-12-02 02:00")
			if !strings.Contains(lines(r), `"2026-12-02 02:00" was read in`) {
				t.Errorf("reschedule reply lacks the zone line:\n%s", lines(r))
			}
		})
	}
}

// gatedReleases is a GitHub stand-in that answers only once open is closed
// (or gives up when its context ends, as the real client does); it knows
// no release of the version missing (with or without its v).
type gatedReleases struct {
	open    chan struct{}
	missing string
}

func (g gatedReleases) Release(ctx context.Context, repo, tag string, _ ...string) (bot.Release, error) {
	select {
	case <-g.open:
	case <-ctx.Done():
		return bot.Release{}, &bot.ReleaseError{Problem: bot.ReleaseUnavailable, Err: ctx.Err()}
	}
	if g.missing != "" && strings.TrimPrefix(tag, "v") == strings.TrimPrefix(g.missing, "v") {
		return bot.Release{}, fmt.Errorf("fake github: release %s of %s: %w", tag, repo, bot.ErrReleaseNotFound)
	}
	return bot.Release{Repo: repo, Tag: tag, Name: "Release " + tag, URL: releasePage(repo, tag)}, nil
}

// threadOrder lists the thread notices delivered, one short word each.
func threadOrder(rec *bottest.Recorder) []string {
	var out []string
	for _, s := range rec.Ops("reply") {
		w := string(s.Msg.Kind)
		if s.Msg.Kind == bot.KindLinked {
			_, rest, _ := strings.Cut(s.Text, "acme/payments ")
			w += " " + strings.Fields(rest)[0]
		}
		out = append(out, w)
	}
	return out
}

func TestThreadNoticesFollowCommandOrderWhileTheReleaseLookupIsSlow(t *testing.T) {
	gh := gatedReleases{open: make(chan struct{}), missing: "v20.1"}
	st, rec := bottest.NewMemStore(), &bottest.Recorder{}
	b := bot.New(bot.Options{Config: testConfig(), Store: st, Messenger: bot.Router{"test": rec},
		Releases: gh, Now: func() time.Time { return t0 }, RefreshIntervalSet: true})
	t.Cleanup(b.Flush)
	ctx := context.Background()
	b.Handle(ctx, who("alice"), schedulePayments)
	b.Flush()
	for _, cmd := range []string{"link UPG-1 acme/payments", "extend UPG-1 10m", "link UPG-1 acme/payments v20.1", "start UPG-1", "complete UPG-1 done"} {
		if m := b.Handle(ctx, who("alice"), cmd); m.Kind == bot.KindError {
			t.Fatalf("%s: %s", cmd, lines(m))
		}
	}
	close(gh.open) // GitHub answers only now, after every command was answered
	b.Flush()
	got := strings.Join(threadOrder(rec), ", ")
	if want := "release_linked v2.4.0, extended, release_linked v20.1, started, completed, debrief_prompt"; got != want {
		t.Fatalf("thread notices in order\n got: %s\nwant: %s", got, want)
	}
	if root := lines(lastRoot(t, rec, "test:#payments")); !strings.Contains(root, "Release: acme/payments v20.1") || strings.Contains(root, "v2.4.0 (Release") {
		t.Fatalf("the first link's late lookup replaced the later release:\n%s", root)
	}
	told := rec.Ops("answer")
	if len(told) != 1 || told[0].To != "test:UALICE" || !strings.Contains(told[0].Text, "acme/payments has no published release tagged v20.1 (nor 20.1 nor V20.1)") {
		t.Fatalf("the invoker was not told privately that v20.1 was not found: %+v", told)
	}
}

func TestLinkNoticeDoesNotWaitLongerThanTheReleaseTimeout(t *testing.T) {
	gh := gatedReleases{open: make(chan struct{})} // never answers
	st, rec := bottest.NewMemStore(), &bottest.Recorder{}
	b := bot.New(bot.Options{Config: testConfig(), Store: st, Messenger: bot.Router{"test": rec},
		Releases: gh, ReleaseTimeout: 10 * time.Millisecond, Now: func() time.Time { return t0 }, RefreshIntervalSet: true})
	t.Cleanup(b.Flush)
	ctx := context.Background()
	b.Handle(ctx, who("alice"), schedulePayments)
	b.Handle(ctx, who("alice"), "link UPG-1 acme/payments")
	b.Handle(ctx, who("alice"), "cancel UPG-1 not needed")
	b.Flush()
	if got, want := strings.Join(threadOrder(rec), ", "), "release_linked v2.4.0, cancelled"; got != want {
		t.Fatalf("thread notices = %s, want %s", got, want)
	}
	if n := rec.Ops("reply"); !strings.Contains(n[0].Text, "Release linked: acme/payments v2.4.0") || hasSpan(n[0].Msg, bot.SpanLink) {
		t.Fatalf("without an answer from GitHub the notice shows the release as typed, without a link:\n%s", n[0].Text)
	}
	if told := rec.Ops("answer"); len(told) != 1 || !strings.Contains(told[0].Text, "GitHub could not be reached or did not answer in time") {
		t.Fatalf("the invoker was not told that GitHub did not answer: %+v", told)
	}
	if u, _ := st.Get(ctx, 1); len(u.Failures) != 0 {
		t.Fatalf("the slow lookup made a notice fail: %+v", u.Failures)
	}
}

func TestRootShowsTheLatestStateAcrossReplicas(t *testing.T) {
	st, rec := bottest.NewMemStore(), &bottest.Recorder{}
	slow := &slowEdits{Messenger: rec, entered: make(chan struct{}, 1), open: make(chan struct{})}
	replica := func(m bot.Messenger) *bot.Bot {
		b := bot.New(bot.Options{Config: testConfig(), Store: st, Messenger: bot.Router{"test": m},
			Now: func() time.Time { return t0 }, RefreshIntervalSet: true})
		t.Cleanup(b.Flush)
		return b
	}
	a, b := replica(slow), replica(rec)
	ctx := context.Background()
	b.Handle(ctx, who("alice"), schedulePayments)
	b.Flush()

	pressAs(a, ctx, who("bob").Actor, "UPG-1", "brief") // A renders 1/3; its edit hangs
	<-slow.entered
	pressAs(b, ctx, who("carol").Actor, "UPG-1", "brief") // B renders 2/3 and edits at once
	b.Flush()
	close(slow.open) // A's stale edit lands last
	a.Flush()

	if got := lines(lastRoot(t, rec, "test:#payments")); !strings.Contains(got, "Acknowledged 2/3 · waiting for @alice") {
		t.Fatalf("the root ends up showing stale state:\n%s", got)
	}
}

// groupFixture: checkout is owned by bob and the group test:SOPS; carol is
// in the group and not otherwise in checkout's audience.
func groupFixture(t *testing.T) *fixture {
	t.Helper()
	cfg := testConfig()
	cfg.Services[2].Owners = []string{"bob", "test:SOPS"}
	cfg.Groups = []string{"test:SOPS"}
	f := &fixture{st: bottest.NewMemStore(), rec: &bottest.Recorder{}, clock: bottest.NewClock(t0)}
	f.b = bot.New(bot.Options{Config: cfg, Store: f.st, Messenger: bot.Router{"test": f.rec}, Now: f.clock.Now, RefreshIntervalSet: true})
	t.Cleanup(f.b.Flush)
	f.ok(t, "bob", "schedule checkout v9 at 2026-12-01 02:00 UTC")
	return f
}

var carolInSOPS = bot.Actor{ID: "test:UCAROL", Name: "carol", Groups: []string{"test:SOPS"}}

func TestGroupMemberAckCountsOnceForTheGroup(t *testing.T) {
	f := groupFixture(t)
	if m := pressAs(f.b, context.Background(), carolInSOPS, "UPG-1", "brief"); !strings.Contains(lines(m), "Thanks") {
		t.Fatalf("press: %s", lines(m))
	}
	f.b.Flush()
	root := lines(lastRoot(t, f.rec, "test:#checkout"))
	if !strings.Contains(root, "Acknowledged 1/2 · waiting for @bob") || strings.Contains(root, "Also seen by") {
		t.Fatalf("carol acknowledged for her group, she is not an outsider:\n%s", root)
	}
	show := lines(f.ok(t, "bob", "show 1"))
	if !strings.Contains(show, "• brief: @carol (for @SOPS) at 2026-11-22 10:00 UTC") || strings.Count(show, "• brief:") != 1 {
		t.Fatalf("show should list carol's press once, for her group:\n%s", show)
	}
	// One press is one acknowledgment for whoever reads the event stream.
	var acked []bot.Event
	for _, e := range f.st.Events() {
		if e.Type == bot.EventAcknowledged {
			acked = append(acked, e)
		}
	}
	if len(acked) != 1 || acked[0].Actor != "carol" || acked[0].Data["for"] != "test:SOPS" {
		t.Fatalf("acknowledged events = %+v, want one by carol for test:SOPS", acked)
	}
	// Another member finds the group answered for, and is told by whom.
	dave := bot.Actor{ID: "test:UDAVE", Name: "dave", Groups: []string{"test:SOPS"}}
	if m := lines(pressAs(f.b, context.Background(), dave, "UPG-1", "brief")); !strings.Contains(m, "@SOPS already acknowledged the upgrade window of UPG-1 checkout v9, by @carol at 2026-11-22 10:00 UTC; nothing more is needed from you.") {
		t.Fatalf("a second member's press: %s", m)
	}
}

func TestRepeatPressThatNewlyAnswersForAGroupRefreshesTheRoot(t *testing.T) {
	f := groupFixture(t)
	f.ok(t, "carol", "ack 1") // the platform told nothing of her groups
	if root := lines(lastRoot(t, f.rec, "test:#checkout")); !strings.Contains(root, "Acknowledged 0/2") || !strings.Contains(root, "Also seen by @carol") {
		t.Fatalf("root after carol's own ack:\n%s", root)
	}
	f.advance(time.Minute)
	if m := pressAs(f.b, context.Background(), carolInSOPS, "UPG-1", "brief"); !strings.Contains(lines(m), "Thanks") {
		t.Fatalf("a press that counted for the group for the first time: %s", lines(m))
	}
	f.b.Flush()
	root := lines(lastRoot(t, f.rec, "test:#checkout"))
	if !strings.Contains(root, "Acknowledged 1/2 · waiting for @bob") || strings.Contains(root, "Also seen by") {
		t.Fatalf("root not refreshed after the group's ack:\n%s", root)
	}
	if m := pressAs(f.b, context.Background(), carolInSOPS, "UPG-1", "brief"); !strings.Contains(lines(m), "already acknowledged") {
		t.Fatalf("third press: %s", lines(m))
	}
}

func TestExtendThatStillEndsInThePastIsRefused(t *testing.T) {
	f := newFixture(t)
	f.ok(t, "alice", schedulePayments) // 2026-12-01 02:00 to 04:00 UTC
	f.ok(t, "alice", "start 1")
	f.clock.Set(time.Date(2026, 12, 1, 4, 30, 0, 0, time.UTC)) // the window ended 30m ago
	before, _ := f.st.Get(context.Background(), 1)
	f.rec.Reset()
	f.fails(t, "alice", "extend 1 10m", "UPG-1 would still end in the past, at 2026-12-01 04:10 UTC; extend by at least 31m.")
	f.fails(t, "alice", "extend 1 30m", "UPG-1 would still end right now, at 2026-12-01 04:30 UTC; extend by at least 31m.")
	// The least it takes is in whole minutes, as extend takes them.
	f.clock.Set(time.Date(2026, 12, 1, 5, 55, 7, 0, time.UTC))
	f.fails(t, "alice", "extend 1 1h", "extend by at least 1h56m.")
	f.clock.Set(time.Date(2026, 12, 1, 4, 30, 0, 0, time.UTC))
	if after, _ := f.st.Get(context.Background(), 1); after.Rev != before.Rev || !after.End.Equal(before.End) {
		t.Fatalf("a refused extend changed the upgrade: rev %d->%d, end %s", before.Rev, after.Rev, after.End)
	}
	if n := len(f.rec.All()); n != 0 {
		t.Fatalf("a refused extend posted %d messages", n)
	}
	f.ok(t, "alice", "extend 1 45m")
	if u, _ := f.st.Get(context.Background(), 1); u.End.Format(time.RFC3339) != "2026-12-01T04:45:00Z" {
		t.Fatalf("end = %s", u.End)
	}
}

func TestListOfAServiceWithNothingUpcomingNamesIt(t *testing.T) {
	f := newFixture(t)
	f.ok(t, "carol", "schedule ledger v1 at 2026-12-01 01:00 UTC")
	if got := lines(f.ok(t, "bob", "list PAYMENTS")); !strings.Contains(got, "No upcoming or running upgrades of payments.") {
		t.Fatalf("list payments: %s", got)
	}
	if got := lines(f.ok(t, "bob", "list payments all")); !strings.Contains(got, "No upgrades of payments in the last 30 days or ahead.") {
		t.Fatalf("list payments all: %s", got)
	}
}

// list all shows at least what plain list shows: an upgrade still
// scheduled with its window long past too (QA: UPG-1 in list payments,
// not in list payments all, 40 days on).
func TestListAllShowsOverdueUpgradesAsListDoes(t *testing.T) {
	f := newFixture(t)
	f.ok(t, "alice", "schedule payments v1 in 1 day for 1h")
	f.advance(40 * 24 * time.Hour)
	for _, text := range []string{"list payments", "list payments all", "list all"} {
		if got := lines(f.ok(t, "bob", text)); !strings.Contains(got, "UPG-1") {
			t.Errorf("%s leaves out the overdue UPG-1: %s", text, got)
		}
	}
}

// A list answer says how to ask for less of it, for a platform that has
// to cut it: a service when none was named, without all when it was. Its
// heading names the service before the period, as the empty answer does
// (QA: "Upgrades of the last 30 days and ahead of payments").
func TestListSaysHowToNarrowIt(t *testing.T) {
	f := newFixture(t)
	f.ok(t, "carol", "schedule ledger v1 at 2026-12-01 01:00 UTC")
	titles := map[string]string{
		"list":            "Upcoming and running upgrades",
		"list all":        "Upgrades in the last 30 days and ahead",
		"list ledger all": "Upgrades of ledger in the last 30 days and ahead",
		"list ledger":     "Upcoming and running upgrades of ledger",
	}
	for text, want := range map[string]string{
		"list":            "/upgrade list <service>",
		"list all":        "/upgrade list <service>",
		"list ledger all": "/upgrade list ledger",
		"list ledger":     "",
		"list payments":   "",
	} {
		m := f.ok(t, "bob", text)
		if title, ok := titles[text]; ok && m.Title != title {
			t.Errorf("%s: title %q, want %q", text, m.Title, title)
		}
		got := ""
		if m.Narrow != nil {
			got = m.Narrow.Typed("/upgrade")
		}
		if got != want {
			t.Errorf("%s: narrowed by %q, want %q", text, got, want)
		}
	}
}

func TestConflictWarningsAreSortedByID(t *testing.T) {
	f := newFixture(t)
	f.ok(t, "carol", "schedule ledger v1 at 2026-12-01 01:00 UTC for 2h") // UPG-1
	f.ok(t, "carol", "schedule ledger v2 at 2026-12-01 00:30 UTC for 2h") // UPG-2, starts first
	f.ok(t, "bob", "schedule checkout v3 at 2026-12-01 00:00 UTC for 3h") // UPG-3, starts earliest
	r := lines(f.ok(t, "alice", schedulePayments))                        // 02:00-04:00: overlaps all three
	i1, i2, i3 := strings.Index(r, "overlaps UPG-1"), strings.Index(r, "overlaps UPG-2"), strings.Index(r, "overlaps UPG-3")
	if i1 < 0 || i2 < 0 || i3 < 0 || i1 > i2 || i2 > i3 {
		t.Fatalf("warnings not in id order:\n%s", r)
	}
	root := lines(lastRoot(t, f.rec, "test:#payments"))
	if j1, j2, j3 := strings.Index(root, "overlaps UPG-1"), strings.Index(root, "overlaps UPG-2"), strings.Index(root, "overlaps UPG-3"); j1 > j2 || j2 > j3 {
		t.Fatalf("pre-brief conflicts not in id order:\n%s", root)
	}
}

func TestUTCRestatementOnlyWhereTimesAreNotAlreadyInUTC(t *testing.T) {
	f := newFixture(t)
	inv := who("alice")
	inv.Location = time.FixedZone("CET", 3600)
	for _, cmd := range []string{"schedule payments v2.4.0 at 2026-12-01 03:00 for 2h", "reschedule UPG-1 at 2026-12-02 03:00"} {
		m := f.b.Handle(context.Background(), inv, cmd)
		if m.Kind == bot.KindError {
			t.Fatalf("%s: %s", cmd, lines(m))
		}
		if got := m.UTC.Plain(time.UTC); !strings.Contains(got, "In UTC: 2026-12-0") || !strings.HasSuffix(got, ":00 UTC.") {
			t.Errorf("%s: the reply restates the window in UTC for zone-rendering platforms: %q", cmd, got)
		}
		// Plain text (the console, notification fallbacks) shows UTC with every time already.
		if got := m.Plain(inv.Location); strings.Contains(got, "In UTC") || !strings.Contains(got, "03:00 CET (2026-12-0") {
			t.Errorf("%s: plain reply repeats UTC or lacks it:\n%s", cmd, got)
		}
	}
}

// blockingMessenger holds every post until release is closed.
type blockingMessenger struct {
	*bottest.Recorder
	release chan struct{}
}

func (m blockingMessenger) Post(ctx context.Context, channel string, msg bot.Message) (bot.MessageRef, error) {
	select {
	case <-m.release:
	case <-ctx.Done():
		return bot.MessageRef{}, ctx.Err()
	}
	return m.Recorder.Post(ctx, channel, msg)
}

func TestDrainStopsWaitingAtItsDeadlineAndSaysWhatIsLeft(t *testing.T) {
	m := blockingMessenger{Recorder: &bottest.Recorder{}, release: make(chan struct{})}
	b := bot.New(bot.Options{Config: testConfig(), Store: bottest.NewMemStore(), Messenger: bot.Router{"test": m},
		Now: bottest.NewClock(t0).Now, RefreshIntervalSet: true})
	if r := b.Handle(context.Background(), who("alice"), schedulePayments); r.Kind == bot.KindError {
		t.Fatal(lines(r))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the grace period is over
	if n := b.Drain(ctx); n == 0 {
		t.Error("Drain reported everything delivered while the root post was still held")
	}
	close(m.release)
	if n := b.Drain(context.Background()); n != 0 {
		t.Errorf("Drain after the platform answered left %d tasks", n)
	}
	if len(m.Recorder.All()) == 0 {
		t.Error("the held root message was never posted")
	}
}

func TestRepliesKnowTheState(t *testing.T) {
	f := newFixture(t)
	f.ok(t, "alice", schedulePayments) // UPG-1, 2026-12-01 02:00 to 04:00 UTC
	f.ok(t, "carol", "schedule ledger v3 at 2026-12-01 03:00 UTC for 1h")

	// A reschedule that changes nothing is refused and posts nothing.
	f.rec.Reset()
	f.fails(t, "alice", "reschedule 1 at 2026-12-01 02:00 UTC for 2h", "UPG-1 is already scheduled from 2026-12-01 02:00 UTC to 2026-12-01 04:00 UTC; nothing changed.")
	if n := len(f.rec.All()); n != 0 {
		t.Fatalf("a refused reschedule posted %d messages", n)
	}
	// A change of duration only says what the window was and is.
	f.ok(t, "alice", "reschedule 1 at 2026-12-01 02:00 UTC for 3h")
	var notice string
	for _, s := range f.rec.All() {
		if s.Msg.Kind == bot.KindRescheduled {
			notice = lines(s.Msg)
		}
	}
	if !strings.Contains(notice, "now 2026-12-01 02:00 UTC to 2026-12-01 05:00 UTC (3h), was 2026-12-01 02:00 UTC to 2026-12-01 04:00 UTC.") {
		t.Fatalf("rescheduled notice: %q", notice)
	}

	// An outsider's acknowledgment is shown apart in show.
	f.ok(t, "dave", "ack 1")
	if show := lines(f.ok(t, "dave", "show 1")); !strings.Contains(show, "• brief: @dave (not in the audience) at") {
		t.Fatalf("show:\n%s", show)
	}

	// Once cancelled: no conflict warning on the root, no pending list.
	if root := lines(lastRoot(t, f.rec, "test:#payments")); !strings.Contains(root, "overlaps UPG-2") {
		t.Fatalf("the active root should warn about UPG-2:\n%s", root)
	}
	f.ok(t, "alice", "cancel 1")
	if root := lines(lastRoot(t, f.rec, "test:#payments")); strings.Contains(root, "overlaps") {
		t.Fatalf("a cancelled upgrade still warns of an overlap:\n%s", root)
	}
	if p := lines(f.ok(t, "bob", "pending 1")); !strings.Contains(p, "UPG-1 is cancelled; no acknowledgment is needed any more") {
		t.Fatalf("pending of a cancelled upgrade: %q", p)
	}
}

func TestReminderSaysHowFarOffTheStartIs(t *testing.T) {
	d := bot.NewDirectory(testConfig())
	u := &bot.Upgrade{ID: 1, Service: "payments", Version: "v1", State: bot.Scheduled, Start: t0, End: t0.Add(time.Hour)}
	cases := []struct {
		before, late time.Duration
		want         string
	}{
		{3 * time.Minute, 2*time.Minute + 26*time.Second, "(in under a minute) — this reminder is 2m26s late."},
		{90 * time.Minute, 0, "(in 1h30m)."},
		{72 * time.Hour, 0, "(in 3d)."},
	}
	for _, c := range cases {
		if got := d.Reminder(u, nil, c.before, c.late).Plain(time.UTC); !strings.Contains(got, c.want) {
			t.Errorf("%s before, %s late: %q lacks %q", c.before, c.late, got, c.want)
		}
	}
}

func TestParserErrorsReadAsSentences(t *testing.T) {
	f := newFixture(t)
	f.fails(t, "alice", "extend 1 2x", `Cannot read "2x" as a duration (unknown unit "x")`, ").")
	f.fails(t, "alice", `complete 7 "unterminated`, `Unterminated quote: "unterminated; close it with another ".`)
}

func TestOverrunOffersWhatTheStateAllows(t *testing.T) {
	d := bot.NewDirectory(testConfig())
	u := &bot.Upgrade{ID: 1, Service: "payments", Version: "v1", Owners: []string{"alice"}, Start: t0, End: t0.Add(time.Hour)}
	for state, want := range map[bot.State]string{
		bot.Scheduled:  "Start it late with /upgrade start UPG-1, extend it with /upgrade extend UPG-1 <duration>, reschedule it with /upgrade reschedule UPG-1 <time> or cancel it with /upgrade cancel UPG-1 [<reason...>].",
		bot.InProgress: "Complete it with /upgrade complete UPG-1, extend it with /upgrade extend UPG-1 <duration> or roll it back with /upgrade rollback UPG-1 <reason...>.",
	} {
		u.State = state
		if got := d.Overrun(u).Plain(time.UTC); !strings.Contains(got, want) || !strings.Contains(got, "still "+state.Words()) {
			t.Errorf("overrun while %s: %q lacks %q", state, got, want)
		}
	}
	// An occurrence of a series is cancelled alone with occurrence
	// (cancel UPG-2 alone only asks which).
	u.State, u.Series = bot.Scheduled, &bot.SeriesRef{ID: 1}
	if got, want := d.Overrun(u).Plain(time.UTC), "or cancel it with /upgrade cancel UPG-1 occurrence [<reason...>]."; !strings.Contains(got, want) {
		t.Errorf("overrun of an occurrence: %q lacks %q", got, want)
	}
}

// A member's press while the platform could not say which groups she is in
// (Slack's look-up failing) counts for her alone; she is told so, and to
// press again, which then counts for her group (QA: the group stayed
// waiting, though every member had pressed and been thanked).
func TestAPressWhileGroupsAreUnknownSaysItCountsForYouAlone(t *testing.T) {
	f := groupFixture(t)
	unknown := bot.Actor{ID: "test:UCAROL", Name: "carol", GroupsUnknown: true}
	m := lines(pressAs(f.b, context.Background(), unknown, "UPG-1", "brief"))
	if !strings.Contains(m, "Thanks") || !strings.Contains(m, "counts for you alone, not for a group; press again in a minute") {
		t.Fatalf("a press while her groups are unknown: %s", m)
	}
	// Pressed again while still unknown: she is told again, not done.
	if m := lines(pressAs(f.b, context.Background(), unknown, "UPG-1", "brief")); !strings.Contains(m, "already acknowledged") || !strings.Contains(m, "press again in a minute") {
		t.Fatalf("a second press while her groups are unknown: %s", m)
	}
	// An owner through her group, refused while it is unknown, is told why.
	refused := f.b.Handle(context.Background(), bot.Invocation{Actor: unknown, Channel: "test:#ops"}, "cancel 1 no longer needed")
	if r := lines(refused); refused.Kind != bot.KindError || !strings.Contains(r, "not allowed") || !strings.Contains(r, "could not say just now which groups you are in") {
		t.Fatalf("a refusal while her groups are unknown: %s", r)
	}
	f.advance(time.Minute)
	if m := lines(pressAs(f.b, context.Background(), carolInSOPS, "UPG-1", "brief")); !strings.Contains(m, "Thanks") || strings.Contains(m, "alone") {
		t.Fatalf("the press again, her groups known: %s", m)
	}
	f.b.Flush()
	if root := lines(lastRoot(t, f.rec, "test:#checkout")); !strings.Contains(root, "Acknowledged 1/2 · waiting for @bob") {
		t.Fatalf("root after the press again:\n%s", root)
	}
	// Someone of the audience herself is thanked as usual.
	bob := bot.Actor{ID: "test:UBOB", Name: "bob", GroupsUnknown: true}
	if m := lines(pressAs(f.b, context.Background(), bob, "UPG-1", "brief")); strings.Contains(m, "alone") {
		t.Fatalf("bob, of the audience: %s", m)
	}
}

// A drain that ran out of time counted a root refresh (queued by a press)
// among the "notices not yet delivered", which another replica sends from
// their records; a refresh has none. It is told apart now.
func TestDrainTellsRootRefreshesFromNotices(t *testing.T) {
	rec := &bottest.Recorder{}
	sw := &switchable{}
	sw.to(rec)
	var logs syncbuf.Buffer
	b := bot.New(bot.Options{Config: testConfig(), Store: bottest.NewMemStore(), Messenger: bot.Router{"test": sw},
		Now: bottest.NewClock(t0).Now, RefreshIntervalSet: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if r := b.Handle(context.Background(), who("alice"), schedulePayments); r.Kind == bot.KindError {
		t.Fatal(lines(r))
	}
	b.Flush()
	// The platform holds the edit of the root that a press asks for.
	st := &stuck{Messenger: rec, entered: make(chan struct{}, 1), release: make(chan struct{})}
	sw.to(st)
	if m := pressAs(b, context.Background(), bot.Actor{ID: "test:UALICE"}, "UPG-1", "brief"); !strings.Contains(lines(m), "Thanks") {
		t.Fatalf("press: %s", lines(m))
	}
	<-st.entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n := b.Drain(ctx); n != 1 {
		t.Errorf("Drain = %d, want 1 (the refresh)", n)
	}
	close(st.release)
	b.Flush()
	got := logs.String()
	if want := `msg="stopping with root messages not yet refreshed; they show the latest state again at the upgrade's next press or change" tasks=1`; !strings.Contains(got, want) {
		t.Errorf("log lacks %s:\n%s", want, got)
	}
	if strings.Contains(got, "notices not yet delivered") {
		t.Errorf("the refresh was counted as a notice:\n%s", got)
	}
}

// A platform that builds the command from options (Discord) hands the
// repository over as typed: the core reads it as the typed grammar does,
// a pasted URL as owner/repo, and refuses what cannot be one in the same
// words, changing nothing.
func TestLinkReadsTheRepositoryAsTheGrammarWhateverThePlatform(t *testing.T) {
	f := newFixture(t)
	f.ok(t, "alice", schedulePayments)
	m := f.b.Do(context.Background(), who("alice"), commands.Link{ID: 1, Repo: "acme/../payments"})
	if m.Kind != bot.KindError || !strings.Contains(lines(m), `Cannot read "acme/../payments" as a GitHub repository; use owner/repo, e.g. acme/payments.`) {
		t.Fatalf("a repository that cannot be one: %s", lines(m))
	}
	if root := lastRoot(t, f.rec, "test:#payments"); strings.Contains(lines(root), "acme/") {
		t.Fatalf("a refused link changed the root:\n%s", lines(root))
	}
	m = f.b.Do(context.Background(), who("alice"), commands.Link{ID: 1, Repo: "https://github.com/acme/payments"})
	f.b.Flush()
	if got := lines(m); !strings.Contains(got, "Linking acme/payments v2.4.0 to UPG-1") {
		t.Fatalf("a pasted URL: %s", got)
	}
}

// QA: 21 presses from outside the audience were shown as "Also seen by"
// twenty of them "and 1 others"; and pending said "1 of 3 have not".
func TestCountsReadAsEnglish(t *testing.T) {
	st, rec := bottest.NewMemStore(), &bottest.Recorder{}
	b := bot.New(bot.Options{Config: testConfig(), Store: st, Messenger: bot.Router{"test": rec}, Now: func() time.Time { return t0 }})
	b.Handle(context.Background(), who("alice"), schedulePayments)
	b.Flush()
	for i := range 21 {
		pressAs(b, context.Background(), bot.Actor{ID: fmt.Sprintf("test:UX%03d", i)}, "UPG-1", "brief")
	}
	b.Flush()
	if root := lines(lastRoot(t, rec, "test:#payments")); !strings.Contains(root, " and 1 other\n") && !strings.HasSuffix(root, " and 1 other") {
		t.Errorf("21 outsiders:\n%s", root)
	}
	pressAs(b, context.Background(), bot.Actor{ID: "test:UALICE"}, "UPG-1", "brief")
	pressAs(b, context.Background(), bot.Actor{ID: "test:UBOB"}, "UPG-1", "brief")
	if got := lines(b.Handle(context.Background(), who("dave"), "pending 1")); !strings.Contains(got, "1 of 3 has not acknowledged the pre-brief of UPG-1: @carol") {
		t.Errorf("pending: %s", got)
	}
}

// TestOutsidersNameIsKeptBounded: the name a platform gives with the press
// of someone not in [[people]] is kept with her acknowledgment, on one
// line and at most 80 characters, and names her in the log; a person of
// [[people]] keeps her configured name whatever her platform calls her.
func TestOutsidersNameIsKeptBounded(t *testing.T) {
	f := newFixture(t)
	f.ok(t, "alice", schedulePayments)
	ctx := context.Background()
	long := "zed\n" + strings.Repeat("z", 100)
	pressAs(f.b, ctx, bot.Actor{ID: "test:UZED", Name: long}, "UPG-1", "brief")
	pressAs(f.b, ctx, bot.Actor{ID: "test:UBOB", Name: "Robert"}, "UPG-1", "brief")
	f.b.Flush()
	want := "zed " + strings.Repeat("z", 76)
	root := lines(lastRoot(t, f.rec, "test:#payments"))
	if miss, ok := contains(root, "Also seen by @"+want+"\n", "waiting for @alice @carol"); !ok {
		t.Fatalf("root lacks %q:\n%s", miss, root)
	}
	log := lines(f.ok(t, "alice", "log UPG-1"))
	if miss, ok := contains(log, "@"+want+" · acknowledged", "@bob · acknowledged"); !ok {
		t.Fatalf("log lacks %q:\n%s", miss, log)
	}
	if strings.Contains(log, "Robert") {
		t.Errorf("bob is named by his platform's name:\n%s", log)
	}
}

// A replica skips an edit of a root that would write what it last wrote
// there only when no other replica may have edited it since: A shows
// 02:00, B reschedules to 03:00 and edits, A reschedules back to 02:00
// and must edit (the root shows B's 03:00, not what A last wrote).
func TestARootEditedByAnotherReplicaIsEditedBack(t *testing.T) {
	st, rec := bottest.NewMemStore(), &bottest.Recorder{}
	replica := func() *bot.Bot {
		b := bot.New(bot.Options{Config: testConfig(), Store: st, Messenger: bot.Router{"test": rec},
			Now: func() time.Time { return t0 }, RefreshIntervalSet: true})
		t.Cleanup(b.Flush)
		return b
	}
	a, b := replica(), replica()
	ctx := context.Background()
	step := func(r *bot.Bot, text string) {
		t.Helper()
		if m := r.Handle(ctx, who("alice"), text); m.Kind == bot.KindError {
			t.Fatalf("%s: %s", text, lines(m))
		}
		r.Flush()
	}
	step(a, schedulePayments) // A posts the root: 02:00
	if got := lines(lastRoot(t, rec, "test:#payments")); !strings.Contains(got, "02:00 UTC") {
		t.Fatalf("the root as posted:\n%s", got)
	}
	step(b, "reschedule UPG-1 2026-12-01 03:00 UTC") // B edits it: 03:00
	if got := lines(lastRoot(t, rec, "test:#payments")); !strings.Contains(got, "03:00 UTC") {
		t.Fatalf("the root after B's reschedule:\n%s", got)
	}
	step(a, "reschedule UPG-1 2026-12-01 02:00 UTC") // A: back to what it last wrote
	if got := lines(lastRoot(t, rec, "test:#payments")); !strings.Contains(got, "2026-12-01 02:00 UTC") || strings.Contains(got, "03:00 UTC") {
		t.Fatalf("the root after A rescheduled back shows B's state:\n%s", got)
	}
}
