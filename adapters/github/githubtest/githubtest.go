// Package githubtest is a fake GitHub on 127.0.0.1 for tests: the REST
// calls the release lookup makes, answered with go-github's own JSON types
// (and GitHub's faults on demand: 404, 401, 403 with rate-limit headers,
// 429, 5xx, an answer that never comes), and signed webhook deliveries of
// go-github's event types.
package githubtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"
)

// APIPath is where the fake serves the REST API, as GitHub Enterprise
// Server does (https://HOST/api/v3/).
const APIPath = "/api/v3/"

// Fault is what the fake answers instead of the truth; the zero Fault,
// in FailNext, lets that request have the true answer.
type Fault struct {
	Status int // the HTTP status; 0 with Hang
	// RateLimitReset, when set, marks the answer as the primary rate limit
	// used up: X-RateLimit-Remaining 0 and X-RateLimit-Reset.
	RateLimitReset time.Time
	// Secondary marks a 403 as GitHub's secondary rate limit, which says
	// RetryAfter.
	Secondary  bool
	RetryAfter time.Duration
	// Hang holds the request until the client gives up (its context ends)
	// or the server closes: a GitHub that does not answer in time. Unhang
	// lets it go on to the true answer.
	Hang bool
}

// Call is one request the fake received.
type Call struct {
	Method, Path string
	Auth         string // the Authorization header
}

type repo struct {
	private  bool
	releases map[string]*gh.RepositoryRelease // by tag
}

// Server is the fake GitHub.
type Server struct {
	srv *httptest.Server

	mu     sync.Mutex
	repos  map[string]*repo // by lower-case "owner/name"
	token  string           // private repositories need it
	faults []Fault          // answered in turn, one per request
	always *Fault
	calls  []Call
	hung   chan struct{} // hears of each request that hangs
	unhang chan struct{} // closed by Unhang
	closed chan struct{}
}

// New starts the fake; it stops when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{repos: map[string]*repo{}, hung: make(chan struct{}, 100), unhang: make(chan struct{}), closed: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+APIPath+"repos/{owner}/{name}/releases/tags/{tag...}", s.release)
	mux.HandleFunc("GET "+APIPath+"repos/{owner}/{name}", s.repository)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		close(s.closed)
		s.srv.Close()
	})
	return s
}

// APIURL is the base URL to configure as github.api_url.
func (s *Server) APIURL() string { return s.srv.URL + APIPath }

// RequireToken makes private repositories visible only to this token.
func (s *Server) RequireToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

// AddRepo makes a repository ("owner/name") exist.
func (s *Server) AddRepo(name string, private bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repo(name).private = private
}

func (s *Server) repo(name string) *repo {
	key := strings.ToLower(name)
	r := s.repos[key]
	if r == nil {
		r = &repo{releases: map[string]*gh.RepositoryRelease{}}
		s.repos[key] = r
	}
	return r
}

// AddRelease publishes rel in the repository (created when new); its tag
// is rel.TagName.
func (s *Server) AddRelease(name string, rel *gh.RepositoryRelease) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repo(name).releases[rel.GetTagName()] = rel
}

// AddReleaseAt answers the look-up of tag with rel as it is, even when
// rel's own tag is another or missing: a broken answer of the API.
func (s *Server) AddReleaseAt(name, tag string, rel *gh.RepositoryRelease) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repo(name).releases[tag] = rel
}

// FailNext answers the next requests with faults, one each.
func (s *Server) FailNext(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, faults...)
}

// FailAlways answers every request with f until ClearFaults.
func (s *Server) FailAlways(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.always = &f
}

// ClearFaults answers the truth again.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults, s.always = nil, nil
}

// Hung hears of every request that a Hang fault holds, as it starts.
func (s *Server) Hung() <-chan struct{} { return s.hung }

// Unhang lets every request a Hang fault holds go on to the true answer.
func (s *Server) Unhang() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.unhang)
	s.unhang = make(chan struct{})
}

