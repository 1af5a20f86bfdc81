package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// The backend every test of the package runs against, chosen in TestMain:
// UPGRADEBOT_TEST_REDIS_CLUSTER (comma-separated host:port seeds), else
// UPGRADEBOT_TEST_REDIS (a redis:// URL), else an in-process miniredis.
var backend struct {
	name      string // "redis-cluster", "redis-server" or "miniredis"
	desc      string // what to print: addresses, never a password
	newClient func() redis.UniversalClient
}

var logBackendOnce sync.Once

func TestMain(m *testing.M) {
	var mini *miniredis.Miniredis
	if addrs := os.Getenv("UPGRADEBOT_TEST_REDIS_CLUSTER"); addrs != "" {
		seeds := strings.Split(addrs, ",")
		backend.name, backend.desc = "redis-cluster", addrs
		backend.newClient = func() redis.UniversalClient {
			return redis.NewClusterClient(&redis.ClusterOptions{Addrs: seeds})
		}
	} else if raw := os.Getenv("UPGRADEBOT_TEST_REDIS"); raw != "" {
		opts, err := redis.ParseURL(raw)
		if err != nil {
			fmt.Fprintln(os.Stderr, "store tests: UPGRADEBOT_TEST_REDIS is not a valid redis URL:", withoutURL(err))
			os.Exit(2)
		}
		backend.name, backend.desc = "redis-server", redactedURL(raw)
		backend.newClient = func() redis.UniversalClient { return redis.NewClient(opts) }
	} else {
		var err error
		if mini, err = miniredis.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "store tests: cannot start miniredis:", err)
			os.Exit(2)
		}
		backend.name, backend.desc = "miniredis", "in-process "+mini.Addr()
		addr := mini.Addr()
		backend.newClient = func() redis.UniversalClient { return redis.NewClient(&redis.Options{Addr: addr}) }
	}
	c := backend.newClient()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	version, err := serverVersion(ctx, c)
	cancel()
	_ = c.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "store tests: backend=%s %s is not reachable: %v\n", backend.name, backend.desc, err)
		os.Exit(2)
	}
	if version != "" {
		backend.desc += " (redis " + version + ")"
	}
	fmt.Printf("store tests: backend=%s %s\n", backend.name, backend.desc)
	code := m.Run()
	if mini != nil {
		mini.Close()
	}
	os.Exit(code)
}

// serverVersion pings and returns redis_version from INFO, when given.
func serverVersion(ctx context.Context, c redis.UniversalClient) (string, error) {
	if err := c.Ping(ctx).Err(); err != nil {
		return "", err
	}
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return "", nil // miniredis has a partial INFO; the version is cosmetic
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			return v, nil
		}
	}
	return "", nil
}

func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable url)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "REDACTED")
	}
	return u.String()
}

// newTestStore returns a store on the test backend under a fresh random
// prefix; its keys are deleted when the test ends.
func newTestStore(t testing.TB) *Store {
	t.Helper()
	return newTestStoreOpts(t, Options{})
}

// newTestStoreOpts is newTestStore with options (the prefix is chosen here).
func newTestStoreOpts(t testing.TB, o Options) *Store {
	t.Helper()
	logBackendOnce.Do(func() {
		// Read the variables again inside the test run: go test's cache only
		// keys results on variables read after TestMain calls m.Run.
		_, _ = os.Getenv("UPGRADEBOT_TEST_REDIS_CLUSTER"), os.Getenv("UPGRADEBOT_TEST_REDIS")
		t.Logf("store tests use backend=%s %s", backend.name, backend.desc)
	})
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	o.Prefix = "upgradebot-test-" + hex.EncodeToString(b[:])
	s := reopen(t, o)
	t.Cleanup(func() { deleteKeys(t, o.Prefix) })
	return s
}

// reopen opens another Store, with its own connections, on the same backend
// with the same options: what a restarted or second replica sees.
func reopen(t testing.TB, o Options) *Store {
	t.Helper()
	s := New(backend.newClient(), o)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// deleteKeys removes every key under prefix, on every master of a cluster.
// It never flushes: a real server may be shared.
func deleteKeys(t testing.TB, prefix string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := backend.newClient()
	defer c.Close()
	del := func(ctx context.Context, c redis.Cmdable) error {
		iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
		for iter.Next(ctx) {
			if err := c.Del(ctx, iter.Val()).Err(); err != nil {
				return err
			}
		}
		return iter.Err()
	}
	var err error
	if cc, ok := c.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return del(ctx, n) })
	} else {
		err = del(ctx, c)
	}
	if err != nil {
		t.Errorf("delete test keys %s:*: %v", prefix, err)
	}
}

