package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/chromedp/chromedp"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/store"
	"github.com/upgradebot/upgradebot/store/storetest"
)

// readinessEditor changes upgrades in a serve's store as the core's
// readiness commands do (criteria met or waived, a plan or a debrief
// recorded), each change with its decision; the status surface reads them
// like any other change.
type readinessEditor struct {
	t  *testing.T
	st *store.Store
}

func (s *statusServe) readinessEditor(t *testing.T) readinessEditor {
	return readinessEditor{t: t, st: storetest.Open(t, s.redis)}
}

// edit applies change to the stored upgrade and saves it with the decision
// change returns, again when the serve saved the upgrade meanwhile.
func (e readinessEditor) edit(id int, change func(u *bot.Upgrade, now time.Time) bot.Decision) {
	e.t.Helper()
	for range 50 {
		u, err := e.st.Get(context.Background(), id)
		if err != nil {
			e.t.Fatal(err)
		}
		now := time.Now().UTC()
		d := change(u, now)
		d.At = now
		u.Rev++
		u.UpdatedAt = now
		err = e.st.Update(context.Background(), u, d)
		if errors.Is(err, bot.ErrConflict) {
			continue
		}
		if err != nil {
			e.t.Fatal(err)
		}
		return
	}
	e.t.Fatalf("UPG-%d kept changing under the test", id)
}

// criteria gives an upgrade its checklist, all open (as scheduling copies
// the service's).
func (e readinessEditor) criteria(id int, texts ...string) {
	e.edit(id, func(u *bot.Upgrade, _ time.Time) bot.Decision {
		u.Readiness = nil
		for _, t := range texts {
			u.Readiness = append(u.Readiness, bot.Criterion{Text: t, State: bot.CriterionOpen})
		}
		return bot.Decision{}
	})
}

func (e readinessEditor) mark(id, n int, who, state, reason string) {
	e.edit(id, func(u *bot.Upgrade, now time.Time) bot.Decision {
		c := &u.Readiness[n-1]
		c.State, c.By, c.At, c.Reason = state, who, now, reason
		action := map[string]string{bot.CriterionMet: bot.ActionReadinessMet, bot.CriterionWaived: bot.ActionReadinessWaived}[state]
		return bot.Decision{Actor: who, Action: action, Criterion: c.Text, Reason: reason}
	})
}

func (e readinessEditor) plan(id int, who, text string) {
	e.edit(id, func(u *bot.Upgrade, now time.Time) bot.Decision {
		u.Plan = &bot.Record{Text: text, By: who, At: now}
		for i, c := range u.Readiness {
			if c.State == bot.CriterionOpen && strings.Contains(c.Text, "rollback plan") && !strings.Contains(c.Text, "review") {
				u.Readiness[i] = bot.Criterion{Text: c.Text, State: bot.CriterionMet, By: who, At: now, Auto: true}
			}
		}
		return bot.Decision{Actor: who, Action: bot.ActionPlanRecorded}
	})
}

func (e readinessEditor) debrief(id int, who, text string) {
	e.edit(id, func(u *bot.Upgrade, now time.Time) bot.Decision {
		u.Debrief = &bot.Record{Text: text, By: who, At: now}
		return bot.Decision{Actor: who, Action: bot.ActionDebriefRecorded}
	})
}

// startAnyway starts an upgrade with its open criteria.
func (e readinessEditor) startAnyway(id int, who, reason string) {
	e.edit(id, func(u *bot.Upgrade, now time.Time) bot.Decision {
		a := &bot.Anyway{Reason: reason}
		for _, c := range u.Readiness {
			if c.State == bot.CriterionOpen {
				a.Open = append(a.Open, c.Text)
			}
		}
		u.State, u.StartedAt, u.StartedAnyway = bot.InProgress, now, a
		return bot.Decision{Actor: who, Action: bot.ActionStarted, Reason: reason}
	})
}

