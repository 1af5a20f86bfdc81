package commands_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/commands"
)

// fuzzZones includes zones with half-hour and 30-minute DST shifts, where
// relative-day and weekday arithmetic is most likely to go wrong, and zones
// whose clocks jump at midnight. Append only: seed files index this list.
var fuzzZones = []*time.Location{
	nil, time.UTC, berlin, newYork, kolkata, auckland,
	mustLoad("Australia/Lord_Howe"), mustLoad("Pacific/Chatham"), mustLoad("America/St_Johns"),
	mustLoad("America/Havana"), mustLoad("America/Santiago"),
}

func FuzzParse(f *testing.F) {
	base := now.Unix()
	for _, s := range []string{
		"",
		`schedule payments v2.4.0 at 2026-12-01 02:00 UTC for 2h region eu-west impact "card payments may fail" for 30s`,
		"schedule p v in 1w2d for 1.5d",
		"schedule p v at tomorrow 02:00 Europe/Berlin",
		"schedule p v at sun 10:00 +05:30 region x",
		"schedule p v at 2027-03-28T02:30:00+01:00",
		"schedule p v at today 02:30 America/New_York",
		"reschedule #7 at mon 09:30 UTC+2 for 90m",
		"extend upg-7 1w",
		"show UPG-7,",
		"cancel UPG-7, UPG-8 no longer needed",
		"link 7 https://github.com/acme/payments.git v1",
		"list all payments",
		"rollback 7 “curly quoted” reason",
		`complete 7 "unterminated`,
		"help shedule",
		"schedule payments v2 tomorrow 2am",
		"schedule p v tomorrow at 2:30 PM Europe/Berlin for 2 hours",
		"schedule p v next tuesday 14:00",
		"schedule p v tue 9am region eu",
		"schedule p v 2:30pm",
		"schedule p v noon UTC",
		"schedule p v midnight",
		"schedule p v tomorrow midnight",
		"schedule p v 12am",
		"schedule p v 2am tomorrow",
		"schedule p v in 3 days for 1H",
		"schedule p v in 90 minutes",
		"schedule p v in an hour",
		"schedule p v in 1 hour 30 minutes",
		"schedule p v in 2 weeks for 90M",
		"schedule p v 2027-11-07 01:30 -05:00",
		"schedule p v at 2026-12-01 02:00:30",
		"schedule p v \"in 45 mins\"",
		"reschedule 7 in 2d",
		"reschedule 7 tomorrow 02:00 for 2 hours",
		"extend 7 1D",
		"extend 7 30 minutes",
		"schedule p v in 2d impact it will be slow anyway",
		`schedule p v in 2d impact "for real" anyway hotfix`,
	} {
		f.Add(s, base, uint8(2))
	}
	f.Fuzz(func(t *testing.T, text string, nowUnix int64, zone uint8) {
		// Keep now within 2000..2100: the grammar only writes four-digit years.
		const lo, span = 946684800, 100 * 365 * 24 * 3600
		n := nowUnix % span
		if n < 0 {
			n += span
		}
		env := commands.Env{
			Now:      time.Unix(lo+n, 0).UTC(),
			Location: fuzzZones[int(zone)%len(fuzzZones)],
		}
		cmd, err := commands.Parse(text, env)
		if err != nil {
			var e *commands.Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) error %T %v is not *Error", text, err, err)
			}
			if e.Msg == "" || e.Usage == "" {
				t.Fatalf("Parse(%q) error without Msg or Usage: %#v", text, e)
			}
			if cmd != nil {
				t.Fatalf("Parse(%q) returned %#v with an error", text, cmd)
			}
			return
		}
		if cmd == nil {
			t.Fatalf("Parse(%q) returned neither command nor error", text)
		}
		switch c := cmd.(type) {
		case commands.Schedule:
			if c.Duration < 0 {
				t.Fatalf("Parse(%q) at %v: bad schedule %#v", text, env.Now, c)
			}
			// next and every have no start of their own: the core picks
			// it (the next free window, the series' occurrences).
			if c.Next || c.Every != nil {
				if c.StartText != "" || !c.Start.IsZero() || c.Next && c.Every != nil {
					t.Fatalf("Parse(%q) at %v: bad schedule %#v", text, env.Now, c)
				}
				checkMinutes(t, text, c.Duration)
				break
			}
			if c.StartText == "" {
				t.Fatalf("Parse(%q) at %v: bad schedule %#v", text, env.Now, c)
			}
			checkStart(t, text, env, commands.When{Start: c.Start, Text: c.StartText, Zone: c.Zone, ZoneGiven: c.ZoneGiven, Note: c.TimeNote})
			checkMinutes(t, text, c.Duration)
		case commands.Reschedule:
			if c.ID <= 0 || c.Duration < 0 || c.StartText == "" {
				t.Fatalf("Parse(%q) at %v: bad reschedule %#v", text, env.Now, c)
			}
			checkStart(t, text, env, commands.When{Start: c.Start, Text: c.StartText, Zone: c.Zone, ZoneGiven: c.ZoneGiven, Note: c.TimeNote})
			checkMinutes(t, text, c.Duration)
		case commands.Extend:
			if c.ID <= 0 || c.By <= 0 {
				t.Fatalf("Parse(%q): bad extend %#v", text, c)
			}
			checkMinutes(t, text, c.By)
		case commands.Rollback:
			if c.ID <= 0 || c.Reason == "" {
				t.Fatalf("Parse(%q): bad rollback %#v", text, c)
			}
		case commands.Help:
			if c.Topic != "" && !slices.Contains(commands.Names(), c.Topic) {
				t.Fatalf("Parse(%q): unknown help topic %q", text, c.Topic)
			}
		}
	})
}

