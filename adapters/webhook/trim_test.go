package webhook_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/upgradebot/upgradebot/adapters/webhook"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/internal/syncbuf"
	"github.com/upgradebot/upgradebot/store"
	"github.com/upgradebot/upgradebot/store/storetest"
)

// These tests cap the shared stream at trimCap entries (store.Options.EventsMaxLen;
// Redis trims whole nodes of 100 entries, so it keeps 100 to 200) and record
// far more events than that while an endpoint does not read them.
const trimCap = 100

// needsRealRedis skips on the embedded server: it neither counts the entries
// a stream was ever given (XINFO STREAM entries-added) nor moves a group's
// read counter (XGROUP SETID … ENTRIESREAD), which telling trimmed events
// from delivered ones needs.
func needsRealRedis(t *testing.T) {
	t.Helper()
	if os.Getenv("UPGRADEBOT_TEST_REDIS") == "" && os.Getenv("UPGRADEBOT_TEST_REDIS_CLUSTER") == "" {
		t.Skip("needs UPGRADEBOT_TEST_REDIS or UPGRADEBOT_TEST_REDIS_CLUSTER (a real redis-server 7)")
	}
}

// rawClient reaches the Redis of o directly, to look at the consumer groups
// the way an operator does (XINFO GROUPS).
func rawClient(t *testing.T, o store.Options) redis.UniversalClient {
	t.Helper()
	var c redis.UniversalClient
	if len(o.ClusterAddrs) > 0 {
		c = redis.NewClusterClient(&redis.ClusterOptions{Addrs: o.ClusterAddrs})
	} else {
		opt, err := redis.ParseURL(o.URL)
		if err != nil {
			t.Fatal(err)
		}
		c = redis.NewClient(opt)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// groupInfo is XINFO GROUPS' line of an endpoint's group.
func groupInfo(t *testing.T, c redis.UniversalClient, o store.Options, ep webhook.Endpoint) redis.XInfoGroup {
	t.Helper()
	groups, err := c.XInfoGroups(context.Background(), o.Prefix+":events").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		if g.Name == "webhook:"+ep.ID() {
			return g
		}
	}
	t.Fatalf("no group webhook:%s in %+v", ep.ID(), groups)
	return redis.XInfoGroup{}
}

// outcomes is a webhook.Observer that counts outcomes and tells each one.
type outcomes struct {
	mu     sync.Mutex
	counts map[string]int
	told   chan struct{}
}

func newOutcomes() *outcomes {
	return &outcomes{counts: map[string]int{}, told: make(chan struct{}, 1)}
}

func (o *outcomes) WebhookDelivery(outcome string) {
	o.mu.Lock()
	o.counts[outcome]++
	o.mu.Unlock()
	select {
	case o.told <- struct{}{}:
	default:
	}
}

func (o *outcomes) SetWebhookBacklog(int) {}

func (o *outcomes) count(outcome string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counts[outcome]
}

// waitFor waits, on each outcome told, until ok holds.
func (o *outcomes) waitFor(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.After(within)
	for !ok() {
		select {
		case <-o.told:
		case <-deadline:
			o.mu.Lock()
			defer o.mu.Unlock()
			t.Fatalf("waited %s for %s; outcomes %v", within, what, o.counts)
		}
	}
}

// logBuffer is a log destination tests read while the deliverer writes.
type logBuffer = syncbuf.Buffer

// drain keeps r's channel of deliveries from filling up (it holds 1,000)
// while a test counts outcomes instead. Call it before run, so that it
// stops after the deliverer has.
func drain(t *testing.T, r *receiver) {
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-r.seen:
			case <-stop:
				return
			}
		}
	}()
	t.Cleanup(func() { close(stop) })
}

