package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/keyturn/keyturn/policy"
	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/rotation/memory"
)

// SecretMarker is part of every secret value the sandbox's stand-ins make
// (after the three-character hint), so a test can search a page, a log or a
// file for it: finding it means a secret leaked.
const SecretMarker = "~KEYTURN-SANDBOX-SECRET~"

// File names in the state directory.
const (
	TenantFileName = "tenant.jsonc"       // the editable demo tenant, when none is given
	worldFileName  = "sandbox-world.json" // directory and vault metadata, no values
	chatFileName   = "sandbox-chat.json"  // the channels' messages
)

// Config configures Open.
type Config struct {
	// StateDir holds the sandbox's files (created 0700 when missing). The
	// caller keeps its journal and audit trail there too.
	StateDir string
	// TenantFile is the demo tenant file. Empty means
	// <StateDir>/tenant.jsonc, written from DemoTenant when missing.
	TenantFile string
	// PolicyFile is the policy file, in the production format. Empty means
	// <StateDir>/keyturn.yaml, written from DemoPolicy when missing.
	PolicyFile string
	// Log receives IDs and outcomes, never values. Nil discards.
	Log *slog.Logger
	// Clock stamps credentials and decides when a new secret works. Nil
	// means the system clock (the page shows real times).
	Clock rotation.Clock
}

// World is the sandbox's Azure: the demo tenant's directory (app
// registrations and the token endpoint that verifies their secrets), its
// Key Vaults and its role lookups, all in process, and the policy Keyturn
// runs under. Directory and vault
// metadata (key IDs, hints, dates, versions, tags) survive a restart;
// secret values do not, and are never written anywhere. A World is safe for
// concurrent use.
type World struct {
	tenant     *Tenant
	tenantPath string
	pol        policy.Policy
	policyPath string
	stateDir   string
	log        *slog.Logger
	clock      rotation.Clock
	dir        *memory.Directory
	vault      *memory.Vault
	roles      *memory.Roles

	mu       sync.Mutex
	versions []savedVersion // every vault version written, in write order
	minted   int            // credentials the directory created (key ID sequence)
	onChange func()
}

// Open loads the tenant and policy files and builds the stand-ins: from the
// state directory's saved metadata when there is some, else fresh from the
// files.
func Open(cfg Config) (*World, error) {
	if cfg.StateDir == "" {
		return nil, errors.New("sandbox: a state directory is required")
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("sandbox: state directory: %w", err)
	}
	path, err := fileOrDemo(cfg.TenantFile, filepath.Join(cfg.StateDir, TenantFileName), DemoTenant())
	if err != nil {
		return nil, fmt.Errorf("sandbox: write the demo tenant file: %w", err)
	}
	t, err := LoadTenant(path)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	ppath, err := fileOrDemo(cfg.PolicyFile, filepath.Join(cfg.StateDir, PolicyFileName), DemoPolicy())
	if err != nil {
		return nil, fmt.Errorf("sandbox: write the demo policy file: %w", err)
	}
	pol, err := loadPolicy(ppath, t)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	w := &World{tenant: t, tenantPath: path, pol: pol, policyPath: ppath, roles: t.roleDirectory(), stateDir: cfg.StateDir, log: cfg.Log, clock: cfg.Clock}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.clock == nil {
		w.clock = rotation.SystemClock{}
	}
	w.dir = memory.NewDirectory(w.clock)
	w.dir.SecretPrefix = SecretMarker
	w.dir.Propagation = time.Duration(t.PropagationSeconds) * time.Second
	w.vault = memory.NewVault()
	for _, v := range t.Vaults {
		if v.NoAccess {
			w.vault.Forbid(VaultURI(v.Name))
		}
	}
	saved, err := readSnapshot(filepath.Join(cfg.StateDir, worldFileName))
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	if err := w.restore(saved); err != nil {
		return nil, fmt.Errorf("sandbox: restore %s (delete it to start the demo tenant afresh): %w", worldFileName, err)
	}
	if err := w.save(); err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	return w, nil
}

// Tenant returns the loaded tenant file. Do not modify it.
func (w *World) Tenant() *Tenant { return w.tenant }

// TenantFile returns the path of the tenant file in use.
func (w *World) TenantFile() string { return w.tenantPath }

// StateDir returns the state directory.
func (w *World) StateDir() string { return w.stateDir }

// Applications returns the demo directory as rotation.Applications.
func (w *World) Applications() rotation.Applications { return worldApps{w} }

// Vault returns the demo Key Vaults as rotation.Vault.
func (w *World) Vault() rotation.Vault { return worldVault{w} }

// Verifier returns the demo token endpoint: it accepts a secret of a live
// credential once it is PropagationSeconds old.
func (w *World) Verifier() rotation.Verifier { return w.dir.Verifier() }

