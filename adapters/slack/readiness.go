package slack

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/upgradebot/upgradebot/adapters/inbound"
	"github.com/upgradebot/upgradebot/adapters/outbound"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/commands"
)

// Readiness on Slack (issue 14): the Mark-met buttons of the root message,
// the Write-debrief button of the debrief prompt, and the debrief modal.
// The wire ids are the contract of bot/readiness_model.go.
const (
	// ActionReady marks one readiness criterion met; value "UPG-7:2".
	ActionReady = "upgrade_ready"
	// ActionDebrief opens the debrief modal; value "UPG-7".
	ActionDebrief = "upgrade_debrief"
	// CallbackDebrief is the callback_id of the debrief modal; its
	// private_metadata is the upgrade's id, its one input is block
	// DebriefBlock, element DebriefInput.
	CallbackDebrief = "upgrade_debrief"
	DebriefBlock    = "debrief"
	DebriefInput    = "text"
)

// Block Kit limits of the readiness parts.
const (
	maxButtonText = 75 // characters of a button's label
	// maxReadyButtons bounds the Mark-met buttons of one message: each
	// takes a block of its own (see actionBlocks) out of Slack's 50.
	// Criteria beyond it are marked met by text.
	maxReadyButtons = 20
	maxModalTitle   = 24 // characters of a modal's title
	maxModalError   = 2000
	// triggerLife is how long a press's trigger_id can open a modal.
	triggerLife = 3 * time.Second
	// viewsOpenWait bounds the wait for Slack's answer to one views.open,
	// past the trigger's life: a call that reached Slack in time opens the
	// form however late Slack answers it.
	viewsOpenWait = 10 * time.Second
)

// formNotOurs answers a debrief form whose private_metadata upgradebot
// never wrote: the form, not a button, is unknown, and it is opened again
// by command.
func formNotOurs(command string) bot.Message {
	return bot.Message{Kind: bot.KindError, Lines: []bot.Text{bot.T("This form is not one of upgradebot's; open it again with ").
		Code(command + " debrief UPG-n").Add(".")}}
}

// notOurs answers a press or form whose ids upgradebot never rendered (a
// forged or garbled value): nothing changes.
var notOurs = bot.Message{Kind: bot.KindError, Lines: []bot.Text{bot.T("This button is not one of upgradebot's.")}}

// readyValue is a Mark-met button's value on the wire: "UPG-7:2".
func readyValue(b bot.ReadyButton) string {
	return b.UpgradeID + ":" + strconv.Itoa(b.Criterion)
}

// parseReadyValue reads a Mark-met value back: the upgrade's number and the
// criterion's (from 1); ok is false for a value that is not one of ours.
func parseReadyValue(v string) (id, criterion int, ok bool) {
	up, n, found := strings.Cut(v, ":")
	if !found {
		return 0, 0, false
	}
	id, err := commands.ParseID(up)
	if err != nil || id <= 0 {
		return 0, 0, false
	}
	c, err := strconv.Atoi(n)
	if err != nil || c < 1 || strconv.Itoa(c) != n {
		return 0, 0, false
	}
	return id, c, true
}

// parseDebriefValue reads the upgrade id of a Write-debrief value or a
// debrief modal's private_metadata: "UPG-7".
func parseDebriefValue(v string) (int, bool) {
	id, err := commands.ParseID(v)
	return id, err == nil && id > 0
}

// readyButton is the Mark-met button of one open criterion.
func readyButton(b bot.ReadyButton) *slackgo.ButtonBlockElement {
	label := truncateRunes("Mark met: "+b.Text, maxButtonText)
	return slackgo.NewButtonBlockElement(ActionReady, readyValue(b),
		slackgo.NewTextBlockObject(slackgo.PlainTextType, label, false, false))
}

// debriefButton opens the debrief modal.
func debriefButton(b bot.DebriefButton) *slackgo.ButtonBlockElement {
	return slackgo.NewButtonBlockElement(ActionDebrief, b.UpgradeID,
		slackgo.NewTextBlockObject(slackgo.PlainTextType, "Write debrief", false, false)).WithStyle(slackgo.StylePrimary)
}

