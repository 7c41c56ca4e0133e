package botauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

// none marks an empty channelId or serviceUrl in a matrix case (the zero
// value means the default).
const none = "\x00none"

type matrixCase struct {
	name   string
	server func(*channelServer)                    // adjusts the server before start
	setup  func(t *testing.T, e *env)              // runs after the cache is warm
	header func(t *testing.T, e *env) string       // the Authorization header
	chanID string                                  // default msteams
	svcURL string                                  // default testServiceURL
	want   int                                     // 200, 401 or 403
	fetch  int                                     // metadata fetches by Validate; -1: any
	check  func(t *testing.T, c Claims, err error) // extra assertions
}

func bearer(s string) string { return "Bearer " + s }

func TestValidateMatrix(t *testing.T) {
	k := fixtureKeys()
	pubDER, err := x509.MarshalPKIXPublicKey(&k.teams.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rs := func(key any, kid string, claims jwt.MapClaims, t *testing.T) string {
		return mint(t, jwt.SigningMethodRS256, key, map[string]any{"kid": kid}, claims)
	}
	valid := func(t *testing.T, e *env) string { return bearer(e.teamsToken(t)) }
	withClaims := func(mods ...func(jwt.MapClaims)) func(*testing.T, *env) string {
		return func(t *testing.T, e *env) string { return bearer(e.teamsToken(t, mods...)) }
	}
	at := func(e *env, d time.Duration) int64 { return e.clock.Now().Add(d).Unix() }
	unknownKid := func(t *testing.T, e *env) {
		t.Helper()
		tok := rs(k.stranger, "kid-forged-1", claimsAt(e.clock.Now()), t)
		if _, err := e.v.Validate(context.Background(), bearer(tok), "msteams", testServiceURL); HTTPStatus(err) != http.StatusUnauthorized {
			t.Fatalf("setup: forged kid: %v", err)
		}
	}

	cases := []matrixCase{
		// Scheme and header.
		{name: "valid token accepted", header: valid, want: 200, check: func(t *testing.T, c Claims, _ error) {
			if c.Audience != testAppID || c.Issuer != DefaultIssuer || c.ServiceURL != testServiceURL || c.KeyID != kidTeams ||
				c.AppID != "d6d49420-f39b-4df7-a1dc-d59a935871db" || c.ExpiresAt.IsZero() {
				t.Errorf("claims = %+v", c)
			}
		}},
		{name: "missing header", header: func(*testing.T, *env) string { return "" }, want: 401},
		{name: "Basic scheme", header: func(t *testing.T, e *env) string { return "Basic " + e.teamsToken(t) }, want: 401},
		{name: "bearer lowercase accepted", header: func(t *testing.T, e *env) string { return "bearer " + e.teamsToken(t) }, want: 200},
		{name: "BEARER uppercase accepted", header: func(t *testing.T, e *env) string { return "BEARER " + e.teamsToken(t) }, want: 200},
		{name: "two spaces after Bearer", header: func(t *testing.T, e *env) string { return "Bearer  " + e.teamsToken(t) }, want: 401},
		{name: "tab after Bearer", header: func(t *testing.T, e *env) string { return "Bearer\t" + e.teamsToken(t) }, want: 401},
		{name: "no space after Bearer", header: func(t *testing.T, e *env) string { return "Bearer" + e.teamsToken(t) }, want: 401},
		{name: "token without scheme", header: func(t *testing.T, e *env) string { return e.teamsToken(t) }, want: 401},
		{name: "empty token", header: func(*testing.T, *env) string { return "Bearer " }, want: 401},
		{name: "trailing space after token", header: func(t *testing.T, e *env) string { return bearer(e.teamsToken(t)) + " " }, want: 401},
		{name: "newline inside token", header: func(t *testing.T, e *env) string {
			tok := e.teamsToken(t)
			return bearer(tok[:20] + "\n" + tok[20:])
		}, want: 401},
		{name: "huge header over limit", header: func(t *testing.T, e *env) string {
			return bearer(e.teamsToken(t, set("pad", strings.Repeat("A", MaxTokenBytes))))
		}, want: 401},

		// Algorithm confusion.
		{name: "alg none unsigned", header: func(t *testing.T, e *env) string {
			return bearer(mint(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, map[string]any{"kid": kidTeams}, claimsAt(e.clock.Now())))
		}, want: 401},
		{name: "alg none with a signature segment", header: func(t *testing.T, e *env) string {
			tok := mint(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, map[string]any{"kid": kidTeams}, claimsAt(e.clock.Now()))
			return bearer(tok + "c2lnbmF0dXJl")
		}, want: 401},
		{name: "HS256 keyed with the public key PEM", header: func(t *testing.T, e *env) string {
			return bearer(mint(t, jwt.SigningMethodHS256, pubPEM, map[string]any{"kid": kidTeams}, claimsAt(e.clock.Now())))
		}, want: 401},
		{name: "HS256 keyed with the public key DER", header: func(t *testing.T, e *env) string {
			return bearer(mint(t, jwt.SigningMethodHS256, pubDER, map[string]any{"kid": kidTeams}, claimsAt(e.clock.Now())))
		}, want: 401},
		{name: "PS256 not in metadata list", header: func(t *testing.T, e *env) string {
			return bearer(mint(t, jwt.SigningMethodPS256, k.teams, map[string]any{"kid": kidTeams}, claimsAt(e.clock.Now())))
		}, want: 401},
		{name: "ES256 not in metadata list", header: func(t *testing.T, e *env) string {
			return bearer(mint(t, jwt.SigningMethodES256, ecKey, map[string]any{"kid": kidTeams}, claimsAt(e.clock.Now())))
		}, want: 401},
		{name: "RS384 when metadata lists only RS256", header: func(t *testing.T, e *env) string {
			return bearer(mint(t, jwt.SigningMethodRS384, k.teams, map[string]any{"kid": kidTeams}, claimsAt(e.clock.Now())))
		}, want: 401},
		{name: "RS384 accepted when metadata lists it", server: func(s *channelServer) { s.algs = []string{"RS256", "RS384"} },
			header: func(t *testing.T, e *env) string {
				return bearer(mint(t, jwt.SigningMethodRS384, k.teams, map[string]any{"kid": kidTeams}, claimsAt(e.clock.Now())))
			}, want: 200},

		// Keys.
		{name: "RS256 by a key not in the JWKS under a known kid", header: func(t *testing.T, e *env) string {
			return bearer(rs(k.stranger, kidTeams, claimsAt(e.clock.Now()), t))
		}, want: 401},
		{name: "unknown kid refreshes once", header: func(t *testing.T, e *env) string {
			return bearer(rs(k.stranger, kidStranger, claimsAt(e.clock.Now()), t))
		}, want: 401, fetch: 1, check: func(t *testing.T, _ Claims, err error) {
			if !errorsIs(err, ErrUnknownKeyID) {
				t.Errorf("err = %v, want ErrUnknownKeyID", err)
			}
		}},
		{name: "second unknown kid within rate-limit window fetches nothing", setup: unknownKid,
			header: func(t *testing.T, e *env) string {
				return bearer(rs(k.stranger, "kid-forged-2", claimsAt(e.clock.Now()), t))
			}, want: 401},
		{name: "unknown kid after the rate-limit window refreshes again",
			setup: func(t *testing.T, e *env) { unknownKid(t, e); e.clock.Advance(DefaultMinRefreshInterval) },
			header: func(t *testing.T, e *env) string {
				return bearer(rs(k.stranger, "kid-forged-2", claimsAt(e.clock.Now()), t))
			}, want: 401, fetch: 1},
		{name: "key added after start-up accepted after one refresh",
			setup: func(t *testing.T, e *env) { e.srv.publish(teamsKey(), otherKey(), rotatedKey()) },
			header: func(t *testing.T, e *env) string {
				return bearer(rs(k.rotated, kidRotated, claimsAt(e.clock.Now()), t))
			}, want: 200, fetch: 1},
		{name: "missing kid", header: func(t *testing.T, e *env) string {
			return bearer(mint(t, jwt.SigningMethodRS256, k.teams, nil, claimsAt(e.clock.Now())))
		}, want: 401},
		{name: "kid not a string", header: func(t *testing.T, e *env) string {
			return bearer(mint(t, jwt.SigningMethodRS256, k.teams, map[string]any{"kid": 7}, claimsAt(e.clock.Now())))
		}, want: 401},
		{name: "crit header refused", header: func(t *testing.T, e *env) string {
			return bearer(mint(t, jwt.SigningMethodRS256, k.teams, map[string]any{"kid": kidTeams, "crit": []string{"exp"}}, claimsAt(e.clock.Now())))
		}, want: 401},
		{name: "embedded jwk and jku headers ignored", header: func(t *testing.T, e *env) string {
			return bearer(mint(t, jwt.SigningMethodRS256, k.stranger, map[string]any{
				"kid": kidStranger,
				"jku": e.url + "/attacker-keys",
				"jwk": publishedKey{kid: kidStranger, pub: &k.stranger.PublicKey, endorsements: []string{"msteams"}}.jwk(),
			}, claimsAt(e.clock.Now())))
		}, want: 401, fetch: 1},

		// Issuer and audience.
		{name: "wrong issuer", header: withClaims(set("iss", "https://sts.windows.net/tenant/")), want: 401},
		{name: "huge issuer clipped in the error", header: withClaims(set("iss", strings.Repeat("i", 8000))), want: 401,
			check: func(t *testing.T, _ Claims, err error) {
				if len(err.Error()) > 400 {
					t.Errorf("error of %d bytes", len(err.Error()))
				}
			}},
		{name: "issuer with trailing slash", header: withClaims(set("iss", DefaultIssuer+"/")), want: 401},
		{name: "issuer in other case", header: withClaims(set("iss", "https://API.botframework.com")), want: 401},
		{name: "missing issuer", header: withClaims(del("iss")), want: 401},
		// Claim names are case-sensitive (RFC 7519 §4): found by FuzzClaims.
		{name: "aud only under another case", header: withClaims(del("aud"), set("Aud", testAppID)), want: 401},
		{name: "iss only under another case", header: withClaims(del("iss"), set("ISS", DefaultIssuer)), want: 401},
		{name: "wrong aud beside a right Aud", header: withClaims(set("aud", "other"), set("AUD", testAppID)), want: 401},
		{name: "serviceurl only as serviceUrl", header: withClaims(del("serviceurl"), set("serviceUrl", testServiceURL)), want: 401},
		{name: "wrong audience", header: withClaims(set("aud", "another-bot")), want: 401},
		{name: "audience array of exactly the app id accepted", header: withClaims(set("aud", []string{testAppID})), want: 200},
		{name: "audience array containing the app id among others", header: withClaims(set("aud", []string{"another-bot", testAppID})), want: 401},
		{name: "missing audience", header: withClaims(del("aud")), want: 401},
		{name: "audience not a string", header: withClaims(set("aud", 42)), want: 401},

		// Lifetime.
		{name: "expired beyond skew", header: func(t *testing.T, e *env) string {
			return bearer(e.teamsToken(t, set("exp", at(e, -ClockSkew-time.Second))))
		}, want: 401},
		{name: "expired exactly at the skew", header: func(t *testing.T, e *env) string {
			return bearer(e.teamsToken(t, set("exp", at(e, -ClockSkew))))
		}, want: 401},
		{name: "expired within skew accepted", header: func(t *testing.T, e *env) string {
			return bearer(e.teamsToken(t, set("exp", at(e, -4*time.Minute))))
		}, want: 200},
		{name: "nbf in future beyond skew", header: func(t *testing.T, e *env) string {
			return bearer(e.teamsToken(t, set("nbf", at(e, ClockSkew+time.Second))))
		}, want: 401},
		{name: "nbf in future within skew accepted", header: func(t *testing.T, e *env) string {
			return bearer(e.teamsToken(t, set("nbf", at(e, 4*time.Minute))))
		}, want: 200},
		{name: "missing exp", header: withClaims(del("exp")), want: 401},
		{name: "exp not a number", header: withClaims(set("exp", "tomorrow")), want: 401},

		// Service URL.
		{name: "missing serviceurl claim", header: withClaims(del("serviceurl")), want: 401},
		{name: "empty serviceurl claim", header: withClaims(set("serviceurl", "")), want: 401},
		{name: "serviceurl claim not a string", header: withClaims(set("serviceurl", 1)), want: 401},
		{name: "serviceurl mismatch", header: withClaims(set("serviceurl", "https://evil.example/emea/")), want: 401},
		{name: "serviceurl claim without slash, activity with", header: withClaims(set("serviceurl", strings.TrimSuffix(testServiceURL, "/"))), want: 200},
		{name: "serviceurl claim with slash, activity without", header: valid, svcURL: strings.TrimSuffix(testServiceURL, "/"), want: 200},
		{name: "serviceurl trims only one slash", header: valid, svcURL: testServiceURL + "/", want: 401},
		{name: "activity without serviceUrl", header: valid, svcURL: none, want: 401},

		// Endorsements.
		{name: "key not endorsed for msteams", header: func(t *testing.T, e *env) string {
			return bearer(rs(k.other, kidOther, claimsAt(e.clock.Now()), t))
		}, want: 403},
		{name: "key endorsed for the activity's other channel", header: func(t *testing.T, e *env) string {
			return bearer(rs(k.other, kidOther, claimsAt(e.clock.Now()), t))
		}, chanID: "webchat", want: 200},
		{name: "activity without channelId", header: valid, chanID: none, want: 403},
		{name: "channelId compared exactly", header: valid, chanID: "MSTeams", want: 403},
		{name: "unendorsed key with a bad audience answers 401 not 403", header: func(t *testing.T, e *env) string {
			return bearer(rs(k.other, kidOther, claimsAt(e.clock.Now(), set("aud", "another-bot")), t))
		}, want: 401},

		// Integrity.
		{name: "tampered payload", header: func(t *testing.T, e *env) string {
			parts := strings.Split(e.teamsToken(t, set("aud", "another-bot")), ".")
			good := strings.Split(e.teamsToken(t), ".")
			return bearer(good[0] + "." + good[1] + "." + parts[2])
		}, want: 401},
		{name: "payload swapped under a valid signature", header: func(t *testing.T, e *env) string {
			good := strings.Split(e.teamsToken(t), ".")
			payload := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"https://api.botframework.com","aud":"` + testAppID + `","exp":9999999999,"serviceurl":"` + testServiceURL + `"}`))
			return bearer(good[0] + "." + payload + "." + good[2])
		}, want: 401},
		{name: "truncated token", header: func(t *testing.T, e *env) string {
			tok := e.teamsToken(t)
			return bearer(tok[:len(tok)-10])
		}, want: 401},
		{name: "signature dropped", header: func(t *testing.T, e *env) string {
			tok := e.teamsToken(t)
			return bearer(tok[:strings.LastIndex(tok, ".")+1])
		}, want: 401},
		{name: "four segments", header: func(t *testing.T, e *env) string { return bearer(e.teamsToken(t) + ".e30") }, want: 401},
		{name: "padded segment", header: func(t *testing.T, e *env) string { return bearer(e.teamsToken(t) + "==") }, want: 401},
		{name: "non-canonical base64 in signature", header: func(t *testing.T, e *env) string {
			tok := e.teamsToken(t)
			// A 256-byte signature ends in a character carrying 4 unused
			// bits; setting one keeps the decoded bytes the same.
			last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", tok[len(tok)-1])
			return bearer(tok[:len(tok)-1] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last|1]))
		}, want: 401},
	}
	if len(cases) < 24 {
		t.Fatalf("matrix has %d cases, want at least 24", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.server)
			e.warm(t)
			if tc.setup != nil {
				tc.setup(t, e)
			}
			header := tc.header(t, e)
			chanID, svcURL := orDefault(tc.chanID, "msteams"), orDefault(tc.svcURL, testServiceURL)
			metaBefore, _ := e.srv.hits()

			c, err := e.v.Validate(context.Background(), header, chanID, svcURL)

			if got := HTTPStatus(err); got != tc.want {
				t.Fatalf("status = %d, want %d (err: %v)", got, tc.want, err)
			}
			if (err == nil) != (tc.want == 200) || (err != nil && c != (Claims{})) {
				t.Fatalf("err = %v with claims %+v", err, c)
			}
			if metaAfter, _ := e.srv.hits(); tc.fetch >= 0 && metaAfter-metaBefore != tc.fetch {
				t.Errorf("metadata fetches during Validate = %d, want %d", metaAfter-metaBefore, tc.fetch)
			}
			if err != nil {
				if tok, _ := strings.CutPrefix(header, "Bearer "); len(tok) > 16 && strings.Contains(err.Error(), tok) {
					t.Errorf("error text contains the token")
				}
			}
			if tc.check != nil {
				tc.check(t, c, err)
			}
		})
	}
}

func orDefault(v, def string) string {
	switch v {
	case "":
		return def
	case none:
		return ""
	}
	return v
}
