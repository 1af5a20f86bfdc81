package discord

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/commands"
	"github.com/upgradebot/upgradebot/internal/syncbuf"
)

// TestGatewayConnectsAndResumes: the adapter says HELLO-IDENTIFY-READY and
// is ready; a dropped socket makes it not ready, it RESUMEs the session,
// gets the interaction Discord dispatched meanwhile, and answers it.
func TestGatewayConnectsAndResumes(t *testing.T) {
	f := newFixture(t, ModeGateway)
	f.ready()
	if f.gw.Identifies() != 1 || f.gw.Resumes() != 0 {
		t.Fatalf("identifies %d resumes %d", f.gw.Identifies(), f.gw.Resumes())
	}
	if ans := f.send(f.api.Command(alice, chOps, "help")); !strings.Contains(ans.Text(), "plans and announces") {
		t.Fatalf("answer before the drop: %s", ans.Text())
	}

	f.gw.Drop()
	f.api.Eventually(t, 10*time.Second, "readiness to follow the dropped connection", func() bool {
		err := f.a.Ready()
		return err != nil && strings.Contains(err.Error(), "the gateway is not connected") || f.gw.Resumes() > 0
	})
	i := f.api.Command(bob, chOps, "list")
	f.gw.Interaction(t, i) // dispatched while the bot is away: replayed on RESUME
	f.gw.Wait(t, 15*time.Second, "the session to be resumed", func() bool { return f.gw.Resumes() == 1 })
	if ans := f.api.WaitAnswer(t, i.Token, 10*time.Second); !strings.Contains(ans.Text(), "No upcoming or running upgrades") {
		t.Fatalf("answer after the resume: %s", ans.Text())
	}
	f.ready()
	if f.gw.Identifies() != 1 {
		t.Errorf("identified %d times; a dropped connection resumes", f.gw.Identifies())
	}
}

// TestGatewayRefusedTokenIsReported: a gateway that refuses the token
// (close 4004) leaves the adapter not ready, saying why.
func TestGatewayRefusedTokenIsReported(t *testing.T) {
	var logs logBuf
	f := newFixture(t, ModeGateway, func(o *Options) { o.BotToken = "wrong.token.here" }, logs.capture)
	f.api.Eventually(t, 10*time.Second, "the refusal in readiness", func() bool {
		err := f.a.Ready()
		return err != nil && strings.Contains(err.Error(), "4004")
	})
	err := f.a.Ready()
	if !strings.Contains(err.Error(), "discord: the gateway is not connected: ") {
		t.Errorf("readiness: %v", err)
	}
	if strings.Contains(err.Error(), "wrong.token") {
		t.Errorf("readiness shows the token: %v", err)
	}
	// QA: the log said only "discord gateway connection failed; retrying"
	// at WARN, as for a network blip, though retrying cannot help until
	// someone fixes the token. It is an ERROR that says what to fix.
	const refused = "discord refused the gateway connection; the bot token was refused (close 4004 Authentication failed): check discord.bot_token (UPGRADEBOT_DISCORD_BOT_TOKEN): it must be the current Bot token of this application (Developer Portal → Bot → Reset Token); the bot keeps retrying"
	f.api.Eventually(t, 10*time.Second, "the refusal logged at ERROR", func() bool { return len(logs.find("ERROR", refused)) > 0 })
	if r := logs.find("ERROR", refused)[0]; r["close_code"] != 4004.0 || r["reason"] != "websocket: close 4004: Authentication failed." {
		t.Errorf("logged %v", r)
	}
	if n := len(logs.find("WARN", "discord gateway connection failed; retrying")); n != 0 {
		t.Errorf("the refusal also logged as a passing failure %d times", n)
	}
	if strings.Contains(logs.String(), "wrong.token") {
		t.Error("the log shows the token")
	}
}

