package discord

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
	"github.com/upgradebot/upgradebot/bot"
)

// TestInteractionsEndpointRefusals: the endpoint checks the signature before
// anything else, as Discord's own probes require, and answers what it
// cannot take with the right status, storing and posting nothing.
func TestInteractionsEndpointRefusals(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.ready()
	_, otherKey := discordtest.NewKey(t)
	url := f.srv.URL + PathInteractions
	schedule := discordtest.Marshal(t, f.api.Command(alice, chOps, "schedule", O("service", "payments"), O("version", "v1"), O("when", "in 2h")))
	ts := strconv.FormatInt(testNow.Unix(), 10)
	signed := func(body []byte) *http.Request { return discordtest.SignedRequest(t, url, f.priv, body, testNow) }
	// big is over 1 MiB; chunked sends a request without its length.
	big := append(append([]byte(nil), schedule[:len(schedule)-1]...), []byte(`,"pad":"`+strings.Repeat("x", 1<<20+100<<10)+`"}`)...)
	chunked := func(r *http.Request) *http.Request {
		r.Body, r.ContentLength, r.GetBody = io.NopCloser(bytes.NewReader(big)), -1, nil
		return r
	}
	tests := []struct {
		name string
		req  *http.Request
		want int
	}{
		{"signed by another key", discordtest.SignedRequest(t, url, otherKey, schedule, testNow), http.StatusUnauthorized},
		{"tampered body", discordtest.Request(t, url, bytes.Replace(schedule, []byte("payments"), []byte("ledger"), 1),
			map[string]string{"X-Signature-Timestamp": ts, "X-Signature-Ed25519": discordtest.Sign(f.priv, ts, schedule)}), http.StatusUnauthorized},
		{"timestamp not the signed one", discordtest.Request(t, url, schedule,
			map[string]string{"X-Signature-Timestamp": strconv.FormatInt(testNow.Unix()+1, 10), "X-Signature-Ed25519": discordtest.Sign(f.priv, ts, schedule)}), http.StatusUnauthorized},
		{"no headers", discordtest.Request(t, url, schedule, nil), http.StatusUnauthorized},
		{"no signature", discordtest.Request(t, url, schedule, map[string]string{"X-Signature-Timestamp": ts}), http.StatusUnauthorized},
		{"signature not hex", discordtest.Request(t, url, schedule, map[string]string{"X-Signature-Timestamp": ts, "X-Signature-Ed25519": "zz"}), http.StatusUnauthorized},
		{"stale timestamp", discordtest.SignedRequest(t, url, f.priv, schedule, testNow.Add(-6*time.Minute)), http.StatusUnauthorized},
		{"timestamp from the future", discordtest.SignedRequest(t, url, f.priv, schedule, testNow.Add(6*time.Minute)), http.StatusUnauthorized},
		{"oversized body", signed(append(schedule[:len(schedule)-1], []byte(`,"pad":"`+strings.Repeat("x", 1<<20)+`"}`)...)), http.StatusRequestEntityTooLarge},
		// Authenticated before any work (http.md), in this order: an
		// announced length over 1 MiB is 413 whatever the headers; then
		// headers missing, malformed or stale are 401, the body unread;
		// then a body over 1 MiB sent without its length is 413 while
		// reading, whoever signed it.
		{"oversized, unsigned", discordtest.Request(t, url, big, nil), http.StatusRequestEntityTooLarge},
		{"oversized, signed by another key", discordtest.SignedRequest(t, url, otherKey, big, testNow), http.StatusRequestEntityTooLarge},
		{"oversized, signature not hex", discordtest.Request(t, url, big, map[string]string{"X-Signature-Timestamp": ts, "X-Signature-Ed25519": "zz"}), http.StatusRequestEntityTooLarge},
		{"oversized, stale", discordtest.SignedRequest(t, url, f.priv, big, testNow.Add(-6*time.Minute)), http.StatusRequestEntityTooLarge},
		{"oversized, unsigned, no length", chunked(discordtest.Request(t, url, nil, nil)), http.StatusUnauthorized},
		{"oversized, signature not hex, no length", chunked(discordtest.Request(t, url, nil, map[string]string{"X-Signature-Timestamp": ts, "X-Signature-Ed25519": "zz"})), http.StatusUnauthorized},
		{"oversized, stale, no length", chunked(discordtest.SignedRequest(t, url, f.priv, big, testNow.Add(-6*time.Minute))), http.StatusUnauthorized},
		{"oversized, signed by another key, no length", chunked(discordtest.SignedRequest(t, url, otherKey, big, testNow)), http.StatusRequestEntityTooLarge},
		{"oversized, signed, no length", chunked(signed(big)), http.StatusRequestEntityTooLarge},
		{"malformed JSON", signed([]byte(`{"type":2,"id":`)), http.StatusBadRequest},
		{"not an interaction", signed([]byte(`{"hello":"world"}`)), http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if status, body := f.post(tc.req); status != tc.want {
				t.Errorf("status %d (%s), want %d", status, body, tc.want)
			}
		})
	}
	f.settle()
	if us, _ := f.st.List(context.Background(), bot.Filter{}); len(us) != 0 {
		t.Errorf("%d upgrades stored by refused requests", len(us))
	}
	for _, c := range f.api.Calls() {
		if c.Op != "bulk_overwrite_commands" {
			t.Errorf("a refused request made a Discord call: %s %s", c.Method, c.Path)
		}
	}

	// PING is answered with PONG, signed or not at all.
	status, body := f.post(signed(discordtest.Marshal(t, discordtest.Ping())))
	if status != http.StatusOK || strings.TrimSpace(string(body)) != `{"type":1}` {
		t.Errorf("PING: %d %s", status, body)
	}
	if status, _ := f.post(discordtest.Request(t, url, discordtest.Marshal(t, discordtest.Ping()), nil)); status != http.StatusUnauthorized {
		t.Errorf("unsigned PING: %d", status)
	}

	// The same command, signed properly, is taken.
	if ans := f.send(f.api.Command(alice, chOps, "schedule", O("service", "payments"), O("version", "v1"), O("when", "in 2h"))); !strings.Contains(ans.Text(), "Scheduled") {
		t.Fatalf("the authentic request: %s", ans.Text())
	}
}

