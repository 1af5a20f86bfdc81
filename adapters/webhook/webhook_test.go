package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/adapters/webhook"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/store"
	"github.com/upgradebot/upgradebot/store/storetest"
)

// delivery is one POST a receiver got.
type delivery struct {
	id, typ, upgrade string
	attempt          int
	status           int
}

// receiver is a webhook endpoint on 127.0.0.1 that checks every request
// the way the docs tell receivers to, and answers what answer says.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret string
	answer func(e bot.Event, attempt int) int

	mu   sync.Mutex
	got  []delivery
	seen chan delivery
}

func newReceiver(t *testing.T, secret string, answer func(e bot.Event, attempt int) int) *receiver {
	r := &receiver{t: t, secret: secret, answer: answer, seen: make(chan delivery, 1000)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	m := hmac.New(sha256.New, []byte(r.secret))
	m.Write(body)
	if want := "sha256=" + hex.EncodeToString(m.Sum(nil)); !hmac.Equal([]byte(req.Header.Get(webhook.HeaderSignature)), []byte(want)) {
		r.t.Errorf("bad signature %q", req.Header.Get(webhook.HeaderSignature))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var e bot.Event
	if err := json.Unmarshal(body, &e); err != nil {
		r.t.Errorf("body is not an event: %v: %s", err, body)
	}
	if req.Header.Get(webhook.HeaderEventID) != e.ID || req.Header.Get(webhook.HeaderEventType) != e.Type {
		r.t.Errorf("headers %v do not match the event %s %s", req.Header, e.ID, e.Type)
	}
	if ts, err := strconv.ParseInt(req.Header.Get(webhook.HeaderTimestamp), 10, 64); err != nil || time.Since(time.Unix(ts, 0)).Abs() > time.Minute {
		r.t.Errorf("timestamp header %q", req.Header.Get(webhook.HeaderTimestamp))
	}
	attempt, _ := strconv.Atoi(req.Header.Get(webhook.HeaderAttempt))
	status := r.answer(e, attempt)
	d := delivery{id: e.ID, typ: e.Type, upgrade: e.UpgradeID, attempt: attempt, status: status}
	r.mu.Lock()
	r.got = append(r.got, d)
	r.mu.Unlock()
	r.seen <- d
	w.WriteHeader(status)
}

// accepted lists the events answered 2xx, in the order they arrived.
func (r *receiver) accepted() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []delivery
	for _, d := range r.got {
		if d.status < 300 {
			out = append(out, d)
		}
	}
	return out
}

// waitAccepted waits until n events were accepted.
func (r *receiver) waitAccepted(n int, within time.Duration) []delivery {
	r.t.Helper()
	deadline := time.After(within)
	for {
		if got := r.accepted(); len(got) >= n {
			return got
		}
		select {
		case <-r.seen:
		case <-deadline:
			r.t.Fatalf("the receiver accepted %d events, want %d: %+v", len(r.accepted()), n, r.got)
		}
	}
}

// publish records events straight on the shared stream, as relays do.
func publish(t *testing.T, st *store.Store, evs ...bot.Event) {
	t.Helper()
	for _, e := range evs {
		if err := st.Publish(context.Background(), 1<<30, e); err != nil { // no such upgrade: straight to the stream
			t.Fatal(err)
		}
	}
}

func ev(id, typ, upgrade string) bot.Event {
	return bot.Event{ID: id, Type: typ, UpgradeID: upgrade, Service: "payments", At: time.Now().UTC(), Actor: "alice"}
}

func run(t *testing.T, d *webhook.Deliverer) {
	t.Helper()
	if err := d.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// A receiver that fails an upgrade's event holds back that upgrade's later
// events, not other upgrades'; it gets them in order once it recovers, and
// each exactly once.
func TestOrderPerUpgradeAndRetries(t *testing.T) {
	st := storetest.Open(t, storetest.Target(t))
	var mu sync.Mutex
	failures := map[string]int{"a1": 2} // a1 is answered 500 twice
	r := newReceiver(t, "s3cret", func(e bot.Event, attempt int) int {
		mu.Lock()
		defer mu.Unlock()
		if failures[e.ID] > 0 {
			failures[e.ID]--
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	d := webhook.New(webhook.Options{Endpoints: []webhook.Endpoint{{URL: r.srv.URL + "/hook?token=abc", Secret: "s3cret"}},
		Stream: st, Ledger: st, FirstRetry: 50 * time.Millisecond, Lease: 2 * time.Second})
	run(t, d)
	publish(t, st, ev("a1", bot.EventScheduled, "UPG-1"), ev("a2", bot.EventStarted, "UPG-1"), ev("b1", bot.EventScheduled, "UPG-2"),
		ev("a3", bot.EventCompleted, "UPG-1"), ev("b2", bot.EventStarted, "UPG-2"))
	got := r.waitAccepted(5, 20*time.Second)
	var ofA, ofB []string
	first := map[string]int{}
	for i, g := range got {
		first[g.id] = i
		switch g.upgrade {
		case "UPG-1":
			ofA = append(ofA, g.id)
		case "UPG-2":
			ofB = append(ofB, g.id)
		}
	}
	if fmt.Sprint(ofA) != "[a1 a2 a3]" || fmt.Sprint(ofB) != "[b1 b2]" {
		t.Fatalf("accepted UPG-1 %v, UPG-2 %v; want each upgrade's events in order, once", ofA, ofB)
	}
	if first["b2"] > first["a1"] {
		t.Errorf("UPG-2's events waited for UPG-1's retries: %+v", got)
	}
	if g := got[first["a1"]]; g.attempt != 3 {
		t.Errorf("a1 accepted at attempt %d, want 3", g.attempt)
	}
	// The record every replica reads: last success, last error, nothing
	// waiting. waitAccepted saw the answers before the deliverer did.
	var sts []webhook.Status
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		if sts, err = d.Status(context.Background(), 5); err != nil {
			t.Fatal(err)
		}
		if sts[0].Backlog == 0 && sts[0].Delivered == 5 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	s := sts[0]
	if s.Delivered != 5 || s.FailedAttempts != 2 || s.Failed != 0 || s.Backlog != 0 || s.LastSuccess.IsZero() {
		t.Errorf("status = %+v; want 5 delivered, 2 failed attempts, nothing given up or waiting", s)
	}
	if want := "the receiver answered 500 Internal Server Error"; !strings.Contains(s.LastError, want) || strings.Contains(s.LastError, "hook") || strings.Contains(s.LastError, "token=abc") {
		t.Errorf("last error %q: want %q and neither the URL's path nor its query (they may carry a token)", s.LastError, want)
	}
	if s.Endpoint.Shown() != r.srv.URL+"/…" {
		t.Errorf("shown as %q", s.Endpoint.Shown())
	}
}

// An event the receiver never takes is recorded as failed after
// GiveUpAfter, and the upgrade's next event goes on.
func TestGivesUpAndGoesOn(t *testing.T) {
	st := storetest.Open(t, storetest.Target(t))
	r := newReceiver(t, "k", func(e bot.Event, attempt int) int {
		if e.ID == "bad" {
			return http.StatusBadRequest
		}
		return http.StatusNoContent
	})
	d := webhook.New(webhook.Options{Endpoints: []webhook.Endpoint{{URL: r.srv.URL, Secret: "k"}}, Stream: st, Ledger: st,
		FirstRetry: 100 * time.Millisecond, GiveUpAfter: time.Second})
	run(t, d)
	publish(t, st, ev("bad", bot.EventScheduled, "UPG-3"), ev("good", bot.EventCancelled, "UPG-3"))
	got := r.waitAccepted(1, 20*time.Second)
	if got[0].id != "good" {
		t.Fatalf("accepted %+v", got)
	}
	sts, err := d.Status(context.Background(), 5)
	if err != nil {
		t.Fatal(err)
	}
	s := sts[0]
	if s.Failed != 1 || len(s.Recent) != 1 || s.Recent[0].EventID != "bad" || s.Recent[0].UpgradeID != "UPG-3" || !strings.Contains(s.Recent[0].Error, "400") {
		t.Errorf("status = %+v; want the bad event recorded as failed", s)
	}
}

// An endpoint with an event filter gets only those types.
func TestEventFilter(t *testing.T) {
	st := storetest.Open(t, storetest.Target(t))
	r := newReceiver(t, "k", func(bot.Event, int) int { return http.StatusOK })
	d := webhook.New(webhook.Options{Endpoints: []webhook.Endpoint{{URL: r.srv.URL, Secret: "k", Events: []string{bot.EventRolledBack}}}, Stream: st, Ledger: st})
	run(t, d)
	publish(t, st, ev("s", bot.EventScheduled, "UPG-4"), ev("r", bot.EventRolledBack, "UPG-4"), ev("c", bot.EventCompleted, "UPG-5"))
	got := r.waitAccepted(1, 20*time.Second)
	// The rolled-back event is last of its upgrade; wait for the backlog to
	// drain, so a wrongly sent "c" would have arrived.
	deadline := time.Now().Add(10 * time.Second)
	for {
		sts, err := d.Status(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if sts[0].Backlog == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got = r.accepted(); len(got) != 1 || got[0].id != "r" {
		t.Fatalf("accepted %+v; want only the rollback", got)
	}
}

// Two deliverers (two replicas) on one endpoint: each event once; when the
// one delivering stops, the other takes over what is left.
func TestOnceAcrossReplicas(t *testing.T) {
	o := storetest.Target(t)
	st1, st2 := storetest.Open(t, o), storetest.Open(t, o)
	r := newReceiver(t, "k", func(bot.Event, int) int { return http.StatusOK })
	ep := []webhook.Endpoint{{URL: r.srv.URL, Secret: "k"}}
	d1 := webhook.New(webhook.Options{Endpoints: ep, Stream: st1, Ledger: st1, Holder: "one", Lease: time.Second})
	d2 := webhook.New(webhook.Options{Endpoints: ep, Stream: st2, Ledger: st2, Holder: "two", Lease: time.Second})
	if err := d1.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx1, stop1 := context.WithCancel(context.Background())
	done1 := make(chan struct{})
	go func() { defer close(done1); _ = d1.Run(ctx1) }()
	run(t, d2)
	for i := range 100 {
		publish(t, st1, ev(fmt.Sprintf("e%03d", i), bot.EventAcknowledged, fmt.Sprintf("UPG-%d", i%7)))
	}
	r.waitAccepted(50, 20*time.Second)
	stop1()
	<-done1
	for i := 100; i < 150; i++ {
		publish(t, st2, ev(fmt.Sprintf("e%03d", i), bot.EventAcknowledged, fmt.Sprintf("UPG-%d", i%7)))
	}
	got := r.waitAccepted(150, 30*time.Second)
	count := map[string]int{}
	for _, g := range got {
		count[g.id]++
	}
	for i := range 150 {
		if id := fmt.Sprintf("e%03d", i); count[id] != 1 {
			t.Errorf("%s accepted %d times", id, count[id])
		}
	}
}

// unanswered is a store whose EnsureGroup fails while down is set, as when
// Redis does not answer.
type unanswered struct {
	*store.Store
	mu   sync.Mutex
	down bool
}

func (u *unanswered) EnsureGroup(ctx context.Context, group string, since time.Time) error {
	u.mu.Lock()
	down := u.down
	u.mu.Unlock()
	if down {
		return errors.New("redis: i/o timeout")
	}
	return u.Store.EnsureGroup(ctx, group, since)
}

func (u *unanswered) answer() { u.mu.Lock(); u.down = false; u.mu.Unlock() }

// clockAhead is how far this host's clock runs ahead of Redis's in
// TestALateGroupAllowsForAClockAheadOfRedis: within webhook.ClockMargin.
const clockAhead = 30 * time.Second

// A group created late (Redis did not answer when serve first tried)
// starts from that moment by this host's clock moved back by ClockMargin:
// when this host's clock runs ahead of Redis's, which stamps the events'
// ids, an event recorded after serve started is still delivered.
func TestALateGroupAllowsForAClockAheadOfRedis(t *testing.T) {
	o := storetest.Target(t)
	st := &unanswered{Store: storetest.Open(t, o), down: true}
	r := newReceiver(t, "k", func(bot.Event, int) int { return http.StatusOK })
	ahead := func() time.Time { return time.Now().Add(clockAhead) }
	d := webhook.New(webhook.Options{Endpoints: []webhook.Endpoint{{URL: r.srv.URL, Secret: "k"}}, Stream: st, Ledger: st, Now: ahead})
	if err := d.Prepare(context.Background()); err == nil {
		t.Fatal("Prepare succeeded with Redis not answering")
	}
	// Recorded after serve first tried, by Redis's clock 30 s behind.
	publish(t, st.Store, ev("e-late", bot.EventAcknowledged, "UPG-1"))
	st.answer()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	if got := r.waitAccepted(1, 20*time.Second); got[0].id != "e-late" {
		t.Fatalf("delivered %+v, want e-late", got)
	}
}

// A receiver that answers a redirect has not taken the event: the redirect
// is not followed (a client following a 302 with a GET would count the
// page it lands on as the delivery, and the event would be lost while
// `upgradebot webhooks` said delivered; it would also send the signature
// to wherever the redirect points). The attempt fails, naming the status,
// and is retried like any answer that is not 2xx.
func TestARedirectIsAFailedAttemptNotFollowed(t *testing.T) {
	st := storetest.Open(t, storetest.Target(t))
	posts, landed := make(chan int, 10), make(chan string, 10)
	var n int
	var mu sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc("/hook", func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		mu.Lock()
		n++
		attempt := n
		mu.Unlock()
		posts <- attempt
		if attempt == 1 {
			w.Header().Set("Location", "/landing")
			w.WriteHeader(http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/landing", func(w http.ResponseWriter, req *http.Request) {
		landed <- req.Method + " " + req.Header.Get(webhook.HeaderSignature)
		w.WriteHeader(http.StatusOK)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	d := webhook.New(webhook.Options{Endpoints: []webhook.Endpoint{{URL: srv.URL + "/hook", Secret: "k"}}, Stream: st, Ledger: st,
		FirstRetry: 50 * time.Millisecond})
	run(t, d)
	publish(t, st, ev("e1", bot.EventStarted, "UPG-1"))
	for want := 1; want <= 2; want++ {
		select {
		case got := <-posts:
			if got != want {
				t.Fatalf("POST %d, want %d", got, want)
			}
		case how := <-landed:
			t.Fatalf("the redirect was followed (%s): the event was taken as delivered without reaching the receiver", how)
		case <-time.After(20 * time.Second):
			t.Fatalf("no POST %d: the redirect was not retried", want)
		}
	}
	sts, err := d.Status(context.Background(), 5)
	if err != nil {
		t.Fatal(err)
	}
	if s := sts[0]; s.FailedAttempts < 1 || !strings.Contains(s.LastError, "302") {
		t.Errorf("status = %+v; want a failed attempt naming the 302", s)
	}
}

// A 503 (or 429) with Retry-After as an HTTP-date, the other form RFC 9110
// gives it, is honoured like one in seconds: the retry waits until then,
// not the first backoff's 50 ms.
func TestRetryAfterAsADateIsHonoured(t *testing.T) {
	st := storetest.Open(t, storetest.Target(t))
	posts := make(chan time.Time, 10)
	var n int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		posts <- time.Now()
		if first {
			// Whole seconds: at least 2 s from now.
			w.Header().Set("Retry-After", time.Now().Add(3*time.Second).UTC().Format(http.TimeFormat))
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	d := webhook.New(webhook.Options{Endpoints: []webhook.Endpoint{{URL: srv.URL, Secret: "k"}}, Stream: st, Ledger: st,
		FirstRetry: 50 * time.Millisecond})
	run(t, d)
	publish(t, st, ev("e1", bot.EventStarted, "UPG-1"))
	var at [2]time.Time
	for i := range at {
		select {
		case at[i] = <-posts:
		case <-time.After(20 * time.Second):
			t.Fatalf("no attempt %d", i+1)
		}
	}
	if gap := at[1].Sub(at[0]); gap < 2*time.Second {
		t.Errorf("retried %v after a 503 with Retry-After 3 s ahead; want at least 2 s", gap)
	}
}
