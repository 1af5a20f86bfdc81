package bottest

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/upgradebot/upgradebot/bot"
)

// MemStore is an in-memory bot.Store and bot.NoticeLog for the core's unit
// tests. The contract suite (StoreContract) runs against it and against the
// Redis store, so the two cannot drift apart.
type MemStore struct {
	mu      sync.Mutex
	seq     int
	ups     map[int]*bot.Upgrade
	acks    map[int][]bot.Ack
	log     map[int][]bot.Decision
	events  []bot.Event
	pending map[string]bot.PendingNotice
	score   map[string]time.Time
	marks   map[string][]string
	// deliveries are the presses recorded, by upgrade and delivery id.
	deliveries map[string]bool
	memWindows // freezes and series (memwindows.go)
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{ups: map[int]*bot.Upgrade{}, acks: map[int][]bot.Ack{}, log: map[int][]bot.Decision{},
		pending: map[string]bot.PendingNotice{}, score: map[string]time.Time{}, marks: map[string][]string{},
		deliveries: map[string]bool{}}
}

var (
	_ bot.Store     = (*MemStore)(nil)
	_ bot.NoticeLog = (*MemStore)(nil)
)

// NextID implements bot.Store.
func (m *MemStore) NextID(context.Context) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	return m.seq, nil
}

// Create implements bot.Store.
func (m *MemStore) Create(_ context.Context, u *bot.Upgrade, d bot.Decision) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.ups[u.ID]; ok {
		return fmt.Errorf("memstore: create upgrade %d: it exists already: %w", u.ID, bot.ErrConflict)
	}
	u.Rev = 1
	m.ups[u.ID] = u.Clone()
	m.log[u.ID] = append(m.log[u.ID], d)
	m.record(d.Event)
	return nil
}

// Get implements bot.Store.
func (m *MemStore) Get(_ context.Context, id int) (*bot.Upgrade, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.ups[id]
	if !ok {
		return nil, fmt.Errorf("memstore: upgrade %d: %w", id, bot.ErrNotFound)
	}
	return u.Clone(), nil
}

// Update implements bot.Store.
func (m *MemStore) Update(_ context.Context, u *bot.Upgrade, d bot.Decision) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.ups[u.ID]
	if !ok {
		return fmt.Errorf("memstore: update upgrade %d: %w", u.ID, bot.ErrNotFound)
	}
	if cur.Rev != u.Rev-1 {
		return fmt.Errorf("memstore: update upgrade %d: %w", u.ID, bot.ErrConflict)
	}
	m.ups[u.ID] = u.Clone()
	if d.Action != "" {
		m.log[u.ID] = append(m.log[u.ID], d)
	}
	m.record(d.Event)
	for _, e := range d.More {
		m.record(e)
	}
	return nil
}

// List implements bot.Store.
func (m *MemStore) List(_ context.Context, f bot.Filter) ([]*bot.Upgrade, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*bot.Upgrade
	for _, u := range m.ups {
		if f.Match(u) {
			out = append(out, u.Clone())
		}
	}
	sort.Slice(out, func(i, j int) bool { // ordered by start, as the Store contract says
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// Ack implements bot.Store: the state check, the delivery and every
// acknowledgment with its decision and event, under one lock.
func (m *MemStore) Ack(_ context.Context, id int, w bot.AckWrite) (bot.AckResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.ups[id]
	if !ok {
		return bot.AckResult{}, fmt.Errorf("memstore: ack upgrade %d: %w", id, bot.ErrNotFound)
	}
	if !u.State.AcceptsScope(w.Scope) {
		return bot.AckResult{Refused: true, State: u.State}, nil
	}
	if w.Delivery != "" {
		key := fmt.Sprintf("%d/%s", id, w.Delivery)
		if m.deliveries[key] {
			return bot.AckResult{Duplicate: true}, nil
		}
		m.deliveries[key] = true
	}
	res := bot.AckResult{Standing: make([]bot.Ack, len(w.Entries)), First: make([]bool, len(w.Entries))}
	for i, e := range w.Entries {
		res.Standing[i] = e.Ack
		if j := slices.IndexFunc(m.acks[id], func(x bot.Ack) bool { return x.Scope == e.Ack.Scope && x.Who == e.Ack.Who }); j >= 0 {
			res.Standing[i] = m.acks[id][j]
			continue
		}
		m.acks[id] = append(m.acks[id], e.Ack)
		m.log[id] = append(m.log[id], e.Decision)
		m.record(&e.Event)
		res.First[i] = true
	}
	return res, nil
}

// Acks implements bot.Store.
func (m *MemStore) Acks(_ context.Context, id int) ([]bot.Ack, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.acks[id])
	slices.SortFunc(out, func(a, b bot.Ack) int { // oldest first; ties by scope and who
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return cmp.Compare(a.Scope+"|"+a.Who, b.Scope+"|"+b.Who)
	})
	return out, nil
}

// Log implements bot.Store.
func (m *MemStore) Log(_ context.Context, id int) ([]bot.Decision, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.log[id]), nil
}

// Publish implements bot.Store.
func (m *MemStore) Publish(_ context.Context, _ int, e bot.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.record(&e)
	return nil
}

// record appends e, unless nil or recorded before (by id); m.mu is held.
func (m *MemStore) record(e *bot.Event) {
	if e == nil || slices.ContainsFunc(m.events, func(x bot.Event) bool { return x.ID == e.ID }) {
		return
	}
	c := *e
	if c.Data == nil { // as the store writes it: every event has its data
		c.Data = map[string]any{}
	}
	m.events = append(m.events, c)
}

// Events returns what was published, in order.
func (m *MemStore) Events() []bot.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.events)
}

