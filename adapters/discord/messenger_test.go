package discord

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
	"github.com/upgradebot/upgradebot/bot"
)

func notice(kind bot.Kind, text string) bot.Message {
	return bot.Message{Kind: kind, UpgradeID: "UPG-7", Lines: []bot.Text{bot.T(text)}}
}

// TestMessengerThreads: a root gets a thread named after it, replies go
// into the thread, a notice also shown in the channel is a reply to the
// root there, and an archived thread is posted into all the same.
func TestMessengerThreads(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	ctx := context.Background()
	root := bot.Message{Kind: bot.KindRoot, UpgradeID: "UPG-7", Title: "UPG-7 payments v2.4.0", Fields: []bot.Field{{Label: "State", Value: bot.T("scheduled")}}}
	ref, err := f.a.Post(ctx, "discord:"+chPayments, root)
	if err != nil {
		t.Fatal(err)
	}
	if ref.Channel != "discord:"+chPayments || ref.Thread != ref.ID || ref.URL != "https://discord.com/channels/"+discordtest.GuildID+"/"+chPayments+"/"+ref.ID {
		t.Fatalf("ref %+v", ref)
	}
	if th, _ := f.api.Channel(ref.Thread); th.Name != "UPG-7 payments v2.4.0" || th.ParentID != chPayments {
		t.Fatalf("thread %+v", th)
	}
	if _, err := f.a.Reply(ctx, ref, notice(bot.KindStarted, "started")); err != nil {
		t.Fatal(err)
	}
	cancelled := notice(bot.KindCancelled, "cancelled")
	cancelled.AlsoInChannel = true
	if _, err := f.a.Reply(ctx, ref, cancelled); err != nil {
		t.Fatal(err)
	}
	if ms := f.api.Messages(ref.Thread); len(ms) != 2 || ms[0].Content != "started" || ms[1].Content != "cancelled" {
		t.Fatalf("thread holds %+v", ms)
	}
	inChannel := f.api.Messages(chPayments)
	if len(inChannel) != 2 || inChannel[1].Content != "cancelled" || inChannel[1].Reference == nil || inChannel[1].Reference.MessageID != ref.ID {
		t.Fatalf("channel holds %+v", inChannel)
	}

	// Discord archived the thread: posting opens it again.
	f.api.Archive(ref.Thread, false)
	if _, err := f.a.Reply(ctx, ref, notice(bot.KindReminder, "reminder")); err != nil {
		t.Fatal(err)
	}
	if th, _ := f.api.Channel(ref.Thread); th.Archived {
		t.Error("the thread is still archived")
	}
	// A Discord that refuses to post in an archived thread: unarchive, post again.
	f.api.Archive(ref.Thread, false)
	f.api.FailNext("create_message", discordtest.Fault{Status: 400, Code: 50083, Message: "Operation cannot be performed on an archived thread."})
	if _, err := f.a.Reply(ctx, ref, notice(bot.KindReminder, "second reminder")); err != nil {
		t.Fatal(err)
	}
	if n := len(f.api.Calls("modify_channel")); n != 1 {
		t.Errorf("%d unarchive calls", n)
	}
	if ms := f.api.Messages(ref.Thread); ms[len(ms)-1].Content != "second reminder" {
		t.Errorf("last in the thread: %q", ms[len(ms)-1].Content)
	}
	// A locked thread is a failure (a moderator locked it).
	f.api.Archive(ref.Thread, true)
	_, err = f.a.Reply(ctx, ref, notice(bot.KindReminder, "third"))
	if err == nil || err.Error() != "discord create message: 160005 Thread is locked" {
		t.Errorf("reply in a locked thread: %v", err)
	}

	// The root's edit replaces embeds and button; a finished one has none.
	done := root
	done.Fields = []bot.Field{{Label: "State", Value: bot.T("completed")}}
	if err := f.a.Edit(ctx, ref, done); err != nil {
		t.Fatal(err)
	}
	m, _ := f.api.Message(ref.ID)
	if m.Edits != 1 || len(m.Buttons()) != 0 || m.Embeds[0].Color != colourCompleted {
		t.Errorf("edited root %+v", m)
	}
}

