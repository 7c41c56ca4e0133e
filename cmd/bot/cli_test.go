package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/radar"
	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/rotation/memory"
	"github.com/keyturn/keyturn/rotation/rotationtest"
	"github.com/keyturn/keyturn/store/boltkv"
	"github.com/keyturn/keyturn/store/kv"
)

const (
	testClient = "11111111-1111-4111-8111-111111111111"
	testObject = "22222222-2222-4222-8222-222222222222"
	otherApp   = "66666666-6666-4666-8666-666666666666"
)

// fakeAzure is a tenant and a vault that persist across CLI runs of one test.
type fakeAzure struct {
	roles  *memory.Roles
	clock  *rotationtest.Clock
	dir    *memory.Directory
	vault  *memory.Vault
	faults *rotationtest.Faults
	built  int
	owned  radar.OwnedApps // the radar's listing; nil: none
}

func newFakeAzure() *fakeAzure {
	f := &fakeAzure{clock: rotationtest.NewClock(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)), vault: memory.NewVault(), faults: rotationtest.NewFaults(), roles: memory.NewRoles()}
	f.dir = memory.NewDirectory(f.clock)
	f.dir.AddApp(rotation.App{ObjectID: testObject, ClientID: testClient, DisplayName: "Payments API"}, true)
	f.dir.AddApp(rotation.App{ObjectID: "77777777-7777-4777-8777-777777777777", ClientID: otherApp, DisplayName: "HR"}, false)
	_, v := f.dir.AddExisting(testClient, "portal", f.clock.Now().Add(30*24*time.Hour))
	ref := rotation.SecretRef{VaultURI: "https://kv-payments.vault.azure.net/", Name: "payments-api-client-secret"}
	if _, err := f.vault.Set(context.Background(), ref, rotation.NewSecret(v), rotation.SecretProps{}); err != nil {
		panic(err)
	}
	return f
}

func (f *fakeAzure) factory(_ context.Context, _ config, _ *slog.Logger) (backend, error) {
	f.built++
	return backend{Apps: f.faults.Apps(f.dir), Vault: f.faults.Vault(f.vault), Verifier: f.dir.Verifier(), Caller: "ops@contoso.example (oid)", Clock: f.clock, Roles: f.roles, Owned: f.owned}, nil
}

type cliRun struct {
	code           int
	stdout, stderr string
}

func (f *fakeAzure) run(t *testing.T, envs map[string]string, args ...string) (r cliRun) {
	t.Helper()
	var out, errb bytes.Buffer
	getenv := func(k string) string { return envs[k] }
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(rotationtest.Crash); !ok {
				panic(p)
			}
			r = cliRun{code: -1, stdout: out.String(), stderr: errb.String()}
		}
	}()
	code := run(context.Background(), args, getenv, &out, &errb, f.factory)
	return cliRun{code, out.String(), errb.String()}
}

func testEnv(t *testing.T) map[string]string {
	return map[string]string{"KEYTURN_STATE_DIR": t.TempDir(), "KEYTURN_LOG_LEVEL": "debug"}
}

// noSecrets fails if any secret the fake tenant minted appears in outs or
// in the files of the state directory.
func (f *fakeAzure) noSecrets(t *testing.T, stateDir string, outs ...string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(stateDir, "*"))
	for _, p := range files {
		b, _ := os.ReadFile(p)
		outs = append(outs, string(b))
	}
	for _, s := range f.dir.Minted() {
		for _, o := range outs {
			if strings.Contains(o, s) || strings.Contains(o, "~CANARY~") {
				t.Fatalf("secret value in CLI output or state: %q", o)
			}
		}
	}
}

