package commands_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/commands"
)

func TestParseWhen(t *testing.T) {
	for _, tc := range []struct {
		in      string
		loc     *time.Location
		want    time.Time
		text    string
		zone    string // "" for none
		zoneSet bool   // ZoneGiven
	}{
		{"tomorrow 2am", nil, utc(2026, 11, 23, 2, 0, 0), "tomorrow 2am", "", false},
		{"at tomorrow 2am", berlin, utc(2026, 11, 23, 1, 0, 0), "tomorrow 2am", "", false},
		{"in 90 minutes", berlin, utc(2026, 11, 22, 11, 30, 0), "in 90 minutes", "", true},
		{"IN 2H", nil, utc(2026, 11, 22, 12, 0, 0), "in 2H", "", true},
		{"in 1h 30m", nil, utc(2026, 11, 22, 11, 30, 0), "in 1h 30m", "", true},
		{"in 1 hour 30m", nil, utc(2026, 11, 22, 11, 30, 0), "in 1 hour 30m", "", true},
		{"2026-12-01 02:00 Europe/Berlin", newYork, utc(2026, 12, 1, 1, 0, 0), "2026-12-01 02:00 Europe/Berlin", "Europe/Berlin", true},
		{"at noon", nil, utc(2026, 11, 22, 12, 0, 0), "noon", "", false},
		{"  next tuesday 14:00  ", nil, utc(2026, 11, 24, 14, 0, 0), "next tuesday 14:00", "", false},
		{`"tomorrow 02:00 UTC"`, berlin, utc(2026, 11, 23, 2, 0, 0), "tomorrow 02:00 UTC", "UTC", true},
		{"2026-12-01T02:00:30+02:00", nil, utc(2026, 12, 1, 0, 0, 0), "2026-12-01T02:00:30+02:00", "+02:00", true},
		// The very minute it is now is no longer ahead: its next occurrence.
		{"10:00", nil, utc(2026, 11, 23, 10, 0, 0), "10:00", "", false},
		{"sun 10:00", nil, utc(2026, 11, 29, 10, 0, 0), "sun 10:00", "", false},
	} {
		w, err := commands.ParseWhen(tc.in, commands.Env{Now: now, Location: tc.loc})
		if err != nil {
			t.Errorf("ParseWhen(%q): %v", tc.in, err)
			continue
		}
		zone := ""
		if w.Zone != nil {
			zone = w.Zone.String()
		}
		if !w.Start.Equal(tc.want) || w.Text != tc.text || zone != tc.zone || w.ZoneGiven != tc.zoneSet || w.Note != "" {
			t.Errorf("ParseWhen(%q) = %+v (UTC %v), want %v %q zone %q given %v", tc.in, w, w.Start.UTC(), tc.want, tc.text, tc.zone, tc.zoneSet)
		}
	}
}

func TestParseWhenErrors(t *testing.T) {
	for _, tc := range []struct{ in, tok, msg string }{
		{"", "", "missing the time"},
		{"at", "", "missing the time"},
		{"soon", "soon", "cannot read"},
		{"tomorrow 02:00 please", "please", `unexpected "please" after the time "tomorrow 02:00"`},
		{"tomorrow 02:00 CET", "CET", "abbreviations are ambiguous"},
		{"tomorrow 02:00 UTC UTC", "UTC", "one too many"},
		{"tomorrow 02:00 +14:30", "+14:30", "out of range"},
		{"2026-12-02T02:00+14:30", "2026-12-02T02:00+14:30", "out of range"},
		{"in 2h UTC", "UTC", "unexpected"},
		{"2020-01-01 00:00", "2020-01-01 00:00", "in the past"},
		// Today at the very minute it is now (10:00:00 sharp) is past, in the
		// same words as a minute before it, not left to the core's terser ones.
		{"today 10:00", "today 10:00", `the start time "today 10:00" is in the past: it means 2026-11-22 10:00 UTC, and it is now 2026-11-22 10:00 UTC`},
		{"in 30s", "30s", "under a minute"},
		{"in 0m", "0m", "greater than zero"},
		{`"tomorrow 02:00`, `"tomorrow 02:00`, "unterminated quote"},
	} {
		_, err := commands.ParseWhen(tc.in, commands.Env{Now: now})
		var e *commands.Error
		if !errors.As(err, &e) {
			t.Errorf("ParseWhen(%q) = %v, want *Error", tc.in, err)
			continue
		}
		if e.Token != tc.tok || !strings.Contains(e.Msg, tc.msg) {
			t.Errorf("ParseWhen(%q) = Token %q Msg %q; want %q, %q", tc.in, e.Token, e.Msg, tc.tok, tc.msg)
		}
	}
}

