package scrub

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// TestSecretsNeverReachTheLog: a secret in a message, a string, a group,
// an error's text (a Redis-compatible server echoing the AUTH it refused)
// or an attribute bound with With is hidden; the rest is left as it was.
func TestSecretsNeverReachTheLog(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(Handler(slog.NewJSONHandler(&buf, nil), []string{"s3cretpw", "xoxb-123-abc", "", "ab"}))
	log.With("url", "redis://:s3cretpw@h").Warn("relay failed with s3cretpw",
		"err", errors.New("ERR unknown command `auth`, with args beginning with: `s3cretpw`"),
		slog.Group("slack", "token", "xoxb-123-abc"), "n", 3, "word", "about")
	out := buf.String()
	for _, leak := range []string{"s3cretpw", "xoxb-123-abc"} {
		if strings.Contains(out, leak) {
			t.Errorf("the log has %q: %s", leak, out)
		}
	}
	for _, kept := range []string{`"n":3`, `"word":"about"`, `ERR unknown command`, Hidden} {
		if !strings.Contains(out, kept) {
			t.Errorf("the log lacks %q: %s", kept, out)
		}
	}
}

func TestTextHidesSecrets(t *testing.T) {
	hide := Text([]string{"xoxb-SECRET123", "abc", ""})
	if got := hide("channel_not_found (sent with token=xoxb-SECRET123)"); got != "channel_not_found (sent with token="+Hidden+")" {
		t.Fatalf("got %q", got)
	}
	if got := hide("abc stays: too short to be a secret"); got != "abc stays: too short to be a secret" {
		t.Fatalf("a short value was hidden: %q", got)
	}
	if got := Text(nil)("nothing to hide"); got != "nothing to hide" {
		t.Fatalf("got %q", got)
	}
}
