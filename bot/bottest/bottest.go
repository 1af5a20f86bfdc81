// Package bottest holds test doubles of the core's ports that many suites
// share: a recording Messenger and a clock moved by hand. Platform fakes
// that speak a real wire format live with their adapters.
package bottest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/commands"
)

// Window reads a standard window as the configuration writes it ("tue
// 02:00-05:00 Europe/Berlin"; without a zone, UTC), failing the test when
// it cannot.
func Window(t testing.TB, spec string) commands.Window {
	t.Helper()
	w, err := commands.ParseWindow(spec, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// Clock is a clock tests move by hand; safe for concurrent use.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []*clockWaiter // When's, not due yet
}

// clockWaiter is a func to run once the clock reaches at.
type clockWaiter struct {
	at time.Time
	f  func()
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time (a bot.Clock).
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t, and runs the funcs of When due by then.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.fire()
}

// Advance moves the clock forward by d, and runs the funcs of When due by
// then.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.fire()
}

// fire runs the waiters due now, with c.mu held on entry; it unlocks it.
func (c *Clock) fire() {
	var due []*clockWaiter
	c.waiters = slices.DeleteFunc(c.waiters, func(w *clockWaiter) bool {
		if c.now.Before(w.at) {
			return false
		}
		due = append(due, w)
		return true
	})
	c.mu.Unlock()
	for _, w := range due {
		w.f()
	}
}

// When runs f once the clock reaches moment (at once when it has), in the
// call to Set or Advance that moves it there, and returns a func that
// stops that, reporting whether it did (a bot.SchedulerOptions.When: a
// notice's time runs out when the test moves the clock, not after real
// seconds).
func (c *Clock) When(moment time.Time, f func()) (stop func() bool) {
	c.mu.Lock()
	if !c.now.Before(moment) {
		c.mu.Unlock()
		f()
		return func() bool { return false }
	}
	w := &clockWaiter{at: moment, f: f}
	c.waiters = append(c.waiters, w)
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		n := len(c.waiters)
		c.waiters = slices.DeleteFunc(c.waiters, func(x *clockWaiter) bool { return x == w })
		return len(c.waiters) < n
	}
}

// Sent is one message a Recorder delivered.
type Sent struct {
	Op     string // post, reply, edit, direct, answer
	To     string // channel or user id (answer: the invoker)
	Msg    bot.Message
	Text   string // Msg as plain text in UTC
	Handle string // answer: the invocation's handle
}

// Recorder is a bot.Messenger (and bot.Answerer) that records every
// delivery, with failures that tests inject per target. An answer to an
// invoker fails when "answer <user>" is made to fail.
type Recorder struct {
	mu   sync.Mutex
	n    int
	sent []Sent
	fail map[string]error
}

var (
	_ bot.Messenger = (*Recorder)(nil)
	_ bot.Answerer  = (*Recorder)(nil)
)

// Fail makes every delivery to target fail with err.
func (r *Recorder) Fail(target string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail == nil {
		r.fail = map[string]error{}
	}
	r.fail[target] = err
}

func (r *Recorder) add(op, to string, m bot.Message) (bot.MessageRef, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.fail[to]; err != nil {
		return bot.MessageRef{}, err
	}
	r.n++
	r.sent = append(r.sent, Sent{Op: op, To: to, Msg: m, Text: m.Plain(time.UTC)})
	return bot.MessageRef{Channel: to, ID: fmt.Sprintf("m%d", r.n)}, nil
}

// Post implements bot.Messenger.
func (r *Recorder) Post(_ context.Context, ch string, m bot.Message) (bot.MessageRef, error) {
	return r.add("post", ch, m)
}

// Reply implements bot.Messenger.
func (r *Recorder) Reply(_ context.Context, root bot.MessageRef, m bot.Message) (bot.MessageRef, error) {
	return r.add("reply", root.Channel, m)
}

// Edit implements bot.Messenger.
func (r *Recorder) Edit(_ context.Context, ref bot.MessageRef, m bot.Message) error {
	_, err := r.add("edit", ref.Channel, m)
	return err
}

// Direct implements bot.Messenger.
func (r *Recorder) Direct(_ context.Context, user string, m bot.Message) (bot.MessageRef, error) {
	return r.add("direct", user, m)
}

// Answer implements bot.Answerer.
func (r *Recorder) Answer(_ context.Context, to bot.Invoker, m bot.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.fail["answer "+to.User]; err != nil {
		return err
	}
	r.sent = append(r.sent, Sent{Op: "answer", To: to.User, Msg: m, Text: m.Plain(time.UTC), Handle: to.Handle})
	return nil
}

// All returns everything delivered so far, in order.
func (r *Recorder) All() []Sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.sent)
}

// Ops returns the deliveries of one kind ("post", "reply", "edit", "direct", "answer").
func (r *Recorder) Ops(op string) []Sent {
	var out []Sent
	for _, s := range r.All() {
		if s.Op == op {
			out = append(out, s)
		}
	}
	return out
}

// Kinds returns the deliveries of the given notice kinds, in order.
func (r *Recorder) Kinds(kinds ...bot.Kind) []Sent {
	var out []Sent
	for _, s := range r.All() {
		if slices.Contains(kinds, s.Msg.Kind) {
			out = append(out, s)
		}
	}
	return out
}

// Reset forgets what was delivered.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = nil
}
