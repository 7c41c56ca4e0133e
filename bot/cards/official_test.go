package cards

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const installHint = "run npm ci --prefix tools/cardcheck"

// cardcheck returns the repository root and the validator script, or stops
// the test when the official library is not installed: a failure under CI
// (env CI set), a skip elsewhere.
func cardcheck(t *testing.T) (root, script string) {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
	missing := ""
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node is not installed"
	} else if _, err := os.Stat(filepath.Join(dir, "tools", "cardcheck", "node_modules", "adaptivecards", "package.json")); err != nil {
		missing = "tools/cardcheck/node_modules is missing"
	}
	if missing != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s: %s", missing, installHint)
		}
		t.Skipf("%s: %s", missing, installHint)
	}
	return dir, filepath.Join("tools", "cardcheck", "validate.mjs")
}

// runValidator runs the script on files (relative to root) and returns
// its output and exit code.
func runValidator(t *testing.T, root, script string, files ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{script}, files...)...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit) && ctx.Err() == nil:
		return string(out), exit.ExitCode()
	default:
		t.Fatalf("run node %s: %v\n%s", script, err, out)
		return "", -1
	}
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
