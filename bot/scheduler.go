package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// SchedulerOptions tunes the scheduler; zero values take the defaults.
type SchedulerOptions struct {
	Now     Clock        // default: the Bot's clock
	Logger  *slog.Logger // default: the Bot's logger
	Lease   time.Duration
	MaxIdle time.Duration // the longest sleep without looking at the queue (30s)
	// Batch is the most jobs claimed per round trip (20); a claim takes
	// no more than there are free workers.
	Batch int
	// Workers is how many jobs run at once (4), each upgrade's in a lane
	// of its own: one after the other, in due order, while the lanes of
	// other upgrades run beside it. The scheduler claims due jobs whenever
	// a worker is free, so a slow job holds up only its own upgrade's.
	Workers int
	// JobTimeout is one job's budget (30s), never more than what is left
	// of its claim's lease (Lease, 2m: how long claimed jobs are ours
	// before others may retake them).
	JobTimeout time.Duration
	// Grace is how long a job already started may go on once Run's context
	// ends (shutdown), before it is cut off and put back (5s).
	Grace time.Duration
	// RetryMin and RetryMax bound the back-off of a failed job: it is due
	// again RetryMin after its first failure, twice as long after each
	// further one, at most RetryMax (5s, 5m).
	RetryMin, RetryMax time.Duration
	// Reconcile is how often Run re-plans the upgrades whose jobs are behind
	// their revision (5m); Run also re-plans every active upgrade when it
	// starts, retrying (1s doubling to 30s) until that succeeds, as Redis
	// may be down then. Negative disables both.
	Reconcile time.Duration
	// LateAfter is how late a job may be before its notice says so (1m).
	LateAfter time.Duration
	// When, if set, runs f once the clock Now reaches moment, and returns
	// a func that stops that (reporting whether it did): a test's clock
	// moved by hand (bottest.Clock.When). A notice whose time runs out at
	// moment (a reminder once the window opens) is then given up when
	// that clock gets there, as well as when the wall clock does. Default:
	// the wall clock alone (the same clock in production).
	When func(moment time.Time, f func()) (stop func() bool)
}

