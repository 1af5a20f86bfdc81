package commands

import "strings"

// subcommand is one row of the grammar table. Usage, help and error replies are
// all generated from this table so they cannot drift apart.
type subcommand struct {
	name    string
	usage   []string // more than one line when the subcommand has alternative forms
	summary string
	example string
	times   bool // takes <time> or <duration>: help appends the accepted forms
	ids     bool // takes <id>: help appends the accepted id forms

	// details says more on the subcommand's own help page, if anything.
	details string
	// neutral marks details that read the same on every platform (no
	// typed grammar in them), so platforms with their own help show them.
	neutral bool
	// typed follows the details in the typed grammar's help only.
	typed string
}

// The usages of schedule's other forms, on its help page and under the
// errors in them.
const (
	scheduleNextUsage  = "/upgrade schedule <service> <version> next [for <duration>] [region <name>] [impact <text...>]"
	scheduleEveryUsage = "/upgrade schedule <service> <version> every <weekday> <time> for <duration> [until <date>] [region <name>] [impact <text...>]"
)

var table = []subcommand{
	// One usage line for schedule, as errors show it; next and every are
	// on its help page.
	{
		name:    "schedule",
		usage:   []string{"/upgrade schedule <service> <version> [at] <time> [for <duration>] [region <name>] [impact <text...>]"},
		summary: "plan a new upgrade window; <time> may be in <duration>, next, or every <weekday> <time>",
		example: `/upgrade schedule payments v2.4.0 tomorrow 02:00 Europe/Berlin for 2h region eu-west impact "card payments may fail"`,
		times:   true,
		details: scheduleNextUsage + "\n" + scheduleEveryUsage + "\n" +
			"next: the first standard window of the service from now that is long enough, outside every freeze, and overlapping no active upgrade " +
			"of the service or of a service it depends on or that depends on it; the reply says why earlier windows were skipped.\n" +
			"every: a weekly series (e.g. every tue 02:00 Europe/Berlin for 1h, optionally until a YYYY-MM-DD date); each occurrence is a normal upgrade with its own thread, " +
			"created ahead of its window (series_lead) so that every reminder goes out; cancel an occurrence to be asked about the series, or cancel the series by its id (SER-3). " +
			"A second series of the same service and version over the same dates is refused.\n" +
			"Outside the service's standard windows is allowed and warned. Into a change freeze is refused; an admin may end the command with " +
			"anyway <reason...> to override it, which is logged and shown in the thread.",
	},
	{
		name:    "list",
		usage:   []string{"/upgrade list [<service>] [all]"},
		summary: "upcoming and running windows (all: also finished, last 30 days)",
		example: "/upgrade list payments all",
	},
	{
		name:    "show",
		usage:   []string{"/upgrade show <id>"},
		summary: "one upgrade: window, state, release, acks, thread links",
		example: "/upgrade show UPG-7",
		ids:     true,
		details: "Given a series id (SER-3) instead, it shows the recurring upgrade: its recurrence, state, next occurrence and the upgrade each occurrence became.",
		neutral: true,
	},
	{
		name:    "start",
		usage:   []string{"/upgrade start <id> [anyway <reason...>]"},
		summary: "the owner opens the window",
		example: "/upgrade start UPG-7",
		ids:     true,
		details: "An upgrade with open readiness criteria is refused, naming them; an owner or admin may start it anyway " +
			"by ending the command with anyway <reason...>: the open criteria and the reason are logged and told in the thread.",
	},
	{
		name:    "complete",
		usage:   []string{"/upgrade complete <id> [<note...>]"},
		summary: "close the window successfully, with an optional note",
		example: "/upgrade complete UPG-7 all green",
		ids:     true,
	},
	{
		name:    "rollback",
		usage:   []string{"/upgrade rollback <id> <reason...>"},
		summary: "raise a rollback alert; the reason is required",
		example: "/upgrade rollback UPG-7 error rate doubled",
		ids:     true,
	},
	{
		name:    "cancel",
		usage:   []string{"/upgrade cancel <id> [occurrence|series] [<reason...>]"},
		summary: "withdraw a scheduled upgrade, with an optional reason",
		example: "/upgrade cancel UPG-7 release blocked",
		ids:     true,
		details: "An occurrence of a recurring upgrade asks first: cancel only this occurrence, or the whole series (it ends, and its scheduled occurrences are cancelled too). " +
			"Given a series id (SER-3) instead, it ends that series the same way.",
		neutral: true,
		typed:   " Say which after the id: occurrence or series.",
	},
	{
		name:    "reschedule",
		usage:   []string{"/upgrade reschedule <id> [at] <time> [for <duration>]"},
		summary: "move a scheduled window; <time> may be in <duration> (keeps its duration unless for is given)",
		example: "/upgrade reschedule UPG-7 tue 14:00 Europe/Berlin for 90m",
		times:   true,
		ids:     true,
		details: "Into a change freeze is refused; an admin may end the command with anyway <reason...> to override it.",
	},
	{
		name:    "extend",
		usage:   []string{"/upgrade extend <id> <duration>"},
		summary: "push the window's end later",
		example: "/upgrade extend UPG-7 30m",
		times:   true,
		ids:     true,
		details: "Into a change freeze is refused; an admin may end the command with anyway <reason...> to override it.",
	},
	{
		name:    "ack",
		usage:   []string{"/upgrade ack <id>"},
		summary: "same as pressing Acknowledge on its latest notice",
		example: "/upgrade ack UPG-7",
		ids:     true,
	},
	{
		name:    "pending",
		usage:   []string{"/upgrade pending <id>"},
		summary: "who has not acknowledged",
		example: "/upgrade pending UPG-7",
		ids:     true,
	},
	{
		name:    "link",
		usage:   []string{"/upgrade link <id> <owner/repo> [<tag>]"},
		summary: "link a GitHub release (tag defaults to the version)",
		example: "/upgrade link UPG-7 acme/payments v2.4.0",
		ids:     true,
	},
	{
		name:    "ready",
		usage:   []string{"/upgrade ready <id> <criterion...>"},
		summary: "mark a readiness criterion met (by its number, its text or the start of it)",
		example: "/upgrade ready UPG-7 2",
		ids:     true,
		details: readinessDetails,
		neutral: true,
	},
	{
		name:    "waive",
		usage:   []string{"/upgrade waive <id> <criterion> <reason...>"},
		summary: "waive a readiness criterion; the reason is required",
		example: `/upgrade waive UPG-7 "canary green" no canary for this service`,
		ids:     true,
		details: readinessDetails,
		neutral: true,
		typed:   " A criterion of several words is \"double quoted\" here.",
	},
	{
		name:    "unready",
		usage:   []string{"/upgrade unready <id> <criterion> <reason...>"},
		summary: "open a met or waived readiness criterion again; the reason is required",
		example: "/upgrade unready UPG-7 backups restore test failed",
		ids:     true,
		details: readinessDetails,
		neutral: true,
		typed:   " A criterion of several words is \"double quoted\" here.",
	},
	{
		name:    "plan",
		usage:   []string{"/upgrade plan <id> <url or text...>"},
		summary: "record the rollback plan: a runbook link or the steps",
		example: "/upgrade plan UPG-7 https://runbooks.example.com/payments/rollback",
		ids:     true,
		details: "The root message and the rollback alert show it. A later plan replaces it (logged). " +
			"An open readiness criterion that asks only for a plan on record (\"rollback plan\", \"rollback plan recorded\", \"rollback plan on record\") is met by recording one; " +
			"one that asks for more (\"rollback plan reviewed\") is for people to mark with /upgrade ready.",
		neutral: true,
	},
	{
		name:    "debrief",
		usage:   []string{"/upgrade debrief <id> <text...>"},
		summary: "after the end: what happened and what to change",
		example: "/upgrade debrief UPG-7 migration took 40m, not 10; next time run it the day before",
		ids:     true,
		details: "Accepted once the upgrade is completed or rolled back, from its owners and admins; a later debrief replaces it (logged).",
		neutral: true,
	},
	{
		name:    "log",
		usage:   []string{"/upgrade log <id>"},
		summary: "the decision log: every change, who, when, why",
		example: "/upgrade log UPG-7",
		ids:     true,
	},
	{
		name:    "stats",
		usage:   []string{"/upgrade stats [<service>]"},
		summary: "outcomes, rollback rate, time-to-ack, debriefs, readiness at start over 30 and 90 days",
		example: "/upgrade stats payments",
		details: "The upgrades of a period are those whose planned window started in it.\n" +
			"Rollback rate: rolled back, of completed and rolled back.\n" +
			"Time to acknowledge: from scheduling to each audience member's first acknowledgment of the pre-brief; " +
			"from the rollback to each first acknowledgment of the rollback alert. Median, and p90 by nearest rank.\n" +
			"Acknowledged before the window opened: audience members who acknowledged the pre-brief by the planned start " +
			"(or the actual start, if earlier), of all audience members; cancelled upgrades are left out.\n" +
			"Overrun: actual end minus planned end (extensions included), 0 when on time, over completed and rolled-back upgrades.\n" +
			"Debriefs: completed and rolled-back upgrades with a debrief, of all of them.\n" +
			"Readiness at start: started upgrades with a readiness checklist, started ready (every criterion met or waived) or started anyway.",
		neutral: true,
	},
	{
		name:    "slots",
		usage:   []string{"/upgrade slots <service> [<n>]"},
		summary: "the next free standard windows of a service",
		example: "/upgrade slots payments 3",
		details: "n: 5 unless given, at most 20. A window is free when it lies outside every change freeze of the service and overlaps no active upgrade " +
			"of the service or of a service in its dependency chain. Schedule into one with next, or with its time.",
	},
	{
		name: "freeze",
		usage: []string{
			"/upgrade freeze add <name> [from <time>] to <time>|for <duration> [services <service,...>|*] [regions <region,...>] [reason <text...>]",
			"/upgrade freeze list [all]",
			"/upgrade freeze remove <name> [<reason...>]",
		},
		summary: "change freezes: no upgrades in them (admins add and remove)",
		example: "/upgrade freeze add release-week from mon 00:00 for 5d services payments,ledger reason quarterly release",
		times:   true,
		details: "from defaults to now; a bare date is the midnight that starts it; services default to every service (*). " +
			"Upgrades already scheduled in a new freeze are listed to you and told in their threads. " +
			"Freezes of the configuration ([[freezes]]) are listed too and removed only there. list all adds ended and removed ones.",
	},
	{
		name:    "help",
		usage:   []string{"/upgrade help [<subcommand>]"},
		summary: "this overview, or the details of one subcommand",
		example: "/upgrade help schedule",
	},
}

