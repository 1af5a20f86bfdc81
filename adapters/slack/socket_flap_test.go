package slack

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/internal/syncbuf"
)

// stepClock is a socketClock that moves only when told: Advance, or a
// Sleep, which says its length on sleeps and ends when the test sends on
// wake (or its context ends).
type stepClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*stepTimer
	sleeps chan time.Duration
	wake   chan struct{}
	auto   bool // Sleep just moves the clock on
}

type stepTimer struct {
	at           time.Time
	f            func()
	stopped, ran bool
}

func newStepClock() *stepClock {
	return &stepClock{now: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC), sleeps: make(chan time.Duration), wake: make(chan struct{})}
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &stepTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !t.stopped && !t.ran
		t.stopped = true
		return was
	}
}

// Advance moves the clock on by d and runs the timers then due.
func (c *stepClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []func()
	for _, t := range c.timers {
		if !t.stopped && !t.ran && !t.at.After(c.now) {
			t.ran = true
			due = append(due, t.f)
		}
	}
	c.mu.Unlock()
	for _, f := range due {
		f()
	}
}

func (c *stepClock) Sleep(ctx context.Context, d time.Duration) {
	if c.auto {
		c.Advance(d)
		return
	}
	select {
	case c.sleeps <- d:
	case <-ctx.Done():
		return
	}
	select {
	case <-c.wake:
		c.Advance(d)
	case <-ctx.Done():
	}
}

// nextSleep waits for the bot to pause before reconnecting.
func (c *stepClock) nextSleep(t *testing.T) time.Duration {
	t.Helper()
	select {
	case d := <-c.sleeps:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("the bot did not pause before reconnecting")
		return 0
	}
}

func (a *Adapter) socketsOpened() int {
	a.flaps.mu.Lock()
	defer a.flaps.mu.Unlock()
	return a.flaps.opened
}

// waitOpened waits until slack-go has said that n connections opened.
func waitOpened(t *testing.T, f *fixture, n int) {
	t.Helper()
	f.api.Eventually(t, 10*time.Second, "the connection open", func() bool { return f.a.socketsOpened() >= n })
}

type logLine map[string]any

func logLines(t *testing.T, logs *syncbuf.Buffer) []logLine {
	t.Helper()
	var lines []logLine
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if line == "" {
			continue
		}
		var e logLine
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		lines = append(lines, e)
	}
	return lines
}

// count counts the lines of msg at level.
func count(lines []logLine, level, msg string) int {
	n := 0
	for _, e := range lines {
		if e["level"] == level && e["msg"] == msg {
			n++
		}
	}
	return n
}

const (
	flapStartMsg = "socket mode connection dropped soon after it opened; reconnecting after a pause, longer while connections keep dropping (logged again once stable)"
	stableMsg    = "socket mode connection stable again"
	droppedMsg   = "socket mode connection dropped; reconnecting"
)

