// Package web serves the bot's own HTTP surface: health and readiness, and
// the status surface for people and systems that do not open chat: the
// REST API (/api/v1, with its OpenAPI document), the maintenance status of
// a service, the calendar feed, the Atom feed and the status page. It reads
// only through the core's read side.
package web

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/upgradebot/upgradebot/bot"
)

// Core is what the status surface reads of the bot (*bot.Bot): the read
// side only.
type Core interface {
	View(ctx context.Context, id int) (bot.View, error)
	Upgrades(ctx context.Context, f bot.Filter) ([]*bot.Upgrade, error)
	Log(ctx context.Context, id int) (*bot.Upgrade, []bot.Decision, error)
	Stats(ctx context.Context, service string) (bot.Stats, error)
	Directory() *bot.Directory
	Now() time.Time
}

// Options configures a Surface.
type Options struct {
	Core Core
	// Tokens are the bearer tokens of /api/v1 (api.tokens); without any,
	// the API answers 401 to everyone.
	Tokens []string
	// Public serves the page, the calendar and the feed without a token
	// (api.public); otherwise they want one too, also as ?token=.
	Public bool
	// PublicURL is the bot's external base URL (server.public_url), for
	// links in the calendar and the feed; empty: links are relative.
	PublicURL string
	// Events is the shared event stream, for GET /api/v1/events; without
	// it that answers 503.
	Events EventStream
	// ReadBudget bounds the reads of one request of the API, the page, the
	// calendar and the feed (10 s when 0): a store that does not answer
	// within it gets a 503, not a request held for a minute.
	ReadBudget time.Duration
	Logger     *slog.Logger
}

// Surface serves the status surface.
type Surface struct {
	core      Core
	tokens    [][32]byte // sha256 of each token: compared in constant time whatever their lengths
	public    bool
	publicURL string
	log       *slog.Logger
	stream    EventStream
	hub       *hub
	closing   chan struct{}
	closeOnce sync.Once
	windows   Windows // standard windows and freezes, when the core reads them
	// domain makes calendar UIDs and feed ids this deployment's own: the
	// host of server.public_url, else "upgradebot".
	domain     string
	readBudget time.Duration // Options.ReadBudget
	unanswered everyMinute   // the log of reads the store did not answer
}

// New builds a Surface.
func New(o Options) *Surface {
	s := &Surface{core: o.Core, public: o.Public, publicURL: strings.TrimSuffix(o.PublicURL, "/"), log: o.Logger,
		stream: o.Events, closing: make(chan struct{}), readBudget: cmp.Or(o.ReadBudget, defaultReadBudget)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.hub = &hub{src: o.Events, log: s.log, stop: s.closing}
	s.domain = "upgradebot"
	if u, err := url.Parse(s.publicURL); err == nil && u.Hostname() != "" {
		s.domain = strings.ToLower(u.Hostname())
	}
	s.windows, _ = o.Core.(Windows)
	for _, t := range o.Tokens {
		if t = strings.TrimSpace(t); t != "" {
			s.tokens = append(s.tokens, sha256.Sum256([]byte(t)))
		}
	}
	return s
}

// Routes registers the status surface on mux.
func (s *Surface) Routes(mux *http.ServeMux) {
	api := http.NewServeMux()
	api.HandleFunc("GET /api/v1/openapi.json", s.openAPI)
	api.Handle("GET /api/v1/upgrades", s.api(s.listUpgrades))
	api.Handle("GET /api/v1/upgrades/{id}", s.api(s.getUpgrade))
	api.Handle("GET /api/v1/services/{name}/status", s.api(s.serviceStatus))
	api.Handle("GET /api/v1/events", s.apiQueryToken(s.events))
	api.Handle("GET /api/v1/stats", s.api(s.stats))
	s.windowRoutes(api)
	mux.Handle("/api/v1/", apiErrors(api))
	// /api/v1 itself: the API's 404, not the mux's redirect to /api/v1/
	// (which has no answer either).
	mux.Handle("/api/v1", apiErrors(api))
	mux.Handle("GET /calendar.ics", s.people(s.calendar))
	mux.Handle("GET /feed.atom", s.people(s.feed))
	mux.Handle("GET /upgrades/{id}", s.htmlErrors(s.people(s.upgradePage)))
	mux.Handle("GET /{$}", s.htmlErrors(s.people(s.statusPage)))
	// What the pages' routes do not take is answered as a page too, not in
	// the mux's plain text: another method (405) and a path under
	// /upgrades/ that is no upgrade's page (404). As the pages' own, after
	// the same check of the token and with the same headers, since the
	// page's links carry a ?token= it was given.
	miss := s.htmlErrors(s.people(pageMiss))
	mux.Handle("/upgrades/", miss)
	mux.Handle("/upgrades", miss) // not the mux's redirect to /upgrades/
	mux.Handle("/{$}", miss)
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticFiles(http.FileServerFS(staticFS()))))
}

