package discord

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
	"github.com/upgradebot/upgradebot/adapters/inbound"
)

type failingBody struct{}

func (failingBody) Read([]byte) (int, error) { return 0, errors.New("client went away") }
func (failingBody) Close() error             { return nil }

// A request is read whole, whether it announces its length or not, and a
// body that ends before the length it announced is refused (400), never
// checked as if the rest were zeros.
func TestReadSignedReadsTheBodyAnnounced(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	a := &Adapter{pubKey: pub, now: func() time.Time { return testNow }, log: slog.New(slog.DiscardHandler)}
	js := pressPayload(t)
	req := func(body io.Reader, length int64) *http.Request {
		r := discordtest.SignedRequest(t, "http://bot"+PathInteractions, priv, js, testNow)
		r.Body, r.ContentLength = io.NopCloser(body), length
		return r
	}
	for name, r := range map[string]*http.Request{
		"announced": req(bytes.NewReader(js), int64(len(js))),
		"chunked":   req(bytes.NewReader(js), -1),
	} {
		w := httptest.NewRecorder()
		if body, ok := a.readSigned(w, r); !ok || !bytes.Equal(body, js) {
			t.Errorf("%s: refused (%d) or read %d bytes of %d", name, w.Code, len(body), len(js))
		}
	}
	w := httptest.NewRecorder()
	if _, ok := a.readSigned(w, req(bytes.NewReader(js[:len(js)/2]), int64(len(js)))); ok || w.Code != http.StatusBadRequest {
		t.Errorf("a body shorter than announced: taken %v, status %d", ok, w.Code)
	}
}

// A client that announces a large body and sends nothing, before its
// signature is checked, makes the bot allocate what it sent, not what it
// announced: at most inbound.FirstRead.
func TestReadMessageDoesNotTrustAnAnnouncedLength(t *testing.T) {
	for _, n := range []int64{maxBody, 64 << 10} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		const requests = 10
		for range requests {
			r := httptest.NewRequest(http.MethodPost, PathInteractions, nil)
			r.Body, r.ContentLength = failingBody{}, n
			if _, err := readMessage(httptest.NewRecorder(), r, "1764554400"); err == nil {
				t.Fatal("a body that failed was read")
			}
		}
		runtime.ReadMemStats(&after)
		if got := (after.TotalAlloc - before.TotalAlloc) / requests; got > inbound.FirstRead+8<<10 {
			t.Errorf("an empty request announcing %d bytes allocated %d bytes", n, got)
		}
	}
}

// untouchedBody is a body that must not be read: it counts the attempts.
type untouchedBody struct{ reads int }

func (b *untouchedBody) Read([]byte) (int, error) { b.reads++; return 0, errors.New("read") }
func (*untouchedBody) Close() error               { return nil }

// Every request is authenticated before any work (http.md): an announced
// length over 1 MiB (413), no public key, missing or malformed signature
// headers or a stale timestamp (401) are refused without reading a byte
// of the body, whatever its length.
func TestReadSignedRefusesBeforeReading(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(testNow.Unix(), 10)
	good := discordtest.Sign(priv, ts, []byte(`{"type":1}`))
	stale := strconv.FormatInt(testNow.Add(-6*time.Minute).Unix(), 10)
	cases := []struct {
		name    string
		key     ed25519.PublicKey
		headers map[string]string
		length  int64
		want    int
	}{
		{"announced over 1 MiB, signed", pub, map[string]string{headerTimestamp: ts, headerSignature: good}, maxBody + 1, 413},
		{"announced over 1 MiB, unsigned", pub, nil, maxBody + 1, 413},
		{"no public key configured", nil, map[string]string{headerTimestamp: ts, headerSignature: good}, -1, 401},
		{"unsigned", pub, nil, -1, 401},
		{"unsigned, announced", pub, nil, 100, 401},
		{"no timestamp", pub, map[string]string{headerSignature: good}, -1, 401},
		{"no signature", pub, map[string]string{headerTimestamp: ts}, -1, 401},
		{"signature not hex", pub, map[string]string{headerTimestamp: ts, headerSignature: "zz"}, -1, 401},
		{"signature too short", pub, map[string]string{headerTimestamp: ts, headerSignature: good[:20]}, -1, 401},
		{"stale", pub, map[string]string{headerTimestamp: stale, headerSignature: good}, -1, 401},
		{"timestamp not a number", pub, map[string]string{headerTimestamp: "soon", headerSignature: good}, -1, 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := &Adapter{pubKey: c.key, now: func() time.Time { return testNow }, log: slog.New(slog.DiscardHandler)}
			r := discordtest.Request(t, "http://bot"+PathInteractions, nil, c.headers)
			body := &untouchedBody{}
			r.Body, r.ContentLength = body, c.length
			w := httptest.NewRecorder()
			if _, ok := a.readSigned(w, r); ok || w.Code != c.want || body.reads != 0 {
				t.Errorf("taken %v, status %d (want %d), body read %d times (want none)", ok, w.Code, c.want, body.reads)
			}
		})
	}
}
