package main

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	slackgo "github.com/slack-go/slack"

	"github.com/upgradebot/upgradebot/adapters/slack/slacktestapi"
	"github.com/upgradebot/upgradebot/store"
	"github.com/upgradebot/upgradebot/store/storetest"
)

// redisClient connects to the test Redis of o.
func redisClient(t *testing.T, o store.Options) redis.UniversalClient {
	if len(o.ClusterAddrs) > 0 {
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: o.ClusterAddrs})
	}
	opt, err := redis.ParseURL(o.URL)
	if err != nil {
		t.Fatal(err)
	}
	return redis.NewClient(opt)
}

// hookReceiver is a webhook endpoint on 127.0.0.1 that verifies each
// delivery as docs/events.md tells receivers to, and answers what answer
// says (by the number of the request, from 1).
type hookReceiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret string
	answer func(n int, r *http.Request) int

	mu   sync.Mutex
	n    int
	got  []hookDelivery
	more chan struct{}
}

type hookDelivery struct {
	ID, Type, Upgrade, RequestID string
	Status                       int
	Body                         []byte
}

func newHookReceiver(t *testing.T, secret string, answer func(n int, r *http.Request) int) *hookReceiver {
	h := &hookReceiver{t: t, secret: secret, answer: answer, more: make(chan struct{}, 1)}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	mac := hmac.New(sha256.New, []byte(h.secret))
	mac.Write(body)
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); !hmac.Equal([]byte(r.Header.Get("X-Upgradebot-Signature-256")), []byte(want)) {
		h.t.Errorf("delivery with a bad signature: %q", r.Header.Get("X-Upgradebot-Signature-256"))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var e struct {
		ID, Type, Service, Actor, At string
		UpgradeID                    string `json:"upgrade_id"`
		RequestID                    string `json:"request_id"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.ID == "" || e.Type == "" || e.UpgradeID == "" || e.Service == "" || e.At == "" {
		h.t.Errorf("delivery is not a whole event: %v: %s", err, body)
	}
	if r.Header.Get("X-Upgradebot-Event-Id") != e.ID {
		h.t.Errorf("X-Upgradebot-Event-Id %q for event %q", r.Header.Get("X-Upgradebot-Event-Id"), e.ID)
	}
	if ts, err := strconv.ParseInt(r.Header.Get("X-Upgradebot-Timestamp"), 10, 64); err != nil || time.Since(time.Unix(ts, 0)).Abs() > time.Minute {
		h.t.Errorf("X-Upgradebot-Timestamp %q", r.Header.Get("X-Upgradebot-Timestamp"))
	}
	h.mu.Lock()
	h.n++
	n := h.n
	h.mu.Unlock()
	status := h.answer(n, r)
	h.mu.Lock()
	h.got = append(h.got, hookDelivery{ID: e.ID, Type: e.Type, Upgrade: e.UpgradeID, RequestID: e.RequestID, Status: status, Body: body})
	h.mu.Unlock()
	select {
	case h.more <- struct{}{}:
	default:
	}
	w.WriteHeader(status)
}

// all returns every delivery so far.
func (h *hookReceiver) all() []hookDelivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookDelivery(nil), h.got...)
}

// acceptedIDs counts, per event id, the deliveries answered 2xx.
func (h *hookReceiver) acceptedIDs() map[string]int {
	out := map[string]int{}
	for _, d := range h.all() {
		if d.Status < 300 {
			out[d.ID]++
		}
	}
	return out
}

// waitUntil waits for cond on the deliveries.
func (h *hookReceiver) waitUntil(within time.Duration, what string, cond func() bool) {
	h.t.Helper()
	deadline := time.After(within)
	for !cond() {
		select {
		case <-h.more:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			h.t.Fatalf("gave up waiting for %s; the receiver got %d deliveries", what, len(h.all()))
		}
	}
}

// A receiver that answers 500 twice and then 200 gets the event once it
// recovers, signed; the command's log line, its notice's and its event
// share one request id; no secret reaches the logs; `upgradebot webhooks`
// shows the endpoint's last success, last error and an empty backlog.
func TestWebhookOnARunningServe(t *testing.T) {
	recv := newHookReceiver(t, "SEKRIT-hook-secret", func(n int, _ *http.Request) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	var logs syncBuffer
	s := startStatusServeWith(t, serveSetup{public: true, logs: &logs, extra: fmt.Sprintf(`
[[webhooks]]
url = %q
secret = "SEKRIT-hook-secret"
`, recv.srv.URL+"/hook/SEKRIT-in-path?token=SEKRIT-in-query")})
	if ans := s.slash("U0ALICE", "schedule payments v2.4.0 in 3d for 2h"); !strings.Contains(ans, "UPG-1") {
		t.Fatalf("schedule answered %q", ans)
	}
	recv.waitUntil(30*time.Second, "the scheduled event accepted", func() bool { return len(recv.acceptedIDs()) == 1 })
	all := recv.all()
	if len(all) != 3 || all[0].Status != 500 || all[1].Status != 500 || all[2].Status != 200 {
		t.Fatalf("deliveries = %+v; want 500, 500, 200", all)
	}
	for _, d := range all {
		if d.ID != all[0].ID || string(d.Body) != string(all[0].Body) {
			t.Errorf("a retry is not the same event: %s vs %s", d.Body, all[0].Body)
		}
	}
	ev := all[2]
	if ev.Type != "upgrade.scheduled" || ev.Upgrade != "UPG-1" || !strings.HasPrefix(ev.RequestID, "req_") {
		t.Fatalf("delivered %s", ev.Body)
	}

	// One request id ties the command's log line, its posts and its event.
	waitFor(t, 10*time.Second, "the pre-brief's log line", func() bool {
		return strings.Contains(logs.String(), `"msg":"notice"`)
	})
	var command, notice bool
	for _, line := range strings.Split(logs.String(), "\n") {
		if !strings.Contains(line, `"request_id":"`+ev.RequestID+`"`) {
			continue
		}
		command = command || strings.Contains(line, `"msg":"command"`) && strings.Contains(line, `"command":"schedule"`) &&
			strings.Contains(line, `"upgrade":"UPG-1"`) && strings.Contains(line, `"platform":"slack"`) && strings.Contains(line, `"outcome":"ok"`)
		notice = notice || strings.Contains(line, `"msg":"notice"`) && strings.Contains(line, `"upgrade":"UPG-1"`) && strings.Contains(line, `"outcome":"posted"`)
	}
	if !command || !notice {
		t.Errorf("request %s: command line %v, notice line %v in the logs:\n%s", ev.RequestID, command, notice, logs.String())
	}
	if strings.Contains(logs.String(), "SEKRIT") {
		t.Errorf("a secret reached the logs:\n%s", logs.String())
	}

	// What every replica can see of the endpoint (the receiver answered
	// before the deliverer recorded it: wait for the record).
	var out, errOut strings.Builder
	waitFor(t, 10*time.Second, "the delivery recorded", func() bool {
		out.Reset()
		errOut.Reset()
		if code := run(context.Background(), nil, []string{"webhooks", "-config", s.config}, strings.NewReader(""), &out, &errOut, nil); code != 0 {
			t.Fatalf("upgradebot webhooks exited %d: %s", code, errOut.String())
		}
		return strings.Contains(out.String(), "delivered:     1 ")
	})
	for _, want := range []string{recv.srv.URL + "/… (endpoint ", "last success:  20", "the receiver answered 500 Internal Server Error",
		"backlog:       0 event(s) waiting", "delivered:     1    failed attempts: 2    given up: 0"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("upgradebot webhooks lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "SEKRIT") {
		t.Errorf("upgradebot webhooks shows a secret:\n%s", out.String())
	}
}

// A receiver that never answers does not hold up commands: while it holds
// the first delivery, commands keep being answered (how fast, with and
// without it, is BenchmarkCommandWithAHungWebhook).
func TestAHungReceiverDoesNotHoldUpCommands(t *testing.T) {
	release := make(chan struct{})
	held := make(chan struct{}, 100)
	recv := newHookReceiver(t, "k", func(int, *http.Request) int {
		held <- struct{}{}
		<-release
		return http.StatusOK
	})
	s := startStatusServeWith(t, serveSetup{public: true, extra: fmt.Sprintf("[[webhooks]]\nurl = %q\nsecret = \"k\"\n", recv.srv.URL)})
	t.Cleanup(func() { close(release) }) // runs first: serve stops without waiting out the hung POST
	if ans := s.slash("U0ALICE", "schedule payments v1.0.0 in 3d for 1h"); !strings.Contains(ans, "UPG-1") {
		t.Fatalf("schedule answered %q", ans)
	}
	select {
	case <-held:
	case <-time.After(20 * time.Second):
		t.Fatal("the receiver never got the first event")
	}
	for i := 2; i <= 21; i++ {
		ans := s.slash("U0ALICE", fmt.Sprintf("schedule payments v1.0.%d in %dd for 1h", i, 3+i))
		if !strings.Contains(ans, fmt.Sprintf("UPG-%d", i)) {
			t.Fatalf("command %d answered %q while the receiver hangs", i, ans)
		}
	}
	if n := len(recv.all()); n != 0 {
		t.Errorf("the receiver finished %d deliveries while it was hanging", n)
	}
}

// BenchmarkCommandWithAHungWebhook measures a slash command's answer on a
// running serve with no webhook and with one whose receiver never answers.
func BenchmarkCommandWithAHungWebhook(b *testing.B) {
	for _, hung := range []bool{false, true} {
		b.Run(map[bool]string{false: "no-webhook", true: "hung-webhook"}[hung], func(b *testing.B) {
			extra := ""
			var release chan struct{}
			if hung {
				release = make(chan struct{})
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
				b.Cleanup(srv.Close)
				extra = fmt.Sprintf("[[webhooks]]\nurl = %q\nsecret = \"k\"\n", srv.URL)
			}
			s := startStatusServeWith(b, serveSetup{public: true, extra: extra})
			if release != nil {
				b.Cleanup(func() { close(release) })
			}
			b.ResetTimer()
			for i := range b.N {
				if ans := s.slash("U0ALICE", fmt.Sprintf("schedule payments v1.%d.0 in %dd for 1h", i, 3+i%300)); !strings.Contains(ans, "UPG-") {
					b.Fatalf("answered %q", ans)
				}
			}
		})
	}
}

// sseEvent is one event of /api/v1/events.
type sseEvent struct{ ID, Type, Data string }

// subscribe opens /api/v1/events and returns its events as they come.
func (s *statusServe) subscribe(ctx context.Context, query, lastID string) (<-chan sseEvent, *http.Response) {
	s.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/api/v1/events"+query, nil)
	req.Header.Set("Authorization", "Bearer "+statusToken)
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	ch := make(chan sseEvent, 100)
	if resp.StatusCode != http.StatusOK {
		close(ch)
		return ch, resp
	}
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Data != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.Type = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.Data += line[6:]
			}
		}
	}()
	return ch, resp
}

func nextEvent(t *testing.T, ch <-chan sseEvent, what string) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatalf("the stream ended before %s", what)
		}
		return ev
	case <-time.After(15 * time.Second):
		t.Fatalf("no %s within 15s", what)
	}
	return sseEvent{}
}

// A subscriber connected before a schedule receives its event; reconnecting
// with Last-Event-ID it receives what it missed, filtered by ?service=.
func TestLiveEventsOnARunningServe(t *testing.T) {
	s := startStatusServe(t, true)
	if code, _, _ := s.get("/api/v1/events", ""); code != http.StatusUnauthorized {
		t.Errorf("without a token: %d", code)
	}
	if code, _, body := s.get("/api/v1/events?service=nope", statusToken); code != http.StatusBadRequest || !strings.Contains(string(body), "payments") {
		t.Errorf("unknown service: %d %s", code, body)
	}
	if code, _, _ := s.get("/api/v1/events", statusToken, "Last-Event-ID", "yesterday"); code != http.StatusBadRequest {
		t.Errorf("a Last-Event-ID the server never sent: %d", code)
	}
	if code, _, body := s.get("/api/v1/events?last_event_id=1-0&last_event_id=2-0", statusToken); code != http.StatusBadRequest || !strings.Contains(string(body), "given 2 times") {
		t.Errorf("last_event_id given twice: %d %s", code, body)
	}
	// An id after the newest event would hold every later event back.
	if code, _, body := s.get("/api/v1/events", statusToken, "Last-Event-ID", "99999999999999-0"); code != http.StatusBadRequest || !strings.Contains(string(body), "after the newest event") {
		t.Errorf("a Last-Event-ID ahead of the stream: %d %s", code, body)
	}
	// A browser's EventSource cannot send headers: ?token= does.
	tctx, tcancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(tctx, http.MethodGet, s.base+"/api/v1/events?token="+statusToken, nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("?token=: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	tcancel()

	ctx, cancel := context.WithCancel(context.Background())
	ch, resp := s.subscribe(ctx, "", "")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("subscribe: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s.slash("U0ALICE", "schedule payments v2.4.0 in 3d for 2h")
	first := nextEvent(t, ch, "the scheduled event")
	var e struct {
		ID, Type, Service string
		UpgradeID         string `json:"upgrade_id"`
	}
	if err := json.Unmarshal([]byte(first.Data), &e); err != nil || first.Type != "upgrade.scheduled" || e.Type != first.Type || e.UpgradeID != "UPG-1" || e.Service != "payments" || first.ID == "" {
		t.Fatalf("first event %+v (%v)", first, err)
	}
	cancel() // the dashboard goes away...

	// ...and misses these.
	s.slash("U0BOB", "schedule checkout v7.0.0 in 4d for 1h")
	s.slash("U0ALICE", "cancel UPG-1 the vendor moved the date")

	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	ch2, _ := s.subscribe(ctx2, "", first.ID)
	// Events of different upgrades are in the stream in the order they were
	// relayed, which need not be the order of the commands.
	a, b := nextEvent(t, ch2, "a missed event"), nextEvent(t, ch2, "the other missed event")
	if a.Type == "upgrade.cancelled" {
		a, b = b, a
	}
	if a.Type != "upgrade.scheduled" || !strings.Contains(a.Data, `"UPG-2"`) || b.Type != "upgrade.cancelled" || !strings.Contains(b.Data, `"UPG-1"`) {
		t.Fatalf("after reconnecting: %+v, %+v", a, b)
	}
	ctx3, cancel3 := context.WithCancel(context.Background())
	defer cancel3()
	ch3, _ := s.subscribe(ctx3, "?service=PAYMENTS", first.ID)
	if c := nextEvent(t, ch3, "the payments event"); c.Type != "upgrade.cancelled" {
		t.Fatalf("?service=payments after the schedule: %+v", c)
	}
	// Live again: an acknowledgment of UPG-2 reaches the unfiltered
	// subscriber, not the payments one.
	s.slash("U0BOB", "ack UPG-2")
	if c := nextEvent(t, ch2, "the acknowledgment"); c.Type != "upgrade.acknowledged" || !strings.Contains(c.Data, `"UPG-2"`) {
		t.Fatalf("live after catching up: %+v", c)
	}
	select {
	case c := <-ch3:
		t.Fatalf("the payments subscriber got %+v", c)
	case <-time.After(300 * time.Millisecond):
	}
}

// Three serve processes and one receiver: 200 events arrive exactly once
// each; then the replica delivering is killed mid-delivery and none is
// lost (another claims what it left pending).
func TestWebhooksOnceAcrossThreeReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs three serve processes")
	}
	bin := buildBinary(t)
	hold := make(chan struct{})
	holding := make(chan struct{}, 1)
	var holdAt sync.Once
	var phase2 sync.Mutex
	holdNow := false
	recv := newHookReceiver(t, "k", func(n int, r *http.Request) int {
		phase2.Lock()
		h := holdNow
		phase2.Unlock()
		if h {
			holdAt.Do(func() {
				holding <- struct{}{}
				<-hold // the replica posting this is killed meanwhile
			})
		}
		return http.StatusOK
	})
	api := slacktestapi.New(t)
	o := storetest.Target(t)
	redisConf := fmt.Sprintf("url = %q\nprefix = %q", o.URL, o.Prefix)
	if len(o.ClusterAddrs) > 0 {
		redisConf = fmt.Sprintf("cluster_addrs = [\"%s\"]\nprefix = %q", strings.Join(o.ClusterAddrs, `", "`), o.Prefix)
	}
	type replica struct {
		base, config string
		cmd          *exec.Cmd
		logs         *syncBuffer
	}
	var reps []*replica
	for i := range 3 {
		addr := freeAddr(t)
		cfg := filepath.Join(t.TempDir(), fmt.Sprintf("replica%d.toml", i))
		os.WriteFile(cfg, []byte(statusConfigText(addr, redisConf, api.APIURL(), true)+fmt.Sprintf("[[webhooks]]\nurl = %q\nsecret = \"k\"\n", recv.srv.URL)), 0o600)
		r := &replica{base: "http://" + addr, config: cfg, logs: &syncBuffer{}}
		r.cmd = exec.Command(bin, "serve", "-config", cfg)
		r.cmd.Stderr = r.logs
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.cmd.Process.Signal(syscall.SIGTERM); r.cmd.Wait() })
		reps = append(reps, r)
	}
	for _, r := range reps {
		api.Eventually(t, 20*time.Second, "replica ready", func() bool {
			resp, err := http.Get(r.base + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
	}
	var seq int
	slash := func(r *replica, text string) {
		t.Helper()
		seq++
		form := slacktestapi.CommandForm(slackgo.SlashCommand{ChannelID: "C0OPS", UserID: "U0ALICE", UserName: "alice", Command: "/upgrade", Text: text,
			TriggerID: fmt.Sprintf("trig-rep-%d", seq), ResponseURL: api.ResponseURL(fmt.Sprintf("rep-%d", seq))})
		resp, err := http.DefaultClient.Do(slacktestapi.SignedRequest(t, r.base+"/slack/commands", "status-test-secret", form, time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), "UPG-") {
			t.Fatalf("%s answered %s", text, body)
		}
	}
	schedule := func(r *replica, i int) { slash(r, fmt.Sprintf("schedule payments v1.%d.0 in %dd for 1h", i, 3+i)) }
	for i := range 200 {
		schedule(reps[i%3], i)
	}
	recv.waitUntil(60*time.Second, "200 events", func() bool { return len(recv.acceptedIDs()) >= 200 })
	// Nothing left waiting, so no late duplicate can still come.
	waitFor(t, 20*time.Second, "an empty backlog", func() bool {
		var out strings.Builder
		run(context.Background(), nil, []string{"webhooks", "-config", reps[0].config}, strings.NewReader(""), &out, io.Discard, nil)
		return strings.Contains(out.String(), "backlog:       0 event(s)")
	})
	for id, n := range recv.acceptedIDs() {
		if n != 1 {
			t.Errorf("event %s accepted %d times", id, n)
		}
	}
	if n := len(recv.all()); n != 200 {
		t.Errorf("the receiver got %d deliveries for 200 events", n)
	}

	// Phase two: the receiver holds a delivery; the replica making it (the
	// holder of the endpoint's lease: "<host>-<pid>-<random>") dies.
	leader := -1
	rdb := redisClient(t, o)
	defer rdb.Close()
	sum := sha256.Sum256([]byte(recv.srv.URL))
	holder, err := rdb.Get(context.Background(), o.Prefix+":lease:webhook:"+hex.EncodeToString(sum[:6])).Result()
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range reps {
		if strings.Contains(holder, fmt.Sprintf("-%d-", r.cmd.Process.Pid)) {
			leader = i
		}
	}
	if leader < 0 {
		t.Fatalf("the lease is held by %q, none of the replicas", holder)
	}
	phase2.Lock()
	holdNow = true
	phase2.Unlock()
	others := []*replica{}
	for i, r := range reps {
		if i != leader {
			others = append(others, r)
		}
	}
	schedule(others[0], 200)
	select {
	case <-holding:
	case <-time.After(30 * time.Second):
		t.Fatal("the receiver never got the held delivery")
	}
	if err := reps[leader].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	reps[leader].cmd.Wait()
	close(hold)
	for i := 201; i < 250; i++ {
		schedule(others[i%2], i)
	}
	recv.waitUntil(90*time.Second, "all 250 events after the kill", func() bool { return len(recv.acceptedIDs()) >= 250 })
	took := 0
	for _, r := range others {
		if strings.Contains(r.logs.String(), "delivering webhook events from this replica") {
			took++
		}
	}
	if took == 0 {
		t.Error("no surviving replica took the deliveries over")
	}
	dups := 0
	for _, n := range recv.acceptedIDs() {
		dups += n - 1
	}
	t.Logf("after the kill: %d duplicate deliveries, %d deliveries in all", dups, len(recv.all()))
	if dups > 4 { // at most the deliveries in flight when it died
		t.Errorf("%d duplicate deliveries after the kill", dups)
	}
}
