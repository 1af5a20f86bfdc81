package slacktestapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"
)

// Signature is what Slack puts in X-Slack-Signature:
// "v0=" + hex(HMAC-SHA256(secret, "v0:" + timestamp + ":" + body)).
func Signature(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// SignedRequest builds a form POST signed as Slack signs it at time at.
func SignedRequest(t testing.TB, target, secret string, body string, at time.Time) *http.Request {
	t.Helper()
	ts := strconv.FormatInt(at.Unix(), 10)
	return FormRequest(t, target, body, map[string]string{
		"X-Slack-Request-Timestamp": ts,
		"X-Slack-Signature":         Signature(secret, ts, []byte(body)),
	})
}

// FormRequest builds a form POST with exactly the given headers: forged,
// half-signed or unsigned requests for tests that must see them refused.
func FormRequest(t testing.TB, target, body string, headers map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return req
}

// CommandForm encodes a slash command the way Slack posts it; sc.Text is
// what the user typed.
func CommandForm(sc slackgo.SlashCommand) string {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("token", sc.Token)
	set("team_id", sc.TeamID)
	set("team_domain", sc.TeamDomain)
	set("enterprise_id", sc.EnterpriseID)
	set("enterprise_name", sc.EnterpriseName)
	set("channel_id", sc.ChannelID)
	set("channel_name", sc.ChannelName)
	set("user_id", sc.UserID)
	set("user_name", sc.UserName)
	set("command", sc.Command)
	v.Set("text", escapeTyped(sc.Text))
	set("response_url", sc.ResponseURL)
	set("trigger_id", sc.TriggerID)
	set("api_app_id", sc.APIAppID)
	return v.Encode()
}

// escapeTyped escapes what a user typed the way Slack does before sending it
// on: &, < and > become entities.
func escapeTyped(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// InteractionForm encodes an interaction the way Slack posts it: a form
// with the JSON in "payload".
func InteractionForm(t testing.TB, cb slackgo.InteractionCallback) string {
	t.Helper()
	b, err := json.Marshal(&cb)
	if err != nil {
		t.Fatal(err)
	}
	return url.Values{"payload": {string(b)}}.Encode()
}

// Press describes one press of a Block Kit button.
type Press struct {
	UserID, UserName string
	ChannelID        string
	MessageTS        string // the message carrying the button
	ThreadTS         string
	ActionID         string // e.g. upgrade_ack
	Value            string // e.g. UPG-7:brief
	BlockID          string // the button's block; default "ack"
	Label            string // the button's text; default "Acknowledge"
	TriggerID        string
	ActionTS         string
	ResponseURL      string
}

// BlockAction builds the block_actions callback Slack sends for a press.
func BlockAction(p Press) slackgo.InteractionCallback {
	if p.BlockID == "" {
		p.BlockID = "ack"
	}
	if p.Label == "" {
		p.Label = "Acknowledge"
	}
	return slackgo.InteractionCallback{
		Type:        slackgo.InteractionTypeBlockActions,
		TriggerID:   p.TriggerID,
		ResponseURL: p.ResponseURL,
		APIAppID:    "A0TEST",
		Team:        slackgo.Team{ID: "T0TEST", Domain: "test"},
		User:        slackgo.User{ID: p.UserID, Name: p.UserName, Username: p.UserName, TeamID: "T0TEST"},
		Channel:     slackgo.Channel{GroupConversation: slackgo.GroupConversation{Conversation: slackgo.Conversation{ID: p.ChannelID}}},
		Container:   slackgo.Container{Type: "message", MessageTs: p.MessageTS, ChannelID: p.ChannelID, ThreadTs: p.ThreadTS},
		Message:     slackgo.Message{Msg: slackgo.Msg{Timestamp: p.MessageTS, ThreadTimestamp: p.ThreadTS}},
		ActionCallback: slackgo.ActionCallbacks{BlockActions: []*slackgo.BlockAction{{
			ActionID: p.ActionID, BlockID: p.BlockID, Type: "button", Value: p.Value, ActionTs: p.ActionTS,
			Text: slackgo.TextBlockObject{Type: "plain_text", Text: p.Label},
		}}},
	}
}

// Submission describes the submission of a modal: who submitted which view,
// and what they entered in its inputs.
type Submission struct {
	UserID, UserName string
	View             View                         // as views.open recorded it
	Values           map[string]map[string]string // block_id -> action_id -> value
	TriggerID        string                       // Slack gives each submission one
}

// ViewSubmission builds the view_submission callback Slack sends when a
// modal's submit button is pressed.
func ViewSubmission(sub Submission) slackgo.InteractionCallback {
	state := &slackgo.ViewState{Values: map[string]map[string]slackgo.BlockAction{}}
	for block, inputs := range sub.Values {
		state.Values[block] = map[string]slackgo.BlockAction{}
		for id, v := range inputs {
			state.Values[block][id] = slackgo.BlockAction{Type: "plain_text_input", Value: v}
		}
	}
	v := sub.View.View
	return slackgo.InteractionCallback{
		Type:      slackgo.InteractionTypeViewSubmission,
		TriggerID: sub.TriggerID,
		APIAppID:  "A0TEST",
		Team:      slackgo.Team{ID: "T0TEST", Domain: "test"},
		User:      slackgo.User{ID: sub.UserID, Name: sub.UserName, Username: sub.UserName, TeamID: "T0TEST"},
		View: slackgo.View{ID: sub.View.ID, TeamID: "T0TEST", Type: v.Type, Title: v.Title, Submit: v.Submit, Close: v.Close,
			Blocks: v.Blocks, PrivateMetadata: v.PrivateMetadata, CallbackID: v.CallbackID, State: state, Hash: "hash-" + sub.View.ID},
	}
}
