package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/adapters/webhook"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/store/storetest"
)

// `upgradebot webhooks` shows the events an endpoint lost because the
// capped event stream was trimmed past them before they were delivered: how
// many, when that was found and which span of events; the backlog counts
// only what the stream still holds.
func TestWebhooksShowEventsLostToTheStreamsCap(t *testing.T) {
	if os.Getenv("UPGRADEBOT_TEST_REDIS") == "" && os.Getenv("UPGRADEBOT_TEST_REDIS_CLUSTER") == "" {
		t.Skip("needs UPGRADEBOT_TEST_REDIS or UPGRADEBOT_TEST_REDIS_CLUSTER (a real redis-server 7)")
	}
	ctx := context.Background()
	o := storetest.Target(t)
	o.EventsMaxLen = 100
	st := storetest.Open(t, o)
	ep := webhook.Endpoint{URL: "http://127.0.0.1:9/hook"} // nobody listens
	// serve created the endpoint's group, then delivered nothing while far
	// more events than the stream keeps were recorded.
	if err := webhook.New(webhook.Options{Endpoints: []webhook.Endpoint{ep}, Stream: st, Ledger: st}).Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	const total = 1000
	for i := range total {
		e := bot.Event{ID: fmt.Sprintf("e%04d", i), Type: bot.EventAcknowledged, UpgradeID: "UPG-1", Service: "payments", At: time.Now().UTC(), Actor: "alice"}
		if err := st.Publish(ctx, 1<<30, e); err != nil {
			t.Fatal(err)
		}
	}
	left, err := st.EventsAfter(ctx, "", total)
	if err != nil {
		t.Fatal(err)
	}
	// What a deliverer finds before its next read.
	loss, err := st.CheckGroup(ctx, "webhook:"+ep.ID())
	if err != nil || loss == nil || loss.Count != int64(total-len(left)) {
		t.Fatalf("CheckGroup = %+v, %v; want %d events lost", loss, err, total-len(left))
	}

	redisConf := fmt.Sprintf("url = %q\nprefix = %q", o.URL, o.Prefix)
	if len(o.ClusterAddrs) > 0 {
		redisConf = fmt.Sprintf("cluster_addrs = [\"%s\"]\nprefix = %q", strings.Join(o.ClusterAddrs, `", "`), o.Prefix)
	}
	cfg := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(cfg, []byte("[redis]\n"+redisConf+"\n[[webhooks]]\nurl = \"http://127.0.0.1:9/hook\"\n"+
		"[[people]]\nname = \"alice\"\nids = [\"slack:U0ALICE\"]\n[[services]]\nname = \"payments\"\nowners = [\"alice\"]\nchannels = [\"slack:C0PAY\"]\n"), 0o600)
	out, errOut, code := runMain(t, "", nil, "webhooks", "-config", cfg)
	if code != 0 {
		t.Fatalf("webhooks exited %d: %s", code, errOut)
	}
	first := time.UnixMilli(mustMillis(t, left[0].Pos)).UTC().Format("2006-01-02 15:04:05 UTC")
	for _, want := range []string{
		fmt.Sprintf("backlog:       %d event(s) waiting", len(left)),
		fmt.Sprintf("given up: 0    lost: %d", total-len(left)),
		fmt.Sprintf("%d event(s) recorded before %s (%s) were trimmed off the event stream before delivery", total-len(left), first, left[0].Pos),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("upgradebot webhooks lacks %q:\n%s", want, out)
		}
	}
}

func mustMillis(t *testing.T, pos string) int64 {
	t.Helper()
	var ms int64
	if _, err := fmt.Sscanf(pos, "%d-", &ms); err != nil {
		t.Fatalf("position %q: %v", pos, err)
	}
	return ms
}
