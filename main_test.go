package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/config"
	"github.com/upgradebot/upgradebot/store/storetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// consoleNow pins the console clock so transcripts are stable.
const consoleNow = "UPGRADEBOT_CONSOLE_NOW=2026-11-22T10:00:00Z"

func runMain(t *testing.T, stdin string, environ []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), nil, args, strings.NewReader(stdin), &out, &errb, environ)
	return out.String(), errb.String(), code
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "console", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file; diff it with -update and git diff.\n--- got ---\n%s", path, got)
	}
}

// TestConsoleScripts runs each testdata/console/*.txt through
// `upgradebot console` (stdin not a terminal: script mode) and compares the
// transcript with its golden file. A script runs on the built-in demo
// configuration, or on the configuration file of the same name (.toml).
func TestConsoleScripts(t *testing.T) {
	scripts, _ := filepath.Glob("testdata/console/*.txt")
	if len(scripts) == 0 {
		t.Fatal("no console scripts")
	}
	for _, script := range scripts {
		name := strings.TrimSuffix(filepath.Base(script), ".txt")
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(script)
			if err != nil {
				t.Fatal(err)
			}
			args := []string{"console"}
			if cfg := strings.TrimSuffix(script, ".txt") + ".toml"; fileExists(cfg) {
				args = append(args, "-config", cfg)
			}
			out, errOut, code := runMain(t, string(in), []string{consoleNow}, args...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr:\n%s", code, errOut)
			}
			golden(t, name, out)
		})
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestConsoleDryRunsARealConfiguration: with services that post only to
// Slack and Slack disabled, the console still shows every message the bot
// would send: the root with its blast radius and Acknowledge button, the
// acknowledgment line after presses, the rollback alert to the whole
// audience, and escalations to the people behind the Slack ids.
func TestConsoleDryRunsARealConfiguration(t *testing.T) {
	in, _ := os.ReadFile("testdata/console/dryrun.txt")
	out, errOut, code := runMain(t, string(in), []string{consoleNow}, "console", "-config", "testdata/console/dryrun.toml")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	for _, want := range []string{
		"── slack:C0PAYMENTS · new message m1",        // the root, where Slack would post it
		"── slack:C0OPS · new message m2",             // and in the service's second channel
		"Blast radius: checkout",                      // the pre-brief's blast radius
		"[ Acknowledge ]  (:press UPG-1 brief)",       // its button
		"Acknowledged 2/3 · waiting for @alice",       // after two presses
		"you are now U0CAROL (slack:U0CAROL)",         // :as takes a person the configuration names by id
		"🚨 ROLLBACK: UPG-1 payments v2.4.0",           // the rollback alert
		"@alice @bob @U0CAROL please acknowledge.",    // to the whole audience
		"── direct message to @alice (slack:U0ALICE)", // escalation to the person behind the id
		"── direct message to @bob (slack:U0BOB)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the dry run lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "no platform of this bot posts") {
		t.Errorf("the console refused a platform:\n%s", out)
	}
}

