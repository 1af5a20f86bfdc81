// Package webhook delivers the events of the shared stream to the
// configured [[webhooks]] endpoints: each event POSTed once per endpoint
// across all replicas, signed, in order per upgrade, retried with backoff for
// a day, never in the way of a command.
//
// How: each endpoint is a consumer group of the stream. One replica at a
// time delivers to an endpoint (it holds the endpoint's lease and renews
// it); the events it reads stay pending in the group until the receiver
// accepts them or they are given up on. When a replica dies, its lease
// lapses, another replica takes it and claims (XAUTOCLAIM) the events left
// pending, oldest first, so none is lost and the order per upgrade holds.
// Commands only append to the stream; the delivery runs in the background.
//
// The stream is capped: an endpoint further behind than it keeps loses the
// oldest events it had not read (or had read and not finished, when its
// replica died). The store finds them when it reads or claims for the
// group, records them once and tells the deliverer, which logs an ERROR and
// counts them (outcome "lost"); Status shows them.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/upgradebot/upgradebot/bot"
)

// Headers of a delivery.
const (
	HeaderSignature = "X-Upgradebot-Signature-256" // sha256=<hex HMAC-SHA256 of the body keyed by the secret>
	HeaderEventID   = "X-Upgradebot-Event-Id"
	HeaderEventType = "X-Upgradebot-Event"
	HeaderTimestamp = "X-Upgradebot-Timestamp" // Unix seconds of the attempt
	HeaderAttempt   = "X-Upgradebot-Attempt"   // 1 for the first attempt
)

// Stream is the shared event stream read as consumer groups (../../store).
type Stream interface {
	// EnsureGroup creates a consumer group that starts at the stream's
	// end, or (since not zero) at the events recorded from since on.
	EnsureGroup(ctx context.Context, group string, since time.Time) error
	// ReadGroup and ClaimEvents tell, besides the events, of the events
	// found trimmed off the capped stream before the group got them
	// (recorded as lost); CheckGroup looks for those alone.
	ReadGroup(ctx context.Context, group, consumer string, max int, block time.Duration) ([]bot.StreamEvent, *bot.StreamLoss, error)
	ClaimEvents(ctx context.Context, group, consumer, start string, max int) ([]bot.StreamEvent, string, *bot.StreamLoss, error)
	CheckGroup(ctx context.Context, group string) (*bot.StreamLoss, error)
	AckEvents(ctx context.Context, group string, pos ...string) error
	Backlog(ctx context.Context, group string) (int64, error)
	// Lost is the record of the events the group never got: how many in
	// all, and the last loss found.
	Lost(ctx context.Context, group string) (int64, bot.StreamLoss, error)
}

// Ledger keeps who delivers to an endpoint and how it went (../../store).
type Ledger interface {
	Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	Unlease(ctx context.Context, name, holder string) error
	HookDelivered(ctx context.Context, endpoint string, at time.Time) error
	HookFailed(ctx context.Context, endpoint string, at time.Time, ev bot.StreamEvent, msg string, gaveUp bool) error
	HookStatus(ctx context.Context, endpoint string, recent int) (bot.HookStatus, error)
}

// Outcomes are what Observer.WebhookDelivery is told of an event for an
// endpoint: delivered, retried (an attempt failed; another follows),
// failed (given up after the retries), skipped (filtered out), lost
// (trimmed off the capped stream before it was delivered).
var Outcomes = []string{"delivered", "retried", "failed", "skipped", "lost"}

// Observer counts deliveries (metrics); optional.
type Observer interface {
	WebhookDelivery(outcome string) // delivered, retried, failed, skipped, lost
	SetWebhookBacklog(n int)
}

// Endpoint is one [[webhooks]] entry.
type Endpoint struct {
	URL    string
	Secret string
	Events []string // empty: every event
}

// ID names the endpoint in Redis (its consumer group, lease and record):
// a digest of its URL, so the URL (which may carry a token) is not written
// anywhere. Changing the URL makes a new endpoint that starts with the
// events recorded from then on.
func (e Endpoint) ID() string {
	sum := sha256.Sum256([]byte(e.URL))
	return hex.EncodeToString(sum[:6])
}

