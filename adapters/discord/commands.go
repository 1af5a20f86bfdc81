package discord

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/upgradebot/upgradebot/adapters/outbound"
	"github.com/upgradebot/upgradebot/bot"
	"github.com/upgradebot/upgradebot/commands"
)

// commandName is the one application command: /upgrade, with a subcommand
// per verb of the grammar.
const commandName = "upgrade"

// The options of the subcommands. Their names are the Hint argument names
// the core uses, so a hint reads as what is typed: /upgrade start id:UPG-7.
const (
	optID       = "id"
	optService  = "service"
	optVersion  = "version"
	optWhen     = "when"
	optDuration = "duration"
	optRegion   = "region"
	optImpact   = "impact"
	optReason   = "reason"
	optNote     = "note"
	optRepo     = "repo"
	optTag      = "tag"
	optAll      = "all"
	optTopic    = "topic"
	// predictable windows (windows.go)
	optEvery  = "every"
	optUntil  = "until"
	optAnyway = "anyway"
	optScope  = "scope"
	optCount  = "count"
	optAction = "action"
	optName   = "name"
	optFrom   = "from"
	optTo     = "to"
	optSvcs   = "services"
	optRegs   = "regions"
	// readiness (readiness.go)
	optCriterion = "criterion"
	optPlan      = "plan"
	optText      = "text"
)

func str(name, desc string, required bool) *discordgo.ApplicationCommandOption {
	return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: name, Description: desc, Required: required}
}

func idOption() *discordgo.ApplicationCommandOption {
	o := str(optID, "the upgrade: UPG-7, #7 or 7", true)
	o.Autocomplete = true
	return o
}

func serviceOption(required bool) *discordgo.ApplicationCommandOption {
	o := str(optService, "a configured service", required)
	o.Autocomplete = true
	return o
}

const (
	whenDesc     = "tomorrow 02:00, tue 14:00 Europe/Berlin, 2026-12-01 02:00, in 2h, in 3 days"
	durationDesc = "90m, 2h, 1h30m, 3d, 1w, 2 hours"
)

// Definition is the /upgrade application command: a subcommand per verb of
// the grammar, in help order, options as the text grammar's arguments
// (required first, as Discord wants).
func Definition() *discordgo.ApplicationCommand {
	sub := func(name, desc string, opts ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommand, Name: name, Description: desc, Options: opts}
	}
	var topics []*discordgo.ApplicationCommandOptionChoice
	for _, n := range commands.Names() {
		topics = append(topics, &discordgo.ApplicationCommandOptionChoice{Name: n, Value: n})
	}
	topic := str(optTopic, "one subcommand's details", false)
	topic.Choices = topics
	return &discordgo.ApplicationCommand{
		Type:        discordgo.ChatApplicationCommand,
		Name:        commandName,
		Description: "Plan and announce upgrade windows",
		Contexts:    &[]discordgo.InteractionContextType{discordgo.InteractionContextGuild},
		Options: []*discordgo.ApplicationCommandOption{
			sub("schedule", "plan a new upgrade window",
				serviceOption(true), str(optVersion, "the version, e.g. v2.4.0", true), str(optWhen, "the start: tomorrow 02:00, tue 14:00 Europe/Berlin, in 2h; or next: the next free window", false),
				str(optDuration, "the window's length (default from the configuration): "+durationDesc, false),
				str(optRegion, "the region it affects", false), str(optImpact, "what may break", false),
				str(optEvery, "instead of when, weekly: tue 02:00, thursday 10pm Europe/Berlin (needs duration)", false),
				str(optUntil, "with every: the last date, YYYY-MM-DD", false), anywayOption()),
			sub("list", "upcoming and running windows",
				serviceOption(false), &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionBoolean, Name: optAll, Description: "also finished windows of the last 30 days"}),
			sub("show", "one upgrade: window, state, release, acks, threads", idOption()),
			sub("start", "open the window", idOption(), startAnywayOption()),
			sub("complete", "close the window successfully", idOption(), str(optNote, "a note", false)),
			sub("rollback", "raise a rollback alert", idOption(), str(optReason, "why (required)", true)),
			sub("cancel", "withdraw a scheduled upgrade", idOption(), str(optReason, "why", false), scopeOption()),
			sub("reschedule", "move a scheduled window", idOption(), str(optWhen, "the new start: "+whenDesc, true),
				str(optDuration, "the new length (default: keep it): "+durationDesc, false), anywayOption()),
			sub("extend", "push the window's end later", idOption(), str(optDuration, "how much longer: "+durationDesc, true), anywayOption()),
			sub("ack", "acknowledge its latest notice", idOption()),
			sub("pending", "who has not acknowledged", idOption()),
			sub("link", "link a GitHub release", idOption(), str(optRepo, "owner/repo, e.g. acme/payments, or a release page's URL", true), str(optTag, "the tag (default: the version)", false)),
			sub("ready", "mark a readiness criterion met", idOption(), criterionOption()),
			sub("waive", "waive a readiness criterion, saying why", idOption(), criterionOption(), str(optReason, "why it is waived (required)", true)),
			sub("unready", "open a readiness criterion again, saying why", idOption(), criterionOption(), str(optReason, "why it is open again (required)", true)),
			sub("plan", "record the rollback plan", idOption(), str(optPlan, "a runbook link or the steps", true)),
			sub("debrief", "record the debrief after the window", idOption(), str(optText, "what happened, what to change", true)),
			sub("log", "the decision log: every change, who, when, why", idOption()),
			sub("stats", "outcomes, rollback rate, time-to-ack over 30 and 90 days", serviceOption(false)),
			sub("slots", "the next free standard windows of a service", serviceOption(true), countOption()),
			sub("freeze", "change freezes: add and remove (admins), list", freezeOptions()...),
			sub("help", "how to use /upgrade", topic),
		},
	}
}

