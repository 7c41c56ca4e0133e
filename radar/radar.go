// Package radar finds the client secrets of the apps Keyturn owns that
// expire soon, says which Key Vault secret holds each of them (or that none
// does), and decides when a warning card is posted, updated in place or
// left alone, so that a channel hears about each threshold once.
//
// The scan is read-only: it lists applications and vault secret metadata
// and reads the rotation journal. It never changes anything; a rotation it
// suggests goes through the normal, audited request.
//
// radar imports only the standard library and rotation.
package radar

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// DefaultWindow is how far ahead the radar looks when the policy names no
// window (radar.warn_before).
const DefaultWindow = 30 * 24 * time.Hour

// OwnedApps lists the applications Keyturn's service principal owns.
type OwnedApps interface {
	// OwnedApps calls fn with each page of applications Keyturn owns, each
	// with its password credentials (owners need not be filled). It stops
	// at the first error fn returns and returns it. Errors:
	// rotation.ErrThrottled (the service kept answering 429 after the
	// Retry-After waits), rotation.ErrNotOwner (the listing was refused),
	// rotation.ErrAmbiguous (network failure or 5xx).
	OwnedApps(ctx context.Context, fn func(page []rotation.App) error) error
}

// VaultSecrets lists the secrets of one vault.
type VaultSecrets interface {
	// List returns the metadata (never the value) and tags of the
	// latest version of every secret in the vault vaultURI. Errors:
	// rotation.ErrVaultForbidden, rotation.ErrVaultUnreachable,
	// rotation.ErrThrottled, rotation.ErrAmbiguous.
	List(ctx context.Context, vaultURI string) ([]rotation.StoredSecret, error)
}

// Journal is the part of rotation.Store the radar reads: the rotations of
// an app, for the last one and who approved it.
type Journal interface {
	List(ctx context.Context, f rotation.Filter) ([]rotation.Record, error)
}

// Scanner looks at every password credential of every app Keyturn owns and
// at the secrets of the vaults it manages. Apps, Vault and Vaults are
// required; Journal may be nil (no "last rotation" then).
type Scanner struct {
	Apps    OwnedApps
	Vault   VaultSecrets
	Journal Journal
	// Vaults are the URIs of the vaults Keyturn manages (the policy's).
	Vaults []string
	// Window is how far ahead to look; zero means DefaultWindow.
	Window time.Duration
	// Watch, when set, names apps to report even with nothing inside the
	// window: those with a posted card, so the card can say "rotated,
	// next expiry …".
	Watch func(clientID string) bool
}

// Report is what one scan found. It holds no secret value: key IDs,
// hints (which Entra ID itself shows) and dates only.
type Report struct {
	Scanned time.Time
	Window  time.Duration
	// AppsSeen counts every owned app listed, expiring or not.
	AppsSeen int
	// Apps are the apps with at least one credential that ends within the
	// window (or has ended) and that no rotation has replaced, soonest
	// first, followed by the watched apps with nothing inside the window.
	Apps []App
	// Unchecked says, in words for people, what could not be checked
	// (a vault that did not answer, a listing cut short).
	Unchecked []string
	// Complete is false when the listing of owned apps stopped early:
	// apps beyond that point were not seen.
	Complete bool
}

// App is one app with credentials inside the window.
type App struct {
	ClientID    string
	ObjectID    string
	DisplayName string
	// Credentials are all of the app's password credentials, soonest end
	// first, so the card can show what replaces the expiring one.
	Credentials []Credential
	// Last is the app's last finished rotation through Keyturn, if any.
	Last *Rotation
	// Inside reports whether a credential no rotation replaced ends
	// within the window; false only for a watched app.
	Inside bool
	// Unchecked says what could not be checked for this app.
	Unchecked []string
}

// Credential is one password credential as the radar sees it.
type Credential struct {
	KeyID       string
	DisplayName string
	Hint        string
	End         time.Time
	// Left is the time until End at the scan (negative once expired).
	Left time.Duration
	// HeldBy are the Keyturn-managed vault secrets whose latest version
	// holds this credential (by their key-ID tag). Empty: "not in any
	// Keyturn vault", a secret someone made by hand or never stored.
	HeldBy []rotation.SecretRef
	// Replaced means a finished Keyturn rotation put a new credential in
	// its place (it retires the old one after the overlap, or the old one
	// is in no Keyturn vault and older than the rotation): no warning.
	Replaced bool
}

// Expired reports whether the credential has ended.
func (c Credential) Expired() bool { return c.Left <= 0 }

// DaysLeft is the number of whole days left, 0 on the last day and after.
func (c Credential) DaysLeft() int {
	if c.Left <= 0 {
		return 0
	}
	return int(c.Left / (24 * time.Hour))
}

// Rotation is an app's last finished rotation.
type Rotation struct {
	RequestID   string
	At          time.Time
	RequestedBy string
	ApprovedBy  string
	// KeyID and Start are the credential it created.
	KeyID string
	Start time.Time
}

// Soonest returns the credential no rotation replaced that ends first
// (the zero Credential when the app has none).
func (a App) Soonest() Credential {
	for _, c := range a.Credentials {
		if !c.Replaced && !c.End.IsZero() {
			return c
		}
	}
	return Credential{}
}

