package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/commands"
)

// The JSON of /api/v1 (described by openapi.json). Times are RFC 3339 in UTC.

type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type window struct {
	Start time.Time  `json:"start"`
	End   *time.Time `json:"end,omitempty"`
}

type person struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

type ackJSON struct {
	Who person    `json:"who"`
	At  time.Time `json:"at"`
	For []person  `json:"for,omitempty"`
}

type threadJSON struct {
	Channel string `json:"channel"`
	URL     string `json:"url,omitempty"`
}

type failureJSON struct {
	At     time.Time `json:"at"`
	Notice string    `json:"notice"`
	Target string    `json:"target"`
	Error  string    `json:"error"`
	// Resolved: the notice was posted (a thread started) after all, by the
	// rule show and the root's count use (bot.Upgrade.FailureResolved);
	// PostedAt is when, if known.
	Resolved bool       `json:"resolved"`
	PostedAt *time.Time `json:"posted_at,omitempty"`
}

type conflictJSON struct {
	ID      string    `json:"id"`
	Service string    `json:"service"`
	Version string    `json:"version"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
}

type releaseJSON struct {
	Repo        string     `json:"repo"`
	Tag         string     `json:"tag"`
	Name        string     `json:"name,omitempty"`
	URL         string     `json:"url,omitempty"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
}

type acksJSON struct {
	Acknowledged int       `json:"acknowledged"` // audience members who did
	Audience     int       `json:"audience"`
	Pending      []person  `json:"pending"`
	Entries      []ackJSON `json:"entries"`
}

