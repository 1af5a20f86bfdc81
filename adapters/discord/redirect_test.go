package discord

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/internal/hoststest"

	"github.com/upgradebot/upgradebot/adapters/discord/discordtest"
	"github.com/upgradebot/upgradebot/bot"
)

// TestRESTRedirectNotFollowed: the host at discord.api_url answering a
// redirect (Discord's API never does) is not followed, not to that host
// and above all not to discord.com: the call fails with the 3xx as an
// unexpected HTTP status, naming the configured host, and is not taken
// for a network failure.
func TestRESTRedirectNotFollowed(t *testing.T) {
	for _, loc := range []string{"/api/v10/channels/" + chPayments + "/messages?r=1", "https://discord.com/api/v10/channels/" + chPayments + "/messages?r=1"} {
		t.Run(loc, func(t *testing.T) {
			proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, loc, http.StatusTemporaryRedirect)
			}))
			defer proxy.Close()
			hosts := &hoststest.Recorder{}
			a, err := New(Options{BotToken: discordtest.Token, ApplicationID: discordtest.AppID, APIURL: proxy.URL + discordtest.Version,
				Core: bot.New(bot.Options{Config: testConfig()}), Logger: testLogger(), HTTPClient: &http.Client{Transport: hosts}})
			if err != nil {
				t.Fatal(err)
			}
			a.retry = fastRetry
			_, err = a.Post(context.Background(), "discord:"+chPayments, notice(bot.KindReminder, "reminder"))
			u, _ := url.Parse(proxy.URL)
			if got := hosts.Seen(); len(got) != 1 || got[0] != u.Host {
				t.Errorf("requests went to %v, want only %s", got, u.Host)
			}
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusTemporaryRedirect || e.Unreachable() || e.Attempts != 1 {
				t.Fatalf("error %#v", err)
			}
			want := "discord create message: HTTP 307 from " + u.Host + " (discord.api_url), a redirect, not followed"
			if err.Error() != want {
				t.Errorf("error %q\nwant %q", err, want)
			}
			if adv := e.Advice(); !strings.Contains(adv, "discord.api_url") || !strings.Contains(adv, u.Host) {
				t.Errorf("advice %q", adv)
			}
		})
	}
}

// The gateway's address comes from the REST API at discord.api_url: a
// redirect there is said naming that host (it said "HTTP 307 from , a
// redirect").
func TestGatewayRedirectNamesTheHost(t *testing.T) {
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://discord.com"+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer proxy.Close()
	hosts := &hoststest.Recorder{}
	a, err := New(Options{BotToken: discordtest.Token, ApplicationID: discordtest.AppID, APIURL: proxy.URL + discordtest.Version, Mode: ModeGateway,
		Core: bot.New(bot.Options{Config: testConfig()}), Logger: testLogger(), HTTPClient: &http.Client{Transport: hosts}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = a.Run(ctx) }()
	defer func() { cancel(); <-done }()
	host := strings.TrimPrefix(proxy.URL, "http://")
	want := "the gateway is not connected: HTTP 307 from " + host + ", a redirect, not followed"
	deadline := time.Now().Add(30 * time.Second)
	for err := a.Ready(); err == nil || !strings.Contains(err.Error(), want); err = a.Ready() {
		if time.Now().After(deadline) {
			t.Fatalf("readiness says %v; want %q", err, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, h := range hosts.Seen() {
		if h != host {
			t.Fatalf("a request went to %s", h)
		}
	}
}
