package rotation

import (
	"context"
	"time"
)

// Applications manages the password credentials of Entra ID application
// objects (Microsoft Graph). Implementations translate their SDK's errors into
// this package's sentinels, wrapped with context.
type Applications interface {
	// GetApp returns the application whose appId is clientID, with its
	// password credentials. Errors: ErrAppNotFound, ErrNotOwner (read
	// refused), ErrThrottled, ErrAmbiguous (network failure or 5xx).
	GetApp(ctx context.Context, clientID string) (App, error)

	// AddPassword adds a password credential named displayName that ends at
	// end to the application object objectID (never the service principal).
	// It must not resend the request once it may have reached the service: a
	// timeout, a dropped connection or a 5xx returns ErrAmbiguous, and the
	// caller reconciles by displayName. Safe retries (429, "concurrent
	// requests") are the implementation's business. Errors: ErrNotOwner,
	// ErrLifetimePolicy, ErrPasswordsForbidden, ErrThrottled, ErrAmbiguous,
	// ErrAppNotFound.
	AddPassword(ctx context.Context, objectID, displayName string, end time.Time) (NewPassword, error)

	// RemovePassword removes the password credential keyID from the
	// application object objectID. Removing a credential that does not exist
	// succeeds. Errors: ErrNotOwner, ErrThrottled, ErrAmbiguous, ErrAppNotFound.
	RemovePassword(ctx context.Context, objectID, keyID string) error
}

// Vault reads and writes Key Vault secrets. Implementations translate their
// SDK's errors into this package's sentinels, wrapped with context.
type Vault interface {
	// Get returns the secret ref names (its latest version when ref.Version
	// is empty), value included. Errors: ErrNotFound, ErrSoftDeleted (the
	// name is held by a deleted, recoverable secret), ErrVaultForbidden,
	// ErrVaultUnreachable, ErrAmbiguous.
	Get(ctx context.Context, ref SecretRef) (StoredSecret, error)

	// Set writes value as a new, enabled version of the secret ref names
	// (ref.Version is ignored) and returns it without its value. Errors:
	// ErrSoftDeleted, ErrVaultForbidden, ErrVaultUnreachable, ErrInvalid,
	// ErrAmbiguous (the version may or may not exist).
	Set(ctx context.Context, ref SecretRef, value Secret, props SecretProps) (StoredSecret, error)

	// Recover recovers the soft-deleted secret ref names and returns once it
	// can be read. Errors: ErrNotFound (nothing to recover),
	// ErrVaultForbidden, ErrVaultUnreachable, ErrAmbiguous.
	Recover(ctx context.Context, ref SecretRef) error

	// List returns the latest version of every secret in the vault at
	// vaultURI, with its attributes and tags and without its value, so that
	// Keyturn can tell which credentials its secrets still hold. Deleted
	// secrets are not listed. Errors: ErrVaultForbidden, ErrVaultUnreachable,
	// ErrAmbiguous, ErrInvalid (a vault outside the cloud).
	List(ctx context.Context, vaultURI string) ([]StoredSecret, error)
}

// Verifier proves that a client secret works by acquiring a fresh
// client-credentials token with it, bypassing any token cache.
type Verifier interface {
	// Verify returns nil when the token endpoint issued a token for clientID
	// with secret, ErrNotYetValid when it refused the secret as invalid
	// (normal for seconds to minutes after creation), another error
	// otherwise. The error never contains the secret.
	Verify(ctx context.Context, clientID string, secret Secret) error
}

// Auditor appends events to the audit trail.
type Auditor interface {
	// Record appends e. When it returns an error the caller must not take
	// the action e announces: no audit, no action.
	Record(ctx context.Context, e Event) error
}

// Clock tells the time and waits. Tests use a fake one.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done, returning ctx.Err() then.
	Sleep(ctx context.Context, d time.Duration) error
}

// Store keeps the rotation journal: one Record per rotation, written before
// every step that changes the directory or the vault, so that a crash at any
// point leaves a record recovery can finish or undo.
type Store interface {
	// Begin stores r, a new rotation, if the app (r.ClientID) has no
	// unfinished rotation; otherwise it returns ErrInProgress. This is the
	// per-application lock, and it survives crashes.
	Begin(ctx context.Context, r Record) error

	// Save replaces the stored record with ID r.ID. Errors: ErrNotFound.
	Save(ctx context.Context, r Record) error

	// Get returns the record with ID id. Errors: ErrNotFound.
	Get(ctx context.Context, id string) (Record, error)

	// List returns the records that match f, oldest first.
	List(ctx context.Context, f Filter) ([]Record, error)
}

// Filter selects journal records. Zero fields match everything.
type Filter struct {
	ClientID   string
	Unfinished bool // only records recovery must finish or undo
}
