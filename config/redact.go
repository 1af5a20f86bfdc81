package config

import (
	"maps"
	"net/url"
	"slices"
	"strings"
)

// RedactedValue replaces every non-empty secret in Config.Redacted.
const RedactedValue = "[redacted]"

// Redacted returns a deep copy safe to log: tokens and secrets become "[redacted]", the password in
// redis.url and everything after the host of a webhook URL (which often carries a token) are hidden.
func (c Config) Redacted() Config {
	r := c
	r.Admins = slices.Clone(c.Admins)
	r.Redis.ClusterAddrs = slices.Clone(c.Redis.ClusterAddrs)
	r.Redis.URL = redactURLPassword(c.Redis.URL)
	r.Discord.GuildIDs = slices.Clone(c.Discord.GuildIDs)
	r.Reminders.Before = slices.Clone(c.Reminders.Before)

	hide(&r.Slack.BotToken)
	hide(&r.Slack.AppToken)
	hide(&r.Slack.SigningSecret)
	hide(&r.Discord.BotToken)
	hide(&r.GitHub.Token)
	hide(&r.GitHub.WebhookSecret)
	r.API.Tokens = slices.Clone(c.API.Tokens)
	for i := range r.API.Tokens {
		hide(&r.API.Tokens[i])
	}

	r.Webhooks = slices.Clone(c.Webhooks)
	for i := range r.Webhooks {
		hide(&r.Webhooks[i].Secret)
		r.Webhooks[i].URL = redactURLPath(r.Webhooks[i].URL)
	}
	r.People = slices.Clone(c.People)
	for i := range r.People {
		r.People[i].IDs = slices.Clone(c.People[i].IDs)
	}
	r.Services = slices.Clone(c.Services)
	for i := range r.Services {
		s := &r.Services[i]
		s.Owners = slices.Clone(s.Owners)
		s.Channels = slices.Clone(s.Channels)
		s.DependsOn = slices.Clone(s.DependsOn)
	}
	return r
}

func hide(s *string) {
	if *s != "" {
		*s = RedactedValue
	}
}

// redactURLPassword hides the password of scheme://user:password@host/... and credential-like
// query parameters (go-redis accepts options there, e.g. sentinel_password).
func redactURLPassword(s string) string {
	if s == "" {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return RedactedValue // unparsable: cannot tell where a password would be
	}
	out := u.Scheme + "://"
	if u.User != nil {
		out += u.User.Username()
		if _, ok := u.User.Password(); ok {
			out += ":" + RedactedValue
		}
		out += "@"
	}
	out += u.Host + u.EscapedPath()
	if u.RawQuery != "" {
		q := u.Query()
		keys := slices.Sorted(maps.Keys(q))
		var parts []string
		for _, k := range keys {
			hidden := containsAny(strings.ToLower(k), "pass", "secret", "token", "auth", "key")
			for _, val := range q[k] {
				if hidden {
					val = RedactedValue
				} else {
					val = url.QueryEscape(val)
				}
				parts = append(parts, url.QueryEscape(k)+"="+val)
			}
		}
		out += "?" + strings.Join(parts, "&")
	}
	return out
}

// redactURLPath keeps scheme and host of a URL and hides the rest.
func redactURLPath(s string) string {
	if s == "" {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return RedactedValue
	}
	out := u.Scheme + "://" + u.Host
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		out += "/" + RedactedValue
	}
	return out
}

// Secrets lists the secret values of c (tokens, signing and webhook
// secrets, the passwords in redis.url), so that a log can hide them
// wherever they would show up, in an error a server echoed back say.
func (c Config) Secrets() []string {
	s := []string{c.Slack.BotToken, c.Slack.AppToken, c.Slack.SigningSecret, c.Discord.BotToken, c.GitHub.Token, c.GitHub.WebhookSecret}
	s = append(s, c.API.Tokens...)
	for _, w := range c.Webhooks {
		s = append(s, w.Secret)
	}
	if u, err := url.Parse(c.Redis.URL); err == nil {
		if p, ok := u.User.Password(); ok {
			s = append(s, p)
		}
		for k, vs := range u.Query() {
			if containsAny(strings.ToLower(k), "pass", "secret", "token", "auth", "key") {
				s = append(s, vs...)
			}
		}
	}
	return slices.DeleteFunc(s, func(v string) bool { return v == "" })
}
