package identity

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// Claims are the parts of Keyturn's own access token that say who Keyturn
// runs as. The token came from Entra ID over TLS to Keyturn itself; it is
// read, never trusted for authorization, and its signature is not checked.
type Claims struct {
	TenantID string `json:"tid"`
	ObjectID string `json:"oid"`
	UPN      string `json:"upn"`
	Unique   string `json:"unique_name"`
	Username string `json:"preferred_username"`
	AppID    string `json:"appid"`
	IDType   string `json:"idtyp"`
	Scopes   string `json:"scp"`
}

// AppOnly reports whether the token is an application's own (client
// credentials or managed identity) rather than a person's.
func (c Claims) AppOnly() bool {
	if c.IDType != "" {
		return c.IDType == "app"
	}
	return c.Scopes == "" && c.UPN == "" && c.Username == "" && c.Unique == "" && c.AppID != ""
}

// ParseClaims reads the claims of a JWT access token; a token it cannot
// read gives empty claims.
func ParseClaims(token string) Claims {
	var c Claims
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return c
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return c
	}
	_ = json.Unmarshal(b, &c)
	return c
}

// Name names the identity for audit records and vault tags: the user's
// sign-in name, or "app <app ID>", with the object ID.
func (c Claims) Name() string {
	for _, n := range []string{c.UPN, c.Username, c.Unique} {
		if n != "" {
			return n + " (" + c.ObjectID + ")"
		}
	}
	if c.IDType == "app" || c.AppID != "" {
		return "app " + c.AppID + " (" + c.ObjectID + ")"
	}
	return c.ObjectID
}