// Help text fragments shared by the help pages and the error messages, so a user
// who gets a time wrong sees the same forms the help page promises.
const (
	timeForms = "tomorrow 2am, today 23:30, tue 14:00, next friday 9:30am, noon, midnight, 2:30pm " +
		"(a time without a day is its next occurrence), YYYY-MM-DD HH:MM, RFC 3339, in 90m, in 3 days; " +
		"then optionally a zone: UTC, Europe/Berlin, +02:00"
	durationForms = "90m, 2h, 1h30m, 3d, 1w, 2 hours (whole minutes; units m, h, d, w in any case: M is minutes)"
	idForms       = "UPG-7, upg-7, #7 or 7"
	// readinessDetails explains how a readiness criterion is named.
	readinessDetails = "A criterion is named by its number in the upgrade's checklist (see show), its text, or the start of its text " +
		"when that is unique; case does not matter. Owners and admins may change the checklist while the upgrade is scheduled or in progress."
)

// The accepted forms of ids, times and durations, as the help pages say
// them, for platforms that write help pages of their own (Discord).
const (
	IDForms       = idForms
	TimeForms     = timeForms
	DurationForms = durationForms
)

func lookup(name string) *subcommand {
	for i := range table {
		if table[i].name == name {
			return &table[i]
		}
	}
	return nil
}

