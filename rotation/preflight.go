package rotation

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// preflight checks the request against policy, the directory and the vault,
// and returns the journal record to begin with and the app as read. It
// changes nothing, except recovering soft-deleted secret names; with dryRun
// it does not even that, and notes it instead.
func (r *Rotator) preflight(ctx context.Context, req Request, dryRun bool) (Record, bool, planExtras, error) {
	var x planExtras
	now := r.Clock.Now()
	var prev StoredSecret
	if !IsGUID(req.ClientID) {
		return Record{}, false, x, Errorf(ErrInvalid, "%q is not an application (client) ID: it has the form 8-4-4-4-12 of hexadecimal digits", req.ClientID)
	}
	if r.Policy.OwnClientID != "" && strings.EqualFold(req.ClientID, r.Policy.OwnClientID) {
		return Record{}, false, x, fmt.Errorf("rotate %s: %w", req.ClientID, ErrOwnApp)
	}
	if !r.Policy.VaultAllowed(req.VaultURI) {
		return Record{}, false, x, fmt.Errorf("vault %s: %w", req.VaultURI, ErrVaultNotAllowed)
	}
	if req.Overlap < 0 {
		return Record{}, false, x, Errorf(ErrInvalid, "the overlap %s is negative", req.Overlap)
	}
	if req.Lifetime < 0 {
		return Record{}, false, x, Errorf(ErrInvalid, "the lifetime %s is negative", req.Lifetime)
	}
	lifetime, clamped := r.Policy.Lifetime(req.Lifetime)
	overlap := req.Overlap
	if overlap == 0 {
		overlap = r.Policy.Overlap
	}

	app, err := r.Apps.GetApp(ctx, req.ClientID)
	if err != nil {
		return Record{}, false, x, fmt.Errorf("look up app %s: %w", req.ClientID, err)
	}
	if err := r.checkOwner(app); err != nil {
		return Record{}, false, x, err
	}
	idName, secretName := req.ClientIDName, req.SecretName
	defID, defSecret := DefaultSecretNames(app.DisplayName, app.ClientID)
	if idName == "" {
		idName = defID
	}
	if secretName == "" {
		secretName = defSecret
	}
	for _, n := range []string{idName, secretName} {
		if !r.Policy.SecretNameAllowed(n) {
			return Record{}, false, x, fmt.Errorf("secret name %q: %w", n, ErrSecretNameNotAllowed)
		}
	}
	if strings.EqualFold(idName, secretName) {
		return Record{}, false, x, Errorf(ErrInvalid, "the client ID and the client secret need two vault secret names, not %q twice", idName)
	}
	if personalAccounts(app.SignInAudience) && len(app.Passwords) >= 2 {
		return Record{}, false, x, fmt.Errorf("app %s allows personal Microsoft accounts and already has %d secrets, the most it may have; retire one first: %w",
			app.ClientID, len(app.Passwords), ErrPasswordsForbidden)
	}

	idRef := SecretRef{VaultURI: req.VaultURI, Name: idName}
	secretRef := SecretRef{VaultURI: req.VaultURI, Name: secretName}
	x.app = app
	// The two reads are independent: with ParallelVaultCalls they overlap
	// (one Key Vault round trip less before the approver sees the card and
	// before the rotation adds its password). Each may recover its own
	// soft-deleted name, so with both in flight a name can be recovered
	// although the other read failed; recovering a name is what the retry
	// would do anyway.
	var idErr, secretErr error
	notes := make([]string, 2)
	read := func(ref SecretRef, note *string) (StoredSecret, error) {
		if !dryRun {
			return r.current(ctx, ref)
		}
		s, err := r.Vault.Get(ctx, ref)
		if errors.Is(err, ErrSoftDeleted) {
			*note = fmt.Sprintf("%s is soft-deleted and will be recovered", ref)
			return StoredSecret{}, fmt.Errorf("%w", ErrNotFound)
		}
		if err != nil {
			return StoredSecret{}, fmt.Errorf("read %s: %w", ref, err)
		}
		return s, nil
	}
	readID := func() {
		if _, err := read(idRef, &notes[0]); err != nil && !errors.Is(err, ErrNotFound) {
			idErr = err
		}
	}
	readSecret := func() {
		var err error
		if prev, err = read(secretRef, &notes[1]); err != nil && !errors.Is(err, ErrNotFound) {
			secretErr = err
		}
	}
	if r.ParallelVaultCalls {
		together(readID, readSecret)
	} else if readID(); idErr == nil {
		readSecret()
	}
	for _, n := range notes {
		if n != "" {
			x.notes = append(x.notes, n)
		}
	}
	if err := cmp.Or(idErr, secretErr); err != nil {
		return Record{}, false, x, err
	}

	if prevKey := previousKeyID(app, prev); !dryRun && req.CheckRetire && !strings.EqualFold(prevKey, req.RetireKeyID) {
		return Record{}, false, x, fmt.Errorf("the vault now holds key %s, not the approved %s: %w", orNothing(prevKey), orNothing(req.RetireKeyID), ErrSuperseded)
	}
	id := req.ID
	if id == "" {
		id = r.newID()
	}
	rec := Record{
		ID:              id,
		State:           StatePending,
		ClientID:        app.ClientID,
		AppObjectID:     app.ObjectID,
		AppName:         app.DisplayName,
		DisplayName:     "keyturn " + id,
		ClientIDRef:     idRef,
		SecretRef:       secretRef,
		End:             now.Add(lifetime).UTC().Truncate(time.Second),
		Overlap:         overlap,
		RequestedBy:     req.RequestedBy,
		ApprovedBy:      req.ApprovedBy,
		PreviousVersion: prev.Version,
		PreviousKeyID:   previousKeyID(app, prev),
		PreviousHint:    hintOf(app, previousKeyID(app, prev)),
		CreatedAt:       now,
		UpdatedAt:       now,
	}
	r.claim(&rec)
	return rec, clamped, x, nil
}