func TestCLIRotate(t *testing.T) {
	f := newFakeAzure()
	env := testEnv(t)
	r := f.run(t, env, "rotate", "--app", strings.ToUpper(testClient), "--vault", "kv-payments", "--json")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var res resultJSON
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.State != "done" || !strings.HasPrefix(res.SecretURI, "https://kv-payments.vault.azure.net/secrets/payments-api-client-secret/") || res.PreviousKeyID == "" {
		t.Fatalf("%+v", res)
	}
	audit := f.run(t, env, "audit", "show", "--app", testClient)
	if audit.code != exitOK || !strings.Contains(audit.stdout, "rotation.completed") || !strings.Contains(audit.stdout, "ops@contoso.example") {
		t.Fatalf("audit trail: %d %s %s", audit.code, audit.stdout, audit.stderr)
	}
	if v := f.run(t, env, "audit", "verify"); v.code != exitOK || !strings.Contains(v.stdout, "intact") {
		t.Fatalf("audit verify: %d %s %s", v.code, v.stdout, v.stderr)
	}
	// Human output, status and retirement on the same state.
	r2 := f.run(t, env, "status", "--app", testClient)
	if r2.code != exitOK || !strings.Contains(r2.stdout, res.KeyID) || !strings.Contains(r2.stdout, "payments-api-client-secret") {
		t.Fatalf("status exit %d: %s %s", r2.code, r2.stdout, r2.stderr)
	}
	r3 := f.run(t, env, "retire")
	if r3.code != exitOK || !strings.Contains(r3.stdout, "not-due") {
		t.Fatalf("retire: %d %s %s", r3.code, r3.stdout, r3.stderr)
	}
	r4 := f.run(t, env, "retire", "--app", testClient, "--early")
	if r4.code != exitOK || !strings.Contains(r4.stdout, "retired key "+res.PreviousKeyID) {
		t.Fatalf("retire --early: %d %s %s", r4.code, r4.stdout, r4.stderr)
	}
	f.noSecrets(t, env["KEYTURN_STATE_DIR"], r.stdout, r.stderr, r2.stdout, r2.stderr, r3.stdout, r4.stdout, r4.stderr)
}

func TestCLIBadInputChangesNothing(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no command", nil, nil, "Usage"},
		{"unknown command", nil, []string{"rotat"}, "unknown command"},
		{"missing app and vault", nil, []string{"rotate"}, "--vault is required"},
		{"app not a GUID", nil, []string{"rotate", "--app", "payments-api", "--vault", "kv-payments"}, "must be the application (client) ID"},
		{"bad lifetime", nil, []string{"rotate", "--app", testClient, "--vault", "kv-payments", "--lifetime", "forever"}, "--lifetime"},
		{"bad vault", nil, []string{"rotate", "--app", testClient, "--vault", "https://evil.example.com/"}, "--vault"},
		{"stray argument", nil, []string{"rotate", "--app", testClient, "--vault", "kv-payments", "now"}, "unexpected argument"},
		{"resume with flags", nil, []string{"rotate", "--resume", "abc", "--app", testClient}, "--resume takes no other flags"},
		{"bad config", map[string]string{"KEYTURN_CLOUD": "Mars", "AZURE_TENANT_ID": "x", "KEYTURN_ALLOWED_VAULTS": "not a vault"}, []string{"recover"}, "KEYTURN_CLOUD"},
		{"status without app", nil, []string{"status"}, "--app"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeAzure()
			env := testEnv(t)
			for k, v := range c.env {
				env[k] = v
			}
			r := f.run(t, env, c.args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, c.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, exitUsage, c.want)
			}
			if f.built != 0 {
				t.Fatal("bad input reached Azure")
			}
			if len(f.vault.Versions(rotation.SecretRef{VaultURI: "https://kv-payments.vault.azure.net/", Name: "payments-api-client-secret"})) != 1 {
				t.Fatal("the vault changed")
			}
		})
	}
	// Every configuration problem is reported at once.
	f := newFakeAzure()
	env := testEnv(t)
	env["KEYTURN_CLOUD"], env["AZURE_TENANT_ID"], env["KEYTURN_ALLOWED_VAULTS"] = "Mars", "x", "not a vault!"
	r := f.run(t, env, "recover")
	for _, want := range []string{"KEYTURN_CLOUD", "AZURE_TENANT_ID", "KEYTURN_ALLOWED_VAULTS"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("configuration error for %s not reported: %s", want, r.stderr)
		}
	}
}

