package discord

import (
	"strings"
	"testing"

	"github.com/upgradebot/upgradebot/commands"
)

// TestIDOptionReadsAsTheGrammar: an id pasted with the comma or period
// after it (from a list, or a sentence) was refused on Discord (id:UPG-7,)
// while Slack and the console read it as the id. The id option reads ids
// by the grammar's rule: the same command as typed, and the same refusals.
func TestIDOptionReadsAsTheGrammar(t *testing.T) {
	env := commands.Env{Now: testNow, Location: mustZone("Europe/Berlin")}
	for _, tc := range []struct {
		sub  string
		o    options
		text string
	}{
		{"show", opts("id", "UPG-7,"), "show UPG-7,"},
		{"log", opts("id", "#7."), "log #7."},
		{"start", opts("id", "upg-7,"), "start upg-7,"},
		{"cancel", opts("id", "7.", "reason", "not needed"), "cancel 7. not needed"},
		{"ready", opts("id", " UPG-7. ", "criterion", "2"), "ready UPG-7. 2"},
	} {
		t.Run(tc.text, func(t *testing.T) { buildsAsTyped(t, tc.sub, tc.o, tc.text, env) })
	}
	for _, id := range []string{"UPG-7,,", "UPG-7, UPG-8", ",", "UPG-,", "7;"} {
		_, err := build("show", opts("id", id), env)
		_, perr := commands.Parse("show "+id, env)
		var e *commands.Error
		if !errorsAs(err, &e) || !strings.Contains(e.Msg, "as an upgrade id") || e.Usage != commands.Usage("show") {
			t.Errorf("id:%s: %v; want it refused as an id, with the usage", id, err)
		}
		if perr == nil {
			t.Errorf("show %s: the grammar reads it; want it refused as on Discord", id)
		}
	}
}