// Roles returns the demo directory's answers to role lookups, as Graph's.
func (w *World) Roles() rotation.RoleDirectory { return w.roles }

// PrincipalID is the object ID of Keyturn's service principal in the demo
// tenant: the owner the apps marked "owned" list.
func (w *World) PrincipalID() string { return memory.KeyturnPrincipalID }

// Policy returns the policy file's policy: Keyturn's own app protected,
// the tenant's vaults allowed unless the file lists vaults, and the demo
// tenant allowed unless the file lists tenants.
func (w *World) Policy() policy.Policy { return w.pol }

// PolicyFile returns the path of the policy file in use.
func (w *World) PolicyFile() string { return w.policyPath }

// fileOrDemo returns path when set; otherwise def, written from demo when
// it does not exist yet.
func fileOrDemo(path, def string, demo []byte) (string, error) {
	if path != "" {
		return path, nil
	}
	if _, err := os.Stat(def); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(def, demo, 0o600); err != nil {
			return "", err
		}
	}
	return def, nil
}

// Close saves the metadata one last time.
func (w *World) Close() error { return w.save() }

// setOnChange installs fn, called (without locks held) after every change
// to the directory or a vault.
func (w *World) setOnChange(fn func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.onChange = fn
}

// changed saves the metadata and tells the page. A failed save is logged:
// the sandbox goes on, and the next change saves again.
func (w *World) changed() {
	if err := w.save(); err != nil {
		w.log.Error("sandbox state not saved", "error", err)
	}
	w.mu.Lock()
	fn := w.onChange
	w.mu.Unlock()
	if fn != nil {
		fn()
	}
}

// worldApps is rotation.Applications over the demo directory, saving after
// every change.
type worldApps struct{ w *World }

var _ rotation.Applications = worldApps{}

func (a worldApps) GetApp(ctx context.Context, clientID string) (rotation.App, error) {
	return a.w.dir.GetApp(ctx, clientID)
}

func (a worldApps) AddPassword(ctx context.Context, objectID, displayName string, end time.Time) (rotation.NewPassword, error) {
	p, err := a.w.dir.AddPassword(ctx, objectID, displayName, end)
	if err != nil {
		return p, err
	}
	a.w.mu.Lock()
	a.w.minted++
	a.w.mu.Unlock()
	a.w.log.Info("sandbox directory: password added", "object_id", objectID, "key_id", p.KeyID)
	a.w.changed()
	return p, nil
}

func (a worldApps) RemovePassword(ctx context.Context, objectID, keyID string) error {
	if err := a.w.dir.RemovePassword(ctx, objectID, keyID); err != nil {
		return err
	}
	a.w.log.Info("sandbox directory: password removed", "object_id", objectID, "key_id", keyID)
	a.w.changed()
	return nil
}

// worldVault is rotation.Vault over the demo vaults, recording every
// version's metadata (never its value).
type worldVault struct{ w *World }

var _ rotation.Vault = worldVault{}

func (v worldVault) Get(ctx context.Context, ref rotation.SecretRef) (rotation.StoredSecret, error) {
	return v.w.vault.Get(ctx, ref)
}

func (v worldVault) Set(ctx context.Context, ref rotation.SecretRef, value rotation.Secret, props rotation.SecretProps) (rotation.StoredSecret, error) {
	s, err := v.w.set(ctx, ref, value, props)
	if err != nil {
		return s, err
	}
	v.w.changed()
	return s, nil
}

func (v worldVault) Recover(ctx context.Context, ref rotation.SecretRef) error {
	if err := v.w.vault.Recover(ctx, ref); err != nil {
		return err
	}
	v.w.changed()
	return nil
}

func (v worldVault) List(ctx context.Context, vaultURI string) ([]rotation.StoredSecret, error) {
	return v.w.vault.List(ctx, vaultURI)
}

// set writes a version and records its metadata.
func (w *World) set(ctx context.Context, ref rotation.SecretRef, value rotation.Secret, props rotation.SecretProps) (rotation.StoredSecret, error) {
	s, err := w.vault.Set(ctx, ref, value, props)
	if err != nil {
		return s, err
	}
	w.mu.Lock()
	w.versions = append(w.versions, savedOf(s))
	w.mu.Unlock()
	w.log.Info("sandbox vault: secret version stored", "vault_secret", s.ID)
	return s, nil
}

// OwnedApps lists the demo apps Keyturn owns, with their password
// credentials, as the radar reads them from Graph (one page).
func (w *World) OwnedApps(ctx context.Context, fn func([]rotation.App) error) error {
	var page []rotation.App
	for _, a := range w.tenant.Apps {
		if !a.Owned {
			continue
		}
		app, err := w.dir.GetApp(ctx, a.ClientID)
		if err != nil {
			return err
		}
		app.Owners = nil
		page = append(page, app)
	}
	return fn(page)
}
