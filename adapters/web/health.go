// Package web serves the bot's own HTTP surface: health, readiness and
// (in later issues) the status API, calendar and metrics.
package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Check is one readiness condition: nil when fine, else the reason.
type Check struct {
	Name string
	Func func(ctx context.Context) error
}

// Health serves /healthz and /readyz.
type Health struct {
	Checks  []Check
	Timeout time.Duration // per readiness probe, default 2s
	// Redact hides secrets in the reasons /readyz gives to anyone who asks
	// (a server may echo back the token it was sent); nil: as they are.
	Redact func(string) string
}

// Routes registers the endpoints on mux.
func (h *Health) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", h.ready)
}

func (h *Health) ready(w http.ResponseWriter, r *http.Request) {
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	var failed []string
	for _, c := range h.Checks {
		if err := c.Func(ctx); err != nil {
			msg := err.Error()
			if h.Redact != nil {
				msg = h.Redact(msg)
			}
			if !strings.HasPrefix(msg, c.Name+": ") { // the check's own error may already say whose it is
				msg = c.Name + ": " + msg
			}
			failed = append(failed, msg)
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if len(failed) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "not ready\n"+strings.Join(failed, "\n"))
		return
	}
	fmt.Fprintln(w, "ready")
}
