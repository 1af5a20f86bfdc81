// Package store keeps upgradebot's state in Redis with go-redis: upgrades,
// acknowledgments, decision logs, the List indexes, the due-job schedule,
// de-duplication keys and the event stream. The key layout and the
// production set-up are described in docs/redis.md.
package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/internal/hostport"
)

// Defaults for the zero values of Options.
const (
	// DefaultPrefix starts every key when Options.Prefix is empty.
	DefaultPrefix = "upgradebot"
	// DefaultRetention is how long a finished upgrade's keys live.
	DefaultRetention = 90 * 24 * time.Hour
	// DefaultEventsMaxLen caps the event stream.
	DefaultEventsMaxLen = 10000
	// DefaultLogMaxLen caps each decision log.
	DefaultLogMaxLen = 1000
)

// poolSize is how many connections the client keeps to a server (per
// node of a Cluster) unless the URL sets pool_size. go-redis's default, 10
// per CPU, caps a 2-CPU replica at 20 commands in flight; with
// appendfsync always, Redis syncs its AOF once per pass over the commands
// it has read, so 20 presses shared each sync of 5 ms or more and a burst
// was recorded at about 4,000 a second whatever the CPU. More connections
// let more writes share a sync. They are opened only as needed.
const poolSize = 128

// Options configures a Store.
type Options struct {
	// URL is redis://, rediss://, unix://, redis+sentinel:// or memory://
	// (see Open). Ignored when ClusterAddrs is set.
	URL string
	// ClusterAddrs are host:port seeds of a Redis Cluster; a seed without a
	// port is on 6379.
	ClusterAddrs []string
	// Prefix starts every key; default DefaultPrefix.
	Prefix string
	// Retention is how long the keys of a finished upgrade live after its
	// last change; 0 means DefaultRetention, negative keeps them forever.
	Retention time.Duration
	// EventsMaxLen caps the event stream (approximately); default DefaultEventsMaxLen.
	EventsMaxLen int64
	// LogMaxLen caps each decision log (approximately); default DefaultLogMaxLen.
	LogMaxLen int64
	// Lazy makes Open succeed when Redis does not answer yet: the store
	// reconnects by itself, and until then its calls (and Ping, which a
	// readiness probe reports) fail. serve uses it so that an orchestrator
	// sees "not ready" rather than a crash loop.
	Lazy bool
	// Outage, when set, hears whether Redis answers each call, and go-redis's
	// own lines about failing to reach Redis go to it instead of the log
	// (see Outage). The store's errors of calls Redis did not answer are
	// marked either way (Unreachable).
	Outage Outage
}

// Store is the Redis implementation of bot.Store, bot.JobQueue and bot.Once.
// It is safe for concurrent use, also by many processes sharing one Redis.
type Store struct {
	client redis.UniversalClient
	opts   Options
	prefix string
	log    *slog.Logger
	mini   *miniredis.Miniredis // the embedded server of memory://, or nil
	// unanswered: Open started the store without an answer (Options.Lazy).
	unanswered bool
	// logMaxLen is opts.LogMaxLen boxed once, an argument of every press.
	logMaxLen any
	outage    Outage // opts.Outage
	// noLegacy: the user may not touch the key names of earlier versions
	// (legacyRetry).
	noLegacy atomic.Bool
}

var (
	_ bot.Store    = (*Store)(nil)
	_ bot.JobQueue = (*Store)(nil)
	_ bot.Once     = (*Store)(nil)
)

// startupPing bounds the ping with which Open checks Redis.
const startupPing = 5 * time.Second

