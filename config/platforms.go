package config

import (
	"fmt"
	"slices"
	"strings"
)

// EnabledPlatforms names the chat platforms serve runs: "slack",
// "discord", in that order; none when neither is enabled.
func (c Config) EnabledPlatforms() []string {
	var out []string
	if c.Slack.Enabled {
		out = append(out, "slack")
	}
	if c.Discord.Enabled {
		out = append(out, "discord")
	}
	return out
}

// OnPlatform reports whether the platform id s belongs to one of platforms.
func OnPlatform(s string, platforms []string) bool {
	p, _, ok := strings.Cut(s, ":")
	return ok && slices.Contains(platforms, p)
}

// OffPlatformWarnings says, one line per service, which of its channels
// and owners are on a platform serve does not run (console: ids included:
// only the console uses them); an owner named as a person is when all of
// their ids are. serve skips those channels. With
// no platform enabled at all it says nothing: that one warning is enough.
func (c Config) OffPlatformWarnings() []string {
	on := c.EnabledPlatforms()
	if len(on) == 0 {
		return nil
	}
	var out []string
	for i, s := range c.Services {
		var channels, owners []string
		off := map[string]bool{}
		for _, ch := range s.Channels {
			if IsID(ch) && !OnPlatform(ch, on) {
				channels = append(channels, ch)
				off[strings.SplitN(ch, ":", 2)[0]] = true
			}
		}
		for _, o := range s.Owners {
			if IsID(o) {
				if !OnPlatform(o, on) {
					owners = append(owners, o)
					off[strings.SplitN(o, ":", 2)[0]] = true
				}
				continue
			}
			// A person whose every id is on a platform that is off.
			if i := slices.IndexFunc(c.People, func(p Person) bool { return p.Name == o }); i >= 0 {
				ids := c.People[i].IDs
				if len(ids) > 0 && !slices.ContainsFunc(ids, func(id string) bool { return OnPlatform(id, on) }) {
					owners = append(owners, o)
					for _, id := range ids {
						off[strings.SplitN(id, ":", 2)[0]] = true
					}
				}
			}
		}
		if len(channels) == 0 && len(owners) == 0 {
			continue
		}
		var platforms []string
		for p := range off {
			platforms = append(platforms, p)
		}
		slices.Sort(platforms)
		var parts []string
		if len(channels) > 0 {
			parts = append(parts, fmt.Sprintf("serve skips channels %s", strings.Join(channels, ", ")))
		}
		if len(owners) > 0 {
			parts = append(parts, fmt.Sprintf("owners %s can be neither mentioned nor messaged", strings.Join(owners, ", ")))
		}
		out = append(out, fmt.Sprintf("services[%d] (%s): %s (%s %s not enabled; enabled: %s)",
			i, s.Name, strings.Join(parts, "; "), strings.Join(platforms, ", "), isAre(len(platforms)), strings.Join(on, ", ")))
	}
	return out
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// GitHubWebhookWarning says, when services have a GitHub repo (GitHub is
// in use, docs/github.md) but github.webhook_secret is empty, that the
// webhook refuses every delivery, so that published releases never reach
// the bot; "" otherwise. Services are named at most three, then counted.
func (c Config) GitHubWebhookWarning() string {
	if c.GitHub.WebhookSecret != "" {
		return ""
	}
	var with []string
	for i, s := range c.Services {
		if s.Repo != "" {
			with = append(with, fmt.Sprintf("services[%d] (%s)", i, s.Name))
		}
	}
	if len(with) == 0 {
		return ""
	}
	named := strings.Join(with, ", ")
	if len(with) > 3 {
		named = fmt.Sprintf("%s and %d more", strings.Join(with[:3], ", "), len(with)-3)
	}
	have := "has"
	if len(with) > 1 {
		have = "have"
	}
	return fmt.Sprintf("%s %s a GitHub repo but github.webhook_secret (UPGRADEBOT_GITHUB_WEBHOOK_SECRET) is empty: /github/webhook refuses every delivery, so published releases never reach the bot (only the link command and the look-up at scheduling link them); set it and add the repository's webhook (docs/github.md)", named, have)
}
