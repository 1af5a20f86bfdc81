package bot

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/upgradebot/upgradebot/commands"
)

// RecentWindow is how far back `list all` looks for finished upgrades.
const RecentWindow = 30 * 24 * time.Hour

func (b *Bot) list(ctx context.Context, c commands.List) (Message, error) {
	f := Filter{States: []State{Scheduled, InProgress}}
	if c.Service != "" {
		svc, err := b.service(c.Service)
		if err != nil {
			return Message{}, err
		}
		f.Service = svc.Name
	}
	if c.All {
		f.States = nil
		f.From = b.now().Add(-RecentWindow)
	}
	us, err := b.store.List(ctx, f)
	if err != nil {
		return Message{}, fmt.Errorf("list upgrades: %w", err)
	}
	if len(us) == 0 {
		of := ""
		if f.Service != "" {
			of = " of " + f.Service
		}
		if c.All {
			return reply(T("No upgrades" + of + " in the last 30 days or ahead.")), nil
		}
		return reply(T("No upcoming or running upgrades" + of + ". Plan one with ").Code("/upgrade schedule <service> <version> at <time>").Add(".")), nil
	}
	heading := "Upcoming and running upgrades"
	if c.All {
		heading = "Upgrades of the last 30 days and ahead"
	}
	if f.Service != "" {
		heading += " of " + f.Service
	}
	m := reply()
	m.Title = heading
	for _, u := range us {
		m.Lines = append(m.Lines, T("• ").Bold(u.Title()).Add(" · "+string(u.State)+" · ").Time(u.Start).Add(" to ").Time(u.End))
	}
	return m, nil
}

func (b *Bot) show(ctx context.Context, id int) (Message, error) {
	u, acks, err := b.getWithAcks(ctx, id)
	if err != nil {
		return Message{}, err
	}
	root := b.dir.Root(u, acks)
	m := reply()
	m.Title, m.Fields, m.UpgradeID = root.Title, root.Fields, u.Key()
	m.Lines = append(m.Lines, root.Lines[0])
	for _, scope := range []string{ScopeBrief, ScopeRollback} {
		for _, e := range b.dir.Acked(acks, scope) {
			line := T("• " + scope + ": ").Mention(e.Who)
			switch {
			case len(e.For) > 0:
				line = line.Add(" (for ").Mentions(e.For).Add(")")
			case !slices.Contains(u.Audience, e.Who.Key):
				line = line.Add(" (not in the audience)")
			}
			m.Lines = append(m.Lines, line.Add(" at ").Time(e.At))
		}
	}
	if u.Reason != "" {
		m.Lines = append(m.Lines, T("Reason: "+u.Reason))
	}
	if u.Note != "" {
		m.Lines = append(m.Lines, T("Note: "+u.Note))
	}
	for _, t := range u.Threads {
		line := T("Thread in ").Channel(t.Channel)
		if t.URL != "" {
			line = line.Add(" · ").Link("open", t.URL)
		}
		m.Lines = append(m.Lines, line)
	}
	for _, f := range u.Failures {
		m.Lines = append(m.Lines, T("⚠ Failed delivery of "+f.Notice+" to ").Channel(f.Target).Add(" at ").Time(f.At).Add(": "+f.Error))
	}
	return m, nil
}

func (b *Bot) getWithAcks(ctx context.Context, id int) (*Upgrade, []Ack, error) {
	u, err := b.get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	acks, err := b.store.Acks(ctx, id)
	if err != nil {
		return nil, nil, fmt.Errorf("load acks of %s: %w", u.Key(), err)
	}
	return u, acks, nil
}

func (b *Bot) pending(ctx context.Context, id int) (Message, error) {
	u, acks, err := b.getWithAcks(ctx, id)
	if err != nil {
		return Message{}, err
	}
	st := b.dir.Status(u, acks, u.CurrentScope())
	what := "the pre-brief"
	if st.Scope == ScopeRollback {
		what = "the rollback alert"
	}
	if u.State == Completed || u.State == Cancelled {
		return reply(T(fmt.Sprintf("%s is %s; no acknowledgment is needed any more (%d of %d acknowledged %s).",
			u.Key(), u.State, len(st.Acked), st.Total, what))), nil
	}
	if len(st.Pending) == 0 {
		return reply(T(fmt.Sprintf("Everyone has acknowledged %s of %s (%d/%d).", what, u.Key(), len(st.Acked), st.Total))), nil
	}
	return reply(T(fmt.Sprintf("%d of %d have not acknowledged %s of %s: ", len(st.Pending), st.Total, what, u.Key())).Mentions(st.Pending)), nil
}

func (b *Bot) decisionLog(ctx context.Context, id int) (Message, error) {
	u, err := b.get(ctx, id)
	if err != nil {
		return Message{}, err
	}
	log, err := b.store.Log(ctx, id)
	if err != nil {
		return Message{}, fmt.Errorf("load log of %s: %w", u.Key(), err)
	}
	m := reply()
	m.Title = "Decision log of " + u.Title()
	for _, d := range log {
		line := Text{}.Time(d.At).Add(" · " + b.dir.Principal(d.Actor).Name + " · " + d.Action)
		if d.Detail != "" {
			line = append(line.Add(" · "), detailText(d.Detail)...)
		}
		if d.Reason != "" {
			line = line.Add(" · why: " + d.Reason)
		}
		m.Lines = append(m.Lines, line)
	}
	return m, nil
}

