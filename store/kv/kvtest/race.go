package kvtest

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/keyturn/keyturn/store/kv"
)

// racers is how many goroutines race on one key.
const racers = 16

// race runs f in racers goroutines released together and returns their
// results by index.
func race[T any](f func(i int) T) []T {
	out := make([]T, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-start
			out[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return out
}

type result struct {
	etag string
	err  error
}

// oneWinner checks that exactly one result succeeded and every other failed
// with loser, and returns the winner's index.
func oneWinner(t *testing.T, op string, results []result, loser error) int {
	t.Helper()
	winner := -1
	for i, r := range results {
		switch {
		case r.err == nil && winner >= 0:
			t.Fatalf("%s: racers %d and %d both won", op, winner, i)
		case r.err == nil:
			winner = i
		case !errors.Is(r.err, loser):
			t.Fatalf("%s: racer %d: error %v, want %v", op, i, r.err, loser)
		}
	}
	if winner < 0 {
		t.Fatalf("%s: no racer won", op)
	}
	return winner
}

func testRaceUpdate(t *testing.T, s kv.Store) {
	etag := mustCreate(t, s, kv.TableLeases, "lease", []byte("free"))
	results := race(func(i int) result {
		e, err := s.Update(t.Context(), kv.TableLeases, "lease", []byte(fmt.Sprint("owner-", i)), etag)
		return result{e, err}
	})
	w := oneWinner(t, "racing Update", results, kv.ErrConflict)
	wantItem(t, s, kv.TableLeases, "lease", []byte(fmt.Sprint("owner-", w)), results[w].etag)
}

func testRaceCreate(t *testing.T, s kv.Store) {
	results := race(func(i int) result {
		e, err := s.Create(t.Context(), kv.TableDedup, "activity-1", []byte(fmt.Sprint("worker-", i)))
		return result{e, err}
	})
	w := oneWinner(t, "racing Create", results, kv.ErrExists)
	wantItem(t, s, kv.TableDedup, "activity-1", []byte(fmt.Sprint("worker-", w)), results[w].etag)
}

// increment adds one to the decimal counter at key, retrying on conflict.
func increment(t *testing.T, s kv.Store, key string) error {
	for attempt := 0; attempt < 10*racers*racers; attempt++ {
		it, err := s.Get(t.Context(), kv.TableMeta, key)
		if err != nil {
			return fmt.Errorf("get: %w", err)
		}
		n, err := strconv.Atoi(string(it.Value))
		if err != nil {
			return fmt.Errorf("counter %q: %w", it.Value, err)
		}
		_, err = s.Update(t.Context(), kv.TableMeta, key, []byte(strconv.Itoa(n+1)), it.ETag)
		if !errors.Is(err, kv.ErrConflict) {
			return err
		}
	}
	return errors.New("still conflicting after many attempts")
}

func testRaceIncrement(t *testing.T, s kv.Store) {
	const each = 10
	mustCreate(t, s, kv.TableMeta, "counter", []byte("0"))
	errs := race(func(int) error {
		for range each {
			if err := increment(t, s, "counter"); err != nil {
				return err
			}
		}
		return nil
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("increment: %v", err)
	}
	it, err := s.Get(t.Context(), kv.TableMeta, "counter")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got, want := string(it.Value), strconv.Itoa(racers*each); got != want {
		t.Fatalf("counter = %s after %d increments, want %s", got, racers*each, want)
	}
}