// Shown is the URL as logs and the webhooks subcommand show it: scheme
// and host only. The path and query are left out: Slack's and Discord's
// incoming-webhook URLs carry their token in the path.
func (e Endpoint) Shown() string {
	u, err := url.Parse(e.URL)
	if err != nil || u.Host == "" {
		return "(unparsable URL)"
	}
	shown := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		shown += "/…"
	}
	return shown
}

func (e Endpoint) group() string { return "webhook:" + e.ID() }
func (e Endpoint) lease() string { return "webhook:" + e.ID() }

func (e Endpoint) wants(typ string) bool { return len(e.Events) == 0 || slices.Contains(e.Events, typ) }

// Options configure a Deliverer. Zero durations take the defaults.
type Options struct {
	Endpoints []Endpoint
	Stream    Stream
	Ledger    Ledger
	Observer  Observer
	Logger    *slog.Logger
	// Client POSTs; default: a client with a 10 s timeout.
	Client *http.Client
	// Holder names this replica (consumer and lease holder); default:
	// hostname, process id and a random suffix.
	Holder string
	// Lease is how long a replica's hold on an endpoint lasts unless
	// renewed (every third of it); a dead replica's events are claimed by
	// another within it. Default 6 s.
	Lease time.Duration
	// FirstRetry is the first retry's delay; later ones double (with
	// jitter) up to MaxRetry. Defaults 1 s and 1 h.
	FirstRetry, MaxRetry time.Duration
	// GiveUpAfter is how long after it was recorded an event is retried
	// before it is recorded as failed. Default 25 h.
	GiveUpAfter time.Duration
	// Workers bounds the POSTs in flight per endpoint (events of different
	// upgrades); default 4.
	Workers int
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Deliverer delivers events to the endpoints.
type Deliverer struct {
	o   Options
	log *slog.Logger

	mu       sync.Mutex
	firstTry time.Time // when Prepare was first called
	failed   bool      // a Prepare failed: groups start at firstTry
}

// New returns a Deliverer.
func New(o Options) *Deliverer {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	// A redirect is the receiver's answer, not followed: a client that
	// follows a 302 with a GET would take the page it lands on as the
	// delivery (the event lost, counted delivered), and it would send the
	// signature wherever the redirect points. Not 2xx, so retried (post).
	client := *o.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	o.Client = &client
	if o.Holder == "" {
		host, _ := os.Hostname()
		o.Holder = fmt.Sprintf("%s-%d-%04x", host, os.Getpid(), rand.IntN(1<<16))
	}
	if o.Lease <= 0 {
		o.Lease = 6 * time.Second
	}
	if o.FirstRetry <= 0 {
		o.FirstRetry = time.Second
	}
	if o.MaxRetry <= 0 {
		o.MaxRetry = time.Hour
	}
	if o.GiveUpAfter <= 0 {
		o.GiveUpAfter = 25 * time.Hour
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Deliverer{o: o, log: o.Logger}
}

// ClockMargin is how far before the moment serve first tried to create
// the consumer groups a group created late starts. The events' ids are
// Redis's clock, the moment is this host's: if this host's clock runs ahead
// of Redis's, the events recorded in the difference would otherwise never
// be delivered. An endpoint may thus get events recorded up to a minute
// before serve started; receivers de-duplicate on X-Upgradebot-Event-Id
// (docs/events.md).
const ClockMargin = time.Minute

// Prepare creates the endpoints' consumer groups; serve calls it before it
// accepts commands, so that no event recorded afterwards is missed. When
// Redis does not answer yet, serve goes on and Run creates them once it
// does, starting ClockMargin before the moment Prepare (or Postpone) was
// first called: the events recorded meanwhile (by any replica) are
// delivered too.
func (d *Deliverer) Prepare(ctx context.Context) error {
	d.mu.Lock()
	if d.firstTry.IsZero() {
		d.firstTry = d.o.Now()
	}
	since := time.Time{}
	if d.failed {
		since = d.firstTry.Add(-ClockMargin)
	}
	d.mu.Unlock()
	for _, e := range d.o.Endpoints {
		if err := d.o.Stream.EnsureGroup(ctx, e.group(), since); err != nil {
			d.mu.Lock()
			d.failed = true
			d.mu.Unlock()
			return fmt.Errorf("webhook %s: %w", e.Shown(), err)
		}
	}
	return nil
}

// Postpone is Prepare when serve already knows Redis does not answer (the
// store could not reach it): it tries nothing, and Run creates the groups
// once Redis answers, as after a failed Prepare.
func (d *Deliverer) Postpone() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.firstTry.IsZero() {
		d.firstTry = d.o.Now()
	}
	d.failed = true
}

// prepare retries Prepare until it succeeds or ctx ends (false).
func (d *Deliverer) prepare(ctx context.Context) bool {
	d.mu.Lock()
	told := d.failed // serve logged the first failure
	d.mu.Unlock()
	for n := 0; ; n++ {
		err := d.Prepare(ctx)
		if err == nil {
			if n > 0 || told {
				d.log.InfoContext(ctx, "webhook delivery ready: Redis answers")
			}
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if n == 0 && !told {
			d.log.WarnContext(ctx, "webhook delivery waits for Redis; retrying", "err", err)
		}
		sleep(ctx, backoff(n, d.o.FirstRetry, 10*time.Second))
	}
}

// Run delivers until ctx ends. It waits for Redis when it does not answer.
func (d *Deliverer) Run(ctx context.Context) error {
	if len(d.o.Endpoints) == 0 {
		return nil
	}
	if !d.prepare(ctx) {
		return nil
	}
	var wg sync.WaitGroup
	for _, e := range d.o.Endpoints {
		wg.Go(func() { d.endpoint(ctx, e) })
	}
	if d.o.Observer != nil {
		wg.Go(func() { d.reportBacklog(ctx) })
	}
	wg.Wait()
	return nil
}

// Status is what the webhooks subcommand shows of one endpoint.
type Status struct {
	Endpoint Endpoint
	bot.HookStatus
	Backlog int64 // events not delivered yet: pending and not read
	// Lost counts the events trimmed off the capped event stream before
	// they were delivered (the endpoint fell too far behind); LastLoss is
	// the last time that was found (zero At when never).
	Lost     int64
	LastLoss bot.StreamLoss
}

// Status reads every endpoint's delivery record.
func (d *Deliverer) Status(ctx context.Context, recent int) ([]Status, error) {
	var out []Status
	for _, e := range d.o.Endpoints {
		hs, err := d.o.Ledger.HookStatus(ctx, e.ID(), recent)
		if err != nil {
			return nil, err
		}
		n, err := d.o.Stream.Backlog(ctx, e.group())
		if err != nil {
			return nil, err
		}
		lost, last, err := d.o.Stream.Lost(ctx, e.group())
		if err != nil {
			return nil, err
		}
		out = append(out, Status{Endpoint: e, HookStatus: hs, Backlog: n, Lost: lost, LastLoss: last})
	}
	return out, nil
}

// reportBacklog tells the observer the total backlog every 15 seconds.
func (d *Deliverer) reportBacklog(ctx context.Context) {
	t := time.NewTicker(15 * time.Second)
	defer t.Stop()
	for {
		var total int64
		for _, e := range d.o.Endpoints {
			if n, err := d.o.Stream.Backlog(ctx, e.group()); err == nil {
				total += n
			}
		}
		d.o.Observer.SetWebhookBacklog(int(total))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// endpoint takes the endpoint's lease whenever it is free and delivers
// while it holds it.
func (d *Deliverer) endpoint(ctx context.Context, e Endpoint) {
	log := d.log.With("webhook", e.Shown(), "endpoint", e.ID())
	for ctx.Err() == nil {
		held, err := d.o.Ledger.Lease(ctx, e.lease(), d.o.Holder, d.o.Lease)
		if err != nil && ctx.Err() == nil {
			log.WarnContext(ctx, "webhook lease unavailable", "err", err)
		}
		if held {
			log.InfoContext(ctx, "delivering webhook events from this replica")
			d.hold(ctx, e, log)
			// Give it up at once when stopping, so another replica goes on
			// without waiting for the lease to lapse.
			rel, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			_ = d.o.Ledger.Unlease(rel, e.lease(), d.o.Holder)
			cancel()
			continue
		}
		sleep(ctx, jitter(d.o.Lease/3))
	}
}

// hold delivers while the lease is renewed; it returns when the lease is
// lost or ctx ends, after the POSTs in flight finish.
func (d *Deliverer) hold(ctx context.Context, e Endpoint, log *slog.Logger) {
	sctx, lost := context.WithCancel(ctx)
	defer lost()
	go func() {
		t := time.NewTicker(d.o.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-t.C:
			}
			held, err := d.o.Ledger.Lease(sctx, e.lease(), d.o.Holder, d.o.Lease)
			if err != nil || !held {
				if sctx.Err() == nil {
					log.WarnContext(sctx, "webhook lease lost; another replica delivers", "err", err)
				}
				lost()
				return
			}
		}
	}()
	s := &session{d: d, e: e, log: log, queues: map[string]*queue{}, done: make(chan result, d.o.Workers)}
	s.run(sctx)
}

// queue holds the events of one upgrade, oldest first; only its head is
// ever in flight, so a receiver sees an upgrade's events in order.
type queue struct {
	items    []bot.StreamEvent
	next     time.Time // when the head may be attempted
	attempts int       // failed attempts of the head
	busy     bool
}

type result struct {
	upgrade string
	ev      bot.StreamEvent
	err     error
	after   time.Duration // Retry-After the receiver asked for
}

// session is one hold of an endpoint's lease.
type session struct {
	d      *Deliverer
	e      Endpoint
	log    *slog.Logger
	queues map[string]*queue
	queued int
	busy   int
	done   chan result
}

// maxQueued bounds the events a session holds in memory; reading stops
// while it is reached.
const maxQueued = 2000

func (s *session) run(ctx context.Context) {
	o := s.d.o
	// What earlier holders (dead replicas, or this one before) left pending
	// first, oldest first, then what nobody has read.
	start := "0-0"
	for ctx.Err() == nil {
		evs, next, loss, err := o.Stream.ClaimEvents(ctx, s.e.group(), o.Holder, start, 200)
		if err != nil {
			s.log.WarnContext(ctx, "claiming pending webhook events failed", "err", err)
			sleep(ctx, jitter(time.Second))
			continue
		}
		s.lost(ctx, loss, "pending")
		if len(evs) > 0 {
			s.log.InfoContext(ctx, "claimed pending webhook events", "events", len(evs))
		}
		s.add(ctx, evs)
		if next == "0-0" || next == "" {
			break
		}
		start = next
	}
	type read struct {
		evs  []bot.StreamEvent
		loss *bot.StreamLoss
	}
	reads := make(chan read)
	readMore := make(chan struct{}, 1)
	readMore <- struct{}{}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-readMore:
			}
			evs, loss, err := o.Stream.ReadGroup(ctx, s.e.group(), o.Holder, 200, 2*time.Second)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				s.log.WarnContext(ctx, "reading webhook events failed", "err", err)
				sleep(ctx, jitter(time.Second))
			}
			select {
			case reads <- read{evs, loss}:
			case <-ctx.Done():
				return
			}
		}
	}()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	// While reading waits for the queues to drain (a receiver that is
	// down), the stream may be trimmed past events not read yet: look for
	// that once a lease period (6 s), so it is told when it happens.
	check := time.NewTicker(o.Lease)
	defer check.Stop()
	reading := true
	for {
		wake := s.dispatch(ctx)
		if !reading && s.queued < maxQueued/2 {
			reading = true
			readMore <- struct{}{}
		}
		timer.Reset(wake)
		select {
		case <-ctx.Done():
			// The POSTs in flight finish (the client's timeout bounds them)
			// and are recorded, so a receiver that got an event does not get
			// it again from the next holder.
			for s.busy > 0 {
				s.finish(ctx, <-s.done)
			}
			return
		case rd := <-reads:
			s.lost(ctx, rd.loss, "unread")
			s.add(ctx, rd.evs)
			if s.queued < maxQueued {
				readMore <- struct{}{}
			} else {
				reading = false
			}
		case r := <-s.done:
			s.finish(ctx, r)
		case <-check.C:
			if reading {
				continue // each read checks
			}
			loss, err := o.Stream.CheckGroup(ctx, s.e.group())
			if err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "checking the event stream for trimmed webhook events failed", "err", err)
			}
			s.lost(ctx, loss, "unread")
		case <-timer.C:
		}
	}
}

