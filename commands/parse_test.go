package commands_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // hermetic zone data: the DST expectations must not depend on the host

	"github.com/upgradebot/upgradebot/commands"
)

// now is a Sunday: weekday cases below rely on that.
var now = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

var (
	berlin   = mustLoad("Europe/Berlin")
	newYork  = mustLoad("America/New_York")
	kolkata  = mustLoad("Asia/Kolkata")
	auckland = mustLoad("Pacific/Auckland")
)

func utc(y int, mo time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
}

// toUTC makes commands comparable with reflect.DeepEqual: Start keeps the
// user's zone, which is right for replies but irrelevant to equality, and Zone
// is compared by name (each parse loads its own *time.Location).
func toUTC(c commands.Command) commands.Command {
	byName := func(z *time.Location) *time.Location {
		if z == nil {
			return nil
		}
		return time.FixedZone(z.String(), 0)
	}
	switch v := c.(type) {
	case commands.Schedule:
		v.Start, v.Zone = v.Start.UTC(), byName(v.Zone)
		return v
	case commands.Reschedule:
		v.Start, v.Zone = v.Start.UTC(), byName(v.Zone)
		return v
	}
	return c
}

type parseCase struct {
	name string
	in   string
	loc  *time.Location // env.Location; nil means UTC
	want commands.Command

	// Error cases set err; tok is then the expected Token and msg a substring of Msg.
	err bool
	tok string
	msg string
}

func sched(svc, ver string, start time.Time, text string) commands.Schedule {
	return commands.Schedule{Service: svc, Version: ver, Start: start, StartText: text}
}

// zsched is sched for a start that named its zone.
func zsched(svc, ver string, start time.Time, text string, zone *time.Location) commands.Schedule {
	s := sched(svc, ver, start, text)
	s.ZoneGiven, s.Zone = true, zone
	return s
}

// rsched is sched for a relative start ("in 2h"): no zone to guess, none typed.
func rsched(svc, ver string, start time.Time, text string) commands.Schedule {
	s := sched(svc, ver, start, text)
	s.ZoneGiven = true
	return s
}

// fixed is an offset zone as the parser names it; toUTC compares zones by name.
func fixed(name string) *time.Location { return time.FixedZone(name, 0) }

func with(s commands.Schedule, f func(*commands.Schedule)) commands.Schedule {
	f(&s)
	return s
}

const sp = "schedule payments v1 "

