package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// Store is an in-memory rotation.Store for tests and the sandbox. It
// behaves like a persistent store: it keeps the per-application lock
// (ErrInProgress) the way boltstore does, copies records on the way in and
// out, and drops the monotonic clock reading of their times, as a round trip
// through a file or a table would.
//
// Failures are injected by wrapping it with Faults.Store. A Store is safe
// for concurrent use; the zero value is not usable, call NewStore.
type Store struct {
	mu      sync.Mutex
	records map[string]rotation.Record
	active  map[string]string // client ID → ID of its unfinished record
}

var _ rotation.Store = (*Store)(nil)

// NewStore returns an empty Store.
func NewStore() *Store {
	return &Store{
		records: make(map[string]rotation.Record),
		active:  make(map[string]string),
	}
}

// Begin implements rotation.Store. Besides ErrInProgress it returns
// ErrInvalid for a record without an ID or client ID, or whose ID is taken.
func (s *Store) Begin(ctx context.Context, r rotation.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkRecordKeys(r); err != nil {
		return fmt.Errorf("begin rotation: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.active[r.ClientID]; ok {
		return fmt.Errorf("begin rotation %s: app %s has unfinished rotation %s: %w",
			r.ID, r.ClientID, id, rotation.ErrInProgress)
	}
	if _, ok := s.records[r.ID]; ok {
		return fmt.Errorf("begin rotation %s: the ID is taken: %w", r.ID, rotation.ErrInvalid)
	}
	s.records[r.ID] = cloneRecord(r)
	if !r.State.Final() {
		s.active[r.ClientID] = r.ID
	}
	return nil
}

// Save implements rotation.Store. Besides ErrNotFound it returns ErrInvalid
// for a record without an ID or client ID, and ErrInProgress when r is
// unfinished while another record of the same app is.
func (s *Store) Save(ctx context.Context, r rotation.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkRecordKeys(r); err != nil {
		return fmt.Errorf("save rotation: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.records[r.ID]
	if !ok {
		return fmt.Errorf("save rotation %s: %w", r.ID, rotation.ErrNotFound)
	}
	if !r.State.Final() {
		if id, ok := s.active[r.ClientID]; ok && id != r.ID {
			return fmt.Errorf("save rotation %s: app %s has unfinished rotation %s: %w",
				r.ID, r.ClientID, id, rotation.ErrInProgress)
		}
	}
	if s.active[old.ClientID] == r.ID {
		delete(s.active, old.ClientID)
	}
	if !r.State.Final() {
		s.active[r.ClientID] = r.ID
	}
	s.records[r.ID] = cloneRecord(r)
	return nil
}

// Get implements rotation.Store.
func (s *Store) Get(ctx context.Context, id string) (rotation.Record, error) {
	if err := ctx.Err(); err != nil {
		return rotation.Record{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[id]
	if !ok {
		return rotation.Record{}, fmt.Errorf("get rotation %s: %w", id, rotation.ErrNotFound)
	}
	return cloneRecord(r), nil
}

// List implements rotation.Store: records matching f, by CreatedAt, then ID.
func (s *Store) List(ctx context.Context, f rotation.Filter) ([]rotation.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []rotation.Record
	for _, r := range s.records {
		if f.ClientID != "" && r.ClientID != f.ClientID {
			continue
		}
		if f.Unfinished && r.State.Final() {
			continue
		}
		out = append(out, cloneRecord(r))
	}
	slices.SortFunc(out, func(a, b rotation.Record) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

func checkRecordKeys(r rotation.Record) error {
	if r.ID == "" || r.ClientID == "" {
		return fmt.Errorf("record needs an ID and a client ID: %w", rotation.ErrInvalid)
	}
	return nil
}

// cloneRecord returns a copy of r that shares nothing with it. Record holds only
// values today; if it gains a slice, map or pointer, copy it here. Times lose
// their monotonic reading, as they would through a persistent store.
func cloneRecord(r rotation.Record) rotation.Record {
	for _, t := range []*time.Time{&r.End, &r.Start, &r.RetireAfter, &r.RetiredAt, &r.CreatedAt, &r.UpdatedAt, &r.LeaseUntil} {
		*t = t.Round(0)
	}
	return r
}
