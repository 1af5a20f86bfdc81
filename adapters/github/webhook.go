package github

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/upgradebot/upgradebot/adapters/inbound"
	"github.com/upgradebot/upgradebot/bot"
)

// PathWebhook is where GitHub delivers the repository webhook.
const PathWebhook = "/github/webhook"

// maxBody is the largest delivery accepted (http.md: 1 MiB, else 413).
const maxBody = 1 << 20

// dedupeTTL is how long a delivery (and a release) is remembered: GitHub
// redelivers on request, within days at most.
const dedupeTTL = 24 * time.Hour

// Core is what the webhook needs of the bot: whether a configured service
// has a repository, asked before answering, so it must be cheap (a lookup
// in the configuration; bot.Bot.WatchesRepo); whether a release is news
// to it, asked before answering too (one read of the store;
// bot.Bot.ReleaseNews); and acting on a published release, saying how many
// upgrades it linked (bot.Bot.ReleasePublished).
type Core interface {
	WatchesRepo(repo string) bool
	ReleaseNews(ctx context.Context, r bot.Release) (bool, error)
	ReleasePublished(ctx context.Context, r bot.Release) (int, error)
}

// WebhookOptions configure the webhook receiver.
type WebhookOptions struct {
	// Secret is the webhook's secret (github.webhook_secret); without it
	// every delivery is refused, since anyone could sign with an empty one.
	Secret string
	Core   Core
	// Once remembers deliveries across replicas (the store); without it
	// a redelivered event is acted on again.
	Once   inbound.Once
	Logger *slog.Logger
	// Timeout bounds the work of one delivery, after the answer (default 2m).
	Timeout time.Duration
}

// Webhook receives GitHub's webhook deliveries: it checks each one's
// signature before reading it, answers at once (GitHub waits 10 s), and
// acts on published releases in the background, once across replicas.
type Webhook struct {
	secret   []byte
	core     Core
	dedupe   *inbound.Dedupe
	forget   func(ctx context.Context, key string) error // nil: the Once cannot forget
	log      *slog.Logger
	timeout  time.Duration
	inflight inbound.Tracker
}

// NewWebhook builds the receiver; Routes puts it on a mux.
func NewWebhook(o WebhookOptions) *Webhook {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	h := &Webhook{secret: []byte(o.Secret), core: o.Core, log: o.Logger, timeout: o.Timeout}
	if o.Once != nil {
		h.dedupe = &inbound.Dedupe{Once: o.Once, Prefix: "github:", TTL: dedupeTTL, Log: o.Logger}
		if f, ok := o.Once.(interface {
			Forget(ctx context.Context, key string) error
		}); ok {
			h.forget = f.Forget
		}
	}
	return h
}

// Routes registers POST /github/webhook.
func (h *Webhook) Routes(mux *http.ServeMux) { mux.Handle("POST "+PathWebhook, h) }

// Wait blocks until the work of every delivery accepted so far is done.
func (h *Webhook) Wait() { h.inflight.Wait() }

// Run waits for ctx to end, then up to 10 s for the work of deliveries
// already answered: a stopping server finishes what GitHub was told.
func (h *Webhook) Run(ctx context.Context) error {
	<-ctx.Done()
	if !h.inflight.WaitAtMost(10 * time.Second) {
		h.log.Warn("stopping with GitHub deliveries still being handled")
	}
	return nil
}