// lost tells of events trimmed off the capped stream before they were
// delivered (the store has recorded them): an ERROR line and the "lost"
// outcome once per event. what says whether they were unread or pending
// (read by a replica that stopped before it finished them).
func (s *session) lost(ctx context.Context, loss *bot.StreamLoss, what string) {
	if loss == nil {
		return
	}
	count := strconv.FormatInt(loss.Count, 10)
	if !loss.Exact {
		count = "at least " + count
	}
	args := []any{"lost", loss.Count, "exact", loss.Exact, "events", what, "after", loss.After, "before", loss.Before}
	if loss.After != "" {
		args = append(args, "after_time", posTime(loss.After).UTC().Format(time.RFC3339Nano))
	}
	if loss.Before != "" {
		args = append(args, "before_time", posTime(loss.Before).UTC().Format(time.RFC3339Nano))
	}
	s.log.ErrorContext(ctx, "webhook events were trimmed off the event stream before delivery and are lost: "+count+
		" event(s); the endpoint fell further behind than the stream keeps (docs/events.md)", args...)
	if s.d.o.Observer != nil {
		for range loss.Count {
			s.d.o.Observer.WebhookDelivery("lost")
		}
	}
}

// add queues events behind those of the same upgrade; events the endpoint
// does not want, and entries that are not events, are acknowledged at once.
func (s *session) add(ctx context.Context, evs []bot.StreamEvent) {
	var skip []string
	for _, ev := range evs {
		if ev.JSON == nil || !s.e.wants(ev.Event.Type) {
			skip = append(skip, ev.Pos)
			continue
		}
		q := s.queues[ev.Event.UpgradeID]
		if q == nil {
			q = &queue{}
			s.queues[ev.Event.UpgradeID] = q
		}
		q.items = append(q.items, ev)
		s.queued++
	}
	if len(skip) > 0 {
		if err := s.d.o.Stream.AckEvents(ctx, s.e.group(), skip...); err != nil {
			s.log.WarnContext(ctx, "acknowledging events this webhook does not take failed", "err", err)
		}
		if s.d.o.Observer != nil {
			for range skip {
				s.d.o.Observer.WebhookDelivery("skipped")
			}
		}
	}
}

