package bot_test

import (
	"context"
	"fmt"
	"slices"
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

func (f *fakeReleases) Release(_ context.Context, repo, tag string, others ...string) (bot.Release, error) {
	tags := append([]string{tag}, others...)
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, tag := range tags {
		f.asked = append(f.asked, repo+"@"+tag)
		if f.err != nil {
			return bot.Release{}, f.err
		}
		if r, ok := f.releases[repo+"@"+tag]; ok {
			return r, nil
		}
	}
	return bot.Release{}, fmt.Errorf("fake: %s@%s: %w", repo, strings.Join(tags, ","), bot.ErrReleaseNotFound)
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
			[]string{"acme/payments has no published release tagged v2.4.0 (nor 2.4.0 nor V2.4.0) on GitHub.", "Link the right tag with /upgrade link UPG-1 acme/payments <tag>."}},
		{"private without a token", &bot.ReleaseError{Problem: bot.ReleaseNoRepository},
			[]string{"cannot see the GitHub repository acme/payments: it does not exist, or it is private and the bot has no GitHub token (github.token)."}},
		{"private, token without access", &bot.ReleaseError{Problem: bot.ReleaseNoRepository, Token: true},
			[]string{"it is private and the bot's GitHub token cannot read it"}},
		{"token refused", &bot.ReleaseError{Problem: bot.ReleaseDenied, Token: true},
			[]string{"GitHub refused the bot's token", "An operator should check github.token; then /upgrade link UPG-1 acme/payments v2.4.0."}},
		{"rate limited", fmt.Errorf("github: %w", &bot.ReleaseError{Problem: bot.ReleaseRateLimited, ResetAt: reset}),
			[]string{"used up its GitHub rate limit until 2026-11-22 10:20 UTC", "Try again after 2026-11-22 10:20 UTC: /upgrade link UPG-1 acme/payments v2.4.0."}},
		{"rate limited, reset within a minute: the next minute is shown", &bot.ReleaseError{Problem: bot.ReleaseRateLimited, ResetAt: reset.Add(-40 * time.Minute).Add(41 * time.Second)},
			[]string{"used up its GitHub rate limit until 2026-11-22 09:41 UTC", "Try again after 2026-11-22 09:41 UTC"}},
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
			// The thread still hears of the link, as typed and said to be
			// unconfirmed (it must not read as a release GitHub showed);
			// nothing failed.
			notices := f.rec.Kinds(bot.KindLinked)
			if len(notices) != 1 || !strings.Contains(notices[0].Text, "Release linked: acme/payments v2.4.0") || hasSpan(notices[0].Msg, bot.SpanLink) ||
				!strings.Contains(notices[0].Text, "GitHub did not confirm this release, so it is linked as typed") {
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
	for _, n := range f.rec.Kinds(bot.KindLinked) {
		if strings.Contains(n.Text, "did not confirm") {
			t.Errorf("a release found is announced as unconfirmed: %s", n.Text)
		}
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

// TestAVersionWithACapitalVFindsItsLowerCaseRelease: payments V2.4.0 is
// the release tagged v2.4.0 (the release event links it: sameVersion), so
// scheduling links it by itself and link finds it; a V version that has no
// release says every spelling tried.
func TestAVersionWithACapitalVFindsItsLowerCaseRelease(t *testing.T) {
	gh := &fakeReleases{}
	gh.add(bot.Release{Repo: "acme/payments", Tag: "v2.4.0", Name: "Payments 2.4", URL: releasePage("acme/payments", "v2.4.0")})
	f := newReleaseFixture(t, gh, withRepo)
	f.ok(t, "alice", strings.Replace(schedulePayments, "v2.4.0", "V2.4.0", 1))
	u, _ := f.st.Get(context.Background(), 1)
	if u.Release == nil || u.Release.Tag != "v2.4.0" || u.Release.URL != releasePage("acme/payments", "v2.4.0") {
		t.Fatalf("scheduling V2.4.0 linked %+v, want the release tagged v2.4.0", u.Release)
	}
	f.ok(t, "alice", "link UPG-1 acme/payments V2.4.0")
	if u, _ = f.st.Get(context.Background(), 1); u.Release == nil || u.Release.URL != releasePage("acme/payments", "v2.4.0") {
		t.Fatalf("link V2.4.0 linked %+v, want the release tagged v2.4.0", u.Release)
	}
	if told := f.rec.Ops("answer"); len(told) != 0 {
		t.Errorf("a release found under the lower-case v is no problem: %+v", told)
	}
	f.ok(t, "alice", "link UPG-1 acme/payments V9.9.9")
	told := f.rec.Ops("answer")
	if len(told) != 1 || !strings.Contains(told[0].Text, "acme/payments has no published release tagged V9.9.9 (nor v9.9.9 nor 9.9.9) on GitHub.") {
		t.Errorf("answer: %+v", told)
	}
	want := "acme/payments@V2.4.0, acme/payments@v2.4.0, acme/payments@V2.4.0, acme/payments@v2.4.0, acme/payments@V9.9.9, acme/payments@v9.9.9, acme/payments@9.9.9"
	if got := strings.Join(gh.lookups(), ", "); got != want {
		t.Errorf("lookups = %s, want %s", got, want)
	}
}

// TestLinkTakesAPastedReleasePage: the page of a release, copied from
// GitHub, links that release: its repository and its tag.
func TestLinkTakesAPastedReleasePage(t *testing.T) {
	gh := &fakeReleases{}
	gh.add(bot.Release{Repo: "acme/payments", Tag: "v2.4.1", Name: "Payments 2.4.1", URL: releasePage("acme/payments", "v2.4.1")})
	f := newReleaseFixture(t, gh)
	f.ok(t, "alice", schedulePayments)
	r := f.ok(t, "alice", "link UPG-1 https://github.com/acme/payments/releases/tag/v2.4.1")
	if !strings.Contains(lines(r), "Linking acme/payments v2.4.1 to UPG-1") {
		t.Fatalf("reply: %s", lines(r))
	}
	if u, _ := f.st.Get(context.Background(), 1); u.Release == nil || u.Release.Tag != "v2.4.1" || u.Release.URL != releasePage("acme/payments", "v2.4.1") {
		t.Fatalf("release = %+v", u.Release)
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

// withRepo gives payments its GitHub repository.
func withRepo(c *bot.Config) {
	for i := range c.Services {
		if c.Services[i].Name == "payments" {
			c.Services[i].Repo = "acme/payments"
		}
	}
}

func TestSchedulingLinksTheReleaseOfTheVersionByItself(t *testing.T) {
	gh := &fakeReleases{}
	gh.add(bot.Release{Repo: "acme/payments", Tag: "v2.4.0", Name: "Payments 2.4", URL: releasePage("acme/payments", "v2.4.0"), Notes: "- faster"})
	f := newReleaseFixture(t, gh, withRepo)
	r := f.ok(t, "alice", schedulePayments)
	if !strings.Contains(lines(r), "The release acme/payments v2.4.0 is looked up on GitHub and linked when found.") {
		t.Errorf("reply does not say the release is looked up:\n%s", lines(r))
	}
	ctx := context.Background()
	u, _ := f.st.Get(ctx, 1)
	if u.Release == nil || u.Release.Name != "Payments 2.4" || u.Release.URL != releasePage("acme/payments", "v2.4.0") {
		t.Fatalf("release = %+v", u.Release)
	}
	var ops []string
	for _, s := range f.rec.All() {
		if s.Op != "edit" {
			ops = append(ops, s.Op+" "+string(s.Msg.Kind))
		}
	}
	if got, want := strings.Join(ops, ", "), "post root, reply release_linked"; got != want {
		t.Errorf("sent %s, want %s", got, want)
	}
	if n := f.rec.Kinds(bot.KindLinked); len(n) != 1 || !strings.Contains(n[0].Text, "Release linked: acme/payments v2.4.0 (Payments 2.4)") || !strings.Contains(n[0].Text, "• faster") {
		t.Errorf("notice: %+v", n)
	}
	if root := lines(lastRoot(t, f.rec, "test:#payments")); !strings.Contains(root, "Release: acme/payments v2.4.0 (Payments 2.4) ("+releasePage("acme/payments", "v2.4.0")+")") {
		t.Errorf("root:\n%s", root)
	}
	log, _ := f.st.Log(ctx, 1)
	if last := log[len(log)-1]; last.Action != bot.ActionLinked || last.Actor != bot.Upgradebot || last.Tag != "v2.4.0" {
		t.Errorf("decision: %+v", last)
	}
	if got := strings.Join(f.st.EventTypes(), ","); !strings.Contains(got, bot.EventLinked) {
		t.Errorf("events: %s", got)
	}
}

func TestSchedulingLinksNothingWhenTheReleaseIsNotThere(t *testing.T) {
	cases := []struct {
		name string
		err  error
	}{
		{"not out yet", nil},
		{"rate limited", &bot.ReleaseError{Problem: bot.ReleaseRateLimited, ResetAt: t0.Add(time.Hour)}},
		{"GitHub down", &bot.ReleaseError{Problem: bot.ReleaseUnavailable}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			gh := &fakeReleases{err: c.err}
			f := newReleaseFixture(t, gh, withRepo)
			f.ok(t, "alice", schedulePayments)
			if u, _ := f.st.Get(context.Background(), 1); u.Release != nil || len(u.Failures) != 0 {
				t.Errorf("release %+v, failures %+v", u.Release, u.Failures)
			}
			if got := strings.Join(gh.lookups(), ", "); !strings.HasPrefix(got, "acme/payments@v2.4.0") {
				t.Errorf("lookups: %s", got)
			}
			for _, s := range f.rec.All() {
				if s.Op == "answer" || s.Op == "direct" || s.Msg.Kind == bot.KindLinked {
					t.Errorf("an automatic lookup that found nothing said something: %s %s", s.Op, s.Text)
				}
			}
		})
	}
	// A service without a repository is not looked up at all.
	gh := &fakeReleases{}
	f := newReleaseFixture(t, gh, withRepo)
	f.ok(t, "carol", "schedule ledger v9 at 2026-12-01 02:00 UTC")
	if got := gh.lookups(); len(got) != 0 {
		t.Errorf("ledger has no repository, yet: %v", got)
	}
}

func TestAutomaticLinkGivesWayToALinkTyped(t *testing.T) {
	gh := gatedReleases{open: make(chan struct{})}
	st, rec := bottest.NewMemStore(), &bottest.Recorder{}
	cfg := testConfig()
	withRepo(&cfg)
	b := bot.New(bot.Options{Config: cfg, Store: st, Messenger: bot.Router{"test": rec},
		Releases: gh, Now: func() time.Time { return t0 }, RefreshIntervalSet: true})
	t.Cleanup(b.Flush)
	ctx := context.Background()
	for _, cmd := range []string{schedulePayments, "link UPG-1 acme/payments v2.4.0-rc1"} {
		if m := b.Handle(ctx, who("alice"), cmd); m.Kind == bot.KindError {
			t.Fatalf("%s: %s", cmd, lines(m))
		}
	}
	close(gh.open) // the automatic lookup answers only after the link was typed
	b.Flush()
	if got, want := strings.Join(threadOrder(rec), ", "), "release_linked v2.4.0-rc1"; got != want {
		t.Fatalf("thread notices = %s, want %s", got, want)
	}
	if u, _ := st.Get(ctx, 1); u.Release == nil || u.Release.Tag != "v2.4.0-rc1" {
		t.Fatalf("release = %+v", u.Release)
	}
}

func TestAutomaticLinkOfACrashedReplicaIsFinishedByAnother(t *testing.T) {
	ctx := context.Background()
	st, clock := bottest.NewMemStore(), bottest.NewClock(t0)
	gh := &fakeReleases{}
	gh.add(bot.Release{Repo: "acme/payments", Tag: "v2.4.0", Name: "Payments 2.4", URL: releasePage("acme/payments", "v2.4.0")})
	cfg := testConfig()
	withRepo(&cfg)
	stk := &stuck{Messenger: &bottest.Recorder{}, entered: make(chan struct{}, 1), release: make(chan struct{})}
	dead := bot.New(bot.Options{Config: cfg, Store: st, Messenger: bot.Router{"test": stk}, Releases: gh, Now: clock.Now, RefreshIntervalSet: true})
	t.Cleanup(func() { close(stk.release); dead.Flush() })
	if m := dead.Handle(ctx, who("alice"), schedulePayments); m.Kind == bot.KindError {
		t.Fatal(lines(m))
	}
	<-stk.entered // the root post hangs; the replica dies with the lookup still queued
	if n := st.PendingNotices(); n != 2 {
		t.Fatalf("%d notices recorded, want 2 (root, release lookup)", n)
	}
	rec := &bottest.Recorder{}
	live := bot.New(bot.Options{Config: cfg, Store: st, Messenger: bot.Router{"test": rec}, Releases: gh, Now: clock.Now, RefreshIntervalSet: true})
	clock.Advance(bot.RecoverAfter + time.Second)
	if n, err := live.RecoverNotices(ctx); err != nil || n != 2 {
		t.Fatalf("recovered %d notices, want 2 (err %v)", n, err)
	}
	live.Flush()
	if got, want := strings.Join(sentKinds(rec), ", "), "post root, reply release_linked"; got != want {
		t.Fatalf("the live replica sent %s, want %s", got, want)
	}
	if u, _ := st.Get(ctx, 1); u.Release == nil || u.Release.Name != "Payments 2.4" {
		t.Fatalf("release = %+v", u.Release)
	}
}

// published is release v2.5.0 of acme/payments as a release event brings it.
func published(tag string) bot.Release {
	return bot.Release{Repo: "acme/payments", Tag: tag, Name: "Payments " + tag, URL: releasePage("acme/payments", tag),
		At: t0.Add(-time.Minute), Author: "octocat", Notes: "- one\n- two"}
}

func TestReleasePublishedLinksEveryUpgradeToItsVersion(t *testing.T) {
	f := newReleaseFixture(t, nil, withRepo)
	ctx := context.Background()
	f.ok(t, "alice", "schedule payments v2.5.0 at 2026-12-01 02:00 UTC") // UPG-1
	f.ok(t, "alice", "schedule payments 2.5.0 at 2026-12-08 02:00 UTC")  // UPG-2: the same version, written without its v
	f.ok(t, "alice", "schedule payments v2.6.0 at 2026-12-15 02:00 UTC") // UPG-3: another version
	f.ok(t, "alice", "schedule payments V2.5.0 at 2026-12-22 02:00 UTC") // UPG-4: linked by hand to another repository
	f.ok(t, "alice", "link UPG-4 acme/payments-hotfix v2.5.0")
	f.ok(t, "alice", "schedule payments v2.5.0 at 2026-12-29 02:00 UTC") // UPG-5: cancelled
	f.ok(t, "alice", "cancel UPG-5")
	f.ok(t, "alice", "schedule payments v2.5.0 at 2026-12-10 05:00 UTC") // UPG-6: a release candidate linked by hand
	f.ok(t, "alice", "link UPG-6 acme/payments v2.5.0-rc1")
	f.ok(t, "alice", "start UPG-6") // and running
	f.rec.Reset()

	r := published("v2.5.0")
	r.Repo = "Acme/Payments" // GitHub names it as it likes
	n, err := f.b.ReleasePublished(ctx, r)
	f.b.Flush()
	if err != nil || n != 3 {
		t.Fatalf("linked %d upgrades (err %v), want 3", n, err)
	}
	for id, want := range map[int]string{1: "v2.5.0", 2: "v2.5.0", 3: "", 4: "v2.5.0", 5: "", 6: "v2.5.0"} {
		u, _ := f.st.Get(ctx, id)
		got := ""
		if u.Release != nil {
			got = u.Release.Tag
			if id == 4 && u.Release.Repo != "acme/payments-hotfix" {
				t.Errorf("UPG-4's release of another repository was replaced: %+v", u.Release)
			}
		}
		if got != want {
			t.Errorf("UPG-%d release tag %q, want %q", id, got, want)
		}
	}
	var threads []string
	for _, s := range f.rec.Kinds(bot.KindLinked) {
		threads = append(threads, s.Msg.UpgradeID)
		if miss, ok := contains(s.Text, "Release linked: Acme/Payments v2.5.0 (Payments v2.5.0) ("+releasePage("acme/payments", "v2.5.0")+")", "Published 2026-11-22 09:59 UTC by octocat.", "• one"); !ok {
			t.Errorf("notice lacks %q:\n%s", miss, s.Text)
		}
	}
	slices.Sort(threads) // each upgrade's notices go out in its own order
	if got := strings.Join(threads, " "); got != "UPG-1 UPG-2 UPG-6" {
		t.Errorf("notices in the threads of %s", got)
	}
	if out := f.rec.Kinds(bot.KindReleaseOut); len(out) != 0 {
		t.Errorf("upgrades to the version exist, yet: %+v", out)
	}
	log, _ := f.st.Log(ctx, 1)
	if last := log[len(log)-1]; last.Action != bot.ActionLinked || last.Actor != bot.Upgradebot {
		t.Errorf("decision: %+v", last)
	}

	// The same release again (GitHub's "released" after "published", a
	// redelivery) changes nothing.
	f.rec.Reset()
	if n, err := f.b.ReleasePublished(ctx, r); err != nil || n != 0 {
		t.Fatalf("again: linked %d (err %v)", n, err)
	}
	f.b.Flush()
	if all := f.rec.All(); len(all) != 0 {
		t.Errorf("the same release again sent %d messages", len(all))
	}
	// So does the same release under another name (renamed since it was
	// linked): its page, tag and kind are the same, so it is no news.
	renamed := r
	renamed.Name, renamed.Notes = "Payments 2.5.0 (final)", "- one"
	if n, err := f.b.ReleasePublished(ctx, renamed); err != nil || n != 0 {
		t.Fatalf("renamed: linked %d (err %v)", n, err)
	}
	f.b.Flush()
	if all := f.rec.All(); len(all) != 0 {
		t.Errorf("the same release renamed sent %d messages", len(all))
	}
}

func TestReleasePublishedWithNoUpgradeSaysItIsOut(t *testing.T) {
	f := newReleaseFixture(t, nil, withRepo, func(c *bot.Config) {
		c.Services[1].Channels = []string{"test:#payments", "other:#pay"}
	})
	ctx := context.Background()
	f.ok(t, "alice", "schedule payments v2.4.0 at 2026-12-01 02:00 UTC")
	f.rec.Reset()
	n, err := f.b.ReleasePublished(ctx, published("v2.5.0"))
	if err != nil || n != 0 {
		t.Fatalf("linked %d (err %v)", n, err)
	}
	f.b.Flush() // posted in the background, the platforms side by side
	out := f.rec.Kinds(bot.KindReleaseOut)
	slices.SortFunc(out, func(a, b bottest.Sent) int { return strings.Compare(b.To, a.To) })
	if len(out) != 2 || out[0].Op != "post" || out[0].To != "test:#payments" || out[1].To != "other:#pay" {
		t.Fatalf("posts: %+v", out)
	}
	want := "📦 acme/payments v2.5.0 (Payments v2.5.0) (" + releasePage("acme/payments", "v2.5.0") + ") is out, published 2026-11-22 09:59 UTC by octocat.\n" +
		"No upgrade of payments to v2.5.0 is planned yet; to plan one: /upgrade schedule payments v2.5.0 at <time>\n" +
		"• one\n• two"
	if out[0].Text != want {
		t.Errorf("post:\n%s\nwant:\n%s", out[0].Text, want)
	}
	// The command is a hint, so each platform writes it its own way.
	var h *bot.Hint
	for _, s := range out[0].Msg.Lines[1] {
		if s.Kind == bot.SpanCommand {
			h = s.Hint
		}
	}
	if h == nil || h.Verb != "schedule" || len(h.Args) != 3 || h.Args[0] != (bot.Arg{Name: "service", Value: "payments"}) ||
		h.Args[1] != (bot.Arg{Name: "version", Value: "v2.5.0"}) || h.Args[2].Keyword != "at" || h.Args[2].Value != "" {
		t.Errorf("hint: %+v", h)
	}

	// A pre-release, or a repository no service has, says nothing.
	f.rec.Reset()
	pre := published("v2.6.0-rc1")
	pre.Prerelease = true
	other := published("v2.5.0")
	other.Repo = "acme/unknown"
	for _, r := range []bot.Release{pre, other} {
		if n, err := f.b.ReleasePublished(ctx, r); err != nil || n != 0 {
			t.Fatalf("%s %s: linked %d (err %v)", r.Repo, r.Tag, n, err)
		}
	}
	f.b.Flush()
	if all := f.rec.All(); len(all) != 0 {
		t.Errorf("sent %+v", all)
	}
}

func TestReleaseOutThatCannotBePostedIsCounted(t *testing.T) {
	obs := &observed{}
	cfg := testConfig()
	withRepo(&cfg)
	f := &fixture{st: bottest.NewMemStore(), rec: &bottest.Recorder{}, clock: bottest.NewClock(t0)}
	f.b = bot.New(bot.Options{Config: cfg, Store: f.st, Messenger: bot.Router{"test": f.rec, "other": f.rec},
		Now: f.clock.Now, RefreshIntervalSet: true, Observer: obs})
	t.Cleanup(f.b.Flush)
	f.rec.Fail("test:#payments", fmt.Errorf("channel_not_found"))
	if _, err := f.b.ReleasePublished(context.Background(), published("v2.5.0")); err != nil {
		t.Fatal(err)
	}
	f.b.Flush()
	if got := obs.take(); !slices.Contains(got, "notice release_out failed") {
		t.Errorf("failures counted: %v", got)
	}
}

// WatchesRepo says whether ReleasePublished acts on a repository's
// releases: a service's repo, in any case; not another one, nor "".
func TestWatchesRepoIsAServicesRepoInAnyCase(t *testing.T) {
	f := newReleaseFixture(t, nil, withRepo)
	for repo, want := range map[string]bool{"acme/payments": true, "ACME/Payments": true, "acme/other": false, "acme": false, "": false} {
		if got := f.b.WatchesRepo(repo); got != want {
			t.Errorf("WatchesRepo(%q) = %v, want %v", repo, got, want)
		}
	}
	if f := newReleaseFixture(t, nil); f.b.WatchesRepo("acme/payments") {
		t.Error("without a repo configured, acme/payments is watched")
	}
}

// TestReleaseNewsSaysWhetherAReleaseWouldBeActedOn: ReleaseNews answers
// what ReleasePublished would do, so a webhook can answer 204 for a
// release that is no news.
func TestReleaseNewsSaysWhetherAReleaseWouldBeActedOn(t *testing.T) {
	f := newReleaseFixture(t, nil, withRepo)
	ctx := context.Background()
	f.ok(t, "alice", "schedule payments v2.5.0 at 2026-12-01 02:00 UTC") // UPG-1
	pre := func(tag string) bot.Release { r := published(tag); r.Prerelease = true; return r }
	other := published("v2.5.0")
	other.Repo = "acme/unknown"
	for _, c := range []struct {
		name string
		r    bot.Release
		news bool
	}{
		{"a release an upgrade plans", published("v2.5.0"), true},
		{"a release nobody plans is announced", published("v2.7.0"), true},
		{"a pre-release an upgrade plans", pre("v2.5.0"), true},
		{"a pre-release nobody plans", pre("v2.6.0-rc1"), false},
		{"a repository no service has", other, false},
	} {
		news, err := f.b.ReleaseNews(ctx, c.r)
		if err != nil || news != c.news {
			t.Errorf("%s: news %v (err %v), want %v", c.name, news, err, c.news)
		}
	}
	// Once linked, the same release is no news; a promotion is.
	if n, err := f.b.ReleasePublished(ctx, pre("v2.5.0")); err != nil || n != 1 {
		t.Fatalf("linked %d (err %v)", n, err)
	}
	if news, err := f.b.ReleaseNews(ctx, pre("v2.5.0")); err != nil || news {
		t.Errorf("the pre-release linked already: news %v (err %v)", news, err)
	}
	if news, err := f.b.ReleaseNews(ctx, published("v2.5.0")); err != nil || !news {
		t.Errorf("the release promoted: news %v (err %v)", news, err)
	}
}

// A refresh that would write the root again as it is edits nothing (QA:
// link edited the root twice with identical content: once for the link,
// once more when nothing it shows had changed); one that changes it still
// goes out.
func TestARefreshThatChangesNothingEditsNothing(t *testing.T) {
	// GitHub does not know the release (as in the console): it is linked
	// as typed, and the lookup's end changes nothing the root shows.
	f := newReleaseFixture(t, &fakeReleases{err: fmt.Errorf("fake: %w", bot.ErrReleaseNotFound)})
	f.ok(t, "alice", schedulePayments)
	f.rec.Reset()
	f.ok(t, "alice", "link 1 acme/checkout")
	edits := f.rec.Ops("edit")
	if len(edits) != 1 || !strings.Contains(edits[0].Text, "Release: acme/checkout v2.4.0") {
		t.Fatalf("want one edit of the root showing the release, got %d: %+v", len(edits), edits)
	}
	// An acknowledgment changes what the root shows: it is edited.
	f.rec.Reset()
	pressAs(f.b, context.Background(), bot.Actor{ID: "test:UBOB", Name: "bob"}, "1", "brief")
	f.b.Flush()
	if edits := f.rec.Ops("edit"); len(edits) != 1 || !strings.Contains(edits[0].Text, "Acknowledged 1/3") {
		t.Fatalf("the press: %+v", edits)
	}
	// Linked again as it is, nothing the root shows changes.
	f.rec.Reset()
	f.ok(t, "alice", "link 1 acme/checkout")
	if edits := f.rec.Ops("edit"); len(edits) != 0 {
		t.Fatalf("the same link again edited the root %d times", len(edits))
	}
}
