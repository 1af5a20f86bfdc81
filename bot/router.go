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
	return nil, &UnservedError{Target: id}
}

// UnservedError is a post, edit or message to a channel or person of a
// platform none of this bot's adapters serves: a thread an upgrade kept
// from a bot that ran another platform (the console on the same store), a
// channel of a platform that is off. Its text is the reason people read
// on the upgrade (show, the API): plain words, no error code.
type UnservedError struct {
	Target string // the channel or person: "console:#payments"
	// Note says why, when the bot knows more of that platform:
	// "console threads are only shown by the console" (Unserved).
	Note string
}

// Error implements error: "no platform of this bot posts to
// console:#payments (console threads are only shown by the console)".
func (e *UnservedError) Error() string {
	s := "no platform of this bot posts to " + e.Target
	if e.Note != "" {
		s += " (" + e.Note + ")"
	}
	return s
}

// Advice implements AdvisedError.
func (e *UnservedError) Advice() string {
	return "This bot runs no platform that posts there: the service's channels should be of a platform it runs."
}

// Unwrap classifies it as an *Error of EINVALID, as bad input is: the
// target is one the bot cannot reach, trying again changes nothing.
func (e *UnservedError) Unwrap() error { return &Error{Code: EINVALID, Message: e.Error()} }

// Unserved is a Messenger for a platform this bot knows but does not post
// to (the console, under serve): every call fails with an UnservedError
// whose Note is the string, saying why.
type Unserved string

// Post implements Messenger.
func (u Unserved) Post(_ context.Context, channel string, _ Message) (MessageRef, error) {
	return MessageRef{}, &UnservedError{Target: channel, Note: string(u)}
}

// Reply implements Messenger.
func (u Unserved) Reply(_ context.Context, root MessageRef, _ Message) (MessageRef, error) {
	return MessageRef{}, &UnservedError{Target: root.Channel, Note: string(u)}
}

// Edit implements Messenger.
func (u Unserved) Edit(_ context.Context, ref MessageRef, _ Message) error {
	return &UnservedError{Target: ref.Channel, Note: string(u)}
}

// Direct implements Messenger.
func (u Unserved) Direct(_ context.Context, user string, _ Message) (MessageRef, error) {
	return MessageRef{}, &UnservedError{Target: user, Note: string(u)}
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
	_ Messenger    = Router(nil)
	_ Answerer     = Router(nil)
	_ Messenger    = Unserved("")
	_ AdvisedError = (*UnservedError)(nil)
)
