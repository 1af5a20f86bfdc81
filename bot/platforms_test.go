package bot_test

import (
	"testing"

	"github.com/upgradebot/upgradebot/bot"
)

// Where the services' channels are on more than one platform, a plain
// rendering (the console) names each channel's platform: a bare #C0123
// or #1122… does not say which. On one platform it stays as it was.
func TestPlainNamesTheChannelsPlatformWhereThereAreSeveral(t *testing.T) {
	both := bot.NewDirectory(bot.Config{Services: []bot.Service{
		{Name: "payments", Channels: []string{"slack:C0PAYMENTS"}},
		{Name: "ledger", Channels: []string{"discord:112233445566778899"}},
	}})
	one := bot.NewDirectory(bot.Config{Services: []bot.Service{
		{Name: "payments", Channels: []string{"slack:C0PAYMENTS", "slack:C0OPS"}},
	}})
	if !both.ManyPlatforms() || one.ManyPlatforms() {
		t.Fatalf("ManyPlatforms: both %v, one %v", both.ManyPlatforms(), one.ManyPlatforms())
	}
	line := bot.T("Thread in ").Channel("slack:C0PAYMENTS").Add(", ").Channel("discord:112233445566778899").Add(", ").Channel("#ops")
	if got, want := (bot.Plain{Platforms: both.ManyPlatforms()}).Text(line),
		"Thread in #C0PAYMENTS (Slack), #112233445566778899 (Discord), #ops"; got != want {
		t.Errorf("several platforms: %q, want %q", got, want)
	}
	if got, want := (bot.Plain{Platforms: one.ManyPlatforms()}).Text(line),
		"Thread in #C0PAYMENTS, #112233445566778899, #ops"; got != want {
		t.Errorf("one platform: %q, want %q", got, want)
	}
}