type upgradeJSON struct {
	ID          string         `json:"id"`
	Number      int            `json:"number"`
	Service     string         `json:"service"`
	Version     string         `json:"version"`
	State       string         `json:"state"`
	Window      window         `json:"window"`
	Actual      *window        `json:"actual,omitempty"`
	Region      string         `json:"region,omitempty"`
	Impact      string         `json:"impact,omitempty"`
	Release     *releaseJSON   `json:"release,omitempty"`
	Owners      []person       `json:"owners"`
	Audience    []person       `json:"audience"`
	BlastRadius []string       `json:"blast_radius"`
	Conflicts   []conflictJSON `json:"conflicts"`
	Acks        struct {
		Scope    string   `json:"scope"` // what is asked for now: brief, or rollback
		Brief    acksJSON `json:"brief"`
		Rollback acksJSON `json:"rollback"`
	} `json:"acks"`
	Pending  []person      `json:"pending"`
	Threads  []threadJSON  `json:"threads"`
	Failures []failureJSON `json:"failures"`
	Reason   string        `json:"reason,omitempty"`
	Note     string        `json:"note,omitempty"`
	// RolledBackAt is when a completed upgrade was rolled back later
	// (actual.end is then its completion).
	RolledBackAt *time.Time    `json:"rolled_back_at,omitempty"`
	Warnings     []warningJSON `json:"warnings"`
	Series       *seriesJSON   `json:"series,omitempty"`
	// Readiness: the go/no-go checklist and what goes with it.
	Readiness     []criterionJSON `json:"readiness"`
	Ready         bool            `json:"ready"` // no criterion open
	RollbackPlan  *recordJSON     `json:"rollback_plan,omitempty"`
	StartedAnyway *anywayJSON     `json:"started_anyway,omitempty"`
	Debrief       *recordJSON     `json:"debrief,omitempty"`
	Revision      int             `json:"revision"`
	CreatedAt     time.Time       `json:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
	Links         struct {
		Page string `json:"page"`
		Self string `json:"self"`
	} `json:"links"`
}

type listJSON struct {
	Upgrades   []upgradeJSON `json:"upgrades"`
	NextCursor string        `json:"next_cursor,omitempty"`
}

func persons(ps []bot.Principal) []person {
	out := make([]person, 0, len(ps))
	for _, p := range ps {
		out = append(out, person{Key: p.Key, Name: p.Name})
	}
	return out
}

func acksOf(a bot.Acknowledgments) acksJSON {
	out := acksJSON{Acknowledged: len(a.Acked), Audience: a.Total, Pending: persons(a.Pending), Entries: []ackJSON{}}
	for _, e := range a.Entries {
		out.Entries = append(out.Entries, ackJSON{Who: person{Key: e.Who.Key, Name: e.Who.Name}, At: e.At.UTC(), For: persons(e.For)})
	}
	return out
}

func utc(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func (s *Surface) upgradeOf(v bot.View) upgradeJSON {
	u := v.Upgrade
	j := upgradeJSON{
		ID: u.Key(), Number: u.ID, Service: u.Service, Version: u.Version, State: string(u.State),
		Window: window{Start: u.Start.UTC(), End: utc(u.End)}, Region: u.Region, Impact: u.Impact,
		Owners: persons(v.Owners), Audience: persons(v.Audience), BlastRadius: append([]string{}, u.BlastRadius...),
		Conflicts: []conflictJSON{}, Pending: persons(v.Pending()), Threads: []threadJSON{}, Failures: []failureJSON{},
		Reason: u.Reason, Note: u.Note, Revision: u.Rev, CreatedAt: u.CreatedAt.UTC(), UpdatedAt: v.ChangedAt().UTC(),
	}
	// actual only once it started (a cancelled upgrade that never started
	// has an end, its cancellation, but no actual window); end once it ended.
	if !v.Actual.Start.IsZero() {
		j.Actual = &window{Start: v.Actual.Start.UTC(), End: utc(v.Actual.End)}
	}
	if u.State == bot.RolledBack && !u.CompletedAt.IsZero() {
		at := u.FinishedAt.UTC()
		j.RolledBackAt = &at
	}
	if r := u.Release; r != nil {
		j.Release = &releaseJSON{Repo: r.Repo, Tag: r.Tag, Name: r.Name, URL: r.URL, PublishedAt: utc(r.At)}
	}
	if u.State.Active() {
		for _, c := range u.Conflicts {
			j.Conflicts = append(j.Conflicts, conflictJSON{ID: commands.FormatID(c.ID), Service: c.Service, Version: c.Version, Start: c.Start.UTC(), End: c.End.UTC()})
		}
	}
	j.Acks.Scope, j.Acks.Brief, j.Acks.Rollback = v.Scope, acksOf(v.Brief), acksOf(v.Rollback)
	for _, t := range u.Threads {
		j.Threads = append(j.Threads, threadJSON{Channel: t.Channel, URL: t.URL})
	}
	for _, f := range u.Failures {
		j.Failures = append(j.Failures, failureJSON{At: f.At.UTC(), Notice: f.Notice, Target: f.Target, Error: f.Error,
			Resolved: u.FailureResolved(f), PostedAt: utc(f.PostedAt)})
	}
	windowFieldsOf(s.core.Directory(), u, &j)
	readinessFieldsOf(s.core.Directory(), u, &j)
	j.Links.Page = s.link(UpgradePath(u.ID))
	j.Links.Self = s.link("/api/v1/upgrades/" + u.Key())
	return j
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // "<token>", not "\u003ctoken\u003e"
	_ = enc.Encode(apiError{Code: code, Message: msg})
}

// coreError answers an error of the core: unknown upgrade 404, else 500.
func (s *Surface) coreError(w http.ResponseWriter, r *http.Request, err error) {
	if bot.ErrorCode(err) == bot.ENOTFOUND {
		writeError(w, http.StatusNotFound, "not_found", httpMessage(err))
		return
	}
	late := errors.Is(err, context.DeadlineExceeded) && r.Context().Err() != nil // the read budget ran out
	if late || bot.Unavailable(err) {
		// The store did not answer: within the request's read budget, or
		// at all (a connection refused or timed out).
		msg := "the store did not answer; try again shortly"
		if late {
			msg = "the store did not answer within " + s.readBudget.String() + "; try again shortly"
		}
		if n, ok := s.unanswered.due(time.Now()); ok { // one line a minute, however many requests
			s.log.WarnContext(r.Context(), "status surface: the store did not answer", "path", r.URL.Path, "err", err, "more_since_last", n)
		}
		w.Header().Set("Retry-After", "10")
		writeError(w, http.StatusServiceUnavailable, "unavailable", msg)
		return
	}
	s.log.ErrorContext(r.Context(), "status surface: reading failed", "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, "internal", httpMessage(err))
}

func (s *Surface) getUpgrade(w http.ResponseWriter, r *http.Request) {
	id, err := commands.ParseID(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("%q is not an upgrade id; use UPG-7, upg-7, #7 or 7", r.PathValue("id")))
		return
	}
	v, err := s.core.View(r.Context(), id)
	if err != nil {
		s.coreError(w, r, err)
		return
	}
	writeJSON(w, r, s.upgradeOf(v))
}

// badParam is a 400 naming the query parameter at fault.
type badParam struct{ name, why string }

func (e badParam) Error() string { return e.name + ": " + e.why }

// param reads a query parameter that takes one value: given twice, it is
// refused rather than read as its first value (a second service= or from=
// would look honoured and be ignored).
func param(r *http.Request, name string) (string, error) {
	vs := r.URL.Query()[name]
	if len(vs) > 1 {
		return "", badParam{name, fmt.Sprintf("given %d times; give it once", len(vs))}
	}
	if len(vs) == 0 {
		return "", nil
	}
	return vs[0], nil
}

// serviceParam reads ?service=: a configured service, matched
// case-insensitively, as configured; "" when there is none.
func (s *Surface) serviceParam(r *http.Request) (string, error) {
	v, err := param(r, "service")
	if v == "" || err != nil {
		return "", err
	}
	svc, ok := s.core.Directory().Service(v)
	if !ok {
		return "", badParam{"service", fmt.Sprintf("unknown service %q; known: %s", v, strings.Join(s.core.Directory().ServiceNames(), ", "))}
	}
	return svc.Name, nil
}

// filter reads the list filters of a request.
func (s *Surface) filter(r *http.Request) (bot.Filter, error) {
	q := r.URL.Query()
	var f bot.Filter
	// state=a,b and state=a&state=b alike: every state named.
	if v := strings.Join(q["state"], ","); strings.Trim(v, ", ") != "" {
		for st := range strings.SplitSeq(v, ",") {
			if st = strings.TrimSpace(st); st == "" {
				continue
			}
			if !slices.Contains(allStates, bot.State(st)) {
				return f, badParam{"state", fmt.Sprintf("unknown state %q; use %s (comma-separated)", st, joinStates())}
			}
			f.States = append(f.States, bot.State(st))
		}
	}
	var err error
	if f.Service, err = s.serviceParam(r); err != nil {
		return f, err
	}
	if f.Region, err = param(r, "region"); err != nil {
		return f, err
	}
	for _, p := range []struct {
		name string
		to   *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		v, err := param(r, p.name)
		if err != nil {
			return f, err
		}
		if v != "" {
			// RFC 3339 (section 5.6) allows a lower-case t and z.
			t, err := time.Parse(time.RFC3339, strings.ToUpper(plusOffset(v)))
			if err != nil {
				return f, badParam{p.name, fmt.Sprintf("%q is not an RFC 3339 time such as 2026-12-01T02:00:00Z", v)}
			}
			*p.to = t
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, badParam{"to", "must be after from"}
	}
	return f, nil
}

// plusOffset gives back the + of a positive offset that a query string
// read as a space (from=2026-12-01T03:00:00+01:00 sent without encoding
// the + as %2B arrives as "2026-12-01T03:00:00 01:00"): nothing else
// of an RFC 3339 time can be a space followed by hh:mm at its end.
func plusOffset(v string) string {
	if n := len(v); n > len("T00:00:00 00:00") && v[n-6] == ' ' && v[n-3] == ':' {
		return v[:n-6] + "+" + v[n-5:]
	}
	return v
}

var allStates = []bot.State{bot.Scheduled, bot.InProgress, bot.Completed, bot.RolledBack, bot.Cancelled}

func joinStates() string {
	var s []string
	for _, st := range allStates {
		s = append(s, string(st))
	}
	return strings.Join(s, ", ")
}

// cursor is where a page ended: the last upgrade's start and number, in
// the list's order.
type cursor struct {
	start time.Time
	id    int
}

func (c cursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%d:%d", c.start.UnixMilli(), c.id)))
}

func parseCursor(s string) (cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		ms, id, ok := strings.Cut(string(raw), ":")
		m, err1 := strconv.ParseInt(ms, 10, 64)
		n, err2 := strconv.Atoi(id)
		if ok && err1 == nil && err2 == nil {
			return cursor{start: time.UnixMilli(m), id: n}, nil
		}
	}
	return cursor{}, badParam{"cursor", "not a cursor this API gave; start again without it"}
}

// after reports whether u comes after c in the list's order.
func (c cursor) after(u *bot.Upgrade) bool {
	ms := u.Start.UnixMilli()
	return ms > c.start.UnixMilli() || ms == c.start.UnixMilli() && u.ID > c.id
}

const (
	defaultLimit = 100
	maxLimit     = 500
)

func (s *Surface) listUpgrades(w http.ResponseWriter, r *http.Request) {
	f, err := s.filter(r)
	limit := defaultLimit
	if v, perr := param(r, "limit"); err == nil && perr != nil {
		err = perr
	} else if err == nil && v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > maxLimit {
			err = badParam{"limit", fmt.Sprintf("must be a whole number from 1 to %d", maxLimit)}
		}
	}
	var after *cursor
	if v, perr := param(r, "cursor"); err == nil && perr != nil {
		err = perr
	} else if err == nil && v != "" {
		c, cerr := parseCursor(v)
		after, err = &c, cerr
	}
	var bp badParam
	if errors.As(err, &bp) {
		writeError(w, http.StatusBadRequest, "bad_parameter", bp.Error())
		return
	}
	us, err := s.core.Upgrades(r.Context(), f)
	if err != nil {
		s.coreError(w, r, err)
		return
	}
	if after != nil {
		us = slices.DeleteFunc(us, func(u *bot.Upgrade) bool { return !after.after(u) })
	}
	out := listJSON{Upgrades: []upgradeJSON{}}
	for i, u := range us {
		if i == limit {
			last := us[i-1]
			out.NextCursor = cursor{start: last.Start, id: last.ID}.String()
			break
		}
		v, err := s.core.View(r.Context(), u.ID)
		if err != nil {
			if bot.ErrorCode(err) == bot.ENOTFOUND { // expired meanwhile
				continue
			}
			s.coreError(w, r, err)
			return
		}
		out.Upgrades = append(out.Upgrades, s.upgradeOf(v))
	}
	writeJSON(w, r, out)
}

// statusJSON answers "is this service in maintenance now?".
type statusJSON struct {
	Service string    `json:"service"`
	At      time.Time `json:"at"`
	// InMaintenance is true while the service, or one it depends on, is in
	// an open window: a started upgrade, or a scheduled one whose window
	// has begun.
	InMaintenance bool `json:"in_maintenance"`
	// Until is when the last of those windows ends (planned).
	Until   *time.Time   `json:"until,omitempty"`
	Windows []openWindow `json:"windows"`
	Next    *openWindow  `json:"next,omitempty"`
	Depends []string     `json:"depends_on"`
}

// unstamped: the status without the instant of the answer (its ETag).
func (st statusJSON) unstamped() any {
	st.At = time.Time{}
	return st
}

type openWindow struct {
	Upgrade string    `json:"upgrade"`
	Service string    `json:"service"`
	Version string    `json:"version"`
	State   string    `json:"state"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	// Direct is false when the window is of a service this one depends on.
	Direct bool   `json:"direct"`
	Page   string `json:"page"`
}

