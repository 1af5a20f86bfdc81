package slack

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	slackgo "github.com/slack-go/slack"

	"github.com/upgradebot/upgradebot/adapters/inbound"
)

// maxBody is the largest request body accepted (http.md: 1 MiB, else 413).
const maxBody = 1 << 20

// The HTTP endpoints of http mode.
const (
	PathCommands     = "/slack/commands"
	PathInteractions = "/slack/interactions"
)

// Routes registers POST /slack/commands and POST /slack/interactions in http
// mode; in socket mode it registers nothing, so it may be called either way.
// Every request is authenticated before any work (http.md), see readSigned;
// then the payload is checked (400).
func (a *Adapter) Routes(mux *http.ServeMux) {
	if a.mode != ModeHTTP {
		return
	}
	mux.HandleFunc("POST "+PathCommands, a.serveCommand)
	mux.HandleFunc("POST "+PathInteractions, a.serveInteraction)
	a.routed.Store(true)
}

// readSigned returns the body of an authentic request, or answers the
// refusal itself and returns false. What costs nothing comes first, so
// that an unsigned client makes the bot read nothing:
//
//  1. an announced length over maxBody: 413, unread;
//  2. no signing secret configured, the signature headers missing or
//     malformed, or the timestamp more than 5 minutes off: 401, unread;
//  3. the body, read up to maxBody: 413 past it (a body sent without its
//     length), 400 if it cannot be read;
//  4. the v0 signature over the body: 401.
func (a *Adapter) readSigned(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.ContentLength > maxBody {
		a.refuse(w, r, http.StatusRequestEntityTooLarge, "body too large")
		return nil, false
	}
	if len(a.secret) == 0 { // anyone could sign with an empty secret
		a.refuse(w, r, http.StatusUnauthorized, "no signing secret configured")
		return nil, false
	}
	ts, sig, err := signedHeaders(r.Header, a.now())
	if err != nil {
		a.refuse(w, r, http.StatusUnauthorized, err.Error())
		return nil, false
	}
	body, err := readBody(w, r)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			a.refuse(w, r, http.StatusRequestEntityTooLarge, "body too large")
		} else {
			a.refuse(w, r, http.StatusBadRequest, "body unreadable")
		}
		return nil, false
	}
	if err := checkSignature(a.secret, ts, sig, body); err != nil {
		a.refuse(w, r, http.StatusUnauthorized, err.Error())
		return nil, false
	}
	return body, true
}

// readBody reads a request's body, at most maxBody, into one buffer
// (inbound.ReadBody: of the announced length when it is small, else grown
// as the body arrives, so that a client announcing a megabyte and sending
// nothing holds no megabyte). The buffer is the caller's: formValue
// unescapes in it.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return inbound.ReadBody(w, r, "", maxBody)
}

// readSignedForm returns the form of an authentic request, or answers the
// refusal itself (401/413, or 400 for a body that is not a form).
func (a *Adapter) readSignedForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	body, ok := a.readSigned(w, r)
	if !ok {
		return nil, false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		a.refuse(w, r, http.StatusBadRequest, "malformed form")
		return nil, false
	}
	return form, true
}

func (a *Adapter) refuse(w http.ResponseWriter, r *http.Request, status int, why string) {
	a.log.WarnContext(r.Context(), "slack request refused", "path", r.URL.Path, "status", status, "reason", why, "remote", r.RemoteAddr)
	http.Error(w, http.StatusText(status), status)
}

func (a *Adapter) serveCommand(w http.ResponseWriter, r *http.Request) {
	form, ok := a.readSignedForm(w, r)
	if !ok {
		return
	}
	if form.Get("ssl_check") == "1" { // Slack checking the certificate: nothing to do
		w.WriteHeader(http.StatusOK)
		return
	}
	sc := slashCommand(form)
	if sc.UserID == "" || sc.ChannelID == "" {
		a.refuse(w, r, http.StatusBadRequest, "user_id or channel_id missing")
		return
	}
	ans := a.command(r.Context(), sc, r.Header.Get(headerRetryNum))
	if ans == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	a.writeJSON(w, r, "the command answer", ans)
}

// writeJSON answers 200 with v as JSON, HTML left unescaped (Slack reads
// mrkdwn, not HTML); a []byte is JSON encoded already.
func (a *Adapter) writeJSON(w http.ResponseWriter, r *http.Request, what string, v any) {
	w.Header().Set("Content-Type", "application/json")
	if raw, ok := v.([]byte); ok { // encoded already
		if _, err := w.Write(raw); err != nil {
			a.log.WarnContext(r.Context(), "writing "+what+" failed", "err", err)
		}
		return
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		a.log.WarnContext(r.Context(), "writing "+what+" failed", "err", err)
	}
}

// slashCommand reads the form fields Slack posts for a slash command.
func slashCommand(f url.Values) slackgo.SlashCommand {
	return slackgo.SlashCommand{
		Token: f.Get("token"), TeamID: f.Get("team_id"), TeamDomain: f.Get("team_domain"),
		EnterpriseID: f.Get("enterprise_id"), EnterpriseName: f.Get("enterprise_name"),
		IsEnterpriseInstall: f.Get("is_enterprise_install") == "true",
		ChannelID:           f.Get("channel_id"), ChannelName: f.Get("channel_name"),
		UserID: f.Get("user_id"), UserName: f.Get("user_name"),
		Command: f.Get("command"), Text: f.Get("text"),
		ResponseURL: f.Get("response_url"), TriggerID: f.Get("trigger_id"), APIAppID: f.Get("api_app_id"),
	}
}

func (a *Adapter) serveInteraction(w http.ResponseWriter, r *http.Request) {
	body, ok := a.readSigned(w, r)
	if !ok {
		return
	}
	raw, err := formValue(body, "payload")
	if err != nil {
		a.refuse(w, r, http.StatusBadRequest, "malformed form")
		return
	}
	if len(raw) == 0 {
		a.refuse(w, r, http.StatusBadRequest, "payload missing")
		return
	}
	var in interaction
	if err := decodeInteraction(raw, &in); err != nil {
		a.refuse(w, r, http.StatusBadRequest, "payload is not an interaction")
		return
	}
	if in.Type == "" || in.User.ID == "" {
		a.refuse(w, r, http.StatusBadRequest, "payload without type or user")
		return
	}
	if n := r.Header.Get(headerRetryNum); n != "" {
		a.log.InfoContext(r.Context(), "slack re-sent an interaction", "retry", n)
		in.Resent = true
	}
	if in.Type == typeViewSubmission {
		// A modal's submission is answered in the response itself: empty
		// closes the modal, response_action "errors" keeps it open.
		ans := a.submit(r.Context(), in)
		if ans == nil {
			w.WriteHeader(http.StatusOK)
			return
		}
		a.writeJSON(w, r, "the view_submission answer", ans)
		return
	}
	// Slack gets its 200 at once; the press is recorded and answered after
	// (a Write-debrief press opens its modal alongside the 200).
	a.pressed(r.Context(), in)
	w.WriteHeader(http.StatusOK)
}
