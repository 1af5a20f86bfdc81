// Package commands is the /upgrade grammar: it turns the text a user typed
// (or a platform's structured options) into typed commands. Pure functions,
// no I/O: the caller supplies the clock and the user's time zone.
package commands

import (
	"strconv"
	"strings"
	"time"
)

// Command is one parsed /upgrade invocation.
type Command interface {
	// Name is the subcommand keyword, e.g. "schedule".
	Name() string
}

// Schedule plans a new upgrade window.
type Schedule struct {
	Service  string        // as typed; matched case-insensitively by the bot
	Version  string        // e.g. v2.4.0
	Start    time.Time     // resolved absolute start, to the minute
	Duration time.Duration // 0 means "not given": the bot applies reminders.default_duration
	Region   string        // optional
	Impact   string        // optional, the rest of the line
	// StartText is the time as typed ("tomorrow 02:00 Europe/Berlin"), for replies and errors.
	StartText string
	// ZoneGiven reports that the start named its zone (or was relative, "in 2h");
	// otherwise it was read in Env.Location.
	ZoneGiven bool
	// Zone is the zone the user typed with the start; nil when they typed none
	// or the start was relative.
	Zone *time.Location
	// TimeNote is one sentence for the reply when the start fell in a DST gap
	// or overlap and was resolved by the rule ("02:30 does not exist on 14 March
	// in America/New_York ..."); "" normally.
	TimeNote string
	// Next asks for the service's next free standard window instead of a
	// start ("next"); Start is then zero.
	Next bool
	// Every makes a weekly series instead of one upgrade ("every tue 02:00
	// for 1h [until <date>]"); Start is then zero.
	Every *Every
	// Anyway is an admin's reason for scheduling into a freeze ("anyway
	// <reason...>"); "" for none.
	Anyway string
	// AnywayInImpact, when an unquoted anyway ended the impact, says how to
	// have the word in the impact instead ("to have the word in the impact,
	// quote it: impact \"...\""), for a reply whose anyway overrode
	// nothing; "" otherwise.
	AnywayInImpact string
}

// List shows upcoming and running windows, optionally for one service.
type List struct {
	Service string
	All     bool // also finished windows of the last 30 days
}

// Show displays one upgrade.
type Show struct{ ID int }

// Start opens the window.
type Start struct {
	ID int
	// Anyway is the reason an owner or admin gives for starting with
	// readiness criteria still open ("anyway <reason...>"); "" for none.
	Anyway string
}

// Complete closes the window successfully.
type Complete struct {
	ID   int
	Note string
}

// Rollback raises a rollback alert; Reason is required.
type Rollback struct {
	ID     int
	Reason string
}

// Cancel withdraws a scheduled upgrade.
type Cancel struct {
	ID int
	// Series is the series ended instead of an upgrade (cancel SER-3; ID
	// is then 0): as cancel <id> series of one of its occurrences.
	Series int
	Reason string
	// Scope answers, for an occurrence of a series, whether the occurrence
	// or the whole series is cancelled (CancelOccurrence, CancelSeries);
	// "" when not given.
	Scope string
	// ScopeOption says the scope was chosen as an option of its own (an
	// adapter's separate option), not typed as the first word after the id: for an upgrade that is
	// no occurrence of a series it is then never read as the reason.
	ScopeOption bool
}

// Reschedule moves a scheduled window.
type Reschedule struct {
	ID        int
	Start     time.Time     // resolved absolute start, to the minute
	Duration  time.Duration // 0 means "keep the current duration"
	StartText string
	ZoneGiven bool           // as in Schedule
	Zone      *time.Location // as in Schedule
	TimeNote  string         // as in Schedule
	Anyway    string         // as in Schedule
}

// Extend pushes the window's end later.
type Extend struct {
	ID     int
	By     time.Duration
	Anyway string // as in Schedule
}

// Ack acknowledges the latest notice of an upgrade.
type Ack struct{ ID int }

// Pending lists who has not acknowledged.
type Pending struct{ ID int }

// Link attaches a GitHub release.
type Link struct {
	ID   int
	Repo string // owner/repo
	Tag  string // empty: the upgrade's version
}

// Log shows the decision log.
type Log struct{ ID int }

// Stats shows outcome and acknowledgment figures, optionally for one service.
type Stats struct{ Service string }

// Help shows usage, for one subcommand when Topic is set.
type Help struct{ Topic string }

// Name implements Command.
func (Schedule) Name() string { return "schedule" }

// Name implements Command.
func (List) Name() string { return "list" }

// Name implements Command.
func (Show) Name() string { return "show" }

// Name implements Command.
func (Start) Name() string { return "start" }

// Name implements Command.
func (Complete) Name() string { return "complete" }

// Name implements Command.
func (Rollback) Name() string { return "rollback" }

// Name implements Command.
func (Cancel) Name() string { return "cancel" }

