// Package config reads upgradebot's TOML configuration, applies
// UPGRADEBOT_* environment overrides and validates the result.
//
// Load and LoadBytes only decode: they report unknown keys, values of the
// wrong type and bad environment values as Problems. Call Config.Validate
// afterwards for the semantic checks (references, ids, modes, URLs).
package config

import (
	"fmt"
	"time"
)

// Config is the whole configuration file; durations are already parsed.
type Config struct {
	// DefaultTimezone is the IANA zone used when the platform does not tell a user's zone.
	DefaultTimezone string `toml:"default_timezone"`
	// Admins are people names or platform ids allowed every command.
	Admins []string `toml:"admins"`
	// MaxWindow is the longest upgrade window that may be scheduled.
	MaxWindow time.Duration `toml:"max_window"`
	// Retention is how long finished upgrades are kept (an upgradebot addition to the spec).
	Retention time.Duration `toml:"retention"`
	// MaxLead is how far ahead a window may start.
	MaxLead time.Duration `toml:"max_lead"`
	// EarlyStart is how long before its window an upgrade may be started.
	EarlyStart time.Duration `toml:"early_start"`
	// SeriesLead is how long before its window each occurrence of a recurring upgrade is created.
	SeriesLead time.Duration `toml:"series_lead"`
	// Readiness is the default go/no-go checklist of a service that has no readiness list of its own.
	Readiness []string `toml:"readiness"`

	// Server is the [server] section.
	Server Server `toml:"server"`
	// Redis is the [redis] section.
	Redis Redis `toml:"redis"`
	// Slack is the [slack] section.
	Slack Slack `toml:"slack"`
	// Discord is the [discord] section.
	Discord Discord `toml:"discord"`
	// GitHub is the [github] section.
	GitHub GitHub `toml:"github"`
	// Reminders is the [reminders] section.
	Reminders Reminders `toml:"reminders"`
	// API is the [api] section.
	API API `toml:"api"`
	// Webhooks are the [[webhooks]] entries.
	Webhooks []Webhook `toml:"webhooks"`
	// People are the [[people]] entries.
	People []Person `toml:"people"`
	// Services are the [[services]] entries.
	Services []Service `toml:"services"`
	// Freezes are the [[freezes]] entries: change freezes.
	Freezes []Freeze `toml:"freezes"`

	// fromEnv maps the key paths ("redis.url", "services[0].windows") whose
	// value came from the environment to their variable, so that a problem
	// with such a value names the variable, not the file's key.
	fromEnv map[string]string `toml:"-"`
	// secretInBoth maps the key paths of the secrets (and a redis.url
	// holding a password) that both the file and the environment give to
	// the variable, whose value is used: SecretInFileWarnings says so.
	secretInBoth map[string]string `toml:"-"`
	// keyLines is where the file writes each key path, for InFileOrder.
	keyLines map[string]keyLine `toml:"-"`
}

// Server is the [server] section: the HTTP listener.
type Server struct {
	// Listen is the host:port the HTTP server binds.
	Listen string `toml:"listen"`
	// PublicURL is the externally reachable base URL used in links; optional.
	PublicURL string `toml:"public_url"`
}

// Redis is the [redis] section: the system of record.
type Redis struct {
	// URL is a redis://, rediss://, redis+sentinel://, unix:// or memory:// URL.
	URL string `toml:"url"`
	// ClusterAddrs lists host:port seeds of a Redis Cluster, used instead of URL; a seed
	// without a port is on 6379.
	ClusterAddrs []string `toml:"cluster_addrs"`
	// Prefix starts every key, so several bots can share one Redis.
	Prefix string `toml:"prefix"`
}

