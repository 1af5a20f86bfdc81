package web

import (
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
)

// A calendar without any event still has a component (RFC 5545 3.6:
// icalbody = calprops component): the UTC time zone its times are in. One
// with events has no other.
func TestEmptyCalendarHasAComponent(t *testing.T) {
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	dir := bot.NewDirectory(bot.Config{Services: []bot.Service{{Name: "payments", Owners: []string{"alice"}}},
		People: []bot.Person{{Name: "alice", IDs: []string{"slack:U0ALICE"}}}})
	empty := fetch(t, serveCore(t, &fakeCore{dir: dir, now: now}), "/calendar.ics")
	want := "X-WR-CALNAME:Upgrades\r\n" +
		"BEGIN:VTIMEZONE\r\nTZID:UTC\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0000\r\nTZNAME:UTC\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n" +
		"END:VCALENDAR\r\n"
	if !strings.HasSuffix(empty, want) || strings.Count(empty, "BEGIN:") != 3 {
		t.Errorf("the empty calendar is not calprops and a UTC VTIMEZONE:\n%s", empty)
	}
	full := fetch(t, serveCore(t, readinessCore()), "/calendar.ics")
	if strings.Contains(full, "VTIMEZONE") || strings.Count(full, "BEGIN:VEVENT") != 2 {
		t.Errorf("a calendar with events has a VTIMEZONE, or lacks its events:\n%s", full)
	}
}
