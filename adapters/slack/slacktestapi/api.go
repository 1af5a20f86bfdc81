// Package slacktestapi is a fake Slack for tests: a Web API on 127.0.0.1
// (reached with slack.OptionAPIURL / config slack.api_url) that records every
// call and keeps the messages it was asked to post and edit, response URLs,
// a Socket Mode WebSocket server, and builders of signed inbound requests.
// Nothing here ever talks to the real Slack.
package slacktestapi

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	slackgo "github.com/slack-go/slack"
)

// Call is one request the fake received.
type Call struct {
	Method string          // "chat.postMessage", …, or "response_url"
	Path   string          // URL path, e.g. /respond/cmd-1
	Form   url.Values      // form fields (form-encoded requests)
	JSON   json.RawMessage // body of JSON requests
	Header http.Header
	At     time.Time
	Status int    // HTTP status answered
	Error  string // ok:false error answered, if any
}

// Param returns a form field, or a top-level string field of a JSON body.
func (c Call) Param(name string) string {
	if v := c.Form.Get(name); v != "" {
		return v
	}
	if len(c.JSON) > 0 {
		var m map[string]any
		if json.Unmarshal(c.JSON, &m) == nil {
			switch v := m[name].(type) {
			case string:
				return v
			case bool:
				return strconv.FormatBool(v)
			case nil:
			default:
				b, _ := json.Marshal(v)
				return string(b)
			}
		}
	}
	return ""
}

// Fault is an injected failure of one call: an HTTP status (429 with
// RetryAfter seconds, 5xx), an ok:false error code with status 200, or a
// connection closed without an answer.
type Fault struct {
	Status     int
	RetryAfter string
	Error      string
	Delay      time.Duration // before answering (timeouts)
	// Hangup closes the connection after reading the request, without
	// answering: to the client, a request that may have been processed and
	// whose answer was lost. The call is recorded with Status 0.
	Hangup bool
	// Body answers 200 with this text instead of Slack's JSON (a proxy's
	// page, a truncated answer): an answer that cannot be parsed.
	Body string

	hold *hold // Hold's: answer only once released
}

// hold keeps a call unanswered until the test releases it.
type hold struct {
	arrived, release       chan struct{}
	arrivedOnce, freedOnce sync.Once
}

func (h *hold) free() { h.freedOnce.Do(func() { close(h.release) }) }

// User is a workspace member known to users.info.
type User struct {
	ID, Name, TZ string
}

// Message is the current state of a message posted through the fake.
type Message struct {
	Channel   string
	TS        string
	ThreadTS  string // set for thread replies
	Broadcast bool   // reply_broadcast
	Ephemeral bool   // chat.postEphemeral
	User      string // recipient of an ephemeral message
	Text      string
	Blocks    json.RawMessage
	Edits     int // chat.update calls applied
}

// Server is the fake Web API.
type Server struct {
	srv *httptest.Server

	mu        sync.Mutex
	calls     []Call
	queued    map[string][]Fault
	always    map[string]Fault
	seq       int
	users     map[string]User
	groups    map[string][]string // user group id -> member ids
	messages  []*Message
	socketURL string
	channels  map[string]bool // when set, the only channels that exist
	views     []View
	changed   chan struct{} // closed and replaced on every call
}

// View is a modal opened with views.open.
type View struct {
	ID        string // V…, as answered
	TriggerID string
	View      slackgo.ModalViewRequest
}

// New starts a fake Slack on 127.0.0.1, closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := newServer()
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func newServer() *Server {
	return &Server{queued: map[string][]Fault{}, always: map[string]Fault{}, users: map[string]User{}, groups: map[string][]string{}, changed: make(chan struct{})}
}

// NewTLS starts a fake Slack on 127.0.0.1 over HTTPS, with a certificate
// that only Client trusts: any other client fails the TLS handshake, and
// no call is recorded.
func NewTLS(t testing.TB) *Server {
	t.Helper()
	s := newServer()
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	s.srv.StartTLS()
	t.Cleanup(s.srv.Close)
	return s
}

// Client returns an HTTP client that trusts the fake (for NewTLS).
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Addr is the fake's host:port on 127.0.0.1.
func (s *Server) Addr() string { return s.srv.Listener.Addr().String() }

// APIURL is the Web API base URL, with the trailing slash slack-go wants.
func (s *Server) APIURL() string { return s.srv.URL + "/api/" }

// ResponseURL returns a response_url served by the fake; posts to it are
// recorded as calls with Method "response_url".
func (s *Server) ResponseURL(name string) string {
	return s.srv.URL + "/respond/" + url.PathEscape(name)
}

