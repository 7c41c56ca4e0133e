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

// Errors Decode and Read return (wrapped); test with errors.Is.
var (
	// ErrTooLarge means the body exceeds MaxBodyBytes.
	ErrTooLarge = errors.New("activity body too large")
	// ErrNotObject means the body is not a single JSON object.
	ErrNotObject = errors.New("activity body is not a JSON object")
	// ErrNoType means the object has no (or an empty) type.
	ErrNoType = errors.New("activity has no type")
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
// wrong JSON type is an error.
func Decode(body []byte) (*Activity, error) {
	if len(body) > MaxBodyBytes {
		return nil, ErrTooLarge
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, ErrNotObject
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	var a Activity
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("decode activity: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("decode activity: data after the object: %w", ErrNotObject)
	}
	if a.Type == "" {
		return nil, ErrNoType
	}
	return &a, nil
}
