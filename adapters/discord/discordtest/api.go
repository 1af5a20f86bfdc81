// Package discordtest is a fake Discord for tests: the REST API on
// 127.0.0.1 (reached with the adapter's APIURL / config discord.api_url)
// that records every call, keeps the messages, threads and direct-message
// channels it was asked to make, enforces Discord's message limits and
// answers in Discord's wire format (discordgo's types); a fake gateway
// (gateway.go); and builders of interactions, signed for http mode
// (interactions.go). Nothing here ever talks to the real Discord.
package discordtest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
)

// The fake's identities.
const (
	Token   = "fake.bot.token"       // the bot token it accepts ("Bot fake.bot.token")
	AppID   = "900000000000000001"   // the application
	GuildID = "900000000000000002"   // the one guild every channel is in
	BotID   = "900000000000000003"   // the bot user
	Version = "/api/v10/"            // the API version in its URLs
	Session = "fake-gateway-session" // the gateway's session id
)

// Call is one REST request the fake received.
type Call struct {
	Op     string // "create_message", "edit_message", "start_thread", "modify_channel", "create_dm", "bulk_overwrite_commands", "get_gateway", "interaction_callback", "edit_original", "followup", "unknown"
	Method string
	Path   string // without the /api/v10 prefix; interaction tokens included
	Vars   map[string]string
	JSON   json.RawMessage
	Header http.Header
	At     time.Time
	Status int // HTTP status answered; 0 for a dropped connection
	Code   int // Discord JSON error code answered, if any
}

// Fault is an injected failure of one call: an HTTP status with Discord's
// JSON error (Code, Message), a 429 with RetryAfter seconds, a delay, or a
// connection closed without an answer.
type Fault struct {
	Status     int
	Code       int
	Message    string
	RetryAfter float64
	Delay      time.Duration
	Hangup     bool
	// Body, when set, is the answer's body as is (Status, default 200):
	// a proxy's page where the API's JSON was expected.
	Body string
	hold *hold // Hold's: answer only once released
}

// hold keeps a call unanswered until the test releases it.
type hold struct {
	arrived, release       chan struct{}
	arrivedOnce, freedOnce sync.Once
}

func (h *hold) free() { h.freedOnce.Do(func() { close(h.release) }) }

// Hold keeps the next call of op unanswered, as a Discord that does not
// answer yet, until release is called (or the client gives up); then it is
// answered as usual. arrived is closed when that call comes in. The test's
// end releases it too.
func (s *Server) Hold(t testing.TB, op string) (arrived <-chan struct{}, release func()) {
	h := &hold{arrived: make(chan struct{}), release: make(chan struct{})}
	t.Cleanup(h.free)
	s.FailNext(op, Fault{hold: h})
	return h.arrived, h.free
}

// Message is the current state of a message posted through the fake.
type Message struct {
	ID, ChannelID   string
	Content         string
	Embeds          []*discordgo.MessageEmbed
	Components      json.RawMessage
	AllowedMentions *discordgo.MessageAllowedMentions
	Flags           discordgo.MessageFlags
	Reference       *discordgo.MessageReference
	Edits           int
}

// Button is one button of a message's components.
type Button struct {
	Label    string
	CustomID string
	Style    discordgo.ButtonStyle
}

// Buttons lists the message's buttons.
func (m Message) Buttons() []Button { return buttons(m.Components) }

func buttons(raw json.RawMessage) []Button {
	var rows []struct {
		Components []struct {
			Type     discordgo.ComponentType `json:"type"`
			Label    string                  `json:"label"`
			CustomID string                  `json:"custom_id"`
			Style    discordgo.ButtonStyle   `json:"style"`
		} `json:"components"`
	}
	_ = json.Unmarshal(raw, &rows)
	var out []Button
	for _, r := range rows {
		for _, c := range r.Components {
			if c.Type == discordgo.ButtonComponent {
				out = append(out, Button{Label: c.Label, CustomID: c.CustomID, Style: c.Style})
			}
		}
	}
	return out
}

// Text is everything the message shows, for assertions: its content, then
// each embed's title, fields ("Name: value") and description.
func (m Message) Text() string { return text(m.Content, m.Embeds) }

func text(content string, embeds []*discordgo.MessageEmbed) string {
	parts := []string{}
	if content != "" {
		parts = append(parts, content)
	}
	for _, e := range embeds {
		if e == nil {
			continue
		}
		if e.Title != "" {
			parts = append(parts, e.Title)
		}
		for _, f := range e.Fields {
			parts = append(parts, f.Name+": "+f.Value)
		}
		if e.Description != "" {
			parts = append(parts, e.Description)
		}
	}
	return strings.Join(parts, "\n")
}

