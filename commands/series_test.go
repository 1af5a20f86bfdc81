package commands_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/upgradebot/upgradebot/commands"
)

// TestSeriesIDs (QA): show SER-1 and cancel SER-1 answered "Cannot read
// "SER-1" as an upgrade id". show and cancel take a series id (any case,
// a comma or period after it no part of it); every other subcommand that
// takes an upgrade id says SER-1 is a series and what to give instead.
func TestSeriesIDs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want commands.Command
	}{
		{"show SER-1", commands.ShowSeries{ID: 1}},
		{"show ser-12.", commands.ShowSeries{ID: 12}},
		{"cancel SER-3", commands.Cancel{Series: 3}},
		{"cancel Ser-3, moved to fridays", commands.Cancel{Series: 3, Reason: "moved to fridays"}},
		{"cancel SER-3 series no longer needed", commands.Cancel{Series: 3, Scope: commands.CancelSeries, Reason: "no longer needed"}},
		{"cancel SER-3 occurrence", commands.Cancel{Series: 3, Scope: commands.CancelOccurrence}},
		{`cancel SER-3 "series of failures"`, commands.Cancel{Series: 3, Reason: "series of failures"}},
		{"cancel UPG-3 series", commands.Cancel{ID: 3, Scope: commands.CancelSeries}},
	} {
		got, err := commands.Parse(tc.in, commands.Env{})
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%q) = %#v, %v; want %#v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"start SER-1", "complete SER-1 done", "extend SER-1 1h", "log ser-1", "show SER-1 UPG-2", "reschedule SER-1 tue 02:00"} {
		_, err := commands.Parse(in, commands.Env{})
		var e *commands.Error
		if !errors.As(err, &e) {
			t.Errorf("Parse(%q): %v, want a refusal", in, err)
			continue
		}
		if strings.HasPrefix(in, "show") {
			if !strings.Contains(e.Msg, `unexpected "UPG-2"`) {
				t.Errorf("Parse(%q): %q", in, e.Msg)
			}
			continue
		}
		// No made-up upgrade id, and the commands as hints (Says), so
		// that Discord writes them with its options.
		if !strings.Contains(e.Msg, "SER-1 is a series, not an upgrade; use one of its upgrades (UPG-n; `/upgrade show SER-1` lists them), or end the series with `/upgrade cancel SER-1 [<reason...>]`") || e.Usage == "" {
			t.Errorf("Parse(%q): %q (usage %q)", in, e.Msg, e.Usage)
		}
		var verbs []string
		for _, p := range e.Says {
			if p.Hint != nil {
				verbs = append(verbs, p.Hint.Verb)
			}
		}
		if !reflect.DeepEqual(verbs, []string{"show", "cancel"}) {
			t.Errorf("Parse(%q): hints %v, want show and cancel", in, verbs)
		}
	}
	for _, tc := range []struct {
		in string
		n  int
		ok bool
	}{{"SER-1", 1, true}, {"ser-7,", 7, true}, {"SER-", 0, false}, {"SER-0", 0, false}, {"SER-x", 0, false}, {"SER1", 0, false}, {"UPG-1", 0, false}, {"SER--1", 0, false}} {
		if n, ok := commands.ParseSeriesID(tc.in); n != tc.n || ok != tc.ok {
			t.Errorf("ParseSeriesID(%q) = %d %v, want %d %v", tc.in, n, ok, tc.n, tc.ok)
		}
	}
}
