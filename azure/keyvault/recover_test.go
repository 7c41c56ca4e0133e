package keyvault

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

func TestSoftDeletedSetRecoverSet(t *testing.T) {
	fv := newFakeVault("kv-test")
	fv.recoverLag = 3
	h := newHarness(t, fv)
	ctx := context.Background()
	r := ref(fv, "app-secret")
	if _, err := h.vault.Set(ctx, r, rotation.NewSecret("old"), rotation.SecretProps{}); err != nil {
		t.Fatal(err)
	}
	fv.softDelete("app-secret")

	_, err := h.vault.Set(ctx, r, rotation.NewSecret(canary), rotation.SecretProps{})
	if !errors.Is(err, rotation.ErrSoftDeleted) || !strings.Contains(err.Error(), "status 409") {
		t.Fatalf("Set on soft-deleted name: err = %v; want ErrSoftDeleted (409)", err)
	}
	if _, err := h.vault.Get(ctx, r); !errors.Is(err, rotation.ErrSoftDeleted) {
		t.Fatalf("Get on soft-deleted name: err = %v; want ErrSoftDeleted", err)
	}

	if err := h.vault.Recover(ctx, r); err != nil {
		t.Fatalf("Recover: %v", err)
	}
	if want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}; fmt.Sprint(h.sleeps) != fmt.Sprint(want) {
		t.Errorf("Recover slept %v; want %v", h.sleeps, want)
	}
	got, err := h.vault.Get(ctx, r)
	if err != nil || got.Value.Reveal() != "old" {
		t.Fatalf("Get after Recover: err = %v", err)
	}
	written, err := h.vault.Set(ctx, r, rotation.NewSecret(canary), rotation.SecretProps{})
	if err != nil {
		t.Fatalf("Set after Recover: %v", err)
	}
	if got, err := h.vault.Get(ctx, r); err != nil || got.Version != written.Version {
		t.Fatalf("Get after Set = %q, %v; want %q", got.Version, err, written.Version)
	}
}

func TestRecoverErrors(t *testing.T) {
	tests := []struct {
		name       string
		lag        int
		timeout    time.Duration
		want       error
		wantSleeps time.Duration
	}{
		{"nothing to recover", -1, 0, rotation.ErrNotFound, 0},
		{"never readable", 1000, 10 * time.Second, rotation.ErrAmbiguous, 10 * time.Second},
		{"default bound", 1000, 0, rotation.ErrAmbiguous, DefaultRecoverTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fv := newFakeVault("kv-test")
			h := newHarness(t, fv)
			h.vault.opts.RecoverTimeout = tt.timeout
			if tt.timeout == 0 {
				h.vault.opts.RecoverTimeout = DefaultRecoverTimeout
			}
			if tt.lag >= 0 {
				fv.recoverLag = tt.lag
				fv.softDelete("s")
			}
			err := h.vault.Recover(context.Background(), ref(fv, "s"))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v; want %v", err, tt.want)
			}
			var total time.Duration
			for _, d := range h.sleeps {
				total += d
				if d > maxRecoverDelay {
					t.Errorf("slept %s, more than %s", d, maxRecoverDelay)
				}
			}
			if total != tt.wantSleeps {
				t.Errorf("slept %s in total; want %s", total, tt.wantSleeps)
			}
		})
	}
}
