package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
)

// stopSignals are the signals that stop serve and the console.
var stopSignals = []struct {
	name string
	sig  syscall.Signal
}{{"SIGTERM", syscall.SIGTERM}, {"SIGINT", syscall.SIGINT}}

// startProcess starts cmd, killed when the test ends; exited is closed
// once it has ended, with *waitErr its Wait's error.
func startProcess(t *testing.T, cmd *exec.Cmd) (exited <-chan struct{}, waitErr *error) {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done, err := make(chan struct{}), new(error)
	go func() { *err = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	return done, err
}

// TestServeStopsAtOnceOnASecondSignal: the first SIGTERM or SIGINT drains
// (here a root notice that Slack never answers, which would hold serve for
// its whole 25 s stop budget); a second one stops serve at once, exit 1,
// with a warning that the drain was cut short.
func TestServeStopsAtOnceOnASecondSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	for _, sig := range stopSignals {
		t.Run(sig.name+" twice", func(t *testing.T) {
			// Slack, except that chat.postMessage is never answered: the
			// notice being posted stays pending until serve goes away.
			api := slacktestapi.New(t)
			apiURL, _ := url.Parse(api.APIURL())
			proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: apiURL.Scheme, Host: apiURL.Host})
			posting := make(chan struct{}, 1)
			slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/api/chat.postMessage" {
					select {
					case posting <- struct{}{}:
					default:
					}
					io.Copy(io.Discard, r.Body) // then a closed connection ends r.Context()
					<-r.Context().Done()
					return
				}
				proxy.ServeHTTP(w, r)
			}))
			t.Cleanup(slack.Close)

			addr := freeAddr(t)
			cfg := filepath.Join(t.TempDir(), "config.toml")
			os.WriteFile(cfg, []byte(statusConfigText(addr, `url = "memory://"`, slack.URL+"/api/", true)), 0o600)
			cmd := exec.Command(bin, "serve", "-config", cfg)
			var logs syncBuffer
			cmd.Stderr = &logs
			exited, waitErr := startProcess(t, cmd)

			s := &statusServe{t: t, base: "http://" + addr, api: api, config: cfg}
			waitFor(t, 20*time.Second, "readyz 200", func() bool {
				resp, err := http.Get(s.base + "/readyz")
				if err != nil {
					return false
				}
				resp.Body.Close()
				return resp.StatusCode == http.StatusOK
			})
			if ans := s.slash("U0ALICE", "schedule payments v2.4.0 in 3d for 2h"); !strings.Contains(ans, "UPG-1") {
				t.Fatalf("schedule answered %q", ans)
			}
			select {
			case <-posting:
			case <-time.After(20 * time.Second):
				t.Fatalf("the root notice was never posted; logs:\n%s", logs.String())
			}

			cmd.Process.Signal(sig.sig)
			waitFor(t, 10*time.Second, "serve stopping", func() bool { return strings.Contains(logs.String(), "upgradebot stopping") })
			select {
			case <-exited:
				t.Fatalf("serve exited (%v) at the first signal, with a notice still being posted; logs:\n%s", *waitErr, logs.String())
			default:
			}
			cmd.Process.Signal(sig.sig)
			second := time.Now()
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				t.Fatalf("serve still draining 5 s after a second signal; logs:\n%s", logs.String())
			}
			if ee, ok := (*waitErr).(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				t.Errorf("serve ended with %v after a second signal, want exit status 1", *waitErr)
			}
			t.Logf("serve exited %v after the second signal", time.Since(second).Round(time.Millisecond))

			var cut, stopped bool
			for line := range strings.Lines(logs.String()) {
				var l struct{ Level, Msg, Err string }
				if json.Unmarshal([]byte(line), &l) != nil {
					continue
				}
				switch {
				case l.Level == "WARN" && l.Msg == "upgradebot stopping now: a second signal cut the drain short":
					cut = true
				case l.Msg == "upgradebot stopped":
					stopped = l.Level == "ERROR" && strings.Contains(l.Err, "second signal")
				}
			}
			if !cut || !stopped {
				t.Errorf("want a warning that the drain was cut short, then an error that serve stopped at a second signal; logs:\n%s", logs.String())
			}
		})
	}
}

// TestConsoleStopsOnASignalWhileWaitingForInput: a console reading its
// commands from a pipe that stays open stops cleanly, exit 0, at the first
// SIGTERM or SIGINT, even while it waits for the next line (it used to go
// on waiting for input until the pipe closed).
func TestConsoleStopsOnASignalWhileWaitingForInput(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	for _, sig := range stopSignals {
		t.Run(sig.name, func(t *testing.T) {
			cmd := exec.Command(bin, "console", "-config", "testdata/console/dryrun.toml")
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			defer stdin.Close() // open until the console has stopped
			var out, errOut syncBuffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			exited, waitErr := startProcess(t, cmd)

			// Once it has answered a line, the console waits for the next.
			if _, err := io.WriteString(stdin, ":as bob\n"); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 10*time.Second, "the console's answer", func() bool {
				return strings.Contains(out.String(), "you are now bob (slack:U0BOB)\n")
			})
			cmd.Process.Signal(sig.sig)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				t.Fatalf("the console still waits for input 10 s after %s; stdout:\n%s\nstderr:\n%s", sig.name, out.String(), errOut.String())
			}
			if *waitErr != nil {
				t.Errorf("the console ended with %v after %s, want exit status 0; stderr:\n%s", *waitErr, sig.name, errOut.String())
			}
		})
	}
}