func (o SchedulerOptions) withDefaults(now Clock, log *slog.Logger) SchedulerOptions {
	if o.Now == nil {
		o.Now = now
	}
	if o.Logger == nil {
		o.Logger = log
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.MaxIdle <= 0 {
		o.MaxIdle = 30 * time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 20
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.JobTimeout <= 0 {
		o.JobTimeout = 30 * time.Second
	}
	if o.Grace <= 0 {
		o.Grace = 5 * time.Second
	}
	if o.RetryMin <= 0 {
		o.RetryMin = 5 * time.Second
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = max(5*time.Minute, o.RetryMin)
	}
	if o.Reconcile == 0 {
		o.Reconcile = 5 * time.Minute
	}
	if o.LateAfter <= 0 {
		o.LateAfter = time.Minute
	}
	return o
}

// schedulerParts are the parts of the core a Scheduler works with.
type schedulerParts struct {
	cfg   Config
	dir   *Directory
	store Store
	queue JobQueue
	out   *Delivery
	ev    *events
}

// Scheduler turns an upgrade's window into due jobs (reminders, window
// open, overrun, escalation: PlanJobs) and sends what each stands for when
// it falls due, through a runner on the shared JobQueue. When the queue
// also implements Once, escalations are de-duplicated per person and
// scope; when it implements DeliveryLog, a retried notice skips the
// threads it already reached.
type Scheduler struct {
	schedulerParts
	rules PlanRules
	run   *runner
	once  Once
	dlog  DeliveryLog
	sent  SentLog
	o     SchedulerOptions
	log   *slog.Logger
	// series runs the jobs of recurring upgrades (the Bot); nil: skipped.
	series seriesRunner
}

func newScheduler(p schedulerParts, o SchedulerOptions, now Clock, log *slog.Logger) *Scheduler {
	o = o.withDefaults(now, log)
	s := &Scheduler{schedulerParts: p, o: o, log: o.Logger,
		rules: PlanRules{Reminders: p.cfg.Reminders, EscalateAfter: p.cfg.EscalateAfter}}
	s.once, _ = p.queue.(Once)
	s.dlog, _ = p.queue.(DeliveryLog)
	s.sent, _ = p.queue.(SentLog)
	s.run = &runner{q: p.queue, o: o, now: o.Now, log: o.Logger, exec: s.execute, obs: p.out.obs}
	return s
}

// Jobs lists every job the upgrade's state calls for (PlanJobs).
func (s *Scheduler) Jobs(u *Upgrade) []Job { return PlanJobs(u, s.rules) }

// Plan implements Planner: it replaces the upgrade's jobs and wakes every replica.
func (s *Scheduler) Plan(ctx context.Context, u *Upgrade) error {
	if err := s.queue.ReplaceJobs(ctx, u.ID, u.Rev, s.Jobs(u), s.o.Now()); err != nil {
		return fmt.Errorf("plan jobs of %s: %w", u.Key(), err)
	}
	if err := s.queue.Wake(ctx); err != nil {
		s.log.WarnContext(ctx, "waking schedulers failed", "err", err)
	}
	return nil
}

// Run claims and runs due jobs until ctx ends. It also reconciles the plans
// (see Reconcile) when it starts, retrying until that succeeds, and every
// Options.Reconcile. When ctx ends, jobs claimed but not started go back to
// the queue at once and a job already started gets Options.Grace to finish;
// Run returns when that is done.
func (s *Scheduler) Run(ctx context.Context) error {
	var bg sync.WaitGroup
	defer bg.Wait()
	if s.o.Reconcile > 0 {
		bg.Go(func() { s.reconcileLoop(ctx) })
	}
	s.run.loop(ctx)
	return nil
}

// NextDue is when the earliest planned job falls due (the console steps
// its clock from one to the next).
func (s *Scheduler) NextDue(ctx context.Context) (time.Time, bool, error) {
	return s.queue.NextDue(ctx)
}

// Backlog counts the jobs due now that no replica is running: the backlog
// of every scheduler sharing the queue, for metrics. A queue that cannot
// count them (DueCounter) gives errors.ErrUnsupported.
func (s *Scheduler) Backlog(ctx context.Context) (int, error) {
	c, ok := s.queue.(DueCounter)
	if !ok {
		return 0, errors.ErrUnsupported
	}
	return c.DueJobs(ctx, s.o.Now())
}

// RunDue runs every job due now and reports how many it started (see runner).
func (s *Scheduler) RunDue(ctx context.Context) (int, error) { return s.run.runDue(ctx) }

// jobProgress remembers the threads one claimed job dealt with.
type jobProgress struct {
	log DeliveryLog
	j   Job
}

func (p jobProgress) reached(ctx context.Context) ([]string, error) { return p.log.Delivered(ctx, p.j) }
func (p jobProgress) mark(ctx context.Context, part string) error {
	return p.log.MarkDelivered(ctx, p.j, part)
}

// notice sends m to the threads of u for job j, by the rules of every
// thread notice (Delivery.toThreads).
func (s *Scheduler) notice(ctx context.Context, u *Upgrade, j Job, m Message) error {
	var pr progress
	if s.dlog != nil {
		pr = jobProgress{log: s.dlog, j: j}
	}
	err := s.out.toThreads(ctx, u, threadNotice{msg: m, progress: pr, retry: pr != nil, again: j.Attempt > 0})
	later, ok := errors.AsType[*laterError](err)
	if !ok || s.tryAgain(u, j) {
		return err // a laterError: the runner sends it again after its back-off
	}
	s.out.gaveUp(ctx, u, m.Kind, later)
	return nil
}

// noticeBefore is notice, given up at moment by the scheduler's clock,
// when it is no longer useful (a reminder once the window has opened, a
// window-open notice once it has ended): a platform's Retry-After that
// would end later is not waited for, and a thread not reached by then is
// recorded as failed, not cut off and tried again (toThreads, tooLate).
//
// cut reports whether moment cut the notice short in some channel: it was
// recorded as failed there, not posted in time.
func (s *Scheduler) noticeBefore(ctx context.Context, moment time.Time, why string, u *Upgrade, j Job, m Message) (cut bool, err error) {
	// A context's deadline is on the wall clock; the moment is on the
	// scheduler's (the same in production).
	late := &tooLate{why: why, at: time.Now().Add(moment.Sub(s.o.Now()))}
	if s.o.When != nil {
		var end context.CancelCauseFunc
		ctx, end = context.WithCancelCause(ctx)
		defer end(nil)
		defer s.o.When(moment, func() { end(late) })()
	}
	nctx, cancel := withTooLate(ctx, late)
	defer cancel()
	err = s.notice(nctx, u, j, m)
	return late.cut.Load(), err
}

// sentMostly reports whether a notice's error (Scheduler.notice) leaves
// it sent everywhere it could be for now: none, or a *laterError (the
// failures that may pass are recorded, and the job is run again for them).
// What follows a sent notice (its event, the escalation's clock) then
// happens at once; both are written once however often the job runs.
func sentMostly(err error) bool {
	_, later := errors.AsType[*laterError](err)
	return err == nil || later
}

// laterFor is how long a scheduler's notice that a platform failed in a way
// that may pass (a rate limit longer than the job could wait, a platform
// failing or out of reach) is tried again, at most, counted in the job's
// back-off (5 s, 10 s, 20 s … by default).
const laterFor = 10 * time.Minute

// tryAgain reports whether job j's notice, not delivered everywhere yet,
// is still worth its next attempt: within laterFor of the first, and while
// the notice is still useful (a reminder until the window opens, a
// window-open notice until it ends).
func (s *Scheduler) tryAgain(u *Upgrade, j Job) bool {
	var spent time.Duration
	for a := 1; a <= j.Attempt; a++ {
		spent += s.run.backoff(a)
	}
	wait := s.run.backoff(j.Attempt + 1)
	if spent+wait > laterFor {
		return false
	}
	next := s.o.Now().Add(wait)
	switch j.Kind {
	case JobReminder:
		return next.Before(u.Start)
	case JobWindowOpen:
		return next.Before(u.End)
	}
	return true
}

// execute sends what the job stands for, unless it is stale (the upgrade
// changed since it was planned) or no longer useful: a reminder once the
// window has opened, or superseded by a closer one also due; a window-open
// notice once the window has ended; a reminder or brief escalation whose
// window was set after its moment; a brief escalation whose last reminder
// was never posted. A brief escalation whose reminder went out late is
// deferred to escalate_after after it (afterReminder), and a rollback
// escalation whose alert went out late, or not yet, likewise (afterAlert). The queue adds every
// job it has not done (see JobQueue.ReplaceJobs), so a job may come late: a
// notice LateAfter or more late says so.
func (s *Scheduler) execute(ctx context.Context, j Job) error {
	if j.Kind == JobSeries {
		if s.series == nil {
			return nil
		}
		return s.series.runSeries(ctx, j)
	}
	u, err := s.store.Get(ctx, j.Upgrade)
	if err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return nil
		}
		return fmt.Errorf("load upgrade %d: %w", j.Upgrade, err)
	}
	now := s.o.Now()
	late := now.Sub(j.Due)
	skip := func(why string) error {
		s.log.InfoContext(ctx, "due job skipped", "upgrade", u.Key(), "job", j.ID, "why", why, "late", late.String())
		return nil
	}
	if !Planned(u, j, s.rules) {
		return skip("stale: the upgrade changed since the job was planned")
	}
	var sent error // the notice's: nil, or a laterError
	switch j.Kind {
	case JobReminder:
		if !now.Before(u.Start) {
			return skip("too late: the window has opened")
		}
		if by, ok := supersededBy(u, j.Offset, now, s.rules); ok {
			return skip("superseded by the " + FormatDuration(by) + " reminder")
		}
		if set, err := s.windowSetAfter(ctx, u, j.Due); err != nil {
			return err
		} else if set {
			return skip("never owed: the window was set after its moment")
		}
		acks, err := s.store.Acks(ctx, u.ID)
		if err != nil {
			return fmt.Errorf("load acks: %w", err)
		}
		if late < s.o.LateAfter {
			late = 0
		}
		var cut bool
		cut, sent = s.noticeBefore(ctx, u.Start, "before the window opened", u, j, s.dir.Reminder(u, acks, j.Offset, late))
		if !sentMostly(sent) {
			return sent
		}
		if s.sent != nil && s.rules.EscalateAfter > 0 && j.ID == lastReminder(u, s.rules).ID && !cut {
			// The brief escalation follows this moment (escalate). A
			// reminder the window's opening cut short is not followed,
			// as one skipped because the window had opened: nobody is
			// chased in the window for a reminder they may not have seen.
			if err := s.sent.MarkSent(ctx, j, s.o.Now()); err != nil {
				return fmt.Errorf("record the last reminder as sent: %w", err)
			}
		}
		s.publish(ctx, u, jobEventID(j), EventReminder, map[string]any{"before": j.Offset.String(), "late": late.String()})
	case JobWindowOpen:
		if !now.Before(u.End) {
			return skip("too late: the window has ended")
		}
		_, sent = s.noticeBefore(ctx, u.End, "before the window ended", u, j, s.sayLate(s.dir.WindowOpen(u), late))
		if !sentMostly(sent) {
			return sent
		}
		if late < s.o.LateAfter {
			late = 0 // on time, as the notice says
		}
		s.publish(ctx, u, jobEventID(j), EventWindowOpen, map[string]any{"start": u.Start, "end": u.End, "late": late.String()})
	case JobOverrun:
		sent = s.notice(ctx, u, j, s.sayLate(s.dir.Overrun(u), late))
		if !sentMostly(sent) {
			return sent
		}
		s.publish(ctx, u, jobEventID(j), EventOverrun, map[string]any{"state": string(u.State), "end": u.End})
	case JobEscalation:
		return s.escalate(ctx, u, j, now)
	default:
		return skip("unknown job kind " + string(j.Kind))
	}
	return sent // a laterError: the job runs again for the channels not reached
}

