package commands_test

import (
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/commands"
)

var (
	lordHowe = mustLoad("Australia/Lord_Howe") // shifts by 30 minutes
	havana   = mustLoad("America/Havana")      // jumps at midnight
)

// TestDST pins the DST rule for every form that builds a local wall-clock time:
// a time that does not exist is moved forward by the gap, a time that exists
// twice is the first occurrence, and either way the command carries a note.
// The expected instants are spelled out in UTC, so they do not depend on what
// time.Date makes of a gap or overlap.
func TestDST(t *testing.T) {
	nyEve := utc(2027, 3, 13, 12, 0, 0)      // Saturday before the New York gap
	berlinEve := utc(2027, 10, 30, 12, 0, 0) // Saturday before the Berlin overlap
	for _, tc := range []struct {
		name    string
		now     time.Time
		loc     *time.Location // env.Location
		in      string
		wantUTC time.Time
		note    string // exact note; "-" means "any non-empty note", "" none
	}{
		// New York: 2027-03-14 02:00 EST -> 03:00 EDT; 2027-11-07 02:00 EDT -> 01:00 EST.
		{"NY gap date", now, newYork, "2027-03-14 02:30", utc(2027, 3, 14, 7, 30, 0),
			"02:30 does not exist on 14 March in America/New_York (clocks jump from 02:00 to 03:00); read as 03:30 EDT."},
		{"NY gap typed zone", now, nil, "2027-03-14 2:30am America/New_York", utc(2027, 3, 14, 7, 30, 0), "-"},
		{"NY gap tomorrow", nyEve, newYork, "tomorrow 2:30am", utc(2027, 3, 14, 7, 30, 0), "-"},
		{"NY gap weekday", nyEve, newYork, "sun 02:30", utc(2027, 3, 14, 7, 30, 0), "-"},
		{"NY gap next weekday", nyEve, newYork, "next sunday 2:30 am", utc(2027, 3, 14, 7, 30, 0), "-"},
		{"NY gap bare clock", utc(2027, 3, 14, 5, 0, 0), newYork, "02:30", utc(2027, 3, 14, 7, 30, 0), "-"},
		{"NY gap today", utc(2027, 3, 14, 5, 0, 0), newYork, "today 02:30", utc(2027, 3, 14, 7, 30, 0), "-"},
		{"NY gap edge 02:00", now, newYork, "2027-03-14 02:00", utc(2027, 3, 14, 7, 0, 0), "-"},
		{"NY before gap", now, newYork, "2027-03-14 01:59", utc(2027, 3, 14, 6, 59, 0), ""},
		{"NY after gap", now, newYork, "2027-03-14 03:00", utc(2027, 3, 14, 7, 0, 0), ""},
		{"NY overlap date", now, newYork, "2027-11-07 01:30", utc(2027, 11, 7, 5, 30, 0),
			"01:30 happens twice on 7 November in America/New_York (clocks go back from 02:00 to 01:00); read as the first, 01:30 EDT; write 01:30 -05:00 for the second."},
		{"NY overlap edge 01:00", now, newYork, "2027-11-07 01:00", utc(2027, 11, 7, 5, 0, 0), "-"},
		{"NY after overlap", now, newYork, "2027-11-07 02:00", utc(2027, 11, 7, 7, 0, 0), ""},
		{"NY overlap second by offset", now, newYork, "2027-11-07 01:30 -05:00", utc(2027, 11, 7, 6, 30, 0), ""},
		{"NY overlap first by offset", now, newYork, "2027-11-07T01:30-04:00", utc(2027, 11, 7, 5, 30, 0), ""},
		{"NY relative across the gap", nyEve, newYork, "in 1d", utc(2027, 3, 14, 12, 0, 0), ""},

		// Berlin: 2027-03-28 02:00 CET -> 03:00 CEST; 2027-10-31 03:00 CEST -> 02:00 CET.
		{"Berlin gap date", now, berlin, "2027-03-28 02:30", utc(2027, 3, 28, 1, 30, 0),
			"02:30 does not exist on 28 March in Europe/Berlin (clocks jump from 02:00 to 03:00); read as 03:30 CEST."},
		{"Berlin overlap date", now, berlin, "2027-10-31 02:30", utc(2027, 10, 31, 0, 30, 0),
			"02:30 happens twice on 31 October in Europe/Berlin (clocks go back from 03:00 to 02:00); read as the first, 02:30 CEST; write 02:30 +01:00 for the second."},
		{"Berlin overlap tomorrow", berlinEve, berlin, "tomorrow 2:30am", utc(2027, 10, 31, 0, 30, 0), "-"},
		{"Berlin overlap weekday typed zone", berlinEve, newYork, "sunday 02:30 Europe/Berlin", utc(2027, 10, 31, 0, 30, 0), "-"},
		{"Berlin overlap second by offset", now, berlin, "2027-10-31 02:30 +01:00", utc(2027, 10, 31, 1, 30, 0), ""},

		// Lord Howe: +10:30 -> +11 at 02:00 on 2027-10-03; +11 -> +10:30 at 02:00 on 2027-04-04.
		{"Lord Howe gap", now, lordHowe, "2027-10-03 02:15", utc(2027, 10, 2, 15, 45, 0),
			"02:15 does not exist on 3 October in Australia/Lord_Howe (clocks jump from 02:00 to 02:30); read as 02:45 +11."},
		{"Lord Howe overlap", now, lordHowe, "2027-04-04 01:45", utc(2027, 4, 3, 14, 45, 0),
			"01:45 happens twice on 4 April in Australia/Lord_Howe (clocks go back from 02:00 to 01:30); read as the first, 01:45 +11; write 01:45 +10:30 for the second."},
		{"Lord Howe overlap 12-hour tomorrow", utc(2027, 4, 3, 2, 0, 0), lordHowe, "tomorrow 1:45am", utc(2027, 4, 3, 14, 45, 0), "-"},
		{"Lord Howe just after gap", now, lordHowe, "2027-10-03 02:30", utc(2027, 10, 2, 15, 30, 0), ""},

		// Havana jumps from 00:00 to 01:00 on 2027-03-14: midnight does not exist.
		{"Havana midnight", utc(2027, 3, 13, 12, 0, 0), havana, "midnight", utc(2027, 3, 14, 5, 0, 0),
			"00:00 does not exist on 14 March in America/Havana (clocks jump from 00:00 to 01:00); read as 01:00 CDT."},
		{"Havana tomorrow midnight", utc(2027, 3, 13, 12, 0, 0), havana, "tomorrow midnight", utc(2027, 3, 14, 5, 0, 0), "-"},
		{"Havana noon that day", utc(2027, 3, 13, 12, 0, 0), havana, "tomorrow noon", utc(2027, 3, 14, 16, 0, 0), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := commands.Env{Now: tc.now, Location: tc.loc}
			for _, prefix := range []string{"schedule payments v1 ", "schedule payments v1 at ", "reschedule 7 "} {
				in := prefix + tc.in
				if strings.HasPrefix(tc.in, "in ") && strings.HasSuffix(prefix, "at ") {
					continue
				}
				cmd, err := commands.Parse(in, env)
				if err != nil {
					t.Fatalf("Parse(%q): %v", in, err)
				}
				var start time.Time
				var note string
				switch c := cmd.(type) {
				case commands.Schedule:
					start, note = c.Start, c.TimeNote
				case commands.Reschedule:
					start, note = c.Start, c.TimeNote
				}
				if !start.Equal(tc.wantUTC) {
					t.Errorf("Parse(%q) Start = %v (%v), want %v", in, start, start.UTC(), tc.wantUTC)
				}
				switch tc.note {
				case "-":
					if note == "" {
						t.Errorf("Parse(%q) has no TimeNote", in)
					}
				default:
					if note != tc.note {
						t.Errorf("Parse(%q) TimeNote = %q, want %q", in, note, tc.note)
					}
				}
				if note != "" && !isSentence(note) {
					t.Errorf("Parse(%q) TimeNote %q is not a sentence", in, note)
				}
			}
		})
	}
}

