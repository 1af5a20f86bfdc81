package bot

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// Command notices (the root pre-brief, the thread notice of a change, the
// release-linked notice) are delivered by the in-process outbox. So that a
// replica killed after answering a command does not lose them, each one is
// first written down as a PendingNotice in a NoticeLog shared by every
// replica, and forgotten once its task has ended (delivered, or failed and
// recorded as a Failure on the upgrade). A task that runs out of time keeps
// its record. A record left behind (its replica died, or ran out of time) is
// claimed by any replica after RecoverAfter and run again through its
// outbox (see Bot.RecoverNotices), skipping the threads already dealt with.
// Delivery is therefore at least once: a notice that went out just before
// the crash, its mark not yet written, is sent a second time.

// Kinds of pending notice.
const (
	PendingRoots  = "roots"  // post the root pre-brief in the channels without a thread
	PendingThread = "thread" // reply Message in every thread
	PendingLink   = "link"   // look up Repo/Tag, announce the linked release
	// PendingChannels posts Message in each of Channels: a notice of no
	// upgrade (a series' skipped occurrence); Upgrade is 0.
	PendingChannels = "channels"
)

// PendingNotice is a command notice not yet delivered, as data.
type PendingNotice struct {
	Key     string    `json:"key"` // unique: "N/<unix ns>-<seq>-<random>"
	At      time.Time `json:"at"`  // when it was queued (or its task last started)
	Seq     uint64    `json:"seq"` // orders notices queued at the same At by one replica
	Kind    string    `json:"kind"`
	Upgrade int       `json:"upgrade"`
	Message *Message  `json:"message,omitempty"` // thread
	// Invoker is who typed the command, so that they hear about a channel
	// the notice could not reach.
	Invoker *Invoker `json:"invoker,omitempty"`
	Repo    string   `json:"repo,omitempty"`  // link
	Tag     string   `json:"tag,omitempty"`   // link
	Actor   string   `json:"actor,omitempty"` // link: who linked (the event's actor)
	// Channels are where a PendingChannels notice goes.
	Channels []string `json:"channels,omitempty"`
	// RequestID is the request that queued the notice, for its log lines.
	RequestID string `json:"request_id,omitempty"`
	// Reached lists the threads already dealt with (MarkNotice); filled in
	// by ClaimNotices, never stored in the record itself.
	Reached []string `json:"-"`
}

// RecoverAfter is how old a pending notice's record must be before another
// replica runs it again: a task is bounded by taskTimeout from its start,
// which touches the record, so a live replica is done with it by then.
const RecoverAfter = taskTimeout + 30*time.Second

// noticeTask delivers one pending notice; an error means "not done, try
// again later" (out of time), and keeps the notice's record.
type noticeTask func(ctx context.Context, n PendingNotice) error

// enqueue records n (best effort) and queues task in the upgrade's outbox.
func (d *Delivery) enqueue(ctx context.Context, n PendingNotice, task noticeTask) {
	if n.RequestID == "" {
		n.RequestID = RequestID(ctx)
	}
	recorded := false
	if d.notices != nil {
		n.At = d.now().UTC()
		n.Seq = d.seq.Add(1)
		n.Key = fmt.Sprintf("%d/%d-%d-%s", n.Upgrade, n.At.UnixNano(), n.Seq, randomID()[:8])
		if err := d.notices.RecordNotice(ctx, n); err != nil {
			d.log.ErrorContext(ctx, "recording a pending notice failed; delivering it from memory only", "upgrade", n.Upgrade, "notice", n.Kind, "err", err)
		} else {
			recorded = true
		}
	}
	d.run(n, recorded, task)
}

// run queues task. When n is recorded, the task touches the record as it
// starts, and forgets it when it ends (even by panic: a notice that panics
// would panic again on every recovery), unless it ran out of time: then the
// record stays for a later recovery. An unrecorded notice that runs out of
// time is recorded as a failure, since nobody will retry it.
func (d *Delivery) run(n PendingNotice, recorded bool, task noticeTask) {
	key := n.Upgrade
	if key == 0 {
		// A notice of no upgrade (PendingChannels) has a queue of its
		// own: on one shared queue, a platform slow to take one held
		// back every other, of every service.
		key = -int(d.solo.Add(1))
	}
	d.out.enqueue(key, func(ctx context.Context) {
		ctx = WithRequestID(ctx, n.RequestID)
		keep := false
		if recorded {
			if err := d.notices.TouchNotice(ctx, n, d.now().UTC()); err != nil {
				d.log.WarnContext(ctx, "touching a pending notice failed", "upgrade", n.Upgrade, "notice", n.Kind, "err", err)
			}
			defer func() {
				if keep {
					return
				}
				if err := d.notices.ForgetNotice(context.WithoutCancel(ctx), n); err != nil {
					d.log.WarnContext(ctx, "forgetting a delivered notice failed; it may be sent again", "upgrade", n.Upgrade, "notice", n.Kind, "err", err)
				}
			}()
		}
		err := task(ctx, n)
		switch {
		case err == nil:
		case recorded:
			keep = true
			d.log.WarnContext(ctx, "notice not finished in time; it stays recorded and is sent again later", "upgrade", n.Upgrade, "notice", n.Kind, "err", err)
		default:
			d.unfinished(ctx, n, err)
		}
		if !keep {
			d.markAlert(ctx, n)
		}
	})
}

