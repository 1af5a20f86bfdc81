package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// silentRedis accepts connections and reads commands as Redis would, and
// answers none but those of a connection's handshake (HELLO is refused, so
// the client speaks RESP2; CLIENT, AUTH and SELECT are OK): a Redis that
// is up but hung, on which the client does send the commands that then
// wait. It records each command's name; note, when set, is called as each
// command arrives and its answer kept with it.
type silentRedis struct {
	ln   net.Listener
	note func(cmd string) string

	mu   sync.Mutex
	cmds []silentCmd
	more chan struct{} // a command arrived or was given up on
	wg   sync.WaitGroup
}

type silentCmd struct {
	name      string
	args      []string
	note      string
	abandoned bool // the client closed the connection, unanswered
}

func newSilentRedis(t *testing.T, note func(cmd string) string) *silentRedis {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &silentRedis{ln: ln, note: note, more: make(chan struct{}, 1)}
	s.wg.Go(s.accept)
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *silentRedis) addr() string { return s.ln.Addr().String() }

func (s *silentRedis) accept() {
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		conns = append(conns, c)
		s.wg.Go(func() { s.read(c) })
	}
}

// read records the commands of one connection until the client closes it,
// then marks them abandoned: none was answered.
func (s *silentRedis) read(c net.Conn) {
	r := bufio.NewReader(c)
	var mine []int
	defer func() {
		s.mu.Lock()
		for _, i := range mine {
			s.cmds[i].abandoned = true
		}
		s.mu.Unlock()
		s.signal()
	}()
	for {
		args, err := readRESPArray(r)
		if err != nil {
			return
		}
		if len(args) == 0 {
			continue
		}
		cmd := silentCmd{name: strings.ToUpper(args[0]), args: args[1:]}
		switch cmd.name {
		case "HELLO":
			_, _ = io.WriteString(c, "-ERR unknown command 'HELLO'\r\n")
			continue
		case "CLIENT", "AUTH", "SELECT":
			_, _ = io.WriteString(c, "+OK\r\n")
			continue
		}
		if s.note != nil {
			cmd.note = s.note(cmd.name)
		}
		s.mu.Lock()
		s.cmds = append(s.cmds, cmd)
		mine = append(mine, len(s.cmds)-1)
		s.mu.Unlock()
		s.signal()
	}
}

func (s *silentRedis) signal() {
	select {
	case s.more <- struct{}{}:
	default:
	}
}

// commands lists what arrived so far, named name.
func (s *silentRedis) commands(name string) []silentCmd {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []silentCmd
	for _, c := range s.cmds {
		if c.name == name {
			out = append(out, c)
		}
	}
	return out
}

// groupTries lists the tries to create a webhook's consumer group so far:
// the store's script that creates it on the event stream (EVALSHA, or
// EVAL, of one key, <prefix>:events, and the group webhook:<id>).
func (s *silentRedis) groupTries() []silentCmd {
	var out []silentCmd
	for _, name := range []string{"EVALSHA", "EVAL"} {
		for _, c := range s.commands(name) {
			if len(c.args) >= 4 && c.args[1] == "1" && strings.HasSuffix(c.args[2], ":events") && strings.HasPrefix(c.args[3], "webhook:") {
				out = append(out, c)
			}
		}
	}
	return out
}

// waitUntil waits for a command to arrive or be given up on until ok.
func (s *silentRedis) waitUntil(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.After(within)
	for !ok() {
		select {
		case <-s.more:
		case <-deadline:
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// readRESPArray reads one command: an array of bulk strings.
func readRESPArray(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasPrefix(line, "*") {
		return nil, fmt.Errorf("not an array: %q", line)
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil {
		return nil, err
	}
	args := make([]string, 0, n)
	for range n {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		size, err := strconv.Atoi(strings.TrimRight(line, "\r\n")[1:])
		if err != nil {
			return nil, err
		}
		buf := make([]byte, size+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		args = append(args, string(buf[:size]))
	}
	return args, nil
}

// TestServeWithWebhooksListensWhileRedisHangs: with [[webhooks]] and a
// Redis that accepts connections and never answers, serve does not try
// the webhooks' consumer groups before it listens (the store has waited
// for Redis once already): /healthz answers, /readyz is 503, and they stay
// so while the delivery loop's tries to create the groups keep failing.
// Serve used to wait for the groups as long again as for the store's ping
// before it listened.
func TestServeWithWebhooksListensWhileRedisHangs(t *testing.T) {
	var logs syncBuffer
	const deferred = "webhook delivery waits for Redis"
	// Whether serve had said it defers the groups when each command came.
	hung := newSilentRedis(t, func(string) string { return strconv.FormatBool(strings.Contains(logs.String(), deferred)) })
	recv := newHookReceiver(t, "hook-secret", func(int, *http.Request) int { return http.StatusOK })
	addr := freeAddr(t)
	cfg := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("[server]\nlisten = %q\n[redis]\nurl = \"redis://%s/0?read_timeout=1s&max_retries=-1\"\n[[webhooks]]\nurl = %q\nsecret = \"hook-secret\"\n",
		addr, hung.addr(), recv.srv.URL)), 0o600)
	startServeLogged(t, cfg, &logs)
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	waitFor(t, 30*time.Second, "healthz 200 while Redis hangs", func() bool { code, _ := get("/healthz"); return code == http.StatusOK })
	for _, c := range hung.groupTries() {
		if c.note != "true" {
			t.Fatalf("serve tried the webhook groups on a Redis that did not answer before listening; logs:\n%s", logs.String())
		}
	}
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "redis") {
		t.Fatalf("readyz with Redis hung = %d %q, want 503 naming redis", code, body)
	}
	// The delivery loop tries the groups and gives up on a try: still
	// alive, still not ready, no groups.
	hung.waitUntil(t, 30*time.Second, "a try at the webhook groups given up on", func() bool {
		for _, c := range hung.groupTries() {
			if c.abandoned {
				return true
			}
		}
		return false
	})
	if code, body := get("/healthz"); code != http.StatusOK {
		t.Fatalf("healthz = %d %q while the groups fail; logs:\n%s", code, body, logs.String())
	}
	if code, _ := get("/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("readyz = %d while Redis hangs", code)
	}
	if strings.Contains(logs.String(), "webhook delivery ready") {
		t.Fatalf("groups created on a Redis that never answers; logs:\n%s", logs.String())
	}
}
