package activity

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// canary stands for a secret value that reached an activity (a user
// pasting one into a message, a card input, a field Teams echoes back).
// It has the shape of an Entra client secret.
const canary = "Kq8Q~canaryCANARYcanary.0123456789abcdefgh"

// canaryMarker in a fuzz input is replaced by canary before decoding, so
// the fuzzer moves the secret around the body.
const canaryMarker = "~C~"

// FuzzDecode feeds arbitrary bodies, seeded with every Teams fixture, to
// Decode. It must not panic; an error must wrap one of the documented
// sentinels and never quote the canary; an accepted body must be one JSON
// object of at most MaxBodyBytes and MaxDepth with a type, and must round
// trip: decode → encode → decode gives the same activity, and the second
// encoding is the first.
func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		// The same activity with the marker in the fields people type or
		// Teams echoes, including ones whose parse errors quote values.
		for _, k := range []string{"text", "timestamp", "id", "serviceUrl", "locale"} {
			var m map[string]any
			if json.Unmarshal(b, &m) == nil {
				m[k] = canaryMarker
				mb, _ := json.Marshal(m)
				f.Add(mb)
			}
		}
	}
	for _, s := range []string{
		`{"type":"message","value":{"reason":"~C~","requestId":"r","digest":"d"}}`,
		`{"type":"message","timestamp":"~C~"}`,
		`{"type":"message","entities":[{"type":"mention","mentioned":"~C~"}]}`,
		`{"type":"message","from":{"id":~C~}}`,
		`{"type":"message","text":"\u007e\"~C~"}`,
		`{"type":"message","value":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`,
		`{"type":"invoke","name":"adaptiveCard/action","value":{"action":{"type":"Action.Execute","verb":"approve","data":{"requestId":"~C~"}}}}`,
		`{"type":"message"} `, `{"type":"message"}{}`, `{}`, `[]`, ``, `{"type":"message","text":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		body = bytes.ReplaceAll(body, []byte(canaryMarker), []byte(canary))
		a, err := Decode(body)
		if err != nil {
			if a != nil {
				t.Fatalf("activity %+v returned with error %v", a, err)
			}
			if !isDocumented(err) {
				t.Fatalf("error %q wraps no documented sentinel", err)
			}
			if strings.Contains(err.Error(), canary) {
				t.Fatalf("error quotes the canary: %v", err)
			}
			return
		}
		if a.Type == "" {
			t.Fatal("accepted an activity without type")
		}
		trimmed := bytes.TrimSpace(body)
		if len(body) > MaxBodyBytes || len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(body) {
			t.Fatalf("accepted a body that is not one object within limits: %q", clipBytes(body))
		}
		if depth(trimmed) > MaxDepth {
			t.Fatalf("accepted a body %d deep", depth(trimmed))
		}
		if len(a.Value) > 0 && !json.Valid(a.Value) {
			t.Fatalf("value kept as invalid JSON: %q", clipBytes(a.Value))
		}
		enc, err := json.Marshal(a)
		if err != nil {
			// time.Time refuses to encode years outside 0-9999, which its
			// decoder accepts as RFC 3339 with a sign or more digits: not
			// an activity Teams sends, and nothing Keyturn re-encodes.
			if a.Timestamp.Year() < 0 || a.Timestamp.Year() > 9999 {
				return
			}
			t.Fatalf("accepted activity does not encode: %v", err)
		}
		b, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-encoded activity does not decode: %v\n%s", err, enc)
		}
		enc2, _ := json.Marshal(b)
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("round trip changed the activity:\n%s\n%s", enc, enc2)
		}
		a.Value, b.Value = compact(t, a.Value), compact(t, b.Value)
		if !a.Timestamp.Equal(b.Timestamp) {
			t.Fatalf("timestamp %v became %v", a.Timestamp, b.Timestamp)
		}
		a.Timestamp, b.Timestamp = a.Timestamp.UTC(), b.Timestamp.UTC()
		if !reflect.DeepEqual(normal(a), normal(b)) {
			t.Fatalf("round trip changed the activity:\n%+v\n%+v", a, b)
		}
	})
}

func isDocumented(err error) bool {
	for _, s := range []error{ErrTooLarge, ErrNotObject, ErrTooDeep, ErrMalformed, ErrNoType} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// normal maps the empty and nil forms omitempty merges to one.
func normal(a *Activity) Activity {
	n := *a
	if len(n.Entities) == 0 {
		n.Entities = nil
	}
	if len(n.MembersAdded) == 0 {
		n.MembersAdded = nil
	}
	if len(n.MembersRemoved) == 0 {
		n.MembersRemoved = nil
	}
	if len(n.Value) == 0 {
		n.Value = nil
	}
	return n
}

func compact(t *testing.T, raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatalf("value %q: %v", clipBytes(raw), err)
	}
	return b.Bytes()
}

func clipBytes(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}
