package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	discordadapter "github.com/upgradebot/upgradebot/adapters/discord"
	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
	"github.com/upgradebot/upgradebot/bot"
)

// readinessConfig gives payments three readiness criteria and two owners,
// alice and bob.
func readinessConfig(c *bot.Config) {
	for i := range c.Services {
		if c.Services[i].Name == "payments" {
			c.Services[i].Owners = []string{"alice", "bob"}
			c.Services[i].Readiness = []string{"backups verified", "canary green", "rollback plan reviewed"}
		}
	}
}

// markMet finds the Mark met button of criterion on msg, as a user sees it.
func markMet(t *testing.T, msg discordtest.Message, criterion string) discordtest.Button {
	t.Helper()
	for _, b := range msg.Buttons() {
		if b.Label == "Mark met: "+criterion {
			return b
		}
	}
	t.Fatalf("message %s has no Mark met button for %q: %+v", msg.ID, criterion, msg.Buttons())
	return discordtest.Button{}
}

// TestDiscordReadinessStory is issue 14's story on Discord, in gateway and
// http mode: payments has three readiness criteria; start is refused
// naming them; alice and bob mark two met with the buttons of the root
// message, alice waives the third with a reason; start succeeds; the log
// shows who met or waived each; after complete the thread asks for a
// debrief with a Write debrief button, which opens a modal whose
// submission records the debrief, and show shows it.
func TestDiscordReadinessStory(t *testing.T) {
	for _, mode := range []string{discordadapter.ModeGateway, discordadapter.ModeHTTP} {
		t.Run(mode, func(t *testing.T) {
			e := newDiscordEnv(t, mode, readinessConfig)
			discordContains(t, "scheduling answer", e.command("alice", dcOps, "schedule", dO("service", "payments"), dO("version", "v2.4.0"),
				dO("when", "2026-12-01 03:00"), dO("duration", "90m")), "Scheduled **UPG-1 payments v2.4.0**")
			e.settle()

			root := e.root(dcPayments)
			discordContains(t, "root", root.Text(), "Readiness: ☐ 1. backups verified\n☐ 2. canary green\n☐ 3. rollback plan reviewed")
			var labels []string
			for _, b := range root.Buttons() {
				labels = append(labels, b.Label)
			}
			if strings.Join(labels, "|") != "Acknowledge|Mark met: backups verified|Mark met: canary green|Mark met: rollback plan reviewed" {
				t.Fatalf("root buttons %q", labels)
			}

			// Not ready: start is refused, naming the three.
			discordContains(t, "start refused", e.command("alice", dcOps, "start", dO("id", "UPG-1")),
				"UPG-1 is not ready: 3 readiness criteria are open:\n☐ 1. backups verified\n☐ 2. canary green\n☐ 3. rollback plan reviewed",
				"`/upgrade start id:UPG-1 anyway:<reason...>`")

			// dave is no owner: his press changes nothing.
			discordContains(t, "dave's press", e.send(e.api.Press(discordPeople["dave"], root, markMet(t, root, "canary green").CustomID)).Text(),
				"not allowed")

			// alice and bob press Mark met on the root, as posted.
			discordContains(t, "alice's press", e.send(e.api.Press(discordPeople["alice"], root, markMet(t, root, "backups verified").CustomID)).Text(),
				"Marked 'backups verified' (1) of **UPG-1 payments v2.4.0** met (1/3 ready).")
			e.settle()
			root = e.root(dcPayments)
			for _, b := range root.Buttons() {
				if b.Label == "Mark met: backups verified" {
					t.Errorf("the root still offers to mark a met criterion met: %+v", root.Buttons())
				}
			}
			discordContains(t, "bob's press", e.send(e.api.Press(discordPeople["bob"], root, markMet(t, root, "canary green").CustomID)).Text(),
				"Marked 'canary green' (2) of **UPG-1 payments v2.4.0** met (2/3 ready).")

			// alice waives the third by command, with a reason.
			discordContains(t, "waive", e.command("alice", dcOps, "waive", dO("id", "UPG-1"), dO("criterion", "rollback"), dO("reason", "reviewed last week for v2.3.9")),
				"Waived 'rollback plan reviewed' (3) of **UPG-1 payments v2.4.0** (3/3 ready).")
			e.settle()
			root = e.root(dcPayments)
			discordContains(t, "the ready root", root.Text(), "✅ 1. backups verified", "✅ 2. canary green", "3. rollback plan reviewed", "reviewed last week for v2.3.9")
			if bs := root.Buttons(); len(bs) != 1 || bs[0].Label != "Acknowledge" {
				t.Errorf("the ready root still has Mark met buttons: %+v", bs)
			}

			discordContains(t, "start", e.command("alice", dcOps, "start", dO("id", "UPG-1")), "Started")

			// The log says who met or waived each, named as show names
			// them (a mention, which shows each reader the Discord name).
			log := e.command("carol", dcOps, "log", dO("id", "UPG-1"))
			discordContains(t, "log", log, " · <@1001> · readiness met · 'backups verified'\n", " · <@1002> · readiness met · 'canary green'\n",
				" · <@1001> · readiness waived · 'rollback plan reviewed' · why: reviewed last week for v2.3.9\n")

			// Complete: the thread asks for a debrief, with the button.
			discordContains(t, "complete", e.command("alice", dcOps, "complete", dO("id", "UPG-1")), "Completed")
			e.settle()
			var prompt discordtest.Message
			for _, m := range e.api.Messages(root.ID) {
				for _, b := range m.Buttons() {
					if b.Label == "Write debrief" {
						prompt = m
					}
				}
			}
			if prompt.ID == "" {
				t.Fatalf("no debrief prompt with a Write debrief button in the thread: %+v", e.api.Messages(root.ID))
			}
			discordContains(t, "debrief prompt", prompt.Text(), "**UPG-1 payments v2.4.0** is completed. <@1001> <@1002>, please write a short debrief")
			if am := prompt.AllowedMentions; am == nil || strings.Join(am.Users, ",") != "1001,1002" {
				t.Errorf("the debrief prompt calls %+v, want the owners", am)
			}
			btn := prompt.Buttons()[len(prompt.Buttons())-1]

			// The button opens the modal; submitting it records the debrief.
			modal := e.deliver(e.api.Press(discordPeople["bob"], prompt, btn.CustomID))
			if modal.Type != discordgo.InteractionResponseModal || modal.CustomID != "upgrade_debrief:UPG-1" || modal.Title != "Debrief UPG-1" {
				t.Fatalf("the Write debrief press: %+v", modal)
			}
			in := modal.Inputs()
			if len(in) != 1 || in[0].CustomID != "text" || !in[0].Required || in[0].Style != discordgo.TextInputParagraph {
				t.Fatalf("modal inputs %+v", in)
			}
			text := "migration took 40m, not 10; next time run it the day before"
			discordContains(t, "debrief answer", e.send(e.api.Submit(discordPeople["bob"], prompt.ChannelID, modal.CustomID, map[string]string{in[0].CustomID: text})).Text(),
				"Recorded the debrief of **UPG-1 payments v2.4.0**. Thank you.")
			e.settle()
			thread := e.api.Messages(root.ID)
			discordContains(t, "the thread", thread[len(thread)-1].Text(), "<@1002> recorded the debrief: "+text)
			discordContains(t, "show", e.command("carol", dcOps, "show", dO("id", "UPG-1")), text)
			u, err := e.store.Get(context.Background(), 1)
			if err != nil || u.Debrief == nil || u.Debrief.Text != text || u.Debrief.By != "bob" {
				t.Errorf("the stored debrief: %+v %v", u, err)
			}
			for _, c := range e.api.Calls() {
				if c.Status >= 300 || c.Status == 0 {
					t.Errorf("Discord call %s %s failed: %d %d", c.Method, c.Path, c.Status, c.Code)
				}
			}
		})
	}
}

