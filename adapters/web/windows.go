package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/commands"
)

// Standard windows and change freezes on the status surface: the API
// (GET /api/v1/services/{name}/windows, GET /api/v1/freezes), the calendar
// (their own events) and the status page (bands on the timeline).

// Windows is what the status surface reads of standard windows and
// freezes (*bot.Bot).
type Windows interface {
	Windows(ctx context.Context, service string, n int) (bot.WindowsReport, error)
	Freezes(ctx context.Context, all bool) ([]bot.Freeze, error)
}

// windowRoutes registers the API of standard windows and freezes.
func (s *Surface) windowRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/services/{name}/windows", s.api(s.serviceWindows))
	mux.Handle("GET /api/v1/freezes", s.api(s.listFreezes))
}

type standardWindowJSON struct {
	Text     string `json:"text"`
	Weekday  string `json:"weekday"`
	Start    string `json:"start"`
	End      string `json:"end"`
	TimeZone string `json:"time_zone"`
}

type frozenByJSON struct {
	Name   string `json:"name"`
	Reason string `json:"reason,omitempty"`
}

type occurrenceJSON struct {
	Window   string         `json:"window"`
	Start    time.Time      `json:"start"`
	End      time.Time      `json:"end"`
	Free     bool           `json:"free"`
	Note     string         `json:"note,omitempty"`
	FrozenBy []frozenByJSON `json:"frozen_by"`
	BusyWith []conflictJSON `json:"busy_with"`
}

type windowsJSON struct {
	Service  string               `json:"service"`
	At       time.Time            `json:"at"`
	Windows  []standardWindowJSON `json:"windows"`
	Upcoming []occurrenceJSON     `json:"upcoming"`
}

// unstamped: the windows without the instant of the answer (its ETag).
func (ws windowsJSON) unstamped() any {
	ws.At = time.Time{}
	return ws
}

const (
	defaultWindowCount = 10
	maxWindowCount     = 52
)

func windowJSON(w commands.Window) standardWindowJSON {
	return standardWindowJSON{Text: w.String(), Weekday: strings.ToLower(w.Day.String()),
		Start: fmt.Sprintf("%02d:%02d", w.Start/60, w.Start%60), End: fmt.Sprintf("%02d:%02d", w.End/60, w.End%60), TimeZone: w.Loc.String()}
}

// serviceWindows serves GET /api/v1/services/{name}/windows: the service's
// standard windows and their next occurrences (?count=, default 10), each
// free or with the freezes and upgrades that keep it from being free.
func (s *Surface) serviceWindows(w http.ResponseWriter, r *http.Request) {
	n := defaultWindowCount
	v, err := param(r, "count")
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", err.Error())
		return
	}
	if v != "" {
		c, err := strconv.Atoi(v)
		if err != nil || c < 1 || c > maxWindowCount {
			writeError(w, http.StatusBadRequest, "bad_parameter", fmt.Sprintf("count: must be a whole number from 1 to %d", maxWindowCount))
			return
		}
		n = c
	}
	if s.windows == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "this server does not read standard windows")
		return
	}
	rep, err := s.windows.Windows(r.Context(), r.PathValue("name"), n)
	if err != nil {
		if bot.ErrorCode(err) == bot.ENOTFOUND {
			dir := s.core.Directory()
			writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("unknown service %q; known: %s", r.PathValue("name"), strings.Join(dir.ServiceNames(), ", ")))
			return
		}
		s.coreError(w, r, err)
		return
	}
	out := windowsJSON{Service: rep.Service.Name, At: s.core.Now().UTC(), Windows: []standardWindowJSON{}, Upcoming: []occurrenceJSON{}}
	for _, win := range rep.Service.Windows {
		out.Windows = append(out.Windows, windowJSON(win))
	}
	for _, sl := range rep.Slots {
		o := occurrenceJSON{Window: sl.Window.String(), Start: sl.Start.UTC(), End: sl.End.UTC(), Free: sl.Free(), Note: sl.Note,
			FrozenBy: []frozenByJSON{}, BusyWith: []conflictJSON{}}
		for _, f := range sl.Frozen {
			o.FrozenBy = append(o.FrozenBy, frozenByJSON{Name: f.Name, Reason: f.Reason})
		}
		for _, c := range sl.Busy {
			o.BusyWith = append(o.BusyWith, conflictJSON{ID: commands.FormatID(c.ID), Service: c.Service, Version: c.Version, Start: c.Start.UTC(), End: c.End.UTC()})
		}
		out.Upcoming = append(out.Upcoming, o)
	}
	writeJSON(w, r, out)
}