func (s *Surface) serviceStatus(w http.ResponseWriter, r *http.Request) {
	dir := s.core.Directory()
	svc, ok := dir.Service(r.PathValue("name"))
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("unknown service %q; known: %s", r.PathValue("name"), strings.Join(dir.ServiceNames(), ", ")))
		return
	}
	st, err := s.status(r.Context(), svc)
	if err != nil {
		s.coreError(w, r, err)
		return
	}
	writeJSON(w, r, st)
}

func (s *Surface) status(ctx context.Context, svc bot.Service) (statusJSON, error) {
	dir := s.core.Directory()
	now := s.core.Now().UTC()
	deps := dir.Dependencies(svc.Name)
	related := map[string]bool{strings.ToLower(svc.Name): true}
	for _, d := range deps {
		related[strings.ToLower(d)] = true
	}
	out := statusJSON{Service: svc.Name, At: now, Windows: []openWindow{}, Depends: append([]string{}, deps...)}
	active, err := s.core.Upgrades(ctx, bot.Filter{States: []bot.State{bot.Scheduled, bot.InProgress}})
	if err != nil {
		return out, err
	}
	for _, u := range active {
		if !related[strings.ToLower(u.Service)] {
			continue
		}
		win := openWindow{Upgrade: u.Key(), Service: u.Service, Version: u.Version, State: string(u.State),
			Start: u.Start.UTC(), End: u.End.UTC(), Direct: strings.EqualFold(u.Service, svc.Name), Page: s.link(UpgradePath(u.ID))}
		// Open: started (also past its planned end: an overrun is still
		// maintenance), or scheduled and its window has begun.
		open := u.State == bot.InProgress || !now.Before(u.Start) && now.Before(u.End)
		switch {
		case open:
			out.Windows = append(out.Windows, win)
			if out.Until == nil || u.End.After(*out.Until) {
				out.Until = utc(u.End)
			}
		case u.Start.After(now) && (out.Next == nil || u.Start.Before(out.Next.Start)):
			next := win
			out.Next = &next
		}
	}
	out.InMaintenance = len(out.Windows) > 0
	return out, nil
}

