package store

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestPingSaysAClusterThatServesNotAllSlotsIsDown: a Redis Cluster whose
// master died (no replica to take over) still answers PING on the other
// nodes, but every command on the dead master's slots fails; readiness must
// say so. It runs a private 3-master Cluster of real redis-servers.
func TestPingSaysAClusterThatServesNotAllSlotsIsDown(t *testing.T) {
	server, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("no redis-server on PATH")
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("no redis-cli on PATH")
	}
	var addrs []string
	for range 3 {
		port := clusterPort(t)
		dir := t.TempDir()
		cmd := exec.Command(server, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--cluster-enabled", "yes", "--cluster-node-timeout", "500", "--cluster-config-file", filepath.Join(dir, "nodes.conf"),
			"--dir", dir, "--logfile", filepath.Join(dir, "redis.log"))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
		addrs = append(addrs, "127.0.0.1:"+strconv.Itoa(port))
	}
	for _, a := range addrs {
		waitFor(t, "node "+a+" to answer", func() bool {
			c := redis.NewClient(&redis.Options{Addr: a, MaxRetries: -1})
			defer c.Close()
			return c.Ping(context.Background()).Err() == nil
		})
	}
	if out, err := exec.Command(cli, append(append([]string{"--cluster", "create"}, addrs...), "--cluster-yes")...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	ctx := context.Background()
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, MaxRetries: -1, DialTimeout: time.Second})
	s := New(c, Options{Prefix: "ready"})
	defer s.Close()
	waitFor(t, "the cluster to be ready", func() bool { return s.Ping(ctx) == nil })

	// One master goes; the others answer PING, and the cluster's state
	// turns to fail once they agree it is gone.
	down := redis.NewClient(&redis.Options{Addr: addrs[2]})
	_ = down.Shutdown(ctx).Err()
	_ = down.Close()
	var last error
	waitFor(t, "Ping to report the cluster down", func() bool {
		last = s.Ping(ctx)
		return last != nil && strings.Contains(last.Error(), "cluster state is fail")
	})
}

// clusterPort is a free loopback port whose cluster bus port (+10000) is
// free as well.
func clusterPort(t *testing.T) int {
	t.Helper()
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if port+10000 > 65535 {
			continue
		}
		if bus, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+10000)); err == nil {
			bus.Close()
			return port
		}
	}
	t.Fatal("no free port pair for a cluster node")
	return 0
}

// waitFor polls cond (a state of the servers, which tell no events) until
// it holds, failing after a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
