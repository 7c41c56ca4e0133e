package keyvault

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/keyturn/keyturn/rotation"
)

// bodyMarker stands for anything a service might put in an error body; it
// must never reach an error text.
const bodyMarker = "BODY-MARKER-do-not-echo"

// TestForbiddenVariants runs the real client against answers Key Vault
// gives for the different kinds of 403.
func TestForbiddenVariants(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		want    error
		has     []string
		hasNot  []string
		options func(*Options)
	}{
		{
			name:   "rbac",
			status: http.StatusForbidden,
			body:   `{"error":{"code":"Forbidden","message":"Caller is not authorized ` + bodyMarker + `","innererror":{"code":"ForbiddenByRbac"}}}`,
			want:   rotation.ErrVaultForbidden,
			has: []string{
				`az role assignment create --role "Key Vault Secrets Officer" --assignee 00000000-aaaa-bbbb-cccc-000000000001`,
				"code Forbidden/ForbiddenByRbac", "request id req-1234",
			},
			hasNot:  []string{"set-policy"},
			options: func(o *Options) { o.PrincipalID = "00000000-aaaa-bbbb-cccc-000000000001" },
		},
		{
			name:   "access policy",
			status: http.StatusForbidden,
			body:   `{"error":{"code":"Forbidden","message":"Access denied. Caller was not found on any access policy. ` + bodyMarker + `","innererror":{"code":"AccessDenied"}}}`,
			want:   rotation.ErrVaultForbidden,
			has:    []string{`"Key Vault Secrets Officer"`, "az keyvault set-policy --name kv-test --object-id <keyturn-principal-id> --secret-permissions get list set recover"},
		},
		{
			name:   "firewall",
			status: http.StatusForbidden,
			body:   `{"error":{"code":"Forbidden","message":"Client address is not authorized ` + bodyMarker + `","innererror":{"code":"ForbiddenByFirewall"}}}`,
			want:   rotation.ErrVaultForbidden,
			has:    []string{"network rules"},
			hasNot: []string{"role assignment"},
		},
		{
			name:   "disabled version",
			status: http.StatusForbidden,
			body:   `{"error":{"code":"Forbidden","message":"Operation get is not allowed on a disabled secret.","innererror":{"code":"SecretDisabled"}}}`,
			want:   rotation.ErrNotFound,
			has:    []string{"disabled"},
		},
		{
			name:   "wrong tenant",
			status: http.StatusUnauthorized,
			body:   `{"error":{"code":"Unauthorized","message":"AKV10032: Invalid issuer. ` + bodyMarker + `"}}`,
			want:   rotation.ErrVaultForbidden,
			has:    []string{"tenant"},
		},
		{
			name:   "not json",
			status: http.StatusForbidden,
			body:   `<html>` + bodyMarker + `</html>`,
			want:   rotation.ErrVaultForbidden,
			has:    []string{"role assignment", "set-policy"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fv := newFakeVault("kv-test")
			h := newHarness(t, fv)
			if tt.options != nil {
				tt.options(&h.vault.opts)
			}
			h.router.intercept = func(req *http.Request) (*http.Response, error, bool) {
				if req.Header.Get("Authorization") == "" {
					return nil, nil, false // the fake answers the challenge
				}
				return staticResponse(req, tt.status, tt.body), nil, true
			}
			_, err := h.vault.Get(context.Background(), ref(fv, "s"))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v; want %v", err, tt.want)
			}
			msg := err.Error()
			for _, s := range tt.has {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q lacks %q", msg, s)
				}
			}
			for _, s := range append(tt.hasNot, bodyMarker) {
				if strings.Contains(msg, s) {
					t.Errorf("error %q contains %q", msg, s)
				}
			}
			if strings.Contains(h.logs.String(), bodyMarker) {
				t.Error("log contains the response body")
			}
		})
	}
}

// TestTranslateStatus covers the status table with hand-built errors.
func TestTranslateStatus(t *testing.T) {
	v := New(nil, Options{VaultSuffix: "vault.azure.net", Logger: slog.New(slog.DiscardHandler)})
	r := rotation.SecretRef{VaultURI: "https://kv.vault.azure.net/", Name: "s"}
	tests := []struct {
		status int
		code   string
		want   error
	}{
		{400, "BadParameter", rotation.ErrInvalid},
		{401, "Unauthorized", rotation.ErrVaultForbidden},
		{403, "Forbidden", rotation.ErrVaultForbidden},
		{404, "SecretNotFound", rotation.ErrNotFound},
		{408, "", rotation.ErrAmbiguous},
		{409, "Conflict", rotation.ErrSoftDeleted},
		{429, "Throttled", rotation.ErrThrottled},
		{500, "", rotation.ErrAmbiguous},
		{502, "", rotation.ErrAmbiguous},
		{504, "", rotation.ErrAmbiguous},
		{418, "Teapot", nil},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			resp := &http.Response{StatusCode: tt.status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(bodyMarker))}
			err := v.translate("get secret", r, &azcore.ResponseError{StatusCode: tt.status, ErrorCode: tt.code, RawResponse: resp})
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v; want %v", err, tt.want)
			}
			for _, s := range []error{rotation.ErrInvalid, rotation.ErrVaultForbidden, rotation.ErrNotFound, rotation.ErrAmbiguous, rotation.ErrSoftDeleted, rotation.ErrThrottled} {
				if s != tt.want && errors.Is(err, s) {
					t.Errorf("err = %v; also matches %v", err, s)
				}
			}
			if !strings.HasPrefix(err.Error(), "get secret https://kv.vault.azure.net/secrets/s: ") || strings.Contains(err.Error(), bodyMarker) {
				t.Errorf("err text %q", err)
			}
		})
	}
}

func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"a", true},
		{"App-Secret-01", true},
		{strings.Repeat("z", 127), true},
		{strings.Repeat("z", 128), false},
		{"", false},
		{"a b", false},
		{"a_b", false},
		{"a~b", false},
		{"é", false},
	}
	for _, tt := range tests {
		if got := validName(tt.name); got != tt.ok {
			t.Errorf("validName(%q) = %t; want %t", tt.name, got, tt.ok)
		}
	}
}