// Channel is a channel the fake knows: a text channel of the guild, a
// thread started on a message, or a direct-message channel.
type Channel struct {
	ID, ParentID string
	Type         discordgo.ChannelType
	Name         string
	Archived     bool
	Locked       bool
	Recipient    string // DM channels
}

// Reply is an answer to an interaction as Discord keeps it: the initial
// response's message (or choices), later edited, or a follow-up.
type Reply struct {
	Type            discordgo.InteractionResponseType
	Content         string
	Embeds          []*discordgo.MessageEmbed
	Components      json.RawMessage
	Flags           discordgo.MessageFlags
	AllowedMentions *discordgo.MessageAllowedMentions
	Choices         []*discordgo.ApplicationCommandOptionChoice
	Edits           int
	// CustomID and Title are a modal's (Type InteractionResponseModal);
	// its Components are the rows of text inputs.
	CustomID, Title string
}

// Inputs lists the text inputs of a modal reply.
func (r Reply) Inputs() []discordgo.TextInput {
	var rows []struct {
		Components []discordgo.TextInput `json:"components"`
	}
	_ = json.Unmarshal(r.Components, &rows)
	var out []discordgo.TextInput
	for _, row := range rows {
		out = append(out, row.Components...)
	}
	return out
}

// Text is what the reply shows (see Message.Text).
func (r Reply) Text() string { return text(r.Content, r.Embeds) }

// Ephemeral reports whether only the invoker sees the reply.
func (r Reply) Ephemeral() bool { return r.Flags&discordgo.MessageFlagsEphemeral != 0 }

// Buttons lists the reply's buttons.
func (r Reply) Buttons() []Button { return buttons(r.Components) }

// Exchange is one interaction and what the bot answered to it.
type Exchange struct {
	ID, Token string
	Type      discordgo.InteractionType
	Initial   *Reply // the first answer (callback or HTTP response)
	Original  *Reply // the original response's message after edits; nil while none
	Followups []Reply
}

// Server is the fake REST API.
type Server struct {
	srv *httptest.Server

	mu           sync.Mutex
	calls        []Call
	queued       map[string][]Fault
	always       map[string]Fault
	seq          int64
	messages     []*Message
	channels     map[string]*Channel
	strict       bool // only known channels exist
	noDMs        map[string]bool
	dmOf         map[string]string // user -> DM channel
	commands     map[string][]*discordgo.ApplicationCommand
	exchanges    map[string]*Exchange // by token
	gatewayURL   string
	changed      chan struct{}
	ephemeralIDs int64
	now          func() time.Time // when interactions are created (their ids say)
}

// New starts a fake Discord REST API on 127.0.0.1, closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{queued: map[string][]Fault{}, always: map[string]Fault{}, seq: 1_100_000_000_000_000_000,
		channels: map[string]*Channel{}, noDMs: map[string]bool{}, dmOf: map[string]string{},
		commands: map[string][]*discordgo.ApplicationCommand{}, exchanges: map[string]*Exchange{}, changed: make(chan struct{})}
	s.srv = httptest.NewServer(s.routes())
	t.Cleanup(s.srv.Close)
	return s
}

// APIURL is the REST base URL to give the adapter.
func (s *Server) APIURL() string { return s.srv.URL + Version }

// Addr is the fake's host:port.
func (s *Server) Addr() string { return s.srv.Listener.Addr().String() }

// SetGatewayURL sets the URL that GET /gateway and /gateway/bot return.
func (s *Server) SetGatewayURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gatewayURL = u
}

// AddChannels makes text channels of the guild known. Once called, posting
// in any other channel answers 404 Unknown Channel, as Discord does.
func (s *Server) AddChannels(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.strict = true
	for _, id := range ids {
		s.channels[id] = &Channel{ID: id, Type: discordgo.ChannelTypeGuildText, Name: "channel-" + id}
	}
}

// RefuseDMs makes a user one who does not accept direct messages from the
// bot: sending to her DM channel answers 403, code 50007.
func (s *Server) RefuseDMs(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noDMs[user] = true
}

// Archive archives a thread, as Discord does after its auto-archive
// duration; locked ones refuse messages.
func (s *Server) Archive(thread string, locked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.channels[thread]; ok {
		c.Archived, c.Locked = true, locked
	}
}

// Channel returns a known channel.
func (s *Server) Channel(id string) (Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[id]
	if !ok {
		return Channel{}, false
	}
	return *c, true
}

// DMChannel is the direct-message channel opened with a user, "" while none.
func (s *Server) DMChannel(user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dmOf[user]
}

// Commands returns the commands registered in a scope: "" for global, else a guild id.
func (s *Server) Commands(scope string) []*discordgo.ApplicationCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commands[scope]
}

// FailNext queues faults for the next calls of op, one call each, in order.
func (s *Server) FailNext(op string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queued[op] = append(s.queued[op], faults...)
}

