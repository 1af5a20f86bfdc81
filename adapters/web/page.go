package web

import (
	"bytes"
	"cmp"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/commands"
)

// The status page: what is being upgraded, when, at a glance, for people.
// Server-rendered; times are written in UTC and a few lines of script show
// them in the viewer's own zone.

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"iso":    func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"utc":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"utcDay": func(t time.Time) string { return t.UTC().Format("Jan 2") },
}).ParseFS(assets, "assets/templates/layout.html"))

// The range the timeline shows, around now.
const (
	pageBack  = 7 * 24 * time.Hour
	pageAhead = 30 * 24 * time.Hour
)

type pageData struct {
	Title      string
	Base       string // the public URL, or "" for relative links
	TokenQuery string // "?token=…" to carry a token from link to link
	// FeedQuery is the query of the page's calendar and feed links: its
	// filter (?service=, ?region=) and TokenQuery's token.
	FeedQuery string
	Now       time.Time
}

type rowData struct {
	Number      int
	Title       string
	State       string
	StateWords  string
	Start, End  time.Time
	Duration    string
	Left, Width float64 // the bar on the timeline, in percent
	Acked       int
	Total       int
	AckPct      int
	AckLabel    string
	BlastRadius string
	Impact      string // what the owner said users will notice
	Release     string
	ReleaseURL  string
	// The readiness badge of an active upgrade with criteria: "2/3 ready",
	// "not ready · 2/3"; ReadyClass colours it (ready, open, notready).
	ReadyLabel, ReadyClass, ReadyTitle string
}

type groupData struct {
	Service, Region string
	Rows            []rowData
	Windows         []bandData // the service's standard windows, on its first group
	WindowNames     string     // "Tue 02:00-05:00 Europe/Berlin, Thu 22:00-01:00 UTC"
	Freezes         []bandData // the freezes that hold for the service, on its first group
}

type indexData struct {
	pageData
	Filtered                  bool // ?service= or ?region= narrowed it
	From, To                  time.Time
	NowPct                    float64
	Running, Upcoming, Recent int
	CancelledAhead            int // cancelled, their window not over
	Groups                    []groupData
	Freezes                   []bandData
}

func (s *Surface) page(r *http.Request, title string) pageData {
	tq := s.tokenQuery(r)
	return pageData{Title: title, Base: s.publicURL, Now: s.core.Now(), TokenQuery: tq, FeedQuery: tq}
}

// filtered makes the page of f's upgrades say so: its title names the
// service and region ("Upgrade windows of payments in eu-west"), and its
// calendar and feed links keep the filter.
func (s *Surface) filtered(r *http.Request, p pageData, f bot.Filter) pageData {
	q := url.Values{}
	if f.Service != "" {
		p.Title += " of " + f.Service
		q.Set("service", f.Service)
	}
	if f.Region != "" {
		p.Title += " in " + f.Region
		q.Set("region", f.Region)
	}
	if tok := s.tokenQuery(r); tok != "" {
		q.Set("token", r.URL.Query().Get("token"))
	}
	if len(q) > 0 {
		p.FeedQuery = "?" + q.Encode()
	}
	return p
}

func (s *Surface) render(w http.ResponseWriter, r *http.Request, name string, data any) {
	s.renderStatus(w, r, http.StatusOK, name, data)
}

// renderStatus is render with another status than 200.
func (s *Surface) renderStatus(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	t, err := pages.Clone()
	if err == nil {
		_, err = t.ParseFS(assets, "assets/templates/"+name)
	}
	if err == nil {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		err = t.ExecuteTemplate(w, "layout", data)
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "rendering the status page failed", "page", name, "err", err)
	}
}

func (s *Surface) rowOf(v bot.View, from, to time.Time) rowData {
	u := v.Upgrade
	span := to.Sub(from).Seconds()
	pct := func(t time.Time) float64 {
		p := t.Sub(from).Seconds() / span * 100
		return min(max(p, 0), 100)
	}
	cur := v.Current()
	row := rowData{Number: u.ID, Title: u.Title(), State: string(u.State), StateWords: u.State.Words(),
		Start: u.Start, End: u.End, Duration: bot.FormatDuration(u.Duration()),
		Acked: len(cur.Acked), Total: cur.Total, BlastRadius: strings.Join(u.BlastRadius, ", "), Impact: u.Impact}
	if missed(u, s.core.Now()) {
		row.State, row.StateWords = "missed", "ended, never started"
	}
	row.Left = pct(u.Start)
	row.Width = max(pct(u.End)-row.Left, 0.4)
	if cur.Total > 0 {
		row.AckPct = 100 * row.Acked / cur.Total
	}
	label := "Acknowledged"
	if v.Scope == bot.ScopeRollback {
		label = "Rollback acknowledged"
	}
	row.AckLabel = label + " " + strconv.Itoa(row.Acked) + "/" + strconv.Itoa(cur.Total)
	if r := u.Release; r != nil {
		row.Release = r.Repo + " " + r.Tag
		if r.Name != "" && r.Name != r.Tag {
			row.Release += " (" + r.Name + ")"
		}
		row.ReleaseURL = r.URL
	}
	if rd := readinessOf(u); rd.Total > 0 && u.State.Active() {
		row.ReadyLabel, row.ReadyClass, row.ReadyTitle = readyBadge(u, rd, s.core.Now())
	}
	return row
}

