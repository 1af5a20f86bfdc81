package e2e

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	githubadapter "github.com/upgradebot/upgradebot/adapters/github"
	"github.com/upgradebot/upgradebot/adapters/github/githubtest"
	slackadapter "github.com/upgradebot/upgradebot/adapters/slack"
	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/store"
	"github.com/upgradebot/upgradebot/store/storetest"
)

const githubSecret = "e2e-webhook-secret"

// githubEnv is the world of the GitHub stories: one real store, a fake
// Slack and a fake GitHub shared by one or more replicas, each a bot with
// the GitHub release lookup, the Slack adapter (http mode) and the
// webhook receiver behind its own HTTP server. payments has the repo
// acme/payments.
type githubEnv struct {
	t        *testing.T
	api      *slacktestapi.Server
	gh       *githubtest.Server
	replicas []*githubReplica
}

// githubReplica is one bot process.
type githubReplica struct {
	*slackEnv
	hook *githubadapter.Webhook
}

func newGitHubEnv(t *testing.T, replicas int) *githubEnv {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() && os.Getenv("UPGRADEBOT_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	target := storetest.Target(t) // one key space, shared by the replicas
	e := &githubEnv{t: t, api: slacktestapi.New(t), gh: githubtest.New(t)}
	for name, id := range slackPeople {
		e.api.AddUser(id, name, "Europe/Berlin")
	}
	e.gh.AddRepo("acme/payments", false)
	cfg := slackConfig()
	// The fake serves the API as an Enterprise server does, at
	// https://HOST/api/v3/; link reads its pages, as serve wires it.
	cfg.ReleaseHost = githubadapter.WebHost(e.gh.APIURL())
	for i := range cfg.Services {
		if cfg.Services[i].Name == "payments" {
			cfg.Services[i].Repo = "acme/payments"
		}
	}
	for range replicas {
		st, err := store.Open(ctx, target, log)
		if err != nil {
			t.Fatalf("store: %v", err)
		}
		t.Cleanup(func() { _ = st.Close() })
		releases, err := githubadapter.NewReleases(githubadapter.Options{APIURL: e.gh.APIURL(), Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		router := bot.Router{}
		b := bot.New(bot.Options{Config: cfg, Store: st, Messenger: router, Once: st, Releases: releases,
			Now: func() time.Time { return slackNow }, Logger: log})
		a, err := slackadapter.New(slackadapter.Options{
			BotToken: "xoxb-e2e", SigningSecret: slackSecret, APIURL: e.api.APIURL(), Mode: slackadapter.ModeHTTP,
			Command: "/upgrade", Core: b, Now: func() time.Time { return slackNow }, Logger: log,
		})
		if err != nil {
			t.Fatal(err)
		}
		router[slackadapter.Platform] = a
		hook := githubadapter.NewWebhook(githubadapter.WebhookOptions{Secret: githubSecret, Core: b, Once: st, Logger: log})
		mux := http.NewServeMux()
		a.Routes(mux)
		hook.Routes(mux)
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- a.Run(runCtx) }()
		t.Cleanup(func() {
			stop()
			if err := <-done; err != nil {
				t.Errorf("adapter Run: %v", err)
			}
			hook.Wait()
			b.Flush()
		})
		e.api.Eventually(t, 5*time.Second, "the adapter to be ready", func() bool { return a.Ready() == nil })
		e.replicas = append(e.replicas, &githubReplica{
			slackEnv: &slackEnv{t: t, mode: slackadapter.ModeHTTP, api: e.api, store: st, bot: b, slack: a, srv: srv},
			hook:     hook,
		})
	}
	return e
}

// settle waits until every replica has done what it accepted: webhook
// work, the notices it queued, and Slack's inbound work.
func (e *githubEnv) settle() {
	for _, r := range e.replicas {
		r.hook.Wait()
	}
	for _, r := range e.replicas {
		r.settle()
	}
}

// deliver posts a webhook delivery to replica i and returns the status.
func (e *githubEnv) deliver(i int, req *http.Request) int {
	e.t.Helper()
	status, _ := e.replicas[i].do(req)
	return status
}

// release delivers a signed release event (action, tag) to replica i.
func (e *githubEnv) release(i int, delivery, action, tag string) int {
	e.t.Helper()
	ev := githubtest.ReleaseEvent(action, "acme/payments", githubtest.Release("acme/payments", tag, "Payments "+tag, "* settles **faster**", slackNow.Add(-time.Minute)))
	return e.deliver(i, githubtest.Delivery(e.t, e.replicas[i].srv.URL+githubadapter.PathWebhook, githubSecret, "release", delivery, ev))
}

// thread returns the replies in the thread of the channel's root message.
func (e *githubEnv) thread(channel string) []slacktestapi.Message {
	root := e.replicas[0].root(channel)
	var out []slacktestapi.Message
	for _, m := range e.replicas[0].channelMessages(channel) {
		if m.ThreadTS == root.TS && m.TS != root.TS {
			out = append(out, m)
		}
	}
	return out
}

// posts returns the top-level messages of a channel that say text.
func (e *githubEnv) posts(channel, text string) []slacktestapi.Message {
	var out []slacktestapi.Message
	for _, m := range e.replicas[0].channelMessages(channel) {
		if m.ThreadTS == "" && strings.Contains(m.BlockText(), text) {
			out = append(out, m)
		}
	}
	return out
}

// lastCommand is the response_url name of replica 0's latest slash command.
func (e *githubEnv) lastCommand() string {
	return "cmd-" + strconv.FormatInt(e.replicas[0].seq.Load(), 10)
}

// privateAnswer waits for the n-th post to a command's response_url and
// returns its text and blocks.
func (e *githubEnv) privateAnswer(name string, n int) string {
	e.t.Helper()
	c := e.api.WaitResponse(e.t, name, n, 10*time.Second)
	var ans map[string]any
	if err := json.Unmarshal(c.JSON, &ans); err != nil {
		e.t.Fatalf("response_url post %q: %v", c.JSON, err)
	}
	if ans["response_type"] != "ephemeral" {
		e.t.Errorf("the answer is not private: %s", c.JSON)
	}
	return slackAnswerText(ans)
}
