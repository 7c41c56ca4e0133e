package botauth

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestReady: readiness fetches the keys once, then answers from the cache;
// with the endpoint down and no fresh keys it is not ready, and it never
// hammers the endpoint.
func TestReady(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	if err := e.ks.Ready(ctx); err != nil {
		t.Fatalf("first Ready: %v", err)
	}
	wantHits(t, e.srv, 1, 1)
	for range 5 {
		if err := e.ks.Ready(ctx); err != nil {
			t.Fatal(err)
		}
	}
	wantHits(t, e.srv, 1, 1)
	if err := e.validate(t, e.teamsToken(t)); err != nil {
		t.Fatalf("validation after Ready: %v", err)
	}
	e.srv.setFail(true)
	e.clock.Advance(MaxKeyAge)
	if err := e.ks.Ready(ctx); !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("Ready with stale keys and the endpoint down: %v", err)
	}
	wantHits(t, e.srv, 2, 1)
	if err := e.ks.Ready(ctx); !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("second Ready: %v", err)
	}
	wantHits(t, e.srv, 2, 1) // rate-limited
	e.srv.setFail(false)
	e.clock.Advance(DefaultMinRefreshInterval + time.Second)
	if err := e.ks.Ready(ctx); err != nil {
		t.Fatalf("Ready after the endpoint recovered: %v", err)
	}
}