var parseCases = []parseCase{
	// Help and the /upgrade prefix.
	{name: "empty", in: "", want: commands.Help{}},
	{name: "blank", in: "  \t ", want: commands.Help{}},
	{name: "bare prefix", in: "/upgrade", want: commands.Help{}},
	{name: "prefix case-insensitive", in: "/UPGRADE list", want: commands.List{}},
	{name: "help", in: "help", want: commands.Help{}},
	{name: "help topic", in: "help schedule", want: commands.Help{Topic: "schedule"}},
	{name: "help topic upper", in: "HELP Rollback", want: commands.Help{Topic: "rollback"}},
	{name: "help with prefix", in: "/upgrade help link", want: commands.Help{Topic: "link"}},

	// schedule: the brief's example, impact eating "for 30s".
	{
		name: "schedule full example",
		in:   `schedule payments v2.4.0 at 2026-12-01 02:00 UTC for 2h region eu-west impact "card payments may fail" for 30s`,
		want: commands.Schedule{
			Service: "payments", Version: "v2.4.0", Start: utc(2026, 12, 1, 2, 0, 0), Duration: 2 * time.Hour,
			Region: "eu-west", Impact: "card payments may fail for 30s", StartText: "2026-12-01 02:00 UTC", ZoneGiven: true, Zone: time.UTC,
		},
	},
	{name: "schedule with prefix, default zone UTC", in: "/upgrade " + sp + "at 2026-12-01 02:00",
		want: sched("payments", "v1", utc(2026, 12, 1, 2, 0, 0), "2026-12-01 02:00")},
	{name: "schedule user zone Berlin", in: sp + "at 2026-12-01 02:00", loc: berlin,
		want: sched("payments", "v1", utc(2026, 12, 1, 1, 0, 0), "2026-12-01 02:00")},
	{name: "schedule keywords upper-case", in: "SCHEDULE payments v1 AT 2026-12-01T02:00 FOR 90m REGION eu IMPACT none",
		want: with(sched("payments", "v1", utc(2026, 12, 1, 2, 0, 0), "2026-12-01T02:00"), func(s *commands.Schedule) {
			s.Duration, s.Region, s.Impact = 90*time.Minute, "eu", "none"
		})},
	{name: "rfc3339 Z", in: sp + "at 2026-12-01T02:00:00Z", loc: berlin,
		want: zsched("payments", "v1", utc(2026, 12, 1, 2, 0, 0), "2026-12-01T02:00:00Z", time.UTC)},
	{name: "rfc3339 offset", in: sp + "at 2026-12-01T02:00:00+02:00",
		want: zsched("payments", "v1", utc(2026, 12, 1, 0, 0, 0), "2026-12-01T02:00:00+02:00", fixed("+02:00"))},
	{name: "T form with offset no seconds", in: sp + "at 2026-12-01T02:00+02:00",
		want: zsched("payments", "v1", utc(2026, 12, 1, 0, 0, 0), "2026-12-01T02:00+02:00", fixed("+02:00"))},
	{name: "T form lower-case", in: sp + "at 2026-12-01t02:00z",
		want: zsched("payments", "v1", utc(2026, 12, 1, 2, 0, 0), "2026-12-01t02:00z", time.UTC)},
	{name: "seconds are dropped", in: sp + "at 2026-12-01 02:00:30",
		want: sched("payments", "v1", utc(2026, 12, 1, 2, 0, 0), "2026-12-01 02:00:30")},
	{name: "rfc3339 seconds and fraction dropped", in: sp + "at 2026-12-01T02:00:59.999Z",
		want: zsched("payments", "v1", utc(2026, 12, 1, 2, 0, 0), "2026-12-01T02:00:59.999Z", time.UTC)},
	{name: "IANA zone", in: sp + "at 2026-12-01 02:00 Europe/Berlin",
		want: zsched("payments", "v1", utc(2026, 12, 1, 1, 0, 0), "2026-12-01 02:00 Europe/Berlin", berlin)},
	{name: "IANA zone lower-case", in: sp + "at 2026-12-01 02:00 europe/berlin",
		want: zsched("payments", "v1", utc(2026, 12, 1, 1, 0, 0), "2026-12-01 02:00 europe/berlin", berlin)},
	{name: "IANA zone overrides user zone", in: sp + "at 2026-12-01 02:00 America/New_York", loc: berlin,
		want: zsched("payments", "v1", utc(2026, 12, 1, 7, 0, 0), "2026-12-01 02:00 America/New_York", newYork)},
	{name: "offset zone", in: sp + "at 2026-12-01 02:00 +02:00",
		want: zsched("payments", "v1", utc(2026, 12, 1, 0, 0, 0), "2026-12-01 02:00 +02:00", fixed("+02:00"))},
	{name: "offset zone compact negative", in: sp + "at 2026-12-01 02:00 -0530",
		want: zsched("payments", "v1", utc(2026, 12, 1, 7, 30, 0), "2026-12-01 02:00 -0530", fixed("-05:30"))},
	{name: "UTC lower-case", in: sp + "at 2026-12-01 02:00 utc", loc: kolkata,
		want: zsched("payments", "v1", utc(2026, 12, 1, 2, 0, 0), "2026-12-01 02:00 utc", time.UTC)},
	{name: "Z zone token", in: sp + "at 2026-12-01 02:00 Z", loc: newYork,
		want: zsched("payments", "v1", utc(2026, 12, 1, 2, 0, 0), "2026-12-01 02:00 Z", time.UTC)},
	{name: "UTC+2", in: sp + "at 2026-12-01 02:00 UTC+2",
		want: zsched("payments", "v1", utc(2026, 12, 1, 0, 0, 0), "2026-12-01 02:00 UTC+2", fixed("+02:00"))},
	{name: "GMT", in: sp + "at 2026-12-01 02:00 GMT", loc: berlin,
		want: zsched("payments", "v1", utc(2026, 12, 1, 2, 0, 0), "2026-12-01 02:00 GMT", time.UTC)},
	{name: "today", in: sp + "at today 23:30",
		want: sched("payments", "v1", utc(2026, 11, 22, 23, 30, 0), "today 23:30")},
	{name: "TODAY in Berlin", in: sp + "at TODAY 23:30", loc: berlin,
		want: sched("payments", "v1", utc(2026, 11, 22, 22, 30, 0), "TODAY 23:30")},
	{name: "today in New York is a UTC tomorrow", in: sp + "at today 23:30", loc: newYork,
		want: sched("payments", "v1", utc(2026, 11, 23, 4, 30, 0), "today 23:30")},
	{name: "today in Auckland (already 23:00 there)", in: sp + "at today 23:30", loc: auckland,
		want: sched("payments", "v1", utc(2026, 11, 22, 10, 30, 0), "today 23:30")},
	{name: "tomorrow", in: sp + "at tomorrow 02:00",
		want: sched("payments", "v1", utc(2026, 11, 23, 2, 0, 0), "tomorrow 02:00")},
	{name: "tomorrow with zone", in: sp + "at tomorrow 02:00 Europe/Berlin",
		want: zsched("payments", "v1", utc(2026, 11, 23, 1, 0, 0), "tomorrow 02:00 Europe/Berlin", berlin)},
	{name: "tomorrow in Kolkata", in: sp + "at tomorrow 02:00", loc: kolkata,
		want: sched("payments", "v1", utc(2026, 11, 22, 20, 30, 0), "tomorrow 02:00")},
	{name: "tomorrow in Auckland", in: sp + "at Tomorrow 02:00", loc: auckland,
		want: sched("payments", "v1", utc(2026, 11, 22, 13, 0, 0), "Tomorrow 02:00")},
	{name: "weekday short", in: sp + "at mon 09:30",
		want: sched("payments", "v1", utc(2026, 11, 23, 9, 30, 0), "mon 09:30")},
	{name: "weekday long mixed case", in: sp + "at Monday 09:30",
		want: sched("payments", "v1", utc(2026, 11, 23, 9, 30, 0), "Monday 09:30")},
	{name: "weekday today still ahead", in: sp + "at sun 11:00",
		want: sched("payments", "v1", utc(2026, 11, 22, 11, 0, 0), "sun 11:00")},
	{name: "weekday today already past: next week", in: sp + "at sun 09:00",
		want: sched("payments", "v1", utc(2026, 11, 29, 9, 0, 0), "sun 09:00")},
	{name: "weekday today exactly now: no longer ahead, next week", in: sp + "at sunday 10:00",
		want: sched("payments", "v1", utc(2026, 11, 29, 10, 0, 0), "sunday 10:00")},
	{name: "weekday with seconds dropped", in: sp + "at sat 23:59:59",
		want: sched("payments", "v1", utc(2026, 11, 28, 23, 59, 0), "sat 23:59:59")},
	{name: "weekday with zone", in: sp + "at wed 09:30 Europe/Berlin",
		want: zsched("payments", "v1", utc(2026, 11, 25, 8, 30, 0), "wed 09:30 Europe/Berlin", berlin)},
	{name: "single-digit hour", in: sp + "at fri 9:05",
		want: sched("payments", "v1", utc(2026, 11, 27, 9, 5, 0), "fri 9:05")},
	{name: "in hours", in: sp + "in 2h",
		want: rsched("payments", "v1", utc(2026, 11, 22, 12, 0, 0), "in 2h")},
	{name: "in weeks and days", in: sp + "IN 1w2d",
		want: rsched("payments", "v1", utc(2026, 12, 1, 10, 0, 0), "in 1w2d")},
	{name: "in with for in days", in: sp + "in 1d12h for 3d", loc: berlin,
		want: with(rsched("payments", "v1", utc(2026, 11, 23, 22, 0, 0), "in 1d12h"), func(s *commands.Schedule) {
			s.Duration = 72 * time.Hour
		})},
	{name: "fractional days", in: sp + "in 90m for 1.5d",
		want: with(rsched("payments", "v1", utc(2026, 11, 22, 11, 30, 0), "in 90m"), func(s *commands.Schedule) {
			s.Duration = 36 * time.Hour
		})},
	{name: "quoted service and version", in: `schedule "payments api" "v2.4.0 rc1" at 2026-12-01 02:00`,
		want: sched("payments api", "v2.4.0 rc1", utc(2026, 12, 1, 2, 0, 0), "2026-12-01 02:00")},
	{name: "quoted time", in: sp + `at "2026-12-01 02:00" for 2h`,
		want: with(sched("payments", "v1", utc(2026, 12, 1, 2, 0, 0), "2026-12-01 02:00"), func(s *commands.Schedule) { s.Duration = 2 * time.Hour })},
	{name: "quoted time with its zone", in: sp + `at “2026-12-01 02:00 Europe/Berlin”`,
		want: zsched("payments", "v1", utc(2026, 12, 1, 1, 0, 0), "2026-12-01 02:00 Europe/Berlin", berlin)},
	{name: "quoted time with words left over", in: sp + `at "2026-12-01 02:00 soon"`, err: true, tok: "2026-12-01 02:00 soon", msg: `"soon" is left over`},
	{name: "quoted keyword is a plain word", in: `schedule "for" "at" at 2026-12-01 02:00`,
		want: sched("for", "at", utc(2026, 12, 1, 2, 0, 0), "2026-12-01 02:00")},
	{name: "options in any order", in: sp + "at 2026-12-01 02:00 region us-east for 1w impact checkout slow",
		want: with(sched("payments", "v1", utc(2026, 12, 1, 2, 0, 0), "2026-12-01 02:00"), func(s *commands.Schedule) {
			s.Region, s.Duration, s.Impact = "us-east", 168*time.Hour, "checkout slow"
		})},
	{name: "quoted region", in: sp + `at 2026-12-01 02:00 region "eu west"`,
		want: with(sched("payments", "v1", utc(2026, 12, 1, 2, 0, 0), "2026-12-01 02:00"), func(s *commands.Schedule) {
			s.Region = "eu west"
		})},
	{name: "impact verbatim, keywords inside", in: sp + `at 2026-12-01 02:00 impact "for" real   region  text`,
		want: with(sched("payments", "v1", utc(2026, 12, 1, 2, 0, 0), "2026-12-01 02:00"), func(s *commands.Schedule) {
			s.Impact = "for real region text"
		})},
	{name: "impact with curly quotes", in: sp + "at 2026-12-01 02:00 impact “card payments” down",
		want: with(sched("payments", "v1", utc(2026, 12, 1, 2, 0, 0), "2026-12-01 02:00"), func(s *commands.Schedule) {
			s.Impact = "card payments down"
		})},

	// What people write in chat (issue "Tried as a new user would"); now is Sunday 2026-11-22 10:00 UTC.
	{name: "no at: tomorrow 02:00", in: sp + "tomorrow 02:00",
		want: sched("payments", "v1", utc(2026, 11, 23, 2, 0, 0), "tomorrow 02:00")},
	{name: "no at with options", in: "schedule payments v2 tomorrow 02:00 for 2h region eu",
		want: with(sched("payments", "v2", utc(2026, 11, 23, 2, 0, 0), "tomorrow 02:00"), func(s *commands.Schedule) {
			s.Duration, s.Region = 2*time.Hour, "eu"
		})},
	{name: "tomorrow 2am", in: sp + "tomorrow 2am",
		want: sched("payments", "v1", utc(2026, 11, 23, 2, 0, 0), "tomorrow 2am")},
	{name: "at tomorrow 2AM", in: sp + "at tomorrow 2AM",
		want: sched("payments", "v1", utc(2026, 11, 23, 2, 0, 0), "tomorrow 2AM")},
	{name: "tomorrow at 2am", in: sp + "tomorrow at 2am",
		want: sched("payments", "v1", utc(2026, 11, 23, 2, 0, 0), "tomorrow at 2am")},
	{name: "2am tomorrow", in: sp + "2am tomorrow",
		want: sched("payments", "v1", utc(2026, 11, 23, 2, 0, 0), "2am tomorrow")},
	{name: "bare 2:30pm is today", in: sp + "2:30pm",
		want: sched("payments", "v1", utc(2026, 11, 22, 14, 30, 0), "2:30pm")},
	{name: "2:30 PM two tokens", in: sp + "at 2:30 PM",
		want: sched("payments", "v1", utc(2026, 11, 22, 14, 30, 0), "2:30 PM")},
	{name: "2 am two tokens is tomorrow", in: sp + "2 am",
		want: sched("payments", "v1", utc(2026, 11, 23, 2, 0, 0), "2 am")},
	{name: "p.m. with dots", in: sp + "tomorrow 9:15p.m.",
		want: sched("payments", "v1", utc(2026, 11, 23, 21, 15, 0), "tomorrow 9:15p.m.")},
	{name: "12am is 00:00", in: sp + "tomorrow 12am",
		want: sched("payments", "v1", utc(2026, 11, 23, 0, 0, 0), "tomorrow 12am")},
	{name: "12:30am is 00:30", in: sp + "tomorrow 12:30am",
		want: sched("payments", "v1", utc(2026, 11, 23, 0, 30, 0), "tomorrow 12:30am")},
	{name: "12pm is noon", in: sp + "tomorrow 12pm",
		want: sched("payments", "v1", utc(2026, 11, 23, 12, 0, 0), "tomorrow 12pm")},
	{name: "noon today", in: sp + "noon",
		want: sched("payments", "v1", utc(2026, 11, 22, 12, 0, 0), "noon")},
	{name: "at noon", in: sp + "at Noon",
		want: sched("payments", "v1", utc(2026, 11, 22, 12, 0, 0), "Noon")},
	{name: "midnight is the next 00:00", in: sp + "midnight",
		want: sched("payments", "v1", utc(2026, 11, 23, 0, 0, 0), "midnight")},
	{name: "tomorrow midnight is the start of tomorrow", in: sp + "tomorrow midnight",
		want: sched("payments", "v1", utc(2026, 11, 23, 0, 0, 0), "tomorrow midnight")},
	{name: "tomorrow noon", in: sp + "tomorrow noon",
		want: sched("payments", "v1", utc(2026, 11, 23, 12, 0, 0), "tomorrow noon")},
	{name: "noon next friday", in: sp + "noon next friday",
		want: sched("payments", "v1", utc(2026, 11, 27, 12, 0, 0), "noon next friday")},
	{name: "next tuesday 14:00", in: sp + "next tuesday 14:00",
		want: sched("payments", "v1", utc(2026, 11, 24, 14, 0, 0), "next tuesday 14:00")},
	{name: "tuesday 14:00 is the same", in: sp + "at tuesday 14:00",
		want: sched("payments", "v1", utc(2026, 11, 24, 14, 0, 0), "tuesday 14:00")},
	{name: "next sunday, still ahead today", in: sp + "next sun 11:00",
		want: sched("payments", "v1", utc(2026, 11, 22, 11, 0, 0), "next sun 11:00")},
	{name: "next sunday, past today", in: sp + "Next Sunday 9am",
		want: sched("payments", "v1", utc(2026, 11, 29, 9, 0, 0), "Next Sunday 9am")},
	{name: "tue 9am", in: sp + "tue 9am",
		want: sched("payments", "v1", utc(2026, 11, 24, 9, 0, 0), "tue 9am")},
	{name: "bare 14:00 is today", in: sp + "14:00",
		want: sched("payments", "v1", utc(2026, 11, 22, 14, 0, 0), "14:00")},
	{name: "bare 02:00 is tomorrow", in: sp + "at 02:00",
		want: sched("payments", "v1", utc(2026, 11, 23, 2, 0, 0), "02:00")},
	{name: "bare clock exactly now: no longer ahead, tomorrow", in: sp + "10:00",
		want: sched("payments", "v1", utc(2026, 11, 23, 10, 0, 0), "10:00")},
	{name: "bare clock in Auckland (23:00 there)", in: sp + "noon", loc: auckland,
		want: sched("payments", "v1", utc(2026, 11, 22, 23, 0, 0), "noon")},
	{name: "zone after 12-hour", in: sp + "tomorrow 2am Europe/Berlin",
		want: zsched("payments", "v1", utc(2026, 11, 23, 1, 0, 0), "tomorrow 2am Europe/Berlin", berlin)},
	{name: "zone after noon", in: sp + "noon UTC", loc: berlin,
		want: zsched("payments", "v1", utc(2026, 11, 22, 12, 0, 0), "noon UTC", time.UTC)},
	{name: "zone after two-token 12-hour", in: sp + "2 pm +02:00",
		want: zsched("payments", "v1", utc(2026, 11, 22, 12, 0, 0), "2 pm +02:00", fixed("+02:00"))},
	{name: "quoted time without at", in: sp + `"tomorrow 2am UTC" for 1h`,
		want: with(zsched("payments", "v1", utc(2026, 11, 23, 2, 0, 0), "tomorrow 2am UTC", time.UTC), func(s *commands.Schedule) { s.Duration = time.Hour })},
	{name: "quoted relative", in: sp + `"in 2 hours"`,
		want: rsched("payments", "v1", utc(2026, 11, 22, 12, 0, 0), "in 2 hours")},
	{name: "in 3 days", in: sp + "in 3 days",
		want: rsched("payments", "v1", utc(2026, 11, 25, 10, 0, 0), "in 3 days")},
	{name: "in 90 minutes", in: sp + "in 90 minutes",
		want: rsched("payments", "v1", utc(2026, 11, 22, 11, 30, 0), "in 90 minutes")},
	{name: "in 1 hour", in: sp + "in 1 hour for 30 mins",
		want: with(rsched("payments", "v1", utc(2026, 11, 22, 11, 0, 0), "in 1 hour"), func(s *commands.Schedule) { s.Duration = 30 * time.Minute })},
	{name: "in 2 weeks", in: sp + "in 2 weeks",
		want: rsched("payments", "v1", utc(2026, 12, 6, 10, 0, 0), "in 2 weeks")},
	{name: "in 45 mins", in: sp + "in 45 mins",
		want: rsched("payments", "v1", utc(2026, 11, 22, 10, 45, 0), "in 45 mins")},
	{name: "in an hour", in: sp + "in an hour",
		want: rsched("payments", "v1", utc(2026, 11, 22, 11, 0, 0), "in an hour")},
	{name: "in 1 hour 30 minutes", in: sp + "in 1 hour 30 minutes region eu",
		want: with(rsched("payments", "v1", utc(2026, 11, 22, 11, 30, 0), "in 1 hour 30 minutes"), func(s *commands.Schedule) { s.Region = "eu" })},
	{name: "in 1 Day", in: sp + "in 1 Day",
		want: rsched("payments", "v1", utc(2026, 11, 23, 10, 0, 0), "in 1 Day")},
	{name: "durations case-insensitive", in: sp + "in 2H for 90M",
		want: with(rsched("payments", "v1", utc(2026, 11, 22, 12, 0, 0), "in 2H"), func(s *commands.Schedule) { s.Duration = 90 * time.Minute })},
	{name: "in 1D", in: sp + "IN 1D",
		want: rsched("payments", "v1", utc(2026, 11, 23, 10, 0, 0), "in 1D")},
	{name: "for 2 hours", in: sp + "tomorrow 02:00 for 2 hours",
		want: with(sched("payments", "v1", utc(2026, 11, 23, 2, 0, 0), "tomorrow 02:00"), func(s *commands.Schedule) { s.Duration = 2 * time.Hour })},
	{name: "for 1.5h is whole minutes", in: sp + "in 2h for 1.5h",
		want: with(rsched("payments", "v1", utc(2026, 11, 22, 12, 0, 0), "in 2h"), func(s *commands.Schedule) { s.Duration = 90 * time.Minute })},
	{name: "for 120s is whole minutes", in: sp + "in 2h for 120s",
		want: with(rsched("payments", "v1", utc(2026, 11, 22, 12, 0, 0), "in 2h"), func(s *commands.Schedule) { s.Duration = 2 * time.Minute })},
	// Compact and spaced parts in a row are summed, as a user means them.
	{name: "for 1h 30m", in: sp + "tomorrow 02:00 for 1h 30m",
		want: with(sched("payments", "v1", utc(2026, 11, 23, 2, 0, 0), "tomorrow 02:00"), func(s *commands.Schedule) { s.Duration = 90 * time.Minute })},
	{name: "for 1 hour 30m", in: sp + "tomorrow 02:00 for 1 hour 30m region eu",
		want: with(sched("payments", "v1", utc(2026, 11, 23, 2, 0, 0), "tomorrow 02:00"), func(s *commands.Schedule) { s.Duration, s.Region = 90*time.Minute, "eu" })},
	{name: "for 1h 30 minutes", in: sp + "tomorrow 02:00 for 1h 30 minutes impact slow",
		want: with(sched("payments", "v1", utc(2026, 11, 23, 2, 0, 0), "tomorrow 02:00"), func(s *commands.Schedule) { s.Duration, s.Impact = 90*time.Minute, "slow" })},
	{name: "for 1d 2h 30m", in: sp + "in 2h for 1d 2h 30m",
		want: with(rsched("payments", "v1", utc(2026, 11, 22, 12, 0, 0), "in 2h"), func(s *commands.Schedule) { s.Duration = 26*time.Hour + 30*time.Minute })},
	{name: "in 1h 30m", in: sp + "in 1h 30m for 2h",
		want: with(rsched("payments", "v1", utc(2026, 11, 22, 11, 30, 0), "in 1h 30m"), func(s *commands.Schedule) { s.Duration = 2 * time.Hour })},
	{name: "in an hour 30m", in: sp + "in an hour 30m",
		want: rsched("payments", "v1", utc(2026, 11, 22, 11, 30, 0), "in an hour 30m")},
	{name: "for 1h then region", in: sp + "tomorrow 02:00 for 1h region eu",
		want: with(sched("payments", "v1", utc(2026, 11, 23, 2, 0, 0), "tomorrow 02:00"), func(s *commands.Schedule) { s.Duration, s.Region = time.Hour, "eu" })},
	{name: "reschedule in 1h 30m for 1 hour 15m", in: "reschedule 7 in 1h 30m for 1 hour 15m",
		want: commands.Reschedule{ID: 7, Start: utc(2026, 11, 22, 11, 30, 0), StartText: "in 1h 30m", Duration: 75 * time.Minute, ZoneGiven: true}},
	{name: "extend 1h 30m", in: "extend 1 1h 30m", want: commands.Extend{ID: 1, By: 90 * time.Minute}},
	{name: "extend 1h 30m anyway", in: "extend 1 1h 30 mins anyway still migrating", want: commands.Extend{ID: 1, By: 90 * time.Minute, Anyway: "still migrating"}},
	{name: "quoted version that reads as a time", in: `schedule payments "tomorrow" tomorrow 02:00`,
		want: sched("payments", "tomorrow", utc(2026, 11, 23, 2, 0, 0), "tomorrow 02:00")},
	{name: "quoted version next before at", in: `schedule web "next" at tomorrow 02:00`,
		want: sched("web", "next", utc(2026, 11, 23, 2, 0, 0), "tomorrow 02:00")},
	{name: "numeric version before a time", in: "schedule postgres 16 tomorrow 02:00",
		want: sched("postgres", "16", utc(2026, 11, 23, 2, 0, 0), "tomorrow 02:00")},

	// DST: the rule, not time.Date's choice (TestDST covers every form and zone).
	{name: "Berlin gap 02:30 -> 03:30 CEST", in: sp + "at 2027-03-28 02:30 Europe/Berlin",
		want: with(zsched("payments", "v1", utc(2027, 3, 28, 1, 30, 0), "2027-03-28 02:30 Europe/Berlin", berlin), func(s *commands.Schedule) {
			s.TimeNote = "02:30 does not exist on 28 March in Europe/Berlin (clocks jump from 02:00 to 03:00); read as 03:30 CEST."
		})},
	{name: "Berlin overlap 02:30 -> the first, CEST", in: sp + "at 2027-10-31 02:30", loc: berlin,
		want: with(sched("payments", "v1", utc(2027, 10, 31, 0, 30, 0), "2027-10-31 02:30"), func(s *commands.Schedule) {
			s.TimeNote = "02:30 happens twice on 31 October in Europe/Berlin (clocks go back from 03:00 to 02:00); read as the first, 02:30 CEST; write 02:30 +01:00 for the second."
		})},
	{name: "New York gap 02:30 -> 03:30 EDT", in: sp + "at 2027-03-14 02:30 America/New_York",
		want: with(zsched("payments", "v1", utc(2027, 3, 14, 7, 30, 0), "2027-03-14 02:30 America/New_York", newYork), func(s *commands.Schedule) {
			s.TimeNote = "02:30 does not exist on 14 March in America/New_York (clocks jump from 02:00 to 03:00); read as 03:30 EDT."
		})},
	{name: "New York overlap 01:30 -> the first, EDT", in: sp + "at 2027-11-07 01:30", loc: newYork,
		want: with(sched("payments", "v1", utc(2027, 11, 7, 5, 30, 0), "2027-11-07 01:30"), func(s *commands.Schedule) {
			s.TimeNote = "01:30 happens twice on 7 November in America/New_York (clocks go back from 02:00 to 01:00); read as the first, 01:30 EDT; write 01:30 -05:00 for the second."
		})},
	{name: "New York overlap, the second by offset", in: sp + "at 2027-11-07 01:30 -05:00", loc: newYork,
		want: zsched("payments", "v1", utc(2027, 11, 7, 6, 30, 0), "2027-11-07 01:30 -05:00", fixed("-05:00"))},

	// list
	{name: "list", in: "list", want: commands.List{}},
	{name: "list service", in: "list payments", want: commands.List{Service: "payments"}},
	{name: "list service all", in: "list payments all", want: commands.List{Service: "payments", All: true}},
	{name: "list ALL", in: "LIST ALL", want: commands.List{All: true}},
	{name: "list all service", in: "list all payments", want: commands.List{Service: "payments", All: true}},
	{name: "list quoted all is a service", in: `list "all"`, want: commands.List{Service: "all"}},

	// stats
	{name: "stats", in: "stats", want: commands.Stats{}},
	{name: "stats service as typed", in: "STATS Payments", want: commands.Stats{Service: "Payments"}},

	// id forms and id-only subcommands
	{name: "show UPG-7", in: "show UPG-7", want: commands.Show{ID: 7}},
	{name: "show upg-7", in: "show upg-7", want: commands.Show{ID: 7}},
	{name: "show #7", in: "show #7", want: commands.Show{ID: 7}},
	{name: "show 7", in: "Show 7", want: commands.Show{ID: 7}},
	{name: "start", in: "start UPG-12", want: commands.Start{ID: 12}},
	{name: "ack", in: "ack 3", want: commands.Ack{ID: 3}},
	{name: "pending", in: "pending #4", want: commands.Pending{ID: 4}},
	{name: "log", in: "log upg-5", want: commands.Log{ID: 5}},

	// free-text tails
	{name: "complete no note", in: "complete 7", want: commands.Complete{ID: 7}},
	{name: "complete note", in: `complete UPG-7 all green, "no  issues"`, want: commands.Complete{ID: 7, Note: "all green, no  issues"}},
	{name: "rollback", in: "rollback 7 error rate doubled", want: commands.Rollback{ID: 7, Reason: "error rate doubled"}},
	{name: "rollback quoted", in: `ROLLBACK #7 "p99 > 2s"`, want: commands.Rollback{ID: 7, Reason: "p99 > 2s"}},
	{name: "cancel", in: "cancel 7", want: commands.Cancel{ID: 7}},
	{name: "cancel reason", in: "cancel 7 release blocked by QA", want: commands.Cancel{ID: 7, Reason: "release blocked by QA"}},

	// reschedule / extend / link
	{name: "reschedule", in: "reschedule UPG-7 at tomorrow 03:00",
		want: commands.Reschedule{ID: 7, Start: utc(2026, 11, 23, 3, 0, 0), StartText: "tomorrow 03:00"}},
	{name: "reschedule quoted time", in: `reschedule 7 at "tomorrow 03:00"`,
		want: commands.Reschedule{ID: 7, Start: utc(2026, 11, 23, 3, 0, 0), StartText: "tomorrow 03:00"}},
	{name: "reschedule for", in: "reschedule 7 at 2026-12-01T02:00:00Z for 4h",
		want: commands.Reschedule{ID: 7, Start: utc(2026, 12, 1, 2, 0, 0), Duration: 4 * time.Hour, StartText: "2026-12-01T02:00:00Z", ZoneGiven: true, Zone: time.UTC}},
	{name: "reschedule keywords upper with zone", in: "reschedule #7 AT mon 09:30 Europe/Berlin FOR 1h30m",
		want: commands.Reschedule{ID: 7, Start: utc(2026, 11, 23, 8, 30, 0), Duration: 90 * time.Minute, StartText: "mon 09:30 Europe/Berlin", ZoneGiven: true, Zone: berlin}},
	{name: "reschedule without at", in: "reschedule UPG-7 tomorrow 3am",
		want: commands.Reschedule{ID: 7, Start: utc(2026, 11, 23, 3, 0, 0), StartText: "tomorrow 3am"}},
	{name: "reschedule in 2d", in: "reschedule 7 in 2d",
		want: commands.Reschedule{ID: 7, Start: utc(2026, 11, 24, 10, 0, 0), StartText: "in 2d", ZoneGiven: true}},
	{name: "reschedule in 3 days for 1 hour", in: "reschedule 7 in 3 days for 1 hour",
		want: commands.Reschedule{ID: 7, Start: utc(2026, 11, 25, 10, 0, 0), StartText: "in 3 days", Duration: time.Hour, ZoneGiven: true}},
	{name: "reschedule bare clock with zone", in: "reschedule 7 noon Europe/Berlin", loc: newYork,
		want: commands.Reschedule{ID: 7, Start: utc(2026, 11, 22, 11, 0, 0), StartText: "noon Europe/Berlin", ZoneGiven: true, Zone: berlin}},
	{name: "reschedule DST note", in: "reschedule 7 2027-03-14 02:30", loc: newYork,
		want: commands.Reschedule{ID: 7, Start: utc(2027, 3, 14, 7, 30, 0), StartText: "2027-03-14 02:30",
			TimeNote: "02:30 does not exist on 14 March in America/New_York (clocks jump from 02:00 to 03:00); read as 03:30 EDT."}},
	{name: "extend case-insensitive", in: "extend 7 1D", want: commands.Extend{ID: 7, By: 24 * time.Hour}},
	{name: "extend 30 minutes", in: "extend 7 30 minutes", want: commands.Extend{ID: 7, By: 30 * time.Minute}},
	{name: "extend 90M is minutes", in: "extend 7 90M", want: commands.Extend{ID: 7, By: 90 * time.Minute}},
	{name: "extend minutes", in: "extend UPG-7 30m", want: commands.Extend{ID: 7, By: 30 * time.Minute}},
	{name: "extend day", in: "extend 7 1d", want: commands.Extend{ID: 7, By: 24 * time.Hour}},
	{name: "extend week", in: "extend 7 1w", want: commands.Extend{ID: 7, By: 168 * time.Hour}},
	{name: "link", in: "link 7 acme/payments", want: commands.Link{ID: 7, Repo: "acme/payments"}},
	{name: "link tag", in: "link UPG-7 acme/payments v2.4.1", want: commands.Link{ID: 7, Repo: "acme/payments", Tag: "v2.4.1"}},
	{name: "link pasted URL", in: "link 7 https://github.com/acme/pay.ments.git", want: commands.Link{ID: 7, Repo: "acme/pay.ments"}},
	{name: "link pasted release page", in: "link 7 https://github.com/acme/payments/releases/tag/v2.4.0", want: commands.Link{ID: 7, Repo: "acme/payments", Tag: "v2.4.0"}},
	{name: "link pasted release page, the same version typed too", in: "link 7 https://github.com/acme/payments/releases/tag/v2.4.0 V2.4.0", want: commands.Link{ID: 7, Repo: "acme/payments", Tag: "v2.4.0"}},
	{name: "link pasted release page of www.github.com", in: "link 7 https://www.GitHub.com/acme/payments/releases/tag/v2.4.0", want: commands.Link{ID: 7, Repo: "acme/payments", Tag: "v2.4.0"}},
	{name: "link pasted URL of www.github.com", in: "link 7 https://www.github.com/acme/payments v2.4.0", want: commands.Link{ID: 7, Repo: "acme/payments", Tag: "v2.4.0"}},
	{name: "link pasted release page, escaped tag, its tag typed too", in: "link 7 github.com/Acme/payments/releases/tag/release%2F2.4?x=1 release/2.4", want: commands.Link{ID: 7, Repo: "Acme/payments", Tag: "release/2.4"}},

	// Errors: unknown subcommands.
	{name: "typo suggests", in: "shedule payments", err: true, tok: "shedule", msg: `did you mean "schedule"?`},
	{name: "prefix suggests", in: "sched", err: true, tok: "sched", msg: `did you mean "schedule"?`},
	{name: "rolback suggests", in: "rolback 7 x", err: true, tok: "rolback", msg: `did you mean "rollback"?`},
	{name: "unknown lists valid", in: "frobnicate", err: true, tok: "frobnicate", msg: "valid subcommands: schedule, list, show"},

	// Errors: schedule structure.
	{name: "schedule nothing", in: "schedule", err: true, tok: "", msg: "missing <service>"},
	{name: "schedule no version", in: "schedule payments", err: true, tok: "", msg: "missing <version>"},
	{name: "schedule at in version slot", in: "schedule payments at tomorrow 02:00", err: true, tok: "", msg: "missing <version>"},
	{name: "schedule no start", in: sp, err: true, tok: "", msg: "missing the start"},
	{name: "schedule wrong start keyword", in: sp + "on tomorrow 02:00", err: true, tok: "on", msg: "expected at <time> or in <duration>"},
	{name: "schedule empty service", in: `schedule "" v1 in 2h`, err: true, tok: "", msg: "the service is empty"},
	{name: "schedule empty version", in: `schedule payments "" in 2h`, err: true, tok: "", msg: "the version is empty"},

	// Errors: times.
	{name: "at nothing", in: sp + "at", err: true, tok: "", msg: "missing the time"},
	{name: "at word", in: sp + "at soon", err: true, tok: "soon", msg: "tomorrow 2am"},
	{name: "date without clock", in: sp + "at 2026-12-01", err: true, tok: "", msg: `missing the clock time after "2026-12-01"`},
	{name: "weekday without clock", in: sp + "at mon", err: true, tok: "", msg: `missing the clock time after "mon"`},
	{name: "bad hour", in: sp + "at 2026-12-01 25:00", err: true, tok: "25:00", msg: "cannot read"},
	{name: "no such day", in: sp + "at 2026-02-30 02:00", err: true, tok: "2026-02-30", msg: "cannot read"},
	{name: "bad T form", in: sp + "at 2026-12-01T25:00Z", err: true, tok: "2026-12-01T25:00Z", msg: "cannot read"},
	{name: "yesterday", in: "reschedule 7 at yesterday 02:00", err: true, tok: "yesterday", msg: "cannot read"},
	{name: "unknown IANA zone", in: sp + "at 2026-12-01 02:00 Mars/Olympus", err: true, tok: "Mars/Olympus", msg: "unknown time zone"},
	{name: "zone path escape", in: sp + "at 2026-12-01 02:00 Europe/../etc", err: true, tok: "Europe/../etc", msg: "unknown time zone"},
	{name: "offset out of range", in: sp + "at 2026-12-01 02:00 +15:00", err: true, tok: "+15:00", msg: `the offset "+15:00" is out of range: an offset is at most ±14:00`},
	// Offsets reach ±14:00 and not a minute further.
	{name: "offset +14:00 is the edge", in: sp + "at 2026-12-02 02:00 +14:00",
		want: zsched("payments", "v1", utc(2026, 12, 1, 12, 0, 0), "2026-12-02 02:00 +14:00", fixed("+14:00"))},
	{name: "offset -14:00 is the edge", in: sp + "at 2026-12-01 02:00 -14:00",
		want: zsched("payments", "v1", utc(2026, 12, 1, 16, 0, 0), "2026-12-01 02:00 -14:00", fixed("-14:00"))},
	{name: "offset +14:59", in: sp + "tomorrow 02:00 +14:59", err: true, tok: "+14:59", msg: `the offset "+14:59" is out of range: an offset is at most ±14:00`},
	{name: "offset +14:30", in: sp + "tomorrow 02:00 +14:30", err: true, tok: "+14:30", msg: "out of range"},
	{name: "offset +14:01", in: sp + "tomorrow 02:00 +14:01", err: true, tok: "+14:01", msg: "out of range"},
	{name: "offset -14:45", in: sp + "tomorrow 02:00 -14:45", err: true, tok: "-14:45", msg: "out of range"},
	{name: "offset -1401 compact", in: sp + "tomorrow 02:00 -1401", err: true, tok: "-1401", msg: "out of range"},
	{name: "offset +15 hours only", in: sp + "tomorrow 02:00 +15", err: true, tok: "+15", msg: "out of range"},
	{name: "offset UTC+14:30", in: sp + "tomorrow 02:00 UTC+14:30", err: true, tok: "UTC+14:30", msg: `the offset "+14:30" in "UTC+14:30" is out of range`},
	{name: "offset GMT-15", in: sp + "tomorrow 02:00 GMT-15", err: true, tok: "GMT-15", msg: "out of range"},
	{name: "inline offset +14:30", in: sp + "2026-12-02T02:00+14:30", err: true, tok: "2026-12-02T02:00+14:30", msg: `the offset "+14:30" in "2026-12-02T02:00+14:30" is out of range`},
	{name: "inline offset +1430", in: sp + "at 2026-12-02T02:00+1430", err: true, tok: "2026-12-02T02:00+1430", msg: "out of range"},
	{name: "inline offset -15:00", in: sp + "at 2026-12-02T02:00:00-15:00", err: true, tok: "2026-12-02T02:00:00-15:00", msg: "out of range"},
	{name: "offset malformed minutes is no zone", in: sp + "tomorrow 02:00 +14:60", err: true, tok: "+14:60", msg: "unknown time zone"},
	{name: "rfc3339 plus zone", in: sp + "at 2026-12-01T02:00:00Z UTC", err: true, tok: "UTC", msg: "already carries its zone"},
	{name: "rfc3339 offset plus IANA", in: sp + "at 2026-12-01T02:00:00+02:00 Europe/Berlin", err: true, tok: "Europe/Berlin", msg: "already carries its zone"},
	{name: "ambiguous abbreviation", in: sp + "at 2026-12-01 02:00 CET", err: true, tok: "CET", msg: "abbreviations are ambiguous"},
	{name: "ambiguous abbreviation reschedule", in: "reschedule 7 at tomorrow 02:00 EST", err: true, tok: "EST", msg: "abbreviations are ambiguous"},
	{name: "two zones", in: sp + "at 2026-12-01 02:00 Europe/Berlin UTC", err: true, tok: "UTC", msg: "already has a zone"},
	{name: "zone after in", in: sp + "in 2h UTC", err: true, tok: "UTC", msg: "unexpected"},
	{name: "zone after for", in: sp + "at 2026-12-01 02:00 for 2h CET", err: true, tok: "CET", msg: "unexpected"},
	{name: "past date", in: sp + "at 2026-11-21 10:00", err: true, tok: "2026-11-21 10:00", msg: "is in the past: it means 2026-11-21 10:00 UTC"},
	{name: "past today", in: sp + "at today 09:00", err: true, tok: "today 09:00", msg: "in the past: it means 2026-11-22 09:00 UTC"},
	{name: "past today in zone", in: sp + "at today 10:30 Europe/Berlin", err: true, tok: "today 10:30 Europe/Berlin", msg: "in the past: it means 2026-11-22 10:30 CET (2026-11-22 09:30 UTC), and it is now 2026-11-22 11:00 CET"},
	{name: "past reschedule", in: "reschedule 7 at 2020-01-01 00:00", err: true, tok: "2020-01-01 00:00", msg: "in the past"},

	// Errors: the new forms.
	{name: "missing version before a time", in: "schedule payments tomorrow 02:00", err: true, tok: "tomorrow", msg: `missing <version>: "tomorrow 02:00" reads as the start time`},
	{name: "missing version before a date", in: "schedule payments 2026-12-01 02:00", err: true, tok: "2026-12-01", msg: "missing <version>"},
	{name: "missing version before 2am tomorrow", in: "schedule payments 2am tomorrow", err: true, tok: "2am", msg: "missing <version>"},
	// A version that is a whole time on its own, with nothing but options after it.
	{name: "missing version: noon", in: "schedule payments noon", err: true, tok: "noon", msg: `missing <version>: "noon" reads as the start time; if "noon" is the version, quote it`},
	{name: "missing version: 2am for 1h", in: "schedule payments 2am for 1h", err: true, tok: "2am", msg: `missing <version>: "2am" reads as the start time`},
	{name: "missing version: 14:00 region", in: "schedule payments 14:00 region eu", err: true, tok: "14:00", msg: "missing <version>"},
	{name: "quoted noon is the version", in: `schedule payments "noon" tomorrow 02:00`,
		want: sched("payments", "noon", utc(2026, 11, 23, 2, 0, 0), "tomorrow 02:00")},
	{name: "numeric version alone is no time", in: "schedule postgres 16", err: true, tok: "", msg: "missing the start"},
	{name: "13pm", in: sp + "13pm", err: true, tok: "13pm", msg: "12-hour times run from 1 to 12"},
	{name: "0am", in: sp + "tomorrow 0am", err: true, tok: "0am", msg: "12-hour times run from 1 to 12"},
	{name: "14:00 pm", in: sp + "14:00 pm", err: true, tok: "14:00", msg: "12-hour times run from 1 to 12"},
	{name: "bare hour after a day", in: sp + "tomorrow 2", err: true, tok: "2", msg: "write 2am, 2pm or 2:00"},
	{name: "bare hour alone", in: sp + "2", err: true, tok: "2", msg: "write 2am, 2pm or 2:00"},
	// A 24-hour hour is not offered as 14am or 14pm, which are refused.
	{name: "bare 24-hour hour", in: sp + "tue 14", err: true, tok: "14", msg: `cannot read "14" as a time after "tue" (write 14:00);`},
	{name: "bare hour zero", in: sp + "tomorrow 0", err: true, tok: "0", msg: `(write 0:00);`},
	{name: "bare hour no clock has", in: sp + "tomorrow 25", err: true, tok: "25", msg: `cannot read "25" as a time after "tomorrow"; use`},
	{name: "next without weekday", in: sp + "next week 02:00", err: true, tok: "week", msg: `cannot read "week" as a weekday after "next"`},
	{name: "next at the end", in: sp + "at next", err: true, tok: "", msg: `missing the weekday after "next"`},
	{name: "tomorrow at nothing", in: sp + "tomorrow at", err: true, tok: "at", msg: `cannot read "at" as a time after "tomorrow"`},
	{name: "today midnight is past", in: sp + "today midnight", err: true, tok: "today midnight", msg: "midnight is the start of a day"},
	{name: "at then in", in: sp + "at in 2h", err: true, tok: "in", msg: "cannot read"},
	{name: "no start keyword, no time", in: sp + "for 2h", err: true, tok: "for", msg: "expected at <time> or in <duration> after the version"},
	{name: "in under a minute", in: sp + "in 30s", err: true, tok: "30s", msg: `the time from now "30s" is under a minute`},
	{name: "in sub-minute part", in: sp + "in 1m30s", err: true, tok: "1m30s", msg: "not a whole number of minutes; durations are whole minutes, e.g. 1m or 2m"},
	{name: "for sub-minute part", in: sp + "in 2h for 90s", err: true, tok: "90s", msg: `the window duration "90s" is not a whole number of minutes`},
	{name: "for under a minute", in: sp + "in 2h for 30 seconds", err: true, tok: "30 seconds", msg: "under a minute"},
	{name: "extend sub-minute", in: "extend 7 1h0m30s", err: true, tok: "1h0m30s", msg: "e.g. 1h or 1h1m"},
	{name: "months are not a unit", in: "extend 7 1 month", err: true, tok: "1 month", msg: "months and years are not durations here"},
	{name: "years quoted as typed", in: sp + "in 2 years", err: true, tok: "2 years", msg: `cannot read "2 years" as a duration (unknown unit "years"`},
	{name: "number then a keyword", in: sp + "in 2h for 2 region eu", err: true, tok: "2 region", msg: `unknown unit "region"`},
	{name: "quoted leftover after relative", in: sp + `"in 2h soon"`, err: true, tok: "in 2h soon", msg: `"soon" is left over`},

	// Errors: a word after a duration that is no part of it is left alone.
	{name: "version-like after for", in: sp + "tomorrow 02:00 for 1h 2.4.0", err: true, tok: "2.4.0", msg: `unexpected "2.4.0"`},
	{name: "bare number after for", in: sp + "tomorrow 02:00 for 1h 30", err: true, tok: "30", msg: `unexpected "30"`},
	{name: "quoted part after for", in: sp + `tomorrow 02:00 for 1h "30m"`, err: true, tok: "30m", msg: `unexpected "30m"`},
	{name: "clock after in", in: sp + "in 1h 2am", err: true, tok: "2am", msg: `unexpected "2am"`},
	{name: "extend then a word", in: "extend 7 1h 30m more", err: true, tok: "more", msg: "unexpected"},
	{name: "mixed sub-minute", in: sp + "in 1h 30m 30s", err: true, tok: "1h 30m 30s", msg: `the time from now "1h 30m 30s" is not a whole number of minutes`},
	{name: "mixed too long", in: "extend 7 15250w 6d", err: true, tok: "15250w 6d", msg: "too long"},
	// Parts go from larger units to smaller: a larger or equal one after
	// another is no part of it (a forgotten for, more likely).
	// Right after the start, a duration says where the for goes; after a
	// for, that it was given twice (QA: both said only "unexpected").
	{name: "larger part after a smaller", in: sp + "in 30m 2h", err: true, tok: "2h", msg: "unexpected \"2h\" right after the start; if it is the window's duration, put for before it: `in 30m for 2h`"},
	{name: "the same part twice", in: sp + "tomorrow 02:00 for 1h 1h", err: true, tok: "1h", msg: `the window duration is given twice: "for 1h", then "1h"; give it once`},
	{name: "spelled-out duration after the start", in: sp + "at tomorrow 02:00 UTC 2 hours region eu", err: true, tok: "2 hours", msg: "put for before it: `at tomorrow 02:00 UTC for 2 hours`"},
	{name: "duration twice after other options", in: sp + "in 1h for 90m region eu 2h", err: true, tok: "2h", msg: `given twice: "for 90m", then "2h"`},
	{name: "quoted duration after the start", in: sp + `in 30m "2h"`, err: true, tok: "2h", msg: `unexpected "2h"; after the start only`},
	{name: "duration after another option", in: sp + "in 30m region eu 2h", err: true, tok: "2h", msg: `unexpected "2h"; after the start only`},
	{name: "a part as large as the unit before", in: "extend 1 1h 60m", err: true, tok: "60m", msg: "unexpected"},

	// Errors: durations.
	{name: "in zero", in: sp + "in 0m", err: true, tok: "0m", msg: "greater than zero"},
	{name: "in negative", in: sp + "in -2h", err: true, tok: "-2h", msg: "greater than zero"},
	{name: "in word", in: sp + "in soon", err: true, tok: "soon", msg: "as a duration"},
	{name: "in no unit", in: sp + "in 90", err: true, tok: "90", msg: "missing unit"},
	{name: "in unknown unit", in: sp + "in 2y", err: true, tok: "2y", msg: `unknown unit "y"`},
	{name: "in nothing", in: sp + "in", err: true, tok: "", msg: "missing <duration> after in"},
	{name: "for zero", in: sp + "in 2h for 0s", err: true, tok: "0s", msg: "window duration"},
	{name: "for nothing", in: sp + "in 2h for", err: true, tok: "", msg: "missing <duration> after for"},
	{name: "for twice", in: sp + "in 2h for 2h FOR 3h", err: true, tok: "FOR", msg: "given twice"},
	{name: "for bad mix", in: sp + "in 2h for 1d-2h", err: true, tok: "1d-2h", msg: "as a duration"},

	// Errors: options.
	{name: "region nothing", in: sp + "in 2h region", err: true, tok: "", msg: "missing <name> after region"},
	{name: "region followed by keyword", in: sp + "in 2h region for 2h", err: true, tok: "", msg: "missing <name> after region"},
	{name: "impact nothing", in: sp + "in 2h impact", err: true, tok: "", msg: "missing <text...> after impact"},
	{name: "impact empty quotes", in: sp + `in 2h impact ""`, err: true, tok: "", msg: "missing <text...> after impact"},
	// A quoted blank is no text, as for reasons.
	{name: "impact blank quotes", in: sp + `in 2h impact "   "`, err: true, tok: "", msg: "missing <text...> after impact"},
	{name: "impact blank words", in: sp + `in 2h impact " " "  "`, err: true, tok: "", msg: "missing <text...> after impact"},
	{name: "impact blank before anyway", in: sp + `in 2h impact "  " anyway customer escalation`, err: true, tok: "", msg: "missing <text...> after impact"},
	{name: "impact trimmed", in: sp + `in 2h impact "  card payments  "`,
		want: with(rsched("payments", "v1", utc(2026, 11, 22, 12, 0, 0), "in 2h"), func(s *commands.Schedule) { s.Impact = "card payments" })},
	{name: "trailing junk after time", in: sp + "at 2026-12-01 02:00 please", err: true, tok: "please", msg: "unexpected"},
	{name: "unterminated quote", in: sp + `at 2026-12-01 02:00 impact "card payments`, err: true, tok: `"card payments`, msg: "unterminated quote"},
	{name: "unterminated quote early", in: `schedule "payments v1 at`, err: true, tok: `"payments v1 at`, msg: "unterminated quote"},

	// Errors: ids.
	{name: "show no id", in: "show", err: true, tok: "", msg: "missing <id>"},
	{name: "show zero", in: "show UPG-0", err: true, tok: "UPG-0", msg: "as an upgrade id"},
	{name: "show negative", in: "show -3", err: true, tok: "-3", msg: "UPG-7, upg-7, #7 or 7"},
	{name: "show no dash", in: "show UPG7", err: true, tok: "UPG7", msg: "as an upgrade id"},
	{name: "show hash only", in: "show #", err: true, tok: "#", msg: "as an upgrade id"},
	{name: "show overflow", in: "show 99999999999999999999", err: true, tok: "99999999999999999999", msg: "as an upgrade id"},
	{name: "show fraction", in: "show 7.5", err: true, tok: "7.5", msg: "as an upgrade id"},
	// An id pasted from a list or a sentence keeps its comma or period:
	// one is no part of the id, more is still refused, and a list is
	// refused rather than read as the text that may follow.
	{name: "show id comma", in: "show UPG-7,", want: commands.Show{ID: 7}},
	{name: "ack id period", in: "ack upg-7.", want: commands.Ack{ID: 7}},
	{name: "pending hash comma", in: "pending #7,", want: commands.Pending{ID: 7}},
	{name: "log bare comma", in: "log 7,", want: commands.Log{ID: 7}},
	{name: "cancel id comma reason", in: "cancel UPG-7, no longer needed", want: commands.Cancel{ID: 7, Reason: "no longer needed"}},
	{name: "complete id comma number", in: "complete UPG-7, 3 retries", want: commands.Complete{ID: 7, Note: "3 retries"}},
	{name: "extend id comma", in: "extend UPG-7, 30m", want: commands.Extend{ID: 7, By: 30 * time.Minute}},
	{name: "show two commas", in: "show UPG-7,,", err: true, tok: "UPG-7,,", msg: "as an upgrade id"},
	{name: "show comma only", in: "show ,", err: true, tok: ",", msg: "as an upgrade id"},
	{name: "show joined list", in: "show UPG-7,UPG-8", err: true, tok: "UPG-7,UPG-8", msg: "as an upgrade id"},
	{name: "show other mark", in: "show UPG-7;", err: true, tok: "UPG-7;", msg: "as an upgrade id"},
	{name: "show list", in: "show UPG-7, UPG-8", err: true, tok: "UPG-7, UPG-8", msg: "show takes one upgrade id, not a list (UPG-7, UPG-8); give one, e.g. UPG-7"},
	{name: "cancel list", in: "cancel UPG-7, #8, UPG-9", err: true, tok: "UPG-7, #8,", msg: "cancel takes one upgrade id, not a list"},
	{name: "cancel bare list", in: "cancel 7, 8", err: true, tok: "7, 8", msg: "not a list"},
	// A bare number after UPG-7 is a list item when nothing follows it or
	// the list goes on; words after it make it the text.
	{name: "cancel id then bare number", in: "cancel UPG-7, 8", err: true, tok: "UPG-7, 8", msg: "cancel takes one upgrade id, not a list (UPG-7, 8); give one, e.g. UPG-7"},
	{name: "cancel id then bare list", in: "cancel UPG-1, 2, 3", err: true, tok: "UPG-1, 2,", msg: "not a list (UPG-1, 2);"},
	{name: "cancel id then bare number period", in: "cancel UPG-1, 2.", err: true, tok: "UPG-1, 2.", msg: "not a list (UPG-1, 2);"},
	{name: "cancel list comma trimmed", in: "cancel UPG-7, #8, UPG-9", err: true, tok: "UPG-7, #8,", msg: "not a list (UPG-7, #8); give one"},
	// An id in brackets or before a colon says what to type.
	{name: "show id in brackets", in: "show (UPG-7)", err: true, tok: "(UPG-7)", msg: `cannot read "(UPG-7)" as an upgrade id; leave out the punctuation: UPG-7`},
	{name: "cancel id colon", in: "cancel UPG-7: vendor delay", err: true, tok: "UPG-7:", msg: "leave out the punctuation: UPG-7"},
	{name: "ack hash in square brackets", in: "ack [#7],", err: true, tok: "[#7],", msg: "leave out the punctuation: #7"},
	{name: "show extra", in: "show 7 8", err: true, tok: "8", msg: "unexpected"},
	{name: "ack missing", in: "ack", err: true, tok: "", msg: "missing <id>"},
	{name: "pending extra", in: "pending 7 8", err: true, tok: "8", msg: "unexpected"},
	{name: "log dangling prefix", in: "log UPG-", err: true, tok: "UPG-", msg: "as an upgrade id"},
	{name: "complete missing id", in: "complete", err: true, tok: "", msg: "missing <id>"},
	{name: "cancel bad id", in: "cancel abc", err: true, tok: "abc", msg: "as an upgrade id"},

	// Errors: rollback / reschedule / extend / link / list / help.
	{name: "rollback no reason", in: "rollback 7", err: true, tok: "", msg: "missing <reason...>"},
	{name: "rollback empty reason", in: `rollback 7 ""`, err: true, tok: "", msg: "missing <reason...>"},
	{name: "rollback no id", in: "rollback", err: true, tok: "", msg: "missing <id>"},
	{name: "reschedule no time", in: "reschedule 7", err: true, tok: "", msg: "missing the new start: at <time> or in <duration>"},
	{name: "reschedule wrong keyword", in: "reschedule 7 for 2h", err: true, tok: "for", msg: "expected at <time> or in <duration> after the id"},
	{name: "reschedule negative for", in: "reschedule 7 at tomorrow 02:00 for -1h", err: true, tok: "-1h", msg: "greater than zero"},
	{name: "reschedule junk", in: "reschedule 7 at tomorrow 02:00 for 2h extra", err: true, tok: "extra", msg: "unexpected"},
	{name: "extend nothing", in: "extend 7", err: true, tok: "", msg: "missing <duration>"},
	{name: "extend zero", in: "extend 7 0h", err: true, tok: "0h", msg: "greater than zero"},
	{name: "extend unknown unit", in: "extend 7 1x", err: true, tok: "1x", msg: `unknown unit "x"`},
	{name: "extend junk", in: "extend 7 30m more", err: true, tok: "more", msg: "unexpected"},
	{name: "link no repo", in: "link 7", err: true, tok: "", msg: "missing <owner/repo>"},
	{name: "link no slash", in: "link 7 payments", err: true, tok: "payments", msg: "as a GitHub repository"},
	{name: "link too many slashes", in: "link 7 acme/pay/ments", err: true, tok: "acme/pay/ments", msg: "as a GitHub repository"},
	{name: "link bad owner", in: "link 7 -acme/payments", err: true, tok: "-acme/payments", msg: "as a GitHub repository"},
	{name: "link bad repo chars", in: "link 7 acme/pay$ments", err: true, tok: "acme/pay$ments", msg: "as a GitHub repository"},
	{name: "link junk", in: "link 7 acme/payments v1 extra", err: true, tok: "extra", msg: "unexpected"},
	{name: "link release page and another tag", in: "link 7 https://github.com/acme/payments/releases/tag/v2.4.0 v2.5.0", err: true, tok: "v2.5.0", msg: `the release page is of the tag "v2.4.0", and "v2.5.0" was typed too`},
	{name: "link releases page without a tag", in: "link 7 https://github.com/acme/payments/releases", err: true, tok: "https://github.com/acme/payments/releases",
		msg: "the page \"https://github.com/acme/payments/releases\" lists every release of acme/payments; link one with `/upgrade link UPG-7 acme/payments <tag>`, or paste its release page (`…/releases/tag/<tag>`)"},
	{name: "link the latest release", in: "link 7 https://github.com/acme/payments/releases/latest", err: true, tok: "https://github.com/acme/payments/releases/latest",
		msg: "the page \"https://github.com/acme/payments/releases/latest\" is the latest release, which changes with each release, so it cannot be linked; link one with `/upgrade link UPG-7 acme/payments <tag>`, or paste its release page (`…/releases/tag/<tag>`)"},
	{name: "link the code at a tag", in: "link 7 https://github.com/acme/payments/tree/v2.4.0", err: true, tok: "https://github.com/acme/payments/tree/v2.4.0",
		msg: "the page \"https://github.com/acme/payments/tree/v2.4.0\" is the code at v2.4.0, not its release; link it with `/upgrade link UPG-7 acme/payments v2.4.0`, or paste its release page (`…/releases/tag/v2.4.0`)"},
	{name: "link the code of a branch", in: "link 7 https://github.com/acme/payments/tree/main", err: true, tok: "https://github.com/acme/payments/tree/main",
		msg: "the page \"https://github.com/acme/payments/tree/main\" is the code at main, not a release; link one with `/upgrade link UPG-7 acme/payments <tag>`, or paste its release page (`…/releases/tag/<tag>`)"},
	{name: "link the code in a folder", in: "link 7 https://github.com/acme/payments/tree/v2.4.0/docs", err: true, tok: "https://github.com/acme/payments/tree/v2.4.0/docs",
		msg: "is code of acme/payments, not a release; link one with `/upgrade link UPG-7 acme/payments <tag>`"},
	{name: "link a commit", in: "link 7 github.com/acme/payments/commit/0123abc", err: true, tok: "github.com/acme/payments/commit/0123abc",
		msg: "the page \"github.com/acme/payments/commit/0123abc\" is a commit, not a release; link one with `/upgrade link UPG-7 acme/payments <tag>`"},
	{name: "link a pull request", in: "link 7 https://github.com/acme/payments/pull/12", err: true, tok: "https://github.com/acme/payments/pull/12", msg: "the page \"https://github.com/acme/payments/pull/12\" is a pull request, not a release; link one with `/upgrade link UPG-7 acme/payments <tag>`, or paste its release page (`…/releases/tag/<tag>`)"},
	{name: "link an issue", in: "link 7 https://www.github.com/acme/payments/issues/3", err: true, tok: "https://www.github.com/acme/payments/issues/3", msg: "is an issue, not a release; link one with `/upgrade link UPG-7 acme/payments <tag>`"},
	{name: "link a page of another site", in: "link 7 https://docs.example.com/guide/install", err: true, tok: "https://docs.example.com/guide/install", msg: "the page \"https://docs.example.com/guide/install\" is on docs.example.com, and link takes pages of github.com only (for a GitHub Enterprise server's, an operator sets `github.api_url` to its API, `https://HOST/api/v3/`); use `owner/repo`, e.g. acme/payments"},
	{name: "link a release page under a path prefix", in: "link 7 https://corp.example/github/acme/payments/releases/tag/v2.4.0", err: true, tok: "https://corp.example/github/acme/payments/releases/tag/v2.4.0", msg: "is on corp.example, and link takes pages of github.com only"},
	{name: "link a GitLab page", in: "link 7 https://gitlab.com/acme/payments/tags", err: true, tok: "https://gitlab.com/acme/payments/tags", msg: "is on gitlab.com, and link takes pages of github.com only"},
	{name: "link a GitLab release page", in: "link 7 https://gitlab.com/acme/payments/releases/tag/v1", err: true, tok: "https://gitlab.com/acme/payments/releases/tag/v1", msg: "is on gitlab.com, and link takes pages of github.com only (for a GitHub Enterprise server's, an operator sets `github.api_url`"},
	{name: "link a release page of another site", in: "link 7 example.com/acme/payments/releases/tag/v1", err: true, tok: "example.com/acme/payments/releases/tag/v1", msg: "is on example.com, and link takes pages of github.com only"},
	{name: "link a page of an Enterprise server not configured", in: "link 7 https://ghe.example.com/acme/payments/releases/tag/v1", err: true, tok: "https://ghe.example.com/acme/payments/releases/tag/v1", msg: "is on ghe.example.com, and link takes pages of github.com only (for a GitHub Enterprise server's, an operator sets `github.api_url`"},
	{name: "link a path without a host", in: "link 7 acme/payments/releases/latest", err: true, tok: "acme/payments/releases/latest", msg: "as a GitHub repository"},
	{name: "link release page, a control character in the tag", in: "link 7 https://github.com/acme/payments/releases/tag/v1%0D", err: true, tok: "https://github.com/acme/payments/releases/tag/v1%0D", msg: "as a GitHub repository"},
	{name: "link release page, a zero-width space in the tag", in: "link 7 https://github.com/acme/payments/releases/tag/v1%E2%80%8B", err: true, tok: "https://github.com/acme/payments/releases/tag/v1%E2%80%8B", msg: "as a GitHub repository"},
	{name: "link release page of a bad repo", in: "link 7 https://github.com/acme/pay$/releases/tag/v1", err: true, tok: "https://github.com/acme/pay$/releases/tag/v1", msg: "as a GitHub repository"},
	{name: "link bad id", in: "link x acme/payments", err: true, tok: "x", msg: "as an upgrade id"},
	{name: "list two services", in: "list a b", err: true, tok: "b", msg: "unexpected"},
	{name: "list all twice", in: "list all all", err: true, tok: "all", msg: "unexpected"},
	{name: "stats two services", in: "stats payments ledger", err: true, tok: "ledger", msg: "stats takes at most a service"},
	{name: "stats empty service", in: `stats ""`, err: true, tok: "", msg: "the service is empty"},
	{name: "help unknown", in: "help nope", err: true, tok: "nope", msg: "no help for"},
	{name: "help typo", in: "help schedul", err: true, tok: "schedul", msg: `did you mean "schedule"?`},
	{name: "help extra", in: "help list extra", err: true, tok: "extra", msg: "unexpected"},

	// Readiness (issue 14).
	{name: "start anyway", in: "start 7 anyway canary is flaky, checked by hand", want: commands.Start{ID: 7, Anyway: "canary is flaky, checked by hand"}},
	{name: "start ANYWAY", in: "start UPG-7 ANYWAY ok", want: commands.Start{ID: 7, Anyway: "ok"}},
	{name: "start anyway no reason", in: "start 7 anyway", err: true, tok: "", msg: "missing <reason...> after anyway"},
	// A quoted blank is no reason: the same error as none.
	{name: "start anyway blank reason", in: `start 7 anyway "   "`, err: true, tok: "", msg: commands.MissingAnywayReason},
	{name: "waive blank reason", in: `waive 7 1 "   "`, err: true, tok: "", msg: commands.MissingWaiveReason},
	{name: "unready blank reason", in: `unready 7 1 " "`, err: true, tok: "", msg: commands.MissingUnreadyReason},
	{name: "rollback blank reason", in: `rollback 7 "  "`, err: true, tok: "", msg: commands.MissingRollbackReason},
	{name: "plan blank", in: `plan 7 "  "`, err: true, tok: "", msg: "missing <url or text...>"},
	{name: "debrief blank", in: `debrief 7 "  "`, err: true, tok: "", msg: "missing <text...>"},
	{name: "reason trimmed", in: `waive 7 1 "  no canary  "`, want: commands.Waive{ID: 7, Criterion: "1", Reason: "no canary"}},
	{name: "start junk", in: "start 7 now", err: true, tok: "now", msg: "end with anyway <reason...>"},
	{name: "start quoted anyway is no keyword", in: `start 7 "anyway" x`, err: true, tok: "anyway", msg: "unexpected"},
	{name: "ready by number", in: "ready UPG-7 2", want: commands.Ready{ID: 7, Criterion: "2"}},
	{name: "ready rest of line", in: "ready 7 canary   green", want: commands.Ready{ID: 7, Criterion: "canary green"}},
	{name: "ready quoted", in: `ready 7 "canary green"`, want: commands.Ready{ID: 7, Criterion: "canary green"}},
	{name: "ready no criterion", in: "ready 7", err: true, tok: "", msg: "missing <criterion>"},
	{name: "ready no id", in: "ready", err: true, tok: "", msg: "missing <id>"},
	{name: "ready bad id", in: "ready x 1", err: true, tok: "x", msg: "as an upgrade id"},
	{name: "waive", in: `waive 7 "canary green" no canary for this service`, want: commands.Waive{ID: 7, Criterion: "canary green", Reason: "no canary for this service"}},
	{name: "waive by number", in: "waive 7 3 reviewed last week", want: commands.Waive{ID: 7, Criterion: "3", Reason: "reviewed last week"}},
	{name: "waive no reason", in: "waive 7 canary", err: true, tok: "", msg: "missing <reason...> after the criterion"},
	{name: "waive nothing", in: "waive 7", err: true, tok: "", msg: "missing <criterion>"},
	{name: "waive empty criterion", in: `waive 7 "" why`, err: true, tok: "", msg: "the criterion is empty"},
	{name: "unready", in: "unready 7 backups restore test failed", want: commands.Unready{ID: 7, Criterion: "backups", Reason: "restore test failed"}},
	{name: "unready no reason", in: "unready 7 2", err: true, tok: "", msg: "no longer met"},
	{name: "plan", in: "plan 7 https://runbooks.example.com/rollback", want: commands.Plan{ID: 7, Text: "https://runbooks.example.com/rollback"}},
	{name: "plan steps", in: "plan 7 helm rollback payments 41; then flush the cache", want: commands.Plan{ID: 7, Text: "helm rollback payments 41; then flush the cache"}},
	{name: "plan nothing", in: "plan 7", err: true, tok: "", msg: "missing <url or text...>"},
	{name: "debrief", in: "debrief 7 went fine; migrate earlier next time", want: commands.Debrief{ID: 7, Text: "went fine; migrate earlier next time"}},
	{name: "debrief nothing", in: "debrief UPG-7", err: true, tok: "", msg: "missing <text...>"},
}

