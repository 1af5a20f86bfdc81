package bot

import (
	"time"

	"github.com/upgradebot/upgradebot/commands"
)

// The outcomes of a command (Observer.Command).
const (
	OutcomeOK        = "ok"        // answered as asked
	OutcomeRefused   = "refused"   // the input or the rules said no; nothing changed
	OutcomeError     = "error"     // something broke (the store, a bug)
	OutcomeDuplicate = "duplicate" // a request the platform sent again; answered with nothing
)

// The outcomes of a notice (Observer.Notice).
const (
	NoticePosted     = "posted"      // it reached its thread, channel or person
	NoticeFailed     = "failed"      // it did not, and the failure is recorded on the upgrade
	NoticeEdited     = "edited"      // a root message was refreshed
	NoticeEditFailed = "edit_failed" // a root message could not be refreshed (logged only)
)

// CommandOutcomes are the outcomes of a command, and NoticeOutcomes those
// of a notice (Observer.Command, Observer.Notice).
var (
	CommandOutcomes = []string{OutcomeOK, OutcomeRefused, OutcomeError, OutcomeDuplicate}
	NoticeOutcomes  = []string{NoticePosted, NoticeFailed}
)

// NoticeKinds are the kinds of the notices the Observer is told of
// (Observer.Notice): the thread and channel posts and the direct messages,
// not the answers to commands. Only KindRoot is also edited (NoticeEdited,
// NoticeEditFailed).
var NoticeKinds = []Kind{KindRoot, KindReminder, KindWindowOpen, KindStarted, KindCompleted, KindCancelled,
	KindRescheduled, KindExtended, KindRollback, KindOverrun, KindEscalation, KindLinked, KindReleaseOut,
	KindFreeze, KindSeries, KindReadiness, KindPlanRecorded, KindDebriefPrompt, KindDebriefRecorded, KindThread}

// CommandPress and CommandUnknown are the command labels of an Acknowledge
// button and of text naming no subcommand.
const (
	CommandPress   = "press"
	CommandUnknown = "unknown"
)

// NopObserver observes nothing.
type NopObserver struct{}

// Command implements Observer.
func (NopObserver) Command(string, string, string, time.Duration) {}

// Notice implements Observer.
func (NopObserver) Notice(Kind, string) {}

// Ack implements Observer.
func (NopObserver) Ack(string, time.Duration) {}

// Job implements Observer.
func (NopObserver) Job(JobKind, time.Duration) {}

var _ Observer = NopObserver{}

// observeCommand tells the observer that the command of actor, started at
// t0, was answered with m (err: why it failed, if it did).
func (b *Bot) observeCommand(actor Actor, command string, m Message, err error, t0 time.Time) {
	o := outcome(m, err)
	if m.Kind == KindDuplicate {
		o = OutcomeDuplicate
	}
	b.obs.Command(platformOf(actor.ID), command, o, time.Since(t0))
}

// verbOf is the command label of text that did not parse: the subcommand
// it names, else "unknown".
func verbOf(text string) string {
	if v := commands.Subcommand(text); v != "" {
		return v
	}
	return CommandUnknown
}

// noticeSince is when the notice that an acknowledgment of scope answers
// went out: the pre-brief when u was scheduled, the rollback alert when it
// was rolled back (zero when u does not say).
func noticeSince(u *Upgrade, scope string) time.Time {
	if scope == ScopeRollback {
		return u.FinishedAt
	}
	return u.CreatedAt
}
