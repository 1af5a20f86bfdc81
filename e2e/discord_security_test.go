package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	discordadapter "github.com/upgradebot/upgradebot/adapters/discord"
	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
	"github.com/upgradebot/upgradebot/bot"
)

// TestDiscordRefusesWhatItCannotTake: requests Discord did not sign, signed
// long ago, too big or meaningless are refused with the right status; PING
// is answered; a button that is not ours is answered privately. Nothing is
// stored, nothing is posted, nothing panics, and the authentic command
// still works afterwards.
func TestDiscordRefusesWhatItCannotTake(t *testing.T) {
	e := newDiscordEnv(t, discordadapter.ModeHTTP)
	url := e.srv.URL + discordadapter.PathInteractions
	i := e.api.Command(discordPeople["alice"], dcOps, "schedule", dO("service", "payments"), dO("version", "v2.4.0"), dO("when", "in 3h"))
	body := discordtest.Marshal(t, i)
	ts := strconv.FormatInt(slackNow.Unix(), 10)
	_, forger := discordtest.NewKey(t)
	signed := func(b []byte) *http.Request { return discordtest.SignedRequest(t, url, e.priv, b, slackNow) }
	unknown := e.api.Press(discordPeople["bob"], discordtest.Message{ID: "77", ChannelID: dcPayments}, "deploy_now:UPG-1")
	noData := discordtest.Marshal(t, &discordgo.Interaction{ID: "5", AppID: discordtest.AppID, Type: discordgo.InteractionMessageComponent, Token: "t5"})
	tests := []struct {
		name string
		req  *http.Request
		want int
		body string // the answer, when it matters
	}{
		{"bad signature", discordtest.SignedRequest(t, url, forger, body, slackNow), http.StatusUnauthorized, ""},
		{"tampered body", discordtest.Request(t, url, bytes.Replace(body, []byte("v2.4.0"), []byte("v9.9.9"), 1),
			map[string]string{"X-Signature-Timestamp": ts, "X-Signature-Ed25519": discordtest.Sign(e.priv, ts, body)}), http.StatusUnauthorized, ""},
		{"missing headers", discordtest.Request(t, url, body, nil), http.StatusUnauthorized, ""},
		{"missing timestamp", discordtest.Request(t, url, body, map[string]string{"X-Signature-Ed25519": discordtest.Sign(e.priv, ts, body)}), http.StatusUnauthorized, ""},
		{"stale timestamp (replay)", discordtest.SignedRequest(t, url, e.priv, body, slackNow.Add(-5*time.Minute-time.Second)), http.StatusUnauthorized, ""},
		{"malformed JSON", signed([]byte(`{"type":2,"data":`)), http.StatusBadRequest, ""},
		{"no data", signed(noData), http.StatusBadRequest, ""},
		{"oversized body", signed(append(bytes.TrimSuffix(body, []byte("}")), []byte(`,"x":"`+strings.Repeat("x", 1<<20)+`"}`)...)), http.StatusRequestEntityTooLarge, ""},
		{"PING", signed(discordtest.Marshal(t, discordtest.Ping())), http.StatusOK, `{"type":1}`},
		{"unknown component id", signed(discordtest.Marshal(t, unknown)), http.StatusOK, "This button is not one of upgradebot's."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, got := e.do(tc.req)
			if status != tc.want || !strings.Contains(string(got), tc.body) {
				t.Errorf("status %d %s, want %d %s", status, got, tc.want, tc.body)
			}
			if tc.name == "unknown component id" {
				var r discordgo.InteractionResponse
				if err := json.Unmarshal(got, &r); err != nil || r.Type != discordgo.InteractionResponseChannelMessageWithSource || r.Data.Flags != discordgo.MessageFlagsEphemeral {
					t.Errorf("answer %s (%v)", got, err)
				}
			}
		})
	}
	e.settle()
	if ups, err := e.store.List(context.Background(), bot.Filter{}); err != nil || len(ups) != 0 {
		t.Errorf("%d upgrades stored by refused requests (%v)", len(ups), err)
	}
	for _, c := range e.api.Calls() {
		if c.Op != "bulk_overwrite_commands" {
			t.Errorf("a refused request made a Discord call: %s %s", c.Method, c.Path)
		}
	}
	if err := e.discord.Ready(); err != nil {
		t.Errorf("not ready after the refusals: %v", err)
	}
	// The authentic command is taken.
	discordContains(t, "the authentic command", e.send(i).Text(), "Scheduled **UPG-1")
	e.settle()
	if ups, _ := e.store.List(context.Background(), bot.Filter{}); len(ups) != 1 {
		t.Errorf("%d upgrades after the authentic request, want 1", len(ups))
	}
}

