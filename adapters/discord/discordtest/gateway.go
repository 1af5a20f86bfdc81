package discordtest

import (
	"bytes"
	"compress/zlib"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// Gateway is a fake Discord gateway: it says HELLO, takes IDENTIFY (and
// answers READY, compressed with zlib when IDENTIFY asks for it) or RESUME
// (replays what the client missed, then RESUMED), acknowledges heartbeats,
// and dispatches events such as INTERACTION_CREATE. As Discord does, it
// ends the session when the client closes with code 1000 or 1001 (a
// RESUME of it is answered op 9, not resumable), and names a URL of its
// own for resuming in READY (resume_gateway_url). Drop closes the
// connection the way a network failure does, without a close frame;
// CloseWith sends a close frame. Its misbehaviours: SetSilence (no HELLO,
// or no READY), SetInvalidSessions (every IDENTIFY answered op 9),
// SetAcks(false) (no heartbeat ACKs).
type Gateway struct {
	srv, resume *httptest.Server

	mu         sync.Mutex
	conn       *websocket.Conn         // the client's, once READY or RESUMED went out
	conns      map[*websocket.Conn]int // open connections: heartbeats left unanswered on each
	seq        int64
	history    []frame // every dispatch of the session, for replays
	session    string
	sessions   int
	valid      bool // the session may be resumed
	identifies int
	resumes    int
	resumesAt  int // RESUMEs taken on the resume URL
	ready      int // READY or RESUMED sent
	invalids   int // op 9 sent
	accepted   int // websocket connections
	heartbeats int
	unanswered int // heartbeats not acknowledged
	ends       []End
	silence    Silence
	refuse     bool // answer IDENTIFY with op 9
	noAcks     bool
	interval   time.Duration
	resumeAt   string // resume_gateway_url, when not the fake's own
	changed    chan struct{}
	writeMu    sync.Mutex
}

// Silence is what the fake gateway leaves unsaid (SetSilence).
type Silence int

// The silences: none, no HELLO after the connection opens, no READY or
// RESUMED after IDENTIFY or RESUME.
const (
	Talk Silence = iota
	NoHello
	NoReady
)

// frame is one gateway payload.
type frame struct {
	Op   int             `json:"op"`
	Data json.RawMessage `json:"d"`
	Seq  int64           `json:"s,omitempty"`
	Type string          `json:"t,omitempty"`
}

// GatewayOption changes how NewGateway serves.
type GatewayOption func(*gatewayOptions)

type gatewayOptions struct{ tls bool }

// WithTLS serves the gateway and its resume URL over TLS (wss://), with
// a certificate that RootCAs trusts.
func WithTLS() GatewayOption { return func(o *gatewayOptions) { o.tls = true } }

// NewGateway starts a fake gateway on 127.0.0.1, with a second listener
// for resuming. Point the fake REST API's GET /gateway at it with
// api.SetGatewayURL(g.URL()).
func NewGateway(t testing.TB, opts ...GatewayOption) *Gateway {
	t.Helper()
	var o gatewayOptions
	for _, fn := range opts {
		fn(&o)
	}
	g := &Gateway{changed: make(chan struct{}), conns: map[*websocket.Conn]int{}, session: Session, sessions: 1,
		interval: 41250 * time.Millisecond}
	start := httptest.NewServer
	if o.tls {
		start = httptest.NewTLSServer
	}
	g.srv = start(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { g.serve(w, r, false) }))
	g.resume = start(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { g.serve(w, r, true) }))
	t.Cleanup(func() {
		g.mu.Lock()
		for c := range g.conns {
			_ = c.Close()
		}
		g.mu.Unlock()
		g.srv.Close()
		g.resume.Close()
	})
	return g
}

// URL is the ws:// URL of the gateway.
func (g *Gateway) URL() string { return "ws" + strings.TrimPrefix(g.srv.URL, "http") + "/" }

// ResumeURL is the resume_gateway_url READY names: the same gateway on
// another port, unless SetResumeURL said otherwise.
func (g *Gateway) ResumeURL() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.resumeURL()
}

func (g *Gateway) resumeURL() string {
	if g.resumeAt != "" {
		return g.resumeAt
	}
	return "ws" + strings.TrimPrefix(g.resume.URL, "http")
}

// SetResumeURL makes READY name u as resume_gateway_url.
func (g *Gateway) SetResumeURL(u string) { g.locked(func() { g.resumeAt = u }) }

