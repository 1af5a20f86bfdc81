// Package hoststest has a transport for tests that must show which hosts a
// client reached: it records the host of every request and sends on only
// those to 127.0.0.1, so a test never looks anything up, let alone reaches
// a real platform.
package hoststest

import (
	"fmt"
	"net/http"
	"sync"
)

// Recorder is an http.RoundTripper that records hosts.
type Recorder struct {
	mu    sync.Mutex
	hosts []string
}

// RoundTrip implements http.RoundTripper.
func (h *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.hosts = append(h.hosts, req.URL.Host)
	h.mu.Unlock()
	if req.URL.Hostname() != "127.0.0.1" {
		return nil, fmt.Errorf("test: request to %s refused", req.URL.Host)
	}
	return http.DefaultTransport.RoundTrip(req)
}

// Seen is the host of every request so far, in order.
func (h *Recorder) Seen() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.hosts...)
}
