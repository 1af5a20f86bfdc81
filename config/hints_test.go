package config

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// A misplaced key is sent only where its value fits: a table or an array
// of tables written as a key under another header is the top level's, not
// [[freezes]]' services (a list of names) nor [redis]' url.
func TestLoadMisplacedKeyIsSentWhereItsValueFits(t *testing.T) {
	_, problems := loadString(t, `
[server]
services = [{ name = "a" }]
slack = { enabled = false }
[[people]]
name = "alice"
admins = { x = 1 }
owners = ["alice"]
`)
	want := map[string]string{
		"server.services":  "unknown key here: services is a top-level array of tables; move it above the first [table] header (a key belongs to the table whose header is above it)",
		"server.slack":     "unknown key here: slack is a top-level table; move it above the first [table] header (a key belongs to the table whose header is above it)",
		"people[0].admins": "unknown key",
		"people[0].owners": "unknown key: [[people]] has no owners key; people take: name, ids, timezone",
	}
	wantProblems(t, problems, want)
}

// url may carry credentials (redis.url, a webhook's): one written in the
// wrong table is not sent to either.
func TestLoadMisplacedURLIsNotSentElsewhere(t *testing.T) {
	_, problems := loadString(t, "[[services]]\nname = \"a\"\nurl = \"https://hooks.example.com/x\"\n[reminders]\nurl = \"redis://h\"\n")
	for _, path := range []string{"services[0].url", "reminders.url"} {
		p, ok := findProblem(problems, path)
		if !ok || p.Msg != "unknown key" {
			t.Errorf("%s: got %q, want %q", path, p.Msg, "unknown key")
		}
	}
}

// A list written as one string is split into its words for a list of
// names or ids (spaces, commas, semicolons), at commas for free text; an
// entry that may be a secret is never echoed. Each problem is at its key's
// line.
func TestLoadListHints(t *testing.T) {
	tests := []struct{ name, toml, path, want string }{
		{"ids separated by spaces", "[[services]]\nname = \"a\"\nowners = \"console:a console:b\"", "services[0].owners",
			`must be an array, not a string; write owners = ["console:a", "console:b"]`},
		{"names separated by semicolons", "admins = \"alice; bob,carol\"", "admins",
			`must be an array, not a string; write admins = ["alice", "bob", "carol"]`},
		{"free text keeps its spaces", "readiness = \"backups verified, tests green\"", "readiness",
			`must be an array, not a string; write readiness = ["backups verified", "tests green"]`},
		{"regions keep their spaces", "[[freezes]]\nregions = \"eu west, us east\"", "freezes[0].regions",
			`must be an array, not a string; write regions = ["eu west", "us east"]`},
		{"a Slack token", "[[services]]\nname = \"a\"\nchannels = \"xoxb-123-secretvalue\"", "services[0].channels",
			`must be an array, not a string; write channels = ["…"]`},
		{"a GitHub token beside an id", "[[services]]\nname = \"a\"\nchannels = \"slack:C1, ghp_secretvalue\"", "services[0].channels",
			`must be an array, not a string; write channels = ["slack:C1", "…"]`},
		{"a password before @", "[redis]\ncluster_addrs = \":secretvalue@h1:6379 h2:6379\"", "redis.cluster_addrs",
			`must be an array, not a string; write cluster_addrs = ["…", "h2:6379"]`},
		{"a dotted key as written", "slack.enabled = \"false\"", "slack.enabled",
			"must be true or false, not a string; write slack.enabled = false, without quotes"},
		{"an inline table's key as written", "slack = { enabled = \"false\" }", "slack.enabled",
			"must be true or false, not a string; write enabled = false, without quotes"},
		{"a local date and time for a freeze", "[[freezes]]\nfrom = 2026-12-20T00:00:00", "freezes[0].from",
			`must be a string, not a date/time; write from = "2026-12-20T00:00:00Z" (quoted, with an offset from UTC: Z, or e.g. "2026-12-20T00:00:00+01:00")`},
		{"a local date for a freeze", "[[freezes]]\nto = 2026-12-27", "freezes[0].to",
			`must be a string, not a date/time; write to = "2026-12-27T00:00:00Z" (quoted, with an offset from UTC: Z, or e.g. "2026-12-27T00:00:00+01:00")`},
		{"a local date elsewhere", "default_timezone = 2026-12-27", "default_timezone",
			"must be a string, not a date/time; write it in quotes"},
		// A table or another value for a list, and a string for a
		// boolean, say what to write with an example line: a table of
		// platforms for a list of ids as the ids it means, "yes" as true.
		{"channels as a table of platforms", "[[services]]\nname = \"a\"\nchannels = { slack = \"C0123456\", discord = [\"1122\", \"3344\"] }", "services[0].channels",
			`must be an array, not a table; write channels = ["slack:C0123456", "discord:1122", "discord:3344"] (a list of platform ids in square brackets, not a { … } table)`},
		{"channels as another table", "[[services]]\nname = \"a\"\nchannels = { ops = \"C0123456\" }", "services[0].channels",
			`must be an array, not a table; write it as a list in square brackets, not a { … } table, e.g. channels = ["slack:C0123456", "discord:112233445566778899"]`},
		{"a token in a table of platforms", "[[people]]\nname = \"a\"\nids = { slack = \"xoxb-1-secretvalue\" }", "people[0].ids",
			`must be an array, not a table; write ids = ["slack:…"] (a list of platform ids in square brackets, not a { … } table)`},
		{"cluster_addrs as a table", "[redis]\ncluster_addrs = { a = \"h1\" }", "redis.cluster_addrs",
			`must be an array, not a table; write it as a list in square brackets, not a { … } table, e.g. cluster_addrs = ["10.0.0.1:6379", "10.0.0.2:6379"]`},
		{"a list as an integer", "admins = 5", "admins",
			`must be an array, not an integer; write it as a list in square brackets, e.g. admins = ["alice"]`},
		{"enabled = \"yes\"", "[slack]\nenabled = \"yes\"", "slack.enabled",
			"must be true or false, not a string; write enabled = true (a TOML boolean: true or false, without quotes)"},
		{"enabled = \"off\" as a dotted key", "discord.enabled = \"off\"", "discord.enabled",
			"must be true or false, not a string; write discord.enabled = false (a TOML boolean: true or false, without quotes)"},
		{"enabled = 1", "[slack]\nenabled = 1", "slack.enabled",
			"must be true or false, not an integer; write enabled = true (a TOML boolean: true or false, without quotes)"},
		{"public = \"maybe\"", "[api]\npublic = \"maybe\"", "api.public",
			"must be true or false, not a string; write public = true or public = false (without quotes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, problems := loadString(t, tt.toml)
			p, ok := findProblem(problems, tt.path)
			if !ok || p.Msg != tt.want || len(problems) != 1 {
				t.Errorf("%s: got %q, want %q (all: %v)", tt.path, p.Msg, tt.want, problems)
			}
			if l := cfg.InFileOrder(problems)[0].Line; l != strings.Count(tt.toml, "\n")+1 {
				t.Errorf("line %d, want the key's, %d", l, strings.Count(tt.toml, "\n")+1)
			}
			for _, p := range problems {
				if strings.Contains(p.String(), "secretvalue") {
					t.Errorf("problem leaks a secret: %s", p)
				}
			}
		})
	}
}

