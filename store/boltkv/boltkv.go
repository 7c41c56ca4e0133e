// Package boltkv is a kv.Store in a local bbolt file, for the CLI and
// single-replica deployments. It imports kv and bbolt; never rotation's
// adapters, the bot or any Azure SDK.
//
// Each kv table is a bucket, created on its first write. An item is stored
// under its key as an 8-byte big-endian version followed by the value; the
// version comes from the bucket's sequence, so it grows with every write,
// and the ETag is its 16-digit hex form. A re-created key therefore never
// gets an ETag it had before. bbolt serializes writers and locks the file,
// so only one process uses it at a time; concurrent writes of one process
// share commits (group.go). The package never logs.
package boltkv

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/keyturn/keyturn/store/kv"
)

// DefaultTimeout is how long Open waits for the file lock when
// Options.Timeout is zero.
const DefaultTimeout = 2 * time.Second

// ErrInUse means another process (another Keyturn) holds the state file.
var ErrInUse = errors.New("state file is in use by another Keyturn process")

// ErrCorrupt means a stored item cannot be read: it is shorter than its
// version header, so the file was damaged or written by something else.
var ErrCorrupt = errors.New("unreadable item in state file")

// Options configure Open.
type Options struct {
	// Timeout is how long Open waits for another process to release the
	// file; zero means DefaultTimeout. Open never waits forever.
	Timeout time.Duration
}

// Store is a kv.Store in a bbolt file. It is safe for concurrent use by
// several goroutines of one process. Beyond kv.Store's contract, Get, Update
// and List return an error wrapping ErrCorrupt for a damaged item, and every
// method returns ctx.Err() when ctx is done before it starts.
type Store struct {
	db    *bolt.DB
	group group // writes waiting for the next commit (group.go)
}

var _ kv.Store = (*Store)(nil)

// versionLen is the size of the version header before each value.
const versionLen = 8

// Open opens the state file at path, creating it (mode 0600) and its
// directory (mode 0700) if needed. When another process holds the file it
// gives up after opts.Timeout with an error wrapping ErrInUse.
func Open(path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("open state file: empty path")
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: timeout,
		// The free-page list is not written with every commit but rebuilt
		// from the pages when the file is opened: a commit writes and syncs
		// fewer pages, which is most of what a de-duplication claim costs
		// (docs/performance.md). The map form keeps allocation cheap as
		// the file grows. Both are bbolt's own options; the data written is
		// the same.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w (waited %s)", path, ErrInUse, timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the file, releasing it for other processes.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close state file: %w", err)
	}
	return nil
}

// Path returns the state file's path.
func (s *Store) Path() string { return s.db.Path() }

// Ping reports whether the store can serve reads: nil while the file is
// open.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.db.View(func(*bolt.Tx) error { return nil }); err != nil {
		return fmt.Errorf("ping state file: %w", err)
	}
	return nil
}

// Get implements kv.Store.
func (s *Store) Get(ctx context.Context, table, key string) (kv.Item, error) {
	if err := check(ctx, table, key); err != nil {
		return kv.Item{}, fmt.Errorf("get %s: %w", table, err)
	}
	var it kv.Item
	err := s.db.View(func(tx *bolt.Tx) error {
		raw := get(tx, table, key)
		if raw == nil {
			return kv.ErrNotFound
		}
		var err error
		it, err = decode(key, raw)
		return err
	})
	if err != nil {
		return kv.Item{}, fmt.Errorf("get %s %q: %w", table, key, err)
	}
	return it, nil
}

// Create implements kv.Store.
func (s *Store) Create(ctx context.Context, table, key string, value []byte) (string, error) {
	if err := checkWrite(ctx, table, key, value); err != nil {
		return "", fmt.Errorf("create in %s: %w", table, err)
	}
	var etag string
	err := s.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(table))
		if err != nil {
			return err
		}
		if b.Get([]byte(key)) != nil {
			return kv.ErrExists
		}
		etag, err = put(b, key, value)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("create %s %q: %w", table, key, err)
	}
	return etag, nil
}

