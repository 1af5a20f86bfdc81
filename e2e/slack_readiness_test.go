package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"

	slackadapter "github.com/upgradebot/upgradebot/adapters/slack"
	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
	"github.com/upgradebot/upgradebot/bot"
)

// slackMarkMet finds the Mark met button of criterion on msg, as a user sees it.
func slackMarkMet(t *testing.T, msg slacktestapi.Message, criterion string) slackButton {
	t.Helper()
	b := slackButtonLabeled(t, msg, "Mark met: "+criterion)
	if b.ActionID != "upgrade_ready" {
		t.Errorf("Mark met button %+v", b)
	}
	return b
}

// TestSlackReadinessStory is issue 14's story on Slack, in http and socket
// mode: payments has three readiness criteria; start is refused naming
// them; alice and bob mark two met with the buttons of the root message
// and alice waives the third by text with a reason; start succeeds; the log
// shows who met or waived each; after complete the thread asks for a
// debrief with a Write debrief button, which opens a modal (views.open)
// whose submission records the debrief, and show shows it.
func TestSlackReadinessStory(t *testing.T) {
	for _, mode := range []string{slackadapter.ModeHTTP, slackadapter.ModeSocket} {
		t.Run(mode, func(t *testing.T) {
			e := newSlackEnv(t, mode, readinessConfig)
			slackContains(t, "scheduling answer", slackAnswerText(e.slash("alice", "C0OPS", "schedule payments v2.4.0 at 2026-12-01 03:00 for 90m")),
				"Scheduled *UPG-1 payments v2.4.0*")
			e.settle()

			root := e.root("C0PAYMENTS")
			slackContains(t, "root", root.BlockText(), "*Readiness*\n☐ 1. backups verified\n☐ 2. canary green\n☐ 3. rollback plan reviewed")
			var labels []string
			for _, b := range slackButtons(t, root) {
				labels = append(labels, b.Label)
			}
			if strings.Join(labels, "|") != "Acknowledge|Mark met: backups verified|Mark met: canary green|Mark met: rollback plan reviewed" {
				t.Fatalf("root buttons %q", labels)
			}

			// Not ready: start is refused, naming the three.
			slackContains(t, "start refused", slackAnswerText(e.slash("alice", "C0OPS", "start UPG-1")),
				"UPG-1 is not ready: 3 readiness criteria are open:\n☐ 1. backups verified\n☐ 2. canary green\n☐ 3. rollback plan reviewed",
				"`/upgrade start UPG-1 anyway &lt;reason...&gt;`")

			// dave is no owner: his press changes nothing.
			slackContains(t, "dave's press", e.pressButton("dave", root, slackMarkMet(t, root, "canary green")), "not allowed")

			// alice and bob press Mark met on the root, as posted.
			slackContains(t, "alice's press", e.pressButton("alice", root, slackMarkMet(t, root, "backups verified")),
				"Marked 'backups verified' (1) of UPG-1 payments v2.4.0 met (1/3 ready).")
			e.settle()
			root = e.root("C0PAYMENTS")
			for _, b := range slackButtons(t, root) {
				if b.Label == "Mark met: backups verified" {
					t.Errorf("the root still offers to mark a met criterion met: %+v", slackButtons(t, root))
				}
			}
			slackContains(t, "bob's press", e.pressButton("bob", root, slackMarkMet(t, root, "canary green")),
				"Marked 'canary green' (2) of UPG-1 payments v2.4.0 met (2/3 ready).")

			// alice waives the third by text, with a reason.
			slackContains(t, "waive", slackAnswerText(e.slash("alice", "C0OPS", "waive UPG-1 rollback reviewed last week for v2.3.9")),
				"Waived 'rollback plan reviewed' (3) of *UPG-1 payments v2.4.0* (3/3 ready).")
			e.settle()
			root = e.root("C0PAYMENTS")
			slackContains(t, "the ready root", root.BlockText(), "✅ 1. backups verified — <@U0ALICE>", "✅ 2. canary green — <@U0BOB>",
				"3. rollback plan reviewed — waived by <@U0ALICE>: reviewed last week for v2.3.9")
			if bs := slackButtons(t, root); len(bs) != 1 || bs[0].Label != "Acknowledge" {
				t.Errorf("the ready root still has Mark met buttons: %+v", bs)
			}

			slackContains(t, "start", slackAnswerText(e.slash("alice", "C0OPS", "start UPG-1")), "Started")

			// The log says who met or waived each, named as show names them.
			slackContains(t, "log", slackAnswerText(e.slash("carol", "C0OPS", "log UPG-1")),
				" · <@U0ALICE> · readiness met · 'backups verified'", " · <@U0BOB> · readiness met · 'canary green'",
				" · <@U0ALICE> · readiness waived · 'rollback plan reviewed' · why: reviewed last week for v2.3.9")

			// Complete: the thread asks for a debrief, with the button.
			slackContains(t, "complete", slackAnswerText(e.slash("alice", "C0OPS", "complete UPG-1")), "Completed")
			e.settle()
			var prompt slacktestapi.Message
			for _, m := range e.channelMessages("C0PAYMENTS") {
				if m.ThreadTS == root.TS && strings.Contains(m.BlockText(), "Write debrief") {
					prompt = m
				}
			}
			if prompt.TS == "" {
				t.Fatalf("no debrief prompt with a Write debrief button in the thread: %+v", e.channelMessages("C0PAYMENTS"))
			}
			slackContains(t, "debrief prompt", prompt.BlockText(), "*UPG-1 payments v2.4.0* is completed. <@U0ALICE> <@U0BOB>, please write a short debrief")
			btn := slackButtonLabeled(t, prompt, "Write debrief")
			if btn.ActionID != "upgrade_debrief" || btn.Value != "UPG-1" {
				t.Errorf("Write debrief button %+v", btn)
			}

			// dave, neither an owner nor an admin, gets no form to write in
			// vain: he is told privately why, at once.
			respondDave, _ := e.click("dave", prompt, btn)
			if got := string(e.api.WaitResponse(t, respondDave, 1, 10*time.Second).JSON); !strings.Contains(got, "You are not allowed to record the debrief of UPG-1") ||
				!strings.Contains(got, `"response_type":"ephemeral"`) {
				t.Errorf("dave's Write debrief press answered %s", got)
			}
			e.settle()
			if n := len(e.api.Views()); n != 0 {
				t.Fatalf("dave's press opened %d forms", n)
			}

			// The button opens the modal with the press's trigger.
			respond, trigger := e.click("bob", prompt, btn)
			e.api.Eventually(t, 10*time.Second, "views.open", func() bool { return len(e.api.Views()) == 1 })
			view := e.api.Views()[0]
			if view.TriggerID != trigger || view.View.CallbackID != "upgrade_debrief" || view.View.PrivateMetadata != "UPG-1" || view.View.Title.Text != "Debrief UPG-1" {
				t.Fatalf("views.open %+v", view)
			}

			// dave may not record it: the modal says so and stays open.
			text := "migration took 40m, not 10; next time run it the day before"
			values := map[string]map[string]string{"debrief": {"text": text}}
			if ans := e.submit("dave", view, values); !strings.Contains(ans, `"response_action":"errors"`) || !strings.Contains(ans, `"debrief":`) || !strings.Contains(ans, "not allowed") {
				t.Errorf("dave's submission answered %s", ans)
			}
			// bob, an owner, records it: the modal closes.
			if ans := e.submit("bob", view, values); ans != "" {
				t.Errorf("bob's submission answered %q, want the modal closed", ans)
			}
			e.settle()
			if n := len(e.api.Responses(respond)); n != 0 {
				t.Errorf("the Write debrief press was answered %d times; the modal is its answer", n)
			}
			var recorded bool
			for _, m := range e.channelMessages("C0PAYMENTS") {
				if m.ThreadTS == root.TS && strings.Contains(m.BlockText(), "<@U0BOB> recorded the debrief: "+text) {
					recorded = true
				}
			}
			if !recorded {
				t.Error("the thread does not show the debrief")
			}
			slackContains(t, "show", slackAnswerText(e.slash("carol", "C0OPS", "show UPG-1")), text)
			u, err := e.store.Get(context.Background(), 1)
			if err != nil || u.Debrief == nil || u.Debrief.Text != text || u.Debrief.By != "bob" {
				t.Errorf("the stored debrief: %+v %v", u, err)
			}
			for _, c := range e.api.Calls() {
				if c.Status != 200 || c.Error != "" {
					t.Errorf("Slack call %s failed: %d %s", c.Method, c.Status, c.Error)
				}
			}
		})
	}
}

