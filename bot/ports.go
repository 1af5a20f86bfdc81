package bot

import (
	"context"
	"strings"
	"time"
)

// Store keeps everything that matters. The Redis implementation lives in
// ../store; every method is safe for concurrent use by many replicas.
type Store interface {
	// NextID allocates the next upgrade number.
	NextID(ctx context.Context) (int, error)
	// Create saves a new upgrade (Rev 1) and the first decision-log entry.
	Create(ctx context.Context, u *Upgrade, d Decision) error
	// Get loads one upgrade; a missing one is an error wrapping ErrNotFound.
	Get(ctx context.Context, id int) (*Upgrade, error)
	// Update saves u if the stored revision is u.Rev-1, and appends d to the
	// decision log (when d.Action is set) in the same step; otherwise ErrConflict.
	Update(ctx context.Context, u *Upgrade, d Decision) error
	// List returns the upgrades that match, ordered by start.
	List(ctx context.Context, f Filter) ([]*Upgrade, error)
	// Ack records a's acknowledgment if that principal has none for the
	// scope yet (first wins), with its decision-log entry, atomically. It
	// returns the acknowledgment that stands and whether a was the first.
	Ack(ctx context.Context, id int, a Ack) (Ack, bool, error)
	// Acks lists all acknowledgments of an upgrade, oldest first.
	Acks(ctx context.Context, id int) ([]Ack, error)
	// Log returns the decision log, oldest first.
	Log(ctx context.Context, id int) ([]Decision, error)
	// Publish appends an event to the shared, capped event stream.
	Publish(ctx context.Context, e Event) error
}

// Messenger posts on one chat platform. Channel and user ids carry the
// platform prefix ("slack:C0123"); implementations retry what is worth
// retrying and return an error only when the message could not be delivered.
type Messenger interface {
	// Post puts a new message in a channel (the root of an upgrade thread).
	Post(ctx context.Context, channel string, m Message) (MessageRef, error)
	// Reply answers in the thread of root; m.Broadcast also shows it in the channel.
	Reply(ctx context.Context, root MessageRef, m Message) (MessageRef, error)
	// Edit replaces a message's content.
	Edit(ctx context.Context, ref MessageRef, m Message) error
	// Direct sends a direct message to one user.
	Direct(ctx context.Context, user string, m Message) (MessageRef, error)
}

// Whisperer is an optional Messenger capability: a message in a channel that
// only one user sees (Slack chat.postEphemeral). Without it, or when it
// fails, the bot sends a direct message instead.
type Whisperer interface {
	Whisper(ctx context.Context, channel, user string, m Message) error
}

// Releases looks up a GitHub release. Optional: without it, link stores the
// conventional release URL.
type Releases interface {
	Release(ctx context.Context, repo, tag string) (Release, error)
}

// EventSink receives every event after it is stored (webhooks, metrics).
// It must not block.
type EventSink interface {
	Event(e Event)
}

// Router is a Messenger that dispatches on the platform prefix of the ids.
type Router map[string]Messenger

func (r Router) pick(id string) (Messenger, error) {
	platform, _, ok := strings.Cut(id, ":")
	if m, found := r[platform]; ok && found {
		return m, nil
	}
	return nil, Errorf(EINVALID, "no adapter is enabled for %q", id)
}

// Post implements Messenger.
func (r Router) Post(ctx context.Context, channel string, m Message) (MessageRef, error) {
	ms, err := r.pick(channel)
	if err != nil {
		return MessageRef{}, err
	}
	return ms.Post(ctx, channel, m)
}

// Reply implements Messenger.
func (r Router) Reply(ctx context.Context, root MessageRef, m Message) (MessageRef, error) {
	ms, err := r.pick(root.Channel)
	if err != nil {
		return MessageRef{}, err
	}
	return ms.Reply(ctx, root, m)
}

// Edit implements Messenger.
func (r Router) Edit(ctx context.Context, ref MessageRef, m Message) error {
	ms, err := r.pick(ref.Channel)
	if err != nil {
		return err
	}
	return ms.Edit(ctx, ref, m)
}

// Direct implements Messenger.
func (r Router) Direct(ctx context.Context, user string, m Message) (MessageRef, error) {
	ms, err := r.pick(user)
	if err != nil {
		return MessageRef{}, err
	}
	return ms.Direct(ctx, user, m)
}

// Whisper implements Whisperer: in the channel when its platform can, else
// (or on failure) as a direct message to the user.
func (r Router) Whisper(ctx context.Context, channel, user string, m Message) error {
	if ms, err := r.pick(channel); err == nil {
		if w, ok := ms.(Whisperer); ok && w.Whisper(ctx, channel, user, m) == nil {
			return nil
		}
	}
	_, err := r.Direct(ctx, user, m)
	return err
}

var (
	_ Messenger = Router(nil)
	_ Whisperer = Router(nil)
)

// Clock tells the time; tests and the console move it by hand.
type Clock func() time.Time
