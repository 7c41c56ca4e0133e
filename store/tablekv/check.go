package tablekv

import (
	"fmt"

	"github.com/keyturn/keyturn/store/kv"
)

// check returns an error wrapping kv.ErrInvalid for a table or key the kv
// rules reject, before any request is sent.
func check(table, key string) error {
	if !kv.ValidTable(table) {
		return fmt.Errorf("unknown table %.40q: %w", table, kv.ErrInvalid)
	}
	if !kv.ValidKey(key) {
		return fmt.Errorf("bad key %.40q (%d bytes): %w", key, len(key), kv.ErrInvalid)
	}
	return nil
}

// checkWrite is check plus the value's size limit; it returns the entity.
func checkWrite(table, key string, value []byte) ([]byte, error) {
	if err := check(table, key); err != nil {
		return nil, err
	}
	if len(value) > kv.MaxValueBytes {
		return nil, fmt.Errorf("value of %d bytes exceeds %d: %w", len(value), kv.MaxValueBytes, kv.ErrInvalid)
	}
	return encode(table, key, value)
}

// checkList checks List's arguments: a known table, a prefix that some
// valid key can start with (or none), and a limit of at least zero.
func checkList(table, prefix string, limit int) error {
	if !kv.ValidTable(table) {
		return fmt.Errorf("unknown table %.40q: %w", table, kv.ErrInvalid)
	}
	if prefix != "" && !kv.ValidKey(prefix) {
		return fmt.Errorf("bad prefix %.40q (%d bytes): %w", prefix, len(prefix), kv.ErrInvalid)
	}
	if limit < 0 {
		return fmt.Errorf("negative limit %d: %w", limit, kv.ErrInvalid)
	}
	return nil
}
