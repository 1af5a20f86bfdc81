package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/upgradebot/upgradebot/commands"
)

// windows checks what predictable windows need: the standard windows of
// each service, the [[freezes]], and series_lead.
func (v *validator) windows(c Config) {
	def, err := time.LoadLocation(c.DefaultTimezone)
	if err != nil || c.DefaultTimezone == "" || c.DefaultTimezone == "Local" {
		def = time.UTC // default_timezone is reported on its own
	}
	for i, s := range c.Services {
		for j, w := range s.Windows {
			if _, err := commands.ParseWindow(w, def); err != nil {
				v.add(fmt.Sprintf("services[%d].windows[%d]", i, j), "%s", problemText(err))
			}
		}
	}

	longest := time.Duration(0)
	for _, b := range c.Reminders.Before {
		longest = max(longest, b)
	}
	switch {
	case c.SeriesLead <= 0:
		v.add("series_lead", "must be greater than 0")
	case c.SeriesLead < longest:
		v.add("series_lead", "%s is shorter than the longest reminder (reminders.before %s): occurrences of a recurring upgrade would be created after that reminder was due, so it would never go out; make it at least %s",
			formatDuration(c.SeriesLead), formatDuration(longest), formatDuration(longest))
	case c.MaxLead > 0 && c.SeriesLead > c.MaxLead:
		v.add("series_lead", "longer than max_lead (%s): occurrences could not be scheduled that far ahead", formatDuration(c.MaxLead))
	}

	seen := map[string]int{}
	for i, f := range c.Freezes {
		p := fmt.Sprintf("freezes[%d]", i)
		switch first, dup := seen[strings.ToLower(f.Name)]; {
		case f.Name == "":
			v.add(p+".name", "required")
		case !commands.ValidName(f.Name):
			v.add(p+".name", "must be one word of letters, digits, \".\", \"_\" or \"-\"")
		case dup:
			v.add(p+".name", "duplicate freeze %q (first at freezes[%d]; names are case-insensitive)", f.Name, first)
		default:
			seen[strings.ToLower(f.Name)] = i
		}
		from, okFrom := v.instant(p+".from", f.From)
		to, okTo := v.instant(p+".to", f.To)
		if okFrom && okTo && !to.After(from) {
			v.add(p+".to", "must be after from (%s)", f.From)
		}
		if len(f.Services) == 0 {
			v.add(p+".services", `required: service names, or ["*"] for every service`)
		}
		for j, s := range f.Services {
			if s != "*" && !v.hasService(s) {
				v.addEntry(p+".services", j, "unknown service %q (a service name, or \"*\" for every service%s)", s, alsoDidYouMean(s, v.services))
			}
		}
		if slices.Contains(f.Services, "*") && len(f.Services) > 1 {
			v.add(p+".services", `"*" already means every service; give it alone`)
		}
		for j, r := range f.Regions {
			if strings.TrimSpace(r) == "" {
				v.addEntry(p+".regions", j, "entry %d is empty", j+1)
			}
		}
	}
}

// instant checks a freeze's from or to: RFC 3339 with an offset.
func (v *validator) instant(path, s string) (time.Time, bool) {
	if s == "" {
		v.add(path, `required: RFC 3339 with an offset, e.g. "2026-12-20T00:00:00Z" or "2026-12-20T00:00:00+01:00"`)
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		v.add(path, `%q is not RFC 3339 with an offset, e.g. "2026-12-20T00:00:00Z" or "2026-12-20T00:00:00+01:00"`, s)
		return time.Time{}, false
	}
	return t, true
}

// problemText is the message of a grammar error, without its usage.
func problemText(err error) string {
	var e *commands.Error
	if errors.As(err, &e) {
		return e.Msg
	}
	return err.Error()
}