// options are the values of one subcommand's options, by name.
type options map[string]*discordgo.ApplicationCommandInteractionDataOption

// subcommand finds the subcommand of an interaction and its options.
func subcommand(data discordgo.ApplicationCommandInteractionData) (string, options) {
	for _, o := range data.Options {
		if o.Type == discordgo.ApplicationCommandOptionSubCommand {
			opts := options{}
			for _, x := range o.Options {
				opts[x.Name] = x
			}
			return o.Name, opts
		}
	}
	return "", nil
}

// text is a string option's value, trimmed ("" when absent). The values
// that the typed grammar reads as words or a sentence (service, version,
// region, impact, reason) lose one pair of surrounding quotes, as typing
// them quoted does on Slack and in the console: version:"v4" is v4.
func (o options) text(name string) string {
	if x, ok := o[name]; ok {
		if s, ok := x.Value.(string); ok {
			s = strings.TrimSpace(s)
			if unquotedOptions[name] {
				s = unquote(s)
			}
			return s
		}
	}
	return ""
}

// unquotedOptions are the options whose value loses its surrounding quotes.
var unquotedOptions = map[string]bool{optService: true, optVersion: true, optRegion: true, optImpact: true, optReason: true}

// isQuote is the typed grammar's quote: the straight one and the curly ones
// that phone keyboards put in its place.
func isQuote(r rune) bool { return r == '"' || r == '“' || r == '”' }

// unquote takes off one pair of quotes around the whole of s, trimmed
// inside, when no other quote is inside; else s is returned as it is.
func unquote(s string) string {
	first, n := utf8.DecodeRuneInString(s)
	last, m := utf8.DecodeLastRuneInString(s)
	if len(s) < n+m || !isQuote(first) || !isQuote(last) || strings.IndexFunc(s[n:len(s)-m], isQuote) >= 0 {
		// Not one quoted value ("foo" broke "bar" is two quoted words):
		// as typed.
		return s
	}
	return strings.TrimSpace(s[n : len(s)-m])
}

// blank reports whether the option was given but holds only spaces: a
// reason written blank, which must not read as one not given.
func (o options) blank(name string) bool {
	x, ok := o[name]
	if !ok {
		return false
	}
	s, ok := x.Value.(string)
	return ok && strings.TrimSpace(s) == ""
}

func (o options) flag(name string) bool {
	if x, ok := o[name]; ok {
		b, _ := x.Value.(bool)
		return b
	}
	return false
}

