package rotation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ApprovalStore keeps approval requests with optimistic concurrency: every
// write names the ETag it read, so of two replicas deciding on one request
// exactly one wins.
type ApprovalStore interface {
	// CreateApproval stores a new request. Errors: ErrConflict (the ID
	// exists).
	CreateApproval(ctx context.Context, r ApprovalRequest) error
	// GetApproval returns the request and its ETag. Errors: ErrNotFound.
	GetApproval(ctx context.Context, id string) (ApprovalRequest, string, error)
	// UpdateApproval replaces the request if its ETag is still etag and
	// returns the new ETag. Errors: ErrConflict, ErrNotFound.
	UpdateApproval(ctx context.Context, r ApprovalRequest, etag string) (string, error)
	// ListApprovals returns the requests that are not final, oldest first.
	ListApprovals(ctx context.Context) ([]ApprovalRequest, error)
}

// AppRule is the approval policy for one app.
type AppRule struct {
	// Required approvals, 0-2. With 0, a caller who may approve runs the
	// rotation directly; a caller who may only request still needs one.
	Required int
	// Approvers are extra sources that may approve this app, recorded on
	// its requests for people; the Authorizer decides.
	Approvers []RoleSource
}

// Approvals is the two-person control in front of the Rotator: it opens
// requests, takes approvals and rejections (re-authorized at click time),
// lets exactly one runner start an approved rotation, and expires what
// waits too long. Every decision, allowed or denied, is audited: the
// Authorizer's through Decision.Event, and the refusals of a request's
// state the same way.
type Approvals struct {
	Store   ApprovalStore
	Authz   Authorizer
	Rotator *Rotator
	Audit   Auditor
	Clock   Clock
	// Rule returns the policy of an app; nil means one approval by the
	// global approvers.
	Rule func(clientID string) AppRule
	// TTL is how long a request waits for decisions (default 30 minutes).
	TTL time.Duration
}

// Ask is a request for a rotation, as typed in Teams and resolved.
type Ask struct {
	// Caller asks; with ByPolicy, Caller names the automation that asks
	// (the expiry radar), which holds no role.
	Caller Principal
	// ByPolicy marks a request the policy file itself makes
	// (apps.<alias>.auto_request_before): no role is checked, the decision
	// is audited as allowed by that rule, and the usual approvals apply
	// (with approvals: 0 it runs with no one asked).
	ByPolicy     bool
	TenantID     string
	Conversation string
	Card         []byte
	Request      Request // the rotation; ID, RequestedBy and ApprovedBy are set here
}

const maxDecisionRetries = 8

func (a *Approvals) rule(clientID string) AppRule {
	if a.Rule == nil {
		return AppRule{Required: 1}
	}
	r := a.Rule(clientID)
	r.Required = max(0, min(2, r.Required))
	return r
}

