package manifest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/keyturn/keyturn/internal/nodetest"
)

// manifestcheck returns a function that runs the validator in the
// repository root with args, returning its output and exit code, or stops
// the test when the official package is not installed (see nodetest.Tool:
// a failure under CI).
func manifestcheck(t *testing.T) func(args ...string) (string, int) {
	t.Helper()
	root := nodetest.Tool(t, "manifestcheck", "@microsoft/app-manifest")
	script := filepath.Join("tools", "manifestcheck", "validate.mjs")
	return func(args ...string) (string, int) {
		t.Helper()
		return nodetest.Run(t, root, script, args...)
	}
}

// TestManifestPassesOfficialValidator validates the manifest of a freshly
// built package (and the golden file) against the official schema, offline.
func TestManifestPassesOfficialValidator(t *testing.T) {
	validate := manifestcheck(t)
	pkg, err := Package(testOptions())
	if err != nil {
		t.Fatal(err)
	}
	_, files := unzip(t, pkg)
	built := filepath.Join(t.TempDir(), "manifest.json")
	if err := os.WriteFile(built, files[ManifestFile], 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := validate(built, filepath.Join("manifest", "testdata", "manifest.json"))
	if code != 0 || !strings.Contains(out, "2 passed, 0 failed") {
		t.Fatalf("the official validator rejects the manifest (exit %d):\n%s", code, out)
	}
}

// TestSchemaIsTheNewestBundled fails when the pinned validator bundles a
// newer schema than SchemaVersion: check that Teams accepts it for bots,
// then move SchemaVersion on.
func TestSchemaIsTheNewestBundled(t *testing.T) {
	validate := manifestcheck(t)
	out, code := validate("--newest")
	if got := strings.TrimSpace(out); code != 0 || got != SchemaVersion {
		t.Errorf("the validator's newest Teams schema is %q (exit %d), the manifest uses %s", got, code, SchemaVersion)
	}
}

// TestOfficialValidatorRejectsInvalidManifests proves the check can fail:
// each manifest under testdata/invalid/ breaks one rule.
func TestOfficialValidatorRejectsInvalidManifests(t *testing.T) {
	validate := manifestcheck(t)
	cases := []struct{ file, want string }{
		{"bot_id_not_guid.json", "/bots/0/botId must match pattern"},
		{"unknown_property.json", "must NOT have additional properties"},
		{"unknown_scope.json", "/bots/0/scopes/3 must be equal to one of the allowed values"},
		{"missing_developer.json", "must have required property 'developer'"},
		{"schema_url_mismatch.json", "$schema is"},
		{"version_not_bundled.json", "bundles no schema for manifestVersion 1.99"},
	}
	listed, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.json"))
	if err != nil || len(listed) != len(cases) {
		t.Fatalf("testdata/invalid has %d manifests, the table %d (%v)", len(listed), len(cases), err)
	}
	files := make([]string, len(cases))
	for i, tc := range cases {
		files[i] = filepath.Join("manifest", "testdata", "invalid", tc.file)
	}
	// One run for all (node starts slowly); the report has a block per file.
	out, code := validate(files...)
	if code != 1 || !strings.Contains(out, "0 passed, "+strconv.Itoa(len(cases))+" failed") {
		t.Fatalf("exit %d, want 1 with every manifest failing:\n%s", code, out)
	}
	blocks := strings.Split(out, "FAIL ")
	for i, tc := range cases {
		if i+1 >= len(blocks) || !strings.HasPrefix(blocks[i+1], files[i]) || !strings.Contains(blocks[i+1], tc.want) {
			t.Errorf("%s: want a failure with %q in:\n%s", tc.file, tc.want, out)
		}
	}
	// A valid and an invalid manifest together still fail the run.
	out, code = validate(filepath.Join("manifest", "testdata", "manifest.json"), files[0])
	if code != 1 || !strings.Contains(out, "1 passed, 1 failed") {
		t.Errorf("mixed run: exit %d:\n%s", code, out)
	}
	if _, code := validate(); code != 2 {
		t.Errorf("no files: exit %d, want 2", code)
	}
}
