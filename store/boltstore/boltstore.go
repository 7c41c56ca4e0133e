// Package boltstore keeps Keyturn's rotation journal (a rotation.Store) in a
// local bbolt file, for the CLI and single-instance deployments. It imports
// rotation and bbolt; never the bot or the Azure adapters.
//
// The file holds two buckets:
//
//	records  record ID → {"v":1,"record":{...}} (JSON, versioned for migrations)
//	active   client ID → ID of the app's unfinished record
//
// Begin checks and sets "active" in the transaction that writes the record,
// and Save keeps it in step with the record's state, so the per-application
// lock survives crashes. bbolt locks the file, so only one process uses it at
// a time. Records never hold secrets; the package logs nothing about them.
package boltstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/keyturn/keyturn/rotation"
)

// DefaultTimeout is how long Open waits for the file lock when
// Options.Timeout is zero.
const DefaultTimeout = 2 * time.Second

// ErrInUse means another process (another Keyturn) holds the state file.
var ErrInUse = errors.New("state file is in use by another Keyturn process")

// ErrCorrupt means a stored record cannot be read: it is damaged, or was
// written in a schema version this build does not know.
var ErrCorrupt = errors.New("unreadable record in state file")

// Options configure Open.
type Options struct {
	// Timeout is how long Open waits for another process to release the
	// file; zero means DefaultTimeout. Open never waits forever.
	Timeout time.Duration
}

// Store is a rotation.Store in a bbolt file. It is safe for concurrent use.
//
// Beyond rotation.Store's contract, Begin and Save return ErrInvalid for a
// record without an ID or client ID, Begin returns ErrInvalid when the ID is
// taken, and Save returns ErrInProgress when it would make a record
// unfinished while another record of the same app is. Any method may return
// ErrCorrupt (wrapped) when a record it must read cannot be decoded.
type Store struct {
	db *bolt.DB
}

var _ rotation.Store = (*Store)(nil)

// Bucket names.
const (
	bucketRecords = "records"
	bucketActive  = "active"
)

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
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w (waited %s)", path, ErrInUse, timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{bucketRecords, bucketActive} {
			if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("initialize state file %s: %w", path, err), db.Close())
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

// Ping reports whether the store can serve reads: nil when the file is open
// and holds its buckets.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		_, _, err := buckets(tx)
		return err
	})
	if err != nil {
		return fmt.Errorf("ping state file: %w", err)
	}
	return nil
}

// Begin implements rotation.Store.
func (s *Store) Begin(ctx context.Context, r rotation.Record) error {
	data, err := prepare(ctx, r)
	if err != nil {
		return fmt.Errorf("begin rotation %s: %w", r.ID, err)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		records, active, err := buckets(tx)
		if err != nil {
			return err
		}
		if owner := active.Get([]byte(r.ClientID)); owner != nil {
			return fmt.Errorf("begin rotation %s: app %s has unfinished rotation %s: %w",
				r.ID, r.ClientID, owner, rotation.ErrInProgress)
		}
		if records.Get([]byte(r.ID)) != nil {
			return fmt.Errorf("begin rotation %s: the ID is taken: %w", r.ID, rotation.ErrInvalid)
		}
		return put(records, active, r, data)
	})
}

// Save implements rotation.Store.
func (s *Store) Save(ctx context.Context, r rotation.Record) error {
	data, err := prepare(ctx, r)
	if err != nil {
		return fmt.Errorf("save rotation %s: %w", r.ID, err)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		records, active, err := buckets(tx)
		if err != nil {
			return err
		}
		raw := records.Get([]byte(r.ID))
		if raw == nil {
			return fmt.Errorf("save rotation %s: %w", r.ID, rotation.ErrNotFound)
		}
		old, err := decode(r.ID, raw)
		if err != nil {
			return fmt.Errorf("save rotation: %w", err)
		}
		owner := active.Get([]byte(r.ClientID))
		if !r.State.Final() && owner != nil && string(owner) != r.ID {
			return fmt.Errorf("save rotation %s: app %s has unfinished rotation %s: %w",
				r.ID, r.ClientID, owner, rotation.ErrInProgress)
		}
		if string(active.Get([]byte(old.ClientID))) == r.ID {
			if err := active.Delete([]byte(old.ClientID)); err != nil {
				return fmt.Errorf("save rotation %s: %w", r.ID, err)
			}
		}
		return put(records, active, r, data)
	})
}