// TestDiscordReadinessRefusals: start anyway by someone who is neither an
// owner nor an admin is refused and starts nothing; a modal submission
// with a bad signature is refused (401) before any work.
func TestDiscordReadinessRefusals(t *testing.T) {
	e := newDiscordEnv(t, discordadapter.ModeHTTP, readinessConfig)
	e.command("alice", dcOps, "schedule", dO("service", "payments"), dO("version", "v2.4.0"), dO("when", "2026-12-01 03:00"))
	e.settle()

	discordContains(t, "dave's start anyway", e.command("dave", dcOps, "start", dO("id", "UPG-1"), dO("anyway", "I am sure")), "not allowed")
	if u, err := e.store.Get(context.Background(), 1); err != nil || u.State != bot.Scheduled || u.StartedAnyway != nil {
		t.Fatalf("after dave's start anyway: %+v %v", u, err)
	}

	_, forger := discordtest.NewKey(t)
	before := len(e.api.Calls())
	forged := discordtest.Marshal(t, e.api.Submit(discordPeople["dave"], dcPayments, "upgrade_debrief:UPG-1", map[string]string{"text": "forged"}))
	if status, body := e.do(discordtest.SignedRequest(t, e.srv.URL+discordadapter.PathInteractions, forger, forged, e.clock.Now())); status != http.StatusUnauthorized {
		t.Errorf("forged submission: %d %s", status, body)
	}
	e.settle()
	if n := len(e.api.Calls()); n != before {
		t.Errorf("the forged submission made %d Discord calls", n-before)
	}
	if u, err := e.store.Get(context.Background(), 1); err != nil || u.Debrief != nil {
		t.Errorf("after the forged submission: %+v %v", u, err)
	}

	// alice, an owner, may start it anyway; the thread says so.
	discordContains(t, "alice's start anyway", e.command("alice", dcOps, "start", dO("id", "UPG-1"), dO("anyway", "the security fix cannot wait")),
		"Started", "the security fix cannot wait")
	e.settle()
	if u, err := e.store.Get(context.Background(), 1); err != nil || u.State != bot.InProgress || u.StartedAnyway == nil || len(u.StartedAnyway.Open) != 3 {
		t.Errorf("after alice's start anyway: %+v %v", u, err)
	}
	thread := e.api.Messages(e.root(dcPayments).ID)
	if len(thread) == 0 || !strings.Contains(thread[len(thread)-1].Text(), "the security fix cannot wait") {
		t.Errorf("the thread does not tell the start anyway: %+v", thread)
	}
}

