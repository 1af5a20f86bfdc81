package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/upgradebot/upgradebot/internal/outage"
)

// TestServeLogsRedisOutageCalmly: serve started on an address where
// nothing listens logs one warning that Redis is unavailable (and the one
// that it starts anyway), whatever the number of calls that fail meanwhile
// (the store's, go-redis's dials, the scheduler's, the notice recovery's,
// ...), and one line when it answers.
// The test waits on the outage tracker's events, not on time.
func TestServeLogsRedisOutageCalmly(t *testing.T) {
	const failures, heldBack = 40, 3
	var (
		mu       sync.Mutex
		counts   = map[outage.Event]int{}
		answered = make(chan struct{})
		enough   = make(chan struct{})
		reached  bool
	)
	outageObserve = func(e outage.Event) {
		mu.Lock()
		defer mu.Unlock()
		counts[e]++
		if e == outage.Answered && counts[e] == 1 {
			close(answered)
		}
		if !reached && counts[outage.Failed] >= failures && counts[outage.HeldBack] >= heldBack {
			reached = true
			close(enough)
		}
	}
	t.Cleanup(func() { outageObserve = nil })

	redisAddr, addr := freeAddr(t), freeAddr(t)
	cfg := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("[server]\nlisten = %q\n", addr)), 0o600)
	var logs syncBuffer
	// The password in the environment, where it belongs (one in the file is warned of).
	stopServe := startServeWith(t, cfg, []string{"UPGRADEBOT_REDIS_URL=redis://:s3cretpw@" + redisAddr + "/0"}, &logs)

	select {
	case <-enough:
	case <-time.After(60 * time.Second):
		t.Fatalf("gave up waiting for %d failures and %d lines held back; logs:\n%s", failures, heldBack, logs.String())
	}
	// miniredis listens before it knows its commands (a connection in
	// between is told "unknown command `auth`"): it starts on a port of
	// its own, and only once it is up does Redis's address lead to it.
	m := miniredis.NewMiniRedis()
	m.RequireAuth("s3cretpw")
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	forward(t, redisAddr, m.Addr())
	// serve stops before its Redis and the way to it, also when the test
	// fails (cleanups run last first): a serve stopping without its Redis
	// may take its whole stop budget (25 s), longer than startServe waits.
	t.Cleanup(stopServe)
	select {
	case <-answered:
	case <-time.After(30 * time.Second):
		t.Fatalf("gave up waiting for Redis to be heard answering; logs:\n%s", logs.String())
	}
	waitFor(t, 10*time.Second, "the line that Redis answers", func() bool { return strings.Contains(logs.String(), "redis answers again") })

	var warnings []string
	var back map[string]any
	for line := range strings.Lines(logs.String()) {
		var l map[string]any
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		msg, _ := l["msg"].(string)
		switch {
		case l["level"] == "INFO" && msg == "redis answers again":
			if back != nil {
				t.Errorf("Redis answering logged twice")
			}
			back = l
		case l["level"] == "WARN" && strings.HasPrefix(msg, "no chat platform is enabled"):
		case l["level"] == "WARN" || l["level"] == "ERROR":
			warnings = append(warnings, msg)
		}
	}
	mu.Lock()
	n := counts[outage.Failed]
	mu.Unlock()
	want := []string{
		"redis unavailable; retrying in the background (until it answers, the failures it causes are summed up every 1m0s instead of logged one by one)",
		"redis: not reachable yet; starting anyway and retrying",
	}
	if strings.Join(warnings, "\n") != strings.Join(want, "\n") {
		t.Errorf("%d failures made these warnings and errors:\n%s\nwant the one that Redis is unavailable and the one that serve starts anyway:\n%s",
			n, strings.Join(warnings, "\n"), strings.Join(want, "\n"))
	}
	if back == nil || back["down_for"] == nil || back["held_back"] == nil {
		t.Errorf("the line that Redis answers again = %v, want how long it was down and what was held back", back)
	}
	for _, leak := range []string{"s3cretpw", "redis client:"} {
		if strings.Contains(logs.String(), leak) {
			t.Errorf("the log has %q:\n%s", leak, logs.String())
		}
	}
}

// forward accepts connections on addr and joins each to to, until the
// test ends.
func forward(t *testing.T, addr, to string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", to)
				if err != nil {
					return
				}
				defer up.Close()
				go io.Copy(up, c)
				io.Copy(c, up)
			}()
		}
	}()
}
