package botauth

import (
	"context"
	"testing"
	"time"
)

// A token seen before skips only its signature check: lifetime, serviceurl
// and endorsement are checked on every request, and a key replaced under
// the same kid is not trusted.
func TestVerifiedTokenIsStillChecked(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	tok := e.teamsToken(t, set("exp", e.clock.Now().Add(48*time.Hour).Unix()))
	for i := range 2 {
		if _, err := e.v.Validate(ctx, bearer(tok), "msteams", testServiceURL); err != nil {
			t.Fatalf("validation %d: %v", i+1, err)
		}
	}
	if _, err := e.v.Validate(ctx, bearer(tok), "msteams", "https://smba.example.test/other/"); !errorsIs(err, ErrUnauthorized) {
		t.Errorf("remembered token with another serviceUrl: %v, want ErrUnauthorized", err)
	}
	if _, err := e.v.Validate(ctx, bearer(tok), "webchat", testServiceURL); !errorsIs(err, ErrForbidden) {
		t.Errorf("remembered token for an unendorsed channel: %v, want ErrForbidden", err)
	}
	// A remembered token expires like any other.
	fresh := e.teamsToken(t)
	if _, err := e.v.Validate(ctx, bearer(fresh), "msteams", testServiceURL); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	e.clock.Advance(time.Hour + ClockSkew)
	if _, err := e.v.Validate(ctx, bearer(fresh), "msteams", testServiceURL); !errorsIs(err, ErrUnauthorized) {
		t.Errorf("remembered token after expiry: %v, want ErrUnauthorized", err)
	}
	// The channel replaces the key under the same kid; once the key set
	// is refreshed the remembered verification no longer counts.
	e.srv.publish(publishedKey{kid: kidTeams, pub: &fixtureKeys().other.PublicKey, endorsements: []string{"msteams"}})
	e.clock.Advance(25 * time.Hour)
	if _, err := e.v.Validate(ctx, bearer(tok), "msteams", testServiceURL); !errorsIs(err, ErrUnauthorized) {
		t.Errorf("remembered token after its key was replaced: %v, want ErrUnauthorized", err)
	}
}

func BenchmarkValidateSameToken(b *testing.B) {
	e := newEnv(b, nil)
	tok := bearer(e.teamsToken(b))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.v.Validate(ctx, tok, "msteams", testServiceURL); err != nil {
			b.Fatal(err)
		}
	}
}
