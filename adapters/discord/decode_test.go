package discord

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
)

// realPayloads are interactions as Discord posts them: a press and a
// command shaped as Discord sends them today (testdata), and every kind
// the fake Discord builds with discordgo's types.
func realPayloads(tb testing.TB) map[string][]byte {
	api := discordtest.New(tb)
	bob := discordtest.Member{ID: "1002", Name: "bob", Roles: []string{"3001", "3002"}}
	dm := api.Command(bob, "2099", "show", discordtest.O("id", "UPG-1"))
	dm.Member, dm.User = nil, &discordgo.User{ID: "1003", Username: "carol", GlobalName: "Carol C"}
	nick := api.Press(bob, discordtest.Message{ID: "4001", ChannelID: "2002", Content: "root"}, ActionAck+":UPG-7:brief")
	nick.Member.Nick = "Bobby"
	out := map[string][]byte{
		"press":        pressPayload(tb),
		"command":      commandPayload(tb),
		"autocomplete": discordtest.Marshal(tb, api.Autocomplete(bob, "2099", "show", discordtest.Opt{Name: "id", Value: "UPG", Focused: true})),
		"modal":        discordtest.Marshal(tb, api.Submit(bob, "2002", "upgrade_debrief:UPG-7", map[string]string{"what": "went fine", "followups": "none"})),
		"ping":         discordtest.Marshal(tb, discordtest.Ping()),
		"dm":           discordtest.Marshal(tb, dm),
		"nick":         discordtest.Marshal(tb, nick),
	}
	for _, name := range []string{"press_interaction.json", "command_interaction.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			tb.Fatal(err)
		}
		out[strings.TrimSuffix(name, ".json")] = b
	}
	return out
}

// decodeSeeds are the real payloads and the odd ones the walker leaves to
// encoding/json (or must read exactly as it does).
func decodeSeeds(tb testing.TB) []string {
	var seeds []string
	for _, b := range realPayloads(tb) {
		seeds = append(seeds, string(b))
	}
	press := string(pressPayload(tb))
	return append(seeds,
		strings.ReplaceAll(press, "/", `\/`),
		strings.Replace(press, `"type":3`, `"type":3.0`, 1),
		strings.Replace(press, `"type":3`, `"type":"3"`, 1),
		strings.Replace(press, `"custom_id"`, `"custom_\u0069d"`, 1),
		strings.Replace(press, `"guild_id"`, `"GUILD_ID"`, 1),
		`{"id":"1","type":3,"data":{"custom_id":"a:b","component_type":3,"values":["x",null,"\u00e9\ud83d\ude00"]},"member":{"user":null,"roles":[]}}`,
		`{"data":{"custom_id":"after"},"id":"1","type":3}`,
		`{"id":"1","type":3,"data":null,"member":null,"user":{"id":"7","global_name":"J\u00f6rg"}}`,
		`{"id":"1","type":3,"data":{"custom_id":"a","custom_id":"b"}}`,
		`{"id":"1","ID":"2","type":3}`,
		`{"id":"1","type":3,"member":{"user":{"id":"1"},"user":{"username":"x"}}}`,
		`{"id":"1","type":3,"data":{"values":"x"}}`,
		`{"id":"1","type":3,"data":[]}`,
		`{"id":"1","type":1,"data":[1,2,{"a":null}]}`,
		`{"id":"1","type":2,"data":{"name":"upgrade","options":[null,{"name":"x","type":3,"value":{"a":[1,"b",true]}},{"name":"n","type":4,"value":-1.5e3},{"name":"f","type":3,"focused":null,"value":null}]}}`,
		`{"id":"1","type":2,"data":{"resolved":{"users":{"1":{"id":"1","username":"u"}}},"target_id":"1","type":2}}`,
		`{"id":"1","type":2,"data":{"options":[{"name":"x","value":1e999}]}}`,
		`{"id":"1","type":4,"data":{"options":[{"name":"x","options":[{"name":"y","focused":true,"value":"UP"}]}]}}`,
		`{"id":"1","type":5,"data":{"custom_id":"m","components":[]}}`,
		`{"id":"1","type":300,"version":-0}`,
		`{"id":"1","type":2,"version":9223372036854775808}`,
		`{"id":"1","type":3,"data":{"component_type":-2}}`,
		`{"id":"\xff\xfe","type":3,"version":-0}`, `{"id":"1","type":3,"token":"a\x01"}`,
		`{"ſd":"x","type":3}`,
		`{"id":"1","type":3,"data":{"custom_id":"x"}} {}`,
		`{"id":"1","type":3,"n":01}`, `{"id":"1","s":"\q"}`, `{"id":"1","s":"\u12"}`, `{"id":"1",}`, `{"id"}`,
		`{"id":"1","type":3,"message":{"\u017f\u00e9":[{"\"":1,"ſ":"é"}]},"data":{"custom_id":"x"}}`,
		`{"id":"1","type":3,"member":{"roles":["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17","18","19","20","21","22","23","24","25",""]},"data":{"custom_id":"x"}}`,
		`{"id":"1","type":3,"member":{"roles":["1",2]}}`, `{"id":"1","type":3,"member":{"roles":["1",{}]}}`,
		`null`, ``, `{}`, `[1]`, `"x"`, ` {"id" : "1" , "type" : 3 } `,
	)
}