// Get implements rotation.Store.
func (s *Store) Get(ctx context.Context, id string) (rotation.Record, error) {
	if err := ctx.Err(); err != nil {
		return rotation.Record{}, err
	}
	var r rotation.Record
	err := s.db.View(func(tx *bolt.Tx) error {
		records, _, err := buckets(tx)
		if err != nil {
			return err
		}
		raw := records.Get([]byte(id))
		if raw == nil {
			return fmt.Errorf("get rotation %s: %w", id, rotation.ErrNotFound)
		}
		r, err = decode(id, raw)
		return err
	})
	return r, err
}

// List implements rotation.Store: the records matching f, by CreatedAt, then
// ID. One unreadable record fails the whole list.
func (s *Store) List(ctx context.Context, f rotation.Filter) ([]rotation.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []rotation.Record
	err := s.db.View(func(tx *bolt.Tx) error {
		records, _, err := buckets(tx)
		if err != nil {
			return err
		}
		return records.ForEach(func(k, v []byte) error {
			r, err := decode(string(k), v)
			if err != nil {
				return err
			}
			if (f.ClientID == "" || r.ClientID == f.ClientID) && (!f.Unfinished || !r.State.Final()) {
				out = append(out, r)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list rotations: %w", err)
	}
	slices.SortFunc(out, func(a, b rotation.Record) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// prepare checks ctx and r and encodes r.
func prepare(ctx context.Context, r rotation.Record) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if r.ID == "" || r.ClientID == "" {
		return nil, fmt.Errorf("record needs an ID and a client ID: %w", rotation.ErrInvalid)
	}
	return encode(r)
}

// put writes r and, if it is unfinished, makes it its app's active record.
func put(records, active *bolt.Bucket, r rotation.Record, data []byte) error {
	if err := records.Put([]byte(r.ID), data); err != nil {
		return fmt.Errorf("write rotation %s: %w", r.ID, err)
	}
	if r.State.Final() {
		return nil
	}
	if err := active.Put([]byte(r.ClientID), []byte(r.ID)); err != nil {
		return fmt.Errorf("lock app %s: %w", r.ClientID, err)
	}
	return nil
}

func buckets(tx *bolt.Tx) (records, active *bolt.Bucket, err error) {
	records, active = tx.Bucket([]byte(bucketRecords)), tx.Bucket([]byte(bucketActive))
	if records == nil || active == nil {
		return nil, nil, errors.New("state file lacks its buckets")
	}
	return records, active, nil
}

// schemaVersion is the "v" of the envelope encode writes.
const schemaVersion = 1

// recordV1 is the stored form of a rotation.Record in schema version 1. Its
// JSON names are the file format: they never follow renames in rotation. A
// new Record field is added here with omitzero (old records read as zero); a
// change of meaning needs schema version 2 and a migration in decode. The
// store contract's round trip fails until a new field is mapped.
type recordV1 struct {
	ID              string         `json:"id"`
	State           rotation.State `json:"state"`
	ClientID        string         `json:"client_id"`
	AppObjectID     string         `json:"app_object_id,omitzero"`
	AppName         string         `json:"app_name,omitzero"`
	DisplayName     string         `json:"display_name,omitzero"`
	ClientIDRef     refV1          `json:"client_id_ref,omitzero"`
	SecretRef       refV1          `json:"secret_ref,omitzero"`
	End             time.Time      `json:"end,omitzero"`
	Overlap         time.Duration  `json:"overlap_ns,omitzero"`
	RequestedBy     string         `json:"requested_by,omitzero"`
	ApprovedBy      string         `json:"approved_by,omitzero"`
	PreviousVersion string         `json:"previous_version,omitzero"`
	PreviousKeyID   string         `json:"previous_key_id,omitzero"`
	KeyID           string         `json:"key_id,omitzero"`
	Hint            string         `json:"hint,omitzero"`
	Start           time.Time      `json:"start,omitzero"`
	ClientIDVersion string         `json:"client_id_version,omitzero"`
	SecretVersion   string         `json:"secret_version,omitzero"`
	RetireKeyID     string         `json:"retire_key_id,omitzero"`
	RetireAfter     time.Time      `json:"retire_after,omitzero"`
	RetiredAt       time.Time      `json:"retired_at,omitzero"`
	Error           string         `json:"error,omitzero"`
	CreatedAt       time.Time      `json:"created_at"`
	UpdatedAt       time.Time      `json:"updated_at,omitzero"`
}

type refV1 struct {
	VaultURI string `json:"vault_uri,omitzero"`
	Name     string `json:"name,omitzero"`
	Version  string `json:"version,omitzero"`
}

func toV1(r rotation.Record) recordV1 {
	return recordV1{
		ID: r.ID, State: r.State, ClientID: r.ClientID, AppObjectID: r.AppObjectID, AppName: r.AppName,
		DisplayName: r.DisplayName, ClientIDRef: refV1(r.ClientIDRef), SecretRef: refV1(r.SecretRef),
		End: r.End, Overlap: r.Overlap, RequestedBy: r.RequestedBy, ApprovedBy: r.ApprovedBy,
		PreviousVersion: r.PreviousVersion, PreviousKeyID: r.PreviousKeyID,
		KeyID: r.KeyID, Hint: r.Hint, Start: r.Start,
		ClientIDVersion: r.ClientIDVersion, SecretVersion: r.SecretVersion,
		RetireKeyID: r.RetireKeyID, RetireAfter: r.RetireAfter, RetiredAt: r.RetiredAt,
		Error: r.Error, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

func (v recordV1) record() rotation.Record {
	return rotation.Record{
		ID: v.ID, State: v.State, ClientID: v.ClientID, AppObjectID: v.AppObjectID, AppName: v.AppName,
		DisplayName: v.DisplayName, ClientIDRef: rotation.SecretRef(v.ClientIDRef), SecretRef: rotation.SecretRef(v.SecretRef),
		End: v.End, Overlap: v.Overlap, RequestedBy: v.RequestedBy, ApprovedBy: v.ApprovedBy,
		PreviousVersion: v.PreviousVersion, PreviousKeyID: v.PreviousKeyID,
		KeyID: v.KeyID, Hint: v.Hint, Start: v.Start,
		ClientIDVersion: v.ClientIDVersion, SecretVersion: v.SecretVersion,
		RetireKeyID: v.RetireKeyID, RetireAfter: v.RetireAfter, RetiredAt: v.RetiredAt,
		Error: v.Error, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
	}
}

type envelope struct {
	V      int             `json:"v"`
	Record json.RawMessage `json:"record"`
}

func encode(r rotation.Record) ([]byte, error) {
	rec, err := json.Marshal(toV1(r))
	if err != nil {
		return nil, fmt.Errorf("encode record: %w", err)
	}
	return json.Marshal(envelope{V: schemaVersion, Record: rec})
}

// decode reads the record stored under id. Its errors wrap ErrCorrupt and
// name the record, never its contents.
func decode(id string, data []byte) (rotation.Record, error) {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return rotation.Record{}, fmt.Errorf("record %s: %w: %s", id, ErrCorrupt, describe(err))
	}
	if env.V != schemaVersion {
		return rotation.Record{}, fmt.Errorf("record %s: %w: unknown schema version %d", id, ErrCorrupt, env.V)
	}
	var rec recordV1
	if err := json.Unmarshal(env.Record, &rec); err != nil {
		return rotation.Record{}, fmt.Errorf("record %s: %w: %s", id, ErrCorrupt, describe(err))
	}
	if rec.ID != id {
		return rotation.Record{}, fmt.Errorf("record %s: %w: it holds another ID", id, ErrCorrupt)
	}
	return rec.record(), nil
}

// describe says what is wrong with a JSON document without quoting it: some
// decoding errors (time.ParseError) include the offending value.
func describe(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("malformed JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q is not a %s", typ.Field, typ.Type)
	default:
		return "a field holds a value of the wrong form"
	}
}
