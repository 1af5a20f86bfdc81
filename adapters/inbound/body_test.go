package inbound

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

func request(body io.Reader, length int64) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/in", nil)
	r.Body, r.ContentLength = io.NopCloser(body), length
	return r
}

// A body is read whole after its prefix, whether it announces its length
// or not, and however it arrives (a byte at a time here).
func TestReadBodyReadsTheBody(t *testing.T) {
	for _, size := range []int{0, 1, 511, 512, 513, FirstRead - 1, FirstRead, FirstRead + 1, 5*FirstRead + 3, 1 << 20} {
		body := bytes.Repeat([]byte("abcdefg"), size/7+1)[:size]
		for name, r := range map[string]*http.Request{
			"announced":          request(bytes.NewReader(body), int64(size)),
			"chunked":            request(bytes.NewReader(body), -1),
			"announced, by byte": request(iotest.OneByteReader(bytes.NewReader(body)), int64(size)),
			"chunked, by byte":   request(iotest.OneByteReader(bytes.NewReader(body)), -1),
		} {
			if size == 1<<20 && strings.HasSuffix(name, "by byte") {
				continue
			}
			got, err := ReadBody(httptest.NewRecorder(), r, "1764554400", 1<<20)
			if err != nil || string(got) != "1764554400"+string(body) {
				t.Errorf("%d bytes, %s: read %d bytes, %v", size, name, len(got), err)
			}
		}
	}
}

// An announced length is read exactly: a body that ends before it is an
// error, never taken as if the rest were zeros; bytes after it are not
// read.
func TestReadBodyHoldsToTheAnnouncedLength(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 3*FirstRead)
	for _, n := range []int{10, FirstRead + 10} {
		if _, err := ReadBody(httptest.NewRecorder(), request(bytes.NewReader(body[:n-1]), int64(n)), "", 1<<20); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%d announced, %d sent: %v", n, n-1, err)
		}
		got, err := ReadBody(httptest.NewRecorder(), request(bytes.NewReader(body), int64(n)), "", 1<<20)
		if err != nil || len(got) != n {
			t.Errorf("%d announced, more sent: read %d, %v", n, len(got), err)
		}
	}
}

// Without a length, the limit applies while reading.
func TestReadBodyLimitsABodyWithoutItsLength(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 1<<20+1)
	_, err := ReadBody(httptest.NewRecorder(), request(bytes.NewReader(body), -1), "", 1<<20)
	if _, ok := errors.AsType[*http.MaxBytesError](err); !ok {
		t.Errorf("1 MiB + 1 without its length: %v, want a MaxBytesError", err)
	}
	if got, err := ReadBody(httptest.NewRecorder(), request(bytes.NewReader(body[:1<<20]), -1), "", 1<<20); err != nil || len(got) != 1<<20 {
		t.Errorf("1 MiB without its length: read %d, %v", len(got), err)
	}
}

type failingBody struct{}

func (failingBody) Read([]byte) (int, error) { return 0, errors.New("client went away") }

// A client that announces a megabyte (or 64 KiB) and sends nothing makes
// the bot allocate FirstRead at most, not what it announced: the body is
// read before its signature can be checked.
func TestReadBodyDoesNotTrustAnAnnouncedLength(t *testing.T) {
	for _, n := range []int64{1 << 20, 64 << 10, FirstRead + 1} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		const requests = 20
		for range requests {
			if _, err := ReadBody(httptest.NewRecorder(), request(failingBody{}, n), "1764554400", 1<<20); err == nil {
				t.Fatal("a body that failed was read")
			}
		}
		runtime.ReadMemStats(&after)
		// The request and recorder cost a few KB each besides.
		if got := (after.TotalAlloc - before.TotalAlloc) / requests; got > FirstRead+8<<10 {
			t.Errorf("an empty request announcing %d bytes allocated %d bytes", n, got)
		}
	}
}
