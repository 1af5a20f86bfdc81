package web

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
)

// movedCore holds UPG-1 of payments: scheduled by alice for 10:00-12:00,
// rescheduled by alice to 14:00-16:00, extended by an hour, started by bob.
func movedCore() *fakeCore {
	now := time.Date(2026, 11, 30, 14, 30, 0, 0, time.UTC)
	dir := bot.NewDirectory(bot.Config{
		Services: []bot.Service{{Name: "payments", Owners: []string{"alice"}}},
		People:   []bot.Person{{Name: "alice", IDs: []string{"slack:U0ALICE"}}, {Name: "bob", IDs: []string{"slack:U0BOB"}}},
	})
	day := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return day.Add(time.Duration(h) * time.Hour) }
	u := &bot.Upgrade{ID: 1, Service: "payments", Version: "v2.4.0", State: bot.InProgress, Start: at(14), End: at(17),
		Owners: []string{"alice"}, CreatedBy: "alice", CreatedAt: at(8), UpdatedAt: at(14), StartedAt: at(14), Rev: 4}
	log := map[int][]bot.Decision{1: {
		{At: at(8), Actor: "alice", Action: bot.ActionScheduled, Start: at(10), End: at(12)},
		{At: at(9), Actor: "alice", Action: bot.ActionRescheduled, Start: at(14), End: at(16), PrevStart: at(10), PrevEnd: at(12)},
		{At: at(13), Actor: "alice", Action: bot.ActionExtended, Start: at(14), End: at(17), By: time.Hour},
		{At: at(14), Actor: "bob", Action: bot.ActionStarted},
		{At: at(15), Actor: "alice", Action: bot.ActionLinked, Repo: "acme/payments", Tag: "v2.4.0"},
	}}
	return &fakeCore{dir: dir, now: now, ups: []*bot.Upgrade{u}, log: log}
}

type feedT struct {
	ID      string `xml:"id"`
	Title   string `xml:"title"`
	Entries []struct {
		Title   string `xml:"title"`
		Summary string `xml:"summary"`
		Link    struct {
			Href string `xml:"href,attr"`
		} `xml:"link"`
	} `xml:"entry"`
}

func readFeed(t *testing.T, srv *httptest.Server, path string, hdr ...string) feedT {
	t.Helper()
	code, _, body := call(t, srv, http.MethodGet, path, hdr...)
	var f feedT
	if err := xml.Unmarshal([]byte(body), &f); code != http.StatusOK || err != nil {
		t.Fatalf("%s: %d %v\n%s", path, code, err, body)
	}
	return f
}

// Each entry of the feed shows the window as it was when the change was
// made: a reschedule does not rewrite the entries before it.
func TestFeedEntriesKeepTheWindowOfTheirTime(t *testing.T) {
	c := movedCore()
	srv := serveCore(t, c)
	want := map[string]string{
		"UPG-1 payments v2.4.0 scheduled":                            "UPG-1 payments v2.4.0 scheduled by alice. Window 2026-11-30 10:00 to 2026-11-30 12:00 (UTC).",
		"UPG-1 payments v2.4.0 rescheduled":                          "UPG-1 payments v2.4.0 rescheduled by alice. Window 2026-11-30 14:00 to 2026-11-30 16:00 (UTC), was 2026-11-30 10:00 to 2026-11-30 12:00.",
		"UPG-1 payments v2.4.0 extended":                             "UPG-1 payments v2.4.0 extended by alice: it ends 1h later. Window 2026-11-30 14:00 to 2026-11-30 17:00 (UTC).",
		"UPG-1 payments v2.4.0 started":                              "UPG-1 payments v2.4.0 started by bob. Window 2026-11-30 14:00 to 2026-11-30 17:00 (UTC).",
		"UPG-1 payments v2.4.0 release linked: acme/payments v2.4.0": "UPG-1 payments v2.4.0 release linked by alice: acme/payments v2.4.0. Window 2026-11-30 14:00 to 2026-11-30 17:00 (UTC).",
	}
	check := func(f feedT) {
		t.Helper()
		if len(f.Entries) != len(want) {
			t.Fatalf("entries: %+v", f.Entries)
		}
		for _, e := range f.Entries {
			if e.Summary != want[e.Title] {
				t.Errorf("the entry %q says\n%q\nwant\n%q", e.Title, e.Summary, want[e.Title])
			}
		}
	}
	check(readFeed(t, srv, "/feed.atom"))

	// A log written before decisions carried their window: the scheduled
	// entry takes the window the reschedule moved.
	c.log[1][0].Start, c.log[1][0].End = time.Time{}, time.Time{}
	check(readFeed(t, srv, "/feed.atom"))
}

