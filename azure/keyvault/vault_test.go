package keyvault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

const canary = "CANARY-s3cr3t-~value"

func ref(fv *fakeVault, name string) rotation.SecretRef {
	return rotation.SecretRef{VaultURI: fv.uri(), Name: name}
}

func TestSetThenGet(t *testing.T) {
	fv := newFakeVault("kv-test")
	h := newHarness(t, fv)
	ctx := context.Background()
	nbf := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	exp := nbf.Add(180 * 24 * time.Hour)
	props := rotation.SecretProps{
		ContentType: rotation.ContentTypeClientSecret,
		NotBefore:   nbf,
		Expires:     exp,
		Tags:        map[string]string{rotation.TagClientID: "11111111-2222-3333-4444-555555555555", rotation.TagHint: "CAN"},
	}
	r := ref(fv, "app-secret")

	first, err := h.vault.Set(ctx, r, rotation.NewSecret(canary), props)
	if err != nil {
		t.Fatalf("Set: %v", err)
	}
	if !first.Value.IsZero() {
		t.Error("Set returned a value; want none")
	}
	wantPrefix := "https://kv-test.vault.azure.net/secrets/app-secret/"
	if !strings.HasPrefix(first.ID, wantPrefix) || first.Version == "" || first.ID != wantPrefix+first.Version {
		t.Errorf("Set ID = %q, Version = %q; want %s<version>", first.ID, first.Version, wantPrefix)
	}
	// What the vault stored is what was asked for.
	held, _ := fv.latest("app-secret")
	if held.Value == nil || *held.Value != canary {
		t.Error("vault did not receive the revealed value")
	}
	if held.Attributes == nil || held.Attributes.Enabled == nil || !*held.Attributes.Enabled {
		t.Error("secret not written enabled")
	}

	second, err := h.vault.Set(ctx, r, rotation.NewSecret("second-value"), rotation.SecretProps{ContentType: "text/plain"})
	if err != nil {
		t.Fatalf("second Set: %v", err)
	}
	if second.Version == first.Version {
		t.Fatalf("second Set reused version %q", first.Version)
	}
	if held, _ := fv.latest("app-secret"); held.Attributes.NotBefore != nil || held.Attributes.Expires != nil || held.Tags != nil {
		t.Errorf("zero nbf/exp/tags were sent: %+v tags %v", held.Attributes, held.Tags)
	}

	tests := []struct {
		name      string
		version   string
		wantValue string
		wantVer   string
		wantProps rotation.SecretProps
	}{
		{"latest", "", "second-value", second.Version, rotation.SecretProps{ContentType: "text/plain"}},
		{"by version", first.Version, canary, first.Version, props},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.vault.Get(ctx, atVersion(r, tt.version))
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if got.Value.Reveal() != tt.wantValue {
				t.Errorf("value mismatch (lengths %d, %d)", len(got.Value.Reveal()), len(tt.wantValue))
			}
			if got.Version != tt.wantVer || got.ID != wantPrefix+tt.wantVer || !got.Enabled {
				t.Errorf("got ID %q version %q enabled %t; want version %q enabled", got.ID, got.Version, got.Enabled, tt.wantVer)
			}
			if got.ContentType != tt.wantProps.ContentType || !got.NotBefore.Equal(tt.wantProps.NotBefore) || !got.Expires.Equal(tt.wantProps.Expires) {
				t.Errorf("props = %q %v %v; want %q %v %v", got.ContentType, got.NotBefore, got.Expires,
					tt.wantProps.ContentType, tt.wantProps.NotBefore, tt.wantProps.Expires)
			}
			if fmt.Sprint(got.Tags) != fmt.Sprint(tt.wantProps.Tags) && !(len(got.Tags) == 0 && len(tt.wantProps.Tags) == 0) {
				t.Errorf("tags = %v; want %v", got.Tags, tt.wantProps.Tags)
			}
			if got.Ref.VaultURI != "https://kv-test.vault.azure.net/" || got.Ref.Name != "app-secret" {
				t.Errorf("ref = %+v", got.Ref)
			}
		})
	}

	latest, err := h.vault.Get(ctx, r)
	if err != nil || latest.Version != second.Version {
		t.Errorf("Get = version %q, %v; want %q", latest.Version, err, second.Version)
	}
}

