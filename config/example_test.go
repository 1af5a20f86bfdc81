package config

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const examplePath = "../config.example.toml"

func TestExampleConfigIsValid(t *testing.T) {
	cfg, problems, err := Load(examplePath, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 0 {
		t.Fatalf("Load problems: %v", problems)
	}
	if problems := cfg.Validate(); len(problems) != 0 {
		t.Fatalf("Validate problems: %v", problems)
	}
	if cfg.Slack.Enabled || cfg.Discord.Enabled {
		t.Error("the example must leave the platforms disabled")
	}
	if cfg.Redis.URL != "redis://127.0.0.1:6379/0" {
		t.Errorf("redis.url = %q", cfg.Redis.URL)
	}
	var people, services []string
	for _, p := range cfg.People {
		people = append(people, p.Name)
	}
	for _, s := range cfg.Services {
		services = append(services, s.Name+"<-"+strings.Join(s.DependsOn, ","))
	}
	if !slices.Equal(people, []string{"alice", "bob", "carol"}) {
		t.Errorf("people = %v", people)
	}
	if !slices.Equal(services, []string{"ledger<-", "payments<-ledger", "checkout<-payments"}) {
		t.Errorf("services = %v", services)
	}
	// The example spells out the defaults (in its own words) except where it shows an example value.
	d := Default()
	if cfg.Reminders.Before[0] != d.Reminders.Before[0] || cfg.Retention != d.Retention || cfg.MaxWindow != d.MaxWindow {
		t.Errorf("example durations differ from the defaults: %+v", cfg.Reminders)
	}
}

// TestExampleConfigValidWithPlatformsEnabled turns both platforms on through the environment, as
// an operator would.
func TestExampleConfigValidWithPlatformsEnabled(t *testing.T) {
	cfg, problems, err := Load(examplePath, []string{
		"UPGRADEBOT_SLACK_ENABLED=true",
		"UPGRADEBOT_SLACK_BOT_TOKEN=xoxb-1",
		"UPGRADEBOT_SLACK_APP_TOKEN=xapp-1",
		"UPGRADEBOT_DISCORD_ENABLED=true",
		"UPGRADEBOT_DISCORD_MODE=http",
		"UPGRADEBOT_DISCORD_BOT_TOKEN=MTIz.AbC-d_e.x9",
		"UPGRADEBOT_DISCORD_APPLICATION_ID=123",
		"UPGRADEBOT_DISCORD_PUBLIC_KEY=" + strings.Repeat("ab", 32),
		"UPGRADEBOT_API_TOKENS=one,two",
	})
	if err != nil {
		t.Fatal(err)
	}
	problems = append(problems, cfg.Validate()...)
	if len(problems) != 0 {
		t.Fatalf("problems: %v", problems)
	}
}

// TestExampleDocumentsEveryKey keeps the example complete: every key appears (possibly commented
// out) and every scalar or list outside [[...]] names its environment variable.
func TestExampleDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	var walk func(t reflect.Type, section, env string, inArray bool)
	walk = func(typ reflect.Type, section, env string, inArray bool) {
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			tag := f.Tag.Get("toml")
			if tag == "" || tag == "-" || !f.IsExported() {
				continue
			}
			name := env + "_" + strings.ToUpper(tag)
			switch {
			case f.Type.Kind() == reflect.Struct:
				if !strings.Contains(text, "\n["+tag+"]\n") {
					t.Errorf("example lacks section [%s]", tag)
				}
				walk(f.Type, tag, name, false)
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
				if !strings.Contains(text, "[["+tag+"]]") {
					t.Errorf("example lacks [[%s]]", tag)
				}
				walk(f.Type.Elem(), tag, name+"_0", true)
			default:
				if !strings.Contains(text, "\n"+tag+" = ") && !strings.Contains(text, "# "+tag+" = ") {
					t.Errorf("example lacks key %s.%s", section, tag)
				}
				if !inArray && !strings.Contains(text, "Env: "+name) {
					t.Errorf("example does not name %s for %s.%s", name, section, tag)
				}
			}
		}
	}
	walk(reflect.TypeOf(Config{}), "", EnvPrefix, false)
}
