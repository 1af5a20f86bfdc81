package web

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/upgradebot/upgradebot/bot"
)

// fakeCore is the read side of the core over upgrades a test builds.
type fakeCore struct {
	dir *bot.Directory
	now time.Time
	ups []*bot.Upgrade
	log map[int][]bot.Decision
	// acks are the acknowledgments of each upgrade; none without.
	acks map[int][]bot.Ack
}

func (c *fakeCore) find(id int) (*bot.Upgrade, error) {
	for _, u := range c.ups {
		if u.ID == id {
			return u, nil
		}
	}
	// The core's refusal (bot/save.go), with its chat hint.
	return nil, &bot.Error{Code: bot.ENOTFOUND, Message: fmt.Sprintf("Unknown upgrade UPG-%d. Try /upgrade list.", id),
		Text: bot.T(fmt.Sprintf("Unknown upgrade UPG-%d. Try ", id)).Command(bot.Hint{Verb: "list"}).Add(".")}
}

func (c *fakeCore) View(_ context.Context, id int) (bot.View, error) {
	u, err := c.find(id)
	if err != nil {
		return bot.View{}, err
	}
	return c.dir.View(u, c.acks[id]), nil
}

func (c *fakeCore) Upgrades(context.Context, bot.Filter) ([]*bot.Upgrade, error) { return c.ups, nil }

func (c *fakeCore) Log(_ context.Context, id int) (*bot.Upgrade, []bot.Decision, error) {
	u, err := c.find(id)
	return u, c.log[id], err
}

func (c *fakeCore) Stats(context.Context, string) (bot.Stats, error) {
	return bot.Stats{At: c.now, Periods: []bot.PeriodStats{{Days: 30, From: c.now.Add(-30 * 24 * time.Hour), To: c.now,
		Debriefs: bot.Rate{Part: 1, Whole: 4}, AtStart: bot.StartReadiness{Started: 3, Ready: 2, Anyway: 1}}}}, nil
}

func (c *fakeCore) Directory() *bot.Directory { return c.dir }
func (c *fakeCore) Now() time.Time            { return c.now }

