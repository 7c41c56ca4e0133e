package rotation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// RetireOptions selects what Retire does.
type RetireOptions struct {
	// ClientID limits retirement to one app; empty means every app.
	ClientID string
	// Early retires before the overlap window ends (never before the new
	// credential was verified: only finished rotations schedule anything).
	Early bool
}

// Retirement reports one scheduled retirement.
type Retirement struct {
	RequestID string
	ClientID  string
	KeyID     string
	After     time.Time
	Outcome   RetireOutcome
	Reason    string
}

// RetireOutcome is what Retire did with one scheduled retirement.
type RetireOutcome string

// The outcomes of a scheduled retirement.
const (
	Retired     RetireOutcome = "retired"
	NotDue      RetireOutcome = "not-due"
	Kept        RetireOutcome = "kept" // the vault points at it again
	RetireError RetireOutcome = "error"
)

// Retire removes the previous credentials that finished rotations scheduled
// for retirement and whose overlap window has ended. It removes only key
// IDs Keyturn recorded, never one the vault currently points at, and is
// idempotent: a credential already gone counts as retired.
func (r *Rotator) Retire(ctx context.Context, opts RetireOptions) ([]Retirement, error) {
	recs, err := r.Store.List(ctx, Filter{ClientID: opts.ClientID})
	if err != nil {
		return nil, fmt.Errorf("list scheduled retirements: %w", err)
	}
	var out []Retirement
	var errs []error
	held := r.heldOnce()
	for _, rec := range recs {
		if !rec.RetirementPending() {
			continue
		}
		ret := Retirement{RequestID: rec.ID, ClientID: rec.ClientID, KeyID: rec.RetireKeyID, After: rec.RetireAfter}
		if err := r.retireOne(ctx, &rec, opts.Early, held, &ret); err != nil {
			ret.Outcome, ret.Reason = RetireError, err.Error()
			errs = append(errs, fmt.Errorf("retire %s of %s: %w", rec.RetireKeyID, rec.ClientID, err))
		}
		out = append(out, ret)
	}
	return out, errors.Join(errs...)
}

// heldOnce returns a func that reads heldKeys on its first call, over the
// whole journal's vaults and the policy's, and remembers the answer.
func (r *Rotator) heldOnce() func(context.Context) (map[string]SecretRef, error) {
	var held map[string]SecretRef
	return func(ctx context.Context) (map[string]SecretRef, error) {
		if held != nil {
			return held, nil
		}
		recs, err := r.Store.List(ctx, Filter{})
		if err != nil {
			return nil, fmt.Errorf("read the journal: %w", err)
		}
		h, err := r.heldKeys(ctx, recs)
		if err != nil {
			return nil, err
		}
		held = h
		return held, nil
	}
}

func (r *Rotator) retireOne(ctx context.Context, rec *Record, early bool, heldKeys func(context.Context) (map[string]SecretRef, error), ret *Retirement) error {
	now := r.Clock.Now()
	if !early && now.Before(rec.RetireAfter) {
		ret.Outcome, ret.Reason = NotDue, "overlap window ends "+rec.RetireAfter.Format(time.RFC3339)
		return nil
	}
	cur, err := r.Vault.Get(ctx, SecretRef{VaultURI: rec.SecretRef.VaultURI, Name: rec.SecretRef.Name})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("read %s: %w", rec.SecretRef, err)
	}
	if err == nil && cur.Tags[TagKeyID] == rec.RetireKeyID {
		ret.Outcome, ret.Reason = Kept, "the vault points at it again"
		return nil
	}
	// Any Keyturn secret in any known vault, under any name, may have
	// been pointed at the old credential since: never remove what a vault
	// holds, and remove nothing when the vaults cannot say.
	held, err := heldKeys(ctx)
	if err != nil {
		return fmt.Errorf("check that no vault secret holds %s: %w", rec.RetireKeyID, err)
	}
	if ref, ok := held[strings.ToLower(rec.RetireKeyID)]; ok {
		ret.Outcome, ret.Reason = Kept, ref.String()+" holds it"
		return nil
	}
	e := r.event(rec, EventRetiring, "overlap window ended")
	e.KeyID, e.Hint = rec.RetireKeyID, rec.PreviousHint
	if err := r.audit(ctx, e); err != nil {
		return err
	}
	if err := r.Apps.RemovePassword(ctx, rec.AppObjectID, rec.RetireKeyID); err != nil {
		return err
	}
	rec.RetiredAt = now
	if err := r.save(ctx, rec); err != nil {
		return fmt.Errorf("journal the retirement (done; the next run records it): %w", err)
	}
	ret.Outcome = Retired
	e.Type = EventRetired
	if err := r.audit(ctx, e); err != nil {
		r.logger().WarnContext(ctx, "audit write failed after a retirement", "request_id", rec.ID, "error", err)
	}
	r.logger().InfoContext(ctx, "credential retired", "request_id", rec.ID, "client_id", rec.ClientID, "key_id", rec.RetireKeyID)
	return nil
}
