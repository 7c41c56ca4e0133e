package rotation

import (
	"strings"
	"time"
)

// App is an Entra ID application registration as the directory reports it.
type App struct {
	ObjectID       string // the application object's id
	ClientID       string // appId
	DisplayName    string
	SignInAudience string
	Passwords      []PasswordCredential
	// Owners are the app's owners (people and service principals), shown
	// to approvers; Keyturn's service principal is among them.
	Owners []Principal
}

// Password returns the password credential with keyID, if the app has one.
func (a App) Password(keyID string) (PasswordCredential, bool) {
	for _, p := range a.Passwords {
		if strings.EqualFold(p.KeyID, keyID) {
			return p, true
		}
	}
	return PasswordCredential{}, false
}

// PasswordByDisplayName returns the credentials whose display name is name.
func (a App) PasswordByDisplayName(name string) []PasswordCredential {
	var out []PasswordCredential
	for _, p := range a.Passwords {
		if p.DisplayName == name {
			out = append(out, p)
		}
	}
	return out
}

// PasswordCredential is the public part of an application password: never
// the secret, which Graph returns only once, from addPassword.
type PasswordCredential struct {
	KeyID       string
	DisplayName string
	Hint        string // first three characters of the secret; public
	Start       time.Time
	End         time.Time
}

// NewPassword is the answer to an addPassword call: the credential and its
// secret, which exists nowhere else.
type NewPassword struct {
	PasswordCredential
	Secret Secret
}

// SecretRef names one Key Vault secret: the vault's URI
// (https://name.vault.azure.net/) and the secret's name.
type SecretRef struct {
	VaultURI string
	Name     string
	Version  string // empty: the latest version
}

// String returns the secret URI, versioned when Version is set.
func (r SecretRef) String() string {
	s := strings.TrimSuffix(r.VaultURI, "/") + "/secrets/" + r.Name
	if r.Version != "" {
		s += "/" + r.Version
	}
	return s
}

// SecretProps are the attributes Keyturn writes with a secret version.
type SecretProps struct {
	ContentType string
	NotBefore   time.Time
	Expires     time.Time
	Tags        map[string]string
}

// StoredSecret is one version of a Key Vault secret as read or written.
// Value is filled by Vault.Get only.
type StoredSecret struct {
	Ref     SecretRef
	ID      string // versioned URI: https://{vault}/secrets/{name}/{version}
	Version string
	Enabled bool
	SecretProps
	Value Secret
}

// Tag names Keyturn writes on the secrets it stores. Their values are never
// secret: IDs, the public hint, and who asked and approved.
const (
	TagClientID      = "keyturn-client-id"
	TagKeyID         = "keyturn-key-id"
	TagHint          = "keyturn-hint"
	TagRequestID     = "keyturn-request-id"
	TagRequestedBy   = "keyturn-requested-by"
	TagApprovedBy    = "keyturn-approved-by"
	TagPreviousKeyID = "keyturn-previous-key-id"
	TagRestoredBy    = "keyturn-restored-by"
)

// Content types of the two secrets Keyturn writes.
const (
	ContentTypeClientID     = "application/vnd.keyturn.client-id"
	ContentTypeClientSecret = "application/vnd.keyturn.client-secret"
)
