package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
)

// TestServeKeepsEchoedTokensFromPeople: a server that echoes back the token
// it was sent (a proxy, a wrong api_url) puts it in its error text. The log
// hides it; so must everything people read: /readyz (no token needed), the
// failure kept on the upgrade (show, the API, the public page) and what the
// invoker is told.
func TestServeKeepsEchoedTokensFromPeople(t *testing.T) {
	const token = "xoxb-echoed-SECRET-4242"
	api := slacktestapi.New(t)
	api.FailAlways("auth.test", slacktestapi.Fault{Error: "invalid_auth: got token=" + token})
	api.FailAlways("chat.postMessage", slacktestapi.Fault{Error: "channel_not_found (sent with token=" + token + ")"})
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
bot_token = %q
signing_secret = "serve-test-secret"
api_url = %q
[api]
tokens = ["api-token"]
[[services]]
name = "payments"
owners = ["slack:U0ALICE"]
channels = ["slack:C0PAY"]
`, addr, token, api.APIURL())), 0o600)
	startServe(t, cfg)
	base := "http://" + addr

	get := func(path string, auth bool) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer api-token")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	var ready string
	api.Eventually(t, 10*time.Second, "readyz names Slack's refusal", func() bool {
		_, ready = get("/readyz", false)
		return strings.Contains(ready, "invalid_auth")
	})
	if strings.Contains(ready, token) || !strings.Contains(ready, "[redacted]") {
		t.Fatalf("/readyz shows the token:\n%s", ready)
	}

	form := slacktestapi.CommandForm(slackgo.SlashCommand{ChannelID: "C0OPS", UserID: "U0ALICE", UserName: "alice",
		Command: "/upgrade", Text: "schedule payments v2.4.0 in 2h for 1h", TriggerID: "trig-echo", ResponseURL: api.ResponseURL("echo")})
	resp, err := http.DefaultClient.Do(slacktestapi.SignedRequest(t, base+"/slack/commands", "serve-test-secret", form, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	told := api.WaitResponse(t, "echo", 1, 10*time.Second)
	var upgrade string
	api.Eventually(t, 10*time.Second, "the failure kept on UPG-1", func() bool {
		_, upgrade = get("/api/v1/upgrades/UPG-1", true)
		return strings.Contains(upgrade, "channel_not_found")
	})
	_, page := get("/upgrades/UPG-1", false)
	for what, text := range map[string]string{"the invoker is told": string(told.JSON) + told.Form.Encode(), "the API": upgrade, "the page": page} {
		if strings.Contains(text, token) {
			t.Errorf("%s shows the token:\n%s", what, text)
		}
		if !strings.Contains(text, "[redacted]") {
			t.Errorf("%s does not show where the token was hidden:\n%s", what, text)
		}
	}
}
