package rotation

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Orphan is one credential Sweep found with Keyturn's display name that no
// live journal record owns.
type Orphan struct {
	ClientID  string
	KeyID     string
	Hint      string
	RequestID string // from the display name "keyturn <request-id>"
	Removed   bool
	Reason    string // why it is an orphan, or why it was not removed
}

// Sweep removes the credentials named "keyturn <request-id>" that no live
// journal record owns, on every app Keyturn knows of: the apps of its
// journal and KnownApps. A record owns its credential while it is
// unfinished (recovery settles it) and, once done, the credential it
// stored; a credential of a failed or rolled-back rotation, a second one
// of a done rotation, or one whose request the journal does not know is
// an orphan: its secret is in no vault. A key ID that any Keyturn secret
// in a known vault still holds is kept whatever the journal says. Every
// removal is audited first. Sweep is idempotent; the scheduler and
// `keyturn recover` run it.
//
// With SweepEvery set, a Sweep that follows this Rotator's last one by less
// than that does nothing: the scheduler calls it on every tick, and one
// directory read per app every few minutes is enough for a rare event.
func (r *Rotator) Sweep(ctx context.Context) ([]Orphan, error) {
	if !r.sweepDue() {
		return nil, nil
	}
	recs, err := r.Store.List(ctx, Filter{})
	if err != nil {
		return nil, fmt.Errorf("sweep: read the journal: %w", err)
	}
	byID := make(map[string]Record, len(recs))
	apps := map[string]bool{}
	for _, rec := range recs {
		byID[rec.ID] = rec
		apps[strings.ToLower(rec.ClientID)] = true
	}
	for _, id := range r.KnownApps {
		apps[strings.ToLower(id)] = true
	}
	ids := make([]string, 0, len(apps))
	for id := range apps {
		ids = append(ids, id)
	}
	sort.Strings(ids)

	var held map[string]SecretRef // read once, and only when needed
	var out []Orphan
	var errs []error
	for _, clientID := range ids {
		app, err := r.Apps.GetApp(ctx, clientID)
		if errors.Is(err, ErrAppNotFound) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("sweep %s: %w", clientID, err))
			continue
		}
		for _, p := range app.Passwords {
			reqID, ok := keyturnRequestID(p.DisplayName)
			if !ok {
				continue
			}
			why, orphan := orphaned(byID, reqID, p.KeyID)
			if orphan {
				// The journal was read before the app: a rotation may have
				// begun since. Its record precedes its credential, so a
				// fresh read settles it.
				rec, err := r.Store.Get(ctx, reqID)
				switch {
				case err == nil:
					byID[reqID] = rec
					why, orphan = orphaned(byID, reqID, p.KeyID)
				case !errors.Is(err, ErrNotFound):
					errs = append(errs, fmt.Errorf("sweep %s: read request %s: %w", app.ClientID, reqID, err))
					continue
				}
			}
			if !orphan {
				continue
			}
			if held == nil {
				if held, err = r.heldKeys(ctx, recs); err != nil {
					// Without the vaults' word nothing may go.
					return out, errors.Join(append(errs, fmt.Errorf("sweep: %w", err))...)
				}
			}
			o := Orphan{ClientID: app.ClientID, KeyID: p.KeyID, Hint: p.Hint, RequestID: reqID, Reason: why}
			if ref, ok := held[strings.ToLower(p.KeyID)]; ok {
				o.Reason = "kept: " + ref.String() + " holds it"
				out = append(out, o)
				continue
			}
			if err := r.removeOrphan(ctx, app, o); err != nil {
				o.Reason = err.Error()
				errs = append(errs, fmt.Errorf("sweep %s: remove %s: %w", app.ClientID, p.KeyID, err))
			} else {
				o.Removed = true
			}
			out = append(out, o)
		}
	}
	return out, errors.Join(errs...)
}

// sweepDue reports whether Sweep should run now, and if so notes that it
// does.
func (r *Rotator) sweepDue() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.Clock.Now()
	if r.SweepEvery > 0 && !r.lastSweep.IsZero() && now.Sub(r.lastSweep) < r.SweepEvery {
		return false
	}
	r.lastSweep = now
	return true
}

// removeOrphan audits, then removes, one orphaned credential.
func (r *Rotator) removeOrphan(ctx context.Context, app App, o Orphan) error {
	if err := r.audit(ctx, Event{Type: EventOrphanRemoving, RequestID: o.RequestID, ClientID: app.ClientID, KeyID: o.KeyID, Hint: o.Hint,
		Detail: "sweep: " + o.Reason}); err != nil {
		return err
	}
	if err := r.Apps.RemovePassword(ctx, app.ObjectID, o.KeyID); err != nil {
		return err
	}
	r.logger().InfoContext(ctx, "orphaned credential removed", "request_id", o.RequestID, "client_id", app.ClientID, "key_id", o.KeyID)
	return nil
}

// keyturnRequestID returns the request ID of a credential Keyturn named.
func keyturnRequestID(displayName string) (string, bool) {
	id, ok := strings.CutPrefix(displayName, "keyturn ")
	if !ok || id == "" || strings.ContainsAny(id, " \t") {
		return "", false
	}
	return id, true
}

// orphaned says whether the journal leaves credential keyID of request
// reqID without an owner, and why.
func orphaned(byID map[string]Record, reqID, keyID string) (string, bool) {
	rec, ok := byID[reqID]
	switch {
	case !ok:
		return "the journal has no request " + reqID, true
	case !rec.State.Final():
		return "", false // recovery settles it
	case rec.State != StateDone:
		return "request " + reqID + " ended " + string(rec.State), true
	case !strings.EqualFold(rec.KeyID, keyID):
		return "request " + reqID + " stored key " + rec.KeyID + ", not this one", true
	}
	return "", false
}

// heldKeys returns the key IDs that Keyturn's vault secrets hold (by their
// key ID tag), in every vault of the policy and of the journal, each with
// the secret holding it. It fails if any of those vaults cannot be listed.
func (r *Rotator) heldKeys(ctx context.Context, recs []Record) (map[string]SecretRef, error) {
	vaults := map[string]string{}
	for _, v := range r.Policy.AllowedVaults {
		vaults[strings.ToLower(v)] = v
	}
	for _, rec := range recs {
		if v := rec.SecretRef.VaultURI; v != "" {
			vaults[strings.ToLower(v)] = v
		}
	}
	uris := make([]string, 0, len(vaults))
	for _, v := range vaults {
		uris = append(uris, v)
	}
	sort.Strings(uris)
	held := map[string]SecretRef{}
	for _, v := range uris {
		secrets, err := r.Vault.List(ctx, v)
		if err != nil {
			return nil, fmt.Errorf("list the secrets of %s: %w", v, err)
		}
		for _, s := range secrets {
			if k := s.Tags[TagKeyID]; k != "" {
				held[strings.ToLower(k)] = s.Ref
			}
		}
	}
	return held, nil
}
