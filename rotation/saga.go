package rotation

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// The saga's steps. Each moves rec from one state to the next and journals
// it; a step that cannot go on either undoes what was done (the record ends
// RolledBack or Failed) or leaves the record unfinished for Recover
// (ErrIncomplete). No audit, no action, undo included: every step that
// changes the directory or the vault is recorded first, and when that record
// cannot be written the step is not taken. An undo that cannot be audited
// leaves the record unfinished, and recovery undoes it once the trail takes
// writes again; the credential it leaves meanwhile has a secret nobody holds.

// add adds the new password, reconciling once after an ambiguous failure.
// It returns the new secret, held only in memory until stored.
func (r *Rotator) add(ctx context.Context, rec *Record) (Secret, error) {
	if err := r.audit(ctx, r.event(rec, EventAdding, "")); err != nil {
		return Secret{}, r.fail(ctx, rec, err)
	}
	np, err := r.Apps.AddPassword(ctx, rec.AppObjectID, rec.DisplayName, rec.End)
	if errors.Is(err, ErrAmbiguous) {
		// The credential may exist with a secret nobody will ever see:
		// find it by its unique display name, remove it, try once more.
		if rerr := r.removeOrphans(ctx, rec); rerr != nil {
			return Secret{}, r.incomplete(ctx, rec, errors.Join(err, rerr))
		}
		np, err = r.Apps.AddPassword(ctx, rec.AppObjectID, rec.DisplayName, rec.End)
		if errors.Is(err, ErrAmbiguous) {
			if rerr := r.removeOrphans(ctx, rec); rerr != nil {
				return Secret{}, r.incomplete(ctx, rec, errors.Join(err, rerr))
			}
		}
	}
	if err != nil {
		return Secret{}, r.fail(ctx, rec, fmt.Errorf("add password to %s: %w", rec.ClientID, err))
	}
	rec.KeyID, rec.Hint, rec.Start = np.KeyID, np.Hint, np.Start
	if !np.End.IsZero() {
		rec.End = np.End
	}
	rec.State = StateAdded
	if err := r.save(ctx, rec); err != nil {
		// The journal does not know the credential and its secret exists
		// only here: remove it. If that fails too, the record is still
		// pending and recovery finds the credential by its display name.
		rec.State = StatePending
		e := r.event(rec, EventRollingBack, "the journal did not take the new credential")
		e.KeyID, e.Hint = np.KeyID, np.Hint
		if aerr := r.audit(ctx, e); aerr != nil {
			return Secret{}, fmt.Errorf("%w: journal the new credential %s: %w", ErrIncomplete, np.KeyID, errors.Join(err, aerr))
		}
		if rerr := r.removeNew(ctx, rec, np.KeyID); rerr != nil {
			return Secret{}, fmt.Errorf("%w: journal the new credential %s: %w", ErrIncomplete, np.KeyID, errors.Join(err, rerr))
		}
		return Secret{}, r.fail(ctx, rec, fmt.Errorf("%w: journal the new credential %s (removed again): %w", ErrCompensated, np.KeyID, err))
	}
	r.progress(Progress{RequestID: rec.ID, State: rec.State})
	if err := r.audit(ctx, r.event(rec, EventAdded, "")); err != nil {
		return Secret{}, r.undoAdd(ctx, rec, err)
	}
	return np.Secret, nil
}

// removeOrphans removes every credential that carries rec's display name,
// after an addPassword whose answer was lost. A directory replica that has
// not seen the new credential yet lists the app without it, so "none" is
// believed only after findByName has looked for absenceWindow.
func (r *Rotator) removeOrphans(ctx context.Context, rec *Record) error {
	found, err := r.findByName(ctx, rec)
	if err != nil {
		return fmt.Errorf("list credentials of %s to reconcile: %w", rec.ClientID, err)
	}
	for _, p := range found {
		e := r.event(rec, EventOrphanRemoving, "credential of an unanswered request; its secret was never seen")
		e.KeyID, e.Hint = p.KeyID, p.Hint
		if err := r.audit(ctx, e); err != nil {
			return err
		}
		if err := r.removeNew(ctx, rec, p.KeyID); err != nil {
			return fmt.Errorf("remove orphaned credential %s: %w", p.KeyID, err)
		}
	}
	return nil
}

// absenceWindow is how long findByName keeps re-listing an app before it
// concludes that no credential carries a display name: long enough for
// Entra ID's directory replicas to catch up with a write (seconds,
// occasionally tens of seconds), short enough for a person waiting.
const absenceWindow = time.Minute

