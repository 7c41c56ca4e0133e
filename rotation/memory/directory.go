package memory

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// Directory is an in-memory Entra ID tenant: app registrations with password
// credentials. It implements rotation.Applications, and its Verifier checks
// secrets against the credentials it minted, the way the token endpoint
// would, including the delay before a new secret works.
type Directory struct {
	// Propagation is how long a new secret is refused after creation.
	Propagation time.Duration
	// MaxLifetime, when set, is the tenant's credential lifetime policy.
	MaxLifetime time.Duration
	// SecretPrefix starts every minted secret value (a canary for tests).
	SecretPrefix string
	// LaggingRemovals makes that many next RemovePassword calls answer
	// success without removing anything, as a directory replica that has
	// not seen a new credential yet answers "not found".
	LaggingRemovals int

	clock  rotation.Clock
	mu     sync.Mutex
	apps   map[string]*dirApp // by lower-case client ID
	seq    int
	minted []string
}

type dirApp struct {
	app      rotation.App
	owned    bool
	secrets  map[string]string    // key ID → secret value
	created  map[string]time.Time // key ID → creation time
	disabled bool                 // token requests always refused
}

var _ rotation.Applications = (*Directory)(nil)

// KeyturnPrincipalID is the object ID of Keyturn's service principal in the
// fake tenant, listed among the owners of the apps it owns.
const KeyturnPrincipalID = "00000000-0000-4000-8000-00000000beef"

// NewDirectory returns an empty tenant on clock.
func NewDirectory(clock rotation.Clock) *Directory {
	return &Directory{clock: clock, apps: map[string]*dirApp{}, SecretPrefix: "~CANARY~", Propagation: 10 * time.Second}
}

// AddApp registers app. owned says whether Keyturn is among its owners;
// otherwise changes are refused with rotation.ErrNotOwner. Existing
// passwords of app get secrets of their own so they can be verified.
func (d *Directory) AddApp(app rotation.App, owned bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a := &dirApp{app: app, owned: owned, secrets: map[string]string{}, created: map[string]time.Time{}}
	a.app.Passwords = append([]rotation.PasswordCredential(nil), app.Passwords...)
	for i := range a.app.Passwords {
		p := &a.app.Passwords[i]
		v := d.mint()
		if p.Hint == "" {
			p.Hint = v[:3]
		}
		a.secrets[strings.ToLower(p.KeyID)] = v
		a.created[strings.ToLower(p.KeyID)] = time.Time{}
	}
	d.apps[strings.ToLower(app.ClientID)] = a
}

// AddExisting adds a password credential created outside Keyturn (in the
// portal, say) and returns its secret value, for seeding a vault.
func (d *Directory) AddExisting(clientID, displayName string, end time.Time) (rotation.PasswordCredential, string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a := d.apps[strings.ToLower(clientID)]
	v := d.mint()
	p := rotation.PasswordCredential{KeyID: d.keyID(), DisplayName: displayName, Hint: v[:3], Start: d.clock.Now(), End: end}
	a.app.Passwords = append(a.app.Passwords, p)
	a.secrets[strings.ToLower(p.KeyID)] = v
	a.created[strings.ToLower(p.KeyID)] = time.Time{}
	return p, v
}

// DisableTokens makes every token request for clientID fail, as if the
// secret never propagated.
func (d *Directory) DisableTokens(clientID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.apps[strings.ToLower(clientID)].disabled = true
}

// GetApp implements rotation.Applications.
func (d *Directory) GetApp(_ context.Context, clientID string) (rotation.App, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.apps[strings.ToLower(clientID)]
	if !ok {
		return rotation.App{}, fmt.Errorf("app %s: %w", clientID, rotation.ErrAppNotFound)
	}
	app := a.app
	app.Passwords = append([]rotation.PasswordCredential(nil), a.app.Passwords...)
	app.Owners = append([]rotation.Principal(nil), a.app.Owners...)
	if a.owned {
		app.Owners = append(app.Owners, rotation.Principal{ObjectID: KeyturnPrincipalID, Name: "Keyturn"})
	}
	return app, nil
}