// publish writes the event of a job's notice, once it went out, even when
// the job's time ran out just then: the job is not run again for it (its
// once keys are taken), so the event would be lost.
func (s *Scheduler) publish(ctx context.Context, u *Upgrade, id, typ string, data map[string]any) {
	bctx, cancel := bookkeeping(ctx)
	defer cancel()
	s.ev.emit(bctx, u, id, typ, Upgradebot, data)
}

// sayLate adds to a notice sent Options.LateAfter or more after its
// moment, right after its first line, how late it is: its plan lagged (a
// window scheduled moments ahead on a busy Redis, a plan the reconciler
// repaired) or every scheduler was down. Reminders say it in their own words.
func (s *Scheduler) sayLate(m Message, late time.Duration) Message {
	if late < s.o.LateAfter || len(m.Lines) == 0 {
		return m
	}
	line := T(fmt.Sprintf("This notice is %s late.", FormatDuration(late.Truncate(time.Second))))
	m.Lines = append(m.Lines[:1:1], append([]Text{line}, m.Lines[1:]...)...)
	return m
}

// windowSetAfter reports whether u's window was set (scheduled or last
// rescheduled) after at: a reminder or brief escalation due before that was
// never owed, however late a re-plan added it (a window rescheduled to two
// days ahead gets no late three-day reminder). PlanJobs already leaves out
// what fell due before the upgrade was created; this reads the decision log
// only for an upgrade changed after at.
func (s *Scheduler) windowSetAfter(ctx context.Context, u *Upgrade, at time.Time) (bool, error) {
	if u.CreatedAt.After(at) {
		return true, nil
	}
	if !u.WindowSetAt.IsZero() {
		return u.WindowSetAt.After(at), nil
	}
	if !u.UpdatedAt.After(at) {
		return false, nil
	}
	// Saved before WindowSetAt was kept: the last decision that set the
	// start. A reschedule that kept the start (a longer or shorter window)
	// set nothing that a reminder or an escalation is owed for.
	log, err := s.store.Log(ctx, u.ID)
	if err != nil {
		return false, fmt.Errorf("load decision log: %w", err)
	}
	for i := len(log) - 1; i >= 0; i-- {
		d := log[i]
		if d.Action == ActionScheduled || (d.Action == ActionRescheduled && !d.Start.Equal(d.PrevStart)) {
			return d.At.After(at), nil
		}
	}
	return false, nil
}

