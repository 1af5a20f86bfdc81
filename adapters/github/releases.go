// Package github is upgradebot's GitHub adapter: the release lookup the
// core uses for link and for scheduling (bot.Releases), and the signed
// /github/webhook receiver that links releases as they are published. It
// talks to GitHub (or GitHub Enterprise) through go-github.
package github

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/upgradebot/upgradebot/bot"
)

// Options configure the release lookup.
type Options struct {
	// Token authenticates the lookups (fine-grained: Contents read on the
	// repositories; classic: repo for private ones). Optional for public
	// repositories, which then share GitHub's small anonymous rate limit.
	Token string
	// APIURL is the REST API's base: "" for https://api.github.com/, or
	// https://HOST/api/v3/ for GitHub Enterprise Server (and tests).
	APIURL string
	// HTTPClient is used for the calls; nil means a client of its own.
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time // for a Retry-After; default time.Now
}

// Releases looks releases up on GitHub: bot.Releases.
type Releases struct {
	client *gh.Client
	token  bool
	log    *slog.Logger
	now    func() time.Time
}

var _ bot.Releases = (*Releases)(nil)

// NewReleases builds the lookup; nothing is called yet.
func NewReleases(o Options) (*Releases, error) {
	hc := o.HTTPClient
	if hc == nil {
		// The core bounds every lookup with its own, shorter, timeout; this
		// one only keeps a call the caller forgot to bound from hanging.
		hc = &http.Client{Timeout: time.Minute}
	}
	// GitHub redirects a renamed or moved repository within its API host;
	// a redirect to another host (from a proxy at api_url, say) is not
	// followed, and the 3xx is the lookup's answer (unavailable).
	client := *hc
	client.CheckRedirect = sameHost
	c := gh.NewClient(&client)
	if o.Token != "" {
		c = c.WithAuthToken(o.Token)
	}
	if o.APIURL != "" {
		// The base as given, with the slash go-github needs; unlike
		// WithEnterpriseURLs, nothing is appended, so tests and proxies
		// may serve the API at any path.
		u, err := url.Parse(strings.TrimRight(o.APIURL, "/") + "/")
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, errors.New("github: api_url must be an absolute http(s) URL")
		}
		c.BaseURL = u
	}
	c.UserAgent = "upgradebot"
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Releases{client: c, token: o.Token != "", log: o.Logger, now: o.Now}, nil
}

// WebHost is the host of the pages of the GitHub whose REST API is at
// apiURL (github.api_url), for bot.Config.ReleaseHost: "" for github.com
// (apiURL "" or https://api.github.com/); else the Enterprise server's,
// which serves its API on its own host (https://HOST/api/v3/ gives HOST,
// in lower case, with its port unless it is the scheme's default, :443 of
// https or :80 of http), behind a path prefix if it has one
// (https://HOST/github/api/v3/ gives HOST/github, its pages being
// https://HOST/github/owner/repo/…), or, for GitHub Enterprise Cloud with
// data residency, on api.SUBDOMAIN.ghe.com (which gives
// SUBDOMAIN.ghe.com). Any other path (a proxy's, a test server's) is no
// prefix: the pages are on HOST. An apiURL that is no absolute http(s)
// URL gives "" (the configuration refuses it).
func WebHost(apiURL string) string {
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	host := strings.ToLower(u.Host)
	if u.Scheme == "https" {
		host = strings.TrimSuffix(host, ":443")
	} else {
		host = strings.TrimSuffix(host, ":80")
	}
	switch {
	case host == "api.github.com" || host == "github.com":
		return ""
	case strings.HasPrefix(host, "api.") && strings.HasSuffix(host, ".ghe.com"):
		return strings.TrimPrefix(host, "api.")
	}
	path := strings.Trim(u.Path, "/")
	if prefix, ok := strings.CutSuffix(path, "/api/v3"); ok && !strings.Contains(prefix, "//") {
		return host + "/" + prefix
	}
	return host
}

