package github_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/upgradebot/upgradebot/adapters/github"
	"github.com/upgradebot/upgradebot/adapters/github/githubtest"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
)

const secret = "webhook-secret"

// fakeCore records the releases it is told of; block, when set, holds each
// call until closed; fail makes calls fail.
type fakeCore struct {
	mu       sync.Mutex
	releases []bot.Release
	block    chan struct{}
	entered  chan struct{}
	fail     error
	// noNews names tags that are no news (ReleaseNews); newsErr makes
	// ReleaseNews fail as a store that does not answer.
	noNews  map[string]bool
	newsErr error
}

func (c *fakeCore) ReleaseNews(_ context.Context, r bot.Release) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.noNews[r.Tag], c.newsErr
}

// WatchesRepo is what the configuration of these tests says: payments
// has the repository acme/payments (compared in any case, as the bot does).
func (c *fakeCore) WatchesRepo(repo string) bool { return strings.EqualFold(repo, "acme/payments") }

func (c *fakeCore) ReleasePublished(ctx context.Context, r bot.Release) (int, error) {
	if c.entered != nil {
		c.entered <- struct{}{}
	}
	if c.block != nil {
		select {
		case <-c.block:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return 0, c.fail
	}
	c.releases = append(c.releases, r)
	return 1, nil
}

func (c *fakeCore) seen() []bot.Release {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]bot.Release(nil), c.releases...)
}

type hookEnv struct {
	t    *testing.T
	core *fakeCore
	hook *github.Webhook
	srv  *httptest.Server
}

func newHook(t *testing.T, secret string, core *fakeCore) *hookEnv {
	t.Helper()
	h := github.NewWebhook(github.WebhookOptions{Secret: secret, Core: core, Once: &bottest.Once{}})
	mux := http.NewServeMux()
	h.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(h.Wait)
	return &hookEnv{t: t, core: core, hook: h, srv: srv}
}

func (e *hookEnv) url() string { return e.srv.URL + github.PathWebhook }

func (e *hookEnv) send(req *http.Request) int {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (e *hookEnv) deliver(event, delivery string, payload any) int {
	e.t.Helper()
	return e.send(githubtest.Delivery(e.t, e.url(), secret, event, delivery, payload))
}

var payments250 = githubtest.Release("acme/payments", "v2.5.0", "Payments 2.5.0", "## Changes\n* **faster** settlement", published)

func TestWebhookRefusesDeliveriesNotSignedWithTheSecret(t *testing.T) {
	payload := githubtest.ReleaseEvent("published", "acme/payments", payments250)
	cases := []struct {
		name   string
		secret string // configured
		sign   func(r *http.Request)
	}{
		{"no secret configured", "", func(r *http.Request) {
			r.Header.Set("X-Hub-Signature-256", githubtest.Sign("", body(t, r)))
		}},
		{"no signature", secret, func(r *http.Request) { r.Header.Del("X-Hub-Signature-256") }},
		{"only the SHA-1 signature", secret, func(r *http.Request) {
			r.Header.Del("X-Hub-Signature-256")
			r.Header.Set("X-Hub-Signature", "sha1=0123456789abcdef0123456789abcdef01234567")
		}},
		{"not hex", secret, func(r *http.Request) { r.Header.Set("X-Hub-Signature-256", "sha256=zz") }},
		{"another secret", secret, func(r *http.Request) {
			r.Header.Set("X-Hub-Signature-256", githubtest.Sign("guess", body(t, r)))
		}},
		{"the body changed", secret, func(r *http.Request) {
			b := body(t, r)
			r.Header.Set("X-Hub-Signature-256", githubtest.Sign(secret, b))
			b = []byte(strings.Replace(string(b), "v2.5.0", "v6.6.6", 1))
			r.Body, r.ContentLength = readCloser(b), int64(len(b))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newHook(t, c.secret, &fakeCore{})
			req := githubtest.Delivery(t, e.url(), secret, "release", "d-1", payload)
			c.sign(req)
			if got := e.send(req); got != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", got)
			}
			e.hook.Wait()
			if n := len(e.core.seen()); n != 0 {
				t.Fatalf("an unsigned delivery was acted on %d times", n)
			}
		})
	}
}

