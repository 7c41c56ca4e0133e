package connector

import (
	"bytes"
	"encoding/json"
)

// Activity types and text formats Keyturn sends.
const (
	TypeMessage = "message"
	TypeTyping  = "typing"

	TextFormatMarkdown = "markdown"
	TextFormatPlain    = "plain"
	TextFormatXML      = "xml"

	// ContentTypeAdaptiveCard is the attachment content type of an
	// Adaptive Card.
	ContentTypeAdaptiveCard = "application/vnd.microsoft.card.adaptive"
)

// Activity is an outgoing activity. The client fills in Type ("message"),
// From (the bot) and Conversation from the conversation reference when they
// are empty, ReplyToID for replies and ID for updates; it never changes
// the caller's value.
type Activity struct {
	Type         string        `json:"type"`
	ID           string        `json:"id,omitempty"`
	Text         string        `json:"text,omitempty"`
	TextFormat   string        `json:"textFormat,omitempty"`
	Summary      string        `json:"summary,omitempty"`
	Attachments  []Attachment  `json:"attachments,omitempty"`
	ReplyToID    string        `json:"replyToId,omitempty"`
	Conversation *Conversation `json:"conversation,omitempty"`
	From         *Account      `json:"from,omitempty"`
	// ChannelData is optional Teams channel data, sent as is.
	ChannelData json.RawMessage `json:"channelData,omitempty"`
}

// Attachment is a card or file attached to an activity; Content is its
// JSON (an Adaptive Card for ContentTypeAdaptiveCard), checked once when it
// was made (NewJSON).
type Attachment struct {
	ContentType string `json:"contentType"`
	Content     JSON   `json:"content,omitzero"`
}

// JSON is one JSON value, checked when it was made: a card built once (the
// help card) is copied into every reply's body as it is, without scanning
// it again per reply (docs/performance.md). Its bytes are private, so
// nothing can change them after the check.
type JSON struct{ b []byte }

// NewJSON returns a copy of v as a JSON, or errInvalidRaw when v is not
// one valid JSON value. The error quotes nothing of v.
func NewJSON(v []byte) (JSON, error) {
	if !json.Valid(v) {
		return JSON{}, errInvalidRaw
	}
	return JSON{b: bytes.Clone(v)}, nil
}

// MarshalJSON returns the value ("null" for the zero JSON).
func (j JSON) MarshalJSON() ([]byte, error) {
	if j.b == nil {
		return []byte("null"), nil
	}
	return j.b, nil
}

// IsZero reports whether j was never set (omitzero leaves it out).
func (j JSON) IsZero() bool { return j.b == nil }

// String returns the value as text.
func (j JSON) String() string { return string(j.b) }

// Account names the sender of an outgoing activity.
type Account struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Conversation names the conversation of an outgoing activity.
type Conversation struct {
	ID string `json:"id"`
}
