package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/upgradebot/upgradebot/adapters/inbound"
	"github.com/upgradebot/upgradebot/adapters/outbound"
	"github.com/upgradebot/upgradebot/bot"
)

// The handlers in this file serve both modes: HTTP requests and Socket Mode
// envelopes are turned into a slackgo.SlashCommand or InteractionCallback
// and end up here.

// commandResult is what the work of one slash command produced.
type commandResult struct {
	msg       bot.Message
	duplicate bool
	finished  bool // false when the work panicked
}

// command runs a slash command within the reply budget and returns the
// immediate answer, encoded; nil means "answer with an empty 200" (a
// re-sent request already being handled). When the bot needs longer, the user first gets
// "Working on it…" and the real answer follows on the response_url.
func (a *Adapter) command(parent context.Context, sc slackgo.SlashCommand, retry string) []byte {
	body, _ := a.commandAnswer(parent, sc, retry)
	return body
}

// commandAnswer is command that also returns the answer's message; nil
// for "Working on it…" (the real answer follows by itself) or no answer.
func (a *Adapter) commandAnswer(parent context.Context, sc slackgo.SlashCommand, retry string) ([]byte, *bot.Message) {
	log := a.log.With("user", sc.UserID, "channel", sc.ChannelID)
	if retry != "" && retry != "0" {
		log.InfoContext(parent, "slack re-sent a command", "retry", retry)
	}
	if a.cmdName != "" && sc.Command != "" && !strings.EqualFold(sc.Command, a.cmdName) {
		m := bot.Message{Kind: bot.KindError, Lines: []bot.Text{
			bot.T("This bot answers ").Code(a.cmdName).Add(", not ").Code(sc.Command).Add(". Check slack.command and the app's slash command."),
		}}
		return a.encoded(m), &m
	}
	inv := bot.Invocation{
		Actor:   bot.Actor{ID: Platform + ":" + sc.UserID, Name: sc.UserName},
		Channel: Platform + ":" + sc.ChannelID,
		Handle:  sc.ResponseURL,
	}
	if sc.TriggerID != "" { // the core ignores a re-send of the same trigger
		inv.Delivery = Platform + ":" + sc.TriggerID
	}
	work := func(ctx context.Context) commandResult {
		a.actorGroups(ctx, &inv.Actor, sc.UserID)
		inv.Location = a.location(ctx, sc.UserID)
		m := a.core.Handle(ctx, inv, unescape(sc.Text))
		return commandResult{msg: m, duplicate: m.Kind == bot.KindDuplicate, finished: true}
	}
	late := func(ctx context.Context, r commandResult) {
		if r.duplicate {
			return
		}
		a.answerCommand(ctx, commandInvoker(sc), nil, resultMessage(r))
	}
	r, ok := inbound.Within(&a.deadline, parent, work, late)
	if !ok {
		log.InfoContext(parent, "command still running; answering later on the response_url")
		return mustEncode(a.style.workingOnIt()), nil
	}
	if r.duplicate {
		log.InfoContext(parent, "duplicate command ignored", "trigger", sc.TriggerID)
		return nil, nil
	}
	m := resultMessage(r)
	return a.encoded(m), &m
}

// commandInvoker is whom a command's answer goes to.
func commandInvoker(sc slackgo.SlashCommand) bot.Invoker {
	return bot.Invoker{User: Platform + ":" + sc.UserID, Channel: Platform + ":" + sc.ChannelID, Handle: sc.ResponseURL}
}

// answerCommand delivers a command's answer privately, as docs/slack.md
// says for every private answer: body (m encoded; nil: m as an addition to
// what the user sees) on the command's response_url; when that fails (Slack
// refuses it: expired, used up, 404), m with chat.postEphemeral in the
// channel where the command was typed; when that fails too (a channel the
// bot is not in), as a direct message.
func (a *Adapter) answerCommand(ctx context.Context, to bot.Invoker, body []byte, m bot.Message) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), answerTimeout)
	defer cancel()
	var errs []error
	if to.Handle != "" {
		if body == nil {
			body = a.privately(m)
		}
		err := a.respondJSON(ctx, to.Handle, body)
		if err == nil {
			return
		}
		if mayHaveArrived(err) {
			a.log.WarnContext(ctx, "the response_url took the answer but did not say so; not sent again, as the user may have it", "user", to.User, "err", err)
			return
		}
		a.log.WarnContext(ctx, "answering on the response_url failed; answering in the channel", "user", to.User, "err", err)
		errs = append(errs, err)
		to.Handle = ""
	}
	err := a.answerIn(ctx, to, "", m)
	if err == nil {
		return
	}
	errs = append(errs, err)
	if _, err = a.Direct(ctx, to.User, m); err == nil {
		return
	}
	errs = append(errs, err)
	a.log.WarnContext(ctx, "command answer not delivered", "user", to.User, "err", errors.Join(errs...))
}

