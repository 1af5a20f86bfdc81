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

// A direct message's header names its person as the root message mentions
// them: an owner configured by id only ("slack:U0CAROL") is "@U0CAROL"
// there, so the header says "@U0CAROL (slack:U0CAROL)", as it says
// "@alice (slack:U0ALICE)" of a [[people]] entry.
func TestDirectMessageNamesAnIDOnlyOwnerAsTheRootMessageDoes(t *testing.T) {
	d := bot.NewDirectory(bot.Config{
		People:   []bot.Person{{Name: "alice", IDs: []string{"slack:U0ALICE"}}},
		Services: []bot.Service{{Name: "payments", Owners: []string{"alice", "slack:U0CAROL"}}},
	})
	start := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	u := &bot.Upgrade{ID: 1, Service: "payments", Version: "v2.4.0", Start: start, End: start.Add(2 * time.Hour), State: bot.Scheduled,
		Owners: d.OwnerKeys("payments"), Audience: d.Audience("payments")}
	m := NewMessenger(time.UTC, d)
	ctx := context.Background()
	if _, err := m.Post(ctx, "console:#payments", d.Root(u, nil)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"slack:U0ALICE", "slack:U0CAROL"} {
		if _, err := m.Direct(ctx, id, bot.Message{}); err != nil {
			t.Fatal(err)
		}
	}
	got := m.Drain()
	for _, want := range []string{"waiting for @alice @U0CAROL", "── direct message to @alice (slack:U0ALICE)\n", "── direct message to @U0CAROL (slack:U0CAROL)\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("the transcript lacks %q:\n%s", want, got)
		}
	}
}
