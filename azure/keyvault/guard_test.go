package keyvault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

func TestValidationBeforeAnyRequest(t *testing.T) {
	fv := newFakeVault("kv-test")
	h := newHarness(t, fv)
	ctx := context.Background()
	manyTags := map[string]string{}
	for i := range 16 {
		manyTags[fmt.Sprintf("t%d", i)] = "v"
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		sname string
		value string
		props rotation.SecretProps
	}{
		{"empty name", "", canary, rotation.SecretProps{}},
		{"underscore", "app_secret", canary, rotation.SecretProps{}},
		{"dot", "app.secret", canary, rotation.SecretProps{}},
		{"slash", "a/b", canary, rotation.SecretProps{}},
		{"non-ascii", "naïve", canary, rotation.SecretProps{}},
		{"128 characters", strings.Repeat("a", 128), canary, rotation.SecretProps{}},
		{"16 tags", "ok", canary, rotation.SecretProps{Tags: manyTags}},
		{"long tag value", "ok", canary, rotation.SecretProps{Tags: map[string]string{"k": strings.Repeat("v", 257)}}},
		{"empty tag name", "ok", canary, rotation.SecretProps{Tags: map[string]string{"": "v"}}},
		{"empty value", "ok", "", rotation.SecretProps{}},
		{"value over 25 KB", "ok", strings.Repeat("x", 25*1024+1), rotation.SecretProps{}},
		{"nbf after exp", "ok", canary, rotation.SecretProps{NotBefore: now, Expires: now.Add(-time.Second)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ref(fv, tt.sname)
			_, err := h.vault.Set(ctx, r, rotation.NewSecret(tt.value), tt.props)
			if !errors.Is(err, rotation.ErrInvalid) {
				t.Fatalf("Set err = %v; want ErrInvalid", err)
			}
			if strings.Contains(err.Error(), canary) {
				t.Error("error contains the value")
			}
		})
	}
	for _, name := range []string{"", "a_b", strings.Repeat("a", 128)} {
		if _, err := h.vault.Get(ctx, ref(fv, name)); !errors.Is(err, rotation.ErrInvalid) {
			t.Errorf("Get(%q) err = %v; want ErrInvalid", name, err)
		}
		if err := h.vault.Recover(ctx, ref(fv, name)); !errors.Is(err, rotation.ErrInvalid) {
			t.Errorf("Recover(%q) err = %v; want ErrInvalid", name, err)
		}
	}
	if _, err := h.vault.Get(ctx, atVersion(ref(fv, "ok"), "../x")); !errors.Is(err, rotation.ErrInvalid) {
		t.Errorf("Get with bad version err = %v; want ErrInvalid", err)
	}
	if n := h.router.requests.Load(); n != 0 {
		t.Errorf("%d requests sent; want none", n)
	}
	if n := h.cred.calls.Load(); n != 0 {
		t.Errorf("%d token requests; want none", n)
	}
	// The limits themselves are accepted.
	okTags := map[string]string{}
	for i := range 15 {
		okTags[fmt.Sprintf("t%d", i)] = strings.Repeat("v", 256)
	}
	if _, err := h.vault.Set(ctx, ref(fv, strings.Repeat("a", 127)), rotation.NewSecret(strings.Repeat("x", 25*1024)), rotation.SecretProps{Tags: okTags}); err != nil {
		t.Errorf("Set at the limits: %v", err)
	}
}

func TestForeignVaultRefused(t *testing.T) {
	fv := newFakeVault("kv-test")
	h := newHarness(t, fv)
	for _, uri := range []string{
		"https://evil.example.com/",
		"https://kv-test.vault.azure.net.evil.example/",
		"https://kv-test.vault.azure.cn/",
		"http://kv-test.vault.azure.net/",
		"https://kv-test.vault.azure.net:8443/",
		"https://user@kv-test.vault.azure.net/",
		"https://kv-test.vault.azure.net/secrets/",
		"https://vault.azure.net/",
		"",
	} {
		r := rotation.SecretRef{VaultURI: uri, Name: "s"}
		if _, err := h.vault.Set(context.Background(), r, rotation.NewSecret(canary), rotation.SecretProps{}); !errors.Is(err, rotation.ErrInvalid) {
			t.Errorf("Set to %q: err = %v; want ErrInvalid", uri, err)
		}
		if _, err := h.vault.Get(context.Background(), r); !errors.Is(err, rotation.ErrInvalid) {
			t.Errorf("Get from %q: err = %v; want ErrInvalid", uri, err)
		}
	}
	if n, c := h.router.requests.Load(), h.cred.calls.Load(); n != 0 || c != 0 {
		t.Errorf("%d requests, %d token requests; want none", n, c)
	}

	// Without a configured suffix every vault is refused.
	bare := New(h.cred, Options{Transport: h.router})
	if _, err := bare.Get(context.Background(), ref(fv, "s")); !errors.Is(err, rotation.ErrInvalid) {
		t.Errorf("no suffix: err = %v; want ErrInvalid", err)
	}
}

func TestOneClientPerVault(t *testing.T) {
	a, b := newFakeVault("kv-a"), newFakeVault("kv-b")
	h := newHarness(t, a, b)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 10 {
		for _, fv := range []*fakeVault{a, b} {
			wg.Go(func() {
				_, err := h.vault.Set(ctx, ref(fv, fmt.Sprintf("s%d", i)), rotation.NewSecret(canary), rotation.SecretProps{})
				errs <- err
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Upper-case spelling of the same vault shares the client.
	if _, err := h.vault.Get(ctx, rotation.SecretRef{VaultURI: "https://KV-A.vault.azure.net", Name: "s1"}); err != nil {
		t.Fatal(err)
	}
	h.vault.mu.Lock()
	n := len(h.vault.clients)
	h.vault.mu.Unlock()
	if n != 2 {
		t.Errorf("%d clients; want 2", n)
	}
}

func TestCanaryNeverLeaks(t *testing.T) {
	fv := newFakeVault("kv-test")
	locked := newFakeVault("kv-locked")
	locked.forbidden = true
	h := newHarness(t, fv, locked)
	ctx := context.Background()
	var outputs []string
	collect := func(v ...any) {
		for _, x := range v {
			outputs = append(outputs, fmt.Sprintf("%v|%+v|%#v|%s", x, x, x, x))
			if b, err := json.Marshal(x); err == nil {
				outputs = append(outputs, string(b))
			}
		}
	}
	props := rotation.SecretProps{ContentType: "text/plain", Tags: map[string]string{"k": "v"}}

	written, err := h.vault.Set(ctx, ref(fv, "s"), rotation.NewSecret(canary), props)
	collect(written, err)
	read, err := h.vault.Get(ctx, ref(fv, "s"))
	if read.Value.Reveal() != canary {
		t.Fatal("Get did not return the value")
	}
	collect(read, err)
	for _, r := range []rotation.SecretRef{ref(locked, "s"), ref(fv, "bad_name"), {VaultURI: "https://evil.example/", Name: "s"}} {
		_, err := h.vault.Set(ctx, r, rotation.NewSecret(canary), props)
		collect(err)
	}
	fv.softDelete("s")
	_, err = h.vault.Set(ctx, ref(fv, "s"), rotation.NewSecret(canary), props)
	collect(err)
	outputs = append(outputs, h.logs.String())
	if !strings.Contains(h.logs.String(), "secret written") {
		t.Fatal("no log captured; the check would prove nothing")
	}
	for _, o := range outputs {
		if strings.Contains(o, canary) {
			t.Errorf("canary leaked in %q", o)
		}
	}
}