// sameHost follows a redirect only within the host of the first request
// (its scheme too), at most 10 of them, like Go's default otherwise.
func sameHost(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("github: stopped after 10 redirects")
	}
	if first := via[0].URL; req.URL.Host != first.Host || req.URL.Scheme != first.Scheme {
		return http.ErrUseLastResponse
	}
	return nil
}

// Release looks up the published release of repo ("owner/name") tagged
// tag, or else with the first of others that has one, trying them in turn.
// Its errors wrap a *bot.ReleaseError: not found (the repository is there,
// none of the releases is), no repository (missing, or private and the
// token cannot read it: GitHub says 404 for both), denied (401, or 403 not
// for a rate limit), rate limited (403 or 429 with the limit used up, or a
// secondary limit; with the time it resets), unavailable (network, 5xx,
// anything else). After the first 404 the repository is asked for, once:
// when the bot cannot see it, the look-up ends there (2 requests), else
// the other tags are tried (a release in the second spelling costs 3).
func (r *Releases) Release(ctx context.Context, repo, tag string, others ...string) (bot.Release, error) {
	tags := append([]string{tag}, others...)
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || dotSegment(owner) || dotSegment(name) {
		return bot.Release{}, &bot.ReleaseError{Problem: bot.ReleaseNotFound, Err: fmt.Errorf("github: %q %q is no repository and tag", repo, tags)}
	}
	owner, name = url.PathEscape(owner), url.PathEscape(name)
	var notFound error // the first tag's, for the log
	checked := false
	for _, tag := range tags {
		if slices.ContainsFunc(strings.Split(tag, "/"), dotSegment) {
			// go-github puts the tag in the path as it is: a "." or ".."
			// would make it another endpoint. git has no such tags.
			if notFound == nil {
				notFound = fmt.Errorf("github: %q is no tag: %w", tag, errNoRelease)
			}
			continue
		}
		rel, err := r.release(ctx, owner, name, repo, tag)
		if err == nil {
			return rel, nil
		}
		if !errors.Is(err, errNoRelease) {
			return bot.Release{}, err // a problem worth telling (rate limit, …)
		}
		if notFound == nil {
			notFound = err
		}
		if !checked {
			// A 404: the repository tells a missing release from a
			// repository the bot cannot see, where no tag will be found.
			checked = true
			if _, _, err := r.client.Repositories.Get(ctx, owner, name); err != nil {
				return bot.Release{}, r.problem(owner, name, err, bot.ReleaseNoRepository)
			}
		}
	}
	return bot.Release{}, &bot.ReleaseError{Problem: bot.ReleaseNotFound, Token: r.token && checked, Err: notFound}
}

// errNoRelease marks a tag without a published release: GitHub's 404, a
// draft, or a tag that is no tag.
var errNoRelease = errors.New("no published release")

// release looks up the release of owner/name (escaped; repo as given)
// tagged tag (no "." or ".." piece): errNoRelease when there is none, else
// a *bot.ReleaseError.
func (r *Releases) release(ctx context.Context, owner, name, repo, tag string) (bot.Release, error) {
	rel, _, err := r.client.Repositories.GetReleaseByTag(ctx, owner, name, escapeTag(tag))
	if e, ok := errors.AsType[*gh.ErrorResponse](err); ok && e.Response != nil && e.Response.StatusCode == http.StatusNotFound {
		return bot.Release{}, fmt.Errorf("github: %s: release %s: %w", repo, tag, errNoRelease)
	}
	if err != nil {
		return bot.Release{}, r.problem(owner, name, err, bot.ReleaseUnavailable)
	}
	if rel.GetDraft() { // only a token that may write sees drafts; they are not out
		return bot.Release{}, fmt.Errorf("github: release %s of %s is a draft: %w", tag, repo, errNoRelease)
	}
	// A release without its tag or page cannot be linked (it would show as
	// "acme/payments " with nothing to open): incomplete, which asking
	// again soon will not mend.
	if missing := unusable(rel); missing != "" {
		err := fmt.Errorf("github: %s: the release tagged %s came back without %s", repo, tag, missing)
		r.log.WarnContext(ctx, "github release not usable; not linked", "repo", repo, "tag", tag, "missing", missing)
		return bot.Release{}, &bot.ReleaseError{Problem: bot.ReleaseIncomplete, Token: r.token, Err: err}
	}
	return Convert(repo, rel), nil
}

