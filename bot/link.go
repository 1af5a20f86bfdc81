package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/upgradebot/upgradebot/commands"
)

// ReleaseProblem says why a release lookup failed, in terms the core can
// word without knowing the host of the releases.
type ReleaseProblem string

// The problems of a release lookup.
const (
	// ReleaseNotFound: the repository has no (published) release with the tag.
	ReleaseNotFound ReleaseProblem = "not_found"
	// ReleaseNoRepository: the repository is not visible to the bot: it does
	// not exist, or it is private and the bot's token (if any) cannot read it.
	ReleaseNoRepository ReleaseProblem = "no_repository"
	// ReleaseDenied: the host refused the bot's credentials.
	ReleaseDenied ReleaseProblem = "denied"
	// ReleaseRateLimited: the bot's rate limit is used up until ResetAt.
	ReleaseRateLimited ReleaseProblem = "rate_limited"
	// ReleaseUnavailable: a network failure, a timeout, a server error.
	ReleaseUnavailable ReleaseProblem = "unavailable"
	// ReleaseIncomplete: the host answered with a release that lacks what
	// a link needs (its tag, its page); asking again soon will not help.
	ReleaseIncomplete ReleaseProblem = "incomplete"
)

// ReleaseError is a failed release lookup. Releases implementations return
// it, wrapped or not; errors.Is matches it against the ErrRelease… values
// by Problem alone, errors.As gives ResetAt and Token.
type ReleaseError struct {
	Problem ReleaseProblem
	ResetAt time.Time // rate limited: when the limit resets; zero when unknown
	Token   bool      // whether the lookup used a token (no repository, denied)
	Err     error     // the cause, for the log; never shown to users
}

// Error implements error.
func (e *ReleaseError) Error() string {
	msg := "release lookup: " + strings.ReplaceAll(string(e.Problem), "_", " ")
	if !e.ResetAt.IsZero() {
		msg += " until " + e.ResetAt.UTC().Format(time.RFC3339)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap gives the cause.
func (e *ReleaseError) Unwrap() error { return e.Err }

// Is matches any ReleaseError of the same Problem.
func (e *ReleaseError) Is(target error) bool {
	t, ok := target.(*ReleaseError)
	return ok && t.Problem == e.Problem
}

// The release lookup errors to compare with errors.Is.
var (
	ErrReleaseNotFound     = &ReleaseError{Problem: ReleaseNotFound}
	ErrReleaseNoRepository = &ReleaseError{Problem: ReleaseNoRepository}
	ErrReleaseDenied       = &ReleaseError{Problem: ReleaseDenied}
	ErrReleaseRateLimited  = &ReleaseError{Problem: ReleaseRateLimited}
	ErrReleaseUnavailable  = &ReleaseError{Problem: ReleaseUnavailable}
	ErrReleaseIncomplete   = &ReleaseError{Problem: ReleaseIncomplete}
)

// releaseErrorOf is err as a ReleaseError: anything else (a timeout of the
// core's own, an error of an implementation that does not classify) reads
// as unavailable.
func releaseErrorOf(err error) *ReleaseError {
	if re, ok := errors.AsType[*ReleaseError](err); ok {
		return re
	}
	return &ReleaseError{Problem: ReleaseUnavailable, Err: err}
}

// link saves the release as typed and answers at once; the lookup, the
// thread notice and, if the lookup fails, the invoker's private answer
// follow in the background (linkTask).
func (b *Bot) link(ctx context.Context, inv Invocation, c commands.Link) (Message, error) {
	repo, ok := commands.ParseRepo(c.Repo)
	if !ok {
		return Message{}, Errorf(EINVALID, "%s", sentence(fmt.Sprintf(commands.BadRepo, c.Repo)))
	}
	c.Repo = repo
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
		u.Release = &Release{Repo: c.Repo, Tag: tag}
		d = b.linkDecision(ctx, u, *u.Release, actor)
		return d, nil
	})
	if err != nil {
		return Message{}, err
	}
	ctx, cancel := afterSave(ctx)
	defer cancel()
	b.linked(u, d.Event)
	// The lookup and the notice run inside one outbox task of the upgrade, so
	// notices of later commands queue behind this one and the thread reads in
	// command order; the lookup is bounded so a slow GitHub cannot stall them.
	b.out.enqueue(ctx, PendingNotice{Kind: PendingLink, Upgrade: u.ID, Invoker: inv.invoker(), Repo: c.Repo, Tag: tag, Actor: actor}, b.linkTask)
	return linkingReply(u, c.Repo, tag), nil
}

