package radar

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

var t0 = time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// pagedApps serves apps in pages of size, failing with err after failAfter
// pages when err is set.
type pagedApps struct {
	apps      []rotation.App
	size      int
	failAfter int
	err       error
	pages     int
}

func (p *pagedApps) OwnedApps(ctx context.Context, fn func([]rotation.App) error) error {
	for i := 0; i < len(p.apps); i += p.size {
		if p.err != nil && p.pages == p.failAfter {
			return p.err
		}
		p.pages++
		if err := fn(p.apps[i:min(i+p.size, len(p.apps))]); err != nil {
			return err
		}
	}
	if p.err != nil && p.pages == p.failAfter {
		return p.err
	}
	return nil
}

type vaults map[string][]rotation.StoredSecret

func (v vaults) List(ctx context.Context, uri string) ([]rotation.StoredSecret, error) {
	if uri == "https://kv-down.vault.azure.net/" {
		return nil, fmt.Errorf("list kv-down: %w", rotation.ErrVaultForbidden)
	}
	return v[uri], nil
}

type journal map[string][]rotation.Record

func (j journal) List(ctx context.Context, f rotation.Filter) ([]rotation.Record, error) {
	if f.ClientID == "bad-journal" {
		return nil, errors.New("table read failed: status 503 request-id x")
	}
	return j[f.ClientID], nil
}

func app(id string, creds ...rotation.PasswordCredential) rotation.App {
	return rotation.App{ClientID: id, ObjectID: "obj-" + id, DisplayName: "App " + id, Passwords: creds}
}

func cred(key string, left time.Duration) rotation.PasswordCredential {
	return rotation.PasswordCredential{KeyID: key, Hint: "abc", DisplayName: "cred " + key, Start: t0.Add(-90 * day), End: t0.Add(left)}
}

func stored(vault, name, key string) rotation.StoredSecret {
	return rotation.StoredSecret{Ref: rotation.SecretRef{VaultURI: vault, Name: name}, Version: "v1",
		SecretProps: rotation.SecretProps{Tags: map[string]string{rotation.TagKeyID: key}}}
}

func TestScanFindsWhatExpiresAndWhereItIsHeld(t *testing.T) {
	const kv = "https://kv-payments.vault.azure.net/"
	apps := &pagedApps{size: 2, apps: []rotation.App{
		app("far", cred("k-far", 200*day)),
		app("soon", cred("k-soon", 5*day), cred("k-later", 300*day)),
		app("hand", cred("k-hand", 20*day)),
		app("gone", cred("k-gone", -2*day)),
		app("none"),
		app("forever", rotation.PasswordCredential{KeyID: "k-forever"}),
		app("rotated", cred("k-old", 3*day), cred("k-new", 180*day)),
	}}
	s := &Scanner{
		Apps:  apps,
		Vault: vaults{kv: {stored(kv, "soon-client-secret", "K-SOON"), stored(kv, "gone-client-secret", "k-gone"), stored(kv, "rotated-client-secret", "k-new")}},
		Journal: journal{"rotated": {
			{ID: "r1", State: rotation.StateFailed},
			{ID: "r2", State: rotation.StateDone, RetireKeyID: "k-old", ApprovedBy: "adele", RequestedBy: "megan", UpdatedAt: t0.Add(-day)},
		}},
		Vaults: []string{kv},
	}
	rep, err := s.Scan(context.Background(), t0)
	if err != nil {
		t.Fatal(err)
	}
	if rep.AppsSeen != 7 || !rep.Complete || len(rep.Unchecked) != 0 {
		t.Fatalf("seen %d complete %v unchecked %q", rep.AppsSeen, rep.Complete, rep.Unchecked)
	}
	var got []string
	for _, a := range rep.Apps {
		got = append(got, a.ClientID)
	}
	if want := "gone soon hand"; strings.Join(got, " ") != want {
		t.Fatalf("apps %q, want %q (soonest first; far, none, forever and the rotated app left out)", got, want)
	}
	gone, soon, hand := rep.Apps[0], rep.Apps[1], rep.Apps[2]
	if c := gone.Soonest(); !c.Expired() || c.DaysLeft() != 0 || len(c.HeldBy) != 1 {
		t.Errorf("expired credential still held by the vault: %+v", c)
	}
	if c := soon.Soonest(); c.KeyID != "k-soon" || c.DaysLeft() != 5 || len(c.HeldBy) != 1 || c.HeldBy[0].Name != "soon-client-secret" || c.HeldBy[0].Version != "" {
		t.Errorf("soon: %+v", c)
	}
	if len(soon.Credentials) != 2 || soon.Credentials[1].KeyID != "k-later" {
		t.Errorf("every credential of the app is reported, soonest first: %+v", soon.Credentials)
	}
	if c := hand.Soonest(); len(c.HeldBy) != 0 {
		t.Errorf("a secret made by hand is in no Keyturn vault: %+v", c)
	}
}

func TestScanReportsTheLastRotationAndReplacedCredentials(t *testing.T) {
	s := &Scanner{
		Apps:  &pagedApps{size: 10, apps: []rotation.App{app("rotated", cred("k-old", 3*day), cred("k-new", 20*day))}},
		Vault: vaults{},
		Journal: journal{"rotated": {
			{ID: "r2", State: rotation.StateDone, RetireKeyID: "k-old", ApprovedBy: "adele", RequestedBy: "megan", UpdatedAt: t0.Add(-day)},
			{ID: "r3", State: rotation.StateRolledBack},
		}},
	}
	rep, err := s.Scan(context.Background(), t0)
	if err != nil || len(rep.Apps) != 1 {
		t.Fatalf("%v %+v", err, rep)
	}
	a := rep.Apps[0]
	if a.Last == nil || a.Last.RequestID != "r2" || a.Last.ApprovedBy != "adele" {
		t.Errorf("last finished rotation: %+v", a.Last)
	}
	if !a.Credentials[0].Replaced || a.Soonest().KeyID != "k-new" {
		t.Errorf("the replaced credential is not the one to warn about: %+v", a.Credentials)
	}
}

