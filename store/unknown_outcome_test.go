package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
)

// A change whose write reached Redis but whose answer never came back (a
// deadline ran out, the connection was cut under the reply) is settled by
// sending the same write again: the store applies it once at most (its
// compare-and-set, and its event id for a write run again). The user is
// told of the change that was stored, and its notices go out; never
// "failed" for a stored change, nor "nothing was saved" for one that may
// still land.

// unknownAfter is a Store whose next Update (when armed) returns an error
// of unknown outcome, as this store does when the answer is lost: after
// the write when land is set, instead of it when not (then, with late,
// the write is kept to land later: still in flight). rival, when set, is
// what lands instead of it: another replica's change. again makes the
// Update after it (the one that settles it) fail the same way. unread
// makes every Get fail once the write is done, so that the outcome cannot
// be settled by a read.
type unknownAfter struct {
	*Store
	armed  atomic.Bool
	land   bool
	late   bool
	rival  func(u *bot.Upgrade)
	again  bool
	unread bool         // reads fail once the write is done (blind)
	blind  atomic.Bool  // reads fail
	resend atomic.Bool  // the next Update is the settling one, and fails
	inair  func() error // the write still in flight, when late
}

func (s *unknownAfter) Update(ctx context.Context, u *bot.Upgrade, d bot.Decision) error {
	if s.resend.CompareAndSwap(true, false) {
		return fmt.Errorf("store: update upgrade %d: %w: %w", u.ID, bot.ErrOutcomeUnknown, io.ErrUnexpectedEOF)
	}
	if !s.armed.CompareAndSwap(true, false) {
		return s.Store.Update(ctx, u, d)
	}
	switch {
	case s.land:
		if err := s.Store.Update(ctx, u, d); err != nil {
			return err
		}
	case s.late:
		mine := *u
		s.inair = func() error { return s.Store.Update(context.Background(), &mine, d) }
	case s.rival != nil:
		other, err := s.Store.Get(ctx, u.ID)
		if err != nil {
			return err
		}
		other.Rev++
		s.rival(other)
		if err := s.Store.Update(ctx, other, bot.Decision{}); err != nil {
			return err
		}
	}
	s.blind.Store(s.unread)
	s.resend.Store(s.again)
	return fmt.Errorf("store: update upgrade %d: %w: %w", u.ID, bot.ErrOutcomeUnknown, context.DeadlineExceeded)
}

func (s *unknownAfter) Get(ctx context.Context, id int) (*bot.Upgrade, error) {
	if s.blind.Load() {
		return nil, fmt.Errorf("store: get upgrade %d: %w", id, io.ErrUnexpectedEOF)
	}
	return s.Store.Get(ctx, id)
}

// outcomeWorld is a bot on st with one service whose channel is slack:C1,
// UPG-1 scheduled in it, and its root posted.
func outcomeWorld(t *testing.T, st bot.Store, timeout time.Duration) (*bot.Bot, *bottest.Recorder, bot.Invocation) {
	t.Helper()
	rec := &bottest.Recorder{}
	cfg := bot.Config{
		People:   []bot.Person{{Name: "alice", IDs: []string{"slack:U0ALICE"}}},
		Services: []bot.Service{{Name: "payments", Owners: []string{"alice"}, Channels: []string{"slack:C1"}}},
	}
	now := time.Now().UTC().Truncate(time.Minute)
	core := bot.New(bot.Options{Config: cfg, Store: st, Messenger: bot.Router{"slack": rec},
		Now: func() time.Time { return now }, Recover: -1, CommandTimeout: timeout})
	inv := bot.Invocation{Actor: bot.Actor{ID: "slack:U0ALICE"}, Channel: "slack:C1"}
	m := core.Handle(context.Background(), inv, "schedule payments 2.0 in 2h for 1h")
	if m.Kind == bot.KindError || !strings.Contains(m.Plain(time.UTC), "UPG-1") {
		t.Fatalf("schedule: %+v", m.Plain(time.UTC))
	}
	core.Flush()
	rec.Reset()
	return core, rec, inv
}