// expectedUsage mirrors the rule under test from the outside: errors of a known
// subcommand carry its usage, anything else one line pointing at help.
func expectedUsage(in string) string {
	f := strings.Fields(in)
	if len(f) > 0 && strings.EqualFold(f[0], "/upgrade") {
		f = f[1:]
	}
	if len(f) > 0 {
		for _, n := range commands.Names() {
			if strings.EqualFold(f[0], n) {
				return commands.Usage(n)
			}
		}
	}
	return "/upgrade <subcommand> ... (/upgrade help lists them)"
}

func TestParse(t *testing.T) {
	if len(parseCases) < 90 {
		t.Fatalf("only %d cases", len(parseCases))
	}
	seen := map[string]bool{}
	for _, tc := range parseCases {
		if seen[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			got, err := commands.Parse(tc.in, commands.Env{Now: now, Location: tc.loc})
			if tc.err {
				var e *commands.Error
				if !errors.As(err, &e) {
					t.Fatalf("Parse(%q) = %#v, %v; want *Error", tc.in, got, err)
				}
				if got != nil {
					t.Errorf("Parse(%q) returned command %#v with an error", tc.in, got)
				}
				if e.Token != tc.tok {
					t.Errorf("Parse(%q) Token = %q, want %q (msg %q)", tc.in, e.Token, tc.tok, e.Msg)
				}
				if !strings.Contains(e.Msg, tc.msg) {
					t.Errorf("Parse(%q) Msg = %q, want it to contain %q", tc.in, e.Msg, tc.msg)
				}
				// The bot capitalises the first letter; a message opening with a
				// placeholder or a quote would not read as a sentence.
				if c := e.Msg[0]; c < 'a' || c > 'z' {
					t.Errorf("Parse(%q) Msg = %q does not start like a sentence", tc.in, e.Msg)
				}
				if want := expectedUsage(tc.in); e.Usage != want || e.Usage == "" {
					t.Errorf("Parse(%q) Usage = %q, want %q", tc.in, e.Usage, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tc.in, err)
			}
			if !reflect.DeepEqual(toUTC(got), toUTC(tc.want)) {
				t.Errorf("Parse(%q)\n got %#v\nwant %#v", tc.in, toUTC(got), toUTC(tc.want))
			}
		})
	}
}

