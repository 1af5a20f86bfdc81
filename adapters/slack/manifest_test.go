package slack

import (
	"os"
	"strings"
	"testing"
)

// The manifest must match what the code serves and calls.
func TestManifestMatchesTheAdapter(t *testing.T) {
	b, err := os.ReadFile("manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := string(b)
	for _, want := range []string{
		"command: /upgrade",
		"url: https://YOUR_HOST" + PathCommands,
		"request_url: https://YOUR_HOST" + PathInteractions,
		"- commands", "- chat:write ", "- chat:write.public", "- users:read", "- im:write",
		"socket_mode_enabled:", "is_enabled: true",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("manifest.yaml lacks %q", want)
		}
	}
	if strings.Contains(m, "\t") {
		t.Error("YAML must be indented with spaces")
	}
}
