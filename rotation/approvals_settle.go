package rotation

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Unsettled returns the requests that are not final (pending, approved or
// running), oldest first: what a scheduler must expire, start or
// reconcile.
func (a *Approvals) Unsettled(ctx context.Context) ([]ApprovalRequest, error) {
	return a.Store.ListApprovals(ctx)
}

// Reconcile brings the running request id in line with its rotation's
// journal record, for a runner that died (or gave up on an incomplete
// rotation) before recording the outcome: a final record gives the request
// its outcome, done or failed; a record still unfinished leaves it running
// (recovery settles the record first). A request that has been running for
// stale with no record at all was claimed by a runner that stopped before
// the rotation began, and fails, audited; nothing was changed, since the
// journal is written before any change. It reports whether it changed the
// request. Errors: store errors, ErrAuditFailed.
func (a *Approvals) Reconcile(ctx context.Context, id string, stale time.Duration) (ApprovalRequest, bool, error) {
	for range maxDecisionRetries {
		r, etag, err := a.Store.GetApproval(ctx, id)
		if err != nil || r.State != ApprovalRunning {
			return r, false, err
		}
		rec, err := a.Rotator.Store.Get(ctx, id)
		now := a.Clock.Now()
		switch {
		case errors.Is(err, ErrNotFound):
			if now.Sub(r.UpdatedAt) < stale {
				return r, false, nil
			}
			if err := a.audit(ctx, Event{Type: EventFailed, RequestID: r.ID, ClientID: r.ClientID, Vault: r.VaultURI,
				Detail: "the approved rotation's runner stopped before the rotation began; nothing was changed"}); err != nil {
				return r, false, err
			}
			r.State, r.Reason, r.Result = ApprovalFailed, "runner stopped before the rotation began", Result{RequestID: r.ID, ClientID: r.ClientID, AppName: r.AppName}
		case err != nil:
			return r, false, fmt.Errorf("reconcile %s: %w", id, err)
		case !rec.State.Final():
			return r, false, nil
		default:
			r.Result, r.State, r.Reason = resultOf(rec), ApprovalDone, ""
			if rec.State != StateDone {
				r.State, r.Reason = ApprovalFailed, rec.Error
			}
		}
		r.UpdatedAt = now
		if _, err := a.Store.UpdateApproval(ctx, r, etag); errors.Is(err, ErrConflict) {
			continue
		} else if err != nil {
			return r, false, fmt.Errorf("reconcile %s: %w", id, err)
		}
		return r, true, nil
	}
	return ApprovalRequest{}, false, fmt.Errorf("reconcile %s: %w", id, ErrConflict)
}
