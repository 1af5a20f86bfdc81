package bot_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/upgradebot/upgradebot/bot"
)

// memStore is an in-memory bot.Store for the core's unit tests; the Redis
// store has its own suite against a real server.
type memStore struct {
	mu     sync.Mutex
	seq    int
	ups    map[int]*bot.Upgrade
	acks   map[int][]bot.Ack
	log    map[int][]bot.Decision
	events []bot.Event
}

func newMemStore() *memStore {
	return &memStore{ups: map[int]*bot.Upgrade{}, acks: map[int][]bot.Ack{}, log: map[int][]bot.Decision{}}
}

func (m *memStore) NextID(context.Context) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	return m.seq, nil
}

func (m *memStore) Create(_ context.Context, u *bot.Upgrade, d bot.Decision) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.ups[u.ID]; ok {
		return fmt.Errorf("exists")
	}
	m.ups[u.ID] = u.Clone()
	m.log[u.ID] = append(m.log[u.ID], d)
	return nil
}

func (m *memStore) Get(_ context.Context, id int) (*bot.Upgrade, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.ups[id]
	if !ok {
		return nil, fmt.Errorf("get %d: %w", id, bot.ErrNotFound)
	}
	return u.Clone(), nil
}

func (m *memStore) Update(_ context.Context, u *bot.Upgrade, d bot.Decision) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ups[u.ID].Rev != u.Rev-1 {
		return bot.ErrConflict
	}
	m.ups[u.ID] = u.Clone()
	if d.Action != "" {
		m.log[u.ID] = append(m.log[u.ID], d)
	}
	return nil
}

func (m *memStore) List(_ context.Context, f bot.Filter) ([]*bot.Upgrade, error) {
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

func (m *memStore) Ack(_ context.Context, id int, a bot.Ack) (bot.Ack, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, x := range m.acks[id] {
		if x.Scope == a.Scope && x.Who == a.Who {
			return x, false, nil
		}
	}
	m.acks[id] = append(m.acks[id], a)
	m.log[id] = append(m.log[id], bot.Decision{At: a.At, Actor: a.Who, Action: "acknowledged", Detail: a.Scope})
	return a, true, nil
}

func (m *memStore) Acks(_ context.Context, id int) ([]bot.Ack, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.acks[id]), nil
}

func (m *memStore) Log(_ context.Context, id int) ([]bot.Decision, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.log[id]), nil
}

func (m *memStore) Publish(_ context.Context, e bot.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, e)
	return nil
}

func (m *memStore) eventTypes() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, e := range m.events {
		out = append(out, e.Type)
	}
	return out
}

func lines(m bot.Message) string { return m.Plain(time.UTC) }

func contains(s string, subs ...string) (string, bool) {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return sub, false
		}
	}
	return "", true
}

// slowEdits is a Messenger whose edits hang until open is closed, like a
// replica whose chat.update is stuck in a slow network; entered hears of
// the first edit that waits.
type slowEdits struct {
	bot.Messenger
	entered chan struct{} // buffered, 1
	open    chan struct{}
}

func (s *slowEdits) Edit(ctx context.Context, ref bot.MessageRef, m bot.Message) error {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	select {
	case <-s.open:
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.Messenger.Edit(ctx, ref, m)
}

// noticeStore is a memStore that is also a bot.NoticeLog, like the Redis
// store: the shared record of command notices not yet delivered.
type noticeStore struct {
	*memStore
	nmu     sync.Mutex
	pending map[string]bot.PendingNotice
	score   map[string]time.Time
}

func newNoticeStore() *noticeStore {
	return &noticeStore{memStore: newMemStore(), pending: map[string]bot.PendingNotice{}, score: map[string]time.Time{}}
}

var _ bot.NoticeLog = (*noticeStore)(nil)

func (s *noticeStore) RecordNotice(_ context.Context, n bot.PendingNotice) error {
	s.nmu.Lock()
	defer s.nmu.Unlock()
	s.pending[n.Key], s.score[n.Key] = n, n.At
	return nil
}

func (s *noticeStore) TouchNotice(_ context.Context, n bot.PendingNotice, at time.Time) error {
	s.nmu.Lock()
	defer s.nmu.Unlock()
	if _, ok := s.pending[n.Key]; ok {
		s.score[n.Key] = at
	}
	return nil
}

func (s *noticeStore) ForgetNotice(_ context.Context, n bot.PendingNotice) error {
	s.nmu.Lock()
	defer s.nmu.Unlock()
	delete(s.pending, n.Key)
	delete(s.score, n.Key)
	return nil
}

func (s *noticeStore) ClaimNotices(_ context.Context, before, now time.Time, max int) ([]bot.PendingNotice, error) {
	s.nmu.Lock()
	defer s.nmu.Unlock()
	var out []bot.PendingNotice
	for k, n := range s.pending {
		if !s.score[k].After(before) {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return s.score[out[i].Key].Before(s.score[out[j].Key]) })
	if len(out) > max {
		out = out[:max]
	}
	for _, n := range out {
		s.score[n.Key] = now
	}
	return out, nil
}

func (s *noticeStore) count() int {
	s.nmu.Lock()
	defer s.nmu.Unlock()
	return len(s.pending)
}

// stuck is a Messenger that never answers until released, like a replica
// about to be killed: its outbox hangs on the first delivery.
type stuck struct {
	bot.Messenger
	entered chan struct{} // buffered
	release chan struct{}
}

func (s *stuck) wait(ctx context.Context) error {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	select {
	case <-s.release:
		return fmt.Errorf("replica killed")
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *stuck) Post(ctx context.Context, _ string, _ bot.Message) (bot.MessageRef, error) {
	return bot.MessageRef{}, s.wait(ctx)
}

func (s *stuck) Reply(ctx context.Context, _ bot.MessageRef, _ bot.Message) (bot.MessageRef, error) {
	return bot.MessageRef{}, s.wait(ctx)
}

func (s *stuck) Edit(ctx context.Context, _ bot.MessageRef, _ bot.Message) error { return s.wait(ctx) }