func TestConsoleStoryMatchesSpec(t *testing.T) {
	in, _ := os.ReadFile("testdata/console/story.txt")
	out, _, _ := runMain(t, string(in), []string{consoleNow}, "console")
	for _, want := range []string{
		"── #payments · new message m1",                                          // root in the service's channel
		"Blast radius: checkout",                                                 // blast radius in the pre-brief
		"Acknowledged 0/3 · waiting for @alice @bob @carol",                      // ack line
		"Acknowledged 2/3 · waiting for @alice",                                  // refreshed after two people
		"You already acknowledged",                                               // second press
		"You are not allowed to start UPG-1 (payments)",                          // carol is no owner
		"UPG-1 is scheduled; start it first",                                     // forbidden transition
		"· also sent to the channel",                                             // rollback broadcast
		"ROLLBACK: UPG-1 payments v2.4.0",                                        // loud alert
		"@alice @bob @carol please acknowledge",                                  // whole audience
		"Reason: error rate above 5% on card auth",                               // the reason
		"3 of 3 have not acknowledged the rollback alert of UPG-1",               // pending
		`Unknown service "paymnts". Known services: checkout, ledger, payments.`, // known list
		"in the past",
		"alice · rolled back · why: error rate above 5% on card auth", // decision log
	} {
		if !strings.Contains(out, want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
	if strings.Contains(out, "UPG-2") {
		t.Errorf("bad input stored an upgrade:\n%s", out)
	}
}

func TestCheckConfig(t *testing.T) {
	out, _, code := runMain(t, "", nil, "check-config", "-config", "config.example.toml")
	if code != 0 || !strings.Contains(out, "config.example.toml: ok") {
		t.Fatalf("example config: exit %d: %s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(bad, []byte("max_windw = \"2h\"\n[slack]\nenabled = true\nmode = \"carrier-pigeon\"\nbot_token = \"xoxb-SECRET\"\n[reminders]\nbefore = [\"bogus\"]\n[[services]]\nname = \"payments\"\ndepends_on = [\"ledgr\"]\n"), 0o644)
	_, errOut, code := runMain(t, "", nil, "check-config", "-config", bad)
	if code != 1 {
		t.Fatalf("bad config: exit %d", code)
	}
	for _, want := range []string{"max_windw", "slack.mode", "services[0].depends_on", `"ledgr"`} {
		if !strings.Contains(errOut, want) {
			t.Errorf("check-config output lacks %q:\n%s", want, errOut)
		}
	}
	if n := strings.Count(errOut, "reminders.before[0]"); n != 1 {
		t.Errorf("an unreadable value must be reported once, got %d times:\n%s", n, errOut)
	}
	if strings.Contains(errOut, "xoxb-SECRET") {
		t.Errorf("check-config printed a secret:\n%s", errOut)
	}
}

// check-config, console, webhooks and serve say where a TOML syntax error is (the
// file once, its line), which key, and how to write it.
func TestCheckConfigSyntaxError(t *testing.T) {
	dir := t.TempDir()
	cases := []struct{ data, want string }{
		{"[reminders]\nescalate_after = 30m\n",
			`s.toml:2: reminders.escalate_after: 30m is not quoted; write escalate_after = "30m" (durations, times and words are quoted strings)`},
		{"max_window = 24h\n",
			`s.toml:1: max_window: 24h is not quoted; write max_window = "24h" (durations, times and words are quoted strings)`},
		{"default_timezone = \"UTC\"\n[slack\nenabled = true\n",
			`s.toml:2: table header [slack is missing its closing "]"; write [slack]`},
		{"[slack]\nbot_token = \"xoxb-SECRET\n",
			`s.toml:2: slack.bot_token: invalid TOML syntax (details hidden: the line may hold a secret); write bot_token = "…"`},
		// A key set twice on a secret's line: said as for any key, no value shown.
		{"[redis]\nurl=\"memory://\"\nurl=\"memory://\"\n",
			`s.toml:3: redis.url: set twice in this table; keep one`},
		{"[slack]\nbot_token = \"xoxb-SECRET\"\nbot_token = \"xoxb-SECRET\"\n",
			`s.toml:3: slack.bot_token: set twice in this table; keep one`},
	}
	for _, tc := range cases {
		path := filepath.Join(dir, "s.toml")
		if err := os.WriteFile(path, []byte(tc.data), 0o600); err != nil {
			t.Fatal(err)
		}
		want := strings.ReplaceAll(tc.want, "s.toml", path)
		for _, sub := range []string{"check-config", "console", "webhooks"} {
			out, errOut, code := runMain(t, "", nil, sub, "-config", path)
			if code != 1 || out != "" || errOut != "upgradebot "+sub+": "+want+"\n" {
				t.Errorf("%s on %q: exit %d, stdout %q, stderr\n got %q\nwant %q", sub, tc.data, code, out, errOut, "upgradebot "+sub+": "+want+"\n")
			}
			if strings.Contains(errOut, "SECRET") {
				t.Errorf("a syntax error printed a secret: %s", errOut)
			}
		}
		_, errOut, code := runMain(t, "", nil, "serve", "-config", path)
		if first, _, _ := strings.Cut(errOut, "\n"); code != 1 || first != "upgradebot serve: "+want {
			t.Errorf("serve on %q: exit %d, stderr %q", tc.data, code, errOut)
		}
		if strings.Contains(errOut, "SECRET") {
			t.Errorf("a syntax error printed a secret: %s", errOut)
		}
	}
}

// A -config that names no file: every subcommand that reads one says so
// naming the file once (it used to be twice: "FILE: config: open FILE: no
// such file or directory"), and what to check.
func TestEverySubcommandNamesAMissingConfigFileOnce(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.toml")
	want := "configuration file " + missing + " does not exist; check the path given to -config"
	for _, tc := range []struct{ sub, first string }{
		{"check-config", "upgradebot check-config: " + want},
		{"console", "upgradebot console: " + want},
		{"webhooks", "upgradebot webhooks: " + want},
		// serve says it as a line too, before its log's (JSON) last line
		{"serve", "upgradebot serve: " + want},
	} {
		out, errOut, code := runMain(t, "", nil, tc.sub, "-config", missing)
		if code != 1 || out != "" {
			t.Errorf("%s: exit %d, stdout %q; want 1 and nothing", tc.sub, code, out)
		}
		first, rest, _ := strings.Cut(errOut, "\n")
		if first != tc.first {
			t.Errorf("%s: stderr\n got %q\nwant %q", tc.sub, errOut, tc.first+"\n")
		}
		for line := range strings.Lines(errOut) {
			if n := strings.Count(line, missing); n != 1 {
				t.Errorf("%s: a line names the file %d times: %q", tc.sub, n, line)
			}
		}
		if tc.sub == "serve" {
			var l struct{ Level, Msg, Err string }
			if err := json.Unmarshal([]byte(rest), &l); err != nil || l.Level != "ERROR" || l.Err != want {
				t.Errorf("serve: log line %q (%v), want an ERROR with err %q", rest, err, want)
			}
		} else if rest != "" {
			t.Errorf("%s: more on stderr: %q", tc.sub, rest)
		}
	}
}

// An invalid configuration: check-config, the console, webhooks and serve
// all say it in the same words, after "upgradebot SUBCOMMAND:" as every
// error of theirs (check-config used to print "FILE: 2 problem(s):" alone,
// and webhooks "FILE: invalid configuration…" without its name); each
// problem on a line of its own that says where, as a compiler's do, so an
// editor can jump there: "FILE:LINE: " for a key the file writes, "FILE: "
// for a problem it does not place (the environment's, a cycle's).
func TestEverySubcommandPrefixesTheProblemsOfAConfiguration(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(bad, []byte("max_windw = \"2h\"\n[redis]\nurl = \"memory://\"\n[[services]]\nname = \"payments\"\ndepends_on = [\"ledgr\"]\n[[services]]\nname = \"a\"\ndepends_on = [\"b\"]\n[[services]]\nname = \"b\"\ndepends_on = [\"a\"]\n"), 0o600)
	for _, sub := range []string{"check-config", "console", "webhooks", "serve"} {
		out, errOut, code := runMain(t, "", []string{"UPGRADEBOT_MAX_WINDOW=-1h"}, sub, "-config", bad)
		p := "upgradebot " + sub + ": " + bad
		want := p + ": invalid configuration, 4 problem(s):\n" +
			p + ":1: max_windw: unknown key (did you mean \"max_window\"?)\n" +
			p + ":6: services[0].depends_on: unknown service \"ledgr\"\n" +
			p + ": env UPGRADEBOT_MAX_WINDOW (max_window): must be greater than 0\n" +
			p + ": services: dependency cycle a -> b -> a\n"
		if code != 1 || out != "" || !strings.HasPrefix(errOut, want) {
			t.Errorf("%s: exit %d, stdout %q, stderr\n%s\nwant exit 1 and on stderr\n%s", sub, code, out, errOut, want)
		}
	}
}

func TestUsageAndVersion(t *testing.T) {
	if out, _, code := runMain(t, "", nil, "version"); code != 0 || !strings.HasPrefix(out, "upgradebot ") {
		t.Fatalf("version: %d %q", code, out)
	}
	if _, errOut, code := runMain(t, "", nil, "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown subcommand") {
		t.Fatalf("unknown subcommand: %d %q", code, errOut)
	}
	// help SUBCOMMAND is that subcommand's usage; help of no subcommand is an error.
	if out, _, code := runMain(t, "", nil, "help", "serve"); code != 0 || !strings.HasPrefix(out, "Usage: upgradebot serve [-config FILE]") {
		t.Fatalf("help serve: %d %q", code, out)
	}
	if out, _, code := runMain(t, "", nil, "help", "version"); code != 0 || !strings.HasPrefix(out, "Usage: upgradebot version") {
		t.Fatalf("help version: %d %q", code, out)
	}
	if out, _, code := runMain(t, "", nil, "version", "-h"); code != 0 || strings.Contains(out, "upgradebot dev") {
		t.Fatalf("version -h printed the version, not its usage: %d %q", code, out)
	}
	if _, errOut, code := runMain(t, "", nil, "help", "frobnicate"); code != 2 || !strings.Contains(errOut, `unknown subcommand "frobnicate"`) {
		t.Fatalf("help frobnicate: %d %q", code, errOut)
	}
}

func TestCheckConfigTakesDiscord(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.toml")
	os.WriteFile(cfg, []byte("[redis]\nurl = \"memory://\"\n[discord]\nenabled = true\nmode = \"http\"\napplication_id = \"1\"\npublic_key = \""+strings.Repeat("ab", 32)+"\"\n"), 0o600)
	out, errOut, code := runMain(t, "", []string{"UPGRADEBOT_DISCORD_BOT_TOKEN=MTIz.SEKRIT.x9"}, "check-config", "-config", cfg)
	if code != 0 || !strings.Contains(out, ": ok") || strings.Contains(errOut, "discord") {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	// A bad one is refused with every problem's key path, and the variable
	// its value came from (the file is not where to look), never the token.
	_, errOut, code = runMain(t, "", []string{"UPGRADEBOT_DISCORD_BOT_TOKEN=Bot MTIz.SEKRIT.x9", "UPGRADEBOT_DISCORD_GUILD_IDS=12,x"}, "check-config", "-config", cfg)
	for _, want := range []string{"env UPGRADEBOT_DISCORD_BOT_TOKEN (discord.bot_token): leave out the \"Bot \" prefix",
		`env UPGRADEBOT_DISCORD_GUILD_IDS (discord.guild_ids[1]): "x" is not a snowflake`} {
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("check-config: exit %d, lacks %q: %s", code, want, errOut)
		}
	}
	if strings.Contains(errOut, "SEKRIT") {
		t.Errorf("check-config printed the token: %s", errOut)
	}
}

func TestCheckConfigReportsMistypedEnvironmentAndEventTypes(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.toml")
	os.WriteFile(cfg, []byte("[redis]\nurl = \"memory://\"\n[github]\ntoken = \"ghp_SECRET\"\n[[webhooks]]\nurl = \"https://hooks.example.com/x\"\nsecret = \"wh_SECRET\"\nevents = [\"upgrade.started\", \"upgrade.exploded\"]\n"), 0o600)
	_, errOut, code := runMain(t, "", []string{"UPGRADEBOT_SLACK_BOT_TOKN=xoxb-SECRET"}, "check-config", "-config", cfg)
	if code != 1 || !strings.Contains(errOut, "env UPGRADEBOT_SLACK_BOT_TOKN: unknown variable; did you mean UPGRADEBOT_SLACK_BOT_TOKEN?") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, `webhooks[0].events: unknown event type "upgrade.exploded"; known: upgrade.scheduled,`) {
		t.Errorf("no problem reported for the unknown event type:\n%s", errOut)
	}
	if strings.Contains(errOut, "not served by this version") {
		t.Errorf("[[webhooks]] are served now, yet check-config warns:\n%s", errOut)
	}
	if strings.Contains(errOut, "github") {
		t.Errorf("[github] is served now, yet check-config warns:\n%s", errOut)
	}
	if strings.Contains(errOut, "SECRET") {
		t.Errorf("check-config printed a secret:\n%s", errOut)
	}
	os.WriteFile(cfg, []byte("[redis]\nurl = \"memory://\"\n[github]\ntoken = \"ghp_SECRET\"\n[[webhooks]]\nurl = \"https://hooks.example.com/x\"\nsecret = \"wh_SECRET\"\nevents = [\"upgrade.started\"]\n"), 0o600)
	out, errOut, code := runMain(t, "", nil, "check-config", "-config", cfg)
	if code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("a config with [github] and [[webhooks]] must pass: exit %d: %s %s", code, out, errOut)
	}
}

