package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
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

	"github.com/bwmarrin/discordgo"
	"github.com/redis/go-redis/v9"
	slackgo "github.com/slack-go/slack"

	discordadapter "github.com/upgradebot/upgradebot/adapters/discord"
	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
	slackadapter "github.com/upgradebot/upgradebot/adapters/slack"
	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/store"
)

// BenchmarkLoad is the project's load benchmark (docs/benchmarks.md): in one
// process and one run it drives the bot's real HTTP endpoints (signature
// check, de-duplication, core, store, rendering) and a bare handler
// (signature check, one Redis round trip, a JSON answer) against the same
// real Redis, with closed-loop clients, for a read command (show) and for
// Acknowledge presses by distinct users, on Slack's endpoints and on
// Discord's interactions endpoint, and prints throughput, p50 and p99 of
// each and the ratios. Each press phase also drives the platform's press
// floor (load_floor_test.go: the least a handler that records a press and
// answers it on the platform's terms can do), so that press/floor shows the
// bot's own overhead and floor/bare what the protocols cost. It starts its
// own redis-server with appendfsync always (as production with AOF does the
// most), unless UPGRADEBOT_LOAD_REDIS names one. UPGRADEBOT_LOAD_CLIENTS (16) and
// UPGRADEBOT_LOAD_SECONDS (8) size it; UPGRADEBOT_LOAD_ONLY runs one phase
// (show, show10k, press, discord-show, discord-press; discord for both of
// Discord's).
//
//	go test -run '^$' -bench Load -benchtime 1x ./e2e/
func BenchmarkLoad(b *testing.B) {
	redisURL := os.Getenv("UPGRADEBOT_LOAD_REDIS")
	if redisURL == "" {
		redisURL = startRedisServer(b, "--appendonly", "yes", "--appendfsync", "always")
	}
	clients, seconds := envInt("UPGRADEBOT_LOAD_CLIENTS", 16), envInt("UPGRADEBOT_LOAD_SECONDS", 8)
	only := os.Getenv("UPGRADEBOT_LOAD_ONLY")
	phase := func(name string) bool {
		return only == "" || only == name || (only == "discord" && strings.HasPrefix(name, "discord-"))
	}
	for b.Loop() {
		env := newLoadEnv(b, redisURL)
		d := time.Duration(seconds) * time.Second
		var bareShow, show, big, barePress, floorPress, press, dBareShow, dShow, dBarePress, dFloorPress, dPress loadResult
		if phase("show") {
			env.probe(env.commandRequest("show UPG-1"), "payments v2.4.0")
			bareShow = env.run(clients, d, env.bareURL, env.commandRequest("show UPG-1"))
			show = env.run(clients, d, env.srv.URL, env.commandRequest("show UPG-1"))
		}
		if phase("show10k") {
			env.seedAcks(3, 10000)
			big = env.run(clients, d, env.srv.URL, env.commandRequest("show UPG-3"))
		}
		if phase("press") {
			barePress = env.run(clients, d, env.bareURL, env.pressRequest("UPG-2"))
			floorPress = env.run(clients, d, env.floorURL, env.pressRequest("UPG-2"))
			press = env.run(clients, d, env.srv.URL, env.pressRequest("UPG-2"))
		}
		if phase("discord-show") {
			env.probe(env.discordCommand("show", "UPG-1"), "payments v2.4.0")
			dBareShow = env.run(clients, d, env.dBareURL, env.discordCommand("show", "UPG-1"))
			dShow = env.run(clients, d, env.srv.URL, env.discordCommand("show", "UPG-1"))
		}
		if phase("discord-press") {
			env.probe(env.discordPress("UPG-4"), "Thanks")
			dBarePress = env.run(clients, d, env.dBareURL, env.discordPress("UPG-4"))
			dFloorPress = env.run(clients, d, env.dFloorURL, env.discordPress("UPG-4"))
			dPress = env.run(clients, d, env.srv.URL, env.discordPress("UPG-4"))
		}

		fmt.Printf("\nload: %d closed-loop clients, %s each, redis %s\n", clients, d, redact(redisURL))
		fmt.Printf("%-18s %10s %10s %10s %12s %12s %10s\n", "", "req/s", "p50", "p99", "cpu/req", "redis/req", "after")
		for _, r := range []struct {
			name string
			res  loadResult
		}{{"bare read", bareShow}, {"show", show}, {"show 10k", big}, {"bare press", barePress}, {"press floor", floorPress}, {"press", press},
			{"discord bare read", dBareShow}, {"discord show", dShow}, {"discord bare press", dBarePress}, {"discord press floor", dFloorPress}, {"discord press", dPress}} {
			if r.res.n > 0 {
				fmt.Printf("%-18s %10.0f %10s %10s %12s %12s %10s\n", r.name, r.res.rate(), r.res.pct(50), r.res.pct(99), r.res.cpuPer(), r.res.redisPer(), r.res.after.Round(time.Millisecond))
			}
		}
		for _, r := range []struct {
			name      string
			bot, bare loadResult
		}{{"show", show, bareShow}, {"press", press, barePress}, {"discord-show", dShow, dBareShow}, {"discord-press", dPress, dBarePress}} {
			if r.bot.n > 0 && r.bare.n > 0 {
				fmt.Printf("%s/bare %.2f  ", r.name, r.bot.rate()/r.bare.rate())
				b.ReportMetric(r.bot.rate()/r.bare.rate(), r.name+"/bare")
				b.ReportMetric(float64(r.bot.pct(99).Microseconds())/1000, r.name+"-p99-ms")
			}
		}
		fmt.Println()
		// The press floors (load_floor_test.go): what a press costs any
		// handler that records it and answers it on the platform's terms.
		for _, r := range []struct {
			name             string
			bot, floor, bare loadResult
		}{{"press", press, floorPress, barePress}, {"discord-press", dPress, dFloorPress, dBarePress}} {
			if r.bot.n > 0 && r.floor.n > 0 && r.bare.n > 0 {
				fmt.Printf("%s/floor %.2f  %s-floor/bare %.2f  ", r.name, r.bot.rate()/r.floor.rate(), r.name, r.floor.rate()/r.bare.rate())
				b.ReportMetric(r.bot.rate()/r.floor.rate(), r.name+"/floor")
			}
		}
		fmt.Println()
		if big.n > 0 {
			b.ReportMetric(float64(big.pct(50).Microseconds())/1000, "show10k-p50-ms")
		}

		// Every press answered was recorded (the decision log is capped).
		if acks, _ := env.store.Acks(context.Background(), 2); len(acks) != press.n {
			b.Errorf("%d presses answered, %d acks stored", press.n, len(acks))
		}
		if acks, _ := env.store.Acks(context.Background(), 4); dPress.n > 0 && len(acks) != dPress.n+1 { // and the probe's
			b.Errorf("%d Discord presses answered (and one probe), %d acks stored", dPress.n, len(acks))
		}
		// So was every press the floors answered (Discord's floor answers
		// 500, which the clients count as an error, when its write fails).
		if n := env.floor.failed.Load(); n != 0 {
			b.Errorf("the Slack press floor failed to record or answer %d presses", n)
		}
		if n, err := env.floor.rdb.HLen(context.Background(), env.floor.keys[0]).Result(); err != nil || int(n) != floorPress.n+dFloorPress.n {
			b.Errorf("%d presses answered by the floors, %d acks stored (%v)", floorPress.n+dFloorPress.n, n, err)
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
	// floorURL is the Slack press floor, dFloorURL Discord's
	// (load_floor_test.go).
	floorURL, dFloorURL string
	floor               *slackFloor
	// answersURL takes the answers to presses and commands (response_url).
	answersURL string
	client     *http.Client
	seq        atomic.Int64
	// Discord's interactions endpoint is served by srv too; dBareURL is
	// its bare handler, priv the application's key that signs requests.
	discord  *discordadapter.Adapter
	dBareURL string
	priv     ed25519.PrivateKey
	rdb      *redis.Client // the bare handlers', and for the server's CPU time
}

func newLoadEnv(tb testing.TB, redisURL string) *loadEnv {
	tb.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	prefix := "ubload:" + hex.EncodeToString(rnd[:])
	st, err := store.Open(ctx, store.Options{URL: redisURL, Prefix: prefix}, log)
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
	dapi := discordtest.New(tb)
	pub, priv := discordtest.NewKey(tb)
	da, err := discordadapter.New(discordadapter.Options{
		BotToken: discordtest.Token, ApplicationID: discordtest.AppID, PublicKey: pub, GuildIDs: []string{discordtest.GuildID},
		APIURL: dapi.APIURL(), Mode: discordadapter.ModeHTTP, Core: b, Now: time.Now, Logger: log,
	})
	if err != nil {
		tb.Fatal(err)
	}
	router[discordadapter.Platform] = da
	mux := http.NewServeMux()
	a.Routes(mux)
	da.Routes(mux)
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)

	opt, _ := redis.ParseURL(redisURL)
	rdb := redis.NewClient(opt)
	tb.Cleanup(func() { rdb.Close() })
	bare := httptest.NewServer(bareHandler([]byte(slackSecret), rdb))
	tb.Cleanup(bare.Close)
	dBare := httptest.NewServer(discordBareHandler(priv.Public().(ed25519.PublicKey), rdb))
	tb.Cleanup(dBare.Close)
	// Slack's side of the answers on the response_url: Slack's servers do
	// that work, not the bot's, so here it costs as little as it can (a
	// net/http server there charged the bot about 20 µs a press for
	// parsing and answering requests that in production Slack parses).
	// UPGRADEBOT_LOAD_ANSWERS=net/http puts a net/http server there
	// instead, for comparison.
	answersURL := startAnswers(tb)
	// The floors' writes wait for the disk sync: as many connections as
	// the bot's store keeps, so that they are not queued behind go-redis's
	// default of 10 per CPU.
	fopt, _ := redis.ParseURL(redisURL)
	fopt.PoolSize = 128
	frdb := redis.NewClient(fopt)
	tb.Cleanup(func() { frdb.Close() })
	floor := &slackFloor{secret: []byte(slackSecret), rdb: frdb, keys: floorKeys(prefix),
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}}}
	floorSrv := httptest.NewServer(floor)
	tb.Cleanup(floorSrv.Close)
	dFloorSrv := httptest.NewServer(discordFloor(priv.Public().(ed25519.PublicKey), frdb, floorKeys(prefix)))
	tb.Cleanup(dFloorSrv.Close)

	e := &loadEnv{tb: tb, api: api, store: st, bot: b, slack: a, srv: srv, bareURL: bare.URL, answersURL: answersURL,
		client:  &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}},
		discord: da, dBareURL: dBare.URL, priv: priv, rdb: rdb, floorURL: floorSrv.URL, dFloorURL: dFloorSrv.URL, floor: floor}
	// UPG-1 is read; UPG-2 is pressed on Slack, UPG-4 on Discord; UPG-3
	// gets 10,000 acknowledgments. All have their roots posted.
	inv := bot.Invocation{Actor: bot.Actor{ID: "slack:U0ALICE", Name: "alice"}, Channel: "slack:C0OPS"}
	for _, cmd := range []string{"schedule payments v2.4.0 at 2026-12-01 03:00 for 2h", "schedule payments v2.5.0 at 2026-12-02 03:00 for 2h",
		"schedule payments v2.6.0 at 2026-12-03 03:00 for 2h", "schedule payments v2.7.0 at 2026-12-04 03:00 for 2h"} {
		if m := b.Handle(ctx, inv, cmd); m.Kind == bot.KindError {
			tb.Fatal(m.Plain(time.UTC))
		}
	}
	b.Press(ctx, bot.ButtonPress{Actor: bot.Actor{ID: "slack:U0BOB"}, Button: bot.AckButton{UpgradeID: "UPG-1", Scope: "brief"}})
	b.Flush()
	return e
}

