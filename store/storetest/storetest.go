// Package storetest gives tests a Redis to run the real store against: the
// Cluster in UPGRADEBOT_TEST_REDIS_CLUSTER, else the server in
// UPGRADEBOT_TEST_REDIS, else an embedded server. Every call gets its own key
// prefix and deletes its keys when the test ends (never FLUSHALL).
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/upgradebot/upgradebot/store"
)

// Target returns store options for a fresh, isolated key space. Stores
// opened with the same options share it, like replicas do.
func Target(t testing.TB) store.Options {
	t.Helper()
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	o := store.Options{Prefix: "ubtest:" + hex.EncodeToString(rnd[:])}
	var client redis.UniversalClient
	switch {
	case os.Getenv("UPGRADEBOT_TEST_REDIS_CLUSTER") != "":
		o.ClusterAddrs = strings.Split(os.Getenv("UPGRADEBOT_TEST_REDIS_CLUSTER"), ",")
		client = redis.NewClusterClient(&redis.ClusterOptions{Addrs: o.ClusterAddrs})
	case os.Getenv("UPGRADEBOT_TEST_REDIS") != "":
		o.URL = os.Getenv("UPGRADEBOT_TEST_REDIS")
		opt, err := redis.ParseURL(o.URL)
		if err != nil {
			t.Fatalf("UPGRADEBOT_TEST_REDIS: %v", err)
		}
		client = redis.NewClient(opt)
	default:
		m := miniredis.RunT(t)
		m.ClockTTL(true) // expiries run in real time, as on a real server (leases, once keys)
		o.URL = "redis://" + m.Addr() + "/0"
		return o
	}
	t.Cleanup(func() {
		defer client.Close()
		ctx := context.Background()
		del := func(c *redis.Client) error {
			// The prefix's keys, and those whose hash tag starts with it
			// (older versions' "{<prefix>:events}:relayed").
			for _, pattern := range []string{o.Prefix + ":*", "{" + o.Prefix + ":*"} {
				iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
				for iter.Next(ctx) {
					c.Del(ctx, iter.Val())
				}
				if err := iter.Err(); err != nil {
					return err
				}
			}
			return nil
		}
		var err error
		if cc, ok := client.(*redis.ClusterClient); ok {
			err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return del(c) })
		} else {
			err = del(client.(*redis.Client))
		}
		if err != nil {
			t.Errorf("storetest: cleanup: %v", err)
		}
	})
	return o
}

// Keys lists the keys of the key space o (from Target): on the embedded
// server, which Target starts for each call alone, every key it holds; on
// a shared server or Cluster (every master), every key whose name contains
// o.Prefix anywhere. A key of o's that does not start with o.Prefix is
// listed too, so a test can check that they all do.
func Keys(t testing.TB, o store.Options) []string {
	t.Helper()
	ctx := context.Background()
	var client redis.UniversalClient
	pattern := "*" + o.Prefix + "*"
	switch {
	case len(o.ClusterAddrs) > 0:
		client = redis.NewClusterClient(&redis.ClusterOptions{Addrs: o.ClusterAddrs})
	default:
		opt, err := redis.ParseURL(o.URL)
		if err != nil {
			t.Fatalf("storetest: keys: %v", err)
		}
		client = redis.NewClient(opt)
		if os.Getenv("UPGRADEBOT_TEST_REDIS") == "" {
			pattern = "*" // the embedded server of this call alone
		}
	}
	defer client.Close()
	var (
		mu   sync.Mutex
		keys []string
	)
	scan := func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			keys = append(keys, iter.Val())
			mu.Unlock()
		}
		return iter.Err()
	}
	var err error
	if cc, ok := client.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, scan)
	} else {
		err = scan(ctx, client.(*redis.Client))
	}
	if err != nil {
		t.Fatalf("storetest: keys: %v", err)
	}
	sort.Strings(keys)
	return keys
}

// Backend names what Target uses, for test logs.
func Backend() string {
	switch {
	case os.Getenv("UPGRADEBOT_TEST_REDIS_CLUSTER") != "":
		return "redis-cluster " + os.Getenv("UPGRADEBOT_TEST_REDIS_CLUSTER")
	case os.Getenv("UPGRADEBOT_TEST_REDIS") != "":
		return "redis-server " + os.Getenv("UPGRADEBOT_TEST_REDIS")
	}
	return "embedded miniredis"
}

// Open opens a store on o and closes it when the test ends.
func Open(t testing.TB, o store.Options) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), o, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("storetest: open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
