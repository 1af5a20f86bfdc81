package slack

import (
	"context"
	"strings"
	"sync"
	"time"
)

// tzCache remembers each user's Slack time zone (users.info tz) for a while,
// so a command pays for the lookup at most once an hour per user.
type tzCache struct {
	mu  sync.Mutex
	max int
	now func() time.Time
	m   map[string]tzEntry
}

type tzEntry struct {
	loc     *time.Location // nil: unknown, use the default zone
	expires time.Time
}

func newTZCache(max int, now func() time.Time) *tzCache {
	return &tzCache{max: max, now: now, m: map[string]tzEntry{}}
}

func (c *tzCache) get(user string) (*time.Location, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[user]
	if !ok || !c.now().Before(e.expires) {
		return nil, false
	}
	return e.loc, true
}

func (c *tzCache) put(user string, loc *time.Location, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.m) >= c.max {
		for k, e := range c.m {
			if !now.Before(e.expires) {
				delete(c.m, k)
			}
		}
		// Still full of fresh entries: drop arbitrary ones rather than grow.
		for k := range c.m {
			if len(c.m) < c.max {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[user] = tzEntry{loc: loc, expires: now.Add(ttl)}
}

func (c *tzCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// location returns the user's Slack time zone, or nil (the bot's
// default_timezone) when Slack does not say or does not answer in time. The
// lookup is bounded so that it never costs the command its 3-second answer.
func (a *Adapter) location(ctx context.Context, user string) *time.Location {
	if loc, ok := a.tz.get(user); ok {
		return loc
	}
	ctx, cancel := context.WithTimeout(ctx, tzLookupTimeout)
	defer cancel()
	u, err := a.api.GetUserInfoContext(ctx, user)
	a.observe("users.info", err)
	if err != nil {
		a.log.WarnContext(ctx, "users.info failed; using the default time zone", "user", user, "code", errorCode(err))
		a.tz.put(user, nil, tzFailureTTL)
		return nil
	}
	var loc *time.Location
	if u != nil && u.TZ != "" {
		if l, err := time.LoadLocation(u.TZ); err == nil {
			loc = l
		} else {
			a.log.WarnContext(ctx, "unknown Slack time zone; using the default", "user", user, "tz", u.TZ)
		}
	}
	a.tz.put(user, loc, tzTTL)
	return loc
}

// errorCode names a failure for logs without its full text.
func errorCode(err error) string {
	_, _, code := classify(err)
	return code
}

// shownCode is errorCode for people to read: Slack's codes are short
// snake_case words (channel_not_found); anything else in that field is a
// server's own text, which may echo what it was sent (the token), and is
// not shown.
func shownCode(err error) string {
	code := errorCode(err)
	if len(code) > 64 || strings.Trim(code, "abcdefghijklmnopqrstuvwxyz0123456789_.") != "" {
		return "an answer that is not a Slack error code"
	}
	return code
}
