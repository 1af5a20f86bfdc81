// Package discord is upgradebot's Discord adapter: the /upgrade application
// command (subcommands with options and autocomplete) and the Acknowledge
// button, received over the gateway or as HTTP interactions signed with
// Ed25519, embeds and components for the root message, a thread started on
// it for everything after, and a bot.Messenger that posts, replies in
// threads, edits root messages and sends direct messages through the REST
// API, all with github.com/bwmarrin/discordgo.
//
// Both modes feed the same handlers. Every interaction is answered within
// Discord's 3-second deadline: the bot gets about 2 s, and when it needs
// longer the invoker first sees "upgradebot is thinking…" (a deferred,
// ephemeral response) and the real answer replaces it. Posting to channels
// happens in the bot core's background outbox, through this package's
// Messenger methods, which honour rate limits and retry what is worth
// retrying.
package discord

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/upgradebot/upgradebot/adapters/inbound"
	"github.com/upgradebot/upgradebot/adapters/outbound"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/commands"
)

// Platform is the prefix of Discord ids in the core: "discord:112233…"
// for users and channels, "discord:&112233…" for roles.
const Platform = "discord"

// The two ways Discord reaches the bot (config discord.mode).
const (
	ModeGateway = "gateway" // a WebSocket the bot opens: no public URL
	ModeHTTP    = "http"    // Discord POSTs to /discord/interactions
)

// ActionAck starts the custom_id of the Acknowledge button:
// "upgrade_ack:UPG-7:brief".
const ActionAck = "upgrade_ack"

// DefaultAPIURL is Discord's REST API, the version (v10) this adapter's
// REST calls speak. The gateway speaks discordgo's version (v9).
const DefaultAPIURL = "https://discord.com/api/v10/"

// Options configures an Adapter. Core, BotToken and ApplicationID are
// required; Mode "http" needs PublicKey.
type Options struct {
	BotToken      string   // the bot's token, without "Bot "
	ApplicationID string   // the application's snowflake
	PublicKey     string   // hex Ed25519 key that signs interactions, http mode
	GuildIDs      []string // register the command on these guilds; empty: globally
	APIURL        string   // REST base URL; empty means DefaultAPIURL
	Mode          string   // "gateway" (default) or "http"

	Core       Core
	Now        func() time.Time // signature timestamps; default time.Now
	Logger     *slog.Logger
	HTTPClient *http.Client // REST calls; default has a 15 s timeout and a pooled transport
	Observer   Observer     // counts REST calls (metrics); optional
	// Once remembers the late interactions whose invokers were told, so
	// one delivered twice (to this replica or another) is told once; nil:
	// this process's memory only.
	Once inbound.Once
}

// Core is what the adapter needs of the bot (*bot.Bot): run a typed
// command, record a press, read the clock and zone a command's times are
// read in, list upgrades and know the configured services (autocomplete).
type Core interface {
	Do(ctx context.Context, inv bot.Invocation, cmd commands.Command) bot.Message
	Press(ctx context.Context, p bot.ButtonPress) bot.Message
	CheckDebrief(ctx context.Context, inv bot.Invocation, id int) (bot.Message, bool)
	Env(inv bot.Invocation) commands.Env
	Upgrades(ctx context.Context, f bot.Filter) ([]*bot.Upgrade, error)
	Directory() *bot.Directory
}

// restAPI holds the discordgo REST methods the adapter calls, so tests can
// substitute them.
type restAPI interface {
	ChannelMessageSendComplex(channelID string, data *discordgo.MessageSend, options ...discordgo.RequestOption) (*discordgo.Message, error)
	ChannelMessageEditComplex(m *discordgo.MessageEdit, options ...discordgo.RequestOption) (*discordgo.Message, error)
	MessageThreadStartComplex(channelID, messageID string, data *discordgo.ThreadStart, options ...discordgo.RequestOption) (*discordgo.Channel, error)
	ChannelEditComplex(channelID string, data *discordgo.ChannelEdit, options ...discordgo.RequestOption) (*discordgo.Channel, error)
	UserChannelCreate(recipientID string, options ...discordgo.RequestOption) (*discordgo.Channel, error)
	ApplicationCommandBulkOverwrite(appID string, guildID string, cmds []*discordgo.ApplicationCommand, options ...discordgo.RequestOption) ([]*discordgo.ApplicationCommand, error)
	InteractionRespond(i *discordgo.Interaction, resp *discordgo.InteractionResponse, options ...discordgo.RequestOption) error
	RequestWithBucketID(method, urlStr string, data any, bucketID string, options ...discordgo.RequestOption) ([]byte, error)
	InteractionResponseEdit(i *discordgo.Interaction, edit *discordgo.WebhookEdit, options ...discordgo.RequestOption) (*discordgo.Message, error)
	FollowupMessageCreate(i *discordgo.Interaction, wait bool, data *discordgo.WebhookParams, options ...discordgo.RequestOption) (*discordgo.Message, error)
}

