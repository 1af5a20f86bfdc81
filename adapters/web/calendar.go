package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/upgradebot/upgradebot/bot"
)

// calendarLookback is how far back the calendar and the feed look.
const calendarLookback = 90 * 24 * time.Hour

// calendar serves /calendar.ics: RFC 5545, one VEVENT per upgrade window,
// UID stable, SEQUENCE 0 for a new upgrade and one more with each change a
// calendar shows (bot.Upgrade.Sequence, CalendarView), STATUS
// CONFIRMED or CANCELLED, times in UTC; then the standard windows and the
// freezes, as events of their own (calendarWindows). ?service= and
// ?region= filter.
func (s *Surface) calendar(w http.ResponseWriter, r *http.Request) {
	f, ok := s.peopleFilter(w, r)
	if !ok {
		return
	}
	f.From = s.core.Now().Add(-calendarLookback)
	us, err := s.core.Upgrades(r.Context(), f)
	if err != nil {
		s.coreError(w, r, err)
		return
	}
	var b strings.Builder
	events := 0
	line := func(name, value string) {
		if name == "BEGIN" && value == "VEVENT" {
			events++
		}
		b.WriteString(fold(name + ":" + value))
	}
	line("BEGIN", "VCALENDAR")
	line("VERSION", "2.0")
	line("PRODID", "-//upgradebot//status calendar//EN")
	line("CALSCALE", "GREGORIAN")
	line("METHOD", "PUBLISH")
	line("X-WR-CALNAME", calendarName(f))
	for _, u := range us {
		line("BEGIN", "VEVENT")
		line("UID", fmt.Sprintf("upgrade-%d@%s", u.ID, s.domain))
		line("SEQUENCE", strconv.Itoa(u.Sequence()))
		line("DTSTAMP", icsTime(u.UpdatedAt))
		line("LAST-MODIFIED", icsTime(u.UpdatedAt))
		line("CREATED", icsTime(u.CreatedAt))
		line("DTSTART", icsTime(u.Start))
		line("DTEND", icsTime(u.End))
		line("SUMMARY", icsText(u.Title()))
		status := "CONFIRMED"
		if u.State == bot.Cancelled {
			status = "CANCELLED"
		}
		line("STATUS", status)
		// Never the token: calendar apps show an event's description and
		// URL to everyone the calendar or the event is shared with.
		link := s.link(UpgradePath(u.ID))
		line("DESCRIPTION", icsText(s.describe(u, link)))
		if u.Region != "" {
			line("LOCATION", icsText(u.Region))
		}
		line("CATEGORIES", icsList(u.Service))
		if strings.HasPrefix(link, "http") {
			line("URL", link)
		}
		line("END", "VEVENT")
	}
	if err := s.calendarWindows(r.Context(), f, line); err != nil {
		s.coreError(w, r, err)
		return
	}
	if events == 0 {
		// RFC 5545 3.6: a calendar has at least one component. Without
		// any event, the one time zone its times are in: UTC.
		line("BEGIN", "VTIMEZONE")
		line("TZID", "UTC")
		line("BEGIN", "STANDARD")
		line("DTSTART", "19700101T000000")
		line("TZOFFSETFROM", "+0000")
		line("TZOFFSETTO", "+0000")
		line("TZNAME", "UTC")
		line("END", "STANDARD")
		line("END", "VTIMEZONE")
	}
	line("END", "VCALENDAR")
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `inline; filename="upgrades.ics"`)
	_, _ = w.Write([]byte(b.String()))
}

func calendarName(f bot.Filter) string {
	name := "Upgrades"
	if f.Service != "" {
		name += " of " + f.Service
	}
	if f.Region != "" {
		name += " in " + f.Region
	}
	return icsText(name)
}

// describe is the text of an event: state, impact, release, readiness (the
// checklist, a start taken anyway, the rollback plan, the debrief) and the
// thread, and link, the upgrade's page.
func (s *Surface) describe(u *bot.Upgrade, link string) string {
	lines := []string{"State: " + u.State.Words()}
	if u.Impact != "" {
		lines = append(lines, "Impact: "+u.Impact)
	}
	if len(u.BlastRadius) > 0 {
		lines = append(lines, "Blast radius: "+strings.Join(u.BlastRadius, ", "))
	}
	if r := u.Release; r != nil {
		rel := "Release: " + r.Repo + " " + r.Tag
		if r.URL != "" {
			rel += " " + r.URL
		}
		lines = append(lines, rel)
	}
	lines = append(lines, describeReadiness(u)...)
	for _, t := range u.Threads {
		if t.URL != "" {
			lines = append(lines, "Thread: "+t.URL)
		}
	}
	lines = append(lines, "Details: "+link)
	return strings.Join(lines, "\n")
}

func icsTime(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// icsText escapes a TEXT value (RFC 5545 3.3.11).
func icsText(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`).Replace(s)
}

// icsList is a list of TEXT values, such as CATEGORIES (RFC 5545
// 3.8.1.2): each escaped on its own, a comma between them.
func icsList(values ...string) string {
	escaped := make([]string, len(values))
	for i, v := range values {
		escaped[i] = icsText(v)
	}
	return strings.Join(escaped, ",")
}

// fold ends a content line with CRLF, folded at 75 octets (RFC 5545 3.1),
// never inside a UTF-8 sequence.
func fold(line string) string {
	var b strings.Builder
	n := 0
	for i, r := range line {
		size := len(string(r))
		if n+size > 75 {
			b.WriteString("\r\n ")
			n = 1
		}
		b.WriteString(line[i : i+size])
		n += size
	}
	b.WriteString("\r\n")
	return b.String()
}

// peopleFilter reads ?service= and ?region= of the calendar, the feed and
// the page; a bad one is a 400 naming it.
func (s *Surface) peopleFilter(w http.ResponseWriter, r *http.Request) (bot.Filter, bool) {
	var f bot.Filter
	var err error
	if f.Service, err = s.serviceParam(r); err != nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", err.Error())
		return f, false
	}
	if f.Region, err = param(r, "region"); err != nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", err.Error())
		return f, false
	}
	return f, true
}
