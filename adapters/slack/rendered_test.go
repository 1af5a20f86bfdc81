package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/upgradebot/upgradebot/bot"
)

// A stamped answer (an unchanged show) is rendered once and its encoding
// answered again; another stamp, a changed upgrade, is rendered anew.
func TestStampedAnswersAreRenderedOnce(t *testing.T) {
	f := newFixture(t, ModeHTTP)
	answer := bot.Message{Kind: bot.KindReply, Title: "UPG-7 payments v2.4.0", Lines: []bot.Text{bot.T("Acknowledged 0/3")}, Stamp: "show 7 1 0"}
	f.core.handle = func(context.Context, bot.Invocation, string) bot.Message { return answer }
	ask := func(trigger string) string {
		t.Helper()
		status, body := f.command(t, slash(f, "show 7", trigger))
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, body)
		}
		return decodeAnswer(t, body)["text"].(string)
	}
	if got := ask("tr-1"); !strings.Contains(got, "Acknowledged 0/3") {
		t.Fatal(got)
	}
	if got := ask("tr-2"); !strings.Contains(got, "Acknowledged 0/3") {
		t.Fatal(got)
	}
	answer.Lines, answer.Stamp = []bot.Text{bot.T("Acknowledged 1/3")}, "show 7 1 1"
	if got := ask("tr-3"); !strings.Contains(got, "Acknowledged 1/3") {
		t.Fatalf("after a change: %s", got)
	}
	answer.Stamp = "" // not stamped: rendered every time
	answer.Lines = []bot.Text{bot.T("Acknowledged 2/3")}
	if got := ask("tr-4"); !strings.Contains(got, "Acknowledged 2/3") {
		t.Fatalf("unstamped: %s", got)
	}
}

// The encoding kept is the one the answer renders to, and serving it again
// allocates nothing.
func TestStampedAnswerAllocationBudget(t *testing.T) {
	a := &Adapter{style: testStyle}
	m := bot.Message{Kind: bot.KindReply, Title: "UPG-7", Lines: []bot.Text{bot.T("Acknowledged ").Bold("0/3")}, Stamp: "s"}
	first := a.encoded(m)
	if want := mustEncode(testStyle.payload(m)); !bytes.Equal(first, want) {
		t.Fatalf("kept %s, want %s", first, want)
	}
	if n := testing.AllocsPerRun(100, func() { a.encoded(m) }); n > 0 {
		t.Errorf("a stamped answer served again allocates %.0f times; the budget is 0", n)
	}
}

// A stamped private answer (the thanks for an acknowledgment, the same for
// everyone) is encoded once, as it goes on a response_url: it leaves the
// message it answers in place.
func TestStampedPrivateAnswersAreEncodedOnce(t *testing.T) {
	a := &Adapter{style: testStyle}
	m := bot.Message{Kind: bot.KindReply, Lines: []bot.Text{bot.T("Thanks! You acknowledged the upgrade window of ").Bold("UPG-7 payments v2.4.0")}, Stamp: "thanks brief UPG-7 payments v2.4.0"}
	first := a.privately(m)
	var got map[string]any
	if err := json.Unmarshal(first, &got); err != nil {
		t.Fatal(err)
	}
	if got["replace_original"] != false || !strings.Contains(got["text"].(string), "Thanks! You acknowledged") {
		t.Fatalf("private answer %s", first)
	}
	if n := testing.AllocsPerRun(100, func() { a.privately(m) }); n > 1 {
		t.Errorf("a stamped private answer served again allocates %.0f times; the budget is 1", n)
	}
	m.Stamp = ""
	m.Lines = []bot.Text{bot.T("You already acknowledged")}
	if again := a.privately(m); !strings.Contains(string(again), "You already acknowledged") {
		t.Errorf("an unstamped answer was served from another's encoding: %s", again)
	}
}
