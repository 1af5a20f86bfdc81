package bot_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/bot/bottest"
)

// fakeReleases is a release host in memory: it knows the releases added,
// answers err (when set) to every lookup, and remembers what it was asked.
type fakeReleases struct {
	mu       sync.Mutex
	releases map[string]bot.Release // by "repo@tag"
	err      error
	asked    []string
}

func (f *fakeReleases) add(r bot.Release) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.releases == nil {
		f.releases = map[string]bot.Release{}
	}
	f.releases[r.Repo+"@"+r.Tag] = r
}

func (f *fakeReleases) Release(_ context.Context, repo, tag string) (bot.Release, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, repo+"@"+tag)
	if f.err != nil {
		return bot.Release{}, f.err
	}
	if r, ok := f.releases[repo+"@"+tag]; ok {
		return r, nil
	}
	return bot.Release{}, fmt.Errorf("fake: %s@%s: %w", repo, tag, bot.ErrReleaseNotFound)
}

func (f *fakeReleases) lookups() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.asked...)
}

// newReleaseFixture is newFixture with a release host.
func newReleaseFixture(t *testing.T, rel bot.Releases, adjust ...func(*bot.Config)) *fixture {
	t.Helper()
	cfg := testConfig()
	for _, fn := range adjust {
		fn(&cfg)
	}
	f := &fixture{st: bottest.NewMemStore(), rec: &bottest.Recorder{}, clock: bottest.NewClock(t0)}
	f.b = bot.New(bot.Options{Config: cfg, Store: f.st, Messenger: bot.Router{"test": f.rec, "other": f.rec},
		Releases: rel, Now: f.clock.Now, RefreshIntervalSet: true})
	t.Cleanup(f.b.Flush)
	return f
}

func TestLinkLookupProblemsAreToldPrivately(t *testing.T) {
	reset := t0.Add(20 * time.Minute)
	cases := []struct {
		name string
		err  error
		want []string
	}{
		{"not found", fmt.Errorf("github: %w", bot.ErrReleaseNotFound),
			[]string{"acme/payments has no published release tagged v2.4.0 (nor 2.4.0) on GitHub.", "Link the right tag with /upgrade link UPG-1 acme/payments <tag>."}},
		{"private without a token", &bot.ReleaseError{Problem: bot.ReleaseNoRepository},
			[]string{"cannot see the GitHub repository acme/payments: it does not exist, or it is private and the bot has no GitHub token (github.token)."}},
		{"private, token without access", &bot.ReleaseError{Problem: bot.ReleaseNoRepository, Token: true},
			[]string{"it is private and the bot's GitHub token cannot read it"}},
		{"token refused", &bot.ReleaseError{Problem: bot.ReleaseDenied, Token: true},
			[]string{"GitHub refused the bot's token", "An operator should check github.token; then /upgrade link UPG-1 acme/payments v2.4.0."}},
		{"rate limited", fmt.Errorf("github: %w", &bot.ReleaseError{Problem: bot.ReleaseRateLimited, ResetAt: reset}),
			[]string{"used up its GitHub rate limit until 2026-11-22 10:20 UTC", "Try again after 2026-11-22 10:20 UTC: /upgrade link UPG-1 acme/payments v2.4.0."}},
		{"rate limited, reset unknown", &bot.ReleaseError{Problem: bot.ReleaseRateLimited},
			[]string{"used up its GitHub rate limit for now", "Try again in a few minutes"}},
		{"network", &bot.ReleaseError{Problem: bot.ReleaseUnavailable, Err: fmt.Errorf("dial tcp: connection refused")},
			[]string{"GitHub could not be reached or did not answer in time", "Try again later: /upgrade link UPG-1 acme/payments v2.4.0."}},
		{"an error of no kind", fmt.Errorf("something odd"),
			[]string{"GitHub could not be reached"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newReleaseFixture(t, &fakeReleases{err: c.err})
			f.ok(t, "alice", schedulePayments)
			f.rec.Reset()
			r := f.ok(t, "alice", "link UPG-1 acme/payments")
			if !strings.Contains(lines(r), "Linking acme/payments v2.4.0") {
				t.Fatalf("reply: %s", lines(r))
			}
			told := f.rec.Ops("answer")
			if len(told) != 1 || told[0].To != "test:UALICE" || told[0].Msg.Kind != bot.KindError {
				t.Fatalf("want one private answer to alice, got %+v", told)
			}
			want := append(c.want, "UPG-1 keeps working with the release as typed, acme/payments v2.4.0, without a link or notes.")
			if miss, ok := contains(told[0].Text, want...); !ok {
				t.Errorf("answer lacks %q:\n%s", miss, told[0].Text)
			}
			// The thread still hears of the link, as typed; nothing failed.
			notices := f.rec.Kinds(bot.KindLinked)
			if len(notices) != 1 || !strings.Contains(notices[0].Text, "Release linked: acme/payments v2.4.0") || hasSpan(notices[0].Msg, bot.SpanLink) {
				t.Errorf("thread notice: %+v", notices)
			}
			u, _ := f.st.Get(context.Background(), 1)
			if u.Release == nil || u.Release.Tag != "v2.4.0" || u.Release.URL != "" || len(u.Failures) != 0 {
				t.Errorf("stored: release %+v, failures %+v", u.Release, u.Failures)
			}
		})
	}
}

