package rotation

import (
	"fmt"
	"log/slog"
)

// Redacted is what every output path of a Secret prints instead of its value.
const Redacted = "[REDACTED]"

// Secret holds a secret value (a client secret) so that it cannot be printed,
// logged or serialized by accident. String, GoString, Format, LogValue,
// MarshalText and MarshalJSON all yield Redacted. Reveal is the only way to
// read the value; only the vault adapter and the credential verifier call it.
//
// The value sits behind a *string, so even fmt's reflection over a struct
// that holds a Secret in an unexported field (where fmt cannot call these
// methods) prints an address, never the value: fmt dereferences pointers to
// structs, arrays, slices and maps, but not to strings. The zero Secret is
// empty.
type Secret struct {
	value *string
}

// NewSecret wraps value. The caller should drop every other reference to it.
func NewSecret(value string) Secret {
	if value == "" {
		return Secret{}
	}
	return Secret{value: &value}
}

// Reveal returns the secret value. Call it only at the point where the value
// leaves Keyturn for its destination (Key Vault, the token endpoint).
func (s Secret) Reveal() string {
	if s.value == nil {
		return ""
	}
	return *s.value
}

// IsZero reports whether the Secret holds no value.
func (s Secret) IsZero() bool { return s.value == nil || *s.value == "" }

// String implements fmt.Stringer.
func (s Secret) String() string { return Redacted }

// GoString implements fmt.GoStringer.
func (s Secret) GoString() string { return Redacted }

// Format implements fmt.Formatter, so every verb (%v, %+v, %#v, %s, %q, %x)
// prints Redacted.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalText implements encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// Hint returns the first three characters of the value, which Entra ID itself
// publishes as the credential's hint and does not treat as secret.
func (s Secret) Hint() string {
	v := s.Reveal()
	if len(v) < 3 {
		return ""
	}
	return v[:3]
}
