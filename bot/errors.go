package bot

import (
	"errors"
	"fmt"
	"time"
)

// Error codes classify failures so adapters can answer users without
// comparing strings (the benbjohnson/wtf approach).
const (
	ECONFLICT  = "conflict"  // a concurrent change won; retry
	EFORBIDDEN = "forbidden" // the actor may not do this
	EINTERNAL  = "internal"  // something broke; the user sees a generic message
	EINVALID   = "invalid"   // bad input or a forbidden transition
	ENOTFOUND  = "not_found" // no such upgrade or service
)

// Error is an error with a code and a message that is safe to show a user.
type Error struct {
	Code    string
	Message string // the message as plain text
	// Text is the message as rich text when it suggests a command, which
	// each platform writes its own way; nil means T(Message).
	Text Text
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("upgradebot %s: %s", e.Code, e.Message) }

// Errorf builds an *Error whose message is safe to show the user.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// refusal builds an *Error from rich text (a message with a command hint).
func refusal(code string, t Text) *Error {
	return &Error{Code: code, Message: t.Plain(time.UTC), Text: t}
}

// ErrorCode returns the code of the first *Error in err's chain, or EINTERNAL.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// internalMessage is all a user learns of an internal error.
const internalMessage = "Something went wrong on our side; the operators have the details in the log."

// unavailableMessage is what a user learns of an internal error whose
// cause is that the store did not answer (Unavailable).
const unavailableMessage = "The bot could not reach its store just now. Try again in a minute; if you asked for a change, check first whether it was made."

// Unavailable reports whether err is an internal error whose cause is that
// a dependency (the store) did not answer: the caller may try again later,
// and the operators see an outage, not a bug. A store marks such errors
// with an Unavailable() bool method; a deadline that ran out is not one by
// itself (whose deadline, and what used it up, the caller knows).
func Unavailable(err error) bool {
	if err == nil || ErrorCode(err) != EINTERNAL {
		return false
	}
	var u interface{ Unavailable() bool }
	return errors.As(err, &u) && u.Unavailable()
}

// noAnswerInTime is the internal error of a command or press that ran out
// of its time (Options.CommandTimeout) waiting for the store.
type noAnswerInTime struct {
	err   error
	after time.Duration
}

func (e *noAnswerInTime) Error() string {
	return fmt.Sprintf("the store did not answer within the command's %s: %v", e.after, e.err)
}
func (e *noAnswerInTime) Unwrap() error     { return e.err }
func (e *noAnswerInTime) Unavailable() bool { return true }

// ErrOutcomeUnknown is wrapped by a store's error when a write was sent
// but its answer never came (the caller's deadline ran out, the connection
// was cut under the reply): the write may or may not have been applied.
// The core settles it by sending the same write again (settle): a store
// applies it at most once (its compare-and-set; the same event id run
// again finds its own write).
var ErrOutcomeUnknown = errors.New("the store did not say whether the write was applied")

// unsettled is the internal error of a change whose write's outcome is
// unknown (ErrOutcomeUnknown): settle tells what sending it again, and
// a read after a conflict, found. The user hears that nothing was changed (notLanded), or that the
// change may have been saved and how to check (unknown), never that the
// store could not be reached when it may have been.
type unsettled struct {
	err   error
	key   string // the upgrade, UPG-n
	known bool   // settling found the write was not applied
}

func (e *unsettled) Error() string {
	switch {
	case errors.Is(e.err, errTooLate):
		return e.err.Error()
	case e.known:
		return e.err.Error() + " (settled: not applied)"
	}
	return e.err.Error() + " (settled: still unknown)"
}
func (e *unsettled) Unwrap() error     { return e.err }
func (e *unsettled) Unavailable() bool { return true }

// text words e for the user.
func (e *unsettled) text() Text {
	if e.known {
		return T("The bot's store did not answer in time, and nothing was saved. Try again in a minute.")
	}
	return T("The bot's store did not confirm the change in time: it may have been saved. Check with ").
		Command(hint("show", Arg{Name: "id", Value: e.key})).Add(" before you try again.")
}

// ErrorMessage returns the user-safe message of err; internal errors are not revealed.
func ErrorMessage(err error) string {
	var e *Error
	var us *unsettled
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	} else if errors.As(err, &us) {
		return us.text().Plain(time.UTC)
	} else if Unavailable(err) {
		return unavailableMessage
	}
	return internalMessage
}

// ErrorText is ErrorMessage as rich text.
func ErrorText(err error) Text {
	var e *Error
	var us *unsettled
	if errors.As(err, &e) && e.Text != nil {
		return e.Text
	} else if e == nil && errors.As(err, &us) {
		return us.text()
	}
	return T(ErrorMessage(err))
}

// ErrNotFound is returned by stores for a missing upgrade; wrap it with the id.
var ErrNotFound = &Error{Code: ENOTFOUND, Message: "not found"}

// ErrConflict is returned by a store when an update lost a race; the bot retries.
var ErrConflict = &Error{Code: ECONFLICT, Message: "the upgrade changed meanwhile; please try again"}