func TestBotConfigKnowsGroupsFromTheIDGrammar(t *testing.T) {
	cfg := config.Default()
	cfg.Admins = []string{"alice", "discord:&555000111"}
	cfg.Services = []config.Service{{Name: "payments", Owners: []string{"alice", "slack:S04XYZ", "slack:U04ABC"}}}
	bc, err := botConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(bc.Groups, ","); got != "slack:S04XYZ,discord:&555000111" {
		t.Fatalf("groups = %s", got)
	}
}

// link reads release pages of github.com, or of the Enterprise server of
// github.api_url, and no other host's.
func TestBotConfigReadsReleasePagesOfTheConfiguredGitHub(t *testing.T) {
	for api, want := range map[string]string{
		"":                                "",
		"https://api.github.com/":         "",
		"https://GHE.example.com/api/v3/": "ghe.example.com",
		"http://127.0.0.1:8443/api/v3":    "127.0.0.1:8443",
		"https://api.octocorp.ghe.com/":   "octocorp.ghe.com",
		// Review: a default port written out is the host without it, as
		// the pages' URLs have it; a path prefix is kept, as they have it.
		"https://GHE.example.com:443/api/v3/":    "ghe.example.com",
		"http://ghe.example.com:80/api/v3/":      "ghe.example.com",
		"https://ghe.example.com:80/api/v3/":     "ghe.example.com:80",
		"https://ghe.example.com/GitHub/api/v3/": "ghe.example.com/GitHub",
		"https://ghe.example.com/a/b/api/v3":     "ghe.example.com/a/b",
		"https://ghe.example.com:443/api/v3/x/":  "ghe.example.com",
		"http://127.0.0.1:8443/proxy/":           "127.0.0.1:8443",
	} {
		cfg := config.Default()
		cfg.GitHub.APIURL = api
		bc, err := botConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if bc.ReleaseHost != want {
			t.Errorf("github.api_url %q: release pages of %q, want %q", api, bc.ReleaseHost, want)
		}
	}
}

// A cut show links the upgrade's page only where whoever reads the link
// may open it: server.public_url set and api.public.
func TestBotConfigLinksPagesOnlyWhenPublic(t *testing.T) {
	for _, tc := range []struct {
		public bool
		url    string
		want   string
	}{
		{true, "https://upgrades.example.com", "https://upgrades.example.com"},
		{false, "https://upgrades.example.com", ""},
		{true, "", ""},
	} {
		cfg := config.Default()
		cfg.API.Public, cfg.Server.PublicURL = tc.public, tc.url
		bc, err := botConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if bc.UpgradePage != nil {
			got = strings.TrimSuffix(bc.UpgradePage(7), "/upgrades/7")
		}
		if got != tc.want {
			t.Errorf("public %v, public_url %q: pages at %q, want %q", tc.public, tc.url, got, tc.want)
		}
	}
}

// A newcomer learns when no file was read and when no platform is on.
func TestCheckConfigSaysWhenNoFileIsReadAndNoPlatformIsOn(t *testing.T) {
	t.Chdir(t.TempDir()) // no config.toml here
	out, errOut, code := runMain(t, "", nil, "check-config")
	if code != 0 || !strings.Contains(out, "(defaults and environment): ok") {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	for _, want := range []string{"no configuration file:", "config.toml does not exist", "pass -config FILE", "no chat platform is enabled"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("check-config lacks %q:\n%s", want, errOut)
		}
	}
	// Every line on stderr starts with the subcommand, the note too.
	for line := range strings.Lines(errOut) {
		if !strings.HasPrefix(line, "upgradebot check-config: ") {
			t.Errorf("a line without the prefix %q: %q", "upgradebot check-config: ", line)
		}
	}
	if want := "upgradebot check-config: note: no configuration file: "; !strings.HasPrefix(errOut, want) {
		t.Errorf("stderr\n%s\nwant it to start %q", errOut, want)
	}
	_, errOut, _ = runMain(t, "", []string{"UPGRADEBOT_SLACK_ENABLED=true", "UPGRADEBOT_SLACK_BOT_TOKEN=xoxb-1", "UPGRADEBOT_SLACK_APP_TOKEN=xapp-1"}, "check-config")
	if strings.Contains(errOut, "no chat platform") {
		t.Errorf("warned with Slack enabled:\n%s", errOut)
	}
}

// TestConsoleReadsTimesAsTypedAndStepsThroughEveryMoment: `tomorrow 2am`,
// `next tuesday 14:00` and a New York DST gap are read as people mean them
// (the gap said out loud), and `:advance 8d` delivers the 7-day, 3-day and
// 1-hour reminders each at its own moment, none late.
func TestConsoleReadsTimesAsTypedAndStepsThroughEveryMoment(t *testing.T) {
	in, _ := os.ReadFile("testdata/console/times.txt")
	out, errOut, code := runMain(t, string(in), []string{consoleNow}, "console")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	for _, want := range []string{
		"Scheduled UPG-1 payments v2.4.0: 2026-11-23 02:00 CET", // tomorrow 2am, Berlin
		"Scheduled UPG-2 ledger v1.9.0: 2026-11-24 14:00 CET",   // next tuesday 14:00
		"02:30 does not exist on 14 March in America/New_York (clocks jump from 02:00 to 03:00); read as 03:30 EDT.",
		"In America/New_York: 2027-03-14 03:30 EDT to 2027-03-14 04:30 EDT.",
		"the clock is now 2026-11-22 23:00 CET (2026-11-22 22:00 UTC)\n── #payments · thread m4 · reply m5\n  │ ⏰ Reminder: UPG-4", // 7 days before UPG-4
		"starts 2026-11-29 23:00 CET (2026-11-29 22:00 UTC) (in 7d).",
		"starts 2026-11-29 23:00 CET (2026-11-29 22:00 UTC) (in 3d).",
		"starts 2026-11-29 23:00 CET (2026-11-29 22:00 UTC) (in 1h).",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the session lacks %q", want)
		}
	}
	if strings.Contains(out, "this reminder is") {
		t.Errorf("a notice came late:\n%s", out)
	}
}

