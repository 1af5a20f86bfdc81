package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	slackgo "github.com/slack-go/slack"

	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/internal/syncbuf"
	"github.com/upgradebot/upgradebot/store/storetest"
)

// TestServeWithSlack runs `upgradebot serve -config FILE` with Slack in http
// mode against a fake Slack, as Slack would use it: readiness, a signed
// /upgrade command answered at once, the root message posted with its
// Acknowledge button, and a clean stop.
func TestServeWithSlack(t *testing.T) {
	api := slacktestapi.New(t)
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
[[services]]
name = "payments"
owners = ["slack:U0ALICE"]
channels = ["slack:C0PAY"]
`, addr, api.APIURL())), 0o600)

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
		Command: "/upgrade", Text: "schedule payments v2.4.0 in 2h for 1h", TriggerID: "trig-serve", ResponseURL: api.ResponseURL("serve")})
	resp, err := http.DefaultClient.Do(slacktestapi.SignedRequest(t, base+"/slack/commands", "serve-test-secret", form, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("slash command: %d %v", resp.StatusCode, err)
	}
	if txt, _ := ans["text"].(string); ans["response_type"] != "ephemeral" || !strings.Contains(txt, "Scheduled UPG-1 payments v2.4.0") {
		t.Fatalf("answer: %v", ans)
	}

	api.Eventually(t, 10*time.Second, "the root message in C0PAY", func() bool {
		for _, c := range api.Calls("chat.postMessage") {
			if c.Param("channel") == "C0PAY" && strings.Contains(c.Param("blocks"), `"action_id":"upgrade_ack"`) &&
				strings.Contains(c.Param("blocks"), `"value":"UPG-1:brief"`) {
				return true
			}
		}
		return false
	})

	forged := slacktestapi.SignedRequest(t, base+"/slack/commands", "not-the-secret", form, time.Now())
	if resp, err := http.DefaultClient.Do(forged); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged request: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

// TestServeWithDiscord runs `upgradebot serve` with Discord against a fake
// Discord, in both modes: ready once the command is registered (and, for
// the gateway, connected), an /upgrade command answered privately, the root
// posted with its thread and button; in http mode PING is answered and a
// forged request refused.
func TestServeWithDiscord(t *testing.T) {
	for _, mode := range []string{"http", "gateway"} {
		t.Run(mode, func(t *testing.T) {
			api := discordtest.New(t)
			gw := discordtest.NewGateway(t)
			api.SetGatewayURL(gw.URL())
			pub, priv := discordtest.NewKey(t)
			addr := freeAddr(t)
			cfg := filepath.Join(t.TempDir(), "config.toml")
			os.WriteFile(cfg, []byte(fmt.Sprintf(`
[server]
listen = %q
[redis]
url = "memory://"
[discord]
enabled = true
mode = %q
application_id = %q
public_key = %q
guild_ids = [%q]
api_url = %q
[[services]]
name = "payments"
owners = ["discord:1001"]
channels = ["discord:2002"]
`, addr, mode, discordtest.AppID, pub, discordtest.GuildID, api.APIURL())), 0o600)
			startServeEnv(t, cfg, []string{"UPGRADEBOT_DISCORD_BOT_TOKEN=" + discordtest.Token})

			base := "http://" + addr
			api.Eventually(t, 10*time.Second, "readyz 200", func() bool {
				resp, err := http.Get(base + "/readyz")
				if err != nil {
					return false
				}
				resp.Body.Close()
				return resp.StatusCode == http.StatusOK
			})
			if cmds := api.Commands(discordtest.GuildID); len(cmds) != 1 || cmds[0].Name != "upgrade" {
				t.Fatalf("registered commands %+v", cmds)
			}
			i := api.Command(discordtest.Member{ID: "1001", Name: "alice"}, "2099", "schedule",
				discordtest.O("service", "payments"), discordtest.O("version", "v2.4.0"), discordtest.O("when", "in 2h"))
			if mode == "http" {
				ping := discordtest.SignedRequest(t, base+"/discord/interactions", priv, discordtest.Marshal(t, discordtest.Ping()), time.Now())
				resp, err := http.DefaultClient.Do(ping)
				if err != nil {
					t.Fatal(err)
				}
				var pong map[string]any
				if err := json.NewDecoder(resp.Body).Decode(&pong); err != nil || resp.StatusCode != http.StatusOK || pong["type"] != 1.0 {
					t.Fatalf("PING: %d %v %v", resp.StatusCode, pong, err)
				}
				resp.Body.Close()
				_, forger := discordtest.NewKey(t)
				forged := discordtest.SignedRequest(t, base+"/discord/interactions", forger, discordtest.Marshal(t, i), time.Now())
				if resp, err := http.DefaultClient.Do(forged); err != nil || resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("forged request: %v %v", resp, err)
				} else {
					resp.Body.Close()
				}
				resp, err = http.DefaultClient.Do(discordtest.SignedRequest(t, base+"/discord/interactions", priv, discordtest.Marshal(t, i), time.Now()))
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err := api.Answered(i.Token, body); err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("command: %d %s %v", resp.StatusCode, body, err)
				}
			} else {
				gw.Interaction(t, i)
			}
			if ans := api.WaitAnswer(t, i.Token, 10*time.Second); !ans.Ephemeral() || !strings.Contains(ans.Text(), "Scheduled **UPG-1 payments v2.4.0**") {
				t.Fatalf("answer: %q", ans.Text())
			}
			api.Eventually(t, 10*time.Second, "the root message in 2002 with its thread", func() bool {
				ms := api.Messages("2002")
				if len(ms) != 1 || len(ms[0].Buttons()) != 1 || ms[0].Buttons()[0].CustomID != "upgrade_ack:UPG-1:brief" {
					return false
				}
				_, ok := api.Channel(ms[0].ID)
				return ok
			})
		})
	}
}

// TestServeStartsBeforeRedisAndBecomesReady: an orchestrator that starts
// the bot before Redis sees it alive but not ready, with the reason, and
// ready as soon as Redis answers; the console, by contrast, fails at once.
func TestServeStartsBeforeRedisAndBecomesReady(t *testing.T) {
	redisAddr, addr := freeAddr(t), freeAddr(t)
	cfg := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("[server]\nlisten = %q\n[redis]\nurl = \"redis://%s/0\"\n", addr, redisAddr)), 0o600)

	stopServe := startServe(t, cfg)

	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	waitFor(t, 15*time.Second, "healthz 200 while Redis is down", func() bool { code, _ := get("/healthz"); return code == http.StatusOK })
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "redis: no answer to PING: ") {
		t.Fatalf("readyz with Redis down = %d %q, want 503 with \"redis: no answer to PING: ...\"", code, body)
	}

	m := miniredis.NewMiniRedis()
	if err := m.StartAddr(redisAddr); err != nil {
		t.Fatal(err)
	}
	// serve stops before its Redis, also when the test fails (cleanups run
	// last first).
	t.Cleanup(m.Close)
	t.Cleanup(stopServe)
	waitFor(t, 15*time.Second, "readyz 200 once Redis answers", func() bool { code, _ := get("/readyz"); return code == http.StatusOK })

	stopServe()
	m.Close()
	if _, errOut, code := runMain(t, "", nil, "console", "-config", cfg); code != 1 || !strings.Contains(errOut, "cannot reach") {
		t.Errorf("console with Redis down: exit %d %q, want 1 and the reason", code, errOut)
	}
}

// TestServeWithWebhooksStartsBeforeRedis: with [[webhooks]], Slack and
// GitHub configured, a serve started before Redis stays up (healthz 200,
// readyz 503 naming redis) instead of exiting on the webhook consumer
// groups, and once Redis answers it is ready and delivers the events of
// commands to the webhook.
func TestServeWithWebhooksStartsBeforeRedis(t *testing.T) {
	recv := newHookReceiver(t, "hook-secret", func(int, *http.Request) int { return http.StatusOK })
	api := slacktestapi.New(t)
	redisAddr, addr := freeAddr(t), freeAddr(t)
	cfg := filepath.Join(t.TempDir(), "config.toml")
	text := statusConfigText(addr, fmt.Sprintf("url = \"redis://%s/0\"", redisAddr), api.APIURL(), true) +
		fmt.Sprintf("[github]\nwebhook_secret = \"gh-secret\"\n[[webhooks]]\nurl = %q\nsecret = \"hook-secret\"\n", recv.srv.URL)
	os.WriteFile(cfg, []byte(text), 0o600)
	var logs syncBuffer
	// Redis, started below, stops after serve does (cleanups run last
	// first): a serve stopping without its Redis may take its whole stop
	// budget (25 s) for the notices under way, longer than the test waits.
	var m *miniredis.Miniredis
	t.Cleanup(func() {
		if m != nil {
			m.Close()
		}
	})
	startServeLogged(t, cfg, &logs)
	s := &statusServe{t: t, base: "http://" + addr, api: api, config: cfg}
	get := func(path string) (int, string) {
		resp, err := http.Get(s.base + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	waitFor(t, 15*time.Second, "healthz 200 while Redis is down", func() bool { code, _ := get("/healthz"); return code == http.StatusOK })
	// The process used to exit once the webhook groups failed: once serve
	// says delivery waits for Redis, it is still up.
	waitFor(t, 15*time.Second, "webhook delivery waiting for Redis", func() bool {
		return strings.Contains(logs.String(), "webhook delivery waits for Redis")
	})
	if code, body := get("/healthz"); code != http.StatusOK {
		t.Fatalf("healthz = %d %q once webhook delivery waits for Redis; logs:\n%s", code, body, logs.String())
	}
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "redis") {
		t.Fatalf("readyz with Redis down = %d %q, want 503 naming redis", code, body)
	}

	m = miniredis.NewMiniRedis()
	if err := m.StartAddr(redisAddr); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "readyz 200 once Redis answers", func() bool { code, _ := get("/readyz"); return code == http.StatusOK })
	if ans := s.slash("U0ALICE", "schedule payments v2.4.0 in 3d for 2h"); !strings.Contains(ans, "UPG-1") {
		t.Fatalf("schedule answered %q", ans)
	}
	recv.waitUntil(20*time.Second, "upgrade.scheduled delivered", func() bool {
		for _, d := range recv.all() {
			if d.Type == "upgrade.scheduled" && d.Status == http.StatusOK {
				return true
			}
		}
		return false
	})
	for _, want := range []string{"webhook delivery waits for Redis", "webhook delivery ready"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs.String())
		}
	}
}

func waitFor(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startServe runs `upgradebot serve -config cfg` in the test process until
// the test ends, then expects a clean stop. stop stops it sooner (and
// waits for it; once): a test stops serve before the Redis it started for
// it, since a serve stopping without its Redis may take its whole stop
// budget (25 s) for the notices under way, longer than a test waits.
func startServe(t *testing.T, cfg string) (stop func()) {
	t.Helper()
	return startServeWith(t, cfg, nil, io.Discard)
}

// startServeEnv is startServe with environment variables.
func startServeEnv(t *testing.T, cfg string, environ []string) (stop func()) {
	t.Helper()
	return startServeWith(t, cfg, environ, io.Discard)
}

// startServeLogged is startServe with serve's logs written to logs.
func startServeLogged(t testing.TB, cfg string, logs io.Writer) (stop func()) {
	t.Helper()
	return startServeWith(t, cfg, nil, logs)
}

func startServeWith(t testing.TB, cfg string, environ []string, logs io.Writer) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, nil, []string{"serve", "-config", cfg}, strings.NewReader(""), io.Discard, logs, environ)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("serve exited %d", code)
				}
			case <-time.After(20 * time.Second):
				t.Error("serve did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func TestServeSaysWhenNoFileIsReadAndNoPlatformIsOn(t *testing.T) {
	t.Chdir(t.TempDir())
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, nil, []string{"serve"}, strings.NewReader(""), io.Discard, &logs, []string{
			"UPGRADEBOT_REDIS_URL=memory://", "UPGRADEBOT_SERVER_LISTEN=127.0.0.1:0"})
	}()
	waitFor(t, 15*time.Second, "serve to start", func() bool { return strings.Contains(logs.String(), "upgradebot serving") })
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d:\n%s", code, logs.String())
	}
	for _, want := range []string{"no configuration file:", "no chat platform is enabled"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("serve's log lacks %q:\n%s", want, logs.String())
		}
	}
}

// With only Slack enabled, serve warns once about the payments service's
// Discord and console channels, says the pre-brief goes to the Slack
// channel alone and posts it there, and records no failed delivery to the
// platforms that are off.
func TestServeSkipsChannelsOfPlatformsNotEnabled(t *testing.T) {
	var logs syncBuffer
	s := startStatusServeWith(t, serveSetup{logs: &logs, edit: func(text string) string {
		return strings.Replace(text, `channels = ["slack:C0PAY"]`, `channels = ["slack:C0PAY", "discord:112233445566778899", "console:ops"]`, 1)
	}})
	ans := s.slash("U0ALICE", "schedule payments v2.4.0 in 3d for 2h")
	if !strings.Contains(ans, "UPG-1") || !strings.Contains(ans, "The pre-brief is being posted to") ||
		strings.Contains(ans, "112233445566778899") || strings.Contains(ans, "ops") {
		t.Fatalf("schedule answered %q; want the Slack channel alone", ans)
	}
	s.api.Eventually(t, 10*time.Second, "the root message in C0PAY", func() bool {
		for _, c := range s.api.Calls("chat.postMessage") {
			if c.Param("channel") == "C0PAY" {
				return true
			}
		}
		return false
	})
	// The root's one log line comes once every channel of the upgrade was
	// tried and the threads and failures recorded: one channel, no failure.
	var root struct{ Targets, Failed int }
	waitFor(t, 10*time.Second, "the root notice's log line", func() bool {
		for line := range strings.Lines(logs.String()) {
			var l struct{ Msg, Notice, Upgrade string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "notice" && l.Notice == "root" && l.Upgrade == "UPG-1" {
				return json.Unmarshal([]byte(line), &root) == nil
			}
		}
		return false
	})
	if root.Targets != 1 || root.Failed != 0 {
		t.Errorf("the root went to %d channels, %d failed; want the Slack channel alone:\n%s", root.Targets, root.Failed, logs.String())
	}
	code, _, body := s.get("/api/v1/upgrades/UPG-1", statusToken)
	var stored struct {
		Threads  []struct{ Channel string }
		Failures []struct{ Target, Error string }
	}
	if err := json.Unmarshal(body, &stored); code != http.StatusOK || err != nil {
		t.Fatalf("GET /api/v1/upgrades/UPG-1: %d %v %s", code, err, body)
	}
	if len(stored.Threads) != 1 || stored.Threads[0].Channel != "slack:C0PAY" || len(stored.Failures) != 0 {
		t.Errorf("stored threads %+v, failures %+v; want slack:C0PAY alone and none", stored.Threads, stored.Failures)
	}
	if show := s.slash("U0ALICE", "show UPG-1"); strings.Contains(show, "112233445566778899") || strings.Contains(show, "console:ops") {
		t.Errorf("show UPG-1 names a channel of a platform that is off:\n%s", show)
	}
	if strings.Contains(logs.String(), "no platform of this bot posts") || strings.Contains(logs.String(), "notice not delivered") {
		t.Errorf("serve tried the platforms that are off:\n%s", logs.String())
	}
	if n := strings.Count(logs.String(), "services[1] (payments): serve skips channels discord:112233445566778899, console:ops"); n != 1 {
		t.Errorf("the warning about payments was logged %d times, want once:\n%s", n, logs.String())
	}
}

// TestServeMovesOldKeysUnderThePrefix: the keys that earlier versions kept
// outside redis.prefix ({P:events}:relayed) move under it when serve
// starts, also when Redis answers only after serve started.
func TestServeMovesOldKeysUnderThePrefix(t *testing.T) {
	redisAddr, addr := freeAddr(t), freeAddr(t)
	cfg := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("[server]\nlisten = %q\n[redis]\nurl = \"redis://%s/0\"\nprefix = \"ub\"\n", addr, redisAddr)), 0o600)
	// Redis, started below, stops after serve does (cleanups run last first).
	m := miniredis.NewMiniRedis()
	t.Cleanup(m.Close)
	startServe(t, cfg)

	if _, err := m.ZAdd("{ub:events}:relayed", 1000, "ev-1"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // serve's first try finds no Redis
	if err := m.StartAddr(redisAddr); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the old key moved", func() bool { return !m.Exists("{ub:events}:relayed") })
	if ms, err := m.ZMembers("ub:{ub:events}:relayed"); err != nil || len(ms) != 1 || ms[0] != "ev-1" {
		t.Fatalf("ub:{ub:events}:relayed = %q, %v; want the old key's member", ms, err)
	}
}

// TestServeSaysWhenItStops: the signal is logged when it arrives, before
// the drain, and the last line says it stopped; an operator reading a slow
// stop sees where the time went.
func TestServeSaysWhenItStops(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("[server]\nlisten = %q\n[redis]\nurl = \"memory://\"\n", freeAddr(t))), 0o600)
	var logs syncbuf.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, nil, []string{"serve", "-config", cfg}, strings.NewReader(""), io.Discard, &logs, nil)
	}()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), "upgradebot serving"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", logs.String())
		}
	}
	cancel() // as SIGTERM does
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d:\n%s", code, logs.String())
	}
	out := logs.String()
	stopping, stopped := strings.Index(out, "upgradebot stopping"), strings.Index(out, "upgradebot stopped")
	if stopping < 0 || stopped < stopping {
		t.Fatalf("the stop is not logged in order:\n%s", out)
	}
}

// QA: an upgrade made by the console on serve's Redis keeps a thread in a
// console channel, which serve cannot post to; its failed deliveries said
// `upgradebot invalid: no adapter is enabled for "console:#payments"`.
// They say it plainly, and why.
func TestServeSaysAConsoleThreadIsOnlyShownByTheConsole(t *testing.T) {
	var logs syncBuffer
	s := startStatusServeWith(t, serveSetup{logs: &logs})
	if ans := s.slash("U0ALICE", "schedule payments v2.4.0 in 3d for 2h"); !strings.Contains(ans, "UPG-1") {
		t.Fatalf("schedule answered %q", ans)
	}
	ctx := context.Background()
	st := storetest.Open(t, s.redis)
	var u *bot.Upgrade
	waitFor(t, 10*time.Second, "the root's thread saved", func() bool {
		x, err := st.Get(ctx, 1)
		u = x
		return err == nil && len(x.Threads) == 1
	})
	// As the console on the same store would have left it.
	u.Threads = append(u.Threads, bot.MessageRef{Channel: "console:#payments", ID: "m1"})
	u.Rev++
	if err := st.Update(ctx, u, bot.Decision{}); err != nil {
		t.Fatal(err)
	}
	s.slash("U0ALICE", "extend UPG-1 1h") // its notice goes to every thread
	const want = "no platform of this bot posts to console:#payments (console threads are only shown by the console)"
	var stored struct {
		Failures []struct{ Target, Error string }
	}
	waitFor(t, 10*time.Second, "the failed delivery recorded", func() bool {
		_, _, body := s.get("/api/v1/upgrades/UPG-1", statusToken)
		return json.Unmarshal(body, &stored) == nil && len(stored.Failures) > 0
	})
	if f := stored.Failures[0]; f.Target != "console:#payments" || f.Error != want {
		t.Errorf("failure %+v; want %q", f, want)
	}
	if show := s.slash("U0ALICE", "show UPG-1"); !strings.Contains(show, want) || strings.Contains(show, "upgradebot invalid") {
		t.Errorf("show:\n%s", show)
	}
	if strings.Contains(logs.String(), "upgradebot invalid") || !strings.Contains(logs.String(), want) {
		t.Errorf("the log:\n%s", logs.String())
	}
}