// Given a URL with ?token= (api.public = false), the feed's entries link
// with the token, as the page's links do, so a reader can open them; a
// public surface's links carry no token, and a calendar's never do.
func TestLinksCarryTheTokenWhereTheyNeedOne(t *testing.T) {
	for _, public := range []bool{false, true} {
		s := New(Options{Core: movedCore(), Tokens: []string{"tok+1&x"}, Public: public})
		srv := serve(t, s)
		query := "?token=tok%2B1%26x"
		wantQuery := query
		if public {
			wantQuery = ""
		}
		noHeader := []string{"Authorization", ""}
		f := readFeed(t, srv, "/feed.atom"+query, noHeader...)
		for _, e := range f.Entries {
			if e.Link.Href != "/upgrades/1"+wantQuery {
				t.Errorf("public %v: the feed's entry %q links to %q, want %q", public, e.Title, e.Link.Href, "/upgrades/1"+wantQuery)
			}
			if code, _, _ := call(t, srv, http.MethodGet, e.Link.Href, noHeader...); code != http.StatusOK {
				t.Errorf("public %v: following the feed's link %s: %d", public, e.Link.Href, code)
			}
		}
		_, _, page := call(t, srv, http.MethodGet, "/"+query, noHeader...)
		if !strings.Contains(page, `href="/upgrades/1`+strings.ReplaceAll(wantQuery, "&", "&amp;")+`"`) {
			t.Errorf("public %v: the page's link to UPG-1 lacks %q:\n%s", public, wantQuery, page)
		}
		// A calendar is shared with others: its events never carry the token.
		_, _, cal := call(t, srv, http.MethodGet, "/calendar.ics"+query, noHeader...)
		if cal = strings.ReplaceAll(cal, "\r\n ", ""); !strings.Contains(cal, "Details: /upgrades/1\r\n") || strings.Contains(cal, "tok") {
			t.Errorf("public %v: the calendar's link to UPG-1 is not the bare page link, or the token is in the calendar:\n%s", public, cal)
		}
	}
}

// TestIdsAreTheDeploymentsOwn: with server.public_url set, calendar UIDs and
// feed ids name its host, so that a staging and a production bot (each
// with its UPG-1) do not mix in one calendar or feed reader; a service's
// feed has an id of its own.
func TestIdsAreTheDeploymentsOwn(t *testing.T) {
	for _, tc := range []struct{ publicURL, domain string }{
		{"", "upgradebot"},
		{"https://Upgrades.Example.com:8443/bot/", "upgrades.example.com"},
	} {
		srv := serve(t, New(Options{Core: movedCore(), Public: true, PublicURL: tc.publicURL}))
		_, _, cal := call(t, srv, http.MethodGet, "/calendar.ics")
		if !strings.Contains(cal, "UID:upgrade-1@"+tc.domain+"\r\n") {
			t.Errorf("public_url %q: the calendar's UID is not @%s:\n%s", tc.publicURL, tc.domain, cal)
		}
		_, _, all := call(t, srv, http.MethodGet, "/feed.atom")
		_, _, one := call(t, srv, http.MethodGet, "/feed.atom?service=payments")
		if !strings.Contains(all, "<id>tag:"+tc.domain+",2026:feed</id>") || !strings.Contains(one, "<id>tag:"+tc.domain+",2026:feed/service/payments</id>") {
			t.Errorf("public_url %q: feed ids:\n%s\n%s", tc.publicURL, all, one)
		}
		if !strings.Contains(all, "<id>tag:"+tc.domain+",2026-11-30:upgrade-1/") {
			t.Errorf("public_url %q: entry ids:\n%s", tc.publicURL, all)
		}
	}
}

// A feed filtered by region, by service, or both, is a feed of its own: its
// id and its title name what it is filtered by (as the calendar's name
// does), so a feed reader does not take it for the unfiltered one.
func TestFilteredFeedsHaveTheirOwnIdAndTitle(t *testing.T) {
	srv := serve(t, New(Options{Core: movedCore(), Public: true, PublicURL: "https://upgrades.example.com"}))
	for _, tc := range []struct{ query, id, title string }{
		{"", "tag:upgrades.example.com,2026:feed", "Upgrades"},
		{"?service=payments", "tag:upgrades.example.com,2026:feed/service/payments", "Upgrades of payments"},
		{"?region=us-east", "tag:upgrades.example.com,2026:feed/region/us-east", "Upgrades in us-east"},
		{"?service=PAYMENTS&region=eu-west", "tag:upgrades.example.com,2026:feed/service/payments/region/eu-west", "Upgrades of payments in eu-west"},
	} {
		if f := readFeed(t, srv, "/feed.atom"+tc.query); f.ID != tc.id || f.Title != tc.title {
			t.Errorf("/feed.atom%s: id %q, title %q; want %q, %q", tc.query, f.ID, f.Title, tc.id, tc.title)
		}
	}
}

