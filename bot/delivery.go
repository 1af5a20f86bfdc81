package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/upgradebot/upgradebot/commands"
)

// Delivery sends what the core has to say to the platforms: root messages,
// thread notices, direct messages and private answers. Commands and the
// scheduler share it, so one set of rules holds for every notice (see
// toThreads). Work that a command causes runs in the background, in order
// per upgrade (the outbox), and is recorded first so that another replica
// finishes it if this one dies (durable.go).
type Delivery struct {
	store Store
	msg   Messenger
	dir   *Directory
	now   Clock
	log   *slog.Logger
	out   *outbox
	// edits runs the root refreshes, on queues of their own per upgrade:
	// on out, the next notice (a rollback alert) waited while a platform
	// was slow to take an edit (up to its retries, over a minute).
	edits   *outbox
	notices NoticeLog // nil: command notices live in memory only
	sent    SentLog   // nil: when a rollback alert went out is not kept
	seq     atomic.Uint64
	solo    atomic.Int64 // the queues of notices of no upgrade (Delivery.run)
	obs     Observer     // counts what reached its place and what did not
	acks    *ackCache
	owed    *owedRoots // roots a platform refused after its retries, tried again later
	once    Once       // claims each root post across replicas; nil: one process
	redact  func(string) string
	shown   shownRoots // what each root shows, as this replica last wrote it
}

func newDelivery(st Store, ms Messenger, dir *Directory, now Clock, log *slog.Logger, interval time.Duration) *Delivery {
	d := &Delivery{store: st, msg: ms, dir: dir, now: now, log: log, out: newOutbox(log, now, interval), edits: newOutbox(log, now, interval), obs: NopObserver{}, acks: newAckCache(st),
		owed: newOwedRoots(DefaultRootRetry), redact: func(s string) string { return s }}
	d.notices, _ = st.(NoticeLog)
	d.owed.gaveUp = func(id, tries int) {
		d.log.Warn("gave up refreshing root messages after "+strconv.Itoa(tries)+" tries; the next change tries again",
			"upgrade", commands.FormatID(id), "tries", tries)
	}
	return d
}

// progress remembers which threads of one notice were dealt with (reached,
// or refused and recorded), so that a retry of the notice skips them.
type progress interface {
	reached(ctx context.Context) ([]string, error)
	mark(ctx context.Context, part string) error
}

// threadNotice is one notice for every thread of an upgrade.
type threadNotice struct {
	msg      Message
	invoker  *Invoker // who typed the command that caused it; nil for the scheduler's
	progress progress // threads already dealt with; nil when nothing remembers
	// retry says the caller sends the notice again later (a scheduler's
	// job, retried with its back-off; it needs progress): a thread the
	// platform failed in a way that may pass (TryLaterError) is recorded as
	// failed once, not marked dealt with, and toThreads returns a
	// *laterError; the attempt that reaches it marks that failure posted
	// after all. again says this is such a retry (the job failed before).
	retry, again bool
}

// laterError is toThreads' error when a notice sent again later
// (threadNotice.retry) did not reach some channels in a way that may pass
// (a rate limit longer than the notice could wait, a platform failing or
// out of reach). Their failures are recorded; sent again, the notice tries
// only them.
type laterError struct {
	channels []string
	errs     []error // why, by channel
}

func (e *laterError) Error() string {
	return "not delivered yet in " + strings.Join(e.channels, ", ") + "; to be sent again"
}

// tooLate is the cause of a notice's context that ended when the notice
// was no longer useful (Scheduler.noticeBefore: a reminder once the window
// has opened). A thread it cut off is recorded as failed, with why: the
// notice is not tried there again, as it is after a shutdown's cut.
type tooLate struct {
	why string      // "before the window opened"
	at  time.Time   // when, on the wall clock (the context's deadline)
	cut atomic.Bool // a target was failed for it (failedTarget)
}

// failedTarget notes that a target of the notice failed because its time
// had passed, and returns e as that target's error.
func (e *tooLate) failedTarget() error {
	e.cut.Store(true)
	return e
}

func (e *tooLate) Error() string { return "not posted " + e.why }

// TryLater implements TryLaterError: a notice whose time has passed is
// never tried again, whatever the platform's error says.
func (e *tooLate) TryLater() bool { return false }

// tooLateCause is ctx's tooLate cause, if that is why ctx ended.
func tooLateCause(ctx context.Context) (*tooLate, bool) {
	return errors.AsType[*tooLate](context.Cause(ctx))
}

type tooLateKey struct{}

// withTooLate is ctx, ending at late.at with late as its cause, and
// knowing late before then (waitsTooLong).
func withTooLate(ctx context.Context, late *tooLate) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithDeadlineCause(ctx, late.at, late)
	return context.WithValue(ctx, tooLateKey{}, late), cancel
}

// waitsTooLong returns err as a target's failure because its notice's
// time would pass (tooLate) before the wait the platform asked for
// (WaitError: a rate limit's Retry-After, not waited for) ends: the
// notice cannot be posted in time, and is not tried again.
func waitsTooLong(ctx context.Context, err error) (error, bool) {
	late, ok := ctx.Value(tooLateKey{}).(*tooLate)
	w, asked := errors.AsType[WaitError](err)
	if !ok || !asked || w.Wait() <= 0 || time.Now().Add(w.Wait()).Before(late.at) {
		return err, false
	}
	if ctx.Err() != nil && context.Cause(ctx) != error(late) {
		// Ended for another reason (a shutdown while waiting): not the
		// notice's time, so it is put back as any cut-short notice is.
		return err, false
	}
	return &waitedTooLong{late: late.failedTarget(), wait: w.Wait(), err: err}, true
}

// waitedTooLong is the failure of a notice whose platform asked to wait
// past the notice's time: "not posted before the window opened: the
// platform asked to wait 20s, longer than was left (slack
// chat.postMessage: rate_limited)".
type waitedTooLong struct {
	late error // the *tooLate
	wait time.Duration
	err  error // the platform's
}

