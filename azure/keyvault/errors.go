package keyvault

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/keyturn/keyturn/rotation"
)

// Role is the Azure RBAC role Keyturn's identity needs on a target vault.
const Role = "Key Vault Secrets Officer"

// translate turns an error from azsecrets into one of rotation's sentinels,
// wrapped with op ("get secret") and the secret's URI. It is the only place
// this package interprets SDK errors: by *azcore.ResponseError status and
// codes, by network error types, never by error text. The result carries
// status, codes and the request ID, never a response body.
func (v *Vault) translate(op string, ref rotation.SecretRef, err error) error {
	target := ref.String()
	var (
		cred  *credentialError
		re    *azcore.ResponseError
		dns   *net.DNSError
		opErr *net.OpError
		cert  *tls.CertificateVerificationError
		uaErr x509.UnknownAuthorityError
		hErr  x509.HostnameError
		nErr  net.Error
	)
	switch {
	case errors.As(err, &cred):
		// The request never reached the vault; the credential's own error
		// (azidentity's) is kept for the operator: it holds no vault data.
		return fmt.Errorf("%s %s: get a token for Key Vault: %w", op, target, cred.err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		ctxErr := context.Canceled
		if errors.Is(err, context.DeadlineExceeded) {
			ctxErr = context.DeadlineExceeded
		}
		return fmt.Errorf("%s %s: %w: %w", op, target, rotation.ErrAmbiguous, ctxErr)
	case errors.As(err, &re):
		return v.translateResponse(op, ref, re)
	case errors.As(err, &dns):
		return fmt.Errorf("%s %s: %w: %v", op, target, rotation.ErrVaultUnreachable, dns)
	case errors.As(err, &cert), errors.As(err, &uaErr), errors.As(err, &hErr):
		return fmt.Errorf("%s %s: %w: TLS certificate not trusted", op, target, rotation.ErrVaultUnreachable)
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return fmt.Errorf("%s %s: %w: %v", op, target, rotation.ErrVaultUnreachable, opErr)
	case errors.As(err, &nErr):
		// The request may have been sent: a timeout, a reset connection.
		return fmt.Errorf("%s %s: %w: network error (timeout: %t)", op, target, rotation.ErrAmbiguous, nErr.Timeout())
	default:
		return fmt.Errorf("%s %s: %w: unexpected failure (%T)", op, target, rotation.ErrAmbiguous, err)
	}
}

// translateResponse handles an answer from Key Vault.
func (v *Vault) translateResponse(op string, ref rotation.SecretRef, re *azcore.ResponseError) error {
	inner := innerCode(re)
	rid := ""
	if re.RawResponse != nil {
		rid = re.RawResponse.Header.Get("x-ms-request-id")
	}
	v.log.Debug("key vault refused a request", "op", op, "vault", ref.VaultURI, "secret_name", ref.Name,
		"status", re.StatusCode, "error_code", re.ErrorCode, "inner_code", inner, "request_id", rid)

	detail := fmt.Sprintf("status %d", re.StatusCode)
	if re.ErrorCode != "" {
		detail += ", code " + re.ErrorCode
	}
	if inner != "" && inner != re.ErrorCode {
		detail += "/" + inner
	}
	if rid != "" {
		detail += ", request id " + rid
	}
	target := ref.String()
	var sentinel error
	hint := ""
	switch s := re.StatusCode; {
	case s == http.StatusForbidden && (inner == "SecretDisabled" || re.ErrorCode == "SecretDisabled"):
		sentinel, hint = rotation.ErrNotFound, "the secret version is disabled"
	case s == http.StatusForbidden:
		sentinel, hint = rotation.ErrVaultForbidden, v.forbiddenHint(ref, inner)
	case s == http.StatusUnauthorized:
		sentinel, hint = rotation.ErrVaultForbidden, "the vault refused Keyturn's token; check that the vault belongs to Keyturn's tenant"
	case s == http.StatusNotFound:
		sentinel = rotation.ErrNotFound
	case s == http.StatusConflict:
		sentinel, hint = rotation.ErrSoftDeleted, "a deleted secret holds the name; recover it first"
	case s == http.StatusBadRequest:
		sentinel = rotation.ErrInvalid
	case s == http.StatusTooManyRequests:
		sentinel = rotation.ErrThrottled
	case s == http.StatusRequestTimeout, s >= 500:
		sentinel = rotation.ErrAmbiguous
	default:
		return fmt.Errorf("%s %s: unexpected answer from Key Vault (%s)", op, target, detail)
	}
	if hint != "" {
		return fmt.Errorf("%s %s: %w (%s): %s", op, target, sentinel, detail, hint)
	}
	return fmt.Errorf("%s %s: %w (%s)", op, target, sentinel, detail)
}

// forbiddenHint names the missing grant and the command that gives it.
// Key Vault answers 403 "Forbidden" both for vaults using Azure RBAC and for
// vaults using access policies; innererror.code, when present, tells them
// and the network rules apart.
func (v *Vault) forbiddenHint(ref rotation.SecretRef, inner string) string {
	name := vaultName(ref.VaultURI)
	principal := v.opts.PrincipalID
	if principal == "" {
		principal = "<keyturn-principal-id>"
	}
	switch inner {
	case "ForbiddenByFirewall", "ForbiddenByConnection":
		return fmt.Sprintf("vault %s's network rules refuse Keyturn's address; allow it under the vault's Networking settings", name)
	}
	rbac := fmt.Sprintf("Keyturn's identity needs the %q role on vault %s: "+
		"az role assignment create --role %q --assignee %s --scope <vault resource id> "+
		"(the ID is printed by: az keyvault show --name %s --query id -o tsv)",
		Role, name, Role, principal, name)
	if inner == "ForbiddenByRbac" {
		return rbac
	}
	return rbac + fmt.Sprintf("; if the vault uses access policies instead of Azure RBAC: "+
		"az keyvault set-policy --name %s --object-id %s --secret-permissions get list set recover", name, principal)
}

// innerCode returns error.innererror.code from a Key Vault error body, if
// any. Only that code is read; the body is never kept or printed.
func innerCode(re *azcore.ResponseError) string {
	if re.RawResponse == nil {
		return ""
	}
	body, err := runtime.Payload(re.RawResponse)
	if err != nil || len(body) == 0 {
		return ""
	}
	var doc struct {
		Error struct {
			InnerError struct {
				Code string `json:"code"`
			} `json:"innererror"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return ""
	}
	return doc.Error.InnerError.Code
}

// credentialError marks a failure of the token credential, so translate can
// tell "no token" from "the vault answered".
type credentialError struct{ err error }

func (e *credentialError) Error() string { return "get token: " + e.err.Error() }
func (e *credentialError) Unwrap() error { return e.err }

// markedCredential wraps the caller's credential so its errors are marked.
type markedCredential struct{ cred azcore.TokenCredential }

// GetToken implements azcore.TokenCredential.
func (m markedCredential) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tk, err := m.cred.GetToken(ctx, o)
	if err != nil {
		return tk, &credentialError{err: err}
	}
	return tk, nil
}