// readinessCore holds two upgrades of payments: UPG-1 scheduled in an hour
// with three criteria (one met, one waived, one open) and a rollback plan
// that is a link; UPG-2 completed after a start taken anyway, with a
// debrief.
func readinessCore() *fakeCore {
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	dir := bot.NewDirectory(bot.Config{
		Services: []bot.Service{{Name: "payments", Owners: []string{"alice"}}},
		People:   []bot.Person{{Name: "alice", IDs: []string{"slack:U0ALICE"}}, {Name: "bob", IDs: []string{"slack:U0BOB"}}},
	})
	met, waived, planned := now.Add(-50*time.Minute), now.Add(-40*time.Minute), now.Add(-30*time.Minute)
	u1 := &bot.Upgrade{ID: 1, Service: "payments", Version: "v2.4.0", State: bot.Scheduled, Start: now.Add(time.Hour), End: now.Add(3 * time.Hour),
		Owners: []string{"alice"}, CreatedBy: "alice", CreatedAt: now.Add(-time.Hour), UpdatedAt: planned, Rev: 5,
		Readiness: []bot.Criterion{
			{Text: "backups verified", State: bot.CriterionMet, By: "slack:U0BOB", At: met},
			{Text: "canary green", State: bot.CriterionOpen},
			{Text: "rollback plan reviewed", State: bot.CriterionWaived, By: "alice", At: waived, Reason: "same plan as v2.3; reviewed then"},
		},
		Plan: &bot.Record{Text: "https://wiki.example.com/runbooks/payments-rollback?v=2&x=<b>", By: "alice", At: planned},
	}
	started, ended, debriefed := now.Add(-5*time.Hour), now.Add(-4*time.Hour), now.Add(-3*time.Hour)
	u2 := &bot.Upgrade{ID: 2, Service: "payments", Version: "v2.3.9", State: bot.Completed, Start: now.Add(-5 * time.Hour), End: now.Add(-3 * time.Hour),
		Owners: []string{"alice"}, CreatedBy: "alice", CreatedAt: now.Add(-24 * time.Hour), UpdatedAt: debriefed, StartedAt: started, FinishedAt: ended, Rev: 4,
		Readiness: []bot.Criterion{
			{Text: "backups verified", State: bot.CriterionMet, By: "alice", At: started.Add(-time.Hour)},
			{Text: "canary green", State: bot.CriterionOpen},
			{Text: "rollback plan", State: bot.CriterionMet, By: "alice", At: started.Add(-2 * time.Hour), Auto: true},
		},
		StartedAnyway: &bot.Anyway{Open: []string{"canary green"}, Reason: "canary cluster down, hotfix needed"},
		Plan:          &bot.Record{Text: "1. helm rollback payments\n2. javascript:alert(1) <script>x</script>", By: "alice", At: started.Add(-2 * time.Hour)},
		Debrief:       &bot.Record{Text: "Went fine; add a canary to staging. Notes: https://notes.example.com/pay-239.", By: "bob", At: debriefed},
	}
	log := map[int][]bot.Decision{
		1: {
			{At: now.Add(-time.Hour), Actor: "alice", Action: bot.ActionScheduled, Start: u1.Start, End: u1.End},
			{At: met, Actor: "bob", Action: bot.ActionReadinessMet, Criterion: "backups verified"},
			{At: waived, Actor: "alice", Action: bot.ActionReadinessWaived, Criterion: "rollback plan reviewed", Reason: "same plan as v2.3; reviewed then"},
			{At: planned, Actor: "alice", Action: bot.ActionPlanRecorded},
		},
		2: {
			{At: u2.CreatedAt, Actor: "alice", Action: bot.ActionScheduled, Start: u2.Start, End: u2.End},
			{At: started.Add(-2 * time.Hour), Actor: "alice", Action: bot.ActionPlanRecorded, Detail: u2.Plan.Text, Criterion: "rollback plan"},
			{At: started.Add(-30 * time.Minute), Actor: "alice", Action: bot.ActionReadinessReopened, Criterion: "canary green", Reason: "canary red again"},
			{At: started, Actor: "alice", Action: bot.ActionStarted, Open: []string{"canary green"}, Reason: "canary cluster down, hotfix needed"},
			{At: ended, Actor: "alice", Action: bot.ActionCompleted},
			{At: debriefed, Actor: "bob", Action: bot.ActionDebriefRecorded},
		},
	}
	return &fakeCore{dir: dir, now: now, ups: []*bot.Upgrade{u2, u1}, log: log}
}

func serveCore(t *testing.T, c *fakeCore) *httptest.Server {
	t.Helper()
	s := New(Options{Core: c, Tokens: []string{"tok"}, Public: true, PublicURL: "https://upgrades.example.com"})
	mux := http.NewServeMux()
	s.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(s.Close)
	return srv
}

func fetch(t *testing.T, srv *httptest.Server, path string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
	}
	return string(body)
}