// startAnswers starts Slack's side of the response_url and returns its URL:
// a minimal HTTP/1.1 server that reads each request (headers and a body of
// Content-Length bytes) and answers {"ok":true} on the same connection.
func startAnswers(tb testing.TB) string {
	if os.Getenv("UPGRADEBOT_LOAD_ANSWERS") == "net/http" {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"ok":true}`)
		}))
		tb.Cleanup(srv.Close)
		return srv.URL
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	const ok = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}"
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					n, err := readRequest(r)
					if err != nil {
						if err != io.EOF {
							tb.Errorf("answers: %v", err)
						}
						return
					}
					if _, err := r.Discard(n); err != nil {
						return
					}
					if _, err := io.WriteString(c, ok); err != nil {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// readRequest reads an HTTP/1.1 request's head and returns its
// Content-Length; a chunked body is an error (the bot sends none).
func readRequest(r *bufio.Reader) (int, error) {
	n, first := 0, true
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			if first && err == io.EOF && len(line) == 0 {
				return 0, io.EOF
			}
			return 0, fmt.Errorf("read request head: %w", err)
		}
		first = false
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			return n, nil
		}
		k, v, _ := bytes.Cut(line, []byte(":"))
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			if n, err = strconv.Atoi(string(bytes.TrimSpace(v))); err != nil {
				return 0, fmt.Errorf("bad Content-Length %q", v)
			}
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			return 0, fmt.Errorf("unexpected Transfer-Encoding %q", v)
		}
	}
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

// slackVerified reads a request's body and checks Slack's signature the
// plain way (the bare handlers' and the floors'), answering the error
// itself when it fails.
func slackVerified(w http.ResponseWriter, r *http.Request, secret []byte) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return nil, false
	}
	ts := r.Header.Get("X-Slack-Request-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		http.Error(w, "stale", http.StatusUnauthorized)
		return nil, false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	if !hmac.Equal([]byte("v0="+hex.EncodeToString(mac.Sum(nil))), []byte(r.Header.Get("X-Slack-Signature"))) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return nil, false
	}
	return body, true
}

// discordVerified is slackVerified for Discord's Ed25519 signature.
func discordVerified(w http.ResponseWriter, r *http.Request, pub ed25519.PublicKey) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return nil, false
	}
	ts := r.Header.Get("X-Signature-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		http.Error(w, "stale", http.StatusUnauthorized)
		return nil, false
	}
	sig, err := hex.DecodeString(r.Header.Get("X-Signature-Ed25519"))
	if err != nil || !ed25519.Verify(pub, append([]byte(ts), body...), sig) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return nil, false
	}
	return body, true
}

// bareHandler is the least any handler must do: check Slack's signature,
// one Redis round trip, answer with JSON.
func bareHandler(secret []byte, rdb *redis.Client) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, ok := slackVerified(w, r, secret); !ok {
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

// discordBareHandler is the least any handler of Discord's interactions
// must do: check the Ed25519 signature, one Redis round trip, answer with
// JSON.
func discordBareHandler(pub ed25519.PublicKey, rdb *redis.Client) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, ok := discordVerified(w, r, pub); !ok {
			return
		}
		v, err := rdb.Get(r.Context(), "ubload:bare").Result()
		if err != nil && err != redis.Nil {
			http.Error(w, "redis", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"type": 4, "data": map[string]any{"content": "ok " + v, "flags": 64}})
	}
}

// request builds one request; n numbers it within the run.
type request struct {
	build func(n int64) (path, body string)
	// sign sets the platform's content type and signature headers.
	sign func(h http.Header, body string)
}

func (e *loadEnv) slackRequest(build func(n int64) (string, string)) request {
	return request{build: build, sign: func(h http.Header, body string) {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		h.Set("Content-Type", "application/x-www-form-urlencoded")
		h.Set("X-Slack-Request-Timestamp", ts)
		h.Set("X-Slack-Signature", slacktestapi.Signature(slackSecret, ts, []byte(body)))
	}}
}

func (e *loadEnv) discordRequest(build func(n int64) (string, string)) request {
	return request{build: build, sign: func(h http.Header, body string) {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		h.Set("Content-Type", "application/json")
		h.Set("X-Signature-Timestamp", ts)
		h.Set("X-Signature-Ed25519", discordtest.Sign(e.priv, ts, []byte(body)))
	}}
}

func (e *loadEnv) commandRequest(text string) request {
	return e.slackRequest(func(n int64) (string, string) {
		sc := slackgo.SlashCommand{TeamID: "T0E2E", ChannelID: "C0OPS", UserID: "U0BOB", UserName: "bob", Command: "/upgrade",
			Text: text, ResponseURL: e.answersURL + "/load", TriggerID: fmt.Sprintf("trig-load-%d", n), APIAppID: "A0E2E"}
		return slackadapter.PathCommands, slacktestapi.CommandForm(sc)
	})
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
	return e.slackRequest(func(n int64) (string, string) {
		return slackadapter.PathInteractions, strings.ReplaceAll(form, mark, fmt.Sprintf("%08d", n))
	})
}

// discordMark stands for the request's number in an interaction encoded
// once: its id, token and (for presses) user.
const discordMark = "5550000000"

// discordOnce encodes i once by discordgo, numbered per request.
func (e *loadEnv) discordOnce(i *discordgo.Interaction) request {
	i.ID, i.Token = discordMark, "tok-"+discordMark
	js := string(discordtest.Marshal(e.tb, i))
	return e.discordRequest(func(n int64) (string, string) {
		return discordadapter.PathInteractions, strings.ReplaceAll(js, discordMark, strconv.FormatInt(6660000000+n, 10))
	})
}

// discordCommand is /upgrade sub id=<id> typed by bob in #ops.
func (e *loadEnv) discordCommand(sub, id string) request {
	api := discordtest.New(e.tb)
	return e.discordOnce(api.Command(discordtest.Member{ID: "1002", Name: "bob"}, "2099", sub, discordtest.O("id", id)))
}

// discordPress is a press of upgrade id's Acknowledge button, each by
// another member.
func (e *loadEnv) discordPress(id string) request {
	api := discordtest.New(e.tb)
	msg := discordtest.Message{ID: "3000000000000000001", ChannelID: "2002", Content: "root"}
	return e.discordOnce(api.Press(discordtest.Member{ID: discordMark, Name: "u" + discordMark}, msg,
		discordadapter.ActionAck+":"+id+":"+bot.ScopeBrief))
}

type loadResult struct {
	n     int
	d     time.Duration // from the first request until the work after the last answer is done
	after time.Duration // of which after the last answer
	lats  []time.Duration
	cpu   time.Duration // this process's CPU time during the phase and its background work
	redis time.Duration // the Redis server's CPU time meanwhile (INFO cpu)
}

// redisPer is the Redis server's CPU time per request.
func (r loadResult) redisPer() time.Duration {
	if r.n == 0 {
		return 0
	}
	return r.redis / time.Duration(r.n)
}

// redisCPU is the CPU time the Redis server has used so far (0 when it
// does not tell).
func (e *loadEnv) redisCPU() time.Duration {
	info, err := e.rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		return 0
	}
	var total float64
	for _, line := range strings.Split(info, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		if k == "used_cpu_sys" || k == "used_cpu_user" {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return time.Duration(total * float64(time.Second))
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

// probe sends one request of req to the bot and fails the run unless the
// answer says want: the load measures real answers, not refusals.
func (e *loadEnv) probe(req request, want string) {
	path, body := req.build(e.seq.Add(1))
	r, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(body))
	req.sign(r.Header, body)
	resp, err := e.client.Do(r)
	if err != nil {
		e.tb.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(got), want) {
		e.tb.Fatalf("%s: %d %s; want %q", path, resp.StatusCode, got, want)
	}
}

// run drives base (a bare handler's, or the bot's server's URL, to which
// each request adds its path) with clients closed-loop clients for d and
// measures.
func (e *loadEnv) run(clients int, d time.Duration, base string, req request) loadResult {
	bare := base == e.bareURL || base == e.dBareURL || base == e.floorURL || base == e.dFloorURL
	var (
		mu   sync.Mutex
		lats []time.Duration
		wg   sync.WaitGroup
	)
	cpu0, rcpu0 := processCPU(), e.redisCPU()
	started := time.Now()
	stop := started.Add(d)
	for range clients {
		wg.Go(func() {
			var mine []time.Duration
			for time.Now().Before(stop) {
				n := e.seq.Add(1)
				path, body := req.build(n)
				url := base
				if !bare {
					url = base + path
				}
				r, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
				req.sign(r.Header, body)
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
	answered := time.Now()
	// The work after the answers counts too: the rate is over the time
	// until it is done, so work put off past the clients' last answer is
	// not free. The last root edit is not waited for (a burst's edits are
	// coalesced to one a second, so it comes up to a second later by
	// design), but its CPU time counts.
	e.slack.Wait()
	e.discord.Wait()
	e.floor.wg.Wait()
	done := time.Now()
	e.bot.Flush()
	slices.Sort(lats)
	return loadResult{n: len(lats), d: done.Sub(started), after: done.Sub(answered), lats: lats, cpu: processCPU() - cpu0, redis: e.redisCPU() - rcpu0}
}
