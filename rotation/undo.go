package rotation

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// undoAdd removes the new credential after the vault did not take its
// secret. The record ends RolledBack, or stays Added for recovery when the
// removal fails.
func (r *Rotator) undoAdd(ctx context.Context, rec *Record, cause error) error {
	if err := r.audit(ctx, r.event(rec, EventRollingBack, cause.Error())); err != nil {
		return r.incomplete(ctx, rec, errors.Join(cause, err))
	}
	if err := r.removeNew(ctx, rec, rec.KeyID); err != nil {
		return r.incomplete(ctx, rec, errors.Join(cause, fmt.Errorf("remove the new credential %s: %w", rec.KeyID, err)))
	}
	return r.rolledBack(ctx, rec, cause)
}

// rollback restores the vault's previous secret version when the vault
// points at the new credential, then removes the new credential.
func (r *Rotator) rollback(ctx context.Context, rec *Record, cause error) error {
	if err := r.audit(ctx, r.event(rec, EventRollingBack, cause.Error())); err != nil {
		return r.incomplete(ctx, rec, errors.Join(cause, err))
	}
	rec.State, rec.Error = StateRollingBack, cause.Error()
	if err := r.save(ctx, rec); err != nil {
		return fmt.Errorf("%w: %w", ErrIncomplete, errors.Join(cause, fmt.Errorf("journal the rollback: %w", err)))
	}
	latest := SecretRef{VaultURI: rec.SecretRef.VaultURI, Name: rec.SecretRef.Name}
	cur, err := r.Vault.Get(ctx, latest)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return r.incomplete(ctx, rec, errors.Join(cause, fmt.Errorf("read %s to restore it: %w", latest, err)))
	}
	if err == nil && cur.Tags[TagKeyID] == rec.KeyID {
		if rec.PreviousVersion == "" {
			return r.incomplete(ctx, rec, errors.Join(cause, fmt.Errorf("%s holds the new secret and no earlier version to restore", latest)))
		}
		prev, err := r.Vault.Get(ctx, versionRef(rec.SecretRef, rec.PreviousVersion))
		if err != nil {
			return r.incomplete(ctx, rec, errors.Join(cause, fmt.Errorf("read the previous version of %s: %w", latest, err)))
		}
		props := prev.SecretProps
		props.Tags = copyTags(prev.Tags)
		props.Tags[TagRestoredBy] = rec.ID
		if _, err := r.Vault.Set(ctx, latest, prev.Value, props); err != nil {
			return r.incomplete(ctx, rec, errors.Join(cause, fmt.Errorf("restore the previous version of %s: %w", latest, err)))
		}
	}
	if err := r.removeNew(ctx, rec, rec.KeyID); err != nil {
		return r.incomplete(ctx, rec, errors.Join(cause, fmt.Errorf("remove the new credential %s: %w", rec.KeyID, err)))
	}
	return r.rolledBack(ctx, rec, cause)
}

// rolledBack journals and audits a completed undo and returns the error
// that tells the caller so.
func (r *Rotator) rolledBack(ctx context.Context, rec *Record, cause error) error {
	rec.State, rec.Error = StateRolledBack, cause.Error()
	var errs []error
	if err := r.save(ctx, rec); err != nil {
		// The undo is done; recovery will find nothing left to undo.
		errs = append(errs, fmt.Errorf("journal the rollback: %w", err))
	}
	if err := r.audit(ctx, r.event(rec, EventRolledBack, cause.Error())); err != nil {
		errs = append(errs, err)
	}
	r.logger().WarnContext(ctx, "rotation rolled back", "request_id", rec.ID, "client_id", rec.ClientID, "key_id", rec.KeyID, "error", cause)
	return fmt.Errorf("%w: %w", ErrCompensated, errors.Join(append([]error{cause}, errs...)...))
}

// fail ends a rotation that changed nothing.
func (r *Rotator) fail(ctx context.Context, rec *Record, cause error) error {
	rec.State, rec.Error = StateFailed, cause.Error()
	errs := []error{cause}
	if err := r.save(ctx, rec); err != nil {
		// Still pending in the journal; recovery finds nothing and ends it.
		errs = append(errs, fmt.Errorf("journal the failure: %w", err))
	}
	if err := r.audit(ctx, r.event(rec, EventFailed, cause.Error())); err != nil {
		errs = append(errs, err)
	}
	r.logger().WarnContext(ctx, "rotation failed", "request_id", rec.ID, "client_id", rec.ClientID, "error", cause)
	return errors.Join(errs...)
}