// TestUnknownComponent: a button that is not one of ours is answered
// privately, and nothing is recorded.
func TestUnknownComponent(t *testing.T) {
	for _, mode := range []string{ModeGateway, ModeHTTP} {
		t.Run(mode, func(t *testing.T) {
			f := newFixture(t, mode)
			f.ready()
			msg := discordtest.Message{ID: "5555", ChannelID: chPayments}
			for _, id := range []string{"something_else", "upgrade_ack:UPG-1", "upgrade_ack:UPG-1:forever"} {
				ans := f.send(f.api.Press(bob, msg, id))
				if !ans.Ephemeral() {
					t.Errorf("%s: the answer is not private", id)
				}
				if id == "upgrade_ack:UPG-1:forever" {
					if !strings.Contains(ans.Text(), `Unknown acknowledgment scope "forever"`) {
						t.Errorf("%s: %s", id, ans.Text())
					}
				} else if !strings.Contains(ans.Text(), "This button is not one of upgradebot's.") {
					t.Errorf("%s: %s", id, ans.Text())
				}
			}
			if acks, _ := f.st.Acks(context.Background(), 1); len(acks) != 0 {
				t.Errorf("acks recorded: %v", acks)
			}
		})
	}
}

// TestSlowAnswersAreDeferred: when the core needs longer than the budget,
// Discord gets a deferred ephemeral response at once, and the real answer
// replaces it when it comes.
func TestSlowAnswersAreDeferred(t *testing.T) {
	for _, mode := range []string{ModeGateway, ModeHTTP} {
		t.Run(mode, func(t *testing.T) {
			f := newFixture(t, mode)
			f.ready()
			release := make(chan struct{})
			f.a.core = heldCore{Core: f.a.core, release: release}
			f.a.deadline.Budget = 100 * time.Millisecond
			i := f.api.Command(alice, chOps, "help")
			if mode == ModeHTTP {
				status, body := f.post(discordtest.SignedRequest(t, f.srv.URL+PathInteractions, f.priv, discordtest.Marshal(t, i), testNow))
				if status != http.StatusOK || strings.TrimSpace(string(body)) != `{"type":5,"data":{"tts":false,"content":"","components":null,"embeds":null,"flags":64}}` {
					t.Fatalf("first answer %d %s", status, body)
				}
				if err := f.api.Answered(i.Token, body); err != nil {
					t.Fatal(err)
				}
			} else {
				f.gw.Interaction(t, i)
			}
			f.api.Eventually(t, 10*time.Second, "the deferral", func() bool {
				e, _ := f.api.Exchange(i.Token)
				return e.Initial != nil
			})
			if e, _ := f.api.Exchange(i.Token); e.Initial.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource || !e.Initial.Ephemeral() {
				t.Fatalf("first answer %+v", e.Initial)
			}
			close(release)
			ans := f.api.WaitAnswer(t, i.Token, 10*time.Second)
			if !strings.Contains(ans.Text(), "plans and announces upgrade windows") || !ans.Ephemeral() {
				t.Fatalf("late answer %q", ans.Text())
			}
		})
	}
}