func TestWebhookRefusesBodiesOverOneMiB(t *testing.T) {
	e := newHook(t, secret, &fakeCore{})
	big := []byte(`{"action":"published","padding":"` + strings.Repeat("x", 1<<20) + `"}`)
	req := githubtest.Unsigned(t, e.url(), "release", "d-big", big)
	req.Header.Set("X-Hub-Signature-256", githubtest.Sign(secret, big))
	if got := e.send(req); got != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", got)
	}
	// Without a Content-Length too (chunked).
	req = githubtest.Unsigned(t, e.url(), "release", "d-big2", nil)
	req.Header.Set("X-Hub-Signature-256", githubtest.Sign(secret, big))
	req.Body, req.ContentLength = readCloser(big), -1
	if got := e.send(req); got != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked: status %d, want 413", got)
	}
	// Authenticated before any work (http.md), in this order: an announced
	// length over 1 MiB is 413 whatever the signature; then a signature
	// missing or malformed is 401, the body unread; then a body over 1 MiB
	// sent without its length is 413 while reading, whoever signed it.
	for _, c := range []struct {
		sig     string
		chunked int // the answer without a length
	}{
		{"", http.StatusUnauthorized},
		{"sha256=zz", http.StatusUnauthorized},
		{githubtest.Sign("guess", big), http.StatusRequestEntityTooLarge},
	} {
		for _, chunked := range []bool{false, true} {
			req = githubtest.Unsigned(t, e.url(), "release", "d-big3", big)
			if c.sig != "" {
				req.Header.Set("X-Hub-Signature-256", c.sig)
			}
			want := http.StatusRequestEntityTooLarge
			if chunked {
				req.Body, req.ContentLength = readCloser(big), -1
				want = c.chunked
			}
			if got := e.send(req); got != want {
				t.Errorf("signature %q, chunked %v: status %d, want %d", c.sig, chunked, got, want)
			}
		}
	}
}

// untouchedBody is a body that must not be read: it counts the attempts.
type untouchedBody struct{ reads int }

func (b *untouchedBody) Read([]byte) (int, error) { b.reads++; return 0, errors.New("read") }
func (*untouchedBody) Close() error               { return nil }

// Every delivery is authenticated before any work (http.md): an announced
// length over 1 MiB (413), no secret, or X-Hub-Signature-256 missing or
// malformed (401) are refused without reading a byte of the body.
func TestWebhookRefusesBeforeReading(t *testing.T) {
	good := githubtest.Sign(secret, []byte(`{}`))
	cases := []struct {
		name   string
		secret string
		sig    string
		length int64
		want   int
	}{
		{"announced over 1 MiB, signed", secret, good, 1<<20 + 1, http.StatusRequestEntityTooLarge},
		{"announced over 1 MiB, unsigned", secret, "", 1<<20 + 1, http.StatusRequestEntityTooLarge},
		{"no secret configured", "", good, -1, http.StatusUnauthorized},
		{"unsigned", secret, "", -1, http.StatusUnauthorized},
		{"unsigned, announced", secret, "", 100, http.StatusUnauthorized},
		{"not sha256=", secret, "sha1=" + strings.TrimPrefix(good, "sha256="), -1, http.StatusUnauthorized},
		{"not hex", secret, "sha256=zz", -1, http.StatusUnauthorized},
		{"too short", secret, good[:20], -1, http.StatusUnauthorized},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := github.NewWebhook(github.WebhookOptions{Secret: c.secret, Core: &fakeCore{}, Once: &bottest.Once{}})
			req := githubtest.Unsigned(t, "http://bot"+github.PathWebhook, "release", "d-1", nil)
			if c.sig != "" {
				req.Header.Set("X-Hub-Signature-256", c.sig)
			}
			body := &untouchedBody{}
			req.Body, req.ContentLength = body, c.length
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != c.want || body.reads != 0 {
				t.Errorf("status %d (want %d), body read %d times (want none)", w.Code, c.want, body.reads)
			}
		})
	}
}

