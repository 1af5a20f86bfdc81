package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
)

// A series whose first date was skipped posted "the occurrence is
// skipped" to the service's channels from within the command (review):
// the answer waited for the platform, and since commands have a deadline
// of their own (Options.CommandTimeout) a slow platform cut the notice for
// good and turned the answer into "could not reach its store", although
// the series was saved. The notice is posted in the background now, like
// every notice, and the command's deadline does not touch it.
func TestASeriesSkipNoticeDoesNotHoldTheCommand(t *testing.T) {
	h := blockingMessenger{Recorder: &bottest.Recorder{}, release: make(chan struct{})}
	b := bot.New(bot.Options{Config: windowsConfig(t), Store: bottest.NewMemStore(), Messenger: bot.Router{"test": h},
		Now: bottest.NewClock(t0).Now, RefreshIntervalSet: true, CommandTimeout: 50 * time.Millisecond})
	released := false
	t.Cleanup(func() {
		if !released {
			close(h.release)
		}
		b.Flush()
	})
	// The series' first Tuesday is frozen (release-week, windowsConfig).
	done := make(chan bot.Message, 1)
	go func() {
		done <- b.Handle(context.Background(), who("alice"), "schedule payments v2.5.0 every tue 02:00 Europe/Berlin for 1h until 2026-12-31")
	}()
	var r bot.Message
	select {
	case r = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the command waited for the platform")
	}
	if got := lines(r); !strings.Contains(got, "Scheduled series SER-1") {
		t.Fatalf("answer: %s", got)
	}
	// Only now the platform takes the posts, long after the command's
	// deadline.
	close(h.release)
	released = true
	b.Flush()
	var skipped bool
	for _, s := range h.Recorder.Ops("post") {
		if s.To == "test:#payments" && strings.Contains(s.Text, "is skipped") && strings.Contains(s.Text, "release-week") {
			skipped = true
		}
	}
	if !skipped {
		t.Errorf("no skip notice in #payments; posts: %+v", h.Recorder.Ops("post"))
	}
}

// A skip notice is recorded like every notice: when its replica dies
// before posting it, another one posts it, once in each channel, skipping
// the channels already reached.
func TestASkipNoticeLeftBehindIsPostedByAnotherReplica(t *testing.T) {
	ctx := context.Background()
	st, clock := bottest.NewMemStore(), bottest.NewClock(t0)
	rec := &bottest.Recorder{}
	b := replica(st, clock, rec)
	m := bot.Message{Kind: bot.KindFreeze, Lines: []bot.Text{bot.T("🔁 The occurrence of series SER-1 is skipped.")}}
	n := bot.PendingNotice{Key: "0/x", At: t0, Kind: bot.PendingChannels, Message: &m, Channels: []string{"test:#payments", "test:#ledger"}}
	_ = st.RecordNotice(ctx, n)
	_ = st.MarkNotice(ctx, n, "test:#payments") // reached before the replica died
	clock.Advance(bot.RecoverAfter + time.Second)
	if got, err := b.RecoverNotices(ctx); err != nil || got != 1 {
		t.Fatalf("recovered %d, err %v", got, err)
	}
	b.Flush()
	posts := rec.Ops("post")
	if len(posts) != 1 || posts[0].To != "test:#ledger" || !strings.Contains(posts[0].Text, "SER-1 is skipped") {
		t.Fatalf("posts %+v, want the notice in #ledger only", posts)
	}
	if st.PendingNotices() != 0 {
		t.Fatal("record left behind")
	}
}