// TestConsoleAdvancePrintsJobsDueTogetherInOneOrder: two upgrades' jobs
// that fall due at one moment (UPG-1's 1-hour reminder and UPG-2's
// escalation, both at 11:30) print in due order, UPG-1's first, on every
// run, so a transcript (and a golden) reads the same each time.
func TestConsoleAdvancePrintsJobsDueTogetherInOneOrder(t *testing.T) {
	script := "/upgrade schedule payments d2 in 90m\n/upgrade schedule payments late in 5m\n:advance 2h\n"
	var first string
	for run := range 6 {
		out, errOut, code := runMain(t, script, []string{consoleNow}, "console")
		if code != 0 || errOut != "" {
			t.Fatalf("exit %d, stderr:\n%s", code, errOut)
		}
		at := strings.Index(out, "the clock is now 2026-11-22 11:30 CET")
		reminder := strings.Index(out, "⏰ Reminder: UPG-1 payments d2")
		escalation := strings.Index(out, "── direct message to @alice\n  │ 🔔 You have not yet acknowledged the upgrade window of UPG-2")
		if at < 0 || !(at < reminder && reminder < escalation) {
			t.Fatalf("run %d: at 11:30, UPG-1's reminder does not come before UPG-2's escalation:\n%s", run, out)
		}
		if run == 0 {
			first = out
		} else if out != first {
			t.Fatalf("run %d printed another transcript than run 0:\n%s\n--- run 0 ---\n%s", run, out, first)
		}
	}
}

// A console on a real Redis (one a serve may share) changes the real
// upgrades but posts nowhere: the threads it shows are saved as the
// console's own, so serve never edits or replies to a Slack message that
// does not exist, and :advance leaves due reminders to serve.
func TestConsoleOnASharedStoreKeepsItsThreadsToItself(t *testing.T) {
	o := storetest.Target(t)
	if len(o.ClusterAddrs) > 0 {
		t.Skip("the console takes a redis.url here")
	}
	cfg := filepath.Join(t.TempDir(), "c.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("[redis]\nurl = %q\nprefix = %q\n[[people]]\nname = \"alice\"\nids = [\"slack:U0ALICE\"]\n"+
		"[[services]]\nname = \"checkout\"\nowners = [\"alice\"]\nchannels = [\"slack:C0SHOP\"]\n", o.URL, o.Prefix)), 0o600)
	out, errOut, code := runMain(t, "/upgrade schedule checkout v1.0.0 in 3d for 1h\n:advance 1h\n", nil, "console", "-config", cfg)
	if code != 0 {
		t.Fatalf("console exited %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "nothing is posted to Slack or Discord") || !strings.Contains(out, "slack:C0SHOP · new message") {
		t.Errorf("the console did not say what it does on a real Redis:\n%s\n%s", errOut, out)
	}
	if !strings.Contains(out, ":advance is off in this console") {
		t.Errorf(":advance ran on a real Redis:\n%s", out)
	}
	st := storetest.Open(t, o)
	u, err := st.Get(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Threads) != 1 || u.Threads[0].Channel != "console:slack:C0SHOP" {
		t.Errorf("threads saved %+v; want the console's own, not a Slack message", u.Threads)
	}
}

// check-config names each mistake in a readiness checklist at its key path.
func TestCheckConfigReportsReadinessProblems(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.toml")
	os.WriteFile(cfg, []byte(`readiness = ["backups verified", ""]
[redis]
url = "memory://"
[[services]]
name = "payments"
readiness = ["Canary green", "canary GREEN", "`+strings.Repeat("x", 81)+`"]
`), 0o600)
	_, errOut, code := runMain(t, "", nil, "check-config", "-config", cfg)
	if code != 1 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"readiness[1]: is empty",
		`services[0].readiness[1]: duplicate criterion "canary GREEN" (same as services[0].readiness[0], criteria are case-insensitive)`,
		"services[0].readiness[2]: is 81 characters long; at most 80 are allowed",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("check-config lacks %q:\n%s", want, errOut)
		}
	}
}

