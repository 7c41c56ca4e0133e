package botauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

// validate runs e.v.Validate for the standard activity.
func (e *env) validate(t testing.TB, token string) error {
	t.Helper()
	_, err := e.v.Validate(context.Background(), bearer(token), "msteams", testServiceURL)
	return err
}

func wantHits(t testing.TB, s *channelServer, meta, jwks int) {
	t.Helper()
	if m, j := s.hits(); m != meta || j != jwks {
		t.Fatalf("server hits: metadata %d, jwks %d; want %d, %d", m, j, meta, jwks)
	}
}

func TestKeysCached(t *testing.T) {
	e := newEnv(t, nil)
	for i := range 25 {
		if err := e.validate(t, e.teamsToken(t)); err != nil {
			t.Fatalf("validation %d: %v", i, err)
		}
		e.clock.Advance(time.Minute)
	}
	wantHits(t, e.srv, 1, 1)
}

func TestCacheExpiresAfter24h(t *testing.T) {
	e := newEnv(t, nil)
	if err := e.validate(t, e.teamsToken(t)); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(MaxKeyAge - time.Second)
	if err := e.validate(t, e.teamsToken(t)); err != nil {
		t.Fatal(err)
	}
	wantHits(t, e.srv, 1, 1)
	e.clock.Advance(time.Second)
	if err := e.validate(t, e.teamsToken(t)); err != nil {
		t.Fatal(err)
	}
	wantHits(t, e.srv, 2, 2)
}

func TestShorterMaxAge(t *testing.T) {
	srv := newChannelServer(teamsKey())
	hs := httptest.NewServer(srv)
	defer hs.Close()
	clock := newFakeClock()
	ks, err := NewKeySource(KeySourceConfig{MetadataURL: hs.URL + "/metadata", HTTPClient: hs.Client(), Now: clock.Now,
		MaxAge: time.Hour, MinRefreshInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, step := range []time.Duration{0, 59 * time.Minute, time.Minute} {
		clock.Advance(step)
		if _, err := ks.SigningKey(ctx, kidTeams); err != nil {
			t.Fatal(err)
		}
	}
	wantHits(t, srv, 2, 2)
}

// TestKeyRotation follows a rollover: a new key is published and used at
// once, then the old one is withdrawn and stops working at the next
// refresh (expiry).
func TestKeyRotation(t *testing.T) {
	e := newEnv(t, nil)
	k := fixtureKeys()
	if err := e.validate(t, e.teamsToken(t)); err != nil {
		t.Fatal(err)
	}
	e.srv.publish(teamsKey(), otherKey(), rotatedKey())
	rotated := func() string {
		return mint(t, jwt.SigningMethodRS256, k.rotated, map[string]any{"kid": kidRotated}, claimsAt(e.clock.Now()))
	}
	if err := e.validate(t, rotated()); err != nil {
		t.Fatalf("new key after refresh: %v", err)
	}
	wantHits(t, e.srv, 2, 2)

	e.srv.publish(rotatedKey())
	e.clock.Advance(time.Hour)
	if err := e.validate(t, e.teamsToken(t)); err != nil {
		t.Fatalf("old key still cached: %v", err)
	}
	e.clock.Advance(MaxKeyAge)
	if err := e.validate(t, rotated()); err != nil {
		t.Fatalf("new key after expiry: %v", err)
	}
	wantHits(t, e.srv, 3, 3)
	err := e.validate(t, e.teamsToken(t))
	if !errors.Is(err, ErrUnauthorized) || !errors.Is(err, ErrUnknownKeyID) {
		t.Fatalf("withdrawn key: err = %v, want unauthorized unknown kid", err)
	}
	wantHits(t, e.srv, 4, 4) // one refresh for the unknown kid, then none
	if err := e.validate(t, e.teamsToken(t)); !errors.Is(err, ErrUnknownKeyID) {
		t.Fatalf("withdrawn key again: %v", err)
	}
	wantHits(t, e.srv, 4, 4)
}

func TestEndpointDownAtRefresh(t *testing.T) {
	e := newEnv(t, nil)
	k := fixtureKeys()
	e.warm(t)
	e.srv.setFail(true)
	e.clock.Advance(10 * time.Minute)

	if err := e.validate(t, e.teamsToken(t)); err != nil {
		t.Fatalf("known kid while endpoint down: %v", err)
	}
	wantHits(t, e.srv, 1, 1)

	stranger := mint(t, jwt.SigningMethodRS256, k.stranger, map[string]any{"kid": kidStranger}, claimsAt(e.clock.Now()))
	err := e.validate(t, stranger)
	if HTTPStatus(err) != http.StatusUnauthorized || !errors.Is(err, ErrUnknownKeyID) {
		t.Fatalf("unknown kid while endpoint down: %v", err)
	}
	wantHits(t, e.srv, 2, 1) // the refresh was attempted and failed at the metadata

	if err := e.validate(t, e.teamsToken(t)); err != nil {
		t.Fatalf("known kid after failed refresh: %v", err)
	}
	wantHits(t, e.srv, 2, 1)
}

// TestStaleKeysNotServed: keys older than MaxAge are not used even when
// the endpoint is down (protocol: cache at most 24 h), and the failing
// endpoint is retried at most once per MinRefreshInterval.
func TestStaleKeysNotServed(t *testing.T) {
	e := newEnv(t, nil)
	e.warm(t)
	e.srv.setFail(true)
	e.clock.Advance(MaxKeyAge)

	for i := range 3 {
		err := e.validate(t, e.teamsToken(t))
		if HTTPStatus(err) != http.StatusUnauthorized || !errors.Is(err, ErrKeysUnavailable) {
			t.Fatalf("attempt %d: err = %v, want keys unavailable", i, err)
		}
	}
	wantHits(t, e.srv, 2, 1)

	e.srv.setFail(false)
	e.clock.Advance(DefaultMinRefreshInterval)
	if err := e.validate(t, e.teamsToken(t)); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	wantHits(t, e.srv, 3, 2)
}

func TestFirstFetchFailsThenRecovers(t *testing.T) {
	e := newEnv(t, func(s *channelServer) { s.fail = true })
	if err := e.validate(t, e.teamsToken(t)); !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("err = %v, want keys unavailable", err)
	}
	e.srv.setFail(false)
	if err := e.validate(t, e.teamsToken(t)); !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("within rate limit: err = %v, want keys unavailable", err)
	}
	wantHits(t, e.srv, 1, 0)
	e.clock.Advance(DefaultMinRefreshInterval)
	if err := e.validate(t, e.teamsToken(t)); err != nil {
		t.Fatal(err)
	}
	wantHits(t, e.srv, 2, 1)
}

