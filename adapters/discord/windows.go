package discord

import (
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/upgradebot/upgradebot/commands"
)

// The options of predictable windows: schedule's next (when:next), every
// and until, anyway on schedule, reschedule and extend, cancel's scope, and
// the subcommands slots and freeze.

func anywayOption() *discordgo.ApplicationCommandOption {
	return str(optAnyway, "admins: schedule into a change freeze anyway, saying why (logged and shown in the thread)", false)
}

func scopeOption() *discordgo.ApplicationCommandOption {
	o := str(optScope, "for an occurrence of a recurring upgrade: this occurrence, or the whole series", false)
	o.Choices = []*discordgo.ApplicationCommandOptionChoice{
		{Name: "this occurrence only", Value: commands.CancelOccurrence},
		{Name: "the whole series", Value: commands.CancelSeries},
	}
	return o
}

func countOption() *discordgo.ApplicationCommandOption {
	lo, hi := 1.0, float64(commands.MaxSlots)
	return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionInteger, Name: optCount,
		Description: fmt.Sprintf("how many free windows (default %d)", commands.DefaultSlots), MinValue: &lo, MaxValue: hi}
}

func freezeOptions() []*discordgo.ApplicationCommandOption {
	action := str(optAction, "add, list or remove", true)
	action.Choices = []*discordgo.ApplicationCommandOptionChoice{
		{Name: "add", Value: "add"}, {Name: "list", Value: "list"}, {Name: "remove", Value: "remove"},
	}
	return []*discordgo.ApplicationCommandOption{
		action,
		str(optName, "add, remove: the freeze's name, one word such as year-end", false),
		str(optFrom, "add: when it starts (default now): tomorrow 18:00, 2026-12-20 (a date: its midnight)", false),
		str(optTo, "add: when it ends, or give duration: fri 18:00, 2027-01-04 Europe/Berlin", false),
		str(optDuration, "add: how long it lasts, instead of to: "+durationDesc, false),
		str(optSvcs, "add: the services, comma-separated, or * for every service (default)", false),
		str(optRegs, "add: only in these regions, comma-separated", false),
		str(optReason, "add, remove: why", false),
		{Type: discordgo.ApplicationCommandOptionBoolean, Name: optAll, Description: "list: also ended and removed freezes"},
	}
}

// scheduleWhen reads the start of schedule: every (a weekly series), when
// "next" (the next free standard window), or a time.
func scheduleWhen(c *commands.Schedule, o options, env commands.Env, when func() (commands.When, error)) error {
	c.Anyway = o.text(optAnyway)
	every, at := o.text(optEvery), o.text(optWhen)
	switch {
	case every != "" && at != "":
		return &commands.Error{Msg: "give when or every, not both: when is one start (or next), every a weekly series"}
	case every != "":
		e, err := commands.ParseRecurrence(every, o.text(optUntil), env)
		if err != nil {
			return err
		}
		if c.Duration == 0 {
			return &commands.Error{Msg: "missing duration: a recurring upgrade says how long each window is, e.g. every:tue 02:00 duration:1h"}
		}
		c.Every = &e
		return nil
	case o.text(optUntil) != "":
		return &commands.Error{Msg: "until only ends a recurring upgrade: give every too"}
	case strings.EqualFold(at, "next"):
		if c.Anyway != "" {
			return &commands.Error{Msg: "next picks a window outside every freeze, so anyway has nothing to override; give a time instead to schedule into a freeze"}
		}
		c.Next = true
		return nil
	case at == "":
		return &commands.Error{Msg: "missing the start: when (a time, or next) or every (a weekday and time)"}
	}
	w, err := when()
	if err != nil {
		return err
	}
	c.Start, c.StartText, c.Zone, c.ZoneGiven, c.TimeNote = w.Start, w.Text, w.Zone, w.ZoneGiven, w.Note
	return nil
}

func buildSlots(o options, fail func(string, ...any) error) (commands.Command, error) {
	c := commands.Slots{Service: o.text(optService)}
	if c.Service == "" {
		return nil, fail("missing service:<service>")
	}
	if x, ok := o[optCount]; ok {
		f, _ := x.Value.(float64)
		n := int(f)
		if n < 1 || n > commands.MaxSlots || float64(n) != f {
			return nil, fail("the count must be a whole number from 1 to %d", commands.MaxSlots)
		}
		c.N = n
	}
	return c, nil
}

// buildFreeze reads freeze's options the way the grammar reads its text:
// the text is put together from them and parsed, times quoted, and the
// reason (free text) set afterwards. A name or an end missing is refused
// here, in option syntax (name:<name>, to:<time>), not in the grammar's.
func buildFreeze(o options, env commands.Env) (commands.Command, error) {
	action := o.text(optAction)
	switch {
	case action == "remove" && o.text(optName) == "":
		return nil, &commands.Error{Msg: "missing name:<name> of the freeze to remove"}
	case action != "add":
	case o.text(optName) == "":
		return nil, &commands.Error{Msg: "missing name:<name> of the freeze, one word such as year-end"}
	case o.text(optTo) != "" && o.text(optDuration) != "":
		return nil, &commands.Error{Msg: "give to or duration, not both: each says when the freeze ends"}
	case o.text(optTo) == "" && o.text(optDuration) == "":
		return nil, &commands.Error{Msg: "missing the end: to:<time> or duration:<duration>"}
	}
	words := []string{"freeze", action}
	quoted := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, "") + `"` }
	switch action {
	case "list":
		if o.flag(optAll) {
			words = append(words, "all")
		}
	case "remove":
		if n := o.text(optName); n != "" {
			words = append(words, quoted(n))
		}
	case "add":
		if n := o.text(optName); n != "" {
			words = append(words, quoted(n))
		}
		for _, opt := range []struct{ name, kw string }{{optFrom, "from"}, {optTo, "to"}, {optDuration, "for"}, {optSvcs, "services"}, {optRegs, "regions"}} {
			if v := o.text(opt.name); v != "" {
				words = append(words, opt.kw, quoted(v))
			}
		}
	}
	cmd, err := commands.Parse(strings.Join(words, " "), env)
	if err != nil {
		return nil, err
	}
	c := cmd.(commands.Freeze)
	if action != "list" {
		c.Reason = o.text(optReason)
	}
	return c, nil
}
