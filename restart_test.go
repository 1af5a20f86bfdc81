package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/upgradebot/upgradebot/internal/syncbuf"
)

// testRedisURL is the real server CI starts, or an embedded one that outlives
// the subprocesses of one test.
func testRedisURL(t *testing.T, prefix string) string {
	t.Helper()
	if u := os.Getenv("UPGRADEBOT_TEST_REDIS"); u != "" {
		t.Cleanup(func() { deleteKeys(t, u, prefix) })
		return u
	}
	m := miniredis.RunT(t)
	m.ClockTTL(true)
	return "redis://" + m.Addr() + "/0"
}

// deleteKeys removes what a test wrote to a shared server (never FLUSHALL).
func deleteKeys(t *testing.T, url, prefix string) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	for iter.Next(ctx) {
		c.Del(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("cleanup: %v", err)
	}
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "upgradebot")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestStateSurvivesKill: a console session schedules and acknowledges and is
// killed with SIGKILL; a serve process on the same Redis starts, becomes ready
// and is killed too; a new console sees the same upgrade, acknowledgments and
// decision log.
func TestStateSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	prefix := "ubtest" + hex.EncodeToString(rnd[:])
	addr := freeAddr(t)
	cfg := filepath.Join(t.TempDir(), "config.toml")
	demo := strings.Replace(string(demoConfig), `url = "memory://"`, fmt.Sprintf("url = %q\nprefix = %q", testRedisURL(t, prefix), prefix), 1)
	demo = strings.Replace(demo, "[redis]", fmt.Sprintf("[server]\nlisten = %q\n\n[redis]", addr), 1)
	if err := os.WriteFile(cfg, []byte(demo), 0o600); err != nil {
		t.Fatal(err)
	}
	console := func(script string) string {
		t.Helper()
		cmd := exec.Command(bin, "console", "-config", cfg)
		cmd.Stdin = strings.NewReader(script)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("console: %v\n%s", err, out)
		}
		return string(out)
	}

	// A console that is killed mid-session, stdin still open, right after the
	// bot has shown the second acknowledgment.
	live := exec.Command(bin, "console", "-config", cfg)
	stdin, err := live.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	live.Stdout, live.Stderr = out, out
	if err := live.Start(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(stdin, "/upgrade schedule payments v2.4.0 in 3d for 2h\n:as bob\n:press UPG-1\n:as carol\n/upgrade ack UPG-1\n")
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out.String(), "Acknowledged 2/3"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			live.Process.Kill()
			t.Fatalf("the console never showed the second acknowledgment:\n%s", out.String())
		}
	}
	if err := live.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = live.Wait()

	srv := exec.Command(bin, "serve", "-config", cfg)
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	ready := false
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				ready = true
				break
			}
		}
	}
	if err := srv.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = srv.Wait()
	if !ready {
		t.Fatal("serve never became ready on the shared Redis")
	}

	after := console("/upgrade show UPG-1\n/upgrade log UPG-1\n/upgrade list\n")
	for _, want := range []string{
		"UPG-1 payments v2.4.0", "State:        scheduled", "Acknowledged 2/3 · waiting for @alice",
		"brief: @bob at", "brief: @carol at",
		"alice · scheduled", "bob · acknowledged · brief", "carol · acknowledged · brief",
	} {
		if !strings.Contains(after, want) {
			t.Errorf("after restart the console lacks %q:\n%s", want, after)
		}
	}
}

// syncBuffer is a bytes.Buffer a subprocess writes while the test reads.
type syncBuffer = syncbuf.Buffer
