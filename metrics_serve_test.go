package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/adapters/metrics/metricstest"
	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
)

func (s *statusServe) scrape() metricstest.Families {
	s.t.Helper()
	code, hdr, body := s.get("/metrics", "")
	if code != http.StatusOK {
		s.t.Fatalf("GET /metrics = %d: %s", code, body)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		s.t.Errorf("GET /metrics Content-Type = %q, want the text format", ct)
	}
	return metricstest.Parse(s.t, bytes.NewReader(body))
}

// pressButton presses the Acknowledge button of upgrade id's root in
// channel as a Slack user and returns the private answer.
func (s *statusServe) pressButton(user, channel, id, scope string) string {
	s.t.Helper()
	var root slacktestapi.Message
	s.api.Eventually(s.t, 10*time.Second, "the root of "+id+" in "+channel, func() bool {
		for _, m := range s.api.Messages(channel) {
			if m.ThreadTS == "" && strings.Contains(m.Text, id) {
				root = m
				return true
			}
		}
		return false
	})
	n := s.seq.Add(1)
	respond := fmt.Sprintf("metrics-press-%d", n)
	cb := slacktestapi.BlockAction(slacktestapi.Press{UserID: user, UserName: strings.ToLower(user), ChannelID: channel,
		MessageTS: root.TS, ActionID: "upgrade_ack", Value: id + ":" + scope, TriggerID: fmt.Sprintf("trig-metrics-%d", n),
		ActionTS: fmt.Sprintf("1700000%03d.%06d", n%1000, n), ResponseURL: s.api.ResponseURL(respond)})
	resp, err := http.DefaultClient.Do(slacktestapi.SignedRequest(s.t, s.base+"/slack/interactions", "status-test-secret",
		slacktestapi.InteractionForm(s.t, cb), time.Now()))
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("press: %d", resp.StatusCode)
	}
	return s.api.WaitResponse(s.t, respond, 1, 10*time.Second).Param("text")
}

