package botauth

import (
	"context"
	"strings"
	"testing"

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
