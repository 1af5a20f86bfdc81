package commands_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/commands"
)

func TestParseWindow(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // the normalised form
		mins time.Duration
	}{
		{"tue 02:00-05:00 Europe/Berlin", "Tue 02:00-05:00 Europe/Berlin", 3 * time.Hour},
		{"Tuesday 2:00 - 5:00 europe/berlin", "Tue 02:00-05:00 Europe/Berlin", 3 * time.Hour},
		{"thu 22:00-01:00 America/New_York", "Thu 22:00-01:00 America/New_York", 3 * time.Hour},
		{"sat 9am – 1pm UTC", "Sat 09:00-13:00 UTC", 4 * time.Hour},
		{"sun 2 am - 4:30 am +02:00", "Sun 02:00-04:30 +02:00", 150 * time.Minute},
		{"fri 23:00-midnight", "Fri 23:00-00:00 UTC", time.Hour},
		{"wed 10:00-12:00", "Wed 10:00-12:00 UTC", 2 * time.Hour}, // the default zone
	} {
		w, err := commands.ParseWindow(tc.in, time.UTC)
		if err != nil {
			t.Errorf("ParseWindow(%q): %v", tc.in, err)
			continue
		}
		if w.String() != tc.want || w.Nominal() != tc.mins {
			t.Errorf("ParseWindow(%q) = %s (%v), want %s (%v)", tc.in, w, w.Nominal(), tc.want, tc.mins)
		}
	}
	for _, tc := range []struct{ in, msg string }{
		{"tue", "needs a weekday and a start-end"},
		{"tues-day 02:00-05:00", "is not a weekday"},
		{"tue 02:00 05:00", "joined by -"},
		{"tue 02:00-05:00 CET", "ambiguous"},
		{"tue 02:00-05:00 Mars/Olympus", "unknown time zone"},
		{"tue 02:00-05:00 +14:30", `the offset "+14:30" is out of range`},
		{"tue 25:00-05:00", `the start "25:00"`},
		{"tue 02:00-5", `the end "5"`},
		{"tue 02:00-02:00", "ends when it starts"},
	} {
		_, err := commands.ParseWindow(tc.in, time.UTC)
		var e *commands.Error
		if !errors.As(err, &e) || !strings.Contains(e.Msg, tc.msg) || !strings.Contains(e.Msg, "tue 02:00-05:00 Europe/Berlin") {
			t.Errorf("ParseWindow(%q) = %v; want an error saying %q and showing the form", tc.in, err, tc.msg)
		}
	}
}

