package discord

import (
	"reflect"
	"strings"
	"testing"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/commands"
)

// QA: on Discord, link with repo:https://github.com/acme/payments was
// refused (Slack and the console take a pasted URL), and a repository that
// cannot be one was refused in other words than docs/github.md gives. The
// options now read a repository as the typed grammar does.
func TestLinkOptionsReadTheRepositoryAsTheGrammar(t *testing.T) {
	for _, tc := range []struct {
		o    options
		text string
	}{
		{opts("id", "UPG-4", "repo", "https://github.com/acme/payments"), "link UPG-4 https://github.com/acme/payments"},
		{opts("id", "4", "repo", "github.com/Acme/payments.git", "tag", "v2.4.0"), "link 4 github.com/Acme/payments.git v2.4.0"},
		{opts("id", "4", "repo", "acme/payments"), "link 4 acme/payments"},
		{opts("id", "4", "repo", "https://github.com/acme/payments/releases/tag/v2.4.0"), "link 4 https://github.com/acme/payments/releases/tag/v2.4.0"},
		{opts("id", "4", "repo", "https://github.com/acme/payments/releases/tag/v2.4.0", "tag", "v2.4.0"), "link 4 https://github.com/acme/payments/releases/tag/v2.4.0 v2.4.0"},
	} {
		got, err := build("link", tc.o, commands.Env{})
		if err != nil {
			t.Fatalf("%s: build: %v", tc.text, err)
		}
		want, err := commands.Parse(tc.text, commands.Env{})
		if err != nil {
			t.Fatalf("%s: parse: %v", tc.text, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Discord builds %#v, the grammar %#v", got, want)
		}
	}
	_, err := build("link", opts("id", "4", "repo", "https://github.com/acme/payments/releases/tag/v2.4.0", "tag", "v2.5.0"), commands.Env{})
	if e := (*commands.Error)(nil); !errorsAs(err, &e) || !strings.Contains(e.Msg, `the release page is of the tag "v2.4.0", and "v2.5.0" was typed too`) {
		t.Errorf("a release page and another tag: %v", err)
	}
	for _, repo := range []string{"acme/../payments", "payments", "acme/pay/ments", "-acme/payments"} {
		_, err := build("link", opts("id", "4", "repo", repo), commands.Env{})
		var e *commands.Error
		if !errorsAs(err, &e) || !strings.Contains(e.Msg, `cannot read "`+repo+`" as a GitHub repository; use owner/repo, e.g. acme/payments`) || !strings.HasPrefix(e.Usage, "/upgrade link") {
			t.Errorf("repo %q: %v; want the grammar's refusal with the usage", repo, err)
		}
	}
	// A page that is no release page is refused as the grammar refuses it,
	// what it is and what to give instead, with the command as Discord
	// takes it (the text grammar's "acme/payments v2.4.0" would be refused
	// again in the repo option).
	for page, want := range map[string]string{
		"https://github.com/acme/payments/tree/v2.4.0":     "`/upgrade link id:UPG-4 repo:acme/payments tag:v2.4.0`, or paste its release page (`…/releases/tag/v2.4.0`).",
		"https://github.com/acme/payments/releases/latest": "`/upgrade link id:UPG-4 repo:acme/payments tag:<tag>`, or paste its release page (`…/releases/tag/<tag>`).",
		"https://github.com/acme/payments/commit/0a1b2c3":  "`/upgrade link id:UPG-4 repo:acme/payments tag:<tag>`",
	} {
		_, err := build("link", opts("id", "4", "repo", page), commands.Env{})
		var e *commands.Error
		if !errorsAs(err, &e) || !strings.HasPrefix(e.Usage, "/upgrade link") {
			t.Fatalf("repo %q: %v; want the grammar's refusal with the usage", page, err)
		}
		m := bot.ParseRefusal(err)
		got := style{command: "/" + commandName}.markdown(m.Lines[0])
		if !strings.Contains(got, want) || !strings.Contains(got, "not") {
			t.Errorf("repo %q refused as\n%s\nwant it to hold %s", page, got, want)
		}
	}
}

// QA: a release page of any host was linked as a GitHub Enterprise
// server's, and a pull request's page was refused as no repository. The
// options read pages as the grammar does with the Enterprise host the core
// gives (Env): its release pages (and its repository's page) are linked,
// another host's (github.com's too) are refused with the host link takes,
// and a pull request is refused for what it is, with the command as
// Discord takes it.
func TestLinkOptionsReadOnlyTheEnterpriseServer(t *testing.T) {
	env := commands.Env{ReleaseHost: "ghe.example.com"}
	for page, tag := range map[string]string{"https://ghe.example.com/acme/payments/releases/tag/v2.4.0": "v2.4.0", "https://ghe.example.com:443/acme/payments": "", "acme/payments": ""} {
		got, err := build("link", opts("id", "4", "repo", page), env)
		if want := (commands.Link{ID: 4, Repo: "acme/payments", Tag: tag}); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("repo %q: %#v, %v; want %#v", page, got, err, want)
		}
	}
	for page, want := range map[string]string{
		"https://gitlab.com/acme/payments/releases/tag/v2.4.0":     "The page \"https://gitlab.com/acme/payments/releases/tag/v2.4.0\" is on gitlab.com, and link takes pages of ghe.example.com (the GitHub Enterprise server of `github.api_url`) only; use `owner/repo`, e.g. acme/payments.",
		"https://www.github.com/acme/payments/releases/tag/v2.4.0": "The page \"https://www.github.com/acme/payments/releases/tag/v2.4.0\" is on github.com, and link takes pages of ghe.example.com (the GitHub Enterprise server of `github.api_url`) only; use `owner/repo`, e.g. acme/payments.",
		"https://github.com/acme/payments":                         "is on github.com, and link takes pages of ghe.example.com",
		"https://ghe.example.com/acme/payments/pull/12":            "is a pull request, not a release; link one with `/upgrade link id:UPG-4 repo:acme/payments tag:<tag>`, or paste its release page (`…/releases/tag/<tag>`).",
	} {
		_, err := build("link", opts("id", "4", "repo", page), env)
		var e *commands.Error
		if !errorsAs(err, &e) || !strings.HasPrefix(e.Usage, "/upgrade link") {
			t.Fatalf("repo %q: %v; want the grammar's refusal with the usage", page, err)
		}
		got := style{command: "/" + commandName}.markdown(bot.ParseRefusal(err).Lines[0])
		if !strings.Contains(got, want) {
			t.Errorf("repo %q refused as\n%s\nwant it to hold %s", page, got, want)
		}
	}
}