// A production file keeps the platforms' tokens and the webhooks' secrets
// in serve's environment: the console (a dry run) and the webhooks
// subcommand (it reads Redis only) take it as it is and still report real
// mistakes, while check-config and serve keep requiring the secrets.
func TestConsoleAndWebhooksTakeAProductionFileWithoutItsSecrets(t *testing.T) {
	prod := "[redis]\nurl = \"memory://\"\n[slack]\nenabled = true\nmode = \"http\"\n[discord]\nenabled = true\nmode = \"http\"\n" +
		"[[webhooks]]\nurl = \"https://hooks.example.com/x\"\n[[people]]\nname = \"alice\"\nids = [\"slack:U0ALICE\"]\n" +
		"[[services]]\nname = \"payments\"\nowners = [\"alice\"]\nchannels = [\"slack:C0PAY\"]\n"
	cfg := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(cfg, []byte(prod), 0o600)

	out, errOut, code := runMain(t, "/upgrade schedule payments v2.4.0 in 2d for 1h\n", []string{consoleNow}, "console", "-config", cfg)
	if code != 0 || !strings.Contains(out, "Scheduled UPG-1 payments v2.4.0") {
		t.Errorf("console on the production file: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = runMain(t, "", nil, "webhooks", "-config", cfg)
	if code != 0 || !strings.Contains(out, "hooks.example.com") || !strings.Contains(out, "backlog:") {
		t.Errorf("webhooks on the production file: exit %d\n%s\n%s", code, out, errOut)
	}
	// Every line the subcommand writes to stderr names it, the memory:// note too.
	if !strings.Contains(errOut, "upgradebot webhooks: note: redis.url is memory://") {
		t.Errorf("webhooks: the memory:// note lacks the subcommand's prefix:\n%s", errOut)
	}
	secrets := []string{"slack.bot_token", "slack.signing_secret", "discord.bot_token", "discord.application_id", "discord.public_key", "webhooks[0].secret"}
	_, errOut, code = runMain(t, "", nil, "check-config", "-config", cfg)
	for _, want := range secrets {
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("check-config: exit %d, lacks %q:\n%s", code, want, errOut)
		}
	}
	_, errOut, code = runMain(t, "", nil, "serve", "-config", cfg)
	if code != 1 || !strings.Contains(errOut, "slack.bot_token: required") || !strings.Contains(errOut, "webhooks[0].secret: required") {
		t.Errorf("serve: exit %d:\n%s", code, errOut)
	}

	// A real mistake is still reported, and only it.
	os.WriteFile(cfg, []byte(strings.Replace(prod, "owners = [\"alice\"]", "owners = [\"alicia\"]", 1)), 0o600)
	for _, sub := range []string{"console", "webhooks"} {
		_, errOut, code = runMain(t, "", nil, sub, "-config", cfg)
		if code != 1 || !strings.Contains(errOut, "services[0].owners") || !strings.Contains(errOut, "1 problem(s)") {
			t.Errorf("%s with an unknown owner: exit %d:\n%s", sub, code, errOut)
		}
		for _, secret := range secrets {
			if strings.Contains(errOut, secret) {
				t.Errorf("%s reports %s:\n%s", sub, secret, errOut)
			}
		}
	}
}

// check-config warns, once by service, about the channels and owner ids
// of platforms that are not enabled, and stays quiet when none are.
func TestCheckConfigWarnsOfChannelsOnPlatformsNotEnabled(t *testing.T) {
	slackOn := []string{"UPGRADEBOT_SLACK_ENABLED=true", "UPGRADEBOT_SLACK_BOT_TOKEN=xoxb-1", "UPGRADEBOT_SLACK_APP_TOKEN=xapp-1"}
	// (with the webhook secret set: the example's repos warn without it)
	out, errOut, code := runMain(t, "", append(slackOn, "UPGRADEBOT_GITHUB_WEBHOOK_SECRET=s"), "check-config", "-config", "config.example.toml")
	if code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	for _, want := range []string{
		"warning: services[1] (payments): serve skips channels discord:112233445566778899, console:ops (console, discord are not enabled; enabled: slack)\n",
		"warning: services[2] (checkout): serve skips channels discord:112233445566778800, console:shop",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("check-config lacks %q:\n%s", want, errOut)
		}
	}
	if n := strings.Count(errOut, "(payments)"); n != 1 {
		t.Errorf("payments warned of %d times, want once:\n%s", n, errOut)
	}
	cfg := filepath.Join(t.TempDir(), "c.toml")
	os.WriteFile(cfg, []byte("[redis]\nurl = \"memory://\"\n[[services]]\nname = \"payments\"\nowners = [\"discord:1001\", \"slack:U0ALICE\"]\nchannels = [\"slack:C0PAY\"]\n"), 0o600)
	_, errOut, _ = runMain(t, "", slackOn, "check-config", "-config", cfg)
	if want := "services[0] (payments): owners discord:1001 can be neither mentioned nor messaged (discord is not enabled; enabled: slack)"; !strings.Contains(errOut, want) {
		t.Errorf("check-config lacks %q:\n%s", want, errOut)
	}
	// An owner named as a person whose every id is on Discord.
	os.WriteFile(cfg, []byte("[redis]\nurl = \"memory://\"\n[[people]]\nname = \"bob\"\nids = [\"discord:1002\"]\n[[people]]\nname = \"alice\"\nids = [\"discord:1001\", \"slack:U0ALICE\"]\n[[services]]\nname = \"payments\"\nowners = [\"bob\", \"alice\"]\nchannels = [\"slack:C0PAY\"]\n"), 0o600)
	_, errOut, _ = runMain(t, "", slackOn, "check-config", "-config", cfg)
	if want := "services[0] (payments): owners bob can be neither mentioned nor messaged (discord is not enabled; enabled: slack)"; !strings.Contains(errOut, want) {
		t.Errorf("check-config lacks %q:\n%s", want, errOut)
	}
	os.WriteFile(cfg, []byte("[redis]\nurl = \"memory://\"\n[[services]]\nname = \"payments\"\nowners = [\"slack:U0ALICE\"]\nchannels = [\"slack:C0PAY\"]\n"), 0o600)
	if _, errOut, _ = runMain(t, "", slackOn, "check-config", "-config", cfg); strings.Contains(errOut, "warning") {
		t.Errorf("warned of a Slack-only configuration with Slack on:\n%s", errOut)
	}
}

// QA: services with a GitHub repo and no github.webhook_secret, so no
// release event can ever arrive; serve said it only at INFO. check-config
// warns (exit 0), naming the services; not with the secret set (in the file
// or the environment), and not when no service has a repo.
func TestCheckConfigWarnsOfRepoWithoutWebhookSecret(t *testing.T) {
	slackOn := []string{"UPGRADEBOT_SLACK_ENABLED=true", "UPGRADEBOT_SLACK_BOT_TOKEN=xoxb-1", "UPGRADEBOT_SLACK_APP_TOKEN=xapp-1"}
	cfg := filepath.Join(t.TempDir(), "c.toml")
	services := "[[services]]\nname = \"ledger\"\n[[services]]\nname = \"payments\"\nrepo = \"acme/payments\"\n"
	os.WriteFile(cfg, []byte("[redis]\nurl = \"memory://\"\n"+services), 0o600)
	out, errOut, code := runMain(t, "", slackOn, "check-config", "-config", cfg)
	want := "upgradebot check-config: " + cfg + ": warning: services[1] (payments) has a GitHub repo but github.webhook_secret (UPGRADEBOT_GITHUB_WEBHOOK_SECRET) is empty: /github/webhook refuses every delivery, so published releases never reach the bot (only the link command and the look-up at scheduling link them); set it and add the repository's webhook (docs/github.md)\n"
	if code != 0 || out != cfg+": ok\n" || errOut != want {
		t.Errorf("exit %d, stdout %q, stderr\n%s\nwant exit 0 and\n%s", code, out, errOut, want)
	}
	if _, errOut, _ = runMain(t, "", append(slackOn, "UPGRADEBOT_GITHUB_WEBHOOK_SECRET=s3cret"), "check-config", "-config", cfg); errOut != "" {
		t.Errorf("warned with the secret in the environment:\n%s", errOut)
	}
	os.WriteFile(cfg, []byte("[redis]\nurl = \"memory://\"\n[github]\nwebhook_secret = \"s3cret\"\n"+services), 0o600)
	if _, errOut, _ = runMain(t, "", slackOn, "check-config", "-config", cfg); strings.Contains(errOut, "has a GitHub repo") {
		t.Errorf("warned of no secret with the secret in the file:\n%s", errOut)
	}
	os.WriteFile(cfg, []byte("[redis]\nurl = \"memory://\"\n[[services]]\nname = \"ledger\"\n"), 0o600)
	if _, errOut, _ = runMain(t, "", slackOn, "check-config", "-config", cfg); errOut != "" {
		t.Errorf("warned without any repo (GitHub not in use):\n%s", errOut)
	}
}

// Each subcommand takes its own flags only: -as is the console's, and any
// other subcommand refuses it with its own usage.
func TestEachSubcommandTakesOnlyItsOwnFlags(t *testing.T) {
	for _, sub := range []string{"serve", "check-config", "webhooks"} {
		_, errOut, code := runMain(t, "", nil, sub, "-h")
		if code != 0 || strings.Contains(errOut, "-as") || !strings.Contains(errOut, "Usage: upgradebot "+sub+" [-config FILE]") || !strings.Contains(errOut, "-config") {
			t.Errorf("%s -h: exit %d:\n%s", sub, code, errOut)
		}
		// (-config of a file that does not exist: an old serve that took -as stops at once)
		_, errOut, code = runMain(t, "", nil, sub, "-as", "bob", "-config", filepath.Join(t.TempDir(), "none.toml"))
		if code != 2 || !strings.HasPrefix(errOut, "upgradebot "+sub+": flag provided but not defined: -as\n") || !strings.Contains(errOut, "Usage: upgradebot "+sub) {
			t.Errorf("%s -as bob: exit %d:\n%s", sub, code, errOut)
		}
	}
	_, errOut, code := runMain(t, "", nil, "console", "-h")
	if code != 0 || !strings.Contains(errOut, "-as string") || !strings.Contains(errOut, "Usage: upgradebot console [-config FILE] [-as PERSON]") {
		t.Errorf("console -h: exit %d:\n%s", code, errOut)
	}
	if out, errOut, code := runMain(t, ":quit\n", []string{consoleNow}, "console", "-as", "bob"); code != 0 {
		t.Errorf("console -as bob: exit %d: %s %s", code, out, errOut)
	}
}

