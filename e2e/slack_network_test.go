package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	slackadapter "github.com/upgradebot/upgradebot/adapters/slack"
	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
	"github.com/upgradebot/upgradebot/adapters/web"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/store"
	"github.com/upgradebot/upgradebot/store/storetest"
)

// TestSlackReadyzTellsUnreachableFromRefused: /readyz, wired as serve wires
// it (the Redis check and the Slack adapter's), says "cannot reach Slack"
// when slack.api_url does not resolve, and "the bot token was refused" only
// when Slack itself refuses the token.
func TestSlackReadyzTellsUnreachableFromRefused(t *testing.T) {
	refusing := slacktestapi.New(t)
	refusing.FailAlways("auth.test", slacktestapi.Fault{Error: "invalid_auth"})
	tests := []struct {
		name    string
		apiURL  string
		want    string
		notWant string
	}{
		{"unresolvable api_url", "http://slack.invalid/api/", "slack: cannot reach Slack at slack.invalid: ", "refused"},
		{"refused token", refusing.APIURL(), "slack: the bot token was refused: invalid_auth", "cannot reach"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			st, err := store.Open(ctx, storetest.Target(t), log)
			if err != nil {
				t.Fatalf("store: %v", err)
			}
			t.Cleanup(func() { _ = st.Close() })
			router := bot.Router{}
			b := bot.New(bot.Options{Config: slackConfig(), Store: st, Messenger: router, Logger: log})
			a, err := slackadapter.New(slackadapter.Options{
				BotToken: "xoxb-e2e-secret", SigningSecret: slackSecret, APIURL: tc.apiURL, Mode: slackadapter.ModeHTTP,
				Core: b, Logger: log,
			})
			if err != nil {
				t.Fatal(err)
			}
			router[slackadapter.Platform] = a
			mux := http.NewServeMux()
			a.Routes(mux)
			health := &web.Health{Checks: []web.Check{
				{Name: "redis", Func: st.Ping},
				{Name: "slack", Func: func(context.Context) error { return a.Ready() }},
			}}
			health.Routes(mux)
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)

			runCtx, stop := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- a.Run(runCtx) }()
			defer func() { stop(); <-done }()

			var code int
			var body string
			deadline := time.Now().Add(10 * time.Second)
			for {
				resp, err := http.Get(srv.URL + "/readyz")
				if err != nil {
					t.Fatal(err)
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				code, body = resp.StatusCode, string(raw)
				if strings.Contains(body, tc.want) || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if code != http.StatusServiceUnavailable || !strings.Contains(body, tc.want) {
				t.Fatalf("/readyz = %d %q, want 503 with %q", code, body, tc.want)
			}
			for _, bad := range []string{tc.notWant, "xoxb-", "redis:"} {
				if strings.Contains(body, bad) {
					t.Errorf("/readyz body %q contains %q", body, bad)
				}
			}
		})
	}
}
