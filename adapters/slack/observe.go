package slack

// Observer counts the adapter's calls to Slack (metrics). Every Web API
// request is one APICall, each attempt of a retried call included; the
// labels are bounded: the platform, the method name ("chat.postMessage",
// or "response_url" for an answer through a command's response_url) and
// the outcome. Methods must be cheap and never block.
type Observer interface {
	// APICall: one request ended with outcome: "ok", "error" (Slack said
	// no, or answered a 5xx), "rate_limited" (429) or "unreachable" (no
	// answer: DNS, connection, TLS, timeout, or given up by its caller
	// before Slack answered, whether the request left or not).
	APICall(platform, method, outcome string)
	// APIRetry: a failed request of method is about to be made again.
	APIRetry(platform, method string)
	// APIRateLimited: Slack answered a request of method with 429.
	APIRateLimited(platform, method string)
}

// The outcomes of an API call (Observer.APICall).
const (
	OutcomeOK          = "ok"
	OutcomeError       = "error"
	OutcomeRateLimited = "rate_limited"
	OutcomeUnreachable = "unreachable"
)

// Methods are the method labels the adapter reports (Observer): the Web
// API methods it calls and response_url. /metrics starts each one's series
// at zero.
var Methods = []string{"chat.postMessage", "chat.update", "chat.postEphemeral", "conversations.open", "users.info",
	"usergroups.users.list", "auth.test", "views.open", "response_url"}

// Outcomes are the outcomes of an API call.
var Outcomes = []string{OutcomeOK, OutcomeError, OutcomeRateLimited, OutcomeUnreachable}

type nopObserver struct{}

func (nopObserver) APICall(string, string, string) {}
func (nopObserver) APIRetry(string, string)        {}
func (nopObserver) APIRateLimited(string, string)  {}

// observe counts one request of method that ended with err (nil: ok).
func (a *Adapter) observe(method string, err error) {
	if err == nil {
		a.obs.APICall(Platform, method, OutcomeOK)
		return
	}
	outcome := OutcomeError
	switch _, _, code := classify(err); code {
	case "rate_limited", "http_429", "ratelimited":
		outcome = OutcomeRateLimited
		a.obs.APIRateLimited(Platform, method)
	case codeNetwork, codeTimeout, codeTLS:
		outcome = OutcomeUnreachable
	}
	a.obs.APICall(Platform, method, outcome)
}
