package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"

	slackadapter "github.com/upgradebot/upgradebot/adapters/slack"
	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
	"github.com/upgradebot/upgradebot/store"
	"github.com/upgradebot/upgradebot/store/storetest"
)

const slackSecret = "e2e-signing-secret"

// The people of the stories, with their Slack ids.
var slackPeople = map[string]string{"alice": "U0ALICE", "bob": "U0BOB", "carol": "U0CAROL", "dave": "U0DAVE"}

// slackConfig is the world of the stories: ledger <- payments <- checkout.
func slackConfig() bot.Config {
	var people []bot.Person
	for _, name := range []string{"alice", "bob", "carol", "dave"} {
		people = append(people, bot.Person{Name: name, IDs: []string{"slack:" + slackPeople[name]}})
	}
	return bot.Config{
		People: people,
		Services: []bot.Service{
			{Name: "ledger", Owners: []string{"dave"}, Channels: []string{"slack:C0LEDGER"}},
			{Name: "payments", Owners: []string{"alice"}, Channels: []string{"slack:C0PAYMENTS"}, DependsOn: []string{"ledger"}},
			{Name: "checkout", Owners: []string{"bob", "carol"}, Channels: []string{"slack:C0CHECKOUT"}, DependsOn: []string{"payments"}},
		},
		DefaultLocation: time.UTC,
		MaxWindow:       24 * time.Hour,
		DefaultDuration: time.Hour,
		EarlyStart:      30 * 24 * time.Hour,
	}
}

// slackNow is the bot's fixed clock: well before the windows of the stories.
var slackNow = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// slackEnv is one running bot with the real store, the Slack adapter, and a
// fake Slack around it.
type slackEnv struct {
	t     *testing.T
	mode  string
	api   *slacktestapi.Server
	sock  *slacktestapi.Socket
	store *store.Store
	bot   *bot.Bot
	slack *slackadapter.Adapter
	srv   *httptest.Server // the bot's HTTP server (http mode)
	clock *bottest.Clock   // the bot's, at slackNow unless a test moves it
	seq   atomic.Int64
	cmd   string // the app's slash command, as configured ([slack] command)
}

// newSlackEnv starts the bot in mode ("http" or "socket"); adjust may change
// the configuration first.
func newSlackEnv(t *testing.T, mode string, adjust ...func(*bot.Config)) *slackEnv {
	t.Helper()
	return newSlackEnvCommand(t, mode, "/upgrade", adjust...)
}

// newSlackEnvCommand is newSlackEnv for an app whose slash command is
// command ([slack] command).
func newSlackEnvCommand(t *testing.T, mode, command string, adjust ...func(*bot.Config)) *slackEnv {
	t.Helper()
	return newSlackEnvWith(t, mode, command, false, adjust...)
}

// newSlackEnvScheduled is newSlackEnv with a Scheduler on the store
// (e.bot.Scheduler(); the test runs it) and a clock the test moves
// (e.clock).
func newSlackEnvScheduled(t *testing.T, mode string, adjust ...func(*bot.Config)) *slackEnv {
	t.Helper()
	return newSlackEnvWith(t, mode, "/upgrade", true, adjust...)
}

