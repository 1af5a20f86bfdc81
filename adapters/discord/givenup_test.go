package discord

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
	"github.com/upgradebot/upgradebot/bot"
)

// TestAPostItsCallerGaveUpSaysDiscordHadNotAnswered: the caller gives a
// post up, for a reason of its own (a reminder's window opened), while
// Discord has not answered. The error says so, not the cause again as
// Discord's failure, and the post is not to be tried again.
func TestAPostItsCallerGaveUpSaysDiscordHadNotAnswered(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.api.FailNext("create_message", discordtest.Fault{Delay: time.Minute})
	ctx, cancel := context.WithTimeoutCause(context.Background(), 300*time.Millisecond, errors.New("not posted before the window opened"))
	defer cancel()
	_, err := f.a.Post(ctx, "discord:"+chPayments, notice(bot.KindReminder, "hello"))
	if err == nil || err.Error() != "no answer from Discord yet (create message)" {
		t.Fatalf("err = %v, want: no answer from Discord yet (create message)", err)
	}
	if e, ok := errors.AsType[bot.TryLaterError](err); !ok || e.TryLater() {
		t.Errorf("a post that may have been taken is to be tried again: %v", err)
	}
}

// TestARateLimitLongerThanTheCallerMayWaitTellsTheWait: Discord answers
// 429 with a retry_after longer than the caller has left: the post fails
// at once, and its error tells the core the wait Discord asked for.
func TestARateLimitLongerThanTheCallerMayWaitTellsTheWait(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.api.FailNext("create_message", discordtest.Fault{Status: http.StatusTooManyRequests, RetryAfter: 4})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := f.a.Post(ctx, "discord:"+chPayments, notice(bot.KindReminder, "hello"))
	w, ok := errors.AsType[bot.WaitError](err)
	if !ok || w.Wait() != 4*time.Second || err.Error() != "discord create message: rate limited" {
		t.Fatalf("err = %v, want discord create message: rate limited, asking to wait 4s", err)
	}
}