// findByName returns the app's credentials named rec.DisplayName. When a
// listing shows none it lists again, backing off, until absenceWindow has
// passed: a lagging replica must not make the saga believe that an
// addPassword created nothing.
func (r *Rotator) findByName(ctx context.Context, rec *Record) ([]PasswordCredential, error) {
	deadline := r.Clock.Now().Add(absenceWindow)
	wait := 2 * time.Second
	for attempt := 1; ; attempt++ {
		app, err := r.Apps.GetApp(ctx, rec.ClientID)
		if err != nil {
			return nil, err
		}
		if found := app.PasswordByDisplayName(rec.DisplayName); len(found) > 0 {
			return found, nil
		}
		left := deadline.Sub(r.Clock.Now())
		if left <= 0 {
			return nil, nil
		}
		r.logger().DebugContext(ctx, "credential not listed; listing again", "request_id", rec.ID, "attempt", attempt)
		if err := r.Clock.Sleep(ctx, min(wait, left)); err != nil {
			return nil, fmt.Errorf("list credentials of %s again: %w", rec.ClientID, err)
		}
		wait = min(2*wait, 15*time.Second)
	}
}

// drive runs rec from its current state to a final one. secret is the new
// secret when this process minted it, zero during recovery.
func (r *Rotator) drive(ctx context.Context, rec *Record, secret Secret) (Result, error) {
	for !rec.State.Final() {
		var err error
		switch rec.State {
		case StatePending:
			err = r.settlePending(ctx, rec)
		case StateAdded:
			if secret.IsZero() {
				err = r.settleAdded(ctx, rec)
			} else {
				err = r.store(ctx, rec, secret)
			}
		case StateStored:
			err = r.verify(ctx, rec, secret)
		case StateRollingBack:
			err = r.rollback(ctx, rec, errors.New(rec.Error))
		default:
			err = fmt.Errorf("record %s has unknown state %q: %w", rec.ID, rec.State, ErrIncomplete)
		}
		if err != nil {
			return resultOf(*rec), err
		}
	}
	return resultOf(*rec), nil
}

// store writes the client ID and the new secret to the vault.
func (r *Rotator) store(ctx context.Context, rec *Record, secret Secret) error {
	if err := r.audit(ctx, r.event(rec, EventStoring, "")); err != nil {
		return r.undoAdd(ctx, rec, err)
	}
	idv, sv, undo, err := r.storeBoth(ctx, rec, secret)
	switch undo {
	case undoAdd:
		return r.undoAdd(ctx, rec, err)
	case undoRollback:
		return r.rollback(ctx, rec, err)
	case undoLater:
		return r.incomplete(ctx, rec, err)
	}
	rec.ClientIDVersion, rec.SecretVersion = idv.ID, sv.ID
	rec.State = StateStored
	if err := r.save(ctx, rec); err != nil {
		// Consistent as it is (stored, not verified); recovery sees the key
		// ID tag and verifies.
		rec.State = StateAdded
		return fmt.Errorf("%w: journal the stored secret: %w", ErrIncomplete, err)
	}
	r.progress(Progress{RequestID: rec.ID, State: rec.State})
	e := r.event(rec, EventStored, "")
	e.Vault = rec.SecretVersion
	if err := r.audit(ctx, e); err != nil {
		return r.rollback(ctx, rec, err)
	}
	return nil
}

// How store undoes a failed storeBoth.
const (
	undoNone     = iota
	undoAdd      // nothing of the new secret reached the vault: remove the credential
	undoRollback // the vault holds the new secret: restore the previous version, then remove
	undoLater    // the vault's state is unknown: leave it to recovery
)

// storeBoth writes the client ID and the new secret to the vault. With
// ParallelVaultCalls, when the vault has an earlier secret version to
// restore, the two writes run in parallel: if only the client ID fails, the new secret is rolled back to
// that version. Without one, the client ID is written first and the secret
// only after it succeeded, so a failure never leaves the new secret alone
// in the vault with nothing to restore. An ambiguous secret write is
// settled by reading the vault. A panic in either write is raised again
// here once both have ended.
func (r *Rotator) storeBoth(ctx context.Context, rec *Record, secret Secret) (idv, sv StoredSecret, undo int, err error) {
	var idErr, svErr error
	writeID := func() {
		idv, idErr = r.Vault.Set(ctx, rec.ClientIDRef, NewSecret(rec.ClientID), SecretProps{
			ContentType: ContentTypeClientID, NotBefore: rec.Start, Expires: rec.End, Tags: r.clientIDTags(rec),
		})
	}
	writeSecret := func() {
		sv, svErr = r.Vault.Set(ctx, rec.SecretRef, secret, SecretProps{
			ContentType: ContentTypeClientSecret, NotBefore: rec.Start, Expires: rec.End, Tags: r.secretTags(rec),
		})
	}
	if !r.ParallelVaultCalls || rec.PreviousVersion == "" {
		if writeID(); idErr == nil {
			writeSecret()
		}
	} else {
		together(writeID, writeSecret)
	}
	if idErr != nil {
		idErr = fmt.Errorf("store the client ID in %s: %w", rec.ClientIDRef, idErr)
	}
	if errors.Is(svErr, ErrAmbiguous) {
		// The version may have been written: the vault decides.
		cur, gerr := r.Vault.Get(ctx, SecretRef{VaultURI: rec.SecretRef.VaultURI, Name: rec.SecretRef.Name})
		if gerr != nil {
			return idv, sv, undoLater, errors.Join(idErr, svErr, gerr)
		}
		if cur.Tags[TagKeyID] == rec.KeyID {
			sv, svErr = cur, nil
		}
	}
	switch {
	case svErr != nil:
		return idv, sv, undoAdd, errors.Join(idErr, fmt.Errorf("store the client secret in %s: %w", rec.SecretRef, svErr))
	case idErr != nil && sv.ID != "":
		return idv, sv, undoRollback, idErr
	case idErr != nil:
		return idv, sv, undoAdd, idErr
	}
	return idv, sv, undoNone, nil
}

