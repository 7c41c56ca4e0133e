package boltkv

import (
	"context"

	"github.com/keyturn/keyturn/store/kv"
)

// check returns ctx's error, or kv.CheckItem's.
func check(ctx context.Context, table, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return kv.CheckItem(table, key)
}

// checkWrite returns ctx's error, or kv.CheckWrite's.
func checkWrite(ctx context.Context, table, key string, value []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return kv.CheckWrite(table, key, value)
}

// checkList returns ctx's error, or kv.CheckList's.
func checkList(ctx context.Context, table, prefix string, limit int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return kv.CheckList(table, prefix, limit)
}
