package bot

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/upgradebot/upgradebot/commands"
)

var repoShape = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)

func (b *Bot) link(ctx context.Context, inv Invocation, c commands.Link) (Message, error) {
	if !repoShape.MatchString(c.Repo) {
		return Message{}, Errorf(EINVALID, "%q is not a GitHub repository; write it as owner/name.", c.Repo)
	}
	actor := b.dir.KeyOf(inv.Actor.ID)
	var (
		tag string
		d   Decision
	)
	u, err := change(ctx, b.store, b.now, c.ID, func(u *Upgrade) (Decision, error) {
		if err := b.authorize(inv, u.Service, "link a release to", u.Key()); err != nil {
			return Decision{}, err
		}
		tag = c.Tag
		if tag == "" {
			tag = u.Version
		}
		u.Release = &Release{Repo: c.Repo, Tag: tag, URL: ReleaseURL(c.Repo, tag)}
		d = Decision{At: b.now().UTC(), Actor: actor, Action: ActionLinked, Repo: c.Repo, Tag: tag,
			Event: b.ev.event(ctx, u, EventLinked, actor, map[string]any{"repo": c.Repo, "tag": tag, "url": u.Release.URL})}
		return d, nil
	})
	if err != nil {
		return Message{}, err
	}
	b.ev.written(u, d.Event)
	// The lookup and the notice run inside one outbox task of the upgrade, so
	// notices of later commands queue behind this one and the thread reads in
	// command order; the lookup is bounded so a slow GitHub cannot stall them.
	b.out.enqueue(ctx, PendingNotice{Kind: PendingLink, Upgrade: u.ID, Invoker: inv.invoker(), Repo: c.Repo, Tag: tag, Actor: actor}, b.linkTask)
	return reply(T("📦 Linked ").Link(c.Repo+" "+tag, ReleaseURL(c.Repo, tag)).Add(" to ").Bold(u.Title()).Add(".")), nil
}

// ReleaseURL is GitHub's page of a release by tag.
func ReleaseURL(repo, tag string) string {
	return "https://github.com/" + repo + "/releases/tag/" + strings.ReplaceAll(tag, " ", "%20")
}

// LinkRelease attaches a release found outside a command (a GitHub release
// event) to an upgrade and announces it in the thread.
func (b *Bot) LinkRelease(ctx context.Context, id int, r Release, actor string) error {
	var d Decision
	u, err := change(ctx, b.store, b.now, id, func(u *Upgrade) (Decision, error) {
		u.Release = &r
		d = Decision{At: b.now().UTC(), Actor: actor, Action: ActionLinked, Repo: r.Repo, Tag: r.Tag,
			Event: b.ev.event(ctx, u, EventLinked, actor, map[string]any{"repo": r.Repo, "tag": r.Tag, "url": r.URL})}
		return d, nil
	})
	if err != nil {
		return err
	}
	b.ev.written(u, d.Event)
	b.out.refreshRoot(u.ID)
	b.out.notify(ctx, u.ID, b.dir.Linked(u), nil)
	return nil
}

// linkTask looks up the release n.Repo/n.Tag linked to the upgrade, saves
// what it found (unless a later link replaced it meanwhile) and announces
// it in the threads. Every link is announced, in command order.
func (b *Bot) linkTask(ctx context.Context, n PendingNotice) error {
	u, err := b.store.Get(ctx, n.Upgrade)
	if err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return nil
		}
		return err
	}
	rel := Release{Repo: n.Repo, Tag: n.Tag, URL: ReleaseURL(n.Repo, n.Tag)}
	if b.releases != nil {
		lctx, cancel := context.WithTimeout(ctx, b.releaseTimeout)
		r, err := b.releases.Release(lctx, n.Repo, n.Tag)
		cancel()
		if err != nil {
			b.log.WarnContext(ctx, "release lookup failed; linking the release as typed", "upgrade", u.Key(), "repo", n.Repo, "tag", n.Tag, "err", err)
		} else {
			rel = r
			errSuperseded := errors.New("a later link replaced the release")
			nu, err := change(ctx, b.store, b.now, u.ID, func(x *Upgrade) (Decision, error) {
				if x.Release == nil || x.Release.Repo != n.Repo || x.Release.Tag != n.Tag {
					return Decision{}, errSuperseded // a later link won meanwhile
				}
				x.Release = &r
				return Decision{}, nil
			})
			if err == nil {
				u = nu
			} else if !errors.Is(err, errSuperseded) {
				b.log.WarnContext(ctx, "saving the looked-up release failed", "upgrade", u.Key(), "err", err)
			}
		}
	}
	b.out.refreshRoot(u.ID)
	announced := u.Clone()
	announced.Release = &rel
	return b.out.toThreads(ctx, u, threadNotice{msg: b.dir.Linked(announced), invoker: n.Invoker, progress: b.out.progressOf(n)})
}