// QA: a release page was read from any host as if it were a GitHub
// Enterprise server's (a GitLab or example.com page was linked, and looked
// up on GitHub). With env.ReleaseHost, the configured Enterprise server's
// pages are read as github.com's are without one (its repository's page
// too), its other pages refused as github.com's are, and another host's
// refused with the host link takes. Review: github.com's pages too (the
// repository would be looked up on the Enterprise server, maybe another
// one of that name); a default port, written or not, is no other host; a
// server behind a path prefix has its pages read past it.
func TestLinkReadsPagesOfTheConfiguredEnterpriseServerOnly(t *testing.T) {
	env := commands.Env{Now: now, ReleaseHost: "ghe.example.com"}
	for in, want := range map[string]commands.Link{
		"link 7 https://ghe.example.com/acme/payments/releases/tag/v1":         {ID: 7, Repo: "acme/payments", Tag: "v1"},
		"link 7 HTTPS://GHE.Example.com/acme/payments/releases/tag/v1/?x=1 V1": {ID: 7, Repo: "acme/payments", Tag: "v1"},
		"link 7 https://ghe.example.com:443/acme/payments/releases/tag/v1":     {ID: 7, Repo: "acme/payments", Tag: "v1"},
		"link 7 http://ghe.example.com:80/acme/payments/releases/tag/v1":       {ID: 7, Repo: "acme/payments", Tag: "v1"},
		"link 7 ghe.example.com:443/acme/payments/releases/tag/v1":             {ID: 7, Repo: "acme/payments", Tag: "v1"},
		"link 7 https://ghe.example.com/acme/payments":                         {ID: 7, Repo: "acme/payments"},
		"link 7 https://ghe.example.com/acme/payments.git/ v2":                 {ID: 7, Repo: "acme/payments", Tag: "v2"},
		"link 7 acme/payments":    {ID: 7, Repo: "acme/payments"},
		"link 7 acme/payments v3": {ID: 7, Repo: "acme/payments", Tag: "v3"},
	} {
		got, err := commands.Parse(in, env)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(%q) = %#v, %v; want %#v", in, got, err, want)
		}
	}
	if got, err := commands.Parse("link 7 https://127.0.0.1:8443/acme/payments/releases/tag/v1", commands.Env{ReleaseHost: "127.0.0.1:8443"}); err != nil || !reflect.DeepEqual(got, commands.Link{ID: 7, Repo: "acme/payments", Tag: "v1"}) {
		t.Errorf("a server with a port: %#v, %v", got, err)
	}
	prefixed := commands.Env{ReleaseHost: "corp.example/github"}
	for in, want := range map[string]commands.Link{
		"link 7 https://corp.example/github/acme/payments/releases/tag/v1": {ID: 7, Repo: "acme/payments", Tag: "v1"},
		"link 7 https://CORP.example:443/GitHub/acme/payments":             {ID: 7, Repo: "acme/payments"},
	} {
		got, err := commands.Parse(in, prefixed)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("behind a prefix: Parse(%q) = %#v, %v; want %#v", in, got, err, want)
		}
	}
	hint := "; link one with `/upgrade link UPG-7 acme/payments <tag>`, or paste its release page (`…/releases/tag/<tag>`)"
	for in, want := range map[string]string{
		"https://gitlab.com/acme/payments/releases/tag/v1":           "the page \"https://gitlab.com/acme/payments/releases/tag/v1\" is on gitlab.com, and link takes pages of ghe.example.com (the GitHub Enterprise server of `github.api_url`) only; use `owner/repo`, e.g. acme/payments",
		"https://ghe.example.org/acme/payments/releases/tag/v1":      "is on ghe.example.org, and link takes pages of ghe.example.com (the GitHub Enterprise server of `github.api_url`) only",
		"https://github.com/acme/payments/releases/tag/v2":           "the page \"https://github.com/acme/payments/releases/tag/v2\" is on github.com, and link takes pages of ghe.example.com (the GitHub Enterprise server of `github.api_url`) only; use `owner/repo`, e.g. acme/payments",
		"https://www.github.com/acme/payments/releases/tag/v2":       "is on github.com, and link takes pages of ghe.example.com (the GitHub Enterprise server of `github.api_url`) only",
		"https://github.com/acme/payments":                           "is on github.com, and link takes pages of ghe.example.com",
		"github.com/acme/payments":                                   "is on github.com, and link takes pages of ghe.example.com",
		"https://ghe.example.com:8443/acme/payments/releases/tag/v1": "is on ghe.example.com:8443, and link takes pages of ghe.example.com",
		"http://ghe.example.com:443/acme/payments/releases/tag/v1":   "is on ghe.example.com:443, and link takes pages of ghe.example.com",
		"https://ghe.example.com/acme/payments/releases/latest":      "is the latest release, which changes with each release, so it cannot be linked" + hint,
		"https://ghe.example.com/acme/payments/pull/12":              "is a pull request, not a release" + hint,
		"https://ghe.example.com/acme/payments/tree/v2.4.0":          "is the code at v2.4.0, not its release; link it with `/upgrade link UPG-7 acme/payments v2.4.0`",
		"https://ghe.example.com/acme/payments/wiki":                 `cannot read "https://ghe.example.com/acme/payments/wiki" as a GitHub repository; use owner/repo`,
	} {
		_, err := commands.Parse("link 7 "+in, env)
		var e *commands.Error
		if !errors.As(err, &e) || e.Token != in || !strings.Contains(e.Msg, want) || e.Usage != commands.Usage("link") {
			t.Errorf("link %s: %v; want a refusal of it holding %q, with the usage", in, err, want)
		}
	}
	for in, want := range map[string]string{
		"https://corp.example/acme/payments/releases/tag/v1":         "is on corp.example, and link takes pages of corp.example/github (the GitHub Enterprise server of `github.api_url`) only",
		"https://corp.example/githubx/acme/payments/releases/tag/v1": "is on corp.example, and link takes pages of corp.example/github",
		"https://corp.example/github/acme/payments/pull/12":          "is a pull request, not a release" + hint,
		"https://github.com/github/acme/releases/tag/v1":             "is on github.com, and link takes pages of corp.example/github",
	} {
		_, err := commands.Parse("link 7 "+in, prefixed)
		var e *commands.Error
		if !errors.As(err, &e) || e.Token != in || !strings.Contains(e.Msg, want) {
			t.Errorf("behind a prefix: link %s: %v; want a refusal of it holding %q", in, err, want)
		}
	}
	// Without an Enterprise server, github.com's pages are read, a default
	// port written or not.
	for in, want := range map[string]commands.Link{
		"link 7 https://github.com:443/acme/payments/releases/tag/v1": {ID: 7, Repo: "acme/payments", Tag: "v1"},
		"link 7 https://www.github.com/acme/payments":                 {ID: 7, Repo: "acme/payments"},
		"link 7 github.com/acme/payments v2":                          {ID: 7, Repo: "acme/payments", Tag: "v2"},
	} {
		got, err := commands.Parse(in, commands.Env{Now: now})
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("without an Enterprise server: Parse(%q) = %#v, %v; want %#v", in, got, err, want)
		}
	}
}

