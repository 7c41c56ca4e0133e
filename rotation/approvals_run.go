package rotation

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Run claims the approved request id (exactly one caller wins) and runs
// its rotation, recording the outcome on the request; a rotation that
// stopped unfinished leaves the request running until Reconcile finds its
// journal record settled. A request another
// runner claimed, or that is not approved, returns ErrNotPending.
func (a *Approvals) Run(ctx context.Context, id string) (ApprovalRequest, error) {
	r, etag, err := a.Store.GetApproval(ctx, id)
	if err != nil {
		return ApprovalRequest{}, err
	}
	if r.State != ApprovalApproved {
		return r, fmt.Errorf("run %s: %w (%s)", id, ErrNotPending, r.State)
	}
	if r.Digest == "" || r.ComputeDigest() != r.Digest {
		// What was approved is not what is stored: run nothing, and end
		// the request so that its card says so.
		a.denied(ctx, Principal{ObjectID: "keyturn"}, "", r.ClientID, r.ID, "run: the stored request no longer matches the digest its approvers approved")
		r.State, r.Reason, r.UpdatedAt = ApprovalFailed, "the stored request no longer matches what was approved", a.Clock.Now()
		r.Cause = CauseOf(ErrTampered)
		if _, err := a.Store.UpdateApproval(ctx, r, etag); err != nil {
			return r, fmt.Errorf("run %s: %w (and ending it: %w)", id, ErrTampered, err)
		}
		return r, fmt.Errorf("run %s: %w", id, ErrTampered)
	}
	r.State, r.UpdatedAt = ApprovalRunning, a.Clock.Now()
	if etag, err = a.Store.UpdateApproval(ctx, r, etag); err != nil {
		if errors.Is(err, ErrConflict) {
			return r, fmt.Errorf("run %s: %w (claimed by another runner)", id, ErrNotPending)
		}
		return r, err
	}
	res, rerr := a.Rotator.Rotate(ctx, Request{
		ID: r.ID, ClientID: r.ClientID, VaultURI: r.VaultURI, ClientIDName: r.ClientIDName, SecretName: r.SecretName,
		Lifetime: r.Lifetime, Overlap: r.Overlap, RequestedBy: r.RequestedBy.String(), ApprovedBy: r.ApprovedBy(),
		CheckRetire: r.BindsRetire, RetireKeyID: r.Plan.PreviousKeyID,
	})
	r.Result, r.UpdatedAt, r.Cause = res, a.Clock.Now(), CauseOf(rerr)
	r.State = ApprovalDone
	switch {
	case errors.Is(rerr, ErrSuperseded), errors.Is(rerr, ErrInProgress):
		// Nothing was changed: the card says what was approved, and that
		// is no longer (or, with another rotation of the app under way,
		// soon no longer) what would happen.
		a.auditQuiet(ctx, Event{Type: EventSuperseded, RequestID: r.ID, ClientID: r.ClientID, Vault: r.VaultURI, KeyID: r.Plan.PreviousKeyID, Detail: rerr.Error()})
		r.State, r.Reason = ApprovalSuperseded, rerr.Error()
	case rerr != nil:
		r.State, r.Reason = ApprovalFailed, rerr.Error()
		if res.State != "" && !res.State.Final() {
			// Journaled and unfinished: recovery finishes or undoes it,
			// and Reconcile then records that outcome.
			r.State = ApprovalRunning
		}
	}
	for range maxDecisionRetries {
		_, err = a.Store.UpdateApproval(ctx, r, etag)
		if !errors.Is(err, ErrConflict) {
			break
		}
		// Progress updates may have moved the ETag: keep them, set the outcome.
		cur, tag, gerr := a.Store.GetApproval(ctx, id)
		if gerr != nil {
			err = gerr
			break
		}
		cur.Result, cur.State, cur.Reason, cur.UpdatedAt, cur.Cause = r.Result, r.State, r.Reason, r.UpdatedAt, r.Cause
		r, etag = cur, tag
	}
	if err != nil {
		return r, errors.Join(rerr, fmt.Errorf("record the outcome: %w", err))
	}
	return r, rerr
}

