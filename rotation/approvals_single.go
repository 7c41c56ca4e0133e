package rotation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors of the one-request-per-app rule.
var (
	// ErrRequestOpen means the app already has an open request (pending,
	// approved or running): a second one is refused, as an
	// *OpenRequestError that names the first.
	ErrRequestOpen = errors.New("the application already has an open request")
	// ErrSuperseded means another rotation of the app made the request
	// stale: the credential it would retire is no longer the one the vault
	// holds. It can no longer be approved or run.
	ErrSuperseded = errors.New("request superseded by another rotation")
)

// OpenRequestError is the refusal of a second request for an app: Open
// names the request that is open, so the reply can point to its card.
type OpenRequestError struct {
	Open ApprovalRequest
}

// Error implements error.
func (e *OpenRequestError) Error() string {
	return fmt.Sprintf("%s: request %s (%s) by %s", ErrRequestOpen, e.Open.ID, e.Open.State, e.Open.RequestedBy)
}

// Unwrap makes errors.Is(err, ErrRequestOpen) hold.
func (e *OpenRequestError) Unwrap() error { return ErrRequestOpen }

// openFor returns the open request for the app ask names in ask's
// tenant, if there is one. A pending request past its expiry does not
// count: the scheduler ends it.
func (a *Approvals) openFor(ctx context.Context, ask Ask, now time.Time) (ApprovalRequest, bool, error) {
	open, err := a.Store.ListApprovals(ctx)
	if err != nil {
		return ApprovalRequest{}, false, fmt.Errorf("list open requests: %w", err)
	}
	for _, r := range open {
		if r.State.Final() || !strings.EqualFold(r.ClientID, ask.Request.ClientID) || !strings.EqualFold(r.TenantID, ask.TenantID) {
			continue
		}
		if r.State == ApprovalPending && !now.Before(r.ExpiresAt) {
			continue
		}
		return r, true, nil
	}
	return ApprovalRequest{}, false, nil
}

// OpenFor returns the open request for the app clientID in tenantID, if
// there is one: what a second request for the app would be refused for.
func (a *Approvals) OpenFor(ctx context.Context, tenantID, clientID string) (ApprovalRequest, bool, error) {
	return a.openFor(ctx, Ask{TenantID: tenantID, Request: Request{ClientID: clientID}}, a.Clock.Now())
}

// refuseSecond refuses ask, audited, when its app has an open request.
func (a *Approvals) refuseSecond(ctx context.Context, ask Ask, id string) error {
	first, ok, err := a.openFor(ctx, ask, a.Clock.Now())
	if err != nil {
		return err
	}
	if !ok {
		return nil
	}
	_ = a.denied(ctx, ask.Caller, ActionRequest, ask.Request.ClientID, id, "request: "+first.ID+" is open for this app ("+string(first.State)+")")
	return &OpenRequestError{Open: first}
}

// SupersedeStale ends the requests for done's app that wait for decisions
// or a runner, now that done's rotation changed the secret they would
// retire, and returns them so that their cards can say so. Each is
// audited; a request decided meanwhile is left alone.
func (a *Approvals) SupersedeStale(ctx context.Context, done ApprovalRequest) ([]ApprovalRequest, error) {
	open, err := a.Store.ListApprovals(ctx)
	if err != nil {
		return nil, fmt.Errorf("list open requests: %w", err)
	}
	var out []ApprovalRequest
	var errs []error
	for _, r := range open {
		if r.ID == done.ID || !strings.EqualFold(r.ClientID, done.ClientID) || !strings.EqualFold(r.TenantID, done.TenantID) {
			continue
		}
		got, err := a.supersede(ctx, r.ID, done.ID, "the app was rotated by request "+done.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if got.State == ApprovalSuperseded {
			out = append(out, got)
		}
	}
	return out, errors.Join(errs...)
}

// supersede ends request id as superseded by byID, if it still waits for
// decisions or a runner.
func (a *Approvals) supersede(ctx context.Context, id, byID, why string) (ApprovalRequest, error) {
	for range maxDecisionRetries {
		r, etag, err := a.Store.GetApproval(ctx, id)
		if err != nil {
			return r, err
		}
		if r.State != ApprovalPending && r.State != ApprovalApproved {
			return r, nil // decided, claimed by a runner (whose run checks the key) or ended
		}
		if err := a.audit(ctx, Event{Type: EventSuperseded, RequestID: r.ID, ClientID: r.ClientID, Vault: r.VaultURI, KeyID: r.Plan.PreviousKeyID, Detail: why}); err != nil {
			return r, err
		}
		r.State, r.SupersededBy, r.Reason, r.UpdatedAt = ApprovalSuperseded, byID, why, a.Clock.Now()
		if _, err := a.Store.UpdateApproval(ctx, r, etag); errors.Is(err, ErrConflict) {
			continue
		} else if err != nil {
			return r, err
		}
		return r, nil
	}
	return ApprovalRequest{}, fmt.Errorf("supersede %s: %w", id, ErrConflict)
}
