package console

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
)

func TestEditPrintsTheWholeEditedMessage(t *testing.T) {
	d := bot.NewDirectory(bot.Config{
		People:   []bot.Person{{Name: "alice", IDs: []string{"console:alice"}}},
		Services: []bot.Service{{Name: "payments", Owners: []string{"alice"}}, {Name: "checkout", DependsOn: []string{"payments"}}},
	})
	start := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	u := &bot.Upgrade{ID: 1, Service: "payments", Version: "v2.4.0", Start: start, End: start.Add(2 * time.Hour),
		Region: "eu-west", Impact: "card payments may fail", State: bot.InProgress,
		Owners: d.OwnerKeys("payments"), Audience: d.Audience("payments"), BlastRadius: d.Dependents("payments")}
	m := NewMessenger(time.UTC, d)
	if err := m.Edit(context.Background(), bot.MessageRef{Channel: "console:#payments", ID: "m1"}, d.Root(u, nil)); err != nil {
		t.Fatal(err)
	}
	got := m.Drain()
	for _, want := range []string{"── #payments · message m1 edited", "UPG-1 payments v2.4.0", "State:        in progress",
		"Region:       eu-west", "Impact:       card payments may fail", "Owner:        @alice", "Release:      not linked yet",
		"Blast radius: checkout", "Acknowledged 0/1 · waiting for @alice", "[ Acknowledge ]  (:press UPG-1 brief)"} {
		if !strings.Contains(got, want) {
			t.Errorf("the edited message lacks %q:\n%s", want, got)
		}
	}
}
