package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// secretConfig holds a distinctive secret in every secret-bearing field, several of them malformed
// so that Validate has something to say about each.
func secretConfig() (Config, []string) {
	secrets := []string{
		"SEKRIT-slack-bot", "SEKRIT-slack-app", "SEKRIT-signing", "SEKRIT-discord-bot",
		"SEKRIT-gh-token", "SEKRIT-gh-hook", "SEKRIT-api-1", "SEKRIT-api-2", "SEKRIT-webhook-secret",
		"SEKRIT-redis-pw", "SEKRIT-hook-path", "SEKRIT-hook-query", "SEKRIT-sentinel-pw", "SEKRIT-hook-user",
	}
	c := validConfig()
	c.Slack = Slack{Enabled: true, Mode: "http", BotToken: "SEKRIT-slack-bot", AppToken: "SEKRIT-slack-app", SigningSecret: "SEKRIT-signing", Command: "/upgrade"}
	c.Discord = Discord{Enabled: true, Mode: "gateway", BotToken: "SEKRIT-discord-bot", ApplicationID: "1"}
	c.GitHub = GitHub{Token: "SEKRIT-gh-token", WebhookSecret: "SEKRIT-gh-hook"}
	c.API.Tokens = []string{"SEKRIT-api-1", "", "SEKRIT-api-2"}
	c.Redis.URL = "http://:SEKRIT-redis-pw@redis.example.com:6379/0?sentinel_password=SEKRIT-sentinel-pw&db=1"
	c.Webhooks = []Webhook{
		{URL: "ftp://hooks.example.com/SEKRIT-hook-path?t=SEKRIT-hook-query", Secret: "SEKRIT-webhook-secret"},
		{URL: "https://user:SEKRIT-hook-user@hooks.example.com/x"},
		{URL: "SEKRIT-hook-path"},
	}
	return c, secrets
}

func TestSecretsNeverInProblems(t *testing.T) {
	c, secrets := secretConfig()
	problems := c.Validate()
	if len(problems) < 5 {
		t.Fatalf("expected the malformed secrets to be reported, got %v", problems)
	}
	for _, p := range problems {
		for _, s := range secrets {
			if strings.Contains(p.String(), s) || strings.Contains(p.String(), "SEKRIT") {
				t.Errorf("problem %q leaks %q", p, s)
			}
		}
	}
	for _, want := range []string{"slack.bot_token", "slack.app_token", "redis.url", "webhooks[0].url", "webhooks[2].url", "api.tokens"} {
		if _, ok := findProblem(problems, want); !ok {
			t.Errorf("no problem at %s; got %v", want, problems)
		}
	}
}

func TestSecretsNeverInLoadProblems(t *testing.T) {
	_, problems := loadString(t, `
[slack]
bot_token = ["SEKRIT-1"]
app_tokn = "SEKRIT-2"
[api]
tokens = "SEKRIT-3"
`, "UPGRADEBOT_SLACK_ENABLED=SEKRIT-4", "UPGRADEBOT_API_PUBLIC=SEKRIT-5")
	if len(problems) != 5 {
		t.Fatalf("want 5 problems, got %v", problems)
	}
	for _, p := range problems {
		if strings.Contains(p.String(), "SEKRIT") {
			t.Errorf("problem leaks a secret: %s", p)
		}
	}
}

func TestRedacted(t *testing.T) {
	c, secrets := secretConfig()
	r := c.Redacted()
	out := fmt.Sprintf("%+v", r)
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("Redacted() output contains %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "SEKRIT") {
		t.Errorf("Redacted() output leaks:\n%s", out)
	}
	checks := map[string]string{
		"slack.bot_token":      r.Slack.BotToken,
		"slack.signing_secret": r.Slack.SigningSecret,
		"discord.bot_token":    r.Discord.BotToken,
		"github.token":         r.GitHub.Token,
		"api.tokens[0]":        r.API.Tokens[0],
		"webhooks[0].secret":   r.Webhooks[0].Secret,
	}
	for k, v := range checks {
		if v != RedactedValue {
			t.Errorf("%s = %q, want %q", k, v, RedactedValue)
		}
	}
	// Empty stays empty, so logs still show what is missing.
	if r.API.Tokens[1] != "" || r.Webhooks[1].Secret != "" {
		t.Errorf("empty secrets were filled in: %q %q", r.API.Tokens[1], r.Webhooks[1].Secret)
	}
	if want := "http://:[redacted]@redis.example.com:6379/0?db=1&sentinel_password=[redacted]"; r.Redis.URL != want {
		t.Errorf("redis.url = %q, want %q", r.Redis.URL, want)
	}
	if want := "ftp://hooks.example.com/[redacted]"; r.Webhooks[0].URL != want {
		t.Errorf("webhooks[0].url = %q, want %q", r.Webhooks[0].URL, want)
	}
	// Non-secrets are kept.
	if r.Services[0].Name != "payments" || r.Slack.Mode != "http" || r.Discord.ApplicationID != "1" {
		t.Errorf("non-secret values changed: %+v", r)
	}
}

