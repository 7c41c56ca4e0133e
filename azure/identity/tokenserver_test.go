package identity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

const (
	tenant   = "00000000-1111-2222-3333-444444444444"
	clientID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	canary   = "CANARY-s3cr3t-~value"
	scope    = "https://graph.microsoft.com/.default"
)

// tokenRequest is what the fake endpoint saw in one token request.
type tokenRequest struct {
	ClientID, Secret, Scope, GrantType, AssertionType string
}

// entra is an httptest TLS server that acts as an Entra ID authority for
// one tenant: OpenID configuration and token endpoint. The token endpoint
// answers each request with the next of refusals, then with a token.
type entra struct {
	srv *httptest.Server

	mu       sync.Mutex
	refusals []refusal // answers for the first token requests, in order
	tokens   []tokenRequest
	metadata int
	unknown  []string
}

// refusal is one error answer of the token endpoint.
type refusal struct {
	status int
	body   string
}

// invalidSecret is Entra's answer for a client secret it does not know (yet).
func invalidSecret(code int) refusal {
	return refusal{http.StatusUnauthorized, fmt.Sprintf(`{"error":"invalid_client","error_description":"AADSTS%d: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'. Trace ID: 5f0c Correlation ID: 77aa Timestamp: 2026-01-01 00:00:00Z","error_codes":[%d],"timestamp":"2026-01-01 00:00:00Z","trace_id":"trace-5f0c","correlation_id":"corr-77aa","error_uri":"https://login.example/error?code=%d"}`, code, clientID, code, code)}
}

func newEntra(t *testing.T, refusals ...refusal) *entra {
	t.Helper()
	e := &entra{refusals: refusals}
	e.srv = httptest.NewTLSServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *entra) serve(w http.ResponseWriter, r *http.Request) {
	base := e.srv.URL
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/"+tenant+"/v2.0/.well-known/openid-configuration":
		e.mu.Lock()
		e.metadata++
		e.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"token_endpoint":         base + "/" + tenant + "/oauth2/v2.0/token",
			"authorization_endpoint": base + "/" + tenant + "/oauth2/v2.0/authorize",
			"issuer":                 base + "/" + tenant + "/v2.0",
		})
	case r.Method == http.MethodPost && r.URL.Path == "/"+tenant+"/oauth2/v2.0/token":
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		e.mu.Lock()
		e.tokens = append(e.tokens, tokenRequest{
			ClientID:      r.PostForm.Get("client_id"),
			Secret:        r.PostForm.Get("client_secret"),
			Scope:         r.PostForm.Get("scope"),
			GrantType:     r.PostForm.Get("grant_type"),
			AssertionType: r.PostForm.Get("client_assertion_type"),
		})
		var answer *refusal
		if len(e.refusals) > 0 {
			answer = &e.refusals[0]
			e.refusals = e.refusals[1:]
		}
		n := len(e.tokens)
		e.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if answer != nil {
			w.WriteHeader(answer.status)
			_, _ = io.WriteString(w, answer.body)
			return
		}
		_, _ = fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"token-%d"}`, n)
	default:
		e.mu.Lock()
		e.unknown = append(e.unknown, r.Method+" "+r.URL.Path)
		e.mu.Unlock()
		http.NotFound(w, r)
	}
}

func (e *entra) tokenRequests() []tokenRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]tokenRequest(nil), e.tokens...)
}

func (e *entra) unknownRequests() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.unknown...)
}

// options points credentials at e, trusting its certificate, and logs into
// logs.
func (e *entra) options(logs *bytes.Buffer) Options {
	return Options{
		Cloud:                    cloud.Configuration{ActiveDirectoryAuthorityHost: e.srv.URL + "/"},
		Transport:                e.srv.Client(),
		Logger:                   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		DisableInstanceDiscovery: true,
		Retry:                    policy.RetryOptions{MaxRetries: -1},
	}
}

// noCanary fails t when any of outputs contains the canary.
func noCanary(t *testing.T, outputs ...string) {
	t.Helper()
	for _, o := range outputs {
		if strings.Contains(o, canary) {
			t.Errorf("canary leaked in %q", o)
		}
	}
}
