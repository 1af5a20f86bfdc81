package e2e

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	githubadapter "github.com/upgradebot/upgradebot/adapters/github"
	"github.com/upgradebot/upgradebot/adapters/github/githubtest"
	"github.com/upgradebot/upgradebot/bot"
)

const releasePage = "https://github.com/acme/payments/releases/tag/"

// TestGitHubSchedulingLinksTheReleaseByItself: payments has the repo
// acme/payments; scheduling payments v2.4.0 links the v2.4.0 release by
// itself, and the root message shows its name and link, the thread its
// notes as Slack mrkdwn.
func TestGitHubSchedulingLinksTheReleaseByItself(t *testing.T) {
	e := newGitHubEnv(t, 1)
	r := e.replicas[0]
	e.gh.AddRelease("acme/payments", githubtest.Release("acme/payments", "v2.4.0", "Payments 2.4.0",
		"<!-- generated -->\r\n## Highlights\r\n* Faster **card** auth in https://github.com/acme/payments/pull/12\r\n* [Runbook](https://wiki.example/runbook)", slackNow.Add(-2*time.Hour)))

	ans := slackAnswerText(r.slash("alice", "C0OPS", "schedule payments v2.4.0 at 2026-12-01 02:00 UTC for 2h"))
	slackContains(t, "the schedule answer", ans, "Scheduled *UPG-1 payments v2.4.0*", "The release acme/payments v2.4.0 is looked up on GitHub and linked when found.")
	e.settle()

	root := r.root("C0PAYMENTS")
	slackContains(t, "the root message", root.BlockText(), "*Release*\n<"+releasePage+"v2.4.0|acme/payments v2.4.0 (Payments 2.4.0)>")
	thread := e.thread("C0PAYMENTS")
	if len(thread) != 1 {
		t.Fatalf("thread replies: %d, want the release notice only", len(thread))
	}
	slackContains(t, "the release notice", thread[0].BlockText(),
		"📦 Release linked: <"+releasePage+"v2.4.0|acme/payments v2.4.0 (Payments 2.4.0)>",
		"Published <!date^", "by octocat.",
		"*Highlights*",
		"• Faster *card* auth in <https://github.com/acme/payments/pull/12|#12>",
		"• <https://wiki.example/runbook|Runbook>")
	log, err := r.store.Log(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if last := log[len(log)-1]; last.Action != bot.ActionLinked || last.Actor != bot.Upgradebot || last.Tag != "v2.4.0" {
		t.Errorf("decision log ends with %+v", last)
	}
}

// TestGitHubReleaseEventLinksThePlannedUpgrade: a signed release event
// for v2.5.0 links the scheduled upgrade of that version and says so in
// its thread; nothing is posted in the channel itself.
func TestGitHubReleaseEventLinksThePlannedUpgrade(t *testing.T) {
	e := newGitHubEnv(t, 1)
	r := e.replicas[0]
	r.slash("alice", "C0OPS", "schedule payments 2.5.0 at 2026-12-01 02:00 UTC") // not out yet; written without its v
	e.settle()
	slackContains(t, "the root before the release", r.root("C0PAYMENTS").BlockText(), "*Release*\nnot linked yet")

	if got := e.release(0, "d-250", "published", "v2.5.0"); got != http.StatusAccepted {
		t.Fatalf("release event: status %d, want 202", got)
	}
	e.settle()
	slackContains(t, "the root after the release", r.root("C0PAYMENTS").BlockText(), "<"+releasePage+"v2.5.0|acme/payments v2.5.0 (Payments v2.5.0)>")
	thread := e.thread("C0PAYMENTS")
	if len(thread) != 1 {
		t.Fatalf("thread replies: %d", len(thread))
	}
	slackContains(t, "the release notice", thread[0].BlockText(), "📦 Release linked: <"+releasePage+"v2.5.0|", "• settles *faster*")
	if out := e.posts("C0PAYMENTS", "is out"); len(out) != 0 {
		t.Errorf("an upgrade to the version exists, yet the channel heard the release is out")
	}
}

// TestGitHubReleaseEventWithoutUpgradeSuggestsOne: with no upgrade to
// v2.5.0, the service's channel hears the release is out, with the command
// to copy in Slack's own syntax; typing it links the release by itself.
func TestGitHubReleaseEventWithoutUpgradeSuggestsOne(t *testing.T) {
	e := newGitHubEnv(t, 1)
	r := e.replicas[0]
	e.gh.AddRelease("acme/payments", githubtest.Release("acme/payments", "v2.5.0", "Payments v2.5.0", "", slackNow.Add(-time.Minute)))
	if got := e.release(0, "d-250", "published", "v2.5.0"); got != http.StatusAccepted {
		t.Fatalf("release event: status %d, want 202", got)
	}
	e.settle()
	out := e.posts("C0PAYMENTS", "is out")
	if len(out) != 1 {
		t.Fatalf("posts saying the release is out: %d, want 1", len(out))
	}
	slackContains(t, "the suggestion", out[0].BlockText(),
		"📦 <"+releasePage+"v2.5.0|acme/payments v2.5.0 (Payments v2.5.0)> is out, published <!date^",
		"No upgrade of *payments* to v2.5.0 is planned yet; to plan one: `/upgrade schedule payments v2.5.0 at &lt;time&gt;`")
	for _, ch := range []string{"C0LEDGER", "C0CHECKOUT"} {
		if n := len(e.api.Messages(ch)); n != 0 {
			t.Errorf("%s, of another repository, got %d messages", ch, n)
		}
	}

	r.slash("alice", "C0OPS", "schedule payments v2.5.0 at 2026-12-01 02:00 UTC")
	e.settle()
	slackContains(t, "the root of the upgrade planned", r.root("C0PAYMENTS").BlockText(), "<"+releasePage+"v2.5.0|acme/payments v2.5.0 (Payments v2.5.0)>")
}

// TestGitHubDeliveryActsOnceAcrossReplicas: the same delivery reaches two
// replicas on one store at once, and again later; GitHub's second event
// for the release ("released") too: one notice in the thread. The same
// holds for a release no upgrade is planned to: one post.
func TestGitHubDeliveryActsOnceAcrossReplicas(t *testing.T) {
	e := newGitHubEnv(t, 2)
	e.replicas[0].slash("alice", "C0OPS", "schedule payments v2.5.0 at 2026-12-01 02:00 UTC")
	e.settle()

	both := func(delivery, tag string) []int {
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i := range 2 {
			wg.Go(func() { statuses[i] = e.release(i, delivery, "published", tag) })
		}
		wg.Wait()
		return statuses
	}
	acted := func(statuses []int) int {
		n := 0
		for _, s := range statuses {
			switch s {
			case http.StatusAccepted:
				n++
			case http.StatusNoContent:
			default:
				t.Fatalf("status %d", s)
			}
		}
		return n
	}
	if n := acted(both("d-250", "v2.5.0")); n != 1 {
		t.Fatalf("%d replicas acted on one delivery, want 1", n)
	}
	if n := acted(both("d-250", "v2.5.0")); n != 0 {
		t.Fatalf("a redelivery was acted on %d times", n)
	}
	if got := e.release(1, "d-250-released", "released", "v2.5.0"); got != http.StatusNoContent {
		t.Fatalf("released after published: status %d, want 204", got)
	}
	e.settle()
	var notices int
	for _, m := range e.thread("C0PAYMENTS") {
		if strings.Contains(m.BlockText(), "Release linked") {
			notices++
		}
	}
	if notices != 1 {
		t.Fatalf("%d release notices in the thread, want 1", notices)
	}

	if n := acted(both("d-260", "v2.6.0")); n != 1 {
		t.Fatalf("%d replicas acted on one delivery, want 1", n)
	}
	e.settle()
	if out := e.posts("C0PAYMENTS", "v2.6.0"); len(out) != 1 {
		t.Fatalf("%d posts that v2.6.0 is out, want 1", len(out))
	}
}

// TestGitHubForgedDeliveryActsNever: deliveries with a wrong signature or
// none are refused with 401 and change nothing, not even the delivery's
// de-duplication: the genuine one with the same id acts.
func TestGitHubForgedDeliveryActsNever(t *testing.T) {
	e := newGitHubEnv(t, 1)
	r := e.replicas[0]
	r.slash("alice", "C0OPS", "schedule payments v2.5.0 at 2026-12-01 02:00 UTC")
	e.settle()
	url := r.srv.URL + githubadapter.PathWebhook
	ev := githubtest.ReleaseEvent("published", "acme/payments", githubtest.Release("acme/payments", "v2.5.0", "", "", slackNow))
	forged := githubtest.Delivery(t, url, "not-the-secret", "release", "d-1", ev)
	unsigned := githubtest.Delivery(t, url, githubSecret, "release", "d-1", ev)
	unsigned.Header.Del("X-Hub-Signature-256")
	for name, req := range map[string]*http.Request{"forged": forged, "unsigned": unsigned} {
		if got := e.deliver(0, req); got != http.StatusUnauthorized {
			t.Fatalf("%s: status %d, want 401", name, got)
		}
	}
	e.settle()
	if u, _ := r.store.Get(context.Background(), 1); u.Release != nil {
		t.Fatalf("a forged delivery linked %+v", u.Release)
	}
	if n := len(e.thread("C0PAYMENTS")) + len(e.posts("C0PAYMENTS", "is out")); n != 0 {
		t.Fatalf("a forged delivery posted %d messages", n)
	}
	if got := e.deliver(0, githubtest.Delivery(t, url, githubSecret, "release", "d-1", ev)); got != http.StatusAccepted {
		t.Fatalf("the genuine delivery: status %d, want 202", got)
	}
}

// TestGitHubLinkToAMissingTagSaysNotFound: link answers at once; the
// invoker then hears privately that GitHub has no such release, and the
// upgrade keeps it as typed, without a link.
func TestGitHubLinkToAMissingTagSaysNotFound(t *testing.T) {
	e := newGitHubEnv(t, 1)
	r := e.replicas[0]
	r.slash("alice", "C0OPS", "schedule payments v2.4.0 at 2026-12-01 02:00 UTC")
	e.settle()
	ans := slackAnswerText(r.slash("alice", "C0OPS", "link UPG-1 acme/payments v9.9.9"))
	slackContains(t, "the link answer", ans, "📦 Linking acme/payments v9.9.9 to *UPG-1 payments v2.4.0*; the release notice follows in the thread.")
	told := e.privateAnswer(e.lastCommand(), 1)
	slackContains(t, "the private answer", told,
		"⚠ acme/payments has no published release tagged v9.9.9 (nor 9.9.9 nor V9.9.9) on GitHub.",
		"UPG-1 keeps working with the release as typed, acme/payments v9.9.9, without a link or notes.",
		"Link the right tag with `/upgrade link UPG-1 acme/payments &lt;tag&gt;`.")
	e.settle()
	slackContains(t, "the root", r.root("C0PAYMENTS").BlockText(), "*Release*\nacme/payments v9.9.9")
}

// TestGitHubRateLimitedLinkSaysWhenToRetry: GitHub answers 403 with its
// rate limit used up; the invoker hears until when, and the command to
// type again then.
func TestGitHubRateLimitedLinkSaysWhenToRetry(t *testing.T) {
	e := newGitHubEnv(t, 1)
	r := e.replicas[0]
	r.slash("alice", "C0OPS", "schedule payments v2.4.0 at 2026-12-01 02:00 UTC")
	e.settle()
	reset := slackNow.Add(20 * time.Minute)
	e.gh.FailNext(githubtest.Fault{Status: http.StatusForbidden, RateLimitReset: reset})
	r.slash("alice", "C0OPS", "link UPG-1 acme/payments")
	told := e.privateAnswer(e.lastCommand(), 1)
	when := "<!date^" + strconv.FormatInt(reset.Unix(), 10) + "^{date_short_pretty} {time}|2026-11-20 09:20 UTC>"
	slackContains(t, "the private answer", told,
		"⚠ The bot has used up its GitHub rate limit until "+when+", so acme/payments v2.4.0 could not be looked up.",
		"Try again after "+when+": `/upgrade link UPG-1 acme/payments v2.4.0`.")
	e.settle()
	if u, _ := r.store.Get(context.Background(), 1); u.Release == nil || u.Release.URL != "" || len(u.Failures) != 0 {
		t.Fatalf("release %+v, failures %+v", u.Release, u.Failures)
	}
}

// TestGitHubSlowLookupDoesNotDelayTheReply: GitHub holds the lookup; the
// link command is answered meanwhile, and the notice follows once GitHub
// answers.
func TestGitHubSlowLookupDoesNotDelayTheReply(t *testing.T) {
	e := newGitHubEnv(t, 1)
	r := e.replicas[0]
	r.slash("alice", "C0OPS", "schedule payments v2.4.0 at 2026-12-01 02:00 UTC")
	e.settle()
	e.gh.AddRelease("acme/payments", githubtest.Release("acme/payments", "v2.4.0", "Payments 2.4.0", "", slackNow))
	e.gh.FailNext(githubtest.Fault{Hang: true})
	ans := slackAnswerText(r.slash("alice", "C0OPS", "link UPG-1 acme/payments"))
	slackContains(t, "the link answer", ans, "📦 Linking acme/payments v2.4.0 to *UPG-1 payments v2.4.0*")
	select {
	case <-e.gh.Hung(): // GitHub has the lookup and is not answering
	case <-time.After(10 * time.Second):
		t.Fatal("the lookup never reached GitHub")
	}
	if n := len(e.thread("C0PAYMENTS")); n != 0 {
		t.Fatalf("%d notices before GitHub answered", n)
	}
	e.gh.Unhang()
	e.settle()
	thread := e.thread("C0PAYMENTS")
	if len(thread) != 1 {
		t.Fatalf("thread replies: %d", len(thread))
	}
	slackContains(t, "the release notice", thread[0].BlockText(), "<"+releasePage+"v2.4.0|acme/payments v2.4.0 (Payments 2.4.0)>")
}

// TestGitHubReleaseOfAnotherRepositoryIsIgnored: a signed release of
// acme/other, a repository no service has, is answered 204 (http.md: 204
// for events ignored), JSON or form-encoded, and does nothing: no link, no
// message, no call to GitHub. The repository is compared in any case:
// Acme/Payments is payments' and is acted on (202), under the delivery id
// the ignored one had, which was not remembered.
func TestGitHubReleaseOfAnotherRepositoryIsIgnored(t *testing.T) {
	e := newGitHubEnv(t, 1)
	r := e.replicas[0]
	r.slash("alice", "C0OPS", "schedule payments v2.5.0 at 2026-12-01 02:00 UTC")
	e.settle()
	calls := len(e.gh.Calls())
	hook := r.srv.URL + githubadapter.PathWebhook
	other := githubtest.ReleaseEvent("published", "acme/other", githubtest.Release("acme/other", "v2.5.0", "", "", slackNow))
	if got := e.deliver(0, githubtest.Delivery(t, hook, githubSecret, "release", "d-1", other)); got != http.StatusNoContent {
		t.Fatalf("a release of acme/other: status %d, want 204", got)
	}
	js := `{"action":"released","release":{"tag_name":"v2.5.0","html_url":"https://github.com/acme/other/releases/tag/v2.5.0"},"repository":{"full_name":"acme/other"}}`
	form := []byte(url.Values{"payload": {js}}.Encode())
	req := githubtest.Unsigned(t, hook, "release", "d-2", form)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Hub-Signature-256", githubtest.Sign(githubSecret, form))
	if got := e.deliver(0, req); got != http.StatusNoContent {
		t.Fatalf("a form-encoded release of acme/other: status %d, want 204", got)
	}
	e.settle()
	if u, _ := r.store.Get(context.Background(), 1); u.Release != nil {
		t.Fatalf("a release of acme/other changed the upgrade's release: %+v", u.Release)
	}
	if n := len(e.thread("C0PAYMENTS")); n != 0 {
		t.Fatalf("a release of acme/other posted %d thread notices", n)
	}
	for _, ch := range []string{"C0PAYMENTS", "C0LEDGER", "C0CHECKOUT"} {
		if n := len(e.posts(ch, "is out")); n != 0 {
			t.Errorf("%s heard a release of acme/other is out", ch)
		}
	}
	if n := len(e.gh.Calls()); n != calls {
		t.Errorf("a release of acme/other made %d calls to GitHub", n-calls)
	}

	pay := githubtest.ReleaseEvent("published", "Acme/Payments", githubtest.Release("acme/payments", "v2.5.0", "", "", slackNow))
	if got := e.deliver(0, githubtest.Delivery(t, hook, githubSecret, "release", "d-1", pay)); got != http.StatusAccepted {
		t.Fatalf("a release of Acme/Payments: status %d, want 202", got)
	}
	e.settle()
	if u, _ := r.store.Get(context.Background(), 1); u.Release == nil || u.Release.URL != releasePage+"v2.5.0" {
		t.Fatalf("the release of Acme/Payments was not linked: %+v", u.Release)
	}
}

// TestGitHubLinkTriesEverySpellingAndChecksTheRepositoryOnce: whatever
// spelling of a version is typed (2.4.0, v2.4.0, V2.4.0), the lookup tries
// the same three, the typed one first, and finds a release tagged with a
// capital V; a version without any release costs four requests (the first
// tag, the repository once, then the other two tags), not two per spelling.
func TestGitHubLinkTriesEverySpellingAndChecksTheRepositoryOnce(t *testing.T) {
	e := newGitHubEnv(t, 1)
	r := e.replicas[0]
	r.slash("alice", "C0OPS", "schedule payments v2.4.0 at 2026-12-01 02:00 UTC")
	e.settle()
	e.gh.AddRelease("acme/payments", githubtest.Release("acme/payments", "V7.0.0", "Payments 7", "", slackNow.Add(-time.Hour)))
	paths := func(from int) []string {
		var out []string
		for _, c := range e.gh.Calls()[from:] {
			out = append(out, strings.TrimPrefix(c.Path, githubtest.APIPath+"repos/acme/payments"))
		}
		return out
	}
	for _, typed := range []string{"7.0.0", "v7.0.0", "V7.0.0"} {
		before := len(e.gh.Calls())
		r.slash("alice", "C0OPS", "link UPG-1 acme/payments "+typed)
		e.settle()
		if u, _ := r.store.Get(context.Background(), 1); u.Release == nil || u.Release.URL != releasePage+"V7.0.0" {
			t.Errorf("link %s: release %+v, want the one tagged V7.0.0", typed, u.Release)
		}
		if got := paths(before); len(got) == 0 || got[0] != "/releases/tags/"+typed || got[len(got)-1] != "/releases/tags/V7.0.0" {
			t.Errorf("link %s asked GitHub %q, want %s first and V7.0.0 found", typed, got, typed)
		}
	}
	before := len(e.gh.Calls())
	r.slash("alice", "C0OPS", "link UPG-1 acme/payments V9.9.9")
	e.settle()
	want := []string{"/releases/tags/V9.9.9", "", "/releases/tags/v9.9.9", "/releases/tags/9.9.9"}
	if got := paths(before); !slices.Equal(got, want) {
		t.Errorf("link V9.9.9 (no release) asked GitHub %q, want %q", got, want)
	}
	slackContains(t, "the private answer", e.privateAnswer(e.lastCommand(), 1),
		"⚠ acme/payments has no published release tagged V9.9.9 (nor v9.9.9 nor 9.9.9) on GitHub.")
}

// QA: link took a release page of any host as a GitHub Enterprise
// server's (a GitLab page was linked and looked up on GitHub), and refused
// a pull request as no repository. Now the configured server's pages (the
// fake's host, the host of github.api_url), its repository's page too, are
// linked; another host's page, github.com's included (review: it was
// looked up on the Enterprise server), is refused privately, naming the
// host link takes and github.api_url, without a lookup or a change; a pull
// request is refused for what it is, with the command to type as Slack
// takes it.
func TestGitHubLinkReadsPagesOfTheConfiguredServerOnly(t *testing.T) {
	e := newGitHubEnv(t, 1)
	r := e.replicas[0]
	e.gh.AddRelease("acme/payments", githubtest.Release("acme/payments", "v2.4.0", "Payments 2.4.0", "", slackNow.Add(-time.Hour)))
	e.gh.AddRelease("acme/payments", githubtest.Release("acme/payments", "v2.4.1", "Payments 2.4.1", "", slackNow.Add(-time.Hour)))
	r.slash("alice", "C0OPS", "schedule payments v2.3.0 at 2026-12-01 02:00 UTC")
	e.settle()
	host := strings.TrimPrefix(strings.TrimSuffix(e.gh.APIURL(), githubtest.APIPath), "http://")

	linked := func(page, tag string) {
		t.Helper()
		ans := slackAnswerText(r.slash("alice", "C0OPS", "link UPG-1 "+page))
		slackContains(t, "the link answer to "+page, ans, "📦 Linking acme/payments "+tag+" to *UPG-1 payments v2.3.0*")
		e.settle()
		if u, _ := r.store.Get(context.Background(), 1); u.Release == nil || u.Release.Tag != tag || u.Release.URL != releasePage+tag {
			t.Fatalf("link %s: release %+v, want %s looked up and linked", page, u.Release, tag)
		}
	}
	linked("http://"+host+"/acme/payments/releases/tag/v2.4.0", "v2.4.0")
	linked("http://"+host+"/acme/payments/releases/tag/v2.4.1", "v2.4.1")

	refused := func(page string, wants ...string) {
		t.Helper()
		calls := len(e.gh.Calls())
		ans := r.slash("alice", "C0OPS", "link UPG-1 "+page)
		if ans["response_type"] != "ephemeral" {
			t.Errorf("link %s answered in the channel: %v", page, ans)
		}
		slackContains(t, "the refusal of "+page, slackAnswerText(ans), wants...)
		e.settle()
		if u, _ := r.store.Get(context.Background(), 1); u.Release == nil || u.Release.Tag != "v2.4.1" {
			t.Errorf("link %s changed the release: %+v", page, u.Release)
		}
		if n := len(e.gh.Calls()); n != calls {
			t.Errorf("link %s asked GitHub %d times", page, n-calls)
		}
	}
	refused("https://gitlab.com/acme/payments/releases/tag/v2.4.0",
		"The page \"https://gitlab.com/acme/payments/releases/tag/v2.4.0\" is on gitlab.com, and link takes pages of "+host+
			" (the GitHub Enterprise server of `github.api_url`) only; use `owner/repo`, e.g. acme/payments.")
	refused("https://www.github.com/acme/payments/releases/tag/v2.4.0",
		"The page \"https://www.github.com/acme/payments/releases/tag/v2.4.0\" is on github.com, and link takes pages of "+host+
			" (the GitHub Enterprise server of `github.api_url`) only; use `owner/repo`, e.g. acme/payments.")
	refused("http://"+host+"/acme/payments/pull/12",
		"is a pull request, not a release; link one with `/upgrade link UPG-1 acme/payments &lt;tag&gt;`, or paste its release page (`…/releases/tag/&lt;tag&gt;`).")
}
