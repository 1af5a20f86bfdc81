package bot

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// outbox runs delivery work in the background, in order per upgrade, so a
// command's reply never waits for a platform and a thread reply never
// overtakes the root message it belongs to.
type outbox struct {
	log      *slog.Logger
	interval time.Duration // minimum gap between root edits of one upgrade

	mu       sync.Mutex
	queues   map[int][]func(context.Context)
	running  map[int]bool
	dirty    map[int]bool      // a root refresh is queued and not yet started
	lastEdit map[int]time.Time // when the root of an upgrade was last edited
	wg       sync.WaitGroup
}

// taskTimeout bounds one delivery, retries included.
const taskTimeout = 2 * time.Minute

func newOutbox(log *slog.Logger, interval time.Duration) *outbox {
	return &outbox{log: log, interval: interval, queues: map[int][]func(context.Context){},
		running: map[int]bool{}, dirty: map[int]bool{}, lastEdit: map[int]time.Time{}}
}

func (o *outbox) enqueue(key int, task func(context.Context)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.wg.Add(1)
	o.queues[key] = append(o.queues[key], task)
	if !o.running[key] {
		o.running[key] = true
		go o.drain(key)
	}
}

func (o *outbox) drain(key int) {
	for {
		o.mu.Lock()
		q := o.queues[key]
		if len(q) == 0 {
			delete(o.queues, key)
			delete(o.running, key)
			o.mu.Unlock()
			return
		}
		task := q[0]
		o.queues[key] = q[1:]
		o.mu.Unlock()
		o.run(key, task)
	}
}

func (o *outbox) run(key int, task func(context.Context)) {
	defer o.wg.Done()
	defer func() {
		if r := recover(); r != nil {
			o.log.Error("delivery task panicked", "upgrade", key, "panic", fmt.Sprint(r))
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), taskTimeout)
	defer cancel()
	task(ctx)
}

// coalesce queues fn unless a refresh of key is already waiting: the waiting
// one reads the latest state when it runs, so nothing is lost.
func (o *outbox) coalesce(key int, fn func(context.Context)) {
	o.mu.Lock()
	if o.dirty[key] {
		o.mu.Unlock()
		return
	}
	o.dirty[key] = true
	o.mu.Unlock()
	o.enqueue(key, func(ctx context.Context) {
		o.mu.Lock()
		wait := time.Until(o.lastEdit[key].Add(o.interval))
		o.mu.Unlock()
		if wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
			}
		}
		o.mu.Lock()
		o.dirty[key] = false
		o.mu.Unlock()
		fn(ctx)
		o.mu.Lock()
		o.lastEdit[key] = time.Now()
		o.mu.Unlock()
	})
}

func (o *outbox) flush() { o.wg.Wait() }

// pending counts the tasks queued or running.
func (o *outbox) pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := len(o.running) // each running queue has one task in hand
	for _, q := range o.queues {
		n += len(q)
	}
	return n
}

// postRoots posts the pre-brief in each channel and remembers the threads;
// the invoker hears about any channel it could not reach. The notice is
// recorded first (see enqueueNotice), so another replica posts it if this
// one dies first.
func (b *Bot) postRoots(ctx context.Context, u *Upgrade, inv *Invocation) {
	who, ch := invokerOf(inv)
	b.enqueueNotice(ctx, PendingNotice{Kind: PendingRoots, Upgrade: u.ID, Invoker: who, Channel: ch}, b.rootsTask(u, inv))
}

// rootsTask posts the root of u in each of its channels that has no thread
// yet: a re-run after a crash does not post a second root where the first
// one made it.
func (b *Bot) rootsTask(u *Upgrade, inv *Invocation) func(context.Context) {
	return func(ctx context.Context) {
		acks, err := b.store.Acks(ctx, u.ID)
		if err != nil {
			b.log.ErrorContext(ctx, "loading acks failed", "upgrade", u.Key(), "err", err)
		}
		root := b.dir.Root(u, acks)
		var refs []MessageRef
		var fails []Failure
		for _, ch := range u.Channels {
			if slices.ContainsFunc(u.Threads, func(t MessageRef) bool { return t.Channel == ch }) {
				continue
			}
			ref, err := b.msg.Post(ctx, ch, root)
			if err != nil {
				fails = append(fails, b.failure(ctx, u, KindRoot, ch, err))
				continue
			}
			refs = append(refs, ref)
		}
		if len(refs) == 0 && len(fails) == 0 {
			return
		}
		if _, err := b.mutate(ctx, u.ID, func(x *Upgrade) (Decision, error) {
			x.Threads = append(x.Threads, refs...)
			x.Failures = append(x.Failures, fails...)
			return Decision{}, nil
		}); err != nil {
			b.log.ErrorContext(ctx, "saving threads failed", "upgrade", u.Key(), "err", err)
		}
		if len(fails) > 0 {
			b.refreshRoot(u.ID)
			b.tellInvoker(ctx, u, inv, fails)
		}
	}
}

// rootVersion identifies what a root message shows: every change of the
// upgrade bumps Rev, and acknowledgments only ever add up.
type rootVersion struct{ rev, acks int }

