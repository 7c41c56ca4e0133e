package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/keyturn/keyturn/sandbox"
)

// TestHelpExitsZero: asking a command for its flags is no error; a flag
// it does not know still is.
func TestHelpExitsZero(t *testing.T) {
	f := newFakeAzure()
	env := testEnv(t)
	for _, cmd := range [][]string{{"sandbox"}, {"serve"}, {"rotate"}, {"retire"}, {"status"}, {"recover"}, {"doctor"}, {"manifest"}, {"audit", "verify"}, {"audit", "show"}} {
		for _, h := range []string{"--help", "-h"} {
			r := f.run(t, env, append(append([]string(nil), cmd...), h)...)
			if r.code != exitOK || !strings.Contains(strings.ToLower(r.stdout+r.stderr), "usage") {
				t.Errorf("%v %s: exit %d, %q", cmd, h, r.code, r.stdout+r.stderr)
			}
		}
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"sandbox", "--no-such-flag"}, func(string) string { return "" }, &out, &errb, f.factory); code != exitUsage {
		t.Errorf("an unknown flag: exit %d", code)
	}
}

// TestSandboxBannerSaysEachRoleOnce: each demo user's line names their
// title and what they may do, once.
func TestSandboxBannerSaysEachRoleOnce(t *testing.T) {
	w, err := sandbox.Open(sandbox.Config{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var out bytes.Buffer
	(&cli{stdout: &out}).printDemoUsers(context.Background(), w)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 3 {
		t.Fatalf("banner %q", out.String())
	}
	for _, l := range lines[1:] {
		if strings.Count(l, "may ") != 1 || strings.Contains(l, "(") {
			t.Errorf("banner line repeats itself: %q", l)
		}
	}
}
