package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/commands"
)

// The page counts as the status API does: a scheduled upgrade whose window
// ended without a start is not running but ended (never started); a
// cancelled one is placed by its window, one whose window is still ahead
// counted on its own, not among those that ended.
func TestPageCountsByWindowAndState(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	dir := bot.NewDirectory(bot.Config{Services: []bot.Service{{Name: "checkout", Owners: []string{"alice"}}},
		People: []bot.Person{{Name: "alice", IDs: []string{"slack:U0ALICE"}}}})
	day := 24 * time.Hour
	up := func(id int, st bot.State, start time.Time, d time.Duration) *bot.Upgrade {
		u := &bot.Upgrade{ID: id, Service: "checkout", Version: "v" + string(rune('0'+id)), State: st, Start: start, End: start.Add(d),
			Owners: []string{"alice"}, CreatedBy: "alice", CreatedAt: now.Add(-10 * day), UpdatedAt: now.Add(-10 * day), Rev: 1}
		if st != bot.Scheduled && st != bot.Cancelled {
			u.StartedAt = start
		}
		if st == bot.Completed {
			u.FinishedAt = start.Add(d)
		}
		return u
	}
	c := &fakeCore{dir: dir, now: now, ups: []*bot.Upgrade{
		up(1, bot.Scheduled, time.Date(2026, 11, 27, 11, 0, 0, 0, time.UTC), time.Hour), // never started, ended 3 days ago
		up(2, bot.InProgress, now.Add(-time.Hour), 2*time.Hour),
		up(3, bot.Scheduled, now.Add(-time.Hour), 2*time.Hour), // inside its window
		up(4, bot.Scheduled, now.Add(day), time.Hour),
		up(5, bot.Cancelled, now.Add(day), time.Hour), // cancelled, its window tomorrow
		up(6, bot.Completed, now.Add(-day), time.Hour),
		up(7, bot.Cancelled, now.Add(-2*day), time.Hour), // cancelled, its window over
	}}
	page := fetch(t, serveCore(t, c), "/")
	for _, want := range []string{">2 running<", ">1 upcoming in 30 days<", ">3 ended in the last 7 days<", ">1 cancelled ahead<",
		`<span class="state missed">ended, never started</span>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q:\n%s", want, page)
		}
	}
	if n := strings.Count(page, `<span class="state scheduled">`); n != 2 {
		t.Errorf("%d rows say scheduled, want 2 (UPG-3 and UPG-4)", n)
	}
	// Without a cancelled window ahead, no such pill.
	c.ups = c.ups[:4]
	if page := fetch(t, serveCore(t, c), "/"); strings.Contains(page, "cancelled ahead") || !strings.Contains(page, ">1 ended in the last 7 days<") {
		t.Errorf("the page's counts without cancellations:\n%s", page)
	}
}

// An acknowledgment is a change the API tells of: updated_at is the later
// of the upgrade's last change and its latest acknowledgment. revision
// counts the changes of the upgrade itself, which an acknowledgment is
// not; the calendar's event does not show acknowledgments, so its DTSTAMP
// and LAST-MODIFIED stay those of the upgrade.
func TestAcknowledgmentMovesUpdatedAt(t *testing.T) {
	c := readinessCore() // UPG-1 last changed 07:30
	srv := serveCore(t, c)
	before := fetch(t, srv, "/api/v1/upgrades/UPG-1")
	if !strings.Contains(before, `"revision":5`) || !strings.Contains(before, `"updated_at":"2026-11-30T07:30:00Z"`) {
		t.Fatalf("before the ack:\n%s", before)
	}
	c.acks = map[int][]bot.Ack{1: {{Scope: bot.ScopeBrief, Who: "alice", Via: "slack:U0ALICE", At: c.now.Add(-10 * time.Minute)}}}
	after := fetch(t, srv, "/api/v1/upgrades/UPG-1")
	if !strings.Contains(after, `"updated_at":"2026-11-30T07:50:00Z"`) || !strings.Contains(after, `"revision":5`) || !strings.Contains(after, `"entries":[{"who":{"key":"alice"`) {
		t.Errorf("after an ack at 07:50, updated_at is not 07:50 (or revision moved):\n%s", after)
	}
	list := fetch(t, srv, "/api/v1/upgrades")
	if !strings.Contains(list, `"updated_at":"2026-11-30T07:50:00Z"`) {
		t.Errorf("the list's UPG-1 is not updated at 07:50:\n%s", list)
	}
	// An ack older than the upgrade's last change does not move it back.
	c.acks[1][0].At = c.now.Add(-2 * time.Hour)
	if again := fetch(t, srv, "/api/v1/upgrades/UPG-1"); !strings.Contains(again, `"updated_at":"2026-11-30T07:30:00Z"`) {
		t.Errorf("an ack older than the last change moved updated_at:\n%s", again)
	}
	c.acks[1][0].At = c.now.Add(-10 * time.Minute)
	cal := fetch(t, srv, "/calendar.ics")
	if !strings.Contains(cal, "UID:upgrade-1@upgrades.example.com\r\nSEQUENCE:") || !strings.Contains(cal, "DTSTAMP:20261130T073000Z\r\nLAST-MODIFIED:20261130T073000Z\r\n") {
		t.Errorf("the calendar's event of UPG-1 moved with the ack:\n%s", cal)
	}
}

// freezeCore is a fakeCore with freezes (Windows).
type freezeCore struct {
	*fakeCore
	freezes []bot.Freeze
}

func (c *freezeCore) Windows(context.Context, string, int) (bot.WindowsReport, error) {
	return bot.WindowsReport{}, nil
}

func (c *freezeCore) Freezes(context.Context, bool) ([]bot.Freeze, error) { return c.freezes, nil }

// Each service's track on the status page shows only the freezes that hold
// for it: one declared for payments and checkout is not drawn on ledger's,
// one for every service is on every track.
func TestServiceTracksShowOnlyTheirFreezes(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	tue := commands.Window{Day: time.Tuesday, Start: 2 * 60, End: 5 * 60, Loc: time.UTC}
	dir := bot.NewDirectory(bot.Config{
		Services: []bot.Service{{Name: "ledger", Windows: []commands.Window{tue}}, {Name: "payments", Windows: []commands.Window{tue}}},
	})
	c := &freezeCore{fakeCore: &fakeCore{dir: dir, now: now}, freezes: []bot.Freeze{
		{Name: "black-friday", From: now.Add(24 * time.Hour), To: now.Add(4 * 24 * time.Hour), Services: []string{"payments", "checkout"}},
		{Name: "year-end", From: now.Add(30 * time.Hour), To: now.Add(10 * 24 * time.Hour)},
	}}
	page := fetch(t, serve(t, New(Options{Core: c, Tokens: []string{"tok"}, Public: true})), "/")
	track := func(svc string) string {
		_, rest, ok := strings.Cut(page, `title="Standard windows of `+svc+`"`)
		track, _, _ := strings.Cut(rest, `<p class="bandnote">`)
		if !ok {
			t.Fatalf("no track of %s's standard windows:\n%s", svc, page)
		}
		return track
	}
	if ledger := track("ledger"); strings.Contains(ledger, "Change freeze black-friday") || !strings.Contains(ledger, "Change freeze year-end") {
		t.Errorf("ledger's track should show year-end and not black-friday (payments, checkout):\n%s", ledger)
	}
	if payments := track("payments"); !strings.Contains(payments, "Change freeze black-friday") || !strings.Contains(payments, "Change freeze year-end") {
		t.Errorf("payments' track should show both freezes:\n%s", payments)
	}
}

// A page narrowed to a service (and region) says so in its title, links to
// all windows, and its calendar and feed links keep the filter (and the
// token it was opened with): a team that bookmarks its own page subscribes
// to its own calendar.
func TestAFilteredPageSaysSoAndItsLinksKeepTheFilter(t *testing.T) {
	srv := serve(t, New(Options{Core: readinessCore(), Tokens: []string{"tok"}, Public: false}))
	code, _, body := call(t, srv, http.MethodGet, "/?service=payments&region=eu-west&token=tok")
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	for _, want := range []string{
		"<h1>Upgrade windows of payments in eu-west</h1>",
		`href="/?token=tok">See all upgrade windows`,
		`href="/calendar.ics?region=eu-west&amp;service=payments&amp;token=tok"`,
		`href="/feed.atom?region=eu-west&amp;service=payments&amp;token=tok"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the filtered page lacks %s", want)
		}
	}
	code, _, body = call(t, srv, http.MethodGet, "/?token=tok")
	if code != http.StatusOK || !strings.Contains(body, "<h1>Upgrade windows</h1>") || strings.Contains(body, "See all upgrade windows") ||
		!strings.Contains(body, `href="/calendar.ics?token=tok"`) {
		t.Errorf("the whole page: %d %s", code, body)
	}
}

// A request let in by its header that also carries a ?token= that is not
// accepted does not spread that token into its links (nor the feed's).
func TestARefusedQueryTokenIsNotCarriedIntoLinks(t *testing.T) {
	srv := serve(t, New(Options{Core: readinessCore(), Tokens: []string{"tok"}, Public: false}))
	for _, path := range []string{"/?token=bad-guess", "/feed.atom?token=bad-guess"} {
		code, _, body := call(t, srv, http.MethodGet, path, "Authorization", "Bearer tok")
		if code != http.StatusOK || strings.Contains(body, "bad-guess") {
			t.Errorf("%s: %d, the answer carries the refused token:\n%s", path, code, body)
		}
	}
}

// Each row of the status page says what users will notice (the impact), so
// that someone on call sees it without opening the upgrade; it is people's
// text, escaped.
func TestPageRowsShowTheImpact(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	dir := bot.NewDirectory(bot.Config{Services: []bot.Service{{Name: "checkout", Owners: []string{"alice"}}},
		People: []bot.Person{{Name: "alice", IDs: []string{"slack:U0ALICE"}}}})
	u := &bot.Upgrade{ID: 1, Service: "checkout", Version: "v1", State: bot.Scheduled, Start: now.Add(time.Hour), End: now.Add(2 * time.Hour),
		Impact: `<script>alert(1)</script> card payments may fail`, Owners: []string{"alice"}, CreatedBy: "alice", CreatedAt: now, UpdatedAt: now, Rev: 1}
	page := fetch(t, serveCore(t, &fakeCore{dir: dir, now: now, ups: []*bot.Upgrade{u}}), "/")
	if !strings.Contains(page, `<span class="impact">Impact: &lt;script&gt;alert(1)&lt;/script&gt; card payments may fail</span>`) {
		t.Errorf("the row does not show the impact, escaped:\n%s", page)
	}
	if strings.Contains(page, "<script>alert") {
		t.Errorf("the impact is not escaped:\n%s", page)
	}
}

// An upgrade nobody has acknowledged yet has no empty list of
// acknowledgments, which a screen reader would announce as "list, 0 items".
func TestUpgradePageWithoutAcksHasNoEmptyList(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	dir := bot.NewDirectory(bot.Config{Services: []bot.Service{{Name: "checkout", Owners: []string{"alice"}}},
		People: []bot.Person{{Name: "alice", IDs: []string{"slack:U0ALICE"}}}})
	u := &bot.Upgrade{ID: 1, Service: "checkout", Version: "v1", State: bot.Scheduled, Start: now.Add(time.Hour), End: now.Add(2 * time.Hour),
		Owners: []string{"alice"}, CreatedBy: "alice", CreatedAt: now, UpdatedAt: now, Rev: 1}
	page := fetch(t, serveCore(t, &fakeCore{dir: dir, now: now, ups: []*bot.Upgrade{u}}), "/upgrades/1")
	if !strings.Contains(page, "<h2>Acknowledgments</h2>") {
		t.Fatalf("the page has no acknowledgments section:\n%s", page)
	}
	if strings.Contains(page, `<ul class="acklist"></ul>`) {
		t.Errorf("the page has an empty list of acknowledgments:\n%s", page)
	}
}

// With nothing to show, the page says so and draws no empty timeline under
// the words (an axis with "now" on it and nothing on it reads as broken).
func TestEmptyPageSaysSoWithoutAnEmptyTimeline(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	dir := bot.NewDirectory(bot.Config{Services: []bot.Service{{Name: "checkout", Owners: []string{"alice"}}},
		People: []bot.Person{{Name: "alice", IDs: []string{"slack:U0ALICE"}}}})
	page := fetch(t, serveCore(t, &fakeCore{dir: dir, now: now}), "/")
	if !strings.Contains(page, "No upgrade windows from 7 days ago to 30 days ahead.") {
		t.Fatalf("the empty page does not say so:\n%s", page)
	}
	if strings.Contains(page, `class="axis"`) {
		t.Errorf("the empty page draws an empty timeline:\n%s", page)
	}
}
