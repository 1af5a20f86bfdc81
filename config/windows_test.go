package config

import (
	"strings"
	"testing"
	"time"
)

func TestWindowsConfigAccepted(t *testing.T) {
	c := validConfig()
	c.DefaultTimezone = "Europe/Berlin"
	c.Services[0].Windows = []string{"tue 02:00-05:00 Europe/Berlin", "thu 22:00-01:00 America/New_York", "sat 9am-1pm"}
	c.Freezes = []Freeze{
		{Name: "year-end", From: "2026-12-20T00:00:00+01:00", To: "2027-01-04T00:00:00+01:00", Services: []string{"*"}, Reason: "trading"},
		{Name: "ledger-audit", From: "2026-12-01T00:00:00Z", To: "2026-12-02T00:00:00Z", Services: []string{"ledger", "payments"}, Regions: []string{"eu-west"}},
	}
	c.SeriesLead = 10 * 24 * time.Hour
	if got := c.Validate(); len(got) != 0 {
		t.Fatalf("Validate() = %v", got)
	}
}

func TestWindowsConfigProblems(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		path   string
		msg    string
	}{
		{"a window without a range", func(c *Config) { c.Services[0].Windows = []string{"tue"} }, "services[0].windows[0]", "needs a weekday and a start-end"},
		{"a window's weekday", func(c *Config) { c.Services[1].Windows = []string{"wed 10:00-12:00", "tuez 02:00-05:00"} }, "services[1].windows[1]", "is not a weekday"},
		{"a window's end", func(c *Config) { c.Services[0].Windows = []string{"tue 02:00-5"} }, "services[0].windows[0]", `the end "5"`},
		{"a window's zone", func(c *Config) { c.Services[0].Windows = []string{"tue 02:00-05:00 CET"} }, "services[0].windows[0]", "ambiguous"},
		{"an empty window", func(c *Config) { c.Services[0].Windows = []string{"tue 02:00-02:00 UTC"} }, "services[0].windows[0]", "ends when it starts"},
		{"series_lead zero", func(c *Config) { c.SeriesLead = 0 }, "series_lead", "must be greater than 0"},
		{"series_lead under the longest reminder", func(c *Config) { c.SeriesLead = 3 * 24 * time.Hour }, "series_lead", "shorter than the longest reminder (reminders.before 168h)"},
		{"series_lead beyond max_lead", func(c *Config) { c.MaxLead = 5 * 24 * time.Hour; c.Reminders.Before = []time.Duration{time.Hour} }, "series_lead", "longer than max_lead"},
		{"a freeze without a name", func(c *Config) {
			c.Freezes = []Freeze{{From: "2026-12-01T00:00:00Z", To: "2026-12-02T00:00:00Z", Services: []string{"*"}}}
		}, "freezes[0].name", "required"},
		{"a freeze's name", func(c *Config) {
			c.Freezes = []Freeze{{Name: "year end", From: "2026-12-01T00:00:00Z", To: "2026-12-02T00:00:00Z", Services: []string{"*"}}}
		}, "freezes[0].name", "one word"},
		{"two freezes of one name", func(c *Config) {
			f := Freeze{Name: "x", From: "2026-12-01T00:00:00Z", To: "2026-12-02T00:00:00Z", Services: []string{"*"}}
			g := f
			g.Name = "X"
			c.Freezes = []Freeze{f, g}
		}, "freezes[1].name", `duplicate freeze "X" (first at freezes[0]`},
		{"a freeze's from", func(c *Config) {
			c.Freezes = []Freeze{{Name: "x", From: "2026-12-01 00:00", To: "2026-12-02T00:00:00Z", Services: []string{"*"}}}
		}, "freezes[0].from", "not RFC 3339 with an offset"},
		{"a freeze without to", func(c *Config) {
			c.Freezes = []Freeze{{Name: "x", From: "2026-12-01T00:00:00Z", Services: []string{"*"}}}
		}, "freezes[0].to", "required"},
		{"a freeze ending first", func(c *Config) {
			c.Freezes = []Freeze{{Name: "x", From: "2026-12-02T00:00:00Z", To: "2026-12-01T00:00:00Z", Services: []string{"*"}}}
		}, "freezes[0].to", "must be after from"},
		{"a freeze without services", func(c *Config) {
			c.Freezes = []Freeze{{Name: "x", From: "2026-12-01T00:00:00Z", To: "2026-12-02T00:00:00Z"}}
		}, "freezes[0].services", `["*"] for every service`},
		{"a freeze of an unknown service", func(c *Config) {
			c.Freezes = []Freeze{{Name: "x", From: "2026-12-01T00:00:00Z", To: "2026-12-02T00:00:00Z", Services: []string{"Ledger"}}}
		}, "freezes[0].services", `unknown service "Ledger" (a service name, or "*" for every service; did you mean "ledger"?)`},
		{"a star and names", func(c *Config) {
			c.Freezes = []Freeze{{Name: "x", From: "2026-12-01T00:00:00Z", To: "2026-12-02T00:00:00Z", Services: []string{"*", "ledger"}}}
		}, "freezes[0].services", "give it alone"},
		{"an empty region", func(c *Config) {
			c.Freezes = []Freeze{{Name: "x", From: "2026-12-01T00:00:00Z", To: "2026-12-02T00:00:00Z", Services: []string{"*"}, Regions: []string{" "}}}
		}, "freezes[0].regions", "entry 1 is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.mutate(&c)
			problems := c.Validate()
			for _, p := range problems {
				if p.Path == tc.path && strings.Contains(p.Msg, tc.msg) {
					return
				}
			}
			t.Fatalf("want %s: ...%s..., got %v", tc.path, tc.msg, problems)
		})
	}
}

