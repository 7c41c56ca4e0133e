package rotationtest

import (
	"context"

	"github.com/keyturn/keyturn/rotation"
)

// Approvals wraps s, the approval requests' store, with the ops
// "approvals.Create", "approvals.Get", "approvals.Update" and
// "approvals.List".
func (f *Faults) Approvals(s rotation.ApprovalStore) rotation.ApprovalStore {
	return faultyApprovals{f, s}
}

type faultyApprovals struct {
	f *Faults
	s rotation.ApprovalStore
}

func (x faultyApprovals) CreateApproval(ctx context.Context, r rotation.ApprovalRequest) error {
	return do0(x.f, "approvals.Create", func() error { return x.s.CreateApproval(ctx, r) })
}

func (x faultyApprovals) GetApproval(ctx context.Context, id string) (rotation.ApprovalRequest, string, error) {
	type got struct {
		r    rotation.ApprovalRequest
		etag string
	}
	g, err := do(x.f, "approvals.Get", func() (got, error) {
		r, etag, err := x.s.GetApproval(ctx, id)
		return got{r, etag}, err
	})
	return g.r, g.etag, err
}

func (x faultyApprovals) UpdateApproval(ctx context.Context, r rotation.ApprovalRequest, etag string) (string, error) {
	return do(x.f, "approvals.Update", func() (string, error) { return x.s.UpdateApproval(ctx, r, etag) })
}

func (x faultyApprovals) ListApprovals(ctx context.Context) ([]rotation.ApprovalRequest, error) {
	return do(x.f, "approvals.List", func() ([]rotation.ApprovalRequest, error) { return x.s.ListApprovals(ctx) })
}
