package kvstore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/store/kv"
)

var _ rotation.Store = (*Store)(nil)

// staleMarker is how old a lock marker without its record must be before
// another Begin may take it over (its writer crashed between the two
// writes).
const staleMarker = time.Minute

// marker is the per-app lock: the ID of the app's unfinished rotation.
type marker struct {
	ID    string    `json:"id"`
	Since time.Time `json:"since"`
}

func recKey(id string) string          { return "rec:" + escape(id) }
func markerKey(clientID string) string { return "active:" + escape(strings.ToLower(clientID)) }

// Begin implements rotation.Store. The lock marker is written first, so of
// two replicas beginning a rotation of one app exactly one wins; a marker
// whose rotation is final, or whose record never appeared, is taken over.
func (s *Store) Begin(ctx context.Context, r rotation.Record) error {
	if r.ID == "" || r.ClientID == "" {
		return fmt.Errorf("begin: record needs an ID and a client ID: %w", rotation.ErrInvalid)
	}
	for attempt := 0; ; attempt++ {
		_, err := s.put(ctx, kv.TableJournal, markerKey(r.ClientID), marker{ID: r.ID, Since: s.now()}, "")
		if err == nil {
			break
		}
		if !errors.Is(err, kv.ErrExists) || attempt > 2 {
			return fmt.Errorf("begin %s: %w", r.ID, domainErr(err))
		}
		var m marker
		etag, gerr := s.get(ctx, kv.TableJournal, markerKey(r.ClientID), &m)
		if errors.Is(gerr, kv.ErrNotFound) {
			continue
		}
		if gerr != nil {
			return fmt.Errorf("begin %s: %w", r.ID, gerr)
		}
		var held rotation.Record
		_, rerr := s.get(ctx, kv.TableJournal, recKey(m.ID), &held)
		switch {
		case rerr == nil && !held.State.Final(), rerr != nil && !errors.Is(rerr, kv.ErrNotFound),
			errors.Is(rerr, kv.ErrNotFound) && s.now().Sub(m.Since) < staleMarker:
			return fmt.Errorf("begin %s: rotation %s of %s: %w", r.ID, m.ID, r.ClientID, rotation.ErrInProgress)
		}
		if err := s.kv.Delete(ctx, kv.TableJournal, markerKey(r.ClientID), etag); err != nil && !errors.Is(err, kv.ErrConflict) {
			return fmt.Errorf("begin %s: release a stale lock: %w", r.ID, err)
		}
	}
	if _, err := s.put(ctx, kv.TableJournal, recKey(r.ID), r, ""); err != nil {
		_ = s.releaseMarker(ctx, r.ClientID, r.ID)
		if errors.Is(err, kv.ErrExists) {
			return fmt.Errorf("begin: record %s exists: %w", r.ID, rotation.ErrInvalid)
		}
		return fmt.Errorf("begin %s: %w", r.ID, err)
	}
	return nil
}

// Save implements rotation.Store, keeping the lock in step with the state.
// A save that would take the record over from another holder whose lease
// has not run out is refused with rotation.ErrInProgress; since the write
// is conditional on the ETag of the version checked, of two replicas taking
// over one expired record exactly one wins.
func (s *Store) Save(ctx context.Context, r rotation.Record) error {
	for {
		var cur rotation.Record
		etag, err := s.get(ctx, kv.TableJournal, recKey(r.ID), &cur)
		if err != nil {
			return fmt.Errorf("save %s: %w", r.ID, domainErr(err))
		}
		if r.Owner != "" && cur.Owner != "" && cur.Owner != r.Owner && s.now().Before(cur.LeaseUntil) {
			return fmt.Errorf("save %s: leased to %s until %s: %w", r.ID, cur.Owner, cur.LeaseUntil.UTC().Format(time.RFC3339), rotation.ErrInProgress)
		}
		if _, err := s.put(ctx, kv.TableJournal, recKey(r.ID), r, etag); errors.Is(err, kv.ErrConflict) {
			continue
		} else if err != nil {
			return fmt.Errorf("save %s: %w", r.ID, domainErr(err))
		}
		break
	}
	if r.State.Final() {
		return s.releaseMarker(ctx, r.ClientID, r.ID)
	}
	return nil
}

// releaseMarker deletes the app's lock if it is id's.
func (s *Store) releaseMarker(ctx context.Context, clientID, id string) error {
	var m marker
	etag, err := s.get(ctx, kv.TableJournal, markerKey(clientID), &m)
	if errors.Is(err, kv.ErrNotFound) || (err == nil && m.ID != id) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("release the lock of %s: %w", clientID, err)
	}
	if err := s.kv.Delete(ctx, kv.TableJournal, markerKey(clientID), etag); err != nil && !errors.Is(err, kv.ErrConflict) {
		return fmt.Errorf("release the lock of %s: %w", clientID, err)
	}
	return nil
}

// Get implements rotation.Store.
func (s *Store) Get(ctx context.Context, id string) (rotation.Record, error) {
	var r rotation.Record
	if _, err := s.get(ctx, kv.TableJournal, recKey(id), &r); err != nil {
		return rotation.Record{}, fmt.Errorf("get %s: %w", id, domainErr(err))
	}
	return r, nil
}

// List implements rotation.Store.
func (s *Store) List(ctx context.Context, f rotation.Filter) ([]rotation.Record, error) {
	items, err := s.kv.List(ctx, kv.TableJournal, "rec:", 0)
	if err != nil {
		return nil, fmt.Errorf("list the journal: %w", err)
	}
	var out []rotation.Record
	for _, it := range items {
		var r rotation.Record
		if err := decode(it, &r); err != nil {
			return nil, err
		}
		if f.ClientID != "" && !strings.EqualFold(r.ClientID, f.ClientID) || f.Unfinished && r.State.Final() {
			continue
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}
