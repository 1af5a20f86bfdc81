package web

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// /static/ serves its files, never a listing of its directory.
func TestStaticServesFilesNotListings(t *testing.T) {
	srv := serveCore(t, readinessCore())
	if code, hdr, body := call(t, srv, http.MethodGet, "/static/status.css"); code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/css") {
		t.Errorf("/static/status.css: %d %s", code, hdr.Get("Content-Type"))
	} else if body == "" {
		t.Error("/static/status.css is empty")
	}
	for _, path := range []string{"/static/", "/static"} {
		if code, _, body := call(t, srv, http.MethodGet, path); code != http.StatusNotFound || strings.Contains(body, "status.css") {
			t.Errorf("%s: %d, want 404 without a listing:\n%s", path, code, body)
		}
	}
}

// /api/v1 answers the API's own 404 in JSON, not a redirect to /api/v1/.
func TestAPIRootIsAJSON404(t *testing.T) {
	srv := serveCore(t, readinessCore())
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e apiError
	if resp.StatusCode != http.StatusNotFound || json.Unmarshal(body, &e) != nil || e.Code != "not_found" || !strings.Contains(e.Message, "/api/v1/openapi.json") {
		t.Errorf("/api/v1: %d %s %s, want 404 not_found in JSON pointing to the OpenAPI document", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

// What people open is never sniffed for another type; opened with
// ?token=, it is not stored by caches and sends no Referer, so the token
// does not leak from the address.
func TestPeoplesPagesHeaders(t *testing.T) {
	srv := serve(t, New(Options{Core: readinessCore(), Tokens: []string{"tok"}, Public: false}))
	for _, path := range []string{"/", "/upgrades/1", "/upgrades/99", "/calendar.ics", "/feed.atom"} {
		for _, withToken := range []bool{false, true} {
			url, hdr := path, []string{}
			if withToken {
				sep := "?"
				if strings.Contains(url, "?") {
					sep = "&"
				}
				url += sep + "token=tok"
				hdr = []string{"Authorization", ""}
			}
			code, h, _ := call(t, srv, http.MethodGet, url, hdr...)
			if code != http.StatusOK && code != http.StatusNotFound {
				t.Fatalf("%s: %d", url, code)
			}
			if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("%s: X-Content-Type-Options %q, want nosniff", url, got)
			}
			cache, ref := h.Get("Cache-Control"), h.Get("Referrer-Policy")
			if withToken && (cache != "no-store" || ref != "no-referrer") {
				t.Errorf("%s: Cache-Control %q, Referrer-Policy %q; want no-store, no-referrer", url, cache, ref)
			}
			if !withToken && cache == "no-store" {
				t.Errorf("%s: no-store without a token in the address", url)
			}
		}
	}
}
