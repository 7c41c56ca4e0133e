package sandbox

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"
)

// MaskedValue is what the page is shown instead of every secret value. The
// value itself never leaves the World: the view is built from metadata
// only.
const MaskedValue = "••••••"

// StateView is GET /api/state: the demo vaults and app credentials as
// metadata. It holds no secret value.
type StateView struct {
	Vaults []VaultView `json:"vaults"`
	Apps   []AppView   `json:"apps"`
}

// VaultView is one vault and its secrets.
type VaultView struct {
	Name     string       `json:"name"`
	URI      string       `json:"uri"`
	NoAccess bool         `json:"noAccess,omitempty"`
	Secrets  []SecretView `json:"secrets"`
}

// SecretView is one secret, its versions newest first.
type SecretView struct {
	Name     string        `json:"name"`
	URI      string        `json:"uri"`
	Versions []VersionView `json:"versions"`
}

// VersionView is one version's metadata; Value is always MaskedValue.
type VersionView struct {
	Version     string            `json:"version"`
	ID          string            `json:"id"`
	ContentType string            `json:"contentType,omitempty"`
	NotBefore   time.Time         `json:"notBefore,omitzero"`
	Expires     time.Time         `json:"expires,omitzero"`
	Tags        map[string]string `json:"tags"`
	Value       string            `json:"value"`
}

// AppView is one app registration and its password credentials, with the
// alias, vault and approvals the policy gives it.
type AppView struct {
	Alias       string     `json:"alias"`
	DisplayName string     `json:"displayName"`
	ClientID    string     `json:"clientId"`
	ObjectID    string     `json:"objectId"`
	Owned       bool       `json:"owned"`
	Vault       string     `json:"vault,omitempty"`
	Approvals   int        `json:"approvals"`
	Credentials []CredView `json:"credentials"`
	Error       string     `json:"error,omitempty"`
}

// CredView is a password credential: public metadata (the hint is the
// secret's first three characters, which Entra ID itself publishes).
type CredView struct {
	KeyID       string    `json:"keyId"`
	DisplayName string    `json:"displayName"`
	Hint        string    `json:"hint"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
}

// State returns the vaults and apps as the page shows them.
func (w *World) State(ctx context.Context) StateView {
	w.mu.Lock()
	versions := slices.Clone(w.versions)
	w.mu.Unlock()
	slices.SortStableFunc(versions, func(a, b savedVersion) int { return strings.Compare(b.Version, a.Version) })

	var v StateView
	vaults := map[string]*VaultView{}
	for _, d := range w.tenant.Vaults {
		v.Vaults = append(v.Vaults, VaultView{Name: d.Name, URI: VaultURI(d.Name), NoAccess: d.NoAccess, Secrets: []SecretView{}})
	}
	for i := range v.Vaults {
		vaults[v.Vaults[i].URI] = &v.Vaults[i]
	}
	for _, ver := range versions {
		uri := strings.ToLower(ver.VaultURI)
		vv := vaults[uri]
		if vv == nil {
			v.Vaults = append(v.Vaults, VaultView{Name: vaultName(uri), URI: uri, Secrets: []SecretView{}})
			clear(vaults)
			for i := range v.Vaults {
				vaults[v.Vaults[i].URI] = &v.Vaults[i]
			}
			vv = vaults[uri]
		}
		i := slices.IndexFunc(vv.Secrets, func(s SecretView) bool { return strings.EqualFold(s.Name, ver.Name) })
		if i < 0 {
			base := strings.TrimSuffix(uri, "/") + "/secrets/" + ver.Name
			vv.Secrets = append(vv.Secrets, SecretView{Name: ver.Name, URI: base, Versions: []VersionView{}})
			i = len(vv.Secrets) - 1
		}
		s := &vv.Secrets[i]
		tags := map[string]string{}
		maps.Copy(tags, ver.Tags)
		s.Versions = append(s.Versions, VersionView{Version: ver.Version, ID: s.URI + "/" + ver.Version, ContentType: ver.ContentType,
			NotBefore: ver.NotBefore, Expires: ver.Expires, Tags: tags, Value: MaskedValue})
	}
	for i := range v.Vaults {
		slices.SortFunc(v.Vaults[i].Secrets, func(a, b SecretView) int { return strings.Compare(a.Name, b.Name) })
	}
	for _, a := range w.tenant.Apps {
		av := AppView{DisplayName: a.DisplayName, ClientID: strings.ToLower(a.ClientID), ObjectID: strings.ToLower(a.ObjectID),
			Owned: a.Owned, Approvals: w.pol.Rule(a.ClientID).Required, Credentials: []CredView{}}
		if pa, ok := w.pol.AppByClientID(a.ClientID); ok {
			av.Alias = pa.Alias
			if pa.VaultURI != "" {
				av.Vault = vaultName(pa.VaultURI)
			}
		}
		app, err := w.dir.GetApp(ctx, a.ClientID)
		if err != nil {
			av.Error = "not found in the directory"
		}
		for _, p := range app.Passwords {
			av.Credentials = append(av.Credentials, CredView{KeyID: p.KeyID, DisplayName: p.DisplayName, Hint: p.Hint, Start: p.Start, End: p.End})
		}
		v.Apps = append(v.Apps, av)
	}
	return v
}

// vaultName returns the vault name of a canonical vault URI.
func vaultName(uri string) string {
	host := strings.TrimSuffix(strings.TrimPrefix(uri, "https://"), "/")
	name, _, _ := strings.Cut(host, ".")
	return name
}