// TestOptionErrorsReadAsSlacks: options the grammar cannot read are
// refused, privately, with the very words (and usage) the text grammar
// gives for the same input, and nothing is stored.
func TestOptionErrorsReadAsSlacks(t *testing.T) {
	f := newFixture(t, ModeGateway)
	f.ready()
	inv := bot.Invocation{Actor: bot.Actor{ID: "discord:1001"}, Channel: "discord:" + chOps}
	tests := []struct {
		sub  string
		opts []discordtest.Opt
		text string // the same, typed
	}{
		{"schedule", []discordtest.Opt{O("service", "payments"), O("version", "v1"), O("when", "2026-11-19 10:00")}, `schedule payments v1 at 2026-11-19 10:00`},
		{"schedule", []discordtest.Opt{O("service", "payments"), O("version", "v1"), O("when", "someday")}, `schedule payments v1 at someday`},
		{"schedule", []discordtest.Opt{O("service", "payments"), O("version", "v1"), O("when", "in 2h"), O("duration", "0m")}, `schedule payments v1 in 2h for 0m`},
		{"schedule", []discordtest.Opt{O("service", "payments"), O("version", "v1"), O("when", "in 2h"), O("duration", "90s")}, `schedule payments v1 in 2h for 90s`},
		{"schedule", []discordtest.Opt{O("service", "payments"), O("version", "v1"), O("when", "tomorrow 10:00 CET")}, `schedule payments v1 at tomorrow 10:00 CET`},
		{"schedule", []discordtest.Opt{O("service", "paymnts"), O("version", "v1"), O("when", "in 2h")}, `schedule paymnts v1 in 2h`},
		{"extend", []discordtest.Opt{O("id", "UPG-x"), O("duration", "1h")}, `extend UPG-x 1h`},
		{"extend", []discordtest.Opt{O("id", "7"), O("duration", "-1h")}, `extend 7 -1h`},
		{"show", []discordtest.Opt{O("id", "42")}, `show 42`},
		{"reschedule", []discordtest.Opt{O("id", "1"), O("when", "yesterday")}, `reschedule 1 at yesterday`},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			want := testStyle.render(f.b.Handle(context.Background(), inv, tc.text)).Content
			got := f.send(f.api.Command(alice, chOps, tc.sub, tc.opts...))
			if got.Content != want || !got.Ephemeral() {
				t.Errorf("Discord says\n%s\nthe grammar says\n%s", got.Content, want)
			}
			if !strings.Contains(want, "Usage: ") && !strings.Contains(want, "Unknown") {
				t.Errorf("the refusal shows no usage: %s", want)
			}
		})
	}
	if us, _ := f.st.List(context.Background(), bot.Filter{}); len(us) != 0 {
		t.Errorf("%d upgrades stored", len(us))
	}
}

