package connector

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestCachingTokenSourceExpiry(t *testing.T) {
	cases := []struct {
		name    string
		advance time.Duration
		fetches int
	}{
		{"fresh", 0, 1},
		{"one minute before the margin", 54 * time.Minute, 1},
		{"at the margin", 55 * time.Minute, 2},
		{"inside the margin", 57 * time.Minute, 2},
		{"expired", 2 * time.Hour, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock := &fakeClock{now: t0}
			fetches := 0
			s := NewCachingTokenSource(func(context.Context) (string, time.Time, error) {
				fetches++
				return "tok", clock.Now().Add(time.Hour), nil
			}, clock.Now)
			for _, step := range []time.Duration{0, c.advance} {
				clock.Advance(step)
				if tok, err := s.Token(t.Context()); err != nil || tok != "tok" {
					t.Fatalf("Token = %q, %v", tok, err)
				}
			}
			if fetches != c.fetches {
				t.Fatalf("fetches = %d, want %d", fetches, c.fetches)
			}
		})
	}
}

func TestCachingTokenSourceBadFetches(t *testing.T) {
	boom := errors.New("token endpoint down")
	cases := []struct {
		name string
		tok  string
		exp  time.Duration
		err  error
		is   error
	}{
		{"error", "ignored", time.Hour, boom, boom},
		{"empty token", "", time.Hour, nil, ErrEmptyToken},
		{"already expired", "tok", -time.Second, nil, ErrExpiredToken},
		{"expiring now", "tok", 0, nil, ErrExpiredToken},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			calls := 0
			s := NewCachingTokenSource(func(context.Context) (string, time.Time, error) {
				calls++
				return c.tok, t0.Add(c.exp), c.err
			}, func() time.Time { return t0 })
			for range 2 {
				tok, err := s.Token(t.Context())
				if !errors.Is(err, c.is) || tok != "" {
					t.Fatalf("Token = %q, %v; want error %v", tok, err, c.is)
				}
			}
			if calls != 2 {
				t.Fatalf("failure cached: %d fetches, want 2", calls)
			}
		})
	}
}

func TestCachingTokenSourceRecoversAfterError(t *testing.T) {
	calls := 0
	s := NewCachingTokenSource(func(context.Context) (string, time.Time, error) {
		calls++
		if calls == 1 {
			return "", time.Time{}, errors.New("transient")
		}
		return "tok-2", t0.Add(time.Hour), nil
	}, func() time.Time { return t0 })
	if _, err := s.Token(t.Context()); err == nil {
		t.Fatal("first call succeeded")
	}
	if tok, err := s.Token(t.Context()); err != nil || tok != "tok-2" {
		t.Fatalf("Token = %q, %v", tok, err)
	}
}

func TestCachingTokenSourceSingleFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var fetches atomic.Int32
		s := NewCachingTokenSource(func(ctx context.Context) (string, time.Time, error) {
			fetches.Add(1)
			<-release
			return "tok-1", time.Now().Add(time.Hour), nil
		}, time.Now)
		const n = 10
		results := make(chan string, n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				tok, err := s.Token(context.Background())
				if err != nil {
					t.Errorf("Token: %v", err)
				}
				results <- tok
			})
		}
		synctest.Wait() // all callers blocked: one in fetch, the rest waiting for it
		if got := fetches.Load(); got != 1 {
			t.Fatalf("%d concurrent fetches, want 1", got)
		}
		close(release)
		wg.Wait()
		close(results)
		for tok := range results {
			if tok != "tok-1" {
				t.Fatalf("token %q", tok)
			}
		}
		if got := fetches.Load(); got != 1 {
			t.Fatalf("%d fetches, want 1", got)
		}
	})
}

func TestCachingTokenSourceWaiterContexts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var fetches atomic.Int32
		s := NewCachingTokenSource(func(ctx context.Context) (string, time.Time, error) {
			n := fetches.Add(1)
			if n == 1 { // the first fetch ends with its caller's context
				<-ctx.Done()
				return "", time.Time{}, ctx.Err()
			}
			<-release
			return "tok-2", time.Now().Add(time.Hour), nil
		}, time.Now)

		leaderCtx, cancelLeader := context.WithCancel(context.Background())
		leaderErr := make(chan error, 1)
		go func() { _, err := s.Token(leaderCtx); leaderErr <- err }()
		synctest.Wait()

		// A waiter whose own context ends stops waiting.
		impatient, cancelImpatient := context.WithCancel(context.Background())
		impatientErr := make(chan error, 1)
		go func() { _, err := s.Token(impatient); impatientErr <- err }()
		// A patient waiter outlives the leader and fetches again itself.
		patient := make(chan string, 1)
		go func() {
			tok, err := s.Token(context.Background())
			if err != nil {
				t.Errorf("patient waiter: %v", err)
			}
			patient <- tok
		}()
		synctest.Wait()

		cancelImpatient()
		if err := <-impatientErr; !errors.Is(err, context.Canceled) {
			t.Fatalf("impatient waiter err = %v", err)
		}
		cancelLeader()
		if err := <-leaderErr; !errors.Is(err, context.Canceled) {
			t.Fatalf("leader err = %v", err)
		}
		synctest.Wait()
		close(release)
		if tok := <-patient; tok != "tok-2" {
			t.Fatalf("patient waiter got %q", tok)
		}
		if got := fetches.Load(); got != 2 {
			t.Fatalf("fetches = %d, want 2", got)
		}
	})
}

func TestCachingTokenSourcePanickingFetch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		s := NewCachingTokenSource(func(context.Context) (string, time.Time, error) {
			<-release
			panic("credential bug")
		}, time.Now)
		recovered := make(chan any, 1)
		go func() {
			defer func() { recovered <- recover() }()
			_, _ = s.Token(context.Background())
		}()
		synctest.Wait()
		waiterErr := make(chan error, 1)
		go func() { _, err := s.Token(context.Background()); waiterErr <- err }()
		synctest.Wait()
		close(release)
		if r := <-recovered; r == nil {
			t.Fatal("leader did not panic")
		}
		if err := <-waiterErr; err == nil {
			t.Fatal("waiter got no error after the fetch panicked")
		}
	})
}