// build maps a subcommand's options onto the typed command the text grammar
// gives for the same words. A value that cannot be read is refused with the
// grammar's own message and the subcommand's usage, as the core refuses
// typed text (bot.ParseRefusal).
func build(name string, o options, env commands.Env) (commands.Command, error) {
	// Discord sends only registered subcommands; anything else (none, or
	// one this version does not have) is refused by name, with the list.
	switch {
	case name == "":
		return nil, &commands.Error{Msg: "missing subcommand; valid subcommands: " + strings.Join(subcommandNames(), ", ")}
	case subcommandDef(name) == nil:
		return nil, &commands.Error{Token: name, Msg: fmt.Sprintf("unknown subcommand %q; valid subcommands: %s", name, strings.Join(subcommandNames(), ", "))}
	}
	fail := func(format string, args ...any) error {
		return &commands.Error{Msg: fmt.Sprintf(format, args...), Usage: commands.Usage(name)}
	}
	usage := func(err error) error {
		var e *commands.Error
		if errors.As(err, &e) {
			c := *e
			c.Usage = commands.Usage(name)
			return &c
		}
		return fail("%v", err)
	}
	// typedScope is cancel's scope typed after the id in the id option
	// (id:UPG-7 series) with no scope option: read as that option.
	typedScope := ""
	id := func() (int, error) {
		s := o.text(optID)
		if s == "" {
			return 0, fail("missing id:<id>; use UPG-7, upg-7, #7 or 7")
		}
		n, err := commands.ParseTypedID(s) // the grammar's rule: UPG-7, is UPG-7
		if err != nil {
			// Refused with the grammar's words: (UPG-7), UPG-7, UPG-8;
			// and words after the id.
			var rest []string
			if n, rest, err = commands.ParseIDField(name, s); err == nil && len(rest) > 0 {
				if typedScope = idScope(name, rest, o); typedScope == "" {
					err = wordsAfterID(name, n, s, rest, o)
				}
			}
		}
		if err != nil {
			return 0, usage(err)
		}
		return n, nil
	}
	when := func() (commands.When, error) {
		w, err := commands.ParseWhen(o.text(optWhen), env)
		if err != nil {
			return commands.When{}, usage(err)
		}
		return w, nil
	}
	length := func(role string, required bool) (time.Duration, error) {
		s := o.text(optDuration)
		if s == "" {
			if required {
				return 0, fail("missing duration:<duration>")
			}
			return 0, nil
		}
		d, err := windowDuration(s, role)
		if err != nil {
			return 0, usage(err)
		}
		return d, nil
	}
	switch name {
	case "schedule":
		c := commands.Schedule{Service: o.text(optService), Version: o.text(optVersion), Region: o.text(optRegion), Impact: o.text(optImpact)}
		switch {
		case c.Service == "":
			return nil, fail("missing service:<service>")
		case c.Version == "":
			return nil, fail("missing version:<version>")
		}
		var err error
		if c.Duration, err = length("the window duration", false); err != nil {
			return nil, err
		}
		if err := scheduleWhen(&c, o, env, when); err != nil {
			return nil, usage(err)
		}
		return c, nil
	case "list":
		return commands.List{Service: o.text(optService), All: o.flag(optAll)}, nil
	case "stats":
		return commands.Stats{Service: o.text(optService)}, nil
	case "reschedule":
		n, err := id()
		if err != nil {
			return nil, err
		}
		w, err := when()
		if err != nil {
			return nil, err
		}
		c := commands.Reschedule{ID: n, Start: w.Start, StartText: w.Text, Zone: w.Zone, ZoneGiven: w.ZoneGiven, TimeNote: w.Note, Anyway: o.text(optAnyway)}
		if c.Duration, err = length("the window duration", false); err != nil {
			return nil, err
		}
		return c, nil
	case "extend":
		n, err := id()
		if err != nil {
			return nil, err
		}
		by, err := length("the extension", true)
		if err != nil {
			return nil, err
		}
		return commands.Extend{ID: n, By: by, Anyway: o.text(optAnyway)}, nil
	case "help":
		return commands.Help{Topic: o.text(optTopic)}, nil
	case "slots":
		return buildSlots(o, fail)
	case "freeze":
		c, err := buildFreeze(o, env)
		if err != nil {
			return nil, usage(err)
		}
		return c, nil
	}
	if sn, ok := commands.ParseSeriesID(o.text(optID)); ok {
		// A series id (SER-3), as the typed grammar reads one: show shows
		// the series, cancel ends it; the others say what to give instead.
		switch name {
		case "show":
			return commands.ShowSeries{ID: sn}, nil
		case "cancel":
			scope := o.text(optScope)
			return commands.Cancel{Series: sn, Reason: o.text(optReason), Scope: scope, ScopeOption: scope != ""}, nil
		}
	}
	n, err := id()
	if err != nil {
		return nil, err
	}
	switch name {
	case "show":
		return commands.Show{ID: n}, nil
	case "start":
		if o.blank(optAnyway) {
			return nil, fail("missing the reason in anyway:<reason...>; say why it starts although not every readiness criterion is met")
		}
		return commands.Start{ID: n, Anyway: o.text(optAnyway)}, nil
	case "ready", "waive", "unready", "plan", "debrief":
		return buildReadiness(name, n, o, fail)
	case "complete":
		return commands.Complete{ID: n, Note: o.text(optNote)}, nil
	case "rollback":
		reason := o.text(optReason)
		if reason == "" {
			return nil, fail("missing reason:<reason...>; a rollback alert must say why")
		}
		return commands.Rollback{ID: n, Reason: reason}, nil
	case "cancel":
		scope := o.text(optScope)
		if scope == "" {
			scope = typedScope // as if chosen in the scope option: the core decides alike
		}
		return commands.Cancel{ID: n, Reason: o.text(optReason), Scope: scope, ScopeOption: scope != ""}, nil
	case "ack":
		return commands.Ack{ID: n}, nil
	case "pending":
		return commands.Pending{ID: n}, nil
	case "log":
		return commands.Log{ID: n}, nil
	case "link":
		typed := o.text(optRepo)
		if typed == "" {
			return nil, fail("missing repo:<owner/repo>, e.g. acme/payments")
		}
		repo, tag, ok := commands.ParseRelease(typed, env)
		if !ok {
			e := commands.BadRelease(n, typed, env)
			e.Usage = commands.Usage(name)
			return nil, e
		}
		if typedTag := o.text(optTag); typedTag != "" {
			if tag != "" && !commands.SameVersion(tag, typedTag) {
				return nil, fail(commands.TwoTags, tag, typedTag)
			}
			if tag == "" {
				tag = typedTag
			}
		}
		return commands.Link{ID: n, Repo: repo, Tag: tag}, nil
	}
	// A subcommand registered (Definition) and not built here.
	return nil, fmt.Errorf("discord: subcommand %q has no options reader", name)
}

