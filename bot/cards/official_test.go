package cards

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/keyturn/keyturn/internal/nodetest"
)

// cardcheck returns the repository root and the validator script
// (relative to the root), or stops the test when the official library is
// not installed (see nodetest.Tool: a failure under CI).
func cardcheck(t *testing.T) (root, script string) {
	t.Helper()
	return nodetest.Tool(t, "cardcheck", "adaptivecards"), filepath.Join("tools", "cardcheck", "validate.mjs")
}

// runValidator runs the script on files (relative to root) and returns
// its output and exit code.
func runValidator(t *testing.T, root, script string, files ...string) (string, int) {
	t.Helper()
	return nodetest.Run(t, root, script, files...)
}

func TestGoldenCardsPassOfficialValidator(t *testing.T) {
	root, script := cardcheck(t)
	files, err := filepath.Glob(filepath.Join(root, "bot", "cards", "testdata", "*.json"))
	if err != nil || len(files) < len(goldens()) {
		t.Fatalf("found %d golden files, want %d (%v)", len(files), len(goldens()), err)
	}
	for i, f := range files {
		files[i], _ = filepath.Rel(root, f)
	}
	// Action fallbacks are checked as actions of their own (see liftFallbacks).
	out, code := runValidator(t, root, script, validatorInputs(t, root, t.TempDir(), files)...)
	if code != 0 {
		t.Fatalf("the official adaptivecards library rejects golden cards (exit %d):\n%s", code, out)
	}
	if want := strconv.Itoa(len(files)) + " passed, 0 failed"; !strings.Contains(out, want) {
		t.Errorf("validator output lacks %q:\n%s", want, out)
	}
}

// TestOfficialValidatorRejectsInvalidCards proves the check can fail: each
// card under testdata/invalid/ breaks one rule, and the validator must
// exit 1 naming it.
func TestOfficialValidatorRejectsInvalidCards(t *testing.T) {
	root, script := cardcheck(t)
	cases := []struct {
		file, want string
	}{
		{"unknown_element.json", "UnknownElementType"},
		{"missing_required.json", `PropertyCantBeNull: Property "url" must be set`},
		{"invalid_enum.json", `InvalidPropertyValue: Invalid value "Green"`},
		{"misspelled_property.json", "UnknownProperty: $.body[0].wrapp"},
		{"newer_than_1_5.json", `UnsupportedProperty: Property "labelPosition" is supported in version 1.6`},
		{"unsupported_version.json", "UnsupportedCardVersion"},
	}
	listed, err := filepath.Glob(filepath.Join(root, "bot", "cards", "testdata", "invalid", "*.json"))
	if err != nil || len(listed) != len(cases) {
		t.Fatalf("testdata/invalid has %d cards, the table %d (%v)", len(listed), len(cases), err)
	}
	for _, tc := range cases {
		t.Run(strings.TrimSuffix(tc.file, ".json"), func(t *testing.T) {
			out, code := runValidator(t, root, script, filepath.Join("bot", "cards", "testdata", "invalid", tc.file))
			if code != 1 || !strings.Contains(out, "FAIL") || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d, want 1 with %q:\n%s", code, tc.want, out)
			}
		})
	}
	// A valid and an invalid card together still fail the run.
	out, code := runValidator(t, root, script, filepath.Join("bot", "cards", "testdata", "help.json"), filepath.Join("bot", "cards", "testdata", "invalid", "unknown_element.json"))
	if code != 1 || !strings.Contains(out, "1 passed, 1 failed") {
		t.Errorf("mixed run: exit %d:\n%s", code, out)
	}
	if _, code := runValidator(t, root, script); code != 2 {
		t.Errorf("no files: exit %d, want 2", code)
	}
}
