package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	discordadapter "github.com/upgradebot/upgradebot/adapters/discord"
	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
	slackadapter "github.com/upgradebot/upgradebot/adapters/slack"
	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
	"github.com/upgradebot/upgradebot/store"
	"github.com/upgradebot/upgradebot/store/storetest"
)

// newCrossEnv runs one bot on both platforms: payments has a Slack and a
// Discord channel, and every person has an identity on each; adjust may
// change the configuration then.
func newCrossEnv(t *testing.T, adjust ...func(*bot.Config)) (*slackEnv, *discordEnv) {
	t.Helper()
	ctx := context.Background()
	log := e2eLogger()
	st, err := store.Open(ctx, storetest.Target(t), log)
	if err != nil {
		t.Fatalf("store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cfg := slackConfig()
	for i, p := range cfg.People {
		cfg.People[i].IDs = append(p.IDs, "discord:"+discordPeople[p.Name].ID)
	}
	cfg.Services[1].Channels = []string{"slack:C0PAYMENTS", "discord:" + dcPayments}
	for _, f := range adjust {
		f(&cfg)
	}
	clock := bottest.NewClock(slackNow)
	router := bot.Router{}
	b := bot.New(bot.Options{Config: cfg, Store: st, Messenger: router, Once: st, Queue: st, Now: clock.Now, Logger: log})

	sapi := slacktestapi.New(t)
	for name, id := range slackPeople {
		sapi.AddUser(id, name, "Europe/Berlin")
	}
	sa, err := slackadapter.New(slackadapter.Options{BotToken: "xoxb-e2e", SigningSecret: slackSecret, APIURL: sapi.APIURL(),
		Mode: slackadapter.ModeHTTP, Core: b, Now: clock.Now, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	dapi := discordtest.New(t)
	dapi.SetClock(clock.Now)
	gw := discordtest.NewGateway(t)
	dapi.SetGatewayURL(gw.URL())
	da, err := discordadapter.New(discordadapter.Options{BotToken: discordtest.Token, ApplicationID: discordtest.AppID,
		APIURL: dapi.APIURL(), Mode: discordadapter.ModeGateway, Core: b, Now: clock.Now, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	router[slackadapter.Platform], router[discordadapter.Platform] = sa, da
	mux := http.NewServeMux()
	sa.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 2)
	go func() { done <- sa.Run(runCtx) }()
	go func() { done <- da.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		for range 2 {
			if err := <-done; err != nil {
				t.Errorf("adapter Run: %v", err)
			}
		}
		b.Flush()
	})
	se := &slackEnv{t: t, mode: slackadapter.ModeHTTP, api: sapi, store: st, bot: b, slack: sa, srv: srv}
	de := &discordEnv{t: t, mode: discordadapter.ModeGateway, api: dapi, gw: gw, store: st, bot: b, discord: da, clock: clock, router: router}
	dapi.Eventually(t, 10*time.Second, "both adapters to be ready", func() bool { return sa.Ready() == nil && da.Ready() == nil })
	return se, de
}

// TestCrossPlatformUpgrade: one upgrade of a service with a Slack and a
// Discord channel gets a thread on each; carol acknowledges on Discord and
// is told on Slack that she already did; every root shows the same count;
// the rollback alert reaches both threads, and an acknowledgment of it on
// either platform counts on both.
func TestCrossPlatformUpgrade(t *testing.T) {
	se, de := newCrossEnv(t)
	settle := func() { se.slack.Wait(); de.discord.Wait(); de.bot.Flush() }

	slackContains(t, "scheduling on Slack", slackAnswerText(se.slash("alice", "C0OPS", "schedule payments v2.4.0 at 2026-12-01 03:00 for 90m")), "Scheduled")
	settle()
	sroot, droot := se.root("C0PAYMENTS"), de.root(dcPayments)
	if _, ok := de.api.Channel(droot.ID); !ok {
		t.Fatal("no thread on the Discord root")
	}
	u, err := de.store.Get(context.Background(), 1)
	if err != nil || len(u.Threads) != 2 {
		t.Fatalf("threads %+v %v", u, err)
	}

	// carol acknowledges on Discord, then presses on Slack.
	discordContains(t, "carol on Discord", de.press("carol", droot), "Thanks! You acknowledged")
	slackContains(t, "carol on Slack", se.press("U0CAROL", "carol", sroot), "You already acknowledged the upgrade window of")
	settle()
	slackContains(t, "Slack root", se.root("C0PAYMENTS").BlockText(), "Acknowledged 1/3 · waiting for <@U0ALICE> <@U0BOB>")
	discordContains(t, "Discord root", de.root(dcPayments).Text(), "Acknowledged 1/3 · waiting for <@1001> <@1002>")

	// bob acknowledges on Slack: the Discord root follows.
	slackContains(t, "bob on Slack", se.press("U0BOB", "bob", sroot), "Thanks!")
	settle()
	discordContains(t, "Discord root after bob", de.root(dcPayments).Text(), "Acknowledged 2/3 · waiting for <@1001>")
	slackContains(t, "Slack root after bob", se.root("C0PAYMENTS").BlockText(), "Acknowledged 2/3 · waiting for <@U0ALICE>")

	// alice rolls back from Discord: the alert goes to both threads.
	discordContains(t, "start", de.command("alice", dcOps, "start", dO("id", "UPG-1")), "Started")
	discordContains(t, "rollback", de.command("alice", dcOps, "rollback", dO("id", "UPG-1"), dO("reason", "latency")), "Rolled back")
	settle()
	var salert slacktestapi.Message
	for _, m := range se.channelMessages("C0PAYMENTS") {
		if m.ThreadTS == sroot.TS && m.Broadcast && strings.Contains(m.BlockText(), "ROLLBACK") {
			salert = m
		}
	}
	if salert.TS == "" {
		t.Fatal("no rollback alert in the Slack thread")
	}
	var dalert discordtest.Message
	for _, m := range de.api.Messages(droot.ID) {
		if strings.Contains(m.Content, "ROLLBACK") {
			dalert = m
		}
	}
	discordContains(t, "Discord alert", dalert.Content, "ROLLBACK: UPG-1 payments v2.4.0", "<@1001> <@1002> <@1003> please acknowledge.")

	discordContains(t, "bob acks the alert on Discord", de.press("bob", dalert), "You acknowledged the rollback of")
	slackContains(t, "bob again on Slack", se.press("U0BOB", "bob", salert), "You already acknowledged the rollback of")
	settle()
	slackContains(t, "Slack root after the rollback ack", se.root("C0PAYMENTS").BlockText(), "Rollback acknowledged 1/3")
	discordContains(t, "Discord root after the rollback ack", de.root(dcPayments).Text(), "Rollback acknowledged 1/3")

	show := de.command("carol", dcOps, "show", dO("id", "UPG-1"))
	discordContains(t, "show", show, "Thread in #C0PAYMENTS", "Thread in <#2002>")
	if strings.Contains(show, "Failed delivery") {
		t.Errorf("show reports failures: %s", show)
	}
}

// TestASlackRateLimitDoesNotHoldTheDiscordRoot: Slack answers the root's
// post with 429 and Retry-After: 2. The Discord root of the same upgrade
// goes out meanwhile, not after the Slack root (audit: two Retry-After: 2
// held the Discord root back 4 s, as the roots went channel after
// channel).
func TestASlackRateLimitDoesNotHoldTheDiscordRoot(t *testing.T) {
	se, de := newCrossEnv(t)
	se.api.FailNext("chat.postMessage", slacktestapi.Fault{Status: 429, RetryAfter: "2"})
	slackContains(t, "scheduling on Slack", slackAnswerText(se.slash("alice", "C0OPS", "schedule payments v2.4.0 at 2026-12-01 03:00 for 90m")), "Scheduled")
	se.slack.Wait()
	de.discord.Wait()
	de.bot.Flush()

	posts := se.api.Calls("chat.postMessage")
	if len(posts) != 2 || posts[0].Status != 429 || posts[1].Status != 200 {
		t.Fatalf("Slack posts: %+v", posts)
	}
	creates := de.api.Calls("create_message")
	if len(creates) == 0 {
		t.Fatal("no Discord root")
	}
	if !creates[0].At.Before(posts[1].At) {
		t.Errorf("the Discord root was posted at %s, after the Slack root's post once the rate limit passed (%s)",
			creates[0].At.Format(time.StampMicro), posts[1].At.Format(time.StampMicro))
	}
	if se.root("C0PAYMENTS").TS == "" || de.root(dcPayments).ID == "" {
		t.Error("a root is missing")
	}
}