// lastReminder is the job of the last reminder of u's window (the smallest
// offset), which the brief escalation follows; its ID is empty without
// reminders.
func lastReminder(u *Upgrade, r PlanRules) Job {
	if len(r.Reminders) == 0 {
		return Job{}
	}
	off := slices.Min(r.Reminders)
	return Job{ID: "reminder:" + off.String(), Upgrade: u.ID, Kind: JobReminder, Offset: off, Due: u.Start.Add(-off)}
}

// afterReminder decides whether the brief escalation, due now by its plan
// (the last reminder's planned moment + escalate_after), goes out now: it
// follows the last reminder as it actually went out (SentLog). It returns
// nil to send now, a *deferred with a time to run again then, or a
// *deferred with a zero time to drop the escalation:
//
//   - the reminder went out at P: the escalation is due at P +
//     escalate_after, later than planned when the reminder was late;
//   - the reminder has not gone out, and still may (the upgrade is
//     scheduled and the window has not opened, give or take a job's
//     budget, as one started just before may still be posting): look
//     again then, or after escalate_after if sooner;
//   - it has not gone out and never will (skipped: the window opened
//     first, or the upgrade was started before it was posted): nothing to
//     follow, no escalation. The window-open and overrun notices go on.
//
// The escalation goes out at its planned moment, as it always did, when
// the reminder was never owed (the upgrade was created or its window set,
// or it was started, after the reminder's moment: the escalation then
// follows the pre-brief itself), when the queue keeps no SentLog, or when
// it cannot tell (a reminder sent by an older version of the bot).
func (s *Scheduler) afterReminder(ctx context.Context, u *Upgrade, now time.Time) error {
	r := lastReminder(u, s.rules)
	if s.sent == nil || r.ID == "" || !reminderOwed(u, r.Due) || (!u.StartedAt.IsZero() && u.StartedAt.Before(r.Due)) {
		return nil
	}
	if set, err := s.windowSetAfter(ctx, u, r.Due); err != nil {
		return err
	} else if set {
		return nil
	}
	at, known, err := s.sent.SentAt(ctx, r)
	if err != nil {
		return fmt.Errorf("when the last reminder was sent: %w", err)
	}
	switch {
	case !known:
		return nil
	case !at.IsZero():
		if due := at.Add(s.rules.EscalateAfter); now.Before(due) {
			return &deferred{until: due, why: "the last reminder went out at " + at.UTC().Format(time.RFC3339) + ", escalate_after after that"}
		}
		return nil
	}
	cutoff := u.Start.Add(s.o.JobTimeout)
	if u.State != Scheduled || !now.Before(cutoff) {
		return &deferred{why: "its reminder (" + r.ID + ") was never posted: the window opened, or the upgrade started, first"}
	}
	next := now.Add(max(s.rules.EscalateAfter, s.o.RetryMin))
	if next.After(cutoff) {
		next = cutoff
	}
	return &deferred{until: next, why: "the last reminder (" + r.ID + ") has not gone out yet"}
}