// idScope is cancel's scope when it is all the id option holds after the
// id (id:UPG-7 series) and the scope option is not given: it is read as
// that option, so the core answers as for scope:series, whether or not the
// upgrade is an occurrence of a series. "" otherwise.
func idScope(name string, rest []string, o options) string {
	if name != "cancel" || len(rest) != 1 || o.text(optScope) != "" {
		return ""
	}
	return commands.ScopeWord(rest[0])
}

// wordsAfterID refuses the words after the id n in the id option (value,
// rest): it holds the id alone (but for cancel's scope alone after it,
// idScope). cancel's scope followed by more words (cancel UPG-7 series
// late) is pointed at the scope option,
// or at the reason option when it begins the reason, unless the scope
// option is given too (the id is then said to stand alone, the option's
// scope kept) or another id follows (UPG-7 series, UPG-8: cancel takes
// one id, as a list without the scope is refused); other words are
// refused as the value is no id.
func wordsAfterID(name string, n int, value string, rest []string, o options) error {
	scope := commands.ScopeWord(rest[0])
	if name != "cancel" || scope == "" {
		_, err := commands.ParseTypedID(value)
		return err
	}
	if len(rest) > 1 && strings.HasSuffix(rest[0], ",") && commands.IDAfter(strings.Fields(value)[0], rest[1], len(rest) == 2) {
		return commands.Refusal(commands.Part{Text: fmt.Sprintf(commands.OneID, name, strings.Join(strings.Fields(value), " "), commands.FormatID(n))})
	}
	if given := o.text(optScope); given != "" {
		return commands.Refusal(commands.Part{Text: fmt.Sprintf("%q is more than an upgrade id: give the id alone, %s; the scope is the %s option's, %s", value, commands.FormatID(n), optScope, given)})
	}
	reason := strings.TrimSpace(strings.Join(rest[1:], " ") + " " + o.text(optReason))
	id := commands.SuggestionArg{Name: optID, Value: commands.FormatID(n)}
	asScope := &commands.Suggestion{Verb: name, Args: []commands.SuggestionArg{id, {Name: optScope, Value: scope}}}
	if reason != "" {
		asScope.Args = append(asScope.Args, commands.SuggestionArg{Name: optReason, Value: reason})
	}
	asReason := &commands.Suggestion{Verb: name, Args: []commands.SuggestionArg{id, {Name: optReason, Value: strings.TrimSpace(scope + " " + reason)}}}
	return commands.Refusal(
		commands.Part{Text: fmt.Sprintf("%q is more than an upgrade id: give the id alone and choose %q in the %s option: ", value, scope, optScope)},
		commands.Part{Hint: asScope},
		commands.Part{Text: fmt.Sprintf(`; if %q begins the reason, give it in the %s option: `, scope, optReason)},
		commands.Part{Hint: asReason},
	)
}

