package metrics

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/adapters/metrics/metricstest"
	slackadapter "github.com/upgradebot/upgradebot/adapters/slack"
	"github.com/upgradebot/upgradebot/adapters/webhook"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
	"github.com/upgradebot/upgradebot/commands"
)

var (
	_ bot.Observer          = (*Metrics)(nil)
	_ slackadapter.Observer = (*Metrics)(nil)
	_ webhook.Observer      = (*Metrics)(nil)
)

// fakeStore lists upgrades and counts how often it was asked.
type fakeStore struct {
	mu       sync.Mutex
	ups      []*bot.Upgrade
	err      error
	backlog  int
	lists    atomic.Int32
	counts   atomic.Int32
	slowness time.Duration
}

func (s *fakeStore) Upgrades(context.Context, bot.Filter) ([]*bot.Upgrade, error) {
	s.lists.Add(1)
	time.Sleep(s.slowness)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ups, s.err
}

func (s *fakeStore) Backlog(context.Context) (int, error) {
	s.counts.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.backlog, s.err
}

func (s *fakeStore) set(err error, states ...bot.State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
	s.ups = nil
	for i, st := range states {
		s.ups = append(s.ups, &bot.Upgrade{ID: i + 1, State: st})
	}
}

// scrape GETs the handler and parses the answer with the Prometheus text parser.
func scrape(t *testing.T, m *Metrics) metricstest.Families {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d: %s", rec.Code, rec.Body)
	}
	return metricstest.Parse(t, rec.Body)
}

// value is the value of the one series of name with exactly labels; -1
// when there is none.
func value(fams metricstest.Families, name string, labels ...string) float64 {
	for _, s := range fams.Series(name, labels...) {
		if len(s.GetLabel())*2 == len(labels) {
			return metricstest.ValueOf(s)
		}
	}
	return -1
}

func TestStoreGaugesAreReadAtScrapeTimeAndCached(t *testing.T) {
	st := &fakeStore{backlog: 4}
	st.set(nil, bot.Scheduled, bot.Scheduled, bot.InProgress, bot.Completed)
	c := bottest.NewClock(time.Unix(1_800_000_000, 0))
	m := New()
	m.WatchStore(Store{Upgrades: st, Backlog: st, CacheFor: 5 * time.Second, Now: c.Now})

	fams := scrape(t, m)
	for state, want := range map[bot.State]float64{bot.Scheduled: 2, bot.InProgress: 1, bot.Completed: 1, bot.RolledBack: 0, bot.Cancelled: 0} {
		if got := value(fams, "upgradebot_upgrades", "state", string(state)); got != want {
			t.Errorf("upgrades{state=%s} = %v, want %v", state, got, want)
		}
	}
	if got := value(fams, "upgradebot_scheduler_backlog"); got != 4 {
		t.Errorf("backlog = %v, want 4", got)
	}

	// Within the period every scrape, however many at once, is served by
	// the one reading.
	st.set(nil, bot.Cancelled)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { scrape(t, m) })
	}
	wg.Wait()
	c.Advance(4 * time.Second)
	if got := value(scrape(t, m), "upgradebot_upgrades", "state", "scheduled"); got != 2 {
		t.Errorf("within the period: scheduled = %v, want the cached 2", got)
	}
	if n := st.lists.Load(); n != 1 {
		t.Errorf("22 scrapes in one period listed the upgrades %d times, want 1", n)
	}

	// After it, the next scrape reads again.
	c.Advance(time.Second)
	fams = scrape(t, m)
	if got := value(fams, "upgradebot_upgrades", "state", "cancelled"); got != 1 {
		t.Errorf("after the period: cancelled = %v, want 1", got)
	}
	if got := value(fams, "upgradebot_upgrades", "state", "scheduled"); got != 0 {
		t.Errorf("after the period: scheduled = %v, want 0", got)
	}
	if n := st.lists.Load(); n != 2 {
		t.Errorf("listed %d times, want 2", n)
	}

	// A failed reading leaves the gauges out, counts the error, and is kept
	// for the period too: a Redis that is down is not asked per scrape.
	c.Advance(5 * time.Second)
	st.set(errors.New("redis: connection refused"))
	for range 3 {
		fams = scrape(t, m)
	}
	if got := value(fams, "upgradebot_upgrades", "state", "scheduled"); got != -1 {
		t.Errorf("upgrades while the store fails = %v, want absent", got)
	}
	if got := value(fams, "upgradebot_scheduler_backlog"); got != -1 {
		t.Errorf("backlog while the store fails = %v, want absent", got)
	}
	if got := value(fams, "upgradebot_store_read_errors_total"); got != 1 {
		t.Errorf("store_read_errors_total = %v, want 1 (one failed reading: its listing and its count failed)", got)
	}
	if n := st.lists.Load(); n != 3 {
		t.Errorf("listed %d times, want 3", n)
	}
}