// EventsAfter implements EventReader: positions are "<n>-0", n counting
// from 1.
func (m *MemStore) EventsAfter(_ context.Context, after string, max int) ([]bot.StreamEvent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	from := 0
	if after != "" {
		n, _, _ := strings.Cut(after, "-")
		from, _ = strconv.Atoi(n)
	}
	var out []bot.StreamEvent
	for i := from; i < len(m.events) && len(out) < max; i++ {
		js, err := json.Marshal(m.events[i])
		if err != nil {
			return nil, fmt.Errorf("memstore: encode event: %w", err)
		}
		out = append(out, bot.StreamEvent{Pos: strconv.Itoa(i+1) + "-0", Event: m.events[i], JSON: js})
	}
	return out, nil
}

// EventTypes returns the types of what was published, in order.
func (m *MemStore) EventTypes() []string {
	var out []string
	for _, e := range m.Events() {
		out = append(out, e.Type)
	}
	return out
}

// RecordNotice implements bot.NoticeLog.
func (m *MemStore) RecordNotice(_ context.Context, n bot.PendingNotice) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n.Reached = nil
	m.pending[n.Key], m.score[n.Key] = n, n.At
	return nil
}

// TouchNotice implements bot.NoticeLog.
func (m *MemStore) TouchNotice(_ context.Context, n bot.PendingNotice, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.pending[n.Key]; ok {
		m.score[n.Key] = at
	}
	return nil
}

// MarkNotice implements bot.NoticeLog.
func (m *MemStore) MarkNotice(_ context.Context, n bot.PendingNotice, part string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.pending[n.Key]; ok {
		m.marks[n.Key] = append(m.marks[n.Key], part)
	}
	return nil
}

// ForgetNotice implements bot.NoticeLog.
func (m *MemStore) ForgetNotice(_ context.Context, n bot.PendingNotice) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.pending, n.Key)
	delete(m.score, n.Key)
	delete(m.marks, n.Key)
	return nil
}

// ClaimNotices implements bot.NoticeLog.
func (m *MemStore) ClaimNotices(_ context.Context, before, now time.Time, max int) ([]bot.PendingNotice, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []bot.PendingNotice
	for k, n := range m.pending {
		if !m.score[k].After(before) {
			n.Reached = slices.Clone(m.marks[k])
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := m.score[out[i].Key], m.score[out[j].Key]
		if !a.Equal(b) {
			return a.Before(b)
		}
		return out[i].Key < out[j].Key
	})
	if len(out) > max {
		out = out[:max]
	}
	for _, n := range out {
		m.score[n.Key] = now
	}
	return out, nil
}

// PendingNotices counts the notices recorded and not forgotten.
func (m *MemStore) PendingNotices() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pending)
}

var _ bot.Versions = (*MemStore)(nil)

// Version implements bot.Versions.
func (m *MemStore) Version(_ context.Context, id int) (int, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.ups[id]
	if !ok {
		return 0, 0, fmt.Errorf("memstore: upgrade %d: %w", id, bot.ErrNotFound)
	}
	return u.Rev, len(m.acks[id]), nil
}