// checkStart holds for every parsed start: to the minute, not before now, a
// zone only when ZoneGiven, and a DST note only for a local time next to a real
// transition of the zone it was read in (never for offsets or "in").
func checkStart(t *testing.T, text string, env commands.Env, w commands.When) {
	t.Helper()
	if w.Start.Second() != 0 || w.Start.Nanosecond() != 0 || w.Start.Unix()%60 != 0 {
		t.Fatalf("Parse(%q) at %v: start %v is not a whole minute", text, env.Now, w.Start)
	}
	if w.Start.Before(env.Now) {
		t.Fatalf("Parse(%q) at %v: start %v is in the past", text, env.Now, w.Start)
	}
	if w.Zone != nil && !w.ZoneGiven {
		t.Fatalf("Parse(%q): zone %v typed but ZoneGiven false", text, w.Zone)
	}
	relative := strings.HasPrefix(w.Text, "in ")
	if relative != (w.ZoneGiven && w.Zone == nil) {
		t.Fatalf("Parse(%q): relative %v but Zone %v ZoneGiven %v", text, relative, w.Zone, w.ZoneGiven)
	}
	want := env.Location
	if w.Zone != nil {
		want = w.Zone
	}
	if want == nil {
		want = time.UTC
	}
	if w.Start.Location().String() != want.String() {
		t.Fatalf("Parse(%q): start in %v, want %v", text, w.Start.Location(), want)
	}
	if w.Note == "" {
		return
	}
	if relative {
		t.Fatalf("Parse(%q): relative start with note %q", text, w.Note)
	}
	if !isSentence(w.Note) {
		t.Fatalf("Parse(%q): note %q is not a sentence", text, w.Note)
	}
	// A gap or overlap means a transition within a few hours of the start.
	start, end := w.Start.ZoneBounds()
	near := func(b time.Time) bool {
		d := w.Start.Sub(b)
		return !b.IsZero() && d < 3*time.Hour && d > -3*time.Hour
	}
	if !near(start) && !near(end) {
		t.Fatalf("Parse(%q) at %v: note %q but no transition near %v", text, env.Now, w.Note, w.Start)
	}
}

func checkMinutes(t *testing.T, text string, d time.Duration) {
	t.Helper()
	if d%time.Minute != 0 {
		t.Fatalf("Parse(%q): duration %v is not whole minutes", text, d)
	}
}