// RollbackAlertID names the rollback alert (the thread notice of the
// rollback command) in a SentLog: Job{ID: RollbackAlertID, Upgrade: N, Due:
// the rollback's FinishedAt}.
const RollbackAlertID = "alert:rollback"

// rollbackAlert is the SentLog identity of u's rollback alert.
func rollbackAlert(u *Upgrade) Job {
	return Job{ID: RollbackAlertID, Upgrade: u.ID, Kind: JobEscalation, Scope: ScopeRollback, Due: u.FinishedAt}
}

// alertWait bounds how long the rollback escalation waits for a rollback
// alert that has not gone out, from the rollback: a replica that dies with
// it queued leaves it to another after RecoverAfter, whose delivery takes up
// to taskTimeout, and a delivery out of time is recovered once more. Past
// it, the escalation goes out without waiting any longer (the alert's record
// was lost, or an older replica sent it without a record).
const alertWait = 2 * (RecoverAfter + taskTimeout)

// afterAlert decides whether the rollback escalation, due now by its plan
// (the rollback + escalate_after), goes out now: it follows the rollback
// alert as it actually went out (SentLog; the outbox records it once the
// alert has been dealt with in every thread, posted or refused and recorded
// as a failure). It returns nil to send now, or a *deferred with a time to
// run again then:
//
//   - the alert went out at A: the escalation is due at A + escalate_after,
//     later than planned when the alert was late (the platform retried, or
//     the replica that took the command died and another delivered it);
//   - the alert has not gone out yet (queued or being retried): look again
//     after escalate_after (at least RetryMin), until alertWait after the
//     rollback, when the escalation goes out anyway.
//
// The escalation goes out at its planned moment, as it always did, when
// the queue keeps no SentLog or cannot tell (a rollback before this version
// kept these records).
func (s *Scheduler) afterAlert(ctx context.Context, u *Upgrade, now time.Time) error {
	if s.sent == nil || u.FinishedAt.IsZero() {
		return nil
	}
	at, known, err := s.sent.SentAt(ctx, rollbackAlert(u))
	if err != nil {
		return fmt.Errorf("when the rollback alert was sent: %w", err)
	}
	switch {
	case !known:
		return nil
	case !at.IsZero():
		if due := at.Add(s.rules.EscalateAfter); now.Before(due) {
			return &deferred{until: due, why: "the rollback alert went out at " + at.UTC().Format(time.RFC3339) + ", escalate_after after that"}
		}
		return nil
	}
	cutoff := u.FinishedAt.Add(alertWait)
	if !now.Before(cutoff) {
		s.log.WarnContext(ctx, "rollback escalation sent without a record of its alert going out", "upgrade", u.Key(), "rolled_back", u.FinishedAt)
		return nil
	}
	next := now.Add(max(s.rules.EscalateAfter, s.o.RetryMin))
	if next.After(cutoff) {
		next = cutoff
	}
	return &deferred{until: next, why: "the rollback alert has not gone out yet"}
}