// Names lists the subcommands in help order, for adapters that register them
// (Discord slash-command options) and for "did you mean" suggestions.
func Names() []string {
	names := make([]string, len(table))
	for i, s := range table {
		names[i] = s.name
	}
	return names
}

// shortUsage is the usage attached to errors that name no known subcommand:
// one line pointing at help, rather than every usage line.
const shortUsage = "/upgrade <subcommand> ... (/upgrade help lists them)"

// usageFor is the usage for an error: the subcommand's own, or shortUsage.
func usageFor(name string) string {
	if lookup(strings.ToLower(name)) != nil {
		return Usage(name)
	}
	return shortUsage
}

// Usage returns the usage line(s) of a subcommand, newline-separated; for an
// unknown or empty name it returns every usage line, since the caller then
// cannot know which one the user wanted.
// UsageOf is the usage of cmd's form: for schedule, its every or next
// form when cmd is one; else Usage of its subcommand.
func UsageOf(cmd Command) string {
	var s *Schedule
	switch c := cmd.(type) {
	case Schedule:
		s = &c
	case *Schedule:
		s = c
	}
	switch {
	case s != nil && s.Every != nil:
		return scheduleEveryUsage
	case s != nil && s.Next:
		return scheduleNextUsage
	}
	return Usage(cmd.Name())
}

