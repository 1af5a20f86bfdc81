// Package slack is upgradebot's Slack adapter: the /upgrade slash command,
// the Acknowledge and readiness buttons and the debrief modal over HTTP
// endpoints or Socket Mode, request signing,
// Block Kit rendering, and a bot.Messenger that posts, replies in threads,
// edits root messages and sends direct messages through the Web API.
//
// Both modes feed the same handlers. A slash command is answered within
// Slack's 3-second deadline: the bot gets about 2.5 s, and when it needs
// longer the user first sees "Working on it…" and the real answer follows
// through the command's response_url. Posting to channels happens in the
// bot core's background outbox, through this package's Messenger methods,
// which honour rate limits and retry what is worth retrying.
package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/upgradebot/upgradebot/adapters/inbound"
	"github.com/upgradebot/upgradebot/adapters/outbound"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/commands"
)

// Platform is the prefix of Slack ids in the core: "slack:C0123", "slack:U0123".
const Platform = "slack"

// The two ways Slack reaches the bot (config slack.mode).
const (
	ModeSocket = "socket" // Socket Mode: an outbound WebSocket, no public URL
	ModeHTTP   = "http"   // POST /slack/commands and /slack/interactions
)

// ActionAck is the action_id of the Acknowledge button.
const ActionAck = "upgrade_ack"

// Options configures an Adapter. Core and BotToken are required; Mode
// "http" needs SigningSecret, Mode "socket" needs AppToken.
type Options struct {
	BotToken      string // xoxb-…
	AppToken      string // xapp-…, socket mode
	SigningSecret string // http mode
	APIURL        string // Web API base URL; empty means https://slack.com/api/
	Mode          string // "socket" (default) or "http"
	Command       string // the slash command, default "/upgrade"

	Core Core // the bot: *bot.Bot
	// Groups lists the owner and admin entries of the configuration that
	// name groups; the adapter looks up the members of the Slack user
	// groups among them (slack:S…).
	Groups     []string
	Now        func() time.Time // signature checks and caches; default time.Now
	Logger     *slog.Logger
	HTTPClient *http.Client // Web API and response_url calls; default has a 15 s timeout
	Observer   Observer     // counts the calls to Slack (metrics); optional
}

// Core is what the adapter needs of the bot (*bot.Bot): run what a user
// typed, run a command a button or form stands for (Mark met, the debrief
// modal), record an Acknowledge press, check a debrief before its form opens.
type Core interface {
	Handle(ctx context.Context, inv bot.Invocation, text string) bot.Message
	Do(ctx context.Context, inv bot.Invocation, cmd commands.Command) bot.Message
	Press(ctx context.Context, p bot.ButtonPress) bot.Message
	CheckDebrief(ctx context.Context, inv bot.Invocation, id int) (bot.Message, bool)
}

// webAPI holds the slack-go Web API methods the adapter calls, so tests can
// substitute them.
type webAPI interface {
	PostMessageContext(ctx context.Context, channelID string, options ...slackgo.MsgOption) (string, string, error)
	UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slackgo.MsgOption) (string, string, string, error)
	PostEphemeralContext(ctx context.Context, channelID, userID string, options ...slackgo.MsgOption) (string, error)
	GetUserInfoContext(ctx context.Context, user string, options ...slackgo.GetUserInfoOption) (*slackgo.User, error)
	OpenConversationContext(ctx context.Context, params *slackgo.OpenConversationParameters) (*slackgo.Channel, bool, bool, error)
	AuthTestContext(ctx context.Context) (*slackgo.AuthTestResponse, error)
	GetUserGroupMembersContext(ctx context.Context, userGroup string, options ...slackgo.GetUserGroupMembersOption) ([]string, error)
	OpenViewContext(ctx context.Context, triggerID string, view slackgo.ModalViewRequest) (*slackgo.ViewResponse, error)
}