// Scan lists the owned apps page by page and keeps only those with a
// credential ending within the window, so its memory grows with what it
// reports, not with the tenant. A vault that cannot be listed or a journal
// that cannot be read does not stop the scan: the report says what could
// not be checked. An error is returned only when the app listing failed
// before a single page arrived.
func (s *Scanner) Scan(ctx context.Context, now time.Time) (Report, error) {
	window := s.Window
	if window <= 0 {
		window = DefaultWindow
	}
	rep := Report{Scanned: now, Window: window, Complete: true}

	held, unchecked := s.heldKeys(ctx)
	rep.Unchecked = append(rep.Unchecked, unchecked...)

	pages := 0
	err := s.Apps.OwnedApps(ctx, func(page []rotation.App) error {
		pages++
		for _, a := range page {
			rep.AppsSeen++
			if app, ok := s.look(ctx, a, now, window, held); ok {
				rep.Apps = append(rep.Apps, app)
			}
		}
		return ctx.Err()
	})
	if err != nil {
		if pages == 0 {
			return Report{}, err
		}
		rep.Complete = false
		rep.Unchecked = append(rep.Unchecked, "the list of apps stopped early ("+Reason(err)+"): apps after the first "+strconv.Itoa(rep.AppsSeen)+" were not checked")
	}
	slices.SortStableFunc(rep.Apps, func(x, y App) int {
		if x.Inside != y.Inside {
			if x.Inside {
				return -1
			}
			return 1
		}
		return x.Soonest().End.Compare(y.Soonest().End)
	})
	return rep, nil
}

// look returns the radar's view of a when one of its credentials that no
// rotation has replaced ends within the window, or when Watch asks for it.
func (s *Scanner) look(ctx context.Context, a rotation.App, now time.Time, window time.Duration, held map[string][]rotation.SecretRef) (App, bool) {
	clientID := strings.ToLower(a.ClientID)
	watched := s.Watch != nil && s.Watch(clientID)
	if !watched && !slices.ContainsFunc(a.Passwords, func(p rotation.PasswordCredential) bool { return within(p.End, now, window) }) {
		return App{}, false
	}
	app := App{ClientID: clientID, ObjectID: a.ObjectID, DisplayName: a.DisplayName}
	replaced := map[string]bool{}
	if s.Journal != nil {
		recs, err := s.Journal.List(ctx, rotation.Filter{ClientID: clientID})
		if err != nil {
			app.Unchecked = append(app.Unchecked, "the last rotation could not be read ("+Reason(err)+")")
		}
		for _, r := range recs {
			if r.State != rotation.StateDone {
				continue
			}
			if r.RetireKeyID != "" {
				replaced[strings.ToLower(r.RetireKeyID)] = true
			}
			app.Last = &Rotation{RequestID: r.ID, At: r.UpdatedAt, RequestedBy: r.RequestedBy, ApprovedBy: r.ApprovedBy, KeyID: strings.ToLower(r.KeyID), Start: r.Start}
		}
	}
	for _, p := range a.Passwords {
		key := strings.ToLower(p.KeyID)
		c := Credential{KeyID: p.KeyID, DisplayName: p.DisplayName, Hint: p.Hint, End: p.End, Left: p.End.Sub(now),
			HeldBy: held[key], Replaced: replaced[key]}
		// A credential older than Keyturn's last rotation of the app that no
		// Keyturn vault holds was superseded by it: consumers read the vault.
		if app.Last != nil && key != app.Last.KeyID && len(c.HeldBy) == 0 && !p.Start.IsZero() && p.Start.Before(app.Last.Start) {
			c.Replaced = true
		}
		if !c.Replaced && within(p.End, now, window) {
			app.Inside = true
		}
		app.Credentials = append(app.Credentials, c)
	}
	if !app.Inside && !watched {
		return App{}, false
	}
	slices.SortStableFunc(app.Credentials, func(x, y Credential) int {
		switch {
		case x.End.IsZero() != y.End.IsZero(): // no end: last
			if x.End.IsZero() {
				return 1
			}
			return -1
		}
		return x.End.Compare(y.End)
	})
	return app, true
}

// within reports whether a credential ending at end ends within window of
// now (or has ended). A credential with no end never expires.
func within(end, now time.Time, window time.Duration) bool {
	return !end.IsZero() && end.Sub(now) <= window
}

// heldKeys indexes the Keyturn-managed vault secrets by the key ID their
// latest version holds.
func (s *Scanner) heldKeys(ctx context.Context) (map[string][]rotation.SecretRef, []string) {
	held := map[string][]rotation.SecretRef{}
	var unchecked []string
	for _, v := range s.Vaults {
		secrets, err := s.Vault.List(ctx, v)
		if err != nil {
			unchecked = append(unchecked, "vault "+v+" could not be listed ("+Reason(err)+"): a secret held there shows as not in any Keyturn vault")
			continue
		}
		for _, sec := range secrets {
			key := strings.ToLower(sec.Tags[rotation.TagKeyID])
			if key == "" {
				continue
			}
			ref := sec.Ref
			ref.Version = ""
			held[key] = append(held[key], ref)
		}
	}
	return held, unchecked
}

// Reason says in a few words why a lookup failed, from the domain's
// sentinel errors; it never repeats an error's text.
func Reason(err error) string {
	switch {
	case errors.Is(err, rotation.ErrThrottled):
		return "the service is throttling Keyturn; the next scan tries again"
	case errors.Is(err, rotation.ErrVaultForbidden):
		return "Keyturn has no role on the vault"
	case errors.Is(err, rotation.ErrVaultUnreachable):
		return "the vault did not answer"
	case errors.Is(err, rotation.ErrNotOwner):
		return "the directory refused the listing"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "the scan ran out of time"
	default:
		return "the service failed to answer"
	}
}
