package config

import (
	"strings"
	"testing"
)

// A top-level key that is a section's says which section it belongs under,
// naming a secret's variables and never its value.
func TestLoadTopLevelKeyOfASectionSaysWhere(t *testing.T) {
	cfg, problems := loadString(t, `bot_token = "xoxb-1-secretvalue"
url = "redis://:secretvalue@h:6379/0"
cluster_addrs = ["10.0.0.1:6379"]
secret = "secretvalue"
colour = "red"
[slack]
enabled = false
`)
	want := map[string]string{
		"bot_token":     "unknown key at the top level: bot_token belongs under [slack] or [discord]; write it after the [slack] or [discord] header (a key above the first [table] header is a top-level key); it is a secret: better set UPGRADEBOT_SLACK_BOT_TOKEN or UPGRADEBOT_DISCORD_BOT_TOKEN in the environment instead",
		"url":           "unknown key at the top level: url belongs under [redis] or [[webhooks]]; write it after the [redis] or [[webhooks]] header (a key above the first [table] header is a top-level key)",
		"cluster_addrs": "unknown key at the top level: cluster_addrs belongs under [redis]; write it after the [redis] header (a key above the first [table] header is a top-level key)",
		"secret":        "unknown key at the top level: secret belongs under [[webhooks]]; write it after the [[webhooks]] header (a key above the first [table] header is a top-level key); it is a secret: better set UPGRADEBOT_WEBHOOKS_<N>_SECRET in the environment instead",
		"colour":        "unknown key",
	}
	wantProblems(t, problems, want)
	for i, p := range cfg.InFileOrder(problems) {
		if p.Line != i+1 || strings.Contains(p.String(), "secretvalue") {
			t.Errorf("problem %d at line %d (or leaks a value): %s", i, p.Line, p)
		}
	}
}

// The listen address is server.listen, "host:port": port, host and the
// like, under [server] or at the top level, say so with the value given.
func TestLoadListenAddressKeysPointToListen(t *testing.T) {
	tests := []struct{ toml, path, want string }{
		{"[server]\nport = 8080", "server.port",
			`unknown key: the listen address is server.listen, one "host:port" string; write listen = "127.0.0.1:8080" (":8080" listens on every interface)`},
		{"[server]\nport = \"9090\"", "server.port",
			`unknown key: the listen address is server.listen, one "host:port" string; write listen = "127.0.0.1:9090" (":9090" listens on every interface)`},
		{"[server]\nhost = \"0.0.0.0\"", "server.host",
			`unknown key: the listen address is server.listen, one "host:port" string; write listen = "0.0.0.0:8080" (":8080" listens on every interface)`},
		{"[server]\naddress = \"[::1]:81\"", "server.address",
			`unknown key: the listen address is server.listen, one "host:port" string; write listen = "[::1]:81" (":81" listens on every interface)`},
		{"[server]\nlisten = \":80\"\nport = 8080", "server.port",
			`unknown key: the listen address is server.listen, one "host:port" string, set in this table already; delete port and write the whole address in listen`},
		{"port = 9090", "port",
			`unknown key: the listen address is server.listen, one "host:port" string; write listen = "127.0.0.1:9090" after the [server] header (":9090" listens on every interface)`},
		{"[server]\nhost = \"xoxb-1-secretvalue\"", "server.host",
			`unknown key: the listen address is server.listen, one "host:port" string; write listen = "127.0.0.1:8080" (":8080" listens on every interface)`},
		{"[server]\nhost = \"user:secretvalue@h\"", "server.host",
			`unknown key: the listen address is server.listen, one "host:port" string; write listen = "127.0.0.1:8080" (":8080" listens on every interface)`},
	}
	for _, tt := range tests {
		_, problems := loadString(t, tt.toml)
		if p, ok := findProblem(problems, tt.path); !ok || p.Msg != tt.want || len(problems) != 1 {
			t.Errorf("%q: got %q, want %q (all: %v)", tt.toml, p.Msg, tt.want, problems)
		}
	}
}

