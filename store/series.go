package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/upgradebot/upgradebot/bot"
)

// Recurring upgrades live under the hash tag {series}: their numbers, their
// records with a revision beside each for compare-and-set, and per series
// the upgrade each occurrence's date became.
func (s *Store) seriesKey(name string) string { return s.prefix + ":{series}:" + name }
func (s *Store) occKey(series int) string {
	return s.seriesKey("occ:" + strconv.Itoa(series))
}

var _ bot.SeriesStore = (*Store)(nil)

// saveSeriesScript stores a series if its stored revision is one less.
//
// KEYS: data, rev. ARGV: id, new rev, json. Returns 1, or 0 on a conflict.
var saveSeriesScript = redis.NewScript(`
local cur = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if cur ~= tonumber(ARGV[2]) - 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
`)

// addSeriesScript stores a new series unless an active one of its service
// and version (compared in lower case) and its recurrence is stored. The
// series are few (one a week each at most is created), so every stored
// one is read; all under {series}, one slot in a cluster.
//
// KEYS: data, rev. ARGV: id, json, service, version, every. Returns 0 when
// stored, the id of the series that holds them, or -1 when a series of
// that id is stored already.
var addSeriesScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return -1 end
local svc, ver = string.lower(ARGV[3]), string.lower(ARGV[4])
for _, js in ipairs(redis.call('HVALS', KEYS[1])) do
  local s = cjson.decode(js)
  if s.state == 'active' and type(s.service) == 'string' and type(s.version) == 'string' and
     string.lower(s.service) == svc and string.lower(s.version) == ver and s.every == ARGV[5] then
    return s.id
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], 1)
return 0
`)

// AddSeries implements bot.SeriesStore.
func (s *Store) AddSeries(ctx context.Context, sr *bot.Series) (int, error) {
	if sr.Rev != 1 {
		return 0, fmt.Errorf("store: add series %d: revision %d, not 1", sr.ID, sr.Rev)
	}
	js, err := json.Marshal(sr)
	if err != nil {
		return 0, fmt.Errorf("store: add series %d: %w", sr.ID, err)
	}
	keys := []string{s.seriesKey("data"), s.seriesKey("rev")}
	n, err := addSeriesScript.Run(ctx, s.client, keys, sr.ID, js, sr.Service, sr.Version, sr.Every).Int()
	switch {
	case err != nil:
		return 0, fmt.Errorf("store: add series %d: %w", sr.ID, err)
	case n < 0:
		return 0, fmt.Errorf("store: add series %d: %w", sr.ID, bot.ErrConflict)
	}
	return n, nil
}

// NextSeriesID implements bot.SeriesStore.
func (s *Store) NextSeriesID(ctx context.Context) (int, error) {
	n, err := s.client.Incr(ctx, s.seriesKey("seq")).Result()
	if err != nil {
		return 0, fmt.Errorf("store: next series id: %w", err)
	}
	return int(n), nil
}

// SaveSeries implements bot.SeriesStore.
func (s *Store) SaveSeries(ctx context.Context, sr *bot.Series) error {
	js, err := json.Marshal(sr)
	if err != nil {
		return fmt.Errorf("store: save series %d: %w", sr.ID, err)
	}
	keys := []string{s.seriesKey("data"), s.seriesKey("rev")}
	ok, err := saveSeriesScript.Run(ctx, s.client, keys, sr.ID, sr.Rev, js).Int()
	if err != nil {
		return fmt.Errorf("store: save series %d: %w", sr.ID, err)
	}
	if ok == 0 {
		return fmt.Errorf("store: save series %d: %w", sr.ID, bot.ErrConflict)
	}
	return nil
}

// GetSeries implements bot.SeriesStore.
func (s *Store) GetSeries(ctx context.Context, id int) (*bot.Series, error) {
	js, err := s.client.HGet(ctx, s.seriesKey("data"), strconv.Itoa(id)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("store: series %d: %w", id, bot.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("store: series %d: %w", id, err)
	}
	var sr bot.Series
	if err := json.Unmarshal([]byte(js), &sr); err != nil {
		return nil, fmt.Errorf("store: series %d: %w", id, err)
	}
	return &sr, nil
}

// ListSeries implements bot.SeriesStore.
func (s *Store) ListSeries(ctx context.Context) ([]*bot.Series, error) {
	all, err := s.client.HGetAll(ctx, s.seriesKey("data")).Result()
	if err != nil {
		return nil, fmt.Errorf("store: list series: %w", err)
	}
	out := make([]*bot.Series, 0, len(all))
	for _, js := range all {
		var sr bot.Series
		if err := json.Unmarshal([]byte(js), &sr); err != nil {
			return nil, fmt.Errorf("store: list series: %w", err)
		}
		out = append(out, &sr)
	}
	slices.SortFunc(out, func(a, b *bot.Series) int { return a.ID - b.ID })
	return out, nil
}

// ClaimOccurrence implements bot.SeriesStore with HSETNX: the first caller
// records its upgrade for the date; every caller reads what is recorded.
func (s *Store) ClaimOccurrence(ctx context.Context, series int, date string, upgrade int) (int, bool, error) {
	first, err := s.client.HSetNX(ctx, s.occKey(series), date, upgrade).Result()
	if err != nil {
		return 0, false, fmt.Errorf("store: claim %s of series %d: %w", date, series, err)
	}
	if first {
		return upgrade, true, nil
	}
	v, err := s.client.HGet(ctx, s.occKey(series), date).Int()
	if err != nil {
		return 0, false, fmt.Errorf("store: claim %s of series %d: %w", date, series, err)
	}
	return v, false, nil
}

// versionKey is the hash of the dates a version of a service is shipped
// on by a series: date -> series.
func (s *Store) versionKey(service, version string) string {
	return s.seriesKey("version:" + strings.ToLower(service) + ":" + strings.ToLower(version))
}

// releaseVersionScript deletes a date's claim when it is the series'.
//
// KEYS: the version's hash. ARGV: date, series.
var releaseVersionScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
`)