// RootCAs trusts the certificate of a gateway started WithTLS.
func (g *Gateway) RootCAs() *x509.CertPool {
	pool := x509.NewCertPool()
	if c := g.srv.Certificate(); c != nil {
		pool.AddCert(c)
	}
	if c := g.resume.Certificate(); c != nil {
		pool.AddCert(c)
	}
	return pool
}

var upgrader = websocket.Upgrader{}

func (g *Gateway) signal() {
	close(g.changed)
	g.changed = make(chan struct{})
}

func (g *Gateway) locked(fn func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	fn()
	g.signal()
}

// SetSilence makes the gateway leave HELLO unsaid on the connections that
// open from now on, or READY and RESUMED unsaid from now on (Talk: say
// everything again).
func (g *Gateway) SetSilence(s Silence) { g.locked(func() { g.silence = s }) }

func (g *Gateway) silent() Silence {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.silence
}

// SetInvalidSessions makes the gateway answer every IDENTIFY with op 9
// (not resumable), as Discord does when identifies come too fast.
func (g *Gateway) SetInvalidSessions(on bool) { g.locked(func() { g.refuse = on }) }

// SetAcks turns heartbeat ACKs on or off (off: a zombie connection).
func (g *Gateway) SetAcks(on bool) {
	g.locked(func() {
		g.noAcks = !on
		g.unanswered = 0
	})
}

// SetHeartbeatInterval sets the interval HELLO asks for (Discord: 41.25 s).
func (g *Gateway) SetHeartbeatInterval(d time.Duration) { g.locked(func() { g.interval = d }) }

// Identifies, Resumes and Ready count the sessions begun, resumed, and
// READY or RESUMED sent.
func (g *Gateway) Identifies() int { g.mu.Lock(); defer g.mu.Unlock(); return g.identifies }

// Resumes counts the RESUMEs taken.
func (g *Gateway) Resumes() int { g.mu.Lock(); defer g.mu.Unlock(); return g.resumes }

// ResumesAtResumeURL counts the RESUMEs taken on ResumeURL.
func (g *Gateway) ResumesAtResumeURL() int { g.mu.Lock(); defer g.mu.Unlock(); return g.resumesAt }

// Ready counts the READY and RESUMED events sent.
func (g *Gateway) Ready() int { g.mu.Lock(); defer g.mu.Unlock(); return g.ready }

// InvalidSessions counts the op 9 sent.
func (g *Gateway) InvalidSessions() int { g.mu.Lock(); defer g.mu.Unlock(); return g.invalids }

// Connections counts the websocket connections accepted.
func (g *Gateway) Connections() int { g.mu.Lock(); defer g.mu.Unlock(); return g.accepted }

// Heartbeats counts the heartbeats received; Unanswered those not
// acknowledged since SetAcks(false).
func (g *Gateway) Heartbeats() int { g.mu.Lock(); defer g.mu.Unlock(); return g.heartbeats }

// Unanswered counts the heartbeats left unacknowledged since SetAcks(false).
func (g *Gateway) Unanswered() int { g.mu.Lock(); defer g.mu.Unlock(); return g.unanswered }

// End is how a connection ended: the code of the client's close frame
// (1006: none, the connection was dropped), and how many of its heartbeats
// had gone unanswered (SetAcks(false)).
type End struct {
	Code       int
	Unanswered int
}

// Ends lists how the connections ended, in order.
func (g *Gateway) Ends() []End {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]End(nil), g.ends...)
}

// ClientCloses lists how the client's connections ended, in order: the code
// of its close frame, or 1006 for one dropped without a close frame.
func (g *Gateway) ClientCloses() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	var codes []int
	for _, e := range g.ends {
		codes = append(codes, e.Code)
	}
	return codes
}

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

// CloseWith sends the client a close frame with code and reason, as
// Discord does (4000 unknown error, 4009 session timed out, …), and
// waits for the client's close.
func (g *Gateway) CloseWith(code int, reason string) {
	g.mu.Lock()
	conn := g.conn
	g.conn = nil
	g.signal()
	g.mu.Unlock()
	if conn == nil {
		return
	}
	g.writeMu.Lock()
	_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(5*time.Second))
	g.writeMu.Unlock()
}