type freezeJSON struct {
	Name          string     `json:"name"`
	From          time.Time  `json:"from"`
	To            time.Time  `json:"to"`
	Services      []string   `json:"services"`
	Regions       []string   `json:"regions"`
	Reason        string     `json:"reason,omitempty"`
	Source        string     `json:"source"`
	HoldsNow      bool       `json:"holds_now"`
	CreatedBy     string     `json:"created_by,omitempty"`
	CreatedAt     *time.Time `json:"created_at,omitempty"`
	RemovedBy     string     `json:"removed_by,omitempty"`
	RemovedAt     *time.Time `json:"removed_at,omitempty"`
	RemovedReason string     `json:"removed_reason,omitempty"`
}

type freezesJSON struct {
	At      time.Time    `json:"at"`
	Freezes []freezeJSON `json:"freezes"`
}

// unstamped: the freezes without the instant of the answer (its ETag).
func (fs freezesJSON) unstamped() any {
	fs.At = time.Time{}
	return fs
}

// listFreezes serves GET /api/v1/freezes: the freezes that hold now or
// later (?all=true: also those ended or removed in the last 30 days),
// ?service= those that hold for one service.
func (s *Surface) listFreezes(w http.ResponseWriter, r *http.Request) {
	service, err := s.serviceParam(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", err.Error())
		return
	}
	all := false
	v, err := param(r, "all")
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", err.Error())
		return
	}
	if v != "" {
		if all, err = strconv.ParseBool(v); err != nil {
			writeError(w, http.StatusBadRequest, "bad_parameter", "all: must be true or false")
			return
		}
	}
	fs, err := s.freezes(r.Context(), service, all)
	if err != nil {
		s.coreError(w, r, err)
		return
	}
	now := s.core.Now()
	out := freezesJSON{At: now.UTC(), Freezes: []freezeJSON{}}
	dir := s.core.Directory()
	for _, f := range fs {
		j := freezeJSON{Name: f.Name, From: f.From.UTC(), To: f.To.UTC(), Services: append([]string{}, f.Services...),
			Regions: append([]string{}, f.Regions...), Reason: f.Reason, Source: "command",
			HoldsNow: !f.Removed() && !now.Before(f.From) && now.Before(f.To), CreatedAt: utc(f.CreatedAt), RemovedAt: utc(f.RemovedAt),
			RemovedReason: f.RemovedReason}
		if len(j.Services) == 0 {
			j.Services = []string{"*"}
		}
		if f.Configured {
			j.Source = "configuration"
		}
		if f.CreatedBy != "" {
			j.CreatedBy = dir.Principal(f.CreatedBy).Name
		}
		if f.RemovedBy != "" {
			j.RemovedBy = dir.Principal(f.RemovedBy).Name
		}
		out.Freezes = append(out.Freezes, j)
	}
	writeJSON(w, r, out)
}

// freezes reads the freezes, those of one service when it is not "".
func (s *Surface) freezes(ctx context.Context, service string, all bool) ([]bot.Freeze, error) {
	if s.windows == nil {
		return nil, nil
	}
	fs, err := s.windows.Freezes(ctx, all)
	if err != nil {
		return nil, err
	}
	if service != "" {
		fs = slices.DeleteFunc(fs, func(f bot.Freeze) bool { return !f.Applies(service, "") })
	}
	return fs, nil
}

