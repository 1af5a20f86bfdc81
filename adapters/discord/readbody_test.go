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
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
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

// A client that announces a megabyte and sends nothing, before its
// signature is checked, does not make the bot hold a megabyte.
func TestReadMessageDoesNotTrustAnAnnouncedLength(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		r := httptest.NewRequest(http.MethodPost, PathInteractions, nil)
		r.Body, r.ContentLength = failingBody{}, maxBody
		if _, err := readMessage(httptest.NewRecorder(), r, "1764554400"); err == nil {
			t.Fatal("a body that failed was read")
		}
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
		t.Fatalf("10 empty requests announcing %d bytes allocated %d bytes", maxBody, got)
	}
}
