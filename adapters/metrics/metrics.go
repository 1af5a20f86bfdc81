// Package metrics is upgradebot's Prometheus adapter: it counts what the
// core (bot.Observer), the platform adapters (their Observer: API calls,
// retries, 429s) and the webhook deliverer tell it, reads the upgrades by
// state and the scheduler's backlog from the store at scrape time, and
// serves all of it, with the Go and process collectors, as an http.Handler
// for GET /metrics. docs/metrics.md lists every metric.
//
// Every label is bounded: platforms, subcommand verbs, notice and job
// kinds, scopes, API method names and outcomes; never an upgrade id, a user
// or channel id, or free text. The hot paths (a command answered, a press,
// an API call) look their series up in a small map of their own instead of
// calling WithLabelValues, so counting allocates nothing.
package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/commands"
)

// namespace prefixes every metric of the bot's own.
const namespace = "upgradebot"

// Metrics holds the metrics of one process, on a registry of its own (two
// serves in one test process do not collide). It implements bot.Observer
// and the Observers of the platform adapters and the webhook deliverer.
type Metrics struct {
	reg *prometheus.Registry

	commands       children[[3]string, prometheus.Counter]  // platform, command, outcome
	commandSeconds children[[2]string, prometheus.Observer] // platform, command
	notices        children[[2]string, prometheus.Counter]  // kind, outcome
	acks           children[string, prometheus.Counter]     // scope
	ackSeconds     children[string, prometheus.Observer]    // scope
	jobLag         children[string, prometheus.Observer]    // kind
	apiCalls       children[[3]string, prometheus.Counter]  // platform, method, outcome
	apiRetries     children[[2]string, prometheus.Counter]  // platform, method
	apiRateLimited children[[2]string, prometheus.Counter]  // platform, method
	webhooks       children[string, prometheus.Counter]     // outcome
	webhookBacklog prometheus.Gauge
}

// Buckets of the histograms, in seconds.
var (
	// commandBuckets: a platform wants its answer within 3 s.
	commandBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 3, 5, 10}
	// ackBuckets: from a minute to a week.
	ackBuckets = []float64{60, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 24 * 3600, 2 * 24 * 3600, 7 * 24 * 3600}
	// lagBuckets: a job runs within a second of its time while a scheduler
	// is up; minutes mean every scheduler was down or Redis was slow.
	lagBuckets = []float64{.1, .25, .5, 1, 2, 5, 10, 30, 60, 300, 900, 3600}
)

// New builds the metrics, with the Go and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	commands := m.counterVec("commands_total", "Commands and button presses answered, by platform, command (the subcommand verb, press, or unknown) and outcome (ok, refused, error, duplicate).", "platform", "command", "outcome")
	m.commands.make = func(k [3]string) prometheus.Counter { return commands.WithLabelValues(k[0], k[1], k[2]) }
	commandSeconds := m.histogramVec("command_duration_seconds", "How long the bot took to answer a command or button press, by platform and command.", commandBuckets, "platform", "command")
	m.commandSeconds.make = func(k [2]string) prometheus.Observer { return commandSeconds.WithLabelValues(k[0], k[1]) }

	notices := m.counterVec("notices_total", "Notices by kind (root, reminder, rollback, escalation, …) and outcome: posted or failed at one thread, channel or person; edited or edit_failed for refreshes of the root message.", "kind", "outcome")
	m.notices.make = func(k [2]string) prometheus.Counter { return notices.WithLabelValues(k[0], k[1]) }

	acks := m.counterVec("acks_total", "Acknowledgments recorded, by scope (brief: the pre-brief; rollback: the rollback alert).", "scope")
	m.acks.make = func(scope string) prometheus.Counter { return acks.WithLabelValues(scope) }
	ackSeconds := m.histogramVec("time_to_ack_seconds", "Seconds from the notice to its acknowledgment, by scope: from the scheduling (pre-brief) or the rollback (rollback alert).", ackBuckets, "scope")
	m.ackSeconds.make = func(scope string) prometheus.Observer { return ackSeconds.WithLabelValues(scope) }

	jobLag := m.histogramVec("scheduler_lag_seconds", "Seconds a due job (reminder, window_open, overrun, escalation) started after it was due, by kind.", lagBuckets, "kind")
	m.jobLag.make = func(kind string) prometheus.Observer { return jobLag.WithLabelValues(kind) }

	apiCalls := m.counterVec("platform_api_calls_total", "Requests to a platform's API, each attempt counted, by platform, method (chat.postMessage, …) and outcome (ok, error, rate_limited, unreachable).", "platform", "method", "outcome")
	m.apiCalls.make = func(k [3]string) prometheus.Counter { return apiCalls.WithLabelValues(k[0], k[1], k[2]) }
	apiRetries := m.counterVec("platform_api_retries_total", "Failed platform API requests made again, by platform and method.", "platform", "method")
	m.apiRetries.make = func(k [2]string) prometheus.Counter { return apiRetries.WithLabelValues(k[0], k[1]) }
	apiRateLimited := m.counterVec("platform_api_rate_limited_total", "Platform API requests answered 429 (rate limited), by platform and method.", "platform", "method")
	m.apiRateLimited.make = func(k [2]string) prometheus.Counter { return apiRateLimited.WithLabelValues(k[0], k[1]) }

	webhooks := m.counterVec("webhook_deliveries_total", "Outbound webhook delivery attempts, by outcome.", "outcome")
	m.webhooks.make = func(outcome string) prometheus.Counter { return webhooks.WithLabelValues(outcome) }
	m.webhookBacklog = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "webhook_backlog",
		Help: "Events not yet delivered to the webhooks, as the deliverer last saw."})
	m.reg.MustRegister(m.webhookBacklog)

	// Series that exist from the start, so rates and alerts see a zero.
	for _, scope := range []string{bot.ScopeBrief, bot.ScopeRollback} {
		m.acks.get(scope)
	}
	return m
}

