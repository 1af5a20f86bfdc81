package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
	"github.com/upgradebot/upgradebot/store/storetest"
)

// TestEveryKeyStartsWithThePrefix runs a bit of everything against the
// store (commands, acknowledgments, freezes, a series, the scheduler's
// reminders, escalations and window notices, the events relay, a webhook
// endpoint's group, lease and record, and events lost to the stream's cap)
// and checks store.md's rule: every key starts with redis.prefix. On the
// embedded server (alone for this test) every key is checked, on a shared
// server or Cluster every key that names the prefix anywhere.
func TestEveryKeyStartsWithThePrefix(t *testing.T) {
	t.Logf("redis: %s", storetest.Backend())
	ctx := context.Background()
	o := storetest.Target(t)
	// A tiny cap: the stream is trimmed past what the webhook group has
	// not read yet, and the loss is recorded in a key of its own.
	o.EventsMaxLen = 1
	clock, log := bottest.NewClock(start0), &bottest.Recorder{}
	r := newReplica(t, o, clock.Now, log, windowed(t))

	const group, endpoint = "webhook:0123456789ab", "0123456789ab"
	if err := r.st.EnsureGroup(ctx, group, time.Time{}); err != nil {
		t.Fatal(err)
	}

	r.do(t, "alice", "schedule payments v2.4.0 at 2026-11-30 10:00 UTC for 2h")
	r.do(t, "bob", "ack UPG-1")
	r.do(t, "alice", "plan UPG-1 https://runbooks.example.com/payments")
	r.do(t, "dave", "freeze add audit from 2026-12-10 to 2026-12-11 services ledger reason external audit")
	r.do(t, "dave", "freeze remove audit the audit moved")
	r.do(t, "alice", "schedule payments v3 every thu 10:00 UTC for 1h until 2026-12-31")
	r.do(t, "carol", "schedule ledger v1.9.0 at 2026-12-02 14:00 UTC")
	for at := start0; at.Before(time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)); at = at.Add(30 * time.Minute) {
		r.at(t, clock, at) // reminders, the escalation, series occurrences
	}
	r.at(t, clock, time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)) // window open
	r.do(t, "alice", "start UPG-1")
	r.do(t, "alice", "complete UPG-1 all good")
	r.do(t, "carol", "cancel UPG-3 not needed")
	if _, err := r.b.RelayEvents(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := r.st.First(ctx, "cmd:test-delivery", time.Minute); err != nil || !ok {
		t.Fatalf("once: %v, %v", ok, err)
	}

	// Enough events, beyond the stream's cap, to trim it past the group.
	for i := range 300 {
		ev := bot.Event{ID: fmt.Sprintf("test-%d", i), Type: "test", UpgradeID: "UPG-99", At: clock.Now()}
		if err := r.st.Publish(ctx, 99, ev); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := r.st.Lease(ctx, group, "replica-1", time.Minute); err != nil || !ok {
		t.Fatalf("lease: %v, %v", ok, err)
	}
	if _, err := r.st.CheckGroup(ctx, group); err != nil {
		t.Fatal(err)
	}
	evs, _, err := r.st.ReadGroup(ctx, group, "replica-1", 10, 0)
	if err != nil || len(evs) == 0 {
		t.Fatalf("read group: %d events, %v", len(evs), err)
	}
	if _, _, _, err := r.st.ClaimEvents(ctx, group, "replica-1", "0-0", 10); err != nil {
		t.Fatal(err)
	}
	if err := r.st.HookDelivered(ctx, endpoint, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := r.st.HookFailed(ctx, endpoint, clock.Now(), evs[0], "HTTP 500", true); err != nil {
		t.Fatal(err)
	}
	if err := r.st.AckEvents(ctx, group, evs[0].Pos); err != nil {
		t.Fatal(err)
	}

	keys := storetest.Keys(t, o)
	for _, k := range keys {
		if !strings.HasPrefix(k, o.Prefix+":") {
			t.Errorf("key %q does not start with the prefix %q", k, o.Prefix+":")
		}
	}
	// The workload reached every part of the layout.
	want := []string{":seq", ":{upg:1}", ":{upg:1}:acks", ":{upg:1}:log", ":{idx}:start", ":{jobs}:data",
		":{jobs}:planned:", ":{freezes}", ":{series}:data", ":{series}:occ:1", ":events", ":relayed",
		":lease:" + group, ":webhooks:" + endpoint, ":webhooks:" + endpoint + ":failed", ":once:cmd:test-delivery", ":once:escalated:"}
	if os.Getenv("UPGRADEBOT_TEST_REDIS") != "" || os.Getenv("UPGRADEBOT_TEST_REDIS_CLUSTER") != "" {
		want = append(want, ":lost:"+group) // the embedded server does not count a stream's entries
	}
	for _, w := range want {
		found := false
		for _, k := range keys {
			found = found || strings.Contains(k, w)
		}
		if !found {
			t.Errorf("no key contains %q; the workload missed a part of the layout:\n%s", w, strings.Join(keys, "\n"))
		}
	}
}