// Open checks that the caller may ask, checks the rotation without changing
// anything, and stores a pending request (or, with a 0-approval policy and
// an approving caller, an approved one). Errors: ErrDenied (audited),
// rotation preflight errors, store errors.
func (a *Approvals) Open(ctx context.Context, ask Ask) (ApprovalRequest, error) {
	rule := a.rule(ask.Request.ClientID)
	var direct bool
	if ask.ByPolicy {
		dec := Decision{Attempt: Attempt{Who: ask.Caller, Action: ActionRequest, ClientID: ask.Request.ClientID},
			Allowed: true, Rule: "auto_request_before"}
		if err := a.audit(ctx, dec.Event()); err != nil {
			return ApprovalRequest{}, err
		}
		direct = rule.Required == 0
	} else {
		dec, err := a.Authz.Authorize(ctx, Attempt{Who: ask.Caller, Action: ActionRequest, ClientID: ask.Request.ClientID})
		if err != nil {
			return ApprovalRequest{}, err
		}
		direct = dec.Direct && rule.Required == 0
	}
	now := a.Clock.Now()
	id := ask.Request.ID
	if id == "" {
		id = a.Rotator.newID()
	}
	if err := a.refuseSecond(ctx, ask, id); err != nil {
		return ApprovalRequest{}, err
	}
	plan, err := a.Rotator.Plan(ctx, ask.Request)
	if err != nil {
		a.denied(ctx, ask.Caller, ActionRequest, ask.Request.ClientID, id, "preflight: "+err.Error())
		return ApprovalRequest{}, err
	}
	required := max(rule.Required, 1)
	if direct {
		required = 0
	}
	r := ApprovalRequest{
		ID: id, State: ApprovalPending, Nonce: nonce(),
		TenantID: ask.TenantID, ClientID: plan.ClientID, AppName: plan.AppName,
		VaultURI: plan.SecretRef.VaultURI, ClientIDName: plan.ClientIDRef.Name, SecretName: plan.SecretRef.Name,
		Lifetime: ask.Request.Lifetime, Overlap: plan.Overlap,
		Required: required, Approvers: rule.Approvers,
		RequestedBy: ask.Caller, Conversation: ask.Conversation, Card: ask.Card, Plan: plan,
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(a.ttl()), BindsRetire: true,
	}
	r.Digest = r.ComputeDigest()
	detail := fmt.Sprintf("into %s as %s; %d approval(s) needed", plan.SecretRef.VaultURI, plan.SecretRef.Name, required)
	if direct {
		r.State = ApprovalApproved
		r.Approvals = []Approval{{By: ask.Caller, At: now}}
		detail = fmt.Sprintf("into %s as %s; policy needs no second approver and the requester may approve", plan.SecretRef.VaultURI, plan.SecretRef.Name)
	}
	if err := a.audit(ctx, Event{Type: EventRequested, RequestID: r.ID, ClientID: r.ClientID, Actor: ask.Caller.String(), Vault: plan.SecretRef.String(), Detail: detail}); err != nil {
		return ApprovalRequest{}, err
	}
	if err := a.Store.CreateApproval(ctx, r); err != nil {
		return ApprovalRequest{}, fmt.Errorf("store the request: %w", err)
	}
	return r, nil
}

// Vote is a click on Approve or Reject.
type Vote struct {
	Caller       Principal
	TenantID     string
	RequestID    string
	Digest       string
	Conversation string
	Reason       string // for a rejection
}

// Approve records caller's approval. It re-checks the caller's roles now,
// refuses self-approval, tampered data, other conversations, replays and
// expired requests, and returns the request with run=true when this
// approval completed it (the caller must then Run it). Concurrent approvals
// resolve through the store's ETags: exactly one completes the request.
func (a *Approvals) Approve(ctx context.Context, d Vote) (r ApprovalRequest, run bool, err error) {
	return a.decide(ctx, d, true)
}

// Reject records caller's rejection: an approver, or the requester
// withdrawing. It ends the request.
func (a *Approvals) Reject(ctx context.Context, d Vote) (ApprovalRequest, error) {
	r, _, err := a.decide(ctx, d, false)
	return r, err
}