// Adapter connects the bot to one Slack workspace. It implements bot.Messenger
// for ids with the "slack:" prefix.
type Adapter struct {
	mode    string
	cmdName string
	secret  []byte
	client  *slackgo.Client // also the base of the Socket Mode client
	api     webAPI
	core    Core
	style   style
	now     func() time.Time
	log     *slog.Logger
	http    *http.Client
	obs     Observer

	tz     *tzCache
	groups groupCache
	dms    *outbound.DMs
	ws     workspace

	deadline inbound.Deadline           // answer Slack in time, finish in the background
	rendered inbound.Renderings[[]byte] // encoded answers of stamped messages
	retry    retryPolicy

	// A Write-debrief press: how long its trigger_id opens a modal, and
	// the most one views.open waits for Slack's answer.
	triggerLife, viewsOpenWait time.Duration

	routed    atomic.Bool
	connected atomic.Bool
	inflight  inbound.Tracker
	// presses records presses after their 200, at most pressConcurrency
	// at once: a burst waits here, its 200s held back, instead of opening
	// a Redis connection per press or piling up in memory. answers then
	// answers each presser, at most answerConcurrency at once, so that
	// Slack's time to take an answer does not hold back the recording of
	// the next presses (and a press waits for the store only).
	presses inbound.Workers
	answers inbound.Workers
	// backlog bounds the Socket Mode presses acknowledged while every
	// press worker was busy, each waiting for one (pressedSocket).
	backlog                       chan struct{}
	refusedPresses, refusedLogged atomic.Int64

	// Socket Mode: why it is not connected (the last failure to connect,
	// nil once connected); and, kept by runSocket's goroutine only, since
	// when Slack refuses the app token, how often, when that was last logged.
	socketWhy                        atomic.Pointer[string]
	socketRetryFirst, socketRetryMax time.Duration
	refusedSince, refusalLogged      time.Time
	refusals                         int
	// Socket Mode: the last connection that ended (dropped, or closed as
	// Slack asked), until the next one is up: logged then as a reconnect.
	socketLost atomic.Pointer[socketLoss]
	// socketEver says a connection was up before (kept by runSocket's
	// goroutine only): the next one is a reconnection, whenever the end
	// of the last one was told (slack-go tells it on another goroutine,
	// so it may be heard before that connection's own hello).
	socketEver bool
	// Socket Mode: connections that drop soon after they open, and the
	// pauses before the next (socket_flap.go); socketClock, nil for the
	// wall clock, is what the pauses go by.
	flaps       socketFlaps
	socketClock socketClock

	// The bot token check (auth.test, watchToken): why Slack cannot be
	// used, as /readyz says it; nil while fine or not checked yet.
	// tokenJudged is set once a check has ended with Slack's answer or
	// with a failure recorded in notReady: until then the token is not
	// known to work, and Ready says it is being checked.
	apiHost      string // host of the Web API, for "cannot reach Slack at …"
	notReady     atomic.Pointer[string]
	tokenJudged  atomic.Bool
	checkedOK    atomic.Bool   // the last check that ended succeeded
	checkEvery   time.Duration // between checks while fine (or the token was refused)
	recheckEvery time.Duration // between checks while Slack cannot be reached or fails
}

var (
	_ bot.Messenger = (*Adapter)(nil)
	_ bot.Answerer  = (*Adapter)(nil)
)

// Defaults of the timing knobs.
const (
	replyBudget     = 2500 * time.Millisecond
	workTimeout     = 2 * time.Minute
	answerTimeout   = 30 * time.Second
	tzLookupTimeout = 800 * time.Millisecond
	tzTTL           = time.Hour
	tzFailureTTL    = time.Minute
	tzCacheSize     = 10000
)

