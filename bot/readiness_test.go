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
			c.Services[i].Readiness = []string{"backups verified", "canary green", "rollback plan"}
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
	want := []bot.Criterion{{Text: "backups verified", State: bot.CriterionOpen}, {Text: "canary green", State: bot.CriterionOpen}, {Text: "rollback plan", State: bot.CriterionOpen}}
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
	if miss, ok := contains(show, "☐ 1. backups verified", "☐ 2. canary green", "☐ 3. rollback plan"); !ok {
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
	if miss, ok := contains(lines(root), "Readiness: ☐ 1. backups verified", "☐ 3. rollback plan", "Rollback plan: none on record; add one with /upgrade plan UPG-1 <url or text...>"); !ok {
		t.Fatalf("root lacks %q:\n%s", miss, lines(root))
	}
	f.rec.Reset()
	rev := f.upgrade(t, 1).Rev

	// Start is refused while criteria are open, naming each.
	f.fails(t, "alice", "start 1", "UPG-1 is not ready: 3 readiness criteria are open:", "☐ 1. backups verified", "☐ 2. canary green",
		"☐ 3. rollback plan", "/upgrade start UPG-1 anyway <reason...>")
	if u := f.upgrade(t, 1); u.State != bot.Scheduled || u.Rev != rev {
		t.Fatalf("a refused start changed the upgrade: %s rev %d", u.State, u.Rev)
	}

	// Two met by the buttons' command, one waived.
	m := f.b.Do(context.Background(), who("alice"), commands.Ready{ID: 1, Criterion: "1"})
	if miss, ok := contains(lines(m), "✅ Marked 'backups verified' (1) of UPG-1 payments v2.4.0 met (1/3 ready)."); !ok {
		t.Fatalf("ready reply lacks %q: %s", miss, lines(m))
	}
	f.b.Flush()
	f.clock.Advance(time.Minute)
	f.ok(t, "alice", "ready UPG-1 canary green")
	again := f.ok(t, "dave", "ready 1 2")
	if miss, ok := contains(lines(again), "'canary green' (2) of UPG-1 is already met (by @alice, 2026-11-22 10:01 UTC); nothing changed."); !ok || again.Kind != bot.KindReply {
		t.Fatalf("marking a met criterion met: lacks %q: %s", miss, lines(again))
	}
	f.ok(t, "dave", `waive 1 "rollback plan" reviewed with the release last week`)

	notices := threadLines(f.rec, bot.KindReadiness)
	want := []string{
		"✅ @alice marked 'backups verified' met (1/3 ready).",
		"✅ @alice marked 'canary green' met (2/3 ready).",
		"➖ @dave waived 'rollback plan': reviewed with the release last week (3/3 ready).",
	}
	if !slices.Equal(notices, want) {
		t.Fatalf("readiness notices\n got %q\nwant %q", notices, want)
	}
	root = lastRoot(t, f.rec, "test:#payments")
	if miss, ok := contains(lines(root), "Readiness: ✅ 1. backups verified — @alice, 2026-11-22 10:00 UTC", "✅ 2. canary green — @alice, 2026-11-22 10:01 UTC",
		"➖ 3. rollback plan — waived by @dave: reviewed with the release last week"); !ok {
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
	if d := evs[2].Data; d["criterion"] != "rollback plan" || d["number"] != 3 || d["state"] != "waived" || d["reason"] != "reviewed with the release last week" || evs[2].Actor != "dave" {
		t.Fatalf("waive event %+v", evs[2])
	}

	// Reopened with a reason, then met again.
	f.fails(t, "alice", "waive 1 2 no canary", "'canary green' (2) of UPG-1 is met already; to waive it, reopen it first with /upgrade unready UPG-1 2 <reason...>.")
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
	if miss, ok := contains(log, "alice · readiness met · 'backups verified'", "dave · readiness waived · 'rollback plan' · why: reviewed with the release last week",
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
	if miss, ok := contains(lines(m), "Started UPG-1", "Started anyway with 2 open: 'canary green', 'rollback plan' — canary is flaky, checked by hand."); !ok {
		t.Fatalf("reply lacks %q: %s", miss, lines(m))
	}
	u := f.upgrade(t, 1)
	if u.State != bot.InProgress || u.StartedAnyway == nil || !slices.Equal(u.StartedAnyway.Open, []string{"canary green", "rollback plan"}) || u.StartedAnyway.Reason != "canary is flaky, checked by hand" {
		t.Fatalf("started anyway: %s %+v", u.State, u.StartedAnyway)
	}
	started := threadLines(f.rec, bot.KindStarted)
	if len(started) != 1 || !strings.Contains(started[0], "⚠ Started anyway with 2 open: 'canary green', 'rollback plan' — canary is flaky, checked by hand") {
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
	if miss, ok := contains(show, "Started anyway: with 2 open: 'canary green', 'rollback plan' — canary is flaky, checked by hand"); !ok {
		t.Fatalf("show lacks %q:\n%s", miss, show)
	}
	if log := lines(f.ok(t, "bob", "log 1")); !strings.Contains(log, "alice · started · anyway, with 2 open: 'canary green', 'rollback plan' · why: canary is flaky") {
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
	if miss, ok := contains(lines(m), "Recorded the rollback plan of UPG-1 payments v2.4.0; 'rollback plan' (3) is met by it (1/3 ready)."); !ok {
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
		!strings.Contains(got[0], "'rollback plan' is met by it (1/3 ready).") {
		t.Fatalf("plan notice %q", got)
	}
	root := lines(lastRoot(t, f.rec, "test:#payments"))
	if miss, ok := contains(root, "Rollback plan: https://runbooks.example.com/payments/rollback — @alice", "✅ 3. rollback plan — rollback plan recorded by @alice"); !ok {
		t.Fatalf("root lacks %q:\n%s", miss, root)
	}
	if log := lines(f.ok(t, "bob", "log 1")); !strings.Contains(log, "alice · plan recorded · https://runbooks.example.com/payments/rollback · met 'rollback plan'") {
		t.Fatalf("log:\n%s", log)
	}
	// A later plan replaces it, says so, and meets nothing more: no ready
	// count, since it did not change.
	f.rec.Reset()
	f.clock.Advance(time.Minute)
	m = f.ok(t, "dave", "plan 1 helm rollback payments")
	if len(f.events(bot.EventReadiness)) != 1 || f.upgrade(t, 1).Plan.Text != "helm rollback payments" {
		t.Fatal("the second plan")
	}
	if got := lines(m); got != "🧭 Replaced the rollback plan of UPG-1 payments v2.4.0." {
		t.Fatalf("replacing reply: %q", got)
	}
	if got := threadLines(f.rec, bot.KindPlanRecorded); len(got) != 1 || !strings.Contains(got[0], "@dave replaced the rollback plan: helm rollback payments") {
		t.Fatalf("replacing notice %q", got)
	}
	if log := lines(f.ok(t, "bob", "log 1")); !strings.Contains(log, "dave · plan recorded · helm rollback payments · why: replaces the rollback plan by @alice of 2026-11-22 10:00 UTC") {
		t.Fatalf("log of the replacing plan:\n%s", log)
	}
	if got := lines(f.ok(t, "alice", "ready 1 3")); !strings.Contains(got, "'rollback plan' (3) of UPG-1 is already met (by @alice recording the rollback plan, 2026-11-22 10:00 UTC); nothing changed.") {
		t.Fatalf("marking an auto-met criterion: %s", got)
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
	// A long one is shortened in its field (about 1,000 characters fit in a
	// platform's field) and shown whole below.
	long := strings.Repeat("the schema migration locked the ledger table; ", 50)[:bot.MaxRecordLen]
	f.ok(t, "dave", "debrief 1 "+long)
	sm := f.ok(t, "bob", "show 1")
	for _, fl := range sm.Fields {
		if fl.Label == "Debrief" && len(fl.Value.Plain(nil)) > 1000 {
			t.Fatalf("show's debrief field is %d characters long", len(fl.Value.Plain(nil)))
		}
	}
	if !strings.Contains(lines(sm), "Debrief in full: "+strings.TrimSpace(long)) {
		t.Fatalf("show lacks the whole debrief:\n%s", lines(sm))
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
	if miss, ok := contains(lines(m), "⚠️ NOT READY: the window for UPG-1 payments v1 is open, but 2 readiness criteria are open: 1. backups verified, 2. canary green.\n"+
		"@alice, mark them met or waive them, then /upgrade start UPG-1; or take responsibility with /upgrade start UPG-1 anyway <reason...>."); !ok {
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
		{commands.Waive{ID: 1, Criterion: "1"}, "Missing <reason...> after the criterion: say why it does not apply this time."},
		{commands.Unready{ID: 1, Criterion: "1", Reason: " "}, "Missing <reason...> after the criterion: say why it is no longer met."},
		{commands.Plan{ID: 1, Text: " "}, "The rollback plan is empty"},
		{commands.Plan{ID: 1, Text: strings.Repeat("x", bot.MaxRecordLen+1)}, "at most 2000 fit"},
		{commands.Debrief{ID: 1, Text: "\n"}, "The debrief is empty"},
		{commands.Start{ID: 1, Anyway: "  "}, "Missing <reason...> after anyway: say why it starts although not every readiness criterion is met."},
		{commands.Rollback{ID: 1, Reason: " "}, "Missing <reason...>: a rollback alert must say why."},
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
	if m := f.ok(t, "alice", "unready 1 1 not yet"); !strings.Contains(lines(m), "'backups verified' (1) of UPG-1 is already open; nothing changed.") {
		t.Fatalf("reopening an open criterion: %s", lines(m))
	}
	f.ok(t, "alice", "waive 1 1 restored yesterday")
	if m := f.ok(t, "alice", "waive 1 backups restored yesterday"); !strings.Contains(lines(m), "is already waived with that reason (by @alice: restored yesterday); nothing changed.") {
		t.Fatalf("waiving a waived criterion with the same reason: %s", lines(m))
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

// A reason of only spaces is no reason: the same refusal as none, typed
// or given as data; a plan or debrief of spaces likewise.
func TestBlankReasonsAreMissing(t *testing.T) {
	f := newReadinessFixture(t)
	f.ok(t, "alice", schedulePayments)
	f.clock.Advance(10*24*time.Hour - 3*time.Hour) // within early_start
	anyway := "Missing <reason...> after anyway: say why it starts although not every readiness criterion is met."
	f.fails(t, "alice", "start 1 anyway", anyway)
	f.fails(t, "alice", `start 1 anyway "   "`, anyway)
	f.fails(t, "alice", `waive 1 1 "   "`, "Missing <reason...> after the criterion: say why it does not apply this time")
	f.fails(t, "alice", `unready 1 1 "  "`, "Missing <reason...> after the criterion: say why it is no longer met")
	f.fails(t, "alice", `plan 1 "   "`, "Missing <url or text...>")
	f.ok(t, "alice", "start 1 anyway hotfix")
	f.fails(t, "alice", `rollback 1 "   "`, "Missing <reason...>: a rollback alert must say why.")
	f.ok(t, "alice", "complete 1")
	f.fails(t, "alice", `debrief 1 "  "`, "Missing <text...>")
	if u := f.upgrade(t, 1); u.State != bot.Completed || u.Debrief != nil || u.Plan != nil {
		t.Fatalf("a refusal changed the upgrade: %+v", u)
	}
}

// A start anyway of an upgrade with no checklist says so, not that every
// criterion was met.
func TestStartAnywayWithoutAChecklist(t *testing.T) {
	f := newReadinessFixture(t)
	f.ok(t, "bob", "schedule checkout v1 in 2h") // checkout has no checklist
	if n := len(f.upgrade(t, 1).Readiness); n != 0 {
		t.Fatalf("checkout has %d criteria", n)
	}
	got := lines(f.ok(t, "bob", "start 1 anyway just in case"))
	if !strings.Contains(got, "UPG-1 has no readiness checklist, so it simply started; anyway was not needed and is not recorded.") || strings.Contains(got, "Every readiness criterion") {
		t.Fatalf("start anyway without a checklist: %s", got)
	}
	if f.upgrade(t, 1).StartedAnyway != nil {
		t.Fatal("an unneeded anyway was recorded")
	}
}

// Reasons and notes are held to the plan's and debrief's limit, and a
// refusal changes nothing.
func TestReasonsHaveALengthLimit(t *testing.T) {
	f := newReadinessFixture(t)
	f.ok(t, "alice", schedulePayments)
	f.ok(t, "alice", "schedule payments v2.5.0 in 2h")
	long := strings.Repeat("é", bot.MaxRecordLen+1)
	ok := strings.Repeat("é", bot.MaxRecordLen)
	ctx := context.Background()
	want := "The reason is 2001 characters long; at most 2000 fit, so nothing changed."
	for _, c := range []struct {
		cmd  commands.Command
		want string
	}{
		{commands.Waive{ID: 1, Criterion: "1", Reason: long}, want},
		{commands.Unready{ID: 1, Criterion: "1", Reason: long}, want},
		{commands.Start{ID: 2, Anyway: long}, want},
		{commands.Cancel{ID: 1, Reason: long}, want},
		{commands.Extend{ID: 1, By: time.Hour, Anyway: long}, want},
		{commands.Reschedule{ID: 1, Start: f.clock.Now().Add(48 * time.Hour), Anyway: long}, want},
		{commands.Schedule{Service: "payments", Version: "v9", Start: f.clock.Now().Add(48 * time.Hour), Anyway: long}, want},
		{commands.Schedule{Service: "payments", Version: "v9", Start: f.clock.Now().Add(48 * time.Hour), Impact: long}, "The impact is 2001 characters long"},
	} {
		before, rev := len(f.st.Events()), f.upgrade(t, 1).Rev
		m := f.b.Do(ctx, who("alice"), c.cmd)
		if m.Kind != bot.KindError || !strings.Contains(lines(m), c.want) {
			t.Errorf("%T: %s, want a refusal with %q", c.cmd, lines(m), c.want)
		}
		if len(f.st.Events()) != before || f.upgrade(t, 1).Rev != rev {
			t.Errorf("%T: a refusal changed something", c.cmd)
		}
	}
	f.clock.Advance(10*24*time.Hour - 3*time.Hour)
	f.ok(t, "alice", "waive 1 1 "+ok) // the limit itself fits
	f.ok(t, "alice", "start 1 anyway hotfix")
	for _, c := range []struct {
		cmd  commands.Command
		want string
	}{
		{commands.Rollback{ID: 1, Reason: long}, want},
		{commands.Complete{ID: 1, Note: long}, "The note is 2001 characters long; at most 2000 fit, so nothing changed."},
	} {
		m := f.b.Do(ctx, who("alice"), c.cmd)
		if m.Kind != bot.KindError || !strings.Contains(lines(m), c.want) {
			t.Errorf("%T: %s, want a refusal with %q", c.cmd, lines(m), c.want)
		}
	}
	if u := f.upgrade(t, 1); u.State != bot.InProgress {
		t.Fatalf("UPG-1 is %s after refusals", u.State)
	}
}

// Waiving a waived criterion with another reason replaces the reason, with
// its decision and event; the same reason changes nothing.
func TestWaiveAgainReplacesTheReason(t *testing.T) {
	f := newReadinessFixture(t)
	f.ok(t, "alice", schedulePayments)
	f.ok(t, "alice", "waive 1 2 no canary this week")
	f.rec.Reset()
	f.clock.Advance(time.Minute)
	got := lines(f.ok(t, "dave", "waive 1 2 canary cluster is down"))
	if got != "➖ Waived 'canary green' (2) of UPG-1 payments v2.4.0 with a new reason, replacing the old one (1/3 ready)." {
		t.Fatalf("re-waive reply: %q", got)
	}
	c := f.upgrade(t, 1).Readiness[1]
	if c.State != bot.CriterionWaived || c.Reason != "canary cluster is down" || c.By != "dave" {
		t.Fatalf("criterion 2 = %+v", c)
	}
	if ev := f.events(bot.EventReadiness); len(ev) != 2 || ev[1].Data["reason"] != "canary cluster is down" {
		t.Fatalf("readiness events %+v", ev)
	}
	if n := threadLines(f.rec, bot.KindReadiness); len(n) != 1 || !strings.Contains(n[0], "@dave waived 'canary green': canary cluster is down (replacing the earlier reason: no canary this week) (1/3 ready).") {
		t.Fatalf("re-waive notice %q", n)
	}
	if log := lines(f.ok(t, "bob", "log 1")); strings.Count(log, "readiness waived · 'canary green'") != 2 {
		t.Fatalf("log:\n%s", log)
	}
	if got := lines(f.ok(t, "dave", "waive 1 2 canary cluster is down")); !strings.Contains(got, "is already waived with that reason (by @dave: canary cluster is down); nothing changed.") {
		t.Fatalf("same reason: %s", got)
	}
	if len(f.events(bot.EventReadiness)) != 2 {
		t.Fatal("the same reason made an event")
	}
}

// Rolled back after a debrief: the prompt says one is on record and that a
// new one replaces it.
func TestDebriefPromptAfterRollbackOfADebriefedUpgrade(t *testing.T) {
	f := newReadinessFixture(t)
	f.ok(t, "alice", "schedule payments v2 in 2h")
	f.ok(t, "alice", "start 1 anyway hotfix")
	f.ok(t, "alice", "complete 1")
	f.ok(t, "dave", "debrief 1 went fine")
	f.rec.Reset()
	f.ok(t, "alice", "rollback 1 errors after all")
	got := threadLines(f.rec, bot.KindDebriefPrompt)
	if len(got) != 1 {
		t.Fatalf("debrief prompts %q", got)
	}
	if miss, ok := contains(got[0], "is rolled back. A debrief is on record, written by @dave at 2026-11-22 10:00 UTC. @alice, please bring it up to date",
		"/upgrade debrief UPG-1 <text...>; the new debrief replaces it."); !ok {
		t.Fatalf("prompt lacks %q:\n%s", miss, got[0])
	}
}

// Completed, then rolled back before anyone wrote the debrief asked for at
// completion: the rollback's prompt says it replaces that request and asks
// for one debrief of both, not a second debrief as if the first were new.
func TestDebriefPromptAfterRollbackOfACompletedUpgrade(t *testing.T) {
	f := newReadinessFixture(t)
	f.ok(t, "alice", "schedule payments v2 in 2h")
	f.ok(t, "alice", "start 1 anyway hotfix")
	f.ok(t, "alice", "complete 1")
	first := threadLines(f.rec, bot.KindDebriefPrompt)
	if len(first) != 1 || !strings.Contains(first[0], "UPG-1 payments v2 is completed. @alice, please write a short debrief") {
		t.Fatalf("debrief prompts after complete %q", first)
	}
	f.rec.Reset()
	f.ok(t, "alice", "rollback 1 errors after all")
	got := threadLines(f.rec, bot.KindDebriefPrompt)
	if len(got) != 1 {
		t.Fatalf("debrief prompts after rollback %q", got)
	}
	if miss, ok := contains(got[0], "UPG-1 payments v2 is rolled back. It was completed first; the debrief asked for then is not written yet, and this request replaces it.",
		"@alice, please write one debrief covering both: what happened, why it was rolled back, and what to change next time.",
		"Press Write debrief, or type /upgrade debrief UPG-1 <text...>."); !ok {
		t.Fatalf("prompt lacks %q:\n%s", miss, got[0])
	}
	if strings.Contains(got[0], "write a short debrief") {
		t.Fatalf("the rollback's prompt asks again as if none had been asked for:\n%s", got[0])
	}
}

// The root message shows the rollback plan, or that none is on record,
// in every state that takes one for teams with a checklist, and once
// rolled back for every team (whether a plan was on record is part of a
// rollback's story); a plan recorded after the rollback says so.
func TestRootShowsTheRollbackPlan(t *testing.T) {
	f := newReadinessFixture(t)
	const none = "Rollback plan: none on record; add one with /upgrade plan UPG-%d <url or text...>"
	rootOf := func(channel string) string { return lines(lastRoot(t, f.rec, channel)) }

	// payments keeps a checklist: in progress, then rolled back.
	f.ok(t, "alice", "schedule payments v2 in 2h")
	f.ok(t, "alice", "start 1 anyway hotfix")
	f.ok(t, "alice", "rollback 1 errors")
	if r := rootOf("test:#payments"); !strings.Contains(r, strings.Replace(none, "%d", "1", 1)) {
		t.Fatalf("rolled-back root with a checklist does not say whether a plan is on record:\n%s", r)
	}
	if show := lines(f.ok(t, "bob", "show 1")); !strings.Contains(show, strings.Replace(none, "%d", "1", 1)) {
		t.Fatalf("show of the rolled-back upgrade:\n%s", show)
	}

	// checkout keeps none: not asked while it runs, but its rollback shows it.
	f.ok(t, "bob", "schedule checkout v1 in 2h")
	f.ok(t, "bob", "start 2")
	if r := rootOf("test:#checkout"); strings.Contains(r, "Rollback plan") {
		t.Fatalf("root without a checklist asks for a plan:\n%s", r)
	}
	f.ok(t, "bob", "rollback 2 broken")
	if r := rootOf("test:#checkout"); !strings.Contains(r, strings.Replace(none, "%d", "2", 1)) {
		t.Fatalf("rolled-back root without a checklist does not say whether a plan is on record:\n%s", r)
	}

	// Completed (it may still be rolled back) keeps the line; cancelled,
	// which takes no plan, has none.
	f.ok(t, "alice", "schedule payments v3 in 4h")
	f.ok(t, "alice", "start 3 anyway hotfix")
	f.ok(t, "alice", "complete 3")
	f.ok(t, "alice", "schedule payments v4 in 8h")
	f.ok(t, "alice", "cancel 4")
	f.b.Flush()
	var completed, cancelled string
	for _, s := range f.rec.All() {
		if s.Msg.Kind == bot.KindRoot && s.To == "test:#payments" {
			switch s.Msg.UpgradeID {
			case "UPG-3":
				completed = lines(s.Msg)
			case "UPG-4":
				cancelled = lines(s.Msg)
			}
		}
	}
	if !strings.Contains(completed, "State: completed") || !strings.Contains(completed, strings.Replace(none, "%d", "3", 1)) {
		t.Fatalf("completed root:\n%s", completed)
	}
	if !strings.Contains(cancelled, "State: cancelled") || strings.Contains(cancelled, "Rollback plan") {
		t.Fatalf("cancelled root:\n%s", cancelled)
	}

	// A plan recorded after the rollback is not the one the rollback had.
	f.clock.Advance(time.Hour)
	f.ok(t, "alice", "plan 1 helm rollback payments")
	if r := rootOf("test:#payments"); !strings.Contains(r, "Rollback plan: helm rollback payments — @alice, 2026-11-22 11:00 UTC (recorded after the rollback)") {
		t.Fatalf("root after a late plan:\n%s", r)
	}
}

// PlanMet splits a plan decision's met criteria back along the upgrade's
// criteria, a comma in a criterion included.
func TestPlanMetSplitsAlongTheCriteria(t *testing.T) {
	u := &bot.Upgrade{Readiness: []bot.Criterion{{Text: "rollback plan"}, {Text: "rollback plan, reviewed by SRE"}, {Text: "canary"}}}
	for joined, want := range map[string][]string{
		"rollback plan": {"rollback plan"},
		"rollback plan, rollback plan, reviewed by SRE": {"rollback plan", "rollback plan, reviewed by SRE"},
		"rollback plan, reviewed by SRE":                {"rollback plan, reviewed by SRE"},
		"gone, rollback plan":                           {"gone", "rollback plan"}, // no longer a criterion: commas
	} {
		if got := bot.PlanMet(u, bot.Decision{Action: bot.ActionPlanRecorded, Criterion: joined}); !slices.Equal(got, want) {
			t.Errorf("PlanMet(%q) = %q, want %q", joined, got, want)
		}
	}
}

// Only a criterion that asks for nothing but a plan on record is met by
// recording one: "Rollback plan on the wiki" (or "... reviewed") is for
// people to mark.
func TestPlanMeetsOnlyACriterionThatAsksForAPlan(t *testing.T) {
	f := newReadinessFixture(t)
	f.ok(t, "carol", "schedule ledger v7 at 2026-12-01 02:00 UTC")
	m := f.ok(t, "carol", "plan 1 https://runbooks.example.com/ledger/rollback")
	if got := lines(m); got != "🧭 Recorded the rollback plan of UPG-1 ledger v7." {
		t.Fatalf("reply: %q", got)
	}
	if c := f.upgrade(t, 1).Readiness[2]; c.State != bot.CriterionOpen {
		t.Fatalf("'Rollback plan on the wiki' = %+v, want it still open", c)
	}
	if ev := f.events(bot.EventReadiness); len(ev) != 0 {
		t.Fatalf("readiness events %+v", ev)
	}
}
