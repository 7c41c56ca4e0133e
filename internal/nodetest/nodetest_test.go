package nodetest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that records Skipf and Fatalf instead of
// stopping, so Tool's decision can be observed.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                           {}
func (r *recorder) Skipf(format string, args ...any)  { r.skipped = fmt.Sprintf(format, args...) }
func (r *recorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func TestToolSkipsLocallyAndFailsUnderCI(t *testing.T) {
	for _, ci := range []string{"", "true"} {
		t.Setenv("CI", ci)
		r := &recorder{TB: t}
		root := Tool(r, "no-such-tool", "no-such-package")
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
			t.Errorf("root %q has no go.mod", root)
		}
		got, other := r.skipped, r.failed
		if ci != "" {
			got, other = r.failed, r.skipped
		}
		if other != "" || !strings.Contains(got, "npm ci --prefix tools/no-such-tool") {
			t.Errorf("CI=%q: skipped %q, failed %q", ci, r.skipped, r.failed)
		}
	}
}

func TestRunReturnsTheExitCode(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "exit.mjs")
	if err := os.WriteFile(script, []byte(`console.log("checked " + process.argv[2]); process.exit(3);`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := Run(t, dir, script, "x.json")
	if code != 3 || strings.TrimSpace(out) != "checked x.json" {
		t.Errorf("exit %d, output %q", code, out)
	}
}
