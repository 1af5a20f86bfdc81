package config

import (
	"slices"
	"testing"
)

// Problems read top to bottom against the file: a key's problem at its
// line, whether Load or Validate found it; those the file does not place
// (the environment's, a missing key's, a cycle's) after, as they came.
func TestInFileOrder(t *testing.T) {
	const file = `default_timezone = "Mars/Olympus"
colour = "red"
discord = { mode = "carrier-pigeon" }
[server]
listen = "nope"

[reminders]
escalate_after = "0s"
before = ["1h", "1h"]

[[people]]
name = "bob"
notes = """
timezone = "not a key"
"""
timezone = "Nowhere/X"

[[services]]
name = "a"
depends_on = ["b"]
[[services]]
name = "b"
depends_on = ["a"]

[redis]
url = "memory://"
prefix = ""
`
	cfg, problems := loadString(t, file, "UPGRADEBOT_MAX_WINDOW=-1h")
	problems = append(problems, cfg.Validate()...)
	var got []string
	for _, p := range cfg.InFileOrder(problems) {
		got = append(got, p.Path)
	}
	want := []string{
		"default_timezone",                       // line 1, from Validate
		"colour",                                 // line 2, from Load
		"discord.mode",                           // line 3: a key of an inline table
		"server.listen",                          // line 5
		"reminders.escalate_after",               // line 8
		"reminders.before",                       // line 9: a list's entry is on its line
		"people[0].notes",                        // line 13; the string's lines are no keys
		"people[0].timezone",                     // line 16
		"redis.prefix",                           // line 27
		"env UPGRADEBOT_MAX_WINDOW (max_window)", // no line: the environment's
		"services",                               // no line: a cycle of two entries
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

// A string that holds ”' or """ on one line opens no multi-line string,
// and a BOM is not part of the first key: the keys after still have their
// lines.
func TestInFileOrderAfterQuotesInAStringAndABOM(t *testing.T) {
	const file = "\ufeffcolour = 1\nx = \"'''\"\n[server]\nlisten = \"nope\"\ncolour = 1\n"
	lines := keyLines([]byte(file))
	for key, want := range map[string]int{"colour": 1, "server.listen": 4, "server.colour": 5} {
		if got := lines[key].line; got != want {
			t.Errorf("%s: line %d, want %d", key, got, want)
		}
	}
}
