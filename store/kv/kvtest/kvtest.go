// Package kvtest holds the contract suite every kv.Store backend must pass,
// so that store/boltkv and store/tablekv behave alike. It tests only what
// package kv documents (plus the few choices listed on Contract) and imports
// only kv and the standard library.
package kvtest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/keyturn/keyturn/store/kv"
)

// Contract runs the contract suite against the stores open returns. Every
// subtest calls open once and expects a store with no items in any table;
// open should register its own cleanup with t.Cleanup.
//
// Beyond kv's doc comments, the suite pins these choices so backends agree:
// an empty value is allowed and reads back as empty; Update of a missing
// item returns ErrNotFound whatever the etag; Update with an empty etag
// returns ErrInvalid; every method returns ErrInvalid for a table or key
// that kv.ValidTable or kv.ValidKey rejects; List returns ErrInvalid for a
// negative limit or for a non-empty prefix that no valid key can start with.
func Contract(t *testing.T, open func(t *testing.T) kv.Store) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, s kv.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"GetMissing", testGetMissing},
		{"CreateExisting", testCreateExisting},
		{"UpdateCurrent", testUpdateCurrent},
		{"UpdateStale", testUpdateStale},
		{"UpdateMissing", testUpdateMissing},
		{"DeleteStale", testDeleteStale},
		{"DeleteCurrent", testDeleteCurrent},
		{"DeleteUnconditional", testDeleteUnconditional},
		{"DeleteMissing", testDeleteMissing},
		{"RecreateGetsNewETag", testRecreate},
		{"ValuesAreCopied", testValuesAreCopied},
		{"List", testList},
		{"ListItems", testListItems},
		{"TablesAreIndependent", testTablesIndependent},
		{"Invalid", testInvalid},
		{"SpecialKeys", testSpecialKeys},
		{"RaceUpdate", testRaceUpdate},
		{"RaceCreate", testRaceCreate},
		{"RaceIncrement", testRaceIncrement},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, open(t))
		})
	}
}

// mustCreate creates an item and fails the test on error.
func mustCreate(t *testing.T, s kv.Store, table, key string, value []byte) string {
	t.Helper()
	etag, err := s.Create(t.Context(), table, key, value)
	if err != nil {
		t.Fatalf("Create(%s, %q): %v", table, key, err)
	}
	if etag == "" {
		t.Fatalf("Create(%s, %q) returned an empty ETag", table, key)
	}
	return etag
}

// mustUpdate updates an item and fails the test on error.
func mustUpdate(t *testing.T, s kv.Store, table, key string, value []byte, etag string) string {
	t.Helper()
	next, err := s.Update(t.Context(), table, key, value, etag)
	if err != nil {
		t.Fatalf("Update(%s, %q): %v", table, key, err)
	}
	return next
}

// wantItem fails the test unless the item at key has value and etag.
func wantItem(t *testing.T, s kv.Store, table, key string, value []byte, etag string) {
	t.Helper()
	it, err := s.Get(t.Context(), table, key)
	if err != nil {
		t.Fatalf("Get(%s, %q): %v", table, key, err)
	}
	if it.Key != key || !bytes.Equal(it.Value, value) || it.ETag != etag {
		t.Fatalf("Get(%s, %q) = {Key:%q Value:%d bytes ETag:%q}, want {Key:%q Value:%d bytes ETag:%q} (values equal: %v)",
			table, key, it.Key, len(it.Value), it.ETag, key, len(value), etag, bytes.Equal(it.Value, value))
	}
}

// wantMissing fails the test unless Get reports ErrNotFound for key.
func wantMissing(t *testing.T, s kv.Store, table, key string) {
	t.Helper()
	if it, err := s.Get(t.Context(), table, key); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Get(%s, %q) = ETag %q, %v; want ErrNotFound", table, key, it.ETag, err)
	}
}

// wantErr fails the test unless errors.Is(err, want).
func wantErr(t *testing.T, op string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", op, err, want)
	}
}

func testRoundTrip(t *testing.T, s kv.Store) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	tests := []struct {
		name  string
		value []byte
	}{
		{"json", []byte(`{"id":"req-1","state":"pending"}`)},
		{"binary", all},
		{"empty", []byte{}},
		{"nil", nil},
		{"max", bytes.Repeat([]byte{0xA5, 0x00, 'x'}, kv.MaxValueBytes/3+1)[:kv.MaxValueBytes]},
	}
	for i, tt := range tests {
		key := fmt.Sprintf("item-%d-%s", i, tt.name)
		etag := mustCreate(t, s, kv.TableJournal, key, tt.value)
		wantItem(t, s, kv.TableJournal, key, tt.value, etag)
	}
}

func testGetMissing(t *testing.T, s kv.Store) {
	mustCreate(t, s, kv.TableJournal, "present", []byte("x"))
	wantMissing(t, s, kv.TableJournal, "absent")
	wantMissing(t, s, kv.TableJournal, "presen")
	wantMissing(t, s, kv.TableJournal, "present-")
	wantMissing(t, s, kv.TableApprovals, "present")
}

func testCreateExisting(t *testing.T, s kv.Store) {
	etag := mustCreate(t, s, kv.TableLeases, "lease", []byte("first"))
	_, err := s.Create(t.Context(), kv.TableLeases, "lease", []byte("second"))
	wantErr(t, "second Create", err, kv.ErrExists)
	wantItem(t, s, kv.TableLeases, "lease", []byte("first"), etag)
}

