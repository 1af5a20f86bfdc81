package discord

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/commands"
)

// Readiness on Discord (issue 14): the subcommands ready, waive, unready,
// plan and debrief and start's anyway; a "Mark met" button per open
// criterion on the root message; a "Write debrief" button on the debrief
// prompt that opens a modal, whose submission records the debrief.

// The custom_id prefixes of readiness (bot.ReadyButton, bot.DebriefButton):
// "upgrade_ready:UPG-7:2" and "upgrade_debrief:UPG-7", the same for the
// debrief modal.
const (
	ActionReady   = "upgrade_ready"
	ActionDebrief = "upgrade_debrief"
)

// The debrief modal: its one paragraph input and Discord's limits on it.
const (
	debriefInput    = "text"
	maxModalTitle   = 45
	maxInputValue   = 4000 // Discord's; the core keeps less (bot.MaxRecordLen), and a closed modal loses what was typed
	maxButtonLabel  = 80
	maxActionRows   = 5
	maxRowButtons   = 5
	readyLabelStart = "Mark met: "
)

func criterionOption() *discordgo.ApplicationCommandOption {
	o := str(optCriterion, "its number, exact text or a unique prefix", true)
	o.Autocomplete = true
	return o
}

// startAnywayOption is start's anyway: unlike the freeze override of
// schedule, reschedule and extend, it takes responsibility for open
// readiness criteria.
func startAnywayOption() *discordgo.ApplicationCommandOption {
	return str(optAnyway, "owners, admins: start with readiness criteria still open, saying why (logged, shown)", false)
}

// buildReadiness maps ready, waive, unready, plan and debrief onto their
// commands; a missing required value is refused with the subcommand's usage.
func buildReadiness(name string, id int, o options, fail func(string, ...any) error) (commands.Command, error) {
	criterion := o.text(optCriterion)
	if criterion == "" && (name == "ready" || name == "waive" || name == "unready") {
		return nil, fail("missing %s; its number in the checklist, its text or the start of it", optionHole(name, optCriterion))
	}
	switch name {
	case "ready":
		return commands.Ready{ID: id, Criterion: criterion}, nil
	case "waive", "unready":
		reason := o.text(optReason)
		if reason == "" {
			if name == "waive" {
				return nil, fail("missing reason:<reason...>; say why it does not apply this time")
			}
			return nil, fail("missing reason:<reason...>; say why it is no longer met")
		}
		if name == "waive" {
			return commands.Waive{ID: id, Criterion: criterion, Reason: reason}, nil
		}
		return commands.Unready{ID: id, Criterion: criterion, Reason: reason}, nil
	case "plan":
		text := o.text(optPlan)
		if text == "" {
			return nil, fail("missing plan:<url or text...>; a runbook link or the steps of the way back")
		}
		return commands.Plan{ID: id, Text: text}, nil
	default: // debrief
		text := o.text(optText)
		if text == "" {
			return nil, fail("missing text:<text...>; what happened, and what to change next time")
		}
		return commands.Debrief{ID: id, Text: text}, nil
	}
}

// readyID is a Mark-met button's custom_id: "upgrade_ready:UPG-7:2".
func readyID(b bot.ReadyButton) string {
	return ActionReady + ":" + b.UpgradeID + ":" + strconv.Itoa(b.Criterion)
}