func TestReadinessInTheAPI(t *testing.T) {
	srv := serveCore(t, readinessCore())
	var u struct {
		Readiness []struct {
			Number               int
			Criterion, State, By string
			At                   *time.Time
			Reason               string
			Auto                 bool
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
		Debrief *struct{ Text, By string } `json:"debrief"`
	}
	body := fetch(t, srv, "/api/v1/upgrades/UPG-1")
	if err := json.Unmarshal([]byte(body), &u); err != nil {
		t.Fatal(err)
	}
	if len(u.Readiness) != 3 || u.Ready {
		t.Fatalf("UPG-1's readiness: %s", body)
	}
	if c := u.Readiness[0]; c.Number != 1 || c.Criterion != "backups verified" || c.State != "met" || c.By != "bob" || c.At == nil || c.At.Location() != time.UTC || c.Auto {
		t.Errorf("a criterion met: %+v", c)
	}
	if c := u.Readiness[1]; c.Number != 2 || c.State != "open" || c.By != "" || c.At != nil {
		t.Errorf("an open criterion: %+v", c)
	}
	if c := u.Readiness[2]; c.State != "waived" || c.By != "alice" || c.Reason != "same plan as v2.3; reviewed then" {
		t.Errorf("a criterion waived: %+v", c)
	}
	if p := u.RollbackPlan; p == nil || p.By != "alice" || !strings.HasPrefix(p.Text, "https://wiki.example.com/") || u.StartedAnyway != nil || u.Debrief != nil {
		t.Errorf("UPG-1's plan, start and debrief: %s", body)
	}
	for _, absent := range []string{`"started_anyway"`, `"debrief"`} {
		if strings.Contains(body, absent) {
			t.Errorf("UPG-1 has no %s, yet the API shows one: %s", absent, body)
		}
	}

	body = fetch(t, srv, "/api/v1/upgrades/2")
	u.RollbackPlan, u.StartedAnyway, u.Debrief = nil, nil, nil
	if err := json.Unmarshal([]byte(body), &u); err != nil {
		t.Fatal(err)
	}
	if a := u.StartedAnyway; a == nil || !slices.Equal(a.Open, []string{"canary green"}) || a.Reason != "canary cluster down, hotfix needed" {
		t.Errorf("UPG-2 started anyway: %s", body)
	}
	if d := u.Debrief; d == nil || d.By != "bob" || !strings.HasPrefix(d.Text, "Went fine") || !u.Readiness[2].Auto {
		t.Errorf("UPG-2's debrief and automatic criterion: %s", body)
	}

	// The list has the same fields; an upgrade without criteria is ready.
	c := readinessCore()
	c.ups[1].Readiness = nil
	var list struct {
		Upgrades []struct {
			ID        string
			Readiness []any
			Ready     *bool
		}
	}
	body = fetch(t, serveCore(t, c), "/api/v1/upgrades")
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	for _, l := range list.Upgrades {
		if l.ID == "UPG-1" && (l.Readiness == nil || len(l.Readiness) != 0 || l.Ready == nil || !*l.Ready) {
			t.Errorf("an upgrade without criteria: readiness [] and ready: %s", body)
		}
	}
}

func TestReadinessInTheCalendar(t *testing.T) {
	srv := serveCore(t, readinessCore())
	body := fetch(t, srv, "/calendar.ics")
	for _, line := range strings.Split(body, "\r\n") {
		if len(line) > 75 {
			t.Errorf("a line longer than 75 octets: %q", line)
		}
	}
	unfolded := strings.ReplaceAll(body, "\r\n ", "")
	var descs []string
	for _, line := range strings.Split(unfolded, "\r\n") {
		if d, ok := strings.CutPrefix(line, "DESCRIPTION:"); ok {
			descs = append(descs, d)
		}
	}
	if len(descs) != 2 {
		t.Fatalf("descriptions: %q", descs)
	}
	// UPG-2 first (the core's order), then UPG-1.
	for _, want := range []string{
		`Readiness: 2/3 ready\; open: canary green\n`,
		`Rollback plan: https://wiki.example.com/runbooks/payments-rollback?v=2&x=<b>\n`,
	} {
		if !strings.Contains(descs[1], want) {
			t.Errorf("UPG-1's description lacks %q:\n%s", want, descs[1])
		}
	}
	for _, want := range []string{
		`Readiness: 2/3 ready\; open: canary green\n`,
		`Started anyway with open: canary green (why: canary cluster down\, hotfix needed)\n`,
		`Rollback plan: 1. helm rollback payments\n2. javascript:alert(1) <script>x</script>\n`,
		`Debrief: Went fine\; add a canary to staging. Notes: https://notes.example.com/pay-239.\n`,
	} {
		if !strings.Contains(descs[0], want) {
			t.Errorf("UPG-2's description lacks %q:\n%s", want, descs[0])
		}
	}
}

func TestReadinessInTheFeed(t *testing.T) {
	srv := serveCore(t, readinessCore())
	var feed struct {
		Entries []struct {
			Title   string `xml:"title"`
			Author  string `xml:"author>name"`
			Summary string `xml:"summary"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(fetch(t, srv, "/feed.atom")), &feed); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range feed.Entries {
		got[e.Title] = e.Author + ": " + e.Summary
	}
	for title, want := range map[string]string{
		"UPG-1 payments v2.4.0 criterion met: backups verified":          "bob: UPG-1 payments v2.4.0 criterion met by bob: backups verified. Window",
		"UPG-1 payments v2.4.0 criterion waived: rollback plan reviewed": "Why: same plan as v2.3; reviewed then",
		"UPG-1 payments v2.4.0 rollback plan recorded":                   "Rollback plan: https://wiki.example.com/runbooks/payments-rollback?v=2&x=<b>",
		"UPG-2 payments v2.3.9 criterion reopened: canary green":         "Why: canary red again",
		"UPG-2 payments v2.3.9 rollback plan recorded":                   "Rollback plan: 1. helm rollback payments\n2. javascript:alert(1) <script>x</script>. Met: 'rollback plan'.",
		// A criterion met by recording the plan has its entry too.
		"UPG-2 payments v2.3.9 criterion met: rollback plan": "alice: UPG-2 payments v2.3.9 criterion met by alice recording the rollback plan: rollback plan. Window",
		"UPG-2 payments v2.3.9 started anyway":               "started anyway by alice. Window 2026-11-30 03:00 to 2026-11-30 05:00 (UTC). Why: canary cluster down, hotfix needed",
		"UPG-2 payments v2.3.9 debrief recorded":             "bob: UPG-2 payments v2.3.9 debrief recorded by bob. Window 2026-11-30 03:00 to 2026-11-30 05:00 (UTC). Debrief: Went fine",
	} {
		if e, ok := got[title]; !ok || !strings.Contains(e, want) {
			t.Errorf("the feed's entry %q: %q, want it to contain %q\nall: %v", title, e, want, got)
		}
	}
}

func TestReadinessOnThePages(t *testing.T) {
	srv := serveCore(t, readinessCore())
	index := fetch(t, srv, "/")
	if !strings.Contains(index, `<span class="readiness open" title="Readiness: 2/3 ready; open: canary green">2/3 ready</span>`) {
		t.Errorf("the timeline's badge of UPG-1:\n%s", index)
	}
	if strings.Count(index, `class="readiness `) != 1 {
		t.Errorf("a finished upgrade has no badge:\n%s", index)
	}

	page := fetch(t, srv, "/upgrades/1")
	if strings.Contains(page, "0001-01-01") || strings.Contains(page, "<dt>Started</dt>") {
		t.Errorf("a scheduled upgrade's page shows a start or an end:\n%s", page)
	}
	for _, want := range []string{
		`<span class="text">backups verified</span> · <span class="cstate">met</span> by bob at <time`,
		`<span class="text">canary green</span> · <span class="cstate">open</span></li>`,
		`<span class="cstate">waived</span> by alice at <time datetime="2026-11-30T07:20:00Z">2026-11-30 07:20 UTC</time> · why: same plan as v2.3; reviewed then`,
		// A plan that is a URL is a link, escaped.
		`<a href="https://wiki.example.com/runbooks/payments-rollback?v=2&amp;x=%3cb%3e" rel="noopener noreferrer">https://wiki.example.com/runbooks/payments-rollback?v=2&amp;x=&lt;b&gt;</a>`,
		`alice · criterion waived · rollback plan reviewed · why: same plan as v2.3; reviewed then`,
		`bob · criterion met · backups verified`,
		`alice · rollback plan recorded · https://wiki.example.com/`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("UPG-1's page lacks %q:\n%s", want, page)
		}
	}

	page = fetch(t, srv, "/upgrades/2")
	for _, want := range []string{
		`<strong>Started anyway</strong> with open: canary green · why: canary cluster down, hotfix needed`,
		`<span class="cstate">met</span> automatically, when alice recorded the rollback plan at <time`,
		// Text that is not an http(s) URL stays text, escaped.
		"1. helm rollback payments\n2. javascript:alert(1) &lt;script&gt;x&lt;/script&gt;</p>",
		`Notes: <a href="https://notes.example.com/pay-239" rel="noopener noreferrer">https://notes.example.com/pay-239</a>.</p>`,
		`Recorded by bob at`,
		`alice · started anyway · with open: canary green · why: canary cluster down, hotfix needed`,
		`alice · criterion reopened · canary green · why: canary red again`,
		"alice · rollback plan recorded · 1. helm rollback payments\n2. javascript:alert(1) &lt;script&gt;x&lt;/script&gt; · met: rollback plan</li>",
		`bob · debrief recorded · Went fine`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("UPG-2's page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "<script>x") || strings.Contains(page, `href="javascript`) {
		t.Errorf("unescaped text on the page:\n%s", page)
	}

	// A finished upgrade without a debrief says so; one without criteria
	// has no checklist.
	c := readinessCore()
	c.ups[0].Debrief, c.ups[0].Readiness = nil, nil
	page = fetch(t, serveCore(t, c), "/upgrades/2")
	if !strings.Contains(page, `<h2>Debrief</h2>`) || !strings.Contains(page, "No debrief yet.") || strings.Contains(page, "Readiness") {
		t.Errorf("UPG-2 without a debrief and criteria:\n%s", page)
	}
}

func TestLinkify(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []textPart
	}{
		{"https://x.example/a", []textPart{{Text: "https://x.example/a", URL: "https://x.example/a"}}},
		{"see http://x.example/a, then call", []textPart{{Text: "see "}, {Text: "http://x.example/a", URL: "http://x.example/a"}, {Text: ", then call"}}},
		{"javascript:alert(1) ftp://x.example/ https:// mailto:a@b", []textPart{{Text: "javascript:alert(1) ftp://x.example/ https:// mailto:a@b"}}},
		{"(https://x.example/a)", []textPart{{Text: "(https://x.example/a)"}}},
		{"", nil},
	} {
		if got := linkify(c.in); !slices.Equal(got, c.want) {
			t.Errorf("linkify(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

// TestReadinessMatchesTheOpenAPIDocument validates the answers with the
// readiness fields (criteria in every state, a plan, a start taken anyway,
// a debrief) against the OpenAPI document, and checks its event types.
func TestReadinessMatchesTheOpenAPIDocument(t *testing.T) {
	spec := matchesOpenAPI(t, serveCore(t, readinessCore()), "/api/v1/upgrades", "/api/v1/upgrades/UPG-1", "/api/v1/upgrades/UPG-2", "/api/v1/stats")
	var enum []string
	for _, v := range spec.Components.Schemas["EventType"].Value.Enum {
		enum = append(enum, v.(string))
	}
	for _, typ := range append(slices.Clone(bot.EventTypes), bot.EventPlanRecorded, bot.EventDebriefRecorded) {
		if !slices.Contains(enum, typ) {
			t.Errorf("the OpenAPI document's EventType lacks %s: %v", typ, enum)
		}
	}
}

// matchesOpenAPI validates the answers of srv to GET paths against the
// OpenAPI document, which it returns.
func matchesOpenAPI(t *testing.T, srv *httptest.Server, paths ...string) *openapi3.T {
	t.Helper()
	raw, err := assets.ReadFile("assets/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not valid OpenAPI 3: %v", err)
	}
	spec.Servers = openapi3.Servers{{URL: srv.URL + "/api/v1"}}
	rt, err := legacy.NewRouter(spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range paths {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		route, params, err := rt.FindRoute(req)
		if err != nil {
			t.Fatal(err)
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
			Options: &openapi3filter.Options{IncludeResponseStatus: true}}
		out.SetBodyBytes(body)
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			t.Errorf("%s does not match the OpenAPI document: %v\n%s", path, err, body)
		}
	}
	return spec
}

// TestReadinessStatsInTheAPI: the debrief rate and the readiness at start
// of /upgrade stats, in /api/v1/stats.
func TestReadinessStatsInTheAPI(t *testing.T) {
	var st struct {
		Periods []struct {
			Debriefs struct {
				Rate                *float64
				Debriefed, Finished int
			}
			AtStart struct{ Started, Ready, Anyway int } `json:"readiness_at_start"`
		}
	}
	body := fetch(t, serveCore(t, readinessCore()), "/api/v1/stats")
	if err := json.Unmarshal([]byte(body), &st); err != nil || len(st.Periods) != 1 {
		t.Fatalf("%v: %s", err, body)
	}
	p := st.Periods[0]
	if p.Debriefs.Rate == nil || *p.Debriefs.Rate != 0.25 || p.Debriefs.Debriefed != 1 || p.Debriefs.Finished != 4 {
		t.Errorf("debriefs: %s", body)
	}
	if p.AtStart.Started != 3 || p.AtStart.Ready != 2 || p.AtStart.Anyway != 1 {
		t.Errorf("readiness at start: %s", body)
	}
}
