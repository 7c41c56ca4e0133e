package cards

import (
	"bytes"
	"encoding/json"
)

// Card envelope constants.
const (
	// ContentType is the attachment content type of an Adaptive Card.
	ContentType = "application/vnd.microsoft.card.adaptive"
	// Schema is the card's $schema.
	Schema = "http://adaptivecards.io/schemas/adaptive-card.json"
	// Version is the schema version of every card (the one Teams documents
	// for Universal Actions).
	Version = "1.5"
)

// Card is one Adaptive Card, built by this package's functions. Its JSON
// form is produced by MarshalJSON; the zero Card is an empty card.
type Card struct {
	body      []element
	actions   []executeAction
	refresh   *refresh
	fullWidth bool
}

// MarshalJSON returns the card's JSON: always the same bytes for the same
// card, with <, > and & left unescaped.
func (c Card) MarshalJSON() ([]byte, error) {
	doc := cardJSON{Schema: Schema, Type: "AdaptiveCard", Version: Version, Refresh: c.refresh, Body: c.body, Actions: c.actions}
	if doc.Body == nil {
		doc.Body = []element{}
	}
	if c.fullWidth {
		doc.MSTeams = &msteams{Width: "Full"}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Attachment returns the content type and content of c as a Bot Framework
// attachment. It panics only if c cannot be encoded, which a Card built by
// this package never is (it holds only strings, numbers and booleans).
func Attachment(c Card) (contentType string, content json.RawMessage) {
	b, err := c.MarshalJSON()
	if err != nil {
		panic("cards: encode card: " + err.Error())
	}
	return ContentType, b
}

type cardJSON struct {
	Schema  string          `json:"$schema"`
	Type    string          `json:"type"`
	Version string          `json:"version"`
	Refresh *refresh        `json:"refresh,omitempty"`
	Body    []element       `json:"body"`
	Actions []executeAction `json:"actions,omitempty"`
	MSTeams *msteams        `json:"msteams,omitempty"`
}

// msteams is Teams' extension of the card; Width "Full" uses the whole
// message width (for tables).
type msteams struct {
	Width string `json:"width"`
}

// element is one body element; the types below are the only ones used.
type element interface{ isElement() }

// textBlock holds text written in this package (Markdown allowed).
type textBlock struct {
	Type      string `json:"type"`
	Text      string `json:"text"`
	Wrap      bool   `json:"wrap"`
	Style     string `json:"style,omitempty"`
	Size      string `json:"size,omitempty"`
	Weight    string `json:"weight,omitempty"`
	Color     string `json:"color,omitempty"`
	IsSubtle  bool   `json:"isSubtle,omitempty"`
	Spacing   string `json:"spacing,omitempty"`
	Separator bool   `json:"separator,omitempty"`
}

// richText holds runs of outside text (no Markdown).
type richText struct {
	Type    string    `json:"type"`
	Inlines []textRun `json:"inlines"`
	Spacing string    `json:"spacing,omitempty"`
}

type textRun struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	FontType string `json:"fontType,omitempty"`
	Weight   string `json:"weight,omitempty"`
	Color    string `json:"color,omitempty"`
	IsSubtle bool   `json:"isSubtle,omitempty"`
}

type columnSet struct {
	Type      string   `json:"type"`
	Columns   []column `json:"columns"`
	Spacing   string   `json:"spacing,omitempty"`
	Separator bool     `json:"separator,omitempty"`
}

type column struct {
	Type  string    `json:"type"`
	Width int       `json:"width"`
	Items []element `json:"items"`
}

type container struct {
	Type      string    `json:"type"`
	Items     []element `json:"items"`
	Style     string    `json:"style,omitempty"`
	Spacing   string    `json:"spacing,omitempty"`
	Separator bool      `json:"separator,omitempty"`
}

// inputText is a text box written here (its label and placeholder); what a
// user types comes back to the bot with the action, never shown by a card.
type inputText struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	Label       string `json:"label,omitempty"`
	Placeholder string `json:"placeholder,omitempty"`
	MaxLength   int    `json:"maxLength,omitempty"`
	Spacing     string `json:"spacing,omitempty"`
}

// executeAction is a Universal Action button (Action.Execute): Teams sends
// it to the bot as an adaptiveCard/action invoke. Fallback is what clients
// without Universal Actions show instead.
type executeAction struct {
	Type             string        `json:"type"`
	Title            string        `json:"title"`
	Verb             string        `json:"verb"`
	Style            string        `json:"style,omitempty"`
	AssociatedInputs string        `json:"associatedInputs,omitempty"`
	Data             ActionData    `json:"data"`
	Fallback         *submitAction `json:"fallback,omitempty"`
}

// submitAction is an Action.Submit button: it arrives as a message whose
// value is Data plus the card's inputs.
type submitAction struct {
	Type             string     `json:"type"`
	Title            string     `json:"title"`
	Style            string     `json:"style,omitempty"`
	AssociatedInputs string     `json:"associatedInputs,omitempty"`
	Data             ActionData `json:"data"`
}

// refresh makes the clients of UserIDs fetch their own version of the card
// with Action (an Action.Execute without title or fallback) as soon as
// they show it.
type refresh struct {
	Action  refreshAction `json:"action"`
	UserIDs []string      `json:"userIds,omitempty"`
}

type refreshAction struct {
	Type string     `json:"type"`
	Verb string     `json:"verb"`
	Data ActionData `json:"data"`
}

func (textBlock) isElement() {}
func (richText) isElement()  {}
func (columnSet) isElement() {}
func (container) isElement() {}
func (inputText) isElement() {}
