package kvstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keyturn/keyturn/store/kv"
)

// lease is who holds a named lease until when.
type lease struct {
	Holder string    `json:"holder"`
	Until  time.Time `json:"until"`
}

// Acquire takes or renews the lease name for holder for ttl, and reports
// whether holder has it. Of several replicas asking at once, one wins.
func (s *Store) Acquire(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	key := "lease:" + escape(name)
	var l lease
	etag, err := s.get(ctx, kv.TableLeases, key, &l)
	switch {
	case errors.Is(err, kv.ErrNotFound):
		etag = ""
	case err != nil:
		return false, fmt.Errorf("lease %s: %w", name, err)
	case l.Holder != holder && s.now().Before(l.Until):
		return false, nil
	}
	_, err = s.put(ctx, kv.TableLeases, key, lease{Holder: holder, Until: s.now().Add(ttl)}, etag)
	if errors.Is(err, kv.ErrExists) || errors.Is(err, kv.ErrConflict) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lease %s: %w", name, err)
	}
	return true, nil
}

// Release gives the lease up if holder has it.
func (s *Store) Release(ctx context.Context, name, holder string) error {
	key := "lease:" + escape(name)
	var l lease
	etag, err := s.get(ctx, kv.TableLeases, key, &l)
	if errors.Is(err, kv.ErrNotFound) || (err == nil && l.Holder != holder) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.kv.Delete(ctx, kv.TableLeases, key, etag); err != nil && !errors.Is(err, kv.ErrConflict) {
		return err
	}
	return nil
}

// seen is a processed activity.
type seen struct {
	At time.Time `json:"at"`
}

// FirstSeen records key (a delivery of an activity) and reports whether it
// was new; with several replicas exactly one sees it first.
func (s *Store) FirstSeen(ctx context.Context, key string) (bool, error) {
	_, err := s.put(ctx, kv.TableDedup, "d:"+escape(key), seen{At: s.now()}, "")
	if errors.Is(err, kv.ErrExists) {
		return false, nil
	}
	return err == nil, err
}

// Forget drops key so a re-delivery is taken.
func (s *Store) Forget(ctx context.Context, key string) error {
	return s.kv.Delete(ctx, kv.TableDedup, "d:"+escape(key), "")
}

// PruneSeen drops processed-activity records older than age and returns
// how many it dropped.
func (s *Store) PruneSeen(ctx context.Context, age time.Duration) (int, error) {
	items, err := s.kv.List(ctx, kv.TableDedup, "d:", 0)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, it := range items {
		var v seen
		if decode(it, &v) == nil && s.now().Sub(v.At) > age {
			if err := s.kv.Delete(ctx, kv.TableDedup, it.Key, it.ETag); err == nil {
				n++
			}
		}
	}
	return n, nil
}

// SaveRef stores data (a conversation reference, JSON) under conversation.
func (s *Store) SaveRef(ctx context.Context, conversation string, data []byte) error {
	key := "ref:" + escape(conversation)
	for range 4 {
		it, err := s.kv.Get(ctx, kv.TableRefs, key)
		if errors.Is(err, kv.ErrNotFound) {
			_, err = s.kv.Create(ctx, kv.TableRefs, key, data)
		} else if err == nil {
			_, err = s.kv.Update(ctx, kv.TableRefs, key, data, it.ETag)
		}
		if !errors.Is(err, kv.ErrExists) && !errors.Is(err, kv.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("save reference: %w", kv.ErrConflict)
}

// Ref returns the data stored under conversation. Errors: kv.ErrNotFound.
func (s *Store) Ref(ctx context.Context, conversation string) ([]byte, error) {
	it, err := s.kv.Get(ctx, kv.TableRefs, "ref:"+escape(conversation))
	return it.Value, err
}

// DeleteRef removes the reference of conversation.
func (s *Store) DeleteRef(ctx context.Context, conversation string) error {
	return s.kv.Delete(ctx, kv.TableRefs, "ref:"+escape(conversation), "")
}

// Setting reads a named setting (such as the audit channel) into v.
// Errors: kv.ErrNotFound, also matching rotation.ErrNotFound.
func (s *Store) Setting(ctx context.Context, name string, v any) error {
	_, err := s.get(ctx, kv.TableMeta, "set:"+escape(name), v)
	return domainErr(err)
}

// SetSetting stores a named setting, replacing any value.
func (s *Store) SetSetting(ctx context.Context, name string, v any) error {
	key := "set:" + escape(name)
	for range 4 {
		var old any
		etag, err := s.get(ctx, kv.TableMeta, key, &old)
		if errors.Is(err, kv.ErrNotFound) {
			etag = ""
		} else if err != nil {
			return err
		}
		_, err = s.put(ctx, kv.TableMeta, key, v, etag)
		if !errors.Is(err, kv.ErrExists) && !errors.Is(err, kv.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("set %s: %w", name, kv.ErrConflict)
}

// Ping checks the backend answers.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.kv.List(ctx, kv.TableMeta, "ping-", 1)
	return err
}