// markAlert records when a rollback alert went out (SentLog), which its
// escalation follows (Scheduler.afterAlert): once its task has dealt with
// every thread (posted, or refused and recorded as a failure), or ran out
// of time with nobody to retry it (recorded as a failure). The first time
// wins, so a notice sent again after a crash keeps it.
func (d *Delivery) markAlert(ctx context.Context, n PendingNotice) {
	if d.sent == nil || n.Kind != PendingThread || n.Message == nil || n.Message.Kind != KindRollback {
		return
	}
	bctx, cancel := bookkeeping(ctx)
	defer cancel()
	u, err := d.store.Get(bctx, n.Upgrade)
	if err != nil {
		if ErrorCode(err) != ENOTFOUND {
			d.log.WarnContext(ctx, "recording when the rollback alert went out failed; its escalation waits for it", "upgrade", n.Upgrade, "err", err)
		}
		return
	}
	if u.State != RolledBack {
		return
	}
	if err := d.sent.MarkSent(bctx, rollbackAlert(u), d.now().UTC()); err != nil {
		d.log.WarnContext(ctx, "recording when the rollback alert went out failed; its escalation waits for it", "upgrade", u.Key(), "err", err)
	}
}

// unfinished records a notice that ran out of time with nothing to retry it.
func (d *Delivery) unfinished(ctx context.Context, n PendingNotice, err error) {
	bctx, cancel := bookkeeping(ctx)
	defer cancel()
	u, gerr := d.store.Get(bctx, n.Upgrade)
	if gerr != nil {
		d.log.ErrorContext(ctx, "notice not delivered", "upgrade", n.Upgrade, "notice", n.Kind, "err", err)
		return
	}
	kind := KindRoot
	if n.Message != nil {
		kind = n.Message.Kind
	} else if n.Kind == PendingLink {
		kind = KindLinked
	}
	d.failed(bctx, u, []Failure{d.failure(ctx, u, kind, "its threads", err)}, n.Invoker)
}

// noticeProgress remembers the threads a recorded notice dealt with.
type noticeProgress struct {
	log NoticeLog
	n   PendingNotice
}

func (p noticeProgress) reached(context.Context) ([]string, error) { return p.n.Reached, nil }
func (p noticeProgress) mark(ctx context.Context, part string) error {
	return p.log.MarkNotice(ctx, p.n, part)
}

// progressOf is the memory of n's threads, when n is recorded.
func (d *Delivery) progressOf(n PendingNotice) progress {
	if d.notices == nil || n.Key == "" {
		return nil
	}
	return noticeProgress{log: d.notices, n: n}
}

// notify queues a thread notice of a command (inv may be nil).
func (d *Delivery) notify(ctx context.Context, id int, m Message, inv *Invoker) {
	d.enqueue(ctx, PendingNotice{Kind: PendingThread, Upgrade: id, Message: &m, Invoker: inv}, d.threadTask)
}

// threadTask delivers a recorded thread notice with the current threads.
func (d *Delivery) threadTask(ctx context.Context, n PendingNotice) error {
	if n.Message == nil {
		d.log.ErrorContext(ctx, "pending notice has no message", "upgrade", n.Upgrade)
		return nil
	}
	u, err := d.store.Get(ctx, n.Upgrade)
	if err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return nil
		}
		return fmt.Errorf("load upgrade %d: %w", n.Upgrade, err)
	}
	return d.toThreads(ctx, u, threadNotice{msg: *n.Message, invoker: n.Invoker, progress: d.progressOf(n)})
}

// toChannels queues a notice of no upgrade for channels (a series'
// skipped occurrence): posted in the background like every notice, so a
// command's answer never waits for a platform, and recorded, so another
// replica sends it if this one dies first.
func (d *Delivery) toChannels(ctx context.Context, channels []string, m Message) {
	d.enqueue(ctx, PendingNotice{Kind: PendingChannels, Message: &m, Channels: channels}, d.channelsTask)
}