// TestRegistration: the command is registered with a bulk overwrite on
// each guild of guild_ids, or globally; a refusal is logged and shown in
// readiness, with Discord's reason.
func TestRegistration(t *testing.T) {
	t.Run("guilds", func(t *testing.T) {
		f := newFixture(t, ModeHTTP, func(o *Options) { o.GuildIDs = []string{"4001", "4002"} })
		f.ready()
		for _, g := range []string{"4001", "4002"} {
			cmds := f.api.Commands(g)
			if len(cmds) != 1 || cmds[0].Name != "upgrade" || len(cmds[0].Options) != len(commands.Names()) {
				t.Errorf("guild %s: %+v", g, cmds)
			}
		}
		if len(f.api.Commands("")) != 0 {
			t.Error("registered globally as well")
		}
	})
	t.Run("global", func(t *testing.T) {
		f := newFixture(t, ModeHTTP, func(o *Options) { o.GuildIDs = nil })
		f.ready()
		if cmds := f.api.Commands(""); len(cmds) != 1 {
			t.Errorf("global commands %+v", cmds)
		}
	})
	t.Run("refused", func(t *testing.T) {
		f := newFixture(t, ModeHTTP, func(o *Options) { o.ApplicationID = "4242" })
		f.api.Eventually(t, 10*time.Second, "the refusal in readiness", func() bool { return f.a.Ready() != nil && f.a.registerErr.Load() != nil })
		if err := f.a.Ready(); err.Error() != "discord: registering /upgrade on guild "+discordtest.GuildID+" failed: 50001 Missing Access" {
			t.Errorf("readiness: %v", err)
		}
		if n := len(f.api.Calls("bulk_overwrite_commands")); n != 1 {
			t.Errorf("a refusal was tried %d times at once", n)
		}
	})
	// QA: a 200 whose body is no list of commands (a proxy's page) was
	// said as "registering /upgrade globally failed: HTTP 200".
	t.Run("an answer of success that is not the commands", func(t *testing.T) {
		page := "<html><body>Welcome to the proxy. Your header: Bot " + discordtest.Token + strings.Repeat(" and more", 30) + "</body></html>"
		var logs logBuf
		f := newFixtureWith(t, ModeHTTP, func(f *fixture) {
			f.api.FailAlways("bulk_overwrite_commands", discordtest.Fault{Body: page})
		}, func(o *Options) { o.GuildIDs = nil }, logs.capture)
		f.api.Eventually(t, 10*time.Second, "the failure in readiness", func() bool { return f.a.registerErr.Load() != nil })
		err := f.a.Ready()
		want := `discord: registering /upgrade globally failed: HTTP 200 with a body that is not the list of commands: "<html><body>Welcome to the proxy. Your header: Bot [redacted]`
		if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "…") {
			t.Errorf("readiness: %v\nwant it to begin %s and end with …", err, want)
		}
		if strings.Contains(err.Error(), discordtest.Token) || strings.Contains(logs.String(), discordtest.Token) {
			t.Errorf("the token is shown:\n%v\n%s", err, logs.String())
		}
		if !strings.Contains(logs.String(), "HTTP 200 with a body that is not the list of commands") {
			t.Errorf("the log does not say what was wrong:\n%s", logs.String())
		}
		if n := len(f.api.Calls("bulk_overwrite_commands")); n != 1 {
			t.Errorf("the same answer was asked for %d times at once", n)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		f := newFixture(t, ModeHTTP, func(o *Options) { o.APIURL = "http://127.0.0.1:1/api/v10/" })
		f.api.Eventually(t, 10*time.Second, "the failure in readiness", func() bool { return f.a.registerErr.Load() != nil })
		if err := f.a.Ready(); err == nil || !strings.Contains(err.Error(), "cannot reach Discord at 127.0.0.1:1: connection refused") {
			t.Errorf("readiness: %v", err)
		}
	})
}

