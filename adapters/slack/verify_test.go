package slack

import (
	"strings"
	"testing"

	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
)

// Signers are kept between requests; one keyed with another secret (two
// workspaces in a process, a rotated secret) never vouches for a request.
func TestSignatureOfAnotherSecretIsRefusedWhateverCameBefore(t *testing.T) {
	body := []byte("payload=%7B%7D")
	const ts = "1700000000"
	secrets := []string{testSecret, "another-secret", testSecret + "x"}
	for range 3 {
		for _, signedWith := range secrets {
			sig := slacktestapi.Signature(signedWith, ts, body)
			for _, checkedWith := range secrets {
				err := checkSignature([]byte(checkedWith), ts, sig, body)
				if (err == nil) != (signedWith == checkedWith) {
					t.Fatalf("signed with %q, checked with %q: %v", signedWith, checkedWith, err)
				}
			}
		}
	}
}

// The signature is compared as Slack sends it: lower-case hex after v0=,
// of this timestamp and this body.
func TestSignatureMustMatchExactly(t *testing.T) {
	body := []byte("payload=%7B%7D")
	const ts = "1700000000"
	good := slacktestapi.Signature(testSecret, ts, body)
	if err := checkSignature([]byte(testSecret), ts, good, body); err != nil {
		t.Fatalf("Slack's own signature refused: %v", err)
	}
	for name, sig := range map[string]string{
		"upper-case hex":   "v0=" + strings.ToUpper(good[3:]),
		"v1":               "v1=" + good[3:],
		"one digit off":    good[:len(good)-1] + map[bool]string{true: "0", false: "1"}[good[len(good)-1] != '0'],
		"truncated":        good[:len(good)-2],
		"longer":           good + "00",
		"empty":            "",
		"prefix only":      "v0=",
		"another body":     slacktestapi.Signature(testSecret, ts, []byte("payload=%7B%20%7D")),
		"another time":     slacktestapi.Signature(testSecret, "1700000001", body),
		"timestamp joined": slacktestapi.Signature(testSecret, ts+":", body[1:]),
	} {
		if err := checkSignature([]byte(testSecret), ts, sig, body); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
