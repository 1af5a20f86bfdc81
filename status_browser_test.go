package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/upgradebot/upgradebot/internal/browsertest"
)

// browser starts headless Chromium in the zone tz (browsertest.Start).
func browser(t *testing.T, tz string) context.Context { return browsertest.Start(t, tz) }

// TestStatusPageInABrowser: the status page as a person sees it in a real
// browser, on a desk and on a phone: the running upgrade with its state,
// acknowledgment progress and blast radius, times in the viewer's own zone.
func TestStatusPageInABrowser(t *testing.T) {
	s := startStatusServeWith(t, serveSetup{public: true, edit: func(c string) string {
		c = strings.Replace(c, "name = \"payments\"\n", "name = \"payments\"\nreadiness = [\"backups verified\"]\n", 1)
		return strings.Replace(c, "name = \"ledger\"\n", "name = \"ledger\"\nreadiness = [\"backups verified\", \"replica lag < 5s\"]\n", 1)
	}})
	s.slash("U0ALICE", `schedule payments v2.4.0 in 30m for 2h region eu-west impact "card payments may fail"`)
	s.slash("U0ALICE", "ready UPG-1 1")
	s.slash("U0ALICE", "start UPG-1")
	s.slash("U0BOB", "schedule ledger v9 in 26h for 1h region us-east")
	s.slash("U0BOB", "ready UPG-2 1")
	s.slash("U0BOB", "schedule checkout v3 in 50h for 1h")
	s.slash("U0BOB", "ack UPG-1")
	ctx := browser(t, "America/New_York")

	url := s.base + "/"
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1100, 800), chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS(`html[data-local-times="1"]`))); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	zone, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("zone")))
	if err != nil {
		t.Fatal(err)
	}
	firstTime, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("article.row time")))
	if err != nil {
		t.Fatal(err)
	}
	screenshot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1 running", "2 upcoming in 30 days", "UPG-1 payments v2.4.0", "in progress", "1/1 ready",
		"Acknowledged 1/2", "Blast radius: checkout", "ledger", "us-east", "1/2 ready", "UPG-3 checkout v3"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page does not show %q:\n%s", want, text)
		}
	}
	if zone != "America/New_York" || strings.HasSuffix(firstTime, "UTC") {
		t.Errorf("times are not in the viewer's zone: zone %q, first time %q", zone, firstTime)
	}
	if p := os.Getenv("UPGRADEBOT_SCREENSHOT"); p != "" {
		if err := os.WriteFile(p, screenshot, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// On a phone: nothing wider than the screen; the upgrade's page has its log.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(s.base+"/upgrades/1"),
		chromedp.WaitVisible(chromedp.CSS(`html[data-local-times="1"]`))); err != nil {
		t.Fatal(err)
	}
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > document.documentElement.clientWidth`))
	if err != nil {
		t.Fatal(err)
	}
	log, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("ol.log")))
	if err != nil {
		t.Fatal(err)
	}
	if overflow {
		t.Error("the upgrade's page is wider than a phone's screen")
	}
	for _, want := range []string{"alice · scheduled", "alice · started", "bob · acknowledged · brief"} {
		if !strings.Contains(log, want) {
			t.Errorf("the decision log lacks %q:\n%s", want, log)
		}
	}
}

// TestStatusPageLongTextOnAPhone: a release named after a build (one long
// word) and an impact that is a long URL must wrap on a phone, on the status
// page and on the upgrade's page, not push the page wider than the screen.
func TestStatusPageLongTextOnAPhone(t *testing.T) {
	s := startStatusServeWith(t, serveSetup{public: true})
	s.slash("U0ALICE", `schedule payments v2.5.0-build.20261202.abcdef0123456789abcdef0123456789abcdef01 in 5h for 1h region eu-west impact "see https://wiki.example.com/display/OPS/Payments+maintenance+runbook+for+the+december+window+and+everything+after"`)
	ctx := browser(t, "UTC")
	for _, path := range []string{"/", "/upgrades/1"} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile), chromedp.Navigate(s.base+path),
			chromedp.WaitVisible(chromedp.CSS(`html[data-local-times="1"]`))); err != nil {
			t.Fatal(err)
		}
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, "abcdef01") {
			t.Fatalf("%s does not show the upgrade:\n%s", path, text)
		}
		widths, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, document.documentElement.clientWidth]`))
		if err != nil {
			t.Fatal(err)
		}
		if widths[0] > widths[1] {
			t.Errorf("%s is %dpx wide on a %dpx phone: long text does not wrap", path, widths[0], widths[1])
		}
	}
}