func TestOpenMemory(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{URL: "memory://"}, nil)
	if err != nil {
		t.Fatalf("Open(memory://): %v", err)
	}
	if !s.Embedded() {
		t.Error("Embedded() = false for memory://")
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if id, err := s.NextID(ctx); err != nil || id != 1 {
		t.Fatalf("NextID = %d, %v; want 1", id, err)
	}
	// The scripts run on the embedded server like on a real one.
	if err := s.Create(ctx, testUpgrade(1, "payments", time.Now(), time.Hour), decision("scheduled")); err != nil {
		t.Fatalf("Create: %v", err)
	}
	addr := s.mini.Addr()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Error("the embedded server still answers after Close")
	}
}

func TestOpenErrorsHidePassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tests := []struct {
		name, url, want string
	}{
		{"unreachable", "redis://:s3cretpw@127.0.0.1:1/0", "redis: cannot reach 127.0.0.1:1: "},
		{"bad port", "redis://:s3cretpw@127.0.0.1:notaport/0", "redis: invalid url"},
		{"bad scheme", "http://:s3cretpw@127.0.0.1:6379/0", "redis: invalid url"},
		{"sentinel without master", "redis+sentinel://:s3cretpw@127.0.0.1:1", "master name is missing"},
		{"empty", "", "no url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(ctx, Options{URL: tt.url}, nil)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cretpw") {
				t.Errorf("error %q reveals the password", err)
			}
		})
	}
}