// New checks the options and builds an Adapter; it does not contact Slack.
func New(o Options) (*Adapter, error) {
	if o.Core == nil {
		return nil, errors.New("slack: Options.Core is required")
	}
	if o.BotToken == "" {
		return nil, errors.New("slack: a bot token (xoxb-…) is required")
	}
	if o.Mode == "" {
		o.Mode = ModeSocket
	}
	switch o.Mode {
	case ModeSocket:
		if o.AppToken == "" {
			return nil, errors.New("slack: socket mode needs an app-level token (xapp-…)")
		}
		if !strings.HasPrefix(o.AppToken, "xapp-") {
			return nil, errors.New("slack: the app token must start with xapp-")
		}
	case ModeHTTP:
		if o.SigningSecret == "" {
			return nil, errors.New("slack: http mode needs the signing secret")
		}
	default:
		return nil, fmt.Errorf("slack: unknown mode %q (want %q or %q)", o.Mode, ModeSocket, ModeHTTP)
	}
	if o.Command == "" {
		o.Command = commands.DefaultCommand
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 15 * time.Second, Transport: pooledTransport()}
	}
	// Slack's Web API (and a response_url) does not redirect: a redirect,
	// from the host at slack.api_url say, is not followed to whatever
	// host it names. The 3xx is the call's answer ("http_307").
	hc := *o.HTTPClient
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	o.HTTPClient = &hc
	opts := []slackgo.Option{slackgo.OptionHTTPClient(o.HTTPClient)}
	apiHost := "slack.com"
	if o.APIURL != "" {
		if !strings.HasSuffix(o.APIURL, "/") {
			o.APIURL += "/"
		}
		opts = append(opts, slackgo.OptionAPIURL(o.APIURL))
		if u, err := url.Parse(o.APIURL); err == nil && u.Host != "" {
			apiHost = u.Host
		}
	}
	if o.AppToken != "" {
		opts = append(opts, slackgo.OptionAppLevelToken(o.AppToken))
	}
	client := slackgo.New(o.BotToken, opts...)
	log := o.Logger.With("adapter", Platform)
	a := &Adapter{
		mode: o.Mode, cmdName: o.Command, secret: []byte(o.SigningSecret),
		client: client, api: client, core: o.Core, style: style{command: o.Command},
		now: o.Now, log: log, http: o.HTTPClient, obs: o.Observer,
		retry: defaultRetry, triggerLife: triggerLife, viewsOpenWait: viewsOpenWait,
		apiHost: apiHost, checkEvery: tokenCheckEvery, recheckEvery: tokenRecheckEvery,
	}
	a.presses = inbound.Workers{Max: pressConcurrency, Tracker: &a.inflight}
	a.answers = inbound.Workers{Max: answerConcurrency, Tracker: &a.inflight}
	a.backlog = make(chan struct{}, pressBacklog)
	a.socketRetryFirst, a.socketRetryMax = socketRetryFirst, socketRetryMax
	a.deadline = inbound.Deadline{Budget: replyBudget, Timeout: workTimeout, Tracker: &a.inflight, Log: log, Workers: &inbound.Workers{Max: inbound.RequestWorkers}}
	a.tz = newTZCache(tzCacheSize, a.now)
	a.groups = groupCache{ids: configuredGroups(o.Groups), members: map[string]groupEntry{}, loading: map[string]chan struct{}{}}
	a.dms = outbound.NewDMs(tzCacheSize)
	return a, nil
}

// pressConcurrency is how many presses are recorded at once: each is the
// core's work and one store round trip, which more at once than the store
// has connections (128) would only queue for.
// answerConcurrency is how many presses are answered at once, each waiting
// mostly for Slack (some 200 ms): the HTTP pool keeps as many connections.
const (
	pressConcurrency  = 128
	answerConcurrency = 256
)

// background runs fn after the request has been answered, tracked (Wait),
// on one of the press workers; it waits for one to be free, so the answer
// waits too (push-back), unless parent ends first: then fn does not run and
// background returns false.
func (a *Adapter) background(parent context.Context, fn func(context.Context)) bool {
	return a.presses.Go(parent, func() { fn(parent) })
}

