package bot

import (
	"context"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultRootRetry is the first wait before a root message that a platform
// did not take is tried again; each further failure doubles it, up to
// maxRootRetryWait.
const DefaultRootRetry = 30 * time.Second

const (
	maxRootRetryWait = 15 * time.Minute
	// maxRootRetries bounds the tries of one root (about a day at the
	// longest wait): a message deleted by hand is never edited again.
	maxRootRetries = 100
)

// owedRoots remembers, in this replica, the upgrades whose root messages a
// platform did not take after the messenger's own retries, in a way that
// may pass (TryLaterError): a root that could not be posted (a channel of
// the upgrade has no thread) or a root whose edit failed (it shows an
// older state). retryRoots tries them again
// with a growing wait, so the thread appears and the final state is shown
// once the platform answers again, without waiting for the next change.
// It is memory only: after a restart the next change of the upgrade, or
// its next notice, tries again.
type owedRoots struct {
	base    time.Duration
	running atomic.Int64 // retries queued or running on the outbox
	mu      sync.Mutex
	m       map[int]*owedRoot
	// streaks counts, by upgrade, the failures of its roots since they
	// last showed its state: the first is logged as a WARN, the rest at
	// DEBUG, and the end of the streak once as an INFO (failing,
	// recovered), so an outage of hours logs two lines per upgrade, not
	// one per try.
	streaks map[int]int
	// gaveUp is told, once, when upgrade id's roots are no longer tried
	// after tries failed tries (maxRootRetries); nil: nothing is told.
	gaveUp func(id, tries int)
}

type owedRoot struct {
	tries    int       // failed tries so far
	next     time.Time // when to try again
	inFlight bool      // due handed it to a try that has not reported
	// channels are those whose root failed to post in a way that may
	// pass: only they are posted again (not one that does not exist).
	channels []string
}

func newOwedRoots(base time.Duration) *owedRoots {
	return &owedRoots{base: base, m: map[int]*owedRoot{}, streaks: map[int]int{}}
}

// failing notes a failure of upgrade id's roots (a post or an edit that
// may pass) and reports whether it starts a streak: to be logged as a
// WARN; the failures that follow are logged at DEBUG.
func (o *owedRoots) failing(id int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.streaks[id]++
	return o.streaks[id] == 1
}

// recovered ends upgrade id's failure streak, if any, and returns how
// many failures it had (0: none).
func (o *owedRoots) recovered(id int) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := o.streaks[id]
	delete(o.streaks, id)
	return n
}

// forget drops upgrade id's streak without a word (the upgrade is gone,
// or its roots are no longer tried).
func (o *owedRoots) forget(id int) {
	o.mu.Lock()
	delete(o.streaks, id)
	o.mu.Unlock()
}

// owe records a failed try of upgrade id's roots at now.
func (o *owedRoots) owe(id int, now time.Time) {
	if n := o.oweLocked(id, now); n > 0 && o.gaveUp != nil {
		o.gaveUp(id, n)
	}
}

// oweLocked is owe; it returns the count of failed tries when it gives up
// on upgrade id (0: it still tries).
func (o *owedRoots) oweLocked(id int, now time.Time) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := o.m[id]
	switch {
	case r == nil:
		r = &owedRoot{}
		o.m[id] = r
	case !r.inFlight && now.Before(r.next):
		return 0 // owed already, and not tried since: one failure per try
	}
	r.inFlight = false
	r.tries++
	if r.tries > maxRootRetries {
		delete(o.m, id)
		delete(o.streaks, id) // no longer tried: the next failure starts a streak
		return r.tries
	}
	wait := o.base
	for i := 1; i < r.tries && wait < maxRootRetryWait; i++ {
		wait *= 2
	}
	r.next = now.Add(min(wait, maxRootRetryWait))
	return 0
}

