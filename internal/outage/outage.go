// Package outage keeps the log calm while a dependency (Redis) does not
// answer. A Tracker hears each call that failed for want of an answer and
// each that was answered; it writes one warning when the dependency stops
// answering, at most one reminder per interval while it stays so (how long,
// how many failures, which log lines it held back), and one line when it
// answers again. Its Handler holds back the warnings and errors that the
// background loops log meanwhile for the same cause, so that each of them
// does not log every retry; every other line passes unchanged.
package outage

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultEvery is how often a Tracker repeats that the dependency is still
// unavailable, unless Options.Every says otherwise.
const DefaultEvery = time.Minute

// Options configures a Tracker.
type Options struct {
	// Name names the dependency in the log lines ("redis").
	Name string
	// Log receives the tracker's own lines. It should not be a logger built
	// on the tracker's Handler (its lines would be held back too).
	Log *slog.Logger
	// Classify reports whether an error logged by another part means the
	// dependency did not answer; such lines are held back while it is down.
	Classify func(error) bool
	// Every is the least time between two reminders; default DefaultEvery.
	Every time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Settle is how long the dependency must go without a failure before
	// an answer counts as its return (0: at the first answer). A Redis
	// Cluster with slots not served answers the calls on the other slots
	// between failures: without it, each such answer ended the outage.
	Settle time.Duration
	// Observe, when set, hears every event after the tracker handled it
	// (tests count failures with it).
	Observe func(Event)
	// After runs f after d (time.AfterFunc; tests run it by hand): the
	// end of an outage is told once Settle has passed without a failure,
	// not at the next call, which may come much later.
	After func(d time.Duration, f func())
}

// Event is what Options.Observe hears.
type Event int

const (
	// Failed: a call failed for want of an answer.
	Failed Event = iota
	// Answered: the dependency answered after being down.
	Answered
	// HeldBack: a log line was held back.
	HeldBack
)

// Tracker follows whether the dependency answers. It is safe for
// concurrent use; Answered is cheap while the dependency is up, so it may be
// called on every successful call.
//
// A dependency that comes and goes (flaps) does not make a pair of lines of
// each outage: an outage that starts within the interval after the last
// one was announced is not announced (nor its end), only counted; a
// reminder tells of it should it last, and otherwise one line, once the
// interval has passed, tells how many there were.
type Tracker struct {
	o    Options
	down atomic.Bool

	mu         sync.Mutex
	since      time.Time      // when the current outage started
	announced  bool           // the current outage was told of (its end will be)
	lastOnset  time.Time      // when an outage was last announced
	reported   time.Time      // when the last warning was written
	failures   int            // failed calls in the current outage
	sinceLast  int            // failed calls since the last line (flush tells them)
	outages    int            // outages not announced since the last line
	flushing   bool           // flush is due to tell of them
	heldBack   map[string]int // log lines held back since the last line, by message
	lastReason string
	lastFail   time.Time // when a call last failed
	answeredAt time.Time // the first answer since the last failure; zero when none
	settling   bool      // a check at the end of Settle is due
}

