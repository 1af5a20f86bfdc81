package slack

import (
	"context"
	"fmt"
	"testing"
	"time"

	_ "time/tzdata" // the zones below must load on hosts without tzdata

	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
)

func TestLocation(t *testing.T) {
	tests := []struct {
		name   string
		user   string
		fault  *slacktestapi.Fault
		want   string // "" means nil: the bot's default_timezone
		cached bool   // a second lookup within the hour makes no call
	}{
		{"slack zone", "U0BERLIN", nil, "Europe/Berlin", true},
		{"no zone in profile", "U0NOTZ", nil, "", true},
		{"unknown user", "U0GHOST", nil, "", true},
		{"unknown zone name", "U0MARS", nil, "", true},
		{"slack down", "U0BERLIN", &slacktestapi.Fault{Status: 500}, "", true},
		{"slack slow", "U0BERLIN", &slacktestapi.Fault{Delay: 30 * time.Second}, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, ModeHTTP)
			f.api.AddUser("U0BERLIN", "berta", "Europe/Berlin")
			f.api.AddUser("U0NOTZ", "nora", "")
			f.api.AddUser("U0MARS", "marvin", "Mars/Olympus_Mons")
			if tc.fault != nil {
				f.api.FailNext("users.info", *tc.fault)
			}
			started := time.Now()
			loc := f.a.location(context.Background(), tc.user)
			// Slack slow answers after 30 s; the lookup gives up long
			// before the 3 s the platform gives a command.
			if elapsed := time.Since(started); elapsed > 2900*time.Millisecond {
				t.Errorf("lookup took %s; it must not eat the 3 s budget", elapsed)
			}
			if got := locName(loc); got != tc.want {
				t.Errorf("location = %q, want %q", got, tc.want)
			}
			before := len(f.api.Calls("users.info"))
			f.a.location(context.Background(), tc.user)
			if cached := len(f.api.Calls("users.info")) == before; cached != tc.cached {
				t.Errorf("cached = %v", cached)
			}
		})
	}
}

func locName(l *time.Location) string {
	if l == nil {
		return ""
	}
	return l.String()
}

func TestLocationCacheExpires(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.api.AddUser("U0BERLIN", "berta", "Europe/Berlin")
	f.api.FailNext("users.info", slacktestapi.Fault{Status: 503})
	if loc := f.a.location(context.Background(), "U0BERLIN"); loc != nil {
		t.Fatalf("got %v while Slack was down", loc)
	}
	f.clock.add(tzFailureTTL + time.Second) // a failure is retried soon
	if got := locName(f.a.location(context.Background(), "U0BERLIN")); got != "Europe/Berlin" {
		t.Fatalf("after the failure expired: %q", got)
	}
	f.api.AddUser("U0BERLIN", "berta", "Asia/Tokyo")
	f.clock.add(tzTTL - time.Minute)
	if got := locName(f.a.location(context.Background(), "U0BERLIN")); got != "Europe/Berlin" {
		t.Errorf("within the hour: %q", got)
	}
	f.clock.add(2 * time.Minute)
	if got := locName(f.a.location(context.Background(), "U0BERLIN")); got != "Asia/Tokyo" {
		t.Errorf("after the hour: %q", got)
	}
	if n := len(f.api.Calls("users.info")); n != 3 {
		t.Errorf("%d users.info calls, want 3", n)
	}
}

func TestLocationCacheIsBounded(t *testing.T) {
	c := newTZCache(100, time.Now)
	for i := 0; i < 1000; i++ {
		c.put(fmt.Sprintf("U%d", i), time.UTC, time.Hour)
	}
	if n := c.len(); n > 100 {
		t.Errorf("cache holds %d entries, bound is 100", n)
	}
	if _, ok := c.get("U999"); !ok {
		t.Error("the newest entry must be kept")
	}
}
