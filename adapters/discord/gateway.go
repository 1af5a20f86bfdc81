package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/upgradebot/upgradebot/adapters/inbound"
	"github.com/upgradebot/upgradebot/bot"
)

// Reconnect backoff of the gateway supervisor, and the waits after op 9.
const (
	gatewayBackoff    = time.Second
	gatewayBackoffMax = time.Minute
	// stableAfter is how long a connection must have been ready for its
	// loss to be resumed at once; one lost sooner waits the backoff, so
	// that a gateway closing every connection is not hammered.
	stableAfter = time.Minute
	// invalidMax caps the wait after op 9s in a row: Discord allows 1000
	// IDENTIFYs a day, then resets the token.
	invalidMax = 5 * time.Minute
)

// answerLimit is how long Discord waits for the first answer to an
// interaction; clockMargin allows for the difference between Discord's
// clock and the bot's, so that a fresh interaction is never taken for a
// stale one.
const (
	answerLimit = 3 * time.Second
	clockMargin = 2 * time.Second
	// tokenLife is how long Discord keeps an interaction's token: an id
	// older than that is taken as no replay (see onInteraction).
	tokenLife = 15 * time.Minute
)

// errSwitchGateway is the dial refused so that discordgo asks for the
// gateway's URL again, and gets the one READY named for resuming.
var errSwitchGateway = errors.New("discord: switching to the gateway Discord named for resuming")

// runGateway keeps the gateway connected until ctx ends. discordgo's own
// reconnect loop is off (it would outlive Run): after a lost connection
// discordgo closes the socket, and this loop opens it again, which RESUMEs
// the session (Discord replays what was missed) or, when that is refused,
// IDENTIFYs anew. Readiness comes from the READY or RESUMED dispatch only
// (onReady), and goes as soon as the connection is lost, Discord closes
// it, or says op 9 (gwconn.go).
func (a *Adapter) runGateway(ctx context.Context) {
	a.closing.Store(false)
	defer a.connected.Store(false)
	// A blocked Open (a silent gateway, a wait after op 9) ends at once.
	stop := context.AfterFunc(ctx, a.abortHandshake)
	defer stop()
	backoff := gatewayBackoff
	for ctx.Err() == nil {
		drain(a.dropped)
		a.connMu.Lock()
		a.conn = nil
		a.connMu.Unlock()
		err := a.session.Open()
		switch {
		case errors.Is(err, discordgo.ErrWSAlreadyOpen):
			// discordgo is still closing the last connection; it says when
			// it is done.
			t := time.NewTimer(5 * time.Second)
			select {
			case <-ctx.Done():
			case <-a.dropped:
			case <-t.C:
			}
			t.Stop()
			continue
		case errors.Is(err, errSwitchGateway):
			continue
		}
		c := a.currentConn()
		if err != nil && c != nil && !c.opened() {
			// The resume URL's host took the connection but the websocket
			// did not open (refused upgrade, timeout): the gateway's own
			// URL next time. A failed dial gave it up already.
			a.resumeDialFailed()
		}
		if err == nil && c != nil {
			go a.watch(ctx, c)
			select {
			case <-ctx.Done():
				a.shutdownGateway(ctx)
				return
			case <-c.closed:
			}
			if d, ok := c.reconnect(); ok {
				if !a.redial(ctx, d) {
					return
				}
				continue
			}
			_, readyFor, cause, _ := c.outcome()
			if readyFor >= stableAfter {
				backoff = gatewayBackoff
				continue // resume at once
			}
			if readyFor > 0 { // lost soon after it was ready: resume after the backoff
				if !a.backoffPause(backoff+rand.N(backoff/4+1), ctx.Done()) {
					return
				}
				backoff = min(2*backoff, gatewayBackoffMax)
				continue
			}
			err = errors.New(cause)
		} else if err == nil { // not dialed through the adapter: cannot happen
			err = errors.New("discordgo opened the gateway without the adapter's dialer")
		} else if c != nil {
			if d, ok := c.reconnect(); ok {
				if !a.redial(ctx, d) {
					return
				}
				continue
			}
			if _, _, cause, ours := c.outcome(); ours {
				err = errors.New(cause) // a timeout says more than "use of closed network connection"
			}
		}
		if ctx.Err() != nil {
			return
		}
		a.connected.Store(false)
		fail, _, _ := classify("connect to the gateway", err, &attempt{})
		if fail.redirect() { // the gateway's address comes from the REST API at api_url
			fail.Host = a.apiHost
		}
		why := a.reason(fail)
		a.gatewayErr.Store(&why)
		if code, advice := refusedClose(err); advice != "" {
			// Retrying cannot help until someone acts: an ERROR that says
			// what to do, still at most once a backoff (up to a minute).
			a.log.ErrorContext(ctx, "discord refused the gateway connection; "+advice, "reason", why, "close_code", code, "again_in", backoff.String())
		} else {
			a.log.WarnContext(ctx, "discord gateway connection failed; retrying", "reason", why, "again_in", backoff.String())
		}
		if !a.backoffPause(backoff+rand.N(backoff/4+1), ctx.Done()) {
			return
		}
		backoff = min(2*backoff, gatewayBackoffMax)
	}
}