// Open connects to the Redis that o names and checks that it answers.
//
// o.URL forms:
//
//	redis://[[user]:password@]host:port[/db]     plain TCP
//	rediss://[[user]:password@]host:port[/db]    TLS
//	unix://[[user]:password@]/path/to/redis.sock[?db=N]
//	redis+sentinel://[[user]:password@]host:port[,host:port...]/mastername[/db][?sentinel_username=U&sentinel_password=P]
//	memory://                                    an embedded server in this process; keeps nothing
//
// In the sentinel form the hosts are the Sentinels (port default 26379), the
// user and password are the master's, and sentinel_password is for Sentinels
// that require one. o.ClusterAddrs, when set, selects a Redis Cluster instead
// (a seed without a port is on 6379).
// Errors and log lines name the servers but never a password.
func Open(ctx context.Context, o Options, log *slog.Logger) (*Store, error) {
	if log != nil {
		redis.SetLogger(clientLogger{log, o.Outage})
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Every client honours its callers' deadlines (ContextTimeoutEnabled):
	// a readiness probe's 2 s, a scrape's, a command's 5 s (the core's
	// CommandTimeout, retries included). Left to go-redis's own timeouts (a
	// read's, tried again), a Redis that hangs held a probe 5 s, a command
	// 25 s and the status page a minute.
	var (
		client redis.UniversalClient
		mini   *miniredis.Miniredis
		target string
	)
	switch {
	case len(o.ClusterAddrs) > 0:
		addrs := clusterAddrs(o.ClusterAddrs)
		client = redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, PoolSize: poolSize, ContextTimeoutEnabled: true})
		target = "cluster " + strings.Join(addrs, ",")
	case o.URL == "memory://" || o.URL == "memory:":
		m := miniredis.NewMiniRedis()
		// Without this, TTLs would only run down when a test moves the clock.
		m.ClockTTL(true)
		if err := m.Start(); err != nil {
			return nil, fmt.Errorf("redis: start embedded server: %w", err)
		}
		mini = m
		client = redis.NewClient(&redis.Options{Addr: m.Addr(), ContextTimeoutEnabled: true})
		target = "embedded " + m.Addr()
	case strings.HasPrefix(o.URL, "redis+sentinel://"):
		fo, err := parseSentinelURL(o.URL)
		if err != nil {
			return nil, err
		}
		if fo.PoolSize == 0 {
			fo.PoolSize = poolSize
		}
		fo.ContextTimeoutEnabled = true
		client = redis.NewFailoverClient(fo)
		target = "sentinel master " + fo.MasterName + " via " + strings.Join(fo.SentinelAddrs, ",")
	case o.URL == "":
		return nil, errors.New("redis: no url or cluster addresses configured")
	default:
		ro, err := redis.ParseURL(o.URL)
		if err != nil {
			return nil, fmt.Errorf("redis: invalid url: %w", withoutURL(err))
		}
		if ro.PoolSize == 0 {
			ro.PoolSize = poolSize
		}
		ro.ContextTimeoutEnabled = true
		client = redis.NewClient(ro)
		target = ro.Addr
	}
	s := New(client, o)
	s.mini, s.log = mini, log
	// The first ping is bounded: a Sentinel setup with no Sentinel
	// answering would otherwise hold it up for half a minute and more
	// (each Sentinel's dial timeout, times go-redis's retries), and serve
	// would not listen meanwhile (a liveness probe would kill it).
	pctx, cancel := context.WithTimeout(ctx, startupPing)
	err := s.client.Ping(pctx).Err()
	if err != nil && pctx.Err() != nil && ctx.Err() == nil {
		err = fmt.Errorf("no answer within %s: %w", startupPing, err)
	}
	cancel()
	if err != nil {
		refused := refusedCredentials(err)
		if o.Lazy && mini == nil {
			// err as text: this line, which names the server, is written
			// even though an Outage has just said that Redis is down (it
			// holds back the repeats of errors it classifies).
			msg := "redis: not reachable yet; starting anyway and retrying"
			if refused {
				msg = "redis: the server refused the credentials (the user and password of redis.url); starting anyway and retrying"
			}
			log.Warn(msg, "target", target, "err", err.Error())
			s.unanswered = true
			return s, nil
		}
		_ = s.Close()
		if refused {
			return nil, fmt.Errorf("redis: %s refused the credentials (check the user and password of redis.url): %w", target, err)
		}
		return nil, fmt.Errorf("redis: cannot reach %s: %w", target, err)
	}
	if mini != nil {
		log.Warn("redis: using the embedded memory:// server; nothing survives a restart", "addr", mini.Addr())
	} else {
		log.Info("redis: connected", "target", target, "prefix", s.prefix)
	}
	return s, nil
}

// refusedCredentials reports whether err is Redis refusing the connection's
// user or password (NOAUTH, WRONGPASS) or what its ACL user may do
// (NOPERM): the server answered, so "cannot reach" would send the operator
// to the network. Redis's text names neither the user's password nor the URL.
func refusedCredentials(err error) bool {
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return false
	}
	msg := rerr.Error()
	return strings.HasPrefix(msg, "NOAUTH") || strings.HasPrefix(msg, "WRONGPASS") || strings.HasPrefix(msg, "NOPERM")
}

// New wraps an existing client (tests, or callers that build their own).
// Close closes client.
func New(client redis.UniversalClient, o Options) *Store {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.EventsMaxLen <= 0 {
		o.EventsMaxLen = DefaultEventsMaxLen
	}
	if o.LogMaxLen <= 0 {
		o.LogMaxLen = DefaultLogMaxLen
	}
	s := &Store{client: client, opts: o, prefix: o.Prefix, log: slog.New(slog.DiscardHandler), logMaxLen: o.LogMaxLen, outage: o.Outage}
	client.AddHook(outageHook{s})
	return s
}

// Ping checks that Redis answers (for /readyz, which puts "redis: " before
// its error). On a Cluster, a node that
// answers is not enough: while slots are not served (a master down with no
// replica to take over) every command on their keys fails, so the
// cluster's own state must be ok too.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		if noAnswer(err) {
			return fmt.Errorf("no answer to PING: %w", err)
		}
		return fmt.Errorf("PING refused: %w", err) // Redis answered with an error (NOAUTH, WRONGPASS)
	}
	if c, ok := s.client.(*redis.ClusterClient); ok {
		info, err := c.ClusterInfo(ctx).Result()
		if err != nil {
			return fmt.Errorf("no answer to CLUSTER INFO: %w", err)
		}
		if state := clusterState(info); state != "ok" {
			return fmt.Errorf("cluster state is %s (some slots are not served; see CLUSTER INFO)", cmp.Or(state, "unknown"))
		}
	}
	return nil
}