// FailAlways makes every call of op fail with f until ClearFaults.
func (s *Server) FailAlways(op string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.always[op] = f
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queued = map[string][]Fault{}
	s.always = map[string]Fault{}
}

// Calls returns the calls received, of the given ops or all.
func (s *Server) Calls(ops ...string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if len(ops) == 0 || slices.Contains(ops, c.Op) {
			out = append(out, c)
		}
	}
	return out
}

// Messages returns copies of the messages of a channel or thread, oldest
// first; of every channel when channel is empty.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if channel == "" || m.ChannelID == channel {
			out = append(out, *m)
		}
	}
	return out
}

// Message returns one message by id.
func (s *Server) Message(id string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.messages {
		if m.ID == id {
			return *m, true
		}
	}
	return Message{}, false
}

// Exchange returns what the bot answered to the interaction with token.
func (s *Server) Exchange(token string) (Exchange, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.exchanges[token]
	if !ok {
		return Exchange{}, false
	}
	c := *e
	c.Followups = slices.Clone(e.Followups)
	return c, true
}

// Changed returns a channel closed at the next call or answer the fake receives.
func (s *Server) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// signal wakes Eventually; called with s.mu held.
func (s *Server) signal() {
	close(s.changed)
	s.changed = make(chan struct{})
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

// WaitAnswer waits for the answer the invoker of an interaction finally
// sees: the initial response's message, or, after a deferral, the edit
// that replaced it; for an autocomplete, its choices.
func (s *Server) WaitAnswer(t testing.TB, token string, timeout time.Duration) Reply {
	t.Helper()
	var r Reply
	s.Eventually(t, timeout, "the answer to interaction "+token, func() bool {
		e, ok := s.Exchange(token)
		if !ok || e.Initial == nil {
			return false
		}
		if e.Initial.Type == discordgo.InteractionResponseDeferredChannelMessageWithSource {
			if e.Original == nil || e.Original.Edits == 0 {
				return false
			}
			r = *e.Original
			return true
		}
		r = *e.Initial
		return true
	})
	return r
}

// snowflake makes the next id; called with s.mu held.
func (s *Server) snowflake() string {
	s.seq++
	return strconv.FormatInt(s.seq, 10)
}

// discordEpoch is the first millisecond of 2015, where snowflakes count from.
const discordEpoch = 1420070400000

// createdID makes the id of an interaction created now: a snowflake whose
// timestamp is the fake's clock, as Discord's are; called with s.mu held.
func (s *Server) createdID() string {
	s.seq++
	now := time.Now
	if s.now != nil {
		now = s.now
	}
	ms := now().UnixMilli() - discordEpoch
	return strconv.FormatInt(ms<<22|s.seq&(1<<22-1), 10)
}

// SetClock sets the clock interactions are created by (their ids carry the
// time, as Discord's snowflakes do); by default the time of day. Give it
// the clock the adapter is given.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// Expect makes an interaction known, as Discord knows the interactions it
// sends: its callback answers, once.
func (s *Server) Expect(i *discordgo.Interaction) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.exchanges[i.Token] = &Exchange{ID: i.ID, Token: i.Token, Type: i.Type}
}

// Answered records the HTTP response the bot gave an interaction in http
// mode, as Discord takes it; it reports Discord's view of a bad answer.
func (s *Server) Answered(token string, body []byte) error {
	var r response
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("the answer is not an interaction response: %w", err)
	}
	if err := checkChoices(r.Type, body); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.signal()
	return s.answer(token, r)
}

// response is an interaction response as the bot sends it.
type response struct {
	Type discordgo.InteractionResponseType `json:"type"`
	Data *struct {
		sent
		Choices  []*discordgo.ApplicationCommandOptionChoice `json:"choices"`
		CustomID string                                      `json:"custom_id"`
		Title    string                                      `json:"title"`
	} `json:"data"`
}

// answer applies an initial response; called with s.mu held.
func (s *Server) answer(token string, r response) error {
	e, ok := s.exchanges[token]
	if !ok {
		return apiError{http.StatusNotFound, 10062, "Unknown interaction"}
	}
	if e.Initial != nil {
		return apiError{http.StatusBadRequest, 40060, "Interaction has already been acknowledged."}
	}
	rep := Reply{Type: r.Type}
	if r.Type == discordgo.InteractionResponseModal {
		if err := checkModal(e.Type, r); err != nil {
			return err
		}
		rep.CustomID, rep.Title, rep.Components = r.Data.CustomID, r.Data.Title, r.Data.Components
		e.Initial = &rep
		return nil
	}
	if r.Data != nil {
		if err := r.Data.check(r.Type == discordgo.InteractionResponseChannelMessageWithSource); err != nil {
			return err
		}
		if len(r.Data.Choices) > 25 {
			return apiError{http.StatusBadRequest, 50035, "Invalid Form Body (choices: at most 25)"}
		}
		for _, c := range r.Data.Choices {
			if n := utf8.RuneCountInString(c.Name); n < 1 || n > 100 {
				return apiError{http.StatusBadRequest, 50035, "Invalid Form Body (choice name: 1 to 100 characters)"}
			}
		}
		rep.Content, rep.Embeds, rep.Components, rep.Flags, rep.AllowedMentions, rep.Choices =
			r.Data.content(), r.Data.Embeds, r.Data.Components, r.Data.Flags, r.Data.AllowedMentions, r.Data.Choices
	}
	e.Initial = &rep
	switch r.Type {
	case discordgo.InteractionResponseChannelMessageWithSource:
		orig := rep
		e.Original = &orig
	case discordgo.InteractionResponseDeferredChannelMessageWithSource:
		e.Original = &Reply{Type: r.Type, Flags: rep.Flags}
	}
	return nil
}

