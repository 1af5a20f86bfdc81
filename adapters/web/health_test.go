package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, h *Health, path string) (int, string) {
	t.Helper()
	mux := http.NewServeMux()
	h.Routes(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestHealthAndReadiness(t *testing.T) {
	redisDown := errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	cases := []struct {
		name   string
		checks []Check
		code   int
		want   []string
	}{
		{"all fine", []Check{{"redis", func(context.Context) error { return nil }}}, 200, []string{"ready"}},
		{"redis down", []Check{{"redis", func(context.Context) error { return redisDown }}, {"slack", func(context.Context) error { return nil }}}, 503,
			[]string{"not ready", "redis: dial tcp 127.0.0.1:6379: connect: connection refused"}},
		{"slack not connected", []Check{{"redis", func(context.Context) error { return nil }}, {"slack", func(context.Context) error { return errors.New("socket mode not connected") }}}, 503,
			[]string{"slack: socket mode not connected"}},
		{"an error that names its check is not named twice", []Check{{"slack", func(context.Context) error {
			return errors.New("slack: cannot reach Slack at slack.invalid: no such host")
		}}}, 503,
			[]string{"not ready\nslack: cannot reach Slack at slack.invalid: no such host\n"}},
		{"a hanging check times out", []Check{{"redis", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }}}, 503,
			[]string{"redis: context deadline exceeded"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := &Health{Checks: c.checks, Timeout: 200 * time.Millisecond}
			code, body := get(t, h, "/readyz")
			if code != c.code {
				t.Fatalf("readyz = %d, want %d: %s", code, c.code, body)
			}
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("readyz body lacks %q: %s", w, body)
				}
			}
			if code, _ := get(t, h, "/healthz"); code != 200 {
				t.Errorf("healthz = %d while the process runs", code)
			}
		})
	}
}
