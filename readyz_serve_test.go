package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
)

// QA: /readyz answered 200 while Slack's first auth.test (the check of the
// bot token at start) was still waiting for Slack's answer: against a Slack
// that does not answer, about 15 s of "ready" before it turned 503. Until
// that check has a verdict the token is not known to work, so /readyz is
// 503 and says so; it is 200 once Slack accepts the token.
func TestServeNotReadyUntilSlackAcceptsTheBotToken(t *testing.T) {
	api := slacktestapi.New(t)
	arrived, release := api.Hold(t, "auth.test")
	addr := freeAddr(t)
	cfg := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
[server]
listen = %q
[redis]
url = "memory://"
[slack]
enabled = true
mode = "http"
bot_token = "xoxb-serve-test"
signing_secret = "serve-test-secret"
api_url = %q
`, addr, api.APIURL())), 0o600)
	startServe(t, cfg)

	base := "http://" + addr
	readyz := func() (int, string) {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return 0, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("serve never asked Slack's auth.test")
	}
	// auth.test now waits for Slack; serve may not be listening yet.
	var code int
	var body string
	waitFor(t, 10*time.Second, "/readyz to answer", func() bool { code, body = readyz(); return code != 0 })
	want := "slack: checking the bot token (auth.test at " + api.Addr() + ")"
	if code != http.StatusServiceUnavailable || body != "not ready\n"+want+"\n" {
		t.Fatalf("/readyz while auth.test waits for Slack = %d %q, want 503 %q", code, body, want)
	}
	if n := api.Count("auth.test"); n != 0 {
		t.Errorf("%d auth.test answered while it was held", n)
	}
	release()
	api.Eventually(t, 10*time.Second, "/readyz 200 once Slack accepts the token", func() bool { code, _ := readyz(); return code == http.StatusOK })
	if n := api.Count("auth.test"); n != 1 {
		t.Errorf("%d auth.test calls, want the one at start (/readyz must not call Slack)", n)
	}
}
