package bot

import "time"

// This file is the data of readiness (issue 14): the go/no-go checklist an
// upgrade copies from its service when scheduled, the rollback plan on
// record, the start taken anyway and the debrief. The behaviour is in
// readiness.go; adapters render the buttons of message.go.

// The states of a readiness criterion; the values are part of the contract
// (the API, events and the decision log use them).
const (
	CriterionOpen   = "open"
	CriterionMet    = "met"
	CriterionWaived = "waived"
)

// Criterion is one readiness criterion of one upgrade, with its state.
type Criterion struct {
	Text   string    `json:"criterion"`
	State  string    `json:"state"`            // CriterionOpen, CriterionMet or CriterionWaived
	By     string    `json:"by,omitempty"`     // principal key of who met or waived it
	At     time.Time `json:"at,omitzero"`      // when it was met or waived
	Reason string    `json:"reason,omitempty"` // why it was waived
	// Auto: met by recording the rollback plan (a criterion that names it).
	Auto bool `json:"auto,omitempty"`
}

// Record is a piece of text someone put on record: the rollback plan, the
// debrief.
type Record struct {
	Text string    `json:"text"`
	By   string    `json:"by"` // principal key
	At   time.Time `json:"at"`
}

// Anyway records a start with readiness criteria still open: which, and
// why the owner or admin started anyway.
type Anyway struct {
	Open   []string `json:"open"`
	Reason string   `json:"reason"`
}

// The decision-log actions of readiness.
const (
	ActionReadinessMet      = "readiness_met"
	ActionReadinessWaived   = "readiness_waived"
	ActionReadinessReopened = "readiness_reopened"
	ActionPlanRecorded      = "plan_recorded"
	ActionDebriefRecorded   = "debrief_recorded"
)

// The event types of readiness beyond the contract's upgrade.readiness.
const (
	EventPlanRecorded    = "upgrade.plan_recorded"
	EventDebriefRecorded = "upgrade.debrief_recorded"
)

// ReadyButton asks an owner to mark one open criterion met. Criterion is
// its number in the upgrade's list, from 1. Each adapter encodes it in its
// own wire form (docs/slack.md, docs/discord.md) and runs a press as
// commands.Ready{ID, Criterion: "<number>"}.
type ReadyButton struct {
	UpgradeID string
	Criterion int
	Text      string // the criterion, for the button's label
}

// DebriefButton opens a form (a modal where the platform has them) to
// record the debrief; submitting it runs commands.Debrief{ID, Text}.
type DebriefButton struct {
	UpgradeID string
}