// Slack is the [slack] section.
type Slack struct {
	// Enabled turns the Slack adapter on.
	Enabled bool `toml:"enabled"`
	// Mode is "socket" (Socket Mode) or "http" (Events/Interactivity endpoints).
	Mode string `toml:"mode"`
	// BotToken is the xoxb- bot token; secret.
	BotToken string `toml:"bot_token" secret:"true"`
	// AppToken is the xapp- app-level token, socket mode only; secret.
	AppToken string `toml:"app_token" secret:"true"`
	// SigningSecret verifies requests in http mode; secret.
	SigningSecret string `toml:"signing_secret" secret:"true"`
	// APIURL overrides the Web API base URL (tests, GovSlack); empty means Slack's default.
	APIURL string `toml:"api_url"`
	// Command is the slash command name, e.g. "/upgrade".
	Command string `toml:"command"`
}

// Discord is the [discord] section.
type Discord struct {
	// Enabled turns the Discord adapter on.
	Enabled bool `toml:"enabled"`
	// Mode is "gateway" or "http" (interactions endpoint).
	Mode string `toml:"mode"`
	// BotToken is the bot token; secret.
	BotToken string `toml:"bot_token" secret:"true"`
	// ApplicationID is the application's snowflake.
	ApplicationID string `toml:"application_id"`
	// PublicKey is the hex Ed25519 key that verifies interactions in http mode.
	PublicKey string `toml:"public_key"`
	// GuildIDs are the guilds commands are registered on; empty means global.
	GuildIDs []string `toml:"guild_ids"`
	// APIURL overrides the REST base URL (tests); empty means Discord's default.
	APIURL string `toml:"api_url"`
}

// GitHub is the [github] section.
type GitHub struct {
	// Token authenticates API calls; optional for public repositories; secret.
	Token string `toml:"token" secret:"true"`
	// APIURL is the GitHub Enterprise (or test) API base URL; empty means api.github.com.
	APIURL string `toml:"api_url"`
	// WebhookSecret verifies /github/webhook deliveries; secret.
	WebhookSecret string `toml:"webhook_secret" secret:"true"`
}

// Reminders is the [reminders] section.
type Reminders struct {
	// Before are the offsets before a window's start at which reminders are posted.
	Before []time.Duration `toml:"before"`
	// EscalateAfter is how long after a rollback alert or the last reminder unacknowledged people get a DM.
	EscalateAfter time.Duration `toml:"escalate_after"`
	// DefaultDuration is the window length when a schedule command gives none.
	DefaultDuration time.Duration `toml:"default_duration"`
}

// API is the [api] section.
type API struct {
	// Tokens are the bearer tokens accepted by /api/v1; secret.
	Tokens []string `toml:"tokens" secret:"true"`
	// Public serves / and /calendar.ics without a token.
	Public bool `toml:"public"`
}

// Webhook is one [[webhooks]] entry: an outbound, signed event delivery target.
type Webhook struct {
	// URL receives a POST per event.
	URL string `toml:"url"`
	// Secret keys the X-Upgradebot-Signature-256 HMAC; secret.
	Secret string `toml:"secret" secret:"true"`
	// Events, when not empty, are the only event types delivered.
	Events []string `toml:"events"`
}

// Person is one [[people]] entry: one person with several platform identities.
type Person struct {
	// Name is how owners and admins refer to the person.
	Name string `toml:"name"`
	// IDs are the person's platform ids, e.g. "slack:U012AB3CD", "discord:80351110224678912".
	IDs []string `toml:"ids"`
	// Timezone is the person's IANA zone, for platforms that do not tell it (Discord, the console).
	Timezone string `toml:"timezone"`
}

// Service is one [[services]] entry.
type Service struct {
	// Name identifies the service in commands.
	Name string `toml:"name"`
	// Owners are people names or platform ids (users, Slack user groups, Discord roles).
	Owners []string `toml:"owners"`
	// Channels are where the service's upgrade threads are posted.
	Channels []string `toml:"channels"`
	// DependsOn names the services this one breaks without.
	DependsOn []string `toml:"depends_on"`
	// Repo is the GitHub repository of its releases, "owner/name".
	Repo string `toml:"repo"`
	// Windows are its standard maintenance windows, e.g. "tue 02:00-05:00 Europe/Berlin".
	Windows []string `toml:"windows"`
	// Readiness is its go/no-go checklist; nil (left out): the top-level readiness; empty: none.
	Readiness []string `toml:"readiness"`
}

