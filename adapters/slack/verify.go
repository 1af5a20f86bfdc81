package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Slack's request signing (https://api.slack.com/authentication/verifying-requests-from-slack).
const (
	headerSignature = "X-Slack-Signature"
	headerTimestamp = "X-Slack-Request-Timestamp"
	headerRetryNum  = "X-Slack-Retry-Num"
	maxSkew         = 5 * time.Minute
)

// Why a request was refused; never shown to the caller beyond "401".
var (
	errMissingHeaders = errors.New("missing signature headers")
	errStale          = errors.New("timestamp outside 5 minutes")
	errBadSignature   = errors.New("signature mismatch")
)

// signedHeaders checks that both headers are present and the timestamp is
// within five minutes of now (replays of old requests are refused).
func signedHeaders(h http.Header, now time.Time) (ts, sig string, err error) {
	ts, sig = h.Get(headerTimestamp), h.Get(headerSignature)
	if ts == "" || sig == "" {
		return "", "", errMissingHeaders
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "", "", errStale
	}
	if d := now.Sub(time.Unix(sec, 0)); d > maxSkew || d < -maxSkew {
		return "", "", errStale
	}
	return ts, sig, nil
}

// sign computes Slack's v0 signature of a request body:
// "v0=" + hex(HMAC-SHA256(secret, "v0:" + timestamp + ":" + body)).
func sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

func checkSignature(secret []byte, ts, sig string, body []byte) error {
	if !strings.HasPrefix(sig, "v0=") {
		return errBadSignature
	}
	want := sign(string(secret), ts, body)
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return errBadSignature
	}
	return nil
}