// encoded is the answer m rendered and encoded; a stamped message (an
// unchanged show) is rendered once and its encoding served again.
func (a *Adapter) encoded(m bot.Message) []byte {
	if b, ok := a.rendered.Get(m.Stamp); ok {
		return b
	}
	b := mustEncode(a.style.payload(m))
	a.rendered.Put(m.Stamp, b)
	return b
}

// privately is m encoded as a private answer on a response_url, leaving
// the message it answers as it is; a stamped message (the thanks for an
// acknowledgment, the same for everyone) is rendered and encoded once.
func (a *Adapter) privately(m bot.Message) []byte {
	key := ""
	if m.Stamp != "" {
		key = "privately " + m.Stamp
	}
	if b, ok := a.rendered.Get(key); ok {
		return b
	}
	p := a.style.payload(m)
	no := false
	p.ReplaceOriginal = &no
	b := mustEncode(p)
	a.rendered.Put(key, b)
	return b
}

// encodeAnswer is the JSON of an answer, as it goes in a response and on a
// response_url: HTML characters as they are (Slack reads &, < and > in
// mrkdwn, escaped where they must be already).
func encodeAnswer(p answer) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// mustEncode encodes an answer the adapter rendered: strings, bools and
// slack-go's blocks, which always encode.
func mustEncode(p answer) []byte {
	b, err := encodeAnswer(p)
	if err != nil {
		panic(fmt.Sprintf("slack: encode answer: %v", err))
	}
	return b
}

// unescape undoes the escaping Slack applies to what users type: it sends
// &, < and > as &amp;, &lt; and &gt;.
func unescape(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

func resultMessage(r commandResult) bot.Message {
	if !r.finished {
		return bot.Message{Kind: bot.KindError, Lines: []bot.Text{bot.T(bot.ErrorMessage(errPanicked))}}
	}
	return r.msg
}

// interaction is what the adapter reads of an interaction callback: only the
// fields it uses. (slack-go's InteractionCallback decodes every field of
// every kind of interaction, each action twice: the largest cost of a press.)
type interaction struct {
	Type        string `json:"type"`
	TriggerID   string `json:"trigger_id"`
	ResponseURL string `json:"response_url"`
	User        struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Username string `json:"username"`
	} `json:"user"`
	Channel struct {
		ID string `json:"id"`
	} `json:"channel"`
	Container struct {
		ChannelID string `json:"channel_id"`
		ThreadTs  string `json:"thread_ts"`
	} `json:"container"`
	Message struct {
		ThreadTs string `json:"thread_ts"`
	} `json:"message"`
	Actions []action `json:"actions"`
	// Resent is set (not by the payload) when Slack says it sends this
	// interaction again (X-Slack-Retry-Num, a Socket Mode retry_attempt).
	Resent bool `json:"-"`
	// View is the modal of a view_submission.
	View struct {
		CallbackID      string `json:"callback_id"`
		PrivateMetadata string `json:"private_metadata"`
		State           struct {
			// Values holds each input's value by block_id, then action_id.
			Values map[string]map[string]inputValue `json:"values"`
		} `json:"state"`
	} `json:"view"`
}

// inputValue is what a user entered in one input of a modal.
type inputValue struct {
	Value string `json:"value"`
}

// action is one block action of an interaction.
type action struct {
	ActionID string `json:"action_id"`
	Value    string `json:"value"`
	ActionTs string `json:"action_ts"`
}

// The interaction types the adapter serves.
const (
	typeBlockActions   = string(slackgo.InteractionTypeBlockActions)
	typeViewSubmission = string(slackgo.InteractionTypeViewSubmission)
)

// ours returns the first action of the interaction that is one of
// upgradebot's buttons.
func (in interaction) ours() (action, bool) {
	i := slices.IndexFunc(in.Actions, func(x action) bool {
		return x.ActionID == ActionAck || x.ActionID == ActionReady || x.ActionID == ActionDebrief
	})
	if i < 0 {
		return action{}, false
	}
	return in.Actions[i], true
}

