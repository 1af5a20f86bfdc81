package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/upgradebot/upgradebot/bot"
)

// The handlers in this file serve both modes: HTTP requests and Socket Mode
// envelopes are turned into a slackgo.SlashCommand or InteractionCallback
// and end up here.

// within runs work in the background and waits at most the reply budget for
// it. When work finishes in time its result is returned with true; otherwise
// false is returned at once and late, if set, receives the result when it
// comes. Work outlives the inbound request (Slack closes it after 3 s) but
// not workTimeout.
func within[T any](a *Adapter, parent context.Context, work func(context.Context) T, late func(context.Context, T)) (T, bool) {
	var (
		mu     sync.Mutex
		gaveUp bool
	)
	done := make(chan T, 1)
	a.inflight.add()
	go func() {
		defer a.inflight.done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), a.workTimeout)
		defer cancel()
		var res T
		func() {
			defer func() {
				if r := recover(); r != nil {
					a.log.ErrorContext(ctx, "slack handler panicked", "panic", fmt.Sprint(r))
				}
			}()
			res = work(ctx)
		}()
		mu.Lock()
		if !gaveUp {
			done <- res
			mu.Unlock()
			return
		}
		mu.Unlock()
		if late != nil {
			late(ctx, res)
		}
	}()
	t := time.NewTimer(a.budget)
	defer t.Stop()
	select {
	case res := <-done:
		return res, true
	case <-t.C:
	case <-parent.Done():
	}
	mu.Lock()
	defer mu.Unlock()
	select {
	case res := <-done:
		return res, true
	default:
		gaveUp = true
		var zero T
		return zero, false
	}
}

// first reports whether an inbound delivery is new. Slack re-sends what it
// thinks was not answered (X-Slack-Retry-Num, Socket Mode retry_attempt); the
// key comes from the payload so every re-send of one request matches. When
// the store cannot answer, the request is processed rather than lost.
func (a *Adapter) first(ctx context.Context, key string) bool {
	if key == "" {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	ok, err := a.once.First(ctx, "slack:"+key, a.dedupeTTL)
	if err != nil {
		a.log.WarnContext(ctx, "de-duplication unavailable; processing the request", "err", err)
		return true
	}
	return ok
}

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
		p := payload(bot.Message{Kind: bot.KindError, Ephemeral: true, Lines: []bot.Text{
			bot.T("This bot answers ").Code(a.cmdName).Add(", not ").Code(sc.Command).Add(". Check slack.command and the app's slash command."),
		}})
		return &p
	}
	work := func(ctx context.Context) commandResult {
		if sc.TriggerID != "" && !a.first(ctx, "cmd:"+sc.TriggerID) {
			return commandResult{duplicate: true, finished: true}
		}
		inv := bot.Invocation{
			Actor:    bot.Actor{ID: Platform + ":" + sc.UserID, Name: sc.UserName, Groups: a.groupsOf(ctx, sc.UserID)},
			Channel:  Platform + ":" + sc.ChannelID,
			Location: a.location(ctx, sc.UserID),
		}
		return commandResult{msg: a.core.Handle(ctx, inv, unescape(sc.Text)), finished: true}
	}
	late := func(ctx context.Context, r commandResult) {
		if r.duplicate {
			return
		}
		a.deliverAnswer(ctx, sc.ResponseURL, sc.ChannelID, "", sc.UserID, resultMessage(r))
	}
	r, ok := within(a, parent, work, late)
	if !ok {
		log.InfoContext(parent, "command still running; answering later on the response_url")
		p := workingOnIt()
		return &p
	}
	if r.duplicate {
		log.InfoContext(parent, "duplicate command ignored", "trigger", sc.TriggerID)
		return nil
	}
	p := payload(resultMessage(r))
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
		return bot.Message{Kind: bot.KindError, Ephemeral: true, Lines: []bot.Text{bot.T("Something went wrong on our side; the operators have the details in the log.")}}
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
	within(a, parent, func(ctx context.Context) struct{} {
		if !a.first(ctx, key) {
			a.log.InfoContext(ctx, "duplicate button press ignored", "user", cb.User.ID)
			return struct{}{}
		}
		var m bot.Message
		id, scope, ok := strings.Cut(act.Value, ":")
		if !ok || id == "" || scope == "" {
			m = bot.Message{Kind: bot.KindError, Ephemeral: true, Lines: []bot.Text{bot.T("This button is not one of upgradebot's.")}}
		} else {
			name := cb.User.Name
			if name == "" {
				name = cb.User.Username
			}
			m = a.core.Press(ctx, bot.Actor{ID: Platform + ":" + cb.User.ID, Name: name, Groups: a.groupsOf(ctx, cb.User.ID)}, id, scope)
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
		a.deliverAnswer(ctx, cb.ResponseURL, channel, thread, cb.User.ID, m)
		return struct{}{}
	}, nil)
}

// deliverAnswer shows m to one user only: on the response_url when there is
// one, else with chat.postEphemeral in channel (and in thread, when set). It
// gets its own time: the work that produced m may have used up ctx.
func (a *Adapter) deliverAnswer(ctx context.Context, responseURL, channel, thread, user string, m bot.Message) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), answerTimeout)
	defer cancel()
	m.Ephemeral = true
	if responseURL != "" {
		p := payload(m)
		no := false
		p.ReplaceOriginal = &no
		err := a.respond(ctx, responseURL, p)
		if err == nil {
			return
		}
		a.log.WarnContext(ctx, "answering on the response_url failed", "user", user, "err", err)
	}
	if channel == "" || user == "" {
		return
	}
	opts := msgOptions(m)
	if thread != "" {
		opts = append(opts, slackgo.MsgOptionTS(thread))
	}
	err := a.call(ctx, "chat.postEphemeral", func(ctx context.Context) error {
		_, err := a.api.PostEphemeralContext(ctx, channel, user, opts...)
		return err
	})
	if err != nil {
		a.log.WarnContext(ctx, "ephemeral answer not delivered", "user", user, "channel", channel, "err", err)
	}
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
