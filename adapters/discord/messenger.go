package discord

import (
	"context"
	"errors"
	"fmt"

	"github.com/bwmarrin/discordgo"

	"github.com/upgradebot/upgradebot/bot"
)

// archiveAfter is how long a thread stays open without messages: a week,
// the longest Discord allows, so a thread usually outlives the 7-day
// reminder. One Discord archived anyway is opened again by the next notice.
const archiveAfter = 7 * 24 * 60

// Post implements bot.Messenger: the root message of an upgrade in a
// channel ("discord:1122…"), with a thread started on it for everything
// after, or a message of its own (a release is out), which starts none.
// The thread's id is the root's own (Discord names a thread started on a
// message after it); when starting it fails, the root still stands: its ref
// comes with an error that says so (threadNotStarted), and the first reply
// tries again, naming the thread the same way (m.ThreadTitle).
func (a *Adapter) Post(ctx context.Context, channel string, m bot.Message) (bot.MessageRef, error) {
	ch, err := strip(channel)
	if err != nil {
		return bot.MessageRef{}, err
	}
	msg, err := a.send(ctx, ch, a.style.render(m), nil)
	if err != nil {
		return bot.MessageRef{}, err
	}
	ref := bot.MessageRef{Channel: Platform + ":" + ch, ID: msg.ID}
	guild := msg.GuildID
	var terr error
	if m.Kind == bot.KindRoot {
		th, err := a.startThread(ctx, ch, msg.ID, threadName(m))
		if err != nil {
			terr = threadNotStarted{err}
		} else {
			ref.Thread = th.ID
			if th.GuildID != "" {
				guild = th.GuildID
			}
		}
	}
	if guild != "" {
		ref.URL = "https://discord.com/channels/" + guild + "/" + ch + "/" + msg.ID
	}
	return ref, terr
}

// threadNotStarted is a root that was posted but whose thread could not be
// started: ref is good (bot.PostedError), the core records the failure and
// tells the invoker, and the first reply tries to start the thread again.
type threadNotStarted struct{ error }

func (e threadNotStarted) Unwrap() error { return e.error }

// Posted implements bot.PostedError.
func (threadNotStarted) Posted() bool { return true }

// Reply implements bot.Messenger: a message in the thread of root. With
// m.AlsoInChannel it is also shown in the channel, as a reply to the root
// message that notifies nobody (the thread's copy did).
func (a *Adapter) Reply(ctx context.Context, root bot.MessageRef, m bot.Message) (bot.MessageRef, error) {
	ch, err := strip(root.Channel)
	if err != nil {
		return bot.MessageRef{}, err
	}
	thread := root.Thread
	if thread == "" {
		th, err := a.startThread(ctx, ch, root.ID, threadName(bot.Message{Title: m.ThreadTitle, UpgradeID: m.UpgradeID}))
		if err != nil {
			return bot.MessageRef{}, err
		}
		thread = th.ID
	}
	p := a.style.render(m)
	msg, err := a.sendInThread(ctx, thread, p)
	if err != nil {
		return bot.MessageRef{}, err
	}
	ref := bot.MessageRef{Channel: root.Channel, ID: msg.ID, Thread: thread}
	if m.AlsoInChannel && thread != ch { // a root in a thread: the thread is the channel
		p.AllowedMentions = allowed(nil, false)
		ptr := &discordgo.MessageReference{MessageID: root.ID, ChannelID: ch, FailIfNotExists: new(false)}
		if _, err := a.send(ctx, ch, p, ptr); err != nil {
			return ref, fmt.Errorf("posted in the thread but not shown in the channel: %w", err)
		}
	}
	return ref, nil
}

// Edit implements bot.Messenger: the root message (or a reply in a thread)
// is replaced by m. An edit notifies nobody.
func (a *Adapter) Edit(ctx context.Context, ref bot.MessageRef, m bot.Message) error {
	ch, err := strip(ref.Channel)
	if err != nil {
		return err
	}
	if ref.Thread != "" && ref.Thread != ref.ID { // a reply lives in its thread
		ch = ref.Thread
	}
	p := a.style.render(m)
	p.AllowedMentions = allowed(nil, false)
	edit := &discordgo.MessageEdit{Channel: ch, ID: ref.ID, Content: &p.Content, Embeds: &p.Embeds, AllowedMentions: p.AllowedMentions}
	components := p.Components
	if components == nil {
		components = []discordgo.MessageComponent{} // a finished upgrade's root loses its button
	}
	edit.Components = &components
	if p.Embeds == nil {
		edit.Embeds = &[]*discordgo.MessageEmbed{}
	}
	return a.call(ctx, "edit message", true, func(opts ...discordgo.RequestOption) error {
		_, err := a.api.ChannelMessageEditComplex(edit, opts...)
		return err
	})
}

