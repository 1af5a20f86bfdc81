package slack

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/adapters/inbound"
	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
)

type failingBody struct{}

func (failingBody) Read([]byte) (int, error) { return 0, errors.New("client went away") }
func (failingBody) Close() error             { return nil }

// A client that announces a large body and sends nothing, before its
// signature is checked, makes the bot allocate what it sent, not what it
// announced: at most inbound.FirstRead.
func TestReadBodyDoesNotTrustAnAnnouncedLength(t *testing.T) {
	for _, n := range []int64{maxBody, 64 << 10} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		const requests = 10
		for range requests {
			r := httptest.NewRequest(http.MethodPost, "/slack/interactions", nil)
			r.Body, r.ContentLength = failingBody{}, n
			if _, err := readBody(httptest.NewRecorder(), r); err == nil {
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
// length over 1 MiB (413), no secret, missing or malformed signature
// headers or a stale timestamp (401) are refused without reading a byte
// of the body, whatever its length.
func TestReadSignedRefusesBeforeReading(t *testing.T) {
	now := time.Unix(1_790_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	good := slacktestapi.Signature(testSecret, ts, []byte("x=1"))
	stale := strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10)
	cases := []struct {
		name    string
		secret  string
		headers map[string]string
		length  int64
		want    int
	}{
		{"announced over 1 MiB, signed", testSecret, map[string]string{headerTimestamp: ts, headerSignature: good}, maxBody + 1, 413},
		{"announced over 1 MiB, unsigned", testSecret, nil, maxBody + 1, 413},
		{"no secret configured", "", map[string]string{headerTimestamp: ts, headerSignature: good}, -1, 401},
		{"unsigned", testSecret, nil, -1, 401},
		{"unsigned, announced", testSecret, nil, 100, 401},
		{"no timestamp", testSecret, map[string]string{headerSignature: good}, -1, 401},
		{"no signature", testSecret, map[string]string{headerTimestamp: ts}, -1, 401},
		{"signature too short", testSecret, map[string]string{headerTimestamp: ts, headerSignature: "v0=00"}, -1, 401},
		{"signature not v0", testSecret, map[string]string{headerTimestamp: ts, headerSignature: "v1=" + strings.TrimPrefix(good, "v0=")}, -1, 401},
		{"stale", testSecret, map[string]string{headerTimestamp: stale, headerSignature: good}, -1, 401},
		{"timestamp not a number", testSecret, map[string]string{headerTimestamp: "soon", headerSignature: good}, -1, 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := &Adapter{secret: []byte(c.secret), now: func() time.Time { return now }, log: slog.New(slog.DiscardHandler)}
			r := slacktestapi.FormRequest(t, "http://bot"+PathCommands, "", c.headers)
			body := &untouchedBody{}
			r.Body, r.ContentLength = body, c.length
			w := httptest.NewRecorder()
			if _, ok := a.readSigned(w, r); ok || w.Code != c.want || body.reads != 0 {
				t.Errorf("taken %v, status %d (want %d), body read %d times (want none)", ok, w.Code, c.want, body.reads)
			}
		})
	}
}
