package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

func loadString(t *testing.T, data string, env ...string) (Config, []Problem) {
	t.Helper()
	cfg, problems, err := LoadBytes([]byte(data), env)
	if err != nil {
		t.Fatalf("LoadBytes: %v", err)
	}
	return cfg, problems
}

func paths(problems []Problem) []string {
	out := make([]string, len(problems))
	for i, p := range problems {
		out[i] = p.Path
	}
	return out
}

func findProblem(problems []Problem, path string) (Problem, bool) {
	for _, p := range problems {
		if p.Path == path {
			return p, true
		}
	}
	return Problem{}, false
}

// wantProblems checks that problems are exactly want's: its paths, each
// with its message.
func wantProblems(t *testing.T, problems []Problem, want map[string]string) {
	t.Helper()
	if len(problems) != len(want) {
		t.Errorf("got %d problems, want %d: %v", len(problems), len(want), problems)
	}
	for path, msg := range want {
		if p, ok := findProblem(problems, path); !ok || p.Msg != msg {
			t.Errorf("%s: got %q, want %q", path, p.Msg, msg)
		}
	}
}

func TestLoadEmptyIsDefault(t *testing.T) {
	cfg, problems := loadString(t, "")
	if len(problems) != 0 {
		t.Fatalf("problems: %v", problems)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Fatalf("got %+v\nwant %+v", cfg, Default())
	}
	if got := Default().Validate(); len(got) != 0 {
		t.Fatalf("Default().Validate() = %v", got)
	}
}

