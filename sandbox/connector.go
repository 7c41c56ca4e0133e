package sandbox

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// Limits of the connector emulator. Teams refuses messages over about 28 KB
// with 413 MessageSizeTooBig; the emulator does the same, so a card that
// would fail in Teams fails here too.
const (
	maxConnectorBody = 256 << 10
	maxMessageBytes  = 28 << 10
)

// botActivity is what the bot sends to the connector: the fields the page
// shows. Everything else is ignored, as Teams ignores what it does not use.
type botActivity struct {
	Type        string       `json:"type"`
	Text        string       `json:"text"`
	TextFormat  string       `json:"textFormat"`
	Attachments []Attachment `json:"attachments"`
}

// connectorError answers a connector call the way the Bot Framework does:
// {"error":{"code":...,"message":...}}.
func connectorError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// connectorID answers with the activity's ID.
func connectorID(w http.ResponseWriter, status int, id string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"id": id})
}

// splitConversation splits a channel conversation ID into the channel and
// the thread's root message ID ("19:x@thread.tacv2;messageid=123").
func splitConversation(id string) (channel, root string) {
	channel, root, _ = strings.Cut(id, ";messageid=")
	return channel, root
}

// readBotActivity checks the caller's bearer token and reads the activity.
// It answers the request itself and returns false on any problem.
func (s *server) readBotActivity(w http.ResponseWriter, r *http.Request) (string, string, botActivity, bool) {
	var act botActivity
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		connectorError(w, http.StatusUnauthorized, "Unauthorized", "a bearer token is required")
		return "", "", act, false
	}
	channel, root := splitConversation(r.PathValue("conversation"))
	if _, ok := s.tenant.ChannelByID(channel); !ok {
		connectorError(w, http.StatusNotFound, "ConversationNotFound", "no such conversation")
		return "", "", act, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxConnectorBody))
	if err != nil || len(body) > maxMessageBytes {
		connectorError(w, http.StatusRequestEntityTooLarge, "MessageSizeTooBig", "the activity is larger than Teams accepts")
		return "", "", act, false
	}
	if err := json.Unmarshal(body, &act); err != nil {
		connectorError(w, http.StatusBadRequest, "BadArgument", "the activity is not valid JSON")
		return "", "", act, false
	}
	for _, a := range act.Attachments {
		if a.ContentType == "" || (a.ContentType == cardContentType && !isJSONObject(a.Content)) {
			connectorError(w, http.StatusBadRequest, "BadArgument", "an attachment has no content type, or a card that is not an object")
			return "", "", act, false
		}
	}
	return channel, root, act, true
}

// cardContentType is the attachment content type of an Adaptive Card.
const cardContentType = "application/vnd.microsoft.card.adaptive"

func isJSONObject(b json.RawMessage) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(b, &m) == nil && m != nil
}

// postActivity is POST v3/conversations/{conversation}/activities[/{activity}]:
// the bot sends a message (a new post, or a reply in a thread) or shows it
// is typing.
func (s *server) postActivity(w http.ResponseWriter, r *http.Request) {
	channel, root, act, ok := s.readBotActivity(w, r)
	if !ok {
		return
	}
	switch act.Type {
	case "typing":
		s.hub.publish(event{Type: "typing", Channel: channel})
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = io.WriteString(w, "{}\n")
		return
	case "message", "":
	default:
		connectorError(w, http.StatusBadRequest, "BadArgument", "the emulator takes message and typing activities")
		return
	}
	thread := ""
	if replyTo := r.PathValue("activity"); replyTo != "" {
		thread = s.chat.ThreadOf(channel, replyTo)
	}
	if thread == "" && root != "" {
		thread = s.chat.ThreadOf(channel, root)
	}
	m, err := s.chat.Post(Message{Channel: channel, Thread: thread, From: s.botAccount(), Text: act.Text,
		TextFormat: act.TextFormat, Attachments: act.Attachments})
	if err != nil {
		s.log.Error("sandbox chat not saved", "error", err)
	}
	s.log.Info("sandbox connector: bot posted", "channel", channel, "activity_id", m.ID, "thread", thread)
	s.hub.publish(event{Type: "message", Message: &m})
	connectorID(w, http.StatusCreated, m.ID)
}

// putActivity is PUT v3/conversations/{conversation}/activities/{activity}:
// the bot replaces one of its messages (a card changing state).
func (s *server) putActivity(w http.ResponseWriter, r *http.Request) {
	channel, _, act, ok := s.readBotActivity(w, r)
	if !ok {
		return
	}
	id := r.PathValue("activity")
	errNotBots := errors.New("not the bot's message")
	m, err := s.chat.Update(channel, id, func(m *Message) error {
		if !m.From.Bot {
			return errNotBots
		}
		m.Text, m.TextFormat, m.Attachments = act.Text, act.TextFormat, act.Attachments
		return nil
	})
	switch {
	case errors.Is(err, errNoMessage):
		connectorError(w, http.StatusNotFound, "ActivityNotFound", "no such activity")
		return
	case errors.Is(err, errNotBots):
		connectorError(w, http.StatusForbidden, "Forbidden", "a bot can update only its own messages")
		return
	case err != nil:
		s.log.Error("sandbox chat not saved", "error", err)
	}
	s.log.Info("sandbox connector: bot updated", "channel", channel, "activity_id", id, "revision", m.Revision)
	s.hub.publish(event{Type: "update", Message: &m})
	connectorID(w, http.StatusOK, id)
}

// botAccount is how the bot's messages are signed.
func (s *server) botAccount() Account {
	return Account{ID: s.tenant.BotAccountID(), Name: s.tenant.Bot.Name, Bot: true}
}

// teamsMember is one entry of GET v3/conversations/{id}/members.
type teamsMember struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	AADObjectID       string `json:"aadObjectId"`
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	TenantID          string `json:"tenantId"`
	UserRole          string `json:"userRole"`
}

// members is GET v3/conversations/{conversation}/members: every person of
// the tenant file is a member of the team, so of every channel.
func (s *server) members(w http.ResponseWriter, r *http.Request) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		connectorError(w, http.StatusUnauthorized, "Unauthorized", "a bearer token is required")
		return
	}
	channel, _ := splitConversation(r.PathValue("conversation"))
	if _, ok := s.tenant.ChannelByID(channel); !ok {
		connectorError(w, http.StatusNotFound, "ConversationNotFound", "no such conversation")
		return
	}
	out := make([]teamsMember, 0, len(s.tenant.Users))
	for _, u := range s.tenant.Users {
		a := userAccount(u)
		out = append(out, teamsMember{ID: a.ID, Name: u.Name, AADObjectID: a.AADObjectID, TenantID: s.tenant.Tenant.ID, UserRole: "user",
			UserPrincipalName: u.Key + "@sandbox.example"})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(out)
}