// calendarWindows writes the standard windows (their occurrences from a
// week ago to calendarAhead, in UTC, TRANSP:TRANSPARENT: they block
// nothing) and the freezes as events of their own. ?service= keeps those
// of one service; ?region= the freezes that hold there.
func (s *Surface) calendarWindows(ctx context.Context, f bot.Filter, line func(name, value string)) error {
	now := s.core.Now()
	stamp := icsTime(now)
	dir := s.core.Directory()
	for _, name := range dir.ServiceNames() {
		svc, _ := dir.Service(name)
		if f.Service != "" && svc.Name != f.Service {
			continue
		}
		for _, win := range svc.Windows {
			for _, o := range win.Occurrences(now.Add(-7*24*time.Hour), now.Add(calendarAhead)) {
				line("BEGIN", "VEVENT")
				line("UID", fmt.Sprintf("window-%s-%s@%s", icsID(svc.Name), o.Start.UTC().Format("20060102T1504Z"), s.domain))
				line("DTSTAMP", stamp)
				line("DTSTART", icsTime(o.Start))
				line("DTEND", icsTime(o.End))
				line("SUMMARY", icsText("Standard window: "+svc.Name))
				desc := "Standard maintenance window of " + svc.Name + ": " + win.String() + "."
				if o.Note != "" {
					desc += "\n" + o.Note
				}
				line("DESCRIPTION", icsText(desc))
				line("CATEGORIES", icsList("standard window", svc.Name))
				line("TRANSP", "TRANSPARENT")
				line("END", "VEVENT")
			}
		}
	}
	fs, err := s.freezes(ctx, f.Service, false)
	if err != nil {
		return err
	}
	for _, fr := range fs {
		if f.Region != "" && !fr.Applies(cmpService(fr, f.Service), f.Region) {
			continue
		}
		line("BEGIN", "VEVENT")
		line("UID", "freeze-"+icsID(fr.Name)+"-"+fr.From.UTC().Format("20060102T1504Z")+"@"+s.domain)
		line("DTSTAMP", stamp)
		line("DTSTART", icsTime(fr.From))
		line("DTEND", icsTime(fr.To))
		line("SUMMARY", icsText("Change freeze: "+fr.Name))
		desc := "No upgrades of " + freezeScope(fr) + "."
		if fr.Reason != "" {
			desc += "\nReason: " + fr.Reason
		}
		line("DESCRIPTION", icsText(desc))
		line("CATEGORIES", icsList("freeze"))
		line("TRANSP", "OPAQUE")
		line("END", "VEVENT")
	}
	return nil
}

// calendarAhead is how far ahead the calendar lists standard windows.
const calendarAhead = 60 * 24 * time.Hour

// cmpService is the service a region filter checks a freeze for: the one
// asked for, or any it holds for.
func cmpService(f bot.Freeze, service string) string {
	if service != "" || f.Everywhere() {
		return service
	}
	return f.Services[0]
}

func freezeScope(f bot.Freeze) string {
	s := "any service"
	if !f.Everywhere() {
		s = strings.Join(f.Services, ", ")
	}
	if len(f.Regions) > 0 {
		s += " in " + strings.Join(f.Regions, ", ")
	}
	return s
}

// icsID keeps a name safe in a UID.
func icsID(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_' {
			return r
		}
		return '-'
	}, s)
}

// bandData is a stretch on the status page's timeline: a standard window
// or a freeze.
type bandData struct {
	Label       string
	Title       string // shown on hover
	Detail      string // what the list beside the timeline says of it
	Left, Width float64
	Start, End  time.Time
}

// bandsData are the standard windows of each service and the freezes, for
// the status page.
type bandsData struct {
	Freezes []bandData
	frozen  []bot.Freeze          // the freeze of each of Freezes
	Windows map[string][]bandData // by service
	Names   map[string]string     // by service: its standard windows, as configured
}