// InvalidateSession sends op 9 (INVALID SESSION) on the client's
// connection; resumable is its d. A session that may not be resumed is
// ended: a RESUME of it is refused.
func (g *Gateway) InvalidateSession(resumable bool) {
	g.mu.Lock()
	conn := g.conn
	g.invalids++
	if !resumable {
		g.valid = false
	}
	g.signal()
	g.mu.Unlock()
	if conn != nil {
		_ = g.write(conn, frame{Op: 9, Data: raw(resumable)})
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

// ended records how a connection ended; called with g.mu held.
func (g *Gateway) ended(conn *websocket.Conn, err error) {
	code := websocket.CloseAbnormalClosure
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		code = ce.Code
	}
	g.ends = append(g.ends, End{Code: code, Unanswered: g.conns[conn]})
	if code == websocket.CloseNormalClosure || code == websocket.CloseGoingAway {
		g.valid = false // Discord ends a session closed with 1000 or 1001
	}
	delete(g.conns, conn)
	if g.conn == conn {
		g.conn = nil
	}
	g.signal()
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, resumeURL bool) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	g.mu.Lock()
	g.accepted++
	g.conns[conn] = 0
	silence, interval := g.silence, g.interval
	g.signal()
	g.mu.Unlock()
	if silence != NoHello {
		if g.write(conn, frame{Op: 10, Data: raw(map[string]any{"heartbeat_interval": interval.Milliseconds()})}) != nil {
			return
		}
	}
	for {
		var in frame
		if err := conn.ReadJSON(&in); err != nil {
			g.mu.Lock()
			g.ended(conn, err)
			g.mu.Unlock()
			return
		}
		if silence == NoHello {
			continue
		}
		switch in.Op {
		case 1: // heartbeat
			g.mu.Lock()
			g.heartbeats++
			ack := !g.noAcks
			if !ack {
				g.unanswered++
				g.conns[conn]++
			}
			g.signal()
			g.mu.Unlock()
			if ack {
				_ = g.write(conn, frame{Op: 11})
			}
		case 2: // identify
			var id struct {
				Token    string `json:"token"`
				Compress bool   `json:"compress"`
			}
			_ = json.Unmarshal(in.Data, &id)
			if id.Token != "Bot "+Token {
				g.writeMu.Lock()
				_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4004, "Authentication failed."))
				g.writeMu.Unlock()
				return
			}
			g.mu.Lock()
			refuse := g.refuse
			if refuse {
				g.invalids++
				g.signal()
			}
			g.mu.Unlock()
			if refuse {
				_ = g.write(conn, frame{Op: 9, Data: raw(false)})
				continue
			}
			if g.silent() == NoReady {
				continue
			}
			// READY goes out before any dispatch on this connection: a
			// Dispatch that sees the new connection waits for writeMu.
			g.writeMu.Lock()
			g.mu.Lock()
			g.identifies++
			if g.identifies > 1 { // a new session: what the old one missed is lost
				g.sessions++
				g.session = Session + "-" + strconv.Itoa(g.sessions)
				g.history = nil
			}
			g.valid = true
			g.seq++
			f := frame{Op: 0, Type: "READY", Seq: g.seq, Data: raw(map[string]any{
				"v": 9, "session_id": g.session, "resume_gateway_url": g.resumeURL(),
				"user":        map[string]any{"id": BotID, "username": "upgradebot", "bot": true},
				"application": map[string]any{"id": AppID}, "guilds": []any{map[string]any{"id": GuildID, "unavailable": true}},
			})}
			g.history = append(g.history, f)
			g.conn = conn
			g.ready++
			g.signal()
			g.mu.Unlock()
			_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if id.Compress { // Discord compresses large payloads, such as READY
				var z bytes.Buffer
				zw := zlib.NewWriter(&z)
				_ = json.NewEncoder(zw).Encode(f)
				_ = zw.Close()
				_ = conn.WriteMessage(websocket.BinaryMessage, z.Bytes())
			} else {
				_ = conn.WriteJSON(f)
			}
			g.writeMu.Unlock()
		case 6: // resume
			var rs struct {
				Token     string `json:"token"`
				SessionID string `json:"session_id"`
				Seq       int64  `json:"seq"`
			}
			_ = json.Unmarshal(in.Data, &rs)
			g.mu.Lock()
			ok := rs.Token == "Bot "+Token && rs.SessionID == g.session && g.valid
			if !ok {
				g.invalids++
				g.signal()
			}
			g.mu.Unlock()
			if !ok {
				_ = g.write(conn, frame{Op: 9, Data: raw(false)}) // invalid session: identify again
				continue
			}
			if g.silent() == NoReady {
				continue
			}
			// The missed events, then RESUMED, before any new dispatch.
			g.writeMu.Lock()
			g.mu.Lock()
			g.resumes++
			if resumeURL {
				g.resumesAt++
			}
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