// TestSocketModeBacksOffConnectionsThatDropAtOnce: QA ran two replicas
// against a Slack that keeps one socket, each new connection ending the
// other: in 8 s Slack got 5,872 apps.connections.open and the log ~5,900
// drop and reconnect lines, as slack-go reconnects at once whenever a
// connection ends. Now, after a connection that dropped soon after it
// opened, the bot pauses before asking for the next: 1–2 s, doubling up to
// 30 s–1 min while they keep dropping, and asks Slack for no connection
// while it pauses. The log has one WARN for the streak and one INFO once a
// connection has stayed up; then the pauses start again from the first.
func TestSocketModeBacksOffConnectionsThatDropAtOnce(t *testing.T) {
	var logs syncbuf.Buffer
	clk := newStepClock()
	f, sock := runSocketFixture(t, func(f *fixture) {
		f.a.log = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		f.a.socketClock = clk
	})
	waitOpened(t, f, 1)
	sock.DropAfterHello(true)
	sock.Drop(t) // the first connection drops as soon as it is up, and every one after it

	const drops = 9
	for i := range drops {
		d := clk.nextSleep(t)
		// While it pauses, no connection is asked for: one per drop.
		if n := len(f.api.Calls("apps.connections.open")); n != i+1 {
			t.Errorf("pause %d: apps.connections.open called %d times, want %d (one per connection)", i+1, n, i+1)
		}
		ceiling := min(socketFlapFirst<<i, socketFlapMax)
		if d < ceiling/2 || d > ceiling {
			t.Errorf("pause %d: %s, want from %s to %s", i+1, d, ceiling/2, ceiling)
		}
		if i == 0 {
			if err := f.a.Ready(); err == nil || !strings.Contains(err.Error(), "connections drop soon after they open (1 in a row)") {
				t.Errorf("not ready while pausing: %v", err)
			}
		}
		if i == drops-1 {
			sock.DropAfterHello(false) // the next one stays
		}
		clk.wake <- struct{}{}
	}
	sock.WaitConnected(t, drops+1, 10*time.Second)
	waitOpened(t, f, drops+1)
	// An envelope on it, acknowledged: the events before it (its hello) are handled.
	sock.WaitAck(t, sock.SlashCommand(t, slash(f, "help", "tr-up"), 0), 10*time.Second)
	if n := len(f.api.Calls("apps.connections.open")); n != drops+1 {
		t.Errorf("apps.connections.open called %d times for %d connections", n, drops+1)
	}
	clk.Advance(socketStableAfter) // the last one has stayed up

	lines := logLines(t, &logs)
	if n := count(lines, "WARN", flapStartMsg); n != 1 {
		t.Errorf("%d WARN lines for the streak, want 1", n)
	}
	if n := count(lines, "WARN", droppedMsg) + count(lines, "INFO", "socket mode reconnected"); n != 0 {
		t.Errorf("%d drop or reconnection lines at WARN or INFO during the streak, want 0", n)
	}
	var stable logLine
	for _, e := range lines {
		if e["msg"] == stableMsg {
			stable = e
		}
	}
	if stable == nil || stable["level"] != "INFO" || stable["drops"] != float64(drops) {
		t.Errorf("want one INFO %q with drops=%d; got %v", stableMsg, drops, stable)
	}
	if t.Failed() {
		t.Logf("log:\n%s", logs.String())
	}

	// A connection that lasted drops: reconnected at once, told at WARN;
	// then the next drops at once: a new streak, from the first pause.
	logs.Reset()
	sock.DropAfterHello(true)
	sock.Drop(t)
	d := clk.nextSleep(t)
	if d < socketFlapFirst/2 || d > socketFlapFirst {
		t.Errorf("the first pause of a new streak: %s, want from %s to %s", d, socketFlapFirst/2, socketFlapFirst)
	}
	if n := len(f.api.Calls("apps.connections.open")); n != drops+2 {
		t.Errorf("apps.connections.open called %d times, want %d: at once after a connection that lasted", n, drops+2)
	}
	lines = logLines(t, &logs)
	if count(lines, "WARN", droppedMsg) != 1 || count(lines, "WARN", flapStartMsg) != 1 {
		t.Errorf("want the drop of the lasting connection, then the new streak, each at WARN once; log:\n%s", logs.String())
	}
}

// TestSocketModeLongStreakIsToldEveryTenMinutes: a streak that lasts is
// told again at WARN at most every socketFlapLogEvery, with how many
// connections dropped and for how long, the drops in between at DEBUG
// only; then once at INFO when a connection has stayed up.
func TestSocketModeLongStreakIsToldEveryTenMinutes(t *testing.T) {
	var logs syncbuf.Buffer
	clk := newStepClock()
	clk.auto = true
	a := &Adapter{log: slog.New(slog.NewJSONHandler(&logs, nil)), socketClock: clk}
	ctx := context.Background()
	cause := "websocket: close 1006 (abnormal closure): unexpected EOF"
	drop := func() {
		a.socketOpened(ctx)
		a.socketDropped(ctx, cause)
	}
	for range 4 {
		drop()
	}
	lines := logLines(t, &logs)
	if len(lines) != 1 || lines[0]["msg"] != flapStartMsg || lines[0]["cause"] != cause {
		t.Fatalf("four drops at once: want one WARN, the streak's start; log:\n%s", logs.String())
	}
	clk.Advance(socketFlapLogEvery)
	drop()
	drop()
	lines = logLines(t, &logs)
	if len(lines) != 2 || lines[1]["level"] != "WARN" || lines[1]["msg"] != "socket mode connections still drop soon after they open; reconnecting after a pause" ||
		lines[1]["drops"] != float64(5) {
		t.Fatalf("ten minutes on: want one more WARN with drops=5; log:\n%s", logs.String())
	}
	a.socketOpened(ctx)
	clk.Advance(socketStableAfter)
	lines = logLines(t, &logs)
	if len(lines) != 3 || lines[2]["level"] != "INFO" || lines[2]["msg"] != stableMsg || lines[2]["drops"] != float64(6) {
		t.Fatalf("a connection up 30 s: want one INFO with drops=6; log:\n%s", logs.String())
	}
}