// AddPassword implements rotation.Applications.
func (d *Directory) AddPassword(_ context.Context, objectID, displayName string, end time.Time) (rotation.NewPassword, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, err := d.byObject(objectID)
	if err != nil {
		return rotation.NewPassword{}, err
	}
	now := d.clock.Now()
	if d.MaxLifetime > 0 && end.Sub(now) > d.MaxLifetime {
		return rotation.NewPassword{}, fmt.Errorf("add password: %w", rotation.ErrLifetimePolicy)
	}
	v := d.mint()
	p := rotation.PasswordCredential{KeyID: d.keyID(), DisplayName: displayName, Hint: v[:3], Start: now.UTC().Truncate(time.Second), End: end}
	a.app.Passwords = append(a.app.Passwords, p)
	a.secrets[strings.ToLower(p.KeyID)] = v
	a.created[strings.ToLower(p.KeyID)] = now
	return rotation.NewPassword{PasswordCredential: p, Secret: rotation.NewSecret(v)}, nil
}

// RemovePassword implements rotation.Applications.
func (d *Directory) RemovePassword(_ context.Context, objectID, keyID string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, err := d.byObject(objectID)
	if err != nil {
		return err
	}
	if d.LaggingRemovals > 0 {
		d.LaggingRemovals--
		return nil
	}
	k := strings.ToLower(keyID)
	for i, p := range a.app.Passwords {
		if strings.ToLower(p.KeyID) == k {
			a.app.Passwords = append(a.app.Passwords[:i], a.app.Passwords[i+1:]...)
			delete(a.secrets, k)
			delete(a.created, k)
			return nil
		}
	}
	return nil // already gone: success, as Graph's contract for us says
}

func (d *Directory) byObject(objectID string) (*dirApp, error) {
	for _, a := range d.apps {
		if strings.EqualFold(a.app.ObjectID, objectID) {
			if !a.owned {
				return nil, fmt.Errorf("app %s: %w", a.app.ClientID, rotation.ErrNotOwner)
			}
			return a, nil
		}
	}
	return nil, fmt.Errorf("application object %s: %w", objectID, rotation.ErrAppNotFound)
}

// Verifier returns a rotation.Verifier that accepts a secret only if it
// belongs to a live credential of the app and is older than Propagation.
func (d *Directory) Verifier() rotation.Verifier { return dirVerifier{d} }

type dirVerifier struct{ d *Directory }

func (v dirVerifier) Verify(_ context.Context, clientID string, secret rotation.Secret) error {
	d := v.d
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.apps[strings.ToLower(clientID)]
	if !ok {
		return fmt.Errorf("token for %s: application not found in the tenant", clientID)
	}
	for k, s := range a.secrets {
		if s == secret.Reveal() {
			if a.disabled || d.clock.Now().Sub(a.created[k]) < d.Propagation {
				return fmt.Errorf("token for %s: %w", clientID, rotation.ErrNotYetValid)
			}
			return nil
		}
	}
	return fmt.Errorf("token for %s: %w", clientID, rotation.ErrNotYetValid)
}

// SecretOf returns the secret value of credential keyID (for assertions).
func (d *Directory) SecretOf(clientID, keyID string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.apps[strings.ToLower(clientID)].secrets[strings.ToLower(keyID)]
	return v, ok
}

// KeyIDOf returns the key ID of the live credential whose secret is value.
func (d *Directory) KeyIDOf(clientID, value string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for k, s := range d.apps[strings.ToLower(clientID)].secrets {
		if s == value {
			return k, true
		}
	}
	return "", false
}

// Minted returns every secret value this directory ever created, removed
// credentials' included, sorted.
func (d *Directory) Minted() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := append([]string(nil), d.minted...)
	sort.Strings(out)
	return out
}

// mint makes a secret value: three random characters (the hint), then the
// canary prefix and more randomness.
func (d *Directory) mint() string {
	h := rotation.RandomHex(18)
	v := h[:3] + d.SecretPrefix + h[3:]
	d.minted = append(d.minted, v)
	return v
}

func (d *Directory) keyID() string {
	d.seq++
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", d.seq)
}
