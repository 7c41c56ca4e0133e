package botauthtest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/bot/botauth"
	"github.com/keyturn/keyturn/bot/botauthtest"
)

// newValidator returns a validator reading iss's documents, for a bot whose
// App ID is DefaultAppID.
func newValidator(t *testing.T, iss *botauthtest.Issuer) *botauth.Validator {
	t.Helper()
	ks, err := botauth.NewKeySource(iss.KeySourceConfig())
	if err != nil {
		t.Fatalf("NewKeySource: %v", err)
	}
	v, err := botauth.NewValidator(botauth.Config{AppID: botauthtest.DefaultAppID, Keys: ks})
	if err != nil {
		t.Fatalf("NewValidator: %v", err)
	}
	return v
}

func TestValidatorAcceptsDefaultToken(t *testing.T) {
	iss := botauthtest.New(t)
	v := newValidator(t, iss)
	ctx := context.Background()

	for _, svc := range []string{botauthtest.DefaultServiceURL, strings.TrimSuffix(botauthtest.DefaultServiceURL, "/")} {
		c, err := v.Validate(ctx, iss.Authorization(botauthtest.TokenOptions{}), "msteams", svc)
		if err != nil {
			t.Fatalf("Validate(serviceUrl %q): %v", svc, err)
		}
		if c.KeyID != botauthtest.MainKeyID || c.Audience != botauthtest.DefaultAppID ||
			c.Issuer != botauth.DefaultIssuer || c.ServiceURL != botauthtest.DefaultServiceURL {
			t.Errorf("claims = %+v", c)
		}
		if d := time.Until(c.ExpiresAt); d < 50*time.Minute || d > botauthtest.DefaultLifetime {
			t.Errorf("expires in %v, want about %v", d, botauthtest.DefaultLifetime)
		}
	}
	if got := iss.FetchCount(); got != 2 {
		t.Errorf("FetchCount = %d after two validations, want 2 (metadata and JWKS fetched once)", got)
	}
}

func TestValidatorRejectsForgedTokens(t *testing.T) {
	iss := botauthtest.New(t)
	v := newValidator(t, iss)
	now := time.Now()
	cases := []struct {
		name    string
		opts    botauthtest.TokenOptions
		channel string // default msteams
		svcURL  string // default DefaultServiceURL
		want    int
	}{
		{name: "other channel endorsed", opts: botauthtest.TokenOptions{}, channel: "emulator", want: 200},
		{name: "custom app id and service url", opts: botauthtest.TokenOptions{AppID: botauthtest.DefaultAppID, ServiceURL: "https://smba.example.test/emea/"}, svcURL: "https://smba.example.test/emea", want: 200},
		{name: "unendorsed key for webchat", opts: botauthtest.TokenOptions{UnendorsedKey: true}, channel: "webchat", want: 200},
		{name: "unendorsed key for msteams", opts: botauthtest.TokenOptions{UnendorsedKey: true}, want: 403},
		{name: "unknown key", opts: botauthtest.TokenOptions{UnknownKey: true}, want: 401},
		{name: "unknown key under a published kid", opts: botauthtest.TokenOptions{UnknownKey: true, Kid: botauthtest.MainKeyID}, want: 401},
		{name: "webchat key under the main kid", opts: botauthtest.TokenOptions{UnendorsedKey: true, Kid: botauthtest.MainKeyID}, want: 401},
		{name: "unknown kid", opts: botauthtest.TokenOptions{Kid: "no-such-kid"}, want: 401},
		{name: "no kid", opts: botauthtest.TokenOptions{Header: map[string]any{"kid": nil}}, want: 401},
		{name: "crit header", opts: botauthtest.TokenOptions{Header: map[string]any{"crit": []string{"exp"}}}, want: 401},
		{name: "alg none", opts: botauthtest.TokenOptions{Alg: "none"}, want: 401},
		{name: "alg HS256 keyed by public key", opts: botauthtest.TokenOptions{Alg: "HS256"}, want: 401},
		{name: "alg RS384 not in metadata", opts: botauthtest.TokenOptions{Alg: "RS384"}, want: 401},
		{name: "alg PS256", opts: botauthtest.TokenOptions{Alg: "PS256"}, want: 401},
		{name: "alg ES256 label over RS256 signature", opts: botauthtest.TokenOptions{Alg: "ES256"}, want: 401},
		{name: "wrong issuer", opts: botauthtest.TokenOptions{Issuer: "https://sts.windows.net/x/"}, want: 401},
		{name: "wrong audience", opts: botauthtest.TokenOptions{AppID: "11111111-1111-4111-8111-111111111111"}, want: 401},
		{name: "audience array of two", opts: botauthtest.TokenOptions{Claims: map[string]any{"aud": []string{botauthtest.DefaultAppID, "other"}}}, want: 401},
		{name: "expired beyond skew", opts: botauthtest.TokenOptions{Expires: now.Add(-botauth.ClockSkew - time.Minute)}, want: 401},
		{name: "expired within skew", opts: botauthtest.TokenOptions{Expires: now.Add(-time.Minute)}, want: 200},
		{name: "not yet valid", opts: botauthtest.TokenOptions{NotBefore: now.Add(botauth.ClockSkew + time.Minute)}, want: 401},
		{name: "no exp", opts: botauthtest.TokenOptions{Claims: map[string]any{"exp": nil}}, want: 401},
		{name: "no serviceurl", opts: botauthtest.TokenOptions{Claims: map[string]any{"serviceurl": nil}}, want: 401},
		{name: "serviceurl mismatch", opts: botauthtest.TokenOptions{ServiceURL: "https://attacker.example/"}, want: 401},
		{name: "exp of wrong type", opts: botauthtest.TokenOptions{Claims: map[string]any{"exp": "tomorrow"}}, want: 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			channel, svc := tc.channel, tc.svcURL
			if channel == "" {
				channel = "msteams"
			}
			if svc == "" {
				svc = botauthtest.DefaultServiceURL
			}
			header := iss.Authorization(tc.opts)
			_, err := v.Validate(context.Background(), header, channel, svc)
			if got := botauth.HTTPStatus(err); got != tc.want {
				t.Fatalf("status = %d (%v), want %d", got, err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), strings.TrimPrefix(header, "Bearer ")) {
				t.Errorf("error repeats the token")
			}
		})
	}
}

