package web

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/upgradebot/upgradebot/bot"
)

// Readiness on the status surface (issue 14): the go/no-go checklist, the
// rollback plan on record, a start taken anyway and the debrief, in the
// API, the calendar, the feed and the pages.

// criterionJSON is one readiness criterion in the API.
type criterionJSON struct {
	Number    int        `json:"number"` // its number in the list, from 1
	Criterion string     `json:"criterion"`
	State     string     `json:"state"`
	By        string     `json:"by,omitempty"` // who met or waived it, by name
	At        *time.Time `json:"at,omitempty"`
	Reason    string     `json:"reason,omitempty"`
	Auto      bool       `json:"auto"`
}

// recordJSON is text put on record: the rollback plan, the debrief.
type recordJSON struct {
	Text string    `json:"text"`
	By   string    `json:"by"`
	At   time.Time `json:"at"`
}

// anywayJSON is a start with criteria still open.
type anywayJSON struct {
	Open   []string `json:"open"`
	Reason string   `json:"reason"`
}

// readiness counts an upgrade's criteria: met or waived (done) of all,
// and the open ones by name.
type readiness struct {
	Done, Total int
	Open        []string
}

func readinessOf(u *bot.Upgrade) readiness {
	r := readiness{Total: len(u.Readiness)}
	for _, c := range u.Readiness {
		if c.State == bot.CriterionOpen || c.State == "" {
			r.Open = append(r.Open, c.Text)
		} else {
			r.Done++
		}
	}
	return r
}

// Ready reports whether no criterion is open.
func (r readiness) Ready() bool { return len(r.Open) == 0 }

// Summary is "2/3 ready; open: canary green", "3/3 ready".
func (r readiness) Summary() string {
	s := strconv.Itoa(r.Done) + "/" + strconv.Itoa(r.Total) + " ready"
	if len(r.Open) > 0 {
		s += "; open: " + strings.Join(r.Open, ", ")
	}
	return s
}

func recordOf(dir *bot.Directory, r *bot.Record) *recordJSON {
	if r == nil {
		return nil
	}
	return &recordJSON{Text: r.Text, By: dir.Principal(r.By).Name, At: r.At.UTC()}
}

// readinessFieldsOf fills the readiness fields of an upgrade's JSON.
func readinessFieldsOf(dir *bot.Directory, u *bot.Upgrade, j *upgradeJSON) {
	j.Readiness = []criterionJSON{}
	for i, c := range u.Readiness {
		cj := criterionJSON{Number: i + 1, Criterion: c.Text, State: c.State, At: utc(c.At), Reason: c.Reason, Auto: c.Auto}
		if cj.State == "" {
			cj.State = bot.CriterionOpen
		}
		if c.By != "" {
			cj.By = dir.Principal(c.By).Name
		}
		j.Readiness = append(j.Readiness, cj)
	}
	j.Ready = readinessOf(u).Ready()
	j.RollbackPlan = recordOf(dir, u.Plan)
	j.Debrief = recordOf(dir, u.Debrief)
	if a := u.StartedAnyway; a != nil {
		j.StartedAnyway = &anywayJSON{Open: append([]string{}, a.Open...), Reason: a.Reason}
	}
}

// describeReadiness are the calendar description's lines of readiness.
func describeReadiness(u *bot.Upgrade) []string {
	var lines []string
	if r := readinessOf(u); r.Total > 0 {
		lines = append(lines, "Readiness: "+r.Summary())
	}
	if a := u.StartedAnyway; a != nil {
		line := "Started anyway"
		if len(a.Open) > 0 {
			line += " with open: " + strings.Join(a.Open, ", ")
		}
		if a.Reason != "" {
			line += " (why: " + a.Reason + ")"
		}
		lines = append(lines, line)
	}
	if u.Plan != nil {
		lines = append(lines, "Rollback plan: "+u.Plan.Text)
	}
	if u.Debrief != nil {
		lines = append(lines, "Debrief: "+u.Debrief.Text)
	}
	return lines
}

// The words of the decision log's actions on the page and in the feed,
// where they differ from the action's name.
var actionWords = map[string]string{
	bot.ActionReadinessMet:      "criterion met",
	bot.ActionReadinessWaived:   "criterion waived",
	bot.ActionReadinessReopened: "criterion reopened",
	bot.ActionPlanRecorded:      "rollback plan recorded",
	bot.ActionDebriefRecorded:   "debrief recorded",
	bot.ActionLinked:            "release linked",
}