func TestWindowsConfigFromTOMLAndEnvironment(t *testing.T) {
	toml := `
[[services]]
name = "payments"
windows = ["tue 02:00-05:00 Europe/Berlin"]

[[freezes]]
name = "year-end"
from = "2026-12-20T00:00:00Z"
to = "2027-01-04T00:00:00Z"
services = ["*"]
reason = "trading"
`
	c, problems, err := LoadBytes([]byte(toml), []string{"UPGRADEBOT_FREEZES_0_REASON=year-end trading", "UPGRADEBOT_SERIES_LEAD=9d",
		"UPGRADEBOT_SERVICES_0_WINDOWS=tue 02:00-05:00 Europe/Berlin,thu 22:00-01:00 UTC"})
	if err != nil || len(problems) != 0 {
		t.Fatalf("%v %v", problems, err)
	}
	if c.Freezes[0].Reason != "year-end trading" || c.SeriesLead != 9*24*time.Hour || len(c.Services[0].Windows) != 2 {
		t.Fatalf("%+v %v %v", c.Freezes, c.SeriesLead, c.Services[0].Windows)
	}
	if Default().SeriesLead != 8*24*time.Hour {
		t.Fatal("series_lead's default is 8 days")
	}
	_, problems, _ = LoadBytes([]byte(toml), []string{"UPGRADEBOT_FREEZES_3_NAME=x"})
	if len(problems) != 1 || !strings.Contains(problems[0].Msg, "[[freezes]]") {
		t.Fatalf("an override of a freeze the file does not define: %v", problems)
	}
	// An unquoted TOML offset date-time is the instant the quoted one names.
	c, problems, _ = LoadBytes([]byte(strings.Replace(toml, `"2026-12-20T00:00:00Z"`, "2026-12-20T00:00:00Z", 1)), nil)
	if len(problems) != 0 || c.Freezes[0].From != "2026-12-20T00:00:00Z" || len(c.Validate()) != 0 {
		t.Fatalf("an unquoted TOML date: %v %q %v", problems, c.Freezes[0].From, c.Validate())
	}
}