// firstActionID is the action_id of the interaction's first action, for
// the log ("" for none), bounded.
func firstActionID(in interaction) string {
	if len(in.Actions) == 0 {
		return ""
	}
	return truncateRunes(in.Actions[0].ActionID, 64)
}

// channel is where the pressed message is; "" for a modal.
func (in interaction) channel() string {
	if in.Channel.ID != "" {
		return in.Channel.ID
	}
	return in.Container.ChannelID
}

// thread is the thread of the pressed message: a button on a thread reply
// (reminder, rollback alert, debrief prompt) is answered in that thread
// when the answer has to fall back to postEphemeral.
func (in interaction) thread() string {
	if in.Container.ThreadTs != "" {
		return in.Container.ThreadTs
	}
	return in.Message.ThreadTs
}

// interactionOf takes what the adapter reads from a callback Socket Mode
// decoded already.
func interactionOf(cb slackgo.InteractionCallback) interaction {
	var in interaction
	in.Type, in.TriggerID, in.ResponseURL = string(cb.Type), cb.TriggerID, cb.ResponseURL
	in.User.ID, in.User.Name, in.User.Username = cb.User.ID, cb.User.Name, cb.User.Username
	in.Channel.ID, in.Container.ChannelID, in.Container.ThreadTs = cb.Channel.ID, cb.Container.ChannelID, cb.Container.ThreadTs
	in.Message.ThreadTs = cb.Message.ThreadTimestamp
	for _, ba := range cb.ActionCallback.BlockActions {
		if ba != nil {
			in.Actions = append(in.Actions, action{ba.ActionID, ba.Value, ba.ActionTs})
		}
	}
	in.View.CallbackID, in.View.PrivateMetadata = cb.View.CallbackID, cb.View.PrivateMetadata
	if cb.View.State != nil {
		in.View.State.Values = map[string]map[string]inputValue{}
		for block, inputs := range cb.View.State.Values {
			in.View.State.Values[block] = map[string]inputValue{}
			for id, v := range inputs {
				in.View.State.Values[block][id] = inputValue{v.Value}
			}
		}
	}
	return in
}

// pressed starts the work of a block_actions interaction; the caller answers
// Slack right after (HTTP 200 or Socket Mode ack). A Write-debrief press
// opens its modal at once (its trigger_id expires 3 s after the click);
// other presses wait for a free press worker, and the answer to Slack
// with them (push-back).
func (a *Adapter) pressed(parent context.Context, in interaction) {
	if act, ok := in.ours(); ok && act.ActionID == ActionDebrief {
		a.inflight.Add()
		go func() {
			defer a.inflight.Done()
			a.openDebrief(parent, in, act)
		}()
		return
	}
	if !a.background(parent, func(ctx context.Context) { a.press(ctx, in) }) {
		a.log.WarnContext(parent, "press dropped: Slack gave up waiting while every press worker was busy; it sends the press again", "user", in.User.ID)
	}
}

// press handles a block_actions callback after Slack has had its 200:
// Acknowledge (the press is recorded; the core de-duplicates a re-sent one
// in the same write) or Mark met (`ready <id> <n>` run as the presser's
// command), and hands the private answer to the presser to an answer
// worker, so that the next press is recorded while Slack takes it. It runs
// tracked (Wait) and bounded by the work timeout.
func (a *Adapter) press(parent context.Context, in interaction) {
	if in.Type != typeBlockActions {
		a.log.DebugContext(parent, "ignoring interaction", "type", in.Type)
		return
	}
	act, ok := in.ours()
	if !ok {
		// Only upgradebot's messages carry its buttons, and none of them
		// has another action_id: this press is forged or of an older app.
		// The presser is told, as on Discord; nothing is recorded.
		a.log.InfoContext(parent, "press of a button that is not upgradebot's", "user", in.User.ID, "action_id", firstActionID(in))
		a.answers.Go(context.WithoutCancel(parent), func() { a.answer(parent, a.invoker(in), in.thread(), notOurs) })
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), a.deadline.Timeout)
	defer cancel()
	var m bot.Message
	switch act.ActionID {
	case ActionReady:
		m = a.pressReady(ctx, in, act)
	case ActionDebrief: // opened by pressed; here only if called directly
		a.openDebrief(ctx, in, act)
		return
	default:
		m = a.pressAck(ctx, in, act)
	}
	if m.Kind == bot.KindDuplicate {
		a.log.InfoContext(ctx, "duplicate button press ignored", "user", in.User.ID)
		return
	}
	to, thread := a.invoker(in), in.thread()
	// The press is recorded and Slack has its 200: the answer is owed
	// whatever the time left for the press. It waits for an answer worker
	// as long as it takes (each answer takes 30 s at most), holding this
	// press worker: push-back.
	a.answers.Go(context.WithoutCancel(ctx), func() { a.answer(ctx, to, thread, m) })
}

