package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"

	slackadapter "github.com/upgradebot/upgradebot/adapters/slack"
	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
	"github.com/upgradebot/upgradebot/bot"
)

// TestSlackRefusesUnauthenticRequests: requests that Slack did not sign, or
// signed long ago, or that are too big or make no sense, change nothing and
// post nothing.
func TestSlackRefusesUnauthenticRequests(t *testing.T) {
	e := newSlackEnv(t, slackadapter.ModeHTTP)
	schedule := slacktestapi.CommandForm(slackgo.SlashCommand{
		ChannelID: "C0OPS", UserID: "U0ALICE", UserName: "alice", Command: "/upgrade",
		Text: "schedule payments v2.4.0 at 2026-12-01 03:00", TriggerID: "trig-evil", ResponseURL: e.api.ResponseURL("evil"),
	})
	press := slacktestapi.InteractionForm(t, slacktestapi.BlockAction(slacktestapi.Press{
		UserID: "U0BOB", ChannelID: "C0PAYMENTS", ActionID: "upgrade_ack", Value: "UPG-1:brief", TriggerID: "trig-evil-press",
	}))
	ts := strconv.FormatInt(slackNow.Unix(), 10)
	raw := func(path, body string, headers map[string]string) *http.Request {
		return slacktestapi.FormRequest(t, e.srv.URL+path, body, headers)
	}
	signed := func(path, body string) *http.Request {
		return slacktestapi.SignedRequest(t, e.srv.URL+path, slackSecret, body, slackNow)
	}
	tests := []struct {
		name string
		req  *http.Request
		want int
	}{
		{"forged signature", raw("/slack/commands", schedule, map[string]string{
			"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": slacktestapi.Signature("guessed-secret", ts, []byte(schedule))}), http.StatusUnauthorized},
		{"forged press", raw("/slack/interactions", press, map[string]string{
			"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": slacktestapi.Signature("guessed-secret", ts, []byte(press))}), http.StatusUnauthorized},
		{"tampered body", raw("/slack/commands", strings.Replace(schedule, "payments", "ledger", 1), map[string]string{
			"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": slacktestapi.Signature(slackSecret, ts, []byte(schedule))}), http.StatusUnauthorized},
		{"stale timestamp (replay)", slacktestapi.SignedRequest(t, e.srv.URL+"/slack/commands", slackSecret, schedule, slackNow.Add(-6*time.Minute)), http.StatusUnauthorized},
		{"missing headers", raw("/slack/commands", schedule, nil), http.StatusUnauthorized},
		{"missing signature", raw("/slack/interactions", press, map[string]string{"X-Slack-Request-Timestamp": ts}), http.StatusUnauthorized},
		{"oversized body", signed("/slack/commands", schedule+"&pad="+strings.Repeat("x", 1<<20)), http.StatusRequestEntityTooLarge},
		{"oversized press", signed("/slack/interactions", press+"&pad="+strings.Repeat("x", 1<<20)), http.StatusRequestEntityTooLarge},
		{"malformed form", signed("/slack/commands", "text=%%%"), http.StatusBadRequest},
		{"command without user", signed("/slack/commands", "channel_id=C0OPS&text="+url.QueryEscape("schedule payments v1 in 1h")), http.StatusBadRequest},
		{"malformed payload", signed("/slack/interactions", "payload="+url.QueryEscape(`{"type":"block_actions","user":`)), http.StatusBadRequest},
		{"no payload", signed("/slack/interactions", "type=block_actions"), http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if status, body := e.do(tc.req); status != tc.want {
				t.Errorf("status %d (%s), want %d", status, body, tc.want)
			}
		})
	}
	e.settle()
	ups, err := e.store.List(context.Background(), bot.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 0 {
		t.Errorf("%d upgrades stored by refused requests", len(ups))
	}
	var calls []string
	for _, c := range e.api.Calls() {
		if c.Method != "auth.test" { // the adapter's own token check at start, not caused by a request
			calls = append(calls, c.Method)
		}
	}
	if len(calls) != 0 {
		t.Errorf("refused requests made Slack calls: %v", calls)
	}

	// The same command, signed properly, is taken.
	status, _ := e.do(signed("/slack/commands", schedule))
	if status != http.StatusOK {
		t.Fatalf("the authentic request got %d", status)
	}
	e.settle()
	if ups, _ := e.store.List(context.Background(), bot.Filter{}); len(ups) != 1 {
		t.Errorf("%d upgrades after the authentic request, want 1", len(ups))
	}
}

// TestSlackRetriesAreNotAppliedTwice: Slack re-sends a command it thinks
// timed out (X-Slack-Retry-Num); the upgrade is scheduled once.
func TestSlackRetriesAreNotAppliedTwice(t *testing.T) {
	for _, mode := range []string{slackadapter.ModeHTTP, slackadapter.ModeSocket} {
		t.Run(mode, func(t *testing.T) {
			e := newSlackEnv(t, mode)
			sc := slackgo.SlashCommand{ChannelID: "C0OPS", UserID: "U0ALICE", UserName: "alice", Command: "/upgrade",
				Text: "schedule payments v2.4.0 in 3h", TriggerID: "trig-once", ResponseURL: e.api.ResponseURL("once")}
			for attempt := 0; attempt < 3; attempt++ {
				if mode == slackadapter.ModeHTTP {
					req := slacktestapi.SignedRequest(t, e.srv.URL+"/slack/commands", slackSecret, slacktestapi.CommandForm(sc), slackNow)
					if attempt > 0 {
						req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(attempt))
						req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
					}
					if status, _ := e.do(req); status != http.StatusOK {
						t.Fatalf("attempt %d: status %d", attempt, status)
					}
				} else {
					env := e.sock.SlashCommand(t, sc, attempt)
					e.sock.WaitAck(t, env, 5*time.Second)
				}
			}
			e.settle()
			ups, err := e.store.List(context.Background(), bot.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(ups) != 1 {
				t.Errorf("%d upgrades scheduled by one command sent 3 times", len(ups))
			}
			if n := len(e.channelMessages("C0PAYMENTS")); n != 1 {
				t.Errorf("%d root messages", n)
			}
		})
	}
}
