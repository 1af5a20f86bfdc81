package slack

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
	"github.com/upgradebot/upgradebot/bot"
)

// apiCalls is an Observer that writes down every call, as
// "call chat.postMessage ok", "retry chat.postMessage", "429 chat.postMessage".
type apiCalls struct {
	mu  sync.Mutex
	got []string
}

func (o *apiCalls) add(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.got = append(o.got, fmt.Sprintf(format, args...))
}

func (o *apiCalls) APICall(platform, method, outcome string) {
	methodCheck{}.APICall(platform, method, outcome)
	o.add("call %s %s %s", platform, method, outcome)
}
func (o *apiCalls) APIRetry(platform, method string)       { o.add("retry %s %s", platform, method) }
func (o *apiCalls) APIRateLimited(platform, method string) { o.add("429 %s %s", platform, method) }

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
func (methodCheck) APIRetry(_, method string)       { methodCheck{}.APICall("", method, OutcomeOK) }
func (methodCheck) APIRateLimited(_, method string) { methodCheck{}.APICall("", method, OutcomeOK) }

func TestMain(m *testing.M) {
	code := m.Run()
	unknownLabels.Range(func(k, _ any) bool {
		fmt.Fprintf(os.Stderr, "the adapter reported the %s, which slack.Methods or slack.Outcomes lacks (add it there and to docs/metrics.md)\n", k)
		code = 1
		return true
	})
	os.Exit(code)
}

func (o *apiCalls) take() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	got := o.got
	o.got = nil
	return got
}

func TestEveryAPICallIsObservedWithItsRetriesAnd429s(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	obs := &apiCalls{}
	f.a.obs = obs
	ctx := context.Background()
	msg := bot.Message{Kind: bot.KindReminder, Lines: []bot.Text{bot.T("hello")}}

	f.api.FailNext("chat.postMessage", slacktestapi.Fault{Error: "ratelimited"}, slacktestapi.Fault{Status: http.StatusServiceUnavailable})
	if _, err := f.a.Reply(ctx, bot.MessageRef{Channel: "slack:C1", ID: "1.1"}, msg); err != nil {
		t.Fatal(err)
	}
	if got, want := obs.take(), []string{
		"429 slack chat.postMessage", "call slack chat.postMessage rate_limited", "retry slack chat.postMessage",
		"call slack chat.postMessage error", "retry slack chat.postMessage",
		"call slack chat.postMessage ok",
	}; !slices.Equal(got, want) {
		t.Errorf("a post retried twice: observed\n  %q\nwant\n  %q", got, want)
	}

	// A refusal is one call, not retried; the calls outside the retry loop
	// (users.info, usergroups.users.list, auth.test) are counted too.
	f.api.FailNext("chat.update", slacktestapi.Fault{Error: "message_not_found"})
	if err := f.a.Edit(ctx, bot.MessageRef{Channel: "slack:C1", ID: "1.2"}, msg); err == nil {
		t.Fatal("edit of a missing message succeeded")
	}
	f.api.AddUser("U1", "ulla", "Europe/Berlin")
	f.api.SetGroup("S1", "U1")
	f.a.location(ctx, "U1")
	f.a.groupMembers(ctx, "S1")
	f.a.workspaceURL(ctx)
	if got, want := obs.take(), []string{
		"call slack chat.update error", "call slack users.info ok", "call slack usergroups.users.list ok", "call slack auth.test ok",
	}; !slices.Equal(got, want) {
		t.Errorf("observed\n  %q\nwant\n  %q", got, want)
	}
}