func newSlackEnvWith(t *testing.T, mode, command string, scheduled bool, adjust ...func(*bot.Config)) *slackEnv {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() && os.Getenv("UPGRADEBOT_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	// The same Redis as the other suites (real server, Cluster or embedded),
	// in a key space of its own that is deleted when the test ends.
	st, err := store.Open(ctx, storetest.Target(t), log)
	if err != nil {
		t.Fatalf("store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })

	cfg := slackConfig()
	for _, f := range adjust {
		f(&cfg)
	}
	api := slacktestapi.New(t)
	for name, id := range slackPeople {
		api.AddUser(id, name, "Europe/Berlin")
	}
	// As main does from the configuration: the owner entries that name groups.
	for _, svc := range cfg.Services {
		for _, o := range svc.Owners {
			if strings.HasPrefix(o, "slack:S") {
				cfg.Groups = append(cfg.Groups, o)
			}
		}
	}
	router := bot.Router{}
	clock := bottest.NewClock(slackNow)
	var queue bot.JobQueue
	if scheduled {
		queue = st
	}
	b := bot.New(bot.Options{Config: cfg, Store: st, Messenger: router, Once: st, Queue: queue, Now: clock.Now, Logger: log})
	a, err := slackadapter.New(slackadapter.Options{
		BotToken: "xoxb-e2e", AppToken: "xapp-e2e", SigningSecret: slackSecret, APIURL: api.APIURL(),
		Mode: mode, Command: command, Core: b, Groups: cfg.Groups, Now: func() time.Time { return slackNow }, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	router[slackadapter.Platform] = a
	e := &slackEnv{t: t, mode: mode, api: api, store: st, bot: b, slack: a, cmd: command, clock: clock}

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	switch mode {
	case slackadapter.ModeHTTP:
		mux := http.NewServeMux()
		a.Routes(mux)
		e.srv = httptest.NewServer(mux)
		t.Cleanup(e.srv.Close)
	case slackadapter.ModeSocket:
		e.sock = slacktestapi.NewSocket(t)
		api.SetSocketURL(e.sock.URL())
	}
	go func() { done <- a.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("adapter Run: %v", err)
		}
		b.Flush()
	})
	if mode == slackadapter.ModeSocket {
		e.sock.WaitConnected(t, 1, 10*time.Second)
	}
	api.Eventually(t, 5*time.Second, "the adapter to be ready", func() bool { return a.Ready() == nil })
	return e
}

// slash types "/upgrade text" as person in channel and returns the answer
// the person sees first.
func (e *slackEnv) slash(person, channel, text string) map[string]any {
	e.t.Helper()
	n := e.seq.Add(1)
	sc := slackgo.SlashCommand{
		TeamID: "T0E2E", TeamDomain: "e2e", ChannelID: channel, ChannelName: strings.ToLower(channel),
		UserID: slackPeople[person], UserName: person, Command: e.cmd, Text: text,
		ResponseURL: e.api.ResponseURL(fmt.Sprintf("cmd-%d", n)), TriggerID: fmt.Sprintf("trig-cmd-%d", n), APIAppID: "A0E2E",
	}
	var raw []byte
	switch e.mode {
	case slackadapter.ModeHTTP:
		req := slacktestapi.SignedRequest(e.t, e.srv.URL+"/slack/commands", slackSecret, slacktestapi.CommandForm(sc), slackNow)
		status, body := e.do(req)
		if status != http.StatusOK {
			e.t.Fatalf("/upgrade %s: status %d %s", text, status, body)
		}
		raw = body
	default: // Socket Mode: acked first and empty; the answer comes on the response_url
		env := e.sock.SlashCommand(e.t, sc, 0)
		if p := e.sock.WaitAck(e.t, env, 5*time.Second); string(p) != "null" {
			e.t.Errorf("/upgrade %s: acked with %s, want an empty ack first", text, p)
		}
		raw = e.api.WaitResponse(e.t, fmt.Sprintf("cmd-%d", n), 1, 10*time.Second).JSON
	}
	var ans map[string]any
	if err := json.Unmarshal(raw, &ans); err != nil {
		e.t.Fatalf("/upgrade %s: answer %q: %v", text, raw, err)
	}
	return ans
}

func (e *slackEnv) do(req *http.Request) (int, []byte) {
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

// press clicks the Acknowledge button of msg as a Slack user and waits until
// the bot has answered the presser privately; it returns that answer.
func (e *slackEnv) press(userID, userName string, msg slacktestapi.Message) string {
	e.t.Helper()
	value := slackButtonValue(e.t, msg)
	n := e.seq.Add(1)
	respond := fmt.Sprintf("press-%d", n)
	cb := slacktestapi.BlockAction(slacktestapi.Press{
		UserID: userID, UserName: userName, ChannelID: msg.Channel, MessageTS: msg.TS, ThreadTS: msg.ThreadTS,
		ActionID: "upgrade_ack", Value: value, TriggerID: fmt.Sprintf("trig-press-%d", n),
		ActionTS: fmt.Sprintf("1700000%03d.%06d", n%1000, n), ResponseURL: e.api.ResponseURL(respond),
	})
	switch e.mode {
	case slackadapter.ModeHTTP:
		req := slacktestapi.SignedRequest(e.t, e.srv.URL+"/slack/interactions", slackSecret, slacktestapi.InteractionForm(e.t, cb), slackNow)
		if status, body := e.do(req); status != http.StatusOK {
			e.t.Fatalf("press: status %d %s", status, body)
		}
	default:
		env := e.sock.Interaction(e.t, cb)
		if p := e.sock.WaitAck(e.t, env, 5*time.Second); string(p) != "null" {
			e.t.Errorf("interaction acked with payload %s", p)
		}
	}
	var answer slacktestapi.Call
	e.api.Eventually(e.t, 10*time.Second, "the private answer to "+userName+"'s press", func() bool {
		for _, c := range e.api.Calls("response_url") {
			if c.Path == "/respond/"+respond {
				answer = c
				return true
			}
		}
		return false
	})
	if answer.Param("response_type") != "ephemeral" || answer.Param("replace_original") != "false" {
		e.t.Errorf("press answer is not private: %s", answer.JSON)
	}
	return answer.Param("text")
}

// slackButtonValue finds the Acknowledge button of a message.
func slackButtonValue(t *testing.T, msg slacktestapi.Message) string {
	t.Helper()
	var blocks []struct {
		Type     string `json:"type"`
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
			Text     struct {
				Text string `json:"text"`
			} `json:"text"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(msg.Blocks, &blocks); err != nil {
		t.Fatalf("blocks of %s: %v", msg.TS, err)
	}
	for _, b := range blocks {
		for _, el := range b.Elements {
			if b.Type == "actions" && el.ActionID == "upgrade_ack" && el.Text.Text == "Acknowledge" {
				return el.Value
			}
		}
	}
	t.Fatalf("message %s has no Acknowledge button: %s", msg.TS, msg.Blocks)
	return ""
}

// channelMessages returns the non-ephemeral messages of a channel.
func (e *slackEnv) channelMessages(channel string) []slacktestapi.Message {
	var out []slacktestapi.Message
	for _, m := range e.api.Messages(channel) {
		if !m.Ephemeral {
			out = append(out, m)
		}
	}
	return out
}

// root returns the current root message of the channel's first thread.
func (e *slackEnv) root(channel string) slacktestapi.Message {
	e.t.Helper()
	for _, m := range e.channelMessages(channel) {
		if m.ThreadTS == "" {
			return m
		}
	}
	e.t.Fatalf("no root message in %s", channel)
	return slacktestapi.Message{}
}

// settle waits for the bot's background deliveries (Flush) and the adapter's
// inbound work.
func (e *slackEnv) settle() {
	e.slack.Wait()
	e.bot.Flush()
}

// slackAnswerText is the text of an answer plus the text of its blocks.
func slackAnswerText(ans map[string]any) string {
	b, _ := json.Marshal(ans["blocks"])
	s, _ := ans["text"].(string)
	return s + "\n" + slacktestapi.BlocksText(b)
}

func slackContains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

// slackParallel runs fn(i) for i in [0,n) on workers goroutines.
func slackParallel(n, workers int, fn func(i int)) {
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}

// slackButton is one button of a posted message, as a user sees it.
type slackButton struct {
	Block, ActionID, Value, Label string
}

// slackButtons lists the buttons of a message's blocks, in order.
func slackButtons(t *testing.T, msg slacktestapi.Message) []slackButton {
	t.Helper()
	var blocks []struct {
		Type     string `json:"type"`
		BlockID  string `json:"block_id"`
		Elements []struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
			Text     struct {
				Text string `json:"text"`
			} `json:"text"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(msg.Blocks, &blocks); err != nil {
		t.Fatalf("blocks of %s: %v", msg.TS, err)
	}
	var out []slackButton
	for _, b := range blocks {
		for _, el := range b.Elements {
			if b.Type == "actions" && el.Type == "button" {
				out = append(out, slackButton{b.BlockID, el.ActionID, el.Value, el.Text.Text})
			}
		}
	}
	return out
}

// slackButtonLabeled finds the button of msg with this label.
func slackButtonLabeled(t *testing.T, msg slacktestapi.Message, label string) slackButton {
	t.Helper()
	for _, b := range slackButtons(t, msg) {
		if b.Label == label {
			return b
		}
	}
	t.Fatalf("message %s has no button %q; it has %+v", msg.TS, label, slackButtons(t, msg))
	return slackButton{}
}

// click presses button b of msg as person, the way Slack delivers it in the
// env's mode, and returns the name of the press's response_url and its
// trigger_id. Slack has its answer (200 or ack) when click returns.
func (e *slackEnv) click(person string, msg slacktestapi.Message, b slackButton) (respond, trigger string) {
	e.t.Helper()
	n := e.seq.Add(1)
	respond, trigger = fmt.Sprintf("press-%d", n), fmt.Sprintf("trig-press-%d", n)
	cb := slacktestapi.BlockAction(slacktestapi.Press{
		UserID: slackPeople[person], UserName: person, ChannelID: msg.Channel, MessageTS: msg.TS, ThreadTS: msg.ThreadTS,
		ActionID: b.ActionID, Value: b.Value, BlockID: b.Block, Label: b.Label, TriggerID: trigger,
		ActionTS: fmt.Sprintf("1700000%03d.%06d", n%1000, n), ResponseURL: e.api.ResponseURL(respond),
	})
	switch e.mode {
	case slackadapter.ModeHTTP:
		req := slacktestapi.SignedRequest(e.t, e.srv.URL+"/slack/interactions", slackSecret, slacktestapi.InteractionForm(e.t, cb), slackNow)
		if status, body := e.do(req); status != http.StatusOK || len(body) != 0 {
			e.t.Fatalf("press %s: status %d %q", b.Label, status, body)
		}
	default:
		env := e.sock.Interaction(e.t, cb)
		if p := e.sock.WaitAck(e.t, env, 5*time.Second); string(p) != "null" {
			e.t.Errorf("press %s acked with payload %s", b.Label, p)
		}
	}
	return respond, trigger
}

// pressButton presses b of msg as person and returns the private answer.
func (e *slackEnv) pressButton(person string, msg slacktestapi.Message, b slackButton) string {
	e.t.Helper()
	respond, _ := e.click(person, msg, b)
	answer := e.api.WaitResponse(e.t, respond, 1, 10*time.Second)
	if answer.Param("response_type") != "ephemeral" || answer.Param("replace_original") != "false" {
		e.t.Errorf("press answer is not private: %s", answer.JSON)
	}
	return answer.Param("text")
}

// submit submits a modal the bot opened, as person, with text in its
// debrief input, and returns Slack's answer: the HTTP body, or the Socket
// Mode ack's payload ("" for none: the modal closes).
func (e *slackEnv) submit(person string, view slacktestapi.View, values map[string]map[string]string) string {
	e.t.Helper()
	n := e.seq.Add(1)
	cb := slacktestapi.ViewSubmission(slacktestapi.Submission{
		UserID: slackPeople[person], UserName: person, View: view, Values: values, TriggerID: fmt.Sprintf("trig-view-%d", n),
	})
	switch e.mode {
	case slackadapter.ModeHTTP:
		req := slacktestapi.SignedRequest(e.t, e.srv.URL+"/slack/interactions", slackSecret, slacktestapi.InteractionForm(e.t, cb), slackNow)
		status, body := e.do(req)
		if status != http.StatusOK {
			e.t.Fatalf("view submission: status %d %q", status, body)
		}
		return strings.TrimSpace(string(body))
	default:
		env := e.sock.Interaction(e.t, cb)
		p := e.sock.WaitAck(e.t, env, 10*time.Second)
		if string(p) == "null" {
			return ""
		}
		return string(p)
	}
}