// words is a decision's action as people read it: "criterion met",
// "started anyway".
func words(u *bot.Upgrade, d bot.Decision) string {
	if d.Action == bot.ActionStarted && (len(d.Open) > 0 || u.StartedAnyway != nil) {
		return "started anyway"
	}
	if w, ok := actionWords[d.Action]; ok {
		return w
	}
	return strings.ReplaceAll(d.Action, "_", " ")
}

// readinessAction reports whether an action is one of readiness.
func readinessAction(action string) bool {
	switch action {
	case bot.ActionReadinessMet, bot.ActionReadinessWaived, bot.ActionReadinessReopened:
		return true
	}
	return false
}

// recordedText is the text a plan_recorded or debrief_recorded decision
// put on record: the decision's own detail, else the record it made if
// that is still the one on record (same moment).
func recordedText(u *bot.Upgrade, d bot.Decision) string {
	if d.Detail != "" {
		return d.Detail
	}
	var r *bot.Record
	switch d.Action {
	case bot.ActionPlanRecorded:
		r = u.Plan
	case bot.ActionDebriefRecorded:
		r = u.Debrief
	}
	if r != nil && r.At.Equal(d.At) {
		return r.Text
	}
	return ""
}

// textPart is a piece of text on the page, a link when URL is set.
type textPart struct {
	Text, URL string
}

// linkify splits text into plain parts and links: only whole words that
// are absolute http or https URLs with a host become links; the template
// escapes everything.
func linkify(text string) []textPart {
	var parts []textPart
	plain := func(s string) {
		if s == "" {
			return
		}
		if n := len(parts); n > 0 && parts[n-1].URL == "" {
			parts[n-1].Text += s
			return
		}
		parts = append(parts, textPart{Text: s})
	}
	rest := text
	for rest != "" {
		i := strings.IndexAny(rest, " \t\r\n")
		word, sep := rest, ""
		if i >= 0 {
			word, sep, rest = rest[:i], rest[i:i+1], rest[i+1:]
		} else {
			rest = ""
		}
		// A sentence's punctuation after a link is not part of it.
		trail := ""
		for len(word) > 0 && strings.ContainsRune(".,;:!?)", rune(word[len(word)-1])) {
			trail = word[len(word)-1:] + trail
			word = word[:len(word)-1]
		}
		if u, err := url.Parse(word); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			parts = append(parts, textPart{Text: word, URL: word})
			plain(trail + sep)
			continue
		}
		plain(word + trail + sep)
	}
	return parts
}

// The marks of the criteria's states on the page.
var criterionMarks = map[string]string{bot.CriterionMet: "✓", bot.CriterionWaived: "⚠", bot.CriterionOpen: "○"}

func recordViewOf(dir *bot.Directory, r *bot.Record) *recordView {
	if r == nil {
		return nil
	}
	return &recordView{Parts: linkify(r.Text), By: dir.Principal(r.By).Name, At: r.At}
}

// readinessFacts are what the upgrade page shows of readiness.
func readinessFacts(dir *bot.Directory, u *bot.Upgrade, v *upgradeView) {
	if rd := readinessOf(u); rd.Total > 0 {
		v.Readiness = rd.Summary()
	}
	for i, c := range u.Readiness {
		st := c.State
		if st == "" {
			st = bot.CriterionOpen
		}
		cv := criterionView{Number: i + 1, Text: c.Text, State: st, Mark: criterionMarks[st], StateWords: st, At: c.At, Auto: c.Auto, Why: c.Reason}
		if c.By != "" {
			cv.By = dir.Principal(c.By).Name
		}
		v.Criteria = append(v.Criteria, cv)
	}
	if a := u.StartedAnyway; a != nil {
		v.Anyway = &anywayView{Open: strings.Join(a.Open, ", "), Reason: a.Reason}
	}
	v.Plan, v.Debrief = recordViewOf(dir, u.Plan), recordViewOf(dir, u.Debrief)
	v.Active = u.State.Active()
	v.AwaitsDebrief = u.Debrief == nil && (u.State == bot.Completed || u.State == bot.RolledBack)
}