// Direct implements bot.Messenger: a direct message to "discord:8035…", in
// the DM channel Discord opens for the pair. A user who does not accept
// direct messages from the bot (50007) is a failure the core records; it is
// not retried.
func (a *Adapter) Direct(ctx context.Context, user string, m bot.Message) (bot.MessageRef, error) {
	u, err := strip(user)
	if err != nil {
		return bot.MessageRef{}, err
	}
	ch, ok := a.dms.Get(u)
	if !ok {
		err := a.call(ctx, "open direct message", true, func(opts ...discordgo.RequestOption) error {
			c, err := a.api.UserChannelCreate(u, opts...)
			if err == nil && (c == nil || c.ID == "") {
				err = errors.New("no channel in the answer")
			}
			if err == nil {
				ch = c.ID
			}
			return err
		})
		if err != nil {
			return bot.MessageRef{}, err
		}
		a.dms.Put(u, ch)
	}
	msg, err := a.send(ctx, ch, a.style.render(m), nil)
	if err != nil {
		return bot.MessageRef{}, err
	}
	return bot.MessageRef{Channel: Platform + ":" + ch, ID: msg.ID}, nil
}

// send creates a message in a channel (or thread).
func (a *Adapter) send(ctx context.Context, ch string, p payload, ref *discordgo.MessageReference) (*discordgo.Message, error) {
	data := &discordgo.MessageSend{Content: p.Content, Embeds: p.Embeds, Components: p.Components, AllowedMentions: p.AllowedMentions, Reference: ref}
	var msg *discordgo.Message
	err := a.call(ctx, "create message", false, func(opts ...discordgo.RequestOption) error {
		var err error
		msg, err = a.api.ChannelMessageSendComplex(ch, data, opts...)
		if err == nil && (msg == nil || msg.ID == "") {
			err = errors.New("no message in the answer")
		}
		return err
	})
	return msg, err
}

// sendInThread posts into a thread. Discord opens an archived thread again
// when a message is posted in it; should it refuse instead (50083), the
// thread is unarchived and the message posted once more.
func (a *Adapter) sendInThread(ctx context.Context, thread string, p payload) (*discordgo.Message, error) {
	msg, err := a.send(ctx, thread, p, nil)
	if codeOf(err) == codeUnknownChannel {
		return msg, threadGone{err}
	}
	if codeOf(err) != codeArchivedThread {
		return msg, err
	}
	a.log.InfoContext(ctx, "the upgrade thread is archived; opening it again", "thread", thread)
	if uerr := a.call(ctx, "unarchive thread", true, func(opts ...discordgo.RequestOption) error {
		_, err := a.api.ChannelEditComplex(thread, &discordgo.ChannelEdit{Archived: new(false)}, opts...)
		return err
	}); uerr != nil {
		return nil, errors.Join(err, uerr)
	}
	return a.send(ctx, thread, p, nil)
}

// startThread starts the thread of a root message. A thread that exists
// already (a retry whose first answer was lost) is the thread wanted.
func (a *Adapter) startThread(ctx context.Context, ch, msgID, name string) (*discordgo.Channel, error) {
	var th *discordgo.Channel
	err := a.call(ctx, "start thread", true, func(opts ...discordgo.RequestOption) error {
		c, err := a.api.MessageThreadStartComplex(ch, msgID, &discordgo.ThreadStart{Name: name, AutoArchiveDuration: archiveAfter}, opts...)
		if err == nil && (c == nil || c.ID == "") {
			err = errors.New("no thread in the answer")
		}
		th = c
		return err
	})
	if codeOf(err) == codeThreadExists {
		return &discordgo.Channel{ID: msgID}, nil
	}
	if codeOf(err) == codeWrongChannelType {
		// The root was posted in a channel that holds no threads: a thread
		// itself (a command typed in one, for a service with no channels),
		// or a voice channel's chat. That channel is the upgrade's thread.
		return &discordgo.Channel{ID: ch}, nil
	}
	return th, err
}

// threadGone is a reply that failed because the upgrade's thread no longer
// exists (someone deleted it): the configured channel is not at fault.
type threadGone struct{ error }

func (e threadGone) Unwrap() error { return e.error }

// Advice implements bot.AdvisedError.
func (e threadGone) Advice() string {
	return "The upgrade's thread no longer exists (it was deleted in Discord); nothing to change in the configuration, but its notices cannot go there."
}