// downReceiver is a receiver (secret "k") that answers 503 until up is
// called, then 200; what it is sent is drained.
func downReceiver(t *testing.T) (r *receiver, up func()) {
	var mu sync.Mutex
	down := true
	r = newReceiver(t, "k", func(bot.Event, int) int {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	drain(t, r)
	return r, func() {
		mu.Lock()
		down = false
		mu.Unlock()
	}
}

// streamLen is how many events the capped stream still holds.
func streamLen(t *testing.T, st *store.Store) int {
	t.Helper()
	evs, err := st.EventsAfter(context.Background(), "", 100000)
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

// An endpoint that falls more than the stream's cap behind: the events
// trimmed off the stream before its group read them are counted as lost
// (webhooks status, metric outcome "lost", an ERROR log line naming the
// endpoint, the count and the positions), the rest are delivered, and the
// backlog (ours and Redis's lag) comes back to 0 instead of staying at the
// number trimmed.
func TestEventsTrimmedBeforeTheyWereReadAreRecordedAsLost(t *testing.T) {
	needsRealRedis(t)
	o := storetest.Target(t)
	o.EventsMaxLen = trimCap
	st := storetest.Open(t, o)
	raw := rawClient(t, o)
	r := newReceiver(t, "k", func(bot.Event, int) int { return http.StatusOK })
	drain(t, r)
	ep := webhook.Endpoint{URL: r.srv.URL, Secret: "k"}
	obs := newOutcomes()
	var logs logBuffer
	d := webhook.New(webhook.Options{Endpoints: []webhook.Endpoint{ep}, Stream: st, Ledger: st, Observer: obs,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	// The endpoint gets an event; then its replica stops (or the receiver is
	// down) while far more events than the stream keeps are recorded.
	if err := d.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx1, stop1 := context.WithCancel(context.Background())
	done1 := make(chan struct{})
	go func() { defer close(done1); _ = d.Run(ctx1) }()
	publish(t, st, ev("before", bot.EventScheduled, "UPG-1"))
	obs.waitFor(t, 20*time.Second, "the first event delivered", func() bool { return obs.count("delivered") == 1 })
	stop1()
	<-done1
	const total = 1000
	for i := range total {
		publish(t, st, ev(fmt.Sprintf("e%04d", i), bot.EventAcknowledged, fmt.Sprintf("UPG-%d", i%7)))
	}
	left := streamLen(t, st)
	lost := total - left
	if left >= total || left < trimCap {
		t.Fatalf("the stream kept %d of %d events; want it trimmed to about %d", left, total, trimCap)
	}
	// Before anyone delivers: what waits is what the stream still holds.
	sts, err := d.Status(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if sts[0].Backlog != int64(left) {
		t.Errorf("backlog before delivery = %d; want the %d events the stream still holds", sts[0].Backlog, left)
	}

	run(t, d)
	obs.waitFor(t, 30*time.Second, "every event delivered or lost", func() bool {
		return obs.count("delivered") == 1+left && obs.count("lost") == lost
	})
	accepted := map[string]bool{}
	for _, g := range r.accepted() {
		accepted[g.id] = true
	}
	for i := range total {
		if id := fmt.Sprintf("e%04d", i); accepted[id] != (i >= lost) {
			t.Errorf("%s accepted: %v; want only the %d events the stream kept, from e%04d", id, accepted[id], left, lost)
		}
	}
	sts, err = d.Status(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	s := sts[0]
	if s.Backlog != 0 || s.Delivered != int64(1+left) || s.Lost != int64(lost) || s.Failed != 0 {
		t.Errorf("status = backlog %d, delivered %d, lost %d, given up %d; want 0, %d, %d, 0", s.Backlog, s.Delivered, s.Lost, s.Failed, 1+left, lost)
	}
	if s.LastLoss.Count != int64(lost) || s.LastLoss.At.IsZero() || s.LastLoss.After == "" || s.LastLoss.Before == "" {
		t.Errorf("last loss = %+v; want %d events with when and between which positions", s.LastLoss, lost)
	}
	if g := groupInfo(t, raw, o, ep); g.Lag != 0 || g.Pending != 0 {
		t.Errorf("XINFO GROUPS: lag %d, pending %d; want 0 and 0", g.Lag, g.Pending)
	}
	var line string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, `"level":"ERROR"`) && strings.Contains(l, "lost") {
			line = l
		}
	}
	for _, want := range []string{`"endpoint":"` + ep.ID() + `"`, fmt.Sprintf(`"lost":%d`, lost), `"after":"` + s.LastLoss.After + `"`, `"before":"` + s.LastLoss.Before + `"`} {
		if !strings.Contains(line, want) {
			t.Errorf("the ERROR line about the lost events lacks %s: %q\nlogs:\n%s", want, line, logs.String())
		}
	}
}

// Events a replica read and never finished (it stopped while the receiver
// failed them) and that were trimmed off the stream before another replica
// took them over are lost too: counted once, whichever of the replicas
// finds them, so that delivered and lost add up to every event recorded.
func TestPendingEventsTrimmedBeforeTheyWereTakenOverAreRecordedAsLost(t *testing.T) {
	needsRealRedis(t)
	o := storetest.Target(t)
	o.EventsMaxLen = trimCap
	st1 := storetest.Open(t, o)
	r, up := downReceiver(t)
	ep := []webhook.Endpoint{{URL: r.srv.URL, Secret: "k"}}
	obs1 := newOutcomes()
	d1 := webhook.New(webhook.Options{Endpoints: ep, Stream: st1, Ledger: st1, Observer: obs1, Holder: "one", Lease: time.Second, FirstRetry: time.Hour})
	if err := d1.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	const first = 50
	for i := range first {
		publish(t, st1, ev(fmt.Sprintf("p%03d", i), bot.EventAcknowledged, fmt.Sprintf("UPG-%d", i)))
	}
	ctx1, stop1 := context.WithCancel(context.Background())
	done1 := make(chan struct{})
	go func() { defer close(done1); _ = d1.Run(ctx1) }()
	// One read takes all 50; each attempt fails and waits an hour.
	obs1.waitFor(t, 20*time.Second, "the first attempts", func() bool { return obs1.count("retried") >= 4 })
	stop1()
	<-done1

	const more = 1000
	for i := range more {
		publish(t, st1, ev(fmt.Sprintf("e%04d", i), bot.EventAcknowledged, fmt.Sprintf("UPG-%d", i%7)))
	}
	left := streamLen(t, st1)
	up()
	// Two replicas take over.
	var obs []*outcomes
	for _, h := range []string{"two", "three"} {
		stn := storetest.Open(t, o)
		ob := newOutcomes()
		obs = append(obs, ob)
		run(t, webhook.New(webhook.Options{Endpoints: ep, Stream: stn, Ledger: stn, Observer: ob, Holder: h, Lease: time.Second}))
	}
	sum := func(outcome string) int { return obs[0].count(outcome) + obs[1].count(outcome) }
	for sum("delivered") != left || sum("lost") != first+more-left {
		select {
		case <-obs[0].told:
		case <-obs[1].told:
		case <-time.After(30 * time.Second):
			t.Fatalf("delivered %d, lost %d; want %d and %d", sum("delivered"), sum("lost"), left, first+more-left)
		}
	}
	d := webhook.New(webhook.Options{Endpoints: ep, Stream: st1, Ledger: st1})
	sts, err := d.Status(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if s := sts[0]; s.Backlog != 0 || s.Delivered != int64(left) || s.Lost != int64(first+more-left) {
		t.Errorf("status = backlog %d, delivered %d, lost %d; want 0, %d, %d", s.Backlog, s.Delivered, s.Lost, left, first+more-left)
	}
	if g := groupInfo(t, rawClient(t, o), o, ep[0]); g.Lag != 0 || g.Pending != 0 {
		t.Errorf("XINFO GROUPS: lag %d, pending %d; want 0 and 0", g.Lag, g.Pending)
	}
}

// A deliverer whose receiver is down stops reading once it holds 2,000
// events; the events trimmed unread meanwhile are recorded as lost then,
// while the receiver is still down, not only once it recovers.
func TestEventsTrimmedWhileTheReceiverIsDownAreToldAtOnce(t *testing.T) {
	needsRealRedis(t)
	o := storetest.Target(t)
	o.EventsMaxLen = 2500
	st := storetest.Open(t, o)
	r, up := downReceiver(t)
	ep := webhook.Endpoint{URL: r.srv.URL, Secret: "k"}
	obs := newOutcomes()
	d := webhook.New(webhook.Options{Endpoints: []webhook.Endpoint{ep}, Stream: st, Ledger: st, Observer: obs,
		Lease: time.Second, FirstRetry: 50 * time.Millisecond, MaxRetry: 100 * time.Millisecond})
	run(t, d)
	const total = 5100
	for i := range total {
		publish(t, st, ev(fmt.Sprintf("e%04d", i), bot.EventAcknowledged, fmt.Sprintf("UPG-%d", i%7)))
	}
	obs.waitFor(t, 30*time.Second, "the trimmed events told while the receiver is down", func() bool { return obs.count("lost") > 0 })
	if n := obs.count("delivered"); n != 0 {
		t.Fatalf("%d delivered while the receiver was down", n)
	}
	up()
	obs.waitFor(t, 60*time.Second, "every event delivered or lost", func() bool {
		return obs.count("delivered")+obs.count("lost") == total
	})
	sts, err := d.Status(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if s := sts[0]; s.Backlog != 0 || s.Delivered+s.Lost != total || s.Lost != int64(obs.count("lost")) {
		t.Errorf("status = backlog %d, delivered %d, lost %d; want 0 and %d in all, %d lost", s.Backlog, s.Delivered, s.Lost, total, obs.count("lost"))
	}
	if g := groupInfo(t, rawClient(t, o), o, ep); g.Lag != 0 || g.Pending != 0 {
		t.Errorf("XINFO GROUPS: lag %d, pending %d; want 0 and 0", g.Lag, g.Pending)
	}
}

// A group whose count of reads an earlier version left short (it read on
// after the stream had been trimmed past unread entries, so XINFO GROUPS'
// lag stayed at their number) is corrected once it has read everything.
// Those entries are not counted as lost: Redis 7.0 leaves a group's count
// short after a failover or a restart too, with nothing lost, and the two
// cannot be told apart.
func TestAnEarlierVersionsStuckLagIsCorrected(t *testing.T) {
	needsRealRedis(t)
	o := storetest.Target(t)
	o.EventsMaxLen = trimCap
	st := storetest.Open(t, o)
	raw := rawClient(t, o)
	ctx := context.Background()
	r := newReceiver(t, "k", func(bot.Event, int) int { return http.StatusOK })
	drain(t, r)
	ep := webhook.Endpoint{URL: r.srv.URL, Secret: "k"}
	key, group := o.Prefix+":events", "webhook:"+ep.ID()
	// What the earlier version did: XGROUP CREATE … $ MKSTREAM, then
	// XREADGROUP and XACK as events came, and once after a long stop.
	if err := raw.XGroupCreateMkStream(ctx, key, group, "$").Err(); err != nil {
		t.Fatal(err)
	}
	readAll := func() {
		for {
			res, err := raw.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: "old", Streams: []string{key, ">"}, Count: 200, Block: -1}).Result()
			if err == redis.Nil || err == nil && len(res[0].Messages) == 0 {
				return
			} else if err != nil {
				t.Fatal(err)
			}
			for _, m := range res[0].Messages {
				if err := raw.XAck(ctx, key, group, m.ID).Err(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	publish(t, st, ev("first", bot.EventScheduled, "UPG-1"))
	readAll()
	const total = 1000
	for i := range total {
		publish(t, st, ev(fmt.Sprintf("e%04d", i), bot.EventAcknowledged, fmt.Sprintf("UPG-%d", i%7)))
	}
	left := streamLen(t, st)
	readAll()
	stuck := groupInfo(t, raw, o, ep).Lag
	if stuck != int64(total-left) {
		t.Fatalf("the earlier version's lag is %d; want the %d events trimmed unread", stuck, total-left)
	}

	obs := newOutcomes()
	d := webhook.New(webhook.Options{Endpoints: []webhook.Endpoint{ep}, Stream: st, Ledger: st, Observer: obs})
	run(t, d)
	// The next event is delivered, and by then the count was corrected.
	publish(t, st, ev("after", bot.EventScheduled, "UPG-1"))
	obs.waitFor(t, 20*time.Second, "the event after delivered", func() bool {
		return slices.ContainsFunc(r.accepted(), func(d delivery) bool { return d.id == "after" })
	})
	if g := groupInfo(t, raw, o, ep); g.Lag != 0 {
		t.Errorf("XINFO GROUPS lag %d; want 0", g.Lag)
	}
	sts, err := d.Status(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if s := sts[0]; s.Backlog != 0 || s.Lost != 0 || obs.count("lost") != 0 {
		t.Errorf("status = backlog %d, lost %d (observed %d); want 0 and none counted", s.Backlog, s.Lost, obs.count("lost"))
	}
}