// windowDuration reads a duration option the way the grammar reads the
// duration of schedule, reschedule and extend: any form ParseDuration takes
// ("2 hours", "an hour" included), positive, whole minutes. The sentences
// are the grammar's, so Discord and Slack refuse alike.
func windowDuration(s, role string) (time.Duration, error) {
	words := strings.Fields(s)
	for i, w := range words {
		if (strings.EqualFold(w, "a") || strings.EqualFold(w, "an")) && i+1 < len(words) {
			words[i] = "1"
		}
	}
	d, err := commands.ParseDuration(strings.Join(words, " "))
	if err != nil {
		var e *commands.Error
		if errors.As(err, &e) {
			c := *e
			c.Msg = strings.Replace(c.Msg, fmt.Sprintf("%q", strings.Join(words, " ")), fmt.Sprintf("%q", s), 1)
			return 0, &c
		}
		return 0, err
	}
	switch {
	case d <= 0:
		return 0, &commands.Error{Token: s, Msg: fmt.Sprintf("%s %q must be greater than zero", role, s)}
	case d < time.Minute:
		return 0, &commands.Error{Token: s, Msg: fmt.Sprintf("%s %q is under a minute; times and durations are whole minutes, so use 1m or more", role, s)}
	case d%time.Minute != 0:
		lo := d.Truncate(time.Minute)
		return 0, &commands.Error{Token: s, Msg: fmt.Sprintf("%s %q is not a whole number of minutes; durations are whole minutes, e.g. %s or %s", role, s, shortDuration(lo), shortDuration(lo+time.Minute))}
	}
	return d, nil
}