// ReleaseVersion implements bot.SeriesStore.
func (s *Store) ReleaseVersion(ctx context.Context, service, version, date string, series int) error {
	if err := releaseVersionScript.Run(ctx, s.client, []string{s.versionKey(service, version)}, date, strconv.Itoa(series)).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("store: release %s %s on %s of series %d: %w", service, version, date, series, err)
	}
	return nil
}

// ClaimVersion implements bot.SeriesStore with HSETNX, as ClaimOccurrence.
func (s *Store) ClaimVersion(ctx context.Context, service, version, date string, series int) (int, error) {
	key := s.versionKey(service, version)
	first, err := s.client.HSetNX(ctx, key, date, series).Result()
	if err != nil {
		return 0, fmt.Errorf("store: claim %s %s on %s: %w", service, version, date, err)
	}
	if first {
		return series, nil
	}
	v, err := s.client.HGet(ctx, key, date).Int()
	if err != nil {
		return 0, fmt.Errorf("store: claim %s %s on %s: %w", service, version, date, err)
	}
	return v, nil
}

// Occurrences implements bot.SeriesStore.
func (s *Store) Occurrences(ctx context.Context, series int) (map[string]int, error) {
	all, err := s.client.HGetAll(ctx, s.occKey(series)).Result()
	if err != nil {
		return nil, fmt.Errorf("store: occurrences of series %d: %w", series, err)
	}
	out := make(map[string]int, len(all))
	for _, date := range slices.Sorted(maps.Keys(all)) {
		n, err := strconv.Atoi(all[date])
		if err != nil {
			return nil, fmt.Errorf("store: occurrence %s of series %d: %w", date, series, err)
		}
		out[date] = n
	}
	return out, nil
}
