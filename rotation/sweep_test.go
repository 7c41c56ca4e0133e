package rotation_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/rotation/rotationtest"
)

// TestLaggingListingAfterAnAmbiguousAdd (issue 8, finding 5): addPassword
// times out after minting the credential, and the next listings come from
// a replica that has not seen it. The saga must keep looking rather than
// mint a second credential and leave the first, whose secret is lost.
func TestLaggingListingAfterAnAmbiguousAdd(t *testing.T) {
	w := newWorld(t)
	w.faults.Inject(rotationtest.Call{Op: "apps.AddPassword", N: 1}, rotationtest.LagTimeoutAfter)
	if _, err := w.rotator(true).Rotate(context.Background(), request()); err != nil {
		t.Fatal(err)
	}
	if w.settled(t) != "rotated" {
		t.Fatal("not rotated")
	}
	if n := countEvents(w, rotation.EventOrphanRemoving); n != 1 {
		t.Fatalf("%d orphans removed, want the one the lost answer minted", n)
	}
	if s := w.clock.Slept(); s > 2*time.Minute {
		t.Fatalf("waited %s for the listing: the wait must be bounded", s)
	}
}

// TestLaggingListingAfterACrash (issue 8, finding 5): the process dies
// right after addPassword, and recovery's listings lag. Recovery must find
// the credential and remove it, not end the record failed with a live
// credential whose secret is in no vault.
func TestLaggingListingAfterACrash(t *testing.T) {
	w := newWorld(t)
	w.faults.Inject(rotationtest.Call{Op: "apps.AddPassword", N: 1}, rotationtest.LagCrashAfter)
	if _, crashed := runCrashable(func() error { _, err := w.rotator(true).Rotate(context.Background(), request()); return err }); !crashed {
		t.Fatal("no crash")
	}
	got, err := w.rotator(true).Recover(context.Background())
	if err != nil || len(got) != 1 {
		t.Fatalf("recover: %+v %v", got, err)
	}
	if w.settled(t) != "unchanged" {
		t.Fatal("not undone")
	}
}

// TestListingThatNeverShowsTheCredentialIsBounded: when nothing was
// created, the saga looks for about a minute, then believes it.
func TestListingThatNeverShowsTheCredentialIsBounded(t *testing.T) {
	w := newWorld(t)
	w.faults.Inject(rotationtest.Call{Op: "apps.AddPassword", N: 1}, rotationtest.TimeoutBefore)
	if _, err := w.rotator(true).Rotate(context.Background(), request()); err != nil {
		t.Fatal(err)
	}
	if s := w.clock.Slept(); s < time.Minute || s > 2*time.Minute {
		t.Fatalf("waited %s before believing nothing was created", s)
	}
	if w.settled(t) != "rotated" {
		t.Fatal("not rotated")
	}
}

func countEvents(w *world, t rotation.EventType) int {
	n := 0
	for _, e := range w.audit.Events() {
		if e.Type == t {
			n++
		}
	}
	return n
}

