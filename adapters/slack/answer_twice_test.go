package slack

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
)

// logSignal is a slog handler that tells on a channel each message
// containing one of its words.
type logSignal struct {
	word string
	seen chan string
}

func (h logSignal) Enabled(context.Context, slog.Level) bool { return true }
func (h logSignal) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, h.word) {
		select {
		case h.seen <- r.Message:
		default:
		}
	}
	return nil
}
func (h logSignal) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h logSignal) WithGroup(string) slog.Handler      { return h }

// TestAnAnswerTheResponseURLMayHaveShownIsNotSentAgain: the response_url
// read the answer and hung up before saying so (Slack may well show it).
// The answer is not posted again with chat.postEphemeral, which would show
// it twice; a refusal (404) still falls back (see the socket-mode test).
func TestAnAnswerTheResponseURLMayHaveShownIsNotSentAgain(t *testing.T) {
	seen := make(chan string, 1)
	// The logger is set before Run starts: Run logs as it connects.
	f, sock := runSocketFixture(t, func(f *fixture) { f.a.log = slog.New(logSignal{word: "not sent again", seen: seen}) })
	f.api.KnownChannels("C0OPS")
	f.api.FailNext("response_url", slacktestapi.Fault{Hangup: true})
	sock.SlashCommand(t, slash(f, "list", "tr-h1"), 0)
	select {
	case <-seen:
	case <-time.After(20 * time.Second):
		t.Fatal("the dropped answer was never given up on")
	}
	if n := len(f.api.Calls("response_url")); n != 1 {
		t.Errorf("%d posts to the response_url, want 1", n)
	}
	if c := f.api.Calls("chat.postEphemeral"); len(c) != 0 {
		t.Errorf("the answer the response_url took was posted again with chat.postEphemeral: %v", c[0].Form)
	}
}