// hungStore is a store that does not answer: each call waits until its
// context ends, and notes how long the context allowed it.
type hungStore struct {
	mu      sync.Mutex
	budgets []time.Duration // time.Until the deadline of each call
	open    int             // calls without a deadline
}

func (s *hungStore) wait(ctx context.Context) error {
	s.mu.Lock()
	if d, ok := ctx.Deadline(); ok {
		s.budgets = append(s.budgets, time.Until(d))
	} else {
		s.open++
	}
	s.mu.Unlock()
	<-ctx.Done()
	return ctx.Err()
}

func (s *hungStore) Upgrades(ctx context.Context, _ bot.Filter) ([]*bot.Upgrade, error) {
	return nil, s.wait(ctx)
}

func (s *hungStore) Backlog(ctx context.Context) (int, error) { return 0, s.wait(ctx) }

// A scrape while the store does not answer comes back with the process's
// metrics and without the store's gauges: the reading is bounded by a
// second (DefaultStoreTimeout), well within Prometheus' scrape_timeout
// (10s by default, often 5s), and counts one error.
func TestScrapeOfAStoreThatDoesNotAnswerIsBounded(t *testing.T) {
	st := &hungStore{}
	m := New()
	m.WatchStore(Store{Upgrades: st, Backlog: st})
	fams := scrape(t, m)
	if value(fams, "go_goroutines") < 0 {
		t.Error("the Go collector's go_goroutines is missing from the scrape")
	}
	if got := value(fams, "upgradebot_upgrades", "state", "scheduled"); got != -1 {
		t.Errorf("upgrades = %v, want absent", got)
	}
	if got := value(fams, "upgradebot_store_read_errors_total"); got != 1 {
		t.Errorf("store_read_errors_total = %v, want 1: one failed reading", got)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.budgets) == 0 || st.open > 0 {
		t.Fatalf("the store was read %d times with a deadline, %d without", len(st.budgets), st.open)
	}
	for _, b := range st.budgets {
		if b > DefaultStoreTimeout {
			t.Errorf("a store call was given %v, want at most %v for the whole reading", b, DefaultStoreTimeout)
		}
	}
}

func TestBacklogIsLeftOutWhenTheQueueCannotCount(t *testing.T) {
	m := New()
	m.WatchStore(Store{Upgrades: &fakeStore{}, Backlog: unsupported{}})
	fams := scrape(t, m)
	if got := value(fams, "upgradebot_scheduler_backlog"); got != -1 {
		t.Errorf("backlog = %v, want absent", got)
	}
	if got := value(fams, "upgradebot_store_read_errors_total"); got != 0 {
		t.Errorf("errors = %v, want 0: not counting is not a failure", got)
	}
}

type unsupported struct{}

func (unsupported) Backlog(context.Context) (int, error) { return 0, errors.ErrUnsupported }