// TestSweepRemovesWhatNoLiveRecordOwns (issue 8, finding 5): credentials
// named by Keyturn whose request is unknown, failed or superseded go, each
// audited first; what a done or unfinished record owns, what a vault
// secret holds and what Keyturn did not name stay.
func TestSweepRemovesWhatNoLiveRecordOwns(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	res, err := w.rotator(false).Rotate(ctx, request())
	if err != nil {
		t.Fatal(err)
	}
	// Orphans: a request the journal never knew, a second credential of
	// the done request (a lagging listing's double add), and one of a
	// rotation that failed.
	unknown, _ := w.dir.AddExisting(clientID, "keyturn lost-request", t0.Add(time.Hour))
	double, _ := w.dir.AddExisting(clientID, "keyturn req-1", t0.Add(time.Hour))
	failed := rotation.Record{ID: "req-failed", State: rotation.StateFailed, ClientID: clientID, AppObjectID: objectID,
		DisplayName: "keyturn req-failed", SecretRef: w.secretRef}
	if err := w.store.Begin(ctx, failed); err != nil {
		t.Fatal(err)
	}
	fromFailed, _ := w.dir.AddExisting(clientID, "keyturn req-failed", t0.Add(time.Hour))
	// Kept: an unfinished rotation's credential, one a vault secret holds
	// under another name, and one a person made.
	other := "77777777-7777-4777-8777-777777777777"
	w.dir.AddApp(rotation.App{ObjectID: "88888888-8888-4888-8888-888888888888", ClientID: other, DisplayName: "Other"}, true)
	open := rotation.Record{ID: "req-open", State: rotation.StatePending, ClientID: other, AppObjectID: "88888888-8888-4888-8888-888888888888",
		DisplayName: "keyturn req-open", SecretRef: rotation.SecretRef{VaultURI: vaultURI, Name: "other-client-secret"}}
	if err := w.store.Begin(ctx, open); err != nil {
		t.Fatal(err)
	}
	inFlight, _ := w.dir.AddExisting(other, "keyturn req-open", t0.Add(time.Hour))
	held, heldValue := w.dir.AddExisting(other, "keyturn gone-from-journal", t0.Add(time.Hour))
	if _, err := w.vault.Set(ctx, rotation.SecretRef{VaultURI: vaultURI, Name: "copied-by-hand"}, rotation.NewSecret(heldValue),
		rotation.SecretProps{Tags: map[string]string{rotation.TagKeyID: held.KeyID}}); err != nil {
		t.Fatal(err)
	}
	manual, _ := w.dir.AddExisting(other, "made in the portal", t0.Add(time.Hour))
	// A policy app the journal never mentioned is swept too.
	third := "99999999-9999-4999-8999-999999999999"
	w.dir.AddApp(rotation.App{ObjectID: "aaaaaaaa-9999-4999-8999-999999999999", ClientID: third, DisplayName: "Third"}, true)
	stray, _ := w.dir.AddExisting(third, "keyturn elsewhere", t0.Add(time.Hour))

	r := w.rotator(false)
	r.KnownApps = []string{third}
	got, err := r.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	removed := map[string]bool{}
	for _, o := range got {
		if o.Removed {
			removed[o.KeyID] = true
		}
	}
	for _, k := range []string{unknown.KeyID, double.KeyID, fromFailed.KeyID, stray.KeyID} {
		if !removed[k] {
			t.Errorf("orphan %s not removed: %+v", k, got)
		}
		if _, ok := w.dir.SecretOf(clientIDOf(w, k), k); ok {
			t.Errorf("orphan %s still exists", k)
		}
	}
	for _, k := range []string{res.KeyID, w.origKey, inFlight.KeyID, held.KeyID, manual.KeyID} {
		if removed[k] {
			t.Errorf("removed %s, which is owned or held", k)
		}
	}
	if n := countEvents(w, rotation.EventOrphanRemoving); n != len(removed) {
		t.Fatalf("%d removals audited, %d made", n, len(removed))
	}
	// Idempotent.
	again, err := r.Sweep(ctx)
	for _, o := range again {
		if o.Removed {
			t.Fatalf("second sweep removed %+v (%v)", o, err)
		}
	}
}

// clientIDOf finds which app of w holds key.
func clientIDOf(w *world, key string) string {
	for _, id := range []string{clientID, "77777777-7777-4777-8777-777777777777", "99999999-9999-4999-8999-999999999999"} {
		app, _ := w.dir.GetApp(context.Background(), id)
		if _, ok := app.Password(key); ok {
			return id
		}
	}
	return clientID
}

// TestSweepRemovesNothingWhenAVaultCannotSay: whether a vault secret holds
// an orphan's key is unknown when a vault refuses listing: keep it.
func TestSweepRemovesNothingWhenAVaultCannotSay(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	if _, err := w.rotator(false).Rotate(ctx, request()); err != nil {
		t.Fatal(err)
	}
	orphan, _ := w.dir.AddExisting(clientID, "keyturn lost-request", t0.Add(time.Hour))
	w.vault.Forbid(vaultURI)
	got, err := w.rotator(false).Sweep(ctx)
	if !errors.Is(err, rotation.ErrVaultForbidden) {
		t.Fatalf("sweep with a silent vault: %+v %v", got, err)
	}
	if _, ok := w.dir.SecretOf(clientID, orphan.KeyID); !ok {
		t.Fatal("removed a credential a vault might hold")
	}
}