// refreshRoot re-renders the root messages from the stored state, at most
// about once per interval per upgrade. Coalescing is per replica: another
// replica may edit the same message meanwhile, and a slow edit of older
// state may land after its newer one. So after editing, the refresh looks
// again and, if the state moved on since it rendered, queues one more
// refresh (which keeps to the interval); the last edit to land is then
// never older than the last change.
func (b *Bot) refreshRoot(id int) {
	b.out.coalesce(id, func(ctx context.Context) {
		version := func() (*Upgrade, []Ack, rootVersion, bool) {
			u, err := b.store.Get(ctx, id)
			if err != nil {
				b.log.ErrorContext(ctx, "refresh: loading upgrade failed", "upgrade", id, "err", err)
				return nil, nil, rootVersion{}, false
			}
			acks, err := b.store.Acks(ctx, id)
			if err != nil {
				b.log.ErrorContext(ctx, "refresh: loading acks failed", "upgrade", id, "err", err)
				return nil, nil, rootVersion{}, false
			}
			return u, acks, rootVersion{rev: u.Rev, acks: len(acks)}, true
		}
		u, acks, shown, ok := version()
		if !ok {
			return
		}
		root := b.dir.Root(u, acks)
		for _, t := range u.Threads {
			if err := b.msg.Edit(ctx, t, root); err != nil {
				b.log.WarnContext(ctx, "editing root message failed", "upgrade", u.Key(), "channel", t.Channel, "err", err)
			}
		}
		if _, _, now, ok := version(); ok && now != shown {
			b.refreshRoot(id)
		}
	})
}

// notifyThreads replies in every thread of the upgrade; inv, when the
// notice comes from a command, hears about any thread it could not reach.
// The notice is recorded first (see enqueueNotice).
func (b *Bot) notifyThreads(ctx context.Context, id int, m Message, inv *Invocation) {
	who, ch := invokerOf(inv)
	b.enqueueNotice(ctx, PendingNotice{Kind: PendingThread, Upgrade: id, Message: &m, Invoker: who, Channel: ch},
		func(ctx context.Context) { b.notifyNow(ctx, id, m, inv) })
}

// notifyNow is notifyThreads for code already running in the upgrade's
// outbox task: the notice goes out before anything queued after that task.
func (b *Bot) notifyNow(ctx context.Context, id int, m Message, inv *Invocation) {
	u, err := b.store.Get(ctx, id)
	if err != nil {
		b.log.ErrorContext(ctx, "notice not delivered: loading the upgrade failed", "upgrade", id, "notice", m.Kind, "err", err)
		return
	}
	fails, err := b.deliverThreads(ctx, u, m)
	if err != nil { // out of time: nobody retries a command's notice, so it failed
		ctx = context.WithoutCancel(ctx)
		fails = append(fails, b.failure(ctx, u, m.Kind, "its threads", err))
		b.recordFailures(ctx, u.ID, fails[len(fails)-1:])
	}
	if len(fails) > 0 {
		b.tellInvoker(ctx, u, inv, fails)
	}
}

// deliverThreads replies in every thread of u and records what the
// platforms refused. When ctx ends first it stops and returns ctx's error
// without recording anything, so the caller may try again later.
func (b *Bot) deliverThreads(ctx context.Context, u *Upgrade, m Message) ([]Failure, error) {
	var fails []Failure
	for _, t := range u.Threads {
		_, err := b.msg.Reply(ctx, t, m)
		if cerr := ctx.Err(); cerr != nil {
			b.recordFailures(context.WithoutCancel(ctx), u.ID, fails)
			return fails, fmt.Errorf("deliver %s of %s: %w", m.Kind, u.Key(), cerr)
		}
		if err != nil {
			fails = append(fails, b.failure(ctx, u, m.Kind, t.Channel, err))
		}
	}
	if len(u.Threads) == 0 {
		b.log.WarnContext(ctx, "no thread to post in", "upgrade", u.Key(), "notice", m.Kind)
	}
	b.recordFailures(ctx, u.ID, fails)
	return fails, nil
}

// tellInvoker lets whoever typed the command know, privately, that part of
// its effect did not reach a channel, and what to do about it.
func (b *Bot) tellInvoker(ctx context.Context, u *Upgrade, inv *Invocation, fails []Failure) {
	if inv == nil || inv.Actor.ID == "" || len(fails) == 0 {
		return
	}
	m := Message{Kind: KindError, UpgradeID: u.Key(), Ephemeral: true}
	for _, f := range fails {
		m.Lines = append(m.Lines, T(fmt.Sprintf("⚠ The %s notice of %s could not be posted to ", f.Notice, u.Key())).Channel(f.Target).Add(": "+f.Error+"."))
	}
	m.Lines = append(m.Lines, T("Check that the channel exists and the bot is a member of it. The failure is recorded: ").Code("/upgrade show "+u.Key()).Add("."))
	w, ok := b.msg.(Whisperer)
	var err error
	if ok {
		err = w.Whisper(ctx, inv.Channel, inv.Actor.ID, m)
	} else {
		_, err = b.msg.Direct(ctx, inv.Actor.ID, m)
	}
	if err != nil {
		b.log.WarnContext(ctx, "telling the invoker about a failed delivery failed", "upgrade", u.Key(), "actor", inv.Actor.ID, "err", err)
	}
}

func (b *Bot) failure(ctx context.Context, u *Upgrade, k Kind, target string, err error) Failure {
	b.log.ErrorContext(ctx, "notice not delivered", "upgrade", u.Key(), "notice", k, "target", target, "err", err)
	if b.onFailure != nil {
		b.onFailure(k)
	}
	return Failure{At: b.now().UTC(), Notice: string(k), Target: target, Error: ErrorDetail(err)}
}

// ErrorDetail is the error text kept on the upgrade: the platform's reason,
// never a secret (adapters' errors carry no tokens).
func ErrorDetail(err error) string {
	s := err.Error()
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func (b *Bot) recordFailures(ctx context.Context, id int, fails []Failure) {
	if len(fails) == 0 {
		return
	}
	if _, err := b.mutate(ctx, id, func(x *Upgrade) (Decision, error) {
		x.Failures = append(x.Failures, fails...)
		return Decision{}, nil
	}); err != nil {
		b.log.ErrorContext(ctx, "recording failed delivery failed", "upgrade", id, "err", err)
	}
	b.refreshRoot(id)
}
