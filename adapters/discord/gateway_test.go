package discord

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
	"github.com/upgradebot/upgradebot/commands"
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
	f := newFixture(t, ModeGateway, func(o *Options) { o.BotToken = "wrong.token.here" })
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