func TestRedactedIsACopy(t *testing.T) {
	c, _ := secretConfig()
	before := fmt.Sprintf("%+v", c)
	r := c.Redacted()
	r.API.Tokens[0] = "changed"
	r.Webhooks[0].Secret = "changed"
	r.Services[0].Owners[0] = "changed"
	r.People[0].IDs[0] = "changed"
	r.Admins[0] = "changed"
	r.Reminders.Before[0] = 1
	if after := fmt.Sprintf("%+v", c); after != before {
		t.Fatalf("Redacted() shares memory with the original")
	}
}

func TestRedactURLs(t *testing.T) {
	for in, want := range map[string]string{
		"":                         "",
		"redis://127.0.0.1:6379/0": "redis://127.0.0.1:6379/0",
		"redis://user:pw@h:1/2":    "redis://user:[redacted]@h:1/2",
		"redis://user@h:1":         "redis://user@h:1",
		"memory://":                "memory://",
		"unix:///run/redis.sock":   "unix:///run/redis.sock",
		"redis+sentinel://s1:1,s2:2/mymaster?master_name=m": "redis+sentinel://s1:1,s2:2/mymaster?master_name=m",
		"%zz": RedactedValue,
	} {
		if got := redactURLPassword(in); got != want {
			t.Errorf("redactURLPassword(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"":                                       "",
		"https://hooks.example.com":              "https://hooks.example.com",
		"https://hooks.example.com/":             "https://hooks.example.com",
		"https://discord.com/api/webhooks/1/tok": "https://discord.com/[redacted]",
		"not a url":                              RedactedValue,
	} {
		if got := redactURLPath(in); got != want {
			t.Errorf("redactURLPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// Every field of the configuration that holds a token, a secret or a
// password is declared secret (the tag secret:"true"), and every field so
// declared is hidden by Redacted, listed by Secrets (which the log
// scrubber hides) and its key hides a line with a syntax error: a new
// section (a new platform's, say) cannot forget one of the three.
func TestEverySecretFieldIsDeclaredAndHidden(t *testing.T) {
	var c Config
	c.Webhooks = make([]Webhook, 1)
	c.API.Tokens = make([]string, 2)
	n := 0
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		switch v.Kind() {
		case reflect.Struct:
			for i := range v.NumField() {
				sf := v.Type().Field(i)
				if !sf.IsExported() {
					continue
				}
				key, _, _ := strings.Cut(sf.Tag.Get("toml"), ",")
				fv := v.Field(i)
				looksSecret := containsAny(key, "token", "secret", "password")
				declared := sf.Tag.Get("secret") == "true"
				if looksSecret && !declared {
					t.Errorf("%s.%s holds a secret but is not tagged secret:\"true\"", path, key)
				}
				if !declared {
					walk(fv, path+"."+key)
					continue
				}
				if !isSecretKey(key) {
					t.Errorf("%s.%s: a syntax error on its line would show the line", path, key)
				}
				switch fv.Kind() {
				case reflect.String:
					n++
					fv.SetString(fmt.Sprintf("s3cr3t-%d", n))
				case reflect.Slice:
					for j := range fv.Len() {
						n++
						fv.Index(j).SetString(fmt.Sprintf("s3cr3t-%d", n))
					}
				default:
					t.Errorf("%s.%s: a secret must be a string or []string", path, key)
				}
			}
		case reflect.Slice:
			for j := range v.Len() {
				walk(v.Index(j), path)
			}
		}
	}
	walk(reflect.ValueOf(&c).Elem(), "config")
	if n < 9 { // slack 3, discord 1, github 2, api 2, webhook 1
		t.Fatalf("only %d secrets set; the walk missed some", n)
	}
	secrets := c.Secrets()
	red := fmt.Sprintf("%+v", c.Redacted())
	for i := 1; i <= n; i++ {
		v := fmt.Sprintf("s3cr3t-%d", i)
		if !slices.Contains(secrets, v) {
			t.Errorf("Secrets() lacks %s", v)
		}
	}
	if strings.Contains(red, "s3cr3t") {
		t.Errorf("Redacted() shows a secret: %s", red)
	}
}