// readyBadge is the readiness badge of an active upgrade: all done, "3/3
// ready"; open criteria before the window, "2/3 ready"; open criteria once
// the window has begun or the upgrade started, "not ready · 2/3".
func readyBadge(u *bot.Upgrade, rd readiness, now time.Time) (label, class, title string) {
	count := strconv.Itoa(rd.Done) + "/" + strconv.Itoa(rd.Total)
	title = "Readiness: " + rd.Summary()
	switch {
	case rd.Ready():
		return count + " ready", "ready", title
	case u.State == bot.InProgress || !now.Before(u.Start):
		return "not ready · " + count, "notready", title
	default:
		return count + " ready", "open", title
	}
}

// statusPage serves /: running, upcoming (30 days) and recent (7 days)
// windows on one timeline, grouped by service and region.
func (s *Surface) statusPage(w http.ResponseWriter, r *http.Request) {
	f, ok := s.peopleFilter(w, r)
	if !ok {
		return
	}
	now := s.core.Now()
	from, to := now.Add(-pageBack), now.Add(pageAhead)
	f.From, f.To = from, to
	us, err := s.core.Upgrades(r.Context(), f)
	if err != nil {
		s.coreError(w, r, err)
		return
	}
	data := indexData{pageData: s.filtered(r, s.page(r, "Upgrade windows"), f), Filtered: f.Service != "" || f.Region != "", From: from, To: to,
		NowPct: now.Sub(from).Seconds() / to.Sub(from).Seconds() * 100}
	groups := map[[2]string]*groupData{}
	for _, u := range us {
		v, err := s.core.View(r.Context(), u.ID)
		if err != nil {
			continue // expired meanwhile
		}
		switch pageBucket(u, now) {
		case bucketRunning:
			data.Running++
		case bucketUpcoming:
			data.Upcoming++
		case bucketCancelledAhead:
			data.CancelledAhead++
		default:
			data.Recent++
		}
		key := [2]string{u.Service, u.Region}
		g := groups[key]
		if g == nil {
			g = &groupData{Service: u.Service, Region: u.Region}
			groups[key] = g
		}
		g.Rows = append(g.Rows, s.rowOf(v, from, to))
	}
	for _, g := range groups {
		data.Groups = append(data.Groups, *g)
	}
	bands := s.pageBands(r.Context(), f, from, to)
	data.Freezes = bands.Freezes
	data.Groups = serviceBands(data.Groups, bands)
	s.render(w, r, "index.html", data)
}

// The counts of the status page.
const (
	bucketRunning        = iota // in progress, or scheduled and inside its window
	bucketUpcoming              // scheduled, its window ahead
	bucketRecent                // ended: completed, rolled back, cancelled or never started, its window over
	bucketCancelledAhead        // cancelled, its window not over yet
)

// pageBucket is where the page counts u at now, as the status API does: an
// upgrade is running while it is in progress, or scheduled and inside its
// window; a scheduled one whose window has ended without a start is over
// (ended, never started), not running. A cancelled upgrade is placed by
// its window, like any other: once the window is over it is among the
// recent ones; before, it is counted on its own (cancelled ahead), neither
// upcoming nor ended.
func pageBucket(u *bot.Upgrade, now time.Time) int {
	over := !now.Before(u.End)
	switch {
	case u.State == bot.InProgress:
		return bucketRunning
	case u.State == bot.Scheduled && over:
		return bucketRecent
	case u.State == bot.Scheduled && !now.Before(u.Start):
		return bucketRunning
	case u.State == bot.Scheduled:
		return bucketUpcoming
	case u.State == bot.Cancelled && !over:
		return bucketCancelledAhead
	default:
		return bucketRecent
	}
}

// missed reports whether u is scheduled and its window ended without a
// start.
func missed(u *bot.Upgrade, now time.Time) bool {
	return u.State == bot.Scheduled && !now.Before(u.End)
}

