package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/internal/browsertest"
)

// failuresCore has UPG-1 with three failed deliveries: a root a later
// notice posted after all at 07:20, a thread started after all (known by
// its thread only: an older replica kept no time), and a reminder still not
// delivered.
func failuresCore() *fakeCore {
	c := readinessCore()
	u, _ := c.find(1)
	failed := c.now.Add(-time.Hour)
	u.Threads = []bot.MessageRef{{Channel: "#payments", ID: "1"}, {Channel: "#ops", ID: "2", Thread: "20"}}
	u.Failures = []bot.Failure{
		{At: failed, Notice: string(bot.KindRoot), Target: "#payments", Error: "ratelimited", PostedAt: c.now.Add(-40 * time.Minute)},
		{At: failed, Notice: string(bot.KindThread), Target: "#ops", Error: "thread refused"},
		{At: failed, Notice: string(bot.KindReminder), Target: "#payments", Error: "ratelimited"},
	}
	return c
}

// A failure made good says so in the API, by the rule show uses: resolved,
// and posted_at when known; one still not delivered has neither.
func TestFailureMadeGoodInTheAPI(t *testing.T) {
	srv := serveCore(t, failuresCore())
	body := fetch(t, srv, "/api/v1/upgrades/UPG-1")
	var u struct {
		Failures []map[string]any
	}
	if err := json.Unmarshal([]byte(body), &u); err != nil || len(u.Failures) != 3 {
		t.Fatalf("%v: %s", err, body)
	}
	for i, want := range []struct {
		resolved bool
		postedAt any
	}{{true, "2026-11-30T07:20:00Z"}, {true, nil}, {false, nil}} {
		f := u.Failures[i]
		if f["resolved"] != want.resolved || f["posted_at"] != want.postedAt {
			t.Errorf("failure %d (%s to %s): resolved %v, posted_at %v; want %v, %v", i, f["notice"], f["target"], f["resolved"], f["posted_at"], want.resolved, want.postedAt)
		}
	}
	if _, ok := u.Failures[2]["posted_at"]; ok {
		t.Errorf("the reminder still not delivered has a posted_at: %v", u.Failures[2])
	}
	matchesOpenAPI(t, srv, "/api/v1/upgrades", "/api/v1/upgrades/UPG-1")
}

// browser starts headless Chromium in the zone tz (browsertest.Start).
func browser(t *testing.T, tz string) context.Context { return browsertest.Start(t, tz) }

// The upgrade's page, in a browser, marks the failures made good as show
// does ("posted after all at …", "started after all") and counts only the
// one still not delivered; once none is, nothing asks for attention.
func TestFailureMadeGoodOnThePageInABrowser(t *testing.T) {
	c := failuresCore()
	// Without a public URL the page's links, its script too, are relative
	// (serveCore's point to upgrades.example.com).
	s := New(Options{Core: c, Tokens: []string{"tok"}, Public: true})
	mux := http.NewServeMux()
	s.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(s.Close)
	ctx := browser(t, "Europe/Berlin")
	open := func() {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1100, 800), chromedp.Navigate(srv.URL+"/upgrades/1"),
			chromedp.WaitVisible(chromedp.CSS(`html[data-local-times="1"]`))); err != nil {
			t.Fatal(err)
		}
	}
	eval := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	// What follows the heading "Failed deliveries", up to the next heading;
	// each item of its list marked by its class.
	const failed = `(() => { const h = [...document.querySelectorAll("h2")].find(h => h.textContent === "Failed deliveries"); const els = [];
		for (let el = h?.nextElementSibling; el && el.tagName !== "H2"; el = el.nextElementSibling) els.push(el); return els; })()`
	const section = failed + `.map(el => el.innerText).join("\n")`
	const items = failed + `.flatMap(el => [...el.querySelectorAll("li")]).map(li => (li.classList.contains("resolved") ? "resolved: " : "open: ") + li.innerText).join("\n")`

	open()
	text, list := eval(section), eval(items)
	// 08:20 in Berlin is 07:20 UTC: times are in the viewer's zone.
	for _, want := range []string{"⚠ 1 notice(s) could not be delivered",
		"resolved: root to #payments at", ": ratelimited (posted after all at Nov 30, 2026, 8:20",
		"resolved: thread to #ops at", ": thread refused (started after all)",
		"open: reminder to #payments at"} {
		if !strings.Contains(text+"\n"+list, want) {
			t.Errorf("the failed deliveries lack %q:\n%s\n%s", want, text, list)
		}
	}
	for _, line := range strings.Split(list, "\n") {
		if strings.Contains(line, "reminder to") && (!strings.HasPrefix(line, "open: ") || strings.Contains(line, "after all")) {
			t.Errorf("the reminder not delivered is marked resolved: %s", line)
		}
	}

	// The reminder's retry got through: nothing needs attention any more.
	u, _ := c.find(1)
	u.Failures[2].PostedAt = c.now.Add(-10 * time.Minute)
	open()
	if text := eval(section); strings.Contains(text, "could not be delivered") || !strings.Contains(text, "Each was delivered after all.") || strings.Contains(eval(items), "open: ") {
		t.Errorf("with every failure made good, the page still asks for attention:\n%s", text)
	}
}

// The page names a failed notice in words, as show does: "window open",
// not the stored "window_open" (which the API keeps as its value).
func TestFailedNoticeNamedInWordsOnThePage(t *testing.T) {
	c := failuresCore()
	u, _ := c.find(1)
	u.Failures = append(u.Failures, bot.Failure{At: c.now.Add(-time.Hour), Notice: string(bot.KindWindowOpen), Target: "#payments", Error: "ratelimited"})
	srv := serveCore(t, c)
	page := fetch(t, srv, "/upgrades/UPG-1")
	if !strings.Contains(page, "window open to #payments") || strings.Contains(page, "window_open") {
		t.Errorf("the page does not name the window-open notice in words:\n%s", page)
	}
	if api := fetch(t, srv, "/api/v1/upgrades/UPG-1"); !strings.Contains(api, `"notice":"window_open"`) {
		t.Errorf("the API's notice value changed: %s", api)
	}
}
