package github_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/upgradebot/upgradebot/internal/hoststest"

	"github.com/upgradebot/upgradebot/adapters/github"
	"github.com/upgradebot/upgradebot/adapters/github/githubtest"
	"github.com/upgradebot/upgradebot/bot"
)

// TestReleaseRedirects: a redirect within the configured API host (GitHub
// moves a renamed repository's lookups so) is followed; one to another
// host (here from a proxy at github.api_url to api.github.com) is not, and
// the lookup fails with the 3xx, unavailable, naming the configured host.
func TestReleaseRedirects(t *testing.T) {
	api := githubtest.New(t)
	api.AddRelease("acme/payments", githubtest.Release("acme/payments", "v2.4.0", "", "", published))
	upstream, _ := url.Parse(strings.TrimSuffix(api.APIURL(), githubtest.APIPath))
	forward := httputil.NewSingleHostReverseProxy(upstream)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.Contains(r.URL.Path, "/acme/renamed/"):
			http.Redirect(w, r, strings.Replace(r.URL.Path, "/acme/renamed/", "/acme/payments/", 1), http.StatusMovedPermanently)
		case strings.Contains(r.URL.Path, "/acme/moved/"):
			http.Redirect(w, r, "https://api.github.com/repos/acme/payments/releases/tags/v2.4.0", http.StatusTemporaryRedirect)
		default:
			forward.ServeHTTP(w, r)
		}
	}))
	defer proxy.Close()
	host := strings.TrimPrefix(proxy.URL, "http://")
	hosts := &hoststest.Recorder{}
	r, err := github.NewReleases(github.Options{Token: "ghp_secret", APIURL: proxy.URL + githubtest.APIPath, HTTPClient: &http.Client{Transport: hosts}})
	if err != nil {
		t.Fatal(err)
	}

	if rel, err := r.Release(context.Background(), "acme/renamed", "v2.4.0"); err != nil || rel.Tag != "v2.4.0" {
		t.Fatalf("renamed repository: %+v, %v", rel, err)
	}
	_, err = r.Release(context.Background(), "acme/moved", "v2.4.0")
	var re *bot.ReleaseError
	if !errors.As(err, &re) || re.Problem != bot.ReleaseUnavailable || !strings.Contains(err.Error(), "307") || !strings.Contains(err.Error(), host) {
		t.Errorf("redirect to another host: %v", err)
	}
	for _, h := range hosts.Seen() {
		if h != host {
			t.Errorf("a request went to %s (all: %v)", h, hosts.Seen())
		}
	}
}
