package activity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxBodyBytes is the largest activity body Decode and Read accept. Teams
// messages are limited to about 28 KB of content; the margin covers the
// HTML copy in attachments and card values.
const MaxBodyBytes = 512 << 10

// MaxDepth is the deepest nesting of JSON objects and arrays Decode
// accepts. Real Teams activities nest about 6 deep (a card action's data
// inside value inside the activity); the limit leaves room for card
// payloads and refuses bodies built to make decoders recurse.
const MaxDepth = 64

// Errors Decode and Read return (wrapped); test with errors.Is.
var (
	// ErrTooLarge means the body exceeds MaxBodyBytes.
	ErrTooLarge = errors.New("activity body too large")
	// ErrNotObject means the body is not a single JSON object.
	ErrNotObject = errors.New("activity body is not a JSON object")
	// ErrNoType means the object has no (or an empty) type.
	ErrNoType = errors.New("activity has no type")
	// ErrTooDeep means objects and arrays nest deeper than MaxDepth.
	ErrTooDeep = errors.New("activity nests too deep")
	// ErrMalformed means the body is not valid JSON, or a known field has
	// the wrong JSON type or form.
	ErrMalformed = errors.New("activity is malformed")
)

// Read reads at most MaxBodyBytes from r and decodes them with Decode. A
// longer body fails with ErrTooLarge without being read further.
func Read(r io.Reader) (*Activity, error) {
	body, err := io.ReadAll(io.LimitReader(r, MaxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read activity: %w", err)
	}
	return Decode(body)
}

// Decode decodes one activity from body. The body must be exactly one JSON
// object (surrounding white space allowed) of at most MaxBodyBytes with a
// non-empty type; unknown fields are ignored, but a known field of the
// wrong JSON type is an error. Objects and arrays may nest at most
// MaxDepth deep.
//
// Errors wrap one of ErrTooLarge, ErrNotObject, ErrTooDeep, ErrMalformed
// or ErrNoType; their text names at most a field and an offset, never a
// value from the body.
func Decode(body []byte) (*Activity, error) {
	if len(body) > MaxBodyBytes {
		return nil, ErrTooLarge
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, ErrNotObject
	}
	if depth(trimmed) > MaxDepth {
		return nil, ErrTooDeep
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	var a Activity
	if err := dec.Decode(&a); err != nil {
		return nil, malformed(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("decode activity: data after the object: %w", ErrNotObject)
	}
	if a.Type == "" {
		return nil, ErrNoType
	}
	return &a, nil
}

// malformed turns a decoding error into one that says where, not what:
// encoding/json's and time's messages may quote the offending value.
func malformed(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Errorf("%w: invalid JSON at offset %d", ErrMalformed, syntax.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Errorf("%w: field %s has the wrong JSON type", ErrMalformed, clip(typ.Field))
	case errors.As(err, &typ):
		return fmt.Errorf("%w: a value has the wrong JSON type", ErrMalformed)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: truncated JSON", ErrMalformed)
	}
	return fmt.Errorf("%w: a value has the wrong form", ErrMalformed)
}

// depth returns how deep objects and arrays nest in the JSON text b. It
// reads b once and does not validate it (Decode does): brackets inside
// strings are skipped, and an unbalanced close only lowers the count.
func depth(b []byte) int {
	d, most := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			d++
			most = max(most, d)
		case c == '}' || c == ']':
			d--
		}
	}
	return most
}

// clip keeps a field path from the body short in an error.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
