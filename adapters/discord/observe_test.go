package discord

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
	"github.com/upgradebot/upgradebot/bot"
)

// countingObserver writes down every call as "call create_message ok".
type countingObserver struct {
	mu    sync.Mutex
	calls []string
}

func (o *countingObserver) add(s string) { o.mu.Lock(); o.calls = append(o.calls, s); o.mu.Unlock() }
func (o *countingObserver) APICall(p, m, out string) {
	methodCheck{}.APICall(p, m, out)
	o.add(fmt.Sprintf("call %s %s %s", p, m, out))
}

// unknownLabels collects the labels the adapter reported in any test that
// Methods and Outcomes (the series /metrics starts at zero) lack; TestMain
// fails the run on any.
var unknownLabels sync.Map

// methodCheck is the Observer of the test fixtures: it checks each label.
type methodCheck struct{}

func (methodCheck) APICall(_, method, outcome string) {
	if !slices.Contains(Methods, method) {
		unknownLabels.Store("method "+method, true)
	}
	if !slices.Contains(Outcomes, outcome) {
		unknownLabels.Store("outcome "+outcome, true)
	}
}
func (methodCheck) APIRetry(_, method string)       { methodCheck{}.APICall("", method, "ok") }
func (methodCheck) APIRateLimited(_, method string) { methodCheck{}.APICall("", method, "ok") }

func TestMain(m *testing.M) {
	code := m.Run()
	unknownLabels.Range(func(k, _ any) bool {
		fmt.Fprintf(os.Stderr, "the adapter reported the %s, which discord.Methods or discord.Outcomes lacks (add it there and to docs/metrics.md)\n", k)
		code = 1
		return true
	})
	os.Exit(code)
}
func (o *countingObserver) APIRetry(p, m string)       { o.add(fmt.Sprintf("retry %s %s", p, m)) }
func (o *countingObserver) APIRateLimited(p, m string) { o.add(fmt.Sprintf("429 %s %s", p, m)) }

// Every attempt of a REST call is counted with its outcome; retries and
// 429s too.
func TestEveryRESTCallIsObserved(t *testing.T) {
	obs := &countingObserver{}
	f := newFixture(t, ModeHTTP, func(o *Options) { o.Observer = obs })
	f.api.FailNext("create_message", discordtest.Fault{Status: 429, RetryAfter: 0.05}, discordtest.Fault{Status: 502})
	if _, err := f.a.Direct(context.Background(), "discord:1002", notice(bot.KindEscalation, "hello")); err != nil {
		t.Fatal(err)
	}
	obs.mu.Lock()
	got := slices.Clone(obs.calls)
	obs.mu.Unlock()
	want := []string{
		"429 discord create_message", "call discord create_message rate_limited", "retry discord create_message",
		"call discord create_message error", "retry discord create_message",
		"call discord create_message ok",
	}
	var msgs []string
	for _, c := range got {
		if slices.Contains(want, c) {
			msgs = append(msgs, c)
		}
	}
	if !slices.Equal(msgs, want) {
		t.Errorf("observed %v; want %v in order", got, want)
	}
}
