package web

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/upgradebot/upgradebot/bot"
)

// feedActions are the changes the feed tells of.
var feedActions = []string{bot.ActionScheduled, bot.ActionRescheduled, bot.ActionExtended, bot.ActionStarted, bot.ActionCompleted, bot.ActionCancelled, bot.ActionRolledBack,
	bot.ActionLinked, bot.ActionReadinessMet, bot.ActionReadinessWaived, bot.ActionReadinessReopened, bot.ActionPlanRecorded, bot.ActionDebriefRecorded}

// feedSize bounds the entries of the feed, newest first.
const feedSize = 200

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	ID      string     `xml:"id"`
	Title   string     `xml:"title"`
	Updated string     `xml:"updated"`
	Author  atomPerson `xml:"author"`
	Link    atomLink   `xml:"link"`
	Summary string     `xml:"summary"`
}

// feed serves /feed.atom: an entry for each scheduled, rescheduled,
// extended, started, completed, cancelled and rolled-back change, each
// release linked, each readiness
// criterion met (by hand or by recording the rollback plan), waived or
// reopened, and each rollback plan and debrief recorded, newest first.
func (s *Surface) feed(w http.ResponseWriter, r *http.Request) {
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
	dir := s.core.Directory()
	var entries []atomEntry
	var stamps []time.Time
	for _, u := range us {
		_, log, err := s.core.Log(r.Context(), u.ID)
		if err != nil {
			if bot.ErrorCode(err) == bot.ENOTFOUND {
				continue
			}
			s.coreError(w, r, err)
			return
		}
		link := s.pageLink(r, u.ID)
		wins := windowsAt(u, log)
		for i, d := range log {
			if !slices.Contains(feedActions, d.Action) {
				continue
			}
			title := u.Title() + " " + words(u, d)
			who := dir.PrincipalNamed(d.Actor, d.Name).Name
			what := words(u, d) + " by " + who
			if readinessAction(d.Action) && d.Criterion != "" {
				title += ": " + d.Criterion
				what += ": " + d.Criterion
			}
			// The window as it was then, not as it is now: a reschedule
			// does not rewrite the entries before it.
			win := wins[i]
			summary := fmt.Sprintf("%s %s. Window %s (UTC).", u.Title(), what, win)
			switch {
			case d.Action == bot.ActionRescheduled && !d.PrevStart.IsZero():
				summary = fmt.Sprintf("%s %s. Window %s (UTC), was %s.", u.Title(), what, win, span{d.PrevStart, d.PrevEnd})
			case d.Action == bot.ActionExtended && d.By > 0:
				summary = fmt.Sprintf("%s %s: it ends %s later. Window %s (UTC).", u.Title(), what, bot.FormatDuration(d.By), win)
			case d.Action == bot.ActionLinked && d.Repo != "":
				title += ": " + d.Repo + " " + d.Tag
				summary = fmt.Sprintf("%s %s: %s %s. Window %s (UTC).", u.Title(), what, d.Repo, d.Tag, win)
			}
			var met []string // criteria the plan met, each an entry of its own below
			switch text := recordedText(u, d); {
			case d.Action == bot.ActionPlanRecorded:
				if d.Criterion != "" {
					met = bot.PlanMet(u, d)
				}
				if text != "" {
					summary += " Rollback plan: " + fullStop(text)
				}
				if len(met) > 0 {
					summary += " Met: " + strings.Join(quoteAll(met), ", ") + "."
				}
			case text != "" && d.Action == bot.ActionDebriefRecorded:
				summary += " Debrief: " + fullStop(text)
			}
			if d.Reason != "" {
				summary += " Why: " + d.Reason
			}
			entries = append(entries, atomEntry{
				ID:      fmt.Sprintf("tag:%s,%s:upgrade-%d/%s/%d", s.domain, d.At.UTC().Format("2006-01-02"), u.ID, d.Action, d.At.UnixNano()),
				Title:   title,
				Updated: d.At.UTC().Format(time.RFC3339),
				Author:  atomPerson{Name: who},
				Link:    atomLink{Href: link},
				Summary: summary,
			})
			stamps = append(stamps, d.At)
			for _, c := range met {
				what := words(u, bot.Decision{Action: bot.ActionReadinessMet}) + " by " + who + " recording the rollback plan"
				entries = append(entries, atomEntry{
					ID:      fmt.Sprintf("tag:%s,%s:upgrade-%d/%s/%d/%s", s.domain, d.At.UTC().Format("2006-01-02"), u.ID, bot.ActionReadinessMet, d.At.UnixNano(), url.PathEscape(c)),
					Title:   u.Title() + " " + words(u, bot.Decision{Action: bot.ActionReadinessMet}) + ": " + c,
					Updated: d.At.UTC().Format(time.RFC3339),
					Author:  atomPerson{Name: who},
					Link:    atomLink{Href: link},
					Summary: fmt.Sprintf("%s %s: %s. Window %s (UTC).", u.Title(), what, c, win),
				})
				stamps = append(stamps, d.At)
			}
		}
	}
	order := make([]int, len(entries))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return stamps[b].Compare(stamps[a]) })
	// Each filtered feed is a feed of its own: its id and title name the
	// service and the region (as the calendar's name does).
	id, title := "tag:"+s.domain+",2026:feed", "Upgrades"
	if f.Service != "" {
		id += "/service/" + url.PathEscape(strings.ToLower(f.Service))
		title += " of " + f.Service
	}
	if f.Region != "" {
		id += "/region/" + url.PathEscape(strings.ToLower(f.Region))
		title += " in " + f.Region
	}
	feed := atomFeed{ID: id, Title: title, Author: atomPerson{Name: "upgradebot"},
		Links: []atomLink{{Rel: "self", Href: s.feedSelf(r, f)}}, Updated: s.core.Now().UTC().Format(time.RFC3339)}
	for _, i := range order[:min(len(order), feedSize)] {
		feed.Entries = append(feed.Entries, entries[i])
	}
	if len(feed.Entries) > 0 {
		feed.Updated = feed.Entries[0].Updated
	}
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	_, _ = w.Write([]byte(xml.Header))
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(feed); err != nil {
		s.log.WarnContext(r.Context(), "writing the feed failed", "err", err)
	}
}

