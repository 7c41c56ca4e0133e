package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/keyturn/keyturn/rotation"
)

// notYetValidCodes are the AADSTS codes the token endpoint answers while a
// new credential propagates: 7000215 (invalid client secret), 700016
// (application not found in the directory) and 7000222 (client secret keys
// expired, seen when a replica has a stale view of the keys).
var notYetValidCodes = []int{7000215, 700016, 7000222}

// Verifier implements rotation.Verifier against the Entra ID token endpoint
// of one tenant. It is safe for concurrent use and holds no token cache.
type Verifier struct {
	tenantID string
	scope    string
	opts     Options
	log      *slog.Logger
}

var _ rotation.Verifier = (*Verifier)(nil)

// NewVerifier returns a Verifier that asks the authority in opts.Cloud for
// tokens for scope (e.g. Graph's "https://graph.microsoft.com/.default") in
// tenantID (opts.TenantID when empty).
func NewVerifier(tenantID, scope string, opts Options) (*Verifier, error) {
	if tenantID == "" {
		tenantID = opts.TenantID
	}
	switch {
	case tenantID == "":
		return nil, fmt.Errorf("secret verifier: no tenant: %w", rotation.ErrInvalid)
	case scope == "":
		return nil, fmt.Errorf("secret verifier: no scope: %w", rotation.ErrInvalid)
	}
	if _, err := opts.clientOptions(); err != nil {
		return nil, fmt.Errorf("secret verifier: %w", err)
	}
	return &Verifier{tenantID: tenantID, scope: scope, opts: opts, log: opts.logger()}, nil
}

// Verify implements rotation.Verifier. Each call builds a new credential, so
// no cached token can stand in for a real token request. It returns nil when
// a token was issued, rotation.ErrNotYetValid when the endpoint refused the
// secret with a code that new credentials show while they propagate, and
// otherwise an error that carries the status, the OAuth error, the AADSTS
// codes and the trace IDs, but never a response body or the secret.
func (v *Verifier) Verify(ctx context.Context, clientID string, secret rotation.Secret) error {
	if clientID == "" || secret.IsZero() {
		return fmt.Errorf("verify secret of app %q: client ID and secret are required: %w", clientID, rotation.ErrInvalid)
	}
	cred, err := newSecretCredential(v.tenantID, clientID, secret, v.opts)
	if err != nil {
		return fmt.Errorf("verify secret of app %s: %w", clientID, err)
	}
	_, err = cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{v.scope}})
	if err == nil {
		v.log.Debug("secret verified", "client_id", clientID)
		return nil
	}
	return v.translate(ctx, clientID, secret, err)
}

// translate turns a token request failure into an error for the saga. It is
// the only place this package interprets azidentity's errors: the JSON
// fields of the token endpoint's answer (error, error_codes, trace_id,
// correlation_id), never error text.
func (v *Verifier) translate(ctx context.Context, clientID string, secret rotation.Secret, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("verify secret of app %s: %w", clientID, ctxErr)
	}
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) || afe.RawResponse == nil {
		// No answer from the token endpoint (network, TLS, proxy). The
		// text is MSAL's description of a local failure; it is logged,
		// scrubbed, rather than returned.
		v.log.Warn("token request failed without an answer", "client_id", clientID, "detail", redact(err, secret).Error())
		return fmt.Errorf("verify secret of app %s: no answer from the token endpoint", clientID)
	}
	te := parseTokenError(afe.RawResponse)
	status := afe.RawResponse.StatusCode
	v.log.Debug("token endpoint refused the secret", "client_id", clientID, "status", status,
		"oauth_error", te.OAuthError, "error_codes", te.Codes, "trace_id", te.TraceID, "correlation_id", te.CorrelationID)
	if slices.ContainsFunc(te.Codes, func(c int) bool { return slices.Contains(notYetValidCodes, c) }) {
		return fmt.Errorf("verify secret of app %s: %w (status %d%s)", clientID, rotation.ErrNotYetValid, status, te.describe())
	}
	return fmt.Errorf("verify secret of app %s: token endpoint refused (status %d%s)", clientID, status, te.describe())
}

// tokenError holds the structured fields of an Entra ID error answer.
type tokenError struct {
	OAuthError    string `json:"error"`
	Codes         []int  `json:"error_codes"`
	TraceID       string `json:"trace_id"`
	CorrelationID string `json:"correlation_id"`
}

// parseTokenError reads the fields of tokenError from resp's body; the
// body itself (error_description included) is not kept.
func parseTokenError(resp *http.Response) tokenError {
	var te tokenError
	body, err := runtime.Payload(resp)
	if err != nil || json.Unmarshal(body, &te) != nil {
		return tokenError{}
	}
	return te
}

// describe renders the fields for an error message.
func (te tokenError) describe() string {
	var b strings.Builder
	if te.OAuthError != "" {
		b.WriteString(", error " + strconv.Quote(te.OAuthError))
	}
	if len(te.Codes) > 0 {
		codes := make([]string, len(te.Codes))
		for i, c := range te.Codes {
			codes[i] = "AADSTS" + strconv.Itoa(c)
		}
		b.WriteString(", codes " + strings.Join(codes, " "))
	}
	if te.TraceID != "" {
		b.WriteString(", trace id " + te.TraceID)
	}
	if te.CorrelationID != "" {
		b.WriteString(", correlation id " + te.CorrelationID)
	}
	return b.String()
}

// redact returns err, or when its text contains the secret value (which no
// known path does) an error with that value replaced.
func redact(err error, secret rotation.Secret) error {
	s := secret.Reveal()
	if s == "" || !strings.Contains(err.Error(), s) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), s, rotation.Redacted))
}
