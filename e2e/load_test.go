package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	slackgo "github.com/slack-go/slack"

	slackadapter "github.com/upgradebot/upgradebot/adapters/slack"
	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/store"
)

// BenchmarkLoad is the project's load benchmark (docs/benchmarks.md): in one
// process and one run it drives the bot's real Slack HTTP endpoints
// (signature check, de-duplication, core, store, rendering) and a bare
// handler (signature check, one Redis round trip, a JSON answer) against the
// same real Redis, with closed-loop clients, for a read command (show) and
// for Acknowledge presses by distinct users, and prints throughput, p50 and
// p99 of each and the ratios. It starts its own redis-server with
// appendfsync always (as production with AOF does the most), unless
// UPGRADEBOT_LOAD_REDIS names one. UPGRADEBOT_LOAD_CLIENTS (16) and
// UPGRADEBOT_LOAD_SECONDS (8) size it.
//
//	go test -run '^$' -bench Load -benchtime 1x ./e2e/
func BenchmarkLoad(b *testing.B) {
	redisURL := os.Getenv("UPGRADEBOT_LOAD_REDIS")
	if redisURL == "" {
		redisURL = startRedisServer(b, "--appendonly", "yes", "--appendfsync", "always")
	}
	clients, seconds := envInt("UPGRADEBOT_LOAD_CLIENTS", 16), envInt("UPGRADEBOT_LOAD_SECONDS", 8)
	for b.Loop() {
		env := newLoadEnv(b, redisURL)
		d := time.Duration(seconds) * time.Second
		only := os.Getenv("UPGRADEBOT_LOAD_ONLY") // "show" or "press" to profile one
		var bareShow, show, barePress, press loadResult
		if only != "press" {
			bareShow = env.run(clients, d, env.bareURL, env.commandRequest("show UPG-1"))
			show = env.run(clients, d, env.srv.URL+slackadapter.PathCommands, env.commandRequest("show UPG-1"))
		}
		var big loadResult
		if only == "" || only == "show10k" {
			env.seedAcks(3, 10000)
			big = env.run(clients, d, env.srv.URL+slackadapter.PathCommands, env.commandRequest("show UPG-3"))
		}
		if only != "show" && only != "show10k" {
			barePress = env.run(clients, d, env.bareURL, env.pressRequest("UPG-2"))
			press = env.run(clients, d, env.srv.URL+slackadapter.PathInteractions, env.pressRequest("UPG-2"))
		}
		waited := time.Now()
		env.slack.Wait()
		env.bot.Flush()
		if lag := time.Since(waited); lag > time.Second {
			fmt.Printf("the background work of the presses took %s more after the last answer\n", lag.Round(time.Millisecond))
		}

		fmt.Printf("\nload: %d closed-loop clients, %s each, redis %s\n", clients, d, redact(redisURL))
		fmt.Printf("%-12s %10s %10s %10s %12s\n", "", "req/s", "p50", "p99", "cpu/req")
		for _, r := range []struct {
			name string
			res  loadResult
		}{{"bare read", bareShow}, {"show", show}, {"show 10k", big}, {"bare press", barePress}, {"press", press}} {
			fmt.Printf("%-12s %10.0f %10s %10s %12s\n", r.name, r.res.rate(), r.res.pct(50), r.res.pct(99), r.res.cpuPer())
		}
		fmt.Printf("show/bare %.2f  press/bare %.2f\n", show.rate()/bareShow.rate(), press.rate()/barePress.rate())
		b.ReportMetric(show.rate()/bareShow.rate(), "show/bare")
		b.ReportMetric(press.rate()/barePress.rate(), "press/bare")
		b.ReportMetric(float64(show.pct(99).Microseconds())/1000, "show-p99-ms")
		b.ReportMetric(float64(press.pct(99).Microseconds())/1000, "press-p99-ms")
		b.ReportMetric(float64(big.pct(50).Microseconds())/1000, "show10k-p50-ms")

		// Every press answered was recorded (the decision log is capped).
		if acks, _ := env.store.Acks(context.Background(), 2); len(acks) != press.n {
			b.Errorf("%d presses answered, %d acks stored", press.n, len(acks))
		}
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func redact(u string) string {
	if i := strings.Index(u, "@"); i >= 0 {
		return "redis://…" + u[i:]
	}
	return u
}

// startRedisServer runs a redis-server of the benchmark's own on a free
// loopback port with args, until the benchmark ends.
func startRedisServer(tb testing.TB, args ...string) string {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Skip("no redis-server on PATH; set UPGRADEBOT_LOAD_REDIS")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	dir := tb.TempDir()
	cmd := exec.Command(bin, append([]string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--dir", dir,
		"--logfile", filepath.Join(dir, "redis.log")}, args...)...)
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	url := "redis://127.0.0.1:" + port + "/0"
	opt, _ := redis.ParseURL(url)
	c := redis.NewClient(opt)
	defer c.Close()
	for i := 0; c.Ping(context.Background()).Err() != nil; i++ {
		if i > 200 {
			tb.Fatal("redis-server did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return url
}

type loadEnv struct {
	tb      testing.TB
	api     *slacktestapi.Server
	store   *store.Store
	bot     *bot.Bot
	slack   *slackadapter.Adapter
	srv     *httptest.Server // the bot's endpoints
	bareURL string           // the bare handler
	// answersURL takes the answers to presses and commands (response_url).
	answersURL string
	client     *http.Client
	seq        atomic.Int64
}

func newLoadEnv(tb testing.TB, redisURL string) *loadEnv {
	tb.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	st, err := store.Open(ctx, store.Options{URL: redisURL, Prefix: "ubload:" + hex.EncodeToString(rnd[:])}, log)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	cfg := slackConfig()
	api := slacktestapi.New(tb)
	for name, id := range slackPeople {
		api.AddUser(id, name, "Europe/Berlin")
	}
	router := bot.Router{}
	now := func() time.Time { return slackNow }
	b := bot.New(bot.Options{Config: cfg, Store: st, Messenger: router, Once: st, Now: now, Logger: log})
	a, err := slackadapter.New(slackadapter.Options{
		BotToken: "xoxb-load", SigningSecret: slackSecret, APIURL: api.APIURL(), Mode: slackadapter.ModeHTTP,
		Core: b, Now: time.Now, Logger: log,
	})
	if err != nil {
		tb.Fatal(err)
	}
	router[slackadapter.Platform] = a
	mux := http.NewServeMux()
	a.Routes(mux)
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)

	opt, _ := redis.ParseURL(redisURL)
	rdb := redis.NewClient(opt)
	tb.Cleanup(func() { rdb.Close() })
	bare := httptest.NewServer(bareHandler([]byte(slackSecret), rdb))
	tb.Cleanup(bare.Close)
	// Slack's side of the answers: it takes each and keeps nothing (the
	// fake Web API records every call, which is our cost, not the bot's).
	answers := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	tb.Cleanup(answers.Close)

	e := &loadEnv{tb: tb, api: api, store: st, bot: b, slack: a, srv: srv, bareURL: bare.URL, answersURL: answers.URL,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}}}
	// UPG-1 is read; UPG-2 is pressed. Both have their roots posted.
	inv := bot.Invocation{Actor: bot.Actor{ID: "slack:U0ALICE", Name: "alice"}, Channel: "slack:C0OPS"}
	for _, cmd := range []string{"schedule payments v2.4.0 at 2026-12-01 03:00 for 2h", "schedule payments v2.5.0 at 2026-12-02 03:00 for 2h",
		"schedule payments v2.6.0 at 2026-12-03 03:00 for 2h"} {
		if m := b.Handle(ctx, inv, cmd); m.Kind == bot.KindError {
			tb.Fatal(m.Plain(time.UTC))
		}
	}
	b.Press(ctx, bot.ButtonPress{Actor: bot.Actor{ID: "slack:U0BOB"}, Button: bot.AckButton{UpgradeID: "UPG-1", Scope: "brief"}})
	b.Flush()
	return e
}

// seedAcks gives upgrade id n acknowledgments by distinct people.
func (e *loadEnv) seedAcks(id, n int) {
	ctx := context.Background()
	var wg sync.WaitGroup
	work := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range work {
				e.bot.Press(ctx, bot.ButtonPress{Actor: bot.Actor{ID: fmt.Sprintf("slack:US%06d", i)},
					Button: bot.AckButton{UpgradeID: "UPG-" + strconv.Itoa(id), Scope: "brief"}})
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	e.bot.Flush()
}

// bareHandler is the least any handler must do: check Slack's signature,
// one Redis round trip, answer with JSON.
func bareHandler(secret []byte, rdb *redis.Client) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		ts := r.Header.Get("X-Slack-Request-Timestamp")
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
			http.Error(w, "stale", http.StatusUnauthorized)
			return
		}
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte("v0:" + ts + ":"))
		mac.Write(body)
		if !hmac.Equal([]byte("v0="+hex.EncodeToString(mac.Sum(nil))), []byte(r.Header.Get("X-Slack-Signature"))) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		v, err := rdb.Get(r.Context(), "ubload:bare").Result()
		if err != nil && err != redis.Nil {
			http.Error(w, "redis", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"response_type": "ephemeral", "text": "ok " + v})
	}
}

