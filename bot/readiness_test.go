package bot_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
	"github.com/upgradebot/upgradebot/commands"
)

// readinessConfig gives payments (owner alice) the three criteria of the
// issue, ledger (owner carol) criteria that share a start, and sandbox (no
// owners) one; checkout has none.
func readinessConfig() bot.Config {
	c := testConfig()
	for i := range c.Services {
		switch c.Services[i].Name {
		case "payments":
			c.Services[i].Readiness = []string{"backups verified", "canary green", "rollback plan reviewed"}
		case "ledger":
			c.Services[i].Readiness = []string{"canary green", "canary latency", "Rollback plan on the wiki"}
		case "sandbox":
			c.Services[i].Readiness = []string{"smoke tests"}
		}
	}
	return c
}

func newReadinessFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{st: bottest.NewMemStore(), rec: &bottest.Recorder{}, clock: bottest.NewClock(t0)}
	f.b = bot.New(bot.Options{Config: readinessConfig(), Store: f.st, Messenger: bot.Router{"test": f.rec, "other": f.rec},
		Now: f.clock.Now, RefreshIntervalSet: true})
	t.Cleanup(f.b.Flush)
	return f
}

func (f *fixture) upgrade(t *testing.T, id int) *bot.Upgrade {
	t.Helper()
	u, err := f.st.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (f *fixture) events(typ string) []bot.Event {
	var out []bot.Event
	for _, e := range f.st.Events() {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// threadLines are the plain lines of the thread notices of kind k.
func threadLines(rec *bottest.Recorder, k bot.Kind) []string {
	var out []string
	for _, s := range rec.Kinds(k) {
		out = append(out, lines(s.Msg))
	}
	return out
}

func TestScheduleCopiesTheChecklist(t *testing.T) {
	f := newReadinessFixture(t)
	f.ok(t, "alice", schedulePayments)
	f.ok(t, "carol", "schedule checkout v1 at 2026-12-02 02:00 UTC")
	u := f.upgrade(t, 1)
	want := []bot.Criterion{{Text: "backups verified", State: bot.CriterionOpen}, {Text: "canary green", State: bot.CriterionOpen}, {Text: "rollback plan reviewed", State: bot.CriterionOpen}}
	if !slices.Equal(u.Readiness, want) {
		t.Fatalf("readiness = %+v", u.Readiness)
	}
	if got := f.upgrade(t, 2).Readiness; len(got) != 0 {
		t.Fatalf("checkout has no criteria, got %+v", got)
	}
	// A bot with another configuration on the same store: history stays.
	c := testConfig()
	b2 := bot.New(bot.Options{Config: c, Store: f.st, Messenger: bot.Router{"test": f.rec}, Now: f.clock.Now, RefreshIntervalSet: true})
	t.Cleanup(b2.Flush)
	show := lines(b2.Handle(context.Background(), who("bob"), "show 1"))
	if miss, ok := contains(show, "☐ 1. backups verified", "☐ 2. canary green", "☐ 3. rollback plan reviewed"); !ok {
		t.Fatalf("show after a configuration change lacks %q:\n%s", miss, show)
	}
	// Occurrences of a series copy it too.
	f.ok(t, "alice", "schedule payments v3 every tue 02:00 UTC for 1h")
	occurrences := 0
	for _, u := range mustList(t, f.st) {
		if u.Series == nil {
			continue
		}
		occurrences++
		if len(u.Readiness) != 3 || u.Readiness[0].State != bot.CriterionOpen {
			t.Fatalf("occurrence %s has readiness %+v", u.Key(), u.Readiness)
		}
	}
	if occurrences == 0 {
		t.Fatal("the series created no occurrence")
	}
}

func mustList(t *testing.T, st bot.Store) []*bot.Upgrade {
	t.Helper()
	us, err := st.List(context.Background(), bot.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return us
}

func TestCriterionMatching(t *testing.T) {
	f := newReadinessFixture(t)
	f.ok(t, "carol", "schedule ledger v1 at 2026-12-01 02:00 UTC")
	cases := []struct {
		name string
		want int // 1-based; 0: refused
		msg  []string
	}{
		{"2", 2, nil},
		{"#3", 3, nil},
		{"CANARY GREEN", 1, nil},
		{"rollback", 3, nil},
		{"canary l", 2, nil},
		{"canary", 0, []string{`"canary" could be any of 1. canary green, 2. canary latency`, "1. canary green (open)", "3. Rollback plan on the wiki (open)"}},
		{"4", 0, []string{"UPG-1 has no criterion 4.", "Its criteria:", "2. canary latency (open)"}},
		{"0", 0, []string{"UPG-1 has no criterion 0."}},
		{"backups", 0, []string{`UPG-1 has no criterion "backups".`, "1. canary green (open)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(f.st.Events())
			m := f.b.Do(context.Background(), who("carol"), commands.Ready{ID: 1, Criterion: c.name})
			f.b.Flush()
			if c.want == 0 {
				if m.Kind != bot.KindError {
					t.Fatalf("want a refusal, got %s", lines(m))
				}
				if miss, ok := contains(lines(m), c.msg...); !ok {
					t.Fatalf("refusal lacks %q:\n%s", miss, lines(m))
				}
				if len(f.st.Events()) != before {
					t.Fatal("a refusal recorded an event")
				}
				return
			}
			if m.Kind == bot.KindError {
				t.Fatalf("refused: %s", lines(m))
			}
			if got := f.upgrade(t, 1).Readiness[c.want-1]; got.State != bot.CriterionMet {
				t.Fatalf("criterion %d = %+v", c.want, got)
			}
			f.ok(t, "carol", "unready 1 "+strconv.Itoa(c.want)+" test again")
		})
	}
}

func TestNoCriteriaSaysSo(t *testing.T) {
	f := newReadinessFixture(t)
	f.ok(t, "bob", "schedule checkout v1 at 2026-12-01 02:00 UTC")
	f.fails(t, "bob", "ready 1 canary", "UPG-1 has no readiness criteria: its service checkout had none configured")
	f.fails(t, "bob", "waive 1 canary why", "has no readiness criteria")
	// With nothing to be ready for, start is not held back.
	f.ok(t, "bob", "start 1")
}

func TestReadinessChangesAreOwnersAndAdminsOnly(t *testing.T) {
	f := newReadinessFixture(t)
	f.ok(t, "alice", schedulePayments)
	f.ok(t, "dave", "schedule sandbox v1 at 2026-12-02 02:00 UTC")
	for _, cmd := range []string{"ready 1 1", "waive 1 1 because", "unready 1 1 because", "plan 1 https://runbooks/x"} {
		f.fails(t, "bob", cmd, "You are not allowed to", "only the owners of payments (@alice) or an admin may")
	}
	if got := f.events(bot.EventReadiness); len(got) != 0 {
		t.Fatalf("refusals recorded events: %+v", got)
	}
	f.ok(t, "dave", "ready 1 backups") // an admin
	f.ok(t, "alice", "ready 1 canary") // the owner
	f.ok(t, "bob", "ready 2 smoke")    // no owners: anyone
}

func TestReadinessStory(t *testing.T) {
	f := newReadinessFixture(t)
	f.ok(t, "alice", schedulePayments)
	root := lastRoot(t, f.rec, "test:#payments")
	if len(root.Ready) != 3 || root.Ready[1] != (bot.ReadyButton{UpgradeID: "UPG-1", Criterion: 2, Text: "canary green"}) {
		t.Fatalf("root buttons %+v", root.Ready)
	}
	if miss, ok := contains(lines(root), "Readiness: ☐ 1. backups verified", "☐ 3. rollback plan reviewed", "Rollback plan: none on record; add one with /upgrade plan UPG-1 <url or text...>"); !ok {
		t.Fatalf("root lacks %q:\n%s", miss, lines(root))
	}
	f.rec.Reset()
	rev := f.upgrade(t, 1).Rev

	// Start is refused while criteria are open, naming each.
	f.fails(t, "alice", "start 1", "UPG-1 is not ready: 3 readiness criteria are open:", "☐ 1. backups verified", "☐ 2. canary green",
		"☐ 3. rollback plan reviewed", "/upgrade start UPG-1 anyway <reason...>")
	if u := f.upgrade(t, 1); u.State != bot.Scheduled || u.Rev != rev {
		t.Fatalf("a refused start changed the upgrade: %s rev %d", u.State, u.Rev)
	}

	// Two met by the buttons' command, one waived.
	m := f.b.Do(context.Background(), who("alice"), commands.Ready{ID: 1, Criterion: "1"})
	if miss, ok := contains(lines(m), "✅ Marked 1. 'backups verified' met of UPG-1 payments v2.4.0 (1/3 ready)."); !ok {
		t.Fatalf("ready reply lacks %q: %s", miss, lines(m))
	}
	f.b.Flush()
	f.clock.Advance(time.Minute)
	f.ok(t, "alice", "ready UPG-1 canary green")
	again := f.ok(t, "dave", "ready 1 2")
	if miss, ok := contains(lines(again), "2. 'canary green' of UPG-1 is already met (by @alice, 2026-11-22 10:01 UTC); nothing changed."); !ok || again.Kind != bot.KindReply {
		t.Fatalf("marking a met criterion met: lacks %q: %s", miss, lines(again))
	}
	f.ok(t, "dave", `waive 1 "rollback plan" reviewed with the release last week`)

	notices := threadLines(f.rec, bot.KindReadiness)
	want := []string{
		"✅ @alice marked 'backups verified' met (1/3 ready).",
		"✅ @alice marked 'canary green' met (2/3 ready).",
		"➖ @dave waived 'rollback plan reviewed': reviewed with the release last week (3/3 ready).",
	}
	if !slices.Equal(notices, want) {
		t.Fatalf("readiness notices\n got %q\nwant %q", notices, want)
	}
	root = lastRoot(t, f.rec, "test:#payments")
	if miss, ok := contains(lines(root), "Readiness: ✅ 1. backups verified — @alice, 2026-11-22 10:00 UTC", "✅ 2. canary green — @alice, 2026-11-22 10:01 UTC",
		"➖ 3. rollback plan reviewed — waived by @dave: reviewed with the release last week"); !ok {
		t.Fatalf("root lacks %q:\n%s", miss, lines(root))
	}
	if len(root.Ready) != 0 {
		t.Fatalf("no criterion is open, yet the root has buttons %+v", root.Ready)
	}

	// The events: one per change, with the criterion, its number, state and reason.
	evs := f.events(bot.EventReadiness)
	if len(evs) != 3 {
		t.Fatalf("%d readiness events, want 3", len(evs))
	}
	if d := evs[2].Data; d["criterion"] != "rollback plan reviewed" || d["number"] != 3 || d["state"] != "waived" || d["reason"] != "reviewed with the release last week" || evs[2].Actor != "dave" {
		t.Fatalf("waive event %+v", evs[2])
	}

	// Reopened with a reason, then met again.
	f.fails(t, "alice", "waive 1 2 no canary", "2. 'canary green' of UPG-1 is met already; to waive it, reopen it first with /upgrade unready UPG-1 2 <reason...>.")
	f.ok(t, "alice", "unready 1 2 canary went red")
	f.fails(t, "alice", "start 1", "1 readiness criterion is open:", "☐ 2. canary green")
	if b := lastRoot(t, f.rec, "test:#payments").Ready; len(b) != 1 || b[0] != (bot.ReadyButton{UpgradeID: "UPG-1", Criterion: 2, Text: "canary green"}) {
		t.Fatalf("root buttons %+v", b)
	}
	f.ok(t, "alice", "ready 1 2")
	if l := lines(f.ok(t, "bob", "list")); !strings.Contains(l, "· 3/3 ready") {
		t.Fatalf("list: %s", l)
	}

	// Every criterion met or waived: start goes ahead.
	f.ok(t, "alice", "start 1")
	log := lines(f.ok(t, "bob", "log 1"))
	if miss, ok := contains(log, "alice · readiness met · 'backups verified'", "dave · readiness waived · 'rollback plan reviewed' · why: reviewed with the release last week",
		"alice · readiness reopened · 'canary green' · why: canary went red", "alice · started"); !ok {
		t.Fatalf("log lacks %q:\n%s", miss, log)
	}
	f.ok(t, "alice", "complete 1 all green")
	f.fails(t, "alice", "ready 1 1", "UPG-1 is completed; its readiness no longer changes.")
}

func TestStartAnyway(t *testing.T) {
	f := newReadinessFixture(t)
	f.ok(t, "alice", schedulePayments)
	f.ok(t, "alice", "ready 1 1")
	f.fails(t, "bob", "start 1 anyway I know what I am doing", "You are not allowed to start UPG-1")
	f.rec.Reset()
	m := f.ok(t, "alice", "start 1 anyway canary is flaky, checked by hand")
	if miss, ok := contains(lines(m), "Started UPG-1", "Started anyway with 2 open: 'canary green', 'rollback plan reviewed' — canary is flaky, checked by hand."); !ok {
		t.Fatalf("reply lacks %q: %s", miss, lines(m))
	}
	u := f.upgrade(t, 1)
	if u.State != bot.InProgress || u.StartedAnyway == nil || !slices.Equal(u.StartedAnyway.Open, []string{"canary green", "rollback plan reviewed"}) || u.StartedAnyway.Reason != "canary is flaky, checked by hand" {
		t.Fatalf("started anyway: %s %+v", u.State, u.StartedAnyway)
	}
	started := threadLines(f.rec, bot.KindStarted)
	if len(started) != 1 || !strings.Contains(started[0], "⚠ Started anyway with 2 open: 'canary green', 'rollback plan reviewed' — canary is flaky, checked by hand") {
		t.Fatalf("started notice %q", started)
	}
	log, err := f.st.Log(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	last := log[len(log)-1]
	if last.Action != bot.ActionStarted || !slices.Equal(last.Open, u.StartedAnyway.Open) || last.Reason != "canary is flaky, checked by hand" {
		t.Fatalf("started decision %+v", last)
	}
	ev := f.events(bot.EventStarted)
	if len(ev) != 1 || ev[0].Data["reason"] != "canary is flaky, checked by hand" || len(ev[0].Data["open"].([]string)) != 2 {
		t.Fatalf("started event %+v", ev)
	}
	show := lines(f.ok(t, "bob", "show 1"))
	if miss, ok := contains(show, "Started anyway: with 2 open: 'canary green', 'rollback plan reviewed' — canary is flaky, checked by hand"); !ok {
		t.Fatalf("show lacks %q:\n%s", miss, show)
	}
	if log := lines(f.ok(t, "bob", "log 1")); !strings.Contains(log, "alice · started · anyway, with 2 open: 'canary green', 'rollback plan reviewed' · why: canary is flaky") {
		t.Fatalf("log:\n%s", log)
	}
	// In progress, the checklist may still be completed.
	f.ok(t, "alice", "ready 1 canary")
}

func TestStartAnywayWithNothingOpenJustStarts(t *testing.T) {
	f := newReadinessFixture(t)
	f.ok(t, "dave", "schedule sandbox v1 at 2026-12-02 02:00 UTC")
	f.ok(t, "bob", "ready 1 smoke")
	m := f.ok(t, "bob", "start 1 anyway just in case")
	if !strings.Contains(lines(m), "anyway was not needed and is not recorded") {
		t.Fatalf("reply: %s", lines(m))
	}
	u := f.upgrade(t, 1)
	log, _ := f.st.Log(context.Background(), 1)
	if u.StartedAnyway != nil || log[len(log)-1].Reason != "" || len(log[len(log)-1].Open) != 0 {
		t.Fatalf("an unneeded anyway was recorded: %+v %+v", u.StartedAnyway, log[len(log)-1])
	}
}

func TestPlanMeetsTheRollbackPlanCriterion(t *testing.T) {
	f := newReadinessFixture(t)
	f.ok(t, "alice", schedulePayments)
	f.rec.Reset()
	m := f.ok(t, "alice", "plan 1 https://runbooks.example.com/payments/rollback")
	if miss, ok := contains(lines(m), "Recorded the rollback plan of UPG-1 payments v2.4.0; 3. 'rollback plan reviewed' is met by it (1/3 ready)."); !ok {
		t.Fatalf("reply lacks %q: %s", miss, lines(m))
	}
	c := f.upgrade(t, 1).Readiness[2]
	if c.State != bot.CriterionMet || !c.Auto || c.By != "alice" {
		t.Fatalf("criterion 3 = %+v", c)
	}
	if ev := f.events(bot.EventPlanRecorded); len(ev) != 1 || ev[0].Data["plan"] != "https://runbooks.example.com/payments/rollback" {
		t.Fatalf("plan events %+v", ev)
	}
	if ev := f.events(bot.EventReadiness); len(ev) != 1 || ev[0].Data["state"] != "met" || ev[0].Data["number"] != 3 {
		t.Fatalf("readiness events %+v", ev)
	}
	if got := threadLines(f.rec, bot.KindPlanRecorded); len(got) != 1 || !strings.Contains(got[0], "@alice recorded the rollback plan: https://runbooks.example.com/payments/rollback") ||
		!strings.Contains(got[0], "'rollback plan reviewed' is met by it (1/3 ready).") {
		t.Fatalf("plan notice %q", got)
	}
	root := lines(lastRoot(t, f.rec, "test:#payments"))
	if miss, ok := contains(root, "Rollback plan: https://runbooks.example.com/payments/rollback — @alice", "✅ 3. rollback plan reviewed — rollback plan recorded by @alice"); !ok {
		t.Fatalf("root lacks %q:\n%s", miss, root)
	}
	if log := lines(f.ok(t, "bob", "log 1")); !strings.Contains(log, "alice · plan recorded · https://runbooks.example.com/payments/rollback · met rollback plan reviewed") {
		t.Fatalf("log:\n%s", log)
	}
	// A later plan replaces it, and meets nothing more.
	f.ok(t, "alice", "plan 1 helm rollback payments")
	if len(f.events(bot.EventReadiness)) != 1 || f.upgrade(t, 1).Plan.Text != "helm rollback payments" {
		t.Fatal("the second plan")
	}
	// The rollback alert shows it.
	f.ok(t, "alice", "ready 1 1")
	f.ok(t, "alice", "ready 1 2")
	f.ok(t, "alice", "start 1")
	f.ok(t, "alice", "rollback 1 errors")
	alert := f.rec.Kinds(bot.KindRollback)
	if len(alert) != 1 || !strings.Contains(lines(alert[0].Msg), "🧭 Rollback plan: helm rollback payments") {
		t.Fatalf("rollback alert %+v", alert)
	}
}

func TestRollbackAlertSaysWhenNoPlanIsOnRecord(t *testing.T) {
	d := bot.NewDirectory(readinessConfig())
	u := &bot.Upgrade{ID: 1, Service: "payments", Version: "v1", State: bot.RolledBack, Reason: "errors", Start: t0, End: t0.Add(time.Hour)}
	if got := lines(d.Notice(bot.KindRollback, u, bot.Decision{Actor: "alice"})); !strings.Contains(got, "No rollback plan is on record.") {
		t.Fatalf("alert: %s", got)
	}
}

func TestDebrief(t *testing.T) {
	f := newReadinessFixture(t)
	f.ok(t, "alice", "schedule payments v2 at 2026-12-01 02:00 UTC")
	f.fails(t, "alice", "debrief 1 too early", "UPG-1 is scheduled; a debrief is recorded once it is completed or rolled back.")
	f.ok(t, "alice", "start 1 anyway testing")
	f.rec.Reset()
	f.ok(t, "alice", "complete 1")
	prompts := f.rec.Kinds(bot.KindDebriefPrompt)
	if len(prompts) != 1 {
		t.Fatalf("%d debrief prompts", len(prompts))
	}
	p := prompts[0].Msg
	if p.Debrief == nil || *p.Debrief != (bot.DebriefButton{UpgradeID: "UPG-1"}) {
		t.Fatalf("prompt button %+v", p.Debrief)
	}
	if miss, ok := contains(lines(p), "UPG-1 payments v2 is completed. @alice, please write a short debrief: what happened, and what to change next time.", "/upgrade debrief UPG-1 <text...>"); !ok {
		t.Fatalf("prompt lacks %q:\n%s", miss, lines(p))
	}
	if mentions := p.Lines[0]; !slices.ContainsFunc(mentions, func(s bot.Span) bool { return s.Kind == bot.SpanMention && s.Who.Key == "alice" }) {
		t.Fatal("the prompt does not mention the owner")
	}
	f.fails(t, "bob", "debrief 1 it went fine", "You are not allowed to record the debrief of UPG-1")
	m := f.b.Do(context.Background(), who("alice"), commands.Debrief{ID: 1, Text: "migration took 40m, not 10"})
	f.b.Flush()
	if !strings.Contains(lines(m), "Recorded the debrief of UPG-1") {
		t.Fatalf("reply %s", lines(m))
	}
	f.clock.Advance(time.Hour)
	f.ok(t, "dave", "debrief 1 migration took 40m; run it the day before next time")
	u := f.upgrade(t, 1)
	if u.Debrief == nil || u.Debrief.By != "dave" || u.Debrief.Text != "migration took 40m; run it the day before next time" {
		t.Fatalf("debrief %+v", u.Debrief)
	}
	if got := threadLines(f.rec, bot.KindDebriefRecorded); len(got) != 2 || !strings.Contains(got[1], "@dave replaced the debrief: migration took 40m; run it") {
		t.Fatalf("debrief notices %q", got)
	}
	if ev := f.events(bot.EventDebriefRecorded); len(ev) != 2 || ev[1].Data["replaced"] != true {
		t.Fatalf("debrief events %+v", ev)
	}
	show := lines(f.ok(t, "bob", "show 1"))
	if miss, ok := contains(show, "Debrief: migration took 40m; run it the day before next time — @dave, 2026-11-22 11:00 UTC"); !ok {
		t.Fatalf("show lacks %q:\n%s", miss, show)
	}
	log := lines(f.ok(t, "bob", "log 1"))
	if miss, ok := contains(log, "alice · debrief recorded · migration took 40m, not 10", "dave · debrief recorded · migration took 40m; run it the day before next time · why: replaces the debrief by @alice of 2026-11-22 10:00 UTC"); !ok {
		t.Fatalf("log lacks %q:\n%s", miss, log)
	}
}

func TestDebriefPromptAfterRollback(t *testing.T) {
	f := newReadinessFixture(t)
	f.ok(t, "bob", "schedule checkout v1 at 2026-12-01 02:00 UTC")
	f.ok(t, "bob", "start 1")
	f.rec.Reset()
	f.ok(t, "bob", "rollback 1 broken")
	p := f.rec.Kinds(bot.KindDebriefPrompt)
	if len(p) != 1 || !strings.Contains(lines(p[0].Msg), "UPG-1 checkout v1 is rolled back. @bob @carol, please write a short debrief") {
		t.Fatalf("prompt %+v", p)
	}
	f.ok(t, "carol", "debrief 1 the schema change was not backward compatible")
}

func TestLastReminderListsOpenCriteria(t *testing.T) {
	d := bot.NewDirectory(readinessConfig())
	u := &bot.Upgrade{ID: 1, Service: "payments", Version: "v1", State: bot.Scheduled, Owners: []string{"alice"}, Start: t0, End: t0.Add(time.Hour),
		Readiness: []bot.Criterion{{Text: "backups verified", State: bot.CriterionMet, By: "alice", At: t0}, {Text: "canary green", State: bot.CriterionOpen}}}
	last := d.Reminder(u, nil, time.Hour, 0)
	if miss, ok := contains(lines(last), "☐ Not ready yet, 1 readiness criterion open: 2. canary green. @alice please mark it met (/upgrade ready UPG-1 <criterion...>) or waive it before the window opens."); !ok {
		t.Fatalf("the 1-hour reminder lacks %q:\n%s", miss, lines(last))
	}
	if len(last.Ready) != 1 || last.Ready[0].Criterion != 2 {
		t.Fatalf("buttons %+v", last.Ready)
	}
	if early := lines(d.Reminder(u, nil, 72*time.Hour, 0)); strings.Contains(early, "canary green") {
		t.Fatalf("an earlier reminder names the criteria:\n%s", early)
	}
	u.Readiness[1].State = bot.CriterionWaived
	if ready := lines(d.Reminder(u, nil, time.Hour, 0)); strings.Contains(ready, "Not ready") {
		t.Fatalf("a ready upgrade's reminder:\n%s", ready)
	}
}

func TestWindowOpenWarnsWhenNotReady(t *testing.T) {
	d := bot.NewDirectory(readinessConfig())
	u := &bot.Upgrade{ID: 1, Service: "payments", Version: "v1", State: bot.Scheduled, Owners: []string{"alice"}, Start: t0, End: t0.Add(time.Hour),
		Readiness: []bot.Criterion{{Text: "backups verified", State: bot.CriterionOpen}, {Text: "canary green", State: bot.CriterionOpen}}}
	m := d.WindowOpen(u)
	if !m.Alert {
		t.Fatal("not ready at window open must be an alert")
	}
	if miss, ok := contains(lines(m), "⚠️ NOT READY: the window for UPG-1 payments v1 is open, but 2 readiness criteria are open: 1. backups verified, 2. canary green. @alice",
		"/upgrade start UPG-1 anyway <reason...>"); !ok {
		t.Fatalf("window open lacks %q:\n%s", miss, lines(m))
	}
	u.Readiness[0].State, u.Readiness[1].State = bot.CriterionMet, bot.CriterionMet
	if m := d.WindowOpen(u); m.Alert || !strings.Contains(lines(m), "🟢 The window for") {
		t.Fatalf("ready window open:\n%s", lines(m))
	}
}

func TestEveryReadinessChangeHasItsEvent(t *testing.T) {
	f := newReadinessFixture(t)
	f.ok(t, "alice", schedulePayments)
	steps := []struct {
		cmd, event string
	}{
		{"ready 1 1", bot.EventReadiness},
		{"waive 1 2 no canary", bot.EventReadiness},
		{"unready 1 2 canary after all", bot.EventReadiness},
		{"plan 1 runbook", bot.EventPlanRecorded},
		{"start 1 anyway canary later", bot.EventStarted},
		{"complete 1", bot.EventCompleted},
		{"debrief 1 fine", bot.EventDebriefRecorded},
	}
	for _, s := range steps {
		before := len(f.st.Events())
		f.ok(t, "alice", s.cmd)
		got := f.st.Events()[before:]
		if len(got) == 0 || got[0].Type != s.event {
			t.Fatalf("%s: events %+v, want %s first", s.cmd, got, s.event)
		}
		log, _ := f.st.Log(context.Background(), 1)
		if last := log[len(log)-1]; last.At.IsZero() || last.Actor != "alice" {
			t.Fatalf("%s: no decision: %+v", s.cmd, last)
		}
	}
	for _, typ := range []string{bot.EventPlanRecorded, bot.EventDebriefRecorded, bot.EventReadiness} {
		if !slices.Contains(bot.EventTypes, typ) {
			t.Errorf("EventTypes lacks %s", typ)
		}
	}
}

func TestStatsCountDebriefsAndReadinessAtStart(t *testing.T) {
	f := newReadinessFixture(t)
	f.ok(t, "alice", "schedule payments v2 in 2h")
	f.ok(t, "alice", "start 1 anyway hotfix")
	f.ok(t, "alice", "complete 1")
	f.ok(t, "alice", "debrief 1 fine")
	f.ok(t, "dave", "schedule sandbox v1 in 2h")
	f.ok(t, "bob", "ready 2 1")
	f.ok(t, "bob", "start 2")
	f.ok(t, "bob", "rollback 2 broken")
	f.clock.Advance(3 * time.Hour)
	got := lines(f.ok(t, "bob", "stats"))
	if miss, ok := contains(got, "• Debriefs: 50% (1 of 2 finished)", "• Readiness at start: 1 started ready, 1 started anyway (of 2 started with a checklist)"); !ok {
		t.Fatalf("stats lack %q:\n%s", miss, got)
	}
}

// Commands given as data (a button, a form) bypass the parser; the core
// refuses what the grammar would, and changes nothing.
func TestReadinessCommandsAsDataAreChecked(t *testing.T) {
	f := newReadinessFixture(t)
	f.ok(t, "alice", schedulePayments)
	ctx := context.Background()
	for _, c := range []struct {
		cmd  commands.Command
		want string
	}{
		{commands.Ready{ID: 1, Criterion: "  "}, "Name the criterion"},
		{commands.Waive{ID: 1, Criterion: "1"}, "Say why"},
		{commands.Unready{ID: 1, Criterion: "1", Reason: " "}, "Say why"},
		{commands.Plan{ID: 1, Text: " "}, "The rollback plan is empty"},
		{commands.Plan{ID: 1, Text: strings.Repeat("x", bot.MaxRecordLen+1)}, "at most 2000 fit"},
		{commands.Debrief{ID: 1, Text: "\n"}, "The debrief is empty"},
		{commands.Start{ID: 1, Anyway: "  "}, "UPG-1 is not ready"},
	} {
		before := len(f.st.Events())
		m := f.b.Do(ctx, who("alice"), c.cmd)
		if m.Kind != bot.KindError || !strings.Contains(lines(m), c.want) {
			t.Errorf("%+v: %s, want a refusal with %q", c.cmd, lines(m), c.want)
		}
		if len(f.st.Events()) != before {
			t.Errorf("%+v: a refusal recorded an event", c.cmd)
		}
	}
}

func TestReadinessStateRules(t *testing.T) {
	f := newReadinessFixture(t)
	f.ok(t, "alice", schedulePayments)
	if m := f.ok(t, "alice", "unready 1 1 not yet"); !strings.Contains(lines(m), "1. 'backups verified' of UPG-1 is already open; nothing changed.") {
		t.Fatalf("reopening an open criterion: %s", lines(m))
	}
	f.ok(t, "alice", "waive 1 1 restored yesterday")
	if m := f.ok(t, "alice", "waive 1 backups again"); !strings.Contains(lines(m), "is already waived (by @alice: restored yesterday); nothing changed.") {
		t.Fatalf("waiving a waived criterion: %s", lines(m))
	}
	f.ok(t, "alice", "ready 1 1") // a waived criterion may be met
	if c := f.upgrade(t, 1).Readiness[0]; c.State != bot.CriterionMet || c.Reason != "" {
		t.Fatalf("criterion 1 = %+v", c)
	}
	if n := len(f.events(bot.EventReadiness)); n != 2 {
		t.Fatalf("%d readiness events, want 2 (nothing for the no-ops)", n)
	}
	f.ok(t, "alice", "cancel 1")
	f.fails(t, "alice", "ready 1 2", "UPG-1 is cancelled; its readiness no longer changes.")
	f.fails(t, "alice", "plan 1 x", "UPG-1 is cancelled; it needs no rollback plan.")
	f.fails(t, "alice", "debrief 1 x", "UPG-1 is cancelled; a debrief is recorded once it is completed or rolled back.")
}