// [[slack]] for [slack] is placed at its header and says how to write it.
func TestLoadTableWrittenAsArrayOfTablesIsAtItsHeader(t *testing.T) {
	cfg, problems := loadString(t, "default_timezone = \"UTC\"\n\n[[slack]]\nenabled = false\n[[server]]\n")
	var got []string
	for _, p := range cfg.InFileOrder(problems) {
		got = append(got, p.Path+"@"+strconv.Itoa(p.Line)+": "+p.Msg)
	}
	want := []string{
		"slack@3: must be a table, not an array; write [slack] (one bracket)",
		"server@5: must be a table, not an array; write [server] (one bracket)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// A // comment gets its hint on a line that mentions a URL or a token too
// (it echoes nothing of the line), and after a value or a header.
func TestLoadSlashSlashComments(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"mentions a URL", "[redis]\nurl = \"memory://\"\n// was redis://:pw@h:6379\n",
			`s.toml:3: a comment starts with #, not //; write # before the comment`},
		{"mentions a token", "// the bot_token is in the vault\n",
			`s.toml:1: a comment starts with #, not //; write # before the comment`},
		{"after a value", "[server]\nlisten = \":1\" // c\n",
			`s.toml:2: server.listen: a comment starts with #, not //; write # before the comment`},
		{"after a secret's value", "[slack]\nbot_token = \"xoxb-secretvalue\" // the bot\n",
			`s.toml:2: slack.bot_token: a comment starts with #, not //; write # before the comment`},
		{"after a header", "[server] // the listener\n",
			`s.toml:1: a comment starts with #, not //; write # before the comment`},
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
		})
	}
}

// An owner, admin, channel or id written as a URL or a token is named
// without its password, path or token.
func TestValidateNeverQuotesAPasswordOrTokenOfAnID(t *testing.T) {
	c, _ := loadString(t, `
admins = ["https://u:secretvalue@h/x", "xoxb-1-secretvalue"]
[discord]
guild_ids = ["ghp_secretvalue"]
[[people]]
name = "alice"
ids = ["https://u:secretvalue@h/x", "u:secretvalue@h"]
[[services]]
name = "a"
owners = ["https://u:secretvalue@h/x", "xoxp-secretvalue", "redis://:secretvalue@h"]
channels = ["https://hooks.example.com/services/secretvalue", "slack:xoxb-secretvalue"]
depends_on = ["xapp-secretvalue"]
`)
	vp := c.Validate()
	if len(vp) != 11 {
		t.Errorf("want a problem of each of the 11 entries, got %d: %v", len(vp), vp)
	}
	for _, p := range vp {
		if strings.Contains(p.String(), "secretvalue") {
			t.Errorf("problem leaks a secret: %s", p)
		}
	}
	if p, ok := findProblem(vp, "services[0].owners"); !ok || !strings.HasPrefix(p.Msg, `"https://h/[redacted]" has an unknown platform`) {
		t.Errorf("services[0].owners: got %q", p.Msg)
	}
}
