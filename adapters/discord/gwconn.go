package discord

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The gateway's network connection, seen from below discordgo.
//
// discordgo (v0.29.0) owns the gateway protocol, and four things it does are
// wrong for a bot that must not lose its token or its events: on INVALID
// SESSION (op 9) it identifies again at once, however often Discord says
// it; it has no deadline for HELLO and READY, so a silent gateway blocks
// Open for ever; it notices a zombie connection only after five missed
// heartbeat ACKs; and every close that is not a reconnect request goes out
// with code 1000, which ends the session on Discord, so the RESUME that
// follows is refused and the events missed meanwhile are lost. Its
// websocket.Dialer is the one hook it offers, so the adapter dials the
// gateway itself and hands discordgo a gwConn: a net.Conn (above TLS) that
// reads the frames passing through it. Nothing is changed on the way in
// except that an op 9 is held back for Discord's 1–5 s before discordgo
// sees it; on the way out, a close frame with code 1000 or 1001 becomes
// 4000 unless the bot is shutting down. The adapter learns from the frames
// what it needs: HELLO's heartbeat interval, heartbeats and their ACKs,
// READY and RESUMED, op 9, Discord's close codes, and a read that failed.

// Gateway timing and limits.
const (
	// handshakeTimeout is how long Discord has to say HELLO after the
	// connection is made, and READY or RESUMED after IDENTIFY or RESUME.
	handshakeTimeout = 30 * time.Second
	// maxInspect bounds the frames and messages read for the adapter:
	// larger ones (a READY of a bot in thousands of servers) pass unread.
	maxInspect = 8 << 20
	// maxUpgradeResponse bounds the HTTP response that opens the websocket.
	maxUpgradeResponse = 64 << 10
	// closeResumable replaces a close code that would end the session:
	// Discord keeps a session closed with any code but 1000 and 1001.
	closeResumable = 4000
)

// WebSocket opcodes (RFC 6455).
const (
	wsContinuation = 0x0
	wsText         = 0x1
	wsBinary       = 0x2
	wsClose        = 0x8
)

// gwConn is one gateway connection. Its read side is used by gorilla's one
// reader, its write side by gorilla's one writer at a time; its state by
// both and by the adapter, under mu.
type gwConn struct {
	net.Conn
	a       *Adapter
	timeout time.Duration
	closed  chan struct{} // closed when the connection ends, by anyone
	once    sync.Once

	// Read side.
	rbuf    []byte
	out     []byte // bytes ready for the reader: whole frames
	inHTTP  bool   // the HTTP response that opens the websocket comes first
	raw     bool   // not a websocket after all: pass everything unread
	pass    int64  // bytes of a frame too large to inspect, still to pass on
	frag    []byte // the fragments of a message so far
	fragOp  byte
	fragBig bool // that message is too large to inspect
	rerr    error

	// Write side.
	wmu   sync.Mutex
	wHTTP bool   // the HTTP request comes first
	wtail []byte // the end of what was written of it, to find its end
	wleft int64  // bytes of the current frame still to pass
	wraw  bool   // a frame header split across writes: pass everything from here

	closeSent atomic.Bool // the client's close frame went out: Discord's is the answer

	mu       sync.Mutex
	gen      int // the handshake timer's generation
	timer    *time.Timer
	hello    bool
	sent     int // the last of IDENTIFY (2) and RESUME (6) sent
	ready    bool
	readyAt  time.Time // the first READY or RESUMED
	endedAt  time.Time
	dead     bool
	interval time.Duration
	unacked  time.Time // the oldest heartbeat without its ACK; zero when none
	cause    string    // why it ended, or is not ready: for readiness and the log
	ours     bool      // the adapter ended it (timeout, zombie, shutdown)
}

func newGWConn(a *Adapter, conn net.Conn, timeout time.Duration) *gwConn {
	c := &gwConn{Conn: conn, a: a, timeout: timeout, closed: make(chan struct{}), inHTTP: true, wHTTP: true}
	c.mu.Lock()
	c.arm()
	c.mu.Unlock()
	return c
}

