package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/upgradebot/upgradebot/adapters/inbound"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/commands"
)

// The handlers in this file serve both modes: an HTTP interaction and a
// gateway INTERACTION_CREATE are decoded into a *discordgo.Interaction and
// end up here, with the way to answer it at once.

// responder answers an interaction the first time: the HTTP response in
// http mode, the interaction callback endpoint in gateway mode. raw is r's
// JSON when the adapter has it already (nil: encode r).
type responder func(ctx context.Context, r *discordgo.InteractionResponse, raw []byte) error

// interaction handles one interaction: a command, a press, a submitted
// form, an autocomplete, or Discord's PING.
func (a *Adapter) interaction(ctx context.Context, i *discordgo.Interaction, respond responder) {
	defer func() {
		if r := recover(); r != nil {
			a.log.ErrorContext(ctx, "interaction handler panicked", "interaction", i.ID, "panic", fmt.Sprint(r))
		}
	}()
	if i.Type != discordgo.InteractionPing && !hasData(i) {
		a.respond(ctx, i, respond, a.private(notOurs("Discord sent this interaction without its data; try again.")))
		return
	}
	switch i.Type {
	case discordgo.InteractionPing:
		a.respond(ctx, i, respond, &discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong})
	case discordgo.InteractionApplicationCommand:
		a.command(ctx, i, respond)
	case discordgo.InteractionMessageComponent:
		a.press(ctx, i, respond)
	case discordgo.InteractionModalSubmit:
		a.submit(ctx, i, respond)
	case discordgo.InteractionApplicationCommandAutocomplete:
		actor, _ := actorOf(i)
		r, raw := autocompleteResult(a.autocomplete(ctx, i, actor))
		a.respondRaw(ctx, i, respond, r, raw)
	default:
		a.respond(ctx, i, respond, a.private(notOurs("upgradebot does not handle this kind of interaction.")))
	}
}

// autocompleteResult is the answer to an autocomplete, with its JSON as
// Discord wants it: {"type":8,"data":{"choices":[...]}}, choices always (an
// empty array when nothing fits; discordgo would leave an empty one out)
// and nothing else (discordgo's response data would add the message fields
// tts, content, components and embeds).
func autocompleteResult(choices []*discordgo.ApplicationCommandOptionChoice) (*discordgo.InteractionResponse, []byte) {
	if choices == nil {
		choices = []*discordgo.ApplicationCommandOptionChoice{}
	}
	r := &discordgo.InteractionResponse{Type: discordgo.InteractionApplicationCommandAutocompleteResult,
		Data: &discordgo.InteractionResponseData{Choices: choices}}
	var wire struct {
		Type discordgo.InteractionResponseType `json:"type"`
		Data struct {
			Choices []*discordgo.ApplicationCommandOptionChoice `json:"choices"`
		} `json:"data"`
	}
	wire.Type, wire.Data.Choices = r.Type, choices
	raw, err := json.Marshal(wire)
	if err != nil {
		return r, nil
	}
	return r, raw
}

// hasData reports whether an interaction carries the data of its type
// (discordgo's accessors panic otherwise, and decode a missing one as empty).
func hasData(i *discordgo.Interaction) bool {
	switch i.Type {
	case discordgo.InteractionApplicationCommand, discordgo.InteractionApplicationCommandAutocomplete:
		d, ok := i.Data.(discordgo.ApplicationCommandInteractionData)
		return ok && d.Name != ""
	case discordgo.InteractionMessageComponent:
		d, ok := i.Data.(discordgo.MessageComponentInteractionData)
		return ok && d.CustomID != ""
	case discordgo.InteractionModalSubmit:
		d, ok := i.Data.(discordgo.ModalSubmitInteractionData)
		return ok && d.CustomID != ""
	}
	return i.Data != nil
}

func notOurs(s string) bot.Message {
	return bot.Message{Kind: bot.KindError, Lines: []bot.Text{bot.T(s)}}
}

// respond sends the first answer, logging a failure (there is nobody else
// to tell: the answer was the way to reach the invoker).
func (a *Adapter) respond(ctx context.Context, i *discordgo.Interaction, respond responder, r *discordgo.InteractionResponse) {
	a.respondRaw(ctx, i, respond, r, nil)
}

// respondRaw is respond with r's JSON when known.
func (a *Adapter) respondRaw(ctx context.Context, i *discordgo.Interaction, respond responder, r *discordgo.InteractionResponse, raw []byte) {
	if err := respond(ctx, r, raw); err != nil {
		a.log.WarnContext(ctx, "answering the interaction failed", "interaction", i.ID, "err", err)
	}
}

