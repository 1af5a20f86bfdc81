package slack

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
	"github.com/upgradebot/upgradebot/bot"
)

// TestAPostItsCallerGaveUpSaysSlackHadNotAnswered: the caller gives a post
// up, for a reason of its own (a reminder's window opened), while Slack has
// not answered. The error says so, not "slack chat.postMessage: error",
// and the post is not to be tried again (Slack may have taken it).
func TestAPostItsCallerGaveUpSaysSlackHadNotAnswered(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	arrived, _ := f.api.Hold(t, "chat.postMessage")
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() { <-arrived; cancel(errors.New("not posted before the window opened")) }()
	_, err := f.a.Post(ctx, "slack:C0PAYMENTS", notice("hello"))
	if err == nil || err.Error() != "no answer from Slack yet (chat.postMessage)" {
		t.Fatalf("err = %v, want: no answer from Slack yet (chat.postMessage)", err)
	}
	if e, ok := errors.AsType[bot.TryLaterError](err); !ok || e.TryLater() {
		t.Errorf("a post that may have been taken is to be tried again: %v", err)
	}
}

// TestARateLimitLongerThanTheCallerMayWaitTellsTheWait: Slack answers 429
// with a Retry-After longer than the caller has left: the post fails at
// once, and its error tells the core the wait Slack asked for.
func TestARateLimitLongerThanTheCallerMayWaitTellsTheWait(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.api.FailNext("chat.postMessage", slacktestapi.Fault{Status: http.StatusTooManyRequests, RetryAfter: "4"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := f.a.Post(ctx, "slack:C0PAYMENTS", notice("hello"))
	w, ok := errors.AsType[bot.WaitError](err)
	if !ok || w.Wait() != 4*time.Second || err.Error() != "slack chat.postMessage: rate_limited" {
		t.Fatalf("err = %v, want slack chat.postMessage: rate_limited, asking to wait 4s", err)
	}
}
