package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/upgradebot/upgradebot/bot"
)

// EventStream is the shared event stream read from a position (../../store).
type EventStream interface {
	EventsAfter(ctx context.Context, after string, max int) ([]bot.StreamEvent, error)
	WaitEvents(ctx context.Context, after string, max int, block time.Duration) ([]bot.StreamEvent, error)
	LastEventPos(ctx context.Context) (string, error)
}

// Live subscription: GET /api/v1/events is a Server-Sent Events stream of
// the events (bearer token, or ?token= for a browser's EventSource, which
// cannot send headers), each as
//
//	id: <stream position>
//	event: <type>
//	data: <the event's JSON>
//
// A client that reconnects sends the last id it got as Last-Event-ID (a
// browser's EventSource does so by itself; ?last_event_id= works too) and
// first receives what it missed, as far back as the capped stream keeps.
// One reader per process follows the stream for all subscribers, so a
// hundred dashboards cost one blocked Redis connection, not a hundred.

// sseKeepAlive is how often an idle subscription gets a comment line, so
// proxies do not close it.
const sseKeepAlive = 15 * time.Second

// sseBuffer is how many events a subscriber may be behind before it is
// dropped (it reconnects with Last-Event-ID and catches up).
const sseBuffer = 512

var posShape = regexp.MustCompile(`^[0-9]{1,20}-[0-9]{1,20}$`)

func (s *Surface) events(w http.ResponseWriter, r *http.Request) {
	if s.stream == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "this server has no event stream")
		return
	}
	service, err := s.serviceParam(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", err.Error())
		return
	}
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		if last, err = param(r, "last_event_id"); err != nil {
			writeError(w, http.StatusBadRequest, "bad_parameter", err.Error())
			return
		}
	}
	if last != "" && !posShape.MatchString(last) {
		writeError(w, http.StatusBadRequest, "bad_parameter", fmt.Sprintf("Last-Event-ID: %q is not an id this stream sent (they look like 1700000000000-0)", last))
		return
	}
	ctx := r.Context()
	sub, err := s.hub.subscribe(ctx)
	if err != nil {
		s.coreError(w, r, err)
		return
	}
	defer s.hub.unsubscribe(sub)
	if last != "" {
		// An id beyond the newest event (from a stream that was reset, or
		// made up) would hold back every event to come: refuse it.
		newest, err := s.stream.LastEventPos(ctx)
		if err != nil {
			s.coreError(w, r, err)
			return
		}
		if bot.PosAfter(last, newest) {
			writeError(w, http.StatusBadRequest, "bad_parameter", fmt.Sprintf("Last-Event-ID: %s is after the newest event (%s); this stream never sent it. Reconnect without it.", last, newest))
			return
		}
	}

	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no") // nginx: do not buffer
	w.WriteHeader(http.StatusOK)
	sent := last
	write := func(chunk string) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := fmt.Fprint(w, chunk); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	send := func(ev bot.StreamEvent) bool {
		if sent != "" && !bot.PosAfter(ev.Pos, sent) {
			return true // caught up with it already
		}
		sent = ev.Pos
		if ev.JSON == nil || (service != "" && !strings.EqualFold(ev.Event.Service, service)) {
			return true
		}
		return write("id: " + ev.Pos + "\nevent: " + ev.Event.Type + "\ndata: " + string(ev.JSON) + "\n\n")
	}
	if !write("retry: 3000\n: upgradebot events\n\n") {
		return
	}
	// What the client missed, then what the shared reader brings.
	for after := last; after != ""; {
		evs, err := s.stream.EventsAfter(ctx, after, 500)
		if err != nil {
			s.log.WarnContext(ctx, "reading missed events failed", "err", err)
			return // the client reconnects and tries again
		}
		for _, ev := range evs {
			if !send(ev) {
				return
			}
		}
		if len(evs) < 500 {
			break
		}
		after = evs[len(evs)-1].Pos
	}
	tick := time.NewTicker(sseKeepAlive)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.closing:
			return
		case ev, ok := <-sub.ch:
			if !ok {
				return // too slow: the client reconnects with Last-Event-ID
			}
			if !send(ev) {
				return
			}
		case <-tick.C:
			if !write(": keepalive\n\n") {
				return
			}
		}
	}
}

// hub follows the stream for every subscriber of this process: it runs
// while somebody listens.
type hub struct {
	src  EventStream
	log  *slog.Logger
	stop <-chan struct{}

	mu      sync.Mutex
	subs    map[*subscriber]bool
	running bool
	pos     string
}

type subscriber struct{ ch chan bot.StreamEvent }

// subscribe adds a subscriber that gets every event recorded from now on.
func (h *hub) subscribe(ctx context.Context) (*subscriber, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.running {
		pos, err := h.src.LastEventPos(ctx)
		if err != nil {
			return nil, err
		}
		h.pos, h.running = pos, true
		go h.follow()
	}
	sub := &subscriber{ch: make(chan bot.StreamEvent, sseBuffer)}
	if h.subs == nil {
		h.subs = map[*subscriber]bool{}
	}
	h.subs[sub] = true
	return sub, nil
}

func (h *hub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs[sub] {
		delete(h.subs, sub)
		close(sub.ch)
	}
}

// follow reads the stream and hands each event to every subscriber; it
// stops when nobody listens any more.
func (h *hub) follow() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-h.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		h.mu.Lock()
		if len(h.subs) == 0 || ctx.Err() != nil {
			h.running = false
			h.mu.Unlock()
			return
		}
		pos := h.pos
		h.mu.Unlock()
		evs, err := h.src.WaitEvents(ctx, pos, 200, 5*time.Second)
		if err != nil {
			if ctx.Err() == nil {
				h.log.WarnContext(ctx, "following the event stream failed", "err", err)
				select {
				case <-time.After(time.Second):
				case <-ctx.Done():
				}
			}
			continue
		}
		h.mu.Lock()
		for _, ev := range evs {
			h.pos = ev.Pos
			for sub := range h.subs {
				select {
				case sub.ch <- ev:
				default: // too slow: dropped, it reconnects and catches up
					delete(h.subs, sub)
					close(sub.ch)
				}
			}
		}
		h.mu.Unlock()
	}
}
