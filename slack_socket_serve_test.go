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

	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
	"github.com/upgradebot/upgradebot/internal/syncbuf"
)

// QA: an app token Slack refused (invalid_auth) made serve exit 1 with
// "slack socket mode: invalid_auth", taking the scheduler, HTTP and the
// other platforms with it. serve now keeps running, not ready with the
// reason, says once what to do, and is ready once the token works.
func TestServeKeepsRunningWhenSlackRefusesTheAppToken(t *testing.T) {
	api := slacktestapi.New(t)
	sock := slacktestapi.NewSocket(t)
	api.SetSocketURL(sock.URL())
	api.FailAlways("apps.connections.open", slacktestapi.Fault{Error: "invalid_auth"})
	addr := freeAddr(t)
	cfg := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
[server]
listen = %q
[redis]
url = "memory://"
[slack]
enabled = true
mode = "socket"
bot_token = "xoxb-serve-test"
api_url = %q
`, addr, api.APIURL())), 0o600)
	var logs syncbuf.Buffer
	startServeWith(t, cfg, []string{"UPGRADEBOT_SLACK_APP_TOKEN=xapp-1-serve-secret"}, &logs)

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
	api.Eventually(t, 10*time.Second, "readyz 503 with the reason", func() bool {
		code, body := readyz()
		return code == http.StatusServiceUnavailable && strings.Contains(body, "slack: socket mode is not connected: the app token was refused: invalid_auth")
	})
	out := logs.String()
	if strings.Contains(out, "upgradebot stopped") {
		t.Fatalf("serve stopped:\n%s", out)
	}
	if n := strings.Count(out, `"level":"ERROR"`); n != 1 || !strings.Contains(out, "UPGRADEBOT_SLACK_APP_TOKEN") || !strings.Contains(out, "slack.app_token") {
		t.Errorf("want one ERROR naming the app token's setting:\n%s", out)
	}
	if strings.Contains(out, "serve-secret") {
		t.Errorf("the app token is in the log:\n%s", out)
	}
	api.ClearFaults()
	sock.WaitConnected(t, 1, 15*time.Second)
	api.Eventually(t, 10*time.Second, "readyz 200", func() bool { code, _ := readyz(); return code == http.StatusOK })
}