// pooledTransport keeps enough idle connections to Slack for the bot's
// concurrency: Go's default keeps 2 per host, so a burst of presses opened
// a new TLS connection for about every second answer.
func pooledTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 256
	t.IdleConnTimeout = 90 * time.Second
	return t
}

// Mode reports the configured mode, "socket" or "http".
func (a *Adapter) Mode() string { return a.mode }

// Ready returns nil when the adapter can take requests: in socket mode while
// the WebSocket is connected, in http mode once Routes has registered the
// endpoints; and in both, once the first check of the bot token (auth.test,
// made by Run) has succeeded and unless the last one failed, because then
// nothing could be posted. The reason tells a refused token ("slack: the
// bot token was refused: invalid_auth") from a Slack the bot cannot reach
// ("slack: cannot reach Slack at slack.com: no such host"). In socket
// mode, while not connected, it says why when an attempt failed ("slack:
// socket mode is not connected: the app token was refused: invalid_auth",
// "…: apps.connections.open failed: http_503"). Otherwise ready but for
// the first check, still waiting for Slack's answer, it says so ("slack:
// checking the bot token (auth.test at slack.com)"). It reads only what
// Run recorded: it never calls Slack.
func (a *Adapter) Ready() error {
	// tokenJudged first: checkToken records a failure in notReady before
	// it sets tokenJudged, so a judged check's failure is seen below.
	judged := a.tokenJudged.Load()
	if why := a.notReady.Load(); why != nil {
		return errors.New("slack: " + *why)
	}
	if err := a.connectionReady(); err != nil {
		return err
	}
	if !judged {
		return errors.New("slack: checking the bot token (auth.test at " + a.apiHost + ")")
	}
	return nil
}

// connectionReady is Ready's part about the way requests arrive: the
// WebSocket in socket mode, the endpoints in http mode.
func (a *Adapter) connectionReady() error {
	switch a.mode {
	case ModeSocket:
		if !a.connected.Load() {
			if why := a.socketWhy.Load(); why != nil {
				return errors.New("slack: socket mode is not connected: " + *why)
			}
			return errors.New("slack: socket mode is not connected")
		}
	case ModeHTTP:
		if !a.routed.Load() {
			return errors.New("slack: http endpoints are not registered")
		}
	}
	return nil
}

// Run serves until ctx ends. In socket mode it connects to Slack (reconnecting
// as Slack asks) and handles every envelope; when Slack refuses the app
// token it keeps trying, not ready, rather than stopping the bot. In http
// mode the requests arrive through Routes, so Run only waits for ctx.
// Either way it then waits briefly for work already started by inbound
// requests and returns nil.
func (a *Adapter) Run(ctx context.Context) error {
	go a.watchToken(ctx)
	var err error
	if a.mode == ModeSocket {
		err = a.runSocket(ctx)
	} else {
		<-ctx.Done()
	}
	a.drain(10 * time.Second)
	return err
}

// How often Run asks Slack whether the bot token still works: every 5
// minutes while it does (or Slack refused it: that takes a new token and a
// restart), every 30 seconds while Slack cannot be reached or fails, so
// readiness comes back soon after Slack does.
const (
	tokenCheckEvery   = 5 * time.Minute
	tokenRecheckEvery = 30 * time.Second
)

