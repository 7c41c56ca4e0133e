package connector

import "encoding/json"

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
// JSON (an Adaptive Card for ContentTypeAdaptiveCard).
type Attachment struct {
	ContentType string          `json:"contentType"`
	Content     json.RawMessage `json:"content,omitempty"`
}

// Account names the sender of an outgoing activity.
type Account struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Conversation names the conversation of an outgoing activity.
type Conversation struct {
	ID string `json:"id"`
}