// notices are the thread replies and root edits rec saw, as text.
func notices(rec *bottest.Recorder) (replies, edits []string) {
	for _, s := range rec.All() {
		switch s.Op {
		case "reply":
			replies = append(replies, s.Text)
		case "edit":
			edits = append(edits, s.Text)
		}
	}
	return replies, edits
}

func TestAChangeStoredWithoutAnAnswerIsAnsweredAndAnnounced(t *testing.T) {
	for _, c := range []struct{ cmd, reply, notice string }{
		{"reschedule 1 in 5h", "Rescheduled", "rescheduled"},
		{"extend 1 30m", "Extended", "extended"},
	} {
		t.Run(c.cmd, func(t *testing.T) {
			st := &unknownAfter{Store: newTestStore(t), land: true}
			core, rec, inv := outcomeWorld(t, st, 0)
			before, err := st.Get(context.Background(), 1)
			if err != nil {
				t.Fatal(err)
			}
			st.armed.Store(true)
			m := core.Handle(context.Background(), inv, c.cmd)
			core.Flush()
			text := m.Plain(time.UTC)
			if m.Kind == bot.KindError || !strings.Contains(text, c.reply) {
				t.Fatalf("%s answered %q; want the change confirmed: it was stored", c.cmd, text)
			}
			after, err := st.Get(context.Background(), 1)
			if err != nil || after.Rev != before.Rev+1 {
				t.Fatalf("stored rev %d → %v, %v; want one change", before.Rev, after, err)
			}
			replies, edits := notices(rec)
			if len(replies) != 1 || !strings.Contains(strings.ToLower(replies[0]), c.notice) {
				t.Fatalf("thread replies %q; want one %s notice", replies, c.notice)
			}
			want := after.End.Format("15:04")
			if len(edits) == 0 || !strings.Contains(edits[len(edits)-1], want) {
				t.Fatalf("root edits %q; want the root to show the new end %s", edits, want)
			}
		})
	}
}

