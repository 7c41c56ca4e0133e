package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// teamsActivity is an activity as Teams sends it to a bot, with the fields
// Keyturn reads (see bot/activity and protocol.md section 3).
type teamsActivity struct {
	Type         string          `json:"type"`
	Name         string          `json:"name,omitempty"`
	ID           string          `json:"id"`
	Timestamp    time.Time       `json:"timestamp"`
	ChannelID    string          `json:"channelId"`
	ServiceURL   string          `json:"serviceUrl"`
	From         teamsAccount    `json:"from"`
	Recipient    teamsAccount    `json:"recipient"`
	Conversation teamsConv       `json:"conversation"`
	ReplyToID    string          `json:"replyToId,omitempty"`
	Text         string          `json:"text,omitempty"`
	TextFormat   string          `json:"textFormat,omitempty"`
	Value        json.RawMessage `json:"value,omitempty"`
	Entities     []teamsEntity   `json:"entities,omitempty"`
	ChannelData  teamsChanData   `json:"channelData"`
	Action       string          `json:"action,omitempty"`
	MembersAdded []teamsAccount  `json:"membersAdded,omitempty"`
	Locale       string          `json:"locale,omitempty"`
}

type teamsAccount struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	AADObjectID string `json:"aadObjectId,omitempty"`
}

type teamsConv struct {
	ID               string `json:"id"`
	ConversationType string `json:"conversationType"`
	TenantID         string `json:"tenantId"`
	IsGroup          bool   `json:"isGroup"`
}

type teamsEntity struct {
	Type      string        `json:"type"`
	Mentioned *teamsAccount `json:"mentioned,omitempty"`
	Text      string        `json:"text,omitempty"`
}

type teamsID struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

type teamsTeam struct {
	ID         string `json:"id"`
	Name       string `json:"name,omitempty"`
	AADGroupID string `json:"aadGroupId,omitempty"`
}

type teamsChanData struct {
	Tenant    teamsID    `json:"tenant"`
	Team      teamsTeam  `json:"team"`
	Channel   teamsID    `json:"channel"`
	EventType string     `json:"eventType,omitempty"`
	Source    *teamsName `json:"source,omitempty"`
	Legacy    *teamsID   `json:"legacy,omitempty"`
}

type teamsName struct {
	Name string `json:"name"`
}

// maxBotAnswer bounds what is read of the bot's answer (an invoke's card).
const maxBotAnswer = 1 << 20

// userAccount is the Teams account of person u.
func userAccount(u User) teamsAccount {
	return teamsAccount{ID: "29:sandbox-" + u.Key, Name: u.Name, AADObjectID: strings.ToLower(u.ObjectID)}
}

// activity returns an activity of typ from u in channel, in the thread
// whose root post is root (none: the channel itself).
func (s *server) activity(typ string, u User, channel Channel, root string) teamsActivity {
	conv := channel.ID
	if root != "" {
		conv += ";messageid=" + root
	}
	return teamsActivity{
		Type: typ, ID: s.chat.NextID(), Timestamp: time.Now().UTC(), ChannelID: "msteams", ServiceURL: s.serviceURL,
		From:         userAccount(u),
		Recipient:    teamsAccount{ID: s.tenant.BotAccountID(), Name: s.tenant.Bot.Name},
		Conversation: teamsConv{ID: conv, ConversationType: "channel", TenantID: s.tenant.Tenant.ID, IsGroup: true},
		ChannelData: teamsChanData{
			Tenant:  teamsID{ID: s.tenant.Tenant.ID},
			Team:    teamsTeam{ID: s.tenant.Team.ID, Name: s.tenant.Team.Name, AADGroupID: s.tenant.Team.AADGroupID},
			Channel: teamsID{ID: channel.ID, Name: channel.Name},
		},
		Locale: "en-US",
	}
}

// mentionText turns what a person typed into Teams' message text: the
// first "@<bot name>" becomes the mention markup (with its entity), and the
// rest is HTML-escaped, as Teams sends it.
func (s *server) mentionText(typed string) (string, []teamsEntity) {
	name := s.tenant.Bot.Name
	loc := s.mention.FindStringSubmatchIndex(typed)
	if loc == nil {
		return html.EscapeString(typed), nil
	}
	markup := "<at>" + html.EscapeString(name) + "</at>"
	start := loc[3] // after the leading space, at the @
	text := html.EscapeString(typed[:start]) + markup + html.EscapeString(typed[loc[1]:])
	bot := teamsAccount{ID: s.tenant.BotAccountID(), Name: name}
	return text, []teamsEntity{{Type: "mention", Mentioned: &bot, Text: markup}}
}

