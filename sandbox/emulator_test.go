package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEmulatorUser(t *testing.T) {
	w, err := Open(Config{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	tn := w.Tenant()
	byKey := map[string]User{}
	for _, u := range tn.Users {
		byKey[u.Key] = u
	}
	for _, c := range []struct{ fromID, oid, want string }{
		{"5f3c1f7e-7d1f-4e57-9c7d-0b5a4a1e2f30", "", EmulatorUserKey}, // the Emulator's generated user ID
		{"", "", EmulatorUserKey},
		{"adele", "", "adele"}, // "use your own user ID" set to a demo user's key
		{"x", byKey["isaiah"].ObjectID, "isaiah"},
		{byKey["lee"].ObjectID, "", "lee"},
		{"ADELE", "", "adele"},
	} {
		u, ok := tn.EmulatorUser(c.fromID, c.oid)
		if !ok || u.Key != c.want {
			t.Errorf("EmulatorUser(%q, %q) = %s, want %s", c.fromID, c.oid, u.Key, c.want)
		}
	}
}

// TestTheSandboxHonoursRequestTTL: the policy file's request_ttl is the
// one in force (issue: the sandbox ignored it while its log named it).
func TestTheSandboxHonoursRequestTTL(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(Config{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Policy().RequestTTL; got != 30*time.Minute {
		t.Fatalf("demo policy: request_ttl %s", got)
	}
	w.Close()
	p := filepath.Join(dir, PolicyFileName)
	b, err := os.ReadFile(p)
	if err != nil || !strings.Contains(string(b), "request_ttl: 30m") {
		t.Fatalf("demo policy file: %v", err)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), "request_ttl: 30m", "request_ttl: 5m", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err = Open(Config{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if got := w.Policy().RequestTTL; got != 5*time.Minute {
		t.Fatalf("edited policy: request_ttl %s, want 5m", got)
	}
}
