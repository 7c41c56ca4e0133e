package botauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

func TestKeySourceConfig(t *testing.T) {
	client := http.DefaultClient
	cases := []struct {
		name string
		cfg  KeySourceConfig
		ok   bool
	}{
		{"defaults", KeySourceConfig{HTTPClient: client}, true},
		{"https sovereign url", KeySourceConfig{MetadataURL: "https://login.botframework.azure.us/v1/.well-known/openidconfiguration", HTTPClient: client}, true},
		{"http loopback", KeySourceConfig{MetadataURL: "http://127.0.0.1:8080/m", HTTPClient: client}, true},
		{"http localhost", KeySourceConfig{MetadataURL: "http://localhost:8080/m", HTTPClient: client}, true},
		{"http ipv6 loopback", KeySourceConfig{MetadataURL: "http://[::1]:8080/m", HTTPClient: client}, true},
		{"http remote", KeySourceConfig{MetadataURL: "http://login.botframework.com/v1/.well-known/openidconfiguration", HTTPClient: client}, false},
		{"relative url", KeySourceConfig{MetadataURL: "/v1/.well-known/openidconfiguration", HTTPClient: client}, false},
		{"ftp", KeySourceConfig{MetadataURL: "ftp://127.0.0.1/m", HTTPClient: client}, false},
		{"no client", KeySourceConfig{}, false},
		{"max age over 24h", KeySourceConfig{HTTPClient: client, MaxAge: 25 * time.Hour}, false},
		{"max age 24h", KeySourceConfig{HTTPClient: client, MaxAge: 24 * time.Hour}, true},
		{"negative max age", KeySourceConfig{HTTPClient: client, MaxAge: -time.Hour}, false},
		{"refresh interval over max age", KeySourceConfig{HTTPClient: client, MaxAge: time.Hour, MinRefreshInterval: 2 * time.Hour}, false},
		{"negative refresh interval", KeySourceConfig{HTTPClient: client, MinRefreshInterval: -time.Second}, false},
		{"negative body limit", KeySourceConfig{HTTPClient: client, MaxDocumentBytes: -1}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks, err := NewKeySource(tc.cfg)
			if (err == nil) != tc.ok || (ks != nil) != tc.ok {
				t.Fatalf("NewKeySource: %v, ok %v", err, tc.ok)
			}
		})
	}
}

func TestNewValidatorConfig(t *testing.T) {
	ks, err := NewKeySource(KeySourceConfig{HTTPClient: http.DefaultClient})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewValidator(Config{Keys: ks}); err == nil {
		t.Error("no app id accepted")
	}
	if _, err := NewValidator(Config{AppID: testAppID}); err == nil {
		t.Error("no key resolver accepted")
	}
	_, err = NewValidator(Config{})
	if err == nil || !strings.Contains(err.Error(), "app id") || !strings.Contains(err.Error(), "key resolver") {
		t.Errorf("want both problems reported, got %v", err)
	}
	v, err := NewValidator(Config{AppID: testAppID, Keys: ks, Issuer: "https://api.botframework.us"})
	if err != nil || v.issuer != "https://api.botframework.us" {
		t.Errorf("sovereign issuer: %v", err)
	}
}

