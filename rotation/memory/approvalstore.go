package memory

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"

	"github.com/keyturn/keyturn/rotation"
)

// ApprovalStore is an in-memory rotation.ApprovalStore with ETags.
type ApprovalStore struct {
	mu   sync.Mutex
	reqs map[string]rotation.ApprovalRequest
	tags map[string]string
	seq  int
}

var _ rotation.ApprovalStore = (*ApprovalStore)(nil)

// NewApprovalStore returns an empty store.
func NewApprovalStore() *ApprovalStore {
	return &ApprovalStore{reqs: map[string]rotation.ApprovalRequest{}, tags: map[string]string{}}
}

// CreateApproval implements rotation.ApprovalStore.
func (m *ApprovalStore) CreateApproval(_ context.Context, r rotation.ApprovalRequest) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.reqs[r.ID]; ok {
		return fmt.Errorf("create %s: %w", r.ID, rotation.ErrConflict)
	}
	m.put(r)
	return nil
}

// GetApproval implements rotation.ApprovalStore.
func (m *ApprovalStore) GetApproval(_ context.Context, id string) (rotation.ApprovalRequest, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.reqs[id]
	if !ok {
		return rotation.ApprovalRequest{}, "", fmt.Errorf("request %s: %w", id, rotation.ErrNotFound)
	}
	return cloneApproval(r), m.tags[id], nil
}

// UpdateApproval implements rotation.ApprovalStore.
func (m *ApprovalStore) UpdateApproval(_ context.Context, r rotation.ApprovalRequest, etag string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.reqs[r.ID]; !ok {
		return "", fmt.Errorf("request %s: %w", r.ID, rotation.ErrNotFound)
	}
	if m.tags[r.ID] != etag {
		return "", fmt.Errorf("request %s: %w", r.ID, rotation.ErrConflict)
	}
	return m.put(r), nil
}

// ListApprovals implements rotation.ApprovalStore.
func (m *ApprovalStore) ListApprovals(context.Context) ([]rotation.ApprovalRequest, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []rotation.ApprovalRequest
	for _, r := range m.reqs {
		if !r.State.Final() {
			out = append(out, cloneApproval(r))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

func (m *ApprovalStore) put(r rotation.ApprovalRequest) string {
	m.seq++
	m.reqs[r.ID] = cloneApproval(r)
	m.tags[r.ID] = strconv.Itoa(m.seq)
	return m.tags[r.ID]
}

func cloneApproval(r rotation.ApprovalRequest) rotation.ApprovalRequest {
	r.Approvals = append([]rotation.Approval(nil), r.Approvals...)
	r.Approvers = append([]rotation.RoleSource(nil), r.Approvers...)
	r.Card = append([]byte(nil), r.Card...)
	r.Plan.Passwords = append([]rotation.PasswordCredential(nil), r.Plan.Passwords...)
	r.Plan.Notes = append([]string(nil), r.Plan.Notes...)
	return r
}
