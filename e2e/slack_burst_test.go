package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	slackadapter "github.com/upgradebot/upgradebot/adapters/slack"
	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
)

// TestSlackPressBurst: 1,000 people press Acknowledge on one root message
// within about a second. Every press is recorded, the root message is
// edited only a few times, and its final count is exact.
func TestSlackPressBurst(t *testing.T) {
	const presses = 1000
	e := newSlackEnv(t, slackadapter.ModeHTTP)
	e.slash("alice", "C0OPS", "schedule payments v2.4.0 at 2026-12-01 03:00")
	e.settle()
	root := e.root("C0PAYMENTS")
	editsBefore := e.api.Count("chat.update")

	users := []string{"U0ALICE", "U0BOB", "U0CAROL"}
	for i := len(users); i < presses; i++ {
		users = append(users, fmt.Sprintf("U%d", 1000+i))
	}
	// Every press is built and signed first, so the burst is only the sending.
	reqs := make([]*http.Request, presses)
	for i := range reqs {
		cb := slacktestapi.BlockAction(slacktestapi.Press{
			UserID: users[i], UserName: strings.ToLower(users[i]), ChannelID: root.Channel, MessageTS: root.TS,
			ActionID: "upgrade_ack", Value: "UPG-1:brief", TriggerID: fmt.Sprintf("trig-burst-%d", i),
			ActionTS: fmt.Sprintf("1700000500.%06d", i), ResponseURL: e.api.ResponseURL(fmt.Sprintf("burst-%d", i)),
		})
		reqs[i] = slacktestapi.SignedRequest(t, e.srv.URL+"/slack/interactions", slackSecret, slacktestapi.InteractionForm(t, cb), slackNow)
	}
	var failed atomic.Int64
	started := time.Now()
	slackParallel(presses, 50, func(i int) {
		resp, err := http.DefaultClient.Do(reqs[i])
		if err != nil {
			failed.Add(1)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			failed.Add(1)
		}
	})
	took := time.Since(started)
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d presses were not answered 200", n)
	}
	e.settle()

	acks, err := e.store.Acks(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(acks) != presses {
		t.Errorf("%d acknowledgments recorded, want %d", len(acks), presses)
	}
	edits := e.api.Count("chat.update") - editsBefore
	t.Logf("%d presses sent in %s; root edited %d times", presses, took.Round(time.Millisecond), edits)
	if edits < 1 || edits > 10 {
		t.Errorf("root edited %d times for %d presses; edits must be coalesced (about one a second)", edits, presses)
	}
	final := e.root("C0PAYMENTS").BlockText()
	slackContains(t, "final root", final, "Acknowledged 3/3 · everyone has acknowledged", "Also seen by")
	// The final count is exact: the root names 20 of the outsiders and counts the rest.
	if n := strings.Count(final, "<@U1"); n != 20 || !strings.Contains(final, fmt.Sprintf("and %d others", presses-3-20)) {
		t.Errorf("the root names %d people outside the audience and lacks \"and %d others\":\n%s", n, presses-3-20, final)
	}
	if n := len(e.api.Calls("response_url")); n != presses {
		t.Errorf("%d private answers for %d presses", n, presses)
	}
}
