package inbound

import (
	"io"
	"net/http"
)

// FirstRead is the most a request's announced length makes ReadBody
// allocate before any of the body has arrived. The body is read before its
// signature can be checked, so what it costs the bot should follow what
// the client actually sent, not what it claims it will send: a longer body
// grows its buffer as it arrives. A press is 2 to 6 KB.
const FirstRead = 16 << 10

// chunkedFirst is the first buffer of a body sent without its length (as
// io.ReadAll starts).
const chunkedFirst = 512

// ReadBody reads a request's body after prefix (which a platform may sign
// with it; "" for none) into one buffer, at most limit bytes of body: past
// that it returns an *http.MaxBytesError. The caller refuses an announced
// length over limit (413) before calling it, without reading.
//
// A body that announces its length is read exactly, into one buffer of
// that length when it is at most FirstRead (no copy), else into one grown,
// doubling, as the body arrives; one that ends before its length is an
// error (io.ErrUnexpectedEOF), never taken as if the rest were zeros. A
// body without a length is read as io.ReadAll would, up to limit.
func ReadBody(w http.ResponseWriter, r *http.Request, prefix string, limit int64) ([]byte, error) {
	want := -1 // the buffer's final length, when the request tells it
	first := len(prefix) + chunkedFirst
	var src io.Reader = r.Body // exactly the announced length is read
	if n := r.ContentLength; n >= 0 && n <= limit {
		want = len(prefix) + int(n)
		first = min(want, len(prefix)+FirstRead)
	} else {
		src = http.MaxBytesReader(w, r.Body, limit)
	}
	buf := make([]byte, len(prefix), first)
	copy(buf, prefix)
	for want < 0 || len(buf) < want {
		if len(buf) == cap(buf) {
			c := 2 * cap(buf)
			if want >= 0 {
				c = min(c, want)
			}
			grown := make([]byte, len(buf), c)
			copy(grown, buf)
			buf = grown
		}
		m, err := src.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		switch {
		case err == io.EOF && want < 0:
			return buf, nil
		case err == io.EOF && len(buf) < want:
			return nil, io.ErrUnexpectedEOF
		case err != nil && err != io.EOF:
			return nil, err
		}
	}
	return buf, nil
}