// pageMiss answers a request the pages do not take: 405 (with Allow) for
// a page's path asked with another method than GET or HEAD, else 404.
func pageMiss(w http.ResponseWriter, r *http.Request) {
	id, under := strings.CutPrefix(r.URL.Path, "/upgrades/")
	if r.URL.Path == "/" || (under && id != "" && !strings.Contains(id, "/")) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s %s: this page is only read (GET).", r.Method, r.URL.Path))
			return
		}
	}
	writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("There is no page at %s.", r.URL.Path))
}

// apiErrors serves /api/v1/ with api, and answers what api has no route
// for in JSON like every other error of the API: 404 not_found for a path
// it does not know, 405 method_not_allowed (with Allow) for a method a
// path does not take. (A ServeMux answers those in plain text.)
func apiErrors(api *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := api.Handler(r)
		if pattern != "" {
			api.ServeHTTP(w, r)
			return
		}
		// The mux's own answer says which: 405 with Allow, or 404.
		var rec statusRecorder
		h.ServeHTTP(&rec, r)
		if rec.status == http.StatusMethodNotAllowed {
			allow := rec.Header().Get("Allow")
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s %s: this path takes only %s", r.Method, r.URL.Path, allow))
			return
		}
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("%s: no such path in the API; /api/v1/openapi.json lists them", r.URL.Path))
	})
}

// statusRecorder keeps the status and headers of an answer, not its body.
type statusRecorder struct {
	header http.Header
	status int
}

func (rec *statusRecorder) Header() http.Header {
	if rec.header == nil {
		rec.header = http.Header{}
	}
	return rec.header
}

func (rec *statusRecorder) WriteHeader(status int) {
	if rec.status == 0 {
		rec.status = status
	}
}

func (rec *statusRecorder) Write(b []byte) (int, error) {
	rec.WriteHeader(http.StatusOK)
	return len(b), nil
}

// Close ends the live subscriptions (serve calls it when it stops, so that
// the HTTP server's shutdown does not wait for them).
func (s *Surface) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
}

// credential is what a request shows of a token.
type credential int

const (
	tokenMissing  credential = iota // none at all
	tokenScheme                     // an Authorization header of another scheme than Bearer
	tokenRejected                   // a token that is not one of api.tokens
	tokenAccepted
)

// credential reads the token of r: a bearer token (the scheme is
// case-insensitive, RFC 9110 11.1), or, with queryToo and no bearer token,
// ?token= (for calendar apps, feed readers and EventSource, which cannot
// send headers). It is compared with the tokens in constant time.
func (s *Surface) credential(r *http.Request, queryToo bool) credential {
	tok, found := "", false
	auth := strings.TrimSpace(r.Header.Get("Authorization"))
	if scheme, rest, _ := strings.Cut(auth, " "); strings.EqualFold(scheme, "Bearer") {
		tok, found = strings.TrimSpace(rest), true
	} else if q := r.URL.Query(); queryToo && q.Has("token") {
		tok, found = strings.TrimSpace(q.Get("token")), true
	} else if auth != "" {
		return tokenScheme
	}
	if !found || tok == "" {
		return tokenMissing
	}
	if s.accepted(tok) {
		return tokenAccepted
	}
	return tokenRejected
}

// accepted reports whether tok is one of api.tokens, in constant time
// whatever their lengths.
func (s *Surface) accepted(tok string) bool {
	sum := sha256.Sum256([]byte(tok))
	match := 0
	for _, t := range s.tokens {
		match |= subtle.ConstantTimeCompare(sum[:], t[:])
	}
	return match == 1
}