func TestTamperedSignatureRejected(t *testing.T) {
	iss := botauthtest.New(t)
	v := newValidator(t, iss)
	tok := iss.Token(botauthtest.TokenOptions{})
	parts := strings.Split(tok, ".")
	claims, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	forged := strings.Replace(string(claims), botauthtest.DefaultServiceURL, "https://evil.example/", 1)
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(forged))
	_, err = v.Validate(context.Background(), "Bearer "+strings.Join(parts, "."), "msteams", "https://evil.example/")
	if !errors.Is(err, botauth.ErrUnauthorized) {
		t.Fatalf("tampered token: err = %v, want ErrUnauthorized", err)
	}
}

func TestTokenDefaultsAndOverrides(t *testing.T) {
	iss, err := botauthtest.NewIssuer()
	if err != nil {
		t.Fatal(err)
	}
	defer iss.Close() // never started: Close is a no-op
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name       string
		opts       botauthtest.TokenOptions
		wantHeader map[string]any
		wantClaims map[string]any
	}{
		{
			name:       "defaults",
			opts:       botauthtest.TokenOptions{Now: now},
			wantHeader: map[string]any{"alg": "RS256", "kid": botauthtest.MainKeyID, "typ": "JWT"},
			wantClaims: map[string]any{
				"iss": botauth.DefaultIssuer, "aud": botauthtest.DefaultAppID, "serviceurl": botauthtest.DefaultServiceURL,
				"nbf": float64(now.Add(-time.Minute).Unix()), "exp": float64(now.Add(time.Hour).Unix()), "iat": float64(now.Add(-time.Minute).Unix()),
			},
		},
		{
			name: "overrides",
			opts: botauthtest.TokenOptions{
				Now: now, AppID: "app", ServiceURL: "https://svc/", Issuer: "https://iss",
				NotBefore: now, Expires: now.Add(time.Minute), UnendorsedKey: true,
				Claims: map[string]any{"iat": nil, "appid": "caller"},
				Header: map[string]any{"typ": nil, "x5t": "t"},
			},
			wantHeader: map[string]any{"alg": "RS256", "kid": botauthtest.WebchatKeyID, "x5t": "t"},
			wantClaims: map[string]any{
				"iss": "https://iss", "aud": "app", "serviceurl": "https://svc/", "appid": "caller",
				"nbf": float64(now.Unix()), "exp": float64(now.Add(time.Minute).Unix()),
			},
		},
		{
			name:       "unknown key wins",
			opts:       botauthtest.TokenOptions{Now: now, UnknownKey: true, UnendorsedKey: true, Alg: "none"},
			wantHeader: map[string]any{"alg": "none", "kid": botauthtest.UnknownKeyID, "typ": "JWT"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := iss.Token(tc.opts)
			parts := strings.Split(tok, ".")
			if len(parts) != 3 {
				t.Fatalf("token has %d parts", len(parts))
			}
			if gotEmpty, wantEmpty := parts[2] == "", tc.opts.Alg == "none"; gotEmpty != wantEmpty {
				t.Errorf("empty signature = %v, want %v", gotEmpty, wantEmpty)
			}
			assertSegment(t, "header", parts[0], tc.wantHeader)
			if tc.wantClaims != nil {
				assertSegment(t, "claims", parts[1], tc.wantClaims)
			}
		})
	}
}

