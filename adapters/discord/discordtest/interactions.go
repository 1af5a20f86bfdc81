package discordtest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Member is who invokes an interaction: a member of the guild, with roles.
type Member struct {
	ID, Name string
	Roles    []string
}

// Opt is one option of a subcommand: a string, or a boolean.
type Opt struct {
	Name  string
	Value any
	// Focused marks the option being typed (autocomplete).
	Focused bool
}

// O is a string option.
func O(name, value string) Opt { return Opt{Name: name, Value: value} }

// newInteraction is the common part of every interaction the fake makes,
// known to it (Expect) so that its callback is taken once.
func (s *Server) newInteraction(typ discordgo.InteractionType, m Member, channel string, data discordgo.InteractionData) *discordgo.Interaction {
	s.mu.Lock()
	id := s.createdID()
	s.mu.Unlock()
	token := "tok-" + id + "-" + randomHex(8)
	i := &discordgo.Interaction{
		ID: id, AppID: AppID, Type: typ, Data: data, GuildID: GuildID, ChannelID: channel, Token: token, Version: 1,
		Member: &discordgo.Member{GuildID: GuildID, User: &discordgo.User{ID: m.ID, Username: m.Name}, Roles: m.Roles},
		Locale: discordgo.EnglishUS,
	}
	s.Expect(i)
	return i
}

// Command is /upgrade <sub> with options, typed by m in channel.
func (s *Server) Command(m Member, channel, sub string, opts ...Opt) *discordgo.Interaction {
	return s.newInteraction(discordgo.InteractionApplicationCommand, m, channel, commandData("upgrade", sub, opts))
}

// CommandNamed is like Command for another application command name.
func (s *Server) CommandNamed(name string, m Member, channel, sub string, opts ...Opt) *discordgo.Interaction {
	return s.newInteraction(discordgo.InteractionApplicationCommand, m, channel, commandData(name, sub, opts))
}

// Autocomplete is an autocomplete of /upgrade <sub>; the focused option is
// the one being typed.
func (s *Server) Autocomplete(m Member, channel, sub string, opts ...Opt) *discordgo.Interaction {
	return s.newInteraction(discordgo.InteractionApplicationCommandAutocomplete, m, channel, commandData("upgrade", sub, opts))
}

func commandData(name, sub string, opts []Opt) discordgo.ApplicationCommandInteractionData {
	var os []*discordgo.ApplicationCommandInteractionDataOption
	for _, o := range opts {
		t := discordgo.ApplicationCommandOptionString
		if _, ok := o.Value.(bool); ok {
			t = discordgo.ApplicationCommandOptionBoolean
		}
		os = append(os, &discordgo.ApplicationCommandInteractionDataOption{Name: o.Name, Type: t, Value: o.Value, Focused: o.Focused})
	}
	return discordgo.ApplicationCommandInteractionData{
		ID: "900000000000000010", Name: name, CommandType: discordgo.ChatApplicationCommand,
		Options: []*discordgo.ApplicationCommandInteractionDataOption{{Name: sub, Type: discordgo.ApplicationCommandOptionSubCommand, Options: os}},
	}
}

// Press clicks a button with customID on msg, as m.
func (s *Server) Press(m Member, msg Message, customID string) *discordgo.Interaction {
	i := s.newInteraction(discordgo.InteractionMessageComponent, m, msg.ChannelID,
		discordgo.MessageComponentInteractionData{CustomID: customID, ComponentType: discordgo.ButtonComponent})
	i.Message = &discordgo.Message{ID: msg.ID, ChannelID: msg.ChannelID, Content: msg.Content, Embeds: msg.Embeds}
	return i
}

// Submit sends the modal customID as m filled it in: values by the custom_id
// of each text input.
func (s *Server) Submit(m Member, channel, customID string, values map[string]string) *discordgo.Interaction {
	var rows []discordgo.MessageComponent
	for _, id := range slices.Sorted(maps.Keys(values)) {
		rows = append(rows, &discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			&discordgo.TextInput{CustomID: id, Value: values[id]},
		}})
	}
	return s.newInteraction(discordgo.InteractionModalSubmit, m, channel,
		ModalSubmit{discordgo.ModalSubmitInteractionData{CustomID: customID, Components: rows}})
}

// ModalSubmit is discordgo's ModalSubmitInteractionData encoded as Discord
// sends it: discordgo decodes its components but does not encode them.
type ModalSubmit struct {
	discordgo.ModalSubmitInteractionData
}

// MarshalJSON encodes the custom_id and the components.
func (d ModalSubmit) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		CustomID   string                       `json:"custom_id"`
		Components []discordgo.MessageComponent `json:"components"`
	}{d.CustomID, d.Components})
}

// Ping is Discord's PING, sent to check the endpoint.
func Ping() *discordgo.Interaction {
	return &discordgo.Interaction{ID: "900000000000000011", AppID: AppID, Type: discordgo.InteractionPing, Token: "ping-token", Version: 1}
}

// Marshal encodes an interaction as Discord sends it.
func Marshal(t testing.TB, i *discordgo.Interaction) []byte {
	t.Helper()
	b, err := json.Marshal(i)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// NewKey makes an application key pair: the public key as discord.public_key
// takes it (hex), and the private key that signs requests.
func NewKey(t testing.TB) (string, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(pub), priv
}

// Sign is Discord's signature of a request: hex Ed25519 over timestamp+body.
func Sign(priv ed25519.PrivateKey, timestamp string, body []byte) string {
	return hex.EncodeToString(ed25519.Sign(priv, append([]byte(timestamp), body...)))
}

// SignedRequest builds POST url with body, signed at the given time.
func SignedRequest(t testing.TB, url string, priv ed25519.PrivateKey, body []byte, at time.Time) *http.Request {
	t.Helper()
	ts := strconv.FormatInt(at.Unix(), 10)
	return Request(t, url, body, map[string]string{"X-Signature-Timestamp": ts, "X-Signature-Ed25519": Sign(priv, ts, body)})
}

// Request builds POST url with body and the given headers.
func Request(t testing.TB, url string, body []byte, headers map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Discord-Interactions/1.0 (+https://discord.com)")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return req
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