// refusedClose tells a gateway close that Discord documents as not worth
// reconnecting after (the same IDENTIFY gets the same answer) and what the
// operator must do about it; "" for any other failure.
func refusedClose(err error) (int, string) {
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		return 0, ""
	}
	switch ce.Code {
	case 4004:
		return ce.Code, "the bot token was refused (close 4004 Authentication failed): check discord.bot_token (UPGRADEBOT_DISCORD_BOT_TOKEN): it must be the current Bot token of this application (Developer Portal → Bot → Reset Token); the bot keeps retrying"
	case 4013, 4014:
		return ce.Code, fmt.Sprintf("the gateway intents were refused (close %d %s), though the bot asks for none: please report it; the bot keeps retrying", ce.Code, ce.Text)
	case 4010, 4011, 4012:
		return ce.Code, fmt.Sprintf("the gateway refused the connection (close %d %s); the bot keeps retrying", ce.Code, ce.Text)
	}
	return 0, ""
}

// redial waits d before the reconnect Discord asked for (op 7, op 9), with
// no connection open, and without the backoff; it reports whether to go on.
func (a *Adapter) redial(ctx context.Context, d time.Duration) bool {
	if d > 0 && !a.pause(d, ctx.Done()) {
		return false
	}
	return ctx.Err() == nil
}

func drain(ch chan struct{}) {
	select {
	case <-ch:
	default:
	}
}

// shutdownGateway closes the session for good: with code 1000, so that
// Discord stops sending it events (they go to the other replicas).
func (a *Adapter) shutdownGateway(ctx context.Context) {
	a.closing.Store(true)
	a.connected.Store(false)
	if err := a.session.Close(); err != nil {
		a.log.WarnContext(ctx, "closing the gateway failed", "err", err)
	}
}

// abortHandshake, when Run's context ends, closes a connection that is not
// ready yet (Open may be blocked on it); a ready one is closed by
// shutdownGateway.
func (a *Adapter) abortHandshake() {
	a.closing.Store(true)
	if c := a.currentConn(); c != nil {
		if ready, _, _, _ := c.outcome(); !ready {
			c.abort("shutting down")
		}
	}
}

func (a *Adapter) currentConn() *gwConn {
	a.connMu.Lock()
	defer a.connMu.Unlock()
	return a.conn
}

// down makes the adapter not ready while c is its connection, saying why.
func (a *Adapter) down(c *gwConn, why string) {
	a.connMu.Lock()
	defer a.connMu.Unlock()
	if c != a.conn {
		return
	}
	if a.closing.Load() {
		a.connected.Store(false)
		return
	}
	a.gatewayErr.Store(&why)
	if a.connected.Swap(false) {
		a.log.Warn("discord gateway disconnected; reconnecting", "reason", why)
	}
}

// onReady and onResumed are discordgo's READY and RESUMED: the adapter is
// ready, unless the connection they came on is already gone.
func (a *Adapter) onReady(_ *discordgo.Session, _ *discordgo.Ready)     { a.up("READY") }
func (a *Adapter) onResumed(_ *discordgo.Session, _ *discordgo.Resumed) { a.up("RESUMED") }

