package web

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
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
		var body apiError
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || body.Code != "unavailable" || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: %d %+v (Retry-After %q); want 503 unavailable with Retry-After", path, resp.StatusCode, body, resp.Header.Get("Retry-After"))
		}
	}
}
