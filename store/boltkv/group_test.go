package boltkv

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/keyturn/keyturn/store/kv"
)

// holdLead starts a write that leads a group and blocks until release is
// closed, then waits until n more writes are queued behind it, so they
// form the next group together.
func holdLead(t *testing.T, s *Store, release chan struct{}, n int, start func()) chan error {
	t.Helper()
	entered := make(chan struct{})
	lead := make(chan error, 1)
	go func() {
		lead <- s.update(func(*bolt.Tx) error { close(entered); <-release; return nil })
	}()
	<-entered
	start()
	for {
		s.group.mu.Lock()
		queued := len(s.group.pending)
		s.group.mu.Unlock()
		if queued == n {
			return lead
		}
		runtime.Gosched()
	}
}

// putFn writes key in the dedup table, then returns err.
func putFn(key string, err error) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		b, cerr := tx.CreateBucketIfNotExists([]byte(kv.TableDedup))
		if cerr != nil {
			return cerr
		}
		if _, perr := put(b, key, []byte("{}")); perr != nil {
			return perr
		}
		return err
	}
}

func TestGroupCommitIsolatesAFailingWrite(t *testing.T) {
	s := openTemp(t)
	boom := errors.New("boom")
	release := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, 3)
	fns := []func(*bolt.Tx) error{putFn("a", nil), putFn("b", boom), putFn("c", nil)}
	lead := holdLead(t, s, release, len(fns), func() {
		for i, fn := range fns {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = s.update(fn) }()
			// Queue them in order, so the group is a, b, c.
			for {
				s.group.mu.Lock()
				n := len(s.group.pending)
				s.group.mu.Unlock()
				if n == i+1 {
					break
				}
				runtime.Gosched()
			}
		}
	})
	close(release)
	wg.Wait()
	if err := <-lead; err != nil {
		t.Fatalf("leading write: %v", err)
	}
	if errs[0] != nil || errs[2] != nil || !errors.Is(errs[1], boom) {
		t.Fatalf("errors = %v, want nil, boom, nil", errs)
	}
	for key, want := range map[string]bool{"a": true, "b": false, "c": true} {
		_, err := s.Get(t.Context(), kv.TableDedup, key)
		if got := err == nil; got != want {
			t.Errorf("%s stored = %v (%v), want %v: a failing write must roll back alone", key, got, err, want)
		}
	}
}

func TestGroupCommitOneCreateWinsAndSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyturn.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	const keys, tries = 50, 4
	wins := make([]int, keys)
	var mu sync.Mutex
	var wg sync.WaitGroup
	release := make(chan struct{})
	lead := holdLead(t, s, release, keys*tries, func() {
		for i := range keys * tries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Create(ctx, kv.TableDedup, fmt.Sprintf("d:%d", i%keys), []byte("{}"))
				switch {
				case err == nil:
					mu.Lock()
					wins[i%keys]++
					mu.Unlock()
				case !errors.Is(err, kv.ErrExists):
					t.Errorf("Create: %v", err)
				}
			}()
		}
	})
	close(release)
	wg.Wait()
	if err := <-lead; err != nil {
		t.Fatal(err)
	}
	for k, n := range wins {
		if n != 1 {
			t.Errorf("key %d created %d times in one group, want exactly once", k, n)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	items, err := s.List(ctx, kv.TableDedup, "d:", 0)
	if err != nil || len(items) != keys {
		t.Fatalf("after reopen: %d items, %v; want %d", len(items), err, keys)
	}
}

// BenchmarkCreateParallel creates distinct keys from 64 goroutines, the
// webhook's de-duplication write under load: group commit shares syncs.
func BenchmarkCreateParallel(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "keyturn.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var next atomic.Int64
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := fmt.Sprintf("d:msteams|a:conversation|activity-%d", next.Add(1))
			if _, err := s.Create(b.Context(), kv.TableDedup, key, []byte(`{"at":"2026-12-04T19:00:00Z"}`)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