func (a *Adapter) up(event string) {
	a.connMu.Lock()
	c := a.conn
	ok, was := false, false
	if c != nil {
		ready, _, _, _ := c.outcome()
		ok = ready && !a.closing.Load()
	}
	if ok {
		a.gatewayErr.Store(nil)
		was = a.connected.Swap(true)
	}
	a.connMu.Unlock()
	if ok && !was {
		a.log.Info("discord gateway connected", "event", event)
	}
}

// onDisconnect is discordgo's report of a closed gateway connection; the
// adapter knew already (gwconn.go), the supervisor may be waiting for it.
func (a *Adapter) onDisconnect(_ *discordgo.Session, _ *discordgo.Disconnect) {
	select {
	case a.dropped <- struct{}{}:
	default:
	}
}

// watch closes c when a heartbeat's ACK is overdue (a zombie connection):
// abruptly, without a close frame, so that Discord keeps the session and
// the supervisor resumes it. discordgo alone would wait five intervals and
// close with 1000, which ends the session.
func (a *Adapter) watch(ctx context.Context, c *gwConn) {
	c.mu.Lock()
	interval := c.interval
	c.mu.Unlock()
	if interval <= 0 {
		return
	}
	t := time.NewTicker(min(max(interval/8, 5*time.Millisecond), 5*time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.closed:
			return
		case now := <-t.C:
			age, late := c.zombie(now)
			if !late {
				continue
			}
			a.log.Warn("no heartbeat ACK from discord; closing the connection to resume the session",
				"unacknowledged_for", age.Round(time.Millisecond).String(), "heartbeat_interval", interval.String())
			c.abort(fmt.Sprintf("Discord did not acknowledge a heartbeat for %s (heartbeat interval %s); resuming",
				age.Round(100*time.Millisecond), interval))
			return
		}
	}
}

// invalidWait is the wait after the nth op 9 in a row: Discord's random
// 1–5 s, then longer and longer, so that a gateway refusing every IDENTIFY
// does not spend the day's IDENTIFYs.
func invalidWait(n int) time.Duration {
	if n <= 2 {
		return time.Second + rand.N(4*time.Second)
	}
	d := invalidMax
	if n-2 < 8 {
		d = min(5*time.Second<<(n-2), invalidMax)
	}
	return d + rand.N(d/4+1)
}

// sleep waits d, or until stop is closed; it reports whether d passed.
func sleep(d time.Duration, stop <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	}
}

// readyData reads what the adapter keeps of READY: the URL Discord wants
// the session resumed on.
func (a *Adapter) readyData(d json.RawMessage) {
	var r struct {
		ResumeURL string `json:"resume_gateway_url"`
	}
	_ = json.Unmarshal(d, &r)
	if u, err := url.Parse(r.ResumeURL); err == nil && r.ResumeURL != "" && (u.Scheme == "wss" || u.Scheme == "ws") && u.Host != "" {
		a.resumeURL.Store(&r.ResumeURL)
	} else {
		a.resumeURL.Store(nil)
	}
}

// resumeSwitch decides, as discordgo dials addr to resume, whether to make
// that dial fail so that discordgo asks for the gateway's URL again
// (gatewayAnswer gives it READY's resume_gateway_url). discordgo keeps the
// URL it dials in an unexported field, asked for again only after a failed
// dial.
func (a *Adapter) resumeSwitch(addr string) bool {
	p := a.resumeURL.Load()
	if p == nil {
		return false
	}
	if hostPort(*p) == addr {
		a.dialingResume.Store(true)
		return false
	}
	a.dialingResume.Store(false)
	a.switching.Store(p)
	a.log.Debug("resuming on the gateway READY named", "gateway", *p)
	return true
}

// resumeDialFailed gives up on READY's resume URL after a failed dial to
// it, or a websocket that did not open on it: discordgo asks for the
// gateway's URL again, and gets Discord's.
func (a *Adapter) resumeDialFailed() {
	if a.dialingResume.Swap(false) {
		a.resumeURL.Store(nil)
	}
}

