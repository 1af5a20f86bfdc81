package slack

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
)

// A burst of presses by members of a user group nobody has looked up yet
// makes one usergroups.users.list call (Slack rate limits it), not one per
// press; once the members are known, a press never waits for Slack again:
// after the cache's time the known members serve while one look-up
// refreshes them, and a failed look-up is not tried again at once.
func TestGroupMembersAreLookedUpOnceAtATime(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.a.groups = groupCache{ids: []string{"S1"}, members: map[string]groupEntry{}, loading: map[string]chan struct{}{}}
	f.api.SetGroup("S1", "U1")
	// The first look-up is slow, so the burst arrives while it runs.
	f.api.FailNext("usergroups.users.list", slacktestapi.Fault{Delay: 300 * time.Millisecond, Status: 200})
	ctx := context.Background()
	var wg sync.WaitGroup
	got := make([][]string, 20)
	for i := range got {
		wg.Go(func() { got[i], _ = f.a.groupsOf(ctx, "U1") })
	}
	wg.Wait()
	for i, g := range got {
		if !slices.Equal(g, []string{"slack:S1"}) {
			t.Fatalf("press %d: groups %v, want [slack:S1]", i, g)
		}
	}
	if n := f.api.Count("usergroups.users.list"); n != 1 {
		t.Fatalf("%d usergroups.users.list calls for a burst of 20 presses, want 1", n)
	}

	// The members change; after the cache's time the last known ones serve
	// while one look-up refreshes them.
	f.api.SetGroup("S1", "U2")
	f.clock.add(groupTTL + time.Second)
	if g, _ := f.a.groupsOf(ctx, "U1"); !slices.Equal(g, []string{"slack:S1"}) {
		t.Fatalf("groups of U1 while refreshing: %v, want the last known [slack:S1]", g)
	}
	f.api.Eventually(t, 5*time.Second, "the refreshed members", func() bool {
		return slices.Equal(first(f.a.groupsOf(ctx, "U2")), []string{"slack:S1"})
	})
	if g, _ := f.a.groupsOf(ctx, "U1"); len(g) != 0 {
		t.Fatalf("groups of U1 after the refresh: %v, want none", g)
	}
	if n := f.api.Count("usergroups.users.list"); n != 2 {
		t.Fatalf("%d usergroups.users.list calls, want 2", n)
	}

	// A look-up that fails keeps the known members, and the next try waits
	// for groupRetry, not for the next press.
	f.clock.add(groupTTL + time.Second)
	f.api.FailAlways("usergroups.users.list", slacktestapi.Fault{Error: "ratelimited"})
	f.a.groupsOf(ctx, "U2")
	f.api.Eventually(t, 5*time.Second, "the failed look-up to end", func() bool {
		f.a.groups.mu.Lock()
		defer f.a.groups.mu.Unlock()
		return len(f.a.groups.loading) == 0
	})
	calls := len(f.api.Calls("usergroups.users.list")) // failed calls too (Count counts answered ones)
	for range 5 {
		if g, _ := f.a.groupsOf(ctx, "U2"); !slices.Equal(g, []string{"slack:S1"}) {
			t.Fatalf("groups of U2 after a failed look-up: %v, want the last known [slack:S1]", g)
		}
	}
	if n := len(f.api.Calls("usergroups.users.list")); n != calls {
		t.Fatalf("%d more usergroups.users.list calls within a minute of a failed one, want none", n-calls)
	}
	// A minute on, it is tried again.
	f.clock.add(groupRetry + time.Second)
	f.a.groupsOf(ctx, "U2")
	f.api.Eventually(t, 5*time.Second, "the next try", func() bool { return len(f.api.Calls("usergroups.users.list")) == calls+1 })
}

// A group whose very first look-up fails is not asked again by every
// press for a minute (usergroups.users.list is rate limited): no member
// counts meanwhile.
func TestAGroupWhoseFirstLookUpFailsIsNotAskedAgainAtOnce(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.a.groups = groupCache{ids: []string{"S1"}, members: map[string]groupEntry{}, loading: map[string]chan struct{}{}}
	f.api.SetGroup("S1", "U1")
	f.api.FailAlways("usergroups.users.list", slacktestapi.Fault{Error: "ratelimited"})
	ctx := context.Background()
	for range 10 {
		if g, unknown := f.a.groupsOf(ctx, "U1"); len(g) != 0 || !unknown {
			t.Fatalf("groups of U1 while Slack refuses: %v (unknown %v), want none, and unknown", g, unknown)
		}
	}
	if n := len(f.api.Calls("usergroups.users.list")); n != 1 {
		t.Fatalf("%d usergroups.users.list calls for 10 presses after a refusal, want 1", n)
	}
	// The core hears that the presser's groups are unknown (it tells her
	// the press counts for her alone).
	var in interaction
	in.User.ID = "U1"
	if a := f.a.actor(ctx, in); !a.GroupsUnknown || len(a.Groups) != 0 {
		t.Fatalf("actor while Slack refuses: %+v, want no groups and GroupsUnknown", a)
	}
	f.api.ClearFaults()
	f.clock.add(groupRetry + time.Second)
	// The press a minute on waits for the look-up (none is known to serve
	// meanwhile), so it counts for the group at once.
	if g, unknown := f.a.groupsOf(ctx, "U1"); !slices.Equal(g, []string{"slack:S1"}) || unknown {
		t.Fatalf("groups of U1 a minute on, Slack answering: %v (unknown %v), want [slack:S1] at once", g, unknown)
	}
	if a := f.a.actor(ctx, in); a.GroupsUnknown || !slices.Equal(a.Groups, []string{"slack:S1"}) {
		t.Fatalf("actor once Slack answered: %+v", a)
	}
}

// first is the first of two results.
func first[A, B any](a A, _ B) A { return a }