func TestScanTakesAHandMadeSecretAsSupersededByALaterRotation(t *testing.T) {
	portal := cred("k-portal", 4*day) // started 90 days ago, in no vault
	byHand := cred("k-byhand", 6*day)
	byHand.Start = t0.Add(-time.Hour) // made after the rotation: still warned about
	s := &Scanner{
		Apps:    &pagedApps{size: 10, apps: []rotation.App{app("a", portal, cred("k-new", 170*day), byHand)}},
		Vault:   vaults{},
		Journal: journal{"a": {{ID: "r1", State: rotation.StateDone, KeyID: "k-new", Start: t0.Add(-10 * day), UpdatedAt: t0.Add(-10 * day)}}},
	}
	rep, err := s.Scan(context.Background(), t0)
	if err != nil || len(rep.Apps) != 1 {
		t.Fatalf("%v %+v", err, rep.Apps)
	}
	a := rep.Apps[0]
	if !a.Credentials[0].Replaced || a.Credentials[1].Replaced || a.Soonest().KeyID != "k-byhand" {
		t.Fatalf("the portal secret predates the rotation and is superseded; the later one is not: %+v", a.Credentials)
	}
}

func TestScanGoesOnWhenALookupFails(t *testing.T) {
	s := &Scanner{
		Apps:    &pagedApps{size: 1, apps: []rotation.App{app("bad-journal", cred("k1", day)), app("ok", cred("k2", 2*day))}},
		Vault:   vaults{},
		Journal: journal{},
		Vaults:  []string{"https://kv-down.vault.azure.net/", "https://kv-up.vault.azure.net/"},
	}
	rep, err := s.Scan(context.Background(), t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Apps) != 2 || len(rep.Apps[0].Unchecked) != 1 || len(rep.Apps[1].Unchecked) != 0 {
		t.Fatalf("each app is reported, the failed journal read said on its own app: %+v", rep.Apps)
	}
	if len(rep.Unchecked) != 1 || !strings.Contains(rep.Unchecked[0], "kv-down") || !strings.Contains(rep.Unchecked[0], "no role") {
		t.Fatalf("the vault that could not be listed is named with the reason: %q", rep.Unchecked)
	}
	for _, u := range append(rep.Unchecked, rep.Apps[0].Unchecked...) {
		if strings.Contains(u, "503") || strings.Contains(u, "request-id") || strings.Contains(u, "list kv-down") {
			t.Errorf("internal error text reached the words for people: %q", u)
		}
	}
}

func TestScanStopsCleanlyWhenTheListingFails(t *testing.T) {
	throttled := fmt.Errorf("list owned apps: %w", rotation.ErrThrottled)
	apps := []rotation.App{app("a", cred("k1", day)), app("b", cred("k2", day)), app("c", cred("k3", day))}

	_, err := (&Scanner{Apps: &pagedApps{size: 1, apps: apps, err: throttled, failAfter: 0}, Vault: vaults{}}).Scan(context.Background(), t0)
	if !errors.Is(err, rotation.ErrThrottled) {
		t.Fatalf("no page at all: the error is the scan's, got %v", err)
	}

	rep, err := (&Scanner{Apps: &pagedApps{size: 1, apps: apps, err: throttled, failAfter: 2}, Vault: vaults{}}).Scan(context.Background(), t0)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Complete || len(rep.Apps) != 2 || len(rep.Unchecked) != 1 || !strings.Contains(rep.Unchecked[0], "throttling") {
		t.Fatalf("a listing cut short reports what it saw and says so: %+v", rep)
	}
}

func TestScanWatchedAppsOutsideTheWindow(t *testing.T) {
	s := &Scanner{
		Apps:  &pagedApps{size: 5, apps: []rotation.App{app("calm", cred("k1", 100*day)), app("other", cred("k2", 100*day))}},
		Vault: vaults{},
		Watch: func(id string) bool { return id == "calm" },
	}
	rep, err := s.Scan(context.Background(), t0)
	if err != nil || len(rep.Apps) != 1 || rep.Apps[0].ClientID != "calm" || rep.Apps[0].Inside {
		t.Fatalf("a watched app is reported, marked outside: %v %+v", err, rep.Apps)
	}
	if rep.Apps[0].Soonest().DaysLeft() != 100 {
		t.Errorf("its next expiry is known: %+v", rep.Apps[0].Soonest())
	}
}

func TestScanKeepsOnlyWhatItReports(t *testing.T) {
	// 2,000 apps, one in a hundred expiring: the report holds 20.
	var apps []rotation.App
	for i := range 2000 {
		left := 400 * day
		if i%100 == 0 {
			left = 3 * day
		}
		apps = append(apps, app(fmt.Sprintf("app-%04d", i), cred(fmt.Sprintf("k-%d", i), left)))
	}
	rep, err := (&Scanner{Apps: &pagedApps{size: 100, apps: apps}, Vault: vaults{}}).Scan(context.Background(), t0)
	if err != nil || rep.AppsSeen != 2000 || len(rep.Apps) != 20 {
		t.Fatalf("%v seen %d reported %d", err, rep.AppsSeen, len(rep.Apps))
	}
}