func (e *waitedTooLong) Error() string {
	return fmt.Sprintf("%v: the platform asked to wait %s, longer than was left (%v)", e.late, e.wait, e.err)
}

func (e *waitedTooLong) Unwrap() []error { return []error{e.late, e.err} }

// laterMark is the progress mark of a notice's failure in ch that may
// pass, recorded at at: the attempt that reaches ch marks that failure,
// and no other, posted after all.
func laterMark(ch string, at time.Time) string {
	return "later " + ch + " " + at.UTC().Format(time.RFC3339Nano)
}

// laterRecorded returns when the failure in ch that may pass was recorded,
// from done's marks (laterMark).
func laterRecorded(done []string, ch string) (time.Time, bool) {
	prefix := "later " + ch + " "
	for _, p := range done {
		if s, ok := strings.CutPrefix(p, prefix); ok {
			if at, err := time.Parse(time.RFC3339Nano, s); err == nil {
				return at, true
			}
		}
	}
	return time.Time{}, false
}

// errNoThread is the failure of a notice with nowhere to go.
var errNoThread = errors.New("no thread to reply in: the pre-brief could not be posted")

// toThreads replies with n.msg in every thread of u, by the rules that hold
// for every thread notice, whether a command or the scheduler sends it:
//
//   - a thread already dealt with (n.progress) is skipped, so a retry never
//     posts twice where the notice went out;
//   - in a channel whose root was never posted, the root is posted first
//     (by one replica: postRootsAs), and the notice replies in its thread;
//     where it still cannot be posted, the notice's failure is recorded
//     with the root's error (with no thread at all, for each channel);
//   - a thread the platform refused is recorded as a failure on the
//     upgrade, once;
//   - of a notice its caller sends again (n.retry), a channel the platform
//     failed in a way that may pass is recorded as failed once and left for
//     the next attempt (toThreads returns a *laterError); the attempt that
//     reaches it marks that failure posted after all;
//   - the invoker of the command, if any, hears of every failure privately.
//
// When ctx ends before every thread is dealt with, it returns ctx's error
// and records nothing for the rest: the caller retries the notice later.
func (d *Delivery) toThreads(ctx context.Context, u *Upgrade, n threadNotice) error {
	kind := n.msg.Kind
	retry := n.retry && n.progress != nil
	var fails []Failure
	var done []string // the targets already dealt with (n.progress)
	loaded := false
	load := func() error {
		if loaded || n.progress == nil {
			return nil
		}
		rctx := ctx
		if _, late := tooLateCause(ctx); late {
			// Its time passed while a root was posted: what it must
			// record as failed is still worked out.
			var cancel context.CancelFunc
			rctx, cancel = bookkeeping(ctx)
			defer cancel()
		}
		var err error
		if done, err = n.progress.reached(rctx); err != nil {
			return fmt.Errorf("load the threads %s of %s already reached: %w", kind, u.Key(), err)
		}
		loaded = true
		return nil
	}
	missing := missingRoots(u)
	if retry && n.again {
		// Sent again: a root refused for good before is not tried again
		// (its failure is recorded); one that may pass is.
		if err := load(); err != nil {
			return err
		}
		missing = slices.DeleteFunc(missing, func(ch string) bool { return slices.Contains(done, "root "+ch) })
	}
	var rootErrs map[string]error
	var noThread []string // channels the root still did not reach
	if len(missing) > 0 {
		// The root did not reach these channels before (the platform
		// failed then): post it now, so this notice has a thread there.
		// A channel it still cannot reach is recorded once, as this
		// notice's failure, with the root's error.
		var err error
		if rootErrs, err = d.postRootsAs(ctx, u, nil, recordNone, missing); err != nil {
			late, ok := tooLateCause(ctx)
			if !ok {
				return err
			}
			// The notice's time passed while the roots were being
			// posted: a channel still without one is this notice's
			// failure, and its root is tried again later.
			var cutOff []string
			for _, ch := range missingRoots(u) {
				if _, failed := rootErrs[ch]; !failed && slices.Contains(missing, ch) {
					cutOff = append(cutOff, ch)
				}
			}
			if len(cutOff) > 0 {
				d.owed.oweChannels(u.ID, d.now(), cutOff)
				if rootErrs == nil {
					rootErrs = map[string]error{}
				}
				for _, ch := range cutOff {
					rootErrs[ch] = late.failedTarget()
				}
			}
		}
		d.oweRoots(u.ID, rootErrs)
		for _, ch := range u.Channels {
			if _, ok := rootErrs[ch]; ok {
				noThread = append(noThread, ch)
			}
		}
	}
	// The threads dealt with are remembered when there are several (one
	// thread: finishing the notice is the record); the failures of a
	// notice sent again, always.
	several := n.progress != nil && len(u.Threads)+len(noThread) > 1
	if several || (retry && n.again) {
		if err := load(); err != nil {
			return err
		}
	}
	// mark remembers a target dealt with, so that a retry skips it.
	mark := func(part string) {
		if n.progress == nil {
			return
		}
		mctx, cancel := bookkeeping(ctx)
		defer cancel()
		if merr := n.progress.mark(mctx, part); merr != nil {
			d.log.WarnContext(ctx, "remembering a delivered thread failed; a retry may post there again", "upgrade", u.Key(), "notice", kind, "target", part, "err", merr)
		}
	}
	// The marks of failures, written once the failures are recorded (a
	// mark must not say a failure is recorded that is not).
	var failMarks []string
	var pending []string    // channels to try again (retry)
	var pendingErrs []error // why, by channel
	again := 0              // of those, the ones whose failure was recorded before
	// fail records the failure to reach ch, once: a channel whose failure
	// that may pass was recorded by an earlier attempt is not recorded
	// again, whatever fails there now.
	fail := func(ch string, err error) {
		_, before := laterRecorded(done, ch)
		if retry && tryLater(err) {
			pending, pendingErrs = append(pending, ch), append(pendingErrs, err)
			if before {
				// Whether it is sent again is the caller's to say
				// (Scheduler.notice: no longer tried, or sent again).
				again++
				d.log.WarnContext(ctx, "notice still not delivered; its failure is recorded already", "upgrade", u.Key(), "notice", kind, "target", ch, "err", err)
				return
			}
			f := d.failure(ctx, u, kind, ch, err)
			fails = append(fails, f)
			failMarks = append(failMarks, laterMark(ch, f.At))
			return
		}
		if before {
			d.log.WarnContext(ctx, "notice not delivered; its failure is recorded already", "upgrade", u.Key(), "notice", kind, "target", ch, "err", err)
			return
		}
		fails = append(fails, d.failure(ctx, u, kind, ch, err))
	}
	for _, ch := range noThread {
		err := fmt.Errorf("%w: %w", errNoThread, rootErrs[ch])
		if slices.Contains(done, "root "+ch) {
			continue // recorded when the notice was sent before
		}
		err, _ = waitsTooLong(ctx, err)
		fail(ch, err)
		if (several || retry) && !(retry && tryLater(err)) {
			failMarks = append(failMarks, "root "+ch)
		}
	}
	// recorded records the failures, then marks them so.
	recorded := func() {
		d.failed(ctx, u, fails, n.invoker)
		for _, p := range failMarks {
			mark(p)
		}
	}
	var madeGood []Failure // failures (channel, when recorded) a later attempt made good
	defer func() {
		d.madeGood(ctx, u, kind, madeGood)
	}()
	if len(u.Threads) == 0 {
		if len(fails) == 0 && len(pending) == 0 && len(noThread) == 0 {
			for _, ch := range u.Channels {
				fails = append(fails, d.failure(ctx, u, kind, ch, errNoThread))
			}
			if len(fails) == 0 {
				fails = append(fails, d.failure(ctx, u, kind, "its threads", errNoThread))
			}
		}
		recorded()
		d.logNotice(ctx, u, kind, u.Channels, len(fails)+again, 0)
		if len(pending) > 0 {
			return &laterError{channels: pending, errs: pendingErrs}
		}
		return nil
	}
	msg := n.msg
	msg.ThreadTitle = u.Title() // a thread started late is named like the root
	tried := noThread
	var started []MessageRef // roots whose thread had failed and this notice started
	// The channels whose root stands without the thread the platform
	// starts on it (a thread failure not made good): a reply there starts
	// it (Discord), and the thread is then remembered.
	threadless := map[string]bool{}
	for _, f := range u.Failures {
		if f.Notice == string(KindThread) && !u.FailureResolved(f) {
			threadless[f.Target] = true
		}
	}
	cuts := 0 // the threads cut off (ctx ended: shutdown, the job's time), tried again later
	defer func() {
		d.threadsStarted(ctx, u, started)
		recorded()
		d.logNotice(ctx, u, kind, tried, len(fails)+again, cuts)
	}()
	var todo []MessageRef
	for _, t := range u.Threads {
		if !slices.Contains(done, t.Channel+" "+t.ID) {
			todo = append(todo, t)
		}
	}
	// dealt marks a thread dealt with, when there are several.
	dealt := func(t MessageRef) {
		if several {
			mark(t.Channel + " " + t.ID)
		}
	}
	// Each thread's outcome, merged in the threads' order once every
	// platform is done (sideBySide).
	type outcome struct {
		tried   bool
		started *MessageRef
		err     error // the reply's failure
		cut     error
	}
	out := make([]outcome, len(todo))
	chans := make([]string, len(todo))
	for i, t := range todo {
		chans[i] = t.Channel
	}
	d.sideBySide(chans, func(i int) bool {
		t, o := todo[i], &out[i]
		o.tried = true
		if late, ok := tooLateCause(ctx); ok {
			// Its time passed already (posting a root first): not
			// posted late by a platform that does not look at ctx.
			o.err = late.failedTarget()
			dealt(t)
			return true
		}
		ref, err := d.msg.Reply(ctx, t, msg)
		if t.Thread == "" && ref.Thread != "" && threadless[t.Channel] {
			o.started = &MessageRef{Channel: t.Channel, ID: t.ID, Thread: ref.Thread, URL: t.URL}
		}
		if werr, late := waitsTooLong(ctx, err); late {
			// The platform asked to wait past the notice's time: failed,
			// and not tried again.
			o.err = werr
			dealt(t)
			return true
		}
		if err != nil && ctx.Err() != nil {
			if late, ok := tooLateCause(ctx); ok {
				// Its time has passed: failed, and not tried again.
				o.err = fmt.Errorf("%w: %w", late.failedTarget(), err)
				dealt(t)
				return true
			}
			o.cut = fmt.Errorf("deliver %s of %s: %w", kind, u.Key(), errors.Join(ctx.Err(), err))
			return false
		}
		o.err = err
		if err != nil && retry && tryLater(err) {
			return true // not dealt with: tried again
		}
		if err == nil {
			d.obs.Notice(kind, NoticePosted)
		}
		dealt(t)
		return true
	}, func(i int, err error) {
		out[i].tried, out[i].err = true, err
		dealt(todo[i]) // recorded below, once
	})
	var cut error
	for i, o := range out {
		ch := todo[i].Channel
		if o.tried {
			tried = append(tried, ch)
		}
		if o.started != nil {
			started = append(started, *o.started)
		}
		if o.err != nil {
			fail(ch, o.err)
		} else if at, ok := laterRecorded(done, ch); ok && o.tried && o.cut == nil {
			madeGood = append(madeGood, Failure{Target: ch, At: at})
		}
		if o.cut != nil {
			cuts++
			if cut == nil {
				cut = o.cut
			}
		}
	}
	if cut == nil && len(pending) > 0 {
		return &laterError{channels: pending, errs: pendingErrs}
	}
	return cut
}

