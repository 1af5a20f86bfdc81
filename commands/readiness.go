package commands

// The readiness commands (issue 14). A criterion is named by its number in
// the upgrade's list, its exact text or a unique prefix; the bot resolves it.

// The refusals of a missing (or blank) reason, worded once for the
// grammar, the Discord options and the core, which checks commands given
// as data.
const (
	MissingAnywayReason   = "missing <reason...> after anyway: say why it starts although not every readiness criterion is met"
	MissingWaiveReason    = "missing <reason...> after the criterion: say why it does not apply this time"
	MissingUnreadyReason  = "missing <reason...> after the criterion: say why it is no longer met"
	MissingRollbackReason = "missing <reason...>: a rollback alert must say why"
)

// Ready marks a readiness criterion met.
type Ready struct {
	ID        int
	Criterion string
}

// Waive waives a readiness criterion; Reason is required.
type Waive struct {
	ID        int
	Criterion string
	Reason    string
}

// Unready opens a criterion again; Reason is required.
type Unready struct {
	ID        int
	Criterion string
	Reason    string
}

// Plan records the rollback plan: a runbook link or the steps.
type Plan struct {
	ID   int
	Text string
}

// Debrief records what happened and what to change.
type Debrief struct {
	ID   int
	Text string
}

// Name implements Command.
func (Ready) Name() string { return "ready" }

// Name implements Command.
func (Waive) Name() string { return "waive" }

// Name implements Command.
func (Unready) Name() string { return "unready" }

// Name implements Command.
func (Plan) Name() string { return "plan" }

// Name implements Command.
func (Debrief) Name() string { return "debrief" }