// arm starts the handshake deadline again; called with c.mu held.
func (c *gwConn) arm() {
	c.gen++
	gen := c.gen
	if c.timer != nil {
		c.timer.Stop()
	}
	c.timer = time.AfterFunc(c.timeout, func() { c.expire(gen) })
}

// disarm stops the handshake deadline; called with c.mu held.
func (c *gwConn) disarm() {
	c.gen++
	if c.timer != nil {
		c.timer.Stop()
	}
}

// expire is the handshake deadline: Discord did not say what it should
// have in time, so the connection is closed and Open fails.
func (c *gwConn) expire(gen int) {
	c.mu.Lock()
	if gen != c.gen || c.ready || c.dead {
		c.mu.Unlock()
		return
	}
	var why string
	switch {
	case !c.hello:
		why = "Discord sent no HELLO within " + c.timeout.String() + " of connecting"
	case c.sent == 6:
		why = "Discord did not answer RESUME with RESUMED within " + c.timeout.String()
	default:
		why = "Discord did not answer IDENTIFY with READY within " + c.timeout.String()
	}
	c.mu.Unlock()
	c.abort(why)
}

// abort ends the connection at once, without a close frame (Discord keeps
// the session, to be resumed), for the reason why.
func (c *gwConn) abort(why string) {
	c.mu.Lock()
	if !c.dead {
		c.cause, c.ours = why, true
	}
	why = c.cause
	c.die()
	c.mu.Unlock()
	c.a.down(c, why)
	c.end()
	_ = c.Conn.Close()
}

// end marks the connection ended for whoever waits on it.
func (c *gwConn) end() { c.once.Do(func() { close(c.closed) }) }

// Close implements net.Conn: discordgo closing the socket.
func (c *gwConn) Close() error {
	c.mu.Lock()
	wasDead := c.dead
	if c.cause == "" {
		c.cause = "the connection was closed"
	}
	why := c.cause
	c.die()
	c.mu.Unlock()
	if !wasDead {
		c.a.down(c, why)
	}
	c.end()
	return c.Conn.Close()
}

// lost records a read that failed: the connection is gone whatever
// discordgo does next (it waits a second before saying so).
func (c *gwConn) lost(err error) {
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return
	}
	if c.cause == "" {
		c.cause = "the connection to Discord was lost: " + readErr(err)
	}
	why := c.cause
	c.die()
	c.mu.Unlock()
	c.a.down(c, why)
}