// AddUser makes a user known to users.info.
func (s *Server) AddUser(id, name, tz string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[id] = User{ID: id, Name: name, TZ: tz}
}

// Responses returns the posts to the response_url made by ResponseURL(name), in order.
func (s *Server) Responses(name string) []Call {
	var out []Call
	for _, c := range s.Calls("response_url") {
		if c.Path == "/respond/"+url.PathEscape(name) {
			out = append(out, c)
		}
	}
	return out
}

// WaitResponse waits for the n-th (1-based) post to ResponseURL(name) and returns it.
func (s *Server) WaitResponse(t testing.TB, name string, n int, timeout time.Duration) Call {
	t.Helper()
	s.Eventually(t, timeout, "a post to response_url "+name, func() bool { return len(s.Responses(name)) >= n })
	return s.Responses(name)[n-1]
}

// SetGroup makes a user group (S…) with these members known to usergroups.users.list.
func (s *Server) SetGroup(id string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[id] = members
}

// KnownChannels makes the listed channels the only ones that exist: posting
// elsewhere answers channel_not_found, as Slack does. Direct-message
// channels (D…) always exist.
func (s *Server) KnownChannels(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels = map[string]bool{}
	for _, id := range ids {
		s.channels[id] = true
	}
}

// SetSocketURL sets the ws:// URL that apps.connections.open returns.
func (s *Server) SetSocketURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.socketURL = u
}

// FailNext queues faults for the next calls of method ("response_url" for
// response URLs), one call each, in order.
func (s *Server) FailNext(method string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queued[method] = append(s.queued[method], faults...)
}

// FailAlways makes every call of method fail with f until ClearFaults.
func (s *Server) FailAlways(method string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.always[method] = f
}

// Hold keeps the next call of method unanswered, as a Slack that does not
// answer yet, until release is called (or the client gives up); then it is
// answered as usual. arrived is closed when that call comes in. The test's
// end releases it too.
func (s *Server) Hold(t testing.TB, method string) (arrived <-chan struct{}, release func()) {
	h := &hold{arrived: make(chan struct{}), release: make(chan struct{})}
	t.Cleanup(h.free)
	s.FailNext(method, Fault{hold: h})
	return h.arrived, h.free
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queued = map[string][]Fault{}
	s.always = map[string]Fault{}
}

// Calls returns the calls received, of the given methods or all.
func (s *Server) Calls(methods ...string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if len(methods) == 0 || contains(methods, c.Method) {
			out = append(out, c)
		}
	}
	return out
}

// Count returns how many calls of method succeeded (status 200, ok:true).
func (s *Server) Count(method string) int {
	n := 0
	for _, c := range s.Calls(method) {
		if c.Status == http.StatusOK && c.Error == "" {
			n++
		}
	}
	return n
}

// Messages returns copies of the messages in a channel (without prefix),
// oldest first; all channels when channel is empty.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if channel == "" || m.Channel == channel {
			out = append(out, *m)
		}
	}
	return out
}

// Views returns the modals opened with views.open, oldest first.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]View(nil), s.views...)
}

// Message returns one message by channel and ts.
func (s *Server) Message(channel, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.find(channel, ts); m != nil {
		return *m, true
	}
	return Message{}, false
}