// request builds one signed request body; n numbers it within the run.
type request func(n int64) (path, body string)

func (e *loadEnv) commandRequest(text string) request {
	return func(n int64) (string, string) {
		sc := slackgo.SlashCommand{TeamID: "T0E2E", ChannelID: "C0OPS", UserID: "U0BOB", UserName: "bob", Command: "/upgrade",
			Text: text, ResponseURL: e.answersURL + "/load", TriggerID: fmt.Sprintf("trig-load-%d", n), APIAppID: "A0E2E"}
		return slackadapter.PathCommands, slacktestapi.CommandForm(sc)
	}
}

func (e *loadEnv) pressRequest(id string) request {
	// One payload, encoded once by slack-go; each request numbers its own
	// user and trigger (encoding the whole callback per request would make
	// the clients, not the servers, the bottleneck).
	const mark = "N0000000"
	cb := slacktestapi.BlockAction(slacktestapi.Press{UserID: "UL" + mark, UserName: "u" + mark,
		ChannelID: "C0PAYMENTS", MessageTS: "1700000000.000100", ActionID: slackadapter.ActionAck, Value: id + ":brief",
		TriggerID: "trig-press-" + mark, ActionTS: mark, ResponseURL: e.answersURL + "/press"})
	form := slacktestapi.InteractionForm(e.tb, cb)
	return func(n int64) (string, string) {
		return slackadapter.PathInteractions, strings.ReplaceAll(form, mark, fmt.Sprintf("%08d", n))
	}
}