// hostPort is a ws(s) URL's host:port, as gorilla dials it.
func hostPort(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "wss" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// gatewayRequest is discordgo's GET /gateway, made as Open begins: answered
// here while switching to the resume URL (resumeSwitch), else sent on, to
// be given up when Run ends (done ends that).
func (a *Adapter) gatewayRequest(req *http.Request) (resp *http.Response, next *http.Request, done func()) {
	p := a.switching.Swap(nil)
	if p == nil {
		rc := a.runCtx.Load()
		if rc == nil {
			return nil, req, nil
		}
		ctx, cancel := context.WithCancel(req.Context())
		stop := context.AfterFunc(*rc, cancel)
		return nil, req.WithContext(ctx), func() { stop(); cancel() }
	}
	body, _ := json.Marshal(map[string]string{"url": *p})
	return &http.Response{
		Status: "200 OK", StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(string(body))),
		ContentLength: int64(len(body)), Request: req,
	}, nil, nil
}

// onInteraction is an INTERACTION_CREATE from the gateway, answered on the
// interaction's callback endpoint. One that comes after Discord stopped
// waiting for its answer (replayed on RESUME after a reconnect) is not
// acted on: its invoker saw "The application did not respond", so she is
// told by direct message instead (late).
func (a *Adapter) onInteraction(_ *discordgo.Session, ic *discordgo.InteractionCreate) {
	ctx := context.Background()
	if p := a.runCtx.Load(); p != nil {
		ctx = *p
	}
	if ic == nil || ic.Interaction == nil || ic.ID == "" || ic.Token == "" {
		// Nothing to answer it with (a payload discordgo could not read).
		var attrs []any
		if ic != nil && ic.Interaction != nil {
			attrs = append(attrs, "interaction", ic.ID, "type", ic.Type.String())
		}
		a.log.WarnContext(ctx, "interaction without an id or a token; skipped", attrs...)
		return
	}
	a.inflight.Add()
	defer a.inflight.Done()
	i := ic.Interaction
	if at, err := discordgo.SnowflakeTimestamp(i.ID); err == nil {
		// Older than its token's life, an id is no interaction Discord
		// could still replay (a made-up id, or a clock far off): it is
		// acted on as usual, and Discord says whether it takes the answer.
		if age := a.now().Sub(at); age > answerLimit+clockMargin && age <= tokenLife {
			if !a.lateFirst(ctx, i) {
				a.log.InfoContext(ctx, "duplicate interaction ignored", "interaction", i.ID, "late", true)
				return
			}
			a.late(ctx, i, at, age)
			return
		}
	}
	if i.Type == discordgo.InteractionApplicationCommandAutocomplete && !a.autocompletes.first(i.ID) {
		// Delivered again (another replica's session, a replay): the first
		// delivery answers. An autocomplete is a read, so this replica's
		// memory is enough; another replica's answer is refused by Discord
		// and ignored below.
		return
	}
	respond := func(ctx context.Context, r *discordgo.InteractionResponse, raw []byte) error {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer cancel()
		err := a.call(ctx, "answer interaction", false, func(opts ...discordgo.RequestOption) error {
			if raw != nil {
				// The JSON as it is (an autocomplete result has no
				// message fields, which discordgo's encoding adds).
				endpoint := discordgo.EndpointInteractionResponse(i.ID, i.Token)
				_, err := a.api.RequestWithBucketID(http.MethodPost, endpoint, json.RawMessage(raw), endpoint, opts...)
				return err
			}
			return a.api.InteractionRespond(i, r, opts...)
		})
		if codeOf(err) == codeAlreadyAnswered { // another replica's session answered it
			return nil
		}
		return err
	}
	a.interaction(ctx, i, respond)
}

// late tells the invoker of an interaction that came too late to be
// answered that nothing was done, by direct message; an autocomplete is
// dropped.
func (a *Adapter) late(ctx context.Context, i *discordgo.Interaction, at time.Time, age time.Duration) {
	attrs := []any{"interaction", i.ID, "type", i.Type.String(), "age", age.Round(time.Millisecond).String()}
	actor, ok := actorOf(i)
	lines, what := lateLines(i, at)
	if i.Type == discordgo.InteractionApplicationCommandAutocomplete || !ok || lines == nil {
		a.log.InfoContext(ctx, "interaction came after Discord's answer limit; dropped", attrs...)
		return
	}
	attrs = append(attrs, "what", what, "user", actor.ID)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), answerTimeout)
	defer cancel()
	if _, err := a.Direct(ctx, actor.ID, bot.Message{Kind: bot.KindError, Lines: lines}); err != nil {
		a.log.WarnContext(ctx, "interaction came after Discord's answer limit; not acted on, and telling its invoker failed", append(attrs, "err", err)...)
		return
	}
	a.log.InfoContext(ctx, "interaction came after Discord's answer limit; not acted on, its invoker told by direct message", attrs...)
}