// Changed returns a channel closed at the next call the fake receives.
func (s *Server) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// Eventually polls cond until it holds or timeout passes (then fails the
// test with msg). It wakes on every call the fake receives.
func (s *Server) Eventually(t testing.TB, timeout time.Duration, msg string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("timed out after %s: %s", timeout, msg)
		}
		select {
		case <-s.Changed():
		case <-time.After(min(left, 50*time.Millisecond)):
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (s *Server) exists(ch string) bool {
	return ch != "" && (s.channels == nil || s.channels[ch] || strings.HasPrefix(ch, "D"))
}

func (s *Server) find(channel, ts string) *Message {
	for _, m := range s.messages {
		if m.Channel == channel && m.TS == ts {
			return m
		}
	}
	return nil
}

// nextTS returns realistic, increasing message timestamps: 1700000000.000100, …
func (s *Server) nextTS() string {
	s.seq++
	micro := int64(s.seq) * 100
	return fmt.Sprintf("%d.%06d", 1700000000+micro/1_000_000, micro%1_000_000)
}

func (s *Server) fault(method string) (Fault, bool) {
	if q := s.queued[method]; len(q) > 0 {
		s.queued[method] = q[1:]
		return q[0], true
	}
	f, ok := s.always[method]
	return f, ok
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	c := Call{Path: r.URL.Path, Header: r.Header.Clone(), At: time.Now(), Status: http.StatusOK}
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/"):
		c.Method = strings.TrimPrefix(r.URL.Path, "/api/")
	case strings.HasPrefix(r.URL.Path, "/respond/"):
		c.Method = "response_url"
	default:
		c.Method = "unknown"
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		c.JSON = json.RawMessage(body)
	} else {
		c.Form, _ = url.ParseQuery(string(body))
	}
	for k, v := range r.URL.Query() {
		if c.Form == nil {
			c.Form = url.Values{}
		}
		if c.Form.Get(k) == "" {
			c.Form[k] = v
		}
	}

	s.mu.Lock()
	f, faulty := s.fault(c.Method)
	s.mu.Unlock()
	if faulty && f.hold != nil {
		f.hold.arrivedOnce.Do(func() { close(f.hold.arrived) })
		select {
		case <-f.hold.release:
		case <-r.Context().Done():
		}
	}
	if faulty && f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
		}
	}

	s.mu.Lock()
	var status int
	var resp any
	switch {
	case faulty && f.Hangup:
		c.Status = 0
		s.calls = append(s.calls, c)
		close(s.changed)
		s.changed = make(chan struct{})
		s.mu.Unlock()
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
		}
		return
	case faulty && f.Status != 0 && f.Status != http.StatusOK:
		status = f.Status
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		resp = "upstream trouble"
	case faulty && f.Body != "":
		status, resp = http.StatusOK, f.Body
	case faulty && f.Error != "":
		status, resp = http.StatusOK, map[string]any{"ok": false, "error": f.Error}
		c.Error = f.Error
	default:
		status, resp = s.answer(&c)
	}
	c.Status = status
	s.calls = append(s.calls, c)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()

	if str, ok := resp.(string); ok {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, str)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(resp)
}

func fail(c *Call, code string) (int, any) {
	c.Error = code
	return http.StatusOK, map[string]any{"ok": false, "error": code}
}

