package slack

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// runSocket connects with Socket Mode and serves envelopes until ctx ends.
func (a *Adapter) runSocket(ctx context.Context) error {
	sm := socketmode.New(a.client, socketmode.OptionLog(debugLog{a.log}))
	errc := make(chan error, 1)
	go func() { errc <- sm.RunContext(ctx) }()
	defer a.connected.Store(false)
	for {
		select {
		case <-ctx.Done():
			select {
			case <-errc:
			case <-time.After(5 * time.Second):
			}
			return nil
		case err := <-errc:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("slack socket mode: %w", err)
		case evt := <-sm.Events:
			a.socketEvent(ctx, sm, evt)
		}
	}
}

// ack acknowledges an envelope, with an optional payload. Acks are bounded so
// a dead connection cannot hold a handler forever.
func (a *Adapter) ack(ctx context.Context, sm *socketmode.Client, req *socketmode.Request, p any) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return sm.AckCtx(ctx, req.EnvelopeID, p)
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
		if !a.connected.Swap(true) {
			a.log.InfoContext(ctx, "socket mode connected")
		}
	case socketmode.EventTypeConnectionError:
		a.connected.Store(false)
		if e, ok := evt.Data.(*slackgo.ConnectionErrorEvent); ok {
			a.log.WarnContext(ctx, "socket mode connection failed; retrying", "attempt", e.Attempt, "backoff", e.Backoff.String(), "code", errorCode(e.ErrorObj))
		}
	case socketmode.EventTypeInvalidAuth:
		a.connected.Store(false)
		a.log.ErrorContext(ctx, "socket mode: the app token was refused")
	case socketmode.EventTypeIncomingError, socketmode.EventTypeErrorBadMessage, socketmode.EventTypeErrorWriteFailed:
		a.log.WarnContext(ctx, "socket mode problem", "event", string(evt.Type))
	case socketmode.EventTypeSlashCommand:
		sc, ok := evt.Data.(slackgo.SlashCommand)
		if evt.Request == nil {
			return
		}
		if !ok || sc.UserID == "" || sc.ChannelID == "" {
			a.log.WarnContext(ctx, "socket mode: malformed slash command")
			_ = a.ack(ctx, sm, evt.Request, nil)
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
			a.log.WarnContext(ctx, "socket mode: malformed interaction")
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
		// Started before the ack: whoever saw the ack can Wait for the
		// work, and a Write-debrief press opens its modal at once.
		a.pressed(ctx, in)
		if err := a.ack(ctx, sm, req, nil); err != nil {
			a.log.WarnContext(ctx, "socket mode ack failed", "err", err)
		}
	case socketmode.EventTypeEventsAPI:
		if evt.Request != nil {
			_ = a.ack(ctx, sm, evt.Request, nil)
		}
	}
}

func retryAttempt(req *socketmode.Request) string {
	if req == nil || req.RetryAttempt == 0 {
		return ""
	}
	return strconv.Itoa(req.RetryAttempt)
}

// debugLog routes slack-go's own log lines (only written in its debug mode)
// to slog at debug level.
type debugLog struct{ l *slog.Logger }

// Output implements slack-go's logger.
func (d debugLog) Output(_ int, s string) error {
	d.l.Debug(strings.TrimSpace(s), "source", "slack-go")
	return nil
}
