package bottest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/upgradebot/upgradebot/bot"
)

// memWindows is MemStore's bot.FreezeStore and bot.SeriesStore. Values are
// kept as JSON, as the Redis store keeps them, so that a caller changing
// what it passed or got changes nothing stored.
type memWindows struct {
	wmu       sync.Mutex
	freezes   map[string]string // name -> JSON
	seriesSeq int
	series    map[int]string         // id -> JSON
	occ       map[int]map[string]int // series -> date -> upgrade
	versions  map[string]int         // service, version, date -> series
}

var (
	_ bot.FreezeStore = (*MemStore)(nil)
	_ bot.SeriesStore = (*MemStore)(nil)
)

func encode(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// Freezes implements bot.FreezeStore.
func (m *memWindows) Freezes(context.Context) ([]bot.Freeze, error) {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	var out []bot.Freeze
	for _, name := range slices.Sorted(maps.Keys(m.freezes)) {
		var f bot.Freeze
		if err := json.Unmarshal([]byte(m.freezes[name]), &f); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// SaveFreeze implements bot.FreezeStore.
func (m *memWindows) SaveFreeze(_ context.Context, name string, f, prev *bot.Freeze) error {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	cur, ok := m.freezes[name]
	if ok != (prev != nil) || ok && cur != encode(prev) {
		return fmt.Errorf("memstore: save freeze %s: %w", name, bot.ErrConflict)
	}
	if m.freezes == nil {
		m.freezes = map[string]string{}
	}
	if f == nil {
		delete(m.freezes, name)
	} else {
		m.freezes[name] = encode(f)
	}
	return nil
}

// NextSeriesID implements bot.SeriesStore.
func (m *memWindows) NextSeriesID(context.Context) (int, error) {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	m.seriesSeq++
	return m.seriesSeq, nil
}

// SaveSeries implements bot.SeriesStore.
func (m *memWindows) SaveSeries(_ context.Context, s *bot.Series) error {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	rev := 0
	if cur, ok := m.series[s.ID]; ok {
		var old bot.Series
		if err := json.Unmarshal([]byte(cur), &old); err != nil {
			return err
		}
		rev = old.Rev
	}
	if rev != s.Rev-1 {
		return fmt.Errorf("memstore: save series %d: %w", s.ID, bot.ErrConflict)
	}
	if m.series == nil {
		m.series = map[int]string{}
	}
	m.series[s.ID] = encode(s)
	return nil
}

// AddSeries implements bot.SeriesStore.
func (m *memWindows) AddSeries(_ context.Context, s *bot.Series) (int, error) {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	if s.Rev != 1 {
		return 0, fmt.Errorf("memstore: add series %d: revision %d, not 1", s.ID, s.Rev)
	}
	if _, ok := m.series[s.ID]; ok {
		return 0, fmt.Errorf("memstore: add series %d: %w", s.ID, bot.ErrConflict)
	}
	for _, id := range slices.Sorted(maps.Keys(m.series)) {
		var o bot.Series
		if err := json.Unmarshal([]byte(m.series[id]), &o); err != nil {
			return 0, err
		}
		if o.State == bot.SeriesActive && strings.EqualFold(o.Service, s.Service) && strings.EqualFold(o.Version, s.Version) && o.Every == s.Every {
			return o.ID, nil
		}
	}
	if m.series == nil {
		m.series = map[int]string{}
	}
	m.series[s.ID] = encode(s)
	return 0, nil
}

// GetSeries implements bot.SeriesStore.
func (m *memWindows) GetSeries(_ context.Context, id int) (*bot.Series, error) {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	cur, ok := m.series[id]
	if !ok {
		return nil, fmt.Errorf("memstore: series %d: %w", id, bot.ErrNotFound)
	}
	var s bot.Series
	if err := json.Unmarshal([]byte(cur), &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// ListSeries implements bot.SeriesStore.
func (m *memWindows) ListSeries(ctx context.Context) ([]*bot.Series, error) {
	m.wmu.Lock()
	ids := slices.Sorted(maps.Keys(m.series))
	m.wmu.Unlock()
	var out []*bot.Series
	for _, id := range ids {
		s, err := m.GetSeries(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// ClaimOccurrence implements bot.SeriesStore.
func (m *memWindows) ClaimOccurrence(_ context.Context, series int, date string, upgrade int) (int, bool, error) {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	if m.occ == nil {
		m.occ = map[int]map[string]int{}
	}
	if m.occ[series] == nil {
		m.occ[series] = map[string]int{}
	}
	if cur, ok := m.occ[series][date]; ok {
		return cur, false, nil
	}
	m.occ[series][date] = upgrade
	return upgrade, true, nil
}

// ClaimVersion implements bot.SeriesStore.
func (m *memWindows) ClaimVersion(_ context.Context, service, version, date string, series int) (int, error) {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	key := strings.ToLower(service) + "\x00" + strings.ToLower(version) + "\x00" + date
	if cur, ok := m.versions[key]; ok {
		return cur, nil
	}
	if m.versions == nil {
		m.versions = map[string]int{}
	}
	m.versions[key] = series
	return series, nil
}

// ReleaseVersion implements bot.SeriesStore.
func (m *memWindows) ReleaseVersion(_ context.Context, service, version, date string, series int) error {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	key := strings.ToLower(service) + "\x00" + strings.ToLower(version) + "\x00" + date
	if cur, ok := m.versions[key]; ok && cur == series {
		delete(m.versions, key)
	}
	return nil
}

// Occurrences implements bot.SeriesStore.
func (m *memWindows) Occurrences(_ context.Context, series int) (map[string]int, error) {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	return maps.Clone(m.occ[series]), nil
}