// Calls lists the requests received, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// begin records the call and answers a fault if one is due; it reports
// whether the request was answered.
func (s *Server) begin(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization")})
	var f *Fault
	if len(s.faults) > 0 {
		f = &s.faults[0]
		s.faults = s.faults[1:]
		if *f == (Fault{}) {
			f = nil // the truth, this once
		}
	} else if s.always != nil {
		f = s.always
	}
	unhang := s.unhang
	s.mu.Unlock()
	if f != nil && f.Hang {
		select {
		case s.hung <- struct{}{}:
		default: // nobody listens
		}
		select {
		case <-r.Context().Done():
			return true
		case <-s.closed:
			return true
		case <-unhang:
			f = nil
		}
	}
	if f == nil {
		w.Header().Set("X-RateLimit-Limit", "5000")
		w.Header().Set("X-RateLimit-Remaining", "4999")
		return false
	}
	switch {
	case !f.RateLimitReset.IsZero():
		w.Header().Set("X-RateLimit-Limit", "60")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Used", "60")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(f.RateLimitReset.Unix(), 10))
		writeError(w, f.Status, "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)",
			"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting")
	case f.Secondary:
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(f.RetryAfter/time.Second)))
		}
		writeError(w, f.Status, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
			"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits")
	default:
		writeError(w, f.Status, http.StatusText(f.Status), "https://docs.github.com/rest")
	}
	return true
}

// visible finds a repository the request may see.
func (s *Server) visible(r *http.Request) (*repo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, ok := s.repos[strings.ToLower(r.PathValue("owner")+"/"+r.PathValue("name"))]
	if !ok || rp.private && (s.token == "" || r.Header.Get("Authorization") != "Bearer "+s.token) {
		return nil, false
	}
	return rp, true
}

func (s *Server) release(w http.ResponseWriter, r *http.Request) {
	if s.begin(w, r) {
		return
	}
	rp, ok := s.visible(r)
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest/releases/releases#get-a-release-by-tag-name")
		return
	}
	s.mu.Lock()
	rel, ok := rp.releases[r.PathValue("tag")]
	s.mu.Unlock()
	if !ok || rel.GetDraft() {
		writeError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest/releases/releases#get-a-release-by-tag-name")
		return
	}
	writeJSON(w, http.StatusOK, rel)
}

func (s *Server) repository(w http.ResponseWriter, r *http.Request) {
	if s.begin(w, r) {
		return
	}
	if _, ok := s.visible(r); !ok {
		writeError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest/repos/repos#get-a-repository")
		return
	}
	owner, name := r.PathValue("owner"), r.PathValue("name")
	writeJSON(w, http.StatusOK, &gh.Repository{Name: gh.String(name), FullName: gh.String(owner + "/" + name), Owner: &gh.User{Login: gh.String(owner)}})
}

func writeError(w http.ResponseWriter, status int, msg, doc string) {
	writeJSON(w, status, &gh.ErrorResponse{Message: msg, DocumentationURL: doc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Release builds a published release as GitHub's API and webhooks carry it.
func Release(repo, tag, name, body string, published time.Time) *gh.RepositoryRelease {
	return &gh.RepositoryRelease{
		ID: gh.Int64(1), TagName: gh.String(tag), Name: gh.String(name), Body: gh.String(body),
		Draft: gh.Bool(false), Prerelease: gh.Bool(false), TargetCommitish: gh.String("main"),
		HTMLURL:     gh.String("https://github.com/" + repo + "/releases/tag/" + tag),
		URL:         gh.String("https://api.github.com/repos/" + repo + "/releases/1"),
		CreatedAt:   &gh.Timestamp{Time: published.Add(-time.Minute)},
		PublishedAt: &gh.Timestamp{Time: published},
		Author:      &gh.User{Login: gh.String("octocat"), Type: gh.String("User")},
	}
}

// ReleaseEvent is the payload of a release webhook delivery.
func ReleaseEvent(action, repo string, rel *gh.RepositoryRelease) *gh.ReleaseEvent {
	owner, name, _ := strings.Cut(repo, "/")
	return &gh.ReleaseEvent{
		Action: gh.String(action), Release: rel,
		Repo:   &gh.Repository{Name: gh.String(name), FullName: gh.String(repo), Owner: &gh.User{Login: gh.String(owner)}},
		Sender: &gh.User{Login: gh.String("octocat")},
	}
}

// Sign is the X-Hub-Signature-256 of body with secret.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Delivery is a webhook delivery of event (the X-GitHub-Event: "release",
// "ping", …) with payload as JSON, signed with secret, as GitHub posts it
// to url; delivery is its X-GitHub-Delivery.
func Delivery(t testing.TB, url, secret, event, delivery string, payload any) *http.Request {
	t.Helper()
	body, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	req := Unsigned(t, url, event, delivery, body)
	req.Header.Set("X-Hub-Signature-256", Sign(secret, body))
	return req
}

// Unsigned is a delivery of body without a signature, for tests to sign
// (or not) as they like.
func Unsigned(t testing.TB, url, event, delivery string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/test")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-GitHub-Hook-ID", "42")
	return req
}
