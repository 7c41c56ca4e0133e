package sandbox

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Limits of what the page may send.
const (
	maxPageBody = 64 << 10
	maxTyped    = 4000
)

// sendRequest is POST /api/send: a person posts text (a new post, or a
// reply in Thread), or clicks an Action.Submit (Value, from card ReplyToID).
type sendRequest struct {
	Channel   string          `json:"channel"`
	User      string          `json:"user"`
	Text      string          `json:"text"`
	Thread    string          `json:"thread"`
	Value     json.RawMessage `json:"value"`
	ReplyToID string          `json:"replyToId"`
}

// invokeRequest is POST /api/invoke: a person clicks an Action.Execute
// (trigger manual), or the page refreshes a card for its user (automatic).
type invokeRequest struct {
	Channel    string          `json:"channel"`
	User       string          `json:"user"`
	ActivityID string          `json:"activityId"`
	Verb       string          `json:"verb"`
	Data       json.RawMessage `json:"data"`
	ActionID   string          `json:"actionId"`
	Trigger    string          `json:"trigger"`
}

// pageAnswer is what /api/send and /api/invoke return: the bot's HTTP
// status and, for invokes, its JSON body (the invoke response).
type pageAnswer struct {
	ID        string          `json:"id,omitempty"`
	BotStatus int             `json:"botStatus"`
	Body      json.RawMessage `json:"body,omitempty"`
	Error     string          `json:"error,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func pageError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, pageAnswer{Error: msg})
}

// decodePage reads a JSON body from the page; only application/json is
// taken, so a cross-site form cannot post here.
func decodePage(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		pageError(w, http.StatusUnsupportedMediaType, "send application/json")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxPageBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		pageError(w, http.StatusBadRequest, "the request is not valid")
		return false
	}
	return true
}

// who resolves the page's channel and user.
func (s *server) who(w http.ResponseWriter, channelID, userKey string) (Channel, User, bool) {
	ch, ok := s.tenant.ChannelByID(channelID)
	if !ok {
		pageError(w, http.StatusNotFound, "no such channel")
		return Channel{}, User{}, false
	}
	u, ok := s.tenant.UserByKey(userKey)
	if !ok {
		pageError(w, http.StatusNotFound, "no such user in the tenant file")
		return Channel{}, User{}, false
	}
	return ch, u, true
}

// send is POST /api/send.
func (s *server) send(w http.ResponseWriter, r *http.Request) {
	var req sendRequest
	if !decodePage(w, r, &req) {
		return
	}
	ch, u, ok := s.who(w, req.Channel, req.User)
	if !ok {
		return
	}
	submit := len(req.Value) > 0 && string(req.Value) != "null"
	text := strings.TrimSpace(req.Text)
	switch {
	case submit == (text != ""):
		pageError(w, http.StatusBadRequest, "send either text or a card's value")
		return
	case len(text) > maxTyped || !utf8.ValidString(text):
		pageError(w, http.StatusBadRequest, "the message is too long")
		return
	}
	var act teamsActivity
	if submit {
		// Action.Submit: a message with no text, the card's data as value,
		// replyToId naming the card; Teams shows nothing in the channel.
		root := s.chat.ThreadOf(ch.ID, req.ReplyToID)
		if root == "" {
			pageError(w, http.StatusNotFound, "no such card")
			return
		}
		act = s.activity("message", u, ch, root)
		act.Value, act.ReplyToID = req.Value, req.ReplyToID
		act.ChannelData.Source = &teamsName{Name: "message"}
		act.ChannelData.Legacy = &teamsID{ID: req.ReplyToID}
	} else {
		if req.Thread != "" {
			if m, ok := s.chat.Get(ch.ID, req.Thread); !ok || m.Thread != "" {
				pageError(w, http.StatusNotFound, "no such thread")
				return
			}
		}
		act = s.typed(ch, u, text, req.Thread)
	}
	ans, err := s.deliver(r.Context(), act)
	if err != nil {
		s.log.Warn("sandbox channel: bot unreachable", "error", err)
		writeJSON(w, http.StatusBadGateway, pageAnswer{ID: act.ID, Error: "the bot did not answer"})
		return
	}
	writeJSON(w, http.StatusOK, pageAnswer{ID: act.ID, BotStatus: ans.Status})
}

// invoke is POST /api/invoke: an adaptiveCard/action invoke for the card
// ActivityID; the bot's invoke response is returned for the page to render
// for this user only.
func (s *server) invoke(w http.ResponseWriter, r *http.Request) {
	var req invokeRequest
	if !decodePage(w, r, &req) {
		return
	}
	ch, u, ok := s.who(w, req.Channel, req.User)
	if !ok {
		return
	}
	if req.Trigger != "manual" && req.Trigger != "automatic" {
		pageError(w, http.StatusBadRequest, "trigger is manual or automatic")
		return
	}
	root := s.chat.ThreadOf(ch.ID, req.ActivityID)
	if root == "" {
		pageError(w, http.StatusNotFound, "no such card")
		return
	}
	action := map[string]any{"type": "Action.Execute", "verb": req.Verb}
	if len(req.Data) > 0 {
		action["data"] = req.Data
	}
	if req.ActionID != "" {
		action["id"] = req.ActionID
	}
	value, err := json.Marshal(map[string]any{"action": action, "trigger": req.Trigger})
	if err != nil {
		pageError(w, http.StatusBadRequest, "the card action is not valid")
		return
	}
	act := s.activity("invoke", u, ch, root)
	act.Name, act.Value, act.ReplyToID = "adaptiveCard/action", value, req.ActivityID
	ans, err := s.deliver(r.Context(), act)
	if err != nil {
		s.log.Warn("sandbox channel: bot unreachable", "error", err)
		writeJSON(w, http.StatusBadGateway, pageAnswer{ID: act.ID, Error: "the bot did not answer"})
		return
	}
	out := pageAnswer{ID: act.ID, BotStatus: ans.Status}
	if json.Valid(ans.Body) && len(ans.Body) > 0 {
		out.Body = ans.Body
	} else if len(ans.Body) > 0 {
		out.Error = "the bot's answer is not JSON"
	}
	writeJSON(w, http.StatusOK, out)
}

// tenantView is GET /api/tenant: who and where, for the page.
type tenantView struct {
	Bot      BotInfo    `json:"bot"`
	BotID    string     `json:"botId"`
	Tenant   Org        `json:"tenant"`
	Team     Team       `json:"team"`
	Channels []Channel  `json:"channels"`
	Users    []userView `json:"users"`
	File     string     `json:"file"`
}

type userView struct {
	Key      string   `json:"key"`
	Name     string   `json:"name"`
	ObjectID string   `json:"objectId"`
	Title    string   `json:"title"`
	MemberOf []string `json:"memberOf"`
	// IDs are the identifiers a card's refresh.userIds may list for this
	// user: the Teams account ID, the object ID and its MRI form.
	IDs     []string `json:"ids"`
	Request bool     `json:"mayRequest"`
	Approve bool     `json:"mayApprove"`
}

func (s *server) tenantInfo(w http.ResponseWriter, r *http.Request) {
	v := tenantView{Bot: s.tenant.Bot, BotID: s.tenant.BotAccountID(), Tenant: s.tenant.Tenant, Team: s.tenant.Team,
		Channels: s.tenant.Channels, File: s.tenantFile}
	for _, u := range s.tenant.Users {
		req, appr := s.world.Permissions(r.Context(), u)
		oid := strings.ToLower(u.ObjectID)
		v.Users = append(v.Users, userView{Key: u.Key, Name: u.Name, ObjectID: oid, Title: u.Title,
			MemberOf: append([]string{}, u.MemberOf...), IDs: []string{userAccount(u).ID, oid, "8:orgid:" + oid},
			Request: req, Approve: appr})
	}
	writeJSON(w, http.StatusOK, v)
}

// errNotLoopback is Run's refusal of a listener that is not loopback.
var errNotLoopback = errors.New("the sandbox listens on loopback only")
