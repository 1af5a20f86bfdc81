package bot_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/upgradebot/upgradebot/bot"
)

func lines(m bot.Message) string { return m.Plain(time.UTC) }

func contains(s string, subs ...string) (string, bool) {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return sub, false
		}
	}
	return "", true
}

// slowEdits is a Messenger whose edits hang until open is closed, like a
// replica whose chat.update is stuck in a slow network; entered hears of
// the first edit that waits.
type slowEdits struct {
	bot.Messenger
	entered chan struct{} // buffered, 1
	open    chan struct{}
}

func (s *slowEdits) Edit(ctx context.Context, ref bot.MessageRef, m bot.Message) error {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	select {
	case <-s.open:
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.Messenger.Edit(ctx, ref, m)
}

// stuck is a Messenger that never answers until released, like a replica
// about to be killed: its outbox hangs on the first delivery.
type stuck struct {
	bot.Messenger
	entered chan struct{} // buffered
	release chan struct{}
}

func (s *stuck) wait(ctx context.Context) error {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	select {
	case <-s.release:
		return fmt.Errorf("replica killed")
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *stuck) Post(ctx context.Context, _ string, _ bot.Message) (bot.MessageRef, error) {
	return bot.MessageRef{}, s.wait(ctx)
}

func (s *stuck) Reply(ctx context.Context, _ bot.MessageRef, _ bot.Message) (bot.MessageRef, error) {
	return bot.MessageRef{}, s.wait(ctx)
}

func (s *stuck) Edit(ctx context.Context, _ bot.MessageRef, _ bot.Message) error { return s.wait(ctx) }

// pressAs presses the Acknowledge button of upgrade id for scope as actor.
func pressAs(b *bot.Bot, ctx context.Context, actor bot.Actor, id, scope string) bot.Message {
	return b.Press(ctx, bot.ButtonPress{Actor: actor, Button: bot.AckButton{UpgradeID: id, Scope: scope}})
}