// A Cluster node without a port is on Redis's default port, 6379 (the
// store dials it there), as a Sentinel without one is on 26379.
func TestValidateClusterAddrWithoutPortIsOnTheDefault(t *testing.T) {
	c := validConfig()
	c.Redis.URL = ""
	c.Redis.ClusterAddrs = []string{"10.0.0.1", "redis-2.internal", "[::1]", "[fe80::1%eth0]", "[fe80::1%eth0]:7000", "10.0.0.5:7000", "token-cache.internal"}
	if problems := c.Validate(); len(problems) != 0 {
		t.Fatalf("problems: %v", problems)
	}
	cfg, problems := loadString(t, "[redis]\ncluster_addrs = [\"10.0.0.1\", \"10.0.0.2\"]\n")
	if len(problems) != 0 || len(cfg.Validate()) != 0 {
		t.Fatalf("problems: %v %v", problems, cfg.Validate())
	}
}

// Review: an IPv6 node without brackets passed ("::1:7000", dialled as
// [::1:7000]:6379): it cannot say where its port begins, and is refused
// with what to write; a Sentinel host too. A zone is not the port.
func TestValidateUnbracketedIPv6IsRefused(t *testing.T) {
	for a, want := range map[string]string{
		"::1:7000":           `"::1:7000" is an IPv6 address without brackets: write "[::1]:7000" for port 7000, or "[::1:7000]" for ::1:7000 on port 6379`,
		"::1":                `"::1" is an IPv6 address without brackets: write "[::1]" (port 6379), or with its port, e.g. "[::1]:6379"`,
		"fe80::1%eth0:7000":  `write "[fe80::1%eth0]:7000" for port 7000`,
		"2001:db8::7:6380":   `write "[2001:db8::7]:6380" for port 6380, or "[2001:db8::7:6380]" for 2001:db8::7:6380 on port 6379`,
		"[fe80::1%eth 0]:70": "must be host[:port]",
		"[fe80::1%a/b]":      "must be host[:port]",
		"a:b:c":              "must be host[:port]",
	} {
		c := validConfig()
		c.Redis.URL = ""
		c.Redis.ClusterAddrs = []string{"10.0.0.1", a}
		problems := c.Validate()
		if len(problems) != 1 || problems[0].Path != "redis.cluster_addrs[1]" || !strings.Contains(problems[0].Msg, want) {
			t.Errorf("cluster_addrs %q: %v; want one problem of redis.cluster_addrs[1] holding %q", a, problems, want)
		}
	}
	for url, want := range map[string]string{
		"redis+sentinel://s1,::1:26380/mymaster":                        `"::1:26380" is an IPv6 address without brackets: write "[::1]:26380" for port 26380, e.g. redis+sentinel://`,
		"redis+sentinel://::1:2638/mymaster":                            `write "[::1]:2638" for port 2638, or "[::1:2638]" for ::1:2638 on port 26379`,
		"redis+sentinel://[fe80::1%eth0]:26380,[fe80::2%eth0]/mymaster": "",
		"redis+sentinel://[::1],[::2]:26380/mymaster":                   "",
	} {
		c := validConfig()
		c.Redis.URL = url
		problems := c.Validate()
		if want == "" && len(problems) != 0 || want != "" && (len(problems) != 1 || problems[0].Path != "redis.url" || !strings.Contains(problems[0].Msg, want)) {
			t.Errorf("url %q: %v; want %q", url, problems, want)
		}
	}
}

