package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

func openWorld(t *testing.T, dir string) *World {
	t.Helper()
	w, err := Open(Config{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// noMarker fails if any of outs holds a secret value of the sandbox.
func noMarker(t *testing.T, outs ...string) {
	t.Helper()
	for _, o := range outs {
		if strings.Contains(o, SecretMarker) {
			t.Fatalf("a secret value leaked: %q", o)
		}
	}
}

func stateFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	paths, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

func TestOpenSeedsTheDemoTenant(t *testing.T) {
	dir := t.TempDir()
	w := openWorld(t, dir)
	ctx := context.Background()
	for _, f := range []string{TenantFileName, PolicyFileName} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("the editable %s was not written: %v", f, err)
		}
	}
	if w.PolicyFile() != filepath.Join(dir, PolicyFileName) || w.Policy().Apps["payments-api"].VaultURI != VaultURI("kv-payments") {
		t.Fatalf("the demo policy is not the one in force: %s %+v", w.PolicyFile(), w.Policy().Apps)
	}
	pay := w.Tenant().Apps[0]
	app, err := w.Applications().GetApp(ctx, pay.ClientID)
	if err != nil || len(app.Passwords) != 1 || app.Passwords[0].Hint == "" {
		t.Fatalf("payments-api: %+v %v", app, err)
	}
	ref := rotation.SecretRef{VaultURI: VaultURI("kv-payments"), Name: "payments-api-client-secret"}
	s, err := w.Vault().Get(ctx, ref)
	if err != nil || s.Tags[rotation.TagKeyID] != app.Passwords[0].KeyID || s.ContentType != rotation.ContentTypeClientSecret {
		t.Fatalf("seeded secret: %+v %v", s, err)
	}
	if !strings.Contains(s.Value.Reveal(), SecretMarker) {
		t.Fatal("seeded secret values must carry the marker")
	}
	if err := w.Verifier().Verify(ctx, pay.ClientID, s.Value); err != nil {
		t.Fatalf("the seeded secret does not work: %v", err)
	}
	hr := w.Tenant().Apps[2]
	if _, err := w.Applications().AddPassword(ctx, hr.ObjectID, "x", time.Now().Add(time.Hour)); !errors.Is(err, rotation.ErrNotOwner) {
		t.Fatalf("an app Keyturn does not own accepted a password: %v", err)
	}
	noMarker(t, stateFiles(t, dir)...)
}

// TestRestartKeepsMetadataNotValues changes the directory and a vault the
// way a rotation does, reopens the state directory, and checks that key
// IDs, versions and tags survive, that new key IDs and versions continue
// the sequences, that the stand-ins still agree with each other, and that
// no value was ever written to disk.
func TestRestartKeepsMetadataNotValues(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	w := openWorld(t, dir)
	changes := 0
	w.setOnChange(func() { changes++ })
	pay := w.Tenant().Apps[0]
	np, err := w.Applications().AddPassword(ctx, pay.ObjectID, "keyturn-1", time.Now().Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ref := rotation.SecretRef{VaultURI: VaultURI("kv-payments"), Name: "payments-api-client-secret"}
	stored, err := w.Vault().Set(ctx, ref, np.Secret, rotation.SecretProps{ContentType: rotation.ContentTypeClientSecret,
		Tags: map[string]string{rotation.TagClientID: pay.ClientID, rotation.TagKeyID: np.KeyID}})
	if err != nil {
		t.Fatal(err)
	}
	old, _ := w.Applications().GetApp(ctx, pay.ClientID)
	if err := w.Applications().RemovePassword(ctx, pay.ObjectID, old.Passwords[0].KeyID); err != nil {
		t.Fatal(err)
	}
	if changes != 3 {
		t.Errorf("the page was told of %d changes, want 3", changes)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	noMarker(t, stateFiles(t, dir)...)

	w2 := openWorld(t, dir)
	app, err := w2.Applications().GetApp(ctx, pay.ClientID)
	if err != nil || len(app.Passwords) != 1 || app.Passwords[0].KeyID != np.KeyID || app.Passwords[0].Hint != np.Hint {
		t.Fatalf("after restart: %+v %v", app, err)
	}
	latest, err := w2.Vault().Get(ctx, ref)
	if err != nil || latest.Version != stored.Version || latest.Tags[rotation.TagKeyID] != np.KeyID {
		t.Fatalf("latest version after restart: %+v %v", latest, err)
	}
	if err := w2.Verifier().Verify(ctx, pay.ClientID, latest.Value); err != nil {
		t.Errorf("the vault's secret and the directory disagree after a restart: %v", err)
	}
	first, err := w2.Vault().Get(ctx, rotation.SecretRef{VaultURI: ref.VaultURI, Name: ref.Name, Version: "00000000000000000000000000000002"})
	if err != nil || w2.Verifier().Verify(ctx, pay.ClientID, first.Value) == nil {
		t.Errorf("the removed credential's vault version still works after a restart: %v", err)
	}
	np2, err := w2.Applications().AddPassword(ctx, pay.ObjectID, "keyturn-2", time.Now().Add(24*time.Hour))
	if err != nil || np2.KeyID == np.KeyID || np2.KeyID == old.Passwords[0].KeyID {
		t.Fatalf("a new key ID repeats an old one: %s %v", np2.KeyID, err)
	}
	for _, a := range w2.Tenant().Apps {
		got, _ := w2.Applications().GetApp(ctx, a.ClientID)
		for _, p := range got.Passwords {
			if p.KeyID == np2.KeyID && a.ClientID != pay.ClientID {
				t.Fatalf("key ID %s is used by two apps", p.KeyID)
			}
		}
	}
	s2, err := w2.Vault().Set(ctx, ref, np2.Secret, rotation.SecretProps{})
	if err != nil || s2.Version <= stored.Version {
		t.Fatalf("the vault's version sequence did not continue: %s after %s (%v)", s2.Version, stored.Version, err)
	}
	noMarker(t, stateFiles(t, dir)...)
}

func TestOpenRefusesABrokenState(t *testing.T) {
	cases := []struct {
		name, file, want string
	}{
		{"not JSON", "{", "decode sandbox-world.json"},
		{"other format", `{"format": 9}`, "format 9"},
		{"out of step", `{"format": 1, "versions": [{"vaultUri": "https://kv-payments.vault.azure.net/", "name": "x", "version": "00000000000000000000000000000009"}]}`, "delete it to start"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, worldFileName), []byte(c.file), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Open(Config{StateDir: dir}); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
	if _, err := Open(Config{}); err == nil {
		t.Error("Open without a state directory succeeded")
	}
}

func TestStateIsMaskedMetadata(t *testing.T) {
	w := openWorld(t, t.TempDir())
	st := w.State(context.Background())
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	noMarker(t, string(b))
	if len(st.Vaults) != len(w.Tenant().Vaults) || len(st.Apps) != len(w.Tenant().Apps) {
		t.Fatalf("state lists %d vaults and %d apps", len(st.Vaults), len(st.Apps))
	}
	pay := st.Vaults[0]
	if pay.Name != "kv-payments" || len(pay.Secrets) != 2 {
		t.Fatalf("kv-payments: %+v", pay)
	}
	for _, s := range pay.Secrets {
		for _, v := range s.Versions {
			if v.Value != MaskedValue || !strings.HasPrefix(v.ID, s.URI+"/") || len(v.Tags) == 0 {
				t.Errorf("version %+v", v)
			}
		}
	}
	if a := st.Apps[0]; len(a.Credentials) != 1 || a.Credentials[0].Hint == "" || !a.Owned {
		t.Errorf("payments-api: %+v", a)
	}
	if a := st.Apps[2]; a.Owned {
		t.Errorf("hr-legacy is shown as owned: %+v", a)
	}
}

// TestMarkerMatchesBrowserTest keeps the browser test's canary in step
// with SecretMarker.
func TestMarkerMatchesBrowserTest(t *testing.T) {
	b, err := os.ReadFile("../tools/e2e/sandbox.spec.mjs")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `const SECRET_MARKER = "`+SecretMarker+`";`) {
		t.Fatalf("tools/e2e/sandbox.spec.mjs does not search for %q", SecretMarker)
	}
}

// TestOpenTakesAnotherPolicy: a policy file given to Open (keyturn sandbox
// --policy F) is the one in force: its aliases, secret names and approvals
// reach the seeded vault and the page's state.
func TestOpenTakesAnotherPolicy(t *testing.T) {
	dir := t.TempDir()
	pol := filepath.Join(dir, "other.yaml")
	text := strings.Replace(string(DemoPolicy()), "  payments-api:\n    client_id: ef68362e-88da-4556-a421-7410b83d902e\n    vault: kv-payments\n",
		"  pay:\n    client_id: ef68362e-88da-4556-a421-7410b83d902e\n    vault: kv-payments\n    approvals: 0\n    secret_names: {client_secret: pay-secret}\n", 1)
	if err := os.WriteFile(pol, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := Open(Config{StateDir: filepath.Join(dir, "state"), PolicyFile: pol})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "state", PolicyFileName)); !os.IsNotExist(err) {
		t.Errorf("the demo policy was written although another was given: %v", err)
	}
	ctx := context.Background()
	if _, err := w.Vault().Get(ctx, rotation.SecretRef{VaultURI: VaultURI("kv-payments"), Name: "pay-secret"}); err != nil {
		t.Errorf("the existing secret is not under the policy's name: %v", err)
	}
	var pay *AppView
	st := w.State(ctx)
	for i := range st.Apps {
		if st.Apps[i].ClientID == "ef68362e-88da-4556-a421-7410b83d902e" {
			pay = &st.Apps[i]
		}
	}
	if pay == nil || pay.Alias != "pay" || pay.Approvals != 0 || pay.Vault != "kv-payments" {
		t.Errorf("the page shows %+v", pay)
	}
}
