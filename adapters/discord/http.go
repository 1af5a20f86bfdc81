package discord

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/upgradebot/upgradebot/adapters/inbound"
)

// PathInteractions is the endpoint of http mode, the application's
// Interactions Endpoint URL.
const PathInteractions = "/discord/interactions"

// Discord's request signing
// (https://discord.com/developers/docs/interactions/overview#setting-up-an-endpoint-validating-security-request-headers).
const (
	headerSignature = "X-Signature-Ed25519"
	headerTimestamp = "X-Signature-Timestamp"
	maxSkew         = 5 * time.Minute
	maxBody         = 1 << 20 // http.md: 1 MiB, else 413
)

// Why a request was refused; never shown to the caller beyond its status.
var (
	errMissingHeaders = errors.New("missing signature headers")
	errStale          = errors.New("timestamp outside 5 minutes")
	errBadSignature   = errors.New("signature mismatch")
)

// Routes registers POST /discord/interactions in http mode; in gateway mode
// it registers nothing, so it may be called either way. Every request is
// authenticated before any work (http.md), see readSigned; then the payload
// is checked (400).
func (a *Adapter) Routes(mux *http.ServeMux) {
	if a.mode != ModeHTTP {
		return
	}
	mux.HandleFunc("POST "+PathInteractions, a.serveInteraction)
	a.routed.Store(true)
}

// signedHeaders checks that both headers are there, the signature is hex of
// the right length, and the timestamp within five minutes of now (replays
// of old requests are refused).
func signedHeaders(h http.Header, now time.Time) (ts string, sig []byte, err error) {
	ts = h.Get(headerTimestamp)
	if ts == "" || h.Get(headerSignature) == "" {
		return "", nil, errMissingHeaders
	}
	sig, err = hex.DecodeString(h.Get(headerSignature))
	if err != nil || len(sig) != ed25519.SignatureSize {
		return "", nil, errBadSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "", nil, errStale
	}
	if d := now.Sub(time.Unix(sec, 0)); d > maxSkew || d < -maxSkew {
		return "", nil, errStale
	}
	return ts, sig, nil
}

// verify checks the Ed25519 signature of msg, the timestamp followed by
// the body, with the application's public key. (crypto/ed25519 parses the
// key again on every call, about 8% of the check; it has no way to keep
// it parsed.)
func verify(key ed25519.PublicKey, msg, sig []byte) error {
	if len(key) != ed25519.PublicKeySize || !ed25519.Verify(key, msg, sig) {
		return errBadSignature
	}
	return nil
}

// readMessage reads what Discord signs, the timestamp followed by the
// request's body (at most maxBody), into one buffer (inbound.ReadBody: of
// the announced length when it is small, else grown as the body arrives,
// so that a client announcing a megabyte and sending nothing holds no
// megabyte), verified without a copy.
func readMessage(w http.ResponseWriter, r *http.Request, ts string) ([]byte, error) {
	return inbound.ReadBody(w, r, ts, maxBody)
}

func (a *Adapter) refuse(w http.ResponseWriter, r *http.Request, status int, why string) {
	a.log.WarnContext(r.Context(), "discord request refused", "path", r.URL.Path, "status", status, "reason", why, "remote", r.RemoteAddr)
	http.Error(w, http.StatusText(status), status)
}

// readSigned returns the body of an authentic request, or answers the
// refusal itself and returns false. What costs nothing comes first, so
// that an unsigned client makes the bot read nothing:
//
//  1. an announced length over maxBody: 413, unread;
//  2. no public key configured, the signature headers missing or
//     malformed, or the timestamp more than 5 minutes off: 401, unread;
//  3. the body, read up to maxBody: 413 past it (a body sent without its
//     length), 400 if it cannot be read;
//  4. the Ed25519 signature over timestamp and body: 401.
func (a *Adapter) readSigned(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.ContentLength > maxBody {
		a.refuse(w, r, http.StatusRequestEntityTooLarge, "body too large")
		return nil, false
	}
	if len(a.pubKey) != ed25519.PublicKeySize {
		a.refuse(w, r, http.StatusUnauthorized, "no public key configured")
		return nil, false
	}
	ts, sig, err := signedHeaders(r.Header, a.now())
	if err != nil {
		a.refuse(w, r, http.StatusUnauthorized, err.Error())
		return nil, false
	}
	msg, err := readMessage(w, r, ts)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			a.refuse(w, r, http.StatusRequestEntityTooLarge, "body too large")
		} else {
			a.refuse(w, r, http.StatusBadRequest, "body unreadable")
		}
		return nil, false
	}
	if err := verify(a.pubKey, msg, sig); err != nil {
		a.refuse(w, r, http.StatusUnauthorized, err.Error())
		return nil, false
	}
	return msg[len(ts):], true
}

// serveInteraction is the Interactions Endpoint: authentic interactions are
// answered in the HTTP response, within Discord's 3 seconds.
func (a *Adapter) serveInteraction(w http.ResponseWriter, r *http.Request) {
	body, ok := a.readSigned(w, r)
	if !ok {
		return
	}
	i, err := decodeInteraction(body)
	if err != nil {
		a.refuse(w, r, http.StatusBadRequest, "payload is not an interaction")
		return
	}
	if i.Type == 0 || (i.Type != discordgo.InteractionPing && (i.ID == "" || !hasData(i))) {
		a.refuse(w, r, http.StatusBadRequest, "payload without type, id or data")
		return
	}
	var (
		mu       sync.Mutex
		answered bool
	)
	respond := func(_ context.Context, resp *discordgo.InteractionResponse, b []byte) error {
		if b == nil {
			var err error
			if b, err = json.Marshal(resp); err != nil {
				return err
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if answered {
			return errors.New("discord: the interaction was answered already")
		}
		answered = true
		w.Header().Set("Content-Type", "application/json")
		_, err = w.Write(b)
		return err
	}
	a.inflight.Add()
	defer a.inflight.Done()
	a.interaction(r.Context(), i, respond)
	mu.Lock()
	defer mu.Unlock()
	if !answered {
		// A re-sent interaction that another delivery answered already.
		answered = true
		w.WriteHeader(http.StatusAccepted)
	}
}
