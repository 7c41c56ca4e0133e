package sandbox

import (
	"bytes"
	_ "embed"
	"fmt"
	"net/url"
	"strings"

	"github.com/keyturn/keyturn/policy"
	"github.com/keyturn/keyturn/rotation"
)

// PolicyFileName is the demo policy in the state directory, when no other
// is given.
const PolicyFileName = "keyturn.yaml"

// demoPolicy is the built-in demo policy, in the format of
// docs/keyturn.example.yaml, written to the state directory on first start.
//
//go:embed demo-policy.yaml
var demoPolicy []byte

// DemoPolicy returns a copy of the built-in demo policy file.
func DemoPolicy() []byte { return bytes.Clone(demoPolicy) }

// loadPolicy reads the policy file at path with package policy, as serve
// does: the tenant's vaults are allowed unless the file lists its own, and
// Keyturn's own app is never rotated. Tenants default to the demo tenant.
func loadPolicy(path string, t *Tenant) (policy.Policy, error) {
	base := rotation.DefaultPolicy()
	base.AllowedVaults = t.VaultURIs()
	base.OwnClientID = t.Bot.AppID
	p, err := policy.Load(path, policy.Options{VaultURI: vaultURI, Base: base})
	if err != nil {
		return p, err
	}
	if len(p.Tenants) == 0 {
		p.Tenants = []string{strings.ToLower(t.Tenant.ID)}
	}
	if err := t.checkPolicy(p); err != nil {
		return p, fmt.Errorf("policy file %s against the tenant file: %w", path, err)
	}
	return p, nil
}

// vaultURI reads a vault name or an https URI of the public cloud, which is
// where the sandbox's vaults pretend to live.
func vaultURI(nameOrURI string) (string, error) {
	s := strings.TrimSpace(nameOrURI)
	if strings.HasPrefix(strings.ToLower(s), "https://") {
		u, err := url.Parse(s)
		if err != nil || u.Path != "" && u.Path != "/" || !strings.HasSuffix(strings.ToLower(u.Host), ".vault.azure.net") {
			return "", fmt.Errorf("%q is not a vault URI such as https://kv-payments.vault.azure.net/", nameOrURI)
		}
		s = strings.TrimSuffix(strings.ToLower(u.Host), ".vault.azure.net")
	}
	if !vaultNamePattern.MatchString(strings.ToLower(s)) {
		return "", fmt.Errorf("%q is not a Key Vault name (3-24 of a-z, 0-9 and -)", nameOrURI)
	}
	return VaultURI(s), nil
}

// checkPolicy reports what the policy needs of the tenant that the tenant
// file does not have: a vault the policy allows must exist, and an app
// whose existing secret is in a vault needs that vault from the policy.
func (t *Tenant) checkPolicy(p policy.Policy) error {
	var probs []string
	known := map[string]bool{}
	for _, u := range t.VaultURIs() {
		known[u] = true
	}
	for _, v := range p.Rotation.AllowedVaults {
		if !known[v] {
			probs = append(probs, fmt.Sprintf("vault %s is not in the tenant file's vaults", v))
		}
	}
	for i, a := range t.Apps {
		pa, listed := p.AppByClientID(a.ClientID)
		for j, s := range a.Secrets {
			switch {
			case !s.InVault:
			case !listed || pa.VaultURI == "":
				probs = append(probs, fmt.Sprintf("apps[%d] (%s): secrets[%d] is inVault, but the policy lists no vault for client ID %s", i, a.DisplayName, j, a.ClientID))
			case t.noAccess(vaultName(pa.VaultURI)):
				probs = append(probs, fmt.Sprintf("apps[%d] (%s): secrets[%d] is inVault, but vault %s is noAccess", i, a.DisplayName, j, pa.VaultURI))
			}
		}
	}
	if len(probs) > 0 {
		return fmt.Errorf("%d problem(s):\n%s", len(probs), strings.Join(probs, "\n"))
	}
	return nil
}
