package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// validConfig is a small configuration with no problems, mutated by each case.
func validConfig() Config {
	c := Default()
	c.Admins = []string{"alice"}
	c.People = []Person{
		{Name: "alice", IDs: []string{"slack:U012AB3CD", "discord:80351110224678912"}},
		{Name: "bob", IDs: []string{"slack:W023BC4DE", "console:bob"}},
	}
	c.Services = []Service{
		{Name: "payments", Owners: []string{"alice", "slack:S04XYZ", "discord:&1122"}, Channels: []string{"slack:C0123456", "discord:112233445566778899"}, DependsOn: []string{"ledger"}, Repo: "acme/payments"},
		{Name: "ledger", Owners: []string{"bob"}, Channels: []string{"console:ops"}},
	}
	return c
}

func TestValidConfig(t *testing.T) {
	if got := validConfig().Validate(); len(got) != 0 {
		t.Fatalf("Validate() = %v", got)
	}
}

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
	}{
		{"slack socket", func(c *Config) {
			c.Slack = Slack{Enabled: true, Mode: "socket", BotToken: "xoxb-1", AppToken: "xapp-1", Command: "/upgrade"}
		}},
		{"slack http", func(c *Config) {
			c.Slack = Slack{Enabled: true, Mode: "http", BotToken: "xoxb-1", SigningSecret: "s", Command: "/deploy-window", APIURL: "http://127.0.0.1:1/api/"}
		}},
		{"discord gateway", func(c *Config) {
			c.Discord = Discord{Enabled: true, Mode: "gateway", BotToken: "MTIz.AbC-d_e.x9", ApplicationID: "123456789", GuildIDs: []string{"42"}}
		}},
		{"discord http", func(c *Config) {
			c.Discord = Discord{Enabled: true, Mode: "http", BotToken: "MTIz.AbC-d_e.x9", ApplicationID: "123", PublicKey: strings.Repeat("aB", 32)}
		}},
		{"disabled platforms ignore missing secrets", func(c *Config) { c.Slack.Mode = "http"; c.Discord.Mode = "http" }},
		{"memory redis", func(c *Config) { c.Redis.URL = "memory://" }},
		{"rediss", func(c *Config) { c.Redis.URL = "rediss://:pw@redis.example.com:6380/1" }},
		{"sentinel", func(c *Config) { c.Redis.URL = "redis+sentinel://s1:26379,s2:26379/mymaster" }},
		// docs/redis.md: a Sentinel without a port gets 26379, wherever it is in the list (QA).
		{"sentinel hosts without a port", func(c *Config) { c.Redis.URL = "redis+sentinel://:pw@sentinel-1:26379,sentinel-2/mymaster/0" }},
		{"sentinel ipv6 hosts", func(c *Config) { c.Redis.URL = "redis+sentinel://[::1],[::2]:26380/mymaster?sentinel_password=p@ss" }},
		{"unix", func(c *Config) { c.Redis.URL = "unix:///run/redis.sock" }},
		{"cluster", func(c *Config) { c.Redis.URL = ""; c.Redis.ClusterAddrs = []string{"10.0.0.1:6379", "[::1]:6379"} }},
		{"webhook", func(c *Config) { c.Webhooks = []Webhook{{URL: "https://hooks.example.com/x", Secret: "s"}} }},
		{"public url", func(c *Config) { c.Server.PublicURL = "https://upgrades.example.com" }},
		{"listen any", func(c *Config) { c.Server.Listen = ":8080" }},
		{"github enterprise", func(c *Config) { c.GitHub.APIURL = "https://ghe.example.com/api/v3/" }},
		{"short ids, as tests and fakes use", func(c *Config) {
			c.People = []Person{{Name: "alice", IDs: []string{"slack:U1", "slack:W2", "discord:1"}}, {Name: "bob", IDs: []string{"console:bob"}}}
			c.Services[0].Owners = []string{"alice", "slack:S1", "discord:&2"}
			c.Services[0].Channels = []string{"slack:C1", "slack:G1", "slack:D1", "discord:3"}
			c.Admins = []string{"slack:U1", "slack:S2", "discord:&2"}
		}},
		{"admins by id", func(c *Config) {
			c.Admins = []string{"slack:U9999", "slack:S1234", "discord:&55", "discord:77", "console:root"}
		}},
		{"no reminders", func(c *Config) { c.Reminders.Before = nil }},
		{"zone", func(c *Config) { c.DefaultTimezone = "America/Argentina/Buenos_Aires" }},
		{"repo with dots", func(c *Config) { c.Services[0].Repo = "my-org/my.repo_name" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mutate(&c)
			if got := c.Validate(); len(got) != 0 {
				t.Fatalf("Validate() = %v", got)
			}
		})
	}
}

