package discord

import (
	"bytes"
	"compress/zlib"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestGWConnPassesFramesUnchanged: what goes through a gateway connection
// reaches the other side byte for byte, whatever the frames (7-, 16- and
// 64-bit lengths, messages fragmented over many frames, zlib-compressed
// ones, one too large to be read, which passes unread), while the
// adapter learns what it needs from them: HELLO's interval, READY in a
// compressed message, heartbeats sent and acknowledged.
func TestGWConnPassesFramesUnchanged(t *testing.T) {
	compress := func(s string) []byte {
		var b bytes.Buffer
		w := zlib.NewWriter(&b)
		_, _ = w.Write([]byte(s))
		_ = w.Close()
		return b.Bytes()
	}
	big := `{"op":0,"t":"INTERACTION_CREATE","s":2,"d":{"x":"` + strings.Repeat("a", 100_000) + `"}}`
	huge := `{"op":0,"t":"GUILD_CREATE","s":3,"d":{"x":"` + strings.Repeat("b", maxInspect+10) + `"}}`
	type msg struct {
		typ  int
		data []byte
	}
	down := []msg{
		{websocket.TextMessage, []byte(`{"op":10,"d":{"heartbeat_interval":1234}}`)},
		{websocket.TextMessage, []byte(big)},
		{websocket.BinaryMessage, compress(`{"op":0,"t":"READY","s":1,"d":{"session_id":"s","resume_gateway_url":"wss://resume.example:443"}}`)},
		{websocket.TextMessage, []byte(huge)},
		{websocket.TextMessage, []byte(`{"op":11}`)},
	}
	up := []msg{
		{websocket.TextMessage, []byte(`{"op":1,"d":5}`)},
		{websocket.TextMessage, []byte(`{"op":3,"d":{"x":"` + strings.Repeat("c", 70_000) + `"}}`)},
	}
	got := make(chan msg, len(up))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		for _, m := range down {
			if err := conn.WriteMessage(m.typ, m.data); err != nil {
				return
			}
		}
		for range up {
			typ, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			got <- msg{typ, data}
		}
	}))
	defer srv.Close()

	a := &Adapter{log: slog.New(slog.DiscardHandler), pause: sleep, handshakeTimeout: time.Minute}
	d := websocket.Dialer{NetDialContext: func(ctx context.Context, _, addr string) (net.Conn, error) { return a.dialGateway(ctx, addr, false) }}
	conn, _, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := a.currentConn()
	for k, want := range down {
		typ, data, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("message %d: %v", k, err)
		}
		if typ != want.typ || !bytes.Equal(data, want.data) {
			t.Fatalf("message %d changed on the way (%d bytes, want %d)", k, len(data), len(want.data))
		}
		switch k {
		case 0:
			if c.interval != 1234*time.Millisecond {
				t.Errorf("interval %s", c.interval)
			}
		case 2:
			if ready, _, _, _ := c.outcome(); !ready {
				t.Error("READY not seen in the compressed message")
			}
			if p := a.resumeURL.Load(); p == nil || *p != "wss://resume.example:443" {
				t.Errorf("resume URL %v", p)
			}
			if err := conn.WriteMessage(up[0].typ, up[0].data); err != nil {
				t.Fatal(err)
			}
			if _, late := c.zombie(time.Now().Add(time.Hour)); !late {
				t.Error("the heartbeat sent was not seen")
			}
		case 4:
			if _, late := c.zombie(time.Now().Add(time.Hour)); late {
				t.Error("the heartbeat's ACK was not seen")
			}
		}
	}
	if err := conn.WriteMessage(up[1].typ, up[1].data); err != nil {
		t.Fatal(err)
	}
	for k, want := range up {
		m := <-got
		if m.typ != want.typ || !bytes.Equal(m.data, want.data) {
			t.Fatalf("sent message %d changed on the way (%d bytes, want %d)", k, len(m.data), len(want.data))
		}
	}
}