// TestAutocomplete: service suggests the configured services, id the
// active upgrades, newest first, with their window in the invoker's zone.
func TestAutocomplete(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.ready()
	for _, when := range []string{"2026-12-01 02:00", "2026-12-02 02:00"} {
		f.send(f.api.Command(alice, chOps, "schedule", O("service", "payments"), O("version", "v"+when[8:10]), O("when", when)))
	}
	f.send(f.api.Command(alice, chOps, "cancel", O("id", "1")))
	f.send(f.api.Command(bob, chOps, "schedule", O("service", "checkout"), O("version", "v3"), O("when", "2026-12-03 23:30"), O("duration", "2h")))

	names := func(r discordtest.Reply) []string {
		var out []string
		for _, c := range r.Choices {
			out = append(out, c.Name+"="+c.Value.(string))
		}
		return out
	}
	focus := func(name, value string) discordtest.Opt {
		return discordtest.Opt{Name: name, Value: value, Focused: true}
	}
	got := names(f.send(f.api.Autocomplete(alice, chOps, "schedule", focus("service", "CH"))))
	if strings.Join(got, ",") != "checkout=checkout" {
		t.Errorf("service choices %q", got)
	}
	got = names(f.send(f.api.Autocomplete(alice, chOps, "start", focus("id", ""))))
	want := []string{"UPG-3 checkout v3 · 2026-12-03 23:30–2026-12-04 01:30 UTC=UPG-3", "UPG-2 payments v02 · 2026-12-02 02:00–03:00 UTC=UPG-2"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("id choices\n%q\nwant\n%q", got, want)
	}
	// carol's zone is Europe/Berlin; typing filters.
	got = names(f.send(f.api.Autocomplete(carol, chOps, "start", focus("id", "pay"))))
	if strings.Join(got, "|") != "UPG-2 payments v02 · 2026-12-02 03:00–04:00 CET=UPG-2" {
		t.Errorf("carol's choices %q", got)
	}
}

// downCore is a core whose store cannot be read (Redis down).
type downCore struct{ Core }

func (downCore) Upgrades(context.Context, bot.Filter) ([]*bot.Upgrade, error) {
	return nil, errors.New("redis: connection refused")
}

// TestAutocompleteAnswersCarryChoicesOnly: every autocomplete answer is
// {"type":8,"data":{"choices":[...]}}: choices always (an empty array when
// nothing fits, or the upgrades cannot be read), no message fields, in
// both modes (the fake refuses any other shape, as Discord does).
func TestAutocompleteAnswersCarryChoicesOnly(t *testing.T) {
	const empty = `{"type":8,"data":{"choices":[]}}`
	for _, mode := range []string{ModeHTTP, ModeGateway} {
		t.Run(mode, func(t *testing.T) {
			f := newFixture(t, mode, func(o *Options) { o.Core = downCore{o.Core} })
			f.ready()
			for _, i := range []*discordgo.Interaction{
				f.api.Autocomplete(alice, chOps, "schedule", discordtest.Opt{Name: "service", Value: "nothing", Focused: true}),
				f.api.Autocomplete(alice, chOps, "show", discordtest.Opt{Name: "id", Value: "UPG", Focused: true}),
				f.api.Autocomplete(alice, chOps, "ready", O("id", "UPG-1"), discordtest.Opt{Name: "criterion", Value: "", Focused: true}),
			} {
				if mode == ModeHTTP {
					status, body := f.post(discordtest.SignedRequest(t, f.srv.URL+PathInteractions, f.priv, discordtest.Marshal(t, i), f.clock.Now()))
					if status != http.StatusOK || string(body) != empty {
						t.Errorf("answer %d %s, want %s", status, body, empty)
					}
					if err := f.api.Answered(i.Token, body); err != nil {
						t.Errorf("Discord would refuse the answer %s: %v", body, err)
					}
					continue
				}
				if r := f.send(i); r.Type != discordgo.InteractionApplicationCommandAutocompleteResult || len(r.Choices) != 0 {
					t.Errorf("answer %+v", r)
				}
			}
			if mode == ModeGateway {
				for _, c := range f.api.Calls("interaction_callback") {
					if string(c.JSON) != empty {
						t.Errorf("callback %s", c.JSON)
					}
				}
			}
		})
	}
}