// checkChoices enforces Discord's shape of an autocomplete result (type
// 8): data holds choices, an array (empty when nothing fits), and nothing
// else; message fields (content, tts, embeds, components) do not belong.
func checkChoices(typ discordgo.InteractionResponseType, body []byte) error {
	if typ != discordgo.InteractionApplicationCommandAutocompleteResult {
		return nil
	}
	var r struct {
		Data map[string]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Data == nil {
		return apiError{http.StatusBadRequest, 50035, "Invalid Form Body (data: an autocomplete result needs data with choices)"}
	}
	raw, ok := r.Data["choices"]
	if !ok || !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
		return apiError{http.StatusBadRequest, 50035, "Invalid Form Body (data.choices: an array is required)"}
	}
	for k := range r.Data {
		if k != "choices" {
			return apiError{http.StatusBadRequest, 50035, fmt.Sprintf("Invalid Form Body (data.%s: not a field of an autocomplete result)", k)}
		}
	}
	return nil
}

// checkModal enforces Discord's rules on a modal: only a command or a
// component interaction may be answered with one; a custom_id of 1 to 100
// characters, a title of 1 to 45, 1 to 5 action rows of one text input
// each, with a custom_id, a label of 1 to 45 characters and a style.
func checkModal(typ discordgo.InteractionType, r response) error {
	bad := func(why string) error {
		return apiError{http.StatusBadRequest, 50035, "Invalid Form Body (" + why + ")"}
	}
	if typ != discordgo.InteractionApplicationCommand && typ != discordgo.InteractionMessageComponent {
		return bad("type: a modal answers only a command or a component")
	}
	if r.Data == nil {
		return bad("data: a modal needs its data")
	}
	n := utf8.RuneCountInString
	if n(r.Data.CustomID) < 1 || n(r.Data.CustomID) > 100 || n(r.Data.Title) < 1 || n(r.Data.Title) > 45 {
		return bad("modal custom_id (1 to 100) or title (1 to 45 characters)")
	}
	var rows []struct {
		Type       discordgo.ComponentType `json:"type"`
		Components []struct {
			Type     discordgo.ComponentType  `json:"type"`
			CustomID string                   `json:"custom_id"`
			Label    string                   `json:"label"`
			Style    discordgo.TextInputStyle `json:"style"`
		} `json:"components"`
	}
	if err := json.Unmarshal(r.Data.Components, &rows); err != nil || len(rows) < 1 || len(rows) > 5 {
		return bad("modal components: 1 to 5 action rows")
	}
	for _, row := range rows {
		if row.Type != discordgo.ActionsRowComponent || len(row.Components) != 1 {
			return bad("modal components: an action row holds one text input")
		}
		c := row.Components[0]
		if c.Type != discordgo.TextInputComponent || c.CustomID == "" || n(c.Label) < 1 || n(c.Label) > 45 ||
			(c.Style != discordgo.TextInputShort && c.Style != discordgo.TextInputParagraph) {
			return bad("modal text input: custom_id, label (1 to 45 characters) and style")
		}
	}
	return nil
}

// sent is a message as the bot sends it (create, edit, follow-up).
type sent struct {
	Content         *string                           `json:"content"`
	Embeds          []*discordgo.MessageEmbed         `json:"embeds"`
	Components      json.RawMessage                   `json:"components"`
	AllowedMentions *discordgo.MessageAllowedMentions `json:"allowed_mentions"`
	Flags           discordgo.MessageFlags            `json:"flags"`
	Reference       *discordgo.MessageReference       `json:"message_reference"`
}

func (m sent) content() string {
	if m.Content == nil {
		return ""
	}
	return *m.Content
}

