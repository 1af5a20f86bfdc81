package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/commands"
)

const testSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// fakeCore records what the adapter asks of the bot.
type fakeCore struct {
	mu        sync.Mutex
	invs      []bot.Invocation
	texts     []string
	presses   []pressCall
	dos       []doCall
	delivered map[string]bool
	handle    func(ctx context.Context, inv bot.Invocation, text string) bot.Message
	do        func(ctx context.Context, inv bot.Invocation, cmd commands.Command) bot.Message
	// checkDebrief, when set, answers CheckDebrief.
	checkDebrief func(ctx context.Context) (bot.Message, bool)
}

// doCall is one typed command the adapter ran (a Mark-met press, a debrief).
type doCall struct {
	Inv bot.Invocation
	Cmd commands.Command
}

type pressCall struct {
	Actor     bot.Actor
	UpgradeID string
	Scope     string
	Delivery  string
}

func (f *fakeCore) Handle(ctx context.Context, inv bot.Invocation, text string) bot.Message {
	f.mu.Lock()
	if f.delivered == nil {
		f.delivered = map[string]bool{}
	}
	if inv.Delivery != "" && f.delivered[inv.Delivery] { // the core ignores a re-send
		f.mu.Unlock()
		return bot.Message{Kind: bot.KindDuplicate}
	}
	f.delivered[inv.Delivery] = true
	f.invs = append(f.invs, inv)
	f.texts = append(f.texts, text)
	h := f.handle
	f.mu.Unlock()
	if h != nil {
		return h(ctx, inv, text)
	}
	return bot.Message{Kind: bot.KindReply, Lines: []bot.Text{bot.T("handled: " + text)}}
}

func (f *fakeCore) Do(ctx context.Context, inv bot.Invocation, cmd commands.Command) bot.Message {
	f.mu.Lock()
	if f.delivered == nil {
		f.delivered = map[string]bool{}
	}
	if inv.Delivery != "" && f.delivered[inv.Delivery] {
		f.mu.Unlock()
		return bot.Message{Kind: bot.KindDuplicate}
	}
	f.delivered[inv.Delivery] = true
	f.dos = append(f.dos, doCall{inv, cmd})
	h := f.do
	f.mu.Unlock()
	if h != nil {
		return h(ctx, inv, cmd)
	}
	return bot.Message{Kind: bot.KindReply, Lines: []bot.Text{bot.T(fmt.Sprintf("did %s %+v", cmd.Name(), cmd))}}
}

func (f *fakeCore) done() []doCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]doCall(nil), f.dos...)
}

// CheckDebrief lets every debrief form open, as the core does for an
// upgrade that has ended, unless the test says otherwise.
func (f *fakeCore) CheckDebrief(ctx context.Context, _ bot.Invocation, _ int) (bot.Message, bool) {
	if f.checkDebrief != nil {
		return f.checkDebrief(ctx)
	}
	return bot.Message{}, true
}

func (f *fakeCore) Press(_ context.Context, p bot.ButtonPress) bot.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := p.Button.UpgradeID
	if f.delivered == nil {
		f.delivered = map[string]bool{}
	}
	if p.Delivery != "" && f.delivered[p.Delivery] { // as the core does in its one write
		return bot.Message{Kind: bot.KindDuplicate}
	}
	f.delivered[p.Delivery] = true
	f.presses = append(f.presses, pressCall{p.Actor, id, p.Button.Scope, p.Delivery})
	return bot.Message{Kind: bot.KindReply, Lines: []bot.Text{bot.T("Thanks! You acknowledged ").Bold(id)}}
}

func (f *fakeCore) handled() ([]bot.Invocation, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]bot.Invocation(nil), f.invs...), append([]string(nil), f.texts...)
}

func (f *fakeCore) pressed() []pressCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]pressCall(nil), f.presses...)
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fastRetry is the retry policy of tests: 4 attempts, backoff 10–40 ms.
var fastRetry = retryPolicy{attempts: 4, base: 10 * time.Millisecond, max: 40 * time.Millisecond, maxRetryWait: 5 * time.Second}

type fixture struct {
	a     *Adapter
	api   *slacktestapi.Server
	core  *fakeCore
	clock *clock
	srv   *httptest.Server // the bot's HTTP server (http mode)
}

// newFixture builds an adapter against a fake Slack, with a fake core and
// fast retries; in http mode its routes are served on 127.0.0.1.
func newFixture(t *testing.T, mode string) *fixture {
	t.Helper()
	api := slacktestapi.New(t)
	f := &fixture{api: api, core: &fakeCore{}, clock: &clock{t: time.Unix(1_790_000_000, 0)}}
	a, err := New(Options{
		BotToken: "xoxb-test", AppToken: "xapp-test", SigningSecret: testSecret,
		APIURL: api.APIURL(), Mode: mode, Core: &fakeCore{},
		Now: f.clock.now, Logger: slog.New(slog.DiscardHandler), Observer: methodCheck{},
	})
	if err != nil {
		t.Fatal(err)
	}
	a.core = f.core
	a.retry = fastRetry
	t.Cleanup(a.Wait)
	f.a = a
	if mode == ModeHTTP {
		mux := http.NewServeMux()
		a.Routes(mux)
		f.srv = httptest.NewServer(mux)
		t.Cleanup(f.srv.Close)
	}
	return f
}

// do sends a request to the bot's HTTP server.
func (f *fixture) do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, buf
}

// decodeAnswer reads a command answer (HTTP body, ack payload, response_url body).
func decodeAnswer(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("answer %q is not JSON: %v", raw, err)
	}
	return m
}

var testStyle = style{command: "/upgrade"}
