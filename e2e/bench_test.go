package e2e

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
	"github.com/upgradebot/upgradebot/store"
	"github.com/upgradebot/upgradebot/store/storetest"
)

// The scheduler benchmarks are a load run rather than a micro-benchmark:
// run them once against a real server, e.g.
//
//	UPGRADEBOT_TEST_REDIS=redis://127.0.0.1:6379/11 go test -run '^$' -bench Scheduler -benchtime 1x ./e2e/
//
// Numbers are in docs/benchmarks.md.

const benchUpgrades = 100_000

// seed creates n scheduled upgrades, one window a minute starting 8 days
// after base, and plans their jobs (3 reminders, escalation, window open,
// overrun each), with 8 writers. Nothing is due before base+1d: a benchmark
// on the real clock seeds from time.Now(), or its replicas would spend the
// run on a backlog of reminders due since base.
func seed(b *testing.B, r *replica, n int, base time.Time) {
	b.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w + 1; i <= n; i += 8 {
				st := base.Add(8*24*time.Hour + time.Duration(i)*time.Minute)
				u := &bot.Upgrade{ID: i, Service: "payments", Version: "v1", Start: st, End: st.Add(time.Hour), State: bot.Scheduled,
					Audience: []string{"alice", "bob"}, Threads: []bot.MessageRef{{Channel: "t:#payments", ID: "root"}}, Rev: 1}
				if err := r.st.Create(ctx, u, bot.Decision{Action: "scheduled"}); err != nil {
					errs <- err
					return
				}
				if err := r.sched.Plan(ctx, u); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// BenchmarkSchedulerClaim: with 100,000 upgrades scheduled (600,000 jobs
// pending), three replicas run the 5,000 reminders that fall due at once.
func BenchmarkSchedulerClaim(b *testing.B) {
	for b.Loop() {
		o := storetest.Target(b)
		clock, log := bottest.NewClock(start0), &bottest.Recorder{}
		var reps []*replica
		for range 3 {
			reps = append(reps, newBenchReplica(b, o, clock.Now, log))
		}
		t0 := time.Now()
		seed(b, reps[0], benchUpgrades, start0)
		b.ReportMetric(time.Since(t0).Seconds(), "s-seed")

		// The 168h reminders of the first 5,000 upgrades are now due (and
		// nothing else: the first 72h reminder is due 4 days later).
		const due = 5_000
		clock.Set(start0.Add(24*time.Hour + due*time.Minute))
		t1 := time.Now()
		var wg sync.WaitGroup
		for _, r := range reps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := r.sched.RunDue(context.Background()); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
		el := time.Since(t1)
		if got := len(timed(log)); got != due {
			b.Fatalf("sent %d reminders, want %d", got, due)
		}
		b.ReportMetric(float64(due)/el.Seconds(), "jobs/s")
	}
}

// BenchmarkSchedulerLag: with 100,000 upgrades scheduled, 1,000 windows
// open over the next 2 seconds of real time; three replicas in Run (woken
// by pub/sub, MaxIdle 30s) post them. Reports how late each notice was,
// and how many windows had opened before their plan landed (late-plans:
// on a busy machine, planning falls behind; those notices go out late).
func BenchmarkSchedulerLag(b *testing.B) {
	for b.Loop() {
		o := storetest.Target(b)
		seedRep := newBenchReplica(b, o, time.Now, &bottest.Recorder{})
		seed(b, seedRep, benchUpgrades, time.Now().UTC().Truncate(time.Minute))

		lag := &lagLog{}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var live *replica
		for range 3 {
			// Steady state: no start-up reconcile pass competing with the
			// planning below (BenchmarkSchedulerReconcile measures it).
			r := newBenchReplica(b, o, time.Now, lag, bot.SchedulerOptions{Reconcile: -1})
			live = r
			wg.Add(1)
			go func() { defer wg.Done(); _ = r.sched.Run(ctx) }()
		}
		time.Sleep(200 * time.Millisecond)

		const n = 1000
		latePlans := 0
		first := time.Now().Add(500 * time.Millisecond)
		lag.starts = map[string]time.Time{}
		for i := range n {
			st := first.Add(time.Duration(i) * 2 * time.Second / n).Truncate(time.Millisecond)
			now := time.Now()
			u := &bot.Upgrade{ID: benchUpgrades + 1 + i, Service: "payments", Version: "v1", Start: st, End: st.Add(time.Hour),
				State: bot.Scheduled, Threads: []bot.MessageRef{{Channel: "t:#payments", ID: "root"}}, CreatedAt: now, UpdatedAt: now, Rev: 1}
			lag.mu.Lock()
			lag.starts[u.Key()] = st
			lag.mu.Unlock()
			if err := seedRep.st.Create(ctx, u, bot.Decision{Action: "scheduled"}); err != nil {
				b.Fatal(err)
			}
			if err := live.sched.Plan(ctx, u); err != nil {
				b.Fatal(err)
			}
			if time.Now().After(st) {
				latePlans++ // its window opened before its plan landed
			}
		}
		deadline := time.Now().Add(30 * time.Second)
		for lag.count() < n && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
		wg.Wait()
		ls := lag.sorted()
		if len(ls) != n {
			b.Fatalf("%d of %d window-open notices sent (%d windows opened before their plan landed)", len(ls), n, latePlans)
		}
		b.ReportMetric(float64(ls[len(ls)/2].Microseconds())/1000, "ms-p50-lag")
		b.ReportMetric(float64(ls[len(ls)*99/100].Microseconds())/1000, "ms-p99-lag")
		b.ReportMetric(float64(ls[len(ls)-1].Microseconds())/1000, "ms-max-lag")
		b.ReportMetric(float64(latePlans), "late-plans")
	}
}

// BenchmarkSchedulerReconcile: with 100,000 upgrades scheduled, what the
// reconciler costs: the full pass Run makes when it starts (re-plans every
// active upgrade) and a periodic pass when every plan is up to date (one
// List of the active upgrades and one HMGET of their planned revisions).
func BenchmarkSchedulerReconcile(b *testing.B) {
	for b.Loop() {
		o := storetest.Target(b)
		r := newBenchReplica(b, o, func() time.Time { return start0 }, &bottest.Recorder{})
		seed(b, r, benchUpgrades, start0)
		ctx := context.Background()
		t0 := time.Now()
		n, err := r.sched.Reconcile(ctx, true)
		if err != nil || n != benchUpgrades {
			b.Fatalf("full pass re-planned %d, %v", n, err)
		}
		b.ReportMetric(time.Since(t0).Seconds(), "s-full-pass")
		t1 := time.Now()
		n, err = r.sched.Reconcile(ctx, false)
		if err != nil || n != 0 {
			b.Fatalf("periodic pass re-planned %d, %v; want 0", n, err)
		}
		b.ReportMetric(float64(time.Since(t1).Microseconds())/1000, "ms-periodic-pass")
	}
}

func newBenchReplica(b *testing.B, o store.Options, clock func() time.Time, ms bot.Messenger, so ...bot.SchedulerOptions) *replica {
	b.Helper()
	st := storetest.Open(b, o)
	var opts bot.SchedulerOptions
	if len(so) > 0 {
		opts = so[0]
	}
	bt := bot.New(bot.Options{Config: schedConfig(), Store: st, Messenger: bot.Router{"t": ms}, Now: clock, RefreshIntervalSet: true, Queue: st, Scheduler: opts})
	return &replica{st: st, b: bt, sched: bt.Scheduler()}
}

// lagLog records how late each window-open notice is posted.
type lagLog struct {
	bottest.Recorder
	mu     sync.Mutex
	starts map[string]time.Time
	lags   []time.Duration
}

func (l *lagLog) Reply(ctx context.Context, root bot.MessageRef, m bot.Message) (bot.MessageRef, error) {
	if m.Kind == bot.KindWindowOpen {
		l.mu.Lock()
		if st, ok := l.starts[m.UpgradeID]; ok {
			l.lags = append(l.lags, time.Since(st))
		}
		l.mu.Unlock()
	}
	return bot.MessageRef{Channel: root.Channel, ID: fmt.Sprint(m.UpgradeID)}, nil
}

func (l *lagLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lags)
}

func (l *lagLog) sorted() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := slices.Clone(l.lags)
	slices.Sort(s)
	return s
}