// TestSlackReadinessRefusals: start anyway by someone who is neither an
// owner nor an admin is refused and starts nothing; a press or a modal
// submission with a bad signature is refused (401) before any work.
func TestSlackReadinessRefusals(t *testing.T) {
	e := newSlackEnv(t, slackadapter.ModeHTTP, readinessConfig)
	e.slash("alice", "C0OPS", "schedule payments v2.4.0 at 2026-12-01 03:00")
	e.settle()

	slackContains(t, "dave's start anyway", slackAnswerText(e.slash("dave", "C0OPS", "start UPG-1 anyway I am sure")), "not allowed")
	if u, err := e.store.Get(context.Background(), 1); err != nil || u.State != bot.Scheduled || u.StartedAnyway != nil {
		t.Fatalf("after dave's start anyway: %+v %v", u, err)
	}

	root := e.root("C0PAYMENTS")
	before := len(e.api.Calls())
	forged := []string{
		slacktestapi.InteractionForm(t, slacktestapi.ViewSubmission(slacktestapi.Submission{
			UserID: slackPeople["dave"], UserName: "dave", TriggerID: "trig-forged-1",
			View:   slacktestapi.View{ID: "V0666", View: slackDebriefView("UPG-1")},
			Values: map[string]map[string]string{"debrief": {"text": "forged"}},
		})),
		slacktestapi.InteractionForm(t, slacktestapi.BlockAction(slacktestapi.Press{
			UserID: slackPeople["alice"], UserName: "alice", ChannelID: root.Channel, MessageTS: root.TS,
			ActionID: "upgrade_ready", Value: "UPG-1:1", TriggerID: "trig-forged-2",
		})),
	}
	for _, body := range forged {
		req := slacktestapi.SignedRequest(t, e.srv.URL+"/slack/interactions", "not-the-secret", body, slackNow)
		if status, answer := e.do(req); status != http.StatusUnauthorized {
			t.Errorf("forged interaction: %d %s", status, answer)
		}
	}
	e.settle()
	if n := len(e.api.Calls()); n != before {
		t.Errorf("the forged interactions made %d Slack calls", n-before)
	}
	u, err := e.store.Get(context.Background(), 1)
	if err != nil || u.Debrief != nil || u.Readiness[0].State != bot.CriterionOpen {
		t.Errorf("after the forged interactions: %+v %v", u, err)
	}

	// alice, an owner, may start it anyway; the thread says so.
	slackContains(t, "alice's start anyway", slackAnswerText(e.slash("alice", "C0OPS", "start UPG-1 anyway the security fix cannot wait")),
		"Started", "the security fix cannot wait")
	e.settle()
	if u, err := e.store.Get(context.Background(), 1); err != nil || u.State != bot.InProgress || u.StartedAnyway == nil || len(u.StartedAnyway.Open) != 3 {
		t.Errorf("after alice's start anyway: %+v %v", u, err)
	}
	var told bool
	for _, m := range e.channelMessages("C0PAYMENTS") {
		if m.ThreadTS == root.TS && strings.Contains(m.BlockText(), "the security fix cannot wait") {
			told = true
		}
	}
	if !told {
		t.Error("the thread does not tell the start anyway")
	}
}

// slackDebriefView is a debrief modal as a forger would describe it.
func slackDebriefView(id string) slackgo.ModalViewRequest {
	return slackgo.ModalViewRequest{Type: slackgo.VTModal, CallbackID: "upgrade_debrief", PrivateMetadata: id,
		Title: slackgo.NewTextBlockObject(slackgo.PlainTextType, "Debrief "+id, false, false)}
}