// Known lists the label values whose series start at zero (Zero).
type Known struct {
	// Platforms are the enabled platforms, each with the method and
	// outcome labels of its API calls (its adapter's Methods and Outcomes).
	Platforms []Platform
	// WebhookOutcomes are the webhook deliverer's outcomes (its Outcomes),
	// when webhooks are configured.
	WebhookOutcomes []string
}

// Platform is an enabled platform and the labels of its API calls.
type Platform struct {
	Name              string
	Methods, Outcomes []string
}

// Zero makes the counter series of every known label combination exist
// from the start, at 0, as Prometheus advises: a series that first appears
// with the value 1 has no increase() or rate() for that first increment,
// so an alert on the first failures after a start (a refused or failed
// command, a failed notice) would miss them, and an alert that compares
// two series (calls unanswered while none succeed) finds nothing to
// compare when one was never incremented. It covers the commands (every
// subcommand, press and unknown, by outcome) of each platform, the notices
// (every kind by outcome, and the root's refreshes), each platform's API
// calls by method and outcome, its retries and 429s by method, and the
// webhook outcomes. Histograms are left to appear when first observed:
// their quantiles need observations anyway. About 400 series for both
// platforms and webhooks, made once; scrapes cost what they did.
func (m *Metrics) Zero(k Known) {
	verbs := append(commands.Names(), bot.CommandPress, bot.CommandUnknown)
	for _, p := range k.Platforms {
		for _, v := range verbs {
			for _, o := range bot.CommandOutcomes {
				m.commands.get([3]string{p.Name, v, o})
			}
		}
		for _, method := range p.Methods {
			for _, o := range p.Outcomes {
				m.apiCalls.get([3]string{p.Name, method, o})
			}
			m.apiRetries.get([2]string{p.Name, method})
			m.apiRateLimited.get([2]string{p.Name, method})
		}
	}
	for _, kind := range bot.NoticeKinds {
		for _, o := range bot.NoticeOutcomes {
			m.notices.get([2]string{string(kind), o})
		}
	}
	m.notices.get([2]string{string(bot.KindRoot), bot.NoticeEdited})
	m.notices.get([2]string{string(bot.KindRoot), bot.NoticeEditFailed})
	for _, o := range k.WebhookOutcomes {
		m.webhooks.get(o)
	}
}

func (m *Metrics) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
	m.reg.MustRegister(v)
	return v
}

func (m *Metrics) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: name, Help: help, Buckets: buckets}, labels)
	m.reg.MustRegister(v)
	return v
}

// Handler serves the metrics in the Prometheus text format, or in
// OpenMetrics when the scraper asks for it (Prometheus does by default):
// the sample names are the same in both (every counter ends in _total;
// OpenMetrics names the family without it). No synthetic _created
// samples.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// Command implements bot.Observer.
func (m *Metrics) Command(platform, command, outcome string, took time.Duration) {
	m.commands.get([3]string{platform, command, outcome}).Inc()
	m.commandSeconds.get([2]string{platform, command}).Observe(took.Seconds())
}

// Notice implements bot.Observer.
func (m *Metrics) Notice(kind bot.Kind, outcome string) {
	m.notices.get([2]string{string(kind), outcome}).Inc()
}

// Ack implements bot.Observer.
func (m *Metrics) Ack(scope string, since time.Duration) {
	m.acks.get(scope).Inc()
	if since >= 0 {
		m.ackSeconds.get(scope).Observe(since.Seconds())
	}
}

// Job implements bot.Observer.
func (m *Metrics) Job(kind bot.JobKind, lag time.Duration) {
	m.jobLag.get(string(kind)).Observe(lag.Seconds())
}

// APICall implements the platform adapters' Observer.
func (m *Metrics) APICall(platform, method, outcome string) {
	m.apiCalls.get([3]string{platform, method, outcome}).Inc()
}

// APIRetry implements the platform adapters' Observer.
func (m *Metrics) APIRetry(platform, method string) {
	m.apiRetries.get([2]string{platform, method}).Inc()
}

// APIRateLimited implements the platform adapters' Observer.
func (m *Metrics) APIRateLimited(platform, method string) {
	m.apiRateLimited.get([2]string{platform, method}).Inc()
}

// WebhookDelivery counts what became of one event for one webhook, by
// outcome: delivered, retried, failed (given up), skipped (filtered out)
// or lost (trimmed off the capped stream before delivery); never a URL or a
// status text.
func (m *Metrics) WebhookDelivery(outcome string) { m.webhooks.get(outcome).Inc() }

// SetWebhookBacklog sets how many events are waiting for their webhooks.
func (m *Metrics) SetWebhookBacklog(n int) { m.webhookBacklog.Set(float64(n)) }

var _ bot.Observer = (*Metrics)(nil)

// children caches the series of a vector by label values (an array or a
// string, so looking one up allocates nothing). The label sets are
// bounded, so the map is too.
type children[K comparable, M any] struct {
	mu   sync.RWMutex
	m    map[K]M
	make func(K) M
}

func (c *children[K, M]) get(k K) M {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return v
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.m[k]; ok {
		return v
	}
	if c.m == nil {
		c.m = make(map[K]M)
	}
	v = c.make(k)
	c.m[k] = v
	return v
}