// A flag parse error is said as every other error of a subcommand is,
// after "upgradebot SUBCOMMAND: ", once, then the usage; exit 2.
func TestFlagErrorsArePrefixedBySubcommand(t *testing.T) {
	cases := [][]string{{"version", "-bogus"}}
	for _, sub := range []string{"serve", "console", "check-config", "webhooks"} {
		cases = append(cases, []string{sub, "-config"}, []string{sub, "-bogus"})
	}
	cases = append(cases, []string{"console", "-as"})
	for _, args := range cases {
		sub, flagName := args[0], args[1]
		want := "upgradebot " + sub + ": flag provided but not defined: " + flagName + "\n"
		if sub != "version" && flagName != "-bogus" {
			want = "upgradebot " + sub + ": flag needs an argument: " + flagName + "\n"
		}
		want += "Usage: upgradebot " + subUsage[sub] + "\n"
		out, errOut, code := runMain(t, "", nil, args...)
		if code != 2 || out != "" || !strings.HasPrefix(errOut, want) || strings.Count(errOut, "flag ") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr\n%s\nwant it to start with\n%s", args, code, out, errOut, want)
		}
	}
}

// :as with the platform id of a configured person is that person: the
// console says so, without the note meant for strangers.
func TestConsoleAsAPlatformIDOfAConfiguredPerson(t *testing.T) {
	out, errOut, code := runMain(t, ":as slack:U0BOB\n:as slack:U0CAROL\n:press UPG-1\n", []string{consoleNow}, "console", "-config", "testdata/console/dryrun.toml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	bob, carol, _ := strings.Cut(out, ":as slack:U0CAROL")
	if !strings.Contains(bob, "you are now bob (slack:U0BOB)") || strings.Contains(bob, "not a configured person") {
		t.Errorf(":as slack:U0BOB:\n%s", bob)
	}
	// An owner id that is nobody's in [[people]] is named as the messages
	// name it: the root's "@U0CAROL", the direct message's "@U0CAROL
	// (slack:U0CAROL)"; the prompt and the replies too.
	if !strings.Contains(carol, "you are now U0CAROL (slack:U0CAROL)\n") || !strings.Contains(carol, "\nU0CAROL> :press UPG-1\n── reply to U0CAROL (only you can see this)") {
		t.Errorf(":as slack:U0CAROL:\n%s", carol)
	}
}

// -as nobody is told what :as nobody is told, on stdout as :as says it,
// before the first command's output; a configured person is told nothing.
func TestConsoleAsFlagNotesAStranger(t *testing.T) {
	const note = "note: nobody is not a configured person: you may read and acknowledge, but you own nothing and are in no audience\n"
	out, errOut, code := runMain(t, "/upgrade list\n", []string{consoleNow}, "console", "-as", "nobody")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if !strings.HasPrefix(out, note+"\nnobody> /upgrade list\n") {
		t.Errorf("console -as nobody: stdout does not start with the note:\n%s", out)
	}
	if strings.Count(out, "not a configured person") != 1 {
		t.Errorf("console -as nobody: the note is not said once:\n%s", out)
	}
	asOut, _, _ := runMain(t, ":as nobody\n", []string{consoleNow}, "console")
	if !strings.Contains(asOut, "\n"+note) {
		t.Errorf(":as nobody does not say the same note:\n%s", asOut)
	}
	for _, args := range [][]string{{"-as", "alice"}, {"-as", "slack:U0BOB", "-config", "testdata/console/dryrun.toml"}} {
		out, errOut, _ := runMain(t, ":quit\n", []string{consoleNow}, append([]string{"console"}, args...)...)
		if strings.Contains(out+errOut, "not a configured person") {
			t.Errorf("console %v: a configured person is told they are not one:\n%s%s", args, out, errOut)
		}
	}
}

// README's "Run it" steps, as written, give a serve that talks to Slack:
// the variables they set, on the example configuration they copy, pass
// check-config with a platform enabled.
func TestReadmeRunItEnablesAPlatform(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "## Run it\n")
	if !ok {
		t.Fatal("README has no Run it section")
	}
	_, block, _ := strings.Cut(rest, "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	if !strings.Contains(block, "cp config.example.toml config.toml") || !strings.Contains(block, "go run . serve -config config.toml") {
		t.Fatalf("Run it lost its steps:\n%s", block)
	}
	var environ []string
	for _, line := range strings.Split(block, "\n") {
		line, _, _ = strings.Cut(line, "#")
		for _, word := range strings.Fields(line) {
			if strings.HasPrefix(word, "UPGRADEBOT_") && strings.Contains(word, "=") {
				environ = append(environ, word)
			}
		}
	}
	out, errOut, code := runMain(t, "", environ, "check-config", "-config", "config.example.toml")
	if code != 0 || strings.Contains(errOut, "no chat platform is enabled") {
		t.Errorf("README's variables %v on the example: exit %d\n%s%s", environ, code, out, errOut)
	}
}

