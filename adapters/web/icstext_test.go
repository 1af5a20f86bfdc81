package web

import (
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/commands"
)

// Every line break a person may type, a lone CR included, becomes the
// escaped \n of RFC 5545: none can start a property of its own.
func TestICSTextEscapesEveryLineBreak(t *testing.T) {
	for in, want := range map[string]string{
		"a\r\nb":                  `a\nb`,
		"a\nb":                    `a\nb`,
		"a\rURL:http://evil more": `a\nURL:http://evil more`,
		`back\slash; semi, comma`: `back\\slash\; semi\, comma`,
	} {
		if got := icsText(in); got != want {
			t.Errorf("icsText(%q) = %q, want %q", in, got, want)
		}
	}
}

// CATEGORIES is a list: a comma between its values, each escaped on its
// own (RFC 5545 3.8.1.2).
func TestICSListSeparatesWithAPlainComma(t *testing.T) {
	if got, want := icsList("standard window", "pay,ments; eu"), `standard window,pay\,ments\; eu`; got != want {
		t.Errorf("icsList = %q, want %q", got, want)
	}
}

// A standard window's event has two categories, "standard window" and
// its service, not one that holds a comma.
func TestStandardWindowEventCategories(t *testing.T) {
	c := readinessCore()
	win, err := commands.ParseWindow("tue 02:00-05:00", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	c.dir = bot.NewDirectory(bot.Config{Services: []bot.Service{{Name: "payments", Owners: []string{"alice"}, Windows: []commands.Window{win}}}})
	body := strings.ReplaceAll(fetch(t, serveCore(t, c), "/calendar.ics"), "\r\n ", "")
	cal, err := ics.ParseCalendar(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	windows := 0
	for _, e := range cal.Events() {
		if !strings.HasPrefix(e.GetProperty(ics.ComponentPropertySummary).Value, "Standard window") {
			continue
		}
		windows++
		if p := e.GetProperty(ics.ComponentPropertyCategories); p == nil || p.Value != "standard window,payments" {
			t.Errorf("a standard window's CATEGORIES: %+v; want the two values standard window and payments", p)
		}
	}
	if windows == 0 || !strings.Contains(body, "\r\nCATEGORIES:standard window,payments\r\n") {
		t.Errorf("no standard window with CATEGORIES:standard window,payments:\n%s", body)
	}
}
