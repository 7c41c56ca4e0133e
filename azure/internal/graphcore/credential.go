package graphcore

import (
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/keyturn/keyturn/rotation"
)

// Credential copies the public fields of a password credential: key ID,
// display name, hint and dates. It never reads secretText.
func Credential(p models.PasswordCredentialable) rotation.PasswordCredential {
	out := rotation.PasswordCredential{
		DisplayName: Deref(p.GetDisplayName()),
		Hint:        Deref(p.GetHint()),
	}
	if k := p.GetKeyId(); k != nil {
		out.KeyID = k.String()
	}
	if t := p.GetStartDateTime(); t != nil {
		out.Start = t.UTC()
	}
	if t := p.GetEndDateTime(); t != nil {
		out.End = t.UTC()
	}
	return out
}
