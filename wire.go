package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/upgradebot/upgradebot/adapters/console"
	discordadapter "github.com/upgradebot/upgradebot/adapters/discord"
	githubadapter "github.com/upgradebot/upgradebot/adapters/github"
	"github.com/upgradebot/upgradebot/adapters/metrics"
	slackadapter "github.com/upgradebot/upgradebot/adapters/slack"
	"github.com/upgradebot/upgradebot/adapters/web"
	"github.com/upgradebot/upgradebot/adapters/webhook"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/config"
	"github.com/upgradebot/upgradebot/store"
)

// buildAdapters builds the enabled platform adapters: each registers its
// HTTP routes, its Messenger in the router and its readiness check, and
// returns its run loop for serve to start. Nothing connects yet.
func buildAdapters(cfg config.Config, bc bot.Config, b *bot.Bot, st *store.Store, router bot.Router, mux *http.ServeMux, health *web.Health, met *metrics.Metrics, log *slog.Logger) ([]func(context.Context) error, error) {
	var runs []func(context.Context) error
	if cfg.Slack.Enabled {
		sa, err := slackadapter.New(slackadapter.Options{
			BotToken: cfg.Slack.BotToken, AppToken: cfg.Slack.AppToken, SigningSecret: cfg.Slack.SigningSecret,
			APIURL: cfg.Slack.APIURL, Mode: cfg.Slack.Mode, Command: cfg.Slack.Command,
			Core: b, Groups: bc.Groups, Logger: log, Observer: met,
		})
		if err != nil {
			return nil, fmt.Errorf("slack: %w", err)
		}
		router[slackadapter.Platform] = sa
		sa.Routes(mux)
		health.Checks = append(health.Checks, web.Check{Name: "slack", Func: func(context.Context) error { return sa.Ready() }})
		runs = append(runs, sa.Run)
	}
	if cfg.Discord.Enabled {
		da, err := discordadapter.New(discordadapter.Options{
			BotToken: cfg.Discord.BotToken, ApplicationID: cfg.Discord.ApplicationID, PublicKey: cfg.Discord.PublicKey,
			GuildIDs: cfg.Discord.GuildIDs, APIURL: cfg.Discord.APIURL, Mode: cfg.Discord.Mode,
			Core: b, Logger: log, Observer: met, Once: st,
		})
		if err != nil {
			return nil, fmt.Errorf("discord: %w", err)
		}
		router[discordadapter.Platform] = da
		da.Routes(mux)
		health.Checks = append(health.Checks, web.Check{Name: "discord", Func: func(context.Context) error { return da.Ready() }})
		runs = append(runs, da.Run)
	}
	return runs, nil
}

// metricSeries are the label values whose series /metrics shows from the
// start, at zero: the enabled platforms' commands and API calls, and the
// webhook outcomes when webhooks are configured.
func metricSeries(cfg config.Config) metrics.Known {
	var k metrics.Known
	if cfg.Slack.Enabled {
		k.Platforms = append(k.Platforms, metrics.Platform{Name: slackadapter.Platform, Methods: slackadapter.Methods, Outcomes: slackadapter.Outcomes})
	}
	if cfg.Discord.Enabled {
		k.Platforms = append(k.Platforms, metrics.Platform{Name: discordadapter.Platform, Methods: discordadapter.Methods, Outcomes: discordadapter.Outcomes})
	}
	if len(cfg.Webhooks) > 0 {
		k.WebhookOutcomes = webhook.Outcomes
	}
	return k
}

// webhooks builds the delivery of events to the [[webhooks]] endpoints.
func webhooks(cfg config.Config, st *store.Store, obs webhook.Observer, log *slog.Logger) *webhook.Deliverer {
	var eps []webhook.Endpoint
	for _, w := range cfg.Webhooks {
		eps = append(eps, webhook.Endpoint{URL: w.URL, Secret: w.Secret, Events: w.Events})
	}
	return webhook.New(webhook.Options{Endpoints: eps, Stream: st, Ledger: st, Observer: obs, Logger: log})
}

// githubReleases is the release lookup of [github] that link and
// scheduling use: api.github.com, or github.api_url, with github.token
// when set (public repositories need none).
func githubReleases(cfg config.Config, log *slog.Logger) (bot.Releases, error) {
	r, err := githubadapter.NewReleases(githubadapter.Options{Token: cfg.GitHub.Token, APIURL: cfg.GitHub.APIURL, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("github: %w", err)
	}
	return r, nil
}

// githubWebhook registers POST /github/webhook (which refuses every
// delivery while github.webhook_secret is empty) and returns its run
// loop, which lets accepted deliveries finish when serve stops.
func githubWebhook(cfg config.Config, b *bot.Bot, st *store.Store, mux *http.ServeMux, log *slog.Logger) func(context.Context) error {
	h := githubadapter.NewWebhook(githubadapter.WebhookOptions{Secret: cfg.GitHub.WebhookSecret, Core: b, Once: st, Logger: log})
	h.Routes(mux)
	if w := cfg.GitHubWebhookWarning(); w != "" {
		log.Warn(w) // as check-config says it
	} else if cfg.GitHub.WebhookSecret == "" {
		log.Info("github.webhook_secret is not set: " + githubadapter.PathWebhook + " refuses every delivery")
	}
	return h.Run
}

// consoleHints makes the console's dry run write each platform's commands
// that platform's way, in what it posts and in what it answers a person on
// it: Slack's with its configured command name, Discord's with the
// command's options (help pages and usage lines too); and read a line
// typed with Discord's options as Discord reads them.
func consoleHints(cfg config.Config, ms *console.Messenger) {
	ms.WriteHints(slackadapter.Platform, console.Style{Command: cfg.Slack.Command, Hint: func(h bot.Hint) string { return h.Typed(cfg.Slack.Command) }})
	ms.WriteHints(discordadapter.Platform, console.Style{Command: discordadapter.Command, Hint: discordadapter.HintText, Native: discordadapter.Native, Typed: discordadapter.Typed})
}