// Replies show the time in the zone the user meant, so Start must keep it.
func TestStartKeepsZone(t *testing.T) {
	for _, tc := range []struct {
		in   string
		loc  *time.Location
		want string
	}{
		{"at 2026-12-01 02:00", nil, "UTC"},
		{"at 2026-12-01 02:00", berlin, "Europe/Berlin"},
		{"at 2026-12-01 02:00 America/New_York", berlin, "America/New_York"},
		{"at 2026-12-01 02:00 +02:00", nil, "+02:00"},
		{"at 2026-12-01T02:00:00-05:30", berlin, "-05:30"},
		{"in 2h", kolkata, "Asia/Kolkata"},
	} {
		cmd, err := commands.Parse("schedule x v1 "+tc.in, commands.Env{Now: now, Location: tc.loc})
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		if got := cmd.(commands.Schedule).Start.Location().String(); got != tc.want {
			t.Errorf("%q: location %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseTimeConsumed(t *testing.T) {
	for _, tc := range []struct {
		toks []string
		want int
	}{
		{[]string{"2026-12-01", "02:00", "for", "2h"}, 2},
		{[]string{"2026-12-01", "02:00", "UTC", "for", "2h"}, 3},
		{[]string{"2026-12-01T02:00:00Z", "region", "eu"}, 1},
		{[]string{"tomorrow", "02:00", "Europe/Berlin"}, 3},
		{[]string{"mon", "09:30", "+02:00", "impact", "x"}, 3},
	} {
		_, n, err := commands.ParseTime(tc.toks, commands.Env{Now: now})
		if err != nil || n != tc.want {
			t.Errorf("ParseTime(%q) consumed %d, %v; want %d", tc.toks, n, err, tc.want)
		}
	}
}

func TestParseTimeNilLocationIsUTC(t *testing.T) {
	got, _, err := commands.ParseTime([]string{"today", "12:00"}, commands.Env{Now: now})
	if err != nil || !got.Equal(utc(2026, 11, 22, 12, 0, 0)) || got.Location() != time.UTC {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestParseID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"UPG-7", 7, true}, {"upg-7", 7, true}, {"Upg-42", 42, true}, {"#7", 7, true}, {"7", 7, true},
		{"007", 7, true}, {"UPG-1000000", 1000000, true},
		{"", 0, false}, {"0", 0, false}, {"-7", 0, false}, {"+7", 0, false}, {"UPG-", 0, false},
		{"UPG7", 0, false}, {"#", 0, false}, {"##7", 0, false}, {"#UPG-7", 0, false}, {"7a", 0, false},
		{"UPG--7", 0, false}, {" 7", 0, false}, {"99999999999999999999", 0, false}, {"٧", 0, false},
	} {
		got, err := commands.ParseID(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("ParseID(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		var e *commands.Error
		if err != nil && (!errors.As(err, &e) || e.Token != tc.in) {
			t.Errorf("ParseID(%q) error %#v does not name the token", tc.in, err)
		}
	}
}

// TestParseIDField: an id field's value (Discord's id option) is read as
// the id typed after the verb is, refused with the grammar's very words
// (leave out the punctuation; one id, not a list), and the words after
// the id are handed back for the platform to place.
func TestParseIDField(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		rest []string
		msg  string // the refusal, "" for none
	}{
		{in: "UPG-7", want: 7},
		{in: " UPG-7, ", want: 7},
		{in: "#7.", want: 7},
		{in: "UPG-7 series", want: 7, rest: []string{"series"}},
		{in: "UPG-7, series, vendor delay", want: 7, rest: []string{"series,", "vendor", "delay"}},
		{in: "(UPG-7)", msg: `cannot read "(UPG-7)" as an upgrade id; leave out the punctuation: UPG-7`},
		{in: "[#7] series", msg: `cannot read "[#7]" as an upgrade id; leave out the punctuation: #7`},
		{in: "UPG-7, UPG-8", msg: "cancel takes one upgrade id, not a list (UPG-7, UPG-8); give one, e.g. UPG-7"},
		{in: "7, 8", msg: "cancel takes one upgrade id, not a list (7, 8); give one, e.g. 7"},
		{in: "UPG-x", msg: `cannot read "UPG-x" as an upgrade id`},
	} {
		n, rest, err := commands.ParseIDField("cancel", tc.in)
		_, perr := commands.Parse("cancel "+tc.in, commands.Env{Now: now})
		switch {
		case tc.msg == "" && (err != nil || n != tc.want || !reflect.DeepEqual(rest, tc.rest)):
			t.Errorf("ParseIDField(%q) = %d, %q, %v; want %d, %q", tc.in, n, rest, err, tc.want, tc.rest)
		case tc.msg != "" && (err == nil || !strings.Contains(err.Error(), tc.msg)):
			t.Errorf("ParseIDField(%q) = %d, %v; want refused with %q", tc.in, n, err, tc.msg)
		case tc.msg != "" && (perr == nil || perr.Error() != err.Error()):
			t.Errorf("ParseIDField(%q) refuses with\n%v\nthe grammar with\n%v", tc.in, err, perr)
		}
	}
}

// TestScopeWord: the word after cancel's id that names its scope, as the
// grammar reads it.
func TestScopeWord(t *testing.T) {
	for in, want := range map[string]string{
		"series": "series", "Series,": "series", "OCCURRENCE.": "occurrence",
		"series,,": "", "serie": "", "": "", "scope:series": "",
	} {
		if got := commands.ScopeWord(in); got != want {
			t.Errorf("ScopeWord(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90m", 90 * time.Minute, true},
		{"2h", 2 * time.Hour, true},
		{"1h30m", 90 * time.Minute, true},
		{"3d", 72 * time.Hour, true},
		{"1w", 168 * time.Hour, true},
		{"1w2d", 216 * time.Hour, true},
		{"1d12h", 36 * time.Hour, true},
		{"2d1w", 216 * time.Hour, true},
		{"1.5d", 36 * time.Hour, true},
		{"0.5w", 84 * time.Hour, true},
		{"1d1h1m1s", 25*time.Hour + time.Minute + time.Second, true},
		{"500ms", 500 * time.Millisecond, true},
		{"0", 0, true},
		{"0m", 0, true},
		{"-1h", -time.Hour, true},
		{"+1d", 24 * time.Hour, true},
		{"", 0, false},
		{"d", 0, false},
		{"90", 0, false},
		{"1y", 0, false},
		{"1D", 24 * time.Hour, true},
		{"2H", 2 * time.Hour, true},
		{"90M", 90 * time.Minute, true},
		{"1H30M", 90 * time.Minute, true},
		{"1W2D", 216 * time.Hour, true},
		{"90 minutes", 90 * time.Minute, true},
		{"1 hour", time.Hour, true},
		{"2hours", 2 * time.Hour, true},
		{"3 Days", 72 * time.Hour, true},
		{"2 weeks", 336 * time.Hour, true},
		{"45 mins", 45 * time.Minute, true},
		{"1 hr 30 min", 90 * time.Minute, true},
		{"30 secs", 30 * time.Second, true},
		{"2 months", 0, false},
		{"1mo", 0, false},
		{"1d-2h", 0, false},
		{"1..5h", 0, false},
		{"-", 0, false},
		{"15251w", 0, false},
		{"15000w15000w", 0, false},
		{"2562047h", 2562047 * time.Hour, true},
	} {
		got, err := commands.ParseDuration(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		var e *commands.Error
		if err != nil && (!errors.As(err, &e) || e.Token != tc.in || e.Msg == "") {
			t.Errorf("ParseDuration(%q) error %#v does not name the token", tc.in, err)
		}
	}
}

func TestErrorString(t *testing.T) {
	_, err := commands.Parse("rollback 7", commands.Env{Now: now})
	want := "missing <reason...>: a rollback alert must say why\nUsage: /upgrade rollback <id> <reason...>"
	if err == nil || err.Error() != want {
		t.Fatalf("Error() = %q, want %q", err, want)
	}
}

// A refused start keeps its specific first words and then lists the
// accepted forms, as an unreadable time does (spec commands.md: unparseable
// time, show accepted forms).
func TestTimeRefusalsShowForms(t *testing.T) {
	for _, tc := range []struct{ in, tok, first string }{
		{sp + "tomorrow", "", `missing the clock time after "tomorrow", e.g. tomorrow 02:00`},
		{sp + "at 2026-12-01", "", `missing the clock time after "2026-12-01", e.g. 2026-12-01 02:00`},
		{sp + "next 02:00", "02:00", `cannot read "02:00" as a weekday after "next", e.g. next tuesday 14:00`},
		{sp + "at next", "", `missing the weekday after "next", e.g. next tuesday 14:00`},
		{sp + "tomorrow 02:00 UTC Europe/Berlin", "Europe/Berlin", `the time already has a zone, so "Europe/Berlin" is one too many (give only one)`},
		{sp + "blah", "blah", `expected at <time> or in <duration> after the version (or next, or every <weekday> <time>), not "blah"`},
		{sp + "dec 1 02:00", "dec", `expected at <time> or in <duration> after the version (or next, or every <weekday> <time>), not "dec"`},
		{sp + "this tuesday 14:00", "this", `expected at <time> or in <duration> after the version (or next, or every <weekday> <time>), not "this"`},
		{sp + "tonight 23:00", "tonight", `expected at <time> or in <duration> after the version (or next, or every <weekday> <time>), not "tonight"`},
		{sp, "", "missing the start: at <time> or in <duration> (or next, or every <weekday> <time>)"},
		{"reschedule 1 blah", "blah", `expected at <time> or in <duration> after the id, not "blah"`},
		{"reschedule 1", "", "missing the new start: at <time> or in <duration>"},
		{"reschedule 1 tomorrow", "", `missing the clock time after "tomorrow"`},
		{sp + "at blah", "blah", `cannot read "blah" as a time`},
	} {
		_, err := commands.Parse(tc.in, commands.Env{Now: now, Location: berlin})
		var e *commands.Error
		if !errors.As(err, &e) {
			t.Errorf("Parse(%q) = %v, want *Error", tc.in, err)
			continue
		}
		if e.Token != tc.tok || !strings.HasPrefix(e.Msg, tc.first) {
			t.Errorf("Parse(%q) = Token %q Msg %q; want %q and a message with %q", tc.in, e.Token, e.Msg, tc.tok, tc.first)
		}
		if !strings.HasSuffix(e.Msg, "; use "+commands.TimeForms) {
			t.Errorf("Parse(%q) Msg = %q; want it to end with the accepted forms", tc.in, e.Msg)
		}
	}
	// ParseWhen, for the platforms' time options, says the same.
	for _, in := range []string{"tomorrow", "next 02:00", "tomorrow 02:00 UTC Europe/Berlin"} {
		_, err := commands.ParseWhen(in, commands.Env{Now: now})
		if err == nil || !strings.HasSuffix(err.Error(), "; use "+commands.TimeForms) {
			t.Errorf("ParseWhen(%q) = %v; want the accepted forms", in, err)
		}
	}
}

// Review: the core reads again the repository an adapter read, and
// "acme/payments.git.git" read once gave acme/payments.git, read twice
// acme/payments: reading what ParseRepo gave must give the same.
func TestParseRepoReadsItsOwnAnswerTheSame(t *testing.T) {
	for _, in := range []string{"acme/payments.git.git", "https://github.com/acme/payments.git/", "acme/payments/.git", "github.com/acme/payments//", "acme/payments"} {
		once, ok := commands.ParseRepo(in)
		if !ok {
			continue
		}
		twice, ok := commands.ParseRepo(once)
		if !ok || twice != once {
			t.Errorf("ParseRepo(%q) = %q, and of that %q, %v", in, once, twice, ok)
		}
	}
	if got, ok := commands.ParseRepo("acme/payments.git.git"); !ok || got != "acme/payments" {
		t.Errorf("acme/payments.git.git: %q %v", got, ok)
	}
}