func mustWindow(t *testing.T, s string) commands.Window {
	t.Helper()
	w, err := commands.ParseWindow(s, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWindowOccurrences(t *testing.T) {
	w := mustWindow(t, "tue 02:00-05:00 Europe/Berlin")
	occ := w.Occurrences(now, now.AddDate(0, 0, 17)) // Sunday 22 November 2026
	var got []string
	for _, o := range occ {
		got = append(got, o.Start.UTC().Format("Mon 01-02 15:04")+"-"+o.End.UTC().Format("15:04"))
		if o.Note != "" {
			t.Errorf("unexpected note %q", o.Note)
		}
	}
	want := []string{"Tue 11-24 01:00-04:00", "Tue 12-01 01:00-04:00", "Tue 12-08 01:00-04:00"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("occurrences = %q, want %q", got, want)
	}

	// Across midnight: Thursday 22:00 to Friday 01:00 in New York.
	ny := mustWindow(t, "thu 22:00-01:00 America/New_York")
	o := ny.Occurrences(now, now.AddDate(0, 0, 7))
	if len(o) != 1 || !o[0].Start.Equal(utc(2026, 11, 27, 3, 0, 0)) || !o[0].End.Equal(utc(2026, 11, 27, 6, 0, 0)) {
		t.Fatalf("crossing midnight: %+v", o)
	}
	// An occurrence already running at from is listed (it ends after from).
	running := ny.Occurrences(utc(2026, 11, 27, 4, 0, 0), utc(2026, 11, 27, 5, 0, 0))
	if len(running) != 1 || !running[0].Start.Equal(utc(2026, 11, 27, 3, 0, 0)) {
		t.Fatalf("the running occurrence: %+v", running)
	}
	if !ny.Covers(utc(2026, 11, 27, 3, 0, 0), utc(2026, 11, 27, 6, 0, 0)) || ny.Covers(utc(2026, 11, 27, 2, 59, 0), utc(2026, 11, 27, 4, 0, 0)) {
		t.Fatal("Covers: the whole occurrence is covered, a minute before it is not")
	}
}

// TestWindowDST: a window keeps its local time when the clocks change; the
// occurrence says so. Berlin goes forward on Sunday 28 March 2027 and back
// on Sunday 31 October 2027.
func TestWindowDST(t *testing.T) {
	tue := mustWindow(t, "tue 02:30-04:30 Europe/Berlin")
	occ := tue.Occurrences(utc(2027, 3, 22, 0, 0, 0), utc(2027, 4, 3, 0, 0, 0))
	if len(occ) != 2 {
		t.Fatalf("want the Tuesdays before and after the change, got %+v", occ)
	}
	before, after := occ[0], occ[1]
	if !before.Start.Equal(utc(2027, 3, 23, 1, 30, 0)) || before.Note != "" {
		t.Errorf("the week before: %v %q", before.Start.UTC(), before.Note)
	}
	if !after.Start.Equal(utc(2027, 3, 30, 0, 30, 0)) || after.End.Sub(after.Start) != 2*time.Hour {
		t.Errorf("the week of the change: %v to %v, want 00:30 UTC for 2h", after.Start.UTC(), after.End.UTC())
	}
	want := "Clocks in Europe/Berlin go forward on Sunday 28 March: this window opens at 02:30 CEST, which is 00:30 UTC (it was 01:30 UTC the week before)."
	if after.Note != want {
		t.Errorf("note = %q\nwant %q", after.Note, want)
	}
	back := tue.Occurrences(utc(2027, 11, 1, 0, 0, 0), utc(2027, 11, 3, 0, 0, 0))
	if len(back) != 1 || !strings.Contains(back[0].Note, "go back on Sunday 31 October") || !strings.Contains(back[0].Note, "01:30 UTC (it was 00:30 UTC") {
		t.Errorf("after the autumn change: %+v", back)
	}

	// A window whose start does not exist on the day of the change.
	sun := mustWindow(t, "sun 02:30-04:00 Europe/Berlin")
	gap := sun.Occurrences(utc(2027, 3, 27, 0, 0, 0), utc(2027, 3, 29, 0, 0, 0))
	if len(gap) != 1 || !gap[0].Start.Equal(utc(2027, 3, 28, 1, 30, 0)) || !strings.Contains(gap[0].Note, "02:30 does not exist on 28 March in Europe/Berlin") {
		t.Fatalf("gap: %+v", gap)
	}
	// One that exists twice: the first.
	twice := sun.Occurrences(utc(2027, 10, 30, 0, 0, 0), utc(2027, 11, 1, 0, 0, 0))
	if len(twice) != 1 || !twice[0].Start.Equal(utc(2027, 10, 31, 0, 30, 0)) || !strings.Contains(twice[0].Note, "happens twice") {
		t.Fatalf("overlap: %+v", twice)
	}
	// The clocks change inside the window: it is an hour shorter.
	night := mustWindow(t, "sun 01:00-04:00 Europe/Berlin")
	short := night.Occurrences(utc(2027, 3, 27, 0, 0, 0), utc(2027, 3, 29, 0, 0, 0))
	if len(short) != 1 || short[0].End.Sub(short[0].Start) != 2*time.Hour || !strings.Contains(short[0].Note, "lasts 2h, not 3h") {
		t.Fatalf("a window the clocks change in: %+v", short)
	}
}

func TestEveryNext(t *testing.T) {
	e, err := commands.ParseEvery("tue 02:30 Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	d, ok := e.Next(now)
	if !ok || d.Date != "2026-11-24" || !d.Start.Equal(utc(2026, 11, 24, 1, 30, 0)) {
		t.Fatalf("Next = %+v %v", d, ok)
	}
	d2, ok := e.After(d.Date)
	if !ok || d2.Date != "2026-12-01" {
		t.Fatalf("After = %+v %v", d2, ok)
	}
	// The week Berlin's clocks change: same wall time, said.
	d3, ok := e.After("2027-03-23")
	if !ok || d3.Date != "2027-03-30" || !d3.Start.Equal(utc(2027, 3, 30, 0, 30, 0)) || !strings.Contains(d3.Note, "go forward on Sunday 28 March") {
		t.Fatalf("across the change: %+v", d3)
	}
	e.Until = "2026-11-30"
	if _, ok := e.After("2026-11-24"); ok {
		t.Fatal("an occurrence after until")
	}
	if e.String() != "Tue 02:30 Europe/Berlin" {
		t.Fatalf("String = %q", e.String())
	}
}

// ParseRecurrence, for a platform's every option, explains a zone
// abbreviation or a second zone as the typed grammar does.
func TestParseRecurrenceZoneWords(t *testing.T) {
	env := commands.Env{Now: now, Location: berlin}
	for in, want := range map[string]string{
		"tue 2am CET":               "abbreviations are ambiguous",
		"every tue 2am UTC UTC":     `the time already has a zone, so "UTC" is one too many`,
		"tue 02:00 +14:30":          "out of range",
		"tuesday at 2am CET please": "abbreviations are ambiguous",
	} {
		_, err := commands.ParseRecurrence(in, "", env)
		var e *commands.Error
		if !errors.As(err, &e) || !strings.Contains(e.Msg, want) || e.Usage != "" {
			t.Errorf("ParseRecurrence(%q) = %v; want an error with %q and no usage", in, err, want)
		}
	}
	if e, err := commands.ParseRecurrence("tue 2am UTC", "", env); err != nil || e.Loc != time.UTC {
		t.Errorf("ParseRecurrence with its zone = %+v, %v", e, err)
	}
}

func TestParseWindowsGrammar(t *testing.T) {
	env := commands.Env{Now: now, Location: berlin}
	parse := func(in string) commands.Command {
		t.Helper()
		c, err := commands.Parse(in, env)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		return c
	}
	if c := parse("schedule payments v2.5.0 next for 2h region eu-west").(commands.Schedule); !c.Next || c.Duration != 2*time.Hour || c.Region != "eu-west" || !c.Start.IsZero() {
		t.Errorf("next: %+v", c)
	}
	if c := parse("schedule payments v2.5.0 next").(commands.Schedule); !c.Next {
		t.Errorf("bare next: %+v", c)
	}
	// "next tuesday 14:00" is still a time.
	if c := parse("schedule payments v2.5.0 next tuesday 14:00").(commands.Schedule); c.Next || c.Start.IsZero() {
		t.Errorf("next tuesday: %+v", c)
	}
	// Quoted, the keyword is the version, whatever follows.
	for _, in := range []string{`schedule payments "next" tomorrow 02:00`, `schedule payments "every" in 3h`} {
		if c := parse(in).(commands.Schedule); c.Version != strings.Trim(strings.Fields(in)[2], `"`) || c.Next || c.Every != nil || c.Start.IsZero() {
			t.Errorf("%s: %+v", in, c)
		}
	}
	if c := parse(`schedule payments "next" next`).(commands.Schedule); c.Version != "next" || !c.Next {
		t.Errorf(`"next" next: %+v`, c)
	}
	c := parse("schedule payments v2.5.0 every tue 02:00 for 1h until 2027-03-31 impact weekly patch").(commands.Schedule)
	if c.Every == nil || c.Every.Day != time.Tuesday || c.Every.Minute != 120 || c.Every.Loc != berlin || c.Every.ZoneGiven ||
		c.Every.Until != "2027-03-31" || c.Duration != time.Hour || c.Impact != "weekly patch" {
		t.Errorf("every: %+v %+v", c, c.Every)
	}
	if c := parse("schedule payments v2 every thursday at 10pm America/New_York for 90m").(commands.Schedule); c.Every.Loc.String() != "America/New_York" || !c.Every.ZoneGiven || c.Every.Minute != 22*60 {
		t.Errorf("every with a zone: %+v", c.Every)
	}
	c = parse("schedule payments v2 at 2026-12-22 03:00 for 1h impact card payments may fail anyway customer escalation 42").(commands.Schedule)
	if c.Impact != "card payments may fail" || c.Anyway != "customer escalation 42" {
		t.Errorf("impact then anyway: %q / %q", c.Impact, c.Anyway)
	}
	if want := `to have the word in the impact, quote it: impact "card payments may fail anyway customer escalation 42"`; c.AnywayInImpact != want {
		t.Errorf("impact then anyway: the hint %q, want %q", c.AnywayInImpact, want)
	}
	if c := parse("schedule payments v2 at 2026-12-22 03:00 for 1h region eu anyway customer escalation 42").(commands.Schedule); c.Anyway == "" || c.AnywayInImpact != "" {
		t.Errorf("anyway after another option: %+v", c)
	}
	if c := parse(`schedule payments v2 at 2026-12-22 03:00 impact we restart "anyway"`).(commands.Schedule); c.Impact != "we restart anyway" || c.Anyway != "" {
		t.Errorf("a quoted anyway is a word of the impact: %+v", c)
	}
	if r := parse("reschedule 7 tue 14:00 for 2h anyway release blocker").(commands.Reschedule); r.Anyway != "release blocker" || r.Duration != 2*time.Hour {
		t.Errorf("reschedule anyway: %+v", r)
	}
	if x := parse("extend 7 30 minutes anyway still migrating").(commands.Extend); x.Anyway != "still migrating" || x.By != 30*time.Minute {
		t.Errorf("extend anyway: %+v", x)
	}
	for in, want := range map[string]commands.Cancel{
		"cancel 7":                            {ID: 7},
		"cancel 7 series no longer needed":    {ID: 7, Scope: "series", Reason: "no longer needed"},
		"cancel UPG-7 Occurrence holiday":     {ID: 7, Scope: "occurrence", Reason: "holiday"},
		`cancel 7 "series" of failures`:       {ID: 7, Reason: "series of failures"},
		"cancel 7 release blocked":            {ID: 7, Reason: "release blocked"},
		"cancel 7 occurrence":                 {ID: 7, Scope: "occurrence"},
		"cancel #7 series":                    {ID: 7, Scope: "series"},
		"cancel 7 occurrence series confused": {ID: 7, Scope: "occurrence", Reason: "series confused"},
	} {
		if got := parse(in).(commands.Cancel); got != want {
			t.Errorf("Parse(%q) = %+v, want %+v", in, got, want)
		}
	}
	if s := parse("slots payments 3").(commands.Slots); s.Service != "payments" || s.N != 3 {
		t.Errorf("slots: %+v", s)
	}
	if s := parse("slots payments").(commands.Slots); s.N != 0 {
		t.Errorf("slots default: %+v", s)
	}

	f := parse("freeze add year-end from 2026-12-20 to 2027-01-04 Europe/Berlin services payments,ledger checkout regions eu-west reason year-end trading").(commands.Freeze)
	if f.Action != "add" || f.FreezeName != "year-end" || !f.From.Equal(utc(2026, 12, 19, 23, 0, 0)) || !f.To.Equal(utc(2027, 1, 3, 23, 0, 0)) ||
		!reflect.DeepEqual(f.Services, []string{"payments", "ledger", "checkout"}) || !reflect.DeepEqual(f.Regions, []string{"eu-west"}) ||
		f.Reason != "year-end trading" || f.FromText != "2026-12-20" || f.ToText != "2027-01-04 Europe/Berlin" {
		t.Errorf("freeze add: %+v", f)
	}
	f = parse("freeze add incident-42 for 4h reason database failover").(commands.Freeze)
	if !f.From.Equal(now) || !f.To.Equal(now.Add(4*time.Hour)) || f.FromText != "" || len(f.Services) != 0 {
		t.Errorf("freeze from now: %+v", f)
	}
	f = parse("freeze add incident-43 for 1d 12h services payments").(commands.Freeze)
	if !f.To.Equal(now.Add(36*time.Hour)) || f.ToText != "for 36h" || !reflect.DeepEqual(f.Services, []string{"payments"}) {
		t.Errorf("freeze for 1d 12h: %+v", f)
	}
	f = parse("freeze add sale from tomorrow 18:00 to tue 09:00 services *").(commands.Freeze)
	if !f.From.Equal(utc(2026, 11, 23, 17, 0, 0)) || !f.To.Equal(utc(2026, 11, 24, 8, 0, 0)) || !reflect.DeepEqual(f.Services, []string{"*"}) {
		t.Errorf("freeze with times: %+v", f)
	}
	if f := parse("freeze list all").(commands.Freeze); f.Action != "list" || !f.All {
		t.Errorf("freeze list all: %+v", f)
	}
	if f := parse("freeze remove year-end lifted early").(commands.Freeze); f.Action != "remove" || f.FreezeName != "year-end" || f.Reason != "lifted early" {
		t.Errorf("freeze remove: %+v", f)
	}
}

func TestParseWindowsGrammarErrors(t *testing.T) {
	env := commands.Env{Now: now, Location: berlin}
	for _, tc := range []struct{ in, tok, msg, usage string }{
		{"schedule payments next for 2h", "next", `missing <version>: "next" reads as the start`, "/upgrade schedule"},
		{"schedule payments every tue 02:00 for 1h", "every", `missing <version>: "every" reads as the start`, "/upgrade schedule"},
		// Followed by any start, the keyword is no version either: these
		// scheduled version "next" or "every" quietly (a mistyped series
		// became a one-off).
		{"schedule payments next tomorrow 02:00", "next", `missing <version>: "next" reads as the start`, "/upgrade schedule"},
		{"schedule payments next 2026-12-02 02:00", "next", `missing <version>: "next" reads as the start`, ""},
		{"schedule payments next in 2h", "next", `missing <version>: "next" reads as the start`, ""},
		{"schedule payments NEXT at tomorrow 05:00", "NEXT", `missing <version>: "NEXT" reads as the start`, ""},
		{"schedule payments next 2am for 1h", "next", `missing <version>: "next" reads as the start`, ""},
		{"schedule payments every tomorrow 06:00", "every", `missing <version>: "every" reads as the start`, ""},
		{"schedule payments every in 3h", "every", `missing <version>: "every" reads as the start`, ""},
		// The next-window form and a series read as a start too.
		{"schedule payments next next", "next", `missing <version>: "next" reads as the start`, ""},
		{"schedule payments next next for 2h", "next", `missing <version>: "next" reads as the start`, ""},
		{"schedule payments every next", "every", `missing <version>: "every" reads as the start`, ""},
		{"schedule payments next every tue 02:00 for 1h", "next", `missing <version>: "next" reads as the start`, ""},
		{"schedule payments every every tue 02:00 for 1h", "every", `missing <version>: "every" reads as the start`, ""},
		// An error in the every or next form shows that form's usage.
		{"schedule payments v2 every tue 02:00", "", "missing for <duration>: a recurring upgrade", "/upgrade schedule <service> <version> every <weekday> <time> for <duration> [until <date>]"},
		{"schedule payments v2 every 02:00 for 1h", "02:00", `cannot read "02:00" as a weekday after every`, "every <weekday> <time> for <duration>"},
		{"schedule payments v2 every sun 02:30 for 1h until 2027-02-30", "2027-02-30", `cannot read "2027-02-30" as a date after until`, "every <weekday> <time> for <duration>"},
		{"schedule payments v2 next for 1x", "1x", "", "/upgrade schedule <service> <version> next [for <duration>]"},
		{"schedule payments v2 every tue 02:00 for 1h bogus", "bogus", "after every <weekday> <time> only for <duration>, until <date>, region", "every <weekday> <time> for <duration>"},
		{"schedule payments v2 every tue for 1h", "for", "missing or unreadable clock time after every tue", ""},
		// A duration without for, or twice, says so as after a one-off start.
		{"schedule payments v2 every wed 03:00 1h", "1h", "unexpected \"1h\" right after the start; if it is the window's duration, put for before it: `every wed 03:00 for 1h`", "every <weekday> <time> for <duration>"},
		{"schedule payments v2 every wed 03:00 UTC 2 hours", "2 hours", "put for before it: `every wed 03:00 UTC for 2 hours`", ""},
		{"schedule payments v2 every wed 03:00 for 1h 1h", "1h", `the window duration is given twice: "for 1h", then "1h"; give it once`, "every <weekday> <time> for <duration>"},
		// A zone abbreviation or a second zone gets the one-off time's words.
		{"schedule payments v2 every tue 2am CET for 1h", "CET", `the abbreviation "CET" is not a time zone this bot understands (abbreviations are ambiguous)`, "/upgrade schedule"},
		{"schedule payments v2 every tue 2am UTC Europe/Berlin for 1h", "Europe/Berlin", `the time already has a zone, so "Europe/Berlin" is one too many (give only one); write every <weekday> <time> [<zone>] for <duration>`, ""},
		{"schedule payments v2 every tue 02:00 EST", "EST", "abbreviations are ambiguous", ""},
		{"schedule payments v2 every tue 02:00 for 1h until march", "march", `cannot read "march" as a date after until`, ""},
		{"schedule payments v2 every tue 02:00 for 1h until 2026-01-01", "2026-01-01", "until 2026-01-01 is in the past", ""},
		{"schedule payments v2 tomorrow 02:00 until 2027-01-01", "until", "until only ends a recurring upgrade", ""},
		{"schedule payments v2 next anyway because", "anyway", "next picks a window outside every freeze", ""},
		{"schedule payments v2 tomorrow 02:00 anyway", "", "missing <reason...> after anyway", ""},
		// An anyway that ends an impact says how to have the word in it.
		{"schedule payments v2 in 2d impact it will be slow anyway", "",
			`missing <reason...> after anyway: overriding a freeze must say why; to have the word in the impact, quote it: impact "it will be slow anyway"`, "/upgrade schedule"},
		{`schedule payments v2 in 2d impact "for real" anyway`, "", `quote it: impact "for real anyway"`, ""},
		{"reschedule 7 tomorrow 03:00 anyway", "", "missing <reason...> after anyway", ""},
		{"extend 7 30m anyways", "anyways", `unexpected "anyways"`, ""},
		{"slots", "", "missing <service>", "/upgrade slots"},
		{"slots payments 0", "0", "give a number from 1 to 20", ""},
		{"slots payments 21", "21", "from 1 to 20", ""},
		{"slots payments 3 more", "more", `unexpected "more"`, ""},
		{"freeze", "", "missing add, list or remove", "/upgrade freeze list"},
		{"freeze drop x", "drop", `unknown "drop" after freeze`, ""},
		{"freeze add", "", "missing <name> of the freeze", ""},
		{"freeze add from tomorrow 00:00 for 1d", "", "missing <name> of the freeze", ""},
		{"freeze add year/end for 1d", "year/end", "cannot name a freeze", ""},
		{"freeze add x from tomorrow 00:00", "", "missing the end: to <time> or for <duration>", ""},
		{"freeze add x to tomorrow 00:00 for 1d", "for", "the options to and for cannot both be given: each says when the freeze ends, so give one (to <time> or for <duration>)", ""},
		{"freeze add x for 1d to tomorrow 00:00", "to", "the options to and for cannot both be given", ""},
		{"freeze add x for 1d FOR 2d", "FOR", `the option "FOR" is given twice`, ""},
		{"freeze add x to tomorrow 00:00 to tue 00:00", "to", `the option "to" is given twice`, ""},
		{"freeze add x from 2026-12-20 to 2026-12-19", "2026-12-19", "must end after it starts (2026-12-19 00:00 CET (2026-12-18 23:00 UTC) is not after 2026-12-20 00:00 CET (2026-12-19 23:00 UTC))", ""},
		{"freeze add x from 2020-01-01 to 2027-01-01", "2020-01-01", "in the past", ""},
		// A past end is called the end, not the start.
		{"freeze add x to 2020-01-01", "2020-01-01", `the end time "2020-01-01" is in the past`, ""},
		{"freeze add x to today 09:00", "today 09:00", `the end time "today 09:00" is in the past`, ""},
		{"freeze add x from today 09:00 to tomorrow 00:00", "today 09:00", `the start time "today 09:00" is in the past`, ""},
		{"freeze add x for 1d services", "", "missing the services after services", ""},
		{"freeze add x for 1d because", "because", `unexpected "because"`, ""},
		{"freeze add x for 1d reason", "", "missing <text...> after reason", ""},
		{"freeze remove", "", "missing <name> of the freeze to remove", ""},
		{"freeze list everything", "everything", `unexpected "everything"`, ""},
	} {
		_, err := commands.Parse(tc.in, env)
		var e *commands.Error
		if !errors.As(err, &e) {
			t.Errorf("Parse(%q) = %v, want *Error", tc.in, err)
			continue
		}
		if e.Token != tc.tok || !strings.Contains(e.Msg, tc.msg) || !strings.Contains(e.Usage, tc.usage) {
			t.Errorf("Parse(%q) = token %q msg %q usage %q; want token %q, msg with %q, usage with %q", tc.in, e.Token, e.Msg, e.Usage, tc.tok, tc.msg, tc.usage)
		}
		if c := e.Msg[0]; c < 'a' || c > 'z' {
			t.Errorf("Parse(%q) Msg = %q does not start like a sentence", tc.in, e.Msg)
		}
	}
}

// TestWindowDSTNotesTogether: a window whose start falls in a gap (or
// happens twice) also says how long it lasts, and the week after a gap
// says that its UTC time moved back to normal.
func TestWindowDSTNotesTogether(t *testing.T) {
	sun := mustWindow(t, "sun 02:30-05:30 Europe/Berlin")
	gap := sun.Occurrences(utc(2027, 3, 27, 0, 0, 0), utc(2027, 4, 5, 0, 0, 0))
	if len(gap) != 2 {
		t.Fatalf("want 28 March and 4 April, got %+v", gap)
	}
	if n := gap[0].Note; !strings.Contains(n, "02:30 does not exist on 28 March") || !strings.Contains(n, "It lasts 2h, not 3h.") {
		t.Errorf("28 March: %q", n)
	}
	want := "Clocks in Europe/Berlin go forward on Sunday 28 March: this window opens at 02:30 CEST, which is 00:30 UTC (it was 01:30 UTC the week before)."
	if gap[1].Note != want || !gap[1].Start.Equal(utc(2027, 4, 4, 0, 30, 0)) {
		t.Errorf("4 April: %v %q\nwant %q", gap[1].Start.UTC(), gap[1].Note, want)
	}
	twice := sun.Occurrences(utc(2027, 10, 30, 0, 0, 0), utc(2027, 11, 1, 0, 0, 0))
	if len(twice) != 1 || !strings.Contains(twice[0].Note, "happens twice") || !strings.Contains(twice[0].Note, "It lasts 4h, not 3h.") {
		t.Errorf("31 October: %+v", twice)
	}
}

// TestEveryChangeNote: an occurrence of a series keeps its length, so one
// the clocks change inside ends at another local time, and says so.
func TestEveryChangeNote(t *testing.T) {
	e, err := commands.ParseEvery("sun 01:30 Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	d, ok := e.On("2027-03-28")
	if !ok {
		t.Fatal("no occurrence on 28 March")
	}
	want := "The clocks change during this occurrence on 28 March in Europe/Berlin: it ends at 04:30 CEST, 2h after it starts."
	if n := e.ChangeNote(d.Start, 2*time.Hour); n != want {
		t.Errorf("note = %q\nwant %q", n, want)
	}
	if n := e.ChangeNote(d.Start, 20*time.Minute); n != "" {
		t.Errorf("a window that ends before the change: %q", n)
	}
	if d, _ := e.On("2027-04-04"); e.ChangeNote(d.Start, 2*time.Hour) != "" {
		t.Error("a note on a week without a change")
	}
}

// TestDSTNotesAcrossMidnightAndHemispheres: a window that crosses midnight
// names the day the clocks change (its second day), south of the equator
// too; a series occurrence the clocks go back inside says so.
func TestDSTNotesAcrossMidnightAndHemispheres(t *testing.T) {
	for _, tc := range []struct {
		window   string
		from, to time.Time
		want     string
	}{
		{"sat 23:00-04:00 Europe/Berlin", utc(2027, 3, 27, 0, 0, 0), utc(2027, 3, 28, 12, 0, 0), "The clocks change during this window on 28 March in Europe/Berlin, so it lasts 4h, not 5h."},
		{"sat 22:00-03:30 Australia/Sydney", utc(2026, 10, 3, 0, 0, 0), utc(2026, 10, 4, 12, 0, 0), "The clocks change during this window on 4 October in Australia/Sydney, so it lasts 4h30m, not 5h30m."},
	} {
		occ := mustWindow(t, tc.window).Occurrences(tc.from, tc.to)
		if len(occ) != 1 || occ[0].Note != tc.want {
			t.Errorf("%s: %+v\nwant the note %q", tc.window, occ, tc.want)
		}
	}
	e, err := commands.ParseEvery("sun 01:30 Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	d, _ := e.On("2027-10-31")
	if n, want := e.ChangeNote(d.Start, 2*time.Hour), "The clocks change during this occurrence on 31 October in Europe/Berlin: it ends at 02:30 CET, 2h after it starts."; n != want {
		t.Errorf("autumn: %q\nwant %q", n, want)
	}
}

// TestFreezeFromThisMinute: a freeze's start at the very minute it is now
// means now (the freeze holds from now), where schedule's means the next
// occurrence. It is Sunday 11:00 in Berlin (10:00 UTC); the clock may be
// within the minute.
func TestFreezeFromThisMinute(t *testing.T) {
	for _, at := range []time.Time{now, now.Add(30 * time.Second)} {
		env := commands.Env{Now: at, Location: berlin}
		for _, tc := range []struct {
			in       string
			from, to time.Time
		}{
			{"freeze add f from 11:00 for 2h", now, now.Add(2 * time.Hour)},
			{"freeze add f from 11am to 13:00", now, now.Add(2 * time.Hour)},
			{"freeze add f from sun 11:00 for 2h", now, now.Add(2 * time.Hour)},
			{"freeze add f from sunday 11:00 to sunday 13:00", now, now.Add(2 * time.Hour)},
			{"freeze add f from today 11:00 for 2h", now, now.Add(2 * time.Hour)},
			{"freeze add f from 2026-11-22 11:00 for 2h", now, now.Add(2 * time.Hour)},
			{"freeze add f from 10:00 UTC for 2h", now, now.Add(2 * time.Hour)},
			{`freeze add f from "11:00 Europe/Berlin" for 2h`, now, now.Add(2 * time.Hour)},
			// A minute already gone is still its next occurrence, and the
			// end at this very minute is still tomorrow's (a freeze of a day).
			{"freeze add f from 10:59 for 2h", now.Add(24*time.Hour - time.Minute), now.Add(26*time.Hour - time.Minute)},
			{"freeze add f to 11:00", now, now.Add(24 * time.Hour)},
		} {
			c, err := commands.Parse(tc.in, env)
			if err != nil {
				t.Errorf("at %s: Parse(%q): %v", at.Format(time.TimeOnly), tc.in, err)
				continue
			}
			f := c.(commands.Freeze)
			if !f.From.Equal(tc.from) || !f.To.Equal(tc.to) {
				t.Errorf("at %s: Parse(%q) = from %s to %s, want from %s to %s", at.Format(time.TimeOnly), tc.in, f.From.UTC(), f.To.UTC(), tc.from, tc.to)
			}
		}
		// schedule is unchanged: the very minute is no longer ahead.
		c, err := commands.Parse("schedule payments v2 11:00 for 1h", env)
		if err != nil {
			t.Fatalf("schedule at this minute: %v", err)
		}
		if s := c.(commands.Schedule); !s.Start.Equal(now.Add(24 * time.Hour)) {
			t.Errorf("at %s: schedule 11:00 starts %s, want tomorrow's %s", at.Format(time.TimeOnly), s.Start.UTC(), now.Add(24*time.Hour))
		}
	}
}
