package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/commands"
)

// clockCore is readinessCore with a clock a test moves, and standard
// windows and a freeze (Windows), so that every polled endpoint answers.
type clockCore struct {
	*fakeCore
	mu  sync.Mutex
	now time.Time
}

func newClockCore() *clockCore {
	c := readinessCore()
	return &clockCore{fakeCore: c, now: c.now}
}

func (c *clockCore) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clockCore) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *clockCore) Stats(ctx context.Context, service string) (bot.Stats, error) {
	now := c.Now()
	st, err := c.fakeCore.Stats(ctx, service)
	st.At, st.Periods[0].From, st.Periods[0].To = now, now.Add(-30*24*time.Hour), now
	return st, err
}

func (c *clockCore) Windows(_ context.Context, service string, n int) (bot.WindowsReport, error) {
	win := commands.Window{Day: time.Tuesday, Start: 2 * 60, End: 5 * 60, Loc: time.UTC}
	svc := bot.Service{Name: "payments", Windows: []commands.Window{win}}
	var slots []bot.Slot
	for _, o := range win.Occurrences(c.Now(), c.Now().Add(time.Duration(n)*7*24*time.Hour))[:n] {
		slots = append(slots, bot.Slot{Occurrence: o})
	}
	return bot.WindowsReport{Service: svc, Slots: slots}, nil
}

func (c *clockCore) Freezes(context.Context, bool) ([]bot.Freeze, error) {
	return []bot.Freeze{{Name: "year-end", From: c.fakeCore.now.Add(90 * time.Minute), To: c.fakeCore.now.Add(10 * 24 * time.Hour), Reason: "holidays", Configured: true}}, nil
}

func serve(t *testing.T, s *Surface) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	s.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(s.Close)
	return srv
}

// call fetches path with the headers hdr (name, value, ...), a bearer token
// unless hdr sets Authorization ("": none); it returns status, headers and body.
func call(t *testing.T, srv *httptest.Server, method, path string, hdr ...string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer tok")
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Authorization" { // instead of the token; "": none
			req.Header.Del("Authorization")
			if hdr[i+1] == "" {
				continue
			}
		}
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

// A poller of an answer that says when it was made ("at") gets 304 while
// nothing else in it changed, however the clock moved; once something did,
// 200 with another tag.
func TestETagOfAnswersThatSayWhenTheyWereMade(t *testing.T) {
	c := newClockCore()
	srv := serve(t, New(Options{Core: c, Tokens: []string{"tok"}, Public: true}))
	paths := []string{"/api/v1/services/payments/status", "/api/v1/services/payments/windows", "/api/v1/freezes", "/api/v1/stats"}
	tags := map[string]string{}
	for _, path := range paths {
		code, hdr, body := call(t, srv, http.MethodGet, path)
		tag := hdr.Get("ETag")
		if code != http.StatusOK || tag == "" || !strings.Contains(body, `"at":"2026-11-30T08:00:00Z"`) {
			t.Fatalf("%s: %d, ETag %q, %s", path, code, tag, body)
		}
		if !strings.HasPrefix(tag, `W/"`) {
			t.Errorf("%s: ETag %s; want a weak one, the bytes differ with the clock", path, tag)
		}
		tags[path] = tag
	}
	c.advance(time.Minute) // nothing but the clock
	for _, path := range paths {
		if code, hdr, body := call(t, srv, http.MethodGet, path, "If-None-Match", tags[path]); code != http.StatusNotModified || hdr.Get("ETag") != tags[path] || body != "" {
			t.Errorf("%s a minute later with If-None-Match %s: %d, ETag %q, %q; want 304", path, tags[path], code, hdr.Get("ETag"), body)
		}
	}
	// Two hours on, UPG-1's window has begun and the freeze holds: the
	// status and the freezes changed; the stats did not.
	c.advance(2 * time.Hour)
	for path, changed := range map[string]bool{paths[0]: true, paths[2]: true, paths[3]: false} {
		code, hdr, body := call(t, srv, http.MethodGet, path, "If-None-Match", tags[path])
		switch {
		case changed && (code != http.StatusOK || hdr.Get("ETag") == tags[path]):
			t.Errorf("%s once it changed: %d, ETag %q (was %q); want 200 with another tag\n%s", path, code, hdr.Get("ETag"), tags[path], body)
		case !changed && code != http.StatusNotModified:
			t.Errorf("%s, unchanged: %d; want 304", path, code)
		}
	}
	if code, _, body := call(t, srv, http.MethodGet, paths[0]); code != http.StatusOK || !strings.Contains(body, `"in_maintenance":true`) {
		t.Fatalf("payments two hours on: %d %s", code, body)
	}
}

// If-None-Match compares weakly (RFC 9110 13.1.2): the weak form of the
// tag, *, a list with the tag anywhere, and several fields all match.
func TestIfNoneMatchForms(t *testing.T) {
	srv := serveCore(t, readinessCore())
	_, hdr, _ := call(t, srv, http.MethodGet, "/api/v1/upgrades/UPG-1")
	tag := hdr.Get("ETag")
	if !strings.HasPrefix(tag, `"`) {
		t.Fatalf("the ETag of an upgrade is strong: %q", tag)
	}
	for _, c := range []struct {
		fields []string
		want   int
	}{
		{[]string{tag}, http.StatusNotModified},
		{[]string{"W/" + tag}, http.StatusNotModified},
		{[]string{"*"}, http.StatusNotModified},
		{[]string{`"other", ` + tag}, http.StatusNotModified},
		{[]string{`W/"other",W/` + tag + ` , "more"`}, http.StatusNotModified},
		{[]string{`"other"`, tag}, http.StatusNotModified},
		{[]string{`"other"`}, http.StatusOK},
		{[]string{`"other", W/"more"`}, http.StatusOK},
		{[]string{strings.Trim(tag, `"`)}, http.StatusOK}, // not an entity tag: no quotes
	} {
		var hdr []string
		for _, f := range c.fields {
			hdr = append(hdr, "If-None-Match", f)
		}
		if code, _, _ := call(t, srv, http.MethodGet, "/api/v1/upgrades/UPG-1", hdr...); code != c.want {
			t.Errorf("If-None-Match %q: %d, want %d", c.fields, code, c.want)
		}
	}
}

func TestOpenAPIDocumentHasAnETag(t *testing.T) {
	srv := serveCore(t, readinessCore())
	code, hdr, body := call(t, srv, http.MethodGet, "/api/v1/openapi.json", "Authorization", "")
	tag := hdr.Get("ETag")
	if code != http.StatusOK || tag == "" || !strings.HasPrefix(body, "{") {
		t.Fatalf("openapi.json: %d, ETag %q", code, tag)
	}
	if code, hdr, _ := call(t, srv, http.MethodGet, "/api/v1/openapi.json", "Authorization", "", "If-None-Match", tag); code != http.StatusNotModified || hdr.Get("ETag") != tag {
		t.Errorf("openapi.json with If-None-Match %s: %d", tag, code)
	}
}
