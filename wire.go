package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	discordadapter "github.com/upgradebot/upgradebot/adapters/discord"
	slackadapter "github.com/upgradebot/upgradebot/adapters/slack"
	"github.com/upgradebot/upgradebot/adapters/web"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/config"
	"github.com/upgradebot/upgradebot/store"
)

// buildAdapters builds the enabled platform adapters: each registers its
// HTTP routes, its Messenger in the router and its readiness check, and
// returns its run loop for serve to start. Nothing connects yet.
func buildAdapters(cfg config.Config, bc bot.Config, b *bot.Bot, st *store.Store, router bot.Router, mux *http.ServeMux, health *web.Health, log *slog.Logger) ([]func(context.Context) error, error) {
	var runs []func(context.Context) error
	if cfg.Slack.Enabled {
		sa, err := slackadapter.New(slackadapter.Options{
			BotToken: cfg.Slack.BotToken, AppToken: cfg.Slack.AppToken, SigningSecret: cfg.Slack.SigningSecret,
			APIURL: cfg.Slack.APIURL, Mode: cfg.Slack.Mode, Command: cfg.Slack.Command,
			Core: b, Groups: bc.Groups, Logger: log,
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
			Core: b, Logger: log,
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
