// Package kv is the small key-value interface Keyturn's state lives on, so
// that one implementation of every store (the rotation journal, approval
// requests, the audit chain, the outbox, leases, conversation references,
// processed activity IDs) runs unchanged on two backends: an embedded bbolt
// file for one replica (store/boltkv) and Azure Table Storage, or Cosmos
// DB's Table API, for several (store/tablekv).
//
// Every write is conditional on an ETag, which is how concurrent replicas
// agree: exactly one of several writers racing on one key wins. Values are
// opaque bytes (JSON in practice), at most MaxValueBytes; they never hold a
// secret value. It imports only the standard library.
package kv

import (
	"context"
	"errors"
	"fmt"
)

// MaxValueBytes bounds one value (Azure Tables allows 64 KiB per binary
// property; a little is kept for the entity's other properties).
const MaxValueBytes = 60 << 10

// Tables are the logical tables Keyturn uses. Implementations may map them
// to buckets, partitions or real tables.
const (
	TableJournal   = "journal"
	TableApprovals = "approvals"
	TableAudit     = "audit"
	TableOutbox    = "outbox"
	TableLeases    = "leases"
	TableRefs      = "refs"
	TableDedup     = "dedup"
	TableMeta      = "meta"
)

// Errors of Store, tested with errors.Is.
var (
	// ErrNotFound: no item has the key.
	ErrNotFound = errors.New("kv: not found")
	// ErrExists: Create found an item with the key already.
	ErrExists = errors.New("kv: already exists")
	// ErrConflict: the item changed since the ETag was read (or is gone).
	ErrConflict = errors.New("kv: etag mismatch")
	// ErrInvalid: a bad table name, key or value (too large, empty key).
	ErrInvalid = errors.New("kv: invalid")
)

// Item is a stored value with its ETag, which changes on every write.
type Item struct {
	Key   string
	Value []byte
	ETag  string
}

// Store is a set of tables of items. Keys are at most 512 bytes of
// printable ASCII except '/', '\\', '#' and '?' (Azure Tables' RowKey
// rules); callers escape anything else. Implementations are safe for
// concurrent use by several goroutines and, for the shared backends,
// several processes.
type Store interface {
	// Get returns the item at key. Errors: ErrNotFound.
	Get(ctx context.Context, table, key string) (Item, error)
	// Create stores a new item and returns its ETag. Errors: ErrExists,
	// ErrInvalid.
	Create(ctx context.Context, table, key string, value []byte) (string, error)
	// Update replaces the item at key if its ETag is still etag, and
	// returns the new ETag. Errors: ErrConflict (changed since etag was
	// read), ErrNotFound (missing, including deleted since etag was read),
	// ErrInvalid (also for an empty etag).
	Update(ctx context.Context, table, key string, value []byte, etag string) (string, error)
	// Delete removes the item at key if its ETag is still etag (any ETag
	// when etag is empty). Deleting a missing item succeeds. Errors:
	// ErrConflict.
	Delete(ctx context.Context, table, key, etag string) error
	// List returns the items whose keys start with prefix, in ascending
	// key order, at most limit of them (0: no limit).
	List(ctx context.Context, table, prefix string, limit int) ([]Item, error)
}

// ValidKey reports whether key follows the rules Store documents.
func ValidKey(key string) bool {
	if key == "" || len(key) > 512 {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c < 0x20 || c > 0x7e || c == '/' || c == '\\' || c == '#' || c == '?' {
			return false
		}
	}
	return true
}

// ValidTable reports whether table is one of the Table constants.
func ValidTable(table string) bool {
	switch table {
	case TableJournal, TableApprovals, TableAudit, TableOutbox, TableLeases, TableRefs, TableDedup, TableMeta:
		return true
	}
	return false
}

// CheckItem returns an error wrapping ErrInvalid when table or key breaks
// the rules above; backends call it before touching storage.
func CheckItem(table, key string) error {
	if !ValidTable(table) {
		return fmt.Errorf("unknown table %.40q: %w", table, ErrInvalid)
	}
	if !ValidKey(key) {
		return fmt.Errorf("bad key %.40q (%d bytes): %w", key, len(key), ErrInvalid)
	}
	return nil
}

// CheckWrite is CheckItem plus the value's size limit.
func CheckWrite(table, key string, value []byte) error {
	if err := CheckItem(table, key); err != nil {
		return err
	}
	if len(value) > MaxValueBytes {
		return fmt.Errorf("value of %d bytes exceeds %d: %w", len(value), MaxValueBytes, ErrInvalid)
	}
	return nil
}

// CheckList checks List's arguments: a known table, a prefix that some
// valid key can start with (or none), and a limit of at least zero.
func CheckList(table, prefix string, limit int) error {
	if !ValidTable(table) {
		return fmt.Errorf("unknown table %.40q: %w", table, ErrInvalid)
	}
	if prefix != "" && !ValidKey(prefix) {
		return fmt.Errorf("bad prefix %.40q (%d bytes): %w", prefix, len(prefix), ErrInvalid)
	}
	if limit < 0 {
		return fmt.Errorf("negative limit %d: %w", limit, ErrInvalid)
	}
	return nil
}