// pageBands lays the standard windows and the freezes of [from, to) on the
// page's timeline.
func (s *Surface) pageBands(ctx context.Context, f bot.Filter, from, to time.Time) bandsData {
	span := to.Sub(from).Seconds()
	pct := func(t time.Time) float64 { return min(max(t.Sub(from).Seconds()/span*100, 0), 100) }
	band := func(label, title string, start, end time.Time) bandData {
		b := bandData{Label: label, Title: title, Start: start, End: end, Left: pct(start)}
		b.Width = max(pct(end)-b.Left, 0.3)
		return b
	}
	out := bandsData{Windows: map[string][]bandData{}, Names: map[string]string{}}
	dir := s.core.Directory()
	for _, name := range dir.ServiceNames() {
		svc, _ := dir.Service(name)
		if f.Service != "" && svc.Name != f.Service {
			continue
		}
		var names []string
		for _, win := range svc.Windows {
			names = append(names, win.String())
		}
		out.Names[svc.Name] = strings.Join(names, ", ")
		for _, win := range svc.Windows {
			for _, o := range win.Occurrences(from, to) {
				out.Windows[svc.Name] = append(out.Windows[svc.Name], band(win.String(), "Standard window "+win.String(), o.Start, o.End))
			}
		}
	}
	fs, err := s.freezes(ctx, f.Service, false)
	if err != nil {
		s.log.WarnContext(ctx, "status page: reading freezes failed", "err", err)
	}
	for _, fr := range fs {
		if !fr.Overlaps(from, to) {
			continue
		}
		detail := "no upgrades of " + freezeScope(fr)
		if fr.Reason != "" {
			detail += " · " + fr.Reason
		}
		b := band(fr.Name, "Change freeze "+fr.Name+": "+detail, fr.From, fr.To)
		b.Detail = detail
		out.Freezes = append(out.Freezes, b)
		out.frozen = append(out.frozen, fr)
	}
	return out
}

// serviceBands adds the groups of services that have standard windows but
// no upgrade on the page, so their windows show too, and lays on each
// service's track the freezes that hold for it (not one limited to other
// services).
func serviceBands(groups []groupData, bands bandsData) []groupData {
	for svc := range bands.Windows {
		if !slices.ContainsFunc(groups, func(g groupData) bool { return g.Service == svc }) {
			groups = append(groups, groupData{Service: svc})
		}
	}
	sortGroups(groups)
	for i := range groups {
		if i == 0 || groups[i-1].Service != groups[i].Service {
			groups[i].Windows = bands.Windows[groups[i].Service]
			groups[i].WindowNames = bands.Names[groups[i].Service]
			for j, fr := range bands.frozen {
				if fr.Applies(groups[i].Service, "") {
					groups[i].Freezes = append(groups[i].Freezes, bands.Freezes[j])
				}
			}
		}
	}
	return groups
}

// warningsJSON and seriesJSON are what the API says of an upgrade's
// warnings and its series.
type warningJSON struct {
	Kind    string     `json:"kind"`
	Text    string     `json:"text"`
	Windows []string   `json:"windows,omitempty"`
	Freeze  string     `json:"freeze,omitempty"`
	From    *time.Time `json:"from,omitempty"`
	To      *time.Time `json:"to,omitempty"`
	By      string     `json:"by,omitempty"`
	Reason  string     `json:"reason,omitempty"`
}

type seriesJSON struct {
	ID    string `json:"id"`
	Every string `json:"every"`
	Date  string `json:"date"`
}

// windowFieldsOf fills what the API says of an upgrade's window beyond the
// plan: its warnings, in words and as data, and its series.
func windowFieldsOf(dir *bot.Directory, u *bot.Upgrade, j *upgradeJSON) {
	j.Warnings = []warningJSON{}
	for _, w := range u.Warnings {
		wj := warningJSON{Kind: w.Kind, Text: dir.WarningText(u.Service, w), Windows: w.Windows, Freeze: w.Freeze, From: utc(w.From), To: utc(w.To), Reason: w.Reason}
		if w.By != "" {
			wj.By = dir.Principal(w.By).Name
		}
		j.Warnings = append(j.Warnings, wj)
	}
	if sr := u.Series; sr != nil {
		j.Series = &seriesJSON{ID: bot.SeriesKey(sr.ID), Every: sr.Every, Date: sr.Date}
	}
}

// windowFacts are what the upgrade page says of an upgrade's window beyond
// the plan: its series and its warnings.
func windowFacts(dir *bot.Directory, u *bot.Upgrade) (series string, warnings []string) {
	if sr := u.Series; sr != nil {
		series = bot.SeriesKey(sr.ID) + " · every " + sr.Every
	}
	for _, w := range u.Warnings {
		warnings = append(warnings, dir.WarningText(u.Service, w))
	}
	return series, warnings
}

// logWarnings are the warnings of a decision, for the upgrade page's log.
func logWarnings(dir *bot.Directory, d bot.Decision) []string {
	var out []string
	for _, w := range d.Warnings {
		out = append(out, dir.WarningText("", w))
	}
	return out
}