func TestValidateProblems(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		path   string
		msg    string // contained in Msg
	}{
		// top level
		{"time zone", func(c *Config) { c.DefaultTimezone = "Europe/Berln" }, "default_timezone", `unknown time zone "Europe/Berln"`},
		{"time zone empty", func(c *Config) { c.DefaultTimezone = "" }, "default_timezone", "required"},
		{"time zone Local", func(c *Config) { c.DefaultTimezone = "Local" }, "default_timezone", `not "Local"`},
		{"admin unknown person", func(c *Config) { c.Admins = []string{"alicia"} }, "admins", `unknown person "alicia"`},
		{"admin person in another case", func(c *Config) { c.Admins = []string{"Alice"} }, "admins", `unknown person "Alice" (a bare name must match a [[people]] name; did you mean "alice"?)`},
		{"admin bad id", func(c *Config) { c.Admins = []string{"slack:u1"} }, "admins", `"slack:u1" is not a Slack id`},
		{"admin channel", func(c *Config) { c.Admins = []string{"slack:C0123456"} }, "admins", `"slack:C0123456" is a channel`},
		{"max_window zero", func(c *Config) { c.MaxWindow = 0 }, "max_window", "must be greater than 0"},
		{"retention negative", func(c *Config) { c.Retention = -time.Hour }, "retention", "must be greater than 0"},
		{"max_lead zero", func(c *Config) { c.MaxLead = 0 }, "max_lead", "must be greater than 0"},
		{"early_start negative", func(c *Config) { c.EarlyStart = -time.Minute }, "early_start", "must not be negative"},
		{"person's zone unknown", func(c *Config) { c.People[0].Timezone = "Mars/Olympus" }, "people[0].timezone", `unknown time zone "Mars/Olympus"`},

		// server
		{"listen empty", func(c *Config) { c.Server.Listen = "" }, "server.listen", "required"},
		{"listen no port", func(c *Config) { c.Server.Listen = "localhost" }, "server.listen", "host:port"},
		{"public url relative", func(c *Config) { c.Server.PublicURL = "upgrades.example.com" }, "server.public_url", "absolute"},

		// redis
		{"redis scheme", func(c *Config) { c.Redis.URL = "http://127.0.0.1:6379" }, "redis.url", "scheme must be redis://"},
		{"redis not a url", func(c *Config) { c.Redis.URL = "127.0.0.1:6379" }, "redis.url", ""},
		{"redis no host", func(c *Config) { c.Redis.URL = "redis:///0" }, "redis.url", "must name a host"},
		{"redis unix no path", func(c *Config) { c.Redis.URL = "unix://" }, "redis.url", "socket path"},
		{"redis both", func(c *Config) { c.Redis.ClusterAddrs = []string{"a:1"} }, "redis.url", "must be empty when redis.cluster_addrs is set"},
		{"redis neither", func(c *Config) { c.Redis.URL = "" }, "redis.url", "required"},
		{"cluster addr", func(c *Config) { c.Redis.URL = ""; c.Redis.ClusterAddrs = []string{"a:1", "b:1:2"} }, "redis.cluster_addrs[1]", "must be host[:port] (the port defaults to 6379)"},
		{"cluster addr empty", func(c *Config) { c.Redis.URL = ""; c.Redis.ClusterAddrs = []string{"a:1", ""} }, "redis.cluster_addrs[1]", "must be host[:port]"},
		{"cluster addr with a password", func(c *Config) { c.Redis.URL = ""; c.Redis.ClusterAddrs = []string{"pw@a"} }, "redis.cluster_addrs[0]", "must be host[:port]"},
		{"listen port", func(c *Config) { c.Server.Listen = ":99999" }, "server.listen", `the port "99999" is not a port`},
		{"redis database", func(c *Config) { c.Redis.URL = "redis://127.0.0.1:6379/abc" }, "redis.url", `the database "abc" is not a number`},
		{"redis pool size", func(c *Config) { c.Redis.URL = "redis://127.0.0.1:6379/6?pool_size=abc" }, "redis.url", `pool_size "abc" must be a whole number`},
		// serve refused these, check-config said ok (QA).
		{"redis unknown option", func(c *Config) { c.Redis.URL = "redis://:pw@127.0.0.1:6379/6?foo=1" }, "redis.url", `unexpected option: foo`},
		{"unix pool size", func(c *Config) { c.Redis.URL = "unix:///run/redis.sock?pool_size=abc" }, "redis.url", `pool_size "abc" must be a whole number`},
		{"redis port out of range", func(c *Config) { c.Redis.URL = "redis://:pw@127.0.0.1:99999/0" }, "redis.url", `the port "99999" is not a port`},
		{"sentinel port out of range", func(c *Config) { c.Redis.URL = "redis+sentinel://10.0.0.1:26379,10.0.0.2:0/mymaster" }, "redis.url", `the port "0" is not a port`},
		{"cluster port out of range", func(c *Config) { c.Redis.URL = ""; c.Redis.ClusterAddrs = []string{"10.0.0.1:70000"} }, "redis.cluster_addrs[0]", `the port "70000" is not a port`},
		{"unix unknown option", func(c *Config) { c.Redis.URL = "unix:///run/redis.sock?foo=1" }, "redis.url", `unexpected option: foo`},
		{"sentinel unknown parameter", func(c *Config) { c.Redis.URL = "redis+sentinel://127.0.0.1:26379/mymaster/0?foo=1" }, "redis.url",
			`unknown query parameter "foo": a redis+sentinel:// URL takes only sentinel_username, sentinel_password and pool_size`},
		{"sentinel bad host named", func(c *Config) { c.Redis.URL = "redis+sentinel://:pw@s1:26379,s2:2x,s3/mymaster" }, "redis.url", `the host "s2:2x" is not host[:port]`},
		{"sentinel port out of range named", func(c *Config) { c.Redis.URL = "redis+sentinel://:pw@s1,s2:0/mymaster" }, "redis.url", `the port "0" is not a port (1 to 65535) in the host "s2:0"`},
		{"redis bad host named", func(c *Config) { c.Redis.URL = "redis://:pw@h:2x/0" }, "redis.url", `the host "h:2x" is not host[:port]`},
		{"redis several hosts", func(c *Config) { c.Redis.URL = "redis://:pw@a:6379,b:6379/0" }, "redis.url", "names 2 hosts: a redis:// URL takes one"},
		{"redis prefix", func(c *Config) { c.Redis.Prefix = "" }, "redis.prefix", "required"},
		{"redis prefix spaces", func(c *Config) { c.Redis.Prefix = "my bot" }, "redis.prefix", "spaces"},

		// slack
		{"slack bot token", func(c *Config) { c.Slack.Enabled = true; c.Slack.AppToken = "xapp-1" }, "slack.bot_token", "required when slack.enabled = true"},
		{"slack bot token prefix", func(c *Config) { c.Slack.BotToken = "xoxp-1" }, "slack.bot_token", "must be a bot token (xoxb-...)"},
		{"slack mode", func(c *Config) { c.Slack.Mode = "sockets" }, "slack.mode", `must be "socket" or "http"`},
		{"slack app token", func(c *Config) { c.Slack.Enabled = true; c.Slack.BotToken = "xoxb-1" }, "slack.app_token", "required in socket mode (xapp-...)"},
		{"slack app token prefix", func(c *Config) { c.Slack.AppToken = "xoxb-1" }, "slack.app_token", "xapp-"},
		{"slack signing secret", func(c *Config) {
			c.Slack = Slack{Enabled: true, Mode: "http", BotToken: "xoxb-1", Command: "/upgrade"}
		}, "slack.signing_secret", "required in http mode"},
		{"slack api url", func(c *Config) { c.Slack.APIURL = "/api/" }, "slack.api_url", "absolute"},
		{"slack command", func(c *Config) { c.Slack.Command = "upgrade" }, "slack.command", "slash command"},
		{"slack command required", func(c *Config) {
			c.Slack = Slack{Enabled: true, Mode: "socket", BotToken: "xoxb-1", AppToken: "xapp-1"}
		}, "slack.command", "required"},

		// discord
		{"discord mode", func(c *Config) { c.Discord.Mode = "socket" }, "discord.mode", `must be "gateway" or "http"`},
		{"discord bot token", func(c *Config) { c.Discord.Enabled = true; c.Discord.ApplicationID = "1" }, "discord.bot_token", "required when discord.enabled = true"},
		{"discord application id", func(c *Config) { c.Discord.Enabled = true; c.Discord.BotToken = "a.b.c" }, "discord.application_id", "required when discord.enabled = true"},
		{"discord bot token with Bot", func(c *Config) { c.Discord.BotToken = "Bot a.b.c" }, "discord.bot_token", `leave out the "Bot " prefix`},
		{"discord bot token shape", func(c *Config) { c.Discord.BotToken = "not a token" }, "discord.bot_token", "does not look like a Discord bot token"},
		{"discord application id digits", func(c *Config) { c.Discord.ApplicationID = "abc" }, "discord.application_id", "snowflake"},
		{"discord public key required", func(c *Config) {
			c.Discord = Discord{Enabled: true, Mode: "http", BotToken: "t", ApplicationID: "1"}
		}, "discord.public_key", "required in http mode"},
		{"discord public key short", func(c *Config) { c.Discord.PublicKey = strings.Repeat("a", 63) }, "discord.public_key", "64 hex characters"},
		{"discord public key not hex", func(c *Config) { c.Discord.PublicKey = strings.Repeat("g", 64) }, "discord.public_key", "64 hex characters"},
		{"discord guild", func(c *Config) { c.Discord.GuildIDs = []string{"1", "guild"} }, "discord.guild_ids[1]", `"guild" is not a snowflake`},
		{"discord api url", func(c *Config) { c.Discord.APIURL = "discord.com/api" }, "discord.api_url", "absolute"},

		// github
		{"github api url", func(c *Config) { c.GitHub.APIURL = "ftp://ghe.example.com/" }, "github.api_url", "absolute"},

		// reminders
		{"reminder zero", func(c *Config) { c.Reminders.Before = []time.Duration{time.Hour, 0} }, "reminders.before[1]", "must be greater than 0"},
		{"reminder duplicate", func(c *Config) { c.Reminders.Before = []time.Duration{72 * time.Hour, time.Hour, 72 * time.Hour} }, "reminders.before", "72h listed twice"},
		{"prefix with a hash tag", func(c *Config) { c.Redis.Prefix = "up{grade}bot" }, "redis.prefix", "must not contain { or }"},
		{"escalate_after", func(c *Config) { c.Reminders.EscalateAfter = 0 }, "reminders.escalate_after", "must be greater than 0"},
		{"default_duration", func(c *Config) { c.Reminders.DefaultDuration = -time.Minute }, "reminders.default_duration", "must be greater than 0"},
		{"default_duration over max_window", func(c *Config) { c.Reminders.DefaultDuration = 25 * time.Hour }, "reminders.default_duration", "longer than max_window (24h)"},

		// api
		{"api token empty", func(c *Config) { c.API.Tokens = []string{"tok", " "} }, "api.tokens", "entry 2 is empty"},

		// webhooks
		{"webhook url relative", func(c *Config) { c.Webhooks = []Webhook{{URL: "hooks/x", Secret: "s"}} }, "webhooks[0].url", "absolute"},
		{"webhook url scheme", func(c *Config) {
			c.Webhooks = []Webhook{{URL: "https://a.example.com", Secret: "s"}, {URL: "ftp://a.example.com", Secret: "s"}}
		}, "webhooks[1].url", "absolute http:// or https:// URL"},
		{"webhook url empty", func(c *Config) { c.Webhooks = []Webhook{{Secret: "s"}} }, "webhooks[0].url", "required"},
		{"webhook secret", func(c *Config) { c.Webhooks = []Webhook{{URL: "https://a.example.com"}} }, "webhooks[0].secret", "UPGRADEBOT_WEBHOOKS_0_SECRET"},

		// people
		{"person name empty", func(c *Config) { c.People[1].Name = "" }, "people[1].name", "required"},
		{"person name syntax", func(c *Config) { c.People = append(c.People, Person{Name: "slack:U1"}) }, "people[2].name", "one word"},
		{"person duplicate", func(c *Config) { c.People = append(c.People, Person{Name: "alice"}) }, "people[2].name", `duplicate person "alice" (first at people[0])`},
		{"person bad id", func(c *Config) { c.People[0].IDs = []string{"slack:U1X", "discord:12ab"} }, "people[0].ids", `"discord:12ab" is not a Discord id`},
		{"person group id", func(c *Config) { c.People[0].IDs = []string{"slack:S04XYZ"} }, "people[0].ids", `"slack:S04XYZ" is a user group`},
		{"person role id", func(c *Config) { c.People[0].IDs = []string{"discord:&123"} }, "people[0].ids", `"discord:&123" is a role`},
		{"person channel id", func(c *Config) { c.People[0].IDs = []string{"slack:C0123456"} }, "people[0].ids", `"slack:C0123456" is a channel`},
		{"person short channel id", func(c *Config) { c.People[0].IDs = []string{"slack:C1"} }, "people[0].ids", `"slack:C1" is a channel`},
		{"person short group id", func(c *Config) { c.People[0].IDs = []string{"slack:S1"} }, "people[0].ids", `"slack:S1" is a user group`},
		{"person lower-case id", func(c *Config) { c.People[0].IDs = []string{"slack:u1"} }, "people[0].ids", `"slack:u1" is not a Slack id`},
		{"id claimed twice", func(c *Config) { c.People[1].IDs = []string{"slack:U012AB3CD"} }, "people[1].ids", `"slack:U012AB3CD" already belongs to "alice"`},
		{"id listed twice", func(c *Config) { c.People[1].IDs = []string{"console:bob", "console:bob"} }, "people[1].ids", `"console:bob" listed twice`},

		// services
		{"unknown dependency", func(c *Config) {
			c.Services = append(c.Services, Service{Name: "checkout", DependsOn: []string{"ledgr"}})
		}, "services[2].depends_on", `unknown service "ledgr"`},
		{"dependency case", func(c *Config) { c.Services[0].DependsOn = []string{"Ledger"} }, "services[0].depends_on", `unknown service "Ledger" (did you mean "ledger"?)`},
		{"dependency twice", func(c *Config) { c.Services[0].DependsOn = []string{"ledger", "ledger"} }, "services[0].depends_on", `"ledger" listed twice`},
		{"service name empty", func(c *Config) { c.Services[1].Name = "" }, "services[1].name", "required"},
		{"service name syntax", func(c *Config) { c.Services[1].Name = "the ledger" }, "services[1].name", "one word"},
		{"duplicate service", func(c *Config) { c.Services = append(c.Services, Service{Name: "payments"}) }, "services[2].name", `duplicate service "payments" (first at services[0])`},
		{"duplicate service case", func(c *Config) { c.Services = append(c.Services, Service{Name: "Payments"}) }, "services[2].name", `duplicate service "Payments"`},
		{"owner unknown person", func(c *Config) { c.Services[1].Owners = []string{"bobb"} }, "services[1].owners", `unknown person "bobb"`},
		{"owner person case", func(c *Config) { c.Services[1].Owners = []string{"Bob"} }, "services[1].owners", `did you mean "bob"?`},
		{"owner bad slack id", func(c *Config) { c.Services[1].Owners = []string{"slack:U"} }, "services[1].owners", `"slack:U" is not a Slack id`},
		{"owner channel", func(c *Config) { c.Services[1].Owners = []string{"slack:G0123456"} }, "services[1].owners", `"slack:G0123456" is a channel`},
		{"owner unknown platform", func(c *Config) { c.Services[1].Owners = []string{"teams:42"} }, "services[1].owners", "unknown platform"},
		{"channel user", func(c *Config) { c.Services[1].Channels = []string{"slack:U012AB3CD"} }, "services[1].channels", `"slack:U012AB3CD" is a user`},
		{"channel short user", func(c *Config) { c.Services[1].Channels = []string{"slack:U1"} }, "services[1].channels", `"slack:U1" is a user`},
		{"channel short wrong letter", func(c *Config) { c.Services[1].Channels = []string{"slack:X1"} }, "services[1].channels", `"slack:X1" is not a Slack id`},
		{"channel short role", func(c *Config) { c.Services[1].Channels = []string{"discord:&2"} }, "services[1].channels", `"discord:&2" is a role`},
		{"channel role", func(c *Config) { c.Services[1].Channels = []string{"discord:&42"} }, "services[1].channels", `"discord:&42" is a role`},
		{"channel group", func(c *Config) { c.Services[1].Channels = []string{"slack:S04XYZ"} }, "services[1].channels", "is a user group"},
		{"channel bare word", func(c *Config) { c.Services[1].Channels = []string{"ops"} }, "services[1].channels", `"ops" is not a platform id`},
		{"repo shape", func(c *Config) { c.Services[1].Repo = "ledger" }, "services[1].repo", "owner/name"},
		{"repo url", func(c *Config) { c.Services[1].Repo = "https://github.com/acme/ledger" }, "services[1].repo", "owner/name"},
		{"self dependency", func(c *Config) { c.Services[1].DependsOn = []string{"ledger"} }, "services", "dependency cycle ledger -> ledger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mutate(&c)
			problems := c.Validate()
			p, ok := findProblem(problems, tt.path)
			if !ok {
				t.Fatalf("no problem at %q; got %v", tt.path, problems)
			}
			if !strings.Contains(p.Msg, tt.msg) {
				t.Fatalf("%s: msg %q does not contain %q", tt.path, p.Msg, tt.msg)
			}
		})
	}
}

