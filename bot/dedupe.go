package bot

import (
	"context"
	"sync"
	"time"

	"github.com/upgradebot/upgradebot/commands"
)

// dedupeTTL is how long a delivery is remembered; platforms re-send within
// minutes (Slack retries after 3 s, 1 min and 5 min).
const dedupeTTL = 10 * time.Minute

// readOnly reports whether cmd only reads: running it twice is harmless,
// so a re-send of it is recognised in memory, never with a store write.
func readOnly(cmd commands.Command) bool {
	switch cmd.(type) {
	case commands.Show, commands.ShowSeries, commands.List, commands.Pending, commands.Log, commands.Stats, commands.Help:
		return true
	}
	return false
}

// duplicate reports whether the platform sent this command before: reads
// are remembered in this process, changes in the store (Once), shared by
// every replica. Presses are de-duplicated in their own write (Press).
func (b *Bot) duplicate(ctx context.Context, inv Invocation, cmd commands.Command) (bool, error) {
	if inv.Delivery == "" {
		return false, nil
	}
	if readOnly(cmd) || b.once == nil {
		return !b.recent.first(inv.Delivery, b.now()), nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	first, err := b.once.First(ctx, "cmd:"+inv.Delivery, dedupeTTL)
	return !first, err
}

// recent remembers delivery ids for a while, in memory, at most max of
// them (the oldest go first).
type recent struct {
	mu    sync.Mutex
	ttl   time.Duration
	max   int
	seen  map[string]time.Time
	order []string
}

func newRecent(max int, ttl time.Duration) *recent {
	return &recent{ttl: ttl, max: max, seen: map[string]time.Time{}}
}

// first reports whether key is new (or was seen longer than ttl ago).
func (r *recent) first(key string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if at, ok := r.seen[key]; ok && now.Sub(at) < r.ttl {
		return false
	}
	for len(r.order) >= r.max {
		delete(r.seen, r.order[0])
		r.order = r.order[1:]
	}
	r.seen[key] = now
	r.order = append(r.order, key)
	return true
}