// dispatch starts the heads that are due while workers are free, oldest
// first, and returns how long until the next head is due.
func (s *session) dispatch(ctx context.Context) time.Duration {
	now := s.d.o.Now()
	wake := time.Hour
	for s.busy < s.d.o.Workers {
		var pick string
		var oldest bot.StreamEvent
		for up, q := range s.queues {
			if q.busy || len(q.items) == 0 {
				continue
			}
			if wait := q.next.Sub(now); wait > 0 {
				wake = min(wake, wait)
				continue
			}
			if pick == "" || bot.PosAfter(oldest.Pos, q.items[0].Pos) {
				pick, oldest = up, q.items[0]
			}
		}
		if pick == "" {
			break
		}
		q := s.queues[pick]
		q.busy = true
		s.busy++
		attempt := q.attempts + 1
		go func() {
			after, err := s.d.post(context.WithoutCancel(ctx), s.e, oldest, attempt)
			s.done <- result{upgrade: pick, ev: oldest, err: err, after: after}
		}()
	}
	return wake
}

// finish records the outcome of one POST, also when the session is
// ending: a receiver that took an event must not get it again.
func (s *session) finish(ctx context.Context, r result) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	o := s.d.o
	q := s.queues[r.upgrade]
	q.busy = false
	s.busy--
	now := o.Now()
	if r.err == nil {
		if err := o.Stream.AckEvents(ctx, s.e.group(), r.ev.Pos); err != nil {
			// It stays pending and is delivered again by whoever holds the
			// lease next; the receiver tells by the event id.
			s.log.WarnContext(ctx, "acknowledging a delivered webhook event failed", "event", r.ev.Event.ID, "err", err)
		}
		if err := o.Ledger.HookDelivered(ctx, s.e.ID(), now); err != nil {
			s.log.WarnContext(ctx, "recording a webhook delivery failed", "err", err)
		}
		s.log.InfoContext(ctx, "webhook delivered", "event", r.ev.Event.ID, "type", r.ev.Event.Type, "upgrade", r.ev.Event.UpgradeID,
			"attempt", q.attempts+1, "request_id", r.ev.Event.RequestID)
		s.observe("delivered")
		s.pop(r.upgrade, q)
		return
	}
	q.attempts++
	age := now.Sub(posTime(r.ev.Pos))
	gaveUp := age >= o.GiveUpAfter
	if err := o.Ledger.HookFailed(ctx, s.e.ID(), now, r.ev, r.err.Error(), gaveUp); err != nil {
		s.log.WarnContext(ctx, "recording a failed webhook delivery failed", "err", err)
	}
	if gaveUp {
		s.log.ErrorContext(ctx, "webhook delivery failed for good; recorded as failed", "event", r.ev.Event.ID, "type", r.ev.Event.Type,
			"upgrade", r.ev.Event.UpgradeID, "attempts", q.attempts, "err", r.err)
		if err := o.Stream.AckEvents(ctx, s.e.group(), r.ev.Pos); err != nil {
			s.log.WarnContext(ctx, "acknowledging a failed webhook event failed", "event", r.ev.Event.ID, "err", err)
		}
		s.observe("failed")
		s.pop(r.upgrade, q)
		return
	}
	delay := backoff(q.attempts, o.FirstRetry, o.MaxRetry)
	if r.after > delay {
		delay = min(r.after, o.MaxRetry)
	}
	q.next = now.Add(delay)
	s.log.WarnContext(ctx, "webhook delivery failed; retrying", "event", r.ev.Event.ID, "upgrade", r.ev.Event.UpgradeID,
		"attempt", q.attempts, "retry_in", delay.Round(time.Millisecond).String(), "err", r.err)
	s.observe("retried")
}