// A write not applied when its answer was lost is sent again, and saved.
func TestAChangeNotStoredWithoutAnAnswerIsSentAgain(t *testing.T) {
	st := &unknownAfter{Store: newTestStore(t)}
	core, rec, inv := outcomeWorld(t, st, 0)
	before, err := st.Get(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	st.armed.Store(true)
	m := core.Handle(context.Background(), inv, "extend 1 30m")
	core.Flush()
	if text := m.Plain(time.UTC); m.Kind == bot.KindError || !strings.Contains(text, "Extended") {
		t.Fatalf("answered %q; want the change confirmed: it was sent again and stored", text)
	}
	after, err := st.Get(context.Background(), 1)
	if err != nil || after.Rev != before.Rev+1 || !after.End.Equal(before.End.Add(30*time.Minute)) {
		t.Fatalf("stored %+v, %v; want one extend by 30m", after, err)
	}
	if replies, _ := notices(rec); len(replies) != 1 {
		t.Fatalf("thread replies %q; want one notice", replies)
	}
}

// The write whose answer was lost may still be in flight when the change
// is settled, and land after it: it is applied once, and the user is told
// it was saved (not "nothing was saved", after which a retry would extend
// twice).
func TestAChangeStillInFlightIsAppliedOnce(t *testing.T) {
	st := &unknownAfter{Store: newTestStore(t), late: true}
	core, _, inv := outcomeWorld(t, st, 0)
	ctx := context.Background()
	before, err := st.Get(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	st.armed.Store(true)
	m := core.Handle(ctx, inv, "extend 1 30m")
	core.Flush()
	if st.inair == nil {
		t.Fatal("the write was not held in flight")
	}
	if err := st.inair(); err != nil { // the first write lands now
		t.Fatalf("the write in flight, landing after the settle: %v", err)
	}
	if text := m.Plain(time.UTC); m.Kind == bot.KindError || !strings.Contains(text, "Extended") {
		t.Fatalf("answered %q; want the change confirmed", text)
	}
	after, err := st.Get(ctx, 1)
	if err != nil || after.Rev != before.Rev+1 || !after.End.Equal(before.End.Add(30*time.Minute)) {
		t.Fatalf("stored %+v, %v; want one extend by 30m (from %v)", after, err, before.End)
	}
}

// Another replica's change won over the one whose answer was lost: that
// one was not saved, and the user is told so.
func TestAChangeThatLostWithoutAnAnswerSaysNothingChanged(t *testing.T) {
	st := &unknownAfter{Store: newTestStore(t), rival: func(u *bot.Upgrade) { u.Impact = "rival" }}
	core, rec, inv := outcomeWorld(t, st, 0)
	before, err := st.Get(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	st.armed.Store(true)
	m := core.Handle(context.Background(), inv, "reschedule 1 in 5h")
	core.Flush()
	text := m.Plain(time.UTC)
	if m.Kind != bot.KindError || !strings.Contains(text, "nothing was saved") {
		t.Fatalf("answered %q; want that nothing was saved", text)
	}
	if u, err := st.Get(context.Background(), 1); err != nil || u.Impact != "rival" || !u.Start.Equal(before.Start) {
		t.Fatalf("stored %+v, %v; want only the rival's change", u, err)
	}
	if replies, _ := notices(rec); len(replies) != 0 {
		t.Fatalf("thread replies %q; want none", replies)
	}
}

func TestAChangeWhoseOutcomeStaysUnknownSaysToCheck(t *testing.T) {
	st := &unknownAfter{Store: newTestStore(t), land: true, again: true, unread: true}
	core, _, inv := outcomeWorld(t, st, 0)
	st.armed.Store(true)
	m := core.Handle(context.Background(), inv, "reschedule 1 in 5h")
	st.blind.Store(false)
	core.Flush()
	text := m.Plain(time.UTC)
	if m.Kind != bot.KindError || !strings.Contains(text, "may have been saved") || !strings.Contains(text, "show UPG-1") ||
		strings.Contains(text, "could not reach") {
		t.Fatalf("answered %q; want that it may have been saved, and to check with show", text)
	}
}

// holdingProxy forwards connections to Redis; once armed, it holds back
// the answer to the next script (EVALSHA) it forwards, for good: the
// script runs in Redis, its answer never reaches the client.
type holdingProxy struct {
	addr  string
	armed atomic.Bool
	held  chan struct{} // closed when an answer is held back
	once  sync.Once
	stop  chan struct{}
}

func startHoldingProxy(t *testing.T, target string) *holdingProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &holdingProxy{addr: l.Addr().String(), held: make(chan struct{}), stop: make(chan struct{})}
	var conns sync.WaitGroup
	t.Cleanup(func() {
		close(p.stop)
		l.Close()
		conns.Wait()
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			conns.Add(1)
			go func() {
				defer conns.Done()
				p.serve(c, u)
			}()
		}
	}()
	return p
}

func (p *holdingProxy) serve(c, u net.Conn) {
	closeBoth := sync.OnceFunc(func() { c.Close(); u.Close() })
	defer closeBoth()
	go func() {
		<-p.stop
		closeBoth()
	}()
	var hold atomic.Bool
	go func() {
		defer closeBoth()
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				if bytes.Contains(bytes.ToLower(buf[:n]), []byte("evalsha")) && p.armed.CompareAndSwap(true, false) {
					hold.Store(true)
				}
				if _, werr := u.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := u.Read(buf)
		if n > 0 && hold.Load() {
			p.once.Do(func() { close(p.held) }) // never forwarded, nor anything after
		} else if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// TestARescheduleWhoseAnswerIsLostIsConfirmed is the bug QA found: the
// store's answer to the write never comes back within the command's time
// (here: held back for good by a proxy). The reschedule was stored, so
// the user is told it was, and the channels hear of it.
func TestARescheduleWhoseAnswerIsLostIsConfirmed(t *testing.T) {
	if backend.name != "redis-server" {
		t.Skip("needs a Redis server (UPGRADEBOT_TEST_REDIS): the proxy speaks to one address")
	}
	direct := newTestStore(t)
	target := direct.client.(*redis.Client).Options().Addr
	p := startHoldingProxy(t, target)
	opts := direct.client.(*redis.Client).Options()
	viaProxy := *opts
	viaProxy.Addr = p.addr
	viaProxy.MaxRetries = -1
	s := New(redis.NewClient(&viaProxy), direct.opts)
	t.Cleanup(func() { s.Close() })
	if err := updateScript.Load(context.Background(), s.client).Err(); err != nil {
		t.Fatal(err)
	}
	// The command's time is what runs out while the answer is held.
	core, rec, inv := outcomeWorld(t, s, 2*time.Second)
	before, err := direct.Get(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	p.armed.Store(true)
	m := core.Handle(context.Background(), inv, "reschedule 1 in 5h")
	select {
	case <-p.held:
	default:
		t.Fatal("the proxy held back no answer: the test did not test the lost answer")
	}
	core.Flush()
	text := m.Plain(time.UTC)
	if m.Kind == bot.KindError || !strings.Contains(text, "Rescheduled") {
		t.Fatalf("answered %q; want the reschedule confirmed: it was stored", text)
	}
	u, err := direct.Get(context.Background(), 1)
	if err != nil || u.Rev != before.Rev+1 {
		t.Fatalf("stored %+v, %v; want the reschedule stored once", u, err)
	}
	replies, edits := notices(rec)
	if len(replies) != 1 || !strings.Contains(strings.ToLower(replies[0]), "rescheduled") {
		t.Fatalf("thread replies %q; want one rescheduled notice", replies)
	}
	if want := u.Start.Format("15:04"); len(edits) == 0 || !strings.Contains(edits[len(edits)-1], want) {
		t.Fatalf("root edits %q; want the root to show the new start %s", edits, want)
	}
}

// TestAWriteWithoutAnAnswerIsOfUnknownOutcome: the store tells the core
// that a write's outcome is unknown when its answer did not come (here
// the caller's context ended), and not when Redis answered (a conflict).
func TestAWriteWithoutAnAnswerIsOfUnknownOutcome(t *testing.T) {
	s := newTestStore(t)
	u := create(t, s, "payments", t0.Add(48*time.Hour), time.Hour, bot.Scheduled)
	stale := *u
	stale.Rev = 5
	if err := s.Update(context.Background(), &stale, bot.Decision{}); !errors.Is(err, bot.ErrConflict) || errors.Is(err, bot.ErrOutcomeUnknown) {
		t.Fatalf("a conflict: %v; want ErrConflict, not of unknown outcome", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	u.Rev++
	if err := s.Update(ctx, u, bot.Decision{}); !errors.Is(err, bot.ErrOutcomeUnknown) {
		t.Fatalf("a write whose context ended: %v; want ErrOutcomeUnknown", err)
	}
}

// createUnanswered is a Store whose first Create saves the upgrade and
// then returns an error of unknown outcome, its answer lost; the same
// Create sent again is answered.
type createUnanswered struct {
	*Store
	lost atomic.Bool
}

func (s *createUnanswered) Create(ctx context.Context, u *bot.Upgrade, d bot.Decision) error {
	if err := s.Store.Create(ctx, u, d); err != nil || !s.lost.CompareAndSwap(false, true) {
		return err
	}
	return fmt.Errorf("store: create upgrade %d: %w: %w", u.ID, bot.ErrOutcomeUnknown, io.ErrUnexpectedEOF)
}

func TestAScheduleStoredWithoutAnAnswerIsAnsweredAndPosted(t *testing.T) {
	rec := &bottest.Recorder{}
	cfg := bot.Config{
		People:   []bot.Person{{Name: "alice", IDs: []string{"slack:U0ALICE"}}},
		Services: []bot.Service{{Name: "payments", Owners: []string{"alice"}, Channels: []string{"slack:C1"}}},
	}
	now := time.Now().UTC().Truncate(time.Minute)
	st := &createUnanswered{Store: newTestStore(t)}
	core := bot.New(bot.Options{Config: cfg, Store: st, Messenger: bot.Router{"slack": rec},
		Now: func() time.Time { return now }, Recover: -1})
	inv := bot.Invocation{Actor: bot.Actor{ID: "slack:U0ALICE"}, Channel: "slack:C1"}
	m := core.Handle(context.Background(), inv, "schedule payments 2.0 in 2h for 1h")
	core.Flush()
	if text := m.Plain(time.UTC); m.Kind == bot.KindError || !strings.Contains(text, "Scheduled") {
		t.Fatalf("schedule answered %q; want it confirmed: it was stored", text)
	}
	if posts := rec.Ops("post"); len(posts) != 1 || posts[0].To != "slack:C1" {
		t.Fatalf("posts %+v; want the root in slack:C1", posts)
	}
}

// TestAWriteSentAgainIsNotAConflict: go-redis sends a script again when
// the connection was cut under its answer; the write it finds is its own
// (the same event), so it succeeds without writing twice, where a
// conflict would have had the core apply the change (an extend) again.
// Another write of the same revision is still a conflict.
func TestAWriteSentAgainIsNotAConflict(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	u := &bot.Upgrade{ID: 1, Service: "payments", Start: t0, End: t0.Add(time.Hour), State: bot.Scheduled, Rev: 1}
	created := bot.Decision{At: t0, Actor: "alice", Action: bot.ActionScheduled,
		Event: &bot.Event{ID: "e1", Type: bot.EventScheduled, UpgradeID: "UPG-1", At: t0}}
	for range 2 {
		if err := s.Create(ctx, u, created); err != nil {
			t.Fatalf("create, sent again: %v; want its own write found", err)
		}
	}
	next := *u
	next.Rev, next.End = 2, t0.Add(2*time.Hour)
	d := bot.Decision{At: t0, Actor: "alice", Action: bot.ActionExtended,
		Event: &bot.Event{ID: "e2", Type: "upgrade.extended", UpgradeID: "UPG-1", At: t0}}
	for range 2 {
		if err := s.Update(ctx, &next, d); err != nil {
			t.Fatalf("update, sent again: %v; want its own write found", err)
		}
	}
	if log, err := s.Log(ctx, 1); err != nil || len(log) != 2 {
		t.Fatalf("log %+v, %v; want one entry per change", log, err)
	}
	other := d
	other.Event = &bot.Event{ID: "e3", Type: "upgrade.extended", UpgradeID: "UPG-1", At: t0}
	if err := s.Update(ctx, &next, other); !errors.Is(err, bot.ErrConflict) {
		t.Fatalf("another write of rev 2: %v; want ErrConflict", err)
	}
	if err := s.Create(ctx, u, bot.Decision{At: t0, Actor: "bob", Action: bot.ActionScheduled,
		Event: &bot.Event{ID: "e4", Type: bot.EventScheduled, UpgradeID: "UPG-1", At: t0}}); !errors.Is(err, bot.ErrConflict) {
		t.Fatalf("another create of UPG-1: %v; want ErrConflict", err)
	}
}

// A dial that failed sent nothing, whatever made it fail: its outcome is
// known (not applied). A connection cut or timed out under a reply is not.
func TestAFailedDialIsNotAnUnknownOutcome(t *testing.T) {
	timeout := &net.OpError{Op: "dial", Net: "tcp", Err: &timeoutErr{}}
	dns := &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "redis.invalid", IsNotFound: true}}
	for name, err := range map[string]error{
		"dial i/o timeout":   timeout,
		"dns failure":        dns,
		"bare dns failure":   &net.DNSError{Err: "server misbehaving", Name: "redis.invalid"},
		"wrapped dial error": fmt.Errorf("store: update upgrade 1: %w", timeout),
	} {
		if unsure(err) {
			t.Errorf("%s (%v): unsure; want it known not sent", name, err)
		}
	}
	for name, err := range map[string]error{
		"read i/o timeout": &net.OpError{Op: "read", Net: "tcp", Err: &timeoutErr{}},
		"unexpected EOF":   io.ErrUnexpectedEOF,
		"deadline":         context.DeadlineExceeded,
	} {
		if !unsure(err) {
			t.Errorf("%s (%v): sure; want its outcome unknown", name, err)
		}
	}
}

type timeoutErr struct{}

func (*timeoutErr) Error() string   { return "i/o timeout" }
func (*timeoutErr) Timeout() bool   { return true }
func (*timeoutErr) Temporary() bool { return true }