// sortGroups orders the page's groups by service, then region.
func sortGroups(gs []groupData) {
	slices.SortFunc(gs, func(a, b groupData) int {
		return cmp.Or(cmp.Compare(a.Service, b.Service), cmp.Compare(a.Region, b.Region))
	})
}

type upgradePageData struct {
	pageData
	U        upgradeView
	Pending  string
	Acks     []ackView
	Threads  []bot.MessageRef
	Failures []failureView
	// Undelivered counts the failures not made good (bot.Upgrade.FailureResolved),
	// as the root's "⚠ N notice(s) could not be delivered" does.
	Undelivered int
	Log         []logView
}

// failureView is a failed delivery; one made good reads "(posted after
// all at …)" as show says it ("started" for a thread).
type failureView struct {
	bot.Failure
	Resolved bool
	AfterAll string // "posted", or "started" for a thread
	Name     string // the notice in words: "window open"
}

type upgradeView struct {
	rowData
	Started, Ended time.Time
	// RolledBack is when a completed upgrade was rolled back later (Ended
	// is then its completion); zero otherwise.
	RolledBack     time.Time
	EndedLabel     string
	Region, Impact string
	Owners         string
	Conflicts      []string
	Reason, Note   string
	Series         string   // "SER-3 · every Tue 02:00 Europe/Berlin"
	Warnings       []string // outside the standard windows, freezes overridden, DST
	// Readiness: the checklist, a start taken anyway, the rollback plan
	// and the debrief.
	Readiness     string // "2/3 ready; open: canary green"
	Criteria      []criterionView
	Anyway        *anywayView
	Plan, Debrief *recordView
	AwaitsDebrief bool // completed or rolled back, no debrief yet
	Active        bool // scheduled or in progress
}

type criterionView struct {
	Number              int
	Text, State, Mark   string
	StateWords, By, Why string
	At                  time.Time
	Auto                bool
}

type anywayView struct {
	Open, Reason string
}

type recordView struct {
	Parts []textPart // the text, with its http(s) URLs as links
	By    string
	At    time.Time
}

type ackView struct {
	Scope, Who, For string
	At              time.Time
}

type logView struct {
	At                     time.Time
	Who, What, Detail, Why string
	// WindowStart and WindowEnd are the window a decision set (scheduled,
	// rescheduled): times, shown in the viewer's zone as the others are.
	WindowStart, WindowEnd time.Time
	Warnings               []string
}

func names(ps []bot.Principal) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return strings.Join(out, ", ")
}

