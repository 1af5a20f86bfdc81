package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/internal/syncbuf"
)

// hungCore is a core whose store does not answer: each read waits until
// its request's context ends.
type hungCore struct{ *fakeCore }

func (c hungCore) Upgrades(ctx context.Context, _ bot.Filter) ([]*bot.Upgrade, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (c hungCore) View(ctx context.Context, _ int) (bot.View, error) {
	<-ctx.Done()
	return bot.View{}, ctx.Err()
}

// A store that does not answer (a Redis that hangs) holds a request of the
// API, the page, the calendar or the feed no longer than the read budget:
// then it is a 503 that says so, with Retry-After, not a request held for
// as long as the store takes (a minute, seen).
func TestAStoreThatDoesNotAnswerIsA503WithinTheBudget(t *testing.T) {
	srv := serve(t, New(Options{Core: hungCore{readinessCore()}, Tokens: []string{"tok"}, Public: true, ReadBudget: 50 * time.Millisecond}))
	for _, path := range []string{"/api/v1/upgrades", "/api/v1/upgrades/UPG-1", "/", "/calendar.ics", "/feed.atom"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer tok")
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // the test's own bound
		resp, err := http.DefaultClient.Do(req.WithContext(ctx))
		cancel()
		if err != nil {
			t.Fatalf("%s: %v (the request was held)", path, err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		says := "the store did not answer within 50ms"
		var body apiError
		if path == "/" { // a page for people
			if !strings.Contains(string(raw), "<h1>Unavailable</h1>") || !strings.Contains(string(raw), says) {
				t.Errorf("%s: %s; want a page saying it is unavailable", path, raw)
			}
		} else if err := json.Unmarshal(raw, &body); err != nil || body.Code != "unavailable" || !strings.Contains(body.Message, says) {
			t.Errorf("%s: %s; want unavailable saying %q", path, raw, says)
		}
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: %d (Retry-After %q); want 503 with Retry-After", path, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
}

// A page opened with a bad parameter says so as a page; the calendar, the
// feed and the API answer tools in JSON.
func TestPagesAnswerErrorsAsPages(t *testing.T) {
	srv := serve(t, New(Options{Core: readinessCore(), Tokens: []string{"tok"}, Public: true}))
	for path, page := range map[string]bool{"/?service=nosuch": true, "/calendar.ics?service=nosuch": false, "/api/v1/upgrades?service=nosuch": false} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		html := strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html")
		if resp.StatusCode != http.StatusBadRequest || html != page || !strings.Contains(string(raw), "nosuch") {
			t.Errorf("%s: %d %s %s; want 400 naming the service, as a page: %v", path, resp.StatusCode, resp.Header.Get("Content-Type"), raw, page)
		}
	}
}

// downCore is a core whose store does not answer at once (a connection
// refused or timed out): its errors say so (bot.Unavailable).
type downCore struct{ *fakeCore }

type noAnswer struct{}

func (noAnswer) Error() string     { return "dial tcp 10.0.0.9:6379: i/o timeout" }
func (noAnswer) Unavailable() bool { return true }

func (c downCore) Upgrades(context.Context, bot.Filter) ([]*bot.Upgrade, error) {
	return nil, fmt.Errorf("store: list: %w", noAnswer{})
}

// A store that does not answer at once (a dial that timed out while Redis
// hung, QA: 500 internal after 5 s) is a 503 too, not a 500.
func TestAStoreThatCannotBeReachedIsA503(t *testing.T) {
	srv := serve(t, New(Options{Core: downCore{readinessCore()}, Tokens: []string{"tok"}, Public: true}))
	code, hdr, body := call(t, srv, http.MethodGet, "/api/v1/upgrades", "Authorization", "Bearer tok")
	if code != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" || !strings.Contains(body, `"unavailable"`) || strings.Contains(body, "10.0.0.9") {
		t.Errorf("%d %s (Retry-After %q); want 503 unavailable, saying nothing of the address", code, body, hdr.Get("Retry-After"))
	}
}

// While the store does not answer, the log says so once a minute, not once
// a request (QA: six WARN lines at once for six requests in flight), with
// how many were held back.
func TestAStoreThatDoesNotAnswerIsLoggedOnceAMinute(t *testing.T) {
	var logs syncbuf.Buffer
	srv := serve(t, New(Options{Core: downCore{readinessCore()}, Tokens: []string{"tok"}, Public: true,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}))
	for range 5 {
		if code, _, _ := call(t, srv, http.MethodGet, "/api/v1/upgrades", "Authorization", "Bearer tok"); code != http.StatusServiceUnavailable {
			t.Fatalf("%d, want 503", code)
		}
	}
	if n := strings.Count(logs.String(), "the store did not answer"); n != 1 {
		t.Errorf("%d log lines for 5 requests, want 1:\n%s", n, logs.String())
	}
	var e everyMinute
	now := time.Now()
	e.due(now)
	e.due(now.Add(time.Second))
	e.due(now.Add(2 * time.Second))
	if held, ok := e.due(now.Add(time.Minute)); !ok || held != 2 {
		t.Errorf("a minute on: due %v, %d held back; want due, 2", ok, held)
	}
}