func assertSegment(t *testing.T, what, seg string, want map[string]any) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if len(got) != len(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s[%q] = %v, want %v", what, k, g, w)
		}
	}
}

func TestDocuments(t *testing.T) {
	iss := botauthtest.New(t)
	client := iss.HTTPClient()
	var meta struct {
		Issuer  string   `json:"issuer"`
		JWKSURI string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	getJSON(t, client, iss.MetadataURL(), &meta)
	if meta.Issuer != botauth.DefaultIssuer || meta.JWKSURI != iss.URL()+botauthtest.KeysPath || len(meta.Algs) != 1 || meta.Algs[0] != "RS256" {
		t.Errorf("metadata = %+v", meta)
	}
	if !strings.HasPrefix(iss.URL(), "http://127.0.0.1:") {
		t.Errorf("server %q is not on loopback", iss.URL())
	}
	var jwks struct {
		Keys []struct {
			Kty, Use, Kid, N, E string
			Endorsements        []string
		} `json:"keys"`
	}
	getJSON(t, client, meta.JWKSURI, &jwks)
	want := map[string]string{
		botauthtest.MainKeyID:    "msteams,emulator,webchat",
		botauthtest.WebchatKeyID: "webchat",
	}
	if len(jwks.Keys) != len(want) {
		t.Fatalf("jwks has %d keys, want %d", len(jwks.Keys), len(want))
	}
	for _, k := range jwks.Keys {
		if got := strings.Join(k.Endorsements, ","); got != want[k.Kid] {
			t.Errorf("key %q endorsements = %q, want %q", k.Kid, got, want[k.Kid])
		}
		n, err := base64.RawURLEncoding.DecodeString(k.N)
		if err != nil || new(big.Int).SetBytes(n).BitLen() != botauthtest.KeyBits || k.Kty != "RSA" || k.Use != "sig" || k.E != "AQAB" {
			t.Errorf("key %q: kty %q use %q e %q, modulus decode err %v", k.Kid, k.Kty, k.Use, k.E, err)
		}
	}
	resp, err := client.Get(iss.URL() + "/other")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /other = %d, want 404", resp.StatusCode)
	}
	if got := iss.FetchCount(); got != 2 {
		t.Errorf("FetchCount = %d, want 2 (other paths not counted)", got)
	}
}

func getJSON(t *testing.T, c *http.Client, url string, v any) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s = %d %q", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

func TestUnavailableKeysRefuseEveryToken(t *testing.T) {
	iss := botauthtest.New(t)
	iss.SetUnavailable(true)
	v := newValidator(t, iss)
	_, err := v.Validate(context.Background(), iss.Authorization(botauthtest.TokenOptions{}), "msteams", botauthtest.DefaultServiceURL)
	if !errors.Is(err, botauth.ErrKeysUnavailable) || botauth.HTTPStatus(err) != http.StatusUnauthorized {
		t.Fatalf("err = %v, want ErrKeysUnavailable answered 401", err)
	}
	if got := iss.FetchCount(); got != 1 {
		t.Errorf("FetchCount = %d, want 1 (the metadata request answered 503)", got)
	}
	iss.SetUnavailable(false)
	if _, err := newValidator(t, iss).Validate(context.Background(), iss.Authorization(botauthtest.TokenOptions{}), "msteams", botauthtest.DefaultServiceURL); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

func TestUseBeforeStartPanics(t *testing.T) {
	iss, err := botauthtest.NewIssuer()
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func(){
		"MetadataURL":     func() { iss.MetadataURL() },
		"HTTPClient":      func() { iss.HTTPClient() },
		"KeySourceConfig": func() { iss.KeySourceConfig() },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("%s before Start did not panic", name)
				}
			}()
			f()
		})
	}
	if tok := iss.Token(botauthtest.TokenOptions{}); strings.Count(tok, ".") != 2 {
		t.Errorf("Token before Start = %q", tok)
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	iss := botauthtest.New(t)
	url := iss.MetadataURL()
	iss.Close()
	iss.Close()
	iss.Start() // stays closed
	if _, err := iss.HTTPClient().Get(url); err == nil {
		t.Fatal("server still answers after Close")
	}
}
