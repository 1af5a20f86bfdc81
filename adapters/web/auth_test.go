package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// The auth scheme is case-insensitive (RFC 9110 11.1); a 401 says whether
// the token was missing or not accepted, never echoing it.
func TestTokensAndWhatA401Says(t *testing.T) {
	const secret = "s3cret-guess"
	srv := serve(t, New(Options{Core: readinessCore(), Tokens: []string{"tok"}, Public: false}))
	for _, c := range []struct {
		path, auth string
		status     int
		says       string // in the message
		challenge  string // WWW-Authenticate
	}{
		{"/api/v1/upgrades", "Bearer tok", http.StatusOK, "", ""},
		{"/api/v1/upgrades", "bearer tok", http.StatusOK, "", ""},
		{"/api/v1/upgrades", "BEARER  tok ", http.StatusOK, "", ""},
		{"/feed.atom", "bearer tok", http.StatusOK, "", ""},
		{"/api/v1/upgrades", "", http.StatusUnauthorized, "a bearer token from api.tokens is required", `Bearer realm="upgradebot"`},
		{"/api/v1/upgrades", "Bearer", http.StatusUnauthorized, "a bearer token from api.tokens is required", `Bearer realm="upgradebot"`},
		{"/api/v1/upgrades", "Bearer " + secret, http.StatusUnauthorized, "the token is not accepted", `Bearer realm="upgradebot", error="invalid_token"`},
		{"/api/v1/upgrades", "Basic dXNlcjpwYXNz", http.StatusUnauthorized, "only bearer tokens are accepted", `Bearer realm="upgradebot"`},
		{"/api/v1/upgrades?token=tok", "", http.StatusUnauthorized, "this path does not take ?token=", `Bearer realm="upgradebot"`},
		{"/feed.atom", "", http.StatusUnauthorized, "not public", `Bearer realm="upgradebot"`},
		{"/feed.atom?token=" + secret, "", http.StatusUnauthorized, "the token is not accepted", `Bearer realm="upgradebot", error="invalid_token"`},
		{"/upgrades/1", "bEaReR " + secret, http.StatusUnauthorized, "the token is not accepted", `Bearer realm="upgradebot", error="invalid_token"`},
		{"/", "", http.StatusUnauthorized, "not public", `Bearer realm="upgradebot"`},
		{"/?token=" + secret, "", http.StatusUnauthorized, "the token is not accepted", `Bearer realm="upgradebot", error="invalid_token"`},
	} {
		code, hdr, body := call(t, srv, http.MethodGet, c.path, "Authorization", c.auth)
		if code != c.status {
			t.Errorf("%s with %q: %d, want %d: %s", c.path, c.auth, code, c.status, body)
			continue
		}
		if c.status == http.StatusOK {
			continue
		}
		if strings.HasPrefix(c.path, "/upgrades/") || strings.HasPrefix(c.path, "/?") || c.path == "/" {
			// A page: people get a page that says it, not JSON.
			if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !strings.Contains(body, "Not authorized") || !strings.Contains(body, c.says) {
				t.Errorf("%s with %q: %s %s; want a page saying %q", c.path, c.auth, ct, body, c.says)
			}
		} else {
			var e struct{ Code, Message string }
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Code != "unauthorized" || !strings.Contains(e.Message, c.says) {
				t.Errorf("%s with %q: %s; want unauthorized saying %q", c.path, c.auth, body, c.says)
			}
		}
		if strings.Contains(body, secret) || strings.Contains(hdr.Get("WWW-Authenticate"), secret) {
			t.Errorf("%s with %q: the answer echoes the token: %s", c.path, c.auth, body)
		}
		if got := hdr.Get("WWW-Authenticate"); got != c.challenge {
			t.Errorf("%s with %q: WWW-Authenticate %q, want %q", c.path, c.auth, got, c.challenge)
		}
	}
}
