package bot

import (
	"context"
	"strings"
)

// Router is a Messenger that dispatches on the platform prefix of the ids
// ("slack:", "discord:") to the Messenger of that platform. A new platform
// is one more entry.
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

// Answer implements Answerer: by the invoker's platform when it can answer
// privately, else (or when that fails) as a direct message.
func (r Router) Answer(ctx context.Context, to Invoker, m Message) error {
	return answer(ctx, r, to, m)
}

// answer tells the invoker privately through ms: by its Answerer when it
// has one and that works, else by a direct message.
func answer(ctx context.Context, ms Messenger, to Invoker, m Message) error {
	if r, ok := ms.(Router); ok {
		p, err := r.pick(to.User)
		if err != nil {
			return err
		}
		ms = p
	}
	if a, ok := ms.(Answerer); ok && a.Answer(ctx, to, m) == nil {
		return nil
	}
	_, err := ms.Direct(ctx, to.User, m)
	return err
}

var (
	_ Messenger = Router(nil)
	_ Answerer  = Router(nil)
)