// unauthorized answers 401 for a request whose credential c was not
// accepted, saying why without echoing the token: missing (what the path
// wants, when none was sent), another scheme than Bearer, or a token that
// is not one of api.tokens (RFC 6750 3.1: error="invalid_token").
func (s *Surface) unauthorized(w http.ResponseWriter, c credential, missing string) {
	challenge := `Bearer realm="upgradebot"`
	why := missing
	switch {
	case len(s.tokens) == 0:
		why = "the API is closed: no api.tokens are configured"
	case c == tokenRejected:
		why = "the token is not accepted: it is not one of api.tokens"
		challenge += `, error="invalid_token"`
	case c == tokenScheme:
		why = "only bearer tokens are accepted: Authorization: Bearer <token>"
	}
	w.Header().Set("WWW-Authenticate", challenge)
	writeError(w, http.StatusUnauthorized, "unauthorized", why)
}

// api wraps an /api/v1 handler with the bearer-token check.
func (s *Surface) api(h http.HandlerFunc) http.Handler { return s.apiAuth(s.bounded(h), false) }

// defaultReadBudget is Options.ReadBudget's default.
const defaultReadBudget = 10 * time.Second

// bounded gives h's request the read budget. (The event stream is not
// bounded: it waits for events.)
func (s *Surface) bounded(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.readBudget)
		defer cancel()
		h(w, r.WithContext(ctx))
	}
}

// apiQueryToken is api that also takes the token as ?token=, for clients
// that cannot send headers (a browser's EventSource).
func (s *Surface) apiQueryToken(h http.HandlerFunc) http.Handler { return s.apiAuth(h, true) }

func (s *Surface) apiAuth(h http.HandlerFunc, queryToo bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c := s.credential(r, queryToo); c != tokenAccepted {
			missing := "a bearer token from api.tokens is required: Authorization: Bearer <token>"
			switch {
			case queryToo:
				missing += ", or ?token=<token>"
			case r.URL.Query().Has("token"):
				missing += "; this path does not take ?token="
			}
			s.unauthorized(w, c, missing)
			return
		}
		h(w, r)
	})
}

// people wraps what people open (page, calendar, feed): public with
// api.public, else behind a token (also ?token=). Its answers are never
// sniffed for another type; opened with ?token=, they are not kept by
// caches (no-store) and their links send no Referer, so the token stays in
// the address bar it was typed in.
func (s *Surface) people(h http.HandlerFunc) http.Handler {
	h = s.bounded(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if r.URL.Query().Has("token") {
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Referrer-Policy", "no-referrer")
		}
		if !s.public {
			if c := s.credential(r, true); c != tokenAccepted {
				s.unauthorized(w, c, "this bot's status is not public: add ?token=<one of api.tokens> or an Authorization: Bearer header")
				return
			}
		}
		h(w, r)
	})
}

// staticFiles serves the files of /static/, not a listing of their
// directory: a path that ends in "/" is 404.
func staticFiles(files http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}

// link is an absolute link when the public URL is known, else relative.
func (s *Surface) link(path string) string { return s.publicURL + path }

// UpgradePath is the path of upgrade id's status page on the surface.
func UpgradePath(id int) string { return "/upgrades/" + strconv.Itoa(id) }

// UpgradePage returns the address of an upgrade's status page at
// publicURL (bot.Config.UpgradePage); nil when publicURL is "".
func UpgradePage(publicURL string) func(id int) string {
	base := strings.TrimSuffix(publicURL, "/")
	if base == "" {
		return nil
	}
	return func(id int) string { return base + UpgradePath(id) }
}

// tokenQuery is "?token=…" when r came with ?token= and what it links to
// wants a token (not api.public), so that its links carry the token: a
// feed reader or a calendar given a URL with a token, and a person who
// opened a page with one, can follow them. "" otherwise: a public
// surface's links need no token, and do not spread it.
func (s *Surface) tokenQuery(r *http.Request) string {
	tok := r.URL.Query().Get("token")
	if s.public || tok == "" || !s.accepted(strings.TrimSpace(tok)) { // a token refused is not spread (the request may have come in on its header)
		return ""
	}
	return "?token=" + url.QueryEscape(tok)
}

// pageLink is the link to an upgrade's page, with the token of r where it
// needs one (tokenQuery).
func (s *Surface) pageLink(r *http.Request, id int) string {
	return s.link(UpgradePath(id)) + s.tokenQuery(r)
}
