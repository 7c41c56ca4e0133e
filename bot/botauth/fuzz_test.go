package botauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

// FuzzValidate feeds arbitrary headers and activity fields to a validator
// whose keys are warm. It must never panic, and it may accept only the
// tokens the test signed itself (modulo the scheme word's case), for the
// channel and service URL they were issued for.
func FuzzValidate(f *testing.F) {
	e := newEnv(f, nil)
	e.warm(f)
	k := fixtureKeys()
	now := e.clock.Now()
	valid := e.teamsToken(f)
	signed := map[string]bool{valid: true}
	unsigned := mint(f, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, map[string]any{"kid": kidTeams}, claimsAt(now))
	hs := mint(f, jwt.SigningMethodHS256, []byte("secret"), map[string]any{"kid": kidTeams}, claimsAt(now))
	noSvc := e.teamsToken(f, del("serviceurl"))
	other := mint(f, jwt.SigningMethodRS256, k.other, map[string]any{"kid": kidOther}, claimsAt(now))
	signed[noSvc], signed[other] = true, true

	for _, h := range []string{
		bearer(valid), "bearer " + valid, "Bearer  " + valid, bearer(unsigned), bearer(hs), bearer(noSvc),
		bearer(other), "Basic dXNlcjpwYXNz", "Bearer ", "", "Bearer a.b.c", "Bearer ..", "Bearer e30.e30.",
	} {
		f.Add(h, "msteams", testServiceURL)
	}
	f.Add(bearer(valid), "", "")
	f.Add(bearer(other), "webchat", testServiceURL)

	f.Fuzz(func(t *testing.T, header, channelID, serviceURL string) {
		c, err := e.v.Validate(context.Background(), header, channelID, serviceURL)
		if err != nil {
			if c != (Claims{}) {
				t.Fatalf("claims returned with error %v", err)
			}
			if s := HTTPStatus(err); s != 401 && s != 403 {
				t.Fatalf("status %d for an error", s)
			}
			// The bearer token is a credential: the error (a log line)
			// never carries it or its signature.
			tok := strings.TrimSpace(header[min(len(header), len("Bearer ")):])
			parts := strings.Split(tok, ".")
			for _, secret := range []string{tok, parts[len(parts)-1]} {
				if len(secret) >= 16 && strings.Contains(err.Error(), secret) {
					t.Fatalf("error %q carries the token", err)
				}
			}
			return
		}
		tok := header[len("Bearer "):]
		if !strings.EqualFold(header[:len("Bearer ")], "Bearer ") || !signed[tok] {
			t.Fatalf("accepted a header the test did not sign: %q", header)
		}
		if tok == noSvc {
			t.Fatal("accepted a token without serviceurl")
		}
		if strings.TrimSuffix(serviceURL, "/") != strings.TrimSuffix(testServiceURL, "/") {
			t.Fatalf("accepted for service URL %q", serviceURL)
		}
		if (tok == valid && channelID != "msteams") || (tok == other && channelID != "webchat") {
			t.Fatalf("accepted for channel %q", channelID)
		}
	})
}