// private is an answer only the invoker sees (ephemeral).
func (a *Adapter) private(m bot.Message) *discordgo.InteractionResponse {
	p := a.style.render(m)
	return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource, Data: &discordgo.InteractionResponseData{
		Content: p.Content, Embeds: p.Embeds, Components: p.Components, AllowedMentions: p.AllowedMentions, Flags: discordgo.MessageFlagsEphemeral,
	}}
}

// rendering is a private answer rendered and encoded once.
type rendering struct {
	resp *discordgo.InteractionResponse
	raw  []byte
}

// privateOnce is private(m) with its JSON; a stamped message (an unchanged
// show) is rendered and encoded once and served again.
func (a *Adapter) privateOnce(m bot.Message) (*discordgo.InteractionResponse, []byte) {
	if r, ok := a.rendered.Get(m.Stamp); ok {
		return r.resp, r.raw
	}
	resp := a.private(m)
	if m.Stamp == "" {
		return resp, nil
	}
	raw, err := json.Marshal(resp)
	if err != nil {
		return resp, nil
	}
	a.rendered.Put(m.Stamp, rendering{resp, raw})
	return resp, raw
}

// deferred tells Discord the answer comes later: the invoker sees that the
// bot is thinking, privately.
func deferred() *discordgo.InteractionResponse {
	return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral}}
}

// actorOf is who invoked an interaction: the member in a guild (with her
// roles, each a possible owner: "discord:&…"), else the user (a DM).
func actorOf(i *discordgo.Interaction) (bot.Actor, bool) {
	var u *discordgo.User
	var roles []string
	name := ""
	if i.Member != nil && i.Member.User != nil {
		u, roles, name = i.Member.User, i.Member.Roles, i.Member.Nick
	} else if i.User != nil {
		u = i.User
	}
	if u == nil || u.ID == "" {
		return bot.Actor{}, false
	}
	if name == "" {
		name = u.GlobalName
	}
	if name == "" {
		name = u.Username
	}
	a := bot.Actor{ID: Platform + ":" + u.ID, Name: name}
	for _, r := range roles {
		a.Groups = append(a.Groups, Platform+":&"+r)
	}
	return a, true
}

// handle is the invoker's handle for answers that come later: the
// application and the interaction's token (valid 15 minutes).
func handle(i *discordgo.Interaction) string {
	if i.AppID == "" || i.Token == "" {
		return ""
	}
	return i.AppID + ":" + i.Token
}

// result is what the work of one interaction produced.
type result struct {
	msg      bot.Message
	finished bool // false when the work panicked
}

func (r result) message() bot.Message {
	if !r.finished {
		return notOurs(bot.ErrorMessage(errPanicked))
	}
	return r.msg
}

// errPanicked stands for work that panicked: the user learns that
// something broke, the log has the panic.
var errPanicked = errors.New("discord: the interaction's work panicked")

// command runs /upgrade <subcommand> within the reply budget.
func (a *Adapter) command(ctx context.Context, i *discordgo.Interaction, respond responder) {
	data := i.ApplicationCommandData()
	actor, ok := actorOf(i)
	if !ok {
		a.respond(ctx, i, respond, a.private(notOurs("Discord did not say who you are; try again.")))
		return
	}
	if data.Name != commandName {
		a.respond(ctx, i, respond, a.private(bot.Message{Kind: bot.KindError, Lines: []bot.Text{
			bot.T("This bot answers ").Code("/" + commandName).Add(", not ").Code("/" + data.Name).Add("."),
		}}))
		return
	}
	inv := bot.Invocation{
		Actor: actor, Channel: Platform + ":" + i.ChannelID, Handle: handle(i),
		Delivery: Platform + ":" + i.ID, // the core ignores a re-sent interaction
	}
	name, opts := subcommand(data)
	cmd, err := build(name, opts, a.core.Env(inv))
	if err != nil {
		if pe := (*commands.Error)(nil); !errors.As(err, &pe) {
			a.log.ErrorContext(ctx, "reading a command's options failed", "subcommand", name, "err", err)
		}
		a.respond(ctx, i, respond, a.private(bot.ParseRefusal(err)))
		return
	}
	a.within(ctx, i, respond, func(ctx context.Context) bot.Message { return a.core.Do(ctx, inv, cmd) })
}