// pressAck records an Acknowledge press.
func (a *Adapter) pressAck(ctx context.Context, in interaction, act action) bot.Message {
	btn, ok := parseAckValue(act.Value)
	if !ok {
		return notOurs
	}
	p := bot.ButtonPress{Actor: a.actor(ctx, in), Button: btn}
	switch {
	case in.TriggerID != "":
		p.Delivery = Platform + ":" + in.TriggerID
	case act.ActionTs != "":
		p.Delivery = Platform + ":" + act.ActionTs + ":" + in.User.ID
	}
	return a.core.Press(ctx, p)
}

// errPanicked stands for work that panicked: the user learns that
// something broke, the log has the panic.
var errPanicked = errors.New("slack: the command's work panicked")

// Answer implements bot.Answerer: m is shown to the invoker only, on the
// invocation's response_url when there is one, else with chat.postEphemeral
// in the channel. It gets its own time: the work that produced m may have
// used up ctx.
func (a *Adapter) Answer(ctx context.Context, to bot.Invoker, m bot.Message) error {
	return a.answerIn(ctx, to, "", m)
}

// answer is Answer for the adapter's own answers, logged rather than returned.
func (a *Adapter) answer(ctx context.Context, to bot.Invoker, thread string, m bot.Message) {
	if to.Handle == "" && to.Channel == "" {
		a.log.WarnContext(ctx, "the press could not be answered: its payload has neither response_url nor channel", "user", to.User)
		return
	}
	if err := a.answerIn(ctx, to, thread, m); err != nil {
		a.log.WarnContext(ctx, "answer not delivered", "user", to.User, "err", err)
	}
}

// answerIn answers privately; a chat.postEphemeral goes into thread when set
// (a button on a thread reply is answered in that thread).
func (a *Adapter) answerIn(ctx context.Context, to bot.Invoker, thread string, m bot.Message) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), answerTimeout)
	defer cancel()
	var errs []error
	if to.Handle != "" {
		err := a.respondJSON(ctx, to.Handle, a.privately(m))
		if err == nil {
			return nil
		}
		if mayHaveArrived(err) {
			a.log.WarnContext(ctx, "the response_url took the answer but did not say so; not sent again, as the user may have it", "user", to.User, "err", err)
			return nil
		}
		a.log.WarnContext(ctx, "answering on the response_url failed", "user", to.User, "err", err)
		errs = append(errs, err)
	}
	ch, cerr := strip(to.Channel)
	user, uerr := strip(to.User)
	if cerr != nil || uerr != nil {
		return errors.Join(append(errs, cerr, uerr)...)
	}
	opts := a.style.msgOptions(m)
	if thread != "" {
		opts = append(opts, slackgo.MsgOptionTS(thread))
	}
	err := a.call(ctx, "chat.postEphemeral", func(ctx context.Context) error {
		_, err := a.api.PostEphemeralContext(ctx, ch, user, opts...)
		return err
	})
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	return nil
}

// respondJSON posts an encoded payload to a response_url (valid 30
// minutes, 5 uses).
func (a *Adapter) respondJSON(ctx context.Context, responseURL string, body []byte) error {
	u, err := url.Parse(responseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("slack: unusable response_url")
	}
	return a.call(ctx, "response_url", func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, responseURL, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := a.http.Do(req)
		if err != nil {
			return err
		}
		// Read to the end before closing, so the keep-alive connection
		// goes back to the pool (an unread body closes it).
		defer func() {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}()
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			return &slackgo.RateLimitedError{RetryAfter: time.Duration(secs) * time.Second}
		case resp.StatusCode != http.StatusOK:
			return slackgo.StatusCodeError{Code: resp.StatusCode, Status: resp.Status}
		}
		return nil
	})
}

// mayHaveArrived reports whether a failed post may still have been shown:
// it left the bot and no answer came back (the connection dropped, or the
// time ran out, after the request was written). Another way of answering
// would then show the answer twice; a refusal (a 404, an expired url) or a
// request that never left is safe to answer otherwise.
func mayHaveArrived(err error) bool {
	var se *Error
	return errors.As(err, &se) && se.Unreachable() && !outbound.NeverSent(err)
}