// TestAutocompleteIDPrefersTheNumber: digits typed in id are first the
// upgrade with that number, then those whose number starts with them,
// then the rest that shows them anywhere (a date), newest first in each.
func TestAutocompleteIDPrefersTheNumber(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.ready()
	for d := 1; d <= 12; d++ {
		f.send(f.api.Command(alice, chOps, "schedule", O("service", "payments"), O("version", "v"+strconv.Itoa(d)), O("when", fmt.Sprintf("2026-12-%02d 02:00", d))))
	}
	ids := func(typed string) string {
		var out []string
		for _, c := range f.send(f.api.Autocomplete(alice, chOps, "start", discordtest.Opt{Name: "id", Value: typed, Focused: true})).Choices {
			out = append(out, strings.TrimPrefix(c.Value.(string), "UPG-"))
		}
		return strings.Join(out, ",")
	}
	for typed, want := range map[string]string{
		"1":     "1,12,11,10,9,8,7,6,5,4,3,2",
		"#1":    "1,12,11,10,9,8,7,6,5,4,3,2",
		"UPG-1": "1,12,11,10",
		"2":     "2,12,11,10,9,8,7,6,5,4,3,1",
		"11":    "11",
		"":      "12,11,10,9,8,7,6,5,4,3,2,1",
		"v1":    "12,11,10,1",
	} {
		if got := ids(typed); got != want {
			t.Errorf("typed %q: %s, want %s", typed, got, want)
		}
	}
}

// TestLogAndFailuresNamePeopleAsShowDoes: the decision log names who did
// each thing as show does, with a mention (zed is in no [[people]]: his
// Discord id must not show raw), and a failed direct message names its
// person, not a channel.
func TestLogAndFailuresNamePeopleAsShowDoes(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	f.ready()
	f.send(f.api.Command(alice, chOps, "schedule", O("service", "payments"), O("version", "v1"), O("when", "2026-12-01 02:00")))
	f.settle()
	root := f.api.Messages(chPayments)[0]
	f.send(f.api.Press(zed, discordtest.Message{ID: root.ID, ChannelID: chPayments, Content: root.Content}, ActionAck+":UPG-1:brief"))
	f.settle()
	log := f.send(f.api.Command(alice, chOps, "log", O("id", "1"))).Text()
	for _, want := range []string{" · <@1001> · scheduled · ", " · <@1009> · acknowledged · brief"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, " · 1009 · ") || strings.Contains(log, " · alice · ") {
		t.Errorf("the log names people in plain text:\n%s", log)
	}

	ctx := context.Background()
	u, err := f.st.Get(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	u.Rev++
	u.Failures = append(u.Failures, bot.Failure{At: testNow, Notice: string(bot.KindEscalation), Target: "bob", Error: "discord create DM: 50007 Cannot send messages to this user"},
		bot.Failure{At: testNow, Notice: string(bot.KindReminder), Target: "discord:" + chCheckout, Error: "discord create message: 50001 Missing Access"})
	if err := f.st.Update(ctx, u, bot.Decision{}); err != nil {
		t.Fatal(err)
	}
	show := f.send(f.api.Command(alice, chOps, "show", O("id", "1"))).Text()
	for _, want := range []string{"Failed delivery of escalation to <@1002> at ", "Failed delivery of reminder to <#" + chCheckout + "> at "} {
		if !strings.Contains(show, want) {
			t.Errorf("show lacks %q:\n%s", want, show)
		}
	}
}

// /readyz is 503 from the start, not only once something failed: until the
// gateway is connected (gateway mode) and until /upgrade is registered
// (both modes, the http endpoint being registered already). Then it is 200.
func TestNotReadyBeforeConnectedAndRegistered(t *testing.T) {
	for _, tc := range []struct{ mode, want string }{
		{ModeGateway, "discord: the gateway is not connected; the /upgrade command is not registered yet"},
		{ModeHTTP, "discord: the /upgrade command is not registered yet"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			f := newFixtureWith(t, tc.mode, func(f *fixture) {
				if err := f.a.Ready(); err == nil || err.Error() != tc.want {
					t.Errorf("before Run: Ready = %v, want %q", err, tc.want)
				}
			})
			f.ready()
			if len(f.api.Commands(discordtest.GuildID)) == 0 {
				t.Error("ready without /upgrade registered")
			}
		})
	}
}