// botAnswer is the bot's HTTP answer to an activity.
type botAnswer struct {
	Status int
	Body   []byte
}

// deliver posts act to the bot's /api/messages, unauthenticated as the
// Bot Framework Emulator does (the bot accepts that only in emulator mode,
// on loopback, for a loopback serviceUrl).
func (s *server) deliver(ctx context.Context, act teamsActivity) (botAnswer, error) {
	b, err := json.Marshal(act)
	if err != nil {
		return botAnswer{}, fmt.Errorf("encode activity: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.botURL+"/api/messages", bytes.NewReader(b))
	if err != nil {
		return botAnswer{}, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return botAnswer{}, fmt.Errorf("post to the bot: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBotAnswer))
	if err != nil {
		return botAnswer{}, fmt.Errorf("read the bot's answer: %w", err)
	}
	s.log.Info("sandbox channel: activity delivered", "type", act.Type, "name", act.Name, "activity_id", act.ID, "status", resp.StatusCode)
	return botAnswer{Status: resp.StatusCode, Body: body}, nil
}

// typed stores what u typed in channel (in thread, or as a new post) and
// returns the message activity Teams would send for it.
func (s *server) typed(ch Channel, u User, text, thread string) teamsActivity {
	m, err := s.chat.Post(Message{Channel: ch.ID, Thread: thread, From: Account{ID: userAccount(u).ID, Name: u.Name, User: u.Key}, Text: text, TextFormat: "plain"})
	if err != nil {
		s.log.Error("sandbox chat not saved", "error", err)
	}
	s.hub.publish(event{Type: "message", Message: &m})
	root := thread
	if root == "" {
		root = m.ID
	}
	act := s.activity("message", u, ch, root)
	act.ID = m.ID
	act.Text, act.Entities = s.mentionText(text)
	act.TextFormat = "plain"
	return act
}

// install tells the bot it was added to channel (installationUpdate, as
// Teams sends when an app is added to a team), so it learns the
// conversation and may post there later. It is done once per channel.
func (s *server) install(ctx context.Context, channel Channel) error {
	if s.chat.Installed(channel.ID) {
		return nil
	}
	act := s.activity("installationUpdate", s.tenant.Users[0], channel, "")
	act.Action = "add"
	ans, err := s.deliver(ctx, act)
	if err != nil {
		return err
	}
	if ans.Status/100 != 2 {
		return fmt.Errorf("the bot answered the installation in %s with %d", channel.Name, ans.Status)
	}
	return s.chat.MarkInstalled(channel.ID)
}

// mentionPattern matches "@<name>" typed at the start or after a space.
func mentionPattern(name string) *regexp.Regexp {
	return regexp.MustCompile(`(?i)(^|\s)@` + regexp.QuoteMeta(name) + `\b`)
}

// announce sends channel's conversationUpdate that changes nothing (Teams
// sends such events, e.g. when a channel is renamed). The bot posts only to
// serviceUrls it has seen on an incoming activity, so this lets it post
// proactively (the audit trail) right after a restart.
func (s *server) announce(ctx context.Context, channel Channel) error {
	act := s.activity("conversationUpdate", s.tenant.Users[0], channel, "")
	act.ChannelData.EventType = "channelRenamed"
	ans, err := s.deliver(ctx, act)
	if err != nil {
		return err
	}
	if ans.Status/100 != 2 {
		return fmt.Errorf("the bot answered a conversation update in %s with %d", channel.Name, ans.Status)
	}
	return nil
}

// sayHere makes ch one of Keyturn's channels, once: the first user of the
// tenant file who may approve says "@<bot> <command>" ("audit here",
// "radar here") in it, as a person would (the bot takes these commands
// from approvers only).
func (s *server) sayHere(ctx context.Context, ch Channel, ok bool, command string) error {
	mark := command + "|" + ch.ID
	if !ok || s.chat.Installed(mark) {
		return nil
	}
	for _, u := range s.tenant.Users {
		if _, approve := s.world.Permissions(ctx, u); !approve {
			continue
		}
		ans, err := s.deliver(ctx, s.typed(ch, u, "@"+s.tenant.Bot.Name+" "+command, ""))
		if err != nil {
			return err
		}
		if ans.Status/100 != 2 {
			return fmt.Errorf("the bot answered %s with %d", command, ans.Status)
		}
		return s.chat.MarkInstalled(mark)
	}
	return errors.New("no user of the tenant file may approve under the policy, so none can say " + command)
}