func TestCLIExitCodes(t *testing.T) {
	cases := []struct {
		name  string
		setup func(f *fakeAzure, env map[string]string)
		app   string
		code  int
		want  string
	}{
		{"unknown app", nil, "44444444-4444-4444-8444-444444444444", exitNotFound, "No application with that client ID"},
		{"not owner", nil, otherApp, exitPermission, "az ad app owner add"},
		{"vault forbidden", func(f *fakeAzure, _ map[string]string) { f.vault.Forbid("https://kv-payments.vault.azure.net/") }, testClient, exitPermission, "Key Vault Secrets Officer"},
		{"vault not allowed", func(_ *fakeAzure, env map[string]string) { env["KEYTURN_ALLOWED_VAULTS"] = "kv-other" }, testClient, exitPolicy, "KEYTURN_ALLOWED_VAULTS"},
		{"own app", func(_ *fakeAzure, env map[string]string) { env["MicrosoftAppId"] = testClient }, testClient, exitPolicy, "its own credentials"},
		{"tenant lifetime policy", func(f *fakeAzure, _ map[string]string) { f.dir.MaxLifetime = 24 * time.Hour }, testClient, exitPolicy, "--lifetime"},
		{"rolled back", func(f *fakeAzure, _ map[string]string) {
			f.faults.Inject(rotationtest.Call{Op: "vault.Set", N: 2}, rotationtest.Fail)
		}, testClient, exitRolledBack, "rolled back"},
		{"no answer", func(f *fakeAzure, _ map[string]string) {
			f.faults.Inject(rotationtest.Call{Op: "apps.GetApp", N: 1}, rotationtest.TimeoutBefore)
		}, testClient, exitTransient, "may or may not have happened"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeAzure()
			env := testEnv(t)
			if c.setup != nil {
				c.setup(f, env)
			}
			r := f.run(t, env, "rotate", "--app", c.app, "--vault", "kv-payments")
			if r.code != c.code || !strings.Contains(r.stderr, c.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, c.code, c.want)
			}
			if c.code == exitTransient && strings.Contains(r.stderr, "nothing was changed") {
				t.Fatalf("an unanswered call must not promise that nothing changed: %q", r.stderr)
			}
			f.noSecrets(t, env["KEYTURN_STATE_DIR"], r.stdout, r.stderr)
		})
	}
}

func TestCLIRecoversAfterACrash(t *testing.T) {
	f := newFakeAzure()
	env := testEnv(t)
	// The process dies right after Graph minted the secret, before either
	// vault write (they run in parallel, so both are crash points).
	f.faults.Inject(rotationtest.Call{Op: "vault.Set", N: 1}, rotationtest.CrashBefore)
	f.faults.Inject(rotationtest.Call{Op: "vault.Set", N: 2}, rotationtest.CrashBefore)
	if r := f.run(t, env, "rotate", "--app", testClient, "--vault", "kv-payments"); r.code != -1 {
		t.Fatalf("expected a crash, got %d", r.code)
	}
	app, _ := f.dir.GetApp(context.Background(), testClient)
	if len(app.Passwords) != 2 {
		t.Fatal("the crash should have left the new credential behind")
	}
	st := f.run(t, env, "status", "--app", testClient)
	if !strings.Contains(st.stdout, "unfinished rotation") {
		t.Fatalf("status does not show the unfinished rotation: %s", st.stdout)
	}
	r := f.run(t, env, "recover")
	if r.code != exitOK || !strings.Contains(r.stdout, "rolled-back") {
		t.Fatalf("recover: %d %s %s", r.code, r.stdout, r.stderr)
	}
	app, _ = f.dir.GetApp(context.Background(), testClient)
	if len(app.Passwords) != 1 {
		t.Fatal("the orphaned credential was not removed")
	}
	if r := f.run(t, env, "rotate", "--app", testClient, "--vault", "kv-payments"); r.code != exitOK {
		t.Fatalf("rotate after recovery: %d %s", r.code, r.stderr)
	}
	f.noSecrets(t, env["KEYTURN_STATE_DIR"], r.stdout, r.stderr, st.stdout)
}