// The messages quoted in the contract, word for word.
func TestValidateExactMessages(t *testing.T) {
	c := validConfig()
	c.DefaultTimezone = "Europe/Berln"
	c.Services = []Service{
		{Name: "payments", DependsOn: []string{"ledger"}},
		{Name: "ledger", DependsOn: []string{"payments", "ledgr"}},
	}
	c.Slack.Enabled = true
	c.Slack.Mode = "socket"
	want := []string{
		`default_timezone: unknown time zone "Europe/Berln"`,
		`slack.bot_token: required when slack.enabled = true`,
		`slack.app_token: required in socket mode (xapp-...)`,
		`services[1].depends_on: unknown service "ledgr"`,
		`services: dependency cycle payments -> ledger -> payments`,
	}
	var got []string
	for _, p := range c.Validate() {
		got = append(got, p.String())
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestValidateDiscord: every Discord problem at once, each with its key
// path, and never the token itself.
func TestValidateDiscord(t *testing.T) {
	c := validConfig()
	c.Discord = Discord{Enabled: true, Mode: "http", BotToken: "SEKRIT token", ApplicationID: "app", PublicKey: strings.Repeat("ab", 31),
		GuildIDs: []string{"42", "guild", "4x"}}
	var got []string
	for _, p := range c.Validate() {
		got = append(got, p.String())
	}
	want := []string{
		"discord.bot_token: does not look like a Discord bot token (three parts joined by dots, from the Bot page of the developer portal)",
		"discord.application_id: must be a snowflake (digits)",
		"discord.public_key: must be 64 hex characters (the application's 32-byte Ed25519 public key)",
		`discord.guild_ids[1]: "guild" is not a snowflake (digits)`,
		`discord.guild_ids[2]: "4x" is not a snowflake (digits)`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestValidateCycles(t *testing.T) {
	c := validConfig()
	c.Services = []Service{
		{Name: "a", DependsOn: []string{"b"}},
		{Name: "b", DependsOn: []string{"c"}},
		{Name: "c", DependsOn: []string{"a", "d"}},
		{Name: "d"},
		{Name: "e", DependsOn: []string{"f"}},
		{Name: "f", DependsOn: []string{"e"}},
		{Name: "g", DependsOn: []string{"a", "d"}}, // depends on a cycle: not a cycle itself
	}
	var got []string
	for _, p := range c.Validate() {
		got = append(got, p.String())
	}
	want := []string{
		"services: dependency cycle a -> b -> c -> a",
		"services: dependency cycle e -> f -> e",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestValidateDeterministic(t *testing.T) {
	c := validConfig()
	c.Admins = []string{"x", "y", "Alice"}
	c.People = append(c.People, Person{Name: "ALICE"}, Person{Name: "Alice"})
	c.Services = append(c.Services, Service{Name: "x", DependsOn: []string{"PAYMENTS", "y", "z"}})
	first := c.Validate()
	for range 20 {
		if again := c.Validate(); !slices.Equal(first, again) {
			t.Fatalf("problems differ between runs:\n%v\n%v", first, again)
		}
	}
}

// TestValidateOneProblemPerBadPoolSize: a bad pool_size is one problem, in
// its own words (QA saw go-redis's parse error beside it).
func TestValidateOneProblemPerBadPoolSize(t *testing.T) {
	c := validConfig()
	c.Redis.URL = "redis://127.0.0.1:6379/6?pool_size=abc"
	var n int
	for _, p := range c.Validate() {
		if p.Path == "redis.url" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d problems at redis.url: %v", n, c.Validate())
	}
}

// Service names are case-insensitive: a name that differs from an earlier
// one in case alone is a duplicate, said against the first of them.
func TestValidateServiceNamesAreCaseInsensitive(t *testing.T) {
	c := validConfig()
	c.Services = append(c.Services, Service{Name: "Payments"}, Service{Name: "LEDGER"}, Service{Name: "payments"}, Service{Name: "PAYMENTS"})
	var got []string
	for _, p := range c.Validate() {
		if strings.HasSuffix(p.Path, ".name") {
			got = append(got, p.String())
		}
	}
	want := []string{
		`services[2].name: duplicate service "Payments" (same as "payments" at services[0], names are case-insensitive)`,
		`services[3].name: duplicate service "LEDGER" (same as "ledger" at services[1], names are case-insensitive)`,
		`services[4].name: duplicate service "payments" (first at services[0])`,
		`services[5].name: duplicate service "PAYMENTS" (same as "payments" at services[0], names are case-insensitive)`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestValidateRedisURLNeverQuotesAPassword: a / ? or # in a password that
// is not percent-encoded ends the user part early for url.Parse, so the
// rest of the password passes for a host, a database or a parameter; the
// problem says how to write it and quotes none of it.
func TestValidateRedisURLNeverQuotesAPassword(t *testing.T) {
	for _, u := range []string{
		"redis://:xq7/zz9k@h:6379/0",
		"redis://xq7/zz9k@h/0",
		"redis+sentinel://:xq7?zz9k@s1,s2/mymaster",
		"redis+sentinel://:xq7/zz9k@s1:26379,s2/mymaster",
		"rediss://:xq7#zz9k@h/0",
	} {
		c := validConfig()
		c.Redis.URL = u
		p, ok := findProblem(c.Validate(), "redis.url")
		if !ok || !strings.Contains(p.Msg, "must be written %2F, %3F or %23") || strings.Contains(p.Msg, "xq7") || strings.Contains(p.Msg, "zz9k") {
			t.Errorf("%s: %v %q", u, ok, p.Msg)
		}
	}
}