// incomplete leaves rec unfinished for recovery, noting why.
func (r *Rotator) incomplete(ctx context.Context, rec *Record, cause error) error {
	rec.Error = cause.Error()
	errs := []error{cause}
	if err := r.save(ctx, rec); err != nil {
		errs = append(errs, fmt.Errorf("journal: %w", err))
	}
	r.logger().ErrorContext(ctx, "rotation incomplete; recovery needed", "request_id", rec.ID, "client_id", rec.ClientID, "state", string(rec.State), "error", cause)
	return fmt.Errorf("%w (request %s, state %s): %w", ErrIncomplete, rec.ID, rec.State, errors.Join(errs...))
}

func (r *Rotator) save(ctx context.Context, rec *Record) error {
	rec.UpdatedAt = r.Clock.Now()
	r.claim(rec)
	return r.Store.Save(ctx, *rec)
}

// claim leases an unfinished rec to this replica for longer than any step
// takes (verification's deadline is the longest), or clears the lease of a
// final one.
func (r *Rotator) claim(rec *Record) {
	if rec.State.Final() || r.Holder == "" {
		rec.Owner, rec.LeaseUntil = "", time.Time{}
		return
	}
	rec.Owner, rec.LeaseUntil = r.Holder, r.Clock.Now().Add(r.Policy.VerifyDeadline+leaseMargin)
}

// leaseMargin is how much longer than the verification deadline a claim
// on an unfinished rotation lasts.
const leaseMargin = 10 * time.Minute

// leasedElsewhere reports whether another live replica drives rec.
func (r *Rotator) leasedElsewhere(rec Record) bool {
	return r.Holder != "" && rec.Owner != "" && rec.Owner != r.Holder && r.Clock.Now().Before(rec.LeaseUntil)
}

func (r *Rotator) event(rec *Record, t EventType, detail string) Event {
	return Event{Type: t, RequestID: rec.ID, ClientID: rec.ClientID, KeyID: rec.KeyID, Hint: rec.Hint, Vault: rec.SecretRef.String(), Detail: detail}
}

func (r *Rotator) clientIDTags(rec *Record) map[string]string {
	return nonEmpty(map[string]string{
		TagClientID:    rec.ClientID,
		TagRequestID:   rec.ID,
		TagRequestedBy: rec.RequestedBy,
		TagApprovedBy:  rec.ApprovedBy,
	})
}

func (r *Rotator) secretTags(rec *Record) map[string]string {
	return nonEmpty(map[string]string{
		TagClientID:      rec.ClientID,
		TagKeyID:         rec.KeyID,
		TagHint:          rec.Hint,
		TagRequestID:     rec.ID,
		TagRequestedBy:   rec.RequestedBy,
		TagApprovedBy:    rec.ApprovedBy,
		TagPreviousKeyID: rec.PreviousKeyID,
	})
}

func nonEmpty(m map[string]string) map[string]string {
	for k, v := range m {
		if v == "" {
			delete(m, k)
		} else if len(v) > 256 {
			m[k] = v[:256]
		}
	}
	return m
}

func copyTags(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func versionRef(ref SecretRef, versionOrID string) SecretRef {
	v := versionOrID
	for i := len(v) - 1; i >= 0; i-- {
		if v[i] == '/' {
			v = v[i+1:]
			break
		}
	}
	return SecretRef{VaultURI: ref.VaultURI, Name: ref.Name, Version: v}
}

// confirmDelay is how long removeNew waits before reading a removal back.
const confirmDelay = 3 * time.Second

// removeNew removes keyID, a credential this rotation created moments ago,
// and reads the app back to confirm it is gone: a directory replica that
// has not yet seen the credential may answer the removal with "not
// found". While the key is still listed the removal is repeated, three
// times at most; then the error leaves the rotation to recovery.
func (r *Rotator) removeNew(ctx context.Context, rec *Record, keyID string) error {
	const attempts = 3
	for attempt := 1; ; attempt++ {
		if err := r.Apps.RemovePassword(ctx, rec.AppObjectID, keyID); err != nil {
			return err
		}
		if err := r.Clock.Sleep(ctx, time.Duration(attempt)*confirmDelay); err != nil {
			return fmt.Errorf("confirm the removal of %s: %w", keyID, err)
		}
		app, err := r.Apps.GetApp(ctx, rec.ClientID)
		if err != nil {
			return fmt.Errorf("confirm the removal of %s: %w", keyID, err)
		}
		if _, ok := app.Password(keyID); !ok {
			return nil
		}
		if attempt == attempts {
			return fmt.Errorf("credential %s is still listed after %d removals: %w", keyID, attempts, ErrAmbiguous)
		}
		r.logger().WarnContext(ctx, "removed credential still listed; removing again", "request_id", rec.ID, "key_id", keyID, "attempt", attempt)
	}
}
