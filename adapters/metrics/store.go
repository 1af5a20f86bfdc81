package metrics

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/upgradebot/upgradebot/bot"
)

// Upgrades is the core's read side (*bot.Bot): the upgrades the store keeps.
type Upgrades interface {
	Upgrades(ctx context.Context, f bot.Filter) ([]*bot.Upgrade, error)
}

// Backlog counts the due jobs no scheduler is running (*bot.Scheduler);
// errors.ErrUnsupported when the queue cannot tell.
type Backlog interface {
	Backlog(ctx context.Context) (int, error)
}

// Store configures the gauges read from the store at scrape time: the same
// figures on every replica, whichever Prometheus scrapes.
type Store struct {
	Upgrades Upgrades // required
	Backlog  Backlog  // optional
	// CacheFor is how long one reading serves scrapes (5s): a scrape storm,
	// or several Prometheus servers, cost one listing per period. A failed
	// reading is kept as long, so a Redis that is down is not hammered.
	CacheFor time.Duration
	// Timeout bounds one reading, the listing and the count together (2s,
	// DefaultStoreTimeout): a scrape whose store does not answer still
	// comes back, well within Prometheus' scrape_timeout, with the other
	// metrics and without the store's gauges.
	Timeout time.Duration
	Now     func() time.Time // default time.Now
	Logger  *slog.Logger
}

// DefaultStoreTimeout bounds one reading of the store by a scrape. go-redis
// takes about 1.7 s to give up one call on a refused connection (its
// retries and dial attempts), and a reading makes two; a healthy reading
// of a large store (the listing loads every upgrade kept) has room.
const DefaultStoreTimeout = 2 * time.Second

// states are the states the store keeps an upgrade in: every one, until a
// finished upgrade expires after its retention.
var states = []bot.State{bot.Scheduled, bot.InProgress, bot.Completed, bot.RolledBack, bot.Cancelled}

// WatchStore adds the gauges computed from the store: upgrades by state and
// the scheduler's due-job backlog.
func (m *Metrics) WatchStore(s Store) {
	if s.CacheFor <= 0 {
		s.CacheFor = 5 * time.Second
	}
	if s.Timeout <= 0 {
		s.Timeout = DefaultStoreTimeout
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	m.reg.MustRegister(newStoreCollector(s))
}

// storeCollector is a prometheus.Collector that lists the upgrades through
// the core when scraped, at most once per CacheFor.
type storeCollector struct {
	o        Store
	upgrades *prometheus.Desc
	backlog  *prometheus.Desc
	errors   prometheus.Counter

	mu   sync.Mutex // one reading at a time; scrapes meanwhile wait for it
	read time.Time  // when last was read; zero before the first
	last reading
}

// reading is what one look at the store found.
type reading struct {
	byState   map[bot.State]int
	upgradeOK bool
	backlog   int
	backlogOK bool
}

func newStoreCollector(o Store) *storeCollector {
	return &storeCollector{o: o,
		upgrades: prometheus.NewDesc(namespace+"_upgrades", "Upgrades the store keeps, by state (finished ones until they expire after their retention), read from the store at scrape time.", []string{"state"}, nil),
		backlog:  prometheus.NewDesc(namespace+"_scheduler_backlog", "Due jobs that no scheduler is running (every replica's), read from the store at scrape time.", nil, nil),
		errors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "store_read_errors_total",
			Help: "Scrape-time readings of the store that failed (one per reading, whether the listing, the count or both failed); the gauges read from it are missing meanwhile."}),
	}
}

// Describe implements prometheus.Collector.
func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.upgrades
	ch <- c.backlog
	c.errors.Describe(ch)
}

// Collect implements prometheus.Collector.
func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	r := c.current()
	if r.upgradeOK {
		for _, st := range states {
			ch <- prometheus.MustNewConstMetric(c.upgrades, prometheus.GaugeValue, float64(r.byState[st]), string(st))
		}
	}
	if r.backlogOK {
		ch <- prometheus.MustNewConstMetric(c.backlog, prometheus.GaugeValue, float64(r.backlog))
	}
	c.errors.Collect(ch)
}

// current returns the cached reading, or reads the store when it is older
// than CacheFor.
func (c *storeCollector) current() reading {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.o.Now(); c.read.IsZero() || now.Sub(c.read) >= c.o.CacheFor || now.Before(c.read) {
		c.last = c.readStore()
		c.read = now
	}
	return c.last
}

func (c *storeCollector) readStore() reading {
	ctx, cancel := context.WithTimeout(context.Background(), c.o.Timeout)
	defer cancel()
	var r reading
	failed := false
	us, err := c.o.Upgrades.Upgrades(ctx, bot.Filter{})
	if err != nil {
		failed = true
		c.o.Logger.WarnContext(ctx, "metrics: listing upgrades failed", "err", err)
	} else {
		r.upgradeOK = true
		r.byState = make(map[bot.State]int, len(states))
		for _, u := range us {
			r.byState[u.State]++
		}
	}
	if c.o.Backlog != nil {
		n, err := c.o.Backlog.Backlog(ctx)
		switch {
		case errors.Is(err, errors.ErrUnsupported):
		case err != nil:
			failed = true
			c.o.Logger.WarnContext(ctx, "metrics: counting due jobs failed", "err", err)
		default:
			r.backlog, r.backlogOK = n, true
		}
	}
	if failed { // one error per failed reading, however many parts failed
		c.errors.Inc()
	}
	return r
}