// TestRolledBackAfterCompletionOnPageAndAPI: a completed upgrade rolled
// back later shows its completion as the end and, beside it, the rollback,
// as the chat's show does.
func TestRolledBackAfterCompletionOnPageAndAPI(t *testing.T) {
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	dir := bot.NewDirectory(bot.Config{Services: []bot.Service{{Name: "payments", Owners: []string{"alice"}}},
		People: []bot.Person{{Name: "alice", IDs: []string{"slack:U0ALICE"}}}})
	done, rb := now.Add(-3*time.Hour), now.Add(-1*time.Hour) // 05:00 and 07:00 UTC
	u := &bot.Upgrade{ID: 3, Service: "payments", Version: "v1", State: bot.RolledBack, Start: now.Add(-5 * time.Hour), End: now.Add(-4 * time.Hour),
		StartedAt: now.Add(-5 * time.Hour), CompletedAt: done, FinishedAt: rb, Owners: []string{"alice"}, CreatedBy: "alice", CreatedAt: now.Add(-24 * time.Hour), Rev: 3}
	srv := serveCore(t, &fakeCore{dir: dir, now: now, ups: []*bot.Upgrade{u}})
	page := fetch(t, srv, "/upgrades/3")
	if !strings.Contains(page, `<dt>Ended</dt><dd><time datetime="2026-11-30T05:00:00Z">`) || !strings.Contains(page, `<dt>Rolled back</dt><dd><time datetime="2026-11-30T07:00:00Z">`) {
		t.Errorf("the page's facts lack the end and the rollback:\n%s", page)
	}
	api := fetch(t, srv, "/api/v1/upgrades/UPG-3")
	if !strings.Contains(api, `"actual":{"start":"2026-11-30T03:00:00Z","end":"2026-11-30T05:00:00Z"}`) || !strings.Contains(api, `"rolled_back_at":"2026-11-30T07:00:00Z"`) {
		t.Errorf("the API lacks the end and the rollback:\n%s", api)
	}
}

// The feed's self link keeps only what the feed understands (service,
// region) and, where links carry it (api.public = false), the token: never
// a public surface's token, nor anything else the URL had.
func TestFeedSelfLinkKeepsOnlyItsFilters(t *testing.T) {
	for _, tc := range []struct {
		public      bool
		query, want string
	}{
		{true, "?token=tok13", "https://upgrades.example.com/feed.atom"},
		{true, "?foo=bar", "https://upgrades.example.com/feed.atom"},
		{true, "?token=tok13&foo=bar&service=PAYMENTS", "https://upgrades.example.com/feed.atom?service=payments"},
		{true, "?region=eu-west&service=payments&utm_source=x", "https://upgrades.example.com/feed.atom?region=eu-west&service=payments"},
		{false, "?token=tok13&foo=bar", "https://upgrades.example.com/feed.atom?token=tok13"},
		{false, "?service=payments&token=tok13", "https://upgrades.example.com/feed.atom?service=payments&token=tok13"},
		{false, "", "https://upgrades.example.com/feed.atom"}, // with the header: nothing to carry
	} {
		srv := serve(t, New(Options{Core: movedCore(), Tokens: []string{"tok13", "tok"}, Public: tc.public, PublicURL: "https://upgrades.example.com"}))
		code, _, body := call(t, srv, http.MethodGet, "/feed.atom"+tc.query)
		var f struct {
			Links []struct {
				Rel  string `xml:"rel,attr"`
				Href string `xml:"href,attr"`
			} `xml:"link"`
		}
		if err := xml.Unmarshal([]byte(body), &f); code != http.StatusOK || err != nil {
			t.Fatalf("%s: %d %v\n%s", tc.query, code, err, body)
		}
		if len(f.Links) != 1 || f.Links[0].Rel != "self" || f.Links[0].Href != tc.want {
			t.Errorf("public %v, %s: links %+v, want self %s", tc.public, tc.query, f.Links, tc.want)
		}
	}
}