func (a *Approvals) decide(ctx context.Context, d Vote, approve bool) (ApprovalRequest, bool, error) {
	verb := "reject"
	if approve {
		verb = "approve"
	}
	action := ActionApprove
	for range maxDecisionRetries {
		r, etag, err := a.Store.GetApproval(ctx, d.RequestID)
		if err != nil {
			a.denied(ctx, d.Caller, action, "", d.RequestID, "unknown request")
			return ApprovalRequest{}, false, fmt.Errorf("request %s: %w", d.RequestID, err)
		}
		now := a.Clock.Now()
		if !strings.EqualFold(d.TenantID, r.TenantID) {
			return r, false, a.denied(ctx, d.Caller, action, r.ClientID, r.ID, verb+": caller from another tenant")
		}
		if err := r.checkDecision(d.Digest, d.Conversation, now); err != nil {
			if errors.Is(err, ErrExpiredRequest) {
				r, _ = a.expire(ctx, r, etag)
			}
			a.denied(ctx, d.Caller, action, r.ClientID, r.ID, verb+": "+err.Error())
			return r, false, err
		}
		requester := strings.EqualFold(d.Caller.ObjectID, r.RequestedBy.ObjectID)
		switch {
		case approve && requester:
			a.denied(ctx, d.Caller, action, r.ClientID, r.ID, "approve: "+ErrSelfApproval.Error())
			return r, false, ErrSelfApproval
		case approve && r.HasApproved(d.Caller.ObjectID):
			a.denied(ctx, d.Caller, action, r.ClientID, r.ID, "approve: "+ErrAlreadyApproved.Error())
			return r, false, ErrAlreadyApproved
		}
		if !(requester && !approve) { // the requester may withdraw without a role
			if _, err := a.Authz.Authorize(ctx, Attempt{Who: d.Caller, Action: action, ClientID: r.ClientID, RequestID: r.ID}); err != nil {
				return r, false, err
			}
		}
		next := r
		next.UpdatedAt = now
		ev := Event{RequestID: r.ID, ClientID: r.ClientID, Actor: d.Caller.String(), Vault: r.VaultURI}
		if approve {
			next.Approvals = append(append([]Approval(nil), r.Approvals...), Approval{By: d.Caller, At: now})
			ev.Type, ev.Detail = EventApproved, fmt.Sprintf("%d of %d approvals", len(next.Approvals), r.Required)
			if len(next.Approvals) >= r.Required {
				next.State = ApprovalApproved
			}
		} else {
			next.State, next.RejectedBy, next.Reason = ApprovalRejected, d.Caller, clipReason(d.Reason)
			ev.Type, ev.Detail = EventRejected, next.Reason
		}
		// No audit, no decision: the record comes first; if the write
		// then loses a race, a superseded record follows it.
		if err := a.audit(ctx, ev); err != nil {
			return r, false, err
		}
		_, err = a.Store.UpdateApproval(ctx, next, etag)
		if errors.Is(err, ErrConflict) {
			a.auditQuiet(ctx, Event{Type: EventSuperseded, RequestID: r.ID, ClientID: r.ClientID, Actor: d.Caller.String(), Detail: verb + " raced another decision; deciding again"})
			continue
		}
		if err != nil {
			return r, false, fmt.Errorf("store the decision: %w", err)
		}
		return next, approve && next.State == ApprovalApproved, nil
	}
	return ApprovalRequest{}, false, fmt.Errorf("request %s: %w", d.RequestID, ErrConflict)
}

func (a *Approvals) ttl() time.Duration {
	if a.TTL <= 0 {
		return 30 * time.Minute
	}
	return a.TTL
}

func (a *Approvals) audit(ctx context.Context, e Event) error {
	e.Time = a.Clock.Now()
	if e.Ref == "" {
		e.Ref = RefFrom(ctx)
	}
	if e.Actor == "" {
		e.Actor = "keyturn"
	}
	if err := a.Audit.Record(ctx, e); err != nil {
		return fmt.Errorf("%s for %s: %w: %w", e.Type, e.RequestID, ErrAuditFailed, err)
	}
	return nil
}

// auditQuiet records e; a failure is not the caller's to act on (the
// record it follows was written).
func (a *Approvals) auditQuiet(ctx context.Context, e Event) { _ = a.audit(ctx, e) }

// denied audits a refusal that the request's state or its checks made,
// not roles, through the same path as every decision, and returns it as
// an error. The refusal stands whether or not the record could be written.
func (a *Approvals) denied(ctx context.Context, who Principal, action Action, clientID, requestID, why string) error {
	d := Decision{Attempt: Attempt{Who: who, Action: action, ClientID: clientID, RequestID: requestID}, Why: why}
	a.auditQuiet(ctx, d.Event())
	return &DeniedError{Decision: d}
}

func nonce() string { return RandomHex(16) }

func clipReason(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