// LinkRelease attaches a release found outside a command to an upgrade and
// announces it in the thread.
func (b *Bot) LinkRelease(ctx context.Context, id int, r Release, actor string) error {
	var d Decision
	u, err := change(ctx, b.store, b.now, id, func(u *Upgrade) (Decision, error) {
		u.Release = &r
		d = b.linkDecision(ctx, u, r, actor)
		return d, nil
	})
	if err != nil {
		return err
	}
	ctx, cancel := afterSave(ctx)
	defer cancel()
	b.linked(u, d.Event)
	b.out.notify(ctx, u.ID, b.dir.Linked(u), nil)
	return nil
}

// linked publishes the event of a release linked to u and refreshes its roots.
func (b *Bot) linked(u *Upgrade, ev *Event) {
	b.ev.written(u, ev)
	b.out.refreshRoot(u.ID)
}

// linkDecision is the decision of linking r to u, with its event (written
// in the same step): repo and tag, and the release's page when known (a
// link typed by hand is looked up afterwards, and its event has none).
func (b *Bot) linkDecision(ctx context.Context, u *Upgrade, r Release, actor string) Decision {
	data := map[string]any{"repo": r.Repo, "tag": r.Tag}
	if r.URL != "" {
		data["url"] = r.URL
	}
	return Decision{At: b.now().UTC(), Actor: actor, Action: ActionLinked, Repo: r.Repo, Tag: r.Tag,
		Event: b.ev.event(ctx, u, EventLinked, actor, data)}
}

// tagSpellings are the spellings of version tag to look up, in turn: tag
// as typed first, then the others of the same version, whatever was typed:
// with a lower-case v, with none, with a capital V ("2.4.0": "2.4.0",
// "v2.4.0", "V2.4.0"). They name one version, as the release event matches
// them (commands.SameVersion). A tag that is not a version number is
// looked up as it is.
func tagSpellings(tag string) []string {
	rest := tag
	if len(tag) > 1 && (tag[0] == 'v' || tag[0] == 'V') {
		rest = tag[1:]
	}
	if rest == "" || rest[0] < '0' || rest[0] > '9' {
		return []string{tag}
	}
	out := []string{tag}
	for _, t := range []string{"v" + rest, rest, "V" + rest} {
		if t != tag {
			out = append(out, t)
		}
	}
	return out
}

// otherTags are the spellings of tag looked up after it (tagSpellings).
func otherTags(tag string) []string { return tagSpellings(tag)[1:] }

// lookup asks Releases for repo's release of the version tag, in every
// spelling (tagSpellings) in one call, so that the host checks the
// repository once; all within one releaseTimeout.
func (b *Bot) lookup(ctx context.Context, repo, tag string) (Release, error) {
	ctx, cancel := context.WithTimeout(ctx, b.releaseTimeout)
	defer cancel()
	tags := tagSpellings(tag)
	return b.releases.Release(ctx, repo, tags[0], tags[1:]...)
}