// check enforces Discord's limits on a message, as Discord answers 50035.
func (m sent) check(needBody bool) error {
	bad := func(why string) error {
		return apiError{http.StatusBadRequest, 50035, "Invalid Form Body (" + why + ")"}
	}
	if utf8.RuneCountInString(m.content()) > 2000 {
		return bad("content: at most 2000 characters")
	}
	if len(m.Embeds) > 10 {
		return bad("embeds: at most 10")
	}
	total := 0
	for _, e := range m.Embeds {
		n := utf8.RuneCountInString
		if n(e.Title) > 256 || n(e.Description) > 4096 || len(e.Fields) > 25 {
			return bad("embed title, description or fields too long")
		}
		total += n(e.Title) + n(e.Description)
		for _, f := range e.Fields {
			if n(f.Name) > 256 || n(f.Value) > 1024 || f.Name == "" || f.Value == "" {
				return bad("embed field name or value empty or too long")
			}
			total += n(f.Name) + n(f.Value)
		}
		if e.Footer != nil {
			total += n(e.Footer.Text)
		}
	}
	if total > 6000 {
		return bad("embeds: at most 6000 characters in all")
	}
	for _, b := range buttons(m.Components) {
		if len(b.CustomID) > 100 || utf8.RuneCountInString(b.Label) > 80 {
			return bad("button custom_id or label too long")
		}
	}
	if am := m.AllowedMentions; am != nil && (len(am.Users) > 100 || len(am.Roles) > 100) {
		return bad("allowed_mentions: at most 100 users and 100 roles")
	}
	if needBody && m.content() == "" && len(m.Embeds) == 0 && len(buttons(m.Components)) == 0 {
		return apiError{http.StatusBadRequest, 50006, "Cannot send an empty message"}
	}
	return nil
}

// apiError is Discord's JSON error answer.
type apiError struct {
	status  int
	code    int
	message string
}

func (e apiError) Error() string { return fmt.Sprintf("%d %s", e.code, e.message) }

// routes maps Discord's REST routes the adapter calls.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	v := strings.TrimSuffix(Version, "/")
	handle := func(pattern, op string, bot bool, fn func(c *Call, r *http.Request) (int, any)) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.HandleFunc(method+" "+v+path, func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, op, bot, fn) })
	}
	handle("GET /gateway", "get_gateway", false, s.getGateway)
	handle("GET /gateway/bot", "get_gateway", true, s.getGateway)
	handle("POST /channels/{channel}/messages", "create_message", true, s.createMessage)
	handle("PATCH /channels/{channel}/messages/{message}", "edit_message", true, s.editMessage)
	handle("POST /channels/{channel}/messages/{message}/threads", "start_thread", true, s.startThread)
	handle("PATCH /channels/{channel}", "modify_channel", true, s.modifyChannel)
	handle("POST /users/@me/channels", "create_dm", true, s.createDM)
	handle("PUT /applications/{app}/commands", "bulk_overwrite_commands", true, s.overwriteCommands)
	handle("PUT /applications/{app}/guilds/{guild}/commands", "bulk_overwrite_commands", true, s.overwriteCommands)
	handle("POST /interactions/{id}/{token}/callback", "interaction_callback", false, s.callback)
	handle("PATCH /webhooks/{app}/{token}/messages/{message}", "edit_original", false, s.editOriginal)
	handle("POST /webhooks/{app}/{token}", "followup", false, s.followup)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, "unknown", false, func(*Call, *http.Request) (int, any) { return http.StatusNotFound, apiError{404, 0, "404: Not Found"} })
	})
	return mux
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, op string, bot bool, fn func(c *Call, r *http.Request) (int, any)) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	c := Call{Op: op, Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, strings.TrimSuffix(Version, "/")), Vars: map[string]string{},
		JSON: json.RawMessage(body), Header: r.Header.Clone(), At: time.Now()}
	for _, name := range []string{"channel", "message", "app", "guild", "id", "token"} {
		if x := r.PathValue(name); x != "" {
			c.Vars[name] = x
		}
	}
	s.mu.Lock()
	f, faulty := s.fault(op)
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
		s.calls = append(s.calls, c)
		s.signal()
		s.mu.Unlock()
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
		}
		return
	case faulty && f.Body != "":
		status = cmp.Or(f.Status, http.StatusOK)
		c.Status = status
		s.calls = append(s.calls, c)
		s.signal()
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, f.Body)
		return
	case faulty && f.Status == http.StatusTooManyRequests:
		ra := f.RetryAfter
		if ra == 0 {
			ra = 1
		}
		w.Header().Set("Retry-After", strconv.FormatFloat(ra, 'f', -1, 64))
		status, resp = f.Status, map[string]any{"message": "You are being rate limited.", "retry_after": ra, "global": false}
	case faulty && f.Status != 0:
		status, resp = f.Status, apiError{f.Status, f.Code, f.Message}
	case bot && r.Header.Get("Authorization") != "Bot "+Token:
		status, resp = http.StatusUnauthorized, apiError{401, 0, "401: Unauthorized"}
	default:
		status, resp = fn(&c, r)
	}
	if e, ok := resp.(apiError); ok {
		status, c.Code = e.status, e.code
		resp = map[string]any{"code": e.code, "message": e.message}
	}
	c.Status = status
	s.calls = append(s.calls, c)
	s.signal()
	s.mu.Unlock()
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(resp)
}

