package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/chromedp/chromedp"

	"github.com/upgradebot/upgradebot/commands"
)

// windowsServe is the status serve with payments given a standard window
// two days from now (the serve runs on the real clock), a freeze of the
// configuration over its next occurrence, and bob an admin. It returns the
// window's next two occurrences.
func windowsServe(t *testing.T) (*statusServe, []commands.Occurrence) {
	t.Helper()
	now := time.Now().UTC()
	spec := strings.ToLower(now.Add(48 * time.Hour).Weekday().String()[:3]) + " 02:00-05:00 UTC"
	w, err := commands.ParseWindow(spec, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	occ := w.Occurrences(now.Add(time.Hour), now.Add(15*24*time.Hour))
	if occ[0].Start.Before(now) {
		occ = occ[1:]
	}
	freeze := fmt.Sprintf("\n[[freezes]]\nname = \"release-week\"\nfrom = %q\nto = %q\nservices = [\"*\"]\nreason = \"quarterly release\"\n",
		occ[0].Start.Add(-time.Hour).Format(time.RFC3339), occ[0].End.Add(time.Hour).Format(time.RFC3339))
	s := startStatusServeWith(t, serveSetup{public: true, extra: freeze, edit: func(c string) string {
		c = strings.Replace(c, "depends_on = [\"ledger\"]\n", "depends_on = [\"ledger\"]\nwindows = [\""+spec+"\"]\n", 1)
		return "admins = [\"bob\"]\n" + c
	}})
	return s, occ[:2]
}

// TestWindowsAndFreezesOnTheStatusSurface: the API of standard windows and
// freezes (validated against the OpenAPI document), the upgrade's warnings,
// the calendar's events and the page's bands, on a running serve.
func TestWindowsAndFreezesOnTheStatusSurface(t *testing.T) {
	s, occ := windowsServe(t)
	type windowsT struct {
		Service string
		Windows []struct {
			Text, Weekday, Start, End string
			TimeZone                  string `json:"time_zone"`
		}
		Upcoming []struct {
			Start    time.Time
			Free     bool
			FrozenBy []struct{ Name string } `json:"frozen_by"`
			BusyWith []struct{ ID string }   `json:"busy_with"`
		}
	}
	code, _, body := s.get("/api/v1/services/PAYMENTS/windows?count=3", statusToken)
	w := decodeJSON[windowsT](t, body)
	if code != http.StatusOK || w.Service != "payments" || len(w.Windows) != 1 || w.Windows[0].Start != "02:00" || w.Windows[0].TimeZone != "UTC" || len(w.Upcoming) != 3 {
		t.Fatalf("windows: %d %s", code, body)
	}
	if u := w.Upcoming[0]; !u.Start.Equal(occ[0].Start) || u.Free || len(u.FrozenBy) != 1 || u.FrozenBy[0].Name != "release-week" {
		t.Fatalf("the frozen window: %+v", u)
	}
	if u := w.Upcoming[1]; !u.Start.Equal(occ[1].Start) || !u.Free {
		t.Fatalf("the next window: %+v", u)
	}

	// next takes the free one; the API then shows it busy.
	if txt := s.slash("U0ALICE", "schedule payments v2.5.0 next for 2h"); !strings.Contains(txt, "Scheduled UPG-1") || !strings.Contains(txt, "frozen by release-week") {
		t.Fatalf("next: %s", txt)
	}
	_, _, body = s.get("/api/v1/services/payments/windows?count=2", statusToken)
	if u := decodeJSON[windowsT](t, body).Upcoming[1]; u.Free || len(u.BusyWith) != 1 || u.BusyWith[0].ID != "UPG-1" {
		t.Fatalf("the window taken: %s", body)
	}
	for _, q := range []string{"count=0", "count=53", "count=x"} {
		if code, _, body := s.get("/api/v1/services/payments/windows?"+q, statusToken); code != http.StatusBadRequest {
			t.Errorf("?%s: %d %s", q, code, body)
		}
	}
	if code, _, _ := s.get("/api/v1/services/nope/windows", statusToken); code != http.StatusNotFound {
		t.Errorf("an unknown service: %d", code)
	}
	if code, _, _ := s.get("/api/v1/services/payments/windows", ""); code != http.StatusUnauthorized {
		t.Errorf("without a token: %d", code)
	}
	_, _, body = s.get("/api/v1/services/ledger/windows", statusToken)
	if l := decodeJSON[windowsT](t, body); len(l.Windows) != 0 || len(l.Upcoming) != 0 {
		t.Errorf("ledger has no standard windows: %s", body)
	}

	// Outside the standard window: the upgrade carries the warning.
	s.slash("U0ALICE", "schedule payments v2.6.0 in 30m for 1h")
	_, _, body = s.get("/api/v1/upgrades/UPG-2", statusToken)
	up := decodeJSON[struct {
		Warnings []struct{ Kind, Text string }
	}](t, body)
	if len(up.Warnings) != 1 || up.Warnings[0].Kind != "outside_windows" || !strings.Contains(up.Warnings[0].Text, "Outside payments' standard windows") {
		t.Fatalf("UPG-2's warnings: %s", body)
	}

	// Freezes: the configuration's and an admin's.
	if txt := s.slash("U0BOB", "freeze add ledger-audit for 2d services ledger regions eu-west reason external audit"); !strings.Contains(txt, "Declared freeze ledger-audit") {
		t.Fatalf("freeze add: %s", txt)
	}
	type freezesT struct {
		Freezes []struct {
			Name, Source      string
			CreatedBy         string `json:"created_by"`
			Services, Regions []string
			HoldsNow          bool `json:"holds_now"`
		}
	}
	_, _, body = s.get("/api/v1/freezes", statusToken)
	fs := decodeJSON[freezesT](t, body)
	if len(fs.Freezes) != 2 {
		t.Fatalf("freezes: %s", body)
	}
	for _, f := range fs.Freezes {
		switch f.Name {
		case "release-week":
			if f.Source != "configuration" || f.Services[0] != "*" || f.HoldsNow {
				t.Errorf("release-week: %+v", f)
			}
		case "ledger-audit":
			if f.Source != "command" || !f.HoldsNow || f.Regions[0] != "eu-west" {
				t.Errorf("ledger-audit: %+v", f)
			}
		}
	}
	_, _, body = s.get("/api/v1/freezes?service=payments", statusToken)
	if p := decodeJSON[freezesT](t, body); len(p.Freezes) != 1 || p.Freezes[0].Name != "release-week" {
		t.Errorf("?service=payments: %s", body)
	}
	s.slash("U0BOB", "freeze remove ledger-audit done early")
	_, _, body = s.get("/api/v1/freezes?all=true", statusToken)
	if a := decodeJSON[freezesT](t, body); len(a.Freezes) != 2 || !bytes.Contains(body, []byte(`"removed_reason":"done early"`)) {
		t.Errorf("?all=true: %s", body)
	}
	for _, q := range []string{"all=maybe", "service=nope"} {
		if code, _, _ := s.get("/api/v1/freezes?"+q, statusToken); code != http.StatusBadRequest {
			t.Errorf("?%s: %d", q, code)
		}
	}

	// The calendar: the standard windows and the freeze, events of their own.
	_, _, body = s.get("/calendar.ics", "")
	cal, err := ics.ParseCalendar(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the calendar does not parse: %v\n%s", err, body)
	}
	var windows, freezes int
	for _, e := range cal.Events() {
		summary := e.GetProperty(ics.ComponentPropertySummary).Value
		switch {
		case summary == "Standard window: payments":
			windows++
			if e.GetProperty(ics.ComponentPropertyTransp).Value != "TRANSPARENT" {
				t.Errorf("a standard window blocks time: %+v", e.Properties)
			}
		case summary == "Change freeze: release-week":
			freezes++
			if start, _ := e.GetStartAt(); !start.Equal(occ[0].Start.Add(-time.Hour)) {
				t.Errorf("the freeze starts %v", start)
			}
		}
	}
	if windows < 8 || freezes != 1 {
		t.Errorf("calendar: %d standard windows, %d freezes\n%s", windows, freezes, body)
	}
	_, _, body = s.get("/calendar.ics?service=ledger", "")
	if bytes.Contains(body, []byte("Standard window: payments")) || !bytes.Contains(body, []byte("Change freeze: release-week")) {
		t.Errorf("?service=ledger: %s", body)
	}

	// The page: the freeze as a band, payments' standard windows on its track.
	code, _, body = s.get("/", "")
	for _, want := range []string{"Change freezes", "release-week", "band freeze", "band window", "Standard windows: " + w.Windows[0].Text} {
		if code != http.StatusOK || !bytes.Contains(body, []byte(want)) {
			t.Fatalf("the page lacks %q:\n%s", want, body)
		}
	}
	code, _, body = s.get("/upgrades/2", "")
	if code != http.StatusOK || !bytes.Contains(body, []byte("Outside payments&#39; standard windows")) {
		t.Fatalf("the upgrade page lacks the warning:\n%s", body)
	}
}

// TestWindowsOnTheStatusPageInABrowser: in a real browser, the freeze and
// payments' standard windows are bands on the timeline, named beside it,
// and nothing is wider than a phone's screen.
func TestWindowsOnTheStatusPageInABrowser(t *testing.T) {
	s, _ := windowsServe(t)
	s.slash("U0ALICE", "schedule payments v2.5.0 next for 2h")
	s.slash("U0BOB", "schedule ledger v9 in 26h for 1h")
	ctx := browser(t, "Europe/Berlin")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1100, 800), chromedp.Navigate(s.base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`html[data-local-times="1"]`))); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	bands, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".band")].map(b => b.className + " " + Math.round(b.getBoundingClientRect().width))`))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Change freezes", "release-week", "quarterly release", "Standard windows: ", "UPG-1 payments v2.5.0"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page does not show %q:\n%s", want, text)
		}
	}
	var windows, freezes int
	for _, b := range bands {
		switch {
		case strings.HasPrefix(b, "band window ") && !strings.HasSuffix(b, " 0"):
			windows++
		case strings.HasPrefix(b, "band freeze ") && !strings.HasSuffix(b, " 0"):
			freezes++
		}
	}
	if windows < 4 || freezes < 2 { // the freeze on its own track and on payments'
		t.Errorf("bands drawn: %v", bands)
	}
	if p := os.Getenv("UPGRADEBOT_SCREENSHOT"); p != "" {
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err == nil {
			err = os.WriteFile(p, shot, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(s.base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`html[data-local-times="1"]`))); err != nil {
		t.Fatal(err)
	}
	if overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); err != nil || overflow {
		t.Errorf("the page is wider than a phone's screen (%v)", err)
	}
}