// logTime matches the RFC 3339 instants the log keeps in its details.
var logTime = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)`)

// detailText shows a log detail with its instants as times people read
// (in each reader's zone where the platform can), not as RFC 3339.
func detailText(s string) Text {
	var t Text
	last := 0
	for _, loc := range logTime.FindAllStringIndex(s, -1) {
		at, err := time.Parse(time.RFC3339, s[loc[0]:loc[1]])
		if err != nil {
			continue
		}
		t = t.Add(s[last:loc[0]]).Time(at)
		last = loc[1]
	}
	return t.Add(s[last:])
}

var repoShape = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)

func (b *Bot) link(ctx context.Context, inv Invocation, c commands.Link) (Message, error) {
	if !repoShape.MatchString(c.Repo) {
		return Message{}, Errorf(EINVALID, "%q is not a GitHub repository; write it as owner/name.", c.Repo)
	}
	var tag string
	u, err := b.transition(ctx, inv, c.ID, "link a release to", func(u *Upgrade) error { return nil }, func(u *Upgrade) Decision {
		tag = c.Tag
		if tag == "" {
			tag = u.Version
		}
		u.Release = &Release{Repo: c.Repo, Tag: tag, URL: ReleaseURL(c.Repo, tag)}
		return Decision{Action: "release_linked", Detail: c.Repo + " " + tag}
	})
	if err != nil {
		return Message{}, err
	}
	actor := b.dir.KeyOf(inv.Actor.ID)
	// The lookup and the notice run inside one outbox task of the upgrade, so
	// notices of later commands queue behind this one and the thread reads in
	// command order; the lookup is bounded so a slow GitHub cannot stall them.
	who, ch := invokerOf(&inv)
	b.enqueueNotice(ctx, PendingNotice{Kind: PendingLink, Upgrade: u.ID, Invoker: who, Channel: ch, Repo: c.Repo, Tag: tag, Actor: actor},
		b.linkTask(u.Clone(), c.Repo, tag, actor, &inv)) // the task's own copy; u is still read below
	return reply(T("📦 Linked ").Link(c.Repo+" "+tag, ReleaseURL(c.Repo, tag)).Add(" to ").Bold(u.Title()).Add(".")), nil
}

// ReleaseURL is GitHub's page of a release by tag.
func ReleaseURL(repo, tag string) string {
	return "https://github.com/" + repo + "/releases/tag/" + strings.ReplaceAll(tag, " ", "%20")
}

// LinkRelease attaches a release found outside a command (a GitHub release
// event) to an upgrade and announces it in the thread.
func (b *Bot) LinkRelease(ctx context.Context, id int, r Release, actor string) error {
	u, err := b.mutate(ctx, id, func(u *Upgrade) (Decision, error) {
		u.Release = &r
		return Decision{At: b.now().UTC(), Actor: actor, Action: "release_linked", Detail: r.Repo + " " + r.Tag}, nil
	})
	if err != nil {
		return err
	}
	b.emit(ctx, u, EventLinked, actor, map[string]any{"repo": r.Repo, "tag": r.Tag, "url": r.URL})
	b.refreshRoot(u.ID)
	b.notifyThreads(ctx, u.ID, b.dir.Linked(u), nil)
	return nil
}

// linkTask looks up the release repo/tag linked to the upgrade (linked is
// its state right after the link), saves what it found and announces it.
func (b *Bot) linkTask(linked *Upgrade, repo, tag, actor string, inv *Invocation) func(context.Context) {
	return func(ctx context.Context) {
		errSuperseded := errors.New("a later link replaced the release")
		if b.releases != nil {
			lctx, cancel := context.WithTimeout(ctx, b.releaseTimeout)
			r, err := b.releases.Release(lctx, repo, tag)
			cancel()
			if err != nil {
				b.log.WarnContext(ctx, "release lookup failed; linking the conventional release URL", "upgrade", linked.Key(), "repo", repo, "tag", tag, "err", err)
			} else if nu, err := b.mutate(ctx, linked.ID, func(x *Upgrade) (Decision, error) {
				if x.Release == nil || x.Release.Repo != repo || x.Release.Tag != tag {
					return Decision{}, errSuperseded // a later link won meanwhile
				}
				x.Release = &r
				return Decision{}, nil
			}); err == nil {
				linked = nu
			} else if !errors.Is(err, errSuperseded) {
				b.log.WarnContext(ctx, "saving the looked-up release failed", "upgrade", linked.Key(), "err", err)
			}
		}
		rel := linked.Release
		b.emit(ctx, linked, EventLinked, actor, map[string]any{"repo": rel.Repo, "tag": rel.Tag, "url": rel.URL})
		b.refreshRoot(linked.ID)
		b.notifyNow(ctx, linked.ID, b.dir.Linked(linked), inv)
	}
}
