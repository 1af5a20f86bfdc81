package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/upgradebot/upgradebot/adapters/inbound"
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
// immediate answer; nil means "answer with an empty 200" (a re-sent request
// already being handled). When the bot needs longer, the user first gets
// "Working on it…" and the real answer follows on the response_url.
func (a *Adapter) command(parent context.Context, sc slackgo.SlashCommand, retry string) *answer {
	log := a.log.With("user", sc.UserID, "channel", sc.ChannelID)
	if retry != "" && retry != "0" {
		log.InfoContext(parent, "slack re-sent a command", "retry", retry)
	}
	if a.cmdName != "" && sc.Command != "" && !strings.EqualFold(sc.Command, a.cmdName) {
		p := a.style.payload(bot.Message{Kind: bot.KindError, Lines: []bot.Text{
			bot.T("This bot answers ").Code(a.cmdName).Add(", not ").Code(sc.Command).Add(". Check slack.command and the app's slash command."),
		}})
		return &p
	}
	inv := bot.Invocation{
		Actor:   bot.Actor{ID: Platform + ":" + sc.UserID, Name: sc.UserName},
		Channel: Platform + ":" + sc.ChannelID,
		Handle:  sc.ResponseURL,
	}
	work := func(ctx context.Context) commandResult {
		if sc.TriggerID != "" && !a.dedupe.First(ctx, "cmd:"+sc.TriggerID) {
			return commandResult{duplicate: true, finished: true}
		}
		inv.Actor.Groups = a.groupsOf(ctx, sc.UserID)
		inv.Location = a.location(ctx, sc.UserID)
		return commandResult{msg: a.core.Handle(ctx, inv, unescape(sc.Text)), finished: true}
	}
	late := func(ctx context.Context, r commandResult) {
		if r.duplicate {
			return
		}
		a.answer(ctx, bot.Invoker{User: inv.Actor.ID, Channel: inv.Channel, Handle: inv.Handle}, "", resultMessage(r))
	}
	r, ok := inbound.Within(&a.deadline, parent, work, late)
	if !ok {
		log.InfoContext(parent, "command still running; answering later on the response_url")
		p := a.style.workingOnIt()
		return &p
	}
	if r.duplicate {
		log.InfoContext(parent, "duplicate command ignored", "trigger", sc.TriggerID)
		return nil
	}
	p := a.style.payload(resultMessage(r))
	return &p
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

// interaction handles a block_actions callback: the Acknowledge button. The
// press is recorded and answered in the background; the caller waits at most
// the reply budget so Slack gets its 200 in time either way.
func (a *Adapter) interaction(parent context.Context, cb slackgo.InteractionCallback) {
	if cb.Type != slackgo.InteractionTypeBlockActions {
		a.log.DebugContext(parent, "ignoring interaction", "type", cb.Type)
		return
	}
	var act *slackgo.BlockAction
	for _, ba := range cb.ActionCallback.BlockActions {
		if ba != nil && ba.ActionID == ActionAck {
			act = ba
			break
		}
	}
	if act == nil {
		return
	}
	key := ""
	switch {
	case cb.TriggerID != "":
		key = "act:" + cb.TriggerID
	case act.ActionTs != "":
		key = "act:" + act.ActionTs + ":" + cb.User.ID
	}
	inbound.Within(&a.deadline, parent, func(ctx context.Context) struct{} {
		if !a.dedupe.First(ctx, key) {
			a.log.InfoContext(ctx, "duplicate button press ignored", "user", cb.User.ID)
			return struct{}{}
		}
		var m bot.Message
		if btn, ok := parseAckValue(act.Value); !ok {
			m = bot.Message{Kind: bot.KindError, Lines: []bot.Text{bot.T("This button is not one of upgradebot's.")}}
		} else {
			name := cb.User.Name
			if name == "" {
				name = cb.User.Username
			}
			m = a.core.Press(ctx, bot.Actor{ID: Platform + ":" + cb.User.ID, Name: name, Groups: a.groupsOf(ctx, cb.User.ID)}, btn.UpgradeID, btn.Scope)
		}
		channel := cb.Channel.ID
		if channel == "" {
			channel = cb.Container.ChannelID
		}
		// A button on a thread reply (reminder, rollback alert) is answered
		// in that thread when the answer has to fall back to postEphemeral.
		thread := cb.Container.ThreadTs
		if thread == "" {
			thread = cb.Message.ThreadTimestamp
		}
		a.answer(ctx, bot.Invoker{User: Platform + ":" + cb.User.ID, Channel: Platform + ":" + channel, Handle: cb.ResponseURL}, thread, m)
		return struct{}{}
	}, nil)
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
		p := a.style.payload(m)
		no := false
		p.ReplaceOriginal = &no
		err := a.respond(ctx, to.Handle, p)
		if err == nil {
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

// respond posts a payload to a response_url (valid 30 minutes, 5 uses).
func (a *Adapter) respond(ctx context.Context, responseURL string, p answer) error {
	u, err := url.Parse(responseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("slack: unusable response_url")
	}
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("slack: encode answer: %w", err)
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
		defer resp.Body.Close()
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