// feedSelf is the feed's self link: /feed.atom with the filters it
// understands (service, region), as read, and the token where links carry
// it (tokenQuery: api.public = false and opened with ?token=); never
// anything else of the query it was asked with.
func (s *Surface) feedSelf(r *http.Request, f bot.Filter) string {
	q := url.Values{}
	if f.Service != "" {
		q.Set("service", f.Service)
	}
	if f.Region != "" {
		q.Set("region", f.Region)
	}
	if tok := s.tokenQuery(r); tok != "" {
		q.Set("token", r.URL.Query().Get("token"))
	}
	if len(q) == 0 {
		return s.link("/feed.atom")
	}
	return s.link("/feed.atom?" + q.Encode())
}

// span is a planned window; it reads "2026-12-01 02:00 to 2026-12-01
// 04:00", in UTC.
type span struct{ start, end time.Time }

func (w span) String() string {
	return w.start.UTC().Format("2006-01-02 15:04") + " to " + w.end.UTC().Format("2006-01-02 15:04")
}

// windowsAt is the planned window of u as it was at each decision of its
// log (oldest first): the one the latest decision up to it that set a
// window (scheduled, rescheduled, extended) set. Before the first of them,
// it is the window that one changed; without any (a log written before
// decisions carried their window), the upgrade's own.
func windowsAt(u *bot.Upgrade, log []bot.Decision) []span {
	sets := func(d bot.Decision) bool {
		return !d.Start.IsZero() && (d.Action == bot.ActionScheduled || d.Action == bot.ActionRescheduled || d.Action == bot.ActionExtended)
	}
	cur := span{u.Start, u.End}
	if i := slices.IndexFunc(log, sets); i >= 0 {
		switch d := log[i]; {
		case d.Action == bot.ActionRescheduled && !d.PrevStart.IsZero():
			cur = span{d.PrevStart, d.PrevEnd}
		case d.Action == bot.ActionExtended:
			cur = span{d.Start, d.End.Add(-d.By)}
		default:
			cur = span{d.Start, d.End}
		}
	}
	out := make([]span, len(log))
	for i, d := range log {
		if sets(d) {
			cur = span{d.Start, d.End}
		}
		out[i] = cur
	}
	return out
}

// fullStop ends text with a full stop unless it ends a sentence already,
// so the next sentence of a summary does not run into it.
func fullStop(text string) string {
	text = strings.TrimSpace(text)
	if strings.HasSuffix(text, ".") || strings.HasSuffix(text, "!") || strings.HasSuffix(text, "?") {
		return text
	}
	return text + "."
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = "'" + s + "'"
	}
	return out
}
