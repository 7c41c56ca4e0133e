package rotation

import "time"

// State is where a rotation stands in the saga.
type State string

// The states of a rotation. Pending, Added, Stored and RollingBack are
// unfinished: recovery finishes or undoes them. Done, Failed and RolledBack
// are final.
const (
	// StatePending: the intent is journaled; a credential may or may not
	// have been added (found by its unique display name).
	StatePending State = "pending"
	// StateAdded: the credential exists; its secret may or may not be in
	// the vault (found by the key ID tag on the vault's latest version).
	StateAdded State = "added"
	// StateStored: the vault holds the new secret; it is not verified yet.
	StateStored State = "stored"
	// StateRollingBack: the rotation is being undone: the vault is being
	// restored to the previous secret, then the new credential removed.
	StateRollingBack State = "rolling-back"
	// StateDone: verified; the previous credential's retirement, if any, is
	// scheduled in the record.
	StateDone State = "done"
	// StateFailed: stopped before changing anything.
	StateFailed State = "failed"
	// StateRolledBack: stopped after changes, all of which were undone.
	StateRolledBack State = "rolled-back"
)

// Final reports whether s needs no recovery.
func (s State) Final() bool {
	switch s {
	case StateDone, StateFailed, StateRolledBack:
		return true
	}
	return false
}

// Record is the journal entry of one rotation. It holds IDs, names, times and
// outcomes; never a secret value.
type Record struct {
	ID    string // the request ID
	State State

	ClientID    string
	AppObjectID string
	AppName     string

	// DisplayName is the new credential's unique display name
	// ("keyturn <request-id>"), the key to reconcile after an ambiguous add.
	DisplayName string
	ClientIDRef SecretRef
	SecretRef   SecretRef
	End         time.Time // requested end of the new credential
	Overlap     time.Duration

	RequestedBy string
	ApprovedBy  string

	// The vault's secret before the rotation: its version (restored if the
	// new secret cannot be verified) and the credential it belonged to.
	PreviousVersion string
	PreviousKeyID   string
	// PreviousHint is the hint of PreviousKeyID's credential, for the
	// audit records of its retirement.
	PreviousHint string

	// The new credential, once added.
	KeyID string
	Hint  string
	Start time.Time

	// Versioned URIs written to the vault.
	ClientIDVersion string
	SecretVersion   string

	// Retirement of the previous credential, scheduled once the new one is
	// verified. RetiredAt is set when it is done.
	RetireKeyID string
	RetireAfter time.Time
	RetiredAt   time.Time

	Error     string // why it failed, for people; never a secret
	CreatedAt time.Time
	UpdatedAt time.Time

	// Owner is the replica driving the rotation and LeaseUntil how long
	// its claim holds: another replica's recovery leaves an unfinished
	// record alone until then. Empty for a single-process store.
	Owner      string
	LeaseUntil time.Time
}

// RetirementPending reports whether r scheduled a retirement not yet done.
func (r Record) RetirementPending() bool {
	return r.State == StateDone && r.RetireKeyID != "" && r.RetiredAt.IsZero()
}