// A secret given both in the file and by its variable: the environment's
// is used, and the warning says so, without either value.
func TestSecretInFileAndEnvironmentWarns(t *testing.T) {
	data := `[redis]
url = "redis://:FILEPW@127.0.0.1:6379/0"
[slack]
bot_token = "xoxb-FILE"
app_token = "xapp-FILE"
[[webhooks]]
url = "https://hooks.example.com/x"
secret = "FILE-SECRET"
`
	cfg, problems := loadString(t, data, "UPGRADEBOT_SLACK_BOT_TOKEN=xoxb-ENV", "UPGRADEBOT_WEBHOOKS_0_SECRET=ENV-SECRET",
		"UPGRADEBOT_REDIS_URL=redis://:ENVPW@127.0.0.1:6379/0", "UPGRADEBOT_SLACK_SIGNING_SECRET=ENV-ONLY")
	if len(problems) != 0 || cfg.Slack.BotToken != "xoxb-ENV" || cfg.Webhooks[0].Secret != "ENV-SECRET" {
		t.Fatalf("problems %v, bot token %q, webhook secret %q", problems, cfg.Slack.BotToken, cfg.Webhooks[0].Secret)
	}
	want := []string{
		"slack.bot_token is a secret given both in the file and in the environment variable UPGRADEBOT_SLACK_BOT_TOKEN: the environment's value is used, the file's is ignored; delete it from the file (secrets belong in the environment; docs/deploy.md)",
		"slack.app_token is a secret written in the file: move it to the environment variable UPGRADEBOT_SLACK_APP_TOKEN (secrets belong there, not in the file; docs/deploy.md)",
		"webhooks[0].secret is a secret given both in the file and in the environment variable UPGRADEBOT_WEBHOOKS_0_SECRET: the environment's value is used, the file's is ignored; delete it from the file (secrets belong in the environment; docs/deploy.md)",
		"redis.url holds a password in the file and is given in the environment variable UPGRADEBOT_REDIS_URL too: the environment's value is used, the file's is ignored; delete it from the file (secrets belong in the environment; docs/redis.md)",
	}
	got := cfg.SecretInFileWarnings()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, w := range got {
		if strings.Contains(w, "FILE") || strings.Contains(w, "ENV-") || strings.Contains(w, "PW") {
			t.Errorf("a warning shows a value: %s", w)
		}
	}
	// A redis.url without a password in the file, replaced by the
	// environment's, holds no secret of the file: nothing to say.
	cfg, _ = loadString(t, "[redis]\nurl = \"redis://127.0.0.1:6379/0\"\n", "UPGRADEBOT_REDIS_URL=redis://:ENVPW@127.0.0.1:6379/0")
	if got := cfg.SecretInFileWarnings(); len(got) != 0 {
		t.Errorf("warnings: %v", got)
	}
}

// A freeze's from and to may be TOML offset date-times, unquoted: the
// instant the quoted form names. A local one (no offset) is refused with
// the quoted form as the hint, as a quoted one without an offset is.
func TestLoadFreezeTakesATOMLDateTime(t *testing.T) {
	cfg, problems := loadString(t, `[[freezes]]
name = "year-end"
from = 2026-12-24T00:00:00Z
to = 2027-01-04T00:00:00.5+01:00
services = ["*"]
`)
	if len(problems) != 0 || cfg.Freezes[0].From != "2026-12-24T00:00:00Z" || cfg.Freezes[0].To != "2027-01-04T00:00:00.5+01:00" {
		t.Fatalf("problems %v, from %q, to %q", problems, cfg.Freezes[0].From, cfg.Freezes[0].To)
	}
	c := validConfig()
	c.Freezes = cfg.Freezes
	if problems := c.Validate(); len(problems) != 0 {
		t.Fatalf("validate: %v", problems)
	}
	_, problems = loadString(t, "[[freezes]]\nfrom = 2026-12-24T00:00:00")
	if p, _ := findProblem(problems, "freezes[0].from"); !strings.Contains(p.Msg, `write from = "2026-12-24T00:00:00Z" (quoted, with an offset from UTC`) {
		t.Errorf("a local date-time: %v", problems)
	}
}

// An inline table with an unquoted value for a list is invalid TOML; the
// syntax error says the key takes a list, with an example line.
func TestSyntaxErrorOfATableForAList(t *testing.T) {
	_, _, err := LoadBytes([]byte("[[services]]\nname = \"a\"\nchannels = {slack = C0123456}\n"), nil)
	want := `line 3: services[0].channels: expected value but found "C" instead; channels takes a list in square brackets, not a { … } table; write it as e.g. channels = ["slack:C0123456", "discord:112233445566778899"]`
	if err == nil || err.Error() != "config: "+want {
		t.Errorf("got %v, want %s", err, want)
	}
}