// maxExpandedOwners is how many owners Graph returns at most for an
// expanded navigation property ($expand=owners): a list that long may be
// cut short, so it cannot prove that Keyturn is missing.
const maxExpandedOwners = 20

// checkOwner refuses app when r knows Keyturn's service principal and the
// app's owners, as the directory listed them, do not include it.
func (r *Rotator) checkOwner(app App) error {
	if r.PrincipalID == "" || len(app.Owners) >= maxExpandedOwners {
		return nil
	}
	for _, o := range app.Owners {
		if strings.EqualFold(o.ObjectID, r.PrincipalID) {
			return nil
		}
	}
	return fmt.Errorf("rotate %s: %w", app.ClientID, &NotOwnerError{ClientID: app.ClientID, PrincipalID: strings.ToLower(r.PrincipalID)})
}

// planExtras is what preflight learns beyond the journal record.
type planExtras struct {
	app   App
	notes []string
}

// Plan is what a rotation would do, checked against policy, the directory
// and the vault without changing anything: what an approver is shown.
type Plan struct {
	ClientID        string
	AppName         string
	ClientIDRef     SecretRef
	SecretRef       SecretRef
	End             time.Time // the new secret's end
	LifetimeClamped bool
	Overlap         time.Duration
	Passwords       []PasswordCredential // the app's current secrets
	Owners          []Principal          // the app's owners
	PreviousKeyID   string               // retired Overlap after verification
	Notes           []string
}

// Plan checks req as Rotate would and says what it would do, changing
// nothing. Its errors are Rotate's preflight errors.
func (r *Rotator) Plan(ctx context.Context, req Request) (Plan, error) {
	rec, clamped, x, err := r.preflight(ctx, req, true)
	if err != nil {
		return Plan{}, err
	}
	return Plan{
		ClientID: rec.ClientID, AppName: rec.AppName, ClientIDRef: rec.ClientIDRef, SecretRef: rec.SecretRef,
		End: rec.End, LifetimeClamped: clamped, Overlap: rec.Overlap, Passwords: x.app.Passwords, Owners: x.app.Owners,
		PreviousKeyID: rec.PreviousKeyID, Notes: x.notes,
	}, nil
}

// current reads the latest version of ref, recovering it first when its
// name is held by a soft-deleted secret.
func (r *Rotator) current(ctx context.Context, ref SecretRef) (StoredSecret, error) {
	s, err := r.Vault.Get(ctx, ref)
	if errors.Is(err, ErrSoftDeleted) {
		r.logger().InfoContext(ctx, "recovering soft-deleted secret", "vault_secret", ref.String())
		if err := r.Vault.Recover(ctx, ref); err != nil {
			return StoredSecret{}, fmt.Errorf("recover soft-deleted secret %s: %w", ref, err)
		}
		s, err = r.Vault.Get(ctx, ref)
	}
	if err != nil {
		return StoredSecret{}, fmt.Errorf("read %s: %w", ref, err)
	}
	return s, nil
}

// previousKeyID names the credential the vault's current secret belongs to:
// the key ID Keyturn tagged it with, or else the only credential whose hint
// matches the value's first characters. Only a credential the app still has
// counts; otherwise there is nothing to retire.
func previousKeyID(app App, prev StoredSecret) string {
	if prev.Version == "" {
		return ""
	}
	if k := prev.Tags[TagKeyID]; k != "" {
		if _, ok := app.Password(k); ok {
			return k
		}
		return ""
	}
	hint := prev.Value.Hint()
	if hint == "" {
		return ""
	}
	var match string
	for _, p := range app.Passwords {
		if p.Hint == hint {
			if match != "" {
				return "" // ambiguous: retire nothing rather than guess
			}
			match = p.KeyID
		}
	}
	return match
}

func personalAccounts(audience string) bool {
	return audience == "AzureADandPersonalMicrosoftAccount" || audience == "PersonalMicrosoftAccount"
}

// hintOf returns the hint of app's credential keyID, or "".
func hintOf(app App, keyID string) string {
	if p, ok := app.Password(keyID); ok && keyID != "" {
		return p.Hint
	}
	return ""
}

// orNothing names an absent key ID in an error.
func orNothing(keyID string) string {
	if keyID == "" {
		return "(none)"
	}
	return keyID
}