// parseReadyID reads a Mark-met custom_id back; ok is false for one that is
// not well formed (no upgrade, or no criterion number from 1).
func parseReadyID(id string) (upgrade string, criterion int, ok bool) {
	rest, ok := strings.CutPrefix(id, ActionReady+":")
	if !ok {
		return "", 0, false
	}
	upgrade, num, ok := strings.Cut(rest, ":")
	if !ok || upgrade == "" || strings.Contains(num, ":") {
		return "", 0, false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || strconv.Itoa(n) != num {
		return "", 0, false
	}
	return upgrade, n, true
}

// debriefID is the custom_id of the Write-debrief button and of its modal:
// "upgrade_debrief:UPG-7".
func debriefID(upgrade string) string { return ActionDebrief + ":" + upgrade }

// parseDebriefID reads a debrief custom_id back.
func parseDebriefID(id string) (string, bool) {
	upgrade, ok := strings.CutPrefix(id, ActionDebrief+":")
	if !ok || upgrade == "" || strings.Contains(upgrade, ":") {
		return "", false
	}
	return upgrade, true
}

// components lays out a message's buttons in action rows: the Acknowledge
// button first, then the Mark-met buttons five to a row, then Write debrief;
// Discord takes at most five rows. Mark-met buttons beyond what fits are
// left out (the criteria are still in the message, and ready by command).
func components(m bot.Message) []discordgo.MessageComponent {
	var rows []discordgo.MessageComponent
	if m.Ack != nil {
		rows = append(rows, ackRow(*m.Ack))
	}
	room := maxActionRows - len(rows)
	if m.Debrief != nil {
		room--
	}
	var row []discordgo.MessageComponent
	for _, b := range m.Ready {
		if room == 0 {
			break
		}
		row = append(row, discordgo.Button{Label: truncate(readyLabelStart+b.Text, maxButtonLabel), Style: discordgo.SuccessButton, CustomID: readyID(b)})
		if len(row) == maxRowButtons {
			rows = append(rows, discordgo.ActionsRow{Components: row})
			row, room = nil, room-1
		}
	}
	if len(row) > 0 {
		rows = append(rows, discordgo.ActionsRow{Components: row})
	}
	if m.Debrief != nil {
		rows = append(rows, discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: "Write debrief", Style: discordgo.PrimaryButton, CustomID: debriefID(m.Debrief.UpgradeID)},
		}})
	}
	return rows
}

// debriefModal is the form the Write-debrief button opens (response type 9).
func debriefModal(upgrade string) *discordgo.InteractionResponse {
	return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseModal, Data: &discordgo.InteractionResponseData{
		CustomID: debriefID(upgrade),
		Title:    truncate("Debrief "+upgrade, maxModalTitle),
		Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.TextInput{CustomID: debriefInput, Label: "What happened, what to change", Style: discordgo.TextInputParagraph,
				Placeholder: "What went well, what went wrong, what the next upgrade should do differently", Required: true, MaxLength: min(maxInputValue, bot.MaxRecordLen)},
		}}},
	}}
}

// debriefCheckTimeout bounds the read before a debrief form opens, so the
// form still answers within Discord's 3 seconds when Redis is slow.
const debriefCheckTimeout = time.Second

// pressReadiness answers a press of a Mark-met or Write-debrief button;
// handled is false for a custom_id that is neither.
func (a *Adapter) pressReadiness(ctx context.Context, i *discordgo.Interaction, customID string, respond responder) (handled bool) {
	switch {
	case strings.HasPrefix(customID, ActionReady+":"):
		upgrade, n, ok := parseReadyID(customID)
		id, err := commands.ParseID(upgrade)
		if !ok || err != nil {
			a.respond(ctx, i, respond, a.private(notOurs("This Mark met button is not one of upgradebot's.")))
			return true
		}
		a.run(ctx, i, respond, func(commands.Env) (commands.Command, error) {
			return commands.Ready{ID: id, Criterion: strconv.Itoa(n)}, nil
		})
		return true
	case strings.HasPrefix(customID, ActionDebrief+":"):
		upgrade, ok := parseDebriefID(customID)
		id, err := commands.ParseID(upgrade)
		if !ok || err != nil {
			a.respond(ctx, i, respond, a.private(notOurs("This Write debrief button is not one of upgradebot's.")))
			return true
		}
		actor, ok := actorOf(i)
		if !ok {
			a.respond(ctx, i, respond, a.private(notOurs("Discord did not say who you are; try again.")))
			return true
		}
		// A modal must be the first answer, within Discord's 3 seconds:
		// one read first, so that a form for an upgrade that does not
		// exist, has not ended or is not the presser's is refused now
		// rather than after the writing (the submission is checked again).
		check, cancel := context.WithTimeout(ctx, debriefCheckTimeout)
		m, ok := a.core.CheckDebrief(check, bot.Invocation{Actor: actor}, id)
		cancel()
		if !ok {
			a.respond(ctx, i, respond, a.private(m))
			return true
		}
		a.respond(ctx, i, respond, debriefModal(upgrade))
		return true
	}
	return false
}

