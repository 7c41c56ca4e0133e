package rotation

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ApprovalState is where an approval request stands.
type ApprovalState string

// The states of an approval request. Pending waits for approvers; Approved
// has all it needs and waits for one runner to claim it; Running is
// claimed; Done, Failed, Rejected and Expired are final.
const (
	ApprovalPending  ApprovalState = "pending"
	ApprovalApproved ApprovalState = "approved"
	ApprovalRunning  ApprovalState = "running"
	ApprovalDone     ApprovalState = "done"
	ApprovalFailed   ApprovalState = "failed"
	ApprovalRejected ApprovalState = "rejected"
	ApprovalExpired  ApprovalState = "expired"
	// ApprovalSuperseded ends a request made stale by another rotation of
	// the same app: the secret it would retire is no longer the vault's.
	ApprovalSuperseded ApprovalState = "superseded"
)

// Final reports whether s is a final state.
func (s ApprovalState) Final() bool {
	switch s {
	case ApprovalDone, ApprovalFailed, ApprovalRejected, ApprovalExpired, ApprovalSuperseded:
		return true
	}
	return false
}

// Principal is a person, identified by Entra object ID; Name is for
// people reading cards and the audit trail only.
type Principal struct {
	ObjectID string
	Name     string
}

// String returns "Name (object ID)".
func (p Principal) String() string {
	if p.Name == "" {
		return p.ObjectID
	}
	return p.Name + " (" + p.ObjectID + ")"
}

// Approval is one approver's decision.
type Approval struct {
	By Principal
	At time.Time
}

// ApprovalRequest is a rotation waiting for (or past) its approvals. It is
// bound by Digest to exactly what will happen; an approval of anything else
// is refused. It holds no secret.
type ApprovalRequest struct {
	ID     string
	State  ApprovalState
	Nonce  string
	Digest string

	TenantID     string
	ClientID     string
	AppName      string
	VaultURI     string
	ClientIDName string
	SecretName   string
	Lifetime     time.Duration
	Overlap      time.Duration

	// Required is how many approvals the request needs (0-2); Approvers
	// are the app's extra approver sources on top of the global ones.
	Required  int
	Approvers []RoleSource

	RequestedBy Principal
	Approvals   []Approval
	RejectedBy  Principal
	Reason      string // the rejecter's words, or why it failed

	// Conversation is the Teams conversation the request was made in; a
	// card action from any other conversation is refused.
	Conversation string
	// Card is the bot's opaque data about the card that shows the request
	// (conversation reference and activity ID).
	Card []byte

	Plan Plan // what the rotation would do, as checked when asked

	// BindsRetire reports that Digest also binds Plan.PreviousKeyID, the
	// credential the rotation retires (requests opened before that binding
	// existed do not), and that the run refuses when the vault holds
	// another key by then.
	BindsRetire bool
	// SupersededBy is the request whose rotation made this one stale.
	SupersededBy string
	// Cause is why the rotation failed (state failed or superseded), for
	// its card; Reason keeps the error's text for the logs.
	Cause *Cause

	// The rotation, once run.
	Result   Result
	Verified int // progress of the verification: Verified of Needed
	Needed   int

	CreatedAt time.Time
	ExpiresAt time.Time
	UpdatedAt time.Time
}

// ComputeDigest returns the digest binding r to what will happen: tenant,
// app, vault, secret names, lifetime, overlap, the nonce and, when
// BindsRetire, the key ID of the credential it retires.
func (r ApprovalRequest) ComputeDigest() string {
	parts := []string{
		"keyturn-approval-v1", r.ID, strings.ToLower(r.TenantID), strings.ToLower(r.ClientID), strings.ToLower(r.VaultURI),
		r.ClientIDName, r.SecretName, strconv.FormatInt(int64(r.Lifetime), 10), strconv.FormatInt(int64(r.Overlap), 10), r.Nonce,
	}
	if r.BindsRetire {
		parts[0] = "keyturn-approval-v2"
		parts = append(parts, "retire:"+strings.ToLower(r.Plan.PreviousKeyID))
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\n")))
	return hex.EncodeToString(sum[:])
}

// ApprovedBy lists the approvers, for the vault tag and the audit trail.
func (r ApprovalRequest) ApprovedBy() string {
	names := make([]string, len(r.Approvals))
	for i, a := range r.Approvals {
		names[i] = a.By.String()
	}
	return strings.Join(names, ", ")
}

// HasApproved reports whether oid approved r already.
func (r ApprovalRequest) HasApproved(oid string) bool {
	for _, a := range r.Approvals {
		if strings.EqualFold(a.By.ObjectID, oid) {
			return true
		}
	}
	return false
}

// validate checks a decision on r by caller against the card's digest and
// conversation at now.
func (r ApprovalRequest) checkDecision(digest, conversation string, now time.Time) error {
	switch {
	case digest == "" || digest != r.Digest || r.ComputeDigest() != r.Digest:
		return ErrTampered
	case conversation != r.Conversation:
		return ErrWrongConversation
	case r.State == ApprovalSuperseded:
		return fmt.Errorf("%w by %s", ErrSuperseded, r.SupersededBy)
	case r.State != ApprovalPending:
		return fmt.Errorf("%w (%s)", ErrNotPending, r.State)
	case !now.Before(r.ExpiresAt):
		return ErrExpiredRequest
	}
	return nil
}