// staleBriefEscalation is how late a brief escalation without reminders
// may still go out (escalate_after after the pre-brief).
const staleBriefEscalation = 12 * time.Hour

// Upgradebot is the actor of what the bot does by itself (the scheduler).
const Upgradebot = "upgradebot"

func (s *Scheduler) escalate(ctx context.Context, u *Upgrade, j Job, now time.Time) error {
	switch {
	case j.Scope == ScopeBrief && u.State != Scheduled && u.State != InProgress:
		return nil
	case j.Scope == ScopeBrief && !now.Before(u.End):
		s.log.InfoContext(ctx, "escalation skipped: the window has ended", "upgrade", u.Key())
		return nil
	case j.Scope == ScopeRollback && u.State != RolledBack:
		return nil
	}
	if j.Scope == ScopeBrief {
		if set, err := s.windowSetAfter(ctx, u, j.Due); err != nil {
			return err
		} else if set {
			s.log.InfoContext(ctx, "escalation skipped: never owed, the window was set after its moment", "upgrade", u.Key())
			return nil
		}
		if len(s.rules.Reminders) == 0 && now.Sub(j.Due) > staleBriefEscalation {
			// Without reminders it follows the pre-brief; days after it
			// (a version that did not chase without reminders planned
			// none, or every replica was down) it is noise, not a chase.
			s.log.InfoContext(ctx, "escalation skipped: the pre-brief went out too long ago", "upgrade", u.Key(), "late", now.Sub(j.Due).Round(time.Minute).String())
			return nil
		}
		if err := s.afterReminder(ctx, u, now); err != nil {
			if d, ok := errors.AsType[*deferred](err); ok && d.until.IsZero() {
				s.log.InfoContext(ctx, "escalation skipped: "+d.why, "upgrade", u.Key())
				return nil
			}
			return err
		}
	}
	if j.Scope == ScopeRollback {
		if err := s.afterAlert(ctx, u, now); err != nil {
			return err
		}
	}
	acks, err := s.store.Acks(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("load acks: %w", err)
	}
	msg := s.dir.Escalation(u, j.Scope)
	var people []Principal
	for _, p := range s.dir.Status(u, acks, j.Scope).Pending {
		if !p.Group { // a group has no inbox; its members were mentioned in the thread
			people = append(people, p)
		}
	}
	// Each person's outcome, merged in the people's order once every
	// platform is done: a platform that is slow or rate-limited holds back
	// its own people only (sideBySide, by the platform of the identity
	// tried first).
	out := make([]escalated, len(people))
	inboxes := make([]string, len(people))
	for i, p := range people {
		inboxes[i] = firstInbox(s.out.msg, p)
	}
	s.out.sideBySide(inboxes, func(i int) bool {
		out[i] = s.escalateTo(ctx, u, j, people[i], msg)
		return out[i].goOn
	}, func(i int, err error) {
		// The adapter panicked: that person's failure, as a refusal.
		s.out.failed(ctx, u, []Failure{s.out.failure(ctx, u, msg.Kind, people[i].Key, err)}, nil)
		out[i] = escalated{}
	})
	var errs []error
	for _, o := range out {
		if o.err != nil {
			errs = append(errs, o.err)
		}
	}
	return errors.Join(errs...)
}