func TestEveryMetricParsesWithItsLabels(t *testing.T) {
	m := New()
	m.Command("slack", "schedule", bot.OutcomeOK, 120*time.Millisecond)
	m.Command("slack", "schedule", bot.OutcomeRefused, 3*time.Millisecond)
	m.Notice(bot.KindRollback, bot.NoticeFailed)
	m.Ack(bot.ScopeRollback, 90*time.Second)
	m.Ack(bot.ScopeBrief, -1) // time unknown: counted, not timed
	m.Job(bot.JobReminder, 2*time.Second)
	m.APICall("slack", "chat.postMessage", slackadapter.OutcomeRateLimited)
	m.APIRateLimited("slack", "chat.postMessage")
	m.APIRetry("slack", "chat.postMessage")
	m.WebhookDelivery("failed")
	m.SetWebhookBacklog(7)
	fams := scrape(t, m)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"upgradebot_commands_total", []string{"platform", "slack", "command", "schedule", "outcome", "ok"}, 1},
		{"upgradebot_commands_total", []string{"platform", "slack", "command", "schedule", "outcome", "refused"}, 1},
		{"upgradebot_command_duration_seconds", []string{"platform", "slack", "command", "schedule"}, 2},
		{"upgradebot_notices_total", []string{"kind", "rollback", "outcome", "failed"}, 1},
		{"upgradebot_acks_total", []string{"scope", "rollback"}, 1},
		{"upgradebot_acks_total", []string{"scope", "brief"}, 1},
		{"upgradebot_time_to_ack_seconds", []string{"scope", "rollback"}, 1},
		{"upgradebot_time_to_ack_seconds", []string{"scope", "brief"}, -1},
		{"upgradebot_scheduler_lag_seconds", []string{"kind", "reminder"}, 1},
		{"upgradebot_platform_api_calls_total", []string{"platform", "slack", "method", "chat.postMessage", "outcome", "rate_limited"}, 1},
		{"upgradebot_platform_api_rate_limited_total", []string{"platform", "slack", "method", "chat.postMessage"}, 1},
		{"upgradebot_platform_api_retries_total", []string{"platform", "slack", "method", "chat.postMessage"}, 1},
		{"upgradebot_webhook_deliveries_total", []string{"outcome", "failed"}, 1},
		{"upgradebot_webhook_backlog", nil, 7},
	} {
		if got := value(fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, std := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if _, ok := fams[std]; !ok {
			t.Errorf("standard collector metric %s missing", std)
		}
	}
	if h := fams["upgradebot_time_to_ack_seconds"].GetMetric()[0].GetHistogram(); h.GetSampleSum() != 90 {
		t.Errorf("time to ack sum = %v, want 90", h.GetSampleSum())
	}
}

// Zero makes every known counter series exist at 0 before anything
// happens, so that rules see the first failure after a start as an
// increase, and the series of platforms not enabled do not appear.
func TestZeroStartsTheKnownSeriesAtZero(t *testing.T) {
	m := New()
	refused := []string{"platform", "slack", "command", "rollback", "outcome", "refused"}
	if got := value(scrape(t, m), "upgradebot_commands_total", refused...); got != -1 {
		t.Fatalf("before Zero: commands_total%v = %v; want no series yet", refused, got)
	}
	m.Zero(Known{
		Platforms:       []Platform{{Name: slackadapter.Platform, Methods: slackadapter.Methods, Outcomes: slackadapter.Outcomes}},
		WebhookOutcomes: webhook.Outcomes,
	})
	m.Command("slack", "rollback", bot.OutcomeRefused, time.Millisecond)
	fams := scrape(t, m)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"upgradebot_commands_total", refused, 1},
		{"upgradebot_commands_total", []string{"platform", "slack", "command", "schedule", "outcome", "error"}, 0},
		{"upgradebot_commands_total", []string{"platform", "slack", "command", "press", "outcome", "error"}, 0},
		{"upgradebot_commands_total", []string{"platform", "slack", "command", "unknown", "outcome", "refused"}, 0},
		{"upgradebot_notices_total", []string{"kind", "rollback", "outcome", "failed"}, 0},
		{"upgradebot_notices_total", []string{"kind", "escalation", "outcome", "posted"}, 0},
		{"upgradebot_notices_total", []string{"kind", "root", "outcome", "edit_failed"}, 0},
		{"upgradebot_platform_api_calls_total", []string{"platform", "slack", "method", "chat.postMessage", "outcome", "unreachable"}, 0},
		{"upgradebot_platform_api_calls_total", []string{"platform", "slack", "method", "chat.postMessage", "outcome", "ok"}, 0},
		{"upgradebot_platform_api_retries_total", []string{"platform", "slack", "method", "users.info"}, 0},
		{"upgradebot_platform_api_rate_limited_total", []string{"platform", "slack", "method", "chat.update"}, 0},
		{"upgradebot_webhook_deliveries_total", []string{"outcome", "failed"}, 0},
		{"upgradebot_webhook_deliveries_total", []string{"outcome", "lost"}, 0},
	} {
		if got := value(fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	verbs := len(commands.Names()) + 2 // press, unknown
	for name, want := range map[string]int{
		"upgradebot_commands_total":                  verbs * len(bot.CommandOutcomes),
		"upgradebot_notices_total":                   len(bot.NoticeKinds)*len(bot.NoticeOutcomes) + 2,
		"upgradebot_platform_api_calls_total":        len(slackadapter.Methods) * len(slackadapter.Outcomes),
		"upgradebot_platform_api_retries_total":      len(slackadapter.Methods),
		"upgradebot_platform_api_rate_limited_total": len(slackadapter.Methods),
		"upgradebot_webhook_deliveries_total":        len(webhook.Outcomes),
	} {
		if got := len(fams[name].GetMetric()); got != want {
			t.Errorf("%s has %d series, want %d", name, got, want)
		}
	}
	if got := len(fams.Series("upgradebot_commands_total", "platform", "discord")); got != 0 {
		t.Errorf("%d series of discord, which is not enabled", got)
	}
}

func TestCountingAllocatesNothing(t *testing.T) {
	m := New()
	count := func() {
		m.Command("slack", "press", bot.OutcomeOK, time.Millisecond)
		m.Notice(bot.KindRoot, bot.NoticeEdited)
		m.Ack(bot.ScopeBrief, time.Minute)
		m.Job(bot.JobEscalation, time.Second)
		m.APICall("slack", "chat.update", slackadapter.OutcomeOK)
		m.APIRetry("slack", "chat.update")
		m.WebhookDelivery("delivered")
	}
	count() // the first use of a label set makes its series
	if n := testing.AllocsPerRun(200, count); n != 0 {
		t.Errorf("counting allocates %v times per round, want 0", n)
	}
}

func BenchmarkCommand(b *testing.B) {
	m := New()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Command("slack", "press", bot.OutcomeOK, time.Millisecond)
		}
	})
}