func TestWebhookAnswersPingAndIgnoresOtherEvents(t *testing.T) {
	e := newHook(t, secret, &fakeCore{})
	draft := githubtest.Release("acme/payments", "v2.6.0", "", "", published)
	draft.Draft = gh.Bool(true)
	cases := []struct {
		name, event string
		payload     any
	}{
		{"ping", "ping", &gh.PingEvent{Zen: gh.String("Keep it logically awesome."), HookID: gh.Int64(42)}},
		{"push", "push", &gh.PushEvent{Ref: gh.String("refs/heads/main")}},
		{"release edited", "release", githubtest.ReleaseEvent("edited", "acme/payments", payments250)},
		{"release created", "release", githubtest.ReleaseEvent("created", "acme/payments", payments250)},
		{"pre-release announced", "release", githubtest.ReleaseEvent("prereleased", "acme/payments", payments250)},
		{"draft", "release", githubtest.ReleaseEvent("published", "acme/payments", draft)},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := e.deliver(c.event, "d-"+string(rune('a'+i)), c.payload); got != http.StatusNoContent {
				t.Fatalf("status %d, want 204", got)
			}
		})
	}
	e.hook.Wait()
	if n := len(e.core.seen()); n != 0 {
		t.Fatalf("ignored events reached the core %d times", n)
	}
	// A release without its tag or its page cannot be linked: refused.
	for i, edit := range []func(*gh.RepositoryRelease){
		func(r *gh.RepositoryRelease) { r.TagName = nil },
		func(r *gh.RepositoryRelease) { r.HTMLURL = nil },
	} {
		rel := githubtest.Release("acme/payments", "v2.7.0", "Payments 2.7.0", "", published)
		edit(rel)
		if got := e.deliver("release", "d-incomplete-"+string(rune('a'+i)), githubtest.ReleaseEvent("published", "acme/payments", rel)); got != http.StatusBadRequest {
			t.Errorf("an incomplete release (%d): status %d, want 400", i, got)
		}
	}
	e.hook.Wait()
	if n := len(e.core.seen()); n != 0 {
		t.Fatalf("incomplete releases reached the core %d times", n)
	}
	req := githubtest.Unsigned(t, e.url(), "release", "d-bad", []byte(`{"action":`))
	req.Header.Set("X-Hub-Signature-256", githubtest.Sign(secret, []byte(`{"action":`)))
	if got := e.send(req); got != http.StatusBadRequest {
		t.Fatalf("a signed body that is not JSON: status %d, want 400", got)
	}
}

func TestWebhookAnswersAtOnceAndActsAfter(t *testing.T) {
	core := &fakeCore{block: make(chan struct{}), entered: make(chan struct{}, 1)}
	e := newHook(t, secret, core)
	if got := e.deliver("release", "d-1", githubtest.ReleaseEvent("published", "acme/payments", payments250)); got != http.StatusAccepted {
		t.Fatalf("status %d, want 202", got)
	}
	<-core.entered // answered while the core is still at work
	close(core.block)
	e.hook.Wait()
	got := core.seen()
	want := bot.Release{Repo: "acme/payments", Tag: "v2.5.0", Name: "Payments 2.5.0", URL: "https://github.com/acme/payments/releases/tag/v2.5.0",
		Notes: "# Changes\n- **faster** settlement", At: published, Author: "octocat"}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("core got %+v\nwant %+v", got, want)
	}
}

func TestWebhookActsOncePerDeliveryAndPerRelease(t *testing.T) {
	e := newHook(t, secret, &fakeCore{})
	pub := githubtest.ReleaseEvent("published", "acme/payments", payments250)
	steps := []struct {
		name, delivery string
		payload        any
		want           int
	}{
		{"published", "d-1", pub, http.StatusAccepted},
		{"redelivered", "d-1", pub, http.StatusNoContent},
		{"released, the same news", "d-2", githubtest.ReleaseEvent("released", "Acme/Payments", payments250), http.StatusNoContent},
		{"another release", "d-3", githubtest.ReleaseEvent("published", "acme/payments", githubtest.Release("acme/payments", "v2.5.1", "", "", published)), http.StatusAccepted},
	}
	for _, s := range steps {
		if got := e.deliver("release", s.delivery, s.payload); got != s.want {
			t.Fatalf("%s: status %d, want %d", s.name, got, s.want)
		}
	}
	// A pre-release published, then made a full release: both are news.
	pre := githubtest.Release("acme/payments", "v3.0.0", "", "", published)
	pre.Prerelease = gh.Bool(true)
	full := githubtest.Release("acme/payments", "v3.0.0", "", "", published)
	for i, ev := range []*gh.ReleaseEvent{githubtest.ReleaseEvent("published", "acme/payments", pre), githubtest.ReleaseEvent("released", "acme/payments", full)} {
		if got := e.deliver("release", "d-pre-"+string(rune('0'+i)), ev); got != http.StatusAccepted {
			t.Fatalf("pre-release step %d: status %d", i, got)
		}
	}
	e.hook.Wait()
	var tags []string
	for _, r := range e.core.seen() {
		tags = append(tags, r.Tag)
	}
	// Each delivery is acted on in the background: which finishes first is
	// not part of the contract, what was acted on is.
	sort.Strings(tags)
	if got := strings.Join(tags, " "); got != "v2.5.0 v2.5.1 v3.0.0 v3.0.0" {
		t.Fatalf("acted on %s", got)
	}
}

