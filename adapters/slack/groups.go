package slack

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// How long the members of a user group are trusted, and how long looking
// them up may take out of a command's 3-second budget.
const (
	groupTTL           = 10 * time.Minute
	groupLookupTimeout = 800 * time.Millisecond
)

// groupCache knows the members of the Slack user groups the configuration
// names as owners or admins (slack:S…), so that a member can act for the
// group: change its services' upgrades and acknowledge on its behalf.
type groupCache struct {
	ids []string // the configured groups, without the prefix

	mu      sync.Mutex
	members map[string]groupEntry
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
// Members are cached; a group Slack does not answer for in time counts with
// its last known members (or none), and the command goes on.
func (a *Adapter) groupsOf(ctx context.Context, user string) []string {
	if len(a.groups.ids) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, groupLookupTimeout)
	defer cancel()
	var out []string
	for _, id := range a.groups.ids {
		if a.groupMembers(ctx, id)[user] {
			out = append(out, Platform+":"+id)
		}
	}
	return out
}

func (a *Adapter) groupMembers(ctx context.Context, id string) map[string]bool {
	c := &a.groups
	c.mu.Lock()
	e, ok := c.members[id]
	c.mu.Unlock()
	if ok && a.now().Before(e.expires) {
		return e.users
	}
	users, err := a.api.GetUserGroupMembersContext(ctx, id)
	a.observe("usergroups.users.list", err)
	if err != nil {
		a.log.WarnContext(ctx, "usergroups.users.list failed; using the last known members", "group", id, "code", errorCode(err))
		return e.users
	}
	set := make(map[string]bool, len(users))
	for _, u := range users {
		set[u] = true
	}
	c.mu.Lock()
	c.members[id] = groupEntry{users: set, expires: a.now().Add(groupTTL)}
	c.mu.Unlock()
	return set
}
