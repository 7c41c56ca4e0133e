package boltkv

import (
	"context"
	"fmt"

	"github.com/keyturn/keyturn/store/kv"
)

// check returns ctx's error, or an error wrapping kv.ErrInvalid for a table
// or key the kv rules reject.
func check(ctx context.Context, table, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !kv.ValidTable(table) {
		return fmt.Errorf("unknown table %.40q: %w", table, kv.ErrInvalid)
	}
	if !kv.ValidKey(key) {
		return fmt.Errorf("bad key %.40q (%d bytes): %w", key, len(key), kv.ErrInvalid)
	}
	return nil
}

// checkWrite is check plus the value's size limit.
func checkWrite(ctx context.Context, table, key string, value []byte) error {
	if err := check(ctx, table, key); err != nil {
		return err
	}
	if len(value) > kv.MaxValueBytes {
		return fmt.Errorf("value of %d bytes exceeds %d: %w", len(value), kv.MaxValueBytes, kv.ErrInvalid)
	}
	return nil
}

// checkList checks List's arguments: a known table, a prefix that some
// valid key can start with (or none), and a limit of at least zero.
func checkList(ctx context.Context, table, prefix string, limit int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
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
