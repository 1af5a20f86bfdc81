package config

import (
	"slices"
	"strconv"
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

// Every key of the TOML 1.0 grammar is found on its line: quoted keys
// holding a dot, unknown dotted keys (whose problem names their first
// part), spaces around the dots, the keys of inline tables, arrays of inline
// tables and [[arrays]] of tables with their index, a table under an array's
// entry.
func TestKeyLinesFollowTheTOMLGrammar(t *testing.T) {
	const file = `"a.b" = 1
'x'.y.z = 1
a."b.c" = 2
server . "listen" = "x"
discord = { mode = "http", "bot.token" = { t = 1 } }
list = [
  { name = "one" },
  { name = "two",
    "q.r" = 'lit' },
]
multi = """
fake = 1
"""
lit = '''
"in.lit" = 3
'''
[ "tab.le" . sub ]
k = 1
[[people]]
name = "p0"
[[ people ]] # a comment
name = "p1"
[people.extra]
e = 1
[[services.x]]
s = 1
`
	lines := keyLines([]byte(file))
	for key, want := range map[string]int{
		`"a.b"`:                 1,
		"x":                     2,
		"x.y.z":                 2,
		"a":                     3,
		`a."b.c"`:               3,
		"server.listen":         4,
		"discord.mode":          5,
		`discord."bot.token".t`: 5,
		"list[0]":               7,
		"list[0].name":          7,
		"list[1].name":          8,
		`list[1]."q.r"`:         9,
		"multi":                 11,
		"lit":                   14,
		`"tab.le".sub`:          17,
		`"tab.le".sub.k`:        18,
		"people[0].name":        20,
		"people[1]":             21,
		"people[1].name":        22,
		"people[1].extra.e":     24,
		"services.x[0].s":       26,
	} {
		if got := lines[key].line; got != want {
			t.Errorf("%s: line %d, want %d", key, got, want)
		}
	}
	for _, key := range []string{"fake", `"in.lit"`} {
		if _, ok := lines[key]; ok {
			t.Errorf("%s: found, but it is inside a string", key)
		}
	}
}

// Unknown keys, dotted or quoted, are placed at their lines (Problem.Line).
func TestInFileOrderPlacesUnknownDottedAndQuotedKeys(t *testing.T) {
	const file = `[redis]
url = "memory://"
[server]
"list.en" = "x"
[reminders]
'escalate'.after = "1h"
`
	cfg, problems := loadString(t, file)
	var got []string
	for _, p := range cfg.InFileOrder(problems) {
		got = append(got, p.Path+"@"+strconv.Itoa(p.Line))
	}
	want := []string{`server."list.en"@4`, "reminders.escalate@6"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// The line scan ends on any input, valid TOML or not, without a panic.
func FuzzKeyLines(f *testing.F) {
	for _, s := range []string{"a = 1", "[a]\nb = [\n{ c = 1 },\n]", `"a.b" = """x"""`, "'x'.y.z = '''\n'''", "[[a]]\n[a.b]\n", "a = {", "= [", "a = \"\\", "[\"a", "a = [{b = [{c = 1}]}]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		keyLines([]byte(s))
		splitKey(s)
	})
}

// A list written over several lines has each entry's problem at the
// entry's own line (they were all at the list's first line); a list on one
// line has them at its line.
func TestInFileOrderPlacesListEntriesAtTheirLines(t *testing.T) {
	const file = `admins = [
  "alice",
  "nobody",
]
[redis]
url = "memory://"
[[people]]
name = "alice"
ids = ["slack:U012AB3CD", "slack:C2x"]
[[services]]
name = "a"
owners = ["alice"]
channels = [
  "slack:C0123456",
  "slack:C2x", # a user id? no: a channel id must start with C
  "bogus",
]
depends_on = [
  "a2",
  "a2",
]
[[freezes]]
name = "f"
from = "2026-12-20T00:00:00Z"
to = "2026-12-27T00:00:00Z"
services = ["*",
  "zz"]
`
	cfg, problems := loadString(t, file)
	if len(problems) > 0 {
		t.Fatalf("Load: %v", problems)
	}
	var got []string
	for _, p := range cfg.InFileOrder(cfg.Validate()) {
		got = append(got, p.Path+"@"+strconv.Itoa(p.Line))
	}
	want := []string{
		"admins@3",
		"people[0].ids@9",
		"services[0].channels@15",
		"services[0].channels@16",
		"services[0].depends_on@19",
		"services[0].depends_on@20",
		"freezes[0].services@26", // "*" given with others: the list's problem, at its line
		"freezes[0].services@27", // "zz": unknown service
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

// An array of tables whose name is mistyped ([[service]]) has its problem
// at its first entry's header; it had no line.
func TestInFileOrderPlacesAnUnknownArrayOfTables(t *testing.T) {
	const file = "[redis]\nurl = \"memory://\"\n\n[[service]]\nname = \"a\"\n[[service]]\nname = \"b\"\n"
	cfg, problems := loadString(t, file)
	var got []string
	for _, p := range cfg.InFileOrder(problems) {
		got = append(got, p.Path+"@"+strconv.Itoa(p.Line)+": "+p.Msg)
	}
	want := []string{`service@4: unknown key (did you mean "services"?)`}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
