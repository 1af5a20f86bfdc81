package commands_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/commands"
)

// fuzzZones includes zones with half-hour and 30-minute DST shifts, where
// relative-day and weekday arithmetic is most likely to go wrong.
var fuzzZones = []*time.Location{
	nil, time.UTC, berlin, newYork, kolkata, auckland,
	mustLoad("Australia/Lord_Howe"), mustLoad("Pacific/Chatham"), mustLoad("America/St_Johns"),
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
		"link 7 https://github.com/acme/payments.git v1",
		"list all payments",
		"rollback 7 “curly quoted” reason",
		`complete 7 "unterminated`,
		"help shedule",
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
			if c.Start.Before(env.Now) || c.Duration < 0 || c.StartText == "" {
				t.Fatalf("Parse(%q) at %v: bad schedule %#v", text, env.Now, c)
			}
		case commands.Reschedule:
			if c.ID <= 0 || c.Start.Before(env.Now) || c.Duration < 0 {
				t.Fatalf("Parse(%q) at %v: bad reschedule %#v", text, env.Now, c)
			}
		case commands.Extend:
			if c.ID <= 0 || c.By <= 0 {
				t.Fatalf("Parse(%q): bad extend %#v", text, c)
			}
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