// The limits of a readiness checklist: Discord shows at most 25 buttons a
// message (and the root message has others), and a criterion is a button label.
const (
	MaxCriteria     = 10
	MaxCriterionLen = 80
)

// ReadinessOf is the checklist of service s: its own list when it has one
// (even an empty one), else the top-level default.
func (c Config) ReadinessOf(s Service) []string {
	if s.Readiness != nil {
		return s.Readiness
	}
	return c.Readiness
}

// Freeze is one [[freezes]] entry: no upgrades of its services in it (admins may override, logged).
type Freeze struct {
	// Name identifies the freeze in replies, the log and the calendar.
	Name string `toml:"name"`
	// From is when it starts, RFC 3339 with an offset, e.g. "2026-12-20T00:00:00Z"
	// (the file may write it as an unquoted TOML offset date-time).
	From string `toml:"from"`
	// To is when it ends (exclusive), RFC 3339 with an offset.
	To string `toml:"to"`
	// Services it applies to: service names, or "*" for every service.
	Services []string `toml:"services"`
	// Regions restrict it to upgrades in these regions; empty: every region.
	Regions []string `toml:"regions"`
	// Reason says why, in replies and notices.
	Reason string `toml:"reason"`
}

// Default returns the configuration used for every key the file and environment leave unset.
func Default() Config {
	return Config{
		DefaultTimezone: "UTC",
		MaxWindow:       24 * time.Hour,
		Retention:       90 * 24 * time.Hour,
		MaxLead:         365 * 24 * time.Hour,
		EarlyStart:      time.Hour,
		SeriesLead:      8 * 24 * time.Hour,
		Server:          Server{Listen: "127.0.0.1:8080"},
		Redis:           Redis{URL: "redis://127.0.0.1:6379/0", Prefix: "upgradebot"},
		Slack:           Slack{Mode: "socket", Command: "/upgrade"},
		Discord:         Discord{Mode: "gateway"},
		Reminders: Reminders{
			Before:          []time.Duration{168 * time.Hour, 72 * time.Hour, time.Hour},
			EscalateAfter:   30 * time.Minute,
			DefaultDuration: time.Hour,
		},
		API: API{Public: true},
	}
}

// Problem is one configuration mistake, located by its key path.
type Problem struct {
	// Path is the key path, e.g. "services[1].depends_on"; for a value from
	// the environment the variable and the key, "env UPGRADEBOT_SLACK_ENABLED
	// (slack.enabled)"; for an unknown variable only the variable,
	// "env UPGRADEBOT_SLACK_BOT_TOKN".
	Path string
	// Msg says what is wrong; it never contains a secret value.
	Msg string
	// Line is the file's line of the key, from 1, as InFileOrder finds it;
	// 0 when the file does not write it (a value from the environment, a
	// missing key, a problem of several keys) or it is not known yet.
	Line int
	// ServeOnly marks a missing value that only serve uses: an enabled
	// platform's token, secret, key or application id, a webhook's secret.
	// Production files often keep them in the environment of serve alone;
	// the console and the webhooks subcommand ignore these problems.
	ServeOnly bool

	// entry is 1 + the index of the list's entry the problem is about
	// (services[0].channels: "bogus" is not a platform id), 0 when none:
	// the problem is at the entry's line when the list is written over
	// several lines.
	entry int
}

// WithoutServeOnly returns the problems that are not ServeOnly.
func WithoutServeOnly(ps []Problem) []Problem {
	var out []Problem
	for _, p := range ps {
		if !p.ServeOnly {
			out = append(out, p)
		}
	}
	return out
}

// String renders the problem as "path: msg".
func (p Problem) String() string { return p.Path + ": " + p.Msg }

func problemf(path, format string, args ...any) Problem {
	return Problem{Path: path, Msg: fmt.Sprintf(format, args...)}
}
