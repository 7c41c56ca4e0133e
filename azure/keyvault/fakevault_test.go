package keyvault

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets/fake"
)

// fakeVault is a stateful Key Vault behind azsecrets/fake: versions,
// soft-deleted names, recovery that takes a few reads, and a switch that
// makes every call answer 403.
type fakeVault struct {
	host string

	mu          sync.Mutex
	live        map[string][]azsecrets.Secret // by lower-case name; values included
	deleted     map[string][]azsecrets.Secret
	recovering  map[string]int // reads still answering 404 after a recover
	recoverLag  int            // value recovering starts at
	forbidden   bool
	nextVersion int
	// recoveryLevel is every secret's recoveryLevel attribute ("" for none).
	recoveryLevel string
	// purgeLag is how many purges answer 409 (still deleting) first.
	purgeLag int
	// readBack, when set, replaces the value GetSecret answers with.
	readBack string
	// written holds every value SetSecret received.
	written []string
	calls   []string
}

func newFakeVault(name string) *fakeVault {
	return &fakeVault{
		host:       name + ".vault.azure.net",
		live:       map[string][]azsecrets.Secret{},
		deleted:    map[string][]azsecrets.Secret{},
		recovering: map[string]int{},
	}
}

func (f *fakeVault) uri() string { return "https://" + f.host + "/" }

// softDelete moves name's versions to the deleted set.
func (f *fakeVault) softDelete(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := strings.ToLower(name)
	f.deleted[k] = f.live[k]
	if f.deleted[k] == nil {
		f.deleted[k] = []azsecrets.Secret{}
	}
	delete(f.live, k)
}

func (f *fakeVault) record(call string) {
	f.calls = append(f.calls, call)
}

// lastSet returns the latest stored version of name as the vault holds it.
func (f *fakeVault) latest(name string) (azsecrets.Secret, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	vs := f.live[strings.ToLower(name)]
	if len(vs) == 0 {
		return azsecrets.Secret{}, false
	}
	return vs[len(vs)-1], true
}

func (f *fakeVault) server() *fake.Server {
	return &fake.Server{
		GetSecret: func(_ context.Context, name, version string, _ *azsecrets.GetSecretOptions) (resp azfake.Responder[azsecrets.GetSecretResponse], errResp azfake.ErrorResponder) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.record("GetSecret")
			if f.forbidden {
				errResp.SetResponseError(http.StatusForbidden, "Forbidden")
				return
			}
			k := strings.ToLower(name)
			if f.recovering[k] > 0 {
				f.recovering[k]--
				errResp.SetResponseError(http.StatusNotFound, "SecretNotFound")
				return
			}
			for i := len(f.live[k]) - 1; i >= 0; i-- {
				s := f.live[k][i]
				if version == "" || s.ID.Version() == version {
					if f.readBack != "" {
						s.Value = ptr(f.readBack)
					}
					resp.SetResponse(http.StatusOK, azsecrets.GetSecretResponse{Secret: s}, nil)
					return
				}
			}
			errResp.SetResponseError(http.StatusNotFound, "SecretNotFound")
			return
		},
		SetSecret: func(_ context.Context, name string, p azsecrets.SetSecretParameters, _ *azsecrets.SetSecretOptions) (resp azfake.Responder[azsecrets.SetSecretResponse], errResp azfake.ErrorResponder) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.record("SetSecret")
			k := strings.ToLower(name)
			switch {
			case f.forbidden:
				errResp.SetResponseError(http.StatusForbidden, "Forbidden")
				return
			case f.deleted[k] != nil:
				errResp.SetResponseError(http.StatusConflict, "Conflict")
				return
			}
			f.nextVersion++
			id := azsecrets.ID(fmt.Sprintf("https://%s/secrets/%s/%032x", f.host, name, f.nextVersion))
			attrs := azsecrets.SecretAttributes{Created: ptr(time.Unix(1700000000, 0).UTC())}
			if f.recoveryLevel != "" {
				attrs.RecoveryLevel = ptr(f.recoveryLevel)
			}
			if p.SecretAttributes != nil {
				attrs.Enabled = p.SecretAttributes.Enabled
				attrs.NotBefore = p.SecretAttributes.NotBefore
				attrs.Expires = p.SecretAttributes.Expires
			}
			if p.Value != nil {
				f.written = append(f.written, *p.Value)
			}
			s := azsecrets.Secret{ID: &id, Value: p.Value, ContentType: p.ContentType, Tags: p.Tags, Attributes: &attrs}
			f.live[k] = append(f.live[k], s)
			// Like Key Vault, the answer echoes the value.
			resp.SetResponse(http.StatusOK, azsecrets.SetSecretResponse{Secret: s}, nil)
			return
		},
		GetDeletedSecret: func(_ context.Context, name string, _ *azsecrets.GetDeletedSecretOptions) (resp azfake.Responder[azsecrets.GetDeletedSecretResponse], errResp azfake.ErrorResponder) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.record("GetDeletedSecret")
			if f.forbidden {
				errResp.SetResponseError(http.StatusForbidden, "Forbidden")
				return
			}
			if f.deleted[strings.ToLower(name)] == nil {
				errResp.SetResponseError(http.StatusNotFound, "SecretNotFound")
				return
			}
			id := azsecrets.ID("https://" + f.host + "/secrets/" + name)
			resp.SetResponse(http.StatusOK, azsecrets.GetDeletedSecretResponse{DeletedSecret: azsecrets.DeletedSecret{ID: &id}}, nil)
			return
		},
		NewListSecretPropertiesPager: f.listProperties,
		DeleteSecret:                 f.deleteSecret,
		PurgeDeletedSecret:           f.purgeDeletedSecret,
		RecoverDeletedSecret: func(_ context.Context, name string, _ *azsecrets.RecoverDeletedSecretOptions) (resp azfake.Responder[azsecrets.RecoverDeletedSecretResponse], errResp azfake.ErrorResponder) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.record("RecoverDeletedSecret")
			k := strings.ToLower(name)
			if f.forbidden {
				errResp.SetResponseError(http.StatusForbidden, "Forbidden")
				return
			}
			vs := f.deleted[k]
			if vs == nil {
				errResp.SetResponseError(http.StatusNotFound, "SecretNotFound")
				return
			}
			delete(f.deleted, k)
			f.live[k] = vs
			f.recovering[k] = f.recoverLag
			id := azsecrets.ID("https://" + f.host + "/secrets/" + name)
			resp.SetResponse(http.StatusOK, azsecrets.RecoverDeletedSecretResponse{Secret: azsecrets.Secret{ID: &id}}, nil)
			return
		},
	}
}