// unusable names what a release GitHub answered lacks to be linked: its
// tag_name or its html_url; "" when it has both.
func unusable(rel *gh.RepositoryRelease) string {
	var missing []string
	if strings.TrimSpace(rel.GetTagName()) == "" {
		missing = append(missing, "tag_name")
	}
	if strings.TrimSpace(rel.GetHTMLURL()) == "" {
		missing = append(missing, "html_url")
	}
	return strings.Join(missing, " and ")
}

// dotSegment reports whether a piece of a path would move the path:
// empty, "." or "..".
func dotSegment(p string) bool { return p == "" || p == "." || p == ".." }

// escapeTag makes a tag one safe piece of a path (go-github does not
// escape it); a slash stays, as GitHub's tag routes take it.
func escapeTag(tag string) string {
	parts := strings.Split(tag, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// problem classifies a failed call; a 404 is notFound (what a 404 means
// depends on what was asked).
func (r *Releases) problem(owner, name string, err error, notFound bot.ReleaseProblem) error {
	pe := func(p bot.ReleaseProblem) *bot.ReleaseError {
		return &bot.ReleaseError{Problem: p, Token: r.token, Err: fmt.Errorf("github: %s/%s: %w", owner, name, err)}
	}
	if e, ok := errors.AsType[*gh.RateLimitError](err); ok {
		re := pe(bot.ReleaseRateLimited)
		re.ResetAt = e.Rate.Reset.Time
		return re
	}
	if e, ok := errors.AsType[*gh.AbuseRateLimitError](err); ok { // a secondary rate limit
		re := pe(bot.ReleaseRateLimited)
		if e.RetryAfter != nil {
			re.ResetAt = r.now().Add(*e.RetryAfter).Truncate(time.Second)
		}
		return re
	}
	e, ok := errors.AsType[*gh.ErrorResponse](err)
	if !ok || e.Response == nil {
		return pe(bot.ReleaseUnavailable) // network, timeout, a body that is not JSON
	}
	switch status := e.Response.StatusCode; {
	case status == http.StatusNotFound:
		return pe(notFound)
	case status == http.StatusTooManyRequests:
		re := pe(bot.ReleaseRateLimited)
		re.ResetAt = resetOf(e.Response.Header, r.now())
		return re
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return pe(bot.ReleaseDenied)
	default:
		return pe(bot.ReleaseUnavailable)
	}
}

// resetOf reads when a 429's limit resets: X-RateLimit-Reset (Unix
// seconds), else Retry-After (seconds from now); zero when neither says.
func resetOf(h http.Header, now time.Time) time.Time {
	if v, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil && v > 0 {
		return time.Unix(v, 0).UTC()
	}
	if v, err := strconv.Atoi(h.Get("Retry-After")); err == nil && v >= 0 {
		return now.Add(time.Duration(v) * time.Second).Truncate(time.Second)
	}
	return time.Time{}
}

// Convert is the core's view of a GitHub release of repo: name, tag, page,
// when and by whom it was published, whether it is a pre-release, and the
// first lines of its notes in the core's neutral markup (Notes).
func Convert(repo string, rel *gh.RepositoryRelease) bot.Release {
	r := bot.Release{
		Repo: repo, Tag: rel.GetTagName(), Name: strings.TrimSpace(rel.GetName()), URL: rel.GetHTMLURL(),
		Notes: Notes(rel.GetBody()), Author: rel.GetAuthor().GetLogin(), Prerelease: rel.GetPrerelease(),
	}
	if at := rel.GetPublishedAt(); !at.IsZero() {
		r.At = at.UTC()
	}
	return r
}