// FuzzClaims feeds arbitrary JOSE headers and claim sets, seeded with the
// claims Bot Framework issues, through the token parser's claim decoding
// and Validate's claim checks (the signature is FuzzValidate's and the
// signed tests' concern: the fuzzer cannot sign). It must not panic, and
// it accepts exactly the claim sets the rules allow: iss exactly the
// issuer, aud the App ID or a one-element array of it, exp within the
// skew, nbf (if any) within the skew, and a serviceurl equal to the
// activity's up to a trailing slash.
func FuzzClaims(f *testing.F) {
	e := newEnv(f, nil)
	now := e.clock.Now()
	for _, c := range []jwt.MapClaims{
		claimsAt(now), claimsAt(now, set("aud", []string{testAppID})), claimsAt(now, set("aud", []string{testAppID, "x"})),
		claimsAt(now, del("nbf")), claimsAt(now, del("exp")), claimsAt(now, set("exp", now.Add(-ClockSkew).Unix())),
		claimsAt(now, set("nbf", now.Add(ClockSkew+time.Second).Unix())), claimsAt(now, set("serviceurl", "")),
		claimsAt(now, set("serviceurl", testServiceURL+"x")), claimsAt(now, set("iss", DefaultIssuer+"/")),
		claimsAt(now, set("exp", "soon")), claimsAt(now, set("aud", 5)), claimsAt(now, set("exp", 1e300)),
		claimsAt(now, set("serviceurl", 5)), claimsAt(now, del("appid"), set("azp", "x")),
	} {
		b, _ := json.Marshal(c)
		f.Add(`{"alg":"RS256","kid":"`+kidTeams+`","typ":"JWT"}`, string(b), testServiceURL)
	}
	f.Add(`{"alg":"RS256"}`, `{}`, "")
	f.Add(`[]`, `null`, testServiceURL)
	f.Fuzz(func(t *testing.T, header, claims, serviceURL string) {
		enc := base64.RawURLEncoding
		raw := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims)) + ".c2ln"
		var tc tokenClaims
		if _, _, err := e.v.parser.ParseUnverified(raw, &tc); err != nil {
			return // Validate refuses what the parser cannot read
		}
		c, err := e.v.checkClaims(&tc, serviceURL)
		if err != nil {
			if c != (Claims{}) {
				t.Fatalf("claims %+v returned with error %v", c, err)
			}
			return
		}
		var m map[string]any
		d := json.NewDecoder(strings.NewReader(claims))
		d.UseNumber()
		if d.Decode(&m) != nil {
			t.Fatalf("accepted claims that are not an object: %q", claims)
		}
		if m["iss"] != DefaultIssuer || c.Issuer != DefaultIssuer {
			t.Fatalf("accepted iss %v", m["iss"])
		}
		switch aud := m["aud"].(type) {
		case string:
			if aud != testAppID {
				t.Fatalf("accepted aud %q", aud)
			}
		case []any:
			if len(aud) != 1 || aud[0] != testAppID {
				t.Fatalf("accepted aud %v", aud)
			}
		default:
			t.Fatalf("accepted aud %v", m["aud"])
		}
		if tc.ExpiresAt == nil || !now.Before(tc.ExpiresAt.Add(ClockSkew)) || !c.ExpiresAt.Equal(tc.ExpiresAt.Time) {
			t.Fatalf("accepted exp %v at %v", m["exp"], now)
		}
		if tc.NotBefore != nil && now.Add(ClockSkew).Before(tc.NotBefore.Time) {
			t.Fatalf("accepted nbf %v at %v", m["nbf"], now)
		}
		svc, _ := m["serviceurl"].(string)
		if svc == "" || strings.TrimSuffix(svc, "/") != strings.TrimSuffix(serviceURL, "/") || c.ServiceURL != svc {
			t.Fatalf("accepted serviceurl %q for %q", svc, serviceURL)
		}
	})
}

// FuzzParseJWKS feeds arbitrary key sets, seeded with the test channel's
// and malformed entries, to the JWKS parser. It must not panic; a usable
// key set holds only RSA signature keys of 2048-8192 bits with an odd
// public exponent, a kid, and an alg (if any) the metadata allows; a set
// with no usable key is an error with no keys.
func FuzzParseJWKS(f *testing.F) {
	good, _ := json.Marshal(map[string]any{"keys": []any{teamsKey().jwk(), otherKey().jwk()}})
	f.Add(good, "RS256")
	small := teamsKey().jwk()
	small["n"] = base64.RawURLEncoding.EncodeToString([]byte{0xc5, 1, 2, 3})
	for _, k := range []map[string]any{small, {"kty": "EC", "kid": "x"}, {"kty": "RSA"}} {
		b, _ := json.Marshal(map[string]any{"keys": []any{k, teamsKey().jwk()}})
		f.Add(b, "RS256,RS384")
	}
	f.Add([]byte(`{"keys":[{"kty":"RSA","kid":"k","n":"===","e":"AQAB"}]}`), "")
	f.Add([]byte(`{"keys":null}`), "none")
	f.Fuzz(func(t *testing.T, body []byte, algList string) {
		algs := allowedAlgorithms(strings.Split(algList, ","))
		keys, _, err := parseJWKS(body, algs)
		if err != nil {
			if keys != nil {
				t.Fatalf("keys returned with error %v", err)
			}
			return
		}
		if len(keys) == 0 {
			t.Fatal("an empty key set accepted")
		}
		for kid, k := range keys {
			switch {
			case kid == "" || k.KeyID != kid:
				t.Fatalf("key under %q has kid %q", kid, k.KeyID)
			case k.PublicKey == nil || k.PublicKey.N.BitLen() < minRSABits || k.PublicKey.N.BitLen() > maxRSABits:
				t.Fatalf("key %q of unusable size", kid)
			case k.PublicKey.E < 3 || k.PublicKey.E%2 == 0:
				t.Fatalf("key %q with exponent %d", kid, k.PublicKey.E)
			case k.Algorithm != "" && !slices.Contains(algs, k.Algorithm):
				t.Fatalf("key %q with alg %q not in %v", kid, k.Algorithm, algs)
			case !slices.Equal(k.Algorithms, algs):
				t.Fatalf("key %q with algorithms %v", kid, k.Algorithms)
			}
		}
	})
}