func TestMetricsOnARunningServe(t *testing.T) {
	// A webhook receiver that takes every event.
	var received atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)
	s := startStatusServe(t, false, fmt.Sprintf("[[webhooks]]\nurl = %q\nsecret = \"metrics-hook-secret\"\n", hook.URL+"/events"))
	before := s.scrape()
	for _, want := range []string{"go_goroutines", "process_resident_memory_bytes", "upgradebot_acks_total", "upgradebot_upgrades"} {
		if _, ok := before[want]; !ok {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// The series of the first failures exist at 0 before any happens, so
	// that increase() and the alerts see the first one (docs/alerts.yml);
	// Discord is not enabled here, so none of its series.
	for _, c := range [][]string{
		{"upgradebot_commands_total", "platform", "slack", "command", "rollback", "outcome", "refused"},
		{"upgradebot_commands_total", "platform", "slack", "command", "schedule", "outcome", "error"},
		{"upgradebot_commands_total", "platform", "slack", "command", "press", "outcome", "error"},
		{"upgradebot_notices_total", "kind", "rollback", "outcome", "failed"},
		{"upgradebot_notices_total", "kind", "escalation", "outcome", "failed"},
		{"upgradebot_platform_api_calls_total", "platform", "slack", "method", "chat.postMessage", "outcome", "unreachable"},
		{"upgradebot_platform_api_calls_total", "platform", "slack", "method", "chat.postMessage", "outcome", "ok"},
		{"upgradebot_platform_api_rate_limited_total", "platform", "slack", "method", "chat.update"},
		{"upgradebot_webhook_deliveries_total", "outcome", "failed"},
		{"upgradebot_webhook_deliveries_total", "outcome", "lost"},
	} {
		if got := before.Series(c[0], c[1:]...); len(got) != 1 || metricstest.ValueOf(got[0]) != 0 {
			t.Errorf("before anything happened, /metrics has %d series %s%v (want one, at 0)", len(got), c[0], c[1:])
		}
	}
	if got := before.Series("upgradebot_platform_api_calls_total", "platform", "discord"); len(got) != 0 {
		t.Errorf("/metrics has %d series of discord, which is not enabled", len(got))
	}
	posts := s.api.Count("chat.postMessage")

	// Two commands that work, one refused, one button press, one cancel.
	if txt := s.slash("U0ALICE", "schedule payments v2.4.0 in 30m for 2h"); !strings.Contains(txt, "Scheduled UPG-1") {
		t.Fatalf("schedule: %s", txt)
	}
	if txt := s.slash("U0ALICE", "rollback UPG-1 too early"); !strings.Contains(txt, "has not started") {
		t.Fatalf("rollback of a scheduled upgrade: %s", txt)
	}
	if txt := s.pressButton("U0BOB", "C0PAY", "UPG-1", "brief"); !strings.Contains(txt, "Thanks") {
		t.Fatalf("press: %s", txt)
	}
	if txt := s.slash("U0BOB", "schedule checkout v3 in 8h for 1h"); !strings.Contains(txt, "Scheduled UPG-2") {
		t.Fatalf("schedule: %s", txt)
	}
	if txt := s.slash("U0BOB", "cancel UPG-2 not needed after all"); !strings.Contains(txt, "Cancelled UPG-2") {
		t.Fatalf("cancel: %s", txt)
	}
	// Two roots and the cancellation in UPG-2's thread.
	s.api.Eventually(t, 10*time.Second, "the roots and the cancellation notice", func() bool {
		return s.api.Count("chat.postMessage") == posts+3
	})

	// The store's gauges are read at scrape time, cached for 5 s.
	var after metricstest.Families
	s.api.Eventually(t, 15*time.Second, "upgrades by state from the store", func() bool {
		after = s.scrape()
		return after.Value("upgradebot_upgrades", "state", "scheduled") == 1 && after.Value("upgradebot_upgrades", "state", "cancelled") == 1
	})
	// They are what the store says (the API lists it).
	_, _, body := s.get("/api/v1/upgrades", statusToken)
	listed := decodeJSON[struct{ Upgrades []struct{ State string } }](t, body)
	byState := map[string]float64{}
	for _, u := range listed.Upgrades {
		byState[u.State]++
	}
	for _, state := range []string{"scheduled", "in_progress", "completed", "rolled_back", "cancelled"} {
		if got := after.Value("upgradebot_upgrades", "state", state); got != byState[state] {
			t.Errorf("upgrades{state=%q} = %v, the store lists %v", state, got, byState[state])
		}
	}

	moved := func(name string, want float64, labels ...string) {
		t.Helper()
		if got := after.Value(name, labels...) - before.Value(name, labels...); got != want {
			t.Errorf("%s%v moved by %v, want %v", name, labels, got, want)
		}
	}
	slack := []string{"platform", "slack"}
	moved("upgradebot_commands_total", 2, append(slack, "command", "schedule", "outcome", "ok")...)
	moved("upgradebot_commands_total", 1, append(slack, "command", "rollback", "outcome", "refused")...)
	moved("upgradebot_commands_total", 1, append(slack, "command", "press", "outcome", "ok")...)
	moved("upgradebot_commands_total", 1, append(slack, "command", "cancel", "outcome", "ok")...)
	moved("upgradebot_commands_total", 5, slack...)
	moved("upgradebot_command_duration_seconds", 5, slack...)
	moved("upgradebot_acks_total", 1, "scope", "brief")
	moved("upgradebot_acks_total", 0, "scope", "rollback")
	moved("upgradebot_time_to_ack_seconds", 1, "scope", "brief")
	moved("upgradebot_notices_total", 2, "kind", "root", "outcome", "posted")
	moved("upgradebot_notices_total", 1, "kind", "cancelled", "outcome", "posted")
	moved("upgradebot_notices_total", 0, "outcome", "failed")
	// Every chat.postMessage the fake Slack received is counted, once.
	moved("upgradebot_platform_api_calls_total", float64(s.api.Count("chat.postMessage")-posts), append(slack, "method", "chat.postMessage", "outcome", "ok")...)
	moved("upgradebot_platform_api_calls_total", 3, append(slack, "method", "chat.postMessage")...)
	moved("upgradebot_platform_api_calls_total", 1, append(slack, "method", "response_url", "outcome", "ok")...)
	moved("upgradebot_platform_api_rate_limited_total", 0)

	// The webhook deliverer counts what it delivered: scheduled, acknowledged,
	// scheduled, cancelled.
	s.api.Eventually(t, 15*time.Second, "the events delivered to the webhook", func() bool {
		return received.Load() >= 4 && s.scrape().Value("upgradebot_webhook_deliveries_total", "outcome", "delivered") == float64(received.Load())
	})
	if _, ok := after["upgradebot_webhook_backlog"]; !ok {
		t.Error("/metrics lacks upgradebot_webhook_backlog")
	}

	// Bounded labels: no upgrade, user or channel id, whatever the label.
	ids := regexp.MustCompile(`(?i)^(upg-)?\d+$|U0ALICE|U0BOB|C0PAY|C0CHECKOUT|C0OPS|payments|checkout`)
	allowed := map[string]bool{"platform": true, "command": true, "outcome": true, "kind": true, "scope": true, "method": true, "state": true}
	for name, fam := range after {
		if !strings.HasPrefix(name, "upgradebot_") {
			continue
		}
		for _, m := range fam.GetMetric() {
			for _, l := range m.GetLabel() {
				if !allowed[l.GetName()] {
					t.Errorf("%s has label %q", name, l.GetName())
				}
				if ids.MatchString(l.GetValue()) {
					t.Errorf("%s{%s=%q}: an id or free text as a label value", name, l.GetName(), l.GetValue())
				}
			}
		}
	}
}