// TestConcurrentRefreshSingleFlight: 50 goroutines validate a token from
// a key published after start-up while the refresh is held open; exactly
// one fetch serves them all.
func TestConcurrentRefreshSingleFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newChannelServer(teamsKey(), otherKey())
		client := &http.Client{Transport: handlerTransport{srv}}
		ks, v := newSourceAndValidator(t, "http://127.0.0.1/metadata", client, time.Now)
		if _, err := ks.SigningKey(t.Context(), kidTeams); err != nil {
			t.Fatal(err)
		}
		srv.publish(teamsKey(), otherKey(), rotatedKey())
		gate := make(chan struct{})
		srv.mu.Lock()
		srv.gate = gate
		srv.mu.Unlock()

		k := fixtureKeys()
		const n = 50
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			kid, key := kidRotated, k.rotated
			if i%5 == 0 {
				kid, key = kidTeams, k.teams // known keys keep working meanwhile
			}
			tok := mint(t, jwt.SigningMethodRS256, key, map[string]any{"kid": kid}, claimsAt(time.Now()))
			wg.Go(func() {
				_, errs[i] = v.Validate(context.Background(), bearer(tok), "msteams", testServiceURL)
			})
		}
		synctest.Wait() // everyone is blocked: one fetch inside /keys, the rest waiting on it
		wantHits(t, srv, 2, 2)
		close(gate)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("goroutine %d: %v", i, err)
			}
		}
		wantHits(t, srv, 2, 2)
	})
}

// TestWaiterContextCancelled: a caller waiting on another's refresh gives
// up when its context ends; the refresh itself completes for the others.
func TestWaiterContextCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newChannelServer(teamsKey())
		srv.gate = make(chan struct{})
		ks, err := NewKeySource(KeySourceConfig{MetadataURL: "http://localhost/metadata",
			HTTPClient: &http.Client{Transport: handlerTransport{srv}}})
		if err != nil {
			t.Fatal(err)
		}
		var leaderErr error
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, leaderErr = ks.SigningKey(context.Background(), kidTeams)
		}()
		synctest.Wait()
		ctx, cancel := context.WithCancel(context.Background())
		var waiterErr error
		waited := make(chan struct{})
		go func() {
			defer close(waited)
			_, waiterErr = ks.SigningKey(ctx, kidTeams)
		}()
		synctest.Wait()
		cancel()
		<-waited
		if !errors.Is(waiterErr, context.Canceled) {
			t.Errorf("waiter err = %v, want context.Canceled", waiterErr)
		}
		close(srv.gate)
		<-done
		if leaderErr != nil {
			t.Errorf("leader: %v", leaderErr)
		}
		wantHits(t, srv, 1, 1)
	})
}

func TestFetchTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hang := make(chan struct{})
		defer close(hang)
		client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			select {
			case <-r.Context().Done():
				return nil, r.Context().Err()
			case <-hang:
				return nil, errors.New("unreachable")
			}
		})}
		ks, err := NewKeySource(KeySourceConfig{MetadataURL: "http://127.0.0.1/metadata", HTTPClient: client, FetchTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = ks.SigningKey(context.Background(), kidTeams)
		if !errors.Is(err, ErrKeysUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want keys unavailable after deadline", err)
		}
		if d := time.Since(start); d != time.Second {
			t.Errorf("gave up after %v, want 1s", d)
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
