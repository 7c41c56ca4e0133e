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
	fullWidth bool
}

// MarshalJSON returns the card's JSON: always the same bytes for the same
// card, with <, > and & left unescaped.
func (c Card) MarshalJSON() ([]byte, error) {
	doc := cardJSON{Schema: Schema, Type: "AdaptiveCard", Version: Version, Body: c.body}
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
	Schema  string    `json:"$schema"`
	Type    string    `json:"type"`
	Version string    `json:"version"`
	Body    []element `json:"body"`
	MSTeams *msteams  `json:"msteams,omitempty"`
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

func (textBlock) isElement() {}
func (richText) isElement()  {}
func (columnSet) isElement() {}
func (container) isElement() {}
