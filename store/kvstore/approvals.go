package kvstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/store/kv"
)

var _ rotation.ApprovalStore = (*Store)(nil)

func approvalKey(id string) string { return "req:" + escape(id) }

// CreateApproval implements rotation.ApprovalStore.
func (s *Store) CreateApproval(ctx context.Context, r rotation.ApprovalRequest) error {
	if _, err := s.put(ctx, kv.TableApprovals, approvalKey(r.ID), r, ""); err != nil {
		return fmt.Errorf("create request %s: %w", r.ID, domainErr(err))
	}
	return nil
}

// GetApproval implements rotation.ApprovalStore.
func (s *Store) GetApproval(ctx context.Context, id string) (rotation.ApprovalRequest, string, error) {
	var r rotation.ApprovalRequest
	etag, err := s.get(ctx, kv.TableApprovals, approvalKey(id), &r)
	if err != nil {
		return rotation.ApprovalRequest{}, "", fmt.Errorf("get request %s: %w", id, domainErr(err))
	}
	return r, etag, nil
}

// UpdateApproval implements rotation.ApprovalStore.
func (s *Store) UpdateApproval(ctx context.Context, r rotation.ApprovalRequest, etag string) (string, error) {
	if etag == "" {
		return "", fmt.Errorf("update request %s: no ETag: %w", r.ID, rotation.ErrConflict)
	}
	tag, err := s.put(ctx, kv.TableApprovals, approvalKey(r.ID), r, etag)
	if err != nil {
		return "", fmt.Errorf("update request %s: %w", r.ID, domainErr(err))
	}
	return tag, nil
}

// ListApprovals implements rotation.ApprovalStore.
func (s *Store) ListApprovals(ctx context.Context) ([]rotation.ApprovalRequest, error) {
	items, err := s.kv.List(ctx, kv.TableApprovals, "req:", 0)
	if err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}
	var out []rotation.ApprovalRequest
	for _, it := range items {
		var r rotation.ApprovalRequest
		if err := decode(it, &r); err != nil {
			return nil, err
		}
		if !r.State.Final() {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

func decode(it kv.Item, v any) error {
	if err := json.Unmarshal(it.Value, v); err != nil {
		return fmt.Errorf("decode %s: %w", it.Key, err)
	}
	return nil
}