// readinessStory: UPG-1 payments gets three criteria, one met by bob, one
// met by the rollback plan alice records, one waived by alice; it starts,
// completes and gets bob's debrief. UPG-2 ledger (tomorrow) has one of two
// criteria met; UPG-3 checkout was started anyway with one open, its plan
// not a link.
func readinessStory(t *testing.T, s *statusServe) {
	t.Helper()
	s.slash("U0ALICE", `schedule payments v2.4.0 in 30m for 2h region eu-west impact "card payments may fail"`)
	s.slash("U0BOB", "schedule ledger v9 in 26h for 1h region us-east")
	s.slash("U0BOB", "schedule checkout v3 in 2h for 1h")
	e := s.readinessEditor(t)
	e.criteria(1, "backups verified", "canary green", "rollback plan")
	e.mark(1, 1, "bob", bot.CriterionMet, "")
	e.plan(1, "alice", "https://wiki.example.com/runbooks/payments-rollback?step=1&who=ops")
	e.criteria(2, "backups verified", "replica lag < 5s")
	e.mark(2, 1, "bob", bot.CriterionMet, "")
	e.criteria(3, "canary green")
	e.plan(3, "bob", "javascript:alert(document.domain) <img src=x onerror=alert(1)>\nthen helm rollback checkout")
	e.startAnyway(3, "bob", "hotfix for the outage")
}