// TestStatusPageEveryTimeInTheViewersZone: the timeline's end labels and
// the decision log's window are in the viewer's zone, as the page's other
// times are, not UTC days and a "window … UTC" text. The zone is one
// where the day differs from UTC's now (UTC-11 before 10:00 UTC, UTC+14
// from then on), so a label left in UTC shows.
func TestStatusPageEveryTimeInTheViewersZone(t *testing.T) {
	s := startStatusServeWith(t, serveSetup{public: true})
	s.slash("U0ALICE", "schedule payments v2.4.0 in 30m for 2h")
	tz := "Pacific/Kiritimati"
	if time.Now().UTC().Hour() < 10 {
		tz = "Pacific/Pago_Pago"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		t.Fatal(err)
	}
	ctx := browser(t, tz)
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/"), chromedp.WaitVisible(chromedp.CSS(`html[data-local-times="1"]`))); err != nil {
		t.Fatal(err)
	}
	// The timeline runs from 7 days before the page's "as of" time to 30
	// days after it.
	asOf, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("footer time").getAttribute("datetime")`))
	if err != nil {
		t.Fatal(err)
	}
	labels, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".axis > span:not(.now)")].map(e => e.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	titles, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".axis > span:not(.now)")].map(e => e.querySelector("[title]")?.title ?? "")`))
	if err != nil {
		t.Fatal(err)
	}
	at, err := time.Parse(time.RFC3339, asOf)
	if err != nil {
		t.Fatal(err)
	}
	if len(labels) != 2 {
		t.Fatalf("the timeline has %d end labels, want 2: %q", len(labels), labels)
	}
	for i, end := range []time.Time{at.Add(-7 * 24 * time.Hour), at.Add(30 * 24 * time.Hour)} {
		if want := end.In(loc).Format("Jan 2"); labels[i] != want {
			t.Errorf("the timeline's end %d reads %q, want %q (the day in %s; UTC's is %s)", i+1, labels[i], want, tz, end.UTC().Format("Jan 2"))
		}
		if !strings.HasSuffix(titles[i], "UTC") {
			t.Errorf("the timeline's end %d keeps no UTC time on hover: title %q", i+1, titles[i])
		}
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/upgrades/1"), chromedp.WaitVisible(chromedp.CSS(`html[data-local-times="1"]`))); err != nil {
		t.Fatal(err)
	}
	window, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("dl dd time")))
	if err != nil {
		t.Fatal(err)
	}
	log, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("ol.log li")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log, "scheduled · window "+window+" to ") || strings.Contains(log, "UTC") {
		t.Errorf("the decision log's window is not in the viewer's zone as the Window above (%q):\n%s", window, log)
	}
}

// TestStatusPageFollowsADarkSystemTheme: a viewer whose system is dark
// (prefers-color-scheme: dark) gets the page on a dark ground with light
// text; the state labels stay white on their colours. The colours'
// contrast in both schemes is adapters/web's TestTextContrastInBothSchemes.
func TestStatusPageFollowsADarkSystemTheme(t *testing.T) {
	s := startStatusServeWith(t, serveSetup{public: true})
	s.slash("U0ALICE", "schedule payments v2.4.0 in 30m for 2h")
	ctx := browser(t, "UTC")
	colours := func() []string {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/"), chromedp.WaitVisible(chromedp.CSS(`html[data-local-times="1"]`))); err != nil {
			t.Fatal(err)
		}
		c, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
			`[document.body, document.querySelector("a.title"), document.querySelector(".state")].map(e => getComputedStyle(e).color + " on " + getComputedStyle(e).backgroundColor)`))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	light := colours()
	if want := "rgb(29, 35, 48) on rgb(255, 255, 255)"; light[0] != want {
		t.Errorf("the page in a light system theme: %q, want %q", light[0], want)
	}
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	dark := colours()
	if want := "rgb(228, 231, 236) on rgb(16, 24, 40)"; dark[0] != want {
		t.Errorf("the page in a dark system theme: %q, want light text on a dark ground %q", dark[0], want)
	}
	if !strings.HasPrefix(dark[1], "rgb(132, 173, 255)") {
		t.Errorf("a link in the dark theme is %q, want the dark scheme's link colour rgb(132, 173, 255)", dark[1])
	}
	if dark[2] != light[2] || !strings.HasPrefix(dark[2], "rgb(255, 255, 255) on ") {
		t.Errorf("the state label changed with the theme: %q in light, %q in dark", light[2], dark[2])
	}
}