// actionBlocks lays out a message's buttons. Slack refuses a message whose
// actions block holds two elements with the same action_id (invalid_blocks:
// "action_id already exists"), and every Mark-met button has action_id
// upgrade_ready, so each gets a block of its own, one row per criterion
// under the Acknowledge button: a checklist to tick. Acknowledge and Write
// debrief have ids of their own and share the first block.
func actionBlocks(m bot.Message) []slackgo.Block {
	var out []slackgo.Block
	var first []slackgo.BlockElement
	id := "ack"
	if m.Ack != nil {
		first = append(first, ackButton(*m.Ack))
	}
	if m.Debrief != nil {
		if m.Ack == nil {
			id = "debrief"
		}
		first = append(first, debriefButton(*m.Debrief))
	}
	if len(first) > 0 {
		out = append(out, slackgo.NewActionBlock(id, first...))
	}
	for i, r := range m.Ready {
		if i == maxReadyButtons {
			break
		}
		out = append(out, slackgo.NewActionBlock("ready-"+strconv.Itoa(r.Criterion), readyButton(r)))
	}
	return out
}

// debriefModal is the form the Write-debrief button opens.
func debriefModal(id string) slackgo.ModalViewRequest {
	plain := func(s string) *slackgo.TextBlockObject {
		return slackgo.NewTextBlockObject(slackgo.PlainTextType, s, false, false)
	}
	input := slackgo.NewPlainTextInputBlockElement(plain("What happened, what to change"), DebriefInput).WithMultiline(true).WithMaxLength(bot.MaxRecordLen)
	return slackgo.ModalViewRequest{
		Type:            slackgo.VTModal,
		CallbackID:      CallbackDebrief,
		PrivateMetadata: id,
		Title:           plain(truncateRunes("Debrief "+id, maxModalTitle)),
		Submit:          plain("Record"),
		Close:           plain("Cancel"),
		Blocks: slackgo.Blocks{BlockSet: []slackgo.Block{
			slackgo.NewInputBlock(DebriefBlock, plain("Debrief"), nil, input),
		}},
	}
}

// invocation is the presser or submitter as the core sees a command's
// invoker: the same identity, groups and time zone as a slash command.
func (a *Adapter) invocation(ctx context.Context, in interaction, act *action) bot.Invocation {
	inv := bot.Invocation{
		Actor:    a.actor(ctx, in),
		Location: a.location(ctx, in.User.ID),
		Handle:   in.ResponseURL,
	}
	if ch := in.channel(); ch != "" {
		inv.Channel = Platform + ":" + ch
	}
	switch {
	case in.TriggerID != "": // a re-send of the same press or submission keeps it
		inv.Delivery = Platform + ":" + in.TriggerID
	case act != nil && act.ActionTs != "":
		inv.Delivery = Platform + ":" + act.ActionTs + ":" + in.User.ID
	}
	return inv
}

// pressReady runs a Mark-met press as `/upgrade ready <id> <n>` of the presser.
func (a *Adapter) pressReady(ctx context.Context, in interaction, act action) bot.Message {
	id, n, ok := parseReadyValue(act.Value)
	if !ok {
		return notOurs
	}
	return a.core.Do(ctx, a.invocation(ctx, in, &act), commands.Ready{ID: id, Criterion: strconv.Itoa(n)})
}

// openDebrief opens the debrief modal for a Write-debrief press. The
// press's trigger_id can open a modal for 3 seconds after the click, so
// this runs as soon as the interaction is read, next to the answer to
// Slack rather than after it and outside the press slots (a burst of
// Mark-met presses must not make it wait), bounded by the trigger's life.
// Attempts start only within the trigger's life, but each waits for
// Slack's answer up to viewsOpenWait: a slow Slack may still open the
// form, and an error shown before it does would contradict it. When Slack
// refuses the form, or the call never reached it, the presser is told
// privately how to record the debrief by text; when Slack did not answer
// at all, that it may not have opened.
func (a *Adapter) openDebrief(parent context.Context, in interaction, act action) {
	id, ok := parseDebriefValue(act.Value)
	if !ok || in.TriggerID == "" {
		a.answer(parent, a.invoker(in), in.thread(), notOurs)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), a.triggerLife)
	defer cancel()
	// One read first: a form for an upgrade that does not exist, has not
	// ended or is not the presser's to debrief would only be refused on
	// submission, after the writing. It is bounded, so that views.open
	// keeps most of the trigger's life; a check that could not tell
	// (Redis slow) lets the form open, and the submission is checked.
	check, done := context.WithTimeout(ctx, debriefCheckTimeout)
	m, ok := a.core.CheckDebrief(check, bot.Invocation{Actor: a.actor(check, in)}, id)
	done()
	if !ok {
		a.answer(parent, a.invoker(in), in.thread(), m)
		return
	}
	err := a.call(ctx, "views.open", func(ctx context.Context) error {
		wait, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.viewsOpenWait)
		defer cancel()
		_, err := a.api.OpenViewContext(wait, in.TriggerID, debriefModal(commands.FormatID(id)))
		return err
	})
	if err == nil {
		return
	}
	a.log.WarnContext(ctx, "the debrief form did not open", "user", in.User.ID, "upgrade", commands.FormatID(id), "err", err, "resent", in.Resent)
	if in.Resent {
		// Slack sends a press again when it missed the answer to the
		// first; that one most likely opened the form, and its trigger
		// cannot open a second: an error now would contradict the form
		// on the user's screen.
		return
	}
	typed := a.cmdName + " debrief " + commands.FormatID(id) + " <what happened, what to change>"
	first := bot.T("Slack did not open the debrief form (" + shownCode(err) + "). Record it with ")
	var se *Error
	if errors.As(err, &se) && se.Unreachable() && !outbound.NeverSent(err) {
		// The call may have reached Slack, which may open the form yet.
		first = bot.T("Slack did not answer when asked to open the debrief form (" + shownCode(err) + "); if it did not open, record it with ")
	}
	a.answer(parent, a.invoker(in), in.thread(), bot.Message{Kind: bot.KindError, Lines: []bot.Text{first.Code(typed).Add(".")}})
}