// promAccept is the Accept header Prometheus sends by default.
const promAccept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

// sampleNames are the metric names of the sample lines of an exposition
// (the text format or OpenMetrics), without labels and values.
func sampleNames(body string) map[string]bool {
	out := map[string]bool{}
	for line := range strings.SplitSeq(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out[strings.FieldsFunc(line, func(r rune) bool { return r == '{' || r == ' ' })[0]] = true
	}
	return out
}

// Prometheus's default Accept header gets OpenMetrics, with the same
// sample names as the text format, so the alert rules and dashboards work
// with either.
func TestMetricsNegotiateOpenMetrics(t *testing.T) {
	m := New()
	m.Command("slack", "schedule", "ok", time.Second)
	m.Notice(bot.KindRoot, "failed")
	m.WebhookDelivery("lost")
	get := func(accept string) (string, string) {
		t.Helper()
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		m.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET /metrics (Accept %q) = %d: %s", accept, rec.Code, rec.Body)
		}
		return rec.Header().Get("Content-Type"), rec.Body.String()
	}
	ct, om := get(promAccept)
	if !strings.HasPrefix(ct, "application/openmetrics-text; version=1.0.0") {
		t.Fatalf("Content-Type = %q, want OpenMetrics 1.0.0", ct)
	}
	if !strings.HasSuffix(om, "# EOF\n") {
		t.Errorf("OpenMetrics without # EOF at its end:\n%s", om)
	}
	if !strings.Contains(om, "# TYPE upgradebot_commands counter\n") || strings.Contains(om, "_created") {
		t.Errorf("OpenMetrics families:\n%s", om)
	}
	ct, text := get("")
	if !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("without Accept Content-Type = %q, want the text format", ct)
	}
	omNames, textNames := sampleNames(om), sampleNames(text)
	for _, name := range []string{"upgradebot_commands_total", "upgradebot_notices_total", "upgradebot_webhook_deliveries_total", "upgradebot_webhook_backlog"} {
		if !omNames[name] || !textNames[name] {
			t.Errorf("%s: in OpenMetrics %v, in the text format %v", name, omNames[name], textNames[name])
		}
	}
	for name := range textNames {
		if !omNames[name] {
			t.Errorf("%s is in the text format, not in OpenMetrics", name)
		}
	}
	for name := range omNames {
		if !textNames[name] {
			t.Errorf("%s is in OpenMetrics, not in the text format", name)
		}
	}
}
