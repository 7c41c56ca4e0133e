package botauthtest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/keyturn/keyturn/bot/botauth"
)

// Key IDs of the Issuer's keys.
const (
	// MainKeyID names the key that signs tokens by default, endorsed for
	// "msteams", "emulator" and "webchat".
	MainKeyID = "keyturn-test-main"
	// WebchatKeyID names the published key endorsed for "webchat" only.
	WebchatKeyID = "keyturn-test-webchat"
	// UnknownKeyID names the key that is never published.
	UnknownKeyID = "keyturn-test-unpublished"
)

// Paths the Issuer's server answers; anything else is 404.
const (
	// MetadataPath is the OpenID metadata document, as on
	// login.botframework.com.
	MetadataPath = "/v1/.well-known/openidconfiguration"
	// KeysPath is the JWKS the metadata's jwks_uri names.
	KeysPath = "/v1/.well-known/keys"
)

// KeyBits is the size of the Issuer's RSA keys.
const KeyBits = 2048

// Issuer signs Bot Framework tokens and serves the documents a
// botauth.KeySource reads to verify them. Its methods are safe for
// concurrent use.
type Issuer struct {
	main, webchat, unknown *rsa.PrivateKey

	mu          sync.Mutex
	srv         *httptest.Server
	fetches     int
	unavailable bool
}

// NewIssuer generates the Issuer's keys. Its server is not started:
// Token works at once, the documents are served after Start.
func NewIssuer() (*Issuer, error) {
	var keys [3]*rsa.PrivateKey
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, KeyBits)
		if err != nil {
			return nil, fmt.Errorf("generate test signing key: %w", err)
		}
		keys[i] = k
	}
	return &Issuer{main: keys[0], webchat: keys[1], unknown: keys[2]}, nil
}

// Start starts the Issuer's server on a loopback address. Calling it again
// does nothing, even after Close: a closed Issuer stays closed.
func (i *Issuer) Start() {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.srv != nil {
		return
	}
	i.srv = httptest.NewServer(http.HandlerFunc(i.serve))
}

// Close stops the server and waits for requests in flight. It may be
// called more than once, and before Start.
func (i *Issuer) Close() {
	i.mu.Lock()
	srv := i.srv
	i.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// URL returns the server's base URL (http://127.0.0.1:port). It panics
// before Start, so a forgotten Start never leaves a key source pointed at
// the default, public metadata URL.
func (i *Issuer) URL() string {
	return i.server().URL
}

// MetadataURL returns the OpenID metadata document's URL, for
// botauth.KeySourceConfig.MetadataURL. It panics before Start.
func (i *Issuer) MetadataURL() string {
	return i.URL() + MetadataPath
}

// HTTPClient returns a client for the server. It panics before Start.
func (i *Issuer) HTTPClient() *http.Client {
	return i.server().Client()
}

// KeySourceConfig returns a key source configuration that reads this
// Issuer's documents; other fields keep their defaults. It panics before
// Start.
func (i *Issuer) KeySourceConfig() botauth.KeySourceConfig {
	return botauth.KeySourceConfig{MetadataURL: i.MetadataURL(), HTTPClient: i.HTTPClient()}
}

// FetchCount returns how many requests for the metadata document or the
// JWKS the server has received, including those answered 503.
func (i *Issuer) FetchCount() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.fetches
}

// SetUnavailable makes the server answer 503 to both documents (true) or
// serve them again (false), to test an outage of the channel's key
// endpoint.
func (i *Issuer) SetUnavailable(down bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.unavailable = down
}

func (i *Issuer) server() *httptest.Server {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.srv == nil {
		panic("botauthtest: Issuer used before Start")
	}
	return i.srv
}

// serve answers the metadata document and the JWKS.
func (i *Issuer) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != MetadataPath && r.URL.Path != KeysPath {
		http.NotFound(w, r)
		return
	}
	i.mu.Lock()
	i.fetches++
	down := i.unavailable
	i.mu.Unlock()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if down {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	var doc any
	if r.URL.Path == MetadataPath {
		doc = map[string]any{
			"issuer":                                botauth.DefaultIssuer,
			"authorization_endpoint":                "https://invalid.botframework.com",
			"jwks_uri":                              "http://" + r.Host + KeysPath,
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
		}
	} else {
		doc = map[string]any{"keys": []any{
			jwk(MainKeyID, &i.main.PublicKey, "msteams", "emulator", "webchat"),
			jwk(WebchatKeyID, &i.webchat.PublicKey, "webchat"),
		}}
	}
	body, err := json.Marshal(doc)
	if err != nil {
		http.Error(w, "encode", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "max-age=86400")
	w.Write(body)
}

// jwk renders one RSA public key as a JWK with Bot Framework endorsements.
func jwk(kid string, pub *rsa.PublicKey, endorsements ...string) map[string]any {
	return map[string]any{
		"kty":          "RSA",
		"use":          "sig",
		"kid":          kid,
		"x5t":          kid,
		"n":            base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e":            base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		"endorsements": endorsements,
	}
}