// TestRetireRefusesAKeyAnyVaultSecretHolds (issue 8, finding 7): after a
// rotation someone points another secret, in another allowed vault and
// under another name, at the previous credential. Retirement must keep
// it, and must remove nothing while a vault cannot be listed.
func TestRetireRefusesAKeyAnyVaultSecretHolds(t *testing.T) {
	ctx := context.Background()
	const vault2 = "https://kv-shared.vault.azure.net/"
	w := newWorld(t)
	r := w.rotator(false)
	r.Policy.AllowedVaults = append(r.Policy.AllowedVaults, vault2)
	if _, err := r.Rotate(ctx, request()); err != nil {
		t.Fatal(err)
	}
	elsewhere := rotation.SecretRef{VaultURI: vault2, Name: "legacy-payments-secret"}
	if _, err := w.vault.Set(ctx, elsewhere, rotation.NewSecret(w.origSecret),
		rotation.SecretProps{Tags: map[string]string{rotation.TagKeyID: strings.ToUpper(w.origKey)}}); err != nil {
		t.Fatal(err)
	}
	got, err := r.Retire(ctx, rotation.RetireOptions{Early: true})
	if err != nil || len(got) != 1 || got[0].Outcome != rotation.Kept || !strings.Contains(got[0].Reason, elsewhere.String()) {
		t.Fatalf("retire while %s holds the key: %+v %v", elsewhere, got, err)
	}
	w.vault.Forbid(vault2)
	got, err = r.Retire(ctx, rotation.RetireOptions{Early: true})
	if !errors.Is(err, rotation.ErrVaultForbidden) || got[0].Outcome != rotation.RetireError {
		t.Fatalf("retire while a vault cannot be listed: %+v %v", got, err)
	}
	if _, ok := w.dir.SecretOf(clientID, w.origKey); !ok {
		t.Fatal("retired a credential a vault secret holds")
	}
}

// staleJournal lists a journal as it was before any rotation began.
type staleJournal struct{ rotation.Store }

func (staleJournal) List(context.Context, rotation.Filter) ([]rotation.Record, error) {
	return nil, nil
}

// TestSweepRereadsTheJournalBeforeRemoving: a rotation that begins after
// the sweep read the journal, and adds its credential before the sweep
// reads the app, is not taken for an orphan.
func TestSweepRereadsTheJournalBeforeRemoving(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	started := rotation.Record{ID: "req-new", State: rotation.StatePending, ClientID: clientID, AppObjectID: objectID,
		DisplayName: "keyturn req-new", SecretRef: w.secretRef}
	if err := w.store.Begin(ctx, started); err != nil {
		t.Fatal(err)
	}
	fresh, _ := w.dir.AddExisting(clientID, "keyturn req-new", t0.Add(time.Hour))
	r := w.rotator(false)
	r.Store, r.KnownApps = staleJournal{w.store}, []string{clientID}
	got, err := r.Sweep(ctx)
	if err != nil || len(got) != 0 {
		t.Fatalf("sweep: %+v %v", got, err)
	}
	if _, ok := w.dir.SecretOf(clientID, fresh.KeyID); !ok {
		t.Fatal("removed the credential of a rotation that began during the sweep")
	}
}

// TestSweepEvery: the scheduler's Rotator sweeps at most once per
// SweepEvery; recover's (zero) sweeps every time.
func TestSweepEvery(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	r := w.rotator(false)
	r.KnownApps, r.SweepEvery = []string{clientID}, 10*time.Minute
	if _, err := r.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	orphan, _ := w.dir.AddExisting(clientID, "keyturn lost-request", t0.Add(time.Hour))
	if got, _ := r.Sweep(ctx); len(got) != 0 {
		t.Fatalf("swept again within SweepEvery: %+v", got)
	}
	w.clock.Advance(10 * time.Minute)
	if got, err := r.Sweep(ctx); err != nil || len(got) != 1 || got[0].KeyID != orphan.KeyID || !got[0].Removed {
		t.Fatalf("after SweepEvery: %+v %v", got, err)
	}
}