// Adapter connects the bot to Discord. It implements bot.Messenger and
// bot.Answerer for ids with the "discord:" prefix.
type Adapter struct {
	// autocompletes are the autocomplete ids answered lately, so one the
	// gateway delivers twice is answered once.
	autocompletes seenIDs
	// lates are the late interactions this replica saw lately, so one
	// delivered twice is told of once (with once, across replicas).
	lates seenIDs
	once  inbound.Once

	mode    string
	token   string // the bot's token, hidden in what an answer echoes (shownBody)
	appID   string
	guilds  []string
	pubKey  ed25519.PublicKey
	session *discordgo.Session
	api     restAPI
	core    Core
	style   style
	now     func() time.Time
	log     *slog.Logger
	apiHost string // host of the REST API, for "cannot reach Discord at …"
	obs     Observer

	deadline inbound.Deadline              // answer Discord in time, finish in the background
	rendered inbound.Renderings[rendering] // private answers of stamped messages
	retry    retryPolicy
	inflight inbound.Tracker
	// pressSlots bounds the interactions worked on at once: a burst of
	// presses queues here instead of opening a Redis and an HTTP
	// connection each.
	pressSlots chan struct{}
	dms        *outbound.DMs

	routed    atomic.Bool
	connected atomic.Bool
	dropped   chan struct{}                   // a gateway disconnect, for the supervisor
	runCtx    atomic.Pointer[context.Context] // Run's context, for gateway handlers

	// The gateway connection (gwconn.go, gateway.go).
	connMu     sync.Mutex
	conn       *gwConn     // the current one; nil before its dial
	closing    atomic.Bool // Run is ending: close frames say 1000, no warnings
	invalidRun atomic.Int64
	// invalidServed: a wait after op 9 was served with no connection open;
	// the op 9 that answers the next RESUME is held only Discord's 1–5 s.
	invalidServed atomic.Bool
	// READY's resume_gateway_url, and the switch to it (resumeSwitch).
	resumeURL     atomic.Pointer[string]
	switching     atomic.Pointer[string]
	dialingResume atomic.Bool
	// Knobs of tests: the handshake deadline, the wait after op 9, the
	// proxy (default: the environment's) and TLS of the gateway.
	handshakeTimeout time.Duration
	pause            func(d time.Duration, stop <-chan struct{}) bool
	backoffPause     func(d time.Duration, stop <-chan struct{}) bool // the reconnect backoff
	proxy            func(*http.Request) (*url.URL, error)
	gatewayTLS       *tls.Config

	// Why the adapter cannot serve, as /readyz says it; nil while fine.
	gatewayErr  atomic.Pointer[string]
	registerErr atomic.Pointer[string]
	registered  atomic.Bool
}

var (
	_ bot.Messenger = (*Adapter)(nil)
	_ bot.Answerer  = (*Adapter)(nil)
)

// Timing knobs.
const (
	// replyBudget is how long an interaction waits for the bot before it is
	// deferred: Discord's 3 s less the time the answer takes to travel.
	replyBudget   = 2 * time.Second
	workTimeout   = 2 * time.Minute
	answerTimeout = 30 * time.Second
	// pressConcurrency is how many interactions are worked on at once; the
	// HTTP pool keeps at least as many connections.
	pressConcurrency = 32
	dmCacheSize      = 10000
)

