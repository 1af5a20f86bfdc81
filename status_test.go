package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	slackgo "github.com/slack-go/slack"

	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
	"github.com/upgradebot/upgradebot/store"
	"github.com/upgradebot/upgradebot/store/storetest"
)

const statusToken = "status-test-token"

// statusServe is `upgradebot serve` with Slack in http mode against a fake
// Slack, a real Redis (the test target) and the status surface.
type statusServe struct {
	t    testing.TB
	base string
	api  *slacktestapi.Server
	seq  atomic.Int64
	spec *openapi3.T
	rt   routers.Router
	// config and redis are serve's configuration file and where it keeps
	// its state, for tests that open them too.
	config string
	redis  store.Options
}

// extra is appended to the configuration file (more TOML tables).
func startStatusServe(t *testing.T, public bool, extra ...string) *statusServe {
	t.Helper()
	return startStatusServeWith(t, serveSetup{public: public, extra: strings.Join(extra, "\n")})
}

// serveSetup varies the status serve: extra configuration appended to the
// file, and where its logs go (nowhere by default).
type serveSetup struct {
	public bool
	extra  string
	logs   io.Writer
	// edit changes the configuration text before it is written, if set.
	edit func(string) string
}

func startStatusServeWith(t testing.TB, o serveSetup) *statusServe {
	t.Helper()
	api := slacktestapi.New(t)
	addr := freeAddr(t)
	ro := storetest.Target(t)
	redisConf := fmt.Sprintf("url = %q\nprefix = %q", ro.URL, ro.Prefix)
	if len(ro.ClusterAddrs) > 0 {
		redisConf = fmt.Sprintf("cluster_addrs = [\"%s\"]\nprefix = %q", strings.Join(ro.ClusterAddrs, `", "`), ro.Prefix)
	}
	cfg := filepath.Join(t.TempDir(), "config.toml")
	text := statusConfigText(addr, redisConf, api.APIURL(), o.public) + o.extra
	if o.edit != nil {
		text = o.edit(text)
	}
	os.WriteFile(cfg, []byte(text), 0o600)
	logs := o.logs
	if logs == nil {
		logs = io.Discard
	}
	startServeLogged(t, cfg, logs)
	s := &statusServe{t: t, base: "http://" + addr, api: api, config: cfg, redis: ro}
	api.Eventually(t, 10*time.Second, "readyz 200", func() bool {
		resp, err := http.Get(s.base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return s
}

// statusConfigText is the configuration of the status serve.
func statusConfigText(addr, redisConf, slackAPI string, public bool) string {
	return fmt.Sprintf(`
[server]
listen = %q
[redis]
%s
[slack]
enabled = true
mode = "http"
bot_token = "xoxb-status-test"
signing_secret = "status-test-secret"
api_url = %q
[api]
tokens = [%q]
public = %v
[[people]]
name = "alice"
ids = ["slack:U0ALICE"]
[[people]]
name = "bob"
ids = ["slack:U0BOB"]
[[services]]
name = "ledger"
owners = ["bob"]
channels = ["slack:C0LEDGER"]
[[services]]
name = "payments"
owners = ["alice"]
channels = ["slack:C0PAY"]
depends_on = ["ledger"]
[[services]]
name = "checkout"
owners = ["bob"]
channels = ["slack:C0CHECKOUT"]
depends_on = ["payments"]
`, addr, redisConf, slackAPI, statusToken, public)
}

// slash types a command as a Slack user and returns the answer's text.
func (s *statusServe) slash(user, text string) string {
	s.t.Helper()
	n := s.seq.Add(1)
	form := slacktestapi.CommandForm(slackgo.SlashCommand{ChannelID: "C0OPS", UserID: user, UserName: strings.ToLower(user),
		Command: "/upgrade", Text: text, TriggerID: fmt.Sprintf("trig-status-%d", n), ResponseURL: s.api.ResponseURL(fmt.Sprintf("status-%d", n))})
	resp, err := http.DefaultClient.Do(slacktestapi.SignedRequest(s.t, s.base+"/slack/commands", "status-test-secret", form, time.Now()))
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		s.t.Fatal(err)
	}
	txt, _ := ans["text"].(string)
	return txt
}

// get fetches path with the token (when tok) and returns status, headers, body.
func (s *statusServe) get(path string, tok string, hdr ...string) (int, http.Header, []byte) {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.base+path, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if strings.HasPrefix(path, "/api/v1/") && path != "/api/v1/openapi.json" && resp.StatusCode != http.StatusNotModified {
		s.validate(req, resp, body)
	}
	return resp.StatusCode, resp.Header, body
}

// validate checks a real response of the API against the OpenAPI document
// the server itself serves, with kin-openapi.
func (s *statusServe) validate(req *http.Request, resp *http.Response, body []byte) {
	s.t.Helper()
	if s.rt == nil {
		_, _, raw := s.get("/api/v1/openapi.json", "")
		spec, err := openapi3.NewLoader().LoadFromData(raw)
		if err != nil {
			s.t.Fatalf("openapi.json does not load: %v", err)
		}
		if err := spec.Validate(context.Background()); err != nil {
			s.t.Fatalf("openapi.json is not valid OpenAPI 3: %v", err)
		}
		spec.Servers = openapi3.Servers{{URL: s.base + "/api/v1"}}
		if s.rt, err = legacy.NewRouter(spec); err != nil {
			s.t.Fatal(err)
		}
		s.spec = spec
	}
	route, params, err := s.rt.FindRoute(req)
	if err != nil {
		s.t.Fatalf("%s is not in the OpenAPI document: %v", req.URL, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		s.t.Errorf("%s %d does not match the OpenAPI document: %v\n%s", req.URL, resp.StatusCode, err, body)
	}
}

func decodeJSON[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return v
}

type apiErr struct{ Code, Message string }

func TestStatusAPIOnARunningServe(t *testing.T) {
	s := startStatusServe(t, true)
	if txt := s.slash("U0ALICE", `schedule payments v2.4.0 in 30m for 2h region eu-west impact "card payments may fail"`); !strings.Contains(txt, "Scheduled UPG-1") {
		t.Fatalf("schedule: %s", txt)
	}
	s.slash("U0BOB", "schedule ledger v9 in 5h for 1h region us-east")
	s.slash("U0BOB", "schedule checkout v3 in 8h for 1h region eu-west")
	// The roots are posted in the background, each saving its thread (a
	// change): wait for them, so that the ETag below is of a list at rest.
	s.api.Eventually(t, 10*time.Second, "the three roots posted and their threads saved", func() bool {
		_, _, body := s.get("/api/v1/upgrades", statusToken)
		return bytes.Count(body, []byte(`"threads":[{`)) == 3
	})

	// Tokens: none, wrong, right.
	for _, tok := range []string{"", "wrong"} {
		code, _, body := s.get("/api/v1/upgrades", tok)
		if e := decodeJSON[apiErr](t, body); code != http.StatusUnauthorized || e.Code != "unauthorized" || e.Message == "" {
			t.Fatalf("token %q: %d %s", tok, code, body)
		}
	}

	type listT struct {
		Upgrades []struct {
			ID, Service, State, Region string
			Window                     struct{ Start, End time.Time }
			Audience                   []struct{ Key, Name string }
			Acks                       struct {
				Brief struct{ Acknowledged, Audience int }
			}
			Threads []struct{ Channel string }
		}
		NextCursor string `json:"next_cursor"`
	}
	code, hdr, body := s.get("/api/v1/upgrades", statusToken)
	list := decodeJSON[listT](t, body)
	if code != http.StatusOK || len(list.Upgrades) != 3 || list.Upgrades[0].ID != "UPG-1" || list.Upgrades[0].Region != "eu-west" {
		t.Fatalf("list: %d %s", code, body)
	}
	if u := list.Upgrades[0]; u.Window.Start.Location() != time.UTC || u.Acks.Brief.Audience != 2 {
		t.Fatalf("UPG-1: %+v", u)
	}
	// ETag: a poller that has the list pays a 304 while nothing changed.
	if code, _, _ := s.get("/api/v1/upgrades", statusToken, "If-None-Match", hdr.Get("ETag")); code != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d", code)
	}
	// Filters and paging.
	_, _, body = s.get("/api/v1/upgrades?region=EU-WEST&state=scheduled", statusToken)
	if l := decodeJSON[listT](t, body); len(l.Upgrades) != 2 || l.Upgrades[1].ID != "UPG-3" {
		t.Fatalf("region filter: %s", body)
	}
	// state given twice means both, as state=completed,scheduled does; a
	// lower-case t and z are RFC 3339 too.
	_, _, body = s.get("/api/v1/upgrades?state=completed&state=scheduled&from=2000-01-01t00:00:00z", statusToken)
	if l := decodeJSON[listT](t, body); len(l.Upgrades) != 3 {
		t.Fatalf("two state parameters and a lower-case time: %s", body)
	}
	_, _, body = s.get("/api/v1/upgrades?limit=2", statusToken)
	page1 := decodeJSON[listT](t, body)
	_, _, body = s.get("/api/v1/upgrades?limit=2&cursor="+url.QueryEscape(page1.NextCursor), statusToken)
	page2 := decodeJSON[listT](t, body)
	if len(page1.Upgrades) != 2 || page1.NextCursor == "" || len(page2.Upgrades) != 1 || page2.Upgrades[0].ID != "UPG-3" || page2.NextCursor != "" {
		t.Fatalf("paging: %+v then %+v", page1, page2)
	}
	for _, c := range []struct{ query, param string }{
		{"state=bogus", "state"}, {"from=yesterday", "from"}, {"limit=0", "limit"}, {"cursor=zzz", "cursor"}, {"service=nope", "service"},
		// A parameter that takes one value, given twice, is refused: the
		// second looked honoured and was ignored.
		{"service=payments&service=ledger", "service"}, {"from=2026-12-10T00:00:00Z&from=2026-11-01T00:00:00Z", "from"},
		{"to=2027-01-01T00:00:00Z&to=2027-02-01T00:00:00Z", "to"}, {"region=eu&region=us", "region"}, {"limit=1&limit=2", "limit"},
	} {
		code, _, body := s.get("/api/v1/upgrades?"+c.query, statusToken)
		if e := decodeJSON[apiErr](t, body); code != http.StatusBadRequest || e.Code != "bad_parameter" || !strings.HasPrefix(e.Message, c.param+":") {
			t.Errorf("?%s: %d %s; want 400 naming %s", c.query, code, body, c.param)
		}
	}
	// One upgrade, by any id form; unknown ones are 404.
	for _, id := range []string{"UPG-1", "upg-1", "%231", "1"} {
		if code, _, body := s.get("/api/v1/upgrades/"+id, statusToken); code != http.StatusOK || !bytes.Contains(body, []byte(`"id":"UPG-1"`)) {
			t.Errorf("/upgrades/%s: %d %s", id, code, body)
		}
	}
	// Worded for HTTP: no chat command to type.
	if code, _, body := s.get("/api/v1/upgrades/UPG-99", statusToken); code != http.StatusNotFound || decodeJSON[apiErr](t, body) != (apiErr{"not_found", "Unknown upgrade UPG-99."}) {
		t.Errorf("unknown id: %d %s", code, body)
	}
	if code, _, body := s.get("/upgrades/99", ""); code != http.StatusNotFound || !bytes.Contains(body, []byte("Unknown upgrade UPG-99.")) || bytes.Contains(body, []byte("/upgrade list")) {
		t.Errorf("the page of an unknown upgrade: %d %s", code, body)
	}
	if code, _, _ := s.get("/api/v1/services/nope/status", statusToken); code != http.StatusNotFound {
		t.Errorf("unknown service status: %d", code)
	}

	// Maintenance status: payments in its window, checkout affected
	// through its dependency, ledger not; neither after completion.
	type statusT struct {
		InMaintenance bool `json:"in_maintenance"`
		Windows       []struct {
			Upgrade string
			Direct  bool
		}
		Next *struct{ Upgrade string }
	}
	st := func(svc string) statusT {
		_, _, body := s.get("/api/v1/services/"+svc+"/status", statusToken)
		return decodeJSON[statusT](t, body)
	}
	if p := st("payments"); p.InMaintenance || p.Next == nil || p.Next.Upgrade != "UPG-1" {
		t.Fatalf("payments before its window: %+v", p)
	}
	// The status says when it was made ("at"), yet a poller pays a 304
	// while nothing else changed; once the window opens, 200. Two answers
	// that differ in "at" alone have the same ETag.
	at := func(body []byte) (string, string) {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("status: %v %s", err, body)
		}
		stamp := string(m["at"])
		delete(m, "at")
		rest, _ := json.Marshal(m)
		return stamp, string(rest)
	}
	_, hdr, first := s.get("/api/v1/services/payments/status", statusToken)
	firstAt, firstRest := at(first)
	var later []byte
	var laterHdr http.Header
	waitFor(t, 10*time.Second, "a status made at another instant", func() bool {
		_, laterHdr, later = s.get("/api/v1/services/payments/status", statusToken)
		stamp, _ := at(later)
		return stamp != firstAt
	})
	if _, rest := at(later); rest != firstRest || laterHdr.Get("ETag") != hdr.Get("ETag") {
		t.Fatalf("two statuses that differ in \"at\" alone: ETags %s and %s, bodies\n%s\n%s", hdr.Get("ETag"), laterHdr.Get("ETag"), first, later)
	}
	if code, _, body := s.get("/api/v1/services/payments/status", statusToken, "If-None-Match", hdr.Get("ETag")); code != http.StatusNotModified {
		t.Fatalf("status with If-None-Match %s: %d %s", hdr.Get("ETag"), code, body)
	}
	if txt := s.slash("U0ALICE", "start UPG-1"); !strings.Contains(txt, "Started") {
		t.Fatalf("start: %s", txt)
	}
	if p := st("payments"); !p.InMaintenance || len(p.Windows) != 1 || !p.Windows[0].Direct {
		t.Fatalf("payments in its window: %+v", p)
	}
	if code, _, _ := s.get("/api/v1/services/payments/status", statusToken, "If-None-Match", hdr.Get("ETag")); code != http.StatusOK {
		t.Fatalf("status with the tag of before the start: %d", code)
	}
	if c := st("checkout"); !c.InMaintenance || len(c.Windows) != 1 || c.Windows[0].Direct || c.Windows[0].Upgrade != "UPG-1" {
		t.Fatalf("checkout, which depends on payments: %+v", c)
	}
	if l := st("ledger"); l.InMaintenance {
		t.Fatalf("ledger does not depend on payments: %+v", l)
	}
	s.slash("U0ALICE", "complete UPG-1")
	if p, c := st("payments"), st("checkout"); p.InMaintenance || c.InMaintenance {
		t.Fatalf("after completion: payments %+v, checkout %+v", p, c)
	}
}

func TestCalendarFeedAndPageOnARunningServe(t *testing.T) {
	s := startStatusServe(t, true)
	s.slash("U0ALICE", "schedule payments v2.4.0 in 2h for 1h")
	s.slash("U0BOB", "schedule ledger v9 in 5h for 1h")
	cal := func(query string) map[string]*ics.VEvent {
		code, hdr, body := s.get("/calendar.ics"+query, "")
		if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/calendar") {
			t.Fatalf("calendar: %d %s", code, hdr.Get("Content-Type"))
		}
		c, err := ics.ParseCalendar(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("the calendar does not parse: %v\n%s", err, body)
		}
		out := map[string]*ics.VEvent{}
		for _, e := range c.Events() {
			out[e.GetProperty(ics.ComponentPropertySummary).Value] = e
		}
		return out
	}
	prop := func(e *ics.VEvent, p ics.ComponentProperty) string { return e.GetProperty(p).Value }
	events := cal("")
	pay := events["UPG-1 payments v2.4.0"]
	if len(events) != 2 || pay == nil || prop(pay, ics.ComponentPropertyStatus) != "CONFIRMED" || prop(pay, ics.ComponentPropertyUniqueId) != "upgrade-1@upgradebot" {
		t.Fatalf("calendar events: %v", events)
	}
	// A new event's SEQUENCE is 0 (RFC 5545), also once the pre-brief's
	// thread is recorded on the upgrade.
	seq := prop(pay, ics.ComponentPropertySequence)
	if seq != "0" {
		t.Errorf("a new upgrade's SEQUENCE is %s; want 0", seq)
	}
	start, _ := pay.GetStartAt()
	if start.Location() != time.UTC || !strings.Contains(prop(pay, ics.ComponentPropertyDescription), "State: scheduled") {
		t.Fatalf("event: start %v, description %q", start, prop(pay, ics.ComponentPropertyDescription))
	}
	s.slash("U0ALICE", "reschedule UPG-1 in 3h")
	s.slash("U0BOB", "cancel UPG-2 not needed")
	events = cal("")
	if got := prop(events["UPG-1 payments v2.4.0"], ics.ComponentPropertySequence); atoi(got) <= atoi(seq) {
		t.Errorf("SEQUENCE after a reschedule: %s, was %s", got, seq)
	}
	if st := prop(events["UPG-2 ledger v9"], ics.ComponentPropertyStatus); st != "CANCELLED" {
		t.Errorf("a cancelled window: STATUS %s", st)
	}
	if only := cal("?service=ledger"); len(only) != 1 || only["UPG-2 ledger v9"] == nil {
		t.Errorf("?service=ledger: %v", only)
	}

	// The feed: an entry per change, newest first.
	code, _, body := s.get("/feed.atom", "")
	var feed struct {
		Entries []struct {
			Title   string `xml:"title"`
			Summary string `xml:"summary"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(body, &feed); code != http.StatusOK || err != nil || len(feed.Entries) != 4 {
		t.Fatalf("feed: %d %v %s", code, err, body)
	}
	if feed.Entries[0].Title != "UPG-2 ledger v9 cancelled" || feed.Entries[3].Title != "UPG-1 payments v2.4.0 scheduled" {
		t.Errorf("feed order: %+v", feed.Entries)
	}
	// The entry of the schedule keeps the window scheduled then, the one
	// the reschedule says it moved from.
	var moved, scheduled string
	for _, e := range feed.Entries {
		switch e.Title {
		case "UPG-1 payments v2.4.0 rescheduled":
			_, moved, _ = strings.Cut(e.Summary, " (UTC), was ")
		case "UPG-1 payments v2.4.0 scheduled":
			_, scheduled, _ = strings.Cut(e.Summary, ". Window ")
		}
	}
	if moved == "" || strings.TrimSuffix(moved, ".") != strings.TrimSuffix(scheduled, " (UTC).") {
		t.Errorf("the schedule's entry says the window %q; the reschedule moved it from %q", scheduled, moved)
	}

	// The page and an upgrade's page, readable without script.
	code, _, body = s.get("/", "")
	if code != http.StatusOK || !bytes.Contains(body, []byte("UPG-1 payments v2.4.0")) || !bytes.Contains(body, []byte("Acknowledged 0/2")) {
		t.Fatalf("page: %d\n%s", code, body)
	}
	code, _, body = s.get("/upgrades/1", "")
	if code != http.StatusOK || !bytes.Contains(body, []byte("Decision log")) || !bytes.Contains(body, []byte("alice · rescheduled")) {
		t.Fatalf("upgrade page: %d\n%s", code, body)
	}
}

func TestStatusSurfaceBehindATokenWhenNotPublic(t *testing.T) {
	s := startStatusServe(t, false)
	s.slash("U0ALICE", "schedule payments v2.4.0 in 2h")
	for _, path := range []string{"/", "/calendar.ics", "/feed.atom", "/upgrades/1"} {
		code, _, body := s.get(path, "")
		if path == "/" || path == "/upgrades/1" { // pages for people
			if code != http.StatusUnauthorized || !bytes.Contains(body, []byte("<h1>Not authorized</h1>")) || !bytes.Contains(body, []byte("?token=")) {
				t.Errorf("%s without a token: %d %s", path, code, body)
			}
		} else if e := decodeJSON[apiErr](t, body); code != http.StatusUnauthorized || e.Code != "unauthorized" {
			t.Errorf("%s without a token: %d %s", path, code, body)
		}
		if code, _, _ := s.get(path+"?token="+statusToken, ""); code != http.StatusOK {
			t.Errorf("%s with ?token=: %d", path, code)
		}
		if code, _, _ := s.get(path, statusToken); code != http.StatusOK {
			t.Errorf("%s with a bearer token: %d", path, code)
		}
	}
	if code, _, _ := s.get("/api/v1/openapi.json", ""); code != http.StatusOK {
		t.Errorf("the OpenAPI document needs no token: %d", code)
	}
}