// Progress records verification progress on a running request, best
// effort: progress is for people watching, not for correctness.
func (a *Approvals) Progress(ctx context.Context, id string, verified, needed int) (ApprovalRequest, error) {
	for range maxDecisionRetries {
		r, etag, err := a.Store.GetApproval(ctx, id)
		if err != nil {
			return r, err
		}
		if r.State != ApprovalRunning {
			return r, nil
		}
		r.Verified, r.Needed = verified, needed
		if _, err = a.Store.UpdateApproval(ctx, r, etag); !errors.Is(err, ErrConflict) {
			return r, err
		}
	}
	return ApprovalRequest{}, ErrConflict
}

// ExpireDue expires the pending requests whose time is up and returns them.
func (a *Approvals) ExpireDue(ctx context.Context) ([]ApprovalRequest, error) {
	open, err := a.Store.ListApprovals(ctx)
	if err != nil {
		return nil, err
	}
	now := a.Clock.Now()
	var out []ApprovalRequest
	var errs []error
	for _, r := range open {
		if r.State != ApprovalPending || now.Before(r.ExpiresAt) {
			continue
		}
		_, etag, err := a.Store.GetApproval(ctx, r.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		got, err := a.expire(ctx, r, etag)
		if err != nil {
			if !errors.Is(err, ErrConflict) {
				errs = append(errs, err)
			}
			continue
		}
		out = append(out, got)
	}
	return out, errors.Join(errs...)
}

func (a *Approvals) expire(ctx context.Context, r ApprovalRequest, etag string) (ApprovalRequest, error) {
	if r.State != ApprovalPending {
		return r, nil
	}
	if err := a.audit(ctx, Event{Type: EventExpired, RequestID: r.ID, ClientID: r.ClientID, Detail: "no decision before " + r.ExpiresAt.UTC().Format(time.RFC3339)}); err != nil {
		return r, err
	}
	r.State, r.UpdatedAt = ApprovalExpired, a.Clock.Now()
	if _, err := a.Store.UpdateApproval(ctx, r, etag); err != nil {
		return r, err
	}
	return r, nil
}

// Get returns the request id.
func (a *Approvals) Get(ctx context.Context, id string) (ApprovalRequest, error) {
	r, _, err := a.Store.GetApproval(ctx, id)
	return r, err
}

// EditCard changes the card data kept on request id. edit gets the card as
// stored (nil when there is none) and returns the new card and whether it
// changed it. The write is conditional on the request as read; on a
// conflict (another replica changed the request meanwhile) edit is called
// again on what is stored now, so concurrent edits all land. It returns
// the request as stored and whether edit's change was written.
func (a *Approvals) EditCard(ctx context.Context, id string, edit func(card []byte) ([]byte, bool)) (ApprovalRequest, bool, error) {
	for range maxDecisionRetries {
		r, etag, err := a.Store.GetApproval(ctx, id)
		if err != nil {
			return r, false, err
		}
		card, changed := edit(r.Card)
		if !changed {
			return r, false, nil
		}
		r.Card = card
		if _, err = a.Store.UpdateApproval(ctx, r, etag); !errors.Is(err, ErrConflict) {
			return r, err == nil, err
		}
	}
	return ApprovalRequest{}, false, ErrConflict
}

// AttachCard records the bot's data about the card showing request id.
func (a *Approvals) AttachCard(ctx context.Context, id string, card []byte) error {
	for range maxDecisionRetries {
		r, etag, err := a.Store.GetApproval(ctx, id)
		if err != nil {
			return err
		}
		r.Card = card
		if _, err = a.Store.UpdateApproval(ctx, r, etag); !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return ErrConflict
}