func TestDefaults(t *testing.T) {
	d := Default()
	checks := []struct {
		name      string
		got, want any
	}{
		{"default_timezone", d.DefaultTimezone, "UTC"},
		{"max_window", d.MaxWindow, 24 * time.Hour},
		{"retention", d.Retention, 2160 * time.Hour},
		{"server.listen", d.Server.Listen, "127.0.0.1:8080"},
		{"redis.url", d.Redis.URL, "redis://127.0.0.1:6379/0"},
		{"redis.prefix", d.Redis.Prefix, "upgradebot"},
		{"slack.mode", d.Slack.Mode, "socket"},
		{"slack.command", d.Slack.Command, "/upgrade"},
		{"discord.mode", d.Discord.Mode, "gateway"},
		{"reminders.before", d.Reminders.Before, []time.Duration{168 * time.Hour, 72 * time.Hour, time.Hour}},
		{"reminders.escalate_after", d.Reminders.EscalateAfter, 30 * time.Minute},
		{"reminders.default_duration", d.Reminders.DefaultDuration, time.Hour},
		{"api.public", d.API.Public, true},
		{"slack.enabled", d.Slack.Enabled, false},
		{"discord.enabled", d.Discord.Enabled, false},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestLoadValues(t *testing.T) {
	cfg, problems := loadString(t, `
default_timezone = "Europe/Berlin"
admins = ["alice", "slack:U1234"]
max_window = "2d"
retention = "1w"

[slack]
enabled = true
bot_token = "xoxb-1"
api_url = "http://127.0.0.1:9999/api"

[reminders]
before = ["2h"]

[[people]]
name = "alice"
ids = ["slack:U1234"]

[[services]]
name = "payments"
owners = ["alice"]
depends_on = ["ledger"]
repo = "acme/payments"

[[services]]
name = "ledger"
`)
	if len(problems) != 0 {
		t.Fatalf("problems: %v", problems)
	}
	if cfg.DefaultTimezone != "Europe/Berlin" || cfg.MaxWindow != 48*time.Hour || cfg.Retention != 168*time.Hour {
		t.Errorf("top level: %+v", cfg)
	}
	if !slices.Equal(cfg.Admins, []string{"alice", "slack:U1234"}) {
		t.Errorf("admins = %v", cfg.Admins)
	}
	// Keys left out of a section keep their defaults.
	if !cfg.Slack.Enabled || cfg.Slack.BotToken != "xoxb-1" || cfg.Slack.Mode != "socket" || cfg.Slack.Command != "/upgrade" {
		t.Errorf("slack = %+v", cfg.Slack)
	}
	if cfg.Slack.APIURL != "http://127.0.0.1:9999/api/" {
		t.Errorf("slack.api_url = %q, want a trailing slash added", cfg.Slack.APIURL)
	}
	// A list from the file replaces the default list.
	if !slices.Equal(cfg.Reminders.Before, []time.Duration{2 * time.Hour}) {
		t.Errorf("reminders.before = %v", cfg.Reminders.Before)
	}
	if cfg.Reminders.EscalateAfter != 30*time.Minute {
		t.Errorf("reminders.escalate_after = %v", cfg.Reminders.EscalateAfter)
	}
	if len(cfg.Services) != 2 || cfg.Services[0].Repo != "acme/payments" || !slices.Equal(cfg.Services[0].DependsOn, []string{"ledger"}) {
		t.Errorf("services = %+v", cfg.Services)
	}
}

// A key written below a table header belongs to that table (TOML): a
// top-level key appended at the end of the file, or a section's key under
// another header, is said as misplaced, with where it goes.
func TestLoadMisplacedKeysSayWhereTheyGo(t *testing.T) {
	_, problems := loadString(t, `
[slack]
enabled = false
listen = ":8080"

[reminders]
mode = "socket"

[[services]]
name = "ledger"
admins = ["alice"]
max_window = "12h"
`)
	want := map[string]string{
		"slack.listen":           "unknown key here: listen belongs under [server]; move it there (a key belongs to the table whose header is above it)",
		"reminders.mode":         "unknown key here: mode belongs under [slack] or [discord]; move it there (a key belongs to the table whose header is above it)",
		"services[0].admins":     "unknown key here: admins is a top-level key; move it above the first [table] header (a key belongs to the table whose header is above it)",
		"services[0].max_window": "unknown key here: max_window is a top-level key; move it above the first [table] header (a key belongs to the table whose header is above it)",
	}
	wantProblems(t, problems, want)
}

// A key of an array of tables' entries written after another array's header
// is not sent to that other array: owners = ["bob"] under [[freezes]] is
// most likely meant as the freeze's, so it says what a freeze takes rather
// than moving the data to [[services]]. readiness, a top-level key and a
// [[services]] key, still names both homes.
func TestLoadMisplacedKeysOfArraysOfTables(t *testing.T) {
	_, problems := loadString(t, `
[[services]]
name = "ledger"
[[freezes]]
name = "xmas"
owners = ["alice"]
readiness = ["backups verified"]
[[people]]
name = "alice"
from = "2026-12-20T00:00:00Z"
`)
	want := map[string]string{
		"freezes[0].owners":    "unknown key: [[freezes]] has no owners key; freezes take: name, from, to, services, regions, reason",
		"freezes[0].readiness": "unknown key here: readiness is a top-level key or belongs under [[services]]; move it above the first [table] header or under [[services]] (a key belongs to the table whose header is above it)",
		"people[0].from":       "unknown key: [[people]] has no from key; people take: name, ids, timezone",
	}
	wantProblems(t, problems, want)
}

// A top-level table's name written as a key under another table's header
// ([server] then slack.enabled = false) says how to write that table; it
// said only "unknown key".
func TestLoadTopLevelTablesWrittenUnderAHeader(t *testing.T) {
	_, problems := loadString(t, `
[server]
listen = ":8080"
slack.enabled = false
[reminders]
people = []
`)
	want := map[string]string{
		"server.slack":     "unknown key here: slack is a top-level table; write its keys under a [slack] header (a key belongs to the table whose header is above it)",
		"reminders.people": "unknown key here: people is a top-level array of tables; write each entry under a [[people]] header (a key belongs to the table whose header is above it)",
	}
	wantProblems(t, problems, want)
}

// A key in an inline table, or after the dots of a dotted key, is in the
// table written on its own line, not in the one whose header is above it:
// its problem says where it belongs, never to move it above a header (the
// advice for a key under a [[services]] header, wrong inside
// services = [{ ... }]).
func TestLoadMisplacedKeysInInlineTablesAndDottedKeys(t *testing.T) {
	cfg, problems := loadString(t, `slack = { enabled = false, listen = ":8080" }
services = [
  { name = "a", admins = ["alice"] },
  { name = "b",
    from = "2026-12-20T00:00:00Z" },
]
discord.bot_tokn = "x"
server.readiness = ["y"]
[redis]
url = "memory://"
`)
	want := map[string]string{
		"slack.listen@1":       "unknown key here: listen is a key of [server], not of this table",
		"services[0].admins@3": "unknown key here: admins is a top-level key, not a key of this table",
		"services[1].from@5":   "unknown key here: from is a key of [[freezes]], not of this table",
		"discord.bot_tokn@7":   `unknown key (did you mean "bot_token"?)`,
		"server.readiness@8":   "unknown key here: readiness is a top-level key or a key of [[services]], not of this table",
	}
	problems = cfg.InFileOrder(problems)
	if len(problems) != len(want) {
		t.Errorf("got %d problems, want %d: %v", len(problems), len(want), problems)
	}
	for _, p := range problems {
		at := p.Path + "@" + strconv.Itoa(p.Line)
		if msg, ok := want[at]; !ok || p.Msg != msg {
			t.Errorf("%s: got %q, want %q", at, p.Msg, msg)
		}
	}
}

// A key unknown in its table is first a slip of one of the table's own keys;
// a key known elsewhere is not read as a part of one of them (bot_token is no
// token of GitHub's); a platform's key is never sent under another
// platform's header ([slack], [discord] and [github] share key names), and a
// secret is never sent to another table at all.
func TestLoadUnknownKeysSuggestTheTablesOwnFirst(t *testing.T) {
	_, problems := loadString(t, `
[server]
url = "https://bot.example.com"

[slack]
enabled = false
token = "xoxb-x"

[discord]
token = "abc"
command = "deploy"

[github]
enabled = true
bot_token = "xoxb-y"

[redis]
public_url = "https://bot.example.com"

[[people]]
name = "alice"
default_timezone = "UTC"

[[webhooks]]
url = "https://hooks.example.com/x"
webhook_secret = "s"
signing_secret = "t"
`)
	want := map[string]string{
		"server.url":                 `unknown key (did you mean "public_url"?)`,
		"slack.token":                `unknown key (did you mean "app_token" or "bot_token"?)`,
		"discord.token":              `unknown key (did you mean "bot_token"?)`,
		"discord.command":            "unknown key",
		"github.enabled":             "unknown key",
		"github.bot_token":           "unknown key",
		"redis.public_url":           "unknown key here: public_url belongs under [server]; move it there (a key belongs to the table whose header is above it)",
		"people[0].default_timezone": "unknown key here: default_timezone is a top-level key; move it above the first [table] header (a key belongs to the table whose header is above it)",
		"webhooks[0].webhook_secret": "unknown key",
		"webhooks[0].signing_secret": "unknown key",
	}
	for path, msg := range want {
		if p, ok := findProblem(problems, path); !ok || p.Msg != msg {
			t.Errorf("%s: got %q, want %q", path, p.Msg, msg)
		}
	}
}

// QA: [server] timezone = "UTC" said only "unknown key"; the user meant the
// top-level default_timezone. A key known nowhere that is a part of a
// top-level key names it, as top-level; a table's own keys still come first.
func TestLoadUnknownKeysSuggestATopLevelKeyTheyArePartOf(t *testing.T) {
	_, problems := loadString(t, `
[server]
timezone = "UTC"

[reminders]
window = "12h"

[[services]]
name = "ledger"
lead = "1h"
`)
	want := map[string]string{
		"server.timezone":  "unknown key (did you mean the top-level default_timezone? it goes above the first [table] header)",
		"reminders.window": "unknown key (did you mean the top-level max_window? it goes above the first [table] header)",
		"services[0].lead": "unknown key (did you mean the top-level max_lead or series_lead? it goes above the first [table] header)",
	}
	wantProblems(t, problems, want)
}

func TestLoadUnknownKeys(t *testing.T) {
	_, problems := loadString(t, `
defualt_timezone = "UTC"
zzz = 1
aaa = 2

[slack]
bot_tokn = "xoxb-secret-value"

[slak]
enabled = true

[redis.extra]
x = 1

[[services]]
name = "ledger"

[[services]]
nme = "payments"
[services.options]
fast = true

[[people]]
name = "alice"
ids = ["slack:U1234"]
email = "a@example.com"
`)
	want := []string{
		"defualt_timezone",
		"zzz",
		"aaa",
		"slack.bot_tokn",
		"slak",
		"redis.extra",
		"services[1].nme",
		"services[1].options",
		"people[0].email",
	}
	got := paths(problems)
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("missing problem at %q; got %v", w, problems)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d problems, want %d: %v", len(got), len(want), problems)
	}
	// File order for siblings.
	if i, j := slices.Index(got, "zzz"), slices.Index(got, "aaa"); i > j {
		t.Errorf("zzz (line 3) reported after aaa (line 4): %v", got)
	}
	p, _ := findProblem(problems, "slack.bot_tokn")
	if p.Msg != `unknown key (did you mean "bot_token"?)` {
		t.Errorf("slack.bot_tokn: %q", p.Msg)
	}
	p, _ = findProblem(problems, "services[1].nme")
	if p.Msg != `unknown key (did you mean "name"?)` {
		t.Errorf("services[1].nme: %q", p.Msg)
	}
	for _, p := range problems {
		if strings.Contains(p.String(), "secret-value") {
			t.Errorf("problem leaks a value: %s", p)
		}
	}
}

func TestLoadTypeProblems(t *testing.T) {
	tests := []struct {
		name, toml, path, msg string
	}{
		{"duration as integer", `max_window = 24`, "max_window", `must be a duration string like "24h" or "3d", not an integer`},
		{"bad duration", `retention = "24 hours"`, "retention", `invalid duration "24 hours"`},
		{"bool as string", "[slack]\nenabled = \"yes\"", "slack.enabled", "must be true or false, not a string"},
		{"list as string", `admins = "alice"`, "admins", "must be an array, not a string"},
		{"list element", "[reminders]\nbefore = [\"1h\", 5]", "reminders.before[1]", "must be a duration string"},
		{"bad list duration", "[reminders]\nbefore = [\"1h\", \"soon\"]", "reminders.before[1]", `invalid duration "soon"`},
		{"string as integer", "[slack]\nbot_token = 1234", "slack.bot_token", "must be a string, not an integer"},
		{"section as value", `slack = "on"`, "slack", "must be a table, not a string"},
		{"array of tables as table", "[services]\nname = \"x\"", "services", "must be an array of tables, not a table; write [[services]] (two brackets) above each entry"},
		{"array of tables as string", `people = "alice"`, "people", "must be an array of tables, not a string; write [[people]] (two brackets) above each entry"},
		{"list as a string of a list", "[[services]]\nname = \"a\"\nowners = \"alice, bob\"", "services[0].owners", `must be an array, not a string; write owners = ["alice", "bob"]`},
		{"list of durations as string", "[reminders]\nbefore = \"1h\"", "reminders.before", `must be an array, not a string; write before = ["1h"]`},
		{"secret list as string", "[api]\ntokens = \"s3cret, t0ken\"", "api.tokens", `must be an array, not a string; write tokens = ["…", "…"]`},
		{"bool as quoted bool", "[slack]\nenabled = \"false\"", "slack.enabled", "must be true or false, not a string; write enabled = false, without quotes"},
		{"date-time not quoted elsewhere", "[[freezes]]\nname = 2026-12-20T00:00:00Z", "freezes[0].name", `must be a string, not a date/time; write name = "2026-12-20T00:00:00Z"`},
		{"local date not quoted", "[[freezes]]\nto = 2026-12-27", "freezes[0].to", `must be a string, not a date/time; write to = "2026-12-27T00:00:00Z" (quoted, with an offset from UTC`},
		{"nested in array", "[[services]]\nname = \"a\"\n[[services]]\nname = 5", "services[1].name", "must be a string, not an integer"},
		{"inline tables", `services = [{name = "a"}, {name = "b", owners = "x"}]`, "services[1].owners", "must be an array"},
		{"datetime", `default_timezone = 2026-01-01`, "default_timezone", "must be a string, not a date/time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := loadString(t, tt.toml)
			p, ok := findProblem(problems, tt.path)
			if !ok {
				t.Fatalf("no problem at %q; got %v", tt.path, problems)
			}
			if !strings.Contains(p.Msg, tt.msg) {
				t.Fatalf("%s: msg %q does not contain %q", tt.path, p.Msg, tt.msg)
			}
			if len(problems) != 1 {
				t.Fatalf("want exactly one problem, got %v", problems)
			}
		})
	}
}