func testUpdateCurrent(t *testing.T, s kv.Store) {
	e1 := mustCreate(t, s, kv.TableJournal, "k", []byte("v1"))
	e2 := mustUpdate(t, s, kv.TableJournal, "k", []byte("v2"), e1)
	if e2 == "" || e2 == e1 {
		t.Fatalf("Update returned ETag %q after %q; want a new, non-empty one", e2, e1)
	}
	wantItem(t, s, kv.TableJournal, "k", []byte("v2"), e2)
	e3 := mustUpdate(t, s, kv.TableJournal, "k", []byte("v2"), e2)
	if e3 == e2 || e3 == e1 {
		t.Fatalf("Update with the same value returned ETag %q; want one unlike %q and %q", e3, e1, e2)
	}
	wantItem(t, s, kv.TableJournal, "k", []byte("v2"), e3)
}

func testUpdateStale(t *testing.T, s kv.Store) {
	e1 := mustCreate(t, s, kv.TableJournal, "k", []byte("v1"))
	e2 := mustUpdate(t, s, kv.TableJournal, "k", []byte("v2"), e1)
	_, err := s.Update(t.Context(), kv.TableJournal, "k", []byte("v3"), e1)
	wantErr(t, "Update with a stale ETag", err, kv.ErrConflict)
	wantItem(t, s, kv.TableJournal, "k", []byte("v2"), e2)
}

func testUpdateMissing(t *testing.T, s kv.Store) {
	etag := mustCreate(t, s, kv.TableJournal, "other", []byte("v"))
	_, err := s.Update(t.Context(), kv.TableJournal, "missing", []byte("v"), etag)
	wantErr(t, "Update of a missing item", err, kv.ErrNotFound)
	wantMissing(t, s, kv.TableJournal, "missing")

	// An item deleted since its ETag was read is missing too.
	if err := s.Delete(t.Context(), kv.TableJournal, "other", etag); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err = s.Update(t.Context(), kv.TableJournal, "other", []byte("v"), etag)
	wantErr(t, "Update of a deleted item", err, kv.ErrNotFound)
	wantMissing(t, s, kv.TableJournal, "other")
}

func testDeleteStale(t *testing.T, s kv.Store) {
	e1 := mustCreate(t, s, kv.TableOutbox, "k", []byte("v1"))
	e2 := mustUpdate(t, s, kv.TableOutbox, "k", []byte("v2"), e1)
	wantErr(t, "Delete with a stale ETag", s.Delete(t.Context(), kv.TableOutbox, "k", e1), kv.ErrConflict)
	wantItem(t, s, kv.TableOutbox, "k", []byte("v2"), e2)
}

func testDeleteCurrent(t *testing.T, s kv.Store) {
	e1 := mustCreate(t, s, kv.TableOutbox, "k", []byte("v1"))
	e2 := mustUpdate(t, s, kv.TableOutbox, "k", []byte("v2"), e1)
	if err := s.Delete(t.Context(), kv.TableOutbox, "k", e2); err != nil {
		t.Fatalf("Delete with the current ETag: %v", err)
	}
	wantMissing(t, s, kv.TableOutbox, "k")
}

func testDeleteUnconditional(t *testing.T, s kv.Store) {
	e1 := mustCreate(t, s, kv.TableDedup, "k", []byte("v1"))
	mustUpdate(t, s, kv.TableDedup, "k", []byte("v2"), e1)
	if err := s.Delete(t.Context(), kv.TableDedup, "k", ""); err != nil {
		t.Fatalf("Delete without an ETag: %v", err)
	}
	wantMissing(t, s, kv.TableDedup, "k")
}

func testDeleteMissing(t *testing.T, s kv.Store) {
	etag := mustCreate(t, s, kv.TableDedup, "gone", []byte("v"))
	if err := s.Delete(t.Context(), kv.TableDedup, "gone", ""); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	for _, tag := range []string{"", etag} {
		if err := s.Delete(t.Context(), kv.TableDedup, "gone", tag); err != nil {
			t.Errorf("Delete of a deleted item with ETag %q: %v, want nil", tag, err)
		}
		if err := s.Delete(t.Context(), kv.TableDedup, "never", tag); err != nil {
			t.Errorf("Delete of a missing item with ETag %q: %v, want nil", tag, err)
		}
	}
}

func testRecreate(t *testing.T, s kv.Store) {
	e1 := mustCreate(t, s, kv.TableLeases, "k", []byte("same"))
	if err := s.Delete(t.Context(), kv.TableLeases, "k", e1); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	e2 := mustCreate(t, s, kv.TableLeases, "k", []byte("same"))
	if e2 == e1 {
		t.Fatalf("re-created item has its old ETag %q", e1)
	}
	_, err := s.Update(t.Context(), kv.TableLeases, "k", []byte("late"), e1)
	wantErr(t, "Update with the ETag of a deleted incarnation", err, kv.ErrConflict)
	wantErr(t, "Delete with the ETag of a deleted incarnation", s.Delete(t.Context(), kv.TableLeases, "k", e1), kv.ErrConflict)
	wantItem(t, s, kv.TableLeases, "k", []byte("same"), e2)
}

func testValuesAreCopied(t *testing.T, s kv.Store) {
	value := []byte("original")
	etag := mustCreate(t, s, kv.TableMeta, "k", value)
	copy(value, "CHANGED!")
	it, err := s.Get(t.Context(), kv.TableMeta, "k")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	copy(it.Value, "CHANGED!")
	wantItem(t, s, kv.TableMeta, "k", []byte("original"), etag)

	value = []byte("second")
	etag = mustUpdate(t, s, kv.TableMeta, "k", value, etag)
	copy(value, "XXXXXX")
	items, err := s.List(t.Context(), kv.TableMeta, "", 0)
	if err != nil || len(items) != 1 {
		t.Fatalf("List = %d items, %v; want 1", len(items), err)
	}
	copy(items[0].Value, "YYYYYY")
	wantItem(t, s, kv.TableMeta, "k", []byte("second"), etag)
}
