package rotation

import (
	"context"
	"errors"
	"fmt"
)

// Recover finishes or undoes every unfinished rotation in the journal that
// this process is not driving right now, as the next start after a crash
// must. It returns one Result per record it touched (a rotation it undid
// ends RolledBack or Failed, with Result.Error saying why) and the joined
// errors of those it could not settle, which stay unfinished.
func (r *Rotator) Recover(ctx context.Context) ([]Result, error) {
	recs, err := r.Store.List(ctx, Filter{Unfinished: true})
	if err != nil {
		return nil, fmt.Errorf("list unfinished rotations: %w", err)
	}
	var out []Result
	var errs []error
	for _, rec := range recs {
		if r.held(rec.ID) || r.leasedElsewhere(rec) {
			continue
		}
		res, err := r.resume(ctx, rec)
		out = append(out, res)
		if err != nil && !res.State.Final() {
			errs = append(errs, fmt.Errorf("recover %s: %w", rec.ID, err))
		}
	}
	return out, errors.Join(errs...)
}

// Resume finishes or undoes the unfinished rotation id. A finished one is
// reported as it is.
func (r *Rotator) Resume(ctx context.Context, id string) (Result, error) {
	rec, err := r.Store.Get(ctx, id)
	if err != nil {
		return Result{}, fmt.Errorf("resume %s: %w", id, err)
	}
	if rec.State.Final() {
		return resultOf(rec), nil
	}
	if r.held(rec.ID) || r.leasedElsewhere(rec) {
		return resultOf(rec), fmt.Errorf("resume %s: %w (driven by %s)", id, ErrInProgress, orThis(rec.Owner))
	}
	return r.resume(ctx, rec)
}

func orThis(owner string) string {
	if owner == "" {
		return "this process"
	}
	return owner
}

func (r *Rotator) resume(ctx context.Context, rec Record) (Result, error) {
	release := r.hold(rec.ID)
	defer release()
	// Take the lease over before acting: the journal says who drives it.
	if err := r.save(ctx, &rec); err != nil {
		return resultOf(rec), fmt.Errorf("%w: claim the rotation: %w", ErrIncomplete, err)
	}
	if err := r.audit(ctx, r.event(&rec, EventRecovering, "from state "+string(rec.State))); err != nil {
		return resultOf(rec), err
	}
	r.logger().InfoContext(ctx, "recovering rotation", "request_id", rec.ID, "client_id", rec.ClientID, "state", string(rec.State))
	return r.drive(ctx, &rec, Secret{})
}

// settlePending decides a rotation that stopped around addPassword: a
// credential with the record's display name is kept only if the vault holds
// its secret; any other is an orphan whose secret is lost, and is removed.
func (r *Rotator) settlePending(ctx context.Context, rec *Record) error {
	found, err := r.findByName(ctx, rec)
	if errors.Is(err, ErrAppNotFound) {
		return r.fail(ctx, rec, fmt.Errorf("app %s no longer exists: %w", rec.ClientID, err))
	}
	if err != nil {
		return r.incomplete(ctx, rec, fmt.Errorf("list credentials of %s: %w", rec.ClientID, err))
	}
	if len(found) == 0 {
		return r.fail(ctx, rec, fmt.Errorf("stopped before a credential was added"))
	}
	cur, err := r.Vault.Get(ctx, SecretRef{VaultURI: rec.SecretRef.VaultURI, Name: rec.SecretRef.Name})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return r.incomplete(ctx, rec, fmt.Errorf("read %s: %w", rec.SecretRef, err))
	}
	var kept *PasswordCredential
	for i, p := range found {
		if err == nil && cur.Tags[TagKeyID] == p.KeyID {
			kept = &found[i]
			continue
		}
		e := r.event(rec, EventOrphanRemoving, "credential whose secret never reached the vault")
		e.KeyID, e.Hint = p.KeyID, p.Hint
		if err := r.audit(ctx, e); err != nil {
			return r.incomplete(ctx, rec, err)
		}
		if rerr := r.removeNew(ctx, rec, p.KeyID); rerr != nil {
			return r.incomplete(ctx, rec, fmt.Errorf("remove orphaned credential %s: %w", p.KeyID, rerr))
		}
	}
	if kept == nil {
		return r.fail(ctx, rec, fmt.Errorf("stopped before the new secret was stored; the credential was removed"))
	}
	rec.KeyID, rec.Hint, rec.Start, rec.End = kept.KeyID, kept.Hint, kept.Start, kept.End
	rec.SecretVersion, rec.State = cur.ID, StateStored
	if err := r.save(ctx, rec); err != nil {
		return fmt.Errorf("%w: journal the recovered credential: %w", ErrIncomplete, err)
	}
	return nil
}

// settleAdded decides a rotation that stopped between adding the credential
// and knowing the vault holds its secret: the vault's key ID tag decides
// whether to go on verifying or to remove the credential.
func (r *Rotator) settleAdded(ctx context.Context, rec *Record) error {
	cur, err := r.Vault.Get(ctx, SecretRef{VaultURI: rec.SecretRef.VaultURI, Name: rec.SecretRef.Name})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return r.incomplete(ctx, rec, fmt.Errorf("read %s: %w", rec.SecretRef, err))
	}
	if err == nil && cur.Tags[TagKeyID] == rec.KeyID {
		rec.SecretVersion, rec.State = cur.ID, StateStored
		if err := r.save(ctx, rec); err != nil {
			return fmt.Errorf("%w: journal the recovered secret: %w", ErrIncomplete, err)
		}
		return nil
	}
	return r.undoAdd(ctx, rec, fmt.Errorf("stopped before the new secret was stored; its value is lost"))
}