func TestLoadKeepsGoingAfterTypeProblem(t *testing.T) {
	cfg, problems := loadString(t, "max_window = 5\n[slack]\nenabled = \"no\"\ncommand = \"/deploy\"\n")
	if got := paths(problems); !slices.Equal(got, []string{"max_window", "slack.enabled"}) {
		t.Fatalf("problems = %v", problems)
	}
	if cfg.Slack.Command != "/deploy" || cfg.MaxWindow != 24*time.Hour {
		t.Fatalf("cfg = %+v", cfg)
	}
}

func TestLoadDeterministic(t *testing.T) {
	data := "a = 1\nb = 2\nc = 3\nd = 4\n[slack]\nx = 1\ny = 2\nz = 3\n[[services]]\nq = 1\nr = 2\n"
	_, first := loadString(t, data, "UPGRADEBOT_SLACK_ENABLED=maybe", "UPGRADEBOT_MAX_WINDOW=later")
	for range 20 {
		_, again := loadString(t, data, "UPGRADEBOT_SLACK_ENABLED=maybe", "UPGRADEBOT_MAX_WINDOW=later")
		if !reflect.DeepEqual(first, again) {
			t.Fatalf("problems differ between runs:\n%v\n%v", first, again)
		}
	}
}

func TestLoadSyntaxError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.toml")
	if err := os.WriteFile(path, []byte("[server]\nlisten = \"x\"\nmode = = 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := Load(path, nil)
	if err == nil {
		t.Fatal("want error")
	}
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v does not wrap toml.ParseError", err)
	}
	if want := path + ":3: "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q does not start with %q", err, want)
	}
	if n := strings.Count(err.Error(), path); n != 1 {
		t.Errorf("error %q names the file %d times", err, n)
	}
}