// channelsTask posts a PendingChannels notice in each of its channels not
// dealt with yet, the platforms side by side. A channel that refuses it is
// logged and counted (there is no upgrade to record it on); when ctx ends
// first it returns ctx's error, and a retry skips the channels reached.
func (d *Delivery) channelsTask(ctx context.Context, n PendingNotice) error {
	if n.Message == nil {
		d.log.ErrorContext(ctx, "pending notice has no message", "notice", n.Kind)
		return nil
	}
	m := *n.Message
	p := d.progressOf(n)
	track := p != nil && len(n.Channels) > 1 // one channel: finishing the notice is the record
	var todo []string
	if track {
		done, err := p.reached(ctx)
		if err != nil {
			return fmt.Errorf("load the channels %s already reached: %w", m.Kind, err)
		}
		todo = slices.DeleteFunc(slices.Clone(n.Channels), func(ch string) bool { return slices.Contains(done, ch) })
	} else {
		todo = n.Channels
	}
	cuts := make([]error, len(todo))
	d.sideBySide(todo, func(i int) bool {
		ch := todo[i]
		_, err := d.msg.Post(ctx, ch, m)
		if err != nil && ctx.Err() != nil {
			cuts[i] = fmt.Errorf("deliver %s to %s: %w", m.Kind, ch, errors.Join(ctx.Err(), err))
			return false
		}
		if err != nil {
			d.log.ErrorContext(ctx, "notice not delivered", "notice", m.Kind, "target", ch, "err", err)
			d.obs.Notice(m.Kind, NoticeFailed)
		} else {
			d.obs.Notice(m.Kind, NoticePosted)
		}
		if track {
			mctx, cancel := bookkeeping(ctx)
			if merr := p.mark(mctx, ch); merr != nil {
				d.log.WarnContext(ctx, "remembering a delivered channel failed; a retry may post there again", "notice", m.Kind, "channel", ch, "err", merr)
			}
			cancel()
		}
		return true
	}, func(int, error) { d.obs.Notice(m.Kind, NoticeFailed) })
	return errors.Join(cuts...)
}

// roots queues the root posts of a new upgrade.
func (d *Delivery) roots(ctx context.Context, id int, inv *Invoker) {
	d.enqueue(ctx, PendingNotice{Kind: PendingRoots, Upgrade: id, Invoker: inv}, d.rootsTask)
}

// rootsTask posts the root in the channels still without a thread.
func (d *Delivery) rootsTask(ctx context.Context, n PendingNotice) error {
	u, err := d.store.Get(ctx, n.Upgrade)
	if err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return nil
		}
		return fmt.Errorf("load upgrade %d: %w", n.Upgrade, err)
	}
	_, err = d.postRoots(ctx, u, n.Invoker)
	return err
}

// randomID is 24 random hex digits (96 bits): the id of an event (the
// relay publishes each id once, so ids must not repeat across replicas and
// restarts), and cut shorter, of a request and of a pending notice. Its
// bits come from math/rand/v2's generator, a ChaCha8 per thread that the
// runtime seeds from the operating system's randomness when the process
// starts, so no two processes share a sequence; crypto/rand cost a system
// call on every press (about 4 µs each under load).
func randomID() string {
	var out [24]byte
	appendRandomHex(out[:0], 12)
	return string(out[:])
}

// appendRandomHex appends n random bytes (at most 16) to b as 2n hex digits.
func appendRandomHex(b []byte, n int) []byte {
	var raw [16]byte
	binary.LittleEndian.PutUint64(raw[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(raw[8:], rand.Uint64())
	return hex.AppendEncode(b, raw[:n])
}

// RecoverNotices claims the pending notices whose record is older than
// RecoverAfter (their replica died, stopped before delivering them, or ran
// out of time) and runs them again through this replica's outbox, those of
// one upgrade in the order they were queued. It returns how many it queued.
func (b *Bot) RecoverNotices(ctx context.Context) (int, error) {
	d := b.out
	if d.notices == nil {
		return 0, nil
	}
	now := b.now().UTC()
	ns, err := d.notices.ClaimNotices(ctx, now.Add(-RecoverAfter), now, 100)
	if err != nil {
		return 0, fmt.Errorf("recover notices: %w", err)
	}
	slices.SortStableFunc(ns, func(x, y PendingNotice) int {
		return cmp.Or(cmp.Compare(x.Upgrade, y.Upgrade), x.At.Compare(y.At), cmp.Compare(x.Seq, y.Seq), cmp.Compare(x.Key, y.Key))
	})
	for i, n := range ns {
		b.log.WarnContext(ctx, "re-sending a notice its replica did not deliver", "upgrade", n.Upgrade, "notice", n.Kind, "queued", n.At)
		var task noticeTask
		switch n.Kind {
		case PendingRoots:
			task = d.rootsTask
		case PendingThread:
			task = d.threadTask
		case PendingLink:
			task = b.linkTask
		case PendingChannels:
			task = d.channelsTask
		default:
			b.log.ErrorContext(ctx, "recovered notice of unknown kind; dropped", "upgrade", n.Upgrade, "kind", n.Kind)
			task = func(context.Context, PendingNotice) error { return nil }
		}
		d.run(n, true, task)
		if n.Upgrade > 0 && (i == len(ns)-1 || ns[i+1].Upgrade != n.Upgrade) {
			d.refreshRoot(n.Upgrade)
		}
	}
	return len(ns), nil
}

// recoverLoop runs RecoverNotices every interval until ctx ends.
func (b *Bot) recoverLoop(ctx context.Context, every time.Duration) {
	pass := func() {
		n, err := b.RecoverNotices(ctx)
		if err != nil && ctx.Err() == nil {
			b.log.ErrorContext(ctx, "recovering pending notices failed", "err", err)
		} else if n > 0 {
			b.log.InfoContext(ctx, "recovered pending notices", "notices", strconv.Itoa(n))
		}
	}
	pass()
	repeat(ctx, every, pass)
}

// repeat calls fn every interval until ctx ends.
func repeat(ctx context.Context, every time.Duration, fn func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}
