package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/upgradebot/upgradebot/adapters/github/githubtest"
	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
)

// TestServeWithGitHub runs `upgradebot serve` with [github] pointed at a
// fake GitHub: scheduling payments, whose repo is acme/payments, links its
// release in the root message by itself, and /github/webhook takes a
// signed release event (and refuses an unsigned one).
func TestServeWithGitHub(t *testing.T) {
	api, gh := slacktestapi.New(t), githubtest.New(t)
	gh.AddRelease("acme/payments", githubtest.Release("acme/payments", "v2.4.0", "Payments 2.4", "* faster", time.Now().Add(-time.Hour)))
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
[github]
api_url = %q
webhook_secret = "hook-secret"
[[services]]
name = "payments"
owners = ["slack:U0ALICE"]
channels = ["slack:C0PAY"]
repo = "acme/payments"
`, addr, api.APIURL(), gh.APIURL())), 0o600)
	startServe(t, cfg)
	base := "http://" + addr
	api.Eventually(t, 10*time.Second, "readyz 200", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	form := slacktestapi.CommandForm(slackgo.SlashCommand{ChannelID: "C0OPS", UserID: "U0ALICE", UserName: "alice",
		Command: "/upgrade", Text: "schedule payments v2.4.0 in 2h", TriggerID: "trig-gh", ResponseURL: api.ResponseURL("gh")})
	resp, err := http.DefaultClient.Do(slacktestapi.SignedRequest(t, base+"/slack/commands", "serve-test-secret", form, time.Now()))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("slash command: %v %v", resp, err)
	}
	resp.Body.Close()
	link := "<https://github.com/acme/payments/releases/tag/v2.4.0|acme/payments v2.4.0 (Payments 2.4)>"
	api.Eventually(t, 10*time.Second, "the root message in C0PAY showing the release", func() bool {
		for _, m := range api.Messages("C0PAY") {
			if m.ThreadTS == "" && strings.Contains(m.BlockText(), link) {
				return true
			}
		}
		return false
	})

	deliver := func(req *http.Request) int {
		t.Helper()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	event := githubtest.ReleaseEvent("published", "acme/payments", githubtest.Release("acme/payments", "v2.5.0", "", "", time.Now()))
	forged := githubtest.Delivery(t, base+"/github/webhook", "not-the-secret", "release", "serve-1", event)
	if got := deliver(forged); got != http.StatusUnauthorized {
		t.Fatalf("forged delivery: %d, want 401", got)
	}
	if got := deliver(githubtest.Delivery(t, base+"/github/webhook", "hook-secret", "release", "serve-2", event)); got != http.StatusAccepted {
		t.Fatalf("signed delivery: %d, want 202", got)
	}
	api.Eventually(t, 10*time.Second, "the release out in C0PAY", func() bool {
		for _, m := range api.Messages("C0PAY") {
			if strings.Contains(m.BlockText(), "is out") && strings.Contains(m.BlockText(), "`/upgrade schedule payments v2.5.0 at &lt;time&gt;`") {
				return true
			}
		}
		return false
	})
}

// GitHub answering 200 with a release that has no tag: the bot links
// nothing (no "Release linked" with an empty tag in the thread), tells
// whoever typed link to try again later, and logs a warning.
func TestServeDoesNotLinkAReleaseWithoutATag(t *testing.T) {
	api, gh := slacktestapi.New(t), githubtest.New(t)
	broken := githubtest.Release("acme/payments", "v2.4.0", "Payments 2.4", "* faster", time.Now().Add(-time.Hour))
	broken.TagName = nil
	gh.AddReleaseAt("acme/payments", "v2.4.0", broken)
	gh.AddReleaseAt("acme/payments", "2.4.0", broken)
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
[github]
api_url = %q
[[services]]
name = "payments"
owners = ["slack:U0ALICE"]
channels = ["slack:C0PAY"]
`, addr, api.APIURL(), gh.APIURL())), 0o600)
	var logs syncBuffer
	startServeLogged(t, cfg, &logs)
	base := "http://" + addr
	api.Eventually(t, 10*time.Second, "readyz 200", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	slash := func(name, text string) {
		form := slacktestapi.CommandForm(slackgo.SlashCommand{ChannelID: "C0OPS", UserID: "U0ALICE", UserName: "alice",
			Command: "/upgrade", Text: text, TriggerID: "trig-" + name, ResponseURL: api.ResponseURL(name)})
		resp, err := http.DefaultClient.Do(slacktestapi.SignedRequest(t, base+"/slack/commands", "serve-test-secret", form, time.Now()))
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("slash command: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	slash("schedule", "schedule payments v2.4.0 in 2h")
	api.Eventually(t, 10*time.Second, "the root message in C0PAY", func() bool { return len(api.Messages("C0PAY")) > 0 })
	slash("link", "link UPG-1 acme/payments v2.4.0")
	told := api.WaitResponse(t, "link", 1, 10*time.Second)
	if !strings.Contains(told.Param("text"), "GitHub answered for acme/payments v2.4.0 without the release's tag or page, so it cannot be linked.") {
		t.Errorf("the invoker was told %q", told.Param("text"))
	}
	waitFor(t, 10*time.Second, "the warning", func() bool { return strings.Contains(logs.String(), "github release not usable; not linked") })
	// The thread hears of the release as typed (as the invoker was told it
	// stays), without the broken release's page or notes.
	var notice string
	api.Eventually(t, 10*time.Second, "the link's thread notice", func() bool {
		for _, m := range api.Messages("C0PAY") {
			if text := m.Text + m.BlockText(); strings.Contains(text, "Release linked") {
				notice = text
				return true
			}
		}
		return false
	})
	if !strings.Contains(notice, "Release linked: acme/payments v2.4.0") || strings.Contains(notice, "releases/tag/v2.4.0") || strings.Contains(notice, "faster") {
		t.Errorf("the release without a tag was linked with its page or notes: %s", notice)
	}
}
