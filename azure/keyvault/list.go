package keyvault

import (
	"context"
	"fmt"

	"github.com/keyturn/keyturn/rotation"
)

// maxListedSecrets bounds List: Keyturn reads the properties of a vault's
// secrets to protect credentials, and a vault far larger than any it
// manages is refused rather than paged through for minutes.
const maxListedSecrets = 25000

// List implements rotation.Vault: GET {vault}/secrets, page by page
// (azsecrets' pager follows nextLink), returning each secret's latest
// properties and tags, never a value. Errors: rotation.ErrVaultForbidden,
// ErrVaultUnreachable, ErrAmbiguous, ErrThrottled, ErrInvalid.
func (v *Vault) List(ctx context.Context, vaultURI string) ([]rotation.StoredSecret, error) {
	c, uri, err := v.client(rotation.SecretRef{VaultURI: vaultURI})
	if err != nil {
		return nil, err
	}
	ref := rotation.SecretRef{VaultURI: uri}
	var out []rotation.StoredSecret
	pager := c.NewListSecretPropertiesPager(nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, v.translate("list secrets", ref, err)
		}
		for _, p := range page.Value {
			if p == nil || p.ID == nil {
				continue
			}
			s := stored(rotation.SecretRef{VaultURI: uri, Name: p.ID.Name()}, p.ID, p.Attributes, p.ContentType, p.Tags)
			s.ID, s.Version = "", "" // the listing names secrets, not versions
			out = append(out, s)
		}
		if len(out) > maxListedSecrets {
			return nil, fmt.Errorf("list secrets of %s: more than %d secrets: %w", uri, maxListedSecrets, rotation.ErrInvalid)
		}
	}
	v.log.Debug("secrets listed", "vault", uri, "count", len(out))
	return out, nil
}