func Usage(name string) string {
	if s := lookup(strings.ToLower(name)); s != nil {
		return strings.Join(s.usage, "\n")
	}
	var lines []string
	for _, s := range table {
		lines = append(lines, s.usage...)
	}
	return strings.Join(lines, "\n")
}

// NeutralDetails is what a subcommand's help page says beyond its usage,
// summary and example when that reads the same on every platform (no typed
// grammar in it), for platforms that write their own help pages; "" when
// there is none.
func NeutralDetails(name string) string {
	if s := lookup(strings.ToLower(name)); s != nil && s.neutral {
		return s.details
	}
	return ""
}

// HelpText renders the overview, or one subcommand's page when topic names one;
// an unknown topic falls back to the overview rather than failing, because help
// is what a confused user reaches for.
func HelpText(topic string) string {
	var b strings.Builder
	s := lookup(strings.ToLower(strings.TrimSpace(topic)))
	if s == nil {
		b.WriteString("/upgrade plans and announces upgrade windows.\n\n")
		for _, c := range table {
			for _, u := range c.usage {
				b.WriteString(u + "\n")
			}
			b.WriteString("    " + c.summary + "\n")
		}
		b.WriteString("\nIds: " + idForms + ".\n")
		b.WriteString("Times: " + timeForms + ".\n")
		b.WriteString("Durations: " + durationForms + ".\n")
		b.WriteString("Words may be \"double quoted\"; keywords are case-insensitive.\n")
		b.WriteString("Type /upgrade help <subcommand> for details and an example.")
		return b.String()
	}
	for _, u := range s.usage {
		b.WriteString(u + "\n")
	}
	b.WriteString(capitalize(s.summary) + ".\n")
	b.WriteString("Example: " + s.example + "\n")
	if s.details != "" {
		b.WriteString(s.details + s.typed + "\n")
	}
	if s.ids {
		b.WriteString("Ids: " + idForms + ".\n")
	}
	if s.times {
		if s.name != "extend" {
			b.WriteString("Times: " + timeForms + ".\n")
		}
		b.WriteString("Durations: " + durationForms + ".\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
