package slack

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
)

type failingBody struct{}

func (failingBody) Read([]byte) (int, error) { return 0, errors.New("client went away") }
func (failingBody) Close() error             { return nil }

// A client that announces a megabyte and sends nothing, before its
// signature is checked, does not make the bot hold a megabyte.
func TestReadBodyDoesNotTrustAnAnnouncedLength(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		r := httptest.NewRequest(http.MethodPost, "/slack/interactions", nil)
		r.Body, r.ContentLength = failingBody{}, maxBody
		if _, err := readBody(httptest.NewRecorder(), r); err == nil {
			t.Fatal("a body that failed was read")
		}
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
		t.Fatalf("10 empty requests announcing %d bytes allocated %d bytes", maxBody, got)
	}
}