// Name implements Command.
func (Reschedule) Name() string { return "reschedule" }

// Name implements Command.
func (Extend) Name() string { return "extend" }

// Name implements Command.
func (Ack) Name() string { return "ack" }

// Name implements Command.
func (Pending) Name() string { return "pending" }

// Name implements Command.
func (Link) Name() string { return "link" }

// Name implements Command.
func (Log) Name() string { return "log" }

// Name implements Command.
func (Stats) Name() string { return "stats" }

// Name implements Command.
func (Help) Name() string { return "help" }

// DefaultCommand is the slash command users type before the grammar, and
// how command hints start where a platform does not configure another.
const DefaultCommand = "/upgrade"

// FormatID renders an upgrade number the way users see it: UPG-7.
func FormatID(n int) string { return "UPG-" + strconv.Itoa(n) }

// Env is what parsing needs from the outside world.
type Env struct {
	Now      time.Time      // the current instant
	Location *time.Location // the invoking user's zone (or default_timezone); nil means UTC

	// ReleaseHost is the host of the GitHub Enterprise server whose pages
	// link reads instead of github.com's (ghe.example.com, with its port
	// if its URLs have one other than the default, and the path prefix
	// its pages are under if any: ghe.example.com/github); "" for none,
	// github.com's being read. Pages of other hosts are refused: the
	// repository would be looked up on the configured server.
	ReleaseHost string

	// thisMinute makes the very minute it is now count as ahead: a start
	// at it means now, not its next occurrence, and is no past time even
	// when Now is within that minute. Set for a freeze's start only (the
	// freeze holds from now); a schedule at this minute still means the
	// next occurrence.
	thisMinute bool

	// end names the time being read as an end (a freeze's to), so that a
	// refusal says "the end time … is in the past", not "the start time".
	end bool
}

// ahead reports whether t, a time read to the minute, is still ahead of
// Now: after it, or at its very minute when thisMinute is set.
func (e Env) ahead(t time.Time) bool {
	if e.thisMinute {
		return !t.Before(e.Now.Truncate(time.Minute))
	}
	return t.After(e.Now)
}

// past reports whether a start t is no longer ahead: before Now or at it,
// or before its minute when thisMinute is set. At the very second a minute
// begins, that minute is past too, as it is a second later: the parser
// refuses it in the reader's zone, with what it means and what time it is.
func (e Env) past(t time.Time) bool {
	return !e.ahead(t)
}

// Error is a parse error a user can act on: it names the bad token and shows usage.
type Error struct {
	Token string // the offending token ("" when something is missing)
	Msg   string // what was wrong, e.g. `unknown subcommand "shedule"`
	Usage string // the correct usage of the subcommand (or the overview)
	// Says, when set, is Msg in pieces: plain text, code, and the commands
	// it suggests as data, so that each platform writes them the way its
	// users type them (Msg is the text grammar's reading, for logs).
	Says []Part
}

// Part is a piece of an Error's message: Text, shown as code when Code is
// set, or Hint, a command to type.
type Part struct {
	Text string
	Code bool
	Hint *Suggestion
}

// Suggestion is a command a refusal suggests: the subcommand and its
// arguments by the names platforms with options give them ("id", "repo").
type Suggestion struct {
	Verb string
	Args []SuggestionArg
}

// SuggestionArg is one argument of a Suggestion; Placeholder is shown
// when Value is empty (default "<Name>"), in brackets when Optional.
type SuggestionArg struct {
	Name, Value, Placeholder string
	Optional                 bool
}

// typed writes s in the text grammar: "/upgrade link UPG-7 acme/payments <tag>".
func (s Suggestion) typed() string {
	words := []string{DefaultCommand, s.Verb}
	for _, a := range s.Args {
		v := a.Value
		if v == "" {
			v = a.Placeholder
		}
		if v == "" {
			v = "<" + a.Name + ">"
		}
		if a.Optional && a.Value == "" {
			v = "[" + v + "]"
		}
		words = append(words, v)
	}
	return strings.Join(words, " ")
}

// Refusal is an Error said in parts (Error.Says), its Msg their reading
// in the text grammar: for a platform's own refusals of what its fields
// hold, which suggest commands its users write their own way.
func Refusal(parts ...Part) *Error { return &Error{Msg: said(parts...), Says: parts} }

// said joins parts into the text grammar's reading of them (Error.Msg):
// code and commands between backticks.
func said(parts ...Part) string {
	var b strings.Builder
	for _, p := range parts {
		switch {
		case p.Hint != nil:
			b.WriteString("`" + p.Hint.typed() + "`")
		case p.Code:
			b.WriteString("`" + p.Text + "`")
		default:
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// Error implements error.
func (e *Error) Error() string {
	if e.Usage == "" {
		return e.Msg
	}
	return e.Msg + "\nUsage: " + e.Usage
}
