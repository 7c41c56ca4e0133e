package botauth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

const (
	testAppID      = "6f0e3c2a-5b1d-4c8e-9a7f-1d2e3f4a5b6c"
	testServiceURL = "https://smba.trafficmanager.net/emea/"
	kidTeams       = "kid-teams"    // endorsed for msteams
	kidOther       = "kid-other"    // endorsed for webchat only
	kidRotated     = "kid-rotated"  // endorsed for msteams, published later
	kidStranger    = "kid-stranger" // never published
)

// testKeys are the RSA keys of the test channel, generated once per run.
type testKeys struct {
	teams, other, rotated, stranger *rsa.PrivateKey
}

var fixtureKeys = sync.OnceValue(func() testKeys {
	gen := func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	}
	return testKeys{teams: gen(), other: gen(), rotated: gen(), stranger: gen()}
})

// publishedKey is one JWKS entry the test server serves.
type publishedKey struct {
	kid          string
	pub          *rsa.PublicKey
	endorsements []string
	raw          map[string]any // served as is when set
}

func (k publishedKey) jwk() map[string]any {
	if k.raw != nil {
		return k.raw
	}
	return map[string]any{
		"kty":          "RSA",
		"use":          "sig",
		"kid":          k.kid,
		"n":            base64.RawURLEncoding.EncodeToString(k.pub.N.Bytes()),
		"e":            base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.pub.E)).Bytes()),
		"endorsements": k.endorsements,
	}
}

func teamsKey() publishedKey {
	return publishedKey{kid: kidTeams, pub: &fixtureKeys().teams.PublicKey, endorsements: []string{"msteams"}}
}

func otherKey() publishedKey {
	return publishedKey{kid: kidOther, pub: &fixtureKeys().other.PublicKey, endorsements: []string{"webchat"}}
}

func rotatedKey() publishedKey {
	return publishedKey{kid: kidRotated, pub: &fixtureKeys().rotated.PublicKey, endorsements: []string{"msteams", "webchat"}}
}

// channelServer serves /metadata and /keys like login.botframework.com and
// counts the requests it answers.
type channelServer struct {
	mu       sync.Mutex
	keys     []publishedKey
	algs     []string
	metaBody []byte // served instead of the generated metadata when set
	fail     bool   // answer 503 to everything
	gate     chan struct{}
	metaHits int
	jwksHits int
}

func newChannelServer(keys ...publishedKey) *channelServer {
	return &channelServer{keys: keys, algs: []string{"RS256"}}
}

func (s *channelServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	fail, gate := s.fail, s.gate
	switch r.URL.Path {
	case "/metadata":
		s.metaHits++
	case "/keys":
		s.jwksHits++
	}
	s.mu.Unlock()
	if fail {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	switch r.URL.Path {
	case "/metadata":
		s.mu.Lock()
		body := s.metaBody
		if body == nil {
			body, _ = json.Marshal(map[string]any{
				"issuer":                                "https://api.botframework.com",
				"authorization_endpoint":                "https://invalid.botframework.com",
				"jwks_uri":                              "http://" + r.Host + "/keys",
				"id_token_signing_alg_values_supported": s.algs,
				"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
			})
		}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	case "/keys":
		if gate != nil {
			<-gate
		}
		s.mu.Lock()
		var keys []map[string]any
		for _, k := range s.keys {
			keys = append(keys, k.jwk())
		}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	default:
		http.NotFound(w, r)
	}
}

func (s *channelServer) publish(keys ...publishedKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = keys
}

func (s *channelServer) setFail(fail bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = fail
}

func (s *channelServer) hits() (meta, jwks int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.metaHits, s.jwksHits
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 11, 25, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is one channel server, key source and validator on a fake clock.
type env struct {
	srv   *channelServer
	url   string
	clock *fakeClock
	ks    *KeySource
	v     *Validator
}

// newEnv starts a server publishing the teams and other keys and builds a
// validator against it. mutate may adjust the server before start.
func newEnv(t testing.TB, mutate func(*channelServer)) *env {
	t.Helper()
	srv := newChannelServer(teamsKey(), otherKey())
	if mutate != nil {
		mutate(srv)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	e := &env{srv: srv, url: hs.URL, clock: newFakeClock()}
	e.ks, e.v = newSourceAndValidator(t, hs.URL+"/metadata", hs.Client(), e.clock.Now)
	return e
}

func newSourceAndValidator(t testing.TB, metadataURL string, client *http.Client, now func() time.Time) (*KeySource, *Validator) {
	t.Helper()
	ks, err := NewKeySource(KeySourceConfig{MetadataURL: metadataURL, HTTPClient: client, Now: now})
	if err != nil {
		t.Fatalf("NewKeySource: %v", err)
	}
	v, err := NewValidator(Config{AppID: testAppID, Keys: ks, Now: now})
	if err != nil {
		t.Fatalf("NewValidator: %v", err)
	}
	return ks, v
}

// warm fetches the keys once, as the first request after start-up would.
func (e *env) warm(t testing.TB) {
	t.Helper()
	if _, err := e.ks.SigningKey(context.Background(), kidTeams); err != nil {
		t.Fatalf("warm key source: %v", err)
	}
}

// claims returns valid claims at the env's time, modified by mods.
func claimsAt(now time.Time, mods ...func(jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{
		"iss":        DefaultIssuer,
		"aud":        testAppID,
		"exp":        now.Add(time.Hour).Unix(),
		"nbf":        now.Add(-time.Minute).Unix(),
		"iat":        now.Add(-time.Minute).Unix(),
		"serviceurl": testServiceURL,
		"appid":      "d6d49420-f39b-4df7-a1dc-d59a935871db",
	}
	for _, m := range mods {
		m(c)
	}
	return c
}

func set(k string, v any) func(jwt.MapClaims) { return func(c jwt.MapClaims) { c[k] = v } }

func del(k string) func(jwt.MapClaims) { return func(c jwt.MapClaims) { delete(c, k) } }

// mint signs claims with method and key; header entries are added (a nil
// value removes one).
func mint(t testing.TB, m jwt.SigningMethod, key any, header map[string]any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
			continue
		}
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign token: %v", err)
	}
	return s
}

// teamsToken is a valid RS256 token from the msteams-endorsed key.
func (e *env) teamsToken(t testing.TB, mods ...func(jwt.MapClaims)) string {
	return mint(t, jwt.SigningMethodRS256, fixtureKeys().teams, map[string]any{"kid": kidTeams}, claimsAt(e.clock.Now(), mods...))
}

// handlerTransport serves requests in memory with h (no network), so a
// testing/synctest bubble can see handlers block.
type handlerTransport struct{ h http.Handler }

func (ht handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	ht.h.ServeHTTP(rec, r)
	res := rec.Result()
	res.Request = r
	return res, nil
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
