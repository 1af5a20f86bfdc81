package slack

import (
	"strings"
	"testing"
)

// The cause of a dropped Socket Mode connection is logged; what slack-go
// says may carry the WebSocket URL (its ticket) or a token: neither reaches
// the log.
func TestSocketDropCauseKeepsNoSecrets(t *testing.T) {
	for _, in := range []string{
		`dial wss://wss-primary.slack.com/link/?ticket=sekrit-ticket-123&app_id=A1: i/o timeout`,
		`websocket: bad handshake for "wss://wss-backup.slack.com/link/?ticket=sekrit-ticket-123"`,
		`invalid_auth with xapp-1-A1-sekrit-456`,
		`refused xoxb-1-sekrit-789`,
	} {
		got := scrubSocketCause(in)
		if strings.Contains(got, "sekrit") {
			t.Errorf("scrubSocketCause(%q) = %q: a secret is left", in, got)
		}
		if !strings.Contains(got, "slack.com") && strings.Contains(in, "slack.com") {
			t.Errorf("scrubSocketCause(%q) = %q: the host is lost too", in, got)
		}
	}
}
