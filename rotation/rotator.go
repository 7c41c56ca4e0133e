package rotation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Rotator runs the rotation saga. Build it with every field set but Log,
// NewID and Progress, which have defaults. A Rotator is safe for concurrent
// use; rotations of one app are serialized by Store.Begin.
type Rotator struct {
	Apps     Applications
	Vault    Vault
	Verifier Verifier
	Store    Store
	Audit    Auditor
	Clock    Clock
	Policy   Policy

	// Log receives IDs and outcomes, never values. Nil discards.
	Log *slog.Logger
	// NewID returns a new request ID. Nil uses 16 random hex digits.
	NewID func() string
	// Progress, when set, is told each step as it completes, for people
	// watching (the approval card). It must not block.
	Progress func(Progress)
	// Holder names this replica when several share the Store: each
	// unfinished record is leased to the replica driving it, and Recover
	// takes over another replica's record only once its lease has run out
	// (the replica died). Empty means this process is the store's only
	// user (an embedded file), and Recover takes every record it is not
	// driving itself.
	Holder string
	// PrincipalID is the object ID of Keyturn's service principal. When
	// set, preflight refuses an app whose owners do not include it
	// (ErrNotOwner, as a *NotOwnerError with the fix), before any card is
	// shown: with Application.ReadWrite.OwnedBy Keyturn may read any app
	// but change only those it owns. Empty skips the check (the CLI run
	// by a person, whose own directory roles decide).
	PrincipalID string
	// KnownApps are client IDs the policy names. Sweep looks for orphaned
	// credentials on them as well as on every app in the journal.
	KnownApps []string
	// SweepEvery, when set, is the least time between two Sweeps of this
	// Rotator (the scheduler's); zero sweeps on every call.
	SweepEvery time.Duration
	// ParallelVaultCalls reads the vault's two current secrets at the same
	// time before a rotation (see preflight), and writes the client ID and
	// the new secret at the same time when the vault has an earlier secret
	// version to restore (see storeBoth): two Key Vault round trips less on
	// the critical path. Off, each pair goes one after the other, the order
	// the fault and crash matrices trace call by call.
	ParallelVaultCalls bool

	mu        sync.Mutex
	inflight  map[string]bool // record IDs driven by this process now
	lastSweep time.Time
}

// Progress reports one completed step of a rotation.
type Progress struct {
	RequestID string
	State     State
	// Verified counts successful token requests in a row, out of Needed.
	Verified, Needed int
}

// Request asks for one rotation.
type Request struct {
	ID       string // request ID; generated when empty
	ClientID string // the application (client) ID to rotate
	VaultURI string // canonical vault URI
	// ClientIDName and SecretName are the vault secret names; empty means
	// DefaultSecretNames of the app.
	ClientIDName string
	SecretName   string
	Lifetime     time.Duration // zero: policy default
	Overlap      time.Duration // zero: policy default
	RequestedBy  string        // who asked (object ID or UPN); never a display name alone
	ApprovedBy   string        // who approved, if anyone
	// CheckRetire binds the rotation to the credential it retires: when
	// the vault's current secret belongs to another credential than
	// RetireKeyID ("" for none), preflight refuses with ErrSuperseded. An
	// approved request sets it, so that what its approvers saw is what
	// happens.
	CheckRetire bool
	RetireKeyID string
}

// Result is what a finished (or resumed) rotation reports. It holds nothing
// secret: the versioned URIs, the new credential's key ID, hint and dates.
type Result struct {
	RequestID       string
	State           State
	ClientID        string
	AppName         string
	KeyID           string
	Hint            string
	Start, End      time.Time
	ClientIDURI     string // versioned
	SecretURI       string // versioned
	PreviousKeyID   string
	RetireAfter     time.Time
	LifetimeClamped bool
	Error           string // why a rotation failed or was rolled back
}

func resultOf(rec Record) Result {
	return Result{
		RequestID:     rec.ID,
		State:         rec.State,
		ClientID:      rec.ClientID,
		AppName:       rec.AppName,
		KeyID:         rec.KeyID,
		Hint:          rec.Hint,
		Start:         rec.Start,
		End:           rec.End,
		ClientIDURI:   rec.ClientIDVersion,
		SecretURI:     rec.SecretVersion,
		PreviousKeyID: rec.RetireKeyID,
		RetireAfter:   rec.RetireAfter,
		Error:         rec.Error,
	}
}

// Rotate runs a whole rotation: preflight, journal, add, store, verify and
// schedule the previous credential's retirement. On error the app and vault
// are either as they were (ErrCompensated, or a preflight error), or in a
// journaled state that Recover finishes or undoes (ErrIncomplete).
func (r *Rotator) Rotate(ctx context.Context, req Request) (Result, error) {
	rec, clamped, _, err := r.preflight(ctx, req, false)
	if err != nil {
		return Result{}, err
	}
	if err := r.audit(ctx, Event{Type: EventStarted, RequestID: rec.ID, ClientID: rec.ClientID, Actor: rec.RequestedBy,
		Vault: rec.SecretRef.String(), Detail: fmt.Sprintf("lifetime until %s, overlap %s", rec.End.Format(time.RFC3339), rec.Overlap)}); err != nil {
		return Result{}, err
	}
	if err := r.Store.Begin(ctx, rec); err != nil {
		// The trail says the rotation started: it says how it ended too.
		if errors.Is(err, ErrInProgress) {
			_ = r.audit(ctx, r.event(&rec, EventFailed, "another rotation of the app has not finished"))
			return Result{}, fmt.Errorf("rotate %s: %w", rec.ClientID, err)
		}
		// The write may have happened: end the record, which holds the
		// app's lock, as failed. Nothing else was changed.
		rec.State, rec.Error = StateFailed, "could not journal the intent"
		_ = r.save(ctx, &rec)
		_ = r.audit(ctx, r.event(&rec, EventFailed, "could not journal the intent; no credential was added"))
		return Result{}, fmt.Errorf("rotate %s: journal the intent: %w", rec.ClientID, err)
	}
	release := r.hold(rec.ID)
	defer release()
	r.logger().InfoContext(ctx, "rotation started", "request_id", rec.ID, "client_id", rec.ClientID, "vault_secret", rec.SecretRef.String())

	secret, err := r.add(ctx, &rec)
	if err != nil {
		return resultOf(rec), err
	}
	res, err := r.drive(ctx, &rec, secret)
	res.LifetimeClamped = clamped
	return res, err
}

// hold marks a record as driven by this process so that Recover leaves it
// alone; the returned func releases it.
func (r *Rotator) hold(id string) func() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inflight == nil {
		r.inflight = map[string]bool{}
	}
	r.inflight[id] = true
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.inflight, id)
	}
}

func (r *Rotator) held(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inflight[id]
}

func (r *Rotator) newID() string {
	if r.NewID != nil {
		return r.NewID()
	}
	return RandomHex(8)
}

func (r *Rotator) logger() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}

func (r *Rotator) progress(p Progress) {
	if r.Progress != nil {
		r.Progress(p)
	}
}

// audit records e, stamped with the clock, and wraps a failure in
// ErrAuditFailed: the caller must then not take the action.
func (r *Rotator) audit(ctx context.Context, e Event) error {
	if e.Time.IsZero() {
		e.Time = r.Clock.Now()
	}
	if e.Ref == "" {
		e.Ref = RefFrom(ctx)
	}
	if e.Actor == "" {
		e.Actor = "keyturn"
	}
	if err := r.Audit.Record(ctx, e); err != nil {
		return fmt.Errorf("%s for %s: %w: %w", e.Type, e.RequestID, ErrAuditFailed, err)
	}
	return nil
}