// TestDiscordGatewayTakesOddInteractions: on the gateway, a button that is
// not ours and an interaction without data are answered privately, and
// the session goes on (a handler that panicked would end the process).
func TestDiscordGatewayTakesOddInteractions(t *testing.T) {
	e := newDiscordEnv(t, discordadapter.ModeGateway)
	unknown := e.api.Press(discordPeople["bob"], discordtest.Message{ID: "77", ChannelID: dcPayments}, "deploy_now:UPG-1")
	discordContains(t, "unknown button", e.send(unknown).Text(), "This button is not one of upgradebot's.")
	bare := e.api.Press(discordPeople["bob"], discordtest.Message{ID: "77", ChannelID: dcPayments}, "x")
	bare.Data = nil
	discordContains(t, "no data", e.send(bare).Text(), "without its data")
	discordContains(t, "afterwards", e.command("bob", dcOps, "list"), "No upcoming or running upgrades")
	if ups, _ := e.store.List(context.Background(), bot.Filter{}); len(ups) != 0 {
		t.Errorf("%d upgrades stored", len(ups))
	}
}

// TestDiscordResendsAreNotAppliedTwice: an interaction delivered twice (two
// replicas' gateway sessions, a replay) schedules once, and only the first
// delivery is answered.
func TestDiscordResendsAreNotAppliedTwice(t *testing.T) {
	e := newDiscordEnv(t, discordadapter.ModeGateway)
	i := e.api.Command(discordPeople["alice"], dcOps, "schedule", dO("service", "payments"), dO("version", "v2.4.0"), dO("when", "in 3h"))
	discordContains(t, "first", e.send(i).Text(), "Scheduled")
	e.gw.Interaction(t, i)
	e.gw.Interaction(t, i)
	e.settle()
	if ups, _ := e.store.List(context.Background(), bot.Filter{}); len(ups) != 1 {
		t.Errorf("%d upgrades from one interaction sent 3 times", len(ups))
	}
	if n := len(e.api.Calls("interaction_callback")); n != 1 {
		t.Errorf("%d answers to one interaction", n)
	}
	if n := len(e.api.Messages(dcPayments)); n != 1 {
		t.Errorf("%d root messages", n)
	}
}

// TestDiscordAutocompleteDeliveredTwiceIsAnsweredOnce: QA saw an
// autocomplete that the gateway delivered twice answered twice (Discord
// refused the second with 40060); the docs promise the other delivery
// does nothing.
func TestDiscordAutocompleteDeliveredTwiceIsAnsweredOnce(t *testing.T) {
	e := newDiscordEnv(t, discordadapter.ModeGateway)
	auto := e.api.Autocomplete(discordPeople["alice"], dcOps, "show", discordtest.Opt{Name: "id", Value: "UPG", Focused: true})
	e.gw.Interaction(t, auto)
	e.gw.Interaction(t, auto)
	// A command after them: once it is answered, both deliveries were handled.
	list := e.api.Command(discordPeople["alice"], dcOps, "list")
	discordContains(t, "list", e.send(list).Text(), "No upcoming or running upgrades")
	e.settle()
	if ex, _ := e.api.Exchange(auto.Token); ex.Initial == nil {
		t.Fatal("the autocomplete was not answered")
	}
	var n int
	for _, c := range e.api.Calls("interaction_callback") {
		if strings.Contains(c.Path, auto.ID) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d answers to one autocomplete delivered twice", n)
	}
}
