package bot

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Command notices (the root pre-brief, the thread notice of a change, the
// release-linked notice) are delivered by the in-process outbox. So that a
// replica killed after answering a command does not lose them, each one is
// first written down as a PendingNotice in a NoticeLog shared by every
// replica, and forgotten once its task has ended (delivered, or failed and
// recorded as a Failure on the upgrade). A record left behind by a replica
// that died is claimed by another replica after RecoverAfter and run again
// through its outbox (see RecoverNotices). Delivery is therefore at least
// once: a notice that went out just before the crash, its record not yet
// forgotten, is sent a second time.

// Kinds of pending notice.
const (
	PendingRoots  = "roots"  // post the root pre-brief in the channels without a thread
	PendingThread = "thread" // reply Message in every thread
	PendingLink   = "link"   // look up Repo/Tag, announce the linked release
)

// PendingNotice is a command notice not yet delivered, as data.
type PendingNotice struct {
	Key     string    `json:"key"` // unique: "N/<unix ns>-<seq>-<random>"
	At      time.Time `json:"at"`  // when it was queued (or its task last started)
	Seq     uint64    `json:"seq"` // orders notices queued at the same At by one replica
	Kind    string    `json:"kind"`
	Upgrade int       `json:"upgrade"`
	Message *Message  `json:"message,omitempty"` // thread
	// Invoker and Channel say who typed the command and where, so that
	// whoever it was hears about a channel the notice could not reach.
	Invoker *Actor `json:"invoker,omitempty"`
	Channel string `json:"channel,omitempty"`
	Repo    string `json:"repo,omitempty"`  // link
	Tag     string `json:"tag,omitempty"`   // link
	Actor   string `json:"actor,omitempty"` // link: who linked (the event's actor)
}

// NoticeLog is an optional capability of a Store: the shared record of
// command notices queued but not yet delivered. Every method is one cheap
// call; the bot treats failures as best effort (logged, the notice is still
// delivered from memory).
type NoticeLog interface {
	// RecordNotice saves n, scored by n.At.
	RecordNotice(ctx context.Context, n PendingNotice) error
	// TouchNotice moves n's score to at, if n is still recorded: its task
	// started, so it is not stale before at+RecoverAfter.
	TouchNotice(ctx context.Context, n PendingNotice, at time.Time) error
	// ForgetNotice deletes n.
	ForgetNotice(ctx context.Context, n PendingNotice) error
	// ClaimNotices atomically takes up to max notices scored at or before
	// before, oldest first, and scores them now, so no other caller gets
	// them until they are stale again.
	ClaimNotices(ctx context.Context, before, now time.Time, max int) ([]PendingNotice, error)
}

// RecoverAfter is how old a pending notice's record must be before another
// replica runs it again: a task is bounded by taskTimeout from its start,
// which touches the record, so a live replica is done with it by then.
const RecoverAfter = taskTimeout + 30*time.Second

// enqueueNotice records n (best effort) and queues task in the upgrade's
// outbox; the record is forgotten when the task ends.
func (b *Bot) enqueueNotice(ctx context.Context, n PendingNotice, task func(context.Context)) {
	recorded := false
	if b.notices != nil {
		n.At = b.now().UTC()
		n.Seq = b.noticeSeq.Add(1)
		n.Key = fmt.Sprintf("%d/%d-%d-%s", n.Upgrade, n.At.UnixNano(), n.Seq, newEventID()[:8])
		if err := b.notices.RecordNotice(ctx, n); err != nil {
			b.log.ErrorContext(ctx, "recording a pending notice failed; delivering it from memory only", "upgrade", n.Upgrade, "notice", n.Kind, "err", err)
		} else {
			recorded = true
		}
	}
	b.runNotice(n, recorded, task)
}

// runNotice queues task; when recorded, the task touches n's record as it
// starts and forgets it when it ends (even by panic: a notice that panics
// would panic again on every recovery).
func (b *Bot) runNotice(n PendingNotice, recorded bool, task func(context.Context)) {
	b.out.enqueue(n.Upgrade, func(ctx context.Context) {
		if recorded {
			if err := b.notices.TouchNotice(ctx, n, b.now().UTC()); err != nil {
				b.log.WarnContext(ctx, "touching a pending notice failed", "upgrade", n.Upgrade, "notice", n.Kind, "err", err)
			}
			defer func() {
				if err := b.notices.ForgetNotice(context.WithoutCancel(ctx), n); err != nil {
					b.log.WarnContext(ctx, "forgetting a delivered notice failed; it may be sent again", "upgrade", n.Upgrade, "notice", n.Kind, "err", err)
				}
			}()
		}
		task(ctx)
	})
}

func invokerOf(inv *Invocation) (*Actor, string) {
	if inv == nil {
		return nil, ""
	}
	a := inv.Actor
	return &a, inv.Channel
}

func (n PendingNotice) invocation() *Invocation {
	if n.Invoker == nil {
		return nil
	}
	return &Invocation{Actor: *n.Invoker, Channel: n.Channel}
}

// RecoverNotices claims the pending notices whose record is older than
// RecoverAfter (their replica died, or stopped before delivering them) and
// runs them again through this replica's outbox, those of one upgrade in the
// order they were queued. It returns how many it queued. A root post skips
// the channels that already have a thread; a thread notice may repeat one
// that went out just before its replica died.
func (b *Bot) RecoverNotices(ctx context.Context) (int, error) {
	if b.notices == nil {
		return 0, nil
	}
	now := b.now().UTC()
	ns, err := b.notices.ClaimNotices(ctx, now.Add(-RecoverAfter), now, 100)
	if err != nil {
		return 0, fmt.Errorf("recover notices: %w", err)
	}
	slices.SortStableFunc(ns, func(x, y PendingNotice) int {
		return cmp.Or(cmp.Compare(x.Upgrade, y.Upgrade), x.At.Compare(y.At), cmp.Compare(x.Seq, y.Seq), cmp.Compare(x.Key, y.Key))
	})
	for i, n := range ns {
		b.log.WarnContext(ctx, "re-sending a notice its replica did not deliver", "upgrade", n.Upgrade, "notice", n.Kind, "queued", n.At)
		b.runNotice(n, true, b.recovered(n))
		if i == len(ns)-1 || ns[i+1].Upgrade != n.Upgrade {
			b.refreshRoot(n.Upgrade)
		}
	}
	return len(ns), nil
}

// recovered is the task that delivers a claimed notice.
func (b *Bot) recovered(n PendingNotice) func(context.Context) {
	return func(ctx context.Context) {
		switch n.Kind {
		case PendingRoots:
			u, err := b.store.Get(ctx, n.Upgrade)
			if err != nil {
				b.log.ErrorContext(ctx, "recovered root post not delivered: loading the upgrade failed", "upgrade", n.Upgrade, "err", err)
				return
			}
			b.rootsTask(u, n.invocation())(ctx)
		case PendingThread:
			if n.Message == nil {
				b.log.ErrorContext(ctx, "recovered notice has no message", "upgrade", n.Upgrade)
				return
			}
			b.notifyNow(ctx, n.Upgrade, *n.Message, n.invocation())
		case PendingLink:
			u, err := b.store.Get(ctx, n.Upgrade)
			if err != nil {
				b.log.ErrorContext(ctx, "recovered release notice not delivered: loading the upgrade failed", "upgrade", n.Upgrade, "err", err)
				return
			}
			if u.Release == nil {
				b.log.WarnContext(ctx, "recovered release notice dropped: the upgrade has no release any more", "upgrade", u.Key())
				return
			}
			b.linkTask(u, n.Repo, n.Tag, n.Actor, n.invocation())(ctx)
		default:
			b.log.ErrorContext(ctx, "recovered notice of unknown kind", "upgrade", n.Upgrade, "kind", n.Kind)
		}
	}
}

// recoverLoop runs RecoverNotices every interval until ctx ends.
func (s *Scheduler) recoverLoop(ctx context.Context, every time.Duration) {
	pass := func() {
		n, err := s.b.RecoverNotices(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "recovering pending notices failed", "err", err)
		} else if n > 0 {
			s.log.InfoContext(ctx, "recovered pending notices", "notices", strconv.Itoa(n))
		}
	}
	pass()
	repeat(ctx, every, pass)
}
