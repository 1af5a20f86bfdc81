package discord

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// strictGateway is a gateway that, like Discord, closes a connection whose
// client has sent no heartbeat for 1.5 heartbeat intervals (4009), and
// refuses the RESUME of a session it has ended with op 9 (d=false).
type strictGateway struct {
	mu         sync.Mutex
	interval   time.Duration
	sessionOK  bool
	identifies int
	timeouts   int
	conns      []*websocket.Conn
}

func (g *strictGateway) serve(w http.ResponseWriter, r *http.Request) {
	conn, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	var wmu sync.Mutex
	write := func(v any) { wmu.Lock(); _ = conn.WriteJSON(v); wmu.Unlock() }
	g.mu.Lock()
	g.conns = append(g.conns, conn)
	g.mu.Unlock()
	write(map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": g.interval.Milliseconds()}})
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(g.interval / 10)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if time.Since(time.Unix(0, last.Load())) > g.interval*3/2 {
					g.mu.Lock()
					g.timeouts++
					g.mu.Unlock()
					wmu.Lock()
					_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4009, "Session timed out."))
					wmu.Unlock()
					_ = conn.Close()
					return
				}
			}
		}
	}()
	for {
		var in struct {
			Op int `json:"op"`
		}
		if err := conn.ReadJSON(&in); err != nil {
			return
		}
		switch in.Op {
		case 1:
			last.Store(time.Now().UnixNano())
			write(map[string]any{"op": 11})
		case 2:
			g.mu.Lock()
			g.identifies++
			g.sessionOK = true
			g.mu.Unlock()
			write(map[string]any{"op": 0, "t": "READY", "s": 1, "d": map[string]any{"v": 9, "session_id": "s",
				"user": map[string]any{"id": "1", "username": "bot", "bot": true}, "application": map[string]any{"id": "2"}, "guilds": []any{}}})
		case 6:
			g.mu.Lock()
			ok := g.sessionOK
			g.mu.Unlock()
			if ok {
				write(map[string]any{"op": 0, "t": "RESUMED", "s": 2, "d": map[string]any{}})
			} else {
				write(map[string]any{"op": 9, "d": false})
			}
		}
	}
}

// TestGatewayLongInvalidWaitWithNoConnection: discordgo never forgets a
// session id, so every new connection RESUMEs first; when Discord refuses
// (op 9, d=false) the op 9 arrives inside discordgo's Open, which sends no
// heartbeats. A wait held there longer than Discord lets a silent
// connection live (from the 5th–6th op 9 in a row at Discord's 41.25 s
// interval) ended that connection (4009) before the IDENTIFY, the next one
// RESUMEd and got op 9 again, for a longer wait still: the bot never
// identified again. Scaled here: the gateway's heartbeat interval is
// 200 ms, and every wait after op 9 lasts at most 1 s, as a wait of
// minutes would at Discord's interval. The adapter holds op 9 on an open
// connection only up to half the heartbeat interval; a longer wait is
// served with no connection open, and the op 9 that answers the next
// RESUME is passed on after a short hold, so that discordgo identifies.
func TestGatewayLongInvalidWaitWithNoConnection(t *testing.T) {
	g := &strictGateway{interval: 200 * time.Millisecond}
	srv := httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(srv.Close)
	var longest atomic.Int64 // the longest wait asked for
	f := newFixtureWith(t, ModeGateway, func(f *fixture) {
		f.api.SetGatewayURL("ws" + strings.TrimPrefix(srv.URL, "http") + "/")
		f.a.pause = func(d time.Duration, stop <-chan struct{}) bool {
			if int64(d) > longest.Load() {
				longest.Store(int64(d))
			}
			return sleep(min(d, time.Second), stop)
		}
	})
	t.Cleanup(func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		t.Logf("identifies %d, connections closed for want of a heartbeat %d, connections %d", g.identifies, g.timeouts, len(g.conns))
	})
	f.api.Eventually(t, 10*time.Second, "READY", func() bool { return f.a.Ready() == nil })
	// The session ends (Discord's op 9 d=false, or it timed out while the
	// bot was away), and the connection is lost.
	g.mu.Lock()
	g.sessionOK = false
	conns := append([]*websocket.Conn(nil), g.conns...)
	g.mu.Unlock()
	for _, c := range conns {
		_ = c.UnderlyingConn().Close()
	}
	f.api.Eventually(t, 30*time.Second, "a new IDENTIFY and READY after the session was refused", func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.identifies >= 2 && f.a.Ready() == nil
	})
	if f.a.invalidRun.Load() != 0 || f.a.invalidServed.Load() {
		t.Errorf("after READY: %d op 9s in a row, served %v", f.a.invalidRun.Load(), f.a.invalidServed.Load())
	}
}

// TestGatewayReconnectRequestsAreNoFailures: op 7 is Discord asking the bot
// to reconnect and resume; op 7s less than a minute apart (a gateway node
// draining, then the next one) used to wait the failure backoff, doubling
// each time. Each is resumed without the backoff, which does not grow.
func TestGatewayReconnectRequestsAreNoFailures(t *testing.T) {
	var backoffs atomic.Int32
	f := newFixtureWith(t, ModeGateway, func(f *fixture) {
		f.a.backoffPause = func(d time.Duration, stop <-chan struct{}) bool {
			backoffs.Add(1)
			return sleep(d, stop)
		}
	})
	f.ready()
	for k := 1; k <= 4; k++ {
		n := f.gw.Resumes()
		f.gw.Reconnect()
		f.gw.Wait(t, 30*time.Second, "the resume", func() bool { return f.gw.Resumes() == n+1 })
		f.ready()
	}
	if n := backoffs.Load(); n != 0 {
		t.Errorf("the reconnect backoff was waited %d times after op 7", n)
	}
	if f.gw.Identifies() != 1 {
		t.Errorf("identified %d times; op 7 resumes", f.gw.Identifies())
	}
}

// TestGatewayResumeURLWithoutWebsocketFallsBack: a resume host that takes
// the connection but does not open the websocket (HTTP 503 from a load
// balancer in front of a failing gateway node; no answer to the upgrade at
// all) is given up, as one that cannot be reached is: the session is
// resumed on the gateway's own URL.
func TestGatewayResumeURLWithoutWebsocketFallsBack(t *testing.T) {
	t.Run("503", func(t *testing.T) {
		bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "upstream unavailable", http.StatusServiceUnavailable)
		}))
		t.Cleanup(bad.Close)
		f := newFixtureWith(t, ModeGateway, func(f *fixture) { f.gw.SetResumeURL("ws" + strings.TrimPrefix(bad.URL, "http")) })
		f.ready()
		f.gw.Drop()
		f.gw.Wait(t, 20*time.Second, "the session to be resumed on the gateway's own URL", func() bool { return f.gw.Resumes() == 1 })
		f.ready()
	})
	t.Run("no answer", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ln.Close() })
		accepted := make(chan net.Conn, 8)
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				accepted <- c // held open, never answered
			}
		}()
		t.Cleanup(func() {
			for {
				select {
				case c := <-accepted:
					_ = c.Close()
				default:
					return
				}
			}
		})
		f := newFixtureWith(t, ModeGateway, func(f *fixture) {
			f.gw.SetResumeURL("ws://" + ln.Addr().String())
			f.a.handshakeTimeout = time.Second
		})
		f.ready()
		f.gw.Drop()
		f.gw.Wait(t, 20*time.Second, "the session to be resumed on the gateway's own URL", func() bool { return f.gw.Resumes() == 1 })
		f.ready()
	})
}
