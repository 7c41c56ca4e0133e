package adaptivecards

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"strings"
	"testing"
)

// TestVendoredVersion checks that the bundle is the one VERSION describes
// and that every pin names Version.
func TestVendoredVersion(t *testing.T) {
	b, err := fs.ReadFile(FS(), ScriptName)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	meta, err := os.ReadFile("VERSION")
	if err != nil {
		t.Fatal(err)
	}
	want := "adaptivecards " + Version + "\nsha256 " + hex.EncodeToString(sum[:]) + "  " + ScriptName + "\n"
	if string(meta) != want {
		t.Errorf("VERSION is\n%s\nbut the embedded bundle needs\n%s(regenerate with go generate ./third_party/adaptivecards)", meta, want)
	}
	for _, p := range []string{"../../tools/cardcheck/package.json", "../../tools/vendor-adaptivecards/package.json"} {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var pkg struct {
			Dependencies map[string]string `json:"dependencies"`
		}
		if err := json.Unmarshal(raw, &pkg); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if got := pkg.Dependencies["adaptivecards"]; got != Version {
			t.Errorf("%s pins adaptivecards %q, want %q", p, got, Version)
		}
	}
	if !strings.Contains(string(b[:200]), "license") {
		t.Errorf("%s does not start with the package's licence pointer: not the npm build?", ScriptName)
	}
	for _, lic := range []string{"LICENSE", "LICENSE.swiper", "adaptivecards.min.js.LICENSE.txt"} {
		if l, err := fs.ReadFile(FS(), lic); err != nil || !strings.Contains(string(l), "MIT") {
			t.Errorf("licence file %s missing or not MIT: %v", lic, err)
		}
	}
}