func TestGetErrors(t *testing.T) {
	fv := newFakeVault("kv-test")
	forbidden := newFakeVault("kv-locked")
	forbidden.forbidden = true
	h := newHarness(t, fv, forbidden)
	ctx := context.Background()
	if _, err := h.vault.Set(ctx, ref(fv, "gone"), rotation.NewSecret(canary), rotation.SecretProps{}); err != nil {
		t.Fatal(err)
	}
	fv.softDelete("gone")
	if _, err := h.vault.Set(ctx, ref(fv, "live"), rotation.NewSecret(canary), rotation.SecretProps{}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		ref     rotation.SecretRef
		version string
		want    error
		msg     []string
	}{
		{"not found", ref(fv, "missing"), "", rotation.ErrNotFound, []string{"status 404", "SecretNotFound"}},
		{"unknown version", ref(fv, "live"), "0123456789abcdef0123456789abcdef", rotation.ErrNotFound, nil},
		{"soft-deleted", ref(fv, "gone"), "", rotation.ErrSoftDeleted, nil},
		{"forbidden", ref(forbidden, "any"), "", rotation.ErrVaultForbidden, []string{
			`"Key Vault Secrets Officer"`, "az role assignment create --role \"Key Vault Secrets Officer\" --assignee <keyturn-principal-id>",
			"az keyvault show --name kv-locked", "az keyvault set-policy --name kv-locked",
		}},
		{"unreachable", rotation.SecretRef{VaultURI: "https://kv-nowhere.vault.azure.net/", Name: "x"}, "", rotation.ErrVaultUnreachable, []string{"no such host"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.vault.Get(ctx, atVersion(tt.ref, tt.version))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v; want %v", err, tt.want)
			}
			for _, m := range tt.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q lacks %q", err, m)
				}
			}
		})
	}
}

func TestTransportFailures(t *testing.T) {
	fv := newFakeVault("kv-test")
	h := newHarness(t, fv)
	var fail func(*http.Request) (*http.Response, error)
	h.router.intercept = func(req *http.Request) (*http.Response, error, bool) {
		if fail == nil || req.Header.Get("Authorization") == "" {
			return nil, nil, false
		}
		resp, err := fail(req)
		return resp, err, true
	}
	tests := []struct {
		name string
		fail func(*http.Request) (*http.Response, error)
		want error
	}{
		{"503", func(r *http.Request) (*http.Response, error) {
			return staticResponse(r, http.StatusServiceUnavailable, `{"error":{"code":"ServiceUnavailable"}}`), nil
		}, rotation.ErrAmbiguous},
		{"500", func(r *http.Request) (*http.Response, error) {
			return staticResponse(r, http.StatusInternalServerError, `{}`), nil
		}, rotation.ErrAmbiguous},
		{"429", func(r *http.Request) (*http.Response, error) {
			return staticResponse(r, http.StatusTooManyRequests, `{"error":{"code":"Throttled"}}`), nil
		}, rotation.ErrThrottled},
		{"read timeout", func(*http.Request) (*http.Response, error) {
			return nil, &net.OpError{Op: "read", Net: "tcp", Err: timeoutError{}}
		}, rotation.ErrAmbiguous},
		{"connection refused", func(*http.Request) (*http.Response, error) {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
		}, rotation.ErrVaultUnreachable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fail = tt.fail
			_, err := h.vault.Set(context.Background(), ref(fv, "s"), rotation.NewSecret(canary), rotation.SecretProps{})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Set err = %v; want %v", err, tt.want)
			}
			_, err = h.vault.Get(context.Background(), ref(fv, "s"))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Get err = %v; want %v", err, tt.want)
			}
		})
	}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestCanceledContextIsAmbiguous(t *testing.T) {
	fv := newFakeVault("kv-test")
	h := newHarness(t, fv)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := h.vault.Set(ctx, ref(fv, "s"), rotation.NewSecret(canary), rotation.SecretProps{})
	if !errors.Is(err, rotation.ErrAmbiguous) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want ErrAmbiguous and context.Canceled", err)
	}
}

func TestCredentialFailure(t *testing.T) {
	fv := newFakeVault("kv-test")
	h := newHarness(t, fv)
	credErr := errors.New("ManagedIdentityCredential: no identity assigned")
	h.cred.err = credErr
	_, err := h.vault.Get(context.Background(), ref(fv, "s"))
	if !errors.Is(err, credErr) {
		t.Fatalf("err = %v; want the credential's error in the chain", err)
	}
	for _, s := range []error{rotation.ErrAmbiguous, rotation.ErrVaultForbidden, rotation.ErrNotFound} {
		if errors.Is(err, s) {
			t.Errorf("credential failure translated to %v", s)
		}
	}
}

// atVersion returns r naming version v.
func atVersion(r rotation.SecretRef, v string) rotation.SecretRef {
	r.Version = v
	return r
}