// lateFirst reports whether a late interaction is new, so that one
// delivered twice (replayed on RESUME, or to another replica's session)
// tells its invoker once: remembered in memory, and, for one that gets a
// direct message, in the store (Once) shared by the replicas. A store
// that cannot answer is no reason to say nothing: it counts as new.
func (a *Adapter) lateFirst(ctx context.Context, i *discordgo.Interaction) bool {
	if !a.lates.first(i.ID) {
		return false
	}
	if a.once == nil || i.Type == discordgo.InteractionApplicationCommandAutocomplete {
		return true // an autocomplete is only dropped: memory is enough
	}
	return inbound.Dedupe{Once: a.once, Prefix: Platform + ":late:", TTL: tokenLife, Log: a.log}.First(ctx, i.ID)
}

// lateLines is the direct message about a late interaction, and what it
// was, for the log; nil for one that gets none.
func lateLines(i *discordgo.Interaction, at time.Time) ([]bot.Text, string) {
	const why = " reached upgradebot only after Discord's 3-second limit for an answer, while the bot was reconnecting to Discord, so "
	switch i.Type {
	case discordgo.InteractionApplicationCommand:
		data := i.ApplicationCommandData()
		name := "/" + data.Name
		if sub, _ := subcommand(data); sub != "" && data.Name == commandName {
			name += " " + sub
		}
		return []bot.Text{
			bot.T("Your ").Code(name).Add(" from ").Time(at).Add(why + "nothing was done."),
			bot.T("Run it again if you still need it."),
		}, name
	case discordgo.InteractionMessageComponent:
		label, upgrade := buttonOf(i.MessageComponentData().CustomID)
		t := bot.T("Your press of ").Bold(label)
		if upgrade != "" {
			t = t.Add(" on " + upgrade)
		}
		return []bot.Text{
			t.Add(" from ").Time(at).Add(why + "nothing was recorded."),
			bot.T("Press it again if you still need to."),
		}, "button " + label
	case discordgo.InteractionModalSubmit:
		data := i.ModalSubmitData()
		upgrade, _ := parseDebriefID(data.CustomID)
		t := bot.T("Your debrief")
		if upgrade != "" {
			t = t.Add(" of " + upgrade)
		}
		lines := []bot.Text{
			t.Add(" from ").Time(at).Add(why + "it was not recorded."),
			bot.T("Send it again with the ").Bold("Write debrief").Add(" button if you still need to."),
		}
		if text := strings.TrimSpace(inputValue(data.Components, debriefInput)); text != "" {
			lines = append(lines, bot.T("What you wrote:"), bot.T(truncate(text, 1500)))
		}
		return lines, "debrief form"
	}
	return nil, ""
}

// buttonOf names a button by its custom_id, and the upgrade it is for.
func buttonOf(customID string) (label, upgrade string) {
	if b, ok := parseAckID(customID); ok {
		return "Acknowledge", b.UpgradeID
	}
	if u, _, ok := parseReadyID(customID); ok {
		return "Mark met", u
	}
	if u, ok := parseDebriefID(customID); ok {
		return "Write debrief", u
	}
	return "a button", ""
}

// seenIDs remembers the last ids it was given, up to its size: the
// autocompletes this replica answered, so one delivered twice is answered
// once without a Redis write (a read writes nothing).
type seenIDs struct {
	mu    sync.Mutex
	ids   map[string]struct{}
	order []string // oldest first; at most seenIDsMax
}

const seenIDsMax = 4096

// first reports whether id is new, remembering it.
func (s *seenIDs) first(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ids[id]; ok {
		return false
	}
	if s.ids == nil {
		s.ids = make(map[string]struct{}, seenIDsMax)
	}
	if len(s.order) >= seenIDsMax {
		delete(s.ids, s.order[0])
		s.order = s.order[1:]
	}
	s.ids[id] = struct{}{}
	s.order = append(s.order, id)
	return true
}
