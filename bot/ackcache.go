package bot

import (
	"cmp"
	"context"
	"slices"
	"sync"
)

// ackCache keeps the acknowledgments of the upgrades read lately, so that a
// root refresh or a show after a press does not read all of them again:
// with a store that tells versions (Versions), acknowledgments only ever add
// up, each first-wins and never changed, so the cached ones are current when
// their count is the stored count. The presses of this replica add theirs as
// they are recorded; a count that does not match (another replica's press)
// reads them all again. Lists it returns are shared: read them, never change
// them.
type ackCache struct {
	store    Store
	versions Versions // nil: no cache, every read goes to the store

	mu  sync.Mutex
	m   map[int]*ackSet
	max int
}

// ackSet is the acknowledgments of one upgrade known to be stored.
type ackSet struct {
	seen   map[string]bool // scope|who
	sorted []Ack           // oldest first, as the store lists them
	tail   []Ack           // recorded since, not yet in sorted
	// writing counts this replica's presses of the upgrade between their
	// write and their addition here.
	writing int
}

// ackCacheSize bounds the upgrades whose acknowledgments are kept; when full,
// all are forgotten.
const ackCacheSize = 64

func newAckCache(st Store) *ackCache {
	c := &ackCache{store: st, m: map[int]*ackSet{}, max: ackCacheSize}
	c.versions, _ = st.(Versions)
	return c
}

// compareAcks is the order the store lists acknowledgments in: oldest
// first; ties by scope and who.
func compareAcks(a, b Ack) int {
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Scope, b.Scope); c != 0 {
		return c
	}
	return cmp.Compare(a.Who, b.Who)
}

// get lists the acknowledgments of upgrade id: one version round trip when
// the cached ones are current, else all of them read again. recent is as
// for counted.
func (c *ackCache) get(ctx context.Context, id int, recent bool) ([]Ack, error) {
	if c.versions == nil {
		return c.store.Acks(ctx, id)
	}
	before := c.held(id)
	_, n, err := c.versions.Version(ctx, id)
	if err != nil {
		c.forget(id)
		return c.store.Acks(ctx, id)
	}
	return c.counted(ctx, id, n, recent, before)
}

// ackHeld is what the cache held of an upgrade before its stored count was
// read: the set, and how many it had.
type ackHeld struct {
	set *ackSet
	n   int
}

// held notes what the cache holds of upgrade id; call it before reading
// the stored count that counted then checks.
func (c *ackCache) held(id int) ackHeld {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.m[id]
	if s == nil {
		return ackHeld{}
	}
	return ackHeld{set: s, n: len(s.seen)}
}

// counted is get when the stored count n is known, read after held
// returned before. The cached ones are current when the set held n before
// the count was read: everything in a set was stored when it was added, so
// those n were all the stored ones, and a set only grows. With recent (a
// root refresh), a count that the set, with this replica's presses still
// being written, explains is current enough: each of those presses
// refreshes again once added, and a refresh that showed fewer than the
// stored count refreshes again (Delivery.refreshRoot), so the root always
// ends on the stored acknowledgments. Before, a refresh had to find the
// count exactly, and under a burst nearly every one found more (this
// replica's presses recorded after the count was read) and read all the
// acknowledgments again.
func (c *ackCache) counted(ctx context.Context, id, n int, recent bool, before ackHeld) ([]Ack, error) {
	if c.versions == nil {
		return c.store.Acks(ctx, id)
	}
	c.mu.Lock()
	if s, ok := c.m[id]; ok {
		if (s == before.set && before.n == n) || (recent && n <= len(s.seen)+s.writing) {
			out := s.list()
			c.mu.Unlock()
			return out, nil
		}
	}
	c.mu.Unlock()
	all, err := c.store.Acks(ctx, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[id]
	if !ok {
		if len(c.m) >= c.max {
			clear(c.m)
		}
		s = &ackSet{}
		c.m[id] = s
	}
	// What the set had may be newer than what was read: this replica's
	// presses recorded meanwhile, already merged into sorted if a get
	// listed them. Keep all of it (the set only grows); dropping those
	// made every later count miss and read all again.
	kept := s.list()
	s.seen = make(map[string]bool, len(all)+len(kept))
	s.sorted, s.tail = slices.Clip(all), nil
	for _, a := range all {
		s.seen[ackKey(a)] = true
	}
	for _, a := range kept {
		s.add(a)
	}
	return s.list(), nil
}

// writing notes a press of upgrade id about to be written, returning the
// set that counts it (nil when the upgrade's acknowledgments are not
// kept); done (once the write has returned) ends that count and adds what
// the press recorded.
func (c *ackCache) writing(id int) *ackSet {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.m[id]
	if s != nil {
		s.writing++
	}
	return s
}

// done ends what writing began (counted is what it returned: a set made
// or forgotten since does not count this press, so it is not discounted
// either), adding the acknowledgments recorded.
func (c *ackCache) done(id int, counted *ackSet, recorded ...Ack) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if counted != nil {
		counted.writing--
	}
	if s, ok := c.m[id]; ok {
		for _, a := range recorded {
			s.add(a)
		}
	}
}

// forget drops upgrade id (missing, or unreadable).
func (c *ackCache) forget(id int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

func ackKey(a Ack) string { return a.Scope + "|" + a.Who }

func (s *ackSet) add(a Ack) {
	k := ackKey(a)
	if s.seen[k] {
		return
	}
	s.seen[k] = true
	s.tail = append(s.tail, a)
}

// list merges the tail into the sorted list and returns it, clipped: a
// caller's append never writes into the cache.
func (s *ackSet) list() []Ack {
	if len(s.tail) > 0 {
		slices.SortFunc(s.tail, compareAcks)
		if n := len(s.sorted); n == 0 || compareAcks(s.sorted[n-1], s.tail[0]) <= 0 {
			// In order (the common case): appended in place beyond what any
			// earlier caller can see.
			s.sorted = append(s.sorted[:n:cap(s.sorted)], s.tail...)
		} else {
			merged := make([]Ack, 0, len(s.sorted)+len(s.tail)+len(s.tail))
			i, j := 0, 0
			for i < len(s.sorted) && j < len(s.tail) {
				if compareAcks(s.sorted[i], s.tail[j]) <= 0 {
					merged = append(merged, s.sorted[i])
					i++
				} else {
					merged = append(merged, s.tail[j])
					j++
				}
			}
			merged = append(append(merged, s.sorted[i:]...), s.tail[j:]...)
			s.sorted = merged
		}
		s.tail = s.tail[:0]
	}
	return slices.Clip(s.sorted)
}
