package botauth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/golang-jwt/jwt/v4"
)

// checkAudience accepts aud as the App ID itself, or as an array holding
// exactly one element, the App ID. A longer array is refused even if it
// contains the App ID: Bot Framework never issues one, and such a token
// would be valid for (replayable by) its other audiences too.
func checkAudience(raw json.RawMessage, appID string) error {
	if len(raw) == 0 {
		return errors.New("token has no aud")
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		if one != appID {
			return fmt.Errorf("audience %q is not the app id", clip(one))
		}
		return nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return errors.New("aud is neither a string nor an array of strings")
	}
	if len(many) != 1 || many[0] != appID {
		return fmt.Errorf("audience array of %d is not exactly the app id", len(many))
	}
	return nil
}

// tokenClaims are the claims Validate reads. A claim of the wrong JSON
// type fails parsing, so the token is refused.
type tokenClaims struct {
	Issuer          string           `json:"iss"`
	Audience        json.RawMessage  `json:"aud"`
	ExpiresAt       *jwt.NumericDate `json:"exp"`
	NotBefore       *jwt.NumericDate `json:"nbf"`
	ServiceURL      *string          `json:"serviceurl"`
	AppID           string           `json:"appid"`
	AuthorizedParty string           `json:"azp"`
}

// UnmarshalJSON reads the claims by their exact names. encoding/json would
// match keys case-insensitively, so "Aud" or "ISS" would count as aud or
// iss; RFC 7519 claim names are case-sensitive, and a claim under another
// spelling is not that claim. A known claim of the wrong JSON type is an
// error.
func (c *tokenClaims) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if m == nil {
		return errors.New("claims are not an object")
	}
	*c = tokenClaims{}
	for name, dst := range map[string]any{
		"iss": &c.Issuer, "exp": &c.ExpiresAt, "nbf": &c.NotBefore, "serviceurl": &c.ServiceURL,
		"appid": &c.AppID, "azp": &c.AuthorizedParty,
	} {
		if raw, ok := m[name]; ok {
			if err := json.Unmarshal(raw, dst); err != nil {
				return fmt.Errorf("claim %s: %w", name, err)
			}
		}
	}
	if raw, ok := m["aud"]; ok && string(raw) != "null" {
		c.Audience = raw
	}
	return nil
}

// Valid satisfies jwt.Claims. The parser is configured not to call it;
// Validate checks the claims itself with its clock and ClockSkew.
func (*tokenClaims) Valid() error { return nil }

// bearerToken extracts the token from "Bearer <token>": the scheme word
// case-insensitive, exactly one space, a non-empty token.
func bearerToken(header string) (string, error) {
	switch {
	case header == "":
		return "", errors.New("no authorization header")
	case len(header) > MaxTokenBytes+bearerPrefixLen:
		return "", fmt.Errorf("authorization header longer than %d bytes", MaxTokenBytes+bearerPrefixLen)
	case len(header) < bearerPrefixLen || !strings.EqualFold(header[:bearerPrefixLen-1], "Bearer") || header[bearerPrefixLen-1] != ' ':
		return "", errors.New("authorization scheme is not Bearer")
	case len(header) == bearerPrefixLen:
		return "", errors.New("empty bearer token")
	}
	return header[bearerPrefixLen:], nil
}

// checkCompactJWS requires three non-empty segments of canonical unpadded
// base64url, so no whitespace, padding or alternative encoding of the same
// bytes gets through, and an unsigned token (empty signature) is refused
// before any parsing.
func checkCompactJWS(token string) error {
	if n := strings.Count(token, "."); n != 2 {
		return fmt.Errorf("%d segments, want 3", n+1)
	}
	strict := base64.RawURLEncoding.Strict()
	for i, seg := range strings.SplitN(token, ".", 3) {
		if seg == "" {
			return fmt.Errorf("segment %d is empty", i)
		}
		// The decoder skips CR and LF even in strict mode: check the
		// alphabet first.
		if j := strings.IndexFunc(seg, notBase64URL); j >= 0 {
			return fmt.Errorf("segment %d: byte %d is not base64url", i, j)
		}
		if _, err := strict.DecodeString(seg); err != nil {
			return fmt.Errorf("segment %d: %w", i, err)
		}
	}
	return nil
}

func notBase64URL(r rune) bool {
	switch {
	case 'A' <= r && r <= 'Z', 'a' <= r && r <= 'z', '0' <= r && r <= '9', r == '-', r == '_':
		return false
	}
	return true
}

// clip shortens a token- or request-supplied string for an error message,
// so a log line stays small whatever the sender put in it.
func clip(s string) string {
	const max = 128
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