// A syntax error says where (FILE:LINE, once), at which key, and how to write
// the common mistakes, in the configuration's words rather than the parser's.
func TestLoadSyntaxErrorMessages(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"unquoted duration in a table", "[reminders]\nescalate_after = 30m\n",
			`s.toml:2: reminders.escalate_after: 30m is not quoted; write escalate_after = "30m" (durations, times and words are quoted strings)`},
		{"unquoted duration at the top", "default_timezone = \"UTC\"\nmax_window = 24h\n",
			`s.toml:2: max_window: 24h is not quoted; write max_window = "24h" (durations, times and words are quoted strings)`},
		{"dotted key and a comment", "reminders.escalate_after = 30m # half an hour\n",
			`s.toml:1: reminders.escalate_after: 30m is not quoted; write escalate_after = "30m" (durations, times and words are quoted strings)`},
		{"unquoted word in an entry", "[[people]]\nname = \"alice\"\n[[people]]\nname = \"bob\"\ntimezone = Europe/Paris\n",
			`s.toml:5: people[1].timezone: Europe/Paris is not quoted; write timezone = "Europe/Paris" (durations, times and words are quoted strings)`},
		{"unquoted durations in a list", "[reminders]\nbefore = [24h, 1h]\n",
			`s.toml:2: reminders.before: 24h is not quoted; write before = ["24h", "1h"] (durations, times and words are quoted strings)`},
		{"table header without ]", "default_timezone = \"UTC\"\n[slack\nenabled = true\n",
			`s.toml:2: table header [slack is missing its closing "]"; write [slack]`},
		{"table array header without ]]", "[[people]\nname = \"alice\"\n",
			`s.toml:1: table header [[people] is missing its closing "]]"; write [[people]]`},
		{"no closing quote", "[server]\nlisten = \":8080\n",
			`s.toml:2: server.listen: the string has no closing quote; write listen = ":8080"`},
		{"no opening quote", "[server]\nlisten = :8080\"\n",
			`s.toml:2: server.listen: the string has no opening quote; write listen = ":8080"`},
		{"not a boolean", "[slack]\nenabled = yes\n",
			`s.toml:2: slack.enabled: yes is not true or false; write enabled = true or enabled = false`},
		{"unknown key: no echo", "[reminders]\nescalte_after = 30m\n",
			`s.toml:2: reminders: a value is not quoted; write e.g. escalate_after = "30m" (durations, times and words are quoted strings)`},
		{"key set twice", "[server]\nlisten = \"x\"\nlisten = \"y\"\n",
			`s.toml:3: server.listen: set twice in this table; keep one`},
		{"secret key set twice", "[redis]\nurl = \"memory://\"\nurl = \"memory://\"\n",
			`s.toml:3: redis.url: set twice in this table; keep one`},
		{"token set twice", "[slack]\nbot_token = \"xoxb-SECRET\"\nbot_token = \"xoxb-SECRET\"\n",
			`s.toml:3: slack.bot_token: set twice in this table; keep one`},
		{"table header twice", "[slack]\nenabled = false\n[redis]\nurl = \"memory://\"\n[slack] # again\nmode = \"http\"\n",
			`s.toml:5: table [slack] defined twice; keep one`},
		{"quoted table header twice", "[slack.\"a.b\"]\n[ slack . 'a.b' ]\n",
			`s.toml:2: table [slack."a.b"] defined twice; keep one`},
		{"table header of an array of tables", "[[services]]\nname = \"a\"\n[services]\n",
			`s.toml:3: table [services] is an array of tables, written [[services]] above; write [[services]] for each entry`},
		{"array of tables header of a table", "[services]\n[[services]]\nname = \"a\"\n",
			`s.toml:2: table [[services]] is a single table, written [services] above; write [[services]] for each entry, or [services] once`},
		{"a header in a multi-line string is none", "[slack]\nenabled = false\n[[freezes]]\nreason = \"\"\"\n[[slack]]\n\"\"\"\n[slack]\n",
			`s.toml:7: table [slack] defined twice; keep one`},
		{"headers in a literal multi-line string are none", "[[people]]\nname = \"a\"\n[[people]]\nname = \"b\"\nnotes = '''\n[slack]\n[[people]]\n'''\ntimezone = Europe/Paris\n",
			`s.toml:9: people[1].timezone: Europe/Paris is not quoted; write timezone = "Europe/Paris" (durations, times and words are quoted strings)`},
		{"array of tables after an inline array", "services = [{ name = \"a\" }]\n[redis]\nurl = \"memory://\"\n[[services]]\nname = \"b\"\n",
			`s.toml:4: table [[services]] cannot add to services = [ … ] on line 1 (TOML does not extend an array written inline); write every entry as [[services]], or every one inside services = [ … ]`},
		{"table after an inline table", "slack = { enabled = false }\n[slack]\nmode = \"http\"\n",
			`s.toml:2: table [slack] defined twice: slack = { … } on line 1 defines it already (an inline table holds all its keys); keep one`},
		{"array of tables after a key", "[redis]\nurl = \"memory://\"\n[[redis.url]]\n",
			`s.toml:3: table [[redis.url]] clashes with the key redis.url on line 2; keep one`},
		{"a comment after //", "[redis]\nurl = \"memory://\"\n// the people\n[[people]]\n",
			`s.toml:3: a comment starts with #, not //; write # before the comment`},
		{"table header twice after a byte order mark", "\ufeff[slack]\nenabled = false\n[slack]\n",
			`s.toml:3: table [slack] defined twice; keep one`},
		{"key set twice after a byte order mark", "\ufeff[redis]\nurl = \"a\"\nurl = \"b\"\n",
			`s.toml:3: redis.url: set twice in this table; keep one`},
		{"not a boolean after a byte order mark", "\ufeff[slack]\nenabled = yes\n",
			`s.toml:2: slack.enabled: yes is not true or false; write enabled = true or enabled = false`},
		{"secret's line", "[slack]\nbot_token = xoxb-sekrit-1\n",
			`s.toml:2: slack.bot_token: invalid TOML syntax (details hidden: the line may hold a secret); write bot_token = "…"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.toml")
			if err := os.WriteFile(path, []byte(tc.data), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := Load(path, nil)
			if err == nil {
				t.Fatal("want error")
			}
			if got := strings.ReplaceAll(err.Error(), path, "s.toml"); got != tc.want {
				t.Errorf("error\n got %s\nwant %s", got, tc.want)
			}
			var se *SyntaxError
			var pe toml.ParseError
			if !errors.As(err, &se) || !errors.As(err, &pe) {
				t.Errorf("error %v is not a *SyntaxError wrapping toml.ParseError", err)
			}
		})
	}
}

func TestLoadSyntaxErrorHidesSecrets(t *testing.T) {
	for _, data := range []string{
		"[slack]\nbot_token = xoxb-sekrit-123\n",
		"[github]\ntoken = 'ghp_sekrit' 'x'\n",
		"[redis]\nurl = redis://:sekrit@host\n",
	} {
		_, _, err := LoadBytes([]byte(data), nil)
		if err == nil {
			t.Fatalf("%q: want error", data)
		}
		if strings.Contains(err.Error(), "sekrit") {
			t.Errorf("error leaks a secret: %v", err)
		}
		if !strings.Contains(err.Error(), "line 2") {
			t.Errorf("error lacks the line: %v", err)
		}
		var pe toml.ParseError
		if !errors.As(err, &pe) {
			t.Errorf("error %v does not wrap toml.ParseError", err)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.toml")
	_, _, err := Load(path, nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
	if want := "configuration file " + path + " does not exist"; err.Error() != want {
		t.Fatalf("err = %q, want %q (the file named once)", err, want)
	}
	// A file that exists but cannot be read: the cause, the file once.
	dir := t.TempDir()
	_, _, err = Load(dir, nil)
	if want := "configuration file " + dir + " cannot be read: is a directory"; err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

func TestEnvOverrides(t *testing.T) {
	const file = `
default_timezone = "UTC"
[slack]
bot_token = "xoxb-file"
[redis]
url = "redis://file:6379/0"
[[webhooks]]
url = "https://hooks.example.com/a"
[[services]]
name = "ledger"
`
	tests := []struct {
		name  string
		env   []string
		check func(Config) bool
	}{
		{"string", []string{"UPGRADEBOT_SLACK_BOT_TOKEN=xoxb-env"}, func(c Config) bool { return c.Slack.BotToken == "xoxb-env" }},
		{"string trimmed", []string{"UPGRADEBOT_SLACK_BOT_TOKEN= xoxb-env \n"}, func(c Config) bool { return c.Slack.BotToken == "xoxb-env" }},
		{"redis url", []string{"UPGRADEBOT_REDIS_URL=memory://"}, func(c Config) bool { return c.Redis.URL == "memory://" }},
		{"top-level string", []string{"UPGRADEBOT_DEFAULT_TIMEZONE=Asia/Tokyo"}, func(c Config) bool { return c.DefaultTimezone == "Asia/Tokyo" }},
		{"top-level duration", []string{"UPGRADEBOT_MAX_WINDOW=2d"}, func(c Config) bool { return c.MaxWindow == 48*time.Hour }},
		{"retention", []string{"UPGRADEBOT_RETENTION=1w"}, func(c Config) bool { return c.Retention == 168*time.Hour }},
		{"section duration", []string{"UPGRADEBOT_REMINDERS_ESCALATE_AFTER=15m"}, func(c Config) bool { return c.Reminders.EscalateAfter == 15*time.Minute }},
		{"bool true", []string{"UPGRADEBOT_SLACK_ENABLED=true"}, func(c Config) bool { return c.Slack.Enabled }},
		{"bool 1", []string{"UPGRADEBOT_DISCORD_ENABLED=1"}, func(c Config) bool { return c.Discord.Enabled }},
		{"bool false", []string{"UPGRADEBOT_API_PUBLIC=false"}, func(c Config) bool { return !c.API.Public }},
		{"list", []string{"UPGRADEBOT_API_TOKENS=a, b,,c ,"}, func(c Config) bool { return slices.Equal(c.API.Tokens, []string{"a", "b", "c"}) }},
		{"admins", []string{"UPGRADEBOT_ADMINS=alice,slack:U1234"}, func(c Config) bool { return slices.Equal(c.Admins, []string{"alice", "slack:U1234"}) }},
		{"guild ids", []string{"UPGRADEBOT_DISCORD_GUILD_IDS=123,456"}, func(c Config) bool { return slices.Equal(c.Discord.GuildIDs, []string{"123", "456"}) }},
		{"duration list", []string{"UPGRADEBOT_REMINDERS_BEFORE=1w, 3d,1h"}, func(c Config) bool {
			return slices.Equal(c.Reminders.Before, []time.Duration{168 * time.Hour, 72 * time.Hour, time.Hour})
		}},
		{"cluster addrs from the environment replace the file's url", []string{"UPGRADEBOT_REDIS_CLUSTER_ADDRS=a:1,b:2"}, func(c Config) bool {
			return slices.Equal(c.Redis.ClusterAddrs, []string{"a:1", "b:2"}) && c.Redis.URL == ""
		}},
		{"both from the environment are both kept (and refused together)", []string{"UPGRADEBOT_REDIS_CLUSTER_ADDRS=a:1", "UPGRADEBOT_REDIS_URL=redis://env:6379/0"}, func(c Config) bool {
			return slices.Equal(c.Redis.ClusterAddrs, []string{"a:1"}) && c.Redis.URL == "redis://env:6379/0"
		}},
		{"array of tables by index", []string{"UPGRADEBOT_WEBHOOKS_0_SECRET=s3", "UPGRADEBOT_SERVICES_0_OWNERS=alice,bob"}, func(c Config) bool {
			return c.Webhooks[0].Secret == "s3" && slices.Equal(c.Services[0].Owners, []string{"alice", "bob"})
		}},
		{"the test suites' and console's own variables are not configuration", []string{"UPGRADEBOT_TEST_REDIS=redis://x", "UPGRADEBOT_CONSOLE_NOW=2026-11-22T10:00:00Z"}, func(c Config) bool { return c.Redis.URL == "redis://file:6379/0" }},
		{"an unknown but empty variable counts as unset", []string{"UPGRADEBOT_NOPE="}, func(c Config) bool { return true }},
		{"empty counts as unset", []string{"UPGRADEBOT_SLACK_BOT_TOKEN=", "UPGRADEBOT_SLACK_ENABLED="}, func(c Config) bool {
			return c.Slack.BotToken == "xoxb-file" && !c.Slack.Enabled
		}},
		{"first occurrence wins", []string{"UPGRADEBOT_SLACK_COMMAND=/one", "UPGRADEBOT_SLACK_COMMAND=/two"}, func(c Config) bool { return c.Slack.Command == "/one" }},
		{"unrelated and malformed ignored", []string{"PATH=/bin", "UPGRADEBOT", "SLACK_BOT_TOKEN=x"}, func(c Config) bool { return c.Slack.BotToken == "xoxb-file" }},
		{"api url normalized", []string{"UPGRADEBOT_DISCORD_API_URL=http://127.0.0.1:1/api/v10"}, func(c Config) bool {
			return c.Discord.APIURL == "http://127.0.0.1:1/api/v10/"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, problems := loadString(t, file, tt.env...)
			if len(problems) != 0 {
				t.Fatalf("problems: %v", problems)
			}
			if !tt.check(cfg) {
				t.Fatalf("override not applied: %+v", cfg)
			}
		})
	}
}

func TestUnknownEnvVariablesAreProblems(t *testing.T) {
	file := "[[webhooks]]\nurl = \"https://hooks.example.com/x\"\nsecret = \"s\"\n"
	tests := []struct {
		env  string
		want string // the problem, after "env NAME: "
	}{
		{"UPGRADEBOT_SLACK_BOT_TOKN=xoxb-1", "unknown variable; did you mean UPGRADEBOT_SLACK_BOT_TOKEN?"},
		{"UPGRADEBOT_DEFAULT_TIMEZON=UTC", "unknown variable; did you mean UPGRADEBOT_DEFAULT_TIMEZONE?"},
		{"UPGRADEBOT_FOO=1", "unknown variable; see config.example.toml"},
		{"UPGRADEBOT_WEBHOOKS_1_SECRET=s3", "no such entry: indexed overrides only change"},
		{"UPGRADEBOT_SERVICES_5_NAME=x", "no such entry"},
		{"UPGRADEBOT_WEBHOOKS_0_COLOUR=x", "unknown variable: that entry has no such key"},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			_, problems := loadString(t, file, tt.env)
			name, _, _ := strings.Cut(tt.env, "=")
			if len(problems) != 1 || problems[0].Path != "env "+name || !strings.Contains(problems[0].Msg, tt.want) {
				t.Fatalf("problems = %v, want one for env %s containing %q", problems, name, tt.want)
			}
			if strings.Contains(problems[0].String(), "xoxb-1") {
				t.Errorf("the problem quotes the value: %v", problems[0])
			}
		})
	}
}

func TestEnvClusterAddrsDropDefaultURL(t *testing.T) {
	cfg, problems := loadString(t, "", "UPGRADEBOT_REDIS_CLUSTER_ADDRS=10.0.0.1:6379,10.0.0.2:6379")
	if len(problems) != 0 || cfg.Redis.URL != "" {
		t.Fatalf("url = %q, problems %v", cfg.Redis.URL, problems)
	}
	if got := cfg.Validate(); len(got) != 0 {
		t.Fatalf("Validate: %v", got)
	}
	cfg, _ = loadString(t, "[redis]\ncluster_addrs = [\"10.0.0.1:6379\"]\n")
	if cfg.Redis.URL != "" {
		t.Fatalf("file cluster_addrs kept the default url %q", cfg.Redis.URL)
	}
	cfg, _ = loadString(t, "[redis]\nurl = \"redis://x:1\"\ncluster_addrs = [\"10.0.0.1:6379\"]\n")
	if _, ok := findProblem(cfg.Validate(), "redis.url"); !ok {
		t.Fatal("url and cluster_addrs both set: want a redis.url problem")
	}
}

// TestEnvProblems: every problem with a value from the environment reads
// "env VAR (key.path): ...", whether the value cannot be read at all
// (decoding) or is read and then refused (Validate), so the operator knows
// both the variable to fix and what it sets.
func TestEnvProblems(t *testing.T) {
	tests := []struct {
		env  string
		want string // the problem, up to what follows the message's start
	}{
		// Values that cannot be read: durations and booleans.
		{"UPGRADEBOT_MAX_WINDOW=abc", `env UPGRADEBOT_MAX_WINDOW (max_window): invalid duration "abc"`},
		{"UPGRADEBOT_MAX_LEAD=abc", `env UPGRADEBOT_MAX_LEAD (max_lead): invalid duration "abc"`},
		{"UPGRADEBOT_EARLY_START=abc", `env UPGRADEBOT_EARLY_START (early_start): invalid duration "abc"`},
		{"UPGRADEBOT_RETENTION=abc", `env UPGRADEBOT_RETENTION (retention): invalid duration "abc"`},
		{"UPGRADEBOT_SERIES_LEAD=abc", `env UPGRADEBOT_SERIES_LEAD (series_lead): invalid duration "abc"`},
		{"UPGRADEBOT_REMINDERS_BEFORE=1h,soon", `env UPGRADEBOT_REMINDERS_BEFORE (reminders.before[1]): invalid duration "soon"`},
		{"UPGRADEBOT_REMINDERS_ESCALATE_AFTER=abc", `env UPGRADEBOT_REMINDERS_ESCALATE_AFTER (reminders.escalate_after): invalid duration "abc"`},
		{"UPGRADEBOT_REMINDERS_DEFAULT_DURATION=abc", `env UPGRADEBOT_REMINDERS_DEFAULT_DURATION (reminders.default_duration): invalid duration "abc"`},
		{"UPGRADEBOT_SLACK_ENABLED=yes-please", `env UPGRADEBOT_SLACK_ENABLED (slack.enabled): must be true or false`},
		{"UPGRADEBOT_DISCORD_ENABLED=yes-please", `env UPGRADEBOT_DISCORD_ENABLED (discord.enabled): must be true or false`},
		{"UPGRADEBOT_API_PUBLIC=nope", `env UPGRADEBOT_API_PUBLIC (api.public): must be true or false`},
		// Values read and then refused: the same form.
		{"UPGRADEBOT_DEFAULT_TIMEZONE=Mars/X", `env UPGRADEBOT_DEFAULT_TIMEZONE (default_timezone): `},
		{"UPGRADEBOT_MAX_WINDOW=-1h", `env UPGRADEBOT_MAX_WINDOW (max_window): `},
		{"UPGRADEBOT_REDIS_URL=redis://:pw@host:notaport/0", `env UPGRADEBOT_REDIS_URL (redis.url): `},
		{"UPGRADEBOT_SLACK_MODE=carrier-pigeon", `env UPGRADEBOT_SLACK_MODE (slack.mode): `},
	}
	for _, tt := range tests {
		name, _, _ := strings.Cut(tt.env, "=")
		t.Run(name, func(t *testing.T) {
			cfg, problems := loadString(t, "", tt.env)
			decoded := len(problems) == 0
			if decoded {
				problems = cfg.Validate()
			}
			var got []string
			for _, p := range problems {
				got = append(got, p.String())
			}
			if len(problems) != 1 || !strings.HasPrefix(problems[0].String(), tt.want) {
				t.Fatalf("problems:\n%s\nwant one starting %q", strings.Join(got, "\n"), tt.want)
			}
			_, value, _ := strings.Cut(tt.env, "=")
			if strings.Contains(problems[0].String(), "yes-please") || strings.Contains(problems[0].String(), "pw@") {
				t.Fatalf("the problem echoes the value %q: %s", value, problems[0])
			}
			// A value that cannot be read leaves the previous one in place.
			if !decoded && !reflect.DeepEqual(cfg, Default()) {
				t.Fatalf("config changed by a bad value: %+v", cfg)
			}
		})
	}
}

// TestProblemsOfEnvironmentValuesNameTheVariable: a value the environment
// set is not in the file, so its problem names the variable (and the key).
func TestProblemsOfEnvironmentValuesNameTheVariable(t *testing.T) {
	file := "default_timezone = \"UTC\"\n[redis]\nurl = \"memory://\"\n[[services]]\nname = \"payments\"\n"
	cfg, problems := loadString(t, file, "UPGRADEBOT_REDIS_URL=redis://:pw@host:notaport/0", "UPGRADEBOT_DEFAULT_TIMEZONE=Mars/X",
		"UPGRADEBOT_SERVICES_0_WINDOWS=tue 02:00-05:00 Europe/Berlin,someday", "UPGRADEBOT_REMINDERS_ESCALATE_AFTER=45m")
	if len(problems) != 0 {
		t.Fatalf("decoding: %v", problems)
	}
	got := paths(cfg.Validate())
	for _, want := range []string{"env UPGRADEBOT_DEFAULT_TIMEZONE (default_timezone)", "env UPGRADEBOT_REDIS_URL (redis.url)",
		"env UPGRADEBOT_SERVICES_0_WINDOWS (services[0].windows[1])"} {
		if !slices.Contains(got, want) {
			t.Errorf("problems %q lack %q", got, want)
		}
	}
	for _, p := range cfg.Validate() {
		if strings.Contains(p.String(), "pw@") {
			t.Errorf("a problem shows the URL's password: %s", p)
		}
	}
	// The same values in the file are the file's keys.
	_, problems = loadString(t, "default_timezone = \"Mars/X\"\n")
	cfg, _ = loadString(t, "default_timezone = \"Mars/X\"\n")
	if got := paths(cfg.Validate()); !slices.Contains(got, "default_timezone") {
		t.Errorf("file problems %q %v", got, problems)
	}
}

// Loading ends on any input, with problems or a syntax error, without a
// panic: the syntax error's scan of the lines before its line included.
func FuzzLoadBytes(f *testing.F) {
	for _, s := range []string{"[a]\n[a]", "services = [{}]\n[[services]]", "x = \"\"\"\n[[a]]\n\"\"\"\n[a]\n[[a]]", "[[p]]\n[p.x]\n[[p]]\n[p.x]\n[p.x]", "a = {b = 1}\n[a]", "// x", "owners = \"a,,b\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cfg, problems, err := LoadBytes([]byte(s), nil)
		if err == nil {
			cfg.InFileOrder(append(problems, cfg.Validate()...))
		}
	})
}