func ptr[T any](v T) *T { return &v }

// router sends each request to the fake vault its host names; other hosts
// fail as DNS does. intercept, when set, may answer first.
type router struct {
	vaults    map[string]*fake.ServerTransport
	intercept func(*http.Request) (*http.Response, error, bool)
	requests  atomic.Int32
}

func (r *router) Do(req *http.Request) (*http.Response, error) {
	r.requests.Add(1)
	if r.intercept != nil {
		if resp, err, ok := r.intercept(req); ok {
			return resp, err
		}
	}
	t, ok := r.vaults[req.URL.Host]
	if !ok {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: req.URL.Hostname(), IsNotFound: true}}
	}
	return t.Do(req)
}

// countingCred is a token credential that counts its calls.
type countingCred struct {
	calls atomic.Int32
	err   error
}

func (c *countingCred) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.calls.Add(1)
	if c.err != nil {
		return azcore.AccessToken{}, c.err
	}
	return azcore.AccessToken{Token: "fake-token", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// harness wires a Vault to fake vaults through the real azsecrets client.
type harness struct {
	vault  *Vault
	router *router
	cred   *countingCred
	logs   *bytes.Buffer
	sleeps []time.Duration
}

func newHarness(t *testing.T, vaults ...*fakeVault) *harness {
	t.Helper()
	h := &harness{router: &router{vaults: map[string]*fake.ServerTransport{}}, cred: &countingCred{}, logs: &bytes.Buffer{}}
	for _, fv := range vaults {
		h.router.vaults[fv.host] = fake.NewServerTransport(fv.server())
	}
	h.vault = New(h.cred, Options{
		Transport:   h.router,
		Logger:      slog.New(slog.NewTextHandler(&lockedWriter{w: h.logs}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		VaultSuffix: "vault.azure.net",
		Sleep: func(ctx context.Context, d time.Duration) error {
			h.sleeps = append(h.sleeps, d)
			return ctx.Err()
		},
		ClientOptions: func(o *azsecrets.ClientOptions) { o.Retry.MaxRetries = -1 },
	})
	return h
}

// lockedWriter serializes writes from concurrent tests.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// staticResponse builds the answer an interceptor returns: a Key Vault
// challenge for requests without a token, status and body otherwise.
func staticResponse(req *http.Request, status int, body string) *http.Response {
	h := http.Header{"Content-Type": []string{"application/json"}, "X-Ms-Request-Id": []string{"req-1234"}}
	if req.Header.Get("Authorization") == "" {
		h.Set("WWW-Authenticate", `Bearer authorization="https://login.microsoftonline.com/tenant" resource="https://vault.azure.net"`)
		return &http.Response{StatusCode: http.StatusUnauthorized, Status: "401 Unauthorized", Header: h, Body: http.NoBody, Request: req}
	}
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: req}
}
