package discord

import (
	"context"
	"crypto/ed25519"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
	"github.com/upgradebot/upgradebot/commands"
)

// The people and channels of the adapter's tests.
var (
	alice = discordtest.Member{ID: "1001", Name: "alice"}
	bob   = discordtest.Member{ID: "1002", Name: "bob"}
	carol = discordtest.Member{ID: "1003", Name: "carol", Roles: []string{"3001"}}
	zed   = discordtest.Member{ID: "1009", Name: "zed"}
)

const (
	chPayments = "2002"
	chCheckout = "2003"
	chOps      = "2099"
)

// testNow is the fixtures' clock: well before the windows they schedule.
var testNow = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

func testConfig() bot.Config {
	return bot.Config{
		People: []bot.Person{
			{Name: "alice", IDs: []string{"discord:1001"}},
			{Name: "bob", IDs: []string{"discord:1002"}},
			{Name: "carol", IDs: []string{"discord:1003"}, Location: mustZone("Europe/Berlin")},
		},
		Services: []bot.Service{
			{Name: "payments", Owners: []string{"alice"}, Channels: []string{"discord:" + chPayments}},
			{Name: "checkout", Owners: []string{"bob", "discord:&3001"}, Channels: []string{"discord:" + chCheckout}, DependsOn: []string{"payments"}},
		},
		Groups:          []string{"discord:&3001"},
		DefaultLocation: time.UTC, MaxWindow: 24 * time.Hour, DefaultDuration: time.Hour, EarlyStart: 30 * 24 * time.Hour,
	}
}

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// fastRetry is the retry policy of tests: 4 attempts, backoff 10–40 ms.
var fastRetry = retryPolicy{attempts: 4, base: 10 * time.Millisecond, max: 40 * time.Millisecond, maxRetryWait: 5 * time.Second}

type fixture struct {
	t     *testing.T
	mode  string
	a     *Adapter
	api   *discordtest.Server
	gw    *discordtest.Gateway
	b     *bot.Bot
	st    *bottest.MemStore
	clock *bottest.Clock
	srv   *httptest.Server // the bot's HTTP server (http mode)
	priv  ed25519.PrivateKey

	cancel  context.CancelFunc // ends Run
	done    chan error         // Run's result
	stopped bool
	runErr  error
}

func testLogger() *slog.Logger {
	if testing.Verbose() && os.Getenv("UPGRADEBOT_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// newFixture runs an adapter in mode against the fake Discord, with the
// real core on an in-memory store and fast retries, until the test ends.
func newFixture(t *testing.T, mode string, adjust ...func(*Options)) *fixture {
	t.Helper()
	return newFixtureWith(t, mode, nil, adjust...)
}

// newFixtureWith is newFixture with setup called before Run starts (the
// fake gateway exists by then).
func newFixtureWith(t *testing.T, mode string, setup func(*fixture), adjust ...func(*Options)) *fixture {
	t.Helper()
	return newFixtureConfig(t, mode, testConfig(), setup, adjust...)
}

// newFixtureConfig is newFixtureWith with the core's configuration cfg.
func newFixtureConfig(t *testing.T, mode string, cfg bot.Config, setup func(*fixture), adjust ...func(*Options)) *fixture {
	t.Helper()
	api := discordtest.New(t)
	pub, priv := discordtest.NewKey(t)
	clock := bottest.NewClock(testNow)
	api.SetClock(clock.Now)
	st := bottest.NewMemStore()
	router := bot.Router{}
	b := bot.New(bot.Options{Config: cfg, Store: st, Messenger: router, Now: clock.Now, Logger: testLogger(), RefreshIntervalSet: true})
	o := Options{BotToken: discordtest.Token, ApplicationID: discordtest.AppID, PublicKey: pub, GuildIDs: []string{discordtest.GuildID},
		APIURL: api.APIURL(), Mode: mode, Core: b, Now: clock.Now, Logger: testLogger(), Observer: methodCheck{}}
	for _, fn := range adjust {
		fn(&o)
	}
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	a.retry = fastRetry
	router[Platform] = a
	f := &fixture{t: t, mode: mode, a: a, api: api, b: b, st: st, clock: clock, priv: priv}
	if mode == ModeGateway {
		f.gw = discordtest.NewGateway(t)
		api.SetGatewayURL(f.gw.URL())
	} else {
		mux := http.NewServeMux()
		a.Routes(mux)
		f.srv = httptest.NewServer(mux)
		t.Cleanup(f.srv.Close)
	}
	if setup != nil {
		setup(f)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel, f.done = cancel, make(chan error, 1)
	go func() { f.done <- a.Run(ctx) }()
	t.Cleanup(func() {
		if err := f.stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
		b.Flush()
	})
	return f
}

// stop ends Run and returns what it returned; a Run that does not return
// within 20 s (more than a shutdown may take) fails the test.
func (f *fixture) stop() error {
	f.t.Helper()
	if f.stopped {
		return f.runErr
	}
	f.cancel()
	f.stopped = true
	select {
	case f.runErr = <-f.done:
	case <-time.After(20 * time.Second):
		f.t.Fatal("Run did not return after its context ended")
	}
	return f.runErr
}

// ready waits until the adapter says it is ready.
func (f *fixture) ready() {
	f.t.Helper()
	f.api.Eventually(f.t, 10*time.Second, "the adapter to be ready", func() bool { return f.a.Ready() == nil })
}

// send delivers an interaction the way the mode does (signed POST, or
// INTERACTION_CREATE) and returns what the invoker finally sees.
func (f *fixture) send(i *discordgo.Interaction) discordtest.Reply {
	f.t.Helper()
	if f.mode == ModeHTTP {
		status, body := f.post(discordtest.SignedRequest(f.t, f.srv.URL+PathInteractions, f.priv, discordtest.Marshal(f.t, i), f.clock.Now()))
		if status != http.StatusOK {
			f.t.Fatalf("interaction: status %d %s", status, body)
		}
		if err := f.api.Answered(i.Token, body); err != nil {
			f.t.Fatalf("Discord would refuse the answer %s: %v", body, err)
		}
	} else {
		f.gw.Interaction(f.t, i)
	}
	return f.api.WaitAnswer(f.t, i.Token, 10*time.Second)
}

// post sends a request to the bot's HTTP server.
func (f *fixture) post(req *http.Request) (int, []byte) {
	f.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp.StatusCode, body
}

// settle waits for the adapter's inbound work and the core's deliveries.
func (f *fixture) settle() {
	f.a.Wait()
	f.b.Flush()
}

// heldCore holds every command until release is closed: its answer must
// be deferred.
type heldCore struct {
	Core
	release chan struct{}
}

func (h heldCore) Do(ctx context.Context, inv bot.Invocation, cmd commands.Command) bot.Message {
	<-h.release
	return h.Core.Do(ctx, inv, cmd)
}

var testStyle = style{command: "/upgrade"}
