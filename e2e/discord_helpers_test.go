package e2e

import (
	"context"
	"crypto/ed25519"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	discordadapter "github.com/upgradebot/upgradebot/adapters/discord"
	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
	"github.com/upgradebot/upgradebot/store"
	"github.com/upgradebot/upgradebot/store/storetest"
)

// The people of the Discord stories, as members of the fake guild.
var discordPeople = map[string]discordtest.Member{
	"alice": {ID: "1001", Name: "alice"},
	"bob":   {ID: "1002", Name: "bob"},
	"carol": {ID: "1003", Name: "carol"},
	"dave":  {ID: "1004", Name: "dave"},
}

// The channels of the Discord stories.
const (
	dcLedger   = "2001"
	dcPayments = "2002"
	dcCheckout = "2003"
	dcOps      = "2099"
)

// discordConfig is the world of the stories on Discord: ledger <- payments
// <- checkout. Discord does not tell a user's zone, so alice's comes from
// her [[people]] entry.
func discordConfig() bot.Config {
	var people []bot.Person
	for _, name := range []string{"alice", "bob", "carol", "dave"} {
		p := bot.Person{Name: name, IDs: []string{"discord:" + discordPeople[name].ID}}
		if name == "alice" {
			p.Location, _ = time.LoadLocation("Europe/Berlin")
		}
		people = append(people, p)
	}
	return bot.Config{
		People: people,
		Services: []bot.Service{
			{Name: "ledger", Owners: []string{"dave"}, Channels: []string{"discord:" + dcLedger}},
			{Name: "payments", Owners: []string{"alice"}, Channels: []string{"discord:" + dcPayments}, DependsOn: []string{"ledger"}},
			{Name: "checkout", Owners: []string{"bob", "carol"}, Channels: []string{"discord:" + dcCheckout}, DependsOn: []string{"payments"}},
		},
		DefaultLocation: time.UTC,
		MaxWindow:       24 * time.Hour,
		DefaultDuration: time.Hour,
		EarlyStart:      30 * 24 * time.Hour,
		Reminders:       []time.Duration{72 * time.Hour, time.Hour},
		EscalateAfter:   30 * time.Minute,
	}
}

// discordEnv is one running bot with the real store, the scheduler, the
// Discord adapter, and a fake Discord around it.
type discordEnv struct {
	t       *testing.T
	mode    string
	api     *discordtest.Server
	gw      *discordtest.Gateway
	store   *store.Store
	bot     *bot.Bot
	discord *discordadapter.Adapter
	clock   *bottest.Clock
	srv     *httptest.Server // the bot's HTTP server (http mode)
	priv    ed25519.PrivateKey
	router  bot.Router
}