// ParseWhen and Parse share one code path: the same text gives the same start.
func TestParseWhenMatchesParse(t *testing.T) {
	env := commands.Env{Now: utc(2027, 3, 13, 12, 0, 30), Location: newYork}
	for _, in := range []string{
		"tomorrow 2:30am", "at tomorrow 02:30", "in 1 hour 30 minutes", "noon Europe/Berlin", "midnight",
		"2027-11-07 01:30", "2027-11-07 01:30 -05:00", "sun 9am", `"next friday 14:00 UTC"`,
	} {
		w, err := commands.ParseWhen(in, env)
		if err != nil {
			t.Fatalf("ParseWhen(%q): %v", in, err)
		}
		for _, prefix := range []string{"schedule p v1 ", "reschedule 7 "} {
			cmd, err := commands.Parse(prefix+in, env)
			if err != nil {
				t.Fatalf("Parse(%q): %v", prefix+in, err)
			}
			var got commands.When
			switch c := cmd.(type) {
			case commands.Schedule:
				got = commands.When{Start: c.Start, Text: c.StartText, Zone: c.Zone, ZoneGiven: c.ZoneGiven, Note: c.TimeNote}
			case commands.Reschedule:
				got = commands.When{Start: c.Start, Text: c.StartText, Zone: c.Zone, ZoneGiven: c.ZoneGiven, Note: c.TimeNote}
			}
			if !got.Start.Equal(w.Start) || got.Start.Location().String() != w.Start.Location().String() ||
				got.Text != w.Text || (got.Zone == nil) != (w.Zone == nil) || got.ZoneGiven != w.ZoneGiven || got.Note != w.Note {
				t.Errorf("Parse(%q) start %+v, ParseWhen %+v", prefix+in, got, w)
			}
		}
	}
}

// Times are to the minute: nothing parsed carries seconds, so a window shown
// as 03:00-04:00 can never overlap one that "starts at 02:00:30".
func TestStartsAreWholeMinutes(t *testing.T) {
	env := commands.Env{Now: time.Date(2026, 11, 22, 10, 0, 30, 500, time.UTC), Location: berlin}
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"in 2h", utc(2026, 11, 22, 12, 0, 0)},          // now+2h = 12:00:30.0000005, truncated
		{"in 1m", utc(2026, 11, 22, 10, 1, 0)},          // still after now
		{"in 90 minutes", utc(2026, 11, 22, 11, 30, 0)}, // spelled out
		{"2026-12-01 02:00:30", utc(2026, 12, 1, 1, 0, 0)},
		{"2026-12-01T02:00:30.999999999Z", utc(2026, 12, 1, 2, 0, 0)},
		{"2026-12-01T02:00:59+01:00", utc(2026, 12, 1, 1, 0, 0)},
		{"tomorrow 02:00:45", utc(2026, 11, 23, 1, 0, 0)},
	} {
		w, err := commands.ParseWhen(tc.in, env)
		if err != nil {
			t.Fatalf("ParseWhen(%q): %v", tc.in, err)
		}
		if !w.Start.Equal(tc.want) || w.Start.Second() != 0 || w.Start.Nanosecond() != 0 {
			t.Errorf("ParseWhen(%q) = %v, want %v", tc.in, w.Start.UTC(), tc.want)
		}
	}
	// The current minute has begun: a time in it is already past.
	if _, err := commands.ParseWhen("today 11:00:45", env); err == nil || !strings.Contains(err.Error(), "in the past") {
		t.Errorf("today 11:00:45 (Berlin) at 10:00:30 UTC: %v, want a past error", err)
	}
}