// press records a press of the Acknowledge button, or runs what a
// readiness button stands for (readiness.go).
func (a *Adapter) press(ctx context.Context, i *discordgo.Interaction, respond responder) {
	customID := i.MessageComponentData().CustomID
	if a.pressReadiness(ctx, i, customID, respond) {
		return
	}
	btn, ok := parseAckID(customID)
	if !ok {
		a.respond(ctx, i, respond, a.private(notOurs("This button is not one of upgradebot's.")))
		return
	}
	actor, ok := actorOf(i)
	if !ok {
		a.respond(ctx, i, respond, a.private(notOurs("Discord did not say who you are; try again.")))
		return
	}
	p := bot.ButtonPress{Actor: actor, Button: btn, Delivery: Platform + ":" + i.ID}
	a.within(ctx, i, respond, func(ctx context.Context) bot.Message { return a.core.Press(ctx, p) })
}

// within runs work in the background and answers the invoker privately with
// its result when it comes within the reply budget; otherwise it defers the
// answer at once and edits it in when the work is done. A delivery the core
// has seen before (KindDuplicate) is answered by whoever saw it first, so
// nothing is said here. Work waits for one of the slots that bound how many
// interactions are worked on at once.
func (a *Adapter) within(ctx context.Context, i *discordgo.Interaction, respond responder, work func(context.Context) bot.Message) {
	sent := make(chan struct{}) // the deferral went out: the original response exists
	run := func(ctx context.Context) result {
		select {
		case a.pressSlots <- struct{}{}:
		case <-ctx.Done():
			return result{msg: notOurs(bot.ErrorMessage(ctx.Err()))}
		}
		defer func() { <-a.pressSlots }()
		return result{msg: work(ctx), finished: true}
	}
	late := func(ctx context.Context, r result) {
		m := r.message()
		if m.Kind == bot.KindDuplicate {
			return
		}
		select {
		case <-sent:
		case <-time.After(5 * time.Second):
		}
		if err := a.editOriginal(ctx, i.AppID, i.Token, m); err != nil {
			a.log.WarnContext(ctx, "the late answer was not delivered", "interaction", i.ID, "err", err)
		}
	}
	r, ok := inbound.Within(&a.deadline, ctx, run, late)
	if !ok {
		a.log.InfoContext(ctx, "interaction still running; answering later", "interaction", i.ID)
		a.respond(ctx, i, respond, deferred())
		close(sent)
		return
	}
	close(sent)
	m := r.message()
	if m.Kind == bot.KindDuplicate {
		a.log.InfoContext(ctx, "duplicate interaction ignored", "interaction", i.ID)
		return
	}
	resp, raw := a.privateOnce(m)
	a.respondRaw(ctx, i, respond, resp, raw)
}

// editOriginal replaces a deferred answer with the real one. Discord may
// take a moment to know the original response after a deferral, so an
// unknown message or webhook is tried again too.
func (a *Adapter) editOriginal(ctx context.Context, appID, token string, m bot.Message) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), answerTimeout)
	defer cancel()
	p := a.style.render(m)
	edit := &discordgo.WebhookEdit{Content: &p.Content, Embeds: &p.Embeds, Components: &p.Components, AllowedMentions: p.AllowedMentions}
	it := &discordgo.Interaction{AppID: appID, Token: token}
	var err error
	for n := 0; n < 3; n++ {
		err = a.call(ctx, "edit interaction response", true, func(opts ...discordgo.RequestOption) error {
			_, err := a.api.InteractionResponseEdit(it, edit, opts...)
			return err
		})
		if c := codeOf(err); c != codeUnknownMessage && c != codeUnknownWebhook {
			return err
		}
		t := time.NewTimer(time.Duration(n+1) * 500 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
	return err
}

// Answer implements bot.Answerer: m is shown to the invoker only, as an
// ephemeral follow-up of the interaction that invoked the command (its
// token is valid for 15 minutes). Without a handle, or when Discord refuses
// it, the core sends a direct message instead.
func (a *Adapter) Answer(ctx context.Context, to bot.Invoker, m bot.Message) error {
	appID, token, ok := strings.Cut(to.Handle, ":")
	if !ok || appID == "" || token == "" {
		return fmt.Errorf("discord: no interaction to answer %s through", to.User)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), answerTimeout)
	defer cancel()
	p := a.style.render(m)
	data := &discordgo.WebhookParams{Content: p.Content, Embeds: p.Embeds, Components: p.Components, AllowedMentions: p.AllowedMentions, Flags: discordgo.MessageFlagsEphemeral}
	return a.call(ctx, "follow-up message", false, func(opts ...discordgo.RequestOption) error {
		_, err := a.api.FollowupMessageCreate(&discordgo.Interaction{AppID: appID, Token: token}, true, data, opts...)
		return err
	})
}