// firstInbox is the identity of p that her direct message goes to first
// (Delivery.toPerson): the first of her ids on a platform the bot runs
// (ms, a Router, has it), else her first id, else her key.
func firstInbox(ms Messenger, p Principal) string {
	r, _ := ms.(Router)
	for _, id := range p.IDs {
		if _, ok := r[platformOf(id)]; ok {
			return id
		}
	}
	if len(p.IDs) > 0 {
		return p.IDs[0]
	}
	return p.Key
}

// escalated is the outcome of the escalation of one person (escalateTo).
// A refusal is recorded on the upgrade at once, not returned: her
// send-once key is taken, so a crash before the job ends must not lose it.
type escalated struct {
	err  error // the job runs again for it (the person's key is given back), or fails
	goOn bool  // the platform's next person is tried
}

// escalateTo sends the escalation msg of job j to p, once (s.once), and
// publishes its event. Out of time (ctx ended), the person is left to the
// job's retry, and so is the rest of her platform's.
func (s *Scheduler) escalateTo(ctx context.Context, u *Upgrade, j Job, p Principal, msg Message) escalated {
	if err := ctx.Err(); err != nil {
		// Out of time before reaching this person: the retry will.
		return escalated{err: fmt.Errorf("escalate %s to %s: %w", u.Key(), p.Key, err)}
	}
	key := fmt.Sprintf("escalated:%d:%s:%s", u.ID, j.Scope, p.Key)
	if s.once != nil {
		first, err := s.once.First(ctx, key, 90*24*time.Hour)
		if err != nil {
			return escalated{err: fmt.Errorf("dedupe escalation: %w", err)}
		}
		if !first {
			return escalated{goOn: true}
		}
	}
	err := s.out.toPerson(ctx, p, msg)
	if err == nil {
		s.publish(ctx, u, jobEventID(Job{Upgrade: j.Upgrade, ID: j.ID + "/" + p.Key, Due: j.Due}), EventEscalated, map[string]any{"scope": j.Scope, "to": p.Key})
		return escalated{goOn: true}
	}
	forget, _ := s.once.(Forgetter)
	retryable := ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
	if retryable && (s.once == nil || forget != nil) {
		// Not refused, just out of time: give the key back so the
		// job's retry reaches this person.
		if forget != nil {
			fctx, cancel := bookkeeping(ctx)
			ferr := forget.Forget(fctx, key)
			cancel()
			if ferr != nil {
				s.out.failed(ctx, u, []Failure{s.out.failure(ctx, u, msg.Kind, p.Key, errors.Join(err, ferr))}, nil)
				return escalated{goOn: true}
			}
		}
		return escalated{err: fmt.Errorf("escalate %s to %s: %w", u.Key(), p.Key, err), goOn: true}
	}
	s.out.failed(ctx, u, []Failure{s.out.failure(ctx, u, msg.Kind, p.Key, err)}, nil)
	return escalated{goOn: true}
}
