package discord

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/upgradebot/upgradebot/bot"
)

// A stamped answer (an unchanged show) is rendered and encoded once, the
// encoding the one of its rendering; another stamp is rendered anew, an
// unstamped message every time; serving a kept one allocates nothing.
func TestStampedAnswersAreRenderedOnce(t *testing.T) {
	a := &Adapter{style: testStyle}
	m := bot.Message{Kind: bot.KindReply, Title: "UPG-7", Lines: []bot.Text{bot.T("Acknowledged 0/3")}, Stamp: "show 7 1 0"}
	resp, raw := a.privateOnce(m)
	want, err := json.Marshal(a.private(m))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, want) || resp.Data.Flags == 0 {
		t.Fatalf("kept %s, want %s", raw, want)
	}
	if n := testing.AllocsPerRun(100, func() { a.privateOnce(m) }); n > 0 {
		t.Errorf("a stamped answer served again allocates %.0f times; the budget is 0", n)
	}
	m.Lines, m.Stamp = []bot.Text{bot.T("Acknowledged 1/3")}, "show 7 1 1"
	if _, raw := a.privateOnce(m); !bytes.Contains(raw, []byte("Acknowledged 1/3")) {
		t.Fatalf("after a change: %s", raw)
	}
	m.Stamp = ""
	if resp, raw := a.privateOnce(m); raw != nil || resp == nil {
		t.Fatalf("an unstamped answer was kept: %s", raw)
	}
}
