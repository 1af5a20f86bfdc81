package slack

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Slack's request signing (https://api.slack.com/authentication/verifying-requests-from-slack).
const (
	headerSignature = "X-Slack-Signature"
	headerTimestamp = "X-Slack-Request-Timestamp"
	headerRetryNum  = "X-Slack-Retry-Num"
	maxSkew         = 5 * time.Minute
	sigPrefix       = "v0="
)

// Why a request was refused; never shown to the caller beyond "401".
var (
	errMissingHeaders = errors.New("missing signature headers")
	errStale          = errors.New("timestamp outside 5 minutes")
	errBadSignature   = errors.New("signature mismatch")
	errMalformed      = errors.New("signature malformed: not v0= and 64 hex digits")
)

// signedHeaders checks that both headers are present, the signature has
// the form of a v0 one ("v0=" and 64 characters) and the timestamp is
// within five minutes of now (replays of old requests are refused): all
// before the body is read.
func signedHeaders(h http.Header, now time.Time) (ts, sig string, err error) {
	ts, sig = h.Get(headerTimestamp), h.Get(headerSignature)
	if ts == "" || sig == "" {
		return "", "", errMissingHeaders
	}
	if len(sig) != len(sigPrefix)+hex.EncodedLen(sha256.Size) || !strings.HasPrefix(sig, sigPrefix) {
		return "", "", errMalformed
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

// checkSignature checks sig, Slack's v0 signature of a request body:
// "v0=" + hex(HMAC-SHA256(secret, "v0:" + timestamp + ":" + body)), in
// constant time.
func checkSignature(secret []byte, ts, sig string, body []byte) error {
	const prefix = sigPrefix
	if len(sig) != len(prefix)+hex.EncodedLen(sha256.Size) || !strings.HasPrefix(sig, prefix) {
		return errBadSignature // the length and the prefix are no secret
	}
	s := getSigner(secret)
	defer putSigner(s)
	s.buf = append(append(append(s.buf[:0], "v0:"...), ts...), ':')
	s.mac.Write(s.buf)
	s.mac.Write(body)
	var want, got [2 * sha256.Size]byte
	hex.Encode(want[:], s.mac.Sum(s.sum[:0]))
	copy(got[:], sig[len(prefix):])
	if !hmac.Equal(got[:], want[:]) {
		return errBadSignature
	}
	return nil
}

// A signer is an HMAC-SHA256 keyed with a signing secret: keying one
// (hmac.New) costs more than a press's signature, so they are kept.
type signer struct {
	key []byte
	mac hash.Hash
	buf []byte // "v0:" + timestamp + ":"
	sum [sha256.Size]byte
}

// signers holds signers between requests; a process has one secret, as a
// rule, and a signer of another one is not used.
var signers sync.Pool

func getSigner(secret []byte) *signer {
	if s, ok := signers.Get().(*signer); ok && hmac.Equal(s.key, secret) {
		return s
	}
	key := bytes.Clone(secret)
	return &signer{key: key, mac: hmac.New(sha256.New, key), buf: make([]byte, 0, 32)}
}

func putSigner(s *signer) {
	s.mac.Reset()
	signers.Put(s)
}
