package bot

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"
)

// claimOnce is a JobQueue whose jobs are claimed once, all together.
type claimOnce struct {
	mu      sync.Mutex
	pending []Job
	done    []Job
}

func (q *claimOnce) ReplaceJobs(context.Context, int, int, []Job, time.Time) error { return nil }
func (q *claimOnce) Claim(context.Context, time.Time, time.Duration, int) ([]Job, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	js := q.pending
	q.pending = nil
	return js, nil
}
func (q *claimOnce) Done(_ context.Context, j Job) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.done = append(q.done, j)
	return nil
}
func (q *claimOnce) Release(context.Context, []Job) error             { return nil }
func (q *claimOnce) Retry(context.Context, Job, time.Time) error      { return nil }
func (q *claimOnce) NextDue(context.Context) (time.Time, bool, error) { return time.Time{}, false, nil }
func (q *claimOnce) Wake(context.Context) error                       { return nil }
func (q *claimOnce) Wakeups(context.Context) <-chan struct{}          { return nil }

// lags is an Observer that keeps the lag of each job.
type lags struct {
	NopObserver
	mu  sync.Mutex
	got []string
}

func (l *lags) Job(kind JobKind, lag time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, string(kind)+" "+lag.String())
}

func TestRunnerTellsHowLateEachJobStarts(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	q := &claimOnce{pending: []Job{
		{ID: "reminder:1h", Upgrade: 1, Kind: JobReminder, Due: now.Add(-3 * time.Second)},
		{ID: "window_open", Upgrade: 2, Kind: JobWindowOpen, Due: now.Add(-2 * time.Minute)},
		{ID: "overrun", Upgrade: 3, Kind: JobOverrun, Due: now.Add(time.Second)}, // a clock a little behind: never negative
	}}
	obs := &lags{}
	r := &runner{q: q, o: SchedulerOptions{}.withDefaults(func() time.Time { return now }, slog.New(slog.DiscardHandler)),
		now: func() time.Time { return now }, log: slog.New(slog.DiscardHandler),
		exec: func(context.Context, Job) error { return nil }, obs: obs}
	if n, err := r.runDue(context.Background()); err != nil || n != 3 {
		t.Fatalf("runDue = %d, %v; want 3 jobs run", n, err)
	}
	slices.Sort(obs.got)
	if want := []string{"overrun 0s", "reminder 3s", "window_open 2m0s"}; !slices.Equal(obs.got, want) {
		t.Errorf("observed lags %q, want %q", obs.got, want)
	}
}