// answer plays the Web API method; called with s.mu held.
func (s *Server) answer(c *Call) (int, any) {
	if c.Method == "response_url" {
		return http.StatusOK, "ok"
	}
	token := c.Param("token")
	if auth := c.Header.Get("Authorization"); token == "" && strings.HasPrefix(auth, "Bearer ") {
		token = strings.TrimPrefix(auth, "Bearer ")
	}
	wantPrefix := "xoxb-"
	if c.Method == "apps.connections.open" {
		wantPrefix = "xapp-"
	}
	if token == "" {
		return fail(c, "not_authed")
	}
	if !strings.HasPrefix(token, wantPrefix) {
		return fail(c, "invalid_auth")
	}
	switch c.Method {
	case "auth.test":
		return http.StatusOK, map[string]any{"ok": true, "url": "https://test.slack.com/", "team": "Test", "user": "upgradebot", "team_id": "T0TEST", "user_id": "U0BOT"}
	case "chat.postMessage":
		ch := c.Param("channel")
		if !s.exists(ch) {
			return fail(c, "channel_not_found")
		}
		if c.Param("text") == "" && c.Param("blocks") == "" {
			return fail(c, "no_text")
		}
		if !validBlocks(c.Param("blocks")) {
			return fail(c, "invalid_blocks")
		}
		m := &Message{Channel: ch, TS: s.nextTS(), ThreadTS: c.Param("thread_ts"), Broadcast: c.Param("reply_broadcast") == "true",
			Text: c.Param("text"), Blocks: json.RawMessage(c.Param("blocks"))}
		s.messages = append(s.messages, m)
		msg := map[string]any{"type": "message", "text": m.Text, "ts": m.TS, "user": "U0BOT", "bot_id": "B0BOT"}
		if m.ThreadTS != "" {
			msg["thread_ts"] = m.ThreadTS
		}
		return http.StatusOK, map[string]any{"ok": true, "channel": ch, "ts": m.TS, "message": msg}
	case "chat.update":
		m := s.find(c.Param("channel"), c.Param("ts"))
		if m == nil {
			return fail(c, "message_not_found")
		}
		if !validBlocks(c.Param("blocks")) {
			return fail(c, "invalid_blocks")
		}
		m.Text, m.Blocks = c.Param("text"), json.RawMessage(c.Param("blocks"))
		m.Edits++
		return http.StatusOK, map[string]any{"ok": true, "channel": m.Channel, "ts": m.TS, "text": m.Text}
	case "chat.postEphemeral":
		ch, user := c.Param("channel"), c.Param("user")
		if !s.exists(ch) {
			return fail(c, "channel_not_found")
		}
		if user == "" {
			return fail(c, "user_not_found")
		}
		m := &Message{Channel: ch, TS: s.nextTS(), Ephemeral: true, User: user, Text: c.Param("text"), Blocks: json.RawMessage(c.Param("blocks"))}
		s.messages = append(s.messages, m)
		return http.StatusOK, map[string]any{"ok": true, "message_ts": m.TS}
	case "users.info":
		u, ok := s.users[c.Param("user")]
		if !ok {
			return fail(c, "user_not_found")
		}
		user := map[string]any{"id": u.ID, "name": u.Name, "real_name": u.Name}
		if u.TZ != "" {
			user["tz"] = u.TZ
			if loc, err := time.LoadLocation(u.TZ); err == nil {
				_, off := time.Now().In(loc).Zone()
				user["tz_offset"] = off
			}
		}
		return http.StatusOK, map[string]any{"ok": true, "user": user}
	case "usergroups.users.list":
		members, ok := s.groups[c.Param("usergroup")]
		if !ok {
			return fail(c, "no_such_subteam")
		}
		return http.StatusOK, map[string]any{"ok": true, "users": members}
	case "conversations.open":
		users := c.Param("users")
		if users == "" || strings.Contains(users, ",") {
			return fail(c, "invalid_arguments")
		}
		return http.StatusOK, map[string]any{"ok": true, "channel": map[string]any{"id": "D" + strings.TrimPrefix(users, "U")}}
	case "views.open":
		// slack-go posts it as JSON: {"trigger_id": …, "view": {…}}.
		var req struct {
			TriggerID string                   `json:"trigger_id"`
			View      slackgo.ModalViewRequest `json:"view"`
		}
		if err := json.Unmarshal(c.JSON, &req); err != nil {
			return fail(c, "invalid_arguments")
		}
		if req.TriggerID == "" {
			return fail(c, "invalid_trigger_id")
		}
		for _, v := range s.views {
			if v.TriggerID == req.TriggerID { // a trigger opens one view
				return fail(c, "expired_trigger_id")
			}
		}
		if req.View.Type != slackgo.VTModal || req.View.Title == nil || len(req.View.Blocks.BlockSet) == 0 {
			return fail(c, "invalid_arguments")
		}
		v := View{ID: fmt.Sprintf("V%04d", len(s.views)+1), TriggerID: req.TriggerID, View: req.View}
		s.views = append(s.views, v)
		return http.StatusOK, slackgo.ViewResponse{
			SlackResponse: slackgo.SlackResponse{Ok: true},
			View: slackgo.View{ID: v.ID, TeamID: "T0TEST", Type: req.View.Type, Title: req.View.Title, Submit: req.View.Submit,
				Close: req.View.Close, Blocks: req.View.Blocks, PrivateMetadata: req.View.PrivateMetadata, CallbackID: req.View.CallbackID,
				State: &slackgo.ViewState{}, Hash: "hash-" + v.ID},
		}
	case "apps.connections.open":
		if s.socketURL == "" {
			return fail(c, "internal_error")
		}
		return http.StatusOK, map[string]any{"ok": true, "url": s.socketURL}
	}
	return fail(c, "unknown_method")
}

// validBlocks checks what Slack refuses with invalid_blocks and the adapter
// could get wrong: two elements of one actions block with the same
// action_id ("action_id already exists"), more than 25 elements in an
// actions block, more than 50 blocks, a button label over 75 characters.
func validBlocks(raw string) bool {
	if raw == "" {
		return true
	}
	var blocks []struct {
		Type     string `json:"type"`
		Elements []struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			Text     struct {
				Text string `json:"text"`
			} `json:"text"`
		} `json:"elements"`
	}
	if err := json.Unmarshal([]byte(raw), &blocks); err != nil || len(blocks) > 50 {
		return false
	}
	for _, b := range blocks {
		if b.Type != "actions" {
			continue
		}
		if len(b.Elements) > 25 {
			return false
		}
		seen := map[string]bool{}
		for _, el := range b.Elements {
			if el.ActionID != "" && seen[el.ActionID] {
				return false
			}
			seen[el.ActionID] = true
			if el.Type == "button" && utf8.RuneCountInString(el.Text.Text) > 75 {
				return false
			}
		}
	}
	return true
}

// BlocksText returns every text of a Block Kit JSON array (headers,
// sections, fields, button labels) joined by newlines, for assertions.
func BlocksText(raw []byte) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return ""
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			if s, ok := v["text"].(string); ok {
				out = append(out, s)
			}
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if x := v[k]; k != "text" || !isString(x) {
					walk(x)
				}
			}
		}
	}
	walk(v)
	return strings.Join(out, "\n")
}

func isString(v any) bool { _, ok := v.(string); return ok }

// BlockText is BlocksText of the message's current blocks.
func (m Message) BlockText() string { return BlocksText(m.Blocks) }
