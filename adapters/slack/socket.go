package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// runSocket connects with Socket Mode and serves envelopes until ctx ends.
// It never gives up: when Slack refuses the app token (at start, or at one
// of the reconnections Slack asks for every few hours), the rest of the bot
// keeps serving, /readyz says why Socket Mode is not connected, and it
// tries again, backing off to socketRetryMax, until the token works again.
func (a *Adapter) runSocket(ctx context.Context) error {
	defer a.connected.Store(false)
	wait := a.socketRetryFirst
	for {
		connected, err := a.socketSession(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if connected {
			wait = a.socketRetryFirst
		}
		a.socketRefused(ctx, err, wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		wait = min(2*wait, a.socketRetryMax)
	}
}

// socketSession runs one Socket Mode client until ctx ends or it gives up
// (slack-go returns only when Slack refuses the app token: invalid_auth,
// token_revoked, …, or apps.connections.open answers 404; other failures
// it retries itself). It reports whether it connected at all.
func (a *Adapter) socketSession(ctx context.Context) (bool, error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// slack-go says that a connection opened and why one ended only in
	// its debug log: debug mode on, and debugLog keeps those lines alone
	// (socketOpened, socketDropped, which may hold the reconnection).
	sm := socketmode.New(a.client, socketmode.OptionDebug(true),
		socketmode.OptionLog(debugLog{open: func() { a.socketOpened(sctx) }, drop: func(cause string) { a.socketDropped(sctx, cause) }}))
	errc := make(chan error, 1)
	go func() { errc <- sm.RunContext(sctx) }()
	connected := false
	for {
		select {
		case <-ctx.Done():
			select {
			case <-errc:
			case <-time.After(5 * time.Second):
			}
			return connected, nil
		case err := <-errc:
			a.connected.Store(false)
			return connected, err
		case evt := <-sm.Events:
			a.socketEvent(ctx, sm, evt)
			connected = connected || a.connected.Load()
		}
	}
}

// Socket Mode retries after Slack refused the app token: the first after
// socketRetryFirst, doubling up to socketRetryMax; a refusal is logged at
// ERROR when it starts, then at most once every socketRefusalLogEvery.
const (
	socketRetryFirst      = 2 * time.Second
	socketRetryMax        = time.Minute
	socketRefusalLogEvery = time.Minute
)

// appTokenAdvice is what to do when Slack refuses the app token.
const appTokenAdvice = "check slack.app_token (UPGRADEBOT_SLACK_APP_TOKEN): it must be an app-level token (xapp-…) of this app with the connections:write scope (Basic Information → App-Level Tokens)"

// socketRefused records that the Socket Mode client gave up (err): the
// reason /readyz gives, and the log, at ERROR once, then calmly.
func (a *Adapter) socketRefused(ctx context.Context, err error, again time.Duration) {
	code := errorCode(err)
	why := "the app token was refused: " + code
	if code == "error" {
		why = a.socketCause(err)
		code = why
	}
	a.socketWhy.Store(&why)
	now := time.Now()
	a.refusals++
	switch {
	case a.refusedSince.IsZero():
		a.refusedSince, a.refusalLogged, a.refusals = now, now, 1
		a.log.ErrorContext(ctx, "slack refused the app token, so socket mode cannot connect; the rest of the bot keeps running and it retries; "+appTokenAdvice,
			"code", code, "again_in", again.String())
	case now.Sub(a.refusalLogged) >= socketRefusalLogEvery:
		a.refusalLogged = now
		a.log.ErrorContext(ctx, "slack still refuses the app token; retrying", "code", code,
			"refused_for", now.Sub(a.refusedSince).Round(time.Second).String(), "attempts", a.refusals, "again_in", again.String())
	}
}

// socketCause is why one attempt to connect failed, as /readyz says it
// after "socket mode is not connected: ".
func (a *Adapter) socketCause(err error) string {
	_, _, code := classify(err)
	switch {
	case code == codeNetwork || code == codeTimeout || code == codeTLS:
		return a.unreachable(&Error{Code: code, Err: err})
	case code == "error":
		if d := unreadable(err); d != "" {
			return "connecting failed: " + d
		}
		return "connecting failed"
	}
	return "apps.connections.open failed: " + code
}

// ack acknowledges an envelope, with an optional payload. Acks are bounded so
// a dead connection cannot hold a handler forever.
func (a *Adapter) ack(ctx context.Context, sm *socketmode.Client, req *socketmode.Request, p any) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return sm.AckCtx(ctx, req.EnvelopeID, p)
}

// badEnvelope handles a message slack-go could not read: an envelope of a
// type it does not know, or whose payload does not decode. An envelope is
// acknowledged all the same, with nothing (Slack would send it again, and
// again it could not be acted on), and said once; anything else is a
// problem of the connection's.
func (a *Adapter) badEnvelope(ctx context.Context, sm *socketmode.Client, evt socketmode.Event) {
	bad, _ := evt.Data.(*socketmode.ErrorBadMessage)
	if bad == nil {
		a.log.WarnContext(ctx, "socket mode problem", "event", string(evt.Type))
		return
	}
	var env struct {
		EnvelopeID string `json:"envelope_id"`
		Type       string `json:"type"`
	}
	if json.Unmarshal(bad.Message, &env) != nil || env.EnvelopeID == "" {
		a.log.WarnContext(ctx, "socket mode problem", "event", string(evt.Type), "err", bad.Cause)
		return
	}
	if err := a.ack(ctx, sm, &socketmode.Request{EnvelopeID: env.EnvelopeID}, nil); err != nil {
		a.log.WarnContext(ctx, "socket mode ack failed", "envelope_id", env.EnvelopeID, "err", err)
	}
	a.log.WarnContext(ctx, "socket mode envelope not acted on; acknowledged", "type", env.Type, "envelope_id", env.EnvelopeID, "err", bad.Cause)
}

// socketEvent handles one event of the Socket Mode client. Interactions and
// events are acknowledged first and worked on after; a slash command is
// acknowledged with its answer, which comes within the reply budget (or is
// "Working on it…"), so Slack's 3 seconds hold either way.
func (a *Adapter) socketEvent(ctx context.Context, sm *socketmode.Client, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		a.connected.Store(false)
		a.log.DebugContext(ctx, "socket mode connecting")
	case socketmode.EventTypeConnected, socketmode.EventTypeHello:
		a.socketWhy.Store(nil)
		if !a.refusedSince.IsZero() {
			a.log.InfoContext(ctx, "slack accepts the app token again", "refused_for", time.Since(a.refusedSince).Round(time.Second).String(), "attempts", a.refusals)
			a.refusedSince, a.refusals = time.Time{}, 0
		}
		if !a.connected.Swap(true) {
			a.socketUp(ctx)
		}
	case socketmode.EventTypeConnectionError:
		a.connected.Store(false)
		if e, ok := evt.Data.(*slackgo.ConnectionErrorEvent); ok {
			why := a.socketCause(e.ErrorObj)
			a.socketWhy.Store(&why)
			a.log.WarnContext(ctx, "socket mode connection failed; retrying", "reason", why, "attempt", e.Attempt, "backoff", e.Backoff.String(), "code", errorCode(e.ErrorObj))
		}
	case socketmode.EventTypeInvalidAuth:
		// apps.connections.open answered 404; slack-go gives up and
		// runSocket logs the refusal and retries, as for invalid_auth.
		a.connected.Store(false)
	case socketmode.EventTypeErrorBadMessage:
		a.badEnvelope(ctx, sm, evt)
	case socketmode.EventTypeIncomingError, socketmode.EventTypeErrorWriteFailed:
		args := []any{"event", string(evt.Type)}
		switch e := evt.Data.(type) {
		case *slackgo.IncomingEventError:
			if !unreadableJSON(e.ErrorObj) {
				// A failed read ends the connection: socketDropped says
				// why, once (or nothing, when the bot closed it itself).
				a.log.DebugContext(ctx, "socket mode read failed", "err", scrubSocketCause(fmt.Sprint(e.ErrorObj)))
				return
			}
			args = append(args, "err", e.ErrorObj)
		case *socketmode.ErrorWriteFailed:
			args = append(args, "err", e.Cause)
		}
		a.log.WarnContext(ctx, "socket mode problem", args...)
	case socketmode.EventTypeSlashCommand:
		sc, ok := evt.Data.(slackgo.SlashCommand)
		if evt.Request == nil {
			return
		}
		if !ok || sc.UserID == "" || sc.ChannelID == "" {
			_ = a.ack(ctx, sm, evt.Request, nil)
			a.log.WarnContext(ctx, "socket mode envelope not acted on; acknowledged", "type", evt.Request.Type, "envelope_id", evt.Request.EnvelopeID,
				"err", "a slash command without its user or channel")
			return
		}
		// Ack first, then work (Slack's Socket Mode contract): the answer
		// goes to the response_url, like every late answer in http mode.
		req := evt.Request
		a.inflight.Add() // before the ack: whoever saw the ack can Wait for the work
		if err := a.ack(ctx, sm, req, nil); err != nil {
			a.log.WarnContext(ctx, "socket mode ack failed", "err", err)
		}
		go func() {
			defer a.inflight.Done()
			ans, m := a.commandAnswer(ctx, sc, retryAttempt(req))
			switch {
			case ans == nil: // a re-sent command already being handled
			case m != nil: // the answer: the response_url, else in the channel, else a DM
				a.answerCommand(ctx, commandInvoker(sc), ans, *m)
			default: // "Working on it…"; the answer follows with its fallbacks
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), answerTimeout)
				defer cancel()
				if err := a.respondJSON(rctx, sc.ResponseURL, ans); err != nil {
					a.log.WarnContext(ctx, "\"Working on it…\" not delivered", "user", sc.UserID, "err", err)
				}
			}
		}()
	case socketmode.EventTypeInteractive:
		if evt.Request == nil {
			return
		}
		cb, ok := evt.Data.(slackgo.InteractionCallback)
		if !ok || cb.User.ID == "" {
			if err := a.ack(ctx, sm, evt.Request, nil); err != nil {
				a.log.WarnContext(ctx, "socket mode ack failed", "err", err)
			}
			a.log.WarnContext(ctx, "socket mode envelope not acted on; acknowledged", "type", evt.Request.Type, "envelope_id", evt.Request.EnvelopeID,
				"err", "an interaction without its user")
			return
		}
		if n := evt.Request.RetryAttempt; n > 0 {
			a.log.InfoContext(ctx, "slack re-sent an interaction", "retry", n)
		}
		in, req := interactionOf(cb), evt.Request
		in.Resent = req.RetryAttempt > 0
		if in.Type == typeViewSubmission {
			// The ack carries the answer (close the modal, or show the
			// errors in it), so it waits for the core, within the budget;
			// off the event loop.
			a.inflight.Add()
			go func() {
				defer a.inflight.Done()
				var payload any
				if ans := a.submit(ctx, in); ans != nil {
					payload = ans
				}
				if err := a.ack(ctx, sm, req, payload); err != nil {
					a.log.WarnContext(ctx, "socket mode ack failed", "err", err)
				}
			}()
			return
		}
		// Started (or queued) before the ack: whoever saw the ack can Wait
		// for the work, and a Write-debrief press opens its modal at once.
		// Never waits for a press worker: the next envelope, a slash
		// command say, is read only once this one is handled.
		if !a.pressedSocket(ctx, in) {
			a.pressRefused(ctx, in)
			return // not acknowledged: Slack tells the presser it failed
		}
		if err := a.ack(ctx, sm, req, nil); err != nil {
			a.log.WarnContext(ctx, "socket mode ack failed", "err", err)
		}
	case socketmode.EventTypeEventsAPI:
		if evt.Request != nil {
			_ = a.ack(ctx, sm, evt.Request, nil)
		}
	}
}

