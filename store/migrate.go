package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Keys in the stream's slot. The shared stream's name, <prefix>:events,
// has no braces, so Redis Cluster hashes all of it; a key that a script
// touches together with the stream carries that whole name as its hash tag:
// <prefix>:{<prefix>:events}:<name>. It starts with the prefix like every
// other key, and its tag comes first, before the variable part (a group's
// name), so nothing after it can move it to another slot.
func (s *Store) eventsSlotKey(name string) string {
	return s.prefix + ":{" + s.eventsKey() + "}:" + name
}

// The names these keys had up to this version: the tag first, so they did
// not start with the prefix. They are in the same slot as the new ones.
// A Redis user whose ACL grants the prefix alone (~<prefix>:*) may not
// touch them, so nothing it wrote is there: once Redis says so (NOPERM,
// legacyRetry), the scripts get a key under the prefix in the same slot
// that is never written instead, and adopt nothing.
func (s *Store) legacyRelayedKey() string {
	if s.noLegacy.Load() {
		return s.eventsSlotKey("no-legacy")
	}
	return "{" + s.eventsKey() + "}:relayed"
}

func (s *Store) legacyLostKey(group string) string {
	if s.noLegacy.Load() {
		return s.eventsSlotKey("no-legacy")
	}
	return "{" + s.eventsKey() + "}:lost:" + group
}

// legacyRetry runs a script call whose keys include an old name, and when
// Redis refuses it for the keys (NOPERM: the user's ACL grants only the
// prefix) runs it once more without the old names (noLegacy).
func legacyRetry[T any](ctx context.Context, s *Store, run func() (T, error)) (T, error) {
	withLegacy := !s.noLegacy.Load() // this attempt names the old keys
	v, err := run()
	if err == nil || !noPerm(err) || !withLegacy {
		return v, err
	}
	// Another call may have found it out meanwhile: run again all the
	// same, this time without the old names.
	if s.noLegacy.CompareAndSwap(false, true) {
		s.log.InfoContext(ctx, "redis: this user may not use the key names of earlier versions; nothing is adopted from them", "keys", "{"+s.eventsKey()+"}:*")
	}
	return run()
}

// noPerm reports whether Redis refused a call for the user's permissions.
func noPerm(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr) && strings.HasPrefix(rerr.Error(), "NOPERM")
}

// adoptLua folds a key of the old layout into its new name, inside the
// script that is about to use the new one, so that what a replica of an
// older version writes during a rolling upgrade is not left behind. While
// the old key is absent, which is always once the upgrade is over, it costs
// one EXISTS.
//
// adoptRelayed: the old set of relayed event ids is renamed, or, when the
// new one exists already, merged into it (a member in both keeps the later
// time). adoptLost: the old record of lost events is renamed, or merged:
// the counts add up, and the last loss is the later of the two.
const adoptLua = `
local function adoptRelayed(old, new)
  if redis.call('EXISTS', old) == 0 then return end
  if redis.call('EXISTS', new) == 0 then
    redis.call('RENAME', old, new)
    return
  end
  redis.call('ZUNIONSTORE', new, 2, new, old, 'AGGREGATE', 'MAX')
  redis.call('DEL', old)
end

local function adoptLost(old, new)
  if redis.call('EXISTS', old) == 0 then return end
  if redis.call('EXISTS', new) == 0 then
    redis.call('RENAME', old, new)
    return
  end
  local o = {}
  local raw = redis.call('HGETALL', old)
  for i = 1, #raw, 2 do o[raw[i]] = raw[i + 1] end
  if o['lost'] then redis.call('HINCRBY', new, 'lost', o['lost']) end
  local at = tonumber(redis.call('HGET', new, 'last_at') or '0') or 0
  if o['last_at'] and (tonumber(o['last_at']) or 0) > at then
    redis.call('HSET', new, 'last_at', o['last_at'], 'last_count', o['last_count'] or '0',
      'last_exact', o['last_exact'] or '0', 'last_after', o['last_after'] or '', 'last_before', o['last_before'] or '')
  end
  redis.call('DEL', old)
end
`

// migrateRelayedScript and migrateLostScript adopt one old key.
//
// KEYS: old, new.
var (
	migrateRelayedScript = redis.NewScript(adoptLua + `adoptRelayed(KEYS[1], KEYS[2]) return 1`)
	migrateLostScript    = redis.NewScript(adoptLua + `adoptLost(KEYS[1], KEYS[2]) return 1`)
)

// MigrateKeys moves the keys that earlier versions kept outside the prefix
// ({<prefix>:events}:relayed and {<prefix>:events}:lost:<group>) to their
// names under it, merging them into the new keys when both exist. Each key
// moves in one script, in its slot (old and new names share it), so
// replicas that start together, or a run repeated, do no harm. Lost
// records are looked for by the stream's consumer groups: the record of a
// group destroyed by hand is left (docs/redis.md). The scripts that use
// these keys adopt an old one by themselves too (adoptLua), so a failed or
// missed run loses nothing: serve runs it at start and retries.
func (s *Store) MigrateKeys(ctx context.Context) error {
	if _, err := legacyRetry(ctx, s, func() (any, error) {
		return nil, migrateRelayedScript.Run(ctx, s.client, []string{s.legacyRelayedKey(), s.relayedKey()}).Err()
	}); err != nil {
		return fmt.Errorf("store: migrate %s: %w", s.legacyRelayedKey(), err)
	}
	groups, err := s.client.XInfoGroups(ctx, s.eventsKey()).Result()
	if err != nil {
		if errors.Is(err, redis.Nil) || strings.Contains(err.Error(), "no such key") {
			return nil // no stream, no groups
		}
		return fmt.Errorf("store: migrate: list the consumer groups of %s: %w", s.eventsKey(), err)
	}
	for _, g := range groups {
		if _, err := legacyRetry(ctx, s, func() (any, error) {
			return nil, migrateLostScript.Run(ctx, s.client, []string{s.legacyLostKey(g.Name), s.lostKey(g.Name)}).Err()
		}); err != nil {
			return fmt.Errorf("store: migrate %s: %w", s.legacyLostKey(g.Name), err)
		}
	}
	return nil
}