// TestAPIURLLeavesDiscordgoAlone: api_url redirects the session's REST
// calls through its own client; discordgo's package endpoints stay as
// they are, so other sessions in the process still reach Discord.
func TestAPIURLLeavesDiscordgoAlone(t *testing.T) {
	before := discordgo.EndpointAPI
	f := newFixture(t, ModeGateway)
	f.ready()
	if discordgo.EndpointAPI != before || before != "https://discord.com/api/v9/" {
		t.Errorf("discordgo.EndpointAPI is %q", discordgo.EndpointAPI)
	}
	if http.DefaultClient.Transport != nil {
		t.Error("the default HTTP client was changed")
	}
	for _, c := range f.api.Calls() {
		if c.Header.Get("Authorization") != "" && c.Header.Get("Authorization") != "Bot "+discordtest.Token {
			t.Errorf("%s sent %q", c.Path, c.Header.Get("Authorization"))
		}
	}
	if len(f.api.Calls("get_gateway")) == 0 {
		t.Error("the gateway URL was not asked of the fake")
	}
}

// logBuf keeps what an adapter logs, as JSON lines.
type logBuf struct{ syncbuf.Buffer }

// capture is the Options change that logs into l.
func (l *logBuf) capture(o *Options) {
	o.Logger = slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// find returns the records of level with message msg.
func (l *logBuf) find(level, msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(l.String(), "\n") {
		var r map[string]any
		if json.Unmarshal([]byte(line), &r) == nil && r["level"] == level && r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

// holds stands in for the wait after op 9: each wait is reported on held,
// and lasts until release (or until the connection ends).
type holds struct {
	held    chan time.Duration
	release chan struct{}
}

func newHolds() *holds { return &holds{held: make(chan time.Duration), release: make(chan struct{})} }

func (h *holds) pause(d time.Duration, stop <-chan struct{}) bool {
	select {
	case h.held <- d:
	case <-stop:
		return false
	}
	select {
	case <-h.release:
		return true
	case <-stop:
		return false
	}
}

// next waits for the adapter to begin a wait after op 9.
func (h *holds) next(t *testing.T) time.Duration {
	t.Helper()
	select {
	case d := <-h.held:
		return d
	case <-time.After(15 * time.Second):
		t.Fatal("the adapter did not wait after op 9")
		return 0
	}
}

// TestGatewayInvalidSessionWaits: when Discord answers every IDENTIFY with
// op 9, the adapter holds each op 9 back from discordgo (which would
// IDENTIFY again at once) for Discord's random 1–5 s, longer after the
// second in a row; it is not ready meanwhile although Open returned, says
// why, and logs each op 9. Once Discord takes the IDENTIFY, it is ready.
func TestGatewayInvalidSessionWaits(t *testing.T) {
	logs := &logBuf{}
	h := newHolds()
	f := newFixtureWith(t, ModeGateway, func(f *fixture) {
		f.gw.SetInvalidSessions(true)
		f.a.pause = h.pause
	}, logs.capture)
	for k := 1; k <= 3; k++ {
		d := h.next(t)
		// discordgo has not seen this op 9 yet, so it cannot have identified again.
		if n := f.gw.InvalidSessions(); n != k {
			t.Fatalf("wait %d: Discord sent %d op 9s, so the adapter identified again before waiting", k, n)
		}
		if lo, hi := time.Second, 5*time.Second; k == 3 {
			if d < 10*time.Second || d > 12500*time.Millisecond {
				t.Errorf("wait %d after op 9s in a row: %s, want 10–12.5 s", k, d)
			}
		} else if d < lo || d >= hi {
			t.Errorf("wait %d: %s, want Discord's 1–5 s", k, d)
		}
		err := f.a.Ready()
		want := fmt.Sprintf("the gateway is not connected: Discord invalidated the session (op 9, not resumable; %d in a row); identifying again in", k)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("readiness during wait %d: %v", k, err)
		}
		if k == 3 {
			f.gw.SetInvalidSessions(false)
		}
		h.release <- struct{}{}
	}
	f.ready()
	if f.gw.Identifies() != 1 || f.gw.InvalidSessions() != 3 {
		t.Errorf("identifies %d, op 9s %d", f.gw.Identifies(), f.gw.InvalidSessions())
	}
	warns := logs.find("WARN", "discord invalidated the gateway session (op 9)")
	if len(warns) != 3 || warns[0]["resumable"] != false || warns[2]["in_a_row"] != float64(3) {
		t.Errorf("op 9 logged %d times: %v", len(warns), warns)
	}
	if strings.Contains(logs.String(), discordtest.Token) {
		t.Error("the log shows the token")
	}
}

// TestGatewayReadyOnlyAfterREADY: discordgo's Open returns without error
// when the frame after IDENTIFY is not READY (here an op 9, then nothing):
// the adapter is not ready until READY comes, however long its
// connection runs (heartbeats go out), and it gives up on one whose READY
// does not come.
func TestGatewayReadyOnlyAfterREADY(t *testing.T) {
	h := newHolds()
	f := newFixtureWith(t, ModeGateway, func(f *fixture) {
		f.gw.SetInvalidSessions(true)
		// Long enough for the op 9 to be held on the connection (at most
		// half the interval), so that Open returns after it.
		f.gw.SetHeartbeatInterval(10 * time.Second)
		f.a.pause = h.pause
		f.a.handshakeTimeout = 2 * time.Second
	})
	f.api.Eventually(t, 10*time.Second, "the command to be registered", func() bool { return f.a.registered.Load() })
	h.next(t)
	f.gw.SetInvalidSessions(false)
	f.gw.SetSilence(discordtest.NoReady)
	h.release <- struct{}{}
	// Heartbeats begin once Open has returned.
	f.gw.Wait(t, 10*time.Second, "a heartbeat", func() bool { return f.gw.Heartbeats() >= 1 })
	if err := f.a.Ready(); err == nil || !strings.Contains(err.Error(), "the gateway is not connected") {
		t.Errorf("ready without READY: %v", err)
	}
	f.api.Eventually(t, 10*time.Second, "the missing READY in readiness", func() bool {
		err := f.a.Ready()
		return err != nil && strings.Contains(err.Error(), "Discord did not answer IDENTIFY with READY within 2s")
	})
	f.gw.SetSilence(discordtest.Talk)
	f.api.Eventually(t, 20*time.Second, "the adapter to be ready", func() bool { return f.a.Ready() == nil })
}

// TestGatewayResumableInvalidSession: an op 9 that says the session may be
// resumed is held back as well, then the connection is closed and the
// session resumed, not identified anew.
func TestGatewayResumableInvalidSession(t *testing.T) {
	h := newHolds()
	f := newFixtureWith(t, ModeGateway, func(f *fixture) { f.a.pause = h.pause })
	f.ready()
	f.gw.InvalidateSession(true)
	h.next(t)
	if err := f.a.Ready(); err == nil || !strings.Contains(err.Error(), "(op 9, resumable; 1 in a row); resuming in") {
		t.Errorf("readiness: %v", err)
	}
	h.release <- struct{}{}
	f.gw.Wait(t, 15*time.Second, "the session to be resumed", func() bool { return f.gw.Resumes() == 1 })
	f.ready()
	if f.gw.Identifies() != 1 {
		t.Errorf("identified %d times", f.gw.Identifies())
	}
}

// TestInvalidWait: Discord's 1–5 s for the first two op 9s in a row, then
// twice as long each time, up to 5 minutes (and a quarter of jitter).
func TestInvalidWait(t *testing.T) {
	for range 1000 {
		for n, lo := range map[int]time.Duration{1: time.Second, 2: time.Second, 3: 10 * time.Second, 4: 20 * time.Second, 8: invalidMax, 80: invalidMax} {
			hi := lo * 5 / 4
			if n <= 2 {
				hi = 5 * time.Second
			}
			if d := invalidWait(n); d < lo || d > hi {
				t.Fatalf("invalidWait(%d) = %s, want %s–%s", n, d, lo, hi)
			}
		}
	}
}

// TestGatewaySilentGatewayTimesOut: a gateway that accepts the connection
// but never says HELLO, or never READY after IDENTIFY, fails the
// connection after the handshake deadline: readiness says why, the log
// too, and the adapter tries again (with its backoff) until it connects.
func TestGatewaySilentGatewayTimesOut(t *testing.T) {
	for _, c := range []struct {
		silence discordtest.Silence
		reason  string
	}{
		{discordtest.NoHello, "Discord sent no HELLO within 200ms of connecting"},
		{discordtest.NoReady, "Discord did not answer IDENTIFY with READY within 200ms"},
	} {
		t.Run(c.reason, func(t *testing.T) {
			logs := &logBuf{}
			f := newFixtureWith(t, ModeGateway, func(f *fixture) {
				f.gw.SetSilence(c.silence)
				f.a.handshakeTimeout = 200 * time.Millisecond
			}, logs.capture)
			f.api.Eventually(t, 10*time.Second, "the timeout in readiness", func() bool {
				err := f.a.Ready()
				return err != nil && strings.Contains(err.Error(), "the gateway is not connected: "+c.reason)
			})
			f.gw.Wait(t, 10*time.Second, "another try", func() bool { return f.gw.Connections() >= 2 })
			if w := logs.find("WARN", "discord gateway connection failed; retrying"); len(w) == 0 || w[0]["reason"] != c.reason {
				t.Errorf("logged %v", w)
			}
			f.gw.SetSilence(discordtest.Talk)
			f.api.Eventually(t, 20*time.Second, "the adapter to be ready", func() bool { return f.a.Ready() == nil })
		})
	}
}

// TestGatewayStopsWhileConnecting: when Run's context ends while Open is
// blocked on a silent gateway, or while an op 9 is held back, the
// connection is closed and Run returns at once, not after the handshake
// deadline (30 s).
func TestGatewayStopsWhileConnecting(t *testing.T) {
	for name, silence := range map[string]discordtest.Silence{"no HELLO": discordtest.NoHello, "no READY": discordtest.NoReady} {
		t.Run(name, func(t *testing.T) {
			f := newFixtureWith(t, ModeGateway, func(f *fixture) { f.gw.SetSilence(silence) })
			f.gw.Wait(t, 10*time.Second, "the connection", func() bool { return f.gw.Connections() == 1 })
			if err := f.stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("asking for the gateway's URL", func(t *testing.T) {
		f := newFixtureWith(t, ModeGateway, func(f *fixture) {
			f.api.FailAlways("get_gateway", discordtest.Fault{Delay: time.Minute})
		}, func(o *Options) { o.HTTPClient = &http.Client{} }) // no timeout of its own
		f.api.Eventually(t, 10*time.Second, "the command to be registered", func() bool { return f.a.registered.Load() })
		if err := f.stop(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("waiting after op 9", func(t *testing.T) {
		h := newHolds()
		f := newFixtureWith(t, ModeGateway, func(f *fixture) {
			f.gw.SetInvalidSessions(true)
			f.a.pause = h.pause
		})
		h.next(t)
		if err := f.stop(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestGatewayZombieConnectionIsResumed: when Discord stops acknowledging
// heartbeats, the adapter gives the connection up once an ACK is a
// heartbeat interval overdue (discordgo alone waits five intervals), drops
// it without a close frame (a close with 1000 would end the session) and
// resumes the session.
func TestGatewayZombieConnectionIsResumed(t *testing.T) {
	logs := &logBuf{}
	f := newFixtureWith(t, ModeGateway, func(f *fixture) { f.gw.SetHeartbeatInterval(500 * time.Millisecond) }, logs.capture)
	f.ready()
	f.gw.SetAcks(false)
	f.gw.Wait(t, 20*time.Second, "the zombie connection to be closed", func() bool { return len(f.gw.Ends()) == 1 })
	f.gw.SetAcks(true)
	end := f.gw.Ends()[0]
	if end.Code == websocket.CloseNormalClosure || end.Code == websocket.CloseGoingAway {
		t.Errorf("closed with %d, which ends the session on Discord", end.Code)
	}
	if end.Unanswered < 1 || end.Unanswered > 3 {
		t.Errorf("gave up after %d unanswered heartbeats; want at most 3 (discordgo alone waits for 5)", end.Unanswered)
	}
	i := f.api.Command(bob, chOps, "list")
	f.gw.Interaction(t, i)
	f.gw.Wait(t, 20*time.Second, "the session to be resumed", func() bool { return f.gw.Resumes() == 1 })
	if ans := f.api.WaitAnswer(t, i.Token, 10*time.Second); !strings.Contains(ans.Text(), "No upcoming or running upgrades") {
		t.Fatalf("answer after the resume: %s", ans.Text())
	}
	f.ready()
	if f.gw.Identifies() != 1 {
		t.Errorf("identified %d times; a zombie connection resumes", f.gw.Identifies())
	}
	if w := logs.find("WARN", "no heartbeat ACK from discord; closing the connection to resume the session"); len(w) == 0 {
		t.Error("the zombie connection was not logged")
	}
	if w := logs.find("WARN", "discord gateway disconnected; reconnecting"); len(w) == 0 || !strings.HasPrefix(w[0]["reason"].(string), "Discord did not acknowledge a heartbeat for ") {
		t.Errorf("disconnect logged %v", w)
	}
}

// TestGatewayCloseFromDiscordIsResumed: when Discord closes the connection
// (4000, unknown error), the adapter is not ready at once, saying why
// (discordgo reports the disconnect only a second later), answers the
// close with 4000 rather than discordgo's 1000 (which would end the
// session), and resumes: the interaction sent meanwhile is replayed.
func TestGatewayCloseFromDiscordIsResumed(t *testing.T) {
	f := newFixture(t, ModeGateway)
	f.ready()
	f.gw.CloseWith(4000, "Unknown error")
	f.gw.Wait(t, 10*time.Second, "the client's close", func() bool { return len(f.gw.Ends()) == 1 })
	// The client's close frame follows discordgo's read of Discord's.
	if err := f.a.Ready(); err == nil || !strings.Contains(err.Error(), "the gateway is not connected: Discord closed the connection: 4000 Unknown error") {
		t.Errorf("readiness once the close was answered: %v", err)
	}
	if code := f.gw.Ends()[0].Code; code != closeResumable {
		t.Errorf("the client closed with %d; want 4000 (1000 ends the session)", code)
	}
	i := f.api.Command(bob, chOps, "list")
	f.gw.Interaction(t, i)
	f.gw.Wait(t, 15*time.Second, "the session to be resumed", func() bool { return f.gw.Resumes() == 1 })
	if ans := f.api.WaitAnswer(t, i.Token, 10*time.Second); !strings.Contains(ans.Text(), "No upcoming or running upgrades") {
		t.Fatalf("answer after the resume: %s", ans.Text())
	}
	f.ready()
	if f.gw.Identifies() != 1 {
		t.Errorf("identified %d times", f.gw.Identifies())
	}
}

// TestGatewayShutdownEndsTheSession: stopping Run closes the connection
// with 1000, so that Discord ends the session (and sends its events to
// the other replicas).
func TestGatewayShutdownEndsTheSession(t *testing.T) {
	f := newFixture(t, ModeGateway)
	f.ready()
	if err := f.stop(); err != nil {
		t.Fatal(err)
	}
	f.gw.Wait(t, 10*time.Second, "the client's close", func() bool { return len(f.gw.Ends()) == 1 })
	if code := f.gw.Ends()[0].Code; code != websocket.CloseNormalClosure {
		t.Errorf("closed with %d", code)
	}
}

// TestGatewayResumesOnTheResumeURL: a lost connection is resumed on the
// resume_gateway_url READY named; when that cannot be reached, on the
// gateway's own URL.
func TestGatewayResumesOnTheResumeURL(t *testing.T) {
	f := newFixture(t, ModeGateway)
	f.ready()
	f.gw.Drop()
	f.gw.Wait(t, 15*time.Second, "the session to be resumed", func() bool { return f.gw.Resumes() == 1 })
	if f.gw.ResumesAtResumeURL() != 1 {
		t.Error("not resumed on the resume URL")
	}
	f.ready()
	if n := len(f.api.Calls("get_gateway")); n != 1 {
		t.Errorf("GET /gateway asked of Discord %d times", n)
	}

	t.Run("unreachable", func(t *testing.T) {
		f := newFixtureWith(t, ModeGateway, func(f *fixture) { f.gw.SetResumeURL("ws://127.0.0.1:1") })
		f.ready()
		f.gw.Drop()
		f.gw.Wait(t, 15*time.Second, "the session to be resumed", func() bool { return f.gw.Resumes() == 1 })
		f.ready()
		if f.gw.ResumesAtResumeURL() != 0 || f.gw.Identifies() != 1 {
			t.Errorf("resumes at the resume URL %d, identifies %d", f.gw.ResumesAtResumeURL(), f.gw.Identifies())
		}
	})
}

// TestGatewayOverTLSThroughAProxy: a wss:// gateway is reached through the
// environment's HTTP proxy (CONNECT), its certificate checked; the
// resume goes the same way.
func TestGatewayOverTLSThroughAProxy(t *testing.T) {
	var mu sync.Mutex
	var tunnels []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		mu.Lock()
		tunnels = append(tunnels, r.Host)
		mu.Unlock()
		dst, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		src, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			dst.Close()
			return
		}
		_, _ = src.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		go func() { _, _ = io.Copy(dst, src); dst.Close() }()
		_, _ = io.Copy(src, dst)
		src.Close()
	}))
	t.Cleanup(proxy.Close)
	pu, _ := url.Parse(proxy.URL)
	f := newFixtureWith(t, ModeGateway, func(f *fixture) {
		f.gw = discordtest.NewGateway(t, discordtest.WithTLS())
		f.api.SetGatewayURL(f.gw.URL())
		f.a.gatewayTLS = &tls.Config{RootCAs: f.gw.RootCAs()}
		f.a.proxy = http.ProxyURL(pu)
	})
	if !strings.HasPrefix(f.gw.URL(), "wss://") {
		t.Fatalf("gateway %s", f.gw.URL())
	}
	f.ready()
	if ans := f.send(f.api.Command(alice, chOps, "help")); !strings.Contains(ans.Text(), "plans and announces") {
		t.Fatalf("answer: %s", ans.Text())
	}
	f.gw.Drop()
	f.gw.Wait(t, 15*time.Second, "the session to be resumed", func() bool { return f.gw.ResumesAtResumeURL() == 1 })
	f.ready()
	mu.Lock()
	defer mu.Unlock()
	main, _ := url.Parse(f.gw.URL())
	resume, _ := url.Parse(f.gw.ResumeURL())
	if len(tunnels) != 2 || tunnels[0] != main.Host || tunnels[1] != resume.Host {
		t.Errorf("tunnels %v", tunnels)
	}
}

// TestGatewayLateInteractions: an interaction that reaches the bot after
// Discord's 3 seconds (replayed on RESUME after a reconnect) is not acted
// on, since its invoker saw "The application did not respond": she is
// told by direct message, and nothing is answered or changed. An
// autocomplete is dropped. One a little past 3 s (the clocks may differ)
// is still acted on.
func TestGatewayLateInteractions(t *testing.T) {
	logs := &logBuf{}
	f := newFixture(t, ModeGateway, logs.capture)
	f.ready()
	dms := func(user string) string {
		ch := f.api.DMChannel(user)
		if ch == "" {
			return ""
		}
		var all []string
		for _, m := range f.api.Messages(ch) {
			all = append(all, m.Text())
		}
		return strings.Join(all, "\n")
	}

	schedule := f.api.Command(alice, chOps, "schedule", discordtest.O("service", "payments"), discordtest.O("version", "v2.4.0"),
		discordtest.O("when", "2026-12-01 02:00"), discordtest.O("duration", "1h"))
	sent := f.clock.Now()
	f.clock.Advance(6 * time.Second)
	f.gw.Interaction(t, schedule)
	f.api.Eventually(t, 10*time.Second, "the direct message", func() bool { return dms(alice.ID) != "" })
	want := "Your `/upgrade schedule` from <t:" + fmt.Sprint(sent.Unix()) + ":f> (<t:" + fmt.Sprint(sent.Unix()) + ":R>) reached upgradebot only after Discord's 3-second limit for an answer, while the bot was reconnecting to Discord, so nothing was done.\nRun it again if you still need it."
	if got := dms(alice.ID); got != want {
		t.Errorf("direct message\n%s\nwant\n%s", got, want)
	}
	if e, _ := f.api.Exchange(schedule.Token); e.Initial != nil {
		t.Errorf("answered: %+v", e.Initial)
	}
	if us, _ := f.b.Upgrades(context.Background(), bot.Filter{}); len(us) != 0 {
		t.Errorf("scheduled %d upgrades", len(us))
	}
	const told = "interaction came after Discord's answer limit; not acted on, its invoker told by direct message"
	f.api.Eventually(t, 10*time.Second, "the log", func() bool { return len(logs.find("INFO", told)) == 1 })
	if info := logs.find("INFO", told); info[0]["interaction"] != schedule.ID || info[0]["what"] != "/upgrade schedule" || info[0]["age"] != "6s" {
		t.Errorf("logged %v", info)
	}

	press := f.api.Press(bob, discordtest.Message{ID: "4001", ChannelID: chPayments, Content: "root"}, ActionAck+":UPG-1:brief")
	f.clock.Advance(time.Minute)
	f.gw.Interaction(t, press)
	f.api.Eventually(t, 10*time.Second, "the direct message", func() bool { return dms(bob.ID) != "" })
	if got := dms(bob.ID); !strings.HasPrefix(got, "Your press of **Acknowledge** on UPG-1 from <t:") ||
		!strings.HasSuffix(got, "so nothing was recorded.\nPress it again if you still need to.") {
		t.Errorf("direct message %q", got)
	}
	if e, _ := f.api.Exchange(press.Token); e.Initial != nil {
		t.Errorf("answered: %+v", e.Initial)
	}

	auto := f.api.Autocomplete(alice, chOps, "show", discordtest.Opt{Name: "id", Value: "UPG", Focused: true})
	f.clock.Advance(time.Minute)
	f.gw.Interaction(t, auto)
	f.api.Eventually(t, 10*time.Second, "the log", func() bool {
		return len(logs.find("INFO", "interaction came after Discord's answer limit; dropped")) == 1
	})
	if e, _ := f.api.Exchange(auto.Token); e.Initial != nil {
		t.Errorf("answered: %+v", e.Initial)
	}
	if n := len(f.api.Messages(f.api.DMChannel(alice.ID))); n != 1 {
		t.Errorf("alice has %d direct messages", n)
	}

	// 4 s by the bot's clock: within the margin for the clocks' difference.
	fresh := f.api.Command(alice, chOps, "list")
	f.clock.Advance(4 * time.Second)
	if ans := f.send(fresh); !strings.Contains(ans.Text(), "No upcoming or running upgrades") {
		t.Errorf("answer %s", ans.Text())
	}
	// An id older than an interaction token lives is no replay Discord
	// could send (a made-up id, a clock far off): acted on as usual.
	old := f.api.Command(alice, chOps, "list")
	f.clock.Advance(16 * time.Minute)
	if ans := f.send(old); !strings.Contains(ans.Text(), "No upcoming or running upgrades") {
		t.Errorf("answer to an id older than a token lives: %s", ans.Text())
	}
}
