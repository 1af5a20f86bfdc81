package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	slackadapter "github.com/upgradebot/upgradebot/adapters/slack"
	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
	"github.com/upgradebot/upgradebot/bot"
)

// TestSlackRateLimitedPost: Slack answers the first post with 429 and
// Retry-After: 1. The command is answered at once; the root message arrives
// after the wait, and nothing is recorded as failed.
func TestSlackRateLimitedPost(t *testing.T) {
	e := newSlackEnv(t, slackadapter.ModeHTTP)
	e.api.FailNext("chat.postMessage", slacktestapi.Fault{Status: 429, RetryAfter: "1"})

	ans := e.slash("alice", "C0OPS", "schedule payments v2.4.0 at 2026-12-01 03:00")
	// The answer is there before the post was tried again after the wait.
	if n := len(e.api.Calls("chat.postMessage")); n > 1 {
		t.Errorf("the command's answer waited for the rate limit: %d posts before it", n)
	}
	slackContains(t, "answer", slackAnswerText(ans), "Scheduled")
	e.settle()

	posts := e.api.Calls("chat.postMessage")
	if len(posts) != 2 || posts[0].Status != 429 || posts[1].Status != 200 {
		t.Fatalf("posts: %+v", posts)
	}
	if gap := posts[1].At.Sub(posts[0].At); gap < time.Second {
		t.Errorf("retried %s after the 429; Slack asked for 1s", gap)
	}
	if e.root("C0PAYMENTS").TS == "" {
		t.Error("no root message")
	}
	if show := slackAnswerText(e.slash("alice", "C0OPS", "show UPG-1")); strings.Contains(show, "Failed delivery") {
		t.Errorf("a delivered notice is listed as failed:\n%s", show)
	}
}

// TestSlackPermanentFailuresAreRecorded: a channel that does not exist and
// an archived one fail for good; the bot does not retry them, and `show`
// lists both failures while the other channel's thread carries on.
func TestSlackPermanentFailuresAreRecorded(t *testing.T) {
	e := newSlackEnv(t, slackadapter.ModeHTTP, func(c *bot.Config) {
		for i := range c.Services {
			if c.Services[i].Name == "payments" {
				c.Services[i].Channels = []string{"slack:C0PAYMENTS", "slack:C0GONE"}
			}
		}
	})
	e.api.KnownChannels("C0PAYMENTS", "C0LEDGER", "C0CHECKOUT", "C0OPS")

	e.slash("alice", "C0OPS", "schedule payments v2.4.0 at 2026-12-01 03:00")
	e.settle()
	var gone int
	for _, c := range e.api.Calls("chat.postMessage") {
		if c.Param("channel") == "C0GONE" {
			gone++
			if c.Error != "channel_not_found" {
				t.Errorf("post to C0GONE answered %q", c.Error)
			}
		}
	}
	if gone != 1 {
		t.Errorf("channel_not_found was tried %d times; it is permanent", gone)
	}
	// Alice hears of it privately, by the way she came: the response_url
	// of her command (the first of this test).
	var told bool
	for _, c := range e.api.Responses("cmd-1") {
		if c.Param("response_type") == "ephemeral" && strings.Contains(c.Param("text"), "could not be posted to #C0GONE: slack chat.postMessage: channel_not_found") {
			told = true
		}
	}
	if !told {
		t.Errorf("alice was not told privately, on her command's response_url, that #C0GONE failed: %+v", e.api.Responses("cmd-1"))
	}
	slackContains(t, "root", e.root("C0PAYMENTS").BlockText(), "1 notice(s) could not be delivered")

	e.slash("alice", "C0OPS", "start UPG-1")
	e.settle()
	// Each notice first posts the root again where it is missing (C0GONE
	// still does not exist), then replies in the threads: the reply in
	// C0PAYMENTS is refused as archived.
	e.api.FailNext("chat.postMessage", slacktestapi.Fault{Error: "channel_not_found"}, slacktestapi.Fault{Error: "is_archived"})
	e.slash("alice", "C0OPS", "rollback UPG-1 latency")
	e.settle()

	show := slackAnswerText(e.slash("carol", "C0OPS", "show UPG-1"))
	slackContains(t, "show", show,
		"Failed delivery of root to <#C0GONE>", "slack chat.postMessage: channel_not_found",
		"Failed delivery of rollback to <#C0PAYMENTS>", "slack chat.postMessage: is_archived",
		"Thread in <#C0PAYMENTS>")
	if strings.Contains(show, "xoxb-") {
		t.Error("show reveals the bot token")
	}
}

// TestSlackFailedNoticeAdviceFollowsTheError: QA made chat.postMessage fail
// with one error after another and extended the upgrade each time; the
// invoker was told "Check that the channel exists and the bot is a member
// of it" every time, a refused token included. Each error now comes with
// the advice docs/slack.md gives for it (every code:
// adapters/slack TestDeliveryErrorsSayWhatToDo).
func TestSlackFailedNoticeAdviceFollowsTheError(t *testing.T) {
	e := newSlackEnv(t, slackadapter.ModeHTTP)
	e.slash("alice", "C0OPS", "schedule payments v2.4.0 at 2026-12-01 03:00")
	e.settle()
	e.slash("alice", "C0OPS", "start UPG-1")
	e.settle()
	cmd := int(e.seq.Load())
	for _, tc := range []struct {
		fault slacktestapi.Fault
		error string
		want  string
	}{
		{slacktestapi.Fault{Error: "is_archived"}, "slack chat.postMessage: is_archived", "The channel is archived: unarchive it, or change the service's channels. The failure is recorded: /upgrade show UPG-1."},
		{slacktestapi.Fault{Error: "invalid_auth"}, "slack chat.postMessage: invalid_auth", "Slack refused the bot token: reinstall the app and update the token (slack.bot_token). The failure"},
		{slacktestapi.Fault{Hangup: true}, "cannot reach Slack (chat.postMessage)", "the notice may have been posted anyway; if it keeps happening, check the network or proxy, not the token."},
	} {
		e.api.FailNext("chat.postMessage", tc.fault)
		e.slash("alice", "C0OPS", "extend UPG-1 5m")
		e.settle()
		cmd++
		var told string
		for _, c := range e.api.Responses(fmt.Sprintf("cmd-%d", cmd)) {
			if strings.Contains(c.Param("text"), "could not be posted") {
				told = c.Param("text")
			}
		}
		slackContains(t, tc.error, told, "The extended notice of UPG-1 could not be posted to #C0PAYMENTS: "+tc.error, tc.want)
		if strings.Contains(told, "member of it") {
			t.Errorf("%s: the channel advice for every error:\n%s", tc.error, told)
		}
	}
}