// verify proves the stored secret works, then schedules the previous
// credential's retirement. Verification that fails undoes the rotation when
// the vault had an earlier secret to restore.
func (r *Rotator) verify(ctx context.Context, rec *Record, secret Secret) error {
	if secret.IsZero() {
		s, err := r.Vault.Get(ctx, versionRef(rec.SecretRef, rec.SecretVersion))
		if err != nil {
			return r.incomplete(ctx, rec, fmt.Errorf("read the stored secret back to verify it: %w", err))
		}
		secret = s.Value
	}
	if err := r.prove(ctx, rec, secret); err != nil {
		if ctx.Err() != nil {
			return r.incomplete(ctx, rec, err)
		}
		if rec.PreviousVersion == "" {
			return r.incomplete(ctx, rec, fmt.Errorf("%w; the vault held no earlier secret to restore, so the new one stays stored: run recover to verify it again", err))
		}
		return r.rollback(ctx, rec, err)
	}
	if err := r.audit(ctx, r.event(rec, EventVerified, fmt.Sprintf("%d token requests in a row succeeded", r.Policy.VerifyAttempts))); err != nil {
		return r.incomplete(ctx, rec, err)
	}
	now := r.Clock.Now()
	rec.State = StateDone
	rec.RetireKeyID = rec.PreviousKeyID
	if rec.RetireKeyID != "" {
		rec.RetireAfter = now.Add(rec.Overlap)
	}
	rec.Error = ""
	if err := r.save(ctx, rec); err != nil {
		rec.State, rec.RetireKeyID, rec.RetireAfter = StateStored, "", time.Time{}
		return fmt.Errorf("%w: journal the verified rotation: %w", ErrIncomplete, err)
	}
	r.progress(Progress{RequestID: rec.ID, State: rec.State})
	var errs []error
	if rec.RetireKeyID != "" {
		e := r.event(rec, EventRetireSchedule, "after "+rec.RetireAfter.Format(time.RFC3339))
		e.KeyID, e.Hint = rec.RetireKeyID, rec.PreviousHint // the old key with its own hint
		errs = append(errs, r.audit(ctx, e))
	}
	e := r.event(rec, EventCompleted, "")
	e.Vault = rec.SecretVersion
	errs = append(errs, r.audit(ctx, e))
	if err := errors.Join(errs...); err != nil {
		r.logger().WarnContext(ctx, "audit write failed after a completed rotation", "request_id", rec.ID, "error", err)
	}
	r.logger().InfoContext(ctx, "rotation done", "request_id", rec.ID, "client_id", rec.ClientID, "key_id", rec.KeyID, "secret_version", rec.SecretVersion)
	return nil
}

// prove acquires tokens with secret until VerifyAttempts in a row succeed,
// backing off after failures, up to VerifyDeadline.
func (r *Rotator) prove(ctx context.Context, rec *Record, secret Secret) error {
	need := r.Policy.VerifyAttempts
	deadline := r.Clock.Now().Add(r.Policy.VerifyDeadline)
	const pause, maxBackoff = time.Second, 30 * time.Second
	backoff := 2 * time.Second
	streak, tries := 0, 0
	var last error
	for {
		tries++
		err := r.Verifier.Verify(ctx, rec.ClientID, secret)
		wait := pause
		if err == nil {
			streak++
			r.progress(Progress{RequestID: rec.ID, State: rec.State, Verified: streak, Needed: need})
			if streak >= need {
				return nil
			}
		} else {
			if ctx.Err() != nil {
				return fmt.Errorf("verify the new secret: %w", ctx.Err())
			}
			streak, last, wait = 0, err, backoff
			backoff = min(2*backoff, maxBackoff)
			r.progress(Progress{RequestID: rec.ID, State: rec.State, Verified: 0, Needed: need})
		}
		if !r.Clock.Now().Add(wait).Before(deadline) {
			if last == nil {
				last = errors.New("none")
			}
			return fmt.Errorf("%w: %d of %d token requests in a row succeeded after %d tries within %s: last error: %w",
				ErrVerifyFailed, streak, need, tries, r.Policy.VerifyDeadline, last)
		}
		if err := r.Clock.Sleep(ctx, wait); err != nil {
			return fmt.Errorf("verify the new secret: %w", err)
		}
	}
}

// together runs f and g at the same time and returns when both have
// ended. A panic in either is raised again here, in the caller's
// goroutine, once both have ended.
func together(f, g func()) {
	var wg sync.WaitGroup
	panics := make([]any, 2)
	for i, fn := range []func(){f, g} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panics[i] = recover() }()
			fn()
		}()
	}
	wg.Wait()
	for _, p := range panics {
		if p != nil {
			panic(p)
		}
	}
}
