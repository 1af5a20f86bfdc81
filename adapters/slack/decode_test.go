package slack

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	slackgo "github.com/slack-go/slack"
)

// decodeSeeds are payloads as Slack posts them and the odd ones the walker
// leaves to encoding/json.
func decodeSeeds(tb testing.TB) []string {
	cb := pressCallback()
	cb.Container.ThreadTs = "1700000000.000100"
	cb.Message.ThreadTimestamp = "1700000000.000100"
	threaded, err := json.Marshal(&cb)
	if err != nil {
		tb.Fatal(err)
	}
	sub := slackgo.InteractionCallback{Type: slackgo.InteractionTypeViewSubmission, User: slackgo.User{ID: "U1"},
		View: slackgo.View{CallbackID: "debrief", PrivateMetadata: "UPG-7", State: &slackgo.ViewState{Values: map[string]map[string]slackgo.BlockAction{
			"b": {"a": {Value: "went fine"}}}}}}
	subJS, err := json.Marshal(&sub)
	if err != nil {
		tb.Fatal(err)
	}
	// Slack escapes slashes, and may send non-ASCII names.
	escaped := strings.ReplaceAll(string(pressPayload(tb)), "/", `\/`)
	return []string{string(pressPayload(tb)), string(threaded), string(subJS), escaped,
		`{"type":"block_actions","user":{"id":"U1","name":"J\u00f6rg \ud83d\ude00"},"actions":[null,{"action_id":"ack","value":"UPG-7:brief"}]}`,
		`{"type":"block_actions","Type":"x","user":{"id":"U1"}}`,
		`{"TYPE":"block_actions","USER":{"ID":"U1","Id":"U2"},"actions":[]}`,
		`{"type":"block_actions","user":{"id":"U1"},"actions":null,"view":null,"message":{"blocks":[{"a":[1,-2.5e3,true,false,null,{}]}]}}`,
		`{"type":"block_actions","user":{"id":5}}`, `{"type":"a\x01"}`, `{"type":"\xff\xfe"}`, `{"ſype":"x"}`, `null`, ``, `{}`, `{"type":"x"} {}`,
		`{"type":"block_actions","user":{"id":"U1"},"message":{"blocks":[{"k\u00e9y":"v","\u00ff":{"\"":1},"Jörg":[{}]}]}}`,
		`{"type":"block_actions","message":{"blocks":[{"k\q":1}]}}`, `{"type":"x","m":{"a" 1}}`, `{"type":"x","m":{"a":1,}}`,
		`{"type":"x","n":01}`, `{"type":"x","n":-}`, `{"type":"x","s":"\q"}`, `{"type":"x","s":"\u12"}`, `[1]`,
	}
}

// The walker reads exactly what encoding/json reads, or leaves the payload
// to it.
func FuzzDecodeInteraction(f *testing.F) {
	for _, s := range decodeSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want interaction
		werr := json.Unmarshal([]byte(s), &want)
		var fast interaction
		if walkInteraction([]byte(s), &fast) {
			if werr != nil {
				t.Fatalf("walker read %q, which encoding/json refuses: %v", s, werr)
			}
			if !reflect.DeepEqual(fast, want) {
				t.Fatalf("%q: walker read\n%+v\nencoding/json\n%+v", s, fast, want)
			}
		}
		var got interaction
		gerr := decodeInteraction([]byte(s), &got)
		if (gerr == nil) != (werr == nil) || (werr == nil && !reflect.DeepEqual(got, want)) {
			t.Fatalf("%q: decodeInteraction %+v, %v; encoding/json %+v, %v", s, got, gerr, want, werr)
		}
	})
}

// Real payloads take the walker, not the way back to encoding/json.
func TestPressPayloadsAreWalked(t *testing.T) {
	for i, s := range decodeSeeds(t)[:2] {
		var in interaction
		if !walkInteraction([]byte(s), &in) {
			t.Errorf("seed %d left to encoding/json", i)
		}
		if in.User.ID != "U0BOB" || len(in.Actions) != 1 || in.Actions[0].Value != "UPG-7:brief" || in.ResponseURL == "" {
			t.Errorf("seed %d read as %+v", i, in)
		}
	}
	escaped := decodeSeeds(t)[3]
	var in interaction
	if !walkInteraction([]byte(escaped), &in) || in.ResponseURL != "https://hooks.slack.com/actions/T/1/x" {
		t.Errorf("escaped slashes: %q", in.ResponseURL)
	}
}
