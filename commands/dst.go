package commands

import (
	"fmt"
	"time"
)

// zonePeriod is a stretch of time during which a zone keeps one UTC offset.
type zonePeriod struct {
	start, end time.Time // [start, end); zero means unbounded
	offset     int       // seconds east of UTC
}

// resolveLocal turns a wall-clock date and time in loc into an instant, the
// same way in every zone, without relying on time.Date's unspecified choice:
//
//   - a time that does not exist (clocks jump forward over it) is moved forward
//     by the gap: 02:30 in a 02:00->03:00 gap is 03:30;
//   - a time that exists twice (clocks go back) is the first occurrence, the
//     earlier instant.
//
// In both cases it returns a one-sentence note for the reply; otherwise "".
// Fixed zones (UTC, offsets) have no transitions and never get a note.
//
// It lists the zone's periods around the wall time (every offset lies within
// ±15h), computes the instant each period's offset would give, and keeps the
// candidates that round-trip to the same wall clock.
func resolveLocal(year int, month time.Month, dom, hour, minute int, loc *time.Location) (time.Time, string) {
	wall := time.Date(year, month, dom, hour, minute, 0, 0, time.UTC) // the wall clock read as if it were UTC
	const margin = 30 * time.Hour
	var periods []zonePeriod
	for t, i := wall.Add(-margin), 0; i < 32; i++ {
		lt := t.In(loc)
		_, off := lt.Zone()
		start, end := lt.ZoneBounds()
		periods = append(periods, zonePeriod{start: start, end: end, offset: off})
		if end.IsZero() || !end.After(t) || end.After(wall.Add(margin)) {
			break
		}
		t = end
	}

	var valid []time.Time
	for _, p := range periods {
		c := wall.Add(-time.Duration(p.offset) * time.Second).In(loc)
		if sameWall(c, wall) && (len(valid) == 0 || !c.Equal(valid[len(valid)-1])) {
			valid = append(valid, c)
		}
	}
	switch {
	case len(valid) == 1:
		return valid[0], ""
	case len(valid) > 1:
		first, second := valid[0], valid[1]
		_, end := first.ZoneBounds()
		if end.IsZero() || end.After(second) {
			// Cannot happen for a real overlap; keep the earlier instant silently
			// rather than invent a transition.
			return first, ""
		}
		_, before := first.Zone()
		note := fmt.Sprintf("%s happens twice on %s in %s (clocks go back from %s to %s); read as the first, %s; write %s %s for the second.",
			wall.Format("15:04"), wall.Format("2 January"), loc,
			end.In(time.FixedZone("", before)).Format("15:04"), end.In(loc).Format("15:04"),
			first.Format("15:04 MST"), wall.Format("15:04"), second.Format("-07:00"))
		return first, note
	}

	// A gap: find the transition whose skipped wall-clock range holds the time.
	for i := 0; i+1 < len(periods); i++ {
		p, q := periods[i], periods[i+1]
		if p.end.IsZero() || q.offset <= p.offset {
			continue
		}
		from := p.end.UTC().Add(time.Duration(p.offset) * time.Second) // wall clock just before, as if UTC
		to := p.end.UTC().Add(time.Duration(q.offset) * time.Second)   // wall clock just after
		if wall.Before(from) || !wall.Before(to) {
			continue
		}
		t := wall.Add(-time.Duration(p.offset) * time.Second).In(loc) // moved forward by the gap
		note := fmt.Sprintf("%s does not exist on %s in %s (clocks jump from %s to %s); read as %s.",
			wall.Format("15:04"), wall.Format("2 January"), loc, from.Format("15:04"), to.Format("15:04"), t.Format("15:04 MST"))
		return t, note
	}
	// Unreachable for real zone data; fall back to Go's reading rather than fail.
	return time.Date(year, month, dom, hour, minute, 0, 0, loc), ""
}

// sameWall reports whether t shows the wall clock w (read as UTC) to the minute.
func sameWall(t, w time.Time) bool {
	y1, m1, d1 := t.Date()
	y2, m2, d2 := w.Date()
	return y1 == y2 && m1 == m2 && d1 == d2 && t.Hour() == w.Hour() && t.Minute() == w.Minute() && t.Second() == 0
}