// pressBacklog is how many Socket Mode presses, acknowledged already, wait
// at most for a press worker (each a parked goroutine and the press, a few
// KB): about 3 s of presses at the rate docs/slack.md gives.
const pressBacklog = 4096

// pressedSocket is pressed for Socket Mode, where the envelopes come one
// after the other on one connection: it never waits. A press goes to a
// free press worker, or, when all are busy, waits for one on a goroutine
// of its own, off the read loop, at most pressBacklog of them; past that it
// returns false and the press is not run.
func (a *Adapter) pressedSocket(ctx context.Context, in interaction) bool {
	if act, ok := in.ours(); ok && act.ActionID == ActionDebrief {
		a.pressed(ctx, in)
		return true
	}
	work := func() { a.press(ctx, in) }
	if a.presses.TryGo(work) {
		return true
	}
	select {
	case a.backlog <- struct{}{}:
	default:
		return false
	}
	a.inflight.Add() // Go counts the press from when it takes it
	go func() {
		defer a.inflight.Done()
		defer func() { <-a.backlog }()
		// Acknowledged already: it waits for a worker even while the bot
		// shuts down (drain waits for it, up to its limit).
		a.presses.Go(context.WithoutCancel(ctx), work)
	}()
	return true
}

// pressRefused logs presses left unacknowledged because the backlog was
// full: the first, then at most one line every 10 s with their number.
func (a *Adapter) pressRefused(ctx context.Context, in interaction) {
	n := a.refusedPresses.Add(1)
	last := a.refusedLogged.Load()
	now := time.Now().UnixNano()
	if last != 0 && now-last < int64(10*time.Second) {
		return
	}
	if !a.refusedLogged.CompareAndSwap(last, now) {
		return
	}
	a.refusedPresses.Add(-n)
	a.log.WarnContext(ctx, "press not acknowledged: every press worker is busy and the backlog is full; Slack tells the presser, who can press again",
		"user", in.User.ID, "presses", n, "backlog", cap(a.backlog))
}