// shortDuration writes a whole-minute duration the way users type it.
func shortDuration(d time.Duration) string {
	s := strings.TrimSuffix(d.String(), "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// autocomplete suggests values for the option being typed: configured
// services for service, active upgrades (newest first, with their service
// and window) for id, the upgrade's readiness criteria for criterion.
func (a *Adapter) autocomplete(ctx context.Context, i *discordgo.Interaction, actor bot.Actor) []*discordgo.ApplicationCommandOptionChoice {
	data := i.ApplicationCommandData()
	var focused *discordgo.ApplicationCommandInteractionDataOption
	sub, opts := subcommand(data)
	for _, x := range opts {
		if x.Focused {
			focused = x
		}
	}
	if focused == nil {
		return nil
	}
	typed, _ := focused.Value.(string)
	typed = strings.ToLower(strings.TrimSpace(typed))
	choices := []*discordgo.ApplicationCommandOptionChoice{}
	switch focused.Name {
	case optService:
		for _, s := range a.core.Directory().ServiceNames() {
			if strings.Contains(strings.ToLower(s), typed) && len(choices) < maxChoices {
				choices = append(choices, &discordgo.ApplicationCommandOptionChoice{Name: truncate(s, maxChoiceName), Value: s})
			}
		}
	case optCriterion:
		ctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
		defer cancel()
		return a.criterionChoices(ctx, sub, opts.text(optID), typed)
	case optID:
		ctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
		defer cancel()
		us, err := a.core.Upgrades(ctx, bot.Filter{States: []bot.State{bot.Scheduled, bot.InProgress}})
		if err != nil {
			a.log.WarnContext(ctx, "autocomplete: listing upgrades failed", "err", err)
			return choices
		}
		digits := idDigits(typed)
		rank := func(u *bot.Upgrade) int {
			switch n := strconv.Itoa(u.ID); {
			case digits == "":
				return 2 // no id typed: every one matches by its label
			case n == digits:
				return 0
			case strings.HasPrefix(n, digits):
				return 1
			}
			return 2
		}
		// The id typed first (equal, then starting with the digits), then
		// the rest that matches anywhere; newest first within each.
		slices.SortFunc(us, func(x, y *bot.Upgrade) int {
			if rx, ry := rank(x), rank(y); rx != ry {
				return rx - ry
			}
			return y.ID - x.ID
		})
		loc := a.core.Env(bot.Invocation{Actor: actor}).Location
		for _, u := range us {
			label := choiceLabel(u, loc)
			if typed != "" && rank(u) == 2 && !strings.Contains(strings.ToLower(label), strings.TrimPrefix(typed, "#")) {
				continue
			}
			choices = append(choices, &discordgo.ApplicationCommandOptionChoice{Name: label, Value: u.Key()})
			if len(choices) == maxChoices {
				break
			}
		}
	}
	return choices
}

// idDigits is the number of an id being typed ("7", "#7", "upg-7",
// "UPG 7", lower-cased already), "" when what is typed is no id's start.
func idDigits(typed string) string {
	s := strings.TrimPrefix(typed, "#")
	if rest, ok := strings.CutPrefix(s, "upg"); ok {
		s = strings.TrimLeft(rest, "- ")
	}
	if strings.Trim(s, "0123456789") != "" {
		return ""
	}
	return s
}

// choiceLabel names an upgrade in an autocomplete list, where Discord shows
// plain text only: "UPG-7 payments v2.4.0 · 2026-12-01 03:00–04:30 CET".
func choiceLabel(u *bot.Upgrade, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	start, end := u.Start.In(loc), u.End.In(loc)
	window := start.Format("2006-01-02 15:04") + "–"
	if end.Format("2006-01-02") == start.Format("2006-01-02") {
		window += end.Format("15:04 MST")
	} else {
		window += end.Format("2006-01-02 15:04 MST")
	}
	label := u.Title() + " · " + window
	if u.State == bot.InProgress {
		label += " · in progress"
	}
	return truncate(label, maxChoiceName)
}

// How often registration is tried again: soon while Discord fails or
// cannot be reached, rarely while it refuses (that takes a fix).
const (
	registerRetry   = 30 * time.Second
	registerRefused = 5 * time.Minute
)

// registerLoop registers the command until Discord takes it, or ctx ends.
func (a *Adapter) registerLoop(ctx context.Context) {
	for {
		err := a.register(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		wait := registerRetry
		var e *Error
		if errors.As(err, &e) && e.Permanent {
			wait = registerRefused
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// register puts the /upgrade command in place with a bulk overwrite: on
// each of guild_ids (instantly), or globally. A bulk overwrite replaces
// every command of the application in that scope, so the registered set is
// exactly this one command, whatever was there before.
func (a *Adapter) register(ctx context.Context) error {
	scopes := a.guilds
	if len(scopes) == 0 {
		scopes = []string{""}
	}
	var errs []string
	var first error
	for _, g := range scopes {
		where := "globally"
		if g != "" {
			where = "on guild " + g
		}
		err := a.call(ctx, "register command", true, func(opts ...discordgo.RequestOption) error {
			_, err := a.api.ApplicationCommandBulkOverwrite(a.appID, g, []*discordgo.ApplicationCommand{Definition()}, opts...)
			return err
		})
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			why := "registering /" + commandName + " " + where + " failed: " + a.reason(err)
			a.log.ErrorContext(ctx, "discord: "+why, "err", err)
			errs = append(errs, why)
			if first == nil {
				first = err
			}
			continue
		}
		a.log.InfoContext(ctx, "registered /"+commandName+" "+where)
	}
	if len(errs) > 0 {
		why := strings.Join(errs, "; ")
		a.registerErr.Store(&why)
		return first
	}
	a.registerErr.Store(nil)
	a.registered.Store(true)
	return nil
}

// reason is a failed call as /readyz says it: Discord's code and message,
// the token refused, or why Discord could not be reached.
func (a *Adapter) reason(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	switch {
	case e.TokenRefused():
		return "the bot token was refused (401)"
	case e.Unreachable():
		return "cannot reach Discord at " + a.hostOf(e.Err) + ": " + outbound.Reason(e.Err, "Discord")
	case e.Kind == kindBadBody:
		return e.badBody()
	case e.Code != 0:
		return fmt.Sprintf("%d %s", e.Code, e.Message)
	case e.redirect():
		return fmt.Sprintf("HTTP %d from %s, a redirect, not followed", e.Status, e.Host)
	case e.Status != 0:
		return fmt.Sprintf("HTTP %d", e.Status)
	}
	return outbound.Detail(e.Err)
}
