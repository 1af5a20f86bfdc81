package slack

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/upgradebot/upgradebot/internal/hoststest"
)

// TestWebAPIRedirectNotFollowed: the host at slack.api_url answering a
// redirect (Slack's Web API never does) is not followed, to slack.com or
// anywhere: the call fails with the 3xx, naming the configured host, and
// is not taken for a network failure.
func TestWebAPIRedirectNotFollowed(t *testing.T) {
	for _, loc := range []string{"https://slack.com/api/chat.postMessage", "/api/chat.postMessage?r=1"} {
		t.Run(loc, func(t *testing.T) {
			proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, loc, http.StatusTemporaryRedirect)
			}))
			defer proxy.Close()
			hosts := &hoststest.Recorder{}
			a, err := New(Options{BotToken: "xoxb-test", SigningSecret: testSecret, APIURL: proxy.URL + "/api/", Mode: ModeHTTP,
				Core: &fakeCore{}, Logger: slog.New(slog.DiscardHandler), HTTPClient: &http.Client{Transport: hosts}})
			if err != nil {
				t.Fatal(err)
			}
			a.retry = fastRetry
			_, err = a.Post(context.Background(), "slack:C0PAYMENTS", notice("hello"))
			u, _ := url.Parse(proxy.URL)
			if got := hosts.Seen(); len(got) != 1 || got[0] != u.Host {
				t.Errorf("requests went to %v, want only %s", got, u.Host)
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != "http_307" || e.Unreachable() || e.Attempts != 1 {
				t.Fatalf("error %#v", err)
			}
			want := "slack chat.postMessage: http_307 from " + u.Host + " (slack.api_url), a redirect, not followed"
			if err.Error() != want {
				t.Errorf("error %q\nwant %q", err, want)
			}
			if adv := e.Advice(); !strings.Contains(adv, "slack.api_url") || !strings.Contains(adv, u.Host) {
				t.Errorf("advice %q", adv)
			}
		})
	}
}