func (s *session) observe(outcome string) {
	if s.d.o.Observer != nil {
		s.d.o.Observer.WebhookDelivery(outcome)
	}
}

// pop drops the head of an upgrade's queue.
func (s *session) pop(upgrade string, q *queue) {
	q.items = q.items[1:]
	q.attempts, q.next = 0, time.Time{}
	s.queued--
	if len(q.items) == 0 {
		delete(s.queues, upgrade)
	}
}

// post makes one attempt; a receiver's 2xx is success. after is the delay
// a 429 or 503 asked for with Retry-After.
func (d *Deliverer) post(ctx context.Context, e Endpoint, ev bot.StreamEvent, attempt int) (after time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, strings.NewReader(string(ev.JSON)))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "upgradebot-webhook")
	req.Header.Set(HeaderSignature, Sign(e.Secret, ev.JSON))
	req.Header.Set(HeaderEventID, ev.Event.ID)
	req.Header.Set(HeaderEventType, ev.Event.Type)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(d.o.Now().Unix(), 10))
	req.Header.Set(HeaderAttempt, strconv.Itoa(attempt))
	resp, err := d.o.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("POST %s: %w", e.Shown(), unwrapURLError(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, nil
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		after = retryAfter(resp.Header.Get("Retry-After"), d.o.Now())
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return after, fmt.Errorf("POST %s: the receiver answered %s, a redirect, which is not followed: set the webhook's url to where it leads", e.Shown(), resp.Status)
	}
	return after, fmt.Errorf("POST %s: the receiver answered %s", e.Shown(), resp.Status)
}

// retryAfter reads a Retry-After (RFC 9110 10.2.3): seconds, or the
// HTTP-date to wait until; 0 when there is none or it is in the past.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if secs, err := strconv.Atoi(v); err == nil {
		return max(time.Duration(secs)*time.Second, 0)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// unwrapURLError drops the URL (it may carry a token) from a client error.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Sign is the X-Upgradebot-Signature-256 of body: "sha256=" and the hex
// HMAC-SHA256 of the body keyed by the endpoint's secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// backoff is the delay before retry n (1 for the first): first, doubled
// each time up to most, then jittered by ±50 % so that receivers coming
// back are not hit by every replica's retries at once.
func backoff(n int, first, most time.Duration) time.Duration {
	d := first
	for i := 1; i < n && d < most; i++ {
		d *= 2
	}
	return jitter(min(d, most))
}

// jitter spreads d over [d/2, 3d/2).
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d)
}

// posTime is when the stream recorded the event at pos.
func posTime(pos string) time.Time {
	ms, _, _ := strings.Cut(pos, "-")
	n, _ := strconv.ParseInt(ms, 10, 64)
	return time.UnixMilli(n)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
