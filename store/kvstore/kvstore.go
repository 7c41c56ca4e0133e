// Package kvstore keeps all of Keyturn's shared state on a kv.Store, so the
// same code runs on the embedded bbolt file and on Azure Table Storage: the
// rotation journal with its per-app lock (rotation.Store), approval
// requests with ETags (rotation.ApprovalStore), the hash-chained audit
// trail (rotation.Auditor) with the audit channel's posting cursor,
// leases for background jobs, conversation references, processed
// activity IDs and the expiry radar's marks.
//
// Nothing here holds a secret value; records carry IDs, names, times and
// outcomes. It imports the standard library, packages rotation and
// radar, and store/kv.
package kvstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/store/kv"
)

// Store is Keyturn's state on a kv.Store. It is safe for concurrent use by
// several goroutines and, on a shared backend, several replicas.
type Store struct {
	kv  kv.Store
	now func() time.Time
}

// New returns a Store on backend. now is the clock (nil: time.Now).
func New(backend kv.Store, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{kv: backend, now: now}
}

// escape turns any string into a valid kv key part: bytes outside a safe
// set become %XX, so conversation IDs, client IDs and request IDs map to
// distinct keys.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.:@;=+~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// put encodes v and creates (etag "") or updates the item at key.
func (s *Store) put(ctx context.Context, table, key string, v any, etag string) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %s %s: %w", table, key, err)
	}
	if etag == "" {
		return s.kv.Create(ctx, table, key, b)
	}
	return s.kv.Update(ctx, table, key, b, etag)
}

// get decodes the item at key into v and returns its ETag.
func (s *Store) get(ctx context.Context, table, key string, v any) (string, error) {
	it, err := s.kv.Get(ctx, table, key)
	if err != nil {
		return "", err
	}
	if err := json.Unmarshal(it.Value, v); err != nil {
		return "", fmt.Errorf("decode %s %s: %w", table, key, err)
	}
	return it.ETag, nil
}

// domainErr maps kv errors to rotation's sentinels.
func domainErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, kv.ErrNotFound):
		return fmt.Errorf("%w: %w", rotation.ErrNotFound, err)
	case errors.Is(err, kv.ErrConflict), errors.Is(err, kv.ErrExists):
		return fmt.Errorf("%w: %w", rotation.ErrConflict, err)
	case errors.Is(err, kv.ErrInvalid):
		return fmt.Errorf("%w: %w", rotation.ErrInvalid, err)
	}
	return err
}
