package kvstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keyturn/keyturn/store/kv"
)

// The outbox holds what must still reach Teams: request IDs whose card
// must be brought up to date. An entry is written before the update is
// tried and removed once Teams took it, so a failed update, or a crash in
// between, leaves it for the scheduler to retry.

func cardKey(id string) string { return "card:" + escape(id) }

// pendingCard is an outbox entry.
type pendingCard struct {
	ID    string    `json:"id"`
	Since time.Time `json:"since"`
}

// CardPending records that request id's card must be updated and returns
// the entry's ETag; CardDone with that ETag removes it. Marking an entry
// again changes its ETag, so a later change is never dropped by an
// earlier success.
func (s *Store) CardPending(ctx context.Context, id string) (string, error) {
	key := cardKey(id)
	for range 4 {
		it, err := s.kv.Get(ctx, kv.TableOutbox, key)
		var tag string
		switch {
		case errors.Is(err, kv.ErrNotFound):
			tag, err = s.put(ctx, kv.TableOutbox, key, pendingCard{ID: id, Since: s.now()}, "")
		case err == nil:
			tag, err = s.put(ctx, kv.TableOutbox, key, pendingCard{ID: id, Since: s.now()}, it.ETag)
		}
		if !errors.Is(err, kv.ErrExists) && !errors.Is(err, kv.ErrConflict) {
			return tag, err
		}
	}
	return "", fmt.Errorf("mark card %s: %w", id, kv.ErrConflict)
}

// CardDone removes request id's outbox entry if it is still at etag.
func (s *Store) CardDone(ctx context.Context, id, etag string) error {
	if err := s.kv.Delete(ctx, kv.TableOutbox, cardKey(id), etag); err != nil && !errors.Is(err, kv.ErrConflict) {
		return err
	}
	return nil
}

// CardsPending returns the request IDs whose card must still be updated,
// with each entry's ETag, at most limit of them (0: all).
func (s *Store) CardsPending(ctx context.Context, limit int) (map[string]string, error) {
	items, err := s.kv.List(ctx, kv.TableOutbox, "card:", limit)
	if err != nil {
		return nil, fmt.Errorf("list pending cards: %w", err)
	}
	out := make(map[string]string, len(items))
	for _, it := range items {
		var p pendingCard
		if err := decode(it, &p); err != nil {
			return nil, err
		}
		out[p.ID] = it.ETag
	}
	return out, nil
}

// The connector service URLs that arrived on authenticated activities are
// kept with the conversation references, so every replica, and the next
// start, may post to them.

func serviceURLKey(u string) string { return "svc:" + escape(strings.ToLower(u)) }

// serviceURL is a stored allowed service URL.
type serviceURL struct {
	URL   string    `json:"url"`
	Since time.Time `json:"since"`
}

// AllowServiceURL records u (already normalised by the caller) as a
// service URL the connector may post to. Recording it twice is fine.
func (s *Store) AllowServiceURL(ctx context.Context, u string) error {
	_, err := s.put(ctx, kv.TableRefs, serviceURLKey(u), serviceURL{URL: u, Since: s.now()}, "")
	if errors.Is(err, kv.ErrExists) {
		return nil
	}
	return err
}

// ServiceURLAllowed reports whether u was recorded by AllowServiceURL.
func (s *Store) ServiceURLAllowed(ctx context.Context, u string) (bool, error) {
	_, err := s.kv.Get(ctx, kv.TableRefs, serviceURLKey(u))
	if errors.Is(err, kv.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