func TestLinkTriesTheVersionWithAndWithoutItsV(t *testing.T) {
	gh := &fakeReleases{}
	gh.add(bot.Release{Repo: "acme/payments", Tag: "2.4.0", Name: "Payments 2.4.0", URL: releasePage("acme/payments", "2.4.0")})
	gh.add(bot.Release{Repo: "acme/ledger", Tag: "v7", URL: releasePage("acme/ledger", "v7")})
	f := newReleaseFixture(t, gh)
	f.ok(t, "alice", schedulePayments)
	f.ok(t, "alice", "link UPG-1 acme/payments")
	u, _ := f.st.Get(context.Background(), 1)
	if u.Release == nil || u.Release.Tag != "2.4.0" || u.Release.URL != releasePage("acme/payments", "2.4.0") {
		t.Fatalf("release = %+v", u.Release)
	}
	f.ok(t, "alice", "link UPG-1 acme/ledger 7")
	if u, _ = f.st.Get(context.Background(), 1); u.Release == nil || u.Release.Tag != "v7" {
		t.Fatalf("release = %+v", u.Release)
	}
	want := "acme/payments@v2.4.0, acme/payments@2.4.0, acme/ledger@7, acme/ledger@v7"
	if got := strings.Join(gh.lookups(), ", "); got != want {
		t.Errorf("lookups = %s, want %s", got, want)
	}
	if told := f.rec.Ops("answer"); len(told) != 0 {
		t.Errorf("a release found under the other spelling is no problem: %+v", told)
	}
}

func TestReleaseNotesReadAsRichText(t *testing.T) {
	gh := &fakeReleases{}
	gh.add(bot.Release{Repo: "acme/payments", Tag: "v2.4.0", Name: "Payments 2.4", URL: releasePage("acme/payments", "v2.4.0"),
		At: t0.Add(-time.Hour), Author: "octocat", Prerelease: true,
		Notes: "# What's Changed\n- Faster **card** auth, see [docs](https://docs.example/auth)\n  - behind `auth.fast`\n\nPlain words\n- four\n- five\n- six"})
	f := newReleaseFixture(t, gh)
	f.ok(t, "alice", schedulePayments)
	f.rec.Reset()
	f.ok(t, "alice", "link UPG-1 acme/payments")
	notices := f.rec.Kinds(bot.KindLinked)
	if len(notices) != 1 {
		t.Fatalf("notices: %+v", notices)
	}
	m := notices[0].Msg
	want := []string{
		"📦 Release linked: acme/payments v2.4.0 (Payments 2.4) (https://github.example/acme/payments/releases/tag/v2.4.0) · pre-release",
		"Published 2026-11-22 09:00 UTC by octocat.",
		"What's Changed",
		"• Faster card auth, see docs (https://docs.example/auth)",
		"  ◦ behind auth.fast",
		"Plain words",
		"• four", // five lines of notes, then a mark that there are more
		"…",
	}
	var got []string
	for _, l := range m.Lines {
		got = append(got, l.Plain(time.UTC))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("notice lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	kinds := func(t bot.Text) (out []bot.SpanKind) {
		for _, s := range t {
			out = append(out, s.Kind)
		}
		return out
	}
	if k := kinds(m.Lines[2]); len(k) != 1 || k[0] != bot.SpanBold {
		t.Errorf("a heading is bold: %v", k)
	}
	if k := fmt.Sprint(kinds(m.Lines[3])); k != fmt.Sprint([]bot.SpanKind{bot.SpanText, bot.SpanText, bot.SpanBold, bot.SpanText, bot.SpanLink}) {
		t.Errorf("bullet with bold and link: %s", k)
	}
	if k := kinds(m.Lines[4]); k[len(k)-1] != bot.SpanCode {
		t.Errorf("code: %v", k)
	}
	root := lines(lastRoot(t, f.rec, "test:#payments"))
	if !strings.Contains(root, "Release: acme/payments v2.4.0 (Payments 2.4) (https://github.example/acme/payments/releases/tag/v2.4.0) · pre-release") {
		t.Errorf("root:\n%s", root)
	}
}