// linkTask looks up the release n.Repo/n.Tag linked to the upgrade, saves
// what it found (unless a later link replaced it meanwhile) and announces
// it in the threads; every link is announced, in command order. When the
// lookup fails, the release stays as typed and the invoker hears why,
// privately. A link by Upgradebot is the one scheduling starts by itself
// (autoLinkTask).
func (b *Bot) linkTask(ctx context.Context, n PendingNotice) error {
	if n.Actor == Upgradebot {
		return b.autoLinkTask(ctx, n)
	}
	u, err := b.store.Get(ctx, n.Upgrade)
	if err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return nil
		}
		return err
	}
	rel := Release{Repo: n.Repo, Tag: n.Tag}
	if b.releases != nil {
		r, err := b.lookup(ctx, n.Repo, n.Tag)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err() // the task itself is out of time: keep it for a retry
			}
			re := releaseErrorOf(err)
			rel.Unconfirmed = true
			b.log.WarnContext(ctx, "release lookup failed; the release stays as typed", "upgrade", u.Key(), "repo", n.Repo, "tag", n.Tag, "problem", re.Problem, "err", err)
			if n.Invoker != nil {
				if err := b.out.Answer(ctx, *n.Invoker, releaseLookupFailed(u, n.Repo, n.Tag, re)); err != nil {
					b.log.WarnContext(ctx, "telling the invoker about a failed release lookup failed", "upgrade", u.Key(), "actor", n.Invoker.User, "err", err)
				}
			}
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
	b.linked(u, nil) // the link's event was written with it
	announced := u.Clone()
	announced.Release = &rel
	return b.out.toThreads(ctx, u, threadNotice{msg: b.dir.Linked(announced), invoker: n.Invoker, progress: b.out.progressOf(n)})
}

// autoLinkTask is the lookup that scheduling starts for a service with a
// repository: the release whose tag is the version is linked and announced
// when it is found and nothing was linked meanwhile. Not finding it is no
// news: the release event links a release published later.
func (b *Bot) autoLinkTask(ctx context.Context, n PendingNotice) error {
	if b.releases == nil {
		return nil
	}
	r, err := b.lookup(ctx, n.Repo, n.Tag)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		level := b.log.WarnContext
		if errors.Is(err, ErrReleaseNotFound) {
			level = b.log.InfoContext
		}
		level(ctx, "no release linked at scheduling", "upgrade", n.Upgrade, "repo", n.Repo, "tag", n.Tag, "err", err)
		return nil
	}
	var d Decision
	u, err := change(ctx, b.store, b.now, n.Upgrade, func(x *Upgrade) (Decision, error) {
		if x.Release != nil || !x.State.Active() {
			return Decision{}, errUnchanged // linked meanwhile, or over
		}
		x.Release = &r
		d = b.linkDecision(ctx, x, r, Upgradebot)
		return d, nil
	})
	switch {
	case errors.Is(err, errUnchanged), ErrorCode(err) == ENOTFOUND:
		return nil
	case err != nil:
		return err
	}
	b.linked(u, d.Event)
	return b.out.toThreads(ctx, u, threadNotice{msg: b.dir.Linked(u), progress: b.out.progressOf(n)})
}

// ReleasePublished acts on a release published on the host (its release
// event): every scheduled or running upgrade of a service whose repository
// it is (owner/name in any case), to the release's version (with or
// without a leading v), gets it linked: decision, event, thread notice.
// An upgrade that has this very release linked already (a re-sent event,
// or the lookup at scheduling found it) is left as it is, and so is one
// linked by hand to a release of another repository. When no upgrade of
// such a service is planned to that version, the service's channels hear
// that the release is out, with the command that plans the upgrade; a
// pre-release says nothing there, so that release candidates make no
// noise. It returns how many upgrades it linked.
func (b *Bot) ReleasePublished(ctx context.Context, r Release) (int, error) {
	svcs, planned, err := b.releaseTargets(ctx, r)
	if err != nil {
		return 0, fmt.Errorf("release %s %s published: %w", r.Repo, r.Tag, err)
	}
	linked := 0
	var errs []error
	for _, u := range planned {
		ok, err := b.linkPublished(ctx, u.ID, r)
		if err != nil {
			errs = append(errs, err)
		} else if ok {
			linked++
		}
	}
	if !r.Prerelease {
		for _, s := range unplanned(svcs, planned) {
			b.releaseOut(ctx, s, r)
		}
	}
	return linked, errors.Join(errs...)
}

// releaseTargets are the services whose repository r is of, and their
// scheduled and running upgrades to r's version (written with or without
// the v); nothing without a service or a tag.
func (b *Bot) releaseTargets(ctx context.Context, r Release) ([]Service, []*Upgrade, error) {
	svcs := b.dir.ServicesOfRepo(r.Repo)
	if len(svcs) == 0 || r.Tag == "" {
		return nil, nil, nil
	}
	active, err := b.store.List(ctx, Filter{States: []State{Scheduled, InProgress}})
	if err != nil {
		return nil, nil, err
	}
	var planned []*Upgrade
	for _, u := range active {
		if slices.ContainsFunc(svcs, func(s Service) bool { return strings.EqualFold(s.Name, u.Service) }) && commands.SameVersion(u.Version, r.Tag) {
			planned = append(planned, u)
		}
	}
	return svcs, planned, nil
}

