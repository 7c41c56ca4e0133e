package connector

import (
	"bytes"
	"encoding/json"
	"errors"
)

// encode returns act as JSON. It means what json.Marshal(act) means and
// costs less: an attachment's content, checked when it was made (NewJSON),
// is copied into the body as it is, where encoding/json would scan and
// re-compact it on every send. That pass was the largest single cost of a
// reply under load (docs/performance.md). Channel data is checked here, as
// json.Marshal checks it. The raw values are written as they are: a card's
// <, > and & stay unescaped, which is the same JSON.
func encode(act Activity) ([]byte, error) {
	atts, channelData := act.Attachments, act.ChannelData
	if len(atts) == 0 && len(channelData) == 0 {
		return json.Marshal(act)
	}
	act.Attachments, act.ChannelData = nil, nil
	head, err := json.Marshal(act)
	if err != nil {
		return nil, err
	}
	size := len(head) + len(channelData) + 32
	for _, a := range atts {
		size += len(a.ContentType) + len(a.Content.b) + 40
	}
	var b bytes.Buffer
	b.Grow(size)
	b.Write(head[:len(head)-1]) // without its closing brace
	if len(atts) > 0 {
		b.WriteString(`,"attachments":[`)
		for i, a := range atts {
			if i > 0 {
				b.WriteByte(',')
			}
			ct, err := json.Marshal(a.ContentType)
			if err != nil {
				return nil, err
			}
			b.WriteString(`{"contentType":`)
			b.Write(ct)
			if !a.Content.IsZero() {
				b.WriteString(`,"content":`)
				b.Write(a.Content.b)
			}
			b.WriteByte('}')
		}
		b.WriteByte(']')
	}
	if len(channelData) > 0 {
		if err := raw(&b, `,"channelData":`, channelData); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// raw appends key and v to b after checking that v is one valid JSON
// value (json.Valid: a scan, without the copy and escaping json.Marshal
// adds).
func raw(b *bytes.Buffer, key string, v json.RawMessage) error {
	if !json.Valid(v) {
		return errInvalidRaw
	}
	b.WriteString(key)
	b.Write(v)
	return nil
}

// errInvalidRaw is encode's error for attachment content or channel data
// that is not one valid JSON value; it quotes nothing of it.
var errInvalidRaw = errors.New("raw JSON value is not valid JSON")
