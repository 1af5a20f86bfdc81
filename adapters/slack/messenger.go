package slack

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/upgradebot/upgradebot/bot"
)

// Post implements bot.Messenger: a new message in a channel ("slack:C…"),
// the root of an upgrade thread.
func (a *Adapter) Post(ctx context.Context, channel string, m bot.Message) (bot.MessageRef, error) {
	ch, err := strip(channel)
	if err != nil {
		return bot.MessageRef{}, err
	}
	ts, err := a.post(ctx, ch, m)
	if err != nil {
		return bot.MessageRef{}, err
	}
	return bot.MessageRef{Channel: Platform + ":" + ch, ID: ts, URL: a.permalink(ctx, ch, ts)}, nil
}

// Reply implements bot.Messenger: a reply in the thread of root, also shown
// in the channel when m.AlsoInChannel (reply_broadcast).
func (a *Adapter) Reply(ctx context.Context, root bot.MessageRef, m bot.Message) (bot.MessageRef, error) {
	ch, err := strip(root.Channel)
	if err != nil {
		return bot.MessageRef{}, err
	}
	thread := root.ID
	if root.Thread != "" {
		thread = root.Thread
	}
	opts := []slackgo.MsgOption{slackgo.MsgOptionTS(thread)}
	if m.AlsoInChannel {
		opts = append(opts, slackgo.MsgOptionBroadcast())
	}
	ts, err := a.post(ctx, ch, m, opts...)
	if err != nil {
		return bot.MessageRef{}, err
	}
	return bot.MessageRef{Channel: Platform + ":" + ch, ID: ts, Thread: thread}, nil
}

// Edit implements bot.Messenger: chat.update of a posted message.
func (a *Adapter) Edit(ctx context.Context, ref bot.MessageRef, m bot.Message) error {
	ch, err := strip(ref.Channel)
	if err != nil {
		return err
	}
	opts := a.style.msgOptions(m)
	return a.call(ctx, "chat.update", func(ctx context.Context) error {
		_, _, _, err := a.api.UpdateMessageContext(ctx, ch, ref.ID, opts...)
		return err
	})
}

// Direct implements bot.Messenger: a direct message to "slack:U…", in the
// conversation conversations.open returns.
func (a *Adapter) Direct(ctx context.Context, user string, m bot.Message) (bot.MessageRef, error) {
	u, err := strip(user)
	if err != nil {
		return bot.MessageRef{}, err
	}
	ch, ok := a.dms.Get(u)
	if !ok {
		err := a.call(ctx, "conversations.open", func(ctx context.Context) error {
			c, _, _, err := a.api.OpenConversationContext(ctx, &slackgo.OpenConversationParameters{Users: []string{u}})
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
	ts, err := a.post(ctx, ch, m)
	if err != nil {
		return bot.MessageRef{}, err
	}
	return bot.MessageRef{Channel: Platform + ":" + ch, ID: ts}, nil
}

func (a *Adapter) post(ctx context.Context, ch string, m bot.Message, extra ...slackgo.MsgOption) (string, error) {
	opts := append(a.style.msgOptions(m), extra...)
	var ts string
	err := a.call(ctx, "chat.postMessage", func(ctx context.Context) error {
		var err error
		_, ts, err = a.api.PostMessageContext(ctx, ch, opts...)
		return err
	})
	return ts, err
}

// workspace remembers the workspace URL (auth.test) that permalinks start with.
type workspace struct {
	mu    sync.Mutex
	url   string
	tried time.Time
}

// permalink builds the link of a message, https://team.slack.com/archives/C…/p…,
// without a chat.getPermalink call per message. It is empty while the
// workspace URL is unknown.
func (a *Adapter) permalink(ctx context.Context, channel, ts string) string {
	base := a.workspaceURL(ctx)
	if base == "" || ts == "" {
		return ""
	}
	return base + "archives/" + channel + "/p" + strings.Replace(ts, ".", "", 1)
}

// workspaceURL returns the workspace's URL, asking auth.test at most every
// 5 minutes while it is unknown; the call is made outside the lock so posts
// never queue behind it.
func (a *Adapter) workspaceURL(ctx context.Context) string {
	a.ws.mu.Lock()
	if a.ws.url != "" || (!a.ws.tried.IsZero() && a.now().Sub(a.ws.tried) < 5*time.Minute) {
		defer a.ws.mu.Unlock()
		return a.ws.url
	}
	a.ws.tried = a.now()
	a.ws.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	resp, err := a.api.AuthTestContext(ctx)
	a.observe("auth.test", err)
	if err != nil || resp == nil {
		a.log.WarnContext(ctx, "auth.test failed; threads get no links for now", "code", errorCode(err))
		return ""
	}
	return a.rememberWorkspace(resp.URL)
}

// rememberWorkspace keeps the workspace URL an auth.test answered with.
func (a *Adapter) rememberWorkspace(url string) string {
	a.ws.mu.Lock()
	defer a.ws.mu.Unlock()
	if strings.HasPrefix(url, "https://") {
		a.ws.url = strings.TrimSuffix(url, "/") + "/"
	}
	return a.ws.url
}
