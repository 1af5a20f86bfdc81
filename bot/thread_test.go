package bot_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
)

// noThread is a platform's error for a root that was posted although its
// thread could not be started (bot.PostedError), with advice.
type noThread struct{}

func (noThread) Error() string  { return "test start thread: 50013 Missing Permissions" }
func (noThread) Posted() bool   { return true }
func (noThread) Advice() string { return "Let the bot start threads there." }

// threadless posts roots whose thread cannot be started, like Discord
// without Create Public Threads, and keeps the thread titles replies carry.
type threadless struct {
	*bottest.Recorder
	mu     sync.Mutex
	titles []string
	roots  []bot.MessageRef // the roots replies were given
}

func (p *threadless) Post(ctx context.Context, ch string, m bot.Message) (bot.MessageRef, error) {
	ref, err := p.Recorder.Post(ctx, ch, m)
	if err == nil && m.Kind == bot.KindRoot {
		err = noThread{}
	}
	return ref, err
}

func (p *threadless) Reply(ctx context.Context, root bot.MessageRef, m bot.Message) (bot.MessageRef, error) {
	p.mu.Lock()
	p.titles = append(p.titles, m.ThreadTitle)
	p.roots = append(p.roots, root)
	p.mu.Unlock()
	ref, err := p.Recorder.Reply(ctx, root, m)
	if err == nil && root.Thread == "" {
		ref.Thread = "thread-of-" + root.ID // the reply started it, as Discord's does
	}
	return ref, err
}

// TestARootWhoseThreadFailedIsRecordedAndTold: Discord QA saw a thread that
// could not be started at scheduling (403 50013) told to nobody and
// recorded nowhere, only logged. It is now recorded like a failed notice
// (show lists it, the root counts it) and the invoker is told with the
// advice; the root, which stands, is not posted again, and the next
// notice replies under it, naming the thread like the root.
func TestARootWhoseThreadFailedIsRecordedAndTold(t *testing.T) {
	rec := &bottest.Recorder{}
	p := &threadless{Recorder: rec}
	st := bottest.NewMemStore()
	b := bot.New(bot.Options{Config: testConfig(), Store: st, Messenger: bot.Router{"test": p, "other": p},
		Now: bottest.NewClock(t0).Now, RefreshIntervalSet: true})
	t.Cleanup(b.Flush)
	f := &fixture{st: st, rec: rec, b: b}
	f.ok(t, "alice", schedulePayments)
	if posts := rec.Ops("post"); len(posts) != 1 {
		t.Fatalf("posted %d times: %+v", len(posts), posts)
	}
	told := rec.Ops("answer")
	if len(told) != 1 || !strings.Contains(told[0].Text, "The root of UPG-1 was posted to #payments, but its thread could not be started") ||
		!strings.Contains(told[0].Text, "50013 Missing Permissions") || !strings.Contains(told[0].Text, "Let the bot start threads there.") {
		t.Fatalf("told %+v", told)
	}
	u := f.upgrade(t, 1)
	if len(u.Failures) != 1 || u.Failures[0].Notice != string(bot.KindThread) || u.Failures[0].Target != "test:#payments" || len(u.Threads) != 1 {
		t.Fatalf("failures %+v, threads %+v", u.Failures, u.Threads)
	}
	edits := rec.Ops("edit")
	if len(edits) == 0 || !strings.Contains(edits[len(edits)-1].Text, "1 notice(s) could not be delivered") {
		t.Errorf("the root does not count the failure: %+v", edits)
	}
	if show := lines(f.ok(t, "alice", "show 1")); !strings.Contains(show, "Failed delivery of thread to #payments") {
		t.Errorf("show:\n%s", show)
	}

	rec.Reset()
	f.ok(t, "alice", "extend 1 30m")
	if posts := rec.Ops("post"); len(posts) != 0 {
		t.Errorf("the root was posted again: %+v", posts)
	}
	if replies := rec.Ops("reply"); len(replies) != 1 || !strings.Contains(replies[0].Text, "was extended by 30m") {
		t.Errorf("replies %+v", rec.All())
	}
	p.mu.Lock()
	if len(p.titles) != 1 || p.titles[0] != "UPG-1 payments v2.4.0" {
		t.Errorf("the reply names the thread %q", p.titles)
	}
	p.mu.Unlock()
	// The thread the reply started is remembered (later notices reply in
	// it) and its failure is made good: the root no longer counts it.
	b.Flush()
	u = f.upgrade(t, 1)
	if len(u.Threads) != 1 || u.Threads[0].Thread != "thread-of-"+u.Threads[0].ID {
		t.Errorf("threads %+v", u.Threads)
	}
	edits = rec.Ops("edit")
	if len(edits) == 0 || strings.Contains(edits[len(edits)-1].Text, "could not be delivered") {
		t.Errorf("the root still counts the thread started since: %+v", edits)
	}
	if show := lines(f.ok(t, "alice", "show 1")); !strings.Contains(show, "Failed delivery of thread to #payments") || !strings.Contains(show, "(started after all at") {
		t.Errorf("show:\n%s", show)
	}
	// The next notice replies in the thread remembered.
	f.ok(t, "alice", "extend 1 10m")
	b.Flush()
	p.mu.Lock()
	defer p.mu.Unlock()
	if last := p.roots[len(p.roots)-1]; last.Thread != "thread-of-"+last.ID {
		t.Errorf("the next notice was given %+v", last)
	}
}

// slackLike posts roots without a thread id and replies with the root's
// id as the thread, as Slack does (a root is its own thread).
type slackLike struct{ *bottest.Recorder }

func (p slackLike) Reply(ctx context.Context, root bot.MessageRef, m bot.Message) (bot.MessageRef, error) {
	ref, err := p.Recorder.Reply(ctx, root, m)
	ref.Thread = root.ID
	return ref, err
}

// TestAThreadIsRememberedOnlyWhereItHadFailed: a platform whose replies
// name the root's thread (Slack) changes nothing on the upgrade when a
// notice replies: only a thread that could not be started is remembered
// once a reply started it.
func TestAThreadIsRememberedOnlyWhereItHadFailed(t *testing.T) {
	rec := &bottest.Recorder{}
	st := bottest.NewMemStore()
	b := bot.New(bot.Options{Config: testConfig(), Store: st, Messenger: bot.Router{"test": slackLike{rec}, "other": slackLike{rec}},
		Now: bottest.NewClock(t0).Now, RefreshIntervalSet: true})
	t.Cleanup(b.Flush)
	f := &fixture{st: st, rec: rec, b: b}
	f.ok(t, "alice", schedulePayments)
	b.Flush()
	rec.Reset()
	f.ok(t, "alice", "plan 1 https://runbooks.example/payments")
	b.Flush()
	after := f.upgrade(t, 1)
	if after.Threads[0].Thread != "" {
		t.Errorf("a reply rewrote the thread: %+v", after.Threads)
	}
	if edits := len(rec.Ops("edit")); edits > 1 {
		t.Errorf("%d root edits for one notice", edits)
	}
}