type loadResult struct {
	n    int
	d    time.Duration
	lats []time.Duration
	cpu  time.Duration // this process's CPU time during the phase and its background work
}

// cpuPer is the process's CPU time per request.
func (r loadResult) cpuPer() time.Duration {
	if r.n == 0 {
		return 0
	}
	return r.cpu / time.Duration(r.n)
}

// processCPU is the CPU time this process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (r loadResult) rate() float64 { return float64(r.n) / r.d.Seconds() }

func (r loadResult) pct(p int) time.Duration {
	if len(r.lats) == 0 {
		return 0
	}
	return r.lats[min(len(r.lats)-1, len(r.lats)*p/100)]
}

// run drives target with clients closed-loop clients for d and measures.
func (e *loadEnv) run(clients int, d time.Duration, target string, req request) loadResult {
	base, _, _ := strings.Cut(target, "/slack/")
	var (
		mu   sync.Mutex
		lats []time.Duration
		wg   sync.WaitGroup
	)
	cpu0 := processCPU()
	stop := time.Now().Add(d)
	for range clients {
		wg.Go(func() {
			var mine []time.Duration
			for time.Now().Before(stop) {
				n := e.seq.Add(1)
				path, body := req(n)
				url := target
				if base != target { // a bot endpoint: the request's own path
					url = base + path
				}
				ts := strconv.FormatInt(time.Now().Unix(), 10)
				r, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				r.Header.Set("X-Slack-Request-Timestamp", ts)
				r.Header.Set("X-Slack-Signature", slacktestapi.Signature(slackSecret, ts, []byte(body)))
				t0 := time.Now()
				resp, err := e.client.Do(r)
				if err != nil {
					e.tb.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					e.tb.Errorf("%s: status %d", url, resp.StatusCode)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	e.slack.Wait() // the work after the answers counts too
	e.bot.Flush()
	slices.Sort(lats)
	return loadResult{n: len(lats), d: d, lats: lats, cpu: processCPU() - cpu0}
}
