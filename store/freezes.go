package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/redis/go-redis/v9"

	"github.com/upgradebot/upgradebot/bot"
)

// The freezes admins declare by command: one hash, name -> JSON, under its
// own hash tag. They are few, so every read takes them all.
func (s *Store) freezesKey() string { return s.prefix + ":{freezes}" }

var _ bot.FreezeStore = (*Store)(nil)

// casFieldScript sets (or, with an empty value, deletes) one field of a
// hash if it still holds what the caller read (empty: absent).
//
// KEYS: hash. ARGV: field, the expected value (empty: absent), the new
// value (empty: delete). Returns 1, or 0 when the field held something else.
var casFieldScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur == false then cur = '' end
if cur ~= ARGV[2] then return 0 end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
return 1
`)

// Freezes implements bot.FreezeStore: every stored freeze, by name.
func (s *Store) Freezes(ctx context.Context) ([]bot.Freeze, error) {
	all, err := s.client.HGetAll(ctx, s.freezesKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("store: freezes: %w", err)
	}
	out := make([]bot.Freeze, 0, len(all))
	for _, name := range slices.Sorted(maps.Keys(all)) {
		var f bot.Freeze
		if err := json.Unmarshal([]byte(all[name]), &f); err != nil {
			return nil, fmt.Errorf("store: freeze %s: %w", name, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// SaveFreeze implements bot.FreezeStore: compare-and-set on the freeze's
// JSON as Freezes returned it.
func (s *Store) SaveFreeze(ctx context.Context, name string, f, prev *bot.Freeze) error {
	enc := func(f *bot.Freeze) (string, error) {
		if f == nil {
			return "", nil
		}
		b, err := json.Marshal(f)
		return string(b), err
	}
	want, err := enc(prev)
	if err != nil {
		return fmt.Errorf("store: save freeze %s: %w", name, err)
	}
	val, err := enc(f)
	if err != nil {
		return fmt.Errorf("store: save freeze %s: %w", name, err)
	}
	ok, err := casFieldScript.Run(ctx, s.client, []string{s.freezesKey()}, name, want, val).Int()
	if err != nil {
		return fmt.Errorf("store: save freeze %s: %w", name, err)
	}
	if ok == 0 {
		return fmt.Errorf("store: save freeze %s: %w", name, bot.ErrConflict)
	}
	return nil
}
