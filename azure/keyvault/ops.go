package keyvault

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/keyturn/keyturn/rotation"
)

// maxRecoverDelay caps the wait between two reads in Recover.
const maxRecoverDelay = 15 * time.Second

// Get implements rotation.Vault: it returns version ref.Version of ref (the
// latest when empty) with its value. Errors: rotation.ErrNotFound,
// ErrSoftDeleted, ErrVaultForbidden, ErrVaultUnreachable, ErrAmbiguous,
// ErrInvalid (bad vault, name or version).
func (v *Vault) Get(ctx context.Context, ref rotation.SecretRef) (rotation.StoredSecret, error) {
	version := ref.Version
	if err := checkName(ref.Name); err != nil {
		return rotation.StoredSecret{}, err
	}
	if !validVersion(version) {
		return rotation.StoredSecret{}, fmt.Errorf("secret %s: version %q must be letters and digits: %w", ref.Name, version, rotation.ErrInvalid)
	}
	c, uri, err := v.client(ref)
	if err != nil {
		return rotation.StoredSecret{}, err
	}
	ref.VaultURI = uri
	resp, err := c.GetSecret(ctx, ref.Name, version, nil)
	if err != nil {
		terr := v.translate("get secret", ref, err)
		if !errors.Is(terr, rotation.ErrNotFound) {
			return rotation.StoredSecret{}, terr
		}
		deleted, derr := v.isDeleted(ctx, c, ref)
		switch {
		case derr != nil:
			return rotation.StoredSecret{}, derr
		case deleted:
			return rotation.StoredSecret{}, fmt.Errorf("get secret %s: %w", ref, rotation.ErrSoftDeleted)
		}
		return rotation.StoredSecret{}, terr
	}
	out := stored(ref, resp.ID, resp.Attributes, resp.ContentType, resp.Tags)
	if resp.Value != nil {
		out.Value = rotation.NewSecret(*resp.Value)
	}
	v.log.Debug("secret read", "vault", uri, "secret_name", ref.Name, "version", out.Version)
	return out, nil
}

// isDeleted reports whether a soft-deleted secret holds ref's name.
func (v *Vault) isDeleted(ctx context.Context, c *azsecrets.Client, ref rotation.SecretRef) (bool, error) {
	_, err := c.GetDeletedSecret(ctx, ref.Name, nil)
	if err == nil {
		return true, nil
	}
	terr := v.translate("get deleted secret", ref, err)
	if errors.Is(terr, rotation.ErrNotFound) {
		return false, nil
	}
	return false, terr
}

// Set implements rotation.Vault: it writes value as a new, enabled version
// of ref with props and returns the version without its value. Names, tags
// and sizes are checked before any request. Errors: rotation.ErrInvalid,
// ErrSoftDeleted, ErrVaultForbidden, ErrVaultUnreachable, ErrAmbiguous,
// ErrThrottled.
func (v *Vault) Set(ctx context.Context, ref rotation.SecretRef, value rotation.Secret, props rotation.SecretProps) (rotation.StoredSecret, error) {
	if err := checkSet(ref.Name, value, props); err != nil {
		return rotation.StoredSecret{}, err
	}
	c, uri, err := v.client(ref)
	if err != nil {
		return rotation.StoredSecret{}, err
	}
	ref.VaultURI = uri
	params := azsecrets.SetSecretParameters{
		Value: to.Ptr(value.Reveal()),
		SecretAttributes: &azsecrets.SecretAttributes{
			Enabled:   to.Ptr(true),
			NotBefore: timePtr(props.NotBefore),
			Expires:   timePtr(props.Expires),
		},
	}
	if props.ContentType != "" {
		params.ContentType = to.Ptr(props.ContentType)
	}
	if len(props.Tags) > 0 {
		params.Tags = make(map[string]*string, len(props.Tags))
		for k, val := range props.Tags {
			params.Tags[k] = to.Ptr(val)
		}
	}
	resp, err := c.SetSecret(ctx, ref.Name, params, nil)
	if err != nil {
		return rotation.StoredSecret{}, v.translate("set secret", ref, err)
	}
	// The response echoes the value; only properties are kept.
	out := stored(ref, resp.ID, resp.Attributes, resp.ContentType, resp.Tags)
	if out.Version == "" {
		return rotation.StoredSecret{}, fmt.Errorf("set secret %s: %w: the answer names no version", ref, rotation.ErrAmbiguous)
	}
	v.log.Debug("secret written", "vault", uri, "secret_name", ref.Name, "version", out.Version)
	return out, nil
}

// Recover implements rotation.Vault: it recovers the soft-deleted secret ref
// and reads it, with growing pauses, until it is readable or the recover
// timeout has been spent waiting. Errors: rotation.ErrNotFound (nothing to
// recover), ErrVaultForbidden, ErrVaultUnreachable, ErrAmbiguous (including
// "recovery accepted but not readable in time"), ErrInvalid.
func (v *Vault) Recover(ctx context.Context, ref rotation.SecretRef) error {
	if err := checkName(ref.Name); err != nil {
		return err
	}
	c, uri, err := v.client(ref)
	if err != nil {
		return err
	}
	ref.VaultURI = uri
	if _, err := c.RecoverDeletedSecret(ctx, ref.Name, nil); err != nil {
		return v.translate("recover secret", ref, err)
	}
	v.log.Debug("secret recovery started", "vault", uri, "secret_name", ref.Name)
	var waited time.Duration
	delay := time.Second
	for {
		_, err := c.GetSecret(ctx, ref.Name, "", nil) // the value is dropped unread
		if err == nil {
			v.log.Debug("secret recovered", "vault", uri, "secret_name", ref.Name, "waited", waited)
			return nil
		}
		terr := v.translate("read recovered secret", ref, err)
		if !errors.Is(terr, rotation.ErrNotFound) && !errors.Is(terr, rotation.ErrSoftDeleted) {
			return terr
		}
		if waited >= v.opts.RecoverTimeout {
			return fmt.Errorf("recover secret %s: %w: not readable after %s", ref, rotation.ErrAmbiguous, waited)
		}
		d := min(delay, v.opts.RecoverTimeout-waited)
		if err := v.sleep(ctx, d); err != nil {
			return fmt.Errorf("recover secret %s: %w: %w", ref, rotation.ErrAmbiguous, err)
		}
		waited += d
		delay = min(2*delay, maxRecoverDelay)
	}
}

// stored builds a StoredSecret, without value, from a response's fields.
func stored(ref rotation.SecretRef, id *azsecrets.ID, attrs *azsecrets.SecretAttributes, contentType *string, tags map[string]*string) rotation.StoredSecret {
	out := rotation.StoredSecret{Ref: ref}
	if id != nil {
		out.ID = string(*id)
		out.Version = id.Version()
	}
	if contentType != nil {
		out.ContentType = *contentType
	}
	if attrs != nil {
		out.Enabled = attrs.Enabled != nil && *attrs.Enabled
		if attrs.NotBefore != nil {
			out.NotBefore = attrs.NotBefore.UTC()
		}
		if attrs.Expires != nil {
			out.Expires = attrs.Expires.UTC()
		}
	}
	if len(tags) > 0 {
		out.Tags = make(map[string]string, len(tags))
		for k, val := range tags {
			if val != nil {
				out.Tags[k] = *val
			}
		}
	}
	return out
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// validVersion accepts "" (latest) and Key Vault's version IDs (32 hex
// digits; any letters and digits are let through).
func validVersion(s string) bool {
	if len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