func e2eLogger() *slog.Logger {
	if testing.Verbose() && os.Getenv("UPGRADEBOT_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newDiscordEnv starts the bot with Discord in mode ("gateway" or "http");
// adjust may change the configuration first.
func newDiscordEnv(t *testing.T, mode string, adjust ...func(*bot.Config)) *discordEnv {
	t.Helper()
	ctx := context.Background()
	log := e2eLogger()
	st, err := store.Open(ctx, storetest.Target(t), log)
	if err != nil {
		t.Fatalf("store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cfg := discordConfig()
	for _, f := range adjust {
		f(&cfg)
	}
	for _, svc := range cfg.Services { // as main does: the owner entries that name roles
		for _, o := range svc.Owners {
			if strings.HasPrefix(o, "discord:&") {
				cfg.Groups = append(cfg.Groups, o)
			}
		}
	}
	clock := bottest.NewClock(slackNow)
	router := bot.Router{}
	// A notice's time (a reminder's, until its window opens) runs out when
	// the test moves the clock there (discord_deadline_test.go).
	b := bot.New(bot.Options{Config: cfg, Store: st, Messenger: router, Once: st, Queue: st, Now: clock.Now, Logger: log,
		Scheduler: bot.SchedulerOptions{When: clock.When}})
	api := discordtest.New(t)
	api.SetClock(clock.Now)
	pub, priv := discordtest.NewKey(t)
	a, err := discordadapter.New(discordadapter.Options{
		BotToken: discordtest.Token, ApplicationID: discordtest.AppID, PublicKey: pub, GuildIDs: []string{discordtest.GuildID},
		APIURL: api.APIURL(), Mode: mode, Core: b, Now: clock.Now, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	router[discordadapter.Platform] = a
	e := &discordEnv{t: t, mode: mode, api: api, store: st, bot: b, discord: a, clock: clock, priv: priv, router: router}
	if mode == discordadapter.ModeGateway {
		e.gw = discordtest.NewGateway(t)
		api.SetGatewayURL(e.gw.URL())
	} else {
		mux := http.NewServeMux()
		a.Routes(mux)
		e.srv = httptest.NewServer(mux)
		t.Cleanup(e.srv.Close)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("adapter Run: %v", err)
		}
		b.Flush()
	})
	api.Eventually(t, 10*time.Second, "the adapter to be ready", func() bool { return a.Ready() == nil })
	return e
}

// send delivers an interaction the way the mode does and returns what the
// invoker finally sees; every answer must be private.
func (e *discordEnv) send(it *discordgo.Interaction) discordtest.Reply {
	e.t.Helper()
	r := e.deliver(it)
	if !r.Ephemeral() {
		e.t.Errorf("the answer is not private: %s", r.Text())
	}
	return r
}

// deliver delivers an interaction the way the mode does and returns the
// answer the invoker finally sees, a message or a modal.
func (e *discordEnv) deliver(it *discordgo.Interaction) discordtest.Reply {
	e.t.Helper()
	if e.mode == discordadapter.ModeHTTP {
		req := discordtest.SignedRequest(e.t, e.srv.URL+discordadapter.PathInteractions, e.priv, discordtest.Marshal(e.t, it), e.clock.Now())
		status, body := e.do(req)
		if status != http.StatusOK {
			e.t.Fatalf("interaction: status %d %s", status, body)
		}
		if err := e.api.Answered(it.Token, body); err != nil {
			e.t.Fatalf("Discord would refuse the answer %s: %v", body, err)
		}
	} else {
		e.gw.Interaction(e.t, it)
	}
	return e.api.WaitAnswer(e.t, it.Token, 10*time.Second)
}

// command types /upgrade <sub> with options as person in channel.
func (e *discordEnv) command(person, channel, sub string, opts ...discordtest.Opt) string {
	e.t.Helper()
	return e.send(e.api.Command(discordPeople[person], channel, sub, opts...)).Text()
}

// press clicks the Acknowledge button of msg as person.
func (e *discordEnv) press(person string, msg discordtest.Message) string {
	e.t.Helper()
	bs := msg.Buttons()
	if len(bs) != 1 || bs[0].Label != "Acknowledge" {
		e.t.Fatalf("message %s has no Acknowledge button: %+v", msg.ID, bs)
	}
	return e.send(e.api.Press(discordPeople[person], msg, bs[0].CustomID)).Text()
}

func (e *discordEnv) do(req *http.Request) (int, []byte) {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, body
}

// root is the current root message of the channel's first upgrade thread.
func (e *discordEnv) root(channel string) discordtest.Message {
	e.t.Helper()
	for _, m := range e.api.Messages(channel) {
		if len(m.Embeds) > 0 && m.Reference == nil {
			return m
		}
	}
	e.t.Fatalf("no root message in %s", channel)
	return discordtest.Message{}
}

// settle waits for the adapter's inbound work and the bot's deliveries.
func (e *discordEnv) settle() {
	e.discord.Wait()
	e.bot.Flush()
}

// at moves the clock and runs the scheduler's jobs that fell due.
func (e *discordEnv) at(when time.Time) {
	e.t.Helper()
	e.clock.Set(when)
	if _, err := e.bot.Scheduler().RunDue(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.settle()
}
