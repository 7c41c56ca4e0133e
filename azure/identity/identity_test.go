package identity

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/keyturn/keyturn/rotation"
)

func getToken(t *testing.T, c azcore.TokenCredential) (azcore.AccessToken, error) {
	t.Helper()
	return c.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{scope}})
}

func TestClientSecretUsesCloudAndTransport(t *testing.T) {
	e := newEntra(t)
	var logs bytes.Buffer
	c, err := ClientSecret(tenant, clientID, rotation.NewSecret(canary), e.options(&logs))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		tk, err := getToken(t, c)
		if err != nil || tk.Token != "token-1" {
			t.Fatalf("GetToken = %q, %v; want token-1", tk.Token, err)
		}
	}
	reqs := e.tokenRequests()
	// Keyturn's own credential may cache: one request for two calls.
	if len(reqs) != 1 || reqs[0].Secret != canary || reqs[0].ClientID != clientID {
		t.Fatalf("token requests = %d (secret sent: %t); want 1 carrying the secret", len(reqs), len(reqs) == 1 && reqs[0].Secret == canary)
	}
}

func TestClientSecretRefusedDoesNotLeak(t *testing.T) {
	e := newEntra(t, invalidSecret(7000215))
	var logs bytes.Buffer
	c, err := ClientSecret(tenant, clientID, rotation.NewSecret(canary), e.options(&logs))
	if err != nil {
		t.Fatal(err)
	}
	_, err = getToken(t, c)
	if err == nil {
		t.Fatal("GetToken succeeded; want a refusal")
	}
	noCanary(t, err.Error(), fmt.Sprintf("%+v", err), logs.String())
	if _, err := ClientSecret(tenant, clientID, rotation.Secret{}, e.options(&logs)); !errors.Is(err, rotation.ErrInvalid) {
		t.Errorf("empty secret: err = %v; want ErrInvalid", err)
	}
}

func TestClientCertificate(t *testing.T) {
	e := newEntra(t)
	var logs bytes.Buffer
	pemBytes := selfSigned(t)
	c, err := ClientCertificate(tenant, clientID, pemBytes, e.options(&logs))
	if err != nil {
		t.Fatal(err)
	}
	if tk, err := getToken(t, c); err != nil || tk.Token != "token-1" {
		t.Fatalf("GetToken = %q, %v", tk.Token, err)
	}
	reqs := e.tokenRequests()
	if len(reqs) != 1 || reqs[0].AssertionType != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" || reqs[0].Secret != "" {
		t.Fatalf("token requests = %+v; want one signed assertion and no secret", reqs)
	}

	keyOnly := pemBytes[bytes.Index(pemBytes, []byte("-----BEGIN PRIVATE KEY")):]
	for name, bad := range map[string][]byte{"empty": nil, "garbage": []byte("not a pem"), "key only": keyOnly} {
		_, err := ClientCertificate(tenant, clientID, bad, e.options(&logs))
		if !errors.Is(err, rotation.ErrInvalid) {
			t.Errorf("%s: err = %v; want ErrInvalid", name, err)
		} else if strings.Contains(err.Error(), "PRIVATE KEY-----") {
			t.Errorf("%s: error repeats key material", name)
		}
	}
}

// selfSigned returns a PEM certificate and its PKCS#8 RSA key.
func selfSigned(t *testing.T) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "keyturn-test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	_ = pem.Encode(&b, &pem.Block{Type: "PRIVATE KEY", Bytes: pk})
	return b.Bytes()
}

// imds answers Azure's instance metadata token requests.
type imds struct {
	mu      sync.Mutex
	queries []string
}

func (m *imds) Do(req *http.Request) (*http.Response, error) {
	if req.URL.Host != "169.254.169.254" {
		return nil, fmt.Errorf("unexpected host %s", req.URL.Host)
	}
	m.mu.Lock()
	m.queries = append(m.queries, req.URL.RawQuery)
	m.mu.Unlock()
	body := fmt.Sprintf(`{"access_token":"mi-token","expires_in":"3599","expires_on":"%d","resource":"https://graph.microsoft.com","token_type":"Bearer"}`, time.Now().Add(time.Hour).Unix())
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Header: http.Header{"Content-Type": []string{"application/json"}}, Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
}

func TestManagedIdentity(t *testing.T) {
	// Make sure the IMDS source is chosen whatever the machine says.
	for _, k := range []string{"IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT", "IDENTITY_SERVER_THUMBPRINT"} {
		t.Setenv(k, "")
	}
	tests := []struct {
		name     string
		clientID string
		want     string // in the IMDS query
		wantNot  string
	}{
		{"user-assigned", "99999999-8888-7777-6666-555555555555", "client_id=99999999-8888-7777-6666-555555555555", ""},
		{"system-assigned", "", "resource=", "client_id="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &imds{}
			var logs bytes.Buffer
			opts := Options{Cloud: newEntra(t).options(&logs).Cloud, Transport: m}
			c, err := ManagedIdentity(tt.clientID, opts)
			if err != nil {
				t.Fatal(err)
			}
			tk, err := getToken(t, c)
			if err != nil || tk.Token != "mi-token" {
				t.Fatalf("GetToken = %q, %v", tk.Token, err)
			}
			m.mu.Lock()
			defer m.mu.Unlock()
			if len(m.queries) == 0 || !strings.Contains(m.queries[len(m.queries)-1], tt.want) ||
				tt.wantNot != "" && strings.Contains(m.queries[len(m.queries)-1], tt.wantNot) {
				t.Errorf("IMDS queries %v; want %q without %q", m.queries, tt.want, tt.wantNot)
			}
		})
	}
}

func TestConstructorsRequireAuthority(t *testing.T) {
	opts := Options{} // no Cloud: azidentity would fall back to AZURE_AUTHORITY_HOST
	pemBytes := selfSigned(t)
	for name, build := range map[string]func() (azcore.TokenCredential, error){
		"Default":         func() (azcore.TokenCredential, error) { return Default(opts) },
		"ManagedIdentity": func() (azcore.TokenCredential, error) { return ManagedIdentity("", opts) },
		"ClientSecret": func() (azcore.TokenCredential, error) {
			return ClientSecret(tenant, clientID, rotation.NewSecret(canary), opts)
		},
		"ClientCertificate": func() (azcore.TokenCredential, error) { return ClientCertificate(tenant, clientID, pemBytes, opts) },
	} {
		c, err := build()
		if !errors.Is(err, errNoAuthority) || c != nil {
			t.Errorf("%s: err = %v; want errNoAuthority", name, err)
		}
	}
	e := newEntra(t)
	var logs bytes.Buffer
	if c, err := Default(e.options(&logs)); err != nil || c == nil {
		t.Errorf("Default with a cloud: %v", err)
	}
}
