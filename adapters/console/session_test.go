package console

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// newTestSession is a session on a real core (in-memory store, no job
// queue) with the console's clock pinned at t0; ticker may be nil.
func newTestSession(t *testing.T, ticker Ticker, out io.Writer) (*Session, *Clock, *Messenger) {
	t.Helper()
	cfg := bot.Config{
		People:   []bot.Person{{Name: "alice", IDs: []string{"console:alice"}}, {Name: "bob", IDs: []string{"console:bob"}}},
		Services: []bot.Service{{Name: "payments", Owners: []string{"alice"}, Channels: []string{"console:#payments"}}},
	}
	clock := NewClock(func() time.Time { return t0 })
	ms := NewMessenger(time.UTC, bot.NewDirectory(cfg))
	b := bot.New(bot.Options{Config: cfg, Store: bottest.NewMemStore(), Messenger: ms, Now: clock.Now, RefreshIntervalSet: true})
	s := NewSession(Options{Bot: b, Messenger: ms, Clock: clock, Ticker: ticker, Person: "alice", Location: time.UTC, Out: out})
	return s, clock, ms
}

// fakeTicker is a scheduler whose jobs, each due at a moment, post a
// message naming it when run; a job that fails comes back retry later.
type fakeTicker struct {
	clock *Clock
	ms    *Messenger
	jobs  []fakeJob
	ran   []time.Time // the console's time at each job run
}

type fakeJob struct {
	due   time.Time
	name  string // "": sends nothing
	retry time.Duration
}

func (f *fakeTicker) NextDue(context.Context) (time.Time, bool, error) {
	if len(f.jobs) == 0 {
		return time.Time{}, false, nil
	}
	return slices.MinFunc(f.jobs, func(a, b fakeJob) int { return a.due.Compare(b.due) }).due, true, nil
}

func (f *fakeTicker) RunDue(ctx context.Context) (int, error) {
	now := f.clock.Now()
	n := 0
	var rest []fakeJob
	for _, j := range f.jobs {
		if j.due.After(now) {
			rest = append(rest, j)
			continue
		}
		n++
		f.ran = append(f.ran, now)
		if j.retry > 0 {
			j.due = now.Add(j.retry)
			rest = append(rest, j)
			continue
		}
		if j.name != "" {
			f.ms.Post(ctx, "console:#ops", bot.Message{Title: fmt.Sprintf("%s (due %s)", j.name, j.due.Format("01-02 15:04"))})
		}
	}
	f.jobs = rest
	return n, nil
}

func TestAdvanceStopsAtEachDueMoment(t *testing.T) {
	var out bytes.Buffer
	tk := &fakeTicker{}
	s, clock, ms := newTestSession(t, tk, &out)
	tk.clock, tk.ms = clock, ms
	tk.jobs = []fakeJob{
		{due: t0.Add(72 * time.Hour), name: "second"},
		{due: t0.Add(24 * time.Hour), name: "first"},
		{due: t0.Add(48 * time.Hour)}, // sends nothing: no clock line
		{due: t0.Add(96 * time.Hour), name: "at the target"},
		{due: t0.Add(97 * time.Hour), name: "after the target"},
	}
	s.Line(context.Background(), ":advance 4d")
	want := `the clock is now 2026-11-23 10:00 UTC
── #ops · new message m1
  │ first (due 11-23 10:00)
the clock is now 2026-11-25 10:00 UTC
── #ops · new message m2
  │ second (due 11-25 10:00)
the clock is now 2026-11-26 10:00 UTC
── #ops · new message m3
  │ at the target (due 11-26 10:00)
`
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
	if !clock.Now().Equal(t0.Add(96 * time.Hour)) {
		t.Errorf("the clock is at %s, want the target", clock.Now())
	}
	for i, at := range []time.Duration{24, 48, 72, 96} {
		if i >= len(tk.ran) || !tk.ran[i].Equal(t0.Add(at*time.Hour)) {
			t.Fatalf("jobs ran at %v, want each at its due time", tk.ran)
		}
	}
	if len(tk.jobs) != 1 || tk.jobs[0].name != "after the target" {
		t.Errorf("left %v, want only the job after the target", tk.jobs)
	}
}

func TestAdvanceGivesUpOnAJobThatKeepsFailing(t *testing.T) {
	var out bytes.Buffer
	tk := &fakeTicker{}
	s, clock, ms := newTestSession(t, tk, &out)
	tk.clock, tk.ms = clock, ms
	tk.jobs = []fakeJob{{due: t0.Add(time.Minute), retry: 5 * time.Second}}
	s.Line(context.Background(), ":advance 7d")
	stopped := t0.Add(time.Minute + (maxAdvanceSteps-1)*5*time.Second)
	if len(tk.ran) != maxAdvanceSteps || !clock.Now().Equal(stopped) {
		t.Fatalf("ran %d times, clock at %s; want %d runs and the clock at %s", len(tk.ran), clock.Now(), maxAdvanceSteps, stopped)
	}
	want := fmt.Sprintf(":advance stopped after %d due moments at %s, short of %s", maxAdvanceSteps,
		bot.FormatTime(stopped, time.UTC), bot.FormatTime(t0.Add(7*24*time.Hour), time.UTC))
	if !strings.Contains(out.String(), want) || strings.Contains(out.String(), "the clock is now") {
		t.Errorf("got %q, want only %q…", out.String(), want)
	}
}

func TestAdvanceWithNothingDue(t *testing.T) {
	var out bytes.Buffer
	tk := &fakeTicker{}
	s, clock, ms := newTestSession(t, tk, &out)
	tk.clock, tk.ms = clock, ms
	s.Line(context.Background(), ":advance 2h")
	if got, want := out.String(), "the clock is now 2026-11-22 12:00 UTC\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestClockAdvanceToNeverGoesBack(t *testing.T) {
	c := NewClock(func() time.Time { return t0 })
	c.AdvanceTo(t0.Add(time.Hour))
	c.AdvanceTo(t0.Add(time.Minute))
	if !c.Now().Equal(t0.Add(time.Hour)) {
		t.Fatalf("clock at %s", c.Now())
	}
}
