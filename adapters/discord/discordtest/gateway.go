package discordtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// Gateway is a fake Discord gateway: it says HELLO, takes IDENTIFY (and
// answers READY) or RESUME (replays what the client missed, then RESUMED),
// acknowledges heartbeats, and dispatches events such as
// INTERACTION_CREATE. Drop closes the connection the way a network failure
// does, without a close frame.
type Gateway struct {
	srv *httptest.Server

	mu         sync.Mutex
	conn       *websocket.Conn
	seq        int64
	history    []frame // every dispatch, for replays
	identifies int
	resumes    int
	ready      int // READY or RESUMED sent
	changed    chan struct{}
	writeMu    sync.Mutex
}

// frame is one gateway payload.
type frame struct {
	Op   int             `json:"op"`
	Data json.RawMessage `json:"d"`
	Seq  int64           `json:"s,omitempty"`
	Type string          `json:"t,omitempty"`
}

// NewGateway starts a fake gateway on 127.0.0.1. Point the fake REST API's
// GET /gateway at it with api.SetGatewayURL(g.URL()).
func NewGateway(t testing.TB) *Gateway {
	t.Helper()
	g := &Gateway{changed: make(chan struct{})}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(func() {
		g.mu.Lock()
		if g.conn != nil {
			_ = g.conn.Close()
		}
		g.mu.Unlock()
		g.srv.Close()
	})
	return g
}

// URL is the ws:// URL of the gateway.
func (g *Gateway) URL() string { return "ws" + strings.TrimPrefix(g.srv.URL, "http") + "/" }

var upgrader = websocket.Upgrader{}

func (g *Gateway) signal() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// Identifies, Resumes and Ready count the sessions begun, resumed, and
// READY or RESUMED sent.
func (g *Gateway) Identifies() int { g.mu.Lock(); defer g.mu.Unlock(); return g.identifies }

// Resumes counts the RESUMEs taken.
func (g *Gateway) Resumes() int { g.mu.Lock(); defer g.mu.Unlock(); return g.resumes }

// Ready counts the READY and RESUMED events sent.
func (g *Gateway) Ready() int { g.mu.Lock(); defer g.mu.Unlock(); return g.ready }

// Connected reports whether a client is connected now.
func (g *Gateway) Connected() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.conn != nil }

// Wait waits until cond holds, waking on every change of the gateway.
func (g *Gateway) Wait(t testing.TB, timeout time.Duration, msg string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		g.mu.Lock()
		ch := g.changed
		g.mu.Unlock()
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("timed out after %s: %s", timeout, msg)
		}
		select {
		case <-ch:
		case <-time.After(min(left, 50*time.Millisecond)):
		}
	}
}

// Drop closes the client's connection without a close frame, as a network
// failure would.
func (g *Gateway) Drop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.conn != nil {
		_ = g.conn.UnderlyingConn().Close()
		g.conn = nil
		g.signal()
	}
}

// Dispatch sends an event (op 0) with the next sequence number; while no
// client is connected, it waits for the RESUME that replays it.
func (g *Gateway) Dispatch(t testing.TB, typ string, data any) {
	t.Helper()
	raw, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	g.seq++
	f := frame{Op: 0, Type: typ, Seq: g.seq, Data: raw}
	g.history = append(g.history, f)
	conn := g.conn
	g.mu.Unlock()
	if conn != nil {
		_ = g.write(conn, f)
	}
}

// Interaction dispatches INTERACTION_CREATE.
func (g *Gateway) Interaction(t testing.TB, i *discordgo.Interaction) {
	t.Helper()
	g.Dispatch(t, "INTERACTION_CREATE", i)
}

func (g *Gateway) write(conn *websocket.Conn, f frame) error {
	g.writeMu.Lock()
	defer g.writeMu.Unlock()
	_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return conn.WriteJSON(f)
}

func raw(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	if g.write(conn, frame{Op: 10, Data: raw(map[string]any{"heartbeat_interval": 41250})}) != nil {
		return
	}
	for {
		var in frame
		if err := conn.ReadJSON(&in); err != nil {
			g.mu.Lock()
			if g.conn == conn {
				g.conn = nil
				g.signal()
			}
			g.mu.Unlock()
			return
		}
		switch in.Op {
		case 1: // heartbeat
			_ = g.write(conn, frame{Op: 11})
		case 2: // identify
			var id struct {
				Token string `json:"token"`
			}
			_ = json.Unmarshal(in.Data, &id)
			if id.Token != "Bot "+Token {
				g.writeMu.Lock()
				_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4004, "Authentication failed."))
				g.writeMu.Unlock()
				return
			}
			// READY goes out before any dispatch on this connection: a
			// Dispatch that sees the new connection waits for writeMu.
			g.writeMu.Lock()
			g.mu.Lock()
			g.identifies++
			g.seq++
			f := frame{Op: 0, Type: "READY", Seq: g.seq, Data: raw(map[string]any{
				"v": 10, "session_id": Session, "resume_gateway_url": g.URL(),
				"user":        map[string]any{"id": BotID, "username": "upgradebot", "bot": true},
				"application": map[string]any{"id": AppID}, "guilds": []any{map[string]any{"id": GuildID, "unavailable": true}},
			})}
			g.history = append(g.history, f)
			g.conn = conn
			g.ready++
			g.signal()
			g.mu.Unlock()
			_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
			_ = conn.WriteJSON(f)
			g.writeMu.Unlock()
		case 6: // resume
			var rs struct {
				Token     string `json:"token"`
				SessionID string `json:"session_id"`
				Seq       int64  `json:"seq"`
			}
			_ = json.Unmarshal(in.Data, &rs)
			if rs.Token != "Bot "+Token || rs.SessionID != Session {
				_ = g.write(conn, frame{Op: 9, Data: raw(false)}) // invalid session: identify again
				continue
			}
			// The missed events, then RESUMED, before any new dispatch.
			g.writeMu.Lock()
			g.mu.Lock()
			g.resumes++
			var missed []frame
			for _, f := range g.history {
				if f.Seq > rs.Seq {
					missed = append(missed, f)
				}
			}
			g.seq++
			done := frame{Op: 0, Type: "RESUMED", Seq: g.seq, Data: raw(map[string]any{})}
			g.history = append(g.history, done)
			g.conn = conn
			g.ready++
			g.signal()
			g.mu.Unlock()
			_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
			for _, f := range append(missed, done) {
				_ = conn.WriteJSON(f)
			}
			g.writeMu.Unlock()
		}
	}
}
