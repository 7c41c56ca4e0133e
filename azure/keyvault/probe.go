package keyvault

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"

	"github.com/keyturn/keyturn/doctor"
	"github.com/keyturn/keyturn/rotation"
)

// What keyturn doctor reads from a vault, and its write probe.

// ProbeTag marks the write probe's secret, should one ever be left behind.
const ProbeTag = "keyturn-doctor"

// probeLifetime is the probe secret's expiry: it is useless at once, and
// expired soon even if it could not be deleted.
const probeLifetime = time.Hour

// maxPurgeWaits bounds the reads of the deleted probe before its purge.
const maxPurgeWaits = 6

var _ doctor.Vaults = (*Vault)(nil)

// Inspect implements doctor.Vaults: it lists one page of secret
// properties (Key Vault never returns values in a listing) and reports how
// many secrets it held and the first one's recovery level. Errors:
// rotation.ErrVaultForbidden (with the grant to give),
// ErrVaultUnreachable, ErrAmbiguous, ErrInvalid (vault outside the cloud).
func (v *Vault) Inspect(ctx context.Context, vaultURI string) (doctor.VaultInfo, error) {
	ref := rotation.SecretRef{VaultURI: vaultURI}
	c, uri, err := v.client(ref)
	if err != nil {
		return doctor.VaultInfo{}, err
	}
	ref.VaultURI = uri
	page, err := c.NewListSecretPropertiesPager(nil).NextPage(ctx)
	if err != nil {
		return doctor.VaultInfo{}, v.translate("list secret properties", ref, err)
	}
	info := doctor.VaultInfo{Secrets: len(page.Value)}
	for _, p := range page.Value {
		if p != nil && p.Attributes != nil && p.Attributes.RecoveryLevel != nil {
			info.RecoveryLevel = *p.Attributes.RecoveryLevel
			break
		}
	}
	return info, nil
}

// Probe implements doctor.Vaults: it writes a secret called name with a
// random value (tagged ProbeTag, expiring within the hour), reads it back
// and compares, then deletes it, and purges it unless purge protection
// forbids. Once the write may have happened, the delete is always tried,
// and its failure is joined to the result. The value never leaves this
// function.
func (v *Vault) Probe(ctx context.Context, vaultURI, name string) (res doctor.ProbeResult, err error) {
	if err := checkName(name); err != nil {
		return res, err
	}
	ref := rotation.SecretRef{VaultURI: vaultURI, Name: name}
	c, uri, err := v.client(ref)
	if err != nil {
		return res, err
	}
	ref.VaultURI = uri
	res.Name = name
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return res, fmt.Errorf("probe %s: random value: %w", ref, err)
	}
	value := rotation.NewSecret(hex.EncodeToString(raw[:]))
	params := azsecrets.SetSecretParameters{
		Value:            to.Ptr(value.Reveal()),
		ContentType:      to.Ptr("text/plain; keyturn doctor write probe"),
		Tags:             map[string]*string{ProbeTag: to.Ptr("write probe, safe to delete")},
		SecretAttributes: &azsecrets.SecretAttributes{Enabled: to.Ptr(true), Expires: to.Ptr(time.Now().Add(probeLifetime).UTC())},
	}
	set, err := c.SetSecret(ctx, name, params, nil)
	if err != nil {
		terr := v.translate("probe: set secret", ref, err)
		if errors.Is(terr, rotation.ErrAmbiguous) {
			// It may have been written: remove it all the same.
			_, derr := v.removeProbe(ctx, c, ref, "")
			return res, errors.Join(terr, derr)
		}
		return res, terr
	}
	if set.Attributes != nil && set.Attributes.RecoveryLevel != nil {
		res.RecoveryLevel = *set.Attributes.RecoveryLevel
	}
	defer func() {
		purged, derr := v.removeProbe(ctx, c, ref, res.RecoveryLevel)
		res.Purged = purged
		err = errors.Join(err, derr)
	}()
	version := ""
	if set.ID != nil {
		version = set.ID.Version()
	}
	got, err := c.GetSecret(ctx, name, version, nil)
	if err != nil {
		return res, v.translate("probe: read back", ref, err)
	}
	if got.Value == nil || subtle.ConstantTimeCompare([]byte(*got.Value), []byte(value.Reveal())) != 1 {
		return res, fmt.Errorf("probe %s: the value read back differs from the one written", ref)
	}
	if res.RecoveryLevel == "" && got.Attributes != nil && got.Attributes.RecoveryLevel != nil {
		res.RecoveryLevel = *got.Attributes.RecoveryLevel
	}
	v.log.Debug("write probe read back", "vault", uri, "secret_name", name)
	return res, nil
}

// removeProbe deletes the probe and, where the recovery level allows it
// (soft delete without purge protection), waits for the deletion and
// purges it. It reports whether the probe is gone for good.
func (v *Vault) removeProbe(ctx context.Context, c *azsecrets.Client, ref rotation.SecretRef, level string) (bool, error) {
	if _, err := c.DeleteSecret(ctx, ref.Name, nil); err != nil {
		terr := v.translate("probe: delete secret", ref, err)
		if errors.Is(terr, rotation.ErrNotFound) && level == "" {
			return true, nil // an ambiguous write that never happened
		}
		return false, fmt.Errorf("%w; remove it by hand: az keyvault secret delete --vault-name %s --name %s", terr, vaultName(ref.VaultURI), ref.Name)
	}
	switch {
	case level == "Purgeable":
		return true, nil // no soft delete: the delete was final
	case !strings.Contains(level, "Purgeable"):
		return false, nil // purge protection (or unknown): it stays deleted until the retention ends
	}
	delay := time.Second
	for i := 0; ; i++ {
		_, err := c.PurgeDeletedSecret(ctx, ref.Name, nil)
		if err == nil {
			v.log.Debug("write probe purged", "vault", ref.VaultURI, "secret_name", ref.Name)
			return true, nil
		}
		terr := v.translate("probe: purge deleted secret", ref, err)
		// 404 or 409 while Key Vault is still deleting it: wait and retry.
		retry := errors.Is(terr, rotation.ErrNotFound) || errors.Is(terr, rotation.ErrSoftDeleted)
		if !retry || i >= maxPurgeWaits {
			return false, fmt.Errorf("%w; it stays deleted until the retention ends, or purge it: az keyvault secret purge --vault-name %s --name %s",
				terr, vaultName(ref.VaultURI), ref.Name)
		}
		if err := v.sleep(ctx, delay); err != nil {
			return false, fmt.Errorf("probe %s: purge: %w", ref, err)
		}
		delay = min(2*delay, maxRecoverDelay)
	}
}