// isSentence: starts with a capital or a digit, ends with a period, one line.
func isSentence(s string) bool {
	if s == "" || strings.Contains(s, "\n") || !strings.HasSuffix(s, ".") {
		return false
	}
	c := s[0]
	return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// The instant a gap or overlap resolves to must not depend on the zone: the
// same rule (forward by the gap, first occurrence) holds for all of them,
// whatever time.Date would pick.
func TestDSTSameRuleEverywhere(t *testing.T) {
	for _, tc := range []struct {
		loc        *time.Location
		gap, over  string
		gapShift   time.Duration // how far the gap moves the time forward
		overOffset string        // the offset of the first occurrence
	}{
		{newYork, "2027-03-14 02:30", "2027-11-07 01:30", time.Hour, "-04:00"},
		{berlin, "2027-03-28 02:30", "2027-10-31 02:30", time.Hour, "+02:00"},
		{lordHowe, "2027-10-03 02:10", "2027-04-04 01:40", 30 * time.Minute, "+11:00"},
		{auckland, "2027-09-26 02:30", "2027-04-04 02:30", time.Hour, "+13:00"},
	} {
		gap := mustParseSchedule(t, tc.gap, tc.loc)
		typed, _ := time.Parse("2006-01-02 15:04", tc.gap)
		wall := time.Date(gap.Start.Year(), gap.Start.Month(), gap.Start.Day(), gap.Start.Hour(), gap.Start.Minute(), 0, 0, time.UTC)
		if got := wall.Sub(typed); got != tc.gapShift {
			t.Errorf("%v gap %s: read as %v, moved by %v, want %v", tc.loc, tc.gap, gap.Start, got, tc.gapShift)
		}
		over := mustParseSchedule(t, tc.over, tc.loc)
		if got := over.Start.Format("-07:00"); got != tc.overOffset || over.Start.Format("2006-01-02 15:04") != tc.over {
			t.Errorf("%v overlap %s: read as %v, want the first occurrence (%s)", tc.loc, tc.over, over.Start, tc.overOffset)
		}
		if gap.TimeNote == "" || over.TimeNote == "" {
			t.Errorf("%v: missing notes %q / %q", tc.loc, gap.TimeNote, over.TimeNote)
		}
	}
}

func mustParseSchedule(t *testing.T, at string, loc *time.Location) commands.Schedule {
	t.Helper()
	cmd, err := commands.Parse("schedule p v1 at "+at, commands.Env{Now: now, Location: loc})
	if err != nil {
		t.Fatalf("%q in %v: %v", at, loc, err)
	}
	return cmd.(commands.Schedule)
}

// Fixed zones and relative times never get a note, even on a DST day of the
// user's own zone.
func TestNoNoteWithoutLocalTime(t *testing.T) {
	env := commands.Env{Now: utc(2027, 3, 13, 12, 0, 0), Location: newYork} // the day before the gap
	for _, in := range []string{
		"2027-03-14 02:30 UTC", "2027-03-14 02:30 -05:00", "2027-03-14T02:30:00-04:00", "2027-03-14T02:30Z",
		"in 1d", "in 90 minutes", "02:30 +01:00", "tomorrow 02:30 UTC",
	} {
		w, err := commands.ParseWhen(in, env)
		if err != nil {
			t.Fatalf("ParseWhen(%q): %v", in, err)
		}
		if w.Note != "" {
			t.Errorf("ParseWhen(%q) Note = %q, want none", in, w.Note)
		}
	}
}

// TestDSTEveryHalfHour reads every half hour of 2027 in zones with unusual
// transitions (30-minute shifts, midnight jumps, 45-minute offsets) and checks
// the result against the set of instants that show that wall clock: exactly
// one and no note; several, the earliest, and a "twice" note; none, moved
// forward by the gap, and a "does not exist" note.
func TestDSTEveryHalfHour(t *testing.T) {
	zones := []*time.Location{
		newYork, berlin, lordHowe, havana, auckland, kolkata,
		mustLoad("Pacific/Chatham"), mustLoad("America/St_Johns"), mustLoad("America/Santiago"), mustLoad("Asia/Beirut"),
	}
	env := commands.Env{Now: utc(2026, 12, 1, 0, 0, 0)}
	for _, loc := range zones {
		// Every offset the zone uses around 2027.
		offsets := map[int]bool{}
		for at := utc(2026, 12, 1, 0, 0, 0); at.Year() < 2029; {
			_, off := at.In(loc).Zone()
			offsets[off] = true
			_, end := at.In(loc).ZoneBounds()
			if end.IsZero() {
				break
			}
			at = end
		}
		env.Location = loc
		notes := 0
		for day := utc(2027, 1, 1, 0, 0, 0); day.Year() == 2027; day = day.Add(30 * time.Minute) {
			typed := day.Format("2006-01-02 15:04")
			w, err := commands.ParseWhen(typed, env)
			if err != nil {
				t.Fatalf("%v %s: %v", loc, typed, err)
			}
			var shows []time.Time // the instants whose wall clock is typed
			for off := range offsets {
				u := day.Add(-time.Duration(off) * time.Second)
				if u.In(loc).Format("2006-01-02 15:04") == typed {
					shows = append(shows, u)
				}
			}
			earliest := time.Time{}
			for _, u := range shows {
				if earliest.IsZero() || u.Before(earliest) {
					earliest = u
				}
			}
			switch {
			case len(shows) == 1:
				if !w.Start.Equal(shows[0]) || w.Note != "" {
					t.Errorf("%v %s: got %v note %q, want %v and no note", loc, typed, w.Start, w.Note, shows[0].In(loc))
				}
			case len(shows) > 1:
				notes++
				if !w.Start.Equal(earliest) || !strings.Contains(w.Note, "happens twice") {
					t.Errorf("%v %s: got %v note %q, want the first, %v", loc, typed, w.Start, w.Note, earliest.In(loc))
				}
			default:
				notes++
				start, _ := w.Start.ZoneBounds()
				_, before := start.Add(-time.Nanosecond).Zone()
				_, after := w.Start.Zone()
				gap := time.Duration(after-before) * time.Second
				wall, _ := time.Parse("2006-01-02 15:04", w.Start.Format("2006-01-02 15:04"))
				if wall.Sub(day) != gap || gap <= 0 || w.Start.Sub(start) >= gap || !strings.Contains(w.Note, "does not exist") {
					t.Errorf("%v %s: got %v note %q, want it moved forward by the gap", loc, typed, w.Start, w.Note)
				}
			}
			if w.Note != "" && !isSentence(w.Note) {
				t.Errorf("%v %s: note %q is not a sentence", loc, typed, w.Note)
			}
		}
		if loc != kolkata && notes == 0 {
			t.Errorf("%v: no gap or overlap found in 2027", loc)
		}
	}
}