// unplanned are the services of svcs that none of planned upgrades.
func unplanned(svcs []Service, planned []*Upgrade) []Service {
	var out []Service
	for _, s := range svcs {
		if !slices.ContainsFunc(planned, func(u *Upgrade) bool { return strings.EqualFold(u.Service, s.Name) }) {
			out = append(out, s)
		}
	}
	return out
}

// WatchesRepo reports whether a configured service has the repository
// repo ("owner/name", any case): whether ReleasePublished acts on its
// releases. It only reads the configuration, so a receiver can ask before
// it answers.
func (b *Bot) WatchesRepo(repo string) bool { return len(b.dir.ServicesOfRepo(repo)) > 0 }

// linksAnew reports whether published release r is news to upgrade u: u
// is active and has no release, or one of the same repository that is not
// r. An upgrade linked by hand to another repository's release keeps it,
// and r linked already (when the upgrade was scheduled, or by hand before
// GitHub's delivery came; its name or notes may read otherwise since) is
// no news.
func linksAnew(u *Upgrade, r Release) bool {
	if !u.State.Active() {
		return false
	}
	old := u.Release
	if old == nil {
		return true
	}
	return strings.EqualFold(old.Repo, r.Repo) && (old.Tag != r.Tag || old.URL != r.URL || old.Prerelease != r.Prerelease)
}

// ReleaseNews reports whether ReleasePublished would act on r: link it to
// an upgrade of its version, or tell a service's channels that it is out
// (a release, not a pre-release, that no upgrade plans). It only reads, so
// a receiver can ask before it answers.
func (b *Bot) ReleaseNews(ctx context.Context, r Release) (bool, error) {
	svcs, planned, err := b.releaseTargets(ctx, r)
	if err != nil {
		return false, fmt.Errorf("release %s %s: %w", r.Repo, r.Tag, err)
	}
	if slices.ContainsFunc(planned, func(u *Upgrade) bool { return linksAnew(u, r) }) {
		return true, nil
	}
	if r.Prerelease {
		return false, nil
	}
	return slices.ContainsFunc(unplanned(svcs, planned), func(s Service) bool { return len(s.Channels) > 0 }), nil
}

// linkPublished links a published release to upgrade id, unless it has
// that release already or one of another repository; it reports whether
// it linked.
func (b *Bot) linkPublished(ctx context.Context, id int, r Release) (bool, error) {
	var d Decision
	u, err := change(ctx, b.store, b.now, id, func(x *Upgrade) (Decision, error) {
		if !linksAnew(x, r) {
			return Decision{}, errUnchanged
		}
		x.Release = &r
		d = b.linkDecision(ctx, x, r, Upgradebot)
		return d, nil
	})
	switch {
	case errors.Is(err, errUnchanged), ErrorCode(err) == ENOTFOUND:
		return false, nil
	case err != nil:
		return false, fmt.Errorf("link %s %s: %w", r.Repo, r.Tag, err)
	}
	ctx, cancel := afterSave(ctx)
	defer cancel()
	b.linked(u, d.Event)
	b.out.notify(ctx, u.ID, b.dir.Linked(u), nil)
	return true, nil
}

// releaseOut posts in the channels of s that release r is out, in the
// background like every notice (Delivery.toChannels). With no upgrade to
// record a failure on, one is logged and counted.
func (b *Bot) releaseOut(ctx context.Context, s Service, r Release) {
	if len(s.Channels) == 0 {
		b.log.InfoContext(ctx, "a release is out, but its service has no channel to say so in", "service", s.Name, "repo", r.Repo, "tag", r.Tag)
		return
	}
	b.out.toChannels(ctx, s.Channels, b.dir.ReleaseOut(s.Name, r))
}