// readErr says what a failed read means without the addresses.
func readErr(err error) string {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "closed without a close frame"
	case errors.Is(err, net.ErrClosed):
		return "closed"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timed out"
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

// outcome reports what the adapter needs of the connection: whether it is
// ready, for how long it was ready (0: never), why it ended or is not
// ready, and whether the adapter ended it.
func (c *gwConn) outcome() (ready bool, readyFor time.Duration, cause string, ours bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.readyAt.IsZero() {
		end := c.endedAt
		if end.IsZero() {
			end = time.Now()
		}
		readyFor = max(end.Sub(c.readyAt), time.Nanosecond)
	}
	return c.ready, readyFor, c.cause, c.ours
}

// die marks the connection ended; called with c.mu held.
func (c *gwConn) die() {
	if !c.dead {
		c.endedAt = time.Now()
	}
	c.dead, c.ready = true, false
	c.disarm()
}

// Read implements net.Conn: whole frames, as they come, except that an op 9
// waits first.
func (c *gwConn) Read(p []byte) (int, error) {
	for len(c.out) == 0 {
		if c.next() {
			continue
		}
		if c.rerr != nil {
			return 0, c.rerr
		}
		if cap(c.rbuf)-len(c.rbuf) < 4<<10 { // room to read into, after what is kept
			b := make([]byte, len(c.rbuf), max(2*len(c.rbuf), 32<<10))
			copy(b, c.rbuf)
			c.rbuf = b
		}
		n, err := c.Conn.Read(c.rbuf[len(c.rbuf):cap(c.rbuf)])
		c.rbuf = c.rbuf[:len(c.rbuf)+n]
		if err != nil {
			c.rerr = err
			c.lost(err)
		}
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	return n, nil
}

// next moves what is complete in rbuf to out, inspecting each frame; it
// reports whether it moved anything.
func (c *gwConn) next() bool {
	switch {
	case len(c.rbuf) == 0:
		return false
	case c.raw:
		c.out, c.rbuf = c.rbuf, nil
		return true
	case c.inHTTP:
		i := bytes.Index(c.rbuf, []byte("\r\n\r\n"))
		if i < 0 {
			if len(c.rbuf) > maxUpgradeResponse {
				c.raw = true
				return c.next()
			}
			return false
		}
		if !bytes.HasPrefix(c.rbuf, []byte("HTTP/1.1 101")) {
			c.raw = true // the dial fails; leave its error to gorilla
		}
		c.inHTTP = false
		c.out, c.rbuf = c.rbuf[:i+4], c.rbuf[i+4:]
		return true
	case c.pass > 0:
		n := min(c.pass, int64(len(c.rbuf)))
		c.out, c.rbuf, c.pass = c.rbuf[:n], c.rbuf[n:], c.pass-n
		return true
	}
	fin, op, masked, size, hl, ok := frameHeader(c.rbuf)
	if !ok {
		return false
	}
	if hl+size > maxInspect {
		c.out, c.rbuf, c.pass = c.rbuf[:hl], c.rbuf[hl:], size
		if op == wsText || op == wsBinary || op == wsContinuation {
			c.frag, c.fragBig = nil, !fin // the rest of its message passes unread too
		}
		return true
	}
	total := int(hl + size)
	if len(c.rbuf) < total {
		return false
	}
	payload := c.rbuf[hl:total]
	if masked { // servers do not mask; should one, read a copy
		payload = bytes.Clone(payload)
		unmask(payload, c.rbuf[hl-4:hl])
	}
	if !c.frame(fin, op, payload) {
		c.rbuf = c.rbuf[total:]
		c.rerr = net.ErrClosed
		return false
	}
	c.out, c.rbuf = c.rbuf[:total], c.rbuf[total:]
	return true
}

// frameHeader reads a frame's header: whether it ends its message, its
// opcode, whether it is masked, its payload's length and the header's.
func frameHeader(b []byte) (fin bool, op byte, masked bool, size, hl int64, ok bool) {
	if len(b) < 2 {
		return
	}
	fin, op, masked = b[0]&0x80 != 0, b[0]&0x0f, b[1]&0x80 != 0
	size, hl = int64(b[1]&0x7f), 2
	switch size {
	case 126:
		if len(b) < 4 {
			return
		}
		size, hl = int64(binary.BigEndian.Uint16(b[2:4])), 4
	case 127:
		if len(b) < 10 {
			return
		}
		n := binary.BigEndian.Uint64(b[2:10])
		if n > 1<<62 {
			n = 1 << 62
		}
		size, hl = int64(n), 10
	}
	if masked {
		hl += 4
	}
	return fin, op, masked, size, hl, int64(len(b)) >= hl
}

func unmask(b, key []byte) {
	for i := range b {
		b[i] ^= key[i%4]
	}
}

// frame looks at one server frame; false drops it and ends the reading
// (the connection was closed while an op 9 waited).
func (c *gwConn) frame(fin bool, op byte, payload []byte) bool {
	switch op {
	case wsClose:
		code, reason := 1005, ""
		if len(payload) >= 2 {
			code, reason = int(binary.BigEndian.Uint16(payload)), string(payload[2:])
		}
		c.serverClosed(code, reason)
	case wsText, wsBinary:
		if !fin {
			c.fragOp, c.frag, c.fragBig = op, append([]byte(nil), payload...), false
			return true
		}
		return c.message(op, payload)
	case wsContinuation:
		if c.fragBig || len(c.frag)+len(payload) > maxInspect {
			c.fragBig, c.frag = !fin, nil
			return true
		}
		c.frag = append(c.frag, payload...)
		if fin {
			m, mop := c.frag, c.fragOp
			c.frag = nil
			return c.message(mop, m)
		}
	}
	return true
}

// serverClosed is Discord's close frame: the connection is over, whatever
// discordgo makes of it.
func (c *gwConn) serverClosed(code int, reason string) {
	if c.closeSent.Load() { // the answer to the client's close
		c.lost(errors.New("closed"))
		return
	}
	why := "Discord closed the connection: " + strconv.Itoa(code)
	if reason != "" {
		why += " " + reason
	}
	c.mu.Lock()
	c.cause = why
	c.mu.Unlock()
	c.lost(errors.New(why)) // logged as the disconnect, or as the failed connection
}

// gatewayEvent is the part of a gateway payload the adapter reads.
type gatewayEvent struct {
	Op   int             `json:"op"`
	Type string          `json:"t"`
	Data json.RawMessage `json:"d"`
}

// message looks at one whole message from Discord.
func (c *gwConn) message(op byte, data []byte) bool {
	if op == wsBinary { // a compressed payload (IDENTIFY's compress)
		z, err := zlib.NewReader(bytes.NewReader(data))
		if err != nil {
			return true
		}
		data, err = io.ReadAll(io.LimitReader(z, maxInspect+1))
		_ = z.Close()
		if err != nil || len(data) > maxInspect {
			return true
		}
	}
	var e gatewayEvent
	if json.Unmarshal(data, &e) != nil {
		return true
	}
	switch e.Op {
	case 10: // HELLO
		var h struct {
			Interval float64 `json:"heartbeat_interval"`
		}
		_ = json.Unmarshal(e.Data, &h)
		c.mu.Lock()
		c.hello = true
		c.interval = time.Duration(h.Interval * float64(time.Millisecond))
		c.mu.Unlock()
	case 11: // heartbeat ACK
		c.mu.Lock()
		c.unacked = time.Time{}
		c.mu.Unlock()
	case 0:
		if e.Type == "READY" || e.Type == "RESUMED" {
			c.mu.Lock()
			if !c.dead {
				c.ready = true
				if c.readyAt.IsZero() {
					c.readyAt = time.Now()
				}
			}
			c.disarm()
			c.mu.Unlock()
			c.a.invalidRun.Store(0)
			if e.Type == "READY" {
				c.a.readyData(e.Data)
			}
		}
	case 7: // RECONNECT: discordgo closes with 1012 and the adapter resumes
		c.mu.Lock()
		c.ready, c.cause = false, "Discord asked the bot to reconnect (op 7)"
		c.mu.Unlock()
		c.a.log.Info("discord asked the gateway to reconnect (op 7); resuming")
		c.a.down(c, "Discord asked the bot to reconnect (op 7)")
	case 9: // INVALID SESSION
		var resumable bool
		_ = json.Unmarshal(e.Data, &resumable)
		return c.invalid(resumable)
	}
	return true
}

// invalid is an op 9: the adapter is not ready, and discordgo, which
// identifies again at once, sees the op only after Discord's wait. When
// Discord says the session may be resumed, the connection is closed after
// the wait instead, and the adapter resumes.
func (c *gwConn) invalid(resumable bool) bool {
	n := int(c.a.invalidRun.Add(1))
	wait := invalidWait(n)
	next := "identifying again"
	if resumable {
		next = "resuming"
	}
	why := fmt.Sprintf("Discord invalidated the session (op 9, %s; %d in a row); %s in %s",
		map[bool]string{true: "resumable", false: "not resumable"}[resumable], n, next, wait.Round(100*time.Millisecond))
	c.mu.Lock()
	c.ready = false
	c.cause = why
	c.disarm() // the deadline starts again with the next IDENTIFY
	c.mu.Unlock()
	c.a.log.Warn("discord invalidated the gateway session (op 9)", "resumable", resumable, "in_a_row", n, "again_in", wait.Round(time.Millisecond).String())
	c.a.down(c, why)
	if !c.a.pause(wait, c.closed) {
		return false
	}
	if resumable {
		c.abort("Discord invalidated the session but said it may be resumed (op 9); resuming")
		return false
	}
	return true
}

// beat is a heartbeat sent.
func (c *gwConn) beat(now time.Time) {
	c.mu.Lock()
	if c.unacked.IsZero() {
		c.unacked = now
	}
	c.mu.Unlock()
}

// zombie reports a heartbeat whose ACK is overdue: Discord says to give up
// on a connection when the next heartbeat is due and the last one has no
// ACK; the adapter gives it a little longer (grace) for a slow answer.
func (c *gwConn) zombie(now time.Time) (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ready || c.dead || c.interval <= 0 || c.unacked.IsZero() {
		return 0, false
	}
	age := now.Sub(c.unacked)
	return age, age > c.interval+zombieGrace(c.interval)
}

// zombieGrace is how long past the next heartbeat an ACK may still come.
func zombieGrace(interval time.Duration) time.Duration { return min(interval/4, 5*time.Second) }

// Write implements net.Conn: the HTTP request that opens the websocket,
// then discordgo's frames. A close frame with code 1000 or 1001 ends the
// session on Discord; unless the bot is shutting down it goes out as 4000,
// which keeps the session, so that the adapter can resume it.
func (c *gwConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.wraw {
		return c.Conn.Write(p)
	}
	if c.wHTTP {
		seen := append(c.wtail, p...)
		i := bytes.Index(seen, []byte("\r\n\r\n"))
		if i < 0 {
			c.wtail = append(c.wtail[:0], seen[max(0, len(seen)-3):]...)
			if len(seen) > maxUpgradeResponse {
				c.wraw = true
			}
			return c.Conn.Write(p)
		}
		end := i + 4 - len(c.wtail) // the request ends here in p
		c.wHTTP, c.wtail = false, nil
		n, err := c.Conn.Write(p[:end])
		if err != nil {
			return n, err
		}
		m, err := c.writeFrames(p[end:])
		return n + m, err
	}
	return c.writeFrames(p)
}

// writeFrames writes frames; called with wmu held.
func (c *gwConn) writeFrames(p []byte) (int, error) {
	out, copied := p, false
	for i := 0; i < len(p); {
		if c.wleft > 0 {
			n := min(c.wleft, int64(len(p)-i))
			i += int(n)
			c.wleft -= n
			continue
		}
		_, op, masked, size, hl, ok := frameHeader(p[i:])
		if !ok || !masked {
			c.wraw = true // not gorilla's whole frames: leave the rest alone
			break
		}
		key := p[i+int(hl)-4 : i+int(hl)]
		body := p[i+int(hl):]
		if op == wsClose {
			c.closeSent.Store(true)
		}
		switch {
		case op == wsClose && size >= 2 && len(body) >= 2:
			code := int(body[0]^key[0])<<8 | int(body[1]^key[1])
			if (code == 1000 || code == 1001) && !c.a.closing.Load() {
				if !copied { // the caller's bytes are left as they are
					out, copied = bytes.Clone(p), true
				}
				at := i + int(hl)
				out[at] = byte(closeResumable>>8) ^ key[0]
				out[at+1] = byte(closeResumable&0xff) ^ key[1]
				c.a.log.Debug("kept the gateway session resumable: close 4000 instead of " + strconv.Itoa(code))
			}
		case op == wsText && size >= 7:
			// discordgo's payloads begin {"op":N — the op alone is read,
			// never the rest (IDENTIFY and RESUME hold the token).
			var head [8]byte
			n := copy(head[:], body[:min(len(body), 8, int(size))])
			for k := range n {
				head[k] ^= key[k%4]
			}
			c.sentOp(head[:n])
		}
		if rest := int64(len(p) - i); hl+size > rest {
			c.wleft = hl + size - rest
			break
		}
		i += int(hl + size)
	}
	return c.Conn.Write(out)
}

// sentOp notes a heartbeat, an IDENTIFY or a RESUME going out.
func (c *gwConn) sentOp(head []byte) {
	rest, ok := bytes.CutPrefix(head, []byte(`{"op":`))
	if !ok || len(rest) == 0 {
		return
	}
	switch rest[0] {
	case '1':
		if len(rest) == 1 || rest[1] == ',' {
			c.beat(time.Now())
		}
	case '2', '6':
		if len(rest) == 1 || rest[1] == ',' {
			c.mu.Lock()
			c.sent = int(rest[0] - '0')
			if !c.ready && !c.dead {
				c.arm()
			}
			c.mu.Unlock()
		}
	}
}

// dialGateway connects to the gateway for discordgo's websocket.Dialer:
// through the environment's HTTP proxy when one is set, with TLS for wss,
// and wrapped in a gwConn that is the adapter's current connection. It
// gives up when Run's context ends.
func (a *Adapter) dialGateway(ctx context.Context, addr string, secure bool) (net.Conn, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if p := a.runCtx.Load(); p != nil {
		stop := context.AfterFunc(*p, cancel)
		defer stop()
	}
	if a.resumeSwitch(addr) {
		return nil, errSwitchGateway
	}
	conn, err := a.dialVia(ctx, addr, secure)
	if err != nil {
		a.resumeDialFailed()
		return nil, err
	}
	if secure {
		host, _, _ := net.SplitHostPort(addr)
		cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		if a.gatewayTLS != nil {
			cfg = a.gatewayTLS.Clone()
			cfg.ServerName = host
		}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = conn.Close()
			a.resumeDialFailed()
			return nil, err
		}
		conn = tc
	}
	c := newGWConn(a, conn, a.handshakeTimeout)
	a.connMu.Lock()
	a.conn = c
	a.connMu.Unlock()
	if ctx.Err() != nil { // Run ended while dialing
		c.abort("shutting down")
		return nil, ctx.Err()
	}
	return c, nil
}

// dialVia opens the TCP connection to addr, through an HTTP proxy (CONNECT)
// when the environment names one for it.
func (a *Adapter) dialVia(ctx context.Context, addr string, secure bool) (net.Conn, error) {
	var d net.Dialer
	scheme := "http"
	if secure {
		scheme = "https"
	}
	proxy := a.proxy
	if proxy == nil {
		proxy = http.ProxyFromEnvironment
	}
	pu, err := proxy(&http.Request{URL: &url.URL{Scheme: scheme, Host: addr}})
	if err != nil {
		return nil, err
	}
	if pu == nil {
		return d.DialContext(ctx, "tcp", addr)
	}
	if pu.Scheme != "http" && pu.Scheme != "" {
		return nil, fmt.Errorf("the proxy %s is not an http:// proxy, the only kind the gateway connection goes through", pu.Redacted())
	}
	paddr := pu.Host
	if pu.Port() == "" {
		paddr = net.JoinHostPort(pu.Hostname(), "80")
	}
	conn, err := d.DialContext(ctx, "tcp", paddr)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: addr}, Host: addr, Header: http.Header{}}
	if u := pu.User; u != nil {
		pw, _ := u.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pw)))
	}
	fail := func(err error) (net.Conn, error) {
		_ = conn.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if err := req.Write(conn); err != nil {
		return fail(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return fail(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Errorf("the proxy %s refused the connection to %s: %s", pu.Redacted(), addr, resp.Status))
	}
	if br.Buffered() > 0 {
		return fail(fmt.Errorf("the proxy %s sent data before the connection to %s was open", pu.Redacted(), addr))
	}
	return conn, nil
}