func TestWebhookTakesAFormEncodedPayload(t *testing.T) {
	e := newHook(t, secret, &fakeCore{})
	js := `{"action":"published","release":{"tag_name":"v2.5.0","html_url":"https://github.com/acme/payments/releases/tag/v2.5.0"},"repository":{"full_name":"acme/payments"}}`
	form := []byte(url.Values{"payload": {js}}.Encode())
	req := githubtest.Unsigned(t, e.url(), "release", "d-form", form)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Hub-Signature-256", githubtest.Sign(secret, form))
	if got := e.send(req); got != http.StatusAccepted {
		t.Fatalf("status %d, want 202", got)
	}
	e.hook.Wait()
	if got := e.core.seen(); len(got) != 1 || got[0].Tag != "v2.5.0" {
		t.Fatalf("core got %+v", got)
	}
}

// A release of a repository that no configured service has is not acted
// on, so it is answered 204 (http.md), JSON or form-encoded, and nothing of
// it is remembered; the repository is compared in any case.
func TestWebhookIgnoresReleasesOfRepositoriesNoServiceHas(t *testing.T) {
	e := newHook(t, secret, &fakeCore{})
	other := githubtest.ReleaseEvent("published", "acme/other", githubtest.Release("acme/other", "v2.5.0", "", "", published))
	if got := e.deliver("release", "d-other", other); got != http.StatusNoContent {
		t.Fatalf("a release of acme/other: status %d, want 204", got)
	}
	js := `{"action":"released","release":{"tag_name":"v1.0.0","html_url":"https://github.com/acme/other/releases/tag/v1.0.0"},"repository":{"full_name":"acme/other"}}`
	form := []byte(url.Values{"payload": {js}}.Encode())
	req := githubtest.Unsigned(t, e.url(), "release", "d-other-form", form)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Hub-Signature-256", githubtest.Sign(secret, form))
	if got := e.send(req); got != http.StatusNoContent {
		t.Fatalf("a form-encoded release of acme/other: status %d, want 204", got)
	}
	e.hook.Wait()
	if got := e.core.seen(); len(got) != 0 {
		t.Fatalf("releases of acme/other reached the core: %+v", got)
	}
	// The same delivery id, now of a release of acme/payments (in another
	// case): it was not remembered, so it is acted on.
	pay := githubtest.ReleaseEvent("published", "Acme/Payments", githubtest.Release("Acme/Payments", "v2.5.0", "", "", published))
	if got := e.deliver("release", "d-other", pay); got != http.StatusAccepted {
		t.Fatalf("a release of Acme/Payments: status %d, want 202", got)
	}
	e.hook.Wait()
	if got := e.core.seen(); len(got) != 1 || got[0].Repo != "Acme/Payments" {
		t.Fatalf("core got %+v", got)
	}
}

func TestWebhookDeliveryThatFailedMayBeRedelivered(t *testing.T) {
	core := &fakeCore{fail: errors.New("redis: connection refused")}
	e := newHook(t, secret, core)
	pub := githubtest.ReleaseEvent("published", "acme/payments", payments250)
	if got := e.deliver("release", "d-1", pub); got != http.StatusAccepted {
		t.Fatalf("status %d", got)
	}
	e.hook.Wait()
	core.mu.Lock()
	core.fail = nil
	core.mu.Unlock()
	if got := e.deliver("release", "d-1", pub); got != http.StatusAccepted {
		t.Fatalf("redelivery after a failure: status %d, want 202", got)
	}
	e.hook.Wait()
	if n := len(core.seen()); n != 1 {
		t.Fatalf("acted %d times", n)
	}
}

