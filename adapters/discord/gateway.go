package discord

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Reconnect backoff of the gateway supervisor.
const (
	gatewayBackoff    = time.Second
	gatewayBackoffMax = time.Minute
)

// runGateway keeps the gateway connected until ctx ends. discordgo's own
// reconnect loop is off (it would outlive Run): after a dropped connection
// discordgo closes the socket and reports a Disconnect, and this loop opens
// it again, which RESUMEs the session (Discord replays what was missed) or,
// when that is refused, IDENTIFYs anew. Readiness follows: connected from
// the READY or RESUMED that ends a successful Open until a disconnect.
func (a *Adapter) runGateway(ctx context.Context) {
	defer a.connected.Store(false)
	backoff := gatewayBackoff
	for {
		err := a.session.Open()
		if err == nil || errors.Is(err, discordgo.ErrWSAlreadyOpen) {
			if !a.connected.Swap(true) {
				a.log.InfoContext(ctx, "discord gateway connected")
			}
			a.gatewayErr.Store(nil)
			backoff = gatewayBackoff
			select {
			case <-ctx.Done():
				a.connected.Store(false)
				if err := a.session.Close(); err != nil {
					a.log.WarnContext(ctx, "closing the gateway failed", "err", err)
				}
				return
			case <-a.dropped:
				continue // open again at once; Open says whether it still is
			}
		}
		a.connected.Store(false)
		fail, _, _ := classify("connect to the gateway", err, &attempt{})
		why := a.reason(fail)
		a.gatewayErr.Store(&why)
		a.log.WarnContext(ctx, "discord gateway connection failed; retrying", "reason", why, "again_in", backoff.String())
		t := time.NewTimer(backoff + rand.N(backoff/4+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, gatewayBackoffMax)
	}
}

// onDisconnect is discordgo's report of a closed gateway connection.
func (a *Adapter) onDisconnect(_ *discordgo.Session, _ *discordgo.Disconnect) {
	if a.connected.Swap(false) {
		a.log.Warn("discord gateway disconnected; reconnecting")
	}
	select {
	case a.dropped <- struct{}{}:
	default:
	}
}

// onInteraction is an INTERACTION_CREATE from the gateway, answered on the
// interaction's callback endpoint.
func (a *Adapter) onInteraction(_ *discordgo.Session, ic *discordgo.InteractionCreate) {
	if ic == nil || ic.Interaction == nil {
		return
	}
	ctx := context.Background()
	if p := a.runCtx.Load(); p != nil {
		ctx = *p
	}
	a.inflight.Add()
	defer a.inflight.Done()
	i := ic.Interaction
	respond := func(ctx context.Context, r *discordgo.InteractionResponse, _ []byte) error {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer cancel()
		err := a.call(ctx, "answer interaction", false, func(opts ...discordgo.RequestOption) error {
			return a.api.InteractionRespond(i, r, opts...)
		})
		if codeOf(err) == codeAlreadyAnswered { // another replica's session answered it
			return nil
		}
		return err
	}
	a.interaction(ctx, i, respond)
}