// submit records a debrief written in the modal (MODAL_SUBMIT).
func (a *Adapter) submit(ctx context.Context, i *discordgo.Interaction, respond responder) {
	data := i.ModalSubmitData()
	upgrade, ok := parseDebriefID(data.CustomID)
	id, err := commands.ParseID(upgrade)
	if !ok || err != nil {
		a.respond(ctx, i, respond, a.private(notOurs("This form is not one of upgradebot's.")))
		return
	}
	a.run(ctx, i, respond, func(commands.Env) (commands.Command, error) {
		text := strings.TrimSpace(inputValue(data.Components, debriefInput))
		if text == "" {
			return nil, &commands.Error{Msg: "The debrief is empty: write what happened and what to change.", Usage: commands.Usage("debrief")}
		}
		return commands.Debrief{ID: id, Text: text}, nil
	})
}

// inputValue is the value of the modal's text input named id.
func inputValue(rows []discordgo.MessageComponent, id string) string {
	for _, r := range rows {
		var cs []discordgo.MessageComponent
		switch r := r.(type) {
		case *discordgo.ActionsRow:
			cs = r.Components
		case discordgo.ActionsRow:
			cs = r.Components
		}
		for _, c := range cs {
			switch t := c.(type) {
			case *discordgo.TextInput:
				if t.CustomID == id {
					return t.Value
				}
			case discordgo.TextInput:
				if t.CustomID == id {
					return t.Value
				}
			}
		}
	}
	return ""
}

// run runs the command a press or a form stands for as the person who
// pressed or submitted it, answered privately within the reply budget as
// a typed command is.
func (a *Adapter) run(ctx context.Context, i *discordgo.Interaction, respond responder, build func(commands.Env) (commands.Command, error)) {
	actor, ok := actorOf(i)
	if !ok {
		a.respond(ctx, i, respond, a.private(notOurs("Discord did not say who you are; try again.")))
		return
	}
	inv := bot.Invocation{Actor: actor, Channel: Platform + ":" + i.ChannelID, Handle: handle(i), Delivery: Platform + ":" + i.ID}
	cmd, err := build(a.core.Env(inv))
	if err != nil {
		a.respond(ctx, i, respond, a.private(bot.ParseRefusal(err)))
		return
	}
	a.within(ctx, i, respond, func(ctx context.Context) bot.Message { return a.core.Do(ctx, inv, cmd) })
}

// criterionChoices suggests the readiness criteria of the upgrade named by
// the id option, by number: for ready and waive the open ones (every one
// when none is open), for unready only those met or waived (none when none
// is: an open criterion cannot be opened again).
func (a *Adapter) criterionChoices(ctx context.Context, sub, id, typed string) []*discordgo.ApplicationCommandOptionChoice {
	choices := []*discordgo.ApplicationCommandOptionChoice{}
	n, err := commands.ParseTypedID(id) // as the command will read it
	if err != nil {
		return choices
	}
	us, err := a.core.Upgrades(ctx, bot.Filter{States: []bot.State{bot.Scheduled, bot.InProgress}})
	if err != nil {
		a.log.WarnContext(ctx, "autocomplete: listing upgrades failed", "err", err)
		return choices
	}
	var u *bot.Upgrade
	for _, x := range us {
		if x.ID == n {
			u = x
		}
	}
	if u == nil {
		return choices
	}
	fits := func(c bot.Criterion) bool { return (c.State == bot.CriterionOpen) == (sub != "unready") }
	some := sub == "unready" // unready never falls back to every criterion
	for _, c := range u.Readiness {
		some = some || fits(c)
	}
	for k, c := range u.Readiness {
		if some && !fits(c) {
			continue
		}
		num := strconv.Itoa(k + 1)
		label := num + ". " + c.Text + " (" + c.State + ")"
		if typed != "" && !strings.Contains(strings.ToLower(label), typed) {
			continue
		}
		choices = append(choices, &discordgo.ApplicationCommandOptionChoice{Name: truncate(label, maxChoiceName), Value: num})
		if len(choices) == maxChoices {
			break
		}
	}
	return choices
}
