// Package layering holds the test that keeps Keyturn's dependencies
// pointing inward (conventions.md): the domain imports nothing of ours, the
// Teams side never reaches an Azure SDK or adapter, adapters never reach the
// Teams side, and only cmd/bot wires everything.
package layering

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/keyturn/keyturn"

type pkg struct {
	ImportPath string
	Deps       []string
	Standard   bool
}

// rule forbids packages under From (a path prefix within the module) to
// depend, directly or not, on any package whose path starts with one of
// Forbidden; OnlyStd additionally forbids everything outside the standard
// library and the module's own Allowed prefixes.
type rule struct {
	From      string
	Forbidden []string
	OnlyStd   bool
	Allowed   []string
}

var rules = []rule{
	{From: "rotation/memory", Forbidden: []string{"testing", module + "/rotation/rotationtest"}},
	{From: "rotation", OnlyStd: true, Allowed: []string{"rotation"}},
	{From: "radar", OnlyStd: true, Allowed: []string{"radar", "rotation"}},
	{From: "bot", Forbidden: []string{module + "/azure", module + "/store", module + "/cmd", "github.com/Azure/", "github.com/microsoftgraph/", "github.com/microsoft/kiota"}},
	{From: "doctor", OnlyStd: true, Allowed: []string{"doctor", "rotation"}},
	{From: "bot/activity", OnlyStd: true, Allowed: []string{"bot/activity"}},
	{From: "bot/command", OnlyStd: true, Allowed: []string{"bot/activity", "bot/command"}},
	{From: "bot/connector", OnlyStd: true, Allowed: []string{"bot/activity", "bot/connector"}},
	{From: "bot/cards", OnlyStd: true, Allowed: []string{"bot/cards", "radar", "rotation"}},
	{From: "manifest", OnlyStd: true, Allowed: []string{"manifest", "bot/command", "bot/activity"}},
	{From: "policy", Forbidden: []string{module + "/bot", module + "/azure", module + "/store", module + "/cmd", module + "/sandbox", "github.com/Azure/", "github.com/microsoftgraph/", "github.com/labstack/"}},
	{From: "azure", Forbidden: []string{module + "/bot", module + "/cmd", module + "/store"}},
	{From: "store", Forbidden: []string{module + "/bot", module + "/cmd", module + "/azure/graphapps", module + "/azure/keyvault"}},
	{From: "sandbox", Forbidden: []string{module + "/bot", module + "/azure", module + "/cmd", module + "/store", "github.com/Azure/", "github.com/microsoftgraph/"}},
	{From: "internal", Forbidden: []string{module + "/bot", module + "/cmd", module + "/azure", module + "/store"}},
}

func TestDependenciesPointInward(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps=false", "-json", module+"/...")
	cmd.Dir = "../.."
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(out)
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	std := standardPackages(t)
	checked := 0
	for _, p := range pkgs {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		for _, r := range rules {
			if rel != r.From && !strings.HasPrefix(rel, r.From+"/") {
				continue
			}
			checked++
			for _, d := range p.Deps {
				for _, f := range r.Forbidden {
					if strings.HasPrefix(d, f) {
						t.Errorf("%s depends on %s", p.ImportPath, d)
					}
				}
				if r.OnlyStd && !std[d] && !allowed(d, r.Allowed) {
					t.Errorf("%s may use only the standard library, but depends on %s", p.ImportPath, d)
				}
			}
		}
	}
	if checked < len(rules) {
		t.Fatalf("only %d package/rule pairs checked; is the module layout as expected?", checked)
	}
}

func allowed(dep string, prefixes []string) bool {
	for _, a := range prefixes {
		if dep == module+"/"+a || strings.HasPrefix(dep, module+"/"+a+"/") {
			return true
		}
	}
	return false
}

func standardPackages(t *testing.T) map[string]bool {
	out, err := exec.Command("go", "list", "std").Output()
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		m[p] = true
	}
	return m
}

// TestProductLinksNoTestCode: the keyturn binary (and so its container
// image) carries no test code: neither the testing package nor one of our
// test helper packages, whatever imports them.
func TestProductLinksNoTestCode(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "./cmd/bot")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps ./cmd/bot named %d packages; is the module layout as expected?", len(deps))
	}
	for _, d := range deps {
		if d == "testing" || strings.HasPrefix(d, "testing/") || (strings.HasPrefix(d, module+"/") && strings.HasSuffix(d, "test")) {
			t.Errorf("./cmd/bot links %s, which is test code", d)
		}
	}
}
