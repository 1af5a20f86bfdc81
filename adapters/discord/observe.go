package discord

import "strings"

// Observer counts the adapter's calls to Discord's REST API (metrics):
// each attempt of a call is one APICall, labelled with the platform, the
// operation ("create_message", "start_thread", …: a bounded set) and the
// outcome. Methods must be cheap and never block.
type Observer interface {
	// APICall: one attempt ended with outcome: "ok", "error" (Discord said
	// no, or answered a 5xx), "rate_limited" (429) or "unreachable" (no
	// answer: DNS, connection, TLS, timeout, or given up by its caller
	// before Discord answered, whether the request left or not).
	APICall(platform, method, outcome string)
	// APIRetry: a failed call of method is about to be made again.
	APIRetry(platform, method string)
	// APIRateLimited: Discord answered a call of method with 429.
	APIRateLimited(platform, method string)
}

// Methods are the operation labels the adapter reports (Observer): its
// REST operations. /metrics starts each one's series at zero.
var Methods = []string{"create_message", "edit_message", "start_thread", "unarchive_thread", "open_direct_message",
	"answer_interaction", "edit_interaction_response", "follow-up_message", "register_command"}

// Outcomes are the outcomes of a call.
var Outcomes = []string{"ok", "error", "rate_limited", "unreachable"}

type nopObserver struct{}

func (nopObserver) APICall(string, string, string) {}
func (nopObserver) APIRetry(string, string)        {}
func (nopObserver) APIRateLimited(string, string)  {}

// method is the label of an operation: "create message" → "create_message".
func method(op string) string { return strings.ReplaceAll(op, " ", "_") }

// observe counts one attempt of op that failed with fail (nil: ok).
func (a *Adapter) observe(op string, fail *Error) {
	switch {
	case fail == nil:
		a.obs.APICall(Platform, method(op), "ok")
	case fail.Status == 429:
		a.obs.APIRateLimited(Platform, method(op))
		a.obs.APICall(Platform, method(op), "rate_limited")
	case fail.Unreachable(), fail.Kind == kindNoAnswer, fail.Kind == kindNotConnected:
		// No answer: as on Slack, a call given up (its caller's own
		// reason) before Discord answered counts as unreachable.
		a.obs.APICall(Platform, method(op), "unreachable")
	default:
		a.obs.APICall(Platform, method(op), "error")
	}
}
