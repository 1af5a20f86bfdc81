package config

import (
	"slices"
	"strings"
	"testing"
)

func TestReadinessValidation(t *testing.T) {
	tests := []struct {
		name      string
		top, svc  []string
		path, msg string // "" path: no problem
	}{
		{"none", nil, nil, "", ""},
		{"three", []string{"backups verified", "canary green", "rollback plan reviewed"}, nil, "", ""},
		{"service list", nil, []string{"backups verified"}, "", ""},
		{"explicit empty", []string{"a"}, []string{}, "", ""},
		{"ten", nil, strings.Split("a b c d e f g h i j", " "), "", ""},
		{"eleven", nil, strings.Split("a b c d e f g h i j k", " "), "services[0].readiness", "has 11 criteria; at most 10"},
		{"empty criterion", []string{"ok", "  "}, nil, "readiness[1]", "is empty"},
		{"duplicate", nil, []string{"Canary green", "backups", "canary GREEN"}, "services[0].readiness[2]", `duplicate criterion "canary GREEN" (same as services[0].readiness[0]`},
		{"too long", []string{strings.Repeat("x", 81)}, nil, "readiness[0]", "81 characters long; at most 80"},
		{"80 is fine", []string{strings.Repeat("é", 80)}, nil, "", ""},
		{"two lines", []string{"a\nb"}, nil, "readiness[0]", "one line"},
		{"only a number", nil, []string{"backups", "1"}, "services[0].readiness[1]", `"1" is only a number, and commands read a number as the criterion's place in the checklist`},
		{"a hash number", []string{"#2"}, nil, "readiness[0]", "is only a number"},
		{"a number in words is fine", []string{"3 replicas healthy"}, nil, "", ""},
		{"double quotes", []string{`"canary" green`}, nil, "readiness[0]", "holds a double quote, which commands read as quoting, so it could not be typed"},
		{"curly quotes", nil, []string{"canary “green”"}, "services[0].readiness[0]", "holds a double quote"},
		{"single quotes are fine", []string{"'canary' green"}, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			c.Readiness = tt.top
			c.Services[0].Readiness = tt.svc
			got := c.Validate()
			if tt.path == "" {
				if len(got) != 0 {
					t.Fatalf("Validate() = %v", got)
				}
				return
			}
			if len(got) != 1 || got[0].Path != tt.path || !strings.Contains(got[0].Msg, tt.msg) {
				t.Fatalf("Validate() = %v, want one problem at %s containing %q", got, tt.path, tt.msg)
			}
		})
	}
}

func TestReadinessDefaultAndExplicitEmpty(t *testing.T) {
	cfg, problems, err := LoadBytes([]byte(`
readiness = ["backups verified", "canary green"]

[[services]]
name = "payments"

[[services]]
name = "ledger"
readiness = []

[[services]]
name = "checkout"
readiness = ["smoke tests green"]
`), nil)
	if err != nil || len(problems) != 0 {
		t.Fatalf("LoadBytes: %v %v", err, problems)
	}
	want := [][]string{{"backups verified", "canary green"}, {}, {"smoke tests green"}}
	for i, s := range cfg.Services {
		got := cfg.ReadinessOf(s)
		if !slices.Equal(got, want[i]) {
			t.Errorf("%s: readiness %q, want %q", s.Name, got, want[i])
		}
	}
	if got := cfg.ReadinessOf(cfg.Services[1]); got == nil || len(got) != 0 {
		t.Errorf("an explicit empty list must stay empty, not fall back: %q", got)
	}
}

func TestReadinessFromEnvironment(t *testing.T) {
	cfg, problems, err := LoadBytes([]byte("[[services]]\nname = \"payments\"\n"), []string{
		"UPGRADEBOT_READINESS=backups verified,canary green",
		"UPGRADEBOT_SERVICES_0_READINESS=smoke tests green",
	})
	if err != nil || len(problems) != 0 {
		t.Fatalf("LoadBytes: %v %v", err, problems)
	}
	if !slices.Equal(cfg.Readiness, []string{"backups verified", "canary green"}) || !slices.Equal(cfg.Services[0].Readiness, []string{"smoke tests green"}) {
		t.Fatalf("readiness = %q, services[0] = %q", cfg.Readiness, cfg.Services[0].Readiness)
	}
}
