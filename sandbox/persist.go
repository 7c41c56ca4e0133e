package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// snapshot is what the state directory keeps of the World: metadata only.
// Secret values are not in it; on restore each credential gets a new value
// and each vault version the value of the credential its tags name (or a
// fresh marked value when that credential is gone), so the stand-ins stay
// consistent with each other and with the journal.
type snapshot struct {
	Format   int            `json:"format"`
	Minted   int            `json:"minted"` // credentials created so far: the key ID sequence
	Apps     []savedApp     `json:"apps"`
	Versions []savedVersion `json:"versions"`
}

const snapshotFormat = 1

type savedApp struct {
	ClientID  string          `json:"clientId"`
	Passwords []savedPassword `json:"passwords"`
}

type savedPassword struct {
	KeyID       string    `json:"keyId"`
	DisplayName string    `json:"displayName"`
	Hint        string    `json:"hint"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
}

type savedVersion struct {
	VaultURI    string            `json:"vaultUri"`
	Name        string            `json:"name"`
	Version     string            `json:"version"`
	ContentType string            `json:"contentType,omitempty"`
	NotBefore   time.Time         `json:"notBefore,omitzero"`
	Expires     time.Time         `json:"expires,omitzero"`
	Tags        map[string]string `json:"tags,omitempty"`
}

func savedOf(s rotation.StoredSecret) savedVersion {
	return savedVersion{VaultURI: s.Ref.VaultURI, Name: s.Ref.Name, Version: s.Version, ContentType: s.ContentType,
		NotBefore: s.NotBefore, Expires: s.Expires, Tags: s.Tags}
}

// reserveClientID is an app the sandbox registers to advance the directory's
// key ID sequence past the credentials of an earlier run.
const (
	reserveClientID = "00000000-0000-4000-8000-00000000a001"
	reserveObjectID = "00000000-0000-4000-8000-00000000a002"
)

// readSnapshot reads path; a missing file is an empty snapshot.
func readSnapshot(path string) (snapshot, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return snapshot{Format: snapshotFormat}, nil
	}
	if err != nil {
		return snapshot{}, fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	var s snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return snapshot{}, fmt.Errorf("decode %s: %w", filepath.Base(path), err)
	}
	if s.Format != snapshotFormat {
		return snapshot{}, fmt.Errorf("%s has format %d, want %d", filepath.Base(path), s.Format, snapshotFormat)
	}
	return s, nil
}

// restore rebuilds the stand-ins from s, then seeds the tenant file's apps
// that s does not know (all of them on first start).
func (w *World) restore(s snapshot) error {
	ctx := context.Background()
	saved := map[string]savedApp{}
	for _, a := range s.Apps {
		saved[strings.ToLower(a.ClientID)] = a
	}
	var fresh []AppDef
	for _, a := range w.tenant.Apps {
		app := rotation.App{ObjectID: a.ObjectID, ClientID: a.ClientID, DisplayName: a.DisplayName, SignInAudience: "AzureADMyOrg"}
		sa, ok := saved[strings.ToLower(a.ClientID)]
		if !ok {
			fresh = append(fresh, a)
		}
		for _, p := range sa.Passwords {
			app.Passwords = append(app.Passwords, rotation.PasswordCredential{KeyID: p.KeyID, DisplayName: p.DisplayName, Hint: p.Hint, Start: p.Start, End: p.End})
		}
		w.dir.AddApp(app, a.Owned)
	}
	if s.Minted > 0 {
		w.dir.AddApp(rotation.App{ObjectID: reserveObjectID, ClientID: reserveClientID, DisplayName: "sandbox key ID reserve"}, true)
		for range s.Minted {
			p, _ := w.dir.AddExisting(reserveClientID, "reserved", w.clock.Now())
			if err := w.dir.RemovePassword(ctx, reserveObjectID, p.KeyID); err != nil {
				return err
			}
		}
	}
	w.minted = s.Minted
	versions := slices.Clone(s.Versions)
	slices.SortStableFunc(versions, func(a, b savedVersion) int { return strings.Compare(a.Version, b.Version) })
	for _, v := range versions {
		ref := rotation.SecretRef{VaultURI: v.VaultURI, Name: v.Name}
		st, err := w.set(ctx, ref, w.restoredValue(v), rotation.SecretProps{ContentType: v.ContentType, NotBefore: v.NotBefore, Expires: v.Expires, Tags: v.Tags})
		if err != nil {
			return fmt.Errorf("replay %s: %w", ref, err)
		}
		if st.Version != v.Version {
			return fmt.Errorf("replay %s gave version %s, not %s", ref, st.Version, v.Version)
		}
	}
	for _, a := range fresh {
		if err := w.seed(ctx, a); err != nil {
			return fmt.Errorf("seed %s: %w", a.DisplayName, err)
		}
	}
	return nil
}

// restoredValue is the value a replayed version holds: the client ID for
// client-ID secrets, the live credential named by the tags for client
// secrets, else a new marked value that no credential accepts.
func (w *World) restoredValue(v savedVersion) rotation.Secret {
	cid, kid := v.Tags[rotation.TagClientID], v.Tags[rotation.TagKeyID]
	if v.ContentType == rotation.ContentTypeClientID && rotation.IsGUID(cid) {
		return rotation.NewSecret(cid)
	}
	if _, err := w.dir.GetApp(context.Background(), cid); err == nil && kid != "" {
		if val, ok := w.dir.SecretOf(cid, kid); ok {
			return rotation.NewSecret(val)
		}
	}
	h := rotation.RandomHex(12)
	return rotation.NewSecret(h[:3] + SecretMarker + h[3:])
}

// seed creates an app's existing secrets and stores those marked inVault,
// with the client ID, as a person would have by hand: in the vault and
// under the names the policy gives the app (Open checked it gives some).
func (w *World) seed(ctx context.Context, a AppDef) error {
	pa, _ := w.pol.AppByClientID(a.ClientID)
	idName, secretName := pa.ClientIDName, pa.SecretName
	now := w.clock.Now().UTC().Truncate(time.Second)
	for _, e := range a.Secrets {
		p, value := w.dir.AddExisting(a.ClientID, e.DisplayName, now.AddDate(0, 0, e.DaysLeft))
		w.mu.Lock()
		w.minted++
		w.mu.Unlock()
		if !e.InVault {
			continue
		}
		vault := pa.VaultURI
		props := rotation.SecretProps{ContentType: rotation.ContentTypeClientID, NotBefore: p.Start, Expires: p.End,
			Tags: map[string]string{rotation.TagClientID: a.ClientID, "stored-by": "hand (sandbox seed)"}}
		if _, err := w.set(ctx, rotation.SecretRef{VaultURI: vault, Name: idName}, rotation.NewSecret(a.ClientID), props); err != nil {
			return err
		}
		props.ContentType = rotation.ContentTypeClientSecret
		props.Tags = map[string]string{rotation.TagClientID: a.ClientID, rotation.TagKeyID: p.KeyID, rotation.TagHint: p.Hint, "stored-by": "hand (sandbox seed)"}
		if _, err := w.set(ctx, rotation.SecretRef{VaultURI: vault, Name: secretName}, rotation.NewSecret(value), props); err != nil {
			return err
		}
	}
	return nil
}

// save writes the snapshot atomically (a temporary file, then rename).
func (w *World) save() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := snapshot{Format: snapshotFormat, Minted: w.minted, Versions: slices.Clone(w.versions)}
	slices.SortStableFunc(s.Versions, func(a, b savedVersion) int { return strings.Compare(a.Version, b.Version) })
	for _, a := range w.tenant.Apps {
		app, err := w.dir.GetApp(context.Background(), a.ClientID)
		if err != nil {
			return fmt.Errorf("save: %w", err)
		}
		sa := savedApp{ClientID: app.ClientID, Passwords: []savedPassword{}}
		for _, p := range app.Passwords {
			sa.Passwords = append(sa.Passwords, savedPassword{KeyID: p.KeyID, DisplayName: p.DisplayName, Hint: p.Hint, Start: p.Start, End: p.End})
		}
		s.Apps = append(s.Apps, sa)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("save: %w", err)
	}
	return writeFileAtomic(filepath.Join(w.stateDir, worldFileName), b)
}

// writeFileAtomic replaces path with b, readable by the owner only.
func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("save %s: %w", filepath.Base(path), err)
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("save %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("save %s: %w", filepath.Base(path), err)
	}
	return nil
}
