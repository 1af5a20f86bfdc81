package main

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/chromedp/chromedp"
)

// startReadinessServe is the status serve with readiness checklists:
// payments ["backups verified", "canary green", "rollback plan"] (alice
// owns it), ledger ["backups verified", "replica lag < 5s"] and checkout
// ["canary green"] (bob's); bob is an admin.
func startReadinessServe(t *testing.T) *statusServe {
	t.Helper()
	return startStatusServeWith(t, serveSetup{public: true, edit: func(c string) string {
		for svc, list := range map[string]string{
			"ledger":   `["backups verified", "replica lag < 5s"]`,
			"payments": `["backups verified", "canary green", "rollback plan"]`,
			"checkout": `["canary green"]`,
		} {
			c = strings.Replace(c, "name = \""+svc+"\"\n", "name = \""+svc+"\"\nreadiness = "+list+"\n", 1)
		}
		return "admins = [\"bob\"]\n" + c
	}})
}

// readinessStory, with the readiness commands: UPG-1 payments cannot start
// while criteria are open; bob marks one met, alice's rollback plan meets
// another, alice waives the third; it starts, completes and gets bob's
// debrief. UPG-2 ledger (tomorrow) has one of two criteria met; UPG-3
// checkout is started anyway by bob with one open, its plan not a link.
func readinessStory(t *testing.T, s *statusServe) {
	t.Helper()
	say := func(user, text, want string) {
		t.Helper()
		if got := s.slash(user, text); !strings.Contains(got, want) {
			t.Fatalf("%s: %q, want %q", text, got, want)
		}
	}
	say("U0ALICE", `schedule payments v2.4.0 in 30m for 2h region eu-west impact "card payments may fail"`, "Scheduled UPG-1")
	say("U0BOB", "schedule ledger v9 in 26h for 1h region us-east", "Scheduled UPG-2")
	say("U0BOB", "schedule checkout v3 in 40m for 1h", "Scheduled UPG-3")
	say("U0ALICE", "start UPG-1", "canary green")
	say("U0BOB", "ready UPG-1 1", "backups verified")
	say("U0ALICE", "plan UPG-1 https://wiki.example.com/runbooks/payments-rollback?step=1&who=ops", "rollback plan")
	say("U0BOB", "ready UPG-2 backups", "backups verified")
	say("U0BOB", "plan UPG-3 javascript:alert(document.domain) <img src=x onerror=alert(1)> then helm rollback checkout", "rollback plan")
	say("U0BOB", "start UPG-3 anyway hotfix for the outage", "anyway")
}

// finishUPG1 waives UPG-1's last criterion, starts and completes it, and
// records bob's debrief.
func finishUPG1(t *testing.T, s *statusServe) {
	t.Helper()
	for _, c := range []struct{ user, text, want string }{
		{"U0ALICE", "waive UPG-1 2 canary cluster is down; staged rollout instead", "canary green"},
		{"U0ALICE", "start UPG-1", "Started"},
		{"U0ALICE", "complete UPG-1 went fine", "Completed"},
		{"U0BOB", "debrief UPG-1 Went fine. Next time: warm the caches first, see https://notes.example.com/upg-1", "debrief"},
	} {
		if got := s.slash(c.user, c.text); !strings.Contains(got, c.want) {
			t.Fatalf("%s: %q, want %q", c.text, got, c.want)
		}
	}
}

func TestReadinessOnTheStatusSurface(t *testing.T) {
	s := startReadinessServe(t)
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

	finishUPG1(t, s)
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
	s := startReadinessServe(t)
	readinessStory(t, s)
	finishUPG1(t, s)
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
	if p := text(".plan"); p != "javascript:alert(document.domain) <img src=x onerror=alert(1)> then helm rollback checkout" {
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