func body(t *testing.T, r *http.Request) []byte {
	t.Helper()
	rc, err := r.GetBody()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readCloser(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }

// failingOnce answers like bottest.Once until down is set, then fails every
// call as a store that does not answer.
type failingOnce struct {
	bottest.Once
	down func(key string) bool
}

func (f *failingOnce) First(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if f.down(key) {
		return false, errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	}
	return f.Once.First(ctx, key, ttl)
}

// TestWebhookAnswers503WhenTheStoreDoesNotAnswer: a release that cannot be
// remembered cannot be acted on either, so GitHub is told (its Recent
// Deliveries shows one to redeliver) instead of a 202 for nothing; the
// key already taken is given back, so the redelivery is acted on.
func TestWebhookAnswers503WhenTheStoreDoesNotAnswer(t *testing.T) {
	core := &fakeCore{}
	var down atomic.Bool
	down.Store(true)
	once := &failingOnce{down: func(key string) bool { return down.Load() && strings.Contains(key, "release:") }}
	h := github.NewWebhook(github.WebhookOptions{Secret: secret, Core: core, Once: once})
	mux := http.NewServeMux()
	h.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e := &hookEnv{t: t, core: core, hook: h, srv: srv}
	pub := githubtest.ReleaseEvent("published", "acme/payments", payments250)
	if got := e.deliver("release", "d-1", pub); got != http.StatusServiceUnavailable {
		t.Fatalf("status %d with the store down, want 503", got)
	}
	e.hook.Wait()
	if got := core.seen(); len(got) != 0 {
		t.Fatalf("acted on %+v with the store down", got)
	}
	down.Store(false)
	if got := e.deliver("release", "d-1", pub); got != http.StatusAccepted {
		t.Fatalf("redelivered once the store answers: status %d, want 202", got)
	}
	e.hook.Wait()
	if got := core.seen(); len(got) != 1 {
		t.Fatalf("acted on %+v after the redelivery", got)
	}
}

// TestWebhookAnswers204ForAReleaseThatIsNoNews: a pre-release that no
// upgrade plans (nothing to link, and pre-releases are not announced) is
// ignored, 204 as the spec has it for events ignored, and not remembered;
// when the store cannot say, 503.
func TestWebhookAnswers204ForAReleaseThatIsNoNews(t *testing.T) {
	core := &fakeCore{noNews: map[string]bool{"v9.0.0-rc1": true}}
	e := newHook(t, secret, core)
	pre := githubtest.Release("acme/payments", "v9.0.0-rc1", "", "", published)
	pre.Prerelease = gh.Bool(true)
	if got := e.deliver("release", "d-pre", githubtest.ReleaseEvent("published", "acme/payments", pre)); got != http.StatusNoContent {
		t.Fatalf("status %d, want 204", got)
	}
	e.hook.Wait()
	if got := core.seen(); len(got) != 0 {
		t.Fatalf("acted on %+v", got)
	}
	// Not remembered: once an upgrade plans it, the redelivery acts.
	core.mu.Lock()
	core.noNews = nil
	core.mu.Unlock()
	if got := e.deliver("release", "d-pre", githubtest.ReleaseEvent("published", "acme/payments", pre)); got != http.StatusAccepted {
		t.Fatalf("redelivered once it is news: status %d, want 202", got)
	}
	core.mu.Lock()
	core.newsErr = errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	core.mu.Unlock()
	resp, err := http.DefaultClient.Do(githubtest.Delivery(t, e.url(), secret, "release", "d-other", githubtest.ReleaseEvent("published", "acme/payments", payments250)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("store down: status %d, want 503", resp.StatusCode)
	}
	// GitHub shows the body to whoever reads Recent Deliveries: the store's
	// error, with our host and port, stays in our log.
	if want := "Service Unavailable: not acted on, the store does not answer; redeliver it once /readyz is ready\n"; string(b) != want {
		t.Errorf("503 body %q, want %q", b, want)
	}
}

// A 400 says why in its body (GitHub shows it in Recent Deliveries), in
// fixed words that echo neither the body nor the secret.
func TestWebhookSaysWhyItAnswers400(t *testing.T) {
	e := newHook(t, secret, &fakeCore{})
	signed := func(event, contentType string, body []byte) *http.Request {
		req := githubtest.Unsigned(t, e.url(), event, "d-why", body)
		if event == "" {
			req.Header.Del("X-GitHub-Event")
		}
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("X-Hub-Signature-256", githubtest.Sign(secret, body))
		return req
	}
	incomplete := githubtest.Release("acme/payments", "v2.7.0", "", "", published)
	incomplete.TagName = nil
	full, _ := json.Marshal(githubtest.ReleaseEvent("published", "acme/payments", incomplete))
	cases := []struct {
		name string
		req  *http.Request
		want string
	}{
		{"not JSON", signed("release", "application/json", []byte(`{"action":`)), "Bad Request: payload is not valid JSON"},
		{"no X-GitHub-Event", signed("", "application/json", []byte(`{"action":"published"}`)), "Bad Request: X-GitHub-Event header missing"},
		{"form without payload", signed("release", "application/x-www-form-urlencoded", []byte(`other=1`)), "Bad Request: form-encoded body without a payload field"},
		{"no tag", signed("release", "application/json", full), "Bad Request: release event without repository, tag or html_url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := http.DefaultClient.Do(c.req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || strings.TrimSpace(string(b)) != c.want {
				t.Errorf("status %d, body %q; want 400 %q", resp.StatusCode, b, c.want)
			}
			if strings.Contains(string(b), secret) || strings.Contains(string(b), `"action"`) {
				t.Errorf("the answer echoes the request or the secret: %q", b)
			}
		})
	}
}