// TestDiscordReasonsAreChecked: the options build the typed commands the
// grammar builds, so the core's checks hold on Discord too: a blank reason
// is missing, an overlong one is refused, and nothing changes.
func TestDiscordReasonsAreChecked(t *testing.T) {
	e := newDiscordEnv(t, discordadapter.ModeHTTP, readinessConfig)
	discordContains(t, "scheduling answer", e.command("alice", dcOps, "schedule", dO("service", "payments"), dO("version", "v2.4.0"),
		dO("when", "2026-12-01 03:00"), dO("duration", "90m")), "Scheduled **UPG-1 payments v2.4.0**")
	e.settle()
	long := strings.Repeat("x", bot.MaxRecordLen+1)
	tooLong := "The reason is 2001 characters long; at most 2000 fit, so nothing changed."
	discordContains(t, "blank anyway", e.command("alice", dcOps, "start", dO("id", "UPG-1"), dO("anyway", "   ")), `Missing the reason in anyway:\<reason...\>; say why`)
	discordContains(t, "long anyway", e.command("alice", dcOps, "start", dO("id", "UPG-1"), dO("anyway", long)), tooLong)
	discordContains(t, "long waiver", e.command("alice", dcOps, "waive", dO("id", "UPG-1"), dO("criterion", "1"), dO("reason", long)), tooLong)
	discordContains(t, "long cancel", e.command("alice", dcOps, "cancel", dO("id", "UPG-1"), dO("reason", long)), tooLong)
	u, err := e.store.Get(context.Background(), 1)
	if err != nil || u.State != bot.Scheduled || u.ReadyCount() != 0 || u.StartedAnyway != nil {
		t.Fatalf("refusals changed UPG-1: %+v %v", u, err)
	}
}