// debriefCheckTimeout bounds the check before a debrief form opens (the
// presser's user groups, one read), within the trigger's 3 seconds.
const debriefCheckTimeout = time.Second

// actor is the person behind an interaction, with the user groups the
// bot knows them in.
func (a *Adapter) actor(ctx context.Context, in interaction) bot.Actor {
	name := in.User.Name
	if name == "" {
		name = in.User.Username
	}
	actor := bot.Actor{ID: Platform + ":" + in.User.ID, Name: name}
	a.actorGroups(ctx, &actor, in.User.ID)
	return actor
}

// invoker is whom a press is answered to privately.
func (a *Adapter) invoker(in interaction) bot.Invoker {
	to := bot.Invoker{User: Platform + ":" + in.User.ID, Handle: in.ResponseURL}
	if ch := in.channel(); ch != "" {
		to.Channel = Platform + ":" + ch
	}
	return to
}

// submit answers a view_submission within Slack's 3 seconds: nil closes the
// modal (the debrief was recorded, or the view is not ours to judge), an
// errors answer shows the core's refusal under the input, and the user can
// correct it. When the core needs longer than the reply budget the modal
// closes and the outcome follows as a direct message.
func (a *Adapter) submit(parent context.Context, in interaction) *slackgo.ViewSubmissionResponse {
	if in.View.CallbackID != CallbackDebrief {
		a.log.DebugContext(parent, "ignoring a view submission", "callback_id", in.View.CallbackID)
		return nil
	}
	id, ok := parseDebriefValue(in.View.PrivateMetadata)
	if !ok {
		return modalErrors(formNotOurs(a.cmdName))
	}
	text := in.View.State.Values[DebriefBlock][DebriefInput].Value
	work := func(ctx context.Context) commandResult {
		m := a.core.Do(ctx, a.invocation(ctx, in, nil), commands.Debrief{ID: id, Text: text})
		return commandResult{msg: m, duplicate: m.Kind == bot.KindDuplicate, finished: true}
	}
	late := func(ctx context.Context, r commandResult) {
		if r.duplicate {
			return
		}
		if _, err := a.Direct(ctx, Platform+":"+in.User.ID, resultMessage(r)); err != nil {
			a.log.WarnContext(ctx, "the late debrief answer was not delivered", "user", in.User.ID, "err", err)
		}
	}
	r, ok := inbound.Within(&a.deadline, parent, work, late)
	switch {
	case !ok:
		a.log.InfoContext(parent, "debrief still being recorded; closing the form, the outcome follows by direct message", "user", in.User.ID)
		return nil
	case r.duplicate:
		return nil
	}
	if m := resultMessage(r); m.Kind == bot.KindError {
		return modalErrors(m)
	}
	return nil
}

// modalErrors shows a refusal under the debrief input. The usage lines of a
// refusal are about typing the command, not about the form, so they are
// left out.
func modalErrors(m bot.Message) *slackgo.ViewSubmissionResponse {
	plain := bot.Plain{Loc: time.UTC}
	var lines []string
	for _, l := range m.Lines {
		s := plain.Text(l)
		if strings.HasPrefix(s, "Usage: ") || strings.HasPrefix(s, "   or: ") {
			continue
		}
		lines = append(lines, s)
	}
	msg := strings.TrimSpace(strings.Join(lines, "\n"))
	if msg == "" {
		msg = "The debrief was not recorded."
	}
	return slackgo.NewErrorsViewSubmissionResponse(map[string]string{DebriefBlock: truncateRunes(msg, maxModalError)})
}
