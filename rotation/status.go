package rotation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Status describes an app's credentials and where Keyturn stored them.
type Status struct {
	App         App
	Credentials []CredentialStatus
	Vault       []VaultStatus
	Unfinished  []Record
}

// CredentialStatus is one password credential and what Keyturn knows of it.
type CredentialStatus struct {
	PasswordCredential
	ByKeyturn   bool      // created by Keyturn (its display name says so)
	InVault     []string  // secret URIs whose latest version holds it
	RetireAfter time.Time // set when a retirement is scheduled
}

// VaultStatus is the latest version of one vault secret Keyturn writes.
type VaultStatus struct {
	Ref     SecretRef
	ID      string // versioned URI
	KeyID   string
	Expires time.Time
	Missing bool   // the secret does not exist (yet)
	Err     string // why it could not be read, when it exists
}

// Status reports clientID's credentials, the vault secrets named by refs
// and by the app's rotations, pending retirements and unfinished rotations.
func (r *Rotator) Status(ctx context.Context, clientID string, refs ...SecretRef) (Status, error) {
	if !IsGUID(clientID) {
		return Status{}, fmt.Errorf("client ID %q is not a GUID: %w", clientID, ErrInvalid)
	}
	app, err := r.Apps.GetApp(ctx, clientID)
	if err != nil {
		return Status{}, fmt.Errorf("look up app %s: %w", clientID, err)
	}
	recs, err := r.Store.List(ctx, Filter{ClientID: app.ClientID})
	if err != nil {
		return Status{}, fmt.Errorf("read the journal of %s: %w", clientID, err)
	}
	st := Status{App: app}
	retire := map[string]time.Time{}
	seen := map[string]bool{}
	for i := len(recs) - 1; i >= 0; i-- { // newest first
		rec := recs[i]
		if !rec.State.Final() {
			st.Unfinished = append(st.Unfinished, rec)
		}
		if rec.RetirementPending() {
			retire[strings.ToLower(rec.RetireKeyID)] = rec.RetireAfter
		}
		if rec.State == StateDone {
			refs = append(refs, rec.SecretRef)
		}
	}
	held := map[string][]string{}
	for _, ref := range refs {
		ref.Version = ""
		if seen[strings.ToLower(ref.String())] {
			continue
		}
		seen[strings.ToLower(ref.String())] = true
		vs := VaultStatus{Ref: ref}
		s, err := r.Vault.Get(ctx, ref)
		switch {
		case errors.Is(err, ErrNotFound):
			vs.Missing = true
		case err != nil:
			vs.Err = err.Error()
		default:
			vs.ID, vs.KeyID, vs.Expires = s.ID, s.Tags[TagKeyID], s.Expires
			if vs.KeyID != "" {
				held[strings.ToLower(vs.KeyID)] = append(held[strings.ToLower(vs.KeyID)], ref.String())
			}
		}
		st.Vault = append(st.Vault, vs)
	}
	for _, p := range app.Passwords {
		st.Credentials = append(st.Credentials, CredentialStatus{
			PasswordCredential: p,
			ByKeyturn:          strings.HasPrefix(p.DisplayName, "keyturn "),
			InVault:            held[strings.ToLower(p.KeyID)],
			RetireAfter:        retire[strings.ToLower(p.KeyID)],
		})
	}
	return st, nil
}