// New returns a Tracker; the dependency is taken to be up.
func New(o Options) *Tracker {
	if o.Every <= 0 {
		o.Every = DefaultEvery
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Classify == nil {
		o.Classify = func(error) bool { return false }
	}
	if o.After == nil {
		o.After = func(d time.Duration, f func()) { time.AfterFunc(d, f) }
	}
	o.Name = cmp.Or(o.Name, "dependency")
	return &Tracker{o: o, heldBack: map[string]int{}}
}

// Down reports whether the dependency is taken to be unavailable.
func (t *Tracker) Down() bool { return t.down.Load() }

// Failed records a call that failed because the dependency did not answer
// (err says why; it must not carry a secret). The first failure after an
// answer is logged as a warning; later ones only count, and go into the
// reminder written at most once per interval.
func (t *Tracker) Failed(err error) {
	reason := "no answer"
	if err != nil {
		reason = err.Error()
	}
	t.mu.Lock()
	now := t.o.Now()
	t.sinceLast++
	t.lastReason, t.lastFail, t.answeredAt = reason, now, time.Time{}
	var line func()
	if !t.down.Load() {
		t.down.Store(true)
		t.since, t.failures = now, 1
		if t.lastOnset.IsZero() || now.Sub(t.lastOnset) >= t.o.Every {
			msg := fmt.Sprintf("%s unavailable; retrying in the background (until it answers, the failures it causes are summed up every %s instead of logged one by one)",
				t.o.Name, t.o.Every)
			attrs := append(t.summary(), "err", reason)
			t.announced, t.lastOnset, t.reported = true, now, now
			line = func() { t.o.Log.Warn(msg, attrs...) }
		} else {
			t.announced = false
			t.outages++
			line = t.reminder(now)
		}
	} else {
		t.failures++
		line = t.reminder(now)
	}
	t.mu.Unlock()
	if line != nil {
		line()
	}
	t.observe(Failed)
}

// Answered records a call the dependency answered. After an announced
// outage it logs how long it lasted (until the first answer after the last
// failure), once no call has failed for Options.Settle: at this call, or
// when Settle has passed since the last failure.
func (t *Tracker) Answered() {
	if !t.down.Load() {
		return
	}
	t.mu.Lock()
	if !t.down.Load() {
		t.mu.Unlock()
		return
	}
	now := t.o.Now()
	if t.answeredAt.IsZero() {
		t.answeredAt = now
	}
	if now.Sub(t.lastFail) < t.o.Settle {
		// Failures may still come between the answers: look again once
		// Settle has passed since the last one.
		if !t.settling {
			t.settling = true
			t.o.After(t.o.Settle-now.Sub(t.lastFail), t.settle)
		}
		t.mu.Unlock()
		return
	}
	t.recovered(now)
}

// settle ends the outage when no call has failed for Settle since an
// answer came; a failure meanwhile leaves it to the next answer.
func (t *Tracker) settle() {
	t.mu.Lock()
	t.settling = false
	now := t.o.Now()
	if !t.down.Load() || t.answeredAt.IsZero() {
		t.mu.Unlock()
		return
	}
	if wait := t.o.Settle - now.Sub(t.lastFail); wait > 0 {
		t.settling = true
		t.o.After(wait, t.settle)
		t.mu.Unlock()
		return
	}
	t.recovered(now)
}

// recovered ends the outage, with t.mu held (and released): it lasted from
// its first failure to the first answer after its last.
func (t *Tracker) recovered(now time.Time) {
	t.down.Store(false)
	var line func()
	if t.announced {
		attrs := append([]any{"down_for", roundDuration(t.answeredAt.Sub(t.since)), "failures", t.failures}, t.summary()...)
		line = func() { t.o.Log.Info(t.o.Name+" answers again", attrs...) }
	} else if !t.flushing {
		// Say it once the interval after the last announcement has passed,
		// unless another line says it first.
		t.flushing = true
		t.o.After(max(t.lastOnset.Add(t.o.Every).Sub(now), 0), t.flush)
	}
	t.failures, t.answeredAt = 0, time.Time{}
	t.mu.Unlock()
	if line != nil {
		line()
	}
	t.observe(Answered)
}

// flush tells of the outages that were not announced, unless a line did
// already or the dependency is down again (a reminder will).
func (t *Tracker) flush() {
	t.mu.Lock()
	t.flushing = false
	if t.down.Load() || t.outages == 0 {
		t.mu.Unlock()
		return
	}
	failures := t.sinceLast
	attrs := append([]any{"failures", failures}, t.summary()...)
	t.mu.Unlock()
	t.o.Log.Info(t.o.Name+" answers again", attrs...)
}

// reminder returns the line to write when the interval since the last
// warning has passed, else nil. The current outage is announced by it.
// t.mu is held.
func (t *Tracker) reminder(now time.Time) func() {
	if now.Sub(t.reported) < t.o.Every {
		return nil
	}
	attrs := append([]any{"down_for", roundDuration(now.Sub(t.since)), "failures", t.failures}, t.summary()...)
	attrs = append(attrs, "err", t.lastReason)
	t.reported, t.announced = now, true
	msg := t.o.Name + " still unavailable; retrying"
	return func() { t.o.Log.Warn(msg, attrs...) }
}

// summary words, as log attributes, what happened since the last line
// (lines held back, outages not announced), and starts counting anew.
// t.mu is held.
func (t *Tracker) summary() []any {
	var attrs []any
	if n, what := t.heldBackSummary(); n > 0 {
		attrs = append(attrs, "held_back", n, "held_back_lines", what)
	}
	if t.outages > 0 {
		attrs = append(attrs, "outages_not_logged", t.outages)
	}
	t.sinceLast, t.outages = 0, 0
	clear(t.heldBack)
	return attrs
}

// heldBackSummary counts the lines held back and words the most frequent
// of their messages ("running due jobs failed ×12; ..."). t.mu is held.
func (t *Tracker) heldBackSummary() (int, string) {
	n := 0
	for _, c := range t.heldBack {
		n += c
	}
	msgs := slices.SortedFunc(maps.Keys(t.heldBack), func(a, b string) int {
		return cmp.Or(cmp.Compare(t.heldBack[b], t.heldBack[a]), strings.Compare(a, b))
	})
	const most = 8
	var parts []string
	for i, m := range msgs {
		if i == most {
			parts = append(parts, fmt.Sprintf("%d more", len(msgs)-most))
			break
		}
		parts = append(parts, fmt.Sprintf("%s ×%d", m, t.heldBack[m]))
	}
	return n, strings.Join(parts, "; ")
}

// holdBack counts a log line instead of writing it, when the dependency is
// down; it reports whether it did.
func (t *Tracker) holdBack(msg string) bool {
	t.mu.Lock()
	if !t.down.Load() {
		t.mu.Unlock()
		return false
	}
	t.heldBack[msg]++
	line := t.reminder(t.o.Now())
	t.mu.Unlock()
	if line != nil {
		line()
	}
	t.observe(HeldBack)
	return true
}

func (t *Tracker) observe(e Event) {
	if t.o.Observe != nil {
		t.o.Observe(e)
	}
}

// Handler wraps next: while the dependency is down, a warning or error
// whose error attribute Options.Classify accepts is counted rather than
// written. Everything else goes to next as it is.
func (t *Tracker) Handler(next slog.Handler) slog.Handler { return &handler{t: t, next: next} }

type handler struct {
	t    *Tracker
	next slog.Handler
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn && h.t.down.Load() && h.classified(r) && h.t.holdBack(r.Message) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

// classified reports whether one of r's attributes is an error that
// Options.Classify accepts.
func (h *handler) classified(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		if err, ok := a.Value.Resolve().Any().(error); ok && h.t.o.Classify(err) {
			found = true
		}
		return !found
	})
	return found
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &handler{t: h.t, next: h.next.WithAttrs(as)}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{t: h.t, next: h.next.WithGroup(name)}
}

// roundDuration words d to the second (to the millisecond below one).
func roundDuration(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