// clusterState reads cluster_state from CLUSTER INFO's text.
func clusterState(info string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "cluster_state:"); ok {
			return v
		}
	}
	return ""
}

// Embedded reports whether the store runs on the in-process memory:// server.
func (s *Store) Embedded() bool { return s.mini != nil }

// Unanswered reports whether Open started the store although Redis did not
// answer (Options.Lazy): what would wait for Redis at start need not try
// again at once.
func (s *Store) Unanswered() bool { return s.unanswered }

// Close closes the connections and stops the embedded server, if any.
func (s *Store) Close() error {
	err := s.client.Close()
	if s.mini != nil {
		s.mini.Close()
	}
	if err != nil {
		return fmt.Errorf("redis close: %w", err)
	}
	return nil
}

// clusterAddrs are a Redis Cluster's seeds, each host:port: a node
// written without a port is on Redis's default port, 6379 (as a Sentinel
// without one is on 26379).
func clusterAddrs(seeds []string) []string {
	out := make([]string, len(seeds))
	for i, a := range seeds {
		out[i] = hostport.WithPort(a, "6379")
	}
	return out
}

// parseSentinelURL reads
// redis+sentinel://[[user]:password@]host:port[,host:port]/mastername[/db][?query].
// Its errors never quote the URL, which may hold a password.
func parseSentinelURL(raw string) (*redis.FailoverOptions, error) {
	rest := strings.TrimPrefix(raw, "redis+sentinel://")
	rest, rawQuery, _ := strings.Cut(rest, "?")
	authority, path, _ := strings.Cut(rest, "/")
	fo := &redis.FailoverOptions{}
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		user, pass, _ := strings.Cut(authority[:at], ":")
		var err error
		if fo.Username, err = url.PathUnescape(user); err != nil {
			return nil, errors.New("redis: invalid sentinel url: bad escape in user name")
		}
		if fo.Password, err = url.PathUnescape(pass); err != nil {
			return nil, errors.New("redis: invalid sentinel url: bad escape in password")
		}
		authority = authority[at+1:]
	}
	for h := range strings.SplitSeq(authority, ",") {
		if h == "" {
			continue
		}
		fo.SentinelAddrs = append(fo.SentinelAddrs, hostport.WithPort(h, "26379"))
	}
	if len(fo.SentinelAddrs) == 0 {
		return nil, errors.New("redis: invalid sentinel url: no sentinel host:port given")
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if parts[0] == "" {
		return nil, errors.New("redis: invalid sentinel url: the master name is missing (redis+sentinel://host:26379/mymaster)")
	}
	fo.MasterName = parts[0]
	switch len(parts) {
	case 1:
	case 2:
		db, err := strconv.Atoi(parts[1])
		if err != nil || db < 0 {
			return nil, fmt.Errorf("redis: invalid sentinel url: bad database number %q", parts[1])
		}
		fo.DB = db
	default:
		return nil, errors.New("redis: invalid sentinel url: path must be /mastername[/db]")
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, errors.New("redis: invalid sentinel url: bad query string")
	}
	for k := range q {
		switch k {
		case "sentinel_username":
			fo.SentinelUsername = q.Get(k)
		case "sentinel_password":
			fo.SentinelPassword = q.Get(k)
		case "pool_size":
			n, err := strconv.Atoi(q.Get(k))
			if err != nil || n < 1 {
				return nil, fmt.Errorf("redis: invalid sentinel url: pool_size %q must be a whole number of connections, 1 or more", q.Get(k))
			}
			fo.PoolSize = n
		default:
			return nil, fmt.Errorf("redis: invalid sentinel url: unknown parameter %q (only sentinel_username, sentinel_password and pool_size)", k)
		}
	}
	return fo, nil
}

// withoutURL drops the URL that url.Parse puts in its errors: it may carry a
// password.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// clientLogger sends go-redis's own messages (reconnects, pool trouble) to
// the structured log instead of plain lines on stderr. go-redis has one
// logger per process, so the last store opened sets it. With an Outage, a
// message about an error that means Redis did not answer (the pool's
// "failed to dial", logged for every connection it tries) goes to the
// Outage instead, which logs the outage once and then sums it up.
type clientLogger struct {
	log    *slog.Logger
	outage Outage
}

// Printf implements go-redis's logging interface.
// Sentinel's news (the master it found, a new one) is INFO; anything else
// is a WARN.
func (l clientLogger) Printf(ctx context.Context, format string, v ...any) {
	for _, a := range v {
		if err, ok := a.(error); ok && l.outage != nil && noAnswer(err) {
			l.outage.Failed(&unanswered{err})
			return
		}
	}
	level := slog.LevelWarn
	for _, news := range sentinelNews {
		if strings.HasPrefix(format, news) {
			level = slog.LevelInfo
		}
	}
	l.log.Log(ctx, level, "redis client: "+fmt.Sprintf(format, v...))
}

// sentinelNews are the go-redis messages that tell of Sentinel's work, not
// of a problem.
var sentinelNews = []string{"sentinel: selected addr", "sentinel: new master", "sentinel: discovered new sentinel"}