// TestConsoleNamesTheFileOfAProblem: an invalid configuration given to
// the console is named, as serve and check-config name it.
func TestConsoleNamesTheFileOfAProblem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.toml")
	if err := os.WriteFile(path, []byte("[redis]\nurl = \"memory://\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runMain(t, "", []string{"UPGRADEBOT_MAX_WINDOW=abc"}, "console", "-config", path)
	if code != 1 || !strings.HasPrefix(errOut, "upgradebot console: "+path+": invalid configuration") || !strings.Contains(errOut, "(max_window)") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// TestCheckConfigSaysABadEnabledOnce: enabled = "yes" from the environment
// is a problem; the bot is then not told to have no platform as well.
func TestCheckConfigSaysABadEnabledOnce(t *testing.T) {
	_, errOut, code := runMain(t, "", []string{"UPGRADEBOT_SLACK_ENABLED=yes"}, "check-config", "-config", "config.example.toml")
	if code != 1 || !strings.Contains(errOut, "env UPGRADEBOT_SLACK_ENABLED (slack.enabled): must be true or false") {
		t.Fatalf("check-config: %d\n%s", code, errOut)
	}
	if strings.Contains(errOut, "no chat platform is enabled") {
		t.Fatalf("the bad value is also said as no platform:\n%s", errOut)
	}
}

// check-config lists the problems as the file's lines run, whichever check
// found them, so they read top to bottom against the file; those of no
// line (a dependency cycle) come last.
func TestCheckConfigListsProblemsInFileOrder(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.toml")
	os.WriteFile(cfg, []byte(`default_timezone = "Mars/Olympus"
[server]
listen = "nope"
[reminders]
escalate_after = "0s"
[redis]
url = "memory://"
[[services]]
name = "a"
depends_on = ["b"]
[[services]]
name = "b"
depends_on = ["a"]
colour = "red"
`), 0o600)
	_, errOut, code := runMain(t, "", nil, "check-config", "-config", cfg)
	p := "upgradebot check-config: " + cfg
	want := p + ": invalid configuration, 5 problem(s):\n" +
		p + ":1: default_timezone: unknown time zone \"Mars/Olympus\"\n" +
		p + ":3: server.listen: must be host:port, e.g. \"127.0.0.1:8080\" or \":8080\"\n" +
		p + ":5: reminders.escalate_after: must be greater than 0\n" +
		p + ":14: services[1].colour: unknown key\n" +
		p + ": services: dependency cycle a -> b -> a\n"
	if code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("exit %d, stderr\n%s\nwant\n%s", code, errOut, want)
	}
}

// -as "" names nobody: it is refused as a flag error (exit 2, the usage),
// as :as with no name prints its usage, not taken for a stranger with no name.
func TestConsoleAsEmptyIsAFlagError(t *testing.T) {
	for _, as := range []string{"", " "} {
		out, errOut, code := runMain(t, ":quit\n", []string{consoleNow}, "console", "-as", as)
		want := "upgradebot console: -as needs a person's name or id\nUsage: upgradebot console [-config FILE] [-as PERSON]\n"
		if code != 2 || out != "" || !strings.HasPrefix(errOut, want) || !strings.Contains(errOut, "-as string") {
			t.Errorf("-as %q: exit %d, stdout %q, stderr %q; want exit 2 and stderr starting %q, then the flags", as, code, out, errOut, want)
		}
	}
}

// check-config's warnings start "upgradebot check-config: FILE: warning: "
// as every line it prints starts with its name, and come only of a file
// that is otherwise valid: an invalid one prints its problems alone, as
// serve, the console and webhooks do.
func TestCheckConfigWarningsArePrefixedAndOnlyOfAValidFile(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.toml")
	os.WriteFile(cfg, []byte("[redis]\nurl = \"memory://\"\n[[services]]\nname = \"payments\"\nchannels = [\"discord:112233445566778899\"]\n"), 0o600)
	out, errOut, code := runMain(t, "", nil, "check-config", "-config", cfg)
	if code != 0 || out != cfg+": ok\n" {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	if want := "upgradebot check-config: " + cfg + ": warning: no chat platform is enabled"; !strings.HasPrefix(errOut, want) || strings.Count(errOut, "\n") != 1 {
		t.Errorf("stderr\n%s\nwant one line starting %q", errOut, want)
	}
	slackOn := []string{"UPGRADEBOT_SLACK_ENABLED=true", "UPGRADEBOT_SLACK_BOT_TOKEN=xoxb-1", "UPGRADEBOT_SLACK_APP_TOKEN=xapp-1"}
	_, errOut, _ = runMain(t, "", slackOn, "check-config", "-config", cfg)
	if want := "upgradebot check-config: " + cfg + ": warning: services[0] (payments): serve skips channels discord:112233445566778899"; !strings.HasPrefix(errOut, want) || strings.Count(errOut, "\n") != 1 {
		t.Errorf("stderr\n%s\nwant one line starting %q", errOut, want)
	}
	os.WriteFile(cfg, []byte("max_windw = \"2h\"\n[redis]\nurl = \"memory://\"\n[[services]]\nname = \"payments\"\nchannels = [\"discord:112233445566778899\"]\n"), 0o600)
	_, errOut, code = runMain(t, "", nil, "check-config", "-config", cfg)
	want := "upgradebot check-config: " + cfg + ": invalid configuration, 1 problem(s):\nupgradebot check-config: " + cfg + ":1: max_windw: unknown key (did you mean \"max_window\"?)\n"
	if code != 1 || errOut != want {
		t.Errorf("exit %d, stderr\n%s\nwant exit 1 and the problems alone:\n%s", code, errOut, want)
	}
}

// The README's dry run of a copied config.example.toml on a machine without
// Redis: the console says it cannot reach it, and how to try it without one.
func TestConsoleWithoutRedisSaysHowToDryRun(t *testing.T) {
	_, errOut, code := runMain(t, "/upgrade list\n", []string{"UPGRADEBOT_REDIS_URL=redis://127.0.0.1:1/0"}, "console", "-config", "config.example.toml")
	if code != 1 || !strings.HasPrefix(errOut, "upgradebot console: redis: cannot reach 127.0.0.1:1") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if !strings.Contains(errOut, "\nupgradebot console: For a dry run without a Redis, "+`set redis.url = "memory://" (or UPGRADEBOT_REDIS_URL=memory://)`) {
		t.Errorf("no hint at memory:// for a dry run:\n%s", errOut)
	}
}

// upgradebot check-config config.toml, the file without -config: refused
// as a flag error is (the usage, exit 2), saying the command meant.
func TestAConfigFileWithoutItsFlagSaysHowToName(t *testing.T) {
	for _, sub := range []string{"check-config", "serve", "webhooks", "console"} {
		_, errOut, code := runMain(t, "", nil, sub, "config.example.toml")
		want := "upgradebot " + sub + `: unexpected argument "config.example.toml"; to use it as the configuration, write: upgradebot ` + sub + " -config config.example.toml\n" +
			"Usage: upgradebot " + subUsage[sub] + "\n"
		if code != 2 || !strings.HasPrefix(errOut, want) {
			t.Errorf("%s config.example.toml: exit %d, stderr\n%s\nwant it to start\n%s", sub, code, errOut, want)
		}
	}
	// The flags given are kept in the command meant.
	_, errOut, code := runMain(t, "", nil, "console", "-as", "bob", "config.example.toml")
	if want := "; to use it as the configuration, write: upgradebot console -as bob -config config.example.toml\n"; code != 2 || !strings.Contains(errOut, want) {
		t.Errorf("console -as bob config.example.toml: exit %d, stderr\n%s\nwant %q", code, errOut, want)
	}
	// Quoted for the shell where it must be, and without a "--".
	_, errOut, code = runMain(t, "", nil, "console", "-as", "Bob Smith", "--", "my conf.toml")
	if want := "; to use it as the configuration, write: upgradebot console -as 'Bob Smith' -config 'my conf.toml'\n"; code != 2 || !strings.Contains(errOut, want) {
		t.Errorf("console -as 'Bob Smith' -- 'my conf.toml': exit %d, stderr\n%s\nwant %q", code, errOut, want)
	}
	// Any other stray argument: the usage too, without the hint.
	_, errOut, code = runMain(t, "", nil, "version", "now")
	if code != 2 || errOut != "upgradebot version: unexpected argument \"now\"\nUsage: upgradebot version\n" {
		t.Errorf("version now: exit %d, stderr %q", code, errOut)
	}
}

// TestCheckConfigWarnsOfSecretsInTheFile: secrets belong in the environment
// (docs/deploy.md); one written in the file still works, but check-config
// and serve say which variable it belongs in, never its value.
func TestCheckConfigWarnsOfSecretsInTheFile(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.toml")
	os.WriteFile(cfg, []byte(`[server]
listen = "127.0.0.1:0"
[redis]
url = "memory://"
[slack]
enabled = true
bot_token = "xoxb-FILE-1111"
app_token = "xapp-FILE-2222"
[github]
token = "ghp_FILE3333"
webhook_secret = "FILE-4444"
[api]
tokens = ["FILE-5555"]
[[webhooks]]
url = "https://hooks.example.com/x"
secret = "FILE-6666"
`), 0o600)
	out, errOut, code := runMain(t, "", nil, "check-config", "-config", cfg)
	if code != 0 || out != cfg+": ok\n" {
		t.Fatalf("exit %d, stdout %q, stderr\n%s", code, out, errOut)
	}
	for _, k := range []string{"slack.bot_token:UPGRADEBOT_SLACK_BOT_TOKEN", "slack.app_token:UPGRADEBOT_SLACK_APP_TOKEN",
		"github.token:UPGRADEBOT_GITHUB_TOKEN", "github.webhook_secret:UPGRADEBOT_GITHUB_WEBHOOK_SECRET",
		"api.tokens:UPGRADEBOT_API_TOKENS", "webhooks[0].secret:UPGRADEBOT_WEBHOOKS_0_SECRET"} {
		key, env, _ := strings.Cut(k, ":")
		want := "upgradebot check-config: " + cfg + ": warning: " + key + " is a secret written in the file: move it to the environment variable " + env + " (secrets belong there, not in the file; docs/deploy.md)\n"
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks\n%s", want)
		}
	}
	if strings.Contains(errOut, "FILE-") || strings.Contains(errOut, "ghp_") {
		t.Errorf("a warning shows a secret's value:\n%s", errOut)
	}
	// The environment's values replace the file's: each warning says
	// which one is used, still without a value.
	env := []string{"UPGRADEBOT_SLACK_BOT_TOKEN=xoxb-e", "UPGRADEBOT_SLACK_APP_TOKEN=xapp-e", "UPGRADEBOT_GITHUB_TOKEN=e",
		"UPGRADEBOT_GITHUB_WEBHOOK_SECRET=e", "UPGRADEBOT_API_TOKENS=e", "UPGRADEBOT_WEBHOOKS_0_SECRET=e"}
	_, errOut, code = runMain(t, "", env, "check-config", "-config", cfg)
	if code != 0 || strings.Contains(errOut, "written in the file") || strings.Contains(errOut, "FILE-") || strings.Contains(errOut, "ghp_") {
		t.Errorf("with every secret in the environment: exit %d, stderr\n%s", code, errOut)
	}
	for _, k := range []string{"slack.bot_token:UPGRADEBOT_SLACK_BOT_TOKEN", "webhooks[0].secret:UPGRADEBOT_WEBHOOKS_0_SECRET"} {
		key, env, _ := strings.Cut(k, ":")
		want := "upgradebot check-config: " + cfg + ": warning: " + key + " is a secret given both in the file and in the environment variable " + env + ": the environment's value is used, the file's is ignored; delete it from the file (secrets belong in the environment; docs/deploy.md)\n"
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks\n%s", want)
		}
	}
	if n := strings.Count(errOut, "given both in the file"); n != 6 {
		t.Errorf("%d warnings of a secret in both, want 6:\n%s", n, errOut)
	}
	// Without the file's secrets, nothing to warn of.
	os.WriteFile(cfg, []byte("[server]\nlisten = \"127.0.0.1:0\"\n[redis]\nurl = \"memory://\"\n[slack]\nenabled = true\n[[webhooks]]\nurl = \"https://hooks.example.com/x\"\n"), 0o600)
	if _, errOut, code := runMain(t, "", env, "check-config", "-config", cfg); code != 0 || errOut != "" {
		t.Errorf("with every secret in the environment alone: exit %d, stderr\n%s", code, errOut)
	}

	// A password in the file's redis.url too.
	os.WriteFile(cfg, []byte("[redis]\nurl = \"redis://:FILE-7777@127.0.0.1:6379/0\"\n[slack]\nenabled = true\n"), 0o600)
	_, errOut, _ = runMain(t, "", env[:5], "check-config", "-config", cfg)
	if want := "warning: redis.url holds a password written in the file: move the whole URL to the environment variable UPGRADEBOT_REDIS_URL"; !strings.Contains(errOut, want) || strings.Contains(errOut, "FILE-") {
		t.Errorf("stderr\n%s\nwant %q, without the password", errOut, want)
	}
}

