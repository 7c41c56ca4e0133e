package keyvault

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/keyturn/keyturn/doctor"
	"github.com/keyturn/keyturn/rotation"
)

func TestInspect(t *testing.T) {
	ctx := context.Background()
	fv := newFakeVault("kv-doctor")
	fv.recoveryLevel = "Recoverable+Purgeable"
	h := newHarness(t, fv)
	for _, n := range []string{"a-client-id", "a-client-secret"} {
		if _, err := h.vault.Set(ctx, rotation.SecretRef{VaultURI: fv.uri(), Name: n}, rotation.NewSecret("CANARY-inspect"), rotation.SecretProps{}); err != nil {
			t.Fatal(err)
		}
	}
	info, err := h.vault.Inspect(ctx, "kv-doctor")
	if err != nil || info != (doctor.VaultInfo{Secrets: 2, RecoveryLevel: "Recoverable+Purgeable"}) {
		t.Errorf("Inspect = %+v, %v", info, err)
	}
	fv.forbidden = true
	if _, err := h.vault.Inspect(ctx, fv.uri()); !errors.Is(err, rotation.ErrVaultForbidden) || !strings.Contains(err.Error(), "az role assignment create") {
		t.Errorf("Inspect of a forbidden vault = %v, want ErrVaultForbidden with the grant", err)
	}
	if _, err := h.vault.Inspect(ctx, "kv-nowhere"); !errors.Is(err, rotation.ErrVaultUnreachable) {
		t.Errorf("Inspect of an unknown vault = %v, want ErrVaultUnreachable", err)
	}
	if strings.Contains(h.logs.String(), "CANARY") {
		t.Error("a secret value reached the log")
	}
}

func TestProbe(t *testing.T) {
	const name = "keyturn-doctor-probe-0a1b2c3d"
	tests := []struct {
		name      string
		level     string
		purgeLag  int
		readBack  string
		forbidden bool
		want      doctor.ProbeResult
		wantErr   string
		calls     []string
		leftLive  bool
		leftDel   bool
	}{
		{name: "soft delete, purged after the deletion settles", level: "Recoverable+Purgeable", purgeLag: 2,
			want:  doctor.ProbeResult{Name: name, RecoveryLevel: "Recoverable+Purgeable", Purged: true},
			calls: []string{"SetSecret", "GetSecret", "DeleteSecret", "PurgeDeletedSecret", "PurgeDeletedSecret", "PurgeDeletedSecret"}},
		{name: "purge protection keeps the deleted probe", level: "Recoverable",
			want:  doctor.ProbeResult{Name: name, RecoveryLevel: "Recoverable"},
			calls: []string{"SetSecret", "GetSecret", "DeleteSecret"}, leftDel: true},
		{name: "no soft delete: the delete is final", level: "Purgeable",
			want:  doctor.ProbeResult{Name: name, RecoveryLevel: "Purgeable", Purged: true},
			calls: []string{"SetSecret", "GetSecret", "DeleteSecret"}},
		{name: "a different value read back still deletes", level: "Recoverable+Purgeable", readBack: "something else",
			want:    doctor.ProbeResult{Name: name, RecoveryLevel: "Recoverable+Purgeable", Purged: true},
			wantErr: "differs", calls: []string{"SetSecret", "GetSecret", "DeleteSecret", "PurgeDeletedSecret"}},
		{name: "forbidden writes nothing", level: "Recoverable", forbidden: true,
			want: doctor.ProbeResult{Name: name}, wantErr: "Key Vault Secrets Officer", calls: []string{"SetSecret"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fv := newFakeVault("kv-doctor")
			fv.recoveryLevel, fv.purgeLag, fv.readBack, fv.forbidden = tc.level, tc.purgeLag, tc.readBack, tc.forbidden
			h := newHarness(t, fv)
			got, err := h.vault.Probe(context.Background(), fv.uri(), name)
			if got != tc.want {
				t.Errorf("Probe = %+v, want %+v", got, tc.want)
			}
			if (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Probe error = %v, want one holding %q", err, tc.wantErr)
			}
			if !reflect.DeepEqual(fv.calls, tc.calls) {
				t.Errorf("calls = %v, want %v", fv.calls, tc.calls)
			}
			if (len(fv.live) > 0) != tc.leftLive || (len(fv.deleted) > 0) != tc.leftDel {
				t.Errorf("left behind: live %d, deleted %d", len(fv.live), len(fv.deleted))
			}
			for _, s := range fv.deleted {
				if len(s) > 0 && (s[0].Tags[ProbeTag] == nil || s[0].Attributes.Expires == nil) {
					t.Errorf("the probe left behind is not tagged %s or has no expiry", ProbeTag)
				}
			}
			for _, v := range fv.written {
				for _, out := range []string{fmt.Sprint(err), fmt.Sprintf("%+v %#v", got, got), h.logs.String()} {
					if strings.Contains(out, v) {
						t.Errorf("the probe's value reached the output: %s", out)
					}
				}
			}
		})
	}
}

func TestProbeRefusesABadName(t *testing.T) {
	fv := newFakeVault("kv-doctor")
	h := newHarness(t, fv)
	if _, err := h.vault.Probe(context.Background(), fv.uri(), "no_underscores"); !errors.Is(err, rotation.ErrInvalid) || len(fv.calls) != 0 {
		t.Errorf("Probe(bad name) = %v after %v, want ErrInvalid and no call", err, fv.calls)
	}
}

// TestProbeThroughDoctor runs doctor's vault checks on this adapter with
// the write probe: the checklist says what happened and holds none of the
// values the vault received, nor the canary it already held.
func TestProbeThroughDoctor(t *testing.T) {
	ctx := context.Background()
	fv := newFakeVault("kv-doctor")
	fv.recoveryLevel = "Recoverable+Purgeable"
	h := newHarness(t, fv)
	if _, err := h.vault.Set(ctx, rotation.SecretRef{VaultURI: fv.uri(), Name: "app-client-secret"}, rotation.NewSecret("CANARY-held"), rotation.SecretProps{}); err != nil {
		t.Fatal(err)
	}
	rep := doctor.Run(ctx, doctor.Config{Vaults: []string{fv.uri()}, WriteProbe: true, PolicySource: "p"}, doctor.Probes{Vaults: h.vault})
	var text, js strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[ok  ] kv-doctor secret properties readable: 1 secret(s)", "[ok  ] kv-doctor write probe: wrote, read back and removed keyturn-doctor-probe-", "(purged)", "[ok  ] kv-doctor soft delete on: a secret's recovery level is Recoverable+Purgeable"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("checklist lacks %q:\n%s", want, text.String())
		}
	}
	if len(fv.written) != 2 || len(fv.live) != 1 || len(fv.deleted) != 0 {
		t.Errorf("after the probe: %d writes, %d live, %d deleted; want the probe gone", len(fv.written), len(fv.live), len(fv.deleted))
	}
	for _, v := range fv.written {
		for _, out := range []string{text.String(), js.String(), h.logs.String()} {
			if strings.Contains(out, v) {
				t.Fatalf("a secret value reached doctor's output:\n%s", out)
			}
		}
	}
}