// TestSovereignIssuer: a configured issuer replaces the default one.
func TestSovereignIssuer(t *testing.T) {
	e := newEnv(t, nil)
	v, err := NewValidator(Config{AppID: testAppID, Keys: e.ks, Now: e.clock.Now, Issuer: "https://api.botframework.us"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := v.Validate(ctx, bearer(e.teamsToken(t)), "msteams", testServiceURL); HTTPStatus(err) != 401 {
		t.Errorf("public-cloud issuer accepted by a sovereign validator: %v", err)
	}
	if _, err := v.Validate(ctx, bearer(e.teamsToken(t, set("iss", "https://api.botframework.us"))), "msteams", testServiceURL); err != nil {
		t.Errorf("sovereign issuer: %v", err)
	}
}

// TestFetchedDocuments covers what a refresh accepts from the endpoint.
func TestFetchedDocuments(t *testing.T) {
	k := fixtureKeys()
	teams := teamsKey().jwk()
	with := func(m map[string]any, kv ...any) map[string]any {
		out := map[string]any{}
		for key, v := range m {
			out[key] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	small := publishedKey{kid: kidTeams, pub: &k.teams.PublicKey}.jwk()
	small["n"] = small["n"].(string)[:100] // 600-bit modulus
	meta := func(jwksURI string, algs ...string) []byte {
		b, _ := json.Marshal(map[string]any{"jwks_uri": jwksURI, "id_token_signing_alg_values_supported": algs})
		return b
	}
	cases := []struct {
		name     string
		metaBody func(base string) []byte
		keys     []publishedKey
		wantKey  bool
	}{
		{name: "ordinary", keys: []publishedKey{teamsKey()}, wantKey: true},
		{name: "jwks_uri not https", metaBody: func(string) []byte { return meta("http://login.botframework.com/v1/.well-known/keys", "RS256") }, keys: []publishedKey{teamsKey()}},
		{name: "no jwks_uri", metaBody: func(string) []byte { return meta("", "RS256") }, keys: []publishedKey{teamsKey()}},
		{name: "no supported algorithm", metaBody: func(b string) []byte { return meta(b+"/keys", "HS256", "none", "ES256") }, keys: []publishedKey{teamsKey()}},
		{name: "no algorithm list", metaBody: func(b string) []byte { return []byte(`{"jwks_uri":"` + b + `/keys"}`) }, keys: []publishedKey{teamsKey()}},
		{name: "metadata not json", metaBody: func(string) []byte { return []byte("<html>") }, keys: []publishedKey{teamsKey()}},
		{name: "metadata over size limit", metaBody: func(b string) []byte {
			return []byte(`{"jwks_uri":"` + b + `/keys","id_token_signing_alg_values_supported":["RS256"],"x":"` + strings.Repeat("x", DefaultMaxDocumentBytes) + `"}`)
		}, keys: []publishedKey{teamsKey()}},
		{name: "jwks over size limit", keys: []publishedKey{teamsKey(), {raw: map[string]any{"kty": "oct", "k": strings.Repeat("x", DefaultMaxDocumentBytes)}}}},
		{name: "other keys skipped", keys: []publishedKey{
			{raw: map[string]any{"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"}},
			{raw: with(teams, "kid", "enc-key", "use", "enc")},
			{raw: with(small, "kid", "small")},
			{raw: with(teams, "kid", "bad-e", "e", "AQ")},
			{raw: with(teams, "kid", "endorsements-not-strings", "endorsements", 3)},
			{raw: map[string]any{"kty": "RSA", "n": teams["n"], "e": "AQAB"}}, // no kid
			teamsKey(),
			{raw: with(teams, "endorsements", []string{"webchat"})}, // duplicate kid: first wins
		}, wantKey: true},
		{name: "only unusable keys", keys: []publishedKey{{raw: with(small, "kid", kidTeams)}}},
		{name: "key alg not listed", keys: []publishedKey{{raw: with(teams, "alg", "RS512")}}},
		{name: "key alg listed", keys: []publishedKey{{raw: with(teams, "alg", "RS256")}}, wantKey: true},
		{name: "padded base64 accepted", keys: []publishedKey{{raw: with(teams, "e", "AQAB==")}}, wantKey: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newChannelServer(tc.keys...)
			hs := httptest.NewServer(srv)
			defer hs.Close()
			if tc.metaBody != nil {
				srv.metaBody = tc.metaBody(hs.URL)
			}
			ks, err := NewKeySource(KeySourceConfig{MetadataURL: hs.URL + "/metadata", HTTPClient: hs.Client()})
			if err != nil {
				t.Fatal(err)
			}
			key, err := ks.SigningKey(context.Background(), kidTeams)
			if (err == nil) != tc.wantKey {
				t.Fatalf("SigningKey: %v, want key %v", err, tc.wantKey)
			}
			if err != nil {
				if !errors.Is(err, ErrKeysUnavailable) {
					t.Errorf("err = %v, want ErrKeysUnavailable", err)
				}
				return
			}
			if key.KeyID != kidTeams || key.PublicKey.N.Cmp(k.teams.N) != 0 || key.PublicKey.E != k.teams.E ||
				len(key.Endorsements) != 1 || key.Endorsements[0] != "msteams" || len(key.Algorithms) != 1 || key.Algorithms[0] != "RS256" {
				t.Errorf("key = %+v", key)
			}
			for _, skipped := range []string{"ec", "enc-key", "small", "bad-e", "endorsements-not-strings"} {
				if _, err := ks.SigningKey(context.Background(), skipped); !errors.Is(err, ErrUnknownKeyID) {
					t.Errorf("key %q: err = %v, want unknown", skipped, err)
				}
			}
		})
	}
}

// TestReturnedKeyIsACopy: changing a returned key changes nothing cached.
func TestReturnedKeyIsACopy(t *testing.T) {
	e := newEnv(t, nil)
	key, err := e.ks.SigningKey(context.Background(), kidTeams)
	if err != nil {
		t.Fatal(err)
	}
	key.Endorsements[0] = "webchat"
	key.Algorithms[0] = "RS512"
	again, err := e.ks.SigningKey(context.Background(), kidTeams)
	if err != nil {
		t.Fatal(err)
	}
	if again.Endorsements[0] != "msteams" || again.Algorithms[0] != "RS256" {
		t.Errorf("cache changed through a returned key: %+v", again)
	}
}

// closeTracker counts response bodies opened and closed.
type closeTracker struct {
	rt             http.RoundTripper
	opened, closed atomic.Int64
}

type trackedBody struct {
	io.ReadCloser
	once sync.Once
	c    *closeTracker
}

func (b *trackedBody) Close() error {
	b.once.Do(func() { b.c.closed.Add(1) })
	return b.ReadCloser.Close()
}

func (c *closeTracker) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := c.rt.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	c.opened.Add(1)
	res.Body = &trackedBody{ReadCloser: res.Body, c: c}
	return res, nil
}

func TestResponseBodiesClosed(t *testing.T) {
	srv := newChannelServer(teamsKey())
	hs := httptest.NewServer(srv)
	defer hs.Close()
	tracker := &closeTracker{rt: hs.Client().Transport}
	clock := newFakeClock()
	ks, err := NewKeySource(KeySourceConfig{MetadataURL: hs.URL + "/metadata", HTTPClient: &http.Client{Transport: tracker},
		Now: clock.Now, MaxDocumentBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	steps := []func(){
		func() {},                    // success
		func() { srv.setFail(true) }, // status 503
		func() { srv.setFail(false); srv.publish(teamsKey(), teamsKey(), teamsKey(), teamsKey()) }, // jwks over 4 KiB
		func() { srv.mu.Lock(); srv.metaBody = []byte("not json"); srv.mu.Unlock() },
	}
	for i, step := range steps {
		step()
		clock.Advance(MaxKeyAge)
		ks.SigningKey(ctx, fmt.Sprintf("kid-%d", i))
	}
	if o, c := tracker.opened.Load(), tracker.closed.Load(); o < 6 || o != c {
		t.Fatalf("bodies opened %d, closed %d", o, c)
	}
}

func TestRedirectToPlainHTTPRefused(t *testing.T) {
	// The loopback server redirects to a non-loopback http URL; the client
	// never follows it for real: the check runs on the final response URL.
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host == "127.0.0.1" {
			return &http.Response{StatusCode: http.StatusFound, Header: http.Header{"Location": {"http://example.com/metadata"}},
				Body: http.NoBody, Request: r}, nil
		}
		return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader(`{}`)), Request: r}, nil
	})}
	ks, err := NewKeySource(KeySourceConfig{MetadataURL: "http://127.0.0.1/metadata", HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ks.SigningKey(context.Background(), kidTeams)
	if !errors.Is(err, ErrKeysUnavailable) || !strings.Contains(err.Error(), "redirected") {
		t.Fatalf("err = %v, want refused redirect", err)
	}
}

// TestLogsCarryNoToken: the key source logs its refreshes, never a token.
func TestLogsCarryNoToken(t *testing.T) {
	srv := newChannelServer(teamsKey())
	hs := httptest.NewServer(srv)
	defer hs.Close()
	var buf bytes.Buffer
	clock := newFakeClock()
	ks, err := NewKeySource(KeySourceConfig{MetadataURL: hs.URL + "/metadata", HTTPClient: hs.Client(), Now: clock.Now,
		Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewValidator(Config{AppID: testAppID, Keys: ks, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{srv: srv, clock: clock, ks: ks, v: v}
	good := e.teamsToken(t)
	if err := e.validate(t, good); err != nil {
		t.Fatal(err)
	}
	srv.setFail(true)
	forged := mint(t, jwt.SigningMethodRS256, fixtureKeys().stranger, map[string]any{"kid": kidStranger}, claimsAt(clock.Now()))
	err = e.validate(t, forged)
	if err == nil {
		t.Fatal("forged token accepted")
	}
	logs := buf.String()
	for _, want := range []string{"bot signing keys refreshed", "bot signing key refresh failed", `"key_count":1`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	for _, tok := range []string{good, forged} {
		sig := tok[strings.LastIndex(tok, ".")+1:]
		if strings.Contains(logs, sig) || strings.Contains(err.Error(), sig) {
			t.Errorf("a token signature reached the logs or the error")
		}
	}
}
