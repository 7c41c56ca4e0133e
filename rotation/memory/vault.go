package memory

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/keyturn/keyturn/rotation"
)

// Vault is an in-memory Key Vault: secrets with versions, tags and soft
// delete. It implements rotation.Vault.
type Vault struct {
	mu        sync.Mutex
	secrets   map[string]*vaultSecret // by lower-case unversioned URI
	forbidden map[string]bool         // vault URIs that refuse everything
	seq       int
}

type vaultSecret struct {
	versions []rotation.StoredSecret // oldest first, Value set
	deleted  bool
}

var _ rotation.Vault = (*Vault)(nil)

// NewVault returns an empty vault service (any vault URI).
func NewVault() *Vault {
	return &Vault{secrets: map[string]*vaultSecret{}, forbidden: map[string]bool{}}
}

// Forbid makes the vault at uri refuse every request, as when Keyturn has no
// role on it.
func (v *Vault) Forbid(uri string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.forbidden[strings.ToLower(uri)] = true
}

// SoftDelete marks the secret ref names as deleted and recoverable.
func (v *Vault) SoftDelete(ref rotation.SecretRef) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if s := v.secrets[key(ref)]; s != nil {
		s.deleted = true
	}
}

// Get implements rotation.Vault.
func (v *Vault) Get(_ context.Context, ref rotation.SecretRef) (rotation.StoredSecret, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s, err := v.lookup(ref)
	if err != nil {
		return rotation.StoredSecret{}, err
	}
	if ref.Version == "" {
		return clone(s.versions[len(s.versions)-1]), nil
	}
	for _, ver := range s.versions {
		if ver.Version == ref.Version {
			return clone(ver), nil
		}
	}
	return rotation.StoredSecret{}, fmt.Errorf("get %s: %w", ref, rotation.ErrNotFound)
}

// Set implements rotation.Vault.
func (v *Vault) Set(_ context.Context, ref rotation.SecretRef, value rotation.Secret, props rotation.SecretProps) (rotation.StoredSecret, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.forbidden[strings.ToLower(ref.VaultURI)] {
		return rotation.StoredSecret{}, fmt.Errorf("set %s: %w", ref, rotation.ErrVaultForbidden)
	}
	if !rotation.ValidSecretName(ref.Name) || len(props.Tags) > 15 {
		return rotation.StoredSecret{}, fmt.Errorf("set %s: %w", ref, rotation.ErrInvalid)
	}
	s := v.secrets[key(ref)]
	if s != nil && s.deleted {
		return rotation.StoredSecret{}, fmt.Errorf("set %s: %w", ref, rotation.ErrSoftDeleted)
	}
	if s == nil {
		s = &vaultSecret{}
		v.secrets[key(ref)] = s
	}
	v.seq++
	ver := fmt.Sprintf("%032x", v.seq)
	base := rotation.SecretRef{VaultURI: ref.VaultURI, Name: ref.Name}
	props.Tags = copyMap(props.Tags)
	st := rotation.StoredSecret{Ref: base, ID: base.String() + "/" + ver, Version: ver, Enabled: true, SecretProps: props, Value: value}
	s.versions = append(s.versions, st)
	st.Value = rotation.Secret{}
	return clone(st), nil
}

// Recover implements rotation.Vault.
func (v *Vault) Recover(_ context.Context, ref rotation.SecretRef) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.forbidden[strings.ToLower(ref.VaultURI)] {
		return fmt.Errorf("recover %s: %w", ref, rotation.ErrVaultForbidden)
	}
	s := v.secrets[key(ref)]
	if s == nil || !s.deleted {
		return fmt.Errorf("recover %s: %w", ref, rotation.ErrNotFound)
	}
	s.deleted = false
	return nil
}

// List implements rotation.Vault: the latest version of every live secret
// in the vault at vaultURI, without values, sorted by name.
func (v *Vault) List(_ context.Context, vaultURI string) ([]rotation.StoredSecret, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.forbidden[strings.ToLower(vaultURI)] {
		return nil, fmt.Errorf("list %s: %w", vaultURI, rotation.ErrVaultForbidden)
	}
	prefix := strings.ToLower(strings.TrimSuffix(vaultURI, "/") + "/secrets/")
	var out []rotation.StoredSecret
	for k, s := range v.secrets {
		if !strings.HasPrefix(k, prefix) || s.deleted || len(s.versions) == 0 {
			continue
		}
		latest := clone(s.versions[len(s.versions)-1])
		latest.Value = rotation.Secret{}
		out = append(out, latest)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref.Name < out[j].Ref.Name })
	return out, nil
}

// Versions returns every version of ref, oldest first, values included.
func (v *Vault) Versions(ref rotation.SecretRef) []rotation.StoredSecret {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.secrets[key(ref)]
	if s == nil {
		return nil
	}
	out := make([]rotation.StoredSecret, len(s.versions))
	for i, ver := range s.versions {
		out[i] = clone(ver)
	}
	return out
}

func (v *Vault) lookup(ref rotation.SecretRef) (*vaultSecret, error) {
	if v.forbidden[strings.ToLower(ref.VaultURI)] {
		return nil, fmt.Errorf("get %s: %w", ref, rotation.ErrVaultForbidden)
	}
	s := v.secrets[key(ref)]
	switch {
	case s == nil:
		return nil, fmt.Errorf("get %s: %w", ref, rotation.ErrNotFound)
	case s.deleted:
		return nil, fmt.Errorf("get %s: %w", ref, rotation.ErrSoftDeleted)
	}
	return s, nil
}

func key(ref rotation.SecretRef) string {
	return strings.ToLower(strings.TrimSuffix(ref.VaultURI, "/") + "/secrets/" + ref.Name)
}

func clone(s rotation.StoredSecret) rotation.StoredSecret {
	s.Tags = copyMap(s.Tags)
	return s
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
