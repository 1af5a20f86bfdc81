package github_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/upgradebot/upgradebot/adapters/github"
	"github.com/upgradebot/upgradebot/adapters/github/githubtest"
	"github.com/upgradebot/upgradebot/bot"
)

var published = time.Date(2026, 11, 20, 8, 30, 0, 0, time.UTC)

func lookup(t *testing.T, api *githubtest.Server, token string) *github.Releases {
	t.Helper()
	r, err := github.NewReleases(github.Options{Token: token, APIURL: api.APIURL(), Now: func() time.Time { return published }})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReleaseFound(t *testing.T) {
	api := githubtest.New(t)
	rel := githubtest.Release("acme/payments", "v2.4.0", "Payments 2.4", "## Highlights\r\n* faster **card** auth in https://github.com/acme/payments/pull/7", published)
	rel.Prerelease = gh.Bool(true)
	api.AddRelease("acme/payments", rel)
	api.AddRelease("acme/payments", githubtest.Release("acme/payments", "ledger/v1.0.0+build.7", "", "", published))

	got, err := lookup(t, api, "").Release(context.Background(), "acme/payments", "v2.4.0")
	if err != nil {
		t.Fatal(err)
	}
	want := bot.Release{Repo: "acme/payments", Tag: "v2.4.0", Name: "Payments 2.4", URL: "https://github.com/acme/payments/releases/tag/v2.4.0",
		Notes: "# Highlights\n- faster **card** auth in [#7](https://github.com/acme/payments/pull/7)", At: published, Author: "octocat", Prerelease: true}
	if got != want {
		t.Fatalf("release\n got %+v\nwant %+v", got, want)
	}
	// A tag with a slash and a plus is one piece of the path.
	if _, err := lookup(t, api, "").Release(context.Background(), "acme/payments", "ledger/v1.0.0+build.7"); err != nil {
		t.Fatal(err)
	}
	calls := api.Calls()
	if len(calls) != 2 || calls[0].Path != "/api/v3/repos/acme/payments/releases/tags/v2.4.0" || calls[0].Auth != "" {
		t.Errorf("calls: %+v", calls)
	}
}

func TestReleaseWithAToken(t *testing.T) {
	api := githubtest.New(t)
	api.RequireToken("ghp_right")
	api.AddRepo("acme/secret", true)
	api.AddRelease("acme/secret", githubtest.Release("acme/secret", "v1", "", "", published))
	if _, err := lookup(t, api, "ghp_right").Release(context.Background(), "acme/secret", "v1"); err != nil {
		t.Fatal(err)
	}
	if calls := api.Calls(); calls[0].Auth != "Bearer ghp_right" {
		t.Errorf("authorization: %q", calls[0].Auth)
	}
}

func TestReleaseProblems(t *testing.T) {
	reset := time.Date(2026, 11, 20, 9, 12, 0, 0, time.UTC)
	cases := []struct {
		name    string
		setup   func(api *githubtest.Server)
		token   string
		repo    string
		want    *bot.ReleaseError
		fastErr bool
	}{
		{"no such release", nil, "", "acme/payments", &bot.ReleaseError{Problem: bot.ReleaseNotFound}, false},
		{"no such repository", nil, "", "acme/nothing", &bot.ReleaseError{Problem: bot.ReleaseNoRepository}, false},
		{"private, no token", func(api *githubtest.Server) { api.AddRepo("acme/secret", true) }, "", "acme/secret", &bot.ReleaseError{Problem: bot.ReleaseNoRepository}, false},
		{"private, a token without access", func(api *githubtest.Server) { api.AddRepo("acme/secret", true) }, "ghp_other", "acme/secret", &bot.ReleaseError{Problem: bot.ReleaseNoRepository, Token: true}, false},
		{"rate limited (403)", func(api *githubtest.Server) {
			api.FailNext(githubtest.Fault{Status: http.StatusForbidden, RateLimitReset: reset})
		}, "", "acme/payments", &bot.ReleaseError{Problem: bot.ReleaseRateLimited, ResetAt: reset}, false},
		{"rate limited (429)", func(api *githubtest.Server) {
			api.FailNext(githubtest.Fault{Status: http.StatusTooManyRequests, RateLimitReset: reset})
		}, "ghp_x", "acme/payments", &bot.ReleaseError{Problem: bot.ReleaseRateLimited, ResetAt: reset, Token: true}, false},
		{"secondary rate limit", func(api *githubtest.Server) {
			api.FailNext(githubtest.Fault{Status: http.StatusForbidden, Secondary: true, RetryAfter: 90 * time.Second})
		}, "", "acme/payments", &bot.ReleaseError{Problem: bot.ReleaseRateLimited, ResetAt: published.Add(90 * time.Second)}, false},
		{"rate limited while telling the repository from the release", func(api *githubtest.Server) {
			api.FailNext(githubtest.Fault{Status: http.StatusNotFound}, githubtest.Fault{Status: http.StatusForbidden, RateLimitReset: reset})
		}, "", "acme/payments", &bot.ReleaseError{Problem: bot.ReleaseRateLimited, ResetAt: reset}, false},
		{"token refused", func(api *githubtest.Server) { api.FailNext(githubtest.Fault{Status: http.StatusUnauthorized}) }, "ghp_bad", "acme/payments", &bot.ReleaseError{Problem: bot.ReleaseDenied, Token: true}, false},
		{"forbidden", func(api *githubtest.Server) { api.FailNext(githubtest.Fault{Status: http.StatusForbidden}) }, "ghp_x", "acme/payments", &bot.ReleaseError{Problem: bot.ReleaseDenied, Token: true}, false},
		{"server error", func(api *githubtest.Server) { api.FailNext(githubtest.Fault{Status: http.StatusBadGateway}) }, "", "acme/payments", &bot.ReleaseError{Problem: bot.ReleaseUnavailable}, false},
		{"no answer in time", func(api *githubtest.Server) { api.FailNext(githubtest.Fault{Hang: true}) }, "", "acme/payments", &bot.ReleaseError{Problem: bot.ReleaseUnavailable}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			api := githubtest.New(t)
			api.AddRepo("acme/payments", false)
			if c.setup != nil {
				c.setup(api)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if c.fastErr {
				go func() { <-api.Hung(); cancel() }() // the caller gives up, as the core's timeout does
			}
			_, err := lookup(t, api, c.token).Release(ctx, c.repo, "v9.9.9")
			re, ok := errors.AsType[*bot.ReleaseError](err)
			if !ok {
				t.Fatalf("err = %v, want a *bot.ReleaseError", err)
			}
			if re.Problem != c.want.Problem || !re.ResetAt.Equal(c.want.ResetAt) || re.Token != c.want.Token {
				t.Fatalf("err = %+v, want %+v", re, c.want)
			}
			if !errors.Is(err, &bot.ReleaseError{Problem: c.want.Problem}) {
				t.Errorf("errors.Is does not match the problem")
			}
			if c.token != "" && strings.Contains(err.Error(), c.token) {
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}
}

func TestReleaseNetworkFailure(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	url := down.URL + "/api/v3/"
	down.Close()
	r, err := github.NewReleases(github.Options{APIURL: url})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Release(context.Background(), "acme/payments", "v1")
	if !errors.Is(err, bot.ErrReleaseUnavailable) {
		t.Fatalf("err = %v", err)
	}
}

func TestNewReleasesRefusesABadAPIURL(t *testing.T) {
	for _, u := range []string{"api.github.com", "ftp://x/", "://"} {
		if _, err := github.NewReleases(github.Options{APIURL: u}); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}

// A 200 whose release has no tag (or no page) is not linked: the look-up
// is unavailable (retried, "try again later"), and a warning says why.
func TestReleaseWithoutTagOrPageIsNotUsable(t *testing.T) {
	for _, tc := range []struct {
		name, missing string
		edit          func(*gh.RepositoryRelease)
	}{
		{"empty tag", "tag_name", func(r *gh.RepositoryRelease) { r.TagName = gh.String("") }},
		{"no tag", "tag_name", func(r *gh.RepositoryRelease) { r.TagName = nil }},
		{"no page", "html_url", func(r *gh.RepositoryRelease) { r.HTMLURL = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := githubtest.New(t)
			rel := githubtest.Release("acme/payments", "v2.4.0", "Payments 2.4", "", published)
			tc.edit(rel)
			api.AddReleaseAt("acme/payments", "v2.4.0", rel)
			var logs strings.Builder
			r, err := github.NewReleases(github.Options{APIURL: api.APIURL(), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.Release(context.Background(), "acme/payments", "v2.4.0")
			if !errors.Is(err, bot.ErrReleaseIncomplete) || got != (bot.Release{}) {
				t.Fatalf("Release = %+v, %v; want incomplete", got, err)
			}
			if !strings.Contains(err.Error(), "without "+tc.missing) {
				t.Errorf("error %q does not say what is missing", err)
			}
			if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "missing="+tc.missing) {
				t.Errorf("no warning: %s", logs.String())
			}
		})
	}
}

// TestReleaseOfAPathThatWouldMoveIsNotFetched: a tag or a repository name
// with "." or ".." pieces (git and GitHub have none) would make go-github
// fetch another endpoint with the bot's token, and link another
// repository's release under the typed name. It is not found, and GitHub
// is not asked.
func TestReleaseOfAPathThatWouldMoveIsNotFetched(t *testing.T) {
	api := githubtest.New(t)
	api.AddRelease("other/lib", githubtest.Release("other/lib", "v9", "OtherLib", "secret notes", published))
	r := lookup(t, api, "ghp_token")
	for _, c := range []struct{ repo, tag string }{
		{"acme/payments", "x/../../../../../other/lib/releases/tags/v9"},
		{"acme/payments", "../v9"},
		{"acme/payments", "v9/."},
		{"../other/lib", "v9"},
		{"acme/..", "v9"},
	} {
		_, err := r.Release(context.Background(), c.repo, c.tag)
		if !errors.Is(err, bot.ErrReleaseNotFound) {
			t.Errorf("%s %s: %v, want not found", c.repo, c.tag, err)
		}
	}
	if calls := api.Calls(); len(calls) != 0 {
		t.Errorf("GitHub was asked: %+v", calls)
	}
}

// TestReleaseOfSeveralTagsChecksTheRepositoryOnce: the tags are tried in
// turn and the first release found is the answer; after the first 404 the
// repository is asked for, once: a repository the bot cannot see ends the
// lookup (2 requests, not one per tag), a release in the second spelling
// costs 3; a problem other than 404 ends the lookup; a draft is no release.
func TestReleaseOfSeveralTagsChecksTheRepositoryOnce(t *testing.T) {
	ctx := context.Background()
	api := githubtest.New(t)
	api.AddRelease("acme/payments", githubtest.Release("acme/payments", "V2.4.0", "", "", published))
	paths := func(from int) string {
		var out []string
		for _, c := range api.Calls()[from:] {
			out = append(out, strings.TrimPrefix(c.Path, "/api/v3/repos/"))
		}
		return strings.Join(out, " ")
	}
	r := lookup(t, api, "")
	got, err := r.Release(ctx, "acme/payments", "2.4.0", "v2.4.0", "V2.4.0")
	if err != nil || got.Tag != "V2.4.0" {
		t.Fatalf("found %+v, %v; want the release tagged V2.4.0", got, err)
	}
	if p, want := paths(0), "acme/payments/releases/tags/2.4.0 acme/payments acme/payments/releases/tags/v2.4.0 acme/payments/releases/tags/V2.4.0"; p != want {
		t.Errorf("asked %s, want %s", p, want)
	}
	n := len(api.Calls())
	if got, err := r.Release(ctx, "acme/payments", "v2.4.0", "V2.4.0", "2.4.0"); err != nil || got.Tag != "V2.4.0" {
		t.Errorf("second spelling: %+v, %v; want the release tagged V2.4.0", got, err)
	}
	if p, want := paths(n), "acme/payments/releases/tags/v2.4.0 acme/payments acme/payments/releases/tags/V2.4.0"; p != want {
		t.Errorf("a release in the second spelling: asked %s, want %s (3 requests)", p, want)
	}
	n = len(api.Calls())
	if _, err := r.Release(ctx, "acme/payments", "V9.9.9", "v9.9.9", "9.9.9"); !errors.Is(err, bot.ErrReleaseNotFound) {
		t.Errorf("no release: %v, want not found", err)
	}
	if p, want := paths(n), "acme/payments/releases/tags/V9.9.9 acme/payments acme/payments/releases/tags/v9.9.9 acme/payments/releases/tags/9.9.9"; p != want {
		t.Errorf("asked %s, want %s", p, want)
	}
	n = len(api.Calls())
	if _, err := r.Release(ctx, "acme/gone", "v1", "1", "V1"); !errors.Is(err, bot.ErrReleaseNoRepository) {
		t.Errorf("no repository: %v, want no repository", err)
	}
	if p, want := paths(n), "acme/gone/releases/tags/v1 acme/gone"; p != want {
		t.Errorf("a missing repository: asked %s, want %s (2 requests)", p, want)
	}
	n = len(api.Calls())
	api.FailNext(githubtest.Fault{Status: http.StatusBadGateway})
	if _, err := r.Release(ctx, "acme/payments", "v9.9.9", "9.9.9"); !errors.Is(err, bot.ErrReleaseUnavailable) {
		t.Errorf("a 502: %v, want unavailable", err)
	}
	if p, want := paths(n), "acme/payments/releases/tags/v9.9.9"; p != want {
		t.Errorf("after a 502, asked %s, want %s", p, want)
	}
}

// TestReleaseRateLimitedOnTheSecondTagEndsTheLookup: a 404 on the first
// tag, then the rate limit on the second: the rate limit is the answer,
// and neither the third tag nor the repository is asked for again.
func TestReleaseRateLimitedOnTheSecondTagEndsTheLookup(t *testing.T) {
	reset := time.Date(2026, 11, 20, 9, 12, 0, 0, time.UTC)
	api := githubtest.New(t)
	api.AddRepo("acme/payments", false)
	r := lookup(t, api, "")
	api.FailNext(githubtest.Fault{}, githubtest.Fault{}, githubtest.Fault{Status: http.StatusForbidden, RateLimitReset: reset})
	_, err := r.Release(context.Background(), "acme/payments", "v2.4.0", "2.4.0", "V2.4.0")
	re, ok := errors.AsType[*bot.ReleaseError](err)
	if !ok || re.Problem != bot.ReleaseRateLimited || !re.ResetAt.Equal(reset) {
		t.Fatalf("err = %v, want rate limited until %v", err, reset)
	}
	var paths []string
	for _, c := range api.Calls() {
		paths = append(paths, strings.TrimPrefix(c.Path, "/api/v3/repos/"))
	}
	if got, want := strings.Join(paths, " "), "acme/payments/releases/tags/v2.4.0 acme/payments acme/payments/releases/tags/2.4.0"; got != want {
		t.Errorf("asked %s, want %s", got, want)
	}
}

// TestReleaseDraftInOneSpellingIsPassedOver: a draft tagged v2.4.0 (seen
// with a token that may write) is not out; the release tagged 2.4.0 is.
func TestReleaseDraftInOneSpellingIsPassedOver(t *testing.T) {
	api := githubtest.New(t)
	draft := githubtest.Release("acme/payments", "v2.4.0", "Draft", "", published)
	draft.Draft = gh.Bool(true)
	api.AddRelease("acme/payments", draft)
	api.AddRelease("acme/payments", githubtest.Release("acme/payments", "2.4.0", "Payments 2.4", "", published))
	got, err := lookup(t, api, "ghp_x").Release(context.Background(), "acme/payments", "v2.4.0", "2.4.0", "V2.4.0")
	if err != nil || got.Tag != "2.4.0" || got.Name != "Payments 2.4" {
		t.Fatalf("found %+v, %v; want the published release tagged 2.4.0", got, err)
	}
	if _, err := lookup(t, api, "ghp_x").Release(context.Background(), "acme/payments", "v2.4.0"); !errors.Is(err, bot.ErrReleaseNotFound) {
		t.Errorf("the draft alone: %v, want not found", err)
	}
}