// ServeHTTP answers one delivery: 413 over 1 MiB, 401 unless
// X-Hub-Signature-256 is the HMAC-SHA256 of the body with the secret (in
// the order readSigned says: nothing is read for a delivery without a
// well-formed signature, nothing is parsed before the signature matches),
// 204 for a ping and for events it ignores (other events, other actions,
// drafts, releases of a repository no configured service has, a release
// that is no news (ReleaseNews), a delivery or a release seen before), 503 when the store cannot say whether it was
// seen (nothing is done: GitHub shows the delivery as failed, to be
// redelivered), 202 for a release it acts on, after answering.
func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := h.readSigned(w, r)
	if !ok {
		return
	}
	event, delivery := r.Header.Get(gh.EventTypeHeader), r.Header.Get(gh.DeliveryIDHeader)
	log := h.log.With("event", event, "delivery", delivery)
	switch event {
	case "ping":
		log.InfoContext(r.Context(), "github webhook pinged")
		w.WriteHeader(http.StatusNoContent)
		return
	case "release":
	case "":
		h.refuse(w, r, http.StatusBadRequest, "X-GitHub-Event header missing")
		return
	default:
		log.DebugContext(r.Context(), "github event ignored")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	payload, err := jsonPayload(r.Header.Get("Content-Type"), body)
	if err != nil {
		h.refuse(w, r, http.StatusBadRequest, err.Error())
		return
	}
	parsed, err := gh.ParseWebHook(event, payload)
	if err != nil {
		h.refuse(w, r, http.StatusBadRequest, "payload is not valid JSON")
		return
	}
	ev, ok := parsed.(*gh.ReleaseEvent)
	if !ok {
		h.refuse(w, r, http.StatusBadRequest, "payload is not a release event")
		return
	}
	rel, repo := ev.GetRelease(), ev.GetRepo().GetFullName()
	if rel == nil || repo == "" || rel.GetTagName() == "" || rel.GetHTMLURL() == "" {
		// Without its page a release cannot be linked (the link would lead
		// nowhere): as unusable as one without its tag.
		h.refuse(w, r, http.StatusBadRequest, "release event without repository, tag or html_url")
		return
	}
	log = log.With("repo", repo, "tag", rel.GetTagName(), "action", ev.GetAction())
	if a := ev.GetAction(); (a != "published" && a != "released") || rel.GetDraft() {
		log.DebugContext(r.Context(), "github release event ignored")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if !h.core.WatchesRepo(repo) {
		// Before the once keys: nothing is remembered of a release that
		// concerns no service.
		log.DebugContext(r.Context(), "github release of a repository no service has; ignored")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	release := Convert(repo, rel)
	nctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	news, err := h.core.ReleaseNews(nctx, release)
	cancel()
	if err != nil {
		h.refuse(w, r, http.StatusServiceUnavailable, "not acted on, the store does not answer; redeliver it once /readyz is ready", "err", err)
		return
	}
	if !news {
		// A pre-release no upgrade plans, or a release every upgrade of
		// its version has already: nothing to link or announce.
		log.InfoContext(r.Context(), "github release is no news: no upgrade to link it to, nothing to announce; ignored")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	// A redelivery has the delivery's id; GitHub also sends "published"
	// and "released" for one release, two deliveries of the same news.
	keys := []string{delivery, "release:" + strings.ToLower(repo) + "@" + rel.GetTagName() + ":pre=" + strconv.FormatBool(rel.GetPrerelease())}
	for i, key := range keys {
		first, err := h.first(r.Context(), key)
		if err != nil {
			// Acting needs the store as much as remembering does: tell
			// GitHub, so its Recent Deliveries shows one to redeliver.
			// Given back with the one that failed: a slow store may have
			// taken it after all, and would answer the redelivery 204.
			h.forgetKeys(r.Context(), keys[:i+1])
			h.refuse(w, r, http.StatusServiceUnavailable, "not acted on, the store does not answer; redeliver it once /readyz is ready", "err", err)
			return
		}
		if !first {
			log.InfoContext(r.Context(), "github release event seen before; ignored", "seen", []string{"delivery", "release"}[i])
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	h.inflight.Add()
	go func() {
		defer h.inflight.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), h.timeout)
		defer cancel()
		n, err := h.core.ReleasePublished(ctx, release)
		if err != nil {
			// Forgotten, the delivery may be redelivered from GitHub's
			// settings and acted on then.
			log.ErrorContext(ctx, "acting on a published release failed", "linked", n, "err", err)
			h.forgetKeys(ctx, keys)
			return
		}
		log.InfoContext(ctx, "github release published", "linked", n)
	}()
	w.WriteHeader(http.StatusAccepted)
}

// first reports whether key was not seen before (always, without a Once),
// or that the store did not answer within 2 s.
func (h *Webhook) first(ctx context.Context, key string) (bool, error) {
	if h.dedupe == nil || key == "" {
		return true, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return h.dedupe.Once.First(ctx, h.dedupe.Prefix+key, h.dedupe.TTL)
}

// forgetKeys gives back the keys a delivery took (best effort).
func (h *Webhook) forgetKeys(ctx context.Context, keys []string) {
	if h.forget == nil {
		return
	}
	for _, k := range keys {
		if k == "" {
			continue
		}
		if err := h.forget(context.WithoutCancel(ctx), h.dedupe.Prefix+k); err != nil {
			h.log.WarnContext(ctx, "forgetting a github delivery failed", "err", err)
		}
	}
}

// readSigned returns the body of an authentic delivery, or answers the
// refusal itself and returns false. What costs nothing comes first, so
// that an unsigned client makes the bot read nothing:
//
//  1. an announced length over maxBody: 413, unread;
//  2. no secret configured, X-Hub-Signature-256 missing or malformed: 401,
//     unread;
//  3. the body, read up to maxBody: 413 past it (a body sent without its
//     length), 400 if it cannot be read;
//  4. the HMAC-SHA256 of the body, compared in constant time: 401.
func (h *Webhook) readSigned(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.ContentLength > maxBody {
		h.refuse(w, r, http.StatusRequestEntityTooLarge, "body too large")
		return nil, false
	}
	if len(h.secret) == 0 {
		h.refuse(w, r, http.StatusUnauthorized, "no webhook secret configured")
		return nil, false
	}
	hexSig, ok := strings.CutPrefix(r.Header.Get(gh.SHA256SignatureHeader), "sha256=")
	sig, err := hex.DecodeString(hexSig)
	if !ok || err != nil || len(sig) != sha256.Size {
		h.refuse(w, r, http.StatusUnauthorized, "X-Hub-Signature-256 missing or malformed")
		return nil, false
	}
	body, err := inbound.ReadBody(w, r, "", maxBody)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			h.refuse(w, r, http.StatusRequestEntityTooLarge, "body too large")
		} else {
			h.refuse(w, r, http.StatusBadRequest, "body unreadable")
		}
		return nil, false
	}
	mac := hmac.New(sha256.New, h.secret)
	mac.Write(body)
	if !hmac.Equal(mac.Sum(nil), sig) {
		h.refuse(w, r, http.StatusUnauthorized, "signature does not match")
		return nil, false
	}
	return body, true
}

// jsonPayload is the event's JSON: the body (application/json), or its
// payload field (a webhook set to application/x-www-form-urlencoded).
func jsonPayload(contentType string, body []byte) ([]byte, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt != "application/x-www-form-urlencoded" {
		return body, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("payload") == "" {
		return nil, errors.New("form-encoded body without a payload field")
	}
	return []byte(form.Get("payload")), nil
}

// refuse answers status with why in plain text, which GitHub shows in the
// delivery's response: why is a fixed sentence of this file, never the
// request's content nor a secret.
func (h *Webhook) refuse(w http.ResponseWriter, r *http.Request, status int, why string, logged ...any) {
	// logged (the store's error, say) goes to the log alone: the body is
	// GitHub's to show, and names no host of ours.
	h.log.WarnContext(r.Context(), "github delivery refused", append([]any{"status", status, "reason", why, "delivery", r.Header.Get(gh.DeliveryIDHeader), "remote", r.RemoteAddr}, logged...)...)
	http.Error(w, http.StatusText(status)+": "+why, status)
}
