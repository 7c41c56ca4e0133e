// Package nodetest lets Go tests run the repository's Node.js checks, the
// scripts under tools/<dir> that validate what Keyturn renders with
// Microsoft's official npm packages (installed by .ci/run with npm ci from
// each folder's lockfile).
//
// It is for tests only: it imports testing, and no product package may
// import it. It imports nothing of ours.
package nodetest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Tool returns the repository root, found as the nearest directory above
// the test's with a go.mod, once node is on PATH and tools/<dir> has the
// npm package pkg installed. Otherwise it stops the test: a failure under
// CI (env CI set), so a check never passes there by being skipped, and a
// skip elsewhere, naming the npm ci command that installs the package.
func Tool(t testing.TB, dir, pkg string) (root string) {
	t.Helper()
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			t.Fatal("no go.mod above the test's directory")
		}
		root = parent
	}
	missing := ""
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node is not installed"
	} else if _, err := os.Stat(filepath.Join(root, "tools", dir, "node_modules", filepath.FromSlash(pkg), "package.json")); err != nil {
		missing = "tools/" + dir + "/node_modules is missing"
	}
	if missing != "" {
		hint := "run npm ci --prefix tools/" + dir
		if os.Getenv("CI") != "" {
			t.Fatalf("%s: %s", missing, hint)
		} else {
			t.Skipf("%s: %s", missing, hint)
		}
	}
	return root
}

// Run runs node with script and args in dir and returns the combined
// output and the exit code. Anything but an exit (node missing, a two
// minute timeout) fails the test.
func Run(t testing.TB, dir, script string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{script}, args...)...)
	cmd.Dir = dir
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
