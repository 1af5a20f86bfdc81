package e2e

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
)

// The press floors: the least a handler that really records a press and
// really answers the presser can do, on each platform's terms. The bare
// handlers (load_test.go) answer a press as they answer a read, in the HTTP
// response and after one read from Redis; a real press needs more whatever
// the handler: the acknowledgment written first-wins with its
// decision-log entry and its event (one script, synced to disk with
// appendfsync always), and on Slack the answer sent to the response_url,
// since Slack shows nothing of a block_actions response's body. The floors
// do exactly that and no more (no de-duplication of deliveries, no state
// check, no root refresh, no events relay, no groups, one goroutine per
// Slack press), so press/floor is the bot's own overhead and floor/bare
// what the platforms' protocols cost.

// floorScript is a first-wins acknowledgment with its decision and its
// event, in one round trip. KEYS: acks, log, events. ARGV: who, ack json,
// decision json, event json.
var floorScript = redis.NewScript(`
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', '1000', '*', 'decision', ARGV[3])
  redis.call('XADD', KEYS[3], '*', 'event', ARGV[4])
  return 1
end
return 0
`)

// floorKeys are the floors' keys under prefix (one hash tag).
func floorKeys(prefix string) []string {
	return []string{prefix + ":{floor}:acks", prefix + ":{floor}:log", prefix + ":{floor}:events"}
}

// floorAck records who's acknowledgment of value: one script call.
func floorAck(ctx context.Context, rdb *redis.Client, keys []string, who, value string) (bool, error) {
	at := time.Now().UTC().Format(time.RFC3339Nano)
	ack, _ := json.Marshal(struct{ Who, Value, At string }{who, value, at})
	dec, _ := json.Marshal(struct{ Kind, Who, Value, At string }{"ack", who, value, at})
	ev, _ := json.Marshal(struct{ Type, Who, Value, At string }{"acknowledged", who, value, at})
	n, err := floorScript.Run(ctx, rdb, keys, who, ack, dec, ev).Int()
	return n == 1, err
}

// slackFloor is the Slack press floor. Its work after the 200 is tracked by
// wg, so the run counts it.
type slackFloor struct {
	secret []byte
	rdb    *redis.Client
	keys   []string
	client *http.Client
	wg     sync.WaitGroup
	// failed counts presses not recorded or not answered: a floor that
	// fails quietly would make every ratio to it wrong.
	failed atomic.Int64
}