func TestReadinessOnTheStatusSurface(t *testing.T) {
	s := startStatusServe(t, true)
	readinessStory(t, s)
	// Every answer below is validated against the OpenAPI document (get).
	type upgradeT struct {
		ID        string
		Readiness []struct {
			Number                       int
			Criterion, State, By, Reason string
			At                           *time.Time
			Auto                         bool
		}
		Ready        bool
		RollbackPlan *struct {
			Text, By string
			At       time.Time
		} `json:"rollback_plan"`
		StartedAnyway *struct {
			Open   []string
			Reason string
		} `json:"started_anyway"`
		Debrief *struct{ Text, By string }
	}
	get := func(id string) upgradeT {
		code, _, body := s.get("/api/v1/upgrades/"+id, statusToken)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", id, code, body)
		}
		return decodeJSON[upgradeT](t, body)
	}
	u := get("UPG-1")
	if len(u.Readiness) != 3 || u.Ready || u.RollbackPlan == nil || u.RollbackPlan.By != "alice" || u.StartedAnyway != nil || u.Debrief != nil {
		t.Fatalf("UPG-1 before the waiver: %+v", u)
	}
	if c := u.Readiness[0]; c.Number != 1 || c.State != "met" || c.By != "bob" || c.At == nil || c.Auto {
		t.Errorf("backups verified: %+v", c)
	}
	if c := u.Readiness[1]; c.State != "open" || c.By != "" || c.At != nil {
		t.Errorf("canary green: %+v", c)
	}
	if c := u.Readiness[2]; c.State != "met" || c.By != "alice" || !c.Auto {
		t.Errorf("rollback plan, met by recording one: %+v", c)
	}

	cal := func() *ics.VEvent {
		_, _, body := s.get("/calendar.ics", "")
		c, err := ics.ParseCalendar(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("the calendar does not parse: %v\n%s", err, body)
		}
		for _, e := range c.Events() {
			if e.GetProperty(ics.ComponentPropertySummary).Value == "UPG-1 payments v2.4.0" {
				return e
			}
		}
		t.Fatalf("no event of UPG-1:\n%s", body)
		return nil
	}
	ev := cal()
	desc, seq := ev.GetProperty(ics.ComponentPropertyDescription).Value, ev.GetProperty(ics.ComponentPropertySequence).Value
	for _, want := range []string{"Readiness: 2/3 ready; open: canary green\n", `Rollback plan: https://wiki.example.com/runbooks/payments-rollback?step=1&who=ops`} {
		if !strings.Contains(desc, want) {
			t.Errorf("the calendar's description lacks %q: %q", want, desc)
		}
	}

	s.readinessEditor(t).mark(1, 2, "alice", bot.CriterionWaived, "canary cluster is down; staged rollout instead")
	if txt := s.slash("U0ALICE", "start UPG-1"); !strings.Contains(txt, "Started") {
		t.Fatalf("start: %s", txt)
	}
	s.slash("U0ALICE", "complete UPG-1 went fine")
	s.readinessEditor(t).debrief(1, "bob", "Went fine. Next time: warm the caches first, see https://notes.example.com/upg-1")
	u = get("1")
	if !u.Ready || u.Readiness[1].State != "waived" || u.Readiness[1].Reason != "canary cluster is down; staged rollout instead" || u.Debrief == nil || u.Debrief.By != "bob" {
		t.Errorf("UPG-1 after the waiver and the debrief: %+v", u)
	}
	ev = cal()
	desc = ev.GetProperty(ics.ComponentPropertyDescription).Value
	if !strings.Contains(desc, "Readiness: 3/3 ready\n") || !strings.Contains(desc, "Debrief: Went fine. Next time: warm the caches first, see https://notes.example.com/upg-1\n") {
		t.Errorf("the calendar's description after the debrief: %q", desc)
	}
	if got := ev.GetProperty(ics.ComponentPropertySequence).Value; atoi(got) <= atoi(seq) {
		t.Errorf("SEQUENCE after readiness changes: %s, was %s", got, seq)
	}
	u = get("UPG-3")
	if a := u.StartedAnyway; u.Ready || a == nil || len(a.Open) != 1 || a.Open[0] != "canary green" || a.Reason != "hotfix for the outage" {
		t.Errorf("UPG-3 started anyway: %+v", u)
	}
	// The list carries the same fields.
	_, _, body := s.get("/api/v1/upgrades", statusToken)
	list := decodeJSON[struct{ Upgrades []upgradeT }](t, body)
	if len(list.Upgrades) != 3 || list.Upgrades[2].ID != "UPG-2" || len(list.Upgrades[2].Readiness) != 2 || list.Upgrades[2].Ready {
		t.Errorf("the list: %s", body)
	}

	// The feed words the readiness changes.
	_, _, body = s.get("/feed.atom", "")
	var feed struct {
		Entries []struct {
			Title   string `xml:"title"`
			Summary string `xml:"summary"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(body, &feed); err != nil {
		t.Fatal(err)
	}
	titles := map[string]string{}
	for _, e := range feed.Entries {
		titles[e.Title] = e.Summary
	}
	for title, want := range map[string]string{
		"UPG-1 payments v2.4.0 criterion met: backups verified": "criterion met by bob: backups verified.",
		"UPG-1 payments v2.4.0 criterion waived: canary green":  "Why: canary cluster is down; staged rollout instead",
		"UPG-1 payments v2.4.0 rollback plan recorded":          "Rollback plan: https://wiki.example.com/runbooks/payments-rollback?step=1&who=ops",
		"UPG-1 payments v2.4.0 debrief recorded":                "Debrief: Went fine.",
		"UPG-3 checkout v3 started anyway":                      "Why: hotfix for the outage",
	} {
		if got, ok := titles[title]; !ok || !strings.Contains(got, want) {
			t.Errorf("the feed's %q: %q, want %q; entries: %v", title, got, want, titles)
		}
	}
}

// TestReadinessPagesInABrowser: what a person sees of readiness in a real
// browser: the badges on the timeline, and on an upgrade's page the
// checklist, the rollback plan (a link only when it is an http(s) URL,
// markup shown as text), a start taken anyway, the debrief and the log.
func TestReadinessPagesInABrowser(t *testing.T) {
	s := startStatusServe(t, true)
	readinessStory(t, s)
	s.readinessEditor(t).mark(1, 2, "alice", bot.CriterionWaived, "canary cluster is down; staged rollout instead")
	s.slash("U0ALICE", "start UPG-1")
	s.slash("U0ALICE", "complete UPG-1")
	s.readinessEditor(t).debrief(1, "bob", "Went fine. Next time: warm the caches first, see https://notes.example.com/upg-1")
	ctx := browser(t, "Europe/Berlin")

	open := func(path string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1100, 800), chromedp.Navigate(s.base+path),
			chromedp.WaitVisible(chromedp.CSS(`html[data-local-times="1"]`))); err != nil {
			t.Fatal(err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return v
	}
	eval := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}

	// The timeline: a badge on each active upgrade with criteria.
	open("/")
	badges := eval(`[...document.querySelectorAll("article.row")].map(r => r.querySelector(".title").textContent + ": " + (r.querySelector(".readiness")?.textContent ?? "none")).join("\n")`)
	for _, want := range []string{"UPG-1 payments v2.4.0: none", "UPG-2 ledger v9: 1/2 ready", "UPG-3 checkout v3: not ready · 0/1"} {
		if !strings.Contains(badges, want) {
			t.Errorf("the timeline's badges lack %q:\n%s", want, badges)
		}
	}

	// UPG-1: the checklist, the plan as a link, the debrief, the log.
	open("/upgrades/1")
	list := text("ol.checklist")
	for _, want := range []string{"backups verified · met by bob at", "canary green · waived by alice at", "· why: canary cluster is down; staged rollout instead",
		"rollback plan · met automatically, when alice recorded the rollback plan at"} {
		if !strings.Contains(list, want) {
			t.Errorf("the checklist lacks %q:\n%s", want, list)
		}
	}
	if strings.Contains(list, "UTC") {
		t.Errorf("the checklist's times are not in the viewer's zone:\n%s", list)
	}
	if link := eval(`[...document.querySelectorAll(".plan a")].map(a => a.href + " " + a.textContent).join("\n")`); link != "https://wiki.example.com/runbooks/payments-rollback?step=1&who=ops https://wiki.example.com/runbooks/payments-rollback?step=1&who=ops" {
		t.Errorf("the rollback plan's link: %q", link)
	}
	if d := text(".debrief"); d != "Went fine. Next time: warm the caches first, see https://notes.example.com/upg-1" {
		t.Errorf("the debrief: %q", d)
	}
	if link := eval(`document.querySelector(".debrief a")?.href ?? ""`); link != "https://notes.example.com/upg-1" {
		t.Errorf("the debrief's link: %q", link)
	}
	log := text("ol.log")
	for _, want := range []string{"bob · criterion met · backups verified", "alice · rollback plan recorded · https://wiki.example.com/runbooks/payments-rollback?step=1&who=ops",
		"alice · criterion waived · canary green · why: canary cluster is down; staged rollout instead", "alice · started", "bob · debrief recorded · Went fine."} {
		if !strings.Contains(log, want) {
			t.Errorf("the decision log lacks %q:\n%s", want, log)
		}
	}

	// On a phone, the long links wrap: nothing is wider than the screen.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(`html[data-local-times="1"]`))); err != nil {
		t.Fatal(err)
	}
	if wide := eval(`String(document.documentElement.scrollWidth > window.innerWidth)`); wide != "false" {
		t.Error("UPG-1's page is wider than a phone's screen")
	}

	// UPG-3: started anyway; a plan that is not an http(s) URL stays text.
	open("/upgrades/3")
	if f := text("dl.facts"); !strings.Contains(f, "Started") || strings.Contains(f, "Ended") {
		t.Errorf("UPG-3, in progress, shows an end:\n%s", f)
	}
	if a := text(".anyway"); a != "Started anyway with open: canary green · why: hotfix for the outage" {
		t.Errorf("started anyway: %q", a)
	}
	if p := text(".plan"); p != "javascript:alert(document.domain) <img src=x onerror=alert(1)>\nthen helm rollback checkout" {
		t.Errorf("the plan as text: %q", p)
	}
	if n := eval(`String(document.querySelectorAll(".plan a, .plan img").length)`); n != "0" {
		t.Errorf("the plan's text became %s elements", n)
	}
	if l := text("ol.checklist"); !strings.Contains(l, "canary green · open") {
		t.Errorf("UPG-3's checklist: %q", l)
	}
	if l := text("ol.log"); !strings.Contains(l, "bob · started anyway · with open: canary green · why: hotfix for the outage") {
		t.Errorf("UPG-3's log: %q", l)
	}
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}