func retryAttempt(req *socketmode.Request) string {
	if req == nil || req.RetryAttempt == 0 {
		return ""
	}
	return strconv.Itoa(req.RetryAttempt)
}

// unreadableJSON reports whether a failed read was a message that is not
// JSON, after which the connection stays up.
func unreadableJSON(err error) bool {
	_, syntax := errors.AsType[*json.SyntaxError](err)
	_, typ := errors.AsType[*json.UnmarshalTypeError](err)
	return syntax || typ
}

// socketLoss is a Socket Mode connection that ended: when, and why.
type socketLoss struct {
	at    time.Time
	cause string
}

// socketUp logs a connection up: the first is connected; any later one is
// reconnected, with why and since when the last one ended when that was
// told (at DEBUG while connections keep dropping soon after they open). The first connection leaves that to the next: a drop told before
// its hello was read (it dropped within milliseconds) is its own end.
func (a *Adapter) socketUp(ctx context.Context) {
	if !a.socketEver {
		a.socketEver = true
		a.log.InfoContext(ctx, "socket mode connected")
		return
	}
	after, downFor := "connection ended", ""
	if lost := a.socketLost.Swap(nil); lost != nil {
		after, downFor = lost.cause, a.clock().Now().Sub(lost.at).Round(time.Millisecond).String()
	}
	args := []any{"after", after}
	if downFor != "" {
		args = append([]any{"down_for", downFor}, args...)
	}
	if a.flaps.flapping() {
		// Told once a streak: at its start, and when stable again.
		a.log.DebugContext(ctx, "socket mode reconnected", args...)
		return
	}
	a.log.InfoContext(ctx, "socket mode reconnected", args...)
}