// TestServeWarnsOfSecretsInTheFile: serve logs the same at WARN.
func TestServeWarnsOfSecretsInTheFile(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.toml")
	os.WriteFile(cfg, []byte("[server]\nlisten = \"127.0.0.1:0\"\n[redis]\nurl = \"memory://\"\n[github]\ntoken = \"ghp_FILE3333\"\n"), 0o600)
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, nil, []string{"serve", "-config", cfg}, strings.NewReader(""), io.Discard, &logs, nil)
	}()
	waitFor(t, 15*time.Second, "serve to start", func() bool { return strings.Contains(logs.String(), "upgradebot serving") })
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d:\n%s", code, logs.String())
	}
	want := `"level":"WARN","msg":"github.token is a secret written in the file: move it to the environment variable UPGRADEBOT_GITHUB_TOKEN`
	if got := logs.String(); !strings.Contains(got, want) || strings.Contains(got, "ghp_FILE") {
		t.Errorf("serve's log lacks %s (or shows the token):\n%s", want, got)
	}

	// Given in the environment too: the environment's wins, said once at
	// start-up, with neither value.
	var logs2 syncBuffer
	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		done <- run(ctx, nil, []string{"serve", "-config", cfg}, strings.NewReader(""), io.Discard, &logs2, []string{"UPGRADEBOT_GITHUB_TOKEN=ghp_ENV4444"})
	}()
	waitFor(t, 15*time.Second, "serve to start", func() bool { return strings.Contains(logs2.String(), "upgradebot serving") })
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d:\n%s", code, logs2.String())
	}
	want = `"level":"WARN","msg":"github.token is a secret given both in the file and in the environment variable UPGRADEBOT_GITHUB_TOKEN: the environment's value is used`
	if got := logs2.String(); strings.Count(got, want) != 1 || strings.Contains(got, "ghp_") || strings.Contains(got, "written in the file") {
		t.Errorf("serve's log lacks %s once (or shows a token):\n%s", want, got)
	}
}

// TestUsageSaysTheConsoleRunsTheDemo: the top-level help said "FILE
// defaults to config.toml" of every subcommand, but the console runs its
// built-in demo without -config, config.toml or not (QA).
func TestUsageSaysTheConsoleRunsTheDemo(t *testing.T) {
	out, _, code := runMain(t, "", nil, "help")
	if code != 0 || strings.Contains(out, "FILE defaults to config.toml.") ||
		!strings.Contains(out, "For serve, check-config and webhooks, FILE defaults to config.toml in the\nworking directory") ||
		!strings.Contains(out, "the console\nruns its built-in demo unless -config names a file") {
		t.Errorf("help: exit %d\n%s", code, out)
	}
}

// check-config never prints a password or a token pasted as an owner,
// admin, channel or id, nor one given as a list written as a string.
func TestCheckConfigNeverPrintsAPasswordOrTokenOfAnID(t *testing.T) {
	for _, file := range []string{`admins = ["https://u:pw-SEKRIT@h/x"]
[redis]
url = "memory://"
[[people]]
name = "alice"
ids = ["https://u:pw-SEKRIT@h/x", "xoxb-1-SEKRIT"]
[[services]]
name = "a"
owners = ["https://u:pw-SEKRIT@h/x", "ghp_SEKRIT"]
channels = ["https://u:pw-SEKRIT@h/x", "slack:xoxp-SEKRIT"]
`, `[redis]
url = "memory://"
cluster_addrs = ":pw-SEKRIT@h1:6379"
[[services]]
name = "a"
channels = "xoxb-123-SEKRIT"
owners = "console:a u:SEKRIT@h"
`} {
		cfg := filepath.Join(t.TempDir(), "c.toml")
		if err := os.WriteFile(cfg, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		out, errOut, code := runMain(t, "", nil, "check-config", "-config", cfg)
		if code != 1 || !strings.Contains(errOut, "owners") {
			t.Fatalf("check-config: %d\n%s", code, errOut)
		}
		if strings.Contains(out+errOut, "SEKRIT") {
			t.Errorf("check-config prints a secret:\n%s", errOut)
		}
	}
}