// watchToken checks the bot token now and then (auth.test) so /readyz can
// tell a revoked or mistyped token, or a Slack that cannot be reached,
// instead of failing every post quietly.
func (a *Adapter) watchToken(ctx context.Context) {
	for {
		next := a.checkToken(ctx)
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// checkToken asks auth.test once (with the usual retries), records what
// Ready reports, and returns when to check again.
func (a *Adapter) checkToken(ctx context.Context) time.Duration {
	// While the adapter is not known to be fine (at start, or Slack was
	// already failing), a network failure is reported at once rather than
	// after every retry; a blip during a later check is not.
	observe := func(e *Error) {
		if e.Unreachable() && !a.checkedOK.Load() {
			why := a.unreachable(e)
			a.notReady.Store(&why)
		}
	}
	err := a.callObserved(ctx, "auth.test", func(ctx context.Context) error {
		resp, err := a.api.AuthTestContext(ctx)
		if err == nil && resp != nil {
			a.rememberWorkspace(resp.URL)
		}
		return err
	}, observe)
	if err != nil && ctx.Err() != nil {
		return a.checkEvery // shutting down: leave the state as it was
	}
	// The check has a verdict, recorded below before Ready can see it.
	defer a.tokenJudged.Store(true)
	var se *Error
	switch {
	case err == nil:
		if a.notReady.Swap(nil) != nil {
			a.log.InfoContext(ctx, "slack answers and accepts the bot token again")
		}
		a.checkedOK.Store(true)
		return a.checkEvery
	case !errors.As(err, &se):
		why := "auth.test failed"
		a.notReady.Store(&why)
	case se.TokenRefused():
		why := "the bot token was refused: " + se.Code
		a.notReady.Store(&why)
		a.checkedOK.Store(false)
		a.log.ErrorContext(ctx, "slack refused the bot token; check UPGRADEBOT_SLACK_BOT_TOKEN", "code", se.Code)
		return a.checkEvery
	case se.Unreachable():
		why := a.unreachable(se)
		a.notReady.Store(&why)
		a.log.WarnContext(ctx, "cannot reach Slack; checking again soon", "reason", why, "code", se.Code, "attempts", se.Attempts, "again_in", a.recheckEvery.String())
	default:
		// Slack answered, but not with a verdict on the token (a 5xx, an
		// unknown error, a wrong slack.api_url answering 404).
		answer := se.Code
		attrs := []any{"code", se.Code, "again_in", a.recheckEvery.String()}
		if answer == "error" {
			// An answer that could not be read: say why, so that a proxy's
			// page or a wrong slack.api_url can be told from Slack's trouble.
			answer = "unexpected answer"
			if d := unreadable(se.Err); d != "" {
				answer += ": " + d
				attrs = append(attrs, "err", d)
			}
		}
		why := "auth.test at " + a.apiHost + " failed: " + answer
		a.notReady.Store(&why)
		a.log.ErrorContext(ctx, "slack auth.test failed; checking again soon", attrs...)
	}
	a.checkedOK.Store(false)
	return a.recheckEvery
}

// unreachable is the readiness reason of a call that never got Slack's answer.
func (a *Adapter) unreachable(e *Error) string {
	host := outbound.Host(e.Err)
	if host == "" {
		host = a.apiHost
	}
	return "cannot reach Slack at " + host + ": " + outbound.Reason(e.Err, "Slack")
}

// Wait blocks until the work started by inbound requests (commands answered
// late, button presses) has finished; for tests and graceful shutdown.
func (a *Adapter) Wait() { a.inflight.Wait() }

func (a *Adapter) drain(limit time.Duration) {
	if !a.inflight.WaitAtMost(limit) {
		a.log.Warn("shutting down with inbound work still running")
	}
}

// ids: the core prefixes every platform id; Slack wants it bare.
func strip(id string) (string, error) {
	rest, ok := strings.CutPrefix(id, Platform+":")
	if !ok || rest == "" {
		return "", fmt.Errorf("slack: %q is not a Slack id", id)
	}
	return rest, nil
}

// unreadable says why an answer of Slack could not be read, without
// anything of the request (its token) or the body beyond the parser's own
// words: the JSON decoder's error when there is one, else the error with
// any Slack token in it masked.
func unreadable(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*json.SyntaxError](err); ok {
		return e.Error()
	}
	if e, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		return e.Error()
	}
	return slackToken.ReplaceAllString(err.Error(), "xox…")
}

// slackToken matches Slack tokens (bot, user, app-level, refresh).
var slackToken = regexp.MustCompile(`xox[a-z]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+`)