func (f *slackFloor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := slackVerified(w, r, f.secret)
	if !ok {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	var p struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		ResponseURL string `json:"response_url"`
		Actions     []struct {
			Value string `json:"value"`
		} `json:"actions"`
	}
	if err := json.Unmarshal([]byte(form.Get("payload")), &p); err != nil || len(p.Actions) == 0 {
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	f.wg.Go(func() {
		ctx := context.Background()
		first, err := floorAck(ctx, f.rdb, f.keys, "slack:"+p.User.ID, p.Actions[0].Value)
		text := "Thanks, acknowledged."
		switch {
		case err != nil:
			f.failed.Add(1)
			text = "Something went wrong."
		case !first:
			text = "You had acknowledged already."
		}
		answer, _ := json.Marshal(map[string]any{"response_type": "ephemeral", "replace_original": false, "text": text})
		resp, err := f.client.Post(p.ResponseURL, "application/json", bytes.NewReader(answer))
		if err != nil {
			f.failed.Add(1)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			f.failed.Add(1)
		}
	})
}

// discordFloor is the Discord press floor: Discord takes the answer in the
// response, so the write comes before it.
func discordFloor(pub ed25519.PublicKey, rdb *redis.Client, keys []string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, ok := discordVerified(w, r, pub)
		if !ok {
			return
		}
		var in struct {
			Member struct {
				User struct {
					ID string `json:"id"`
				} `json:"user"`
			} `json:"member"`
			Data struct {
				CustomID string `json:"custom_id"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &in); err != nil || in.Data.CustomID == "" {
			http.Error(w, "bad interaction", http.StatusBadRequest)
			return
		}
		first, err := floorAck(r.Context(), rdb, keys, "discord:"+in.Member.User.ID, in.Data.CustomID)
		if err != nil {
			http.Error(w, "redis", http.StatusInternalServerError)
			return
		}
		text := "Thanks, acknowledged."
		if !first {
			text = "You had acknowledged already."
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"type": 4, "data": map[string]any{"content": text, "flags": 64}})
	}
}

// TestPressFloorsRecordAndAnswer: the floors the load benchmark measures the
// bot's presses against really record a press first-wins, with its
// decision and its event, and really answer the presser: Slack's on the
// response_url after the 200, Discord's in the response, privately.
func TestPressFloorsRecordAndAnswer(t *testing.T) {
	redisURL := startRedisServer(t)
	opt, _ := redis.ParseURL(redisURL)
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	keys := floorKeys("ubfloortest")
	answers := make(chan string, 4)
	answersSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		answers <- string(b)
	}))
	t.Cleanup(answersSrv.Close)
	_, priv := discordtest.NewKey(t)
	e := &loadEnv{tb: t, answersURL: answersSrv.URL, priv: priv}
	ctx := context.Background()
	recorded := func(who string) (acks, decisions, events int64) {
		t.Helper()
		if js, err := rdb.HGet(ctx, keys[0], who).Result(); err != nil || !strings.Contains(js, who) {
			t.Fatalf("%s's acknowledgment: %q, %v", who, js, err)
		}
		return rdb.HLen(ctx, keys[0]).Val(), rdb.XLen(ctx, keys[1]).Val(), rdb.XLen(ctx, keys[2]).Val()
	}
	send := func(h http.Handler, req request, n int64) *httptest.ResponseRecorder {
		t.Helper()
		path, body := req.build(n)
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.sign(r.Header, body)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
		return w
	}

	slack := &slackFloor{secret: []byte(slackSecret), rdb: rdb, keys: keys, client: answersSrv.Client()}
	for i, want := range []string{"Thanks, acknowledged.", "You had acknowledged already."} {
		if w := send(slack, e.pressRequest("UPG-2"), 7); w.Body.Len() != 0 {
			t.Errorf("press %d: Slack's 200 carries %q; a block_actions answer goes to the response_url", i+1, w.Body)
		}
		slack.wg.Wait() // the answer has been sent
		select {
		case got := <-answers:
			if !strings.Contains(got, want) || !strings.Contains(got, `"response_type":"ephemeral"`) {
				t.Errorf("press %d: answer %s; want a private %q", i+1, got, want)
			}
		default:
			t.Fatalf("press %d: no answer on the response_url", i+1)
		}
	}
	if n := slack.failed.Load(); n != 0 {
		t.Errorf("the Slack floor counted %d failures", n)
	}
	if a, d, ev := recorded("slack:UL00000007"); a != 1 || d != 1 || ev != 1 {
		t.Errorf("after two presses by one person: %d acks, %d decisions, %d events; want 1 each", a, d, ev)
	}

	discord := discordFloor(priv.Public().(ed25519.PublicKey), rdb, keys)
	for i, want := range []string{"Thanks, acknowledged.", "You had acknowledged already."} {
		var got struct {
			Type int `json:"type"`
			Data struct {
				Content string `json:"content"`
				Flags   int    `json:"flags"`
			} `json:"data"`
		}
		w := send(discord, e.discordPress("UPG-4"), 8)
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got.Type != 4 || got.Data.Flags != 64 || got.Data.Content != want {
			t.Errorf("press %d: answer %s (%v); want a private %q", i+1, w.Body, err, want)
		}
	}
	if a, d, ev := recorded("discord:6660000008"); a != 2 || d != 2 || ev != 2 {
		t.Errorf("after two presses by one more person: %d acks, %d decisions, %d events; want 2 each", a, d, ev)
	}
}