// madeGood marks the failures of a notice of kind in the channels and
// recorded at the times given (toThreads: a later attempt reached those
// channels) posted after all, so the root no longer counts them and `show`
// says when.
func (d *Delivery) madeGood(ctx context.Context, u *Upgrade, kind Kind, good []Failure) {
	if len(good) == 0 {
		return
	}
	bctx, cancel := bookkeeping(ctx)
	defer cancel()
	at := d.now().UTC()
	_, err := change(bctx, d.store, d.now, u.ID, func(x *Upgrade) (Decision, error) {
		changed := false
		for i, f := range x.Failures {
			if f.Notice == string(kind) && f.PostedAt.IsZero() && slices.ContainsFunc(good, func(g Failure) bool { return g.Target == f.Target && g.At.Equal(f.At) }) {
				x.Failures[i].PostedAt, changed = at, true
			}
		}
		if !changed {
			return Decision{}, errUnchanged
		}
		return Decision{}, nil
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		d.log.WarnContext(ctx, "marking a failed notice posted after all failed; show still lists it as failed", "upgrade", u.Key(), "notice", kind, "err", err)
		return
	}
	if err == nil {
		d.refreshRoot(u.ID)
	}
}

// threadsStarted remembers the threads a notice started on roots that had
// none (the platform could not start them when the root was posted), so
// later notices reply in them, and marks the failures of those threads
// made good, so the root no longer counts them.
func (d *Delivery) threadsStarted(ctx context.Context, u *Upgrade, started []MessageRef) {
	if len(started) == 0 {
		return
	}
	bctx, cancel := bookkeeping(ctx)
	defer cancel()
	at := d.now().UTC()
	saved, err := change(bctx, d.store, d.now, u.ID, func(x *Upgrade) (Decision, error) {
		changed := false
		for _, r := range started {
			for i, t := range x.Threads {
				if t.Channel == r.Channel && t.ID == r.ID && t.Thread == "" {
					x.Threads[i].Thread, changed = r.Thread, true
				}
			}
			for i, f := range x.Failures {
				if f.Notice == string(KindThread) && f.Target == r.Channel && f.PostedAt.IsZero() {
					x.Failures[i].PostedAt, changed = at, true
				}
			}
		}
		if !changed {
			return Decision{}, errUnchanged // another replica remembered it first
		}
		return Decision{}, nil
	})
	if errors.Is(err, errUnchanged) {
		return
	}
	if err != nil {
		d.log.WarnContext(ctx, "remembering a thread started late failed; the next notice starts it again", "upgrade", u.Key(), "err", err)
		return
	}
	u.Threads = saved.Threads
	d.refreshRoot(u.ID)
}

// bookkeeping is a context for the store writes that must happen even when
// ctx has ended (shutdown, a task out of time): marks, failures, Done.
func bookkeeping(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}

// failed records fails on the upgrade and tells the invoker, if any.
func (d *Delivery) failed(ctx context.Context, u *Upgrade, fails []Failure, inv *Invoker) {
	if len(fails) == 0 {
		return
	}
	bctx, cancel := bookkeeping(ctx)
	defer cancel()
	d.recordFailures(bctx, u.ID, fails)
	d.tellInvoker(bctx, u, inv, fails)
}

// tellInvoker lets whoever typed the command know, privately and by the way
// they came, that part of its effect did not reach a channel, and what to
// do about it.
func (d *Delivery) tellInvoker(ctx context.Context, u *Upgrade, inv *Invoker, fails []Failure) {
	if inv == nil || inv.User == "" || len(fails) == 0 {
		return
	}
	if err := answer(ctx, d.msg, *inv, deliveryFailed(u, fails)); err != nil {
		d.log.WarnContext(ctx, "telling the invoker about a failed delivery failed", "upgrade", u.Key(), "actor", inv.User, "err", err)
	}
}

// Answer tells the invoker of a command privately, by the way they came.
func (d *Delivery) Answer(ctx context.Context, to Invoker, m Message) error {
	return answer(ctx, d.msg, to, m)
}

// gaveUp logs that a notice sent again later (threadNotice.retry) is no
// longer tried in the channels it has not reached; their failures are
// recorded already.
func (d *Delivery) gaveUp(ctx context.Context, u *Upgrade, kind Kind, later *laterError) {
	d.log.ErrorContext(ctx, "notice not delivered; no longer tried", "upgrade", u.Key(), "notice", kind, "channels", later.channels, "err", errors.Join(later.errs...))
}

func (d *Delivery) failure(ctx context.Context, u *Upgrade, k Kind, target string, err error) Failure {
	d.log.ErrorContext(ctx, "notice not delivered", "upgrade", u.Key(), "notice", k, "target", target, "err", err)
	d.obs.Notice(k, NoticeFailed)
	return Failure{At: d.now().UTC(), Notice: string(k), Target: target, Error: detail(d.redact(err.Error())), Advice: ErrorAdvice(err)}
}

// TryLaterError is an optional capability of a platform's error: whether
// the same call may succeed later and surely did not take effect (the
// platform was failing, busy or out of reach after the messenger's own
// retries). Only such a failure of a root message is tried again later
// (owedRoots); a channel that does not exist, a message deleted by hand or
// a post that may have gone through is not.
type TryLaterError interface {
	error
	TryLater() bool
}

// WaitError is an optional capability of a platform's error: the platform
// asked to be called again only after a while (a rate limit's Retry-After)
// that the messenger did not wait, as it was longer than it could. A
// notice whose time would pass by then (a reminder, once the window has
// opened) is recorded as not posted in time, saying so, and not tried
// again (waitsTooLong).
type WaitError interface {
	error
	Wait() time.Duration // the wait asked for; 0 when none
}

// PostedError is an optional capability of an error of Messenger.Post:
// Posted says the message was posted all the same, and the MessageRef
// returned with the error is good; only a part of it failed (the thread a
// platform starts on a root: Discord). The root stands, so it is not
// posted again; the failure is recorded as one of KindThread, told to the
// invoker, and the next notice tries that part again.
type PostedError interface {
	error
	Posted() bool
}

// posted reports whether err, or one it wraps, says the message was posted.
func posted(err error) bool {
	var p PostedError
	return errors.As(err, &p) && p.Posted()
}

// tryLater reports whether err, or one it wraps, says to try again later.
func tryLater(err error) bool {
	var t TryLaterError
	return errors.As(err, &t) && t.TryLater()
}

// AdvisedError is an optional capability of a platform's error: what to
// do about it, in one short sentence ("Unarchive the channel, or change
// the service's channels."). The invoker of a command whose notice failed
// is told it, rather than the core's general advice.
type AdvisedError interface {
	error
	Advice() string
}

// ErrorAdvice is the advice of the first AdvisedError in err's chain; ""
// when there is none.
func ErrorAdvice(err error) string {
	if err == nil {
		return ""
	}
	if a, ok := err.(AdvisedError); ok {
		if s := a.Advice(); s != "" {
			return s
		}
	}
	// The first advice found in the chain, joined errors included: an
	// error that has none lets a later one speak.
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return ErrorAdvice(u.Unwrap())
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if s := ErrorAdvice(e); s != "" {
				return s
			}
		}
	}
	return ""
}