// oweChannels is owe, adding the channels whose root post may pass.
func (o *owedRoots) oweChannels(id int, now time.Time, channels []string) {
	o.owe(id, now)
	o.mu.Lock()
	defer o.mu.Unlock()
	if r := o.m[id]; r != nil {
		for _, ch := range channels {
			if !slices.Contains(r.channels, ch) {
				r.channels = append(r.channels, ch)
			}
		}
	}
}

// channelsOf are the channels of upgrade id whose root is to be posted
// again; setChannels replaces them after a try.
func (o *owedRoots) channelsOf(id int) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if r := o.m[id]; r != nil {
		return slices.Clone(r.channels)
	}
	return nil
}

func (o *owedRoots) setChannels(id int, channels []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if r := o.m[id]; r != nil {
		r.channels = channels
	}
}

// clear forgets upgrade id: its roots show its state.
func (o *owedRoots) clear(id int) {
	o.mu.Lock()
	delete(o.m, id)
	o.mu.Unlock()
}

// due are the upgrades whose next try has come, in id order.
func (o *owedRoots) due(now time.Time) []int {
	o.mu.Lock()
	defer o.mu.Unlock()
	var ids []int
	for id, r := range o.m {
		if !r.inFlight && !now.Before(r.next) {
			ids = append(ids, id)
			r.inFlight = true // until the try reports (owe or clear)
		}
	}
	sort.Ints(ids)
	return ids
}

// retryRoots tries the owed roots that are due, each on its upgrade's
// queue (after the notices queued before it): the missing roots of an
// upgrade still running are posted, and every root is edited to show the
// stored state.
func (d *Delivery) retryRoots() {
	for _, id := range d.owed.due(d.now()) {
		d.owed.running.Add(1)
		d.out.enqueue(id, func(ctx context.Context) {
			defer d.owed.running.Add(-1)
			ctx = WithRootRefresh(ctx)
			u, err := d.store.Get(ctx, id)
			if err != nil {
				if ErrorCode(err) == ENOTFOUND {
					d.owed.clear(id)
					d.owed.forget(id)
					return
				}
				d.log.ErrorContext(ctx, "retrying root messages: loading upgrade failed", "upgrade", id, "err", err)
				d.owed.owe(id, d.now())
				return
			}
			var again bool
			if chans := d.owed.channelsOf(id); u.State.Active() && len(chans) > 0 {
				errs, err := d.postRootsAs(ctx, u, nil, recordLasting, chans)
				if err != nil { // ctx ended
					d.owed.owe(id, d.now())
					return
				}
				var still []string
				for ch, e := range errs {
					if tryLater(e) {
						still = append(still, ch)
					}
				}
				d.owed.setChannels(id, still)
				again = len(still) > 0
			}
			st := d.editRoots(ctx, id)
			st.stale = st.stale || again
			if !again && !st.complete {
				// The roots still missing failed for good this time.
				d.owed.clear(id)
			}
			d.settle(ctx, id, st)
		})
	}
}

// rootRetryLoop runs retryRoots every tick until ctx ends.
func (d *Delivery) rootRetryLoop(ctx context.Context, tick time.Duration) {
	repeat(ctx, tick, d.retryRoots)
}

type rootRefreshKey struct{}

// WithRootRefresh marks ctx as the context of a root message's refresh or
// background retry (IsRootRefresh); the core does so, and a Messenger's tests.
func WithRootRefresh(ctx context.Context) context.Context {
	return context.WithValue(ctx, rootRefreshKey{}, true)
}

// IsRootRefresh reports whether ctx is that of a root message's refresh or
// background retry, whose failures the core logs once per streak (a WARN
// when they start, an INFO when the roots show the upgrade again): a
// Messenger logs its own retries of such a call at DEBUG, not one WARN
// per attempt, so a long outage does not flood the log.
func IsRootRefresh(ctx context.Context) bool {
	b, _ := ctx.Value(rootRefreshKey{}).(bool)
	return b
}