// Update implements kv.Store.
func (s *Store) Update(ctx context.Context, table, key string, value []byte, etag string) (string, error) {
	if err := checkWrite(ctx, table, key, value); err != nil {
		return "", fmt.Errorf("update in %s: %w", table, err)
	}
	if etag == "" {
		return "", fmt.Errorf("update %s %q: empty etag: %w", table, key, kv.ErrInvalid)
	}
	var next string
	err := s.update(func(tx *bolt.Tx) error {
		raw := get(tx, table, key)
		if raw == nil {
			return kv.ErrNotFound
		}
		old, err := decode(key, raw)
		if err != nil {
			return err
		}
		if old.ETag != etag {
			return kv.ErrConflict
		}
		next, err = put(tx.Bucket([]byte(table)), key, value)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("update %s %q: %w", table, key, err)
	}
	return next, nil
}

// Delete implements kv.Store.
func (s *Store) Delete(ctx context.Context, table, key, etag string) error {
	if err := check(ctx, table, key); err != nil {
		return fmt.Errorf("delete in %s: %w", table, err)
	}
	err := s.update(func(tx *bolt.Tx) error {
		raw := get(tx, table, key)
		if raw == nil {
			return nil
		}
		if etag != "" {
			old, err := decode(key, raw)
			if err != nil {
				return err
			}
			if old.ETag != etag {
				return kv.ErrConflict
			}
		}
		return tx.Bucket([]byte(table)).Delete([]byte(key))
	})
	if err != nil {
		return fmt.Errorf("delete %s %q: %w", table, key, err)
	}
	return nil
}

// List implements kv.Store.
func (s *Store) List(ctx context.Context, table, prefix string, limit int) ([]kv.Item, error) {
	if err := checkList(ctx, table, prefix, limit); err != nil {
		return nil, fmt.Errorf("list %s: %w", table, err)
	}
	var items []kv.Item
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(table))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek([]byte(prefix)); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
			if limit > 0 && len(items) == limit {
				break
			}
			it, err := decode(string(k), v)
			if err != nil {
				return err
			}
			items = append(items, it)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s %q: %w", table, prefix, err)
	}
	return items, nil
}

// get returns the raw stored item, or nil when the table or key is missing.
func get(tx *bolt.Tx, table, key string) []byte {
	b := tx.Bucket([]byte(table))
	if b == nil {
		return nil
	}
	return b.Get([]byte(key))
}

// put stores value under key with the bucket's next version and returns
// the new ETag.
func put(b *bolt.Bucket, key string, value []byte) (string, error) {
	version, err := b.NextSequence()
	if err != nil {
		return "", err
	}
	raw := make([]byte, versionLen+len(value))
	binary.BigEndian.PutUint64(raw, version)
	copy(raw[versionLen:], value)
	if err := b.Put([]byte(key), raw); err != nil {
		return "", err
	}
	return etagOf(version), nil
}

// decode copies a stored item out of bbolt's memory.
func decode(key string, raw []byte) (kv.Item, error) {
	if len(raw) < versionLen {
		return kv.Item{}, fmt.Errorf("item %q has %d bytes: %w", key, len(raw), ErrCorrupt)
	}
	value := make([]byte, len(raw)-versionLen)
	copy(value, raw[versionLen:])
	return kv.Item{Key: key, Value: value, ETag: etagOf(binary.BigEndian.Uint64(raw))}, nil
}

// etagOf formats a version as an ETag.
func etagOf(version uint64) string { return fmt.Sprintf("%016x", version) }

// hasPrefix reports whether k starts with prefix.
func hasPrefix(k []byte, prefix string) bool {
	return len(k) >= len(prefix) && string(k[:len(prefix)]) == prefix
}