// ErrorDetail is the error text kept on the upgrade: the platform's reason.
// Adapters' errors carry no tokens of their own, but a server may echo back
// what it was sent: the Bot hides secrets first (Options.Redact).
func ErrorDetail(err error) string { return detail(err.Error()) }

// detail cuts an error text to 300 bytes, after secrets were hidden (so
// that no cut leaves part of one).
func detail(s string) string {
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func (d *Delivery) recordFailures(ctx context.Context, id int, fails []Failure) {
	if len(fails) == 0 {
		return
	}
	if _, err := change(ctx, d.store, d.now, id, func(x *Upgrade) (Decision, error) {
		x.Failures = append(x.Failures, fails...)
		return Decision{}, nil
	}); err != nil {
		d.log.ErrorContext(ctx, "recording failed delivery failed", "upgrade", id, "err", err)
	}
	d.refreshRoot(id)
}

// postRoots posts the root of u in each of its channels that has no thread
// yet (a re-run after a crash does not post a second root where the first
// made it), remembers the threads (in u too), and records the channels it
// could not reach, telling the invoker; it returns their errors by
// channel. A channel it could not reach is owed (owedRoots): the root is
// tried there again later. When ctx ends first it returns ctx's error.
func (d *Delivery) postRoots(ctx context.Context, u *Upgrade, inv *Invoker) (map[string]error, error) {
	errs, err := d.postRootsAs(ctx, u, inv, recordAll, nil)
	d.oweRoots(u.ID, errs)
	return errs, err
}

// oweRoots owes the roots of upgrade id when a post failed in a way that
// may pass (TryLaterError).
func (d *Delivery) oweRoots(id int, errs map[string]error) {
	var chans []string
	for ch, err := range errs {
		if tryLater(err) {
			chans = append(chans, ch)
		}
	}
	if len(chans) > 0 {
		d.owed.oweChannels(id, d.now(), chans)
	}
}

// rootRecord says which failures of a root post postRootsAs records on
// the upgrade.
type rootRecord int

const (
	recordAll     rootRecord = iota // the first post: every failure
	recordNone                      // a notice's: it records its own failure, with the root's error
	recordLasting                   // a retry's: a failure that may not pass (the one before said it might)
)

// postRootsAs is postRoots, recording the failures that record says (the
// others are only logged), in the channels of only when it is not nil.
func (d *Delivery) postRootsAs(ctx context.Context, u *Upgrade, inv *Invoker, record rootRecord, only []string) (map[string]error, error) {
	acks, err := d.store.Acks(ctx, u.ID)
	if err != nil {
		d.log.ErrorContext(ctx, "loading acks failed", "upgrade", u.Key(), "err", err)
	}
	// The root, as it shows once posted: not counting the failures of the
	// posts it makes good.
	shown := *u
	shown.Failures = slices.Clone(u.Failures)
	missing := missingRoots(u)
	if only != nil {
		missing = slices.DeleteFunc(missing, func(ch string) bool { return !slices.Contains(only, ch) })
	}
	for i, f := range shown.Failures {
		if f.Notice == string(KindRoot) && f.PostedAt.IsZero() && slices.Contains(missing, f.Target) {
			shown.Failures[i].PostedAt = d.now().UTC()
		}
	}
	root := d.dir.Root(&shown, acks)
	rendered := u.Rev
	ver := rootVersion{rev: rendered, acks: len(acks)}
	if err != nil {
		ver.acks = -1 // shows no acks, whatever the count: never the same as an edit's
	}
	var fails []Failure
	var errs map[string]error
	var cut error
	cuts := 0
	var tried []string
	// Each channel's outcome, merged in the channels' order once every
	// platform is done (sideBySide).
	type outcome struct {
		tried bool
		found *MessageRef // the root another replica posted there
		ref   *MessageRef // the root this one posted
		fail  *Failure
		err   error // the post's failure
		cut   error
		// The upgrade as saved with this root's thread, or why it could
		// not be saved.
		saved   *Upgrade
		saveErr error
	}
	out := make([]outcome, len(missing))
	failed := func(o *outcome, ch string, err error) {
		o.err = err
		if record == recordAll || (record == recordLasting && !tryLater(err)) {
			f := d.failure(ctx, u, KindRoot, ch, err)
			o.fail = &f
			if tryLater(err) {
				d.owed.failing(u.ID) // logged: the retries' failures that follow are not
			}
		} else {
			d.obs.Notice(KindRoot, NoticeFailed)
			if tryLater(err) {
				d.rootFailed(ctx, u, "posting the root message again failed", ch, err)
			} else {
				// For good (the notice records it): not part of a
				// streak, which only an outage that may pass makes.
				d.log.WarnContext(ctx, "posting the root message again failed", "upgrade", u.Key(), "channel", ch, "err", err)
			}
		}
	}
	d.sideBySide(missing, func(i int) bool {
		ch, o := missing[i], &out[i]
		// One replica posts a root: a notice here and a retry or a notice
		// on another replica may find the same channel without its root.
		key := rootClaim(u.ID, ch)
		post, owned := true, false
		if d.once != nil {
			var err error
			post, owned, o.found, err = d.claimRoot(ctx, u.ID, ch, key)
			if err != nil {
				o.cut = fmt.Errorf("wait for the root of %s in %s: %w", u.Key(), ch, err)
				return false
			}
		}
		if !post { // the other replica's root is there now
			return true
		}
		o.tried = true
		ref, err := d.postClaimed(ctx, ch, root, ver, key, owned)
		if err != nil && posted(err) {
			// The root stands but its thread could not be started: a
			// failure of its own, recorded as a notice's is (a notice's
			// post leaves it to the notice, whose reply tries again).
			if record == recordNone {
				d.log.WarnContext(ctx, "the root was posted but its thread could not be started; the next notice tries again", "upgrade", u.Key(), "channel", ch, "err", err)
				d.obs.Notice(KindThread, NoticeFailed)
			} else {
				f := d.failure(ctx, u, KindThread, ch, err)
				o.fail = &f
			}
			err = nil
		}
		if err != nil && ctx.Err() != nil {
			o.cut = fmt.Errorf("post the root of %s: %w", u.Key(), errors.Join(ctx.Err(), err))
			return false
		}
		if err != nil {
			failed(o, ch, err)
			return true
		}
		d.obs.Notice(KindRoot, NoticePosted)
		o.ref = &ref
		// Saved at once, not once every platform is done: a replica that
		// dies while another platform is slow must not leave this root
		// unknown, to be posted again by the replica that recovers the
		// notice.
		o.saved, o.saveErr = d.saveThread(ctx, u.ID, ref)
		return true
	}, func(i int, err error) {
		out[i].tried = true
		if out[i].ref != nil { // posted: saving its thread panicked
			out[i].saved, out[i].saveErr = nil, err
			return
		}
		failed(&out[i], missing[i], err)
	})
	var last *Upgrade
	var unsaved []MessageRef
	saves := 0
	for i, o := range out {
		ch := missing[i]
		if o.found != nil {
			u.Threads = append(u.Threads, *o.found)
		}
		if o.tried {
			tried = append(tried, ch)
		}
		if o.fail != nil {
			fails = append(fails, *o.fail)
		}
		if o.err != nil {
			if errs == nil {
				errs = map[string]error{}
			}
			errs[ch] = o.err
		}
		if o.cut != nil {
			cuts++
			if cut == nil {
				cut = o.cut
			}
		}
		// The threads as the last save left them (each save added one to
		// what the one before had saved), and those that could not be
		// saved.
		switch {
		case o.ref == nil:
		case o.saveErr != nil || o.saved == nil:
			d.log.ErrorContext(ctx, "saving threads failed", "upgrade", u.Key(), "channel", ch, "err", o.saveErr)
			unsaved = append(unsaved, *o.ref)
		default:
			saves++
			if last == nil || o.saved.Rev > last.Rev {
				last = o.saved
			}
		}
	}
	if last != nil {
		threads := slices.Clone(last.Threads)
		for _, t := range u.Threads {
			if !slices.ContainsFunc(threads, func(x MessageRef) bool { return x.Channel == t.Channel }) {
				threads = append(threads, t)
			}
		}
		u.Threads = threads
	}
	u.Threads = append(u.Threads, unsaved...)
	if saves > 0 || len(unsaved) > 0 {
		// A change or a press while the roots were being posted is not in
		// what they show, and its refresh may have found no thread to
		// edit yet: look again.
		if v, ok := d.version(ctx, u.ID); !ok || v != (rootVersion{rev: rendered + saves, acks: len(acks)}) {
			d.refreshRoot(u.ID)
		}
	}
	d.failed(ctx, u, fails, inv)
	if record == recordAll {
		rootFails := 0 // a thread that could not be started is no root that failed
		for _, f := range fails {
			if f.Notice == string(KindRoot) {
				rootFails++
			}
		}
		d.logNotice(ctx, u, KindRoot, tried, rootFails, cuts)
	}
	return errs, cut
}

// saveThread remembers ref, the thread of a root just posted, on upgrade
// id, and marks a failure of that root made good; it returns the upgrade
// as saved. The root stands, so a store that does not answer is tried
// again (a Redis that hung for half a minute lost the thread: the next
// notice found no thread to reply in, and the root was posted a second
// time once its claim expired): until 10 s after ctx's deadline, before
// another replica may take the notice over (RecoverAfter), or for
// rootSaveBudget without a deadline. Other errors are not tried again.
func (d *Delivery) saveThread(ctx context.Context, id int, ref MessageRef) (*Upgrade, error) {
	give := time.Now().Add(rootSaveBudget)
	if dl, ok := ctx.Deadline(); ok {
		give = dl.Add(10 * time.Second)
	}
	wait := 100 * time.Millisecond
	for {
		u, err := d.saveThreadOnce(ctx, id, ref)
		if err == nil || !(Unavailable(err) || errors.Is(err, context.DeadlineExceeded)) || time.Now().Add(wait).After(give) {
			return u, err
		}
		d.log.WarnContext(ctx, "saving the thread of a root posted failed; trying again", "upgrade", id, "channel", ref.Channel, "err", err)
		t := time.NewTimer(wait)
		<-t.C // not ctx: the root stands, and its thread must be known
		wait = min(2*wait, 5*time.Second)
	}
}

// rootSaveBudget bounds how long saveThread tries without a deadline.
const rootSaveBudget = 2 * time.Minute

func (d *Delivery) saveThreadOnce(ctx context.Context, id int, ref MessageRef) (*Upgrade, error) {
	bctx, cancel := bookkeeping(ctx)
	defer cancel()
	at := d.now().UTC()
	return change(bctx, d.store, d.now, id, func(x *Upgrade) (Decision, error) {
		if !slices.ContainsFunc(x.Threads, func(t MessageRef) bool { return t.Channel == ref.Channel }) {
			x.Threads = append(x.Threads, ref)
		}
		for i, f := range x.Failures { // a root that failed before is there now
			if f.Notice == string(KindRoot) && f.Target == ref.Channel && f.PostedAt.IsZero() {
				x.Failures[i].PostedAt = at
			}
		}
		return Decision{}, nil
	})
}

// rootClaim is the Once key of the post of upgrade id's root in channel.
func rootClaim(id int, channel string) string {
	return "root:" + strconv.Itoa(id) + ":" + channel
}

// unclaim gives back the claim of a root post that failed, so the next
// notice or a retry may try it.
func (d *Delivery) unclaim(ctx context.Context, key string) {
	f, ok := d.once.(Forgetter)
	if !ok {
		return
	}
	bctx, cancel := bookkeeping(ctx)
	defer cancel()
	if err := f.Forget(bctx, key); err != nil {
		d.log.WarnContext(ctx, "giving back a root post failed; the next try waits for it to expire", "key", key, "err", err)
	}
}

// claimRoot claims the post of upgrade id's root in channel ch (key) for
// this replica. While another replica holds the claim it waits, until that
// root's thread is saved (it returns it as found: post false), the claim is given
// back or expires (it claims it), or ctx ends (its error: the notice is
// tried again later, as any cut short). owned says whether this replica
// holds the claim: when the claim cannot be read it posts anyway (posting
// beats staying silent) without owning it.
func (d *Delivery) claimRoot(ctx context.Context, id int, ch, key string) (post, owned bool, found *MessageRef, err error) {
	t := time.NewTicker(claimPoll)
	defer t.Stop()
	for {
		first, err := d.once.First(ctx, key, rootClaimTTL)
		if err != nil {
			return true, false, nil, nil
		}
		if first {
			return true, true, nil, nil
		}
		if x, err := d.store.Get(ctx, id); err == nil {
			for _, th := range x.Threads {
				if th.Channel == ch {
					return false, false, &th, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return false, false, nil, ctx.Err()
		case <-t.C:
		}
	}
}

// postClaimed posts a root whose post this replica claimed (owned), and
// gives the claim back unless the post went out: a failure, a post cut
// short or a panic leaves the next notice or retry free to post it at
// once, not after the claim expires.
func (d *Delivery) postClaimed(ctx context.Context, ch string, root Message, v rootVersion, key string, owned bool) (ref MessageRef, err error) {
	if owned {
		defer func() {
			if r := recover(); r != nil {
				d.unclaim(ctx, key)
				panic(r)
			}
			if err != nil && !posted(err) {
				d.unclaim(ctx, key)
			}
		}()
	}
	ref, err = d.msg.Post(ctx, ch, root)
	if err == nil {
		d.shown.posted(ref, root, v)
	}
	return ref, err
}

// rootClaimTTL bounds how long a claimed root post keeps others waiting
// when the replica that claimed it dies before it can give it back.
const rootClaimTTL = taskTimeout

// claimPoll is how often a notice looks for a root another replica posts.
const claimPoll = 250 * time.Millisecond

// missingRoots are the channels of u whose root was never posted: no
// thread there.
func missingRoots(u *Upgrade) []string {
	var out []string
	for _, ch := range u.Channels {
		if !slices.ContainsFunc(u.Threads, func(t MessageRef) bool { return t.Channel == ch }) {
			out = append(out, ch)
		}
	}
	return out
}

// logNotice logs the one line of a notice: its kind, its upgrade, the
// platforms it went to and how it went (posted, partly posted, failed;
// interrupted when ctx ended before some targets were dealt with: cut of
// them were neither posted nor recorded as failed, and are tried again).
func (d *Delivery) logNotice(ctx context.Context, u *Upgrade, kind Kind, targets []string, failed, cut int) {
	if len(targets) == 0 {
		return
	}
	var platforms []string
	for _, t := range targets {
		if p := platformOf(t); !slices.Contains(platforms, p) {
			platforms = append(platforms, p)
		}
	}
	result := "posted"
	switch {
	case cut > 0:
		result = "interrupted"
	case failed >= len(targets):
		result = "failed"
	case failed > 0:
		result = "partly posted"
	}
	attrs := []slog.Attr{slog.String("notice", string(kind)), slog.String("upgrade", u.Key()),
		slog.String("platform", strings.Join(platforms, ",")), slog.Int("targets", len(targets)), slog.Int("failed", failed)}
	if cut > 0 {
		attrs = append(attrs, slog.Int("interrupted", cut))
	}
	d.log.LogAttrs(ctx, slog.LevelInfo, "notice", append(attrs, slog.String("outcome", result))...)
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
func (d *Delivery) refreshRoot(id int) {
	if d.edits.queued(id) { // it has not started: it will show this too (and no closure is made)
		return
	}
	d.edits.coalesce(id, func(ctx context.Context) {
		ctx = WithRootRefresh(ctx)
		d.settle(ctx, id, d.editRoots(ctx, id))
	})
}

// editRoots edits the root messages of upgrade id to show its stored
// state. It reports whether a root is still stale in a way that may pass:
// an edit failed after the messenger's retries with a TryLaterError, or
// the state could not be read. The caller owes it (owedRoots), and
// retryRoots tries again later, so the final state is always shown.
func (d *Delivery) editRoots(ctx context.Context, id int) rootsState {
	u, err := d.store.Get(ctx, id)
	if err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return rootsState{complete: true}
		}
		d.log.ErrorContext(ctx, "refresh: loading upgrade failed", "upgrade", id, "err", err)
		return rootsState{stale: true}
	}
	// The acknowledgments kept since the last refresh, when they are
	// current or this replica's presses being written explain the
	// difference (each refreshes again once recorded).
	acks, err := d.acks.get(ctx, id, true)
	if err != nil {
		d.log.ErrorContext(ctx, "refresh: loading acks failed", "upgrade", id, "err", err)
		return rootsState{stale: true}
	}
	shown := rootVersion{rev: u.Rev, acks: len(acks)}
	root := d.dir.Root(u, acks)
	fp, fpOK := fingerprint(root)
	var failed atomic.Bool
	chans := make([]string, len(u.Threads))
	for i, t := range u.Threads {
		chans[i] = t.Channel
	}
	d.sideBySide(chans, func(i int) bool {
		t := u.Threads[i]
		if d.shown.begin(t, fp, fpOK, shown) {
			return true // it shows this already: an edit would change nothing
		}
		err := d.msg.Edit(ctx, t, root)
		d.shown.done(t, fp, fpOK, err == nil, shown)
		if err != nil {
			if tryLater(err) {
				failed.Store(true)
			}
			d.obs.Notice(KindRoot, NoticeEditFailed)
			if tryLater(err) {
				d.rootFailed(ctx, u, "editing root message failed; trying again later", t.Channel, err)
			} else {
				// For good (the message was deleted, say): not tried
				// again, and not part of a streak.
				d.log.WarnContext(ctx, "editing root message failed", "upgrade", u.Key(), "channel", t.Channel, "err", err)
			}
		} else {
			d.obs.Notice(KindRoot, NoticeEdited)
		}
		return true
	}, func(int, error) { d.obs.Notice(KindRoot, NoticeEditFailed) })
	if now, ok := d.version(ctx, id); ok && now != shown {
		d.refreshRoot(id)
	}
	return rootsState{stale: failed.Load(), complete: !u.State.Active() || len(missingRoots(u)) == 0}
}

// rootsState is how an upgrade's roots stand after editRoots.
type rootsState struct {
	stale    bool // an edit failed in a way that may pass, or the state could not be read
	complete bool // every channel of the running upgrade has its root
}

// settle owes upgrade id's roots when they are stale, and forgets them
// when every root is there and shows the state. A root missing for a
// failure that may not pass stays owed only if a post that may pass
// failed too (postRoots owes it). The failure streak ends, with one INFO,
// once every edit passed and no post that may pass is owed, whatever
// root is missing for good (a channel that does not exist).
func (d *Delivery) settle(ctx context.Context, id int, st rootsState) {
	if st.stale {
		d.owed.owe(id, d.now())
		return
	}
	if st.complete {
		d.owed.clear(id)
	}
	if len(d.owed.channelsOf(id)) > 0 {
		return // a root post that may pass is still owed
	}
	if n := d.owed.recovered(id); n > 0 {
		d.log.InfoContext(ctx, "root messages show the upgrade again", "upgrade", commands.FormatID(id), "failures", n)
	}
}

// rootFailed logs a failure of a root message of u in ch: a WARN when it
// starts a streak of failures of u's roots, at DEBUG while the streak
// lasts (each background retry fails again during an outage), and the
// streak's end once, as an INFO (settle). A failure that may not pass is
// recorded on the upgrade, not logged here.
func (d *Delivery) rootFailed(ctx context.Context, u *Upgrade, msg, ch string, err error) {
	level := slog.LevelDebug
	if d.owed.failing(u.ID) {
		level = slog.LevelWarn
	}
	d.log.Log(ctx, level, msg, "upgrade", u.Key(), "channel", ch, "err", err)
}

// version is the revision and the count of acknowledgments of upgrade id.
func (d *Delivery) version(ctx context.Context, id int) (rootVersion, bool) {
	if d.acks.versions != nil {
		rev, n, err := d.acks.versions.Version(ctx, id)
		return rootVersion{rev: rev, acks: n}, err == nil
	}
	u, err := d.store.Get(ctx, id)
	if err != nil {
		return rootVersion{}, false
	}
	acks, err := d.store.Acks(ctx, id)
	if err != nil {
		return rootVersion{}, false
	}
	return rootVersion{rev: u.Rev, acks: len(acks)}, true
}

// toPerson sends a direct message to a person, trying each of her
// identities in order until one platform takes it; it returns every
// identity's error otherwise.
func (d *Delivery) toPerson(ctx context.Context, p Principal, m Message) error {
	var errs []error
	for _, id := range p.IDs {
		_, err := d.msg.Direct(ctx, id, m)
		if err == nil {
			d.log.LogAttrs(ctx, slog.LevelInfo, "notice", slog.String("notice", string(m.Kind)), slog.String("upgrade", m.UpgradeID),
				slog.String("platform", platformOf(id)), slog.String("to", p.Key), slog.String("outcome", "posted"))
			d.obs.Notice(m.Kind, NoticePosted)
			return nil
		}
		errs = append(errs, err)
	}
	d.log.LogAttrs(ctx, slog.LevelInfo, "notice", slog.String("notice", string(m.Kind)), slog.String("upgrade", m.UpgradeID),
		slog.String("to", p.Key), slog.String("outcome", "failed"))
	if len(errs) == 0 {
		return fmt.Errorf("%s has no identity to message", p.Key)
	}
	return errors.Join(errs...)
}

// flush waits until every queued task has run.
func (d *Delivery) flush() {
	for {
		d.out.flush()
		d.edits.flush() // a refresh may queue a notice's retry, and a notice a refresh
		if n, _ := d.pending(); n == 0 {
			return
		}
	}
}

// pending counts the delivery tasks queued or running, and of them the
// root refreshes.
func (d *Delivery) pending() (tasks, refreshes int) {
	tasks, refreshes = d.out.pending()
	if d.edits != d.out {
		t, r := d.edits.pending()
		tasks, refreshes = tasks+t, refreshes+r
	}
	return tasks, refreshes
}
