package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
)

// Over HTTP there is no command to type: a chat hint goes, with the
// clause that offers it.
func TestHTTPTextLeavesChatHintsOut(t *testing.T) {
	list := bot.Hint{Verb: "list"}
	at := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   bot.Text
		want string
	}{
		{bot.T("Unknown upgrade UPG-99. Try ").Command(list).Add("."), "Unknown upgrade UPG-99."},
		{bot.T("No freeze is named x-mas (known: year-end, v2.4.0); see ").Command(bot.Hint{Verb: "freeze"}).Add("."), "No freeze is named x-mas (known: year-end, v2.4.0)."},
		{bot.T("UPG-7 opens ").Time(at).Add(". To start earlier, move the window: ").Command(bot.Hint{Verb: "reschedule"}).Add(". Then start it."),
			"UPG-7 opens 2026-12-01 02:00 UTC. Then start it."},
		{bot.T("Try ").Command(list).Add(" or ").Command(bot.Hint{Verb: "show"}).Add(". Nothing else."), "Nothing else."},
		{bot.T("Unknown upgrade UPG-99; try ").Command(list), "Unknown upgrade UPG-99."},
		{bot.T("Asked ").Mention(bot.Principal{Name: "alice"}).Add(" in ").Channel("slack:C0PAY").Add(": ").Link("runbook", "https://x.example/r"),
			"Asked alice in #C0PAY: runbook (https://x.example/r)"},
	} {
		if got := httpText(c.in); got != c.want {
			t.Errorf("httpText(%q) = %q, want %q", bot.Plain{}.Text(c.in), got, c.want)
		}
	}
}

// An unknown upgrade is worded for HTTP: the API's message and the page
// say no chat command; the page links to all windows.
func TestUnknownUpgradeIsWordedForHTTP(t *testing.T) {
	srv := serveCore(t, readinessCore())
	code, _, body := call(t, srv, http.MethodGet, "/api/v1/upgrades/UPG-99")
	var e struct{ Code, Message string }
	if err := json.Unmarshal([]byte(body), &e); err != nil || code != http.StatusNotFound || e.Code != "not_found" || e.Message != "Unknown upgrade UPG-99." {
		t.Errorf("/api/v1/upgrades/UPG-99: %d %s; want 404 not_found \"Unknown upgrade UPG-99.\"", code, body)
	}
	for path, says := range map[string]string{"/upgrades/99": "Unknown upgrade UPG-99.", "/upgrades/abc": "&#34;abc&#34; is not an upgrade id"} {
		code, hdr, page := call(t, srv, http.MethodGet, path)
		if code != http.StatusNotFound || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") || !strings.Contains(page, says) ||
			!strings.Contains(page, `<a href="https://upgrades.example.com/">See all upgrade windows</a>`) || strings.Contains(page, "/upgrade list") {
			t.Errorf("%s: %d %s; want a 404 page saying %q with a link to all windows:\n%s", path, code, hdr.Get("Content-Type"), says, page)
		}
	}
}

// QA: POST / and PUT /upgrades/UPG-1 were answered 405 in plain text, and
// /upgrades/UPG-1/ 404 in plain text, where docs/status.md says the pages
// answer their errors as a page that says why and links to all windows.
func TestPagesAnswerWhatTheyDoNotTakeAsAPage(t *testing.T) {
	srv := serveCore(t, readinessCore())
	for _, c := range []struct {
		method, path string
		code         int
		allow, says  string
	}{
		{http.MethodPost, "/", http.StatusMethodNotAllowed, "GET, HEAD", "POST /: this page is only read (GET)."},
		{http.MethodPut, "/upgrades/UPG-1", http.StatusMethodNotAllowed, "GET, HEAD", "PUT /upgrades/UPG-1: this page is only read (GET)."},
		{http.MethodGet, "/upgrades/UPG-1/", http.StatusNotFound, "", "There is no page at /upgrades/UPG-1/."},
		{http.MethodPost, "/upgrades/UPG-1/x", http.StatusNotFound, "", "There is no page at /upgrades/UPG-1/x."},
	} {
		code, hdr, page := call(t, srv, c.method, c.path)
		if code != c.code || hdr.Get("Allow") != c.allow || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") || !strings.Contains(page, c.says) ||
			!strings.Contains(page, `<a href="https://upgrades.example.com/">See all upgrade windows</a>`) {
			t.Errorf("%s %s: %d Allow %q %s; want %d Allow %q, a page saying %q:\n%s", c.method, c.path, code, hdr.Get("Allow"), hdr.Get("Content-Type"), c.code, c.allow, c.says, page)
		}
	}
	// The pages themselves are still served.
	if code, _, _ := call(t, srv, http.MethodGet, "/upgrades/UPG-1"); code == http.StatusNotFound || code == http.StatusMethodNotAllowed {
		t.Errorf("GET /upgrades/UPG-1: %d", code)
	}
	if code, _, _ := call(t, srv, http.MethodGet, "/"); code != http.StatusOK {
		t.Errorf("GET /: %d", code)
	}
}

// Review: those pages were answered without the pages' own headers, so a
// ?token= in their links could be kept by a cache or sent on as a Referer;
// and /upgrades was redirected to /upgrades/ before its 404.
func TestPagesAnswerWhatTheyDoNotTakeAsThePagesDo(t *testing.T) {
	srv := serve(t, New(Options{Core: readinessCore(), Tokens: []string{"tok"}, Public: false, PublicURL: "https://upgrades.example.com"}))
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, c := range []struct {
		method, path string
		code         int
	}{
		{http.MethodGet, "/upgrades/1/?token=tok", http.StatusNotFound},
		{http.MethodPost, "/?token=tok", http.StatusMethodNotAllowed},
		{http.MethodPut, "/upgrades/1?token=tok", http.StatusMethodNotAllowed},
		{http.MethodGet, "/upgrades?token=tok", http.StatusNotFound},
		{http.MethodPost, "/upgrades/1", http.StatusUnauthorized}, // no token: as the page itself
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.code || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s %s: %d %s nosniff %q; want %d, a page", c.method, c.path, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("X-Content-Type-Options"), c.code)
		}
		if strings.Contains(c.path, "token=") && (resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Referrer-Policy") != "no-referrer") {
			t.Errorf("%s %s: Cache-Control %q, Referrer-Policy %q; want no-store, no-referrer for a page whose links carry the token",
				c.method, c.path, resp.Header.Get("Cache-Control"), resp.Header.Get("Referrer-Policy"))
		}
	}
}
