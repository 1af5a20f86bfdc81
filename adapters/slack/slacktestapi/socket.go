package slacktestapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// Socket is a fake Socket Mode endpoint: it accepts the bot's WebSocket (as
// Slack does, from Origin https://api.slack.com), says hello, pings it
// regularly, sends envelopes and collects the acks.
type Socket struct {
	srv *httptest.Server

	mu    sync.Mutex
	conn  *websocket.Conn
	conns int
	// dropAfterHello closes each connection right after its hello, as a
	// proxy that cuts WebSockets, or Slack ending one of more replicas'
	// connections than it keeps, does.
	dropAfterHello bool
	acks           map[string]json.RawMessage // envelope id -> ack payload ("null" when bare)
	changed        chan struct{}
	seq            int
	writeMu        sync.Mutex
}

// NewSocket starts a fake Socket Mode server on 127.0.0.1. Point the fake
// Web API's apps.connections.open at it with api.SetSocketURL(s.URL()).
func NewSocket(t testing.TB) *Socket {
	t.Helper()
	s := &Socket{acks: map[string]json.RawMessage{}, changed: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		s.mu.Lock()
		if s.conn != nil {
			_ = s.conn.Close()
		}
		s.mu.Unlock()
		s.srv.Close()
	})
	return s
}

// URL is the ws:// URL of the endpoint.
func (s *Socket) URL() string { return "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/link" }

var upgrader = websocket.Upgrader{CheckOrigin: func(r *http.Request) bool {
	return r.Header.Get("Origin") == "https://api.slack.com"
}}

func (s *Socket) serve(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	s.mu.Lock()
	if s.conn != nil {
		_ = s.conn.Close()
	}
	s.conn = conn
	s.conns++
	s.signal()
	s.mu.Unlock()

	stop := make(chan struct{})
	defer close(stop)
	_ = s.write(conn, socketmode.Request{Type: socketmode.RequestTypeHello, NumConnections: 1,
		ConnectionInfo: socketmode.ConnectionInfo{AppID: "A0TEST"}, DebugInfo: socketmode.DebugInfo{Host: "fake"}})
	s.mu.Lock()
	drop := s.dropAfterHello
	if drop && s.conn == conn {
		s.conn = nil
	}
	s.mu.Unlock()
	if drop {
		_ = conn.Close()
		return
	}
	go func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				s.writeMu.Lock()
				err := conn.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second))
				s.writeMu.Unlock()
				if err != nil {
					return
				}
			}
		}
	}()
	for {
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if err := conn.ReadJSON(&ack); err != nil {
			return
		}
		if ack.Payload == nil {
			ack.Payload = json.RawMessage("null")
		}
		s.mu.Lock()
		s.acks[ack.EnvelopeID] = ack.Payload
		s.signal()
		s.mu.Unlock()
	}
}

// signal wakes waiters; called with s.mu held.
func (s *Socket) signal() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Socket) write(conn *websocket.Conn, v any) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return conn.WriteJSON(v)
}

func (s *Socket) wait(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s.mu.Lock()
		ok, ch := cond(), s.changed
		s.mu.Unlock()
		if ok {
			return
		}
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("socket mode: timed out after %s waiting for %s", timeout, what)
		}
		select {
		case <-ch:
		case <-time.After(left):
		}
	}
}

// WaitConnected waits until the bot has connected (n connections in all).
func (s *Socket) WaitConnected(t testing.TB, n int, timeout time.Duration) {
	t.Helper()
	s.wait(t, timeout, "the bot to connect", func() bool { return s.conns >= n && s.conn != nil })
}

// Disconnect tells the bot to reconnect, as Slack does every few hours
// ({"type":"disconnect","reason":"refresh_requested"}).
func (s *Socket) Disconnect(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	conn := s.conn
	s.mu.Unlock()
	if conn == nil {
		t.Fatal("socket mode: the bot is not connected")
	}
	if err := s.write(conn, socketmode.Request{Type: socketmode.RequestTypeDisconnect, Reason: "refresh_requested"}); err != nil {
		t.Fatalf("socket mode: disconnect: %v", err)
	}
}

// Drop closes the bot's connection abruptly, without a disconnect message
// or a close frame, as a network failure or a restarting Slack host does.
func (s *Socket) Drop(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	conn := s.conn
	s.conn = nil
	s.mu.Unlock()
	if conn == nil {
		t.Fatal("socket mode: the bot is not connected")
	}
	_ = conn.Close()
}

// DropAfterHello makes each connection from now on close right after its
// hello (on) or stay (off).
func (s *Socket) DropAfterHello(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropAfterHello = on
}

// Connections counts the WebSocket connections the bot has opened.
func (s *Socket) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// Envelope is one Socket Mode request to the bot.
type Envelope struct {
	ID           string // envelope_id; generated when empty
	Type         string // slash_commands, interactive, events_api
	Payload      any
	RetryAttempt int
	RetryReason  string
}

// Send writes an envelope to the connected bot and returns its id.
func (s *Socket) Send(t testing.TB, e Envelope) string {
	t.Helper()
	s.mu.Lock()
	conn := s.conn
	if e.ID == "" {
		s.seq++
		e.ID = fmt.Sprintf("env-%04d", s.seq)
	}
	s.mu.Unlock()
	if conn == nil {
		t.Fatal("socket mode: the bot is not connected")
	}
	payload, err := json.Marshal(e.Payload)
	if err != nil {
		t.Fatalf("socket mode: payload: %v", err)
	}
	msg := socketmode.Request{Type: e.Type, EnvelopeID: e.ID, Payload: payload,
		AcceptsResponsePayload: e.Type != socketmode.RequestTypeEventsAPI, RetryAttempt: e.RetryAttempt, RetryReason: e.RetryReason}
	if err := s.write(conn, msg); err != nil {
		t.Fatalf("socket mode: send: %v", err)
	}
	return e.ID
}

// SlashCommand sends a slash_commands envelope; sc.Text is what the user
// typed (escaped on the way, as Slack does).
func (s *Socket) SlashCommand(t testing.TB, sc slackgo.SlashCommand, retry int) string {
	t.Helper()
	sc.Text = escapeTyped(sc.Text)
	return s.Send(t, Envelope{Type: "slash_commands", Payload: sc, RetryAttempt: retry})
}

// Interaction sends an interactive envelope.
func (s *Socket) Interaction(t testing.TB, cb slackgo.InteractionCallback) string {
	t.Helper()
	return s.Send(t, Envelope{Type: "interactive", Payload: &cb})
}

// WaitAck waits for the ack of an envelope and returns its payload (JSON
// "null" for a bare ack).
func (s *Socket) WaitAck(t testing.TB, envelopeID string, timeout time.Duration) json.RawMessage {
	t.Helper()
	var p json.RawMessage
	s.wait(t, timeout, "the ack of "+envelopeID, func() bool {
		var ok bool
		p, ok = s.acks[envelopeID]
		return ok
	})
	return p
}

// Acked reports whether an envelope has been acknowledged, and its payload.
func (s *Socket) Acked(envelopeID string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.acks[envelopeID]
	return p, ok
}
