package slack

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/upgradebot/upgradebot/bot"
)

// How long the members of a user group are trusted; how long a press or a
// command waits for the first look-up of a group out of its 3-second
// budget; how long that look-up may take on its own; and, after a failed
// look-up, how long the last known members serve before the next try.
const (
	groupTTL           = 10 * time.Minute
	groupLookupTimeout = 800 * time.Millisecond
	groupLookupLimit   = 10 * time.Second
	groupRetry         = time.Minute
)

// groupCache knows the members of the Slack user groups the configuration
// names as owners or admins (slack:S…), so that a member can act for the
// group: change its services' upgrades and acknowledge on its behalf.
//
// A group is looked up once at a time, however many presses ask for it
// (usergroups.users.list is rate limited, Tier 2), and once its members
// are known nobody waits for Slack again: after groupTTL the known members
// serve while one look-up in the background refreshes them.
type groupCache struct {
	ids []string // the configured groups, without the prefix

	mu      sync.Mutex
	members map[string]groupEntry
	loading map[string]chan struct{} // closed when the group's look-up ends
}

type groupEntry struct {
	users   map[string]bool
	expires time.Time
}

// configuredGroups picks the Slack user groups among the configured group
// entries.
func configuredGroups(entries []string) []string {
	var ids []string
	for _, e := range entries {
		if rest, ok := strings.CutPrefix(e, Platform+":S"); ok && rest != "" && !slices.Contains(ids, "S"+rest) {
			ids = append(ids, "S"+rest)
		}
	}
	return ids
}

// groupsOf returns the configured groups ("slack:S…") that user belongs to.
// Members are cached; a group Slack does not answer for in time
// (groupLookupTimeout) counts with its last known members (or none), and
// the command goes on. unknown says that Slack has not told the members
// of some group yet (its look-up failed, or is slow): user may be in it.
func (a *Adapter) groupsOf(ctx context.Context, user string) (groups []string, unknown bool) {
	if len(a.groups.ids) == 0 {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(ctx, groupLookupTimeout)
	defer cancel()
	for _, id := range a.groups.ids {
		a.groupLookup(id) // every group's look-up under way at once
	}
	for _, id := range a.groups.ids {
		members := a.groupMembers(ctx, id)
		switch {
		case members == nil: // never answered (a known group, even empty, is a map)
			unknown = true
		case members[user]:
			groups = append(groups, Platform+":"+id)
		}
	}
	return groups, unknown
}

// actorGroups sets actor's groups, and whether some are unknown.
func (a *Adapter) actorGroups(ctx context.Context, actor *bot.Actor, user string) {
	actor.Groups, actor.GroupsUnknown = a.groupsOf(ctx, user)
}

// groupMembers returns the members of group id: the cached ones while
// they are fresh; the last known ones, when stale, while one look-up
// refreshes them; else it waits, until ctx ends, for the one look-up of
// the group under way.
func (a *Adapter) groupMembers(ctx context.Context, id string) map[string]bool {
	users, done := a.groupLookup(id)
	if done == nil {
		return users
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
	c := &a.groups
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.members[id].users
}

// groupLookup returns the known members of group id, and when they are not
// fresh starts the group's look-up unless one is under way. done is the
// look-up to wait for when no members are known; nil when they are.
func (a *Adapter) groupLookup(id string) (users map[string]bool, done chan struct{}) {
	c := &a.groups
	c.mu.Lock()
	defer c.mu.Unlock()
	e, known := c.members[id]
	if known && a.now().Before(e.expires) {
		return e.users, nil
	}
	done, busy := c.loading[id]
	if !busy {
		done = make(chan struct{})
		c.loading[id] = done
		go a.lookUpGroup(id, done)
	}
	if known && e.users != nil {
		return e.users, nil
	}
	return nil, done // never answered (its last look-up failed): this one is waited for
}

// lookUpGroup asks Slack for the members of group id and keeps them; a
// failure keeps the last known members (if any) for groupRetry. It closes
// done when it is over.
func (a *Adapter) lookUpGroup(id string, done chan struct{}) {
	c := &a.groups
	ctx, cancel := context.WithTimeout(context.Background(), groupLookupLimit)
	defer cancel()
	users, err := a.api.GetUserGroupMembersContext(ctx, id)
	a.observe("usergroups.users.list", err)
	c.mu.Lock()
	defer c.mu.Unlock()
	defer close(done)
	delete(c.loading, id)
	if err != nil {
		a.log.WarnContext(ctx, "usergroups.users.list failed; using the last known members", "group", id, "code", errorCode(err))
		// The last known members (none before the first answer) count
		// until the next try, a minute on: every press does not ask a
		// rate-limited Slack again, nor wait for it.
		c.members[id] = groupEntry{users: c.members[id].users, expires: a.now().Add(groupRetry)}
		return
	}
	set := make(map[string]bool, len(users))
	for _, u := range users {
		set[u] = true
	}
	c.members[id] = groupEntry{users: set, expires: a.now().Add(groupTTL)}
}
