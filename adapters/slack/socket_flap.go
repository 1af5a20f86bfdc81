package slack

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Connections that drop soon after they open. slack-go reconnects at once
// whenever a connection ends (its own backoff is only for failing to open
// one), so a connection that Slack, a proxy or another replica ends right
// after it opens was opened again thousands of times a second, each time
// with a call of apps.connections.open, which Slack rate-limits. The bot
// now holds slack-go's reconnection (socketDropped is told on the very
// goroutine that reconnects, before it does) for a pause when the
// connection that ended had been up less than socketStableAfter: from
// socketFlapFirst, doubling while connections keep dropping, up to
// socketFlapMax, each pause a random time between half its ceiling and
// its ceiling (replicas that end each other's connections fall out of
// step). A connection that stays up socketStableAfter ends the streak.
const (
	socketStableAfter  = 30 * time.Second
	socketFlapFirst    = 2 * time.Second
	socketFlapMax      = time.Minute
	socketFlapLogEvery = 10 * time.Minute
)

// socketClock is the time the pauses between Socket Mode connections go
// by: the wall clock, or a test's.
type socketClock interface {
	Now() time.Time
	// Sleep waits d, or until ctx ends.
	Sleep(ctx context.Context, d time.Duration)
	// AfterFunc calls f after d, unless stopped first.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) Sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (wallClock) AfterFunc(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }

func (a *Adapter) clock() socketClock {
	if a.socketClock == nil {
		return wallClock{}
	}
	return a.socketClock
}

// socketFlaps is the streak of connections that dropped soon after they
// opened. It is kept by slack-go's goroutine (socketOpened, socketDropped)
// and read by the event loop (socketUp) and the stable timer.
type socketFlaps struct {
	mu       sync.Mutex
	openedAt time.Time     // when the connection now up opened; zero when none is
	opened   int           // connections opened
	drops    int           // connections of the streak; 0: no streak
	ceiling  time.Duration // of the last pause
	since    time.Time     // the streak's first drop
	logged   time.Time     // the streak's last WARN
	stop     func() bool   // the stable timer of the connection now up
}

// flapping reports whether connections keep dropping soon after they open.
func (f *socketFlaps) flapping() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.drops > 0
}

// socketOpened is told, by slack-go's goroutine, that a connection is
// open. During a streak, one that stays up socketStableAfter ends it.
func (a *Adapter) socketOpened(ctx context.Context) {
	c, f := a.clock(), &a.flaps
	f.mu.Lock()
	defer f.mu.Unlock()
	f.openedAt = c.Now()
	f.opened++
	if f.drops > 0 {
		n := f.opened
		f.stop = c.AfterFunc(socketStableAfter, func() { a.socketStable(ctx, n) })
	}
}

// socketStable ends the streak once connection n has stayed up.
func (a *Adapter) socketStable(ctx context.Context, n int) {
	f := &a.flaps
	f.mu.Lock()
	if ctx.Err() != nil || n != f.opened || f.openedAt.IsZero() || f.drops == 0 {
		f.mu.Unlock()
		return
	}
	drops, lasted := f.drops, f.openedAt.Sub(f.since)
	f.drops, f.ceiling, f.stop = 0, 0, nil
	f.mu.Unlock()
	a.log.InfoContext(ctx, "socket mode connection stable again", "drops", drops,
		"dropping_for", lasted.Round(time.Second).String(), "stable_for", socketStableAfter.String())
}

// socketFlapped records the end of a connection: it returns the pause to
// make before the next (0 after one that lasted), and logs it.
func (a *Adapter) socketFlapped(ctx context.Context, now time.Time, cause string) time.Duration {
	f := &a.flaps
	f.mu.Lock()
	if f.stop != nil {
		f.stop()
		f.stop = nil
	}
	opened := f.openedAt
	f.openedAt = time.Time{}
	// Unknown (slack-go did not say it opened): a pause rather than a flood.
	if !opened.IsZero() && now.Sub(opened) >= socketStableAfter {
		drops := f.drops
		f.drops, f.ceiling = 0, 0
		f.mu.Unlock()
		if drops > 0 { // its stable timer had not run yet
			a.log.InfoContext(ctx, "socket mode connection stable again", "drops", drops, "stable_for", now.Sub(opened).Round(time.Second).String())
		}
		return 0
	}
	first := f.drops == 0
	if first {
		f.since, f.logged, f.ceiling = now, now, socketFlapFirst
	} else {
		f.ceiling = min(2*f.ceiling, socketFlapMax)
	}
	f.drops++
	pause := socketPause(f.ceiling)
	again := !first && now.Sub(f.logged) >= socketFlapLogEvery
	if again {
		f.logged = now
	}
	drops, since := f.drops, f.since
	f.mu.Unlock()

	why := fmt.Sprintf("connections drop soon after they open (%d in a row); reconnecting after a pause", drops)
	a.socketWhy.Store(&why)
	switch {
	case first:
		upFor := "unknown"
		if !opened.IsZero() {
			upFor = now.Sub(opened).Round(time.Millisecond).String()
		}
		a.log.WarnContext(ctx, "socket mode connection dropped soon after it opened; reconnecting after a pause, longer while connections keep dropping (logged again once stable)",
			"cause", cause, "up_for", upFor, "again_in", pause.Round(time.Millisecond).String())
	case again:
		a.log.WarnContext(ctx, "socket mode connections still drop soon after they open; reconnecting after a pause",
			"cause", cause, "drops", drops, "dropping_for", now.Sub(since).Round(time.Second).String(), "again_in", pause.Round(time.Millisecond).String())
	default:
		a.log.DebugContext(ctx, "socket mode connection dropped soon after it opened", "cause", cause, "drops", drops, "again_in", pause.String())
	}
	return pause
}

// socketPause is a random pause between half of ceiling and ceiling.
func socketPause(ceiling time.Duration) time.Duration {
	half := ceiling / 2
	return half + rand.N(ceiling-half+1)
}