// The walker reads exactly what encoding/json reads, or leaves the payload
// to it; either way decodeInteraction answers as encoding/json does,
// errors included.
func FuzzDecodeInteraction(f *testing.F) {
	for _, s := range decodeSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, werr := decodeInteractionJSON([]byte(s))
		if fast, ok := walkInteraction([]byte(s)); ok {
			if werr != nil {
				t.Fatalf("walker read %q, which encoding/json refuses: %v", s, werr)
			}
			if !reflect.DeepEqual(fast, want) {
				t.Fatalf("%q: walker read\n%#v\n%#v\nencoding/json\n%#v\n%#v", s, fast, fast.Data, want, want.Data)
			}
		}
		got, gerr := decodeInteraction([]byte(s))
		if errText(gerr) != errText(werr) || !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: decodeInteraction %#v, %v; encoding/json %#v, %v", s, got, gerr, want, werr)
		}
	})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Presses and commands as Discord posts them take the walker, not the way
// back to encoding/json, and read what encoding/json reads.
func TestInteractionPayloadsAreWalked(t *testing.T) {
	for name, b := range realPayloads(t) {
		got, ok := walkInteraction(b)
		if !ok {
			t.Errorf("%s: left to encoding/json", name)
			continue
		}
		want, err := decodeInteractionJSON(b)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: walked\n%#v\nencoding/json\n%#v, %v", name, got, want, err)
		}
	}

	// What the handlers read of a real press and command.
	press, _ := walkInteraction(realPayloads(t)["press_interaction"])
	if d, ok := press.Data.(discordgo.MessageComponentInteractionData); !ok || d.CustomID != ActionAck+":UPG-7:brief" || d.ComponentType != discordgo.ButtonComponent ||
		press.Member.User.ID != "1002" || press.Member.User.GlobalName != "Bøb ✨" || press.Member.GuildID != "900000000000000002" ||
		!reflect.DeepEqual(press.Member.Roles, []string{"3001", "3002"}) || press.Token == "" || press.Locale != discordgo.German {
		t.Errorf("press read as %#v, data %#v", press, press.Data)
	}
	cmd, _ := walkInteraction(realPayloads(t)["command_interaction"])
	d, ok := cmd.Data.(discordgo.ApplicationCommandInteractionData)
	if !ok || d.Name != commandName || len(d.Options) != 1 || d.Options[0].Name != "schedule" {
		t.Fatalf("command read as %#v", cmd.Data)
	}
	opts := d.Options[0].Options
	if len(opts) != 5 || opts[0].StringValue() != "payments" || opts[3].IntValue() != 3 || !opts[4].BoolValue() {
		t.Errorf("command options read as %#v", opts)
	}
}