// upgradePage serves /upgrades/{id}: one upgrade with its decision log.
func (s *Surface) upgradePage(w http.ResponseWriter, r *http.Request) {
	id, err := commands.ParseID(r.PathValue("id"))
	if err != nil {
		s.notFoundPage(w, r, strconv.Quote(r.PathValue("id"))+" is not an upgrade id; use "+commands.IDForms+".")
		return
	}
	v, err := s.core.View(r.Context(), id)
	if err != nil {
		if bot.ErrorCode(err) == bot.ENOTFOUND {
			s.notFoundPage(w, r, httpMessage(err))
			return
		}
		s.coreError(w, r, err)
		return
	}
	_, log, err := s.core.Log(r.Context(), id)
	if err != nil {
		if bot.ErrorCode(err) == bot.ENOTFOUND { // expired meanwhile
			s.notFoundPage(w, r, httpMessage(err))
			return
		}
		s.coreError(w, r, err)
		return
	}
	u := v.Upgrade
	now := s.core.Now()
	data := upgradePageData{pageData: s.page(r, u.Title()), Threads: u.Threads, Pending: names(v.Pending())}
	for _, f := range u.Failures {
		fv := failureView{Failure: f, Resolved: u.FailureResolved(f), AfterAll: "posted", Name: bot.NoticeWords(f.Notice)}
		if f.Notice == string(bot.KindThread) {
			fv.AfterAll = "started"
		}
		if !fv.Resolved {
			data.Undelivered++
		}
		data.Failures = append(data.Failures, fv)
	}
	data.U = upgradeView{rowData: s.rowOf(v, now.Add(-pageBack), now.Add(pageAhead)), Started: u.StartedAt, Ended: u.EndedAt(),
		Region: u.Region, Impact: u.Impact, Owners: names(v.Owners), Reason: u.Reason, Note: u.Note, EndedLabel: "Ended"}
	if u.State == bot.Cancelled {
		data.U.EndedLabel = "Cancelled"
	}
	if u.State == bot.RolledBack && !u.CompletedAt.IsZero() {
		data.U.RolledBack = u.FinishedAt
	}
	if data.U.Owners == "" {
		data.U.Owners = "anyone (no owners configured)"
	}
	if u.State.Active() {
		for _, c := range u.Conflicts {
			data.U.Conflicts = append(data.U.Conflicts, commands.FormatID(c.ID)+" "+c.Service+" "+c.Version)
		}
	}
	data.U.Series, data.U.Warnings = windowFacts(s.core.Directory(), u)
	readinessFacts(s.core.Directory(), u, &data.U)
	for _, a := range []bot.Acknowledgments{v.Brief, v.Rollback} {
		for _, e := range a.Entries {
			data.Acks = append(data.Acks, ackView{Scope: a.Scope, Who: e.Who.Name, For: names(e.For), At: e.At})
		}
	}
	dir := s.core.Directory()
	for _, d := range log {
		lv := logView{At: d.At, Who: dir.PrincipalNamed(d.Actor, d.Name).Name, What: words(u, d), Why: d.Reason}
		switch {
		case !d.Start.IsZero() && d.Action != bot.ActionExtended:
			lv.WindowStart, lv.WindowEnd = d.Start, d.End
		case d.By != 0:
			lv.Detail = "by " + bot.FormatDuration(d.By)
		case d.Scope != "":
			lv.Detail = d.Scope
			if d.For != "" {
				lv.Detail += " for " + dir.Principal(d.For).Name
			}
		case d.Repo != "":
			lv.Detail = d.Repo + " " + d.Tag
		case d.Action == bot.ActionPlanRecorded || d.Action == bot.ActionDebriefRecorded:
			lv.Detail = recordedText(u, d)
			if d.Criterion != "" { // the criteria the plan met
				lv.Detail += " · met: " + d.Criterion
			}
		case d.Criterion != "":
			lv.Detail = d.Criterion
		case d.Action == bot.ActionStarted && len(d.Open) > 0:
			lv.Detail = "with open: " + strings.Join(d.Open, ", ")
		default:
			lv.Detail = d.Detail
		}
		lv.Warnings = logWarnings(dir, d)
		data.Log = append(data.Log, lv)
	}
	s.render(w, r, "upgrade.html", data)
}

type notFoundData struct {
	pageData
	Heading string
	Message string
}

// notFoundPage answers 404 with a page that says why and links to all
// windows (for people, not JSON).
func (s *Surface) notFoundPage(w http.ResponseWriter, r *http.Request, message string) {
	s.errorPage(w, r, http.StatusNotFound, message)
}

// errorPage answers status with a page that says why and links to all
// windows: what people see of an error, where tools get JSON.
func (s *Surface) errorPage(w http.ResponseWriter, r *http.Request, status int, message string) {
	heading := map[int]string{
		http.StatusBadRequest: "Bad request", http.StatusUnauthorized: "Not authorized", http.StatusNotFound: "Not found",
		http.StatusServiceUnavailable: "Unavailable", http.StatusInternalServerError: "Something went wrong",
	}[status]
	heading = cmp.Or(heading, http.StatusText(status))
	p := s.page(r, heading)
	if status == http.StatusUnauthorized { // a token refused is not carried into the links
		p.TokenQuery, p.FeedQuery = "", ""
	}
	s.renderStatus(w, r, status, "notfound.html", notFoundData{pageData: p, Heading: heading, Message: message})
}

// htmlErrors makes the JSON errors of h (a bad parameter, a missing token,
// a store that did not answer) pages for the people who open h in a
// browser; the headers that go with them (WWW-Authenticate, Retry-After)
// stay.
func (s *Surface) htmlErrors(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hw := &htmlErrorWriter{ResponseWriter: w}
		h.ServeHTTP(hw, r)
		if hw.status == 0 {
			return
		}
		var e apiError
		if err := json.Unmarshal(hw.body.Bytes(), &e); err != nil || e.Message == "" {
			e.Message = http.StatusText(hw.status)
		}
		s.errorPage(w, r, hw.status, e.Message)
	})
}

// htmlErrorWriter holds back a JSON error (status 400 and up), for
// htmlErrors to answer as a page; anything else goes through.
type htmlErrorWriter struct {
	http.ResponseWriter
	status int // the error held back; 0 while none
	body   bytes.Buffer
}

func (w *htmlErrorWriter) WriteHeader(code int) {
	if code >= 400 && strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		w.status = code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *htmlErrorWriter) Write(b []byte) (int, error) {
	if w.status != 0 {
		return w.body.Write(b)
	}
	return w.ResponseWriter.Write(b)
}
