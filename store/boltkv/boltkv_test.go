package boltkv

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/keyturn/keyturn/store/kv"
	"github.com/keyturn/keyturn/store/kv/kvtest"
)

// openTemp opens a store in a new directory and closes it when t ends.
func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "state", "keyturn.db"), Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestContract(t *testing.T) {
	kvtest.Contract(t, func(t *testing.T) kv.Store { return openTemp(t) })
}

func TestReopenKeepsItemsAndETags(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "keyturn.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	e1, err := s.Create(ctx, kv.TableJournal, "req:1", []byte(`{"state":"pending"}`))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	gone, err := s.Create(ctx, kv.TableJournal, "req:2", []byte("gone"))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := s.Delete(ctx, kv.TableJournal, "req:2", gone); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	it, err := s.Get(ctx, kv.TableJournal, "req:1")
	if err != nil || string(it.Value) != `{"state":"pending"}` || it.ETag != e1 {
		t.Fatalf("Get after reopen = %q %q, %v; want the value and ETag %q", it.Value, it.ETag, err, e1)
	}
	if _, err := s.Get(ctx, kv.TableJournal, "req:2"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Get(deleted) after reopen: %v, want ErrNotFound", err)
	}
	// Versions continue after a reopen: a re-created key gets a new ETag.
	e2, err := s.Create(ctx, kv.TableJournal, "req:2", []byte("back"))
	if err != nil {
		t.Fatalf("Create after reopen: %v", err)
	}
	if e2 == gone || e2 == e1 {
		t.Fatalf("ETag %q after reopen repeats an earlier one (%q, %q)", e2, e1, gone)
	}
	if _, err := s.Update(ctx, kv.TableJournal, "req:1", []byte("next"), e1); err != nil {
		t.Fatalf("Update with the ETag read before reopen: %v", err)
	}
}

func TestOpenModesAndLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	path := filepath.Join(dir, "keyturn.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	for _, c := range []struct {
		path string
		want os.FileMode
	}{{dir, 0o700}, {path, 0o600}} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatalf("Stat: %v", err)
		}
		if got := fi.Mode().Perm(); got != c.want {
			t.Errorf("%s has mode %o, want %o", c.path, got, c.want)
		}
	}
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}

	// bbolt's flock is per open file description, so a second Open in this
	// process waits like another process would.
	_, err = Open(path, Options{Timeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("second Open: %v, want ErrInUse", err)
	}
	if want := "state file is in use by another Keyturn process"; !strings.Contains(err.Error(), want) {
		t.Errorf("second Open error %q does not say %q", err, want)
	}
	if _, err := Open("", Options{}); err == nil {
		t.Error("Open(\"\") succeeded")
	}
}

func TestPing(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "keyturn.db"), Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Ping(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Ping(canceled) = %v, want context.Canceled", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Error("Ping after Close succeeded")
	}
}

func TestCanceledContext(t *testing.T) {
	s := openTemp(t)
	etag, err := s.Create(t.Context(), kv.TableMeta, "k", []byte("v"))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, errG := s.Get(ctx, kv.TableMeta, "k")
	_, errC := s.Create(ctx, kv.TableMeta, "k2", nil)
	_, errU := s.Update(ctx, kv.TableMeta, "k", []byte("w"), etag)
	errD := s.Delete(ctx, kv.TableMeta, "k", "")
	_, errL := s.List(ctx, kv.TableMeta, "", 0)
	for i, err := range []error{errG, errC, errU, errD, errL} {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("call %d: %v, want context.Canceled", i, err)
		}
	}
	if it, err := s.Get(t.Context(), kv.TableMeta, "k"); err != nil || string(it.Value) != "v" || it.ETag != etag {
		t.Fatalf("item changed by canceled calls: %q %q, %v", it.Value, it.ETag, err)
	}
}

func TestCorruptItem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyturn.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatalf("bolt.Open: %v", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte(kv.TableAudit))
		if err != nil {
			return err
		}
		return b.Put([]byte("short"), []byte{1, 2, 3})
	})
	if err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	_, errG := s.Get(t.Context(), kv.TableAudit, "short")
	_, errU := s.Update(t.Context(), kv.TableAudit, "short", nil, "0000000000000001")
	errD := s.Delete(t.Context(), kv.TableAudit, "short", "0000000000000001")
	_, errL := s.List(t.Context(), kv.TableAudit, "", 0)
	for i, err := range []error{errG, errU, errD, errL} {
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("call %d: %v, want ErrCorrupt", i, err)
		}
	}
	// An unconditional delete clears the damaged item.
	if err := s.Delete(t.Context(), kv.TableAudit, "short", ""); err != nil {
		t.Fatalf("Delete: %v", err)
	}
}
