package keyvault

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/keyturn/keyturn/rotation"
)

// TestListReadsEveryPageWithTagsAndNoValues lists a vault of five secrets
// (three pages of the fake's two) through azsecrets' pager: every live
// secret comes back with its tags and content type, none with a value,
// and soft-deleted ones are left out.
func TestListReadsEveryPageWithTagsAndNoValues(t *testing.T) {
	ctx := context.Background()
	fv := newFakeVault("kv-list")
	h := newHarness(t, fv)
	for _, name := range []string{"a-client-secret", "b-client-secret", "c-client-secret", "d-client-secret", "e-client-secret", "gone"} {
		_, err := h.vault.Set(ctx, rotation.SecretRef{VaultURI: fv.uri(), Name: name}, rotation.NewSecret("value-of-"+name+"~CANARY~"),
			rotation.SecretProps{ContentType: rotation.ContentTypeClientSecret, Tags: map[string]string{rotation.TagKeyID: "key-" + name}})
		if err != nil {
			t.Fatal(err)
		}
	}
	fv.softDelete("gone")
	got, err := h.vault.List(ctx, fv.uri())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("listed %d secrets, want 5: %+v", len(got), got)
	}
	for _, s := range got {
		if s.Tags[rotation.TagKeyID] != "key-"+s.Ref.Name || s.Ref.VaultURI != fv.uri() || s.ContentType != rotation.ContentTypeClientSecret {
			t.Errorf("listed %+v", s)
		}
		if !s.Value.IsZero() {
			t.Errorf("%s listed with a value", s.Ref.Name)
		}
	}
	if strings.Contains(h.logs.String(), "~CANARY~") {
		t.Fatal("a secret value reached the logs")
	}
	pages := 0
	for _, c := range fv.calls {
		if c == "ListSecretProperties" {
			pages++
		}
	}
	if pages == 0 {
		t.Fatal("the fake's pager was never asked")
	}
}

func TestListTranslatesRefusals(t *testing.T) {
	fv := newFakeVault("kv-closed")
	fv.forbidden = true
	h := newHarness(t, fv)
	if _, err := h.vault.List(context.Background(), fv.uri()); !errors.Is(err, rotation.ErrVaultForbidden) {
		t.Fatalf("forbidden vault: %v", err)
	}
	if _, err := h.vault.List(context.Background(), "https://kv-nowhere.vault.azure.net/"); !errors.Is(err, rotation.ErrVaultUnreachable) {
		t.Fatalf("unknown vault: %v", err)
	}
	if _, err := h.vault.List(context.Background(), "https://evil.example.com/"); !errors.Is(err, rotation.ErrInvalid) {
		t.Fatalf("vault outside the cloud: %v", err)
	}
}