// statsJSON is the figures of /upgrade stats (docs/stats.md): durations in
// seconds, rates as fractions from 0 to 1, null where there is no data.
type statsJSON struct {
	Service *string           `json:"service"` // null: every service
	At      time.Time         `json:"at"`
	Periods []statsPeriodJSON `json:"periods"`
}

// unstamped: the figures without the instant of the answer and the bounds
// of the periods, which only restate it (its ETag).
func (st statsJSON) unstamped() any {
	st.At = time.Time{}
	st.Periods = slices.Clone(st.Periods)
	for i := range st.Periods {
		st.Periods[i].From, st.Periods[i].To = time.Time{}, time.Time{}
	}
	return st
}

type statsPeriodJSON struct {
	Days     int       `json:"days"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Upgrades struct {
		Total      int `json:"total"`
		Completed  int `json:"completed"`
		RolledBack int `json:"rolled_back"`
		Cancelled  int `json:"cancelled"`
		InProgress int `json:"in_progress"`
		Scheduled  int `json:"scheduled"`
	} `json:"upgrades"`
	RollbackRate *float64 `json:"rollback_rate"`
	TimeToAck    struct {
		Brief    durationsJSON `json:"brief"`
		Rollback durationsJSON `json:"rollback"`
	} `json:"time_to_ack"`
	AckBeforeWindow struct {
		Rate         *float64 `json:"rate"`
		Acknowledged int      `json:"acknowledged"`
		Asked        int      `json:"asked"`
	} `json:"ack_before_window"`
	Overrun struct {
		MedianSeconds *float64 `json:"median_seconds"`
		Finished      int      `json:"finished"`
		Overran       int      `json:"overran"`
	} `json:"overrun"`
	Debriefs struct {
		Rate      *float64 `json:"rate"`
		Debriefed int      `json:"debriefed"`
		Finished  int      `json:"finished"`
	} `json:"debriefs"`
	ReadinessAtStart struct {
		Started int `json:"started"`
		Ready   int `json:"ready"`
		Anyway  int `json:"anyway"`
	} `json:"readiness_at_start"`
}

type durationsJSON struct {
	Acknowledgments int      `json:"acknowledgments"`
	MedianSeconds   *float64 `json:"median_seconds"`
	P90Seconds      *float64 `json:"p90_seconds"`
}

// fraction is a rate, null without data.
func fraction(r bot.Rate) *float64 {
	if f, ok := r.Fraction(); ok {
		return &f
	}
	return nil
}

// seconds is a duration in seconds, null when there is none (!ok).
func seconds(d time.Duration, ok bool) *float64 {
	if !ok {
		return nil
	}
	s := d.Seconds()
	return &s
}

func statsOf(st bot.Stats) statsJSON {
	out := statsJSON{At: st.At.UTC(), Periods: []statsPeriodJSON{}}
	if st.Service != "" {
		out.Service = &st.Service
	}
	for _, p := range st.Periods {
		j := statsPeriodJSON{Days: p.Days, From: p.From.UTC(), To: p.To.UTC()}
		o := p.Outcomes
		j.Upgrades.Total, j.Upgrades.Completed, j.Upgrades.RolledBack = o.Total, o.Completed, o.RolledBack
		j.Upgrades.Cancelled, j.Upgrades.InProgress, j.Upgrades.Scheduled = o.Cancelled, o.InProgress, o.Scheduled
		j.RollbackRate = fraction(o.RollbackRate())
		for _, d := range []struct {
			in  bot.Durations
			out *durationsJSON
		}{{p.TimeToAck.Brief, &j.TimeToAck.Brief}, {p.TimeToAck.Rollback, &j.TimeToAck.Rollback}} {
			*d.out = durationsJSON{Acknowledgments: d.in.Count, MedianSeconds: seconds(d.in.Median, d.in.Count > 0), P90Seconds: seconds(d.in.P90, d.in.Count > 0)}
		}
		j.AckBeforeWindow.Rate = fraction(p.AckedBeforeWindow)
		j.AckBeforeWindow.Acknowledged, j.AckBeforeWindow.Asked = p.AckedBeforeWindow.Part, p.AckedBeforeWindow.Whole
		j.Overrun.MedianSeconds = seconds(p.Overrun.Median, p.Overrun.Finished > 0)
		j.Overrun.Finished, j.Overrun.Overran = p.Overrun.Finished, p.Overrun.Overran
		j.Debriefs.Rate = fraction(p.Debriefs)
		j.Debriefs.Debriefed, j.Debriefs.Finished = p.Debriefs.Part, p.Debriefs.Whole
		j.ReadinessAtStart.Started, j.ReadinessAtStart.Ready, j.ReadinessAtStart.Anyway = p.AtStart.Started, p.AtStart.Ready, p.AtStart.Anyway
		out.Periods = append(out.Periods, j)
	}
	return out
}

func (s *Surface) stats(w http.ResponseWriter, r *http.Request) {
	name, err := s.serviceParam(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", err.Error())
		return
	}
	st, err := s.core.Stats(r.Context(), name)
	if err != nil {
		s.coreError(w, r, err)
		return
	}
	writeJSON(w, r, statsOf(st))
}

// everyMinute lets a log line through at most once a minute and counts
// those held back meanwhile.
type everyMinute struct {
	mu   sync.Mutex
	last time.Time
	held int
}

// due reports whether a line may be written at now, and how many were held
// back since the last one.
func (e *everyMinute) due(now time.Time) (held int, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.last.IsZero() && now.Sub(e.last) < time.Minute {
		e.held++
		return 0, false
	}
	held, e.held, e.last = e.held, 0, now
	return held, true
}