// TestOpenReal opens the test backend through Open, the way the bot does.
// UPGRADEBOT_TEST_REDIS_SENTINEL (a redis+sentinel:// URL) adds a Sentinel
// set-up to the cases.
func TestOpenReal(t *testing.T) {
	var cases []Options
	switch backend.name {
	case "redis-server":
		cases = append(cases, Options{URL: os.Getenv("UPGRADEBOT_TEST_REDIS")})
	case "redis-cluster":
		cases = append(cases, Options{ClusterAddrs: strings.Split(os.Getenv("UPGRADEBOT_TEST_REDIS_CLUSTER"), ",")})
	}
	if u := os.Getenv("UPGRADEBOT_TEST_REDIS_SENTINEL"); u != "" {
		cases = append(cases, Options{URL: u})
	}
	if len(cases) == 0 {
		t.Skip("needs UPGRADEBOT_TEST_REDIS, UPGRADEBOT_TEST_REDIS_CLUSTER or UPGRADEBOT_TEST_REDIS_SENTINEL")
	}
	ctx := context.Background()
	for _, o := range cases {
		o.Prefix = "upgradebot-test-open"
		s, err := Open(ctx, o, nil)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if s.Embedded() {
			t.Error("Embedded() = true for a real server")
		}
		if err := s.Ping(ctx); err != nil {
			t.Errorf("Ping: %v", err)
		}
		if first, err := s.First(ctx, "open-test", time.Second); err != nil {
			t.Errorf("First: %v %v", first, err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
}

// A Cluster seed without a port is on Redis's default port, 6379, as a
// Sentinel without one is on 26379.
func TestClusterAddrsDefaultPort(t *testing.T) {
	got := clusterAddrs([]string{"10.0.0.1", "10.0.0.2:7000", "::1", "[::2]", "[::3]:7001", "redis-4"})
	want := []string{"10.0.0.1:6379", "10.0.0.2:7000", "[::1]:6379", "[::2]:6379", "[::3]:7001", "redis-4:6379"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("clusterAddrs = %v, want %v", got, want)
	}
}

func TestParseSentinelURL(t *testing.T) {
	tests := []struct {
		url                  string
		addrs                []string
		master               string
		db                   int
		user, pass, sentPass string
		pool                 int
		err                  bool
	}{
		{url: "redis+sentinel://10.0.0.1:26379/mymaster", addrs: []string{"10.0.0.1:26379"}, master: "mymaster"},
		{url: "redis+sentinel://:pw@a:1,b:2,c/mymaster/3?sentinel_password=sp",
			addrs: []string{"a:1", "b:2", "c:26379"}, master: "mymaster", db: 3, pass: "pw", sentPass: "sp"},
		{url: "redis+sentinel://bot:p%40ss@a:1/m", addrs: []string{"a:1"}, master: "m", user: "bot", pass: "p@ss"},
		{url: "redis+sentinel://a:1/", err: true},
		{url: "redis+sentinel:///m", err: true},
		{url: "redis+sentinel://a:1/m/x", err: true},
		{url: "redis+sentinel://a:1/m/1/2", err: true},
		{url: "redis+sentinel://a:1/m?bogus=1", err: true},
		{url: "redis+sentinel://a:1/m?pool_size=0", err: true},
		{url: "redis+sentinel://a:1/m?pool_size=16", addrs: []string{"a:1"}, master: "m", pool: 16},
		{url: "redis+sentinel://[::1],[::2]:5/m", addrs: []string{"[::1]:26379", "[::2]:5"}, master: "m"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			fo, err := parseSentinelURL(tt.url)
			if tt.err {
				if err == nil {
					t.Fatalf("no error, got %+v", fo)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(fo.SentinelAddrs, " ") != strings.Join(tt.addrs, " ") || fo.MasterName != tt.master ||
				fo.DB != tt.db || fo.Username != tt.user || fo.Password != tt.pass || fo.SentinelPassword != tt.sentPass || fo.PoolSize != tt.pool {
				t.Errorf("got addrs=%v master=%q db=%d user=%q pass=%q sentinel_password=%q",
					fo.SentinelAddrs, fo.MasterName, fo.DB, fo.Username, fo.Password, fo.SentinelPassword)
			}
		})
	}
}

func TestPingFailsWhenDown(t *testing.T) {
	m := miniredis.RunT(t)
	s := New(redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1}), Options{})
	defer s.Close()
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	m.Close()
	if err := s.Ping(ctx); err == nil || !strings.HasPrefix(err.Error(), "no answer to PING: ") {
		t.Errorf("Ping after the server stopped = %v", err)
	}
}

// TestPingSaysWhenRedisRefused: an error Redis answered with (a password
// it wants) is not "no answer".
func TestPingSaysWhenRedisRefused(t *testing.T) {
	m := miniredis.RunT(t)
	m.RequireAuth("secret")
	s := New(redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1}), Options{})
	defer s.Close()
	if err := s.Ping(context.Background()); err == nil || !strings.HasPrefix(err.Error(), "PING refused: NOAUTH") {
		t.Errorf("Ping = %v, want PING refused: NOAUTH…", err)
	}
}

// TestOpenSaysWhenRedisRefusedTheCredentials: a wrong password (WRONGPASS)
// or none where one is required (NOAUTH) is a server that answered: Open
// says it refused the credentials, not that it cannot be reached, and
// serve's start (Lazy) logs the same; the password is never shown.
func TestOpenSaysWhenRedisRefusedTheCredentials(t *testing.T) {
	m := miniredis.RunT(t)
	m.RequireUserAuth("bob", "right-pw")
	for _, u := range []string{"redis://bob:s3cretpw@" + m.Addr() + "/0", "redis://" + m.Addr() + "/0"} {
		s, err := Open(context.Background(), Options{URL: u + "?max_retries=-1"}, nil)
		if err == nil {
			s.Close()
			t.Fatalf("Open(%s) succeeded", u)
		}
		want := "redis: " + m.Addr() + " refused the credentials (check the user and password of redis.url): "
		if got := err.Error(); !strings.HasPrefix(got, want) || strings.Contains(got, "s3cretpw") {
			t.Errorf("Open(%s) = %q, want it to start %q, without the password", u, got, want)
		}
	}
	var logs strings.Builder
	s, err := Open(context.Background(), Options{URL: "redis://bob:s3cretpw@" + m.Addr() + "/0?max_retries=-1", Lazy: true}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatalf("Open, lazy: %v", err)
	}
	s.Close()
	if got := logs.String(); !strings.Contains(got, "redis: the server refused the credentials (the user and password of redis.url); starting anyway and retrying") ||
		strings.Contains(got, "not reachable") || strings.Contains(got, "s3cretpw") {
		t.Errorf("serve's start logged\n%s", got)
	}
}
