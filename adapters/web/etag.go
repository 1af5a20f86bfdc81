package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
)

// Conditional requests (RFC 9110 8.8.3, 13.1.2): every answer of /api/v1
// has an ETag, and a client that sends it back in If-None-Match gets 304
// Not Modified while the answer would say the same.
//
// Most answers are the same bytes while nothing changed: their tag is
// strong, the hash of the body. Some also say when they were made ("at"):
// those bytes differ from one second to the next although nothing the
// answer tells has changed. Their tag is weak (W/"…"), the hash of the
// answer without that instant (stamped); it still changes whenever anything
// else in the answer does, also with time alone (a window opens, a freeze
// begins to hold, an upgrade leaves a period of the stats).

// stamped is an answer that carries the instant it was made: unstamped is
// the same answer without it (and without what only restates it), which
// its weak ETag is the hash of.
type stamped interface{ unstamped() any }

// writeJSON answers v with an ETag, or 304 when the client has it already.
func writeJSON(w http.ResponseWriter, r *http.Request, v any) {
	body, err := encodeJSON(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "the answer could not be encoded")
		return
	}
	etag := strongTag(body)
	if st, ok := v.(stamped); ok {
		same, err := encodeJSON(st.unstamped())
		if err != nil {
			writeError(w, http.StatusInternalServerError, "internal", "the answer could not be encoded")
			return
		}
		etag = "W/" + strongTag(same)
	}
	answer(w, r, etag, "application/json", body)
}

func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return buf.Bytes(), err
}

// strongTag is the strong entity tag of body: "<hex>".
func strongTag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// answer writes body with etag, or 304 Not Modified (with the same ETag,
// no body) when If-None-Match matches it.
func answer(w http.ResponseWriter, r *http.Request, etag, contentType string, body []byte) {
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "no-cache")
	if noneMatch(r.Header.Values("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", contentType)
	_, _ = w.Write(body)
}

// noneMatch reports whether If-None-Match (all its fields) matches etag:
// "*", or any entity tag of its comma-separated list that is the same as
// etag under the weak comparison of RFC 9110 8.8.3.2 (W/ aside, the same
// opaque tag), which is the one If-None-Match uses (13.1.2).
func noneMatch(fields []string, etag string) bool {
	want := strings.TrimPrefix(etag, "W/")
	for _, f := range fields {
		for {
			f = strings.TrimLeft(f, " \t,")
			if f == "" {
				break
			}
			if f[0] == '*' {
				return true
			}
			opaque, rest, ok := scanETag(f)
			if !ok {
				break // not an entity tag: nothing after it is read
			}
			if opaque == want {
				return true
			}
			f = rest
		}
	}
	return false
}

// scanETag reads the entity tag s starts with: its opaque tag (quotes
// included, W/ left out) and what follows it.
func scanETag(s string) (opaque, rest string, ok bool) {
	s = strings.TrimPrefix(s, "W/")
	if len(s) < 2 || s[0] != '"' {
		return "", "", false
	}
	end := strings.IndexByte(s[1:], '"')
	if end < 0 {
		return "", "", false
	}
	return s[:end+2], s[end+2:], true
}
