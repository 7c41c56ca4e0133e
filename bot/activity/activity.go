// Package activity is Keyturn's own view of an incoming Bot Framework
// activity as Microsoft Teams sends it, decoded from the raw request body.
//
// It exists because msbotbuilder-go v0.2.5's schema drops mention details
// (schema.Entity keeps only its type) and decodes value into a map, which
// fails on the non-object values Teams may send. Decode keeps value as raw
// JSON and mentions with their id, name and text.
//
// The package imports only the standard library: never rotation's adapters,
// never an Azure SDK. It does not authenticate anything; callers decode only
// bodies whose bearer token they have validated (package botauth).
package activity

import (
	"encoding/json"
	"time"
)

// Activity types Keyturn handles.
const (
	TypeMessage            = "message"
	TypeInvoke             = "invoke"
	TypeConversationUpdate = "conversationUpdate"
	TypeInstallationUpdate = "installationUpdate"
	TypeTyping             = "typing"
)

// Conversation types Teams reports in conversation.conversationType.
const (
	ConversationPersonal  = "personal"
	ConversationGroupChat = "groupChat"
	ConversationChannel   = "channel"
)

// Activity is an incoming Teams activity. Only the fields Keyturn uses are
// kept; unknown fields are ignored by Decode.
type Activity struct {
	Type         string              `json:"type"`
	Name         string              `json:"name,omitempty"` // invoke name, e.g. adaptiveCard/action
	ID           string              `json:"id,omitempty"`
	Timestamp    time.Time           `json:"timestamp,omitzero"`
	ChannelID    string              `json:"channelId,omitempty"`
	ServiceURL   string              `json:"serviceUrl,omitempty"`
	From         ChannelAccount      `json:"from,omitzero"`
	Recipient    ChannelAccount      `json:"recipient,omitzero"`
	Conversation ConversationAccount `json:"conversation,omitzero"`
	ReplyToID    string              `json:"replyToId,omitempty"`
	Text         string              `json:"text,omitempty"`
	TextFormat   string              `json:"textFormat,omitempty"`
	// Value is the activity's value exactly as sent: an Action.Submit's
	// data and inputs, an invoke's payload. It may be any JSON value, or
	// empty when absent.
	Value       json.RawMessage `json:"value,omitempty"`
	Entities    []Entity        `json:"entities,omitempty"`
	ChannelData ChannelData     `json:"channelData,omitzero"`
	// MembersAdded and MembersRemoved come with conversationUpdate.
	MembersAdded   []ChannelAccount `json:"membersAdded,omitempty"`
	MembersRemoved []ChannelAccount `json:"membersRemoved,omitempty"`
	// Action comes with installationUpdate: "add" or "remove" (Teams may
	// also send "add-upgrade" and "remove-upgrade").
	Action string `json:"action,omitempty"`
	Locale string `json:"locale,omitempty"`
}

// ChannelAccount is a user or bot in a conversation. For users, AADObjectID
// is the Entra ID object ID; authorize on it, never on Name.
type ChannelAccount struct {
	ID          string `json:"id,omitempty"`
	Name        string `json:"name,omitempty"`
	AADObjectID string `json:"aadObjectId,omitempty"`
}

// ConversationAccount is the conversation an activity belongs to. In a
// channel thread, ID ends with ";messageid=<root activity id>".
type ConversationAccount struct {
	ID               string `json:"id,omitempty"`
	Name             string `json:"name,omitempty"`
	ConversationType string `json:"conversationType,omitempty"`
	TenantID         string `json:"tenantId,omitempty"`
	IsGroup          bool   `json:"isGroup,omitempty"`
}

// Entity is one element of the activity's entities. For Type "mention",
// Mentioned is the account mentioned and Text the exact markup that stands
// for it in the activity's text (e.g. "<at>Keyturn</at>"). Other entity
// types (clientInfo, ...) keep only Type.
type Entity struct {
	Type      string          `json:"type"`
	Mentioned *ChannelAccount `json:"mentioned,omitempty"`
	Text      string          `json:"text,omitempty"`
}

// ChannelData is the Teams-specific part of an activity.
type ChannelData struct {
	Tenant    IDRef  `json:"tenant,omitzero"`
	Team      Team   `json:"team,omitzero"`
	Channel   IDRef  `json:"channel,omitzero"`
	EventType string `json:"eventType,omitempty"`
	Source    Source `json:"source,omitzero"`
	Legacy    Legacy `json:"legacy,omitzero"`
}

// IDRef is an object that carries an id.
type IDRef struct {
	ID string `json:"id,omitempty"`
}

// Team is channelData.team.
type Team struct {
	ID         string `json:"id,omitempty"`
	Name       string `json:"name,omitempty"`
	AADGroupID string `json:"aadGroupId,omitempty"`
}

// Source is channelData.source; Name is "message" for an Action.Submit
// from a card in a message.
type Source struct {
	Name string `json:"name,omitempty"`
}

// Legacy is channelData.legacy; ReplyToID repeats an Action.Submit's card
// activity ID.
type Legacy struct {
	ReplyToID string `json:"replyToId,omitempty"`
}

// TenantID returns the tenant the activity comes from: channelData.tenant.id,
// else conversation.tenantId, else "".
func (a *Activity) TenantID() string {
	if a.ChannelData.Tenant.ID != "" {
		return a.ChannelData.Tenant.ID
	}
	return a.Conversation.TenantID
}

// CallerObjectID returns the Entra ID object ID of the sender
// (from.aadObjectId), or "" when Teams did not send one.
func (a *Activity) CallerObjectID() string {
	return a.From.AADObjectID
}

// IsGroup reports whether the activity comes from a conversation with more
// than the caller and the bot: a channel or a group chat.
func (a *Activity) IsGroup() bool {
	switch a.Conversation.ConversationType {
	case ConversationChannel, ConversationGroupChat:
		return true
	}
	return a.Conversation.IsGroup
}

// Mentions returns the activity's mention entities that name an account.
func (a *Activity) Mentions() []Entity {
	var out []Entity
	for _, e := range a.Entities {
		if e.Type == "mention" && e.Mentioned != nil {
			out = append(out, e)
		}
	}
	return out
}

// HasValue reports whether the activity carries a value other than null.
func (a *Activity) HasValue() bool {
	return len(a.Value) > 0 && string(a.Value) != "null"
}

// CardReplyToID returns the ID of the card activity an Action.Submit came
// from: replyToId, else channelData.legacy.replyToId.
func (a *Activity) CardReplyToID() string {
	if a.ReplyToID != "" {
		return a.ReplyToID
	}
	return a.ChannelData.Legacy.ReplyToID
}