// New checks the options and builds an Adapter; it does not contact Discord.
func New(o Options) (*Adapter, error) {
	if o.Core == nil {
		return nil, errors.New("discord: Options.Core is required")
	}
	o.BotToken = strings.TrimSpace(o.BotToken)
	if o.BotToken == "" {
		return nil, errors.New("discord: a bot token is required")
	}
	if o.ApplicationID == "" {
		return nil, errors.New("discord: the application id is required")
	}
	if o.Mode == "" {
		o.Mode = ModeGateway
	}
	var key ed25519.PublicKey
	switch o.Mode {
	case ModeGateway:
	case ModeHTTP:
		k, err := hex.DecodeString(o.PublicKey)
		if err != nil || len(k) != ed25519.PublicKeySize {
			return nil, errors.New("discord: http mode needs the application's public key (64 hex characters)")
		}
		key = k
	default:
		return nil, fmt.Errorf("discord: unknown mode %q (want %q or %q)", o.Mode, ModeGateway, ModeHTTP)
	}
	if o.APIURL == "" {
		o.APIURL = DefaultAPIURL
	}
	if !strings.HasSuffix(o.APIURL, "/") {
		o.APIURL += "/"
	}
	base, err := url.Parse(o.APIURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, errors.New("discord: the API URL must be an absolute http(s) URL")
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
	from, err := url.Parse(discordgo.EndpointAPI)
	if err != nil {
		return nil, fmt.Errorf("discord: discordgo's endpoint: %w", err)
	}
	next := o.HTTPClient.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	client := *o.HTTPClient
	rw := &rewrite{fromHost: from.Host, fromPath: from.Path, to: base, next: next}
	client.Transport = rw
	// Discord's API does not redirect. A redirect from the host at
	// discord.api_url is not followed: its Location would be resolved
	// against discordgo's URL (discord.com), not the configured host. The
	// 3xx is the call's answer (classify: an unexpected status).
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	s, err := discordgo.New("Bot " + strings.TrimPrefix(o.BotToken, "Bot "))
	if err != nil {
		return nil, fmt.Errorf("discord: %w", err)
	}
	s.Client = &client
	// Retries are the adapter's (deliver.go): bounded, with backoff, and
	// aware of the caller's context. discordgo keeps its rate-limit buckets.
	s.ShouldRetryOnRateLimit = false
	s.MaxRestRetries = 0
	// Reconnecting is the supervisor's (gateway.go), so that it stops with Run.
	s.ShouldReconnectOnError = false
	s.StateEnabled = false
	s.LogLevel = -1 // discordgo logs with the log package; the adapter logs what matters with slog
	s.Identify.Intents = discordgo.IntentsNone

	log := o.Logger.With("adapter", Platform)
	a := &Adapter{
		mode: o.Mode, appID: o.ApplicationID, guilds: o.GuildIDs, pubKey: key, token: strings.TrimPrefix(o.BotToken, "Bot "),
		session: s, api: s, core: o.Core, style: style{command: "/" + commandName},
		now: o.Now, log: log, apiHost: base.Host, obs: o.Observer, once: o.Once,
		retry:      defaultRetry,
		pressSlots: make(chan struct{}, pressConcurrency),
		dms:        outbound.NewDMs(dmCacheSize),
		dropped:    make(chan struct{}, 1),

		handshakeTimeout: handshakeTimeout,
		pause:            sleep,
		backoffPause:     sleep,
	}
	a.deadline = inbound.Deadline{Budget: replyBudget, Timeout: workTimeout, Tracker: &a.inflight, Log: log, Workers: &inbound.Workers{Max: inbound.RequestWorkers}}
	// The adapter makes the gateway's connections itself (gwconn.go), the
	// proxy and TLS included; gorilla speaks the websocket over them.
	s.Dialer = &websocket.Dialer{
		HandshakeTimeout:  15 * time.Second,
		NetDialContext:    func(ctx context.Context, _, addr string) (net.Conn, error) { return a.dialGateway(ctx, addr, false) },
		NetDialTLSContext: func(ctx context.Context, _, addr string) (net.Conn, error) { return a.dialGateway(ctx, addr, true) },
	}
	rw.gateway = a.gatewayRequest
	s.AddHandler(a.onInteraction)
	s.AddHandler(a.onDisconnect)
	s.AddHandler(a.onReady)
	s.AddHandler(a.onResumed)
	return a, nil
}

// pooledTransport keeps enough idle connections to Discord for the bot's
// concurrency (Go's default keeps 2 per host).
func pooledTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	t.IdleConnTimeout = 90 * time.Second
	return t
}

// rewrite sends discordgo's REST requests, which always name its
// package-level https://discord.com/api/v9/ endpoints, to the configured
// API base (the real v10 API, or a test server), without changing
// discordgo's globals; and it tells each call what its attempt got (see
// attempt). Everything else passes unchanged.
type rewrite struct {
	fromHost, fromPath string
	to                 *url.URL
	next               http.RoundTripper
	// gateway sees GET /gateway first (Adapter.gatewayRequest): it may
	// answer it, or send another request on, and end it with done.
	gateway func(*http.Request) (resp *http.Response, next *http.Request, done func())
}

