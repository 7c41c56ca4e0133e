package kvstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/store/kv"
)

var _ rotation.Auditor = (*Store)(nil)

const (
	headKey   = "audit-head"
	postedKey = "audit-posted"
)

// head is the chain's last link.
type head struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

func auditKey(seq uint64) string { return fmt.Sprintf("e:%020d", seq) }

// Record implements rotation.Auditor: it appends e to the chain and
// returns once the record is stored, so the action e announces is taken
// only after its record exists.
func (s *Store) Record(ctx context.Context, e rotation.Event) error {
	_, err := s.Append(ctx, e)
	return err
}

// Append links e after the chain's last record. Concurrent appenders (and
// an appender that crashed between its two writes) are resolved by the
// records' create-only keys: each sequence number is written once.
func (s *Store) Append(ctx context.Context, e rotation.Event) (rotation.AuditRecord, error) {
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	if e.Ref == "" {
		// Whoever records it, a record written on behalf of an
		// interaction carries its reference (rotation.WithRef).
		e.Ref = rotation.RefFrom(ctx)
	}
	for range 32 {
		var h head
		etag, err := s.get(ctx, kv.TableMeta, headKey, &h)
		if err != nil && !errors.Is(err, kv.ErrNotFound) {
			return rotation.AuditRecord{}, fmt.Errorf("append audit record: %w", err)
		}
		rec := rotation.NextRecord(rotation.AuditRecord{Seq: h.Seq, Hash: h.Hash}, e)
		if _, err := s.put(ctx, kv.TableAudit, auditKey(rec.Seq), rec, ""); err != nil {
			if !errors.Is(err, kv.ErrExists) {
				return rotation.AuditRecord{}, fmt.Errorf("append audit record: %w", err)
			}
			// Record Seq exists: another appender won it, or crashed
			// before moving the head. Move the head to it and go again.
			var other rotation.AuditRecord
			if _, err := s.get(ctx, kv.TableAudit, auditKey(rec.Seq), &other); err != nil {
				return rotation.AuditRecord{}, fmt.Errorf("append audit record: %w", err)
			}
			_, _ = s.put(ctx, kv.TableMeta, headKey, head{Seq: other.Seq, Hash: other.Hash}, etag)
			continue
		}
		// Best effort: a lost race here is repaired by the next appender.
		_, _ = s.put(ctx, kv.TableMeta, headKey, head{Seq: rec.Seq, Hash: rec.Hash}, etag)
		return rec, nil
	}
	return rotation.AuditRecord{}, fmt.Errorf("append audit record: %w", rotation.ErrConflict)
}

// Records returns up to limit records after seq after, in order; limit 0
// returns them all, in one listing rather than one read per record.
func (s *Store) Records(ctx context.Context, after uint64, limit int) ([]rotation.AuditRecord, error) {
	if limit <= 0 {
		items, err := s.kv.List(ctx, kv.TableAudit, "e:", 0)
		if err != nil {
			return nil, fmt.Errorf("read the audit trail: %w", err)
		}
		var out []rotation.AuditRecord
		for _, it := range items {
			var r rotation.AuditRecord
			if err := decode(it, &r); err != nil {
				return nil, err
			}
			if r.Seq > after {
				out = append(out, r)
			}
		}
		return out, nil
	}
	var out []rotation.AuditRecord
	for seq := after + 1; len(out) < limit; seq++ {
		var r rotation.AuditRecord
		if _, err := s.get(ctx, kv.TableAudit, auditKey(seq), &r); errors.Is(err, kv.ErrNotFound) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("read audit record %d: %w", seq, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// VerifyAudit checks the whole chain, and that it ends where the stored
// head says, and returns the number of records checked.
func (s *Store) VerifyAudit(ctx context.Context) (uint64, error) {
	items, err := s.kv.List(ctx, kv.TableAudit, "e:", 0)
	if err != nil {
		return 0, fmt.Errorf("read the audit trail: %w", err)
	}
	recs := make([]rotation.AuditRecord, 0, len(items))
	for _, it := range items {
		var r rotation.AuditRecord
		if err := decode(it, &r); err != nil {
			return 0, fmt.Errorf("%w: %w", rotation.ErrChainBroken, err)
		}
		if it.Key != auditKey(r.Seq) {
			return 0, fmt.Errorf("%w: record %d is stored under %s", rotation.ErrChainBroken, r.Seq, it.Key)
		}
		recs = append(recs, r)
	}
	if err := rotation.VerifyChain(recs, 0, ""); err != nil {
		return 0, err
	}
	var h head
	if _, err := s.get(ctx, kv.TableMeta, headKey, &h); err != nil && !errors.Is(err, kv.ErrNotFound) {
		return 0, err
	}
	n := uint64(len(recs))
	last := rotation.AuditRecord{}
	if n > 0 {
		last = recs[n-1]
	}
	// The head may lag one record behind (an appender between its writes),
	// never ahead, and never disagree.
	switch {
	case h.Seq > last.Seq:
		return 0, fmt.Errorf("%w: the head names record %d but the trail ends at %d", rotation.ErrChainBroken, h.Seq, last.Seq)
	case h.Seq > 0 && recs[h.Seq-1].Hash != h.Hash:
		return 0, fmt.Errorf("%w: record %d differs from the head", rotation.ErrChainBroken, h.Seq)
	}
	// The audit channel's cursor never runs ahead of the trail: if it
	// does, records were removed from the end after Teams received them.
	posted, _, err := s.Posted(ctx)
	if err != nil {
		return 0, err
	}
	if posted > last.Seq {
		return 0, fmt.Errorf("%w: record %d was posted to the audit channel, but the trail ends at %d: records were removed from its end", rotation.ErrChainBroken, posted, last.Seq)
	}
	return n, nil
}

// cursor is how far the audit channel has been posted.
type cursor struct {
	Seq uint64 `json:"seq"`
}

// Posted returns the last record posted to the audit channel and the
// cursor's ETag.
func (s *Store) Posted(ctx context.Context) (uint64, string, error) {
	var c cursor
	etag, err := s.get(ctx, kv.TableMeta, postedKey, &c)
	if errors.Is(err, kv.ErrNotFound) {
		return 0, "", nil
	}
	return c.Seq, etag, err
}

// SetPosted moves the cursor to seq if it is still at etag ("" when never
// set); it returns the new ETag. Errors: rotation.ErrConflict.
func (s *Store) SetPosted(ctx context.Context, seq uint64, etag string) (string, error) {
	tag, err := s.put(ctx, kv.TableMeta, postedKey, cursor{Seq: seq}, etag)
	return tag, domainErr(err)
}

// AuditHead returns the sequence number of the chain's last record.
func (s *Store) AuditHead(ctx context.Context) (uint64, error) {
	var h head
	if _, err := s.get(ctx, kv.TableMeta, headKey, &h); err != nil && !errors.Is(err, kv.ErrNotFound) {
		return 0, err
	}
	// The head may lag one appender behind; the records decide.
	for {
		var r rotation.AuditRecord
		if _, err := s.get(ctx, kv.TableAudit, auditKey(h.Seq+1), &r); err != nil {
			if errors.Is(err, kv.ErrNotFound) {
				return h.Seq, nil
			}
			return 0, err
		}
		h.Seq = r.Seq
	}
}