func (s *Server) fault(op string) (Fault, bool) {
	if q := s.queued[op]; len(q) > 0 {
		s.queued[op] = q[1:]
		return q[0], true
	}
	f, ok := s.always[op]
	return f, ok
}

// The handlers below run with s.mu held.

func (s *Server) getGateway(*Call, *http.Request) (int, any) {
	if s.gatewayURL == "" {
		return http.StatusServiceUnavailable, apiError{503, 0, "no gateway"}
	}
	return http.StatusOK, map[string]any{"url": s.gatewayURL, "shards": 1,
		"session_start_limit": map[string]any{"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}}
}

// channel finds where a message may be posted: a known channel, or any
// channel while the fake is not strict.
func (s *Server) channel(id string) (*Channel, error) {
	if c, ok := s.channels[id]; ok {
		return c, nil
	}
	if s.strict || id == "" || strings.Trim(id, "0123456789") != "" {
		return nil, apiError{http.StatusNotFound, 10003, "Unknown Channel"}
	}
	c := &Channel{ID: id, Type: discordgo.ChannelTypeGuildText, Name: "channel-" + id}
	s.channels[id] = c
	return c, nil
}

func (s *Server) find(channel, id string) *Message {
	for _, m := range s.messages {
		if m.ID == id && (channel == "" || m.ChannelID == channel) {
			return m
		}
	}
	return nil
}

func messageJSON(m *Message, guild string) map[string]any {
	out := map[string]any{"id": m.ID, "channel_id": m.ChannelID, "content": m.Content, "embeds": m.Embeds,
		"author": map[string]any{"id": BotID, "username": "upgradebot", "bot": true}, "type": 0,
		"timestamp": time.Now().UTC().Format(time.RFC3339)}
	if len(m.Components) > 0 {
		out["components"] = m.Components
	}
	if guild != "" {
		out["guild_id"] = guild
	}
	return out
}

func (s *Server) createMessage(c *Call, _ *http.Request) (int, any) {
	ch, err := s.channel(c.Vars["channel"])
	if err != nil {
		return 0, err
	}
	var in sent
	if err := json.Unmarshal(c.JSON, &in); err != nil {
		return 0, apiError{http.StatusBadRequest, 50109, "The request body contains invalid JSON."}
	}
	if err := in.check(true); err != nil {
		return 0, err
	}
	switch {
	case ch.Recipient != "" && s.noDMs[ch.Recipient]:
		return 0, apiError{http.StatusForbidden, 50007, "Cannot send messages to this user"}
	case ch.Locked:
		return 0, apiError{http.StatusForbidden, 160005, "Thread is locked"}
	case ch.Archived:
		ch.Archived = false // Discord opens an archived thread again when a message is posted
	}
	if ref := in.Reference; ref != nil && ref.MessageID != "" && s.find(ch.ID, ref.MessageID) == nil {
		return 0, apiError{http.StatusBadRequest, 50035, "Invalid Form Body (message_reference: Unknown message)"}
	}
	m := &Message{ID: s.snowflake(), ChannelID: ch.ID, Content: in.content(), Embeds: in.Embeds, Components: in.Components,
		AllowedMentions: in.AllowedMentions, Flags: in.Flags, Reference: in.Reference}
	s.messages = append(s.messages, m)
	guild := GuildID
	if ch.Recipient != "" {
		guild = ""
	}
	return http.StatusOK, messageJSON(m, guild)
}

func (s *Server) editMessage(c *Call, _ *http.Request) (int, any) {
	m := s.find(c.Vars["channel"], c.Vars["message"])
	if m == nil {
		return 0, apiError{http.StatusNotFound, 10008, "Unknown Message"}
	}
	var in sent
	var keys map[string]json.RawMessage
	if json.Unmarshal(c.JSON, &in) != nil || json.Unmarshal(c.JSON, &keys) != nil {
		return 0, apiError{http.StatusBadRequest, 50109, "The request body contains invalid JSON."}
	}
	if err := in.check(false); err != nil {
		return 0, err
	}
	if _, ok := keys["content"]; ok {
		m.Content = in.content()
	}
	if _, ok := keys["embeds"]; ok {
		m.Embeds = in.Embeds
	}
	if _, ok := keys["components"]; ok {
		m.Components = in.Components
	}
	if in.AllowedMentions != nil {
		m.AllowedMentions = in.AllowedMentions
	}
	m.Edits++
	return http.StatusOK, messageJSON(m, GuildID)
}

func (s *Server) startThread(c *Call, _ *http.Request) (int, any) {
	ch, err := s.channel(c.Vars["channel"])
	if err != nil {
		return 0, err
	}
	m := s.find(ch.ID, c.Vars["message"])
	if m == nil {
		return 0, apiError{http.StatusNotFound, 10008, "Unknown Message"}
	}
	if t := ch.Type; t == discordgo.ChannelTypeGuildPublicThread || t == discordgo.ChannelTypeGuildPrivateThread || t == discordgo.ChannelTypeGuildNewsThread { // Discord has no threads in threads
		return 0, apiError{http.StatusBadRequest, 50024, "Cannot execute action on this channel type"}
	}
	if _, ok := s.channels[m.ID]; ok {
		return 0, apiError{http.StatusBadRequest, 160004, "A thread has already been created for this message"}
	}
	var in discordgo.ThreadStart
	if err := json.Unmarshal(c.JSON, &in); err != nil || in.Name == "" || utf8.RuneCountInString(in.Name) > 100 {
		return 0, apiError{http.StatusBadRequest, 50035, "Invalid Form Body (name: 1 to 100 characters)"}
	}
	th := &Channel{ID: m.ID, ParentID: ch.ID, Type: discordgo.ChannelTypeGuildPublicThread, Name: in.Name}
	s.channels[th.ID] = th
	return http.StatusCreated, threadJSON(th)
}

func threadJSON(th *Channel) map[string]any {
	return map[string]any{"id": th.ID, "type": th.Type, "guild_id": GuildID, "parent_id": th.ParentID, "name": th.Name,
		"thread_metadata": map[string]any{"archived": th.Archived, "locked": th.Locked, "auto_archive_duration": 10080}}
}

func (s *Server) modifyChannel(c *Call, _ *http.Request) (int, any) {
	ch, ok := s.channels[c.Vars["channel"]]
	if !ok {
		return 0, apiError{http.StatusNotFound, 10003, "Unknown Channel"}
	}
	var in struct {
		Archived *bool `json:"archived"`
		Locked   *bool `json:"locked"`
	}
	if err := json.Unmarshal(c.JSON, &in); err != nil {
		return 0, apiError{http.StatusBadRequest, 50109, "The request body contains invalid JSON."}
	}
	if in.Archived != nil {
		if ch.Locked && !*in.Archived && (in.Locked == nil || *in.Locked) {
			return 0, apiError{http.StatusForbidden, 50013, "Missing Permissions"}
		}
		ch.Archived = *in.Archived
	}
	if in.Locked != nil {
		ch.Locked = *in.Locked
	}
	return http.StatusOK, threadJSON(ch)
}

func (s *Server) createDM(c *Call, _ *http.Request) (int, any) {
	var in struct {
		RecipientID string `json:"recipient_id"`
	}
	if err := json.Unmarshal(c.JSON, &in); err != nil || in.RecipientID == "" {
		return 0, apiError{http.StatusBadRequest, 50035, "Invalid Form Body (recipient_id)"}
	}
	id, ok := s.dmOf[in.RecipientID]
	if !ok {
		id = s.snowflake()
		s.dmOf[in.RecipientID] = id
		s.channels[id] = &Channel{ID: id, Type: discordgo.ChannelTypeDM, Recipient: in.RecipientID}
	}
	return http.StatusOK, map[string]any{"id": id, "type": discordgo.ChannelTypeDM,
		"recipients": []map[string]any{{"id": in.RecipientID, "username": "user-" + in.RecipientID}}}
}

func (s *Server) overwriteCommands(c *Call, _ *http.Request) (int, any) {
	if c.Vars["app"] != AppID {
		return 0, apiError{http.StatusForbidden, 50001, "Missing Access"}
	}
	var cmds []*discordgo.ApplicationCommand
	if err := json.Unmarshal(c.JSON, &cmds); err != nil {
		return 0, apiError{http.StatusBadRequest, 50109, "The request body contains invalid JSON."}
	}
	for _, cmd := range cmds {
		if err := checkCommand(cmd); err != nil {
			return 0, apiError{http.StatusBadRequest, 50035, "Invalid Form Body (" + err.Error() + ")"}
		}
		cmd.ID, cmd.ApplicationID, cmd.GuildID, cmd.Version = s.snowflake(), AppID, c.Vars["guild"], s.snowflake()
	}
	s.commands[c.Vars["guild"]] = cmds
	return http.StatusOK, cmds
}

// checkCommand enforces Discord's rules on a chat command and its options.
func checkCommand(cmd *discordgo.ApplicationCommand) error {
	if err := checkName(cmd.Name, cmd.Description); err != nil {
		return err
	}
	if len(cmd.Options) > 25 {
		return fmt.Errorf("%s: at most 25 options", cmd.Name)
	}
	return checkOptions(cmd.Name, cmd.Options)
}

func checkName(name, desc string) error {
	if name == "" || len(name) > 32 || strings.ToLower(name) != name || strings.ContainsAny(name, " ") {
		return fmt.Errorf("name %q: 1 to 32 lower-case characters", name)
	}
	if n := utf8.RuneCountInString(desc); n < 1 || n > 100 {
		return fmt.Errorf("%s: description of 1 to 100 characters", name)
	}
	return nil
}

func checkOptions(parent string, opts []*discordgo.ApplicationCommandOption) error {
	optional := false
	seen := map[string]bool{}
	for _, o := range opts {
		if err := checkName(o.Name, o.Description); err != nil {
			return fmt.Errorf("%s: %w", parent, err)
		}
		if seen[o.Name] {
			return fmt.Errorf("%s: option %q twice", parent, o.Name)
		}
		seen[o.Name] = true
		switch o.Type {
		case discordgo.ApplicationCommandOptionSubCommand:
			if len(o.Options) > 25 {
				return fmt.Errorf("%s %s: at most 25 options", parent, o.Name)
			}
			if err := checkOptions(parent+" "+o.Name, o.Options); err != nil {
				return err
			}
			continue
		}
		if o.Required && optional {
			return fmt.Errorf("%s: required option %q after an optional one", parent, o.Name)
		}
		optional = optional || !o.Required
		if o.Autocomplete && len(o.Choices) > 0 {
			return fmt.Errorf("%s: option %q has both choices and autocomplete", parent, o.Name)
		}
		if len(o.Choices) > 25 {
			return fmt.Errorf("%s: option %q has more than 25 choices", parent, o.Name)
		}
	}
	return nil
}

func (s *Server) callback(c *Call, _ *http.Request) (int, any) {
	e, ok := s.exchanges[c.Vars["token"]]
	if !ok || e.ID != c.Vars["id"] {
		return 0, apiError{http.StatusNotFound, 10062, "Unknown interaction"}
	}
	var r response
	if err := json.Unmarshal(c.JSON, &r); err != nil {
		return 0, apiError{http.StatusBadRequest, 50109, "The request body contains invalid JSON."}
	}
	if err := checkChoices(r.Type, c.JSON); err != nil {
		return 0, err
	}
	if err := s.answer(e.Token, r); err != nil {
		return 0, err
	}
	return http.StatusNoContent, nil
}

func (s *Server) editOriginal(c *Call, _ *http.Request) (int, any) {
	e, ok := s.exchanges[c.Vars["token"]]
	if !ok || c.Vars["app"] != AppID {
		return 0, apiError{http.StatusUnauthorized, 50027, "Invalid Webhook Token"}
	}
	if c.Vars["message"] != "@original" || e.Original == nil {
		return 0, apiError{http.StatusNotFound, 10008, "Unknown Message"}
	}
	var in sent
	var keys map[string]json.RawMessage
	if json.Unmarshal(c.JSON, &in) != nil || json.Unmarshal(c.JSON, &keys) != nil {
		return 0, apiError{http.StatusBadRequest, 50109, "The request body contains invalid JSON."}
	}
	if err := in.check(false); err != nil {
		return 0, err
	}
	o := e.Original
	if _, ok := keys["content"]; ok {
		o.Content = in.content()
	}
	if _, ok := keys["embeds"]; ok {
		o.Embeds = in.Embeds
	}
	if _, ok := keys["components"]; ok {
		o.Components = in.Components
	}
	o.AllowedMentions = in.AllowedMentions
	o.Edits++
	s.ephemeralIDs++
	return http.StatusOK, map[string]any{"id": strconv.FormatInt(s.ephemeralIDs, 10), "content": o.Content, "embeds": o.Embeds, "flags": o.Flags}
}

func (s *Server) followup(c *Call, _ *http.Request) (int, any) {
	e, ok := s.exchanges[c.Vars["token"]]
	if !ok || c.Vars["app"] != AppID {
		return 0, apiError{http.StatusUnauthorized, 50027, "Invalid Webhook Token"}
	}
	if e.Initial == nil {
		return 0, apiError{http.StatusNotFound, 10015, "Unknown Webhook"}
	}
	var in sent
	if err := json.Unmarshal(c.JSON, &in); err != nil {
		return 0, apiError{http.StatusBadRequest, 50109, "The request body contains invalid JSON."}
	}
	if err := in.check(true); err != nil {
		return 0, err
	}
	e.Followups = append(e.Followups, Reply{Type: discordgo.InteractionResponseChannelMessageWithSource, Content: in.content(),
		Embeds: in.Embeds, Components: in.Components, Flags: in.Flags, AllowedMentions: in.AllowedMentions})
	s.ephemeralIDs++
	return http.StatusOK, map[string]any{"id": strconv.FormatInt(s.ephemeralIDs, 10), "content": in.content(), "flags": in.Flags}
}