// RoundTrip implements http.RoundTripper.
func (t *rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	var done func()
	if rest, ok := strings.CutPrefix(req.URL.Path, t.fromPath); ok && req.URL.Host == t.fromHost && rest == "gateway" && req.Method == http.MethodGet && t.gateway != nil {
		var resp *http.Response
		if resp, req, done = t.gateway(req); resp != nil {
			return resp, nil
		}
	}
	if rest, ok := strings.CutPrefix(req.URL.Path, t.fromPath); ok && req.URL.Host == t.fromHost {
		u := *t.to
		u.Path = t.to.Path + rest
		u.RawPath = ""
		if req.URL.RawPath != "" {
			if raw, ok := strings.CutPrefix(req.URL.RawPath, t.fromPath); ok {
				u.RawPath = t.to.EscapedPath() + raw
			}
		}
		u.RawQuery = req.URL.RawQuery
		r := req.Clone(req.Context())
		r.URL, r.Host = &u, u.Host
		req = r
	}
	resp, err := t.next.RoundTrip(req)
	if at, ok := req.Context().Value(attemptKey{}).(*attempt); ok && resp != nil {
		at.saw(resp)
		if resp.StatusCode >= 200 && resp.StatusCode < 300 && resp.Body != nil {
			resp.Body = &headBody{ReadCloser: resp.Body, at: at}
		}
	}
	if done != nil {
		if resp == nil {
			done()
		} else {
			resp.Body = &doneBody{ReadCloser: resp.Body, done: done}
		}
	}
	return resp, err
}

// doneBody calls done when the body is closed.
type doneBody struct {
	io.ReadCloser
	done func()
}

func (b *doneBody) Close() error {
	err := b.ReadCloser.Close()
	b.done()
	return err
}

// Mode reports the configured mode, "gateway" or "http".
func (a *Adapter) Mode() string { return a.mode }

// Ready returns nil when the adapter can take interactions: in gateway mode
// while the gateway is connected (from the READY or RESUMED dispatch until
// the connection is lost, Discord closes it, says op 9, or stops
// acknowledging heartbeats), in http mode once Routes has registered the endpoint; and in
// both, once the /upgrade command is registered. The reason says what is
// wrong: "discord: the gateway is not connected: websocket: close 4004:
// Authentication failed.", "discord: registering /upgrade on guild 1122…
// failed: 50001 Missing Access".
func (a *Adapter) Ready() error {
	var why []string
	switch a.mode {
	case ModeGateway:
		if !a.connected.Load() {
			msg := "the gateway is not connected"
			if e := a.gatewayErr.Load(); e != nil {
				msg += ": " + *e
			}
			why = append(why, msg)
		}
	case ModeHTTP:
		if !a.routed.Load() {
			why = append(why, "the http endpoint is not registered")
		}
	}
	if e := a.registerErr.Load(); e != nil {
		why = append(why, *e)
	} else if !a.registered.Load() {
		why = append(why, "the /"+commandName+" command is not registered yet")
	}
	if len(why) == 0 {
		return nil
	}
	return errors.New(Platform + ": " + strings.Join(why, "; "))
}

// Run serves until ctx ends. It registers the /upgrade command (retrying
// until Discord takes it); in gateway mode it keeps the gateway connected,
// resuming after a dropped connection; in http mode the interactions arrive
// through Routes. It then waits briefly for work already started by
// interactions and returns nil.
func (a *Adapter) Run(ctx context.Context) error {
	a.runCtx.Store(&ctx)
	var wg sync.WaitGroup
	wg.Go(func() { a.registerLoop(ctx) })
	if a.mode == ModeGateway {
		a.runGateway(ctx)
	} else {
		<-ctx.Done()
	}
	wg.Wait()
	if !a.inflight.WaitAtMost(10 * time.Second) {
		a.log.Warn("shutting down with inbound work still running")
	}
	return nil
}

// Wait blocks until the work started by interactions (answers that came
// late, presses) has finished; for tests and graceful shutdown.
func (a *Adapter) Wait() { a.inflight.Wait() }

// strip turns a core id into Discord's: "discord:1122" -> "1122".
func strip(id string) (string, error) {
	rest, ok := strings.CutPrefix(id, Platform+":")
	if !ok || rest == "" || strings.HasPrefix(rest, "&") {
		return "", fmt.Errorf("discord: %q is not a Discord user or channel id", id)
	}
	return rest, nil
}

// hostOf is where a call that got no answer went: the REST API for a
// request (its *url.Error names discordgo's URL, not the one it was sent
// to), else the address a connection was tried to (the gateway).
func (a *Adapter) hostOf(err error) string {
	var ue *url.Error
	var op *net.OpError
	if !errors.As(err, &ue) && errors.As(err, &op) && op.Addr != nil {
		return op.Addr.String()
	}
	return a.apiHost
}