// slackAskedCause is how slack-go says a connection ended because Slack
// sent a disconnect message (it does so every few hours).
const slackAskedCause = "disconnection requested: Slack requested us to disconnect"

// socketDropped is told why slack-go is about to reconnect, on the
// goroutine that reconnects: it returns only after the pause that
// socketFlapped sets (none after a connection that lasted). A connection
// that lasted and ended without Slack asking (closed, reset, no ping) is
// logged at WARN with its cause; one that Slack asked to renew, at DEBUG;
// one that dropped soon after it opened, by socketFlapped, once a streak.
// Either way the next connection is logged as a reconnect. Nothing is said
// while the bot shuts down.
func (a *Adapter) socketDropped(ctx context.Context, cause string) {
	if ctx.Err() != nil {
		return
	}
	a.connected.Store(false)
	cause = scrubSocketCause(cause)
	now := a.clock().Now()
	asked := cause == slackAskedCause
	lost := "connection dropped"
	if asked {
		lost = "slack asked to reconnect"
	}
	a.socketLost.Store(&socketLoss{at: now, cause: lost})
	if pause := a.socketFlapped(ctx, now, cause); pause > 0 {
		a.clock().Sleep(ctx, pause)
		return
	}
	if asked {
		a.log.DebugContext(ctx, "socket mode reconnecting as slack asked")
		return
	}
	a.log.WarnContext(ctx, "socket mode connection dropped; reconnecting", "cause", cause)
}

// socketURL matches WebSocket URLs, whose query carries Slack's ticket.
var socketURL = regexp.MustCompile(`(wss?://[^/\s"?]+)[^\s"]*`)

// scrubSocketCause keeps secrets out of a cause: URLs lose all but their
// origin (the ticket), tokens their value.
func scrubSocketCause(s string) string {
	s = socketURL.ReplaceAllString(s, "$1")
	return slackToken.ReplaceAllString(s, "xox…")
}

// debugLog takes slack-go's own log lines (written in its debug mode,
// those two on the goroutine that connects and reconnects): the one that
// says a connection is open goes to open, the one that says why a
// connection ended, before the next is opened, to drop; the others, with
// message payloads, are dropped.
type debugLog struct {
	open func()
	drop func(cause string)
}

// Output implements slack-go's logger.
func (d debugLog) Output(_ int, s string) error {
	s = strings.TrimSpace(s)
	if cause, ok := strings.CutPrefix(s, "Reconnecting due to "); ok {
		d.drop(cause)
	} else if strings.HasPrefix(s, "WebSocket connection succeeded") {
		d.open()
	}
	return nil
}
