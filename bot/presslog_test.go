package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
	"github.com/upgradebot/upgradebot/internal/syncbuf"
)

// docs/events.md#logs: every command and button press logs one line with
// `command`, `platform`, `actor`, `upgrade`, `outcome` and `took`. The
// Acknowledge press's line had no `command`, so a log query by command (the
// same field the metrics' `command="press"` label matches) missed every press.
func TestPressLogLineNamesItsCommand(t *testing.T) {
	var logs syncbuf.Buffer
	b := bot.New(bot.Options{Config: testConfig(), Store: bottest.NewMemStore(), Messenger: bot.Router{"test": &bottest.Recorder{}},
		Now: bottest.NewClock(t0).Now, RefreshIntervalSet: true, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if r := b.Handle(context.Background(), who("alice"), schedulePayments); r.Kind == bot.KindError {
		t.Fatal(lines(r))
	}
	b.Flush()
	if m := pressAs(b, context.Background(), bot.Actor{ID: "test:UALICE"}, "UPG-1", "brief"); !strings.Contains(lines(m), "Thanks") {
		t.Fatalf("press: %s", lines(m))
	}
	b.Flush()
	var found bool
	for _, l := range bytes.Split([]byte(logs.String()), []byte("\n")) {
		var rec map[string]any
		if json.Unmarshal(l, &rec) != nil || rec["msg"] != "press" {
			continue
		}
		found = true
		for _, k := range []string{"command", "platform", "actor", "upgrade", "outcome", "took"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("press log line lacks %q: %s", k, l)
			}
		}
		if rec["command"] != "press" {
			t.Errorf("press log line: command = %v, want press: %s", rec["command"], l)
		}
	}
	if !found {
		t.Fatalf("no press log line:\n%s", logs.String())
	}
}