func TestParseDays(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 0, "180d": 180 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "36h": 36 * time.Hour} {
		if got, err := parseDays(in); err != nil || got != want {
			t.Errorf("parseDays(%q) = %s, %v", in, got, err)
		}
	}
	for _, in := range []string{"0d", "-1d", "xd", "soon", "-5h"} {
		if _, err := parseDays(in); err == nil {
			t.Errorf("parseDays(%q) accepted", in)
		}
	}
}

// TestAuditVerifyDetectsATruncatedTail removes the last records of the
// CLI's trail and moves its head back, as someone with write access to
// the state could: the chain alone still verifies (the README says so),
// but a checkpoint kept apart from the state, or an anchor copied from an
// audit post, gives the truncation away.
func TestAuditVerifyDetectsATruncatedTail(t *testing.T) {
	f := newFakeAzure()
	env := testEnv(t)
	if r := f.run(t, env, "rotate", "--app", testClient, "--vault", "kv-payments"); r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	checkpoint := filepath.Join(t.TempDir(), "audit.checkpoint") // apart from the state directory
	if v := f.run(t, env, "audit", "verify", "--checkpoint", checkpoint); v.code != exitOK || !strings.Contains(v.stdout, "checkpoint") {
		t.Fatalf("first verify: %d %s %s", v.code, v.stdout, v.stderr)
	}
	show := f.run(t, env, "audit", "show", "--json")
	var recs []auditRecordJSON
	if err := json.Unmarshal([]byte(show.stdout), &recs); err != nil || len(recs) < 4 {
		t.Fatalf("audit show: %v %s", err, show.stdout)
	}
	last := recs[len(recs)-1]
	anchorArg := fmt.Sprintf("#%d:%s", last.Seq, last.Hash[:12])

	// Truncate: drop the last two records and move the head back.
	ctx := context.Background()
	backend, err := boltkv.Open(filepath.Join(env["KEYTURN_STATE_DIR"], "keyturn.db"), boltkv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	keep := recs[len(recs)-3]
	for _, r := range recs[len(recs)-2:] {
		if err := backend.Delete(ctx, kv.TableAudit, fmt.Sprintf("e:%020d", r.Seq), ""); err != nil {
			t.Fatal(err)
		}
	}
	it, err := backend.Get(ctx, kv.TableMeta, "audit-head")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := backend.Update(ctx, kv.TableMeta, "audit-head", []byte(fmt.Sprintf(`{"seq":%d,"hash":%q}`, keep.Seq, keep.Hash)), it.ETag); err != nil {
		t.Fatal(err)
	}
	backend.Close()

	if v := f.run(t, env, "audit", "verify"); v.code != exitOK {
		t.Fatalf("without an anchor the truncated chain still verifies (documented): %d %s", v.code, v.stderr)
	}
	for _, args := range [][]string{{"--checkpoint", checkpoint}, {"--anchor", anchorArg}} {
		v := f.run(t, env, append([]string{"audit", "verify"}, args...)...)
		if v.code != exitFailure || !strings.Contains(v.stderr, "removed from the end") {
			t.Errorf("verify %v after truncation: %d %s %s", args, v.code, v.stdout, v.stderr)
		}
	}
	if v := f.run(t, env, "audit", "verify", "--anchor", "12:xyz"); v.code != exitUsage {
		t.Errorf("a malformed anchor: %d %s", v.code, v.stderr)
	}
}
