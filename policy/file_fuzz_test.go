package policy

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/keyturn/keyturn/rotation"
)

// policyCanary stands for a client secret pasted into the policy file where
// its name or the app's ID belongs; policyMarker in a fuzz input becomes it.
const (
	policyCanary = "Kq8Q~canaryCANARYcanary.0123456789abcdefgh"
	policyMarker = "~C~"
)

// FuzzPolicyFile feeds arbitrary files, seeded with the documented example
// and the table tests' minimal file, to the policy loader. It must not
// panic, and must decide the same way twice. A file it accepts yields a
// policy that validates, whose apps have lower-case client IDs, an allowed
// vault, two distinct valid secret names and 0-2 approvals, and whose
// request TTL is within 1m..24h. When the canary sits only where a secret
// could be pasted by mistake (client_id, client_secret), no error repeats
// it: start-up errors go to logs.
func FuzzPolicyFile(f *testing.F) {
	example, err := os.ReadFile(filepath.Join("..", "docs", "keyturn.example.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte(minimal))
	for _, s := range []string{
		minimal + "    secret_names: {client_secret: " + policyMarker + "}\n",
		minimal + "    secret_names: {client_id: \"" + policyMarker + "\"}\n",
		strings.Replace(minimal, idPayments, policyMarker, 1),
		minimal + "    lifetime: 9y\n    approvals: 3\n", minimal + "tenants: [x]\n",
		"a: &a [*a]\n", "vaults: &v [kv-a, *v]\n", "apps: {x: {<<: {client_id: " + idPayments + "}}}\n",
		"---\n---\n", "", "defaults: {lifetime: 99999999999999d}\n",
	} {
		f.Add([]byte(s))
	}
	cloud := publicCloud(&testing.T{})
	path := filepath.Join(f.TempDir(), "keyturn.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		data = bytes.ReplaceAll(data, []byte(policyMarker), []byte(policyCanary))
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		pc, err := loadPolicyFile(path, cloud, rotation.DefaultPolicy())
		pc2, err2 := loadPolicyFile(path, cloud, rotation.DefaultPolicy())
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) || (err == nil && !reflect.DeepEqual(pc, pc2)) {
			t.Fatalf("two loads differ: %v / %v", err, err2)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "policy file "+path) {
				t.Fatalf("error without the file's name: %v", err)
			}
			if strings.Contains(err.Error(), policyCanary) && canaryOnlyInSecretPlaces(data) {
				t.Fatalf("error repeats a pasted secret:\n%v", err)
			}
			return
		}
		checkPolicyConfig(t, pc)
	})
}

// checkPolicyConfig asserts what every accepted policy file guarantees.
func checkPolicyConfig(t *testing.T, pc Policy) {
	t.Helper()
	p := pc.Rotation
	if err := p.Validate(); err != nil {
		t.Fatalf("accepted policy does not validate: %v", err)
	}
	if pc.RequestTTL < MinRequestTTL || pc.RequestTTL > MaxRequestTTL {
		t.Fatalf("request TTL %s", pc.RequestTTL)
	}
	if pc.DefaultVault != "" && !p.VaultAllowed(pc.DefaultVault) {
		t.Fatalf("default vault %q not allowed", pc.DefaultVault)
	}
	for _, id := range pc.Tenants {
		if !rotation.IsGUID(id) || id != strings.ToLower(id) {
			t.Fatalf("tenant %q", id)
		}
	}
	for alias, a := range pc.Apps {
		switch {
		case !aliasPattern.MatchString(alias) || a.Alias != alias:
			t.Fatalf("alias %q named %q", alias, a.Alias)
		case !rotation.IsGUID(a.ClientID) || a.ClientID != strings.ToLower(a.ClientID):
			t.Fatalf("app %q client ID %q", alias, a.ClientID)
		case !p.VaultAllowed(a.VaultURI):
			t.Fatalf("app %q vault %q not allowed", alias, a.VaultURI)
		case !rotation.ValidSecretName(a.SecretName) || !rotation.ValidSecretName(a.ClientIDName) || strings.EqualFold(a.SecretName, a.ClientIDName):
			t.Fatalf("app %q secret names %q, %q", alias, a.ClientIDName, a.SecretName)
		case !p.SecretNameAllowed(a.SecretName) || !p.SecretNameAllowed(a.ClientIDName):
			t.Fatalf("app %q secret names outside the prefixes", alias)
		}
		if r, ok := pc.Rules[a.ClientID]; !ok || r.Required < 0 || r.Required > 2 {
			t.Fatalf("app %q rule %+v", alias, r)
		}
	}
	if r := pc.DefaultRule.Required; r < 0 || r > 2 {
		t.Fatalf("default approvals %d", r)
	}
}

// canaryOnlyInSecretPlaces reports whether every occurrence of the canary
// in data is a scalar value under a client_id or client_secret key.
func canaryOnlyInSecretPlaces(data []byte) bool {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil {
		return false
	}
	found := 0
	var walk func(n *yaml.Node, key string) bool
	walk = func(n *yaml.Node, key string) bool {
		if n == nil {
			return true
		}
		if strings.Contains(n.Value, policyCanary) || strings.Contains(n.Anchor, policyCanary) {
			if n.Kind != yaml.ScalarNode || (key != "client_id" && key != "client_secret") {
				return false
			}
			found++
		}
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if !walk(n.Content[i], "") || !walk(n.Content[i+1], n.Content[i].Value) {
					return false
				}
			}
			return true
		}
		for _, c := range n.Content {
			if !walk(c, "") {
				return false
			}
		}
		return true
	}
	return walk(&doc, "") && found == bytes.Count(data, []byte(policyCanary))
}