// TestMessengerPostOfItsOwnStartsNoThread: a message posted on its own (a
// release is out) stands in the channel without a thread: threads are for
// upgrades.
func TestMessengerPostOfItsOwnStartsNoThread(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	ref, err := f.a.Post(context.Background(), "discord:"+chPayments, notice(bot.KindReleaseOut, "v2.5.0 is out"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.api.Calls("start_thread")); n != 0 {
		t.Errorf("%d threads started on a message of its own", n)
	}
	if ms := f.api.Messages(chPayments); len(ms) != 1 || ms[0].Content != "v2.5.0 is out" || ref.Thread != "" {
		t.Errorf("channel holds %+v, ref %+v", ms, ref)
	}
}

// TestMessengerStartsAMissingThread: a root whose thread could not be
// started stands, and says so (bot.PostedError, with the error and its
// advice, for the core to record and tell; QA: only a WARN log); the
// first reply starts the thread, named like the root (QA: "UPG-7").
func TestMessengerStartsAMissingThread(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	ctx := context.Background()
	f.api.FailAlways("start_thread", discordtest.Fault{Status: 403, Code: 50013, Message: "Missing Permissions"})
	ref, err := f.a.Post(ctx, "discord:"+chPayments, bot.Message{Kind: bot.KindRoot, UpgradeID: "UPG-7", Title: "UPG-7 payments v2"})
	var posted bot.PostedError
	if !errors.As(err, &posted) || !posted.Posted() || err.Error() != "discord start thread: 50013 Missing Permissions" ||
		bot.ErrorAdvice(err) == "" {
		t.Fatalf("post: %v (advice %q)", err, bot.ErrorAdvice(err))
	}
	if ref.ID == "" || ref.Thread != "" || ref.URL == "" {
		t.Fatalf("post: %+v", ref)
	}
	if ms := f.api.Messages(chPayments); len(ms) != 1 {
		t.Fatalf("channel holds %+v", ms)
	}
	started := notice(bot.KindStarted, "x")
	started.ThreadTitle = "UPG-7 payments v2"
	if _, err := f.a.Reply(ctx, ref, started); err == nil || !strings.Contains(err.Error(), "discord start thread: 50013 Missing Permissions") {
		t.Fatalf("reply without a thread: %v", err)
	}
	f.api.ClearFaults()
	started.Lines = []bot.Text{bot.T("started")}
	if _, err := f.a.Reply(ctx, ref, started); err != nil {
		t.Fatal(err)
	}
	if ms := f.api.Messages(ref.ID); len(ms) != 1 || ms[0].Content != "started" {
		t.Errorf("thread %+v", ms)
	}
	if th, _ := f.api.Channel(ref.ID); th.Name != "UPG-7 payments v2" {
		t.Errorf("thread named %q", th.Name)
	}
}

// TestMessengerDelivery: rate limits are waited out, 5xx retried with
// backoff, a post whose answer was lost is not repeated, refusals are not
// retried, and the error says what Discord said without URL or token.
func TestMessengerDelivery(t *testing.T) {
	ctx := context.Background()
	post := func(f *fixture) error {
		_, err := f.a.Direct(ctx, "discord:1002", notice(bot.KindEscalation, "hello"))
		return err
	}
	t.Run("429", func(t *testing.T) {
		f := newFixture(t, ModeHTTP)
		f.api.FailNext("create_message", discordtest.Fault{Status: 429, RetryAfter: 0.3})
		if err := post(f); err != nil {
			t.Fatal(err)
		}
		calls := f.api.Calls("create_message")
		if len(calls) != 2 || calls[1].At.Sub(calls[0].At) < 300*time.Millisecond {
			t.Fatalf("calls %+v", calls)
		}
	})
	t.Run("5xx", func(t *testing.T) {
		f := newFixture(t, ModeHTTP)
		f.api.FailNext("create_message", discordtest.Fault{Status: 502}, discordtest.Fault{Status: 503})
		if err := post(f); err != nil {
			t.Fatal(err)
		}
		if n := len(f.api.Calls("create_message")); n != 3 {
			t.Fatalf("%d attempts", n)
		}
	})
	t.Run("5xx for good", func(t *testing.T) {
		f := newFixture(t, ModeHTTP)
		f.api.FailAlways("create_message", discordtest.Fault{Status: 500})
		err := post(f)
		if err == nil || err.Error() != "discord create message: HTTP 500 (after 4 attempts)" {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("answer lost", func(t *testing.T) {
		f := newFixture(t, ModeHTTP)
		f.api.FailNext("create_message", discordtest.Fault{Hangup: true})
		err := post(f)
		var e *Error
		if !errors.As(err, &e) || !e.Unreachable() || !e.Permanent || len(f.api.Calls("create_message")) != 1 {
			t.Fatalf("err %v, %d attempts", err, len(f.api.Calls("create_message")))
		}
		if strings.Contains(err.Error(), "http://") {
			t.Errorf("the error names the URL: %v", err)
		}
	})
	t.Run("no DMs", func(t *testing.T) {
		f := newFixture(t, ModeHTTP)
		f.api.RefuseDMs("1002")
		err := post(f)
		if err == nil || err.Error() != "discord create message: 50007 Cannot send messages to this user" {
			t.Fatalf("err %v", err)
		}
		if n := len(f.api.Calls("create_message")); n != 1 {
			t.Errorf("a refused DM was tried %d times", n)
		}
		// The DM channel is opened once and remembered.
		_ = post(f)
		if n := len(f.api.Calls("create_dm")); n != 1 {
			t.Errorf("%d DM channels opened", n)
		}
	})
	t.Run("unknown channel", func(t *testing.T) {
		f := newFixture(t, ModeHTTP)
		f.api.AddChannels(chPayments)
		_, err := f.a.Post(ctx, "discord:2999", bot.Message{Kind: bot.KindRoot, Title: "x"})
		if err == nil || err.Error() != "discord create message: 10003 Unknown Channel" {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("not a discord id", func(t *testing.T) {
		f := newFixture(t, ModeHTTP)
		if _, err := f.a.Direct(ctx, "discord:&3001", notice(bot.KindEscalation, "x")); err == nil {
			t.Error("a role got a direct message")
		}
	})
}

// TestAnswerFollowsUp: a late word to the invoker is an ephemeral follow-up
// of their interaction; without one, Answer fails so the core sends a DM.
func TestAnswerFollowsUp(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.ready()
	i := f.api.Command(alice, chOps, "help")
	f.send(i)
	to := bot.Invoker{User: "discord:1001", Channel: "discord:" + chOps, Handle: handle(i)}
	if err := f.a.Answer(context.Background(), to, notice(bot.KindError, "⚠ could not be posted")); err != nil {
		t.Fatal(err)
	}
	e, _ := f.api.Exchange(i.Token)
	if len(e.Followups) != 1 || !e.Followups[0].Ephemeral() || e.Followups[0].Content != "⚠ could not be posted" {
		t.Fatalf("follow-ups %+v", e.Followups)
	}
	if err := f.a.Answer(context.Background(), bot.Invoker{User: "discord:1001"}, notice(bot.KindError, "x")); err == nil {
		t.Error("answered without a handle")
	}
}

// TestDeliveryErrorsSayWhatToDo: a failed post's error carries advice for
// its cause (bot.AdvisedError), which the core tells the invoker.
func TestDeliveryErrorsSayWhatToDo(t *testing.T) {
	tests := []struct {
		name  string
		fault discordtest.Fault
		want  string // in the advice; "" for none
	}{
		{"50001 Missing Access", discordtest.Fault{Status: 403, Code: 50001, Message: "Missing Access"}, "cannot see the channel: give it View Channels"},
		{"50013 Missing Permissions", discordtest.Fault{Status: 403, Code: 50013, Message: "Missing Permissions"}, "lacks a permission in the channel"},
		{"10003 Unknown Channel", discordtest.Fault{Status: 404, Code: 10003, Message: "Unknown Channel"}, "check the channel id"},
		{"401", discordtest.Fault{Status: 401, Code: 0, Message: "401: Unauthorized"}, "refused the bot token"},
		{"dropped connection", discordtest.Fault{Hangup: true}, "may have been posted anyway"},
		{"other refusal", discordtest.Fault{Status: 400, Code: 50035, Message: "Invalid Form Body"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, ModeHTTP)
			f.api.FailNext("create_message", tc.fault)
			_, err := f.a.Post(context.Background(), "discord:"+chPayments, notice(bot.KindReleaseOut, "v2.5.0 is out"))
			if err == nil {
				t.Fatal("delivered")
			}
			got := bot.ErrorAdvice(err)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("%v: advice %q, want %q", err, got, tc.want)
			}
		})
	}
}

// TestADeletedThreadIsNotBlamedOnTheChannel: the upgrade's thread was
// deleted in Discord (10003 Unknown Channel on the reply); the advice to
// the invoker says so instead of sending them to check the channel id,
// which is fine.
func TestADeletedThreadIsNotBlamedOnTheChannel(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.api.AddChannels(chPayments)
	root, err := f.a.Post(context.Background(), "discord:"+chPayments, notice(bot.KindReleaseOut, "root"))
	if err != nil {
		t.Fatal(err)
	}
	root.Thread = "123456789012345678" // a thread that no longer exists
	_, err = f.a.Reply(context.Background(), root, notice(bot.KindReleaseOut, "reply"))
	if err == nil {
		t.Fatal("a reply in a deleted thread succeeded")
	}
	if advice := bot.ErrorAdvice(err); !strings.Contains(advice, "thread no longer exists") || strings.Contains(advice, "channel id") {
		t.Errorf("advice %q, want one that says the thread is gone", advice)
	}
}
