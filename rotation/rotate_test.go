package rotation_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/rotation/rotationtest"
)

func TestAmbiguousAddIsReconciledByDisplayName(t *testing.T) {
	w := newWorld(t)
	// A 504 after which the credential exists anyway: its secret is lost.
	w.faults.Inject(rotationtest.Call{Op: "apps.AddPassword", N: 1}, rotationtest.TimeoutAfter)
	res, err := w.rotator(true).Rotate(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	if w.settled(t) != "rotated" {
		t.Fatal("not rotated")
	}
	removed := 0
	for _, e := range w.audit.Events() {
		if e.Type == rotation.EventOrphanRemoving {
			removed++
			if e.KeyID == res.KeyID {
				t.Fatal("removed the credential it kept")
			}
		}
	}
	if removed != 1 {
		t.Fatalf("%d orphans removed, want 1", removed)
	}
}

func TestVerificationFailureRestoresThePreviousSecret(t *testing.T) {
	w := newWorld(t)
	w.dir.DisableTokens(clientID)
	before := len(w.vault.Versions(w.secretRef))
	_, err := w.rotator(false).Rotate(context.Background(), request())
	if !errors.Is(err, rotation.ErrVerifyFailed) || !errors.Is(err, rotation.ErrCompensated) {
		t.Fatalf("err = %v, want verify failed and rolled back", err)
	}
	latest, _ := w.vault.Get(context.Background(), w.secretRef)
	if latest.Value.Reveal() != w.origSecret || latest.Tags[rotation.TagRestoredBy] != "req-1" {
		t.Fatalf("vault not restored: tags %v", latest.Tags)
	}
	if n := len(w.vault.Versions(w.secretRef)); n != before+2 {
		t.Fatalf("%d versions, want the new one and the restored one on top of %d", n, before)
	}
	app, _ := w.dir.GetApp(context.Background(), clientID)
	if len(app.Passwords) != 1 || app.Passwords[0].KeyID != w.origKey {
		t.Fatalf("credentials %+v", app.Passwords)
	}
	// Verification took the whole deadline on the fake clock, no more.
	if s := w.clock.Slept(); s > 5*time.Minute || s < 4*time.Minute {
		t.Fatalf("slept %s", s)
	}
	if !strings.Contains(err.Error(), "0 of 3 token requests") {
		t.Fatalf("error does not explain: %v", err)
	}
}

func TestVerificationFailureWithoutPreviousKeepsTheNewSecret(t *testing.T) {
	w := newWorld(t)
	ref := rotation.SecretRef{VaultURI: vaultURI, Name: "fresh-client-secret"}
	w.dir.DisableTokens(clientID)
	req := request()
	req.SecretName, req.ClientIDName = ref.Name, "fresh-client-id"
	_, err := w.rotator(false).Rotate(context.Background(), req)
	if !errors.Is(err, rotation.ErrVerifyFailed) || !errors.Is(err, rotation.ErrIncomplete) {
		t.Fatalf("err = %v", err)
	}
	latest, gerr := w.vault.Get(context.Background(), ref)
	if gerr != nil {
		t.Fatal(gerr)
	}
	if _, ok := w.dir.KeyIDOf(clientID, latest.Value.Reveal()); !ok {
		t.Fatal("the vault holds a secret whose credential was removed")
	}
}

func TestPropagationDelayIsWaitedOut(t *testing.T) {
	w := newWorld(t)
	w.dir.Propagation = 40 * time.Second
	var seen []rotation.Progress
	r := w.rotator(false)
	r.Progress = func(p rotation.Progress) { seen = append(seen, p) }
	if _, err := r.Rotate(context.Background(), request()); err != nil {
		t.Fatal(err)
	}
	if s := w.clock.Slept(); s < 40*time.Second {
		t.Fatalf("slept only %s", s)
	}
	last := seen[len(seen)-1]
	if last.State != rotation.StateDone {
		t.Fatalf("last progress %+v", last)
	}
	var counted bool
	for _, p := range seen {
		if p.Verified == 3 && p.Needed == 3 {
			counted = true
		}
	}
	if !counted {
		t.Fatalf("no 3/3 progress in %+v", seen)
	}
}

func TestPreflightRefusesAndChangesNothing(t *testing.T) {
	cases := []struct {
		name  string
		setup func(w *world, req *rotation.Request)
		want  error
	}{
		{"client ID not a GUID", func(w *world, r *rotation.Request) { r.ClientID = "payments-api" }, rotation.ErrInvalid},
		{"own app", func(w *world, r *rotation.Request) { r.ClientID = ownID }, rotation.ErrOwnApp},
		{"vault not allowed", func(w *world, r *rotation.Request) { r.VaultURI = "https://kv-other.vault.azure.net/" }, rotation.ErrVaultNotAllowed},
		{"unknown app", func(w *world, r *rotation.Request) { r.ClientID = "44444444-4444-4444-8444-444444444444" }, rotation.ErrAppNotFound},
		{"bad secret name", func(w *world, r *rotation.Request) { r.SecretName = "client_secret" }, rotation.ErrSecretNameNotAllowed},
		{"same names", func(w *world, r *rotation.Request) { r.SecretName, r.ClientIDName = "x", "X" }, rotation.ErrInvalid},
		{"negative overlap", func(w *world, r *rotation.Request) { r.Overlap = -time.Hour }, rotation.ErrInvalid},
		{"vault forbidden", func(w *world, r *rotation.Request) { w.vault.Forbid(vaultURI) }, rotation.ErrVaultForbidden},
		{"not owner", func(w *world, r *rotation.Request) {
			w.dir.AddApp(rotation.App{ObjectID: "55555555-5555-4555-8555-555555555555", ClientID: "66666666-6666-4666-8666-666666666666", DisplayName: "HR"}, false)
			r.ClientID = "66666666-6666-4666-8666-666666666666"
		}, rotation.ErrNotOwner},
		{"tenant lifetime policy", func(w *world, r *rotation.Request) { w.dir.MaxLifetime = 30 * 24 * time.Hour }, rotation.ErrLifetimePolicy},
		{"personal accounts at two secrets", func(w *world, r *rotation.Request) {
			w.dir.AddApp(rotation.App{ObjectID: "77777777-7777-4777-8777-777777777777", ClientID: "88888888-8888-4888-8888-888888888888", DisplayName: "Consumer",
				SignInAudience: "AzureADandPersonalMicrosoftAccount", Passwords: []rotation.PasswordCredential{{KeyID: "a"}, {KeyID: "b"}}}, true)
			r.ClientID = "88888888-8888-4888-8888-888888888888"
		}, rotation.ErrPasswordsForbidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			req := request()
			c.setup(w, &req)
			before := len(w.vault.Versions(w.secretRef))
			_, err := w.rotator(false).Rotate(context.Background(), req)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if len(w.vault.Versions(w.secretRef)) != before {
				t.Fatal("the vault changed")
			}
			app, _ := w.dir.GetApp(context.Background(), clientID)
			if len(app.Passwords) != 1 {
				t.Fatal("the app's credentials changed")
			}
			if open, _ := w.store.List(context.Background(), rotation.Filter{Unfinished: true}); len(open) != 0 {
				t.Fatal("unfinished journal record left")
			}
		})
	}
}

func TestSoftDeletedNamesAreRecovered(t *testing.T) {
	w := newWorld(t)
	w.vault.SoftDelete(w.secretRef)
	res, err := w.rotator(false).Rotate(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	if w.settled(t) != "rotated" || res.PreviousKeyID != w.origKey {
		t.Fatalf("result %+v", res)
	}
}

func TestOneRotationPerAppAtATime(t *testing.T) {
	w := newWorld(t)
	r := w.rotator(true)
	// Crash the first rotation after its credential was added.
	w.faults.Inject(rotationtest.Call{Op: "vault.Set", N: 1}, rotationtest.CrashBefore)
	if _, crashed := runCrashable(func() error { _, err := r.Rotate(context.Background(), request()); return err }); !crashed {
		t.Fatal("no crash")
	}
	req := request()
	req.ID = "req-2"
	if _, err := w.rotator(false).Rotate(context.Background(), req); !errors.Is(err, rotation.ErrInProgress) {
		t.Fatalf("second rotation: %v, want ErrInProgress", err)
	}
	if _, err := w.rotator(false).Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := w.rotator(false).Rotate(context.Background(), req); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	if w.settled(t) != "rotated" {
		t.Fatal("not rotated")
	}
}

func TestPreviousCredentialFoundByHintOnlyWhenUnique(t *testing.T) {
	w := newWorld(t)
	// A second credential with the same hint makes the match ambiguous.
	app, _ := w.dir.GetApp(context.Background(), clientID)
	hint := app.Passwords[0].Hint
	w.dir.AddApp(rotation.App{ObjectID: objectID, ClientID: clientID, DisplayName: "Payments API",
		Passwords: []rotation.PasswordCredential{app.Passwords[0], {KeyID: "99999999-0000-4000-8000-000000000000", Hint: hint}}}, true)
	res, err := w.rotator(false).Rotate(context.Background(), request())
	if !errors.Is(err, nil) || res.PreviousKeyID != "" {
		t.Fatalf("err %v, previous %q: must retire nothing when the hint is ambiguous", err, res.PreviousKeyID)
	}
}

func TestRetire(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	r := w.rotator(false)
	res, err := r.Rotate(ctx, request())
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Retire(ctx, rotation.RetireOptions{ClientID: clientID})
	if err != nil || len(got) != 1 || got[0].Outcome != rotation.NotDue {
		t.Fatalf("before the overlap ends: %+v %v", got, err)
	}
	w.clock.Advance(7*24*time.Hour + time.Second)
	got, err = r.Retire(ctx, rotation.RetireOptions{})
	if err != nil || len(got) != 1 || got[0].Outcome != rotation.Retired || got[0].KeyID != w.origKey {
		t.Fatalf("after: %+v %v", got, err)
	}
	app, _ := w.dir.GetApp(ctx, clientID)
	if len(app.Passwords) != 1 || app.Passwords[0].KeyID != res.KeyID {
		t.Fatalf("credentials %+v", app.Passwords)
	}
	// Idempotent: nothing left to do, nothing removed.
	got, err = r.Retire(ctx, rotation.RetireOptions{Early: true})
	if err != nil || len(got) != 0 {
		t.Fatalf("second run: %+v %v", got, err)
	}
	if _, ok := app.Password(res.KeyID); !ok {
		t.Fatal("retired the new credential")
	}
}

func TestRetireKeepsWhatTheVaultHoldsAndRetriesFailures(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	if _, err := w.rotator(false).Rotate(ctx, request()); err != nil {
		t.Fatal(err)
	}
	// Someone puts the old secret back by hand, with Keyturn's tag.
	if _, err := w.vault.Set(ctx, w.secretRef, rotation.NewSecret(w.origSecret), rotation.SecretProps{Tags: map[string]string{rotation.TagKeyID: w.origKey}}); err != nil {
		t.Fatal(err)
	}
	got, err := w.rotator(false).Retire(ctx, rotation.RetireOptions{Early: true})
	if err != nil || got[0].Outcome != rotation.Kept {
		t.Fatalf("%+v %v", got, err)
	}
	w2 := newWorld(t)
	if _, err := w2.rotator(false).Rotate(ctx, request()); err != nil {
		t.Fatal(err)
	}
	w2.faults.Inject(rotationtest.Call{Op: "apps.RemovePassword", N: 1}, rotationtest.Fail)
	got, err = w2.rotator(true).Retire(ctx, rotation.RetireOptions{Early: true})
	if err == nil || got[0].Outcome != rotation.RetireError {
		t.Fatalf("%+v %v", got, err)
	}
	got, err = w2.rotator(false).Retire(ctx, rotation.RetireOptions{Early: true})
	if err != nil || got[0].Outcome != rotation.Retired {
		t.Fatalf("retry: %+v %v", got, err)
	}
}

func TestStatus(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	r := w.rotator(false)
	res, err := r.Rotate(ctx, request())
	if err != nil {
		t.Fatal(err)
	}
	st, err := r.Status(ctx, clientID)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Credentials) != 2 || len(st.Vault) != 1 || st.Vault[0].KeyID != res.KeyID {
		t.Fatalf("status %+v", st)
	}
	for _, c := range st.Credentials {
		switch c.KeyID {
		case res.KeyID:
			if !c.ByKeyturn || len(c.InVault) != 1 || !c.RetireAfter.IsZero() {
				t.Fatalf("new credential %+v", c)
			}
		case w.origKey:
			if c.ByKeyturn || len(c.InVault) != 0 || c.RetireAfter.IsZero() {
				t.Fatalf("old credential %+v", c)
			}
		}
	}
	w.noCanary(t, fmt.Sprintf("%+v %#v", st, st))
}

func TestLifetimeIsClamped(t *testing.T) {
	w := newWorld(t)
	req := request()
	req.Lifetime = 5 * 365 * 24 * time.Hour
	res, err := w.rotator(false).Rotate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !res.LifetimeClamped || res.End.After(t0.Add(365*24*time.Hour)) {
		t.Fatalf("%+v", res)
	}
}

// TestRecoveryWaitsForAnotherReplicasLease: with a shared store, a replica
// recovers another's unfinished rotation only once that replica's lease
// has run out (it died), never while it may still be driving it.
func TestRecoveryWaitsForAnotherReplicasLease(t *testing.T) {
	w := newWorld(t)
	a := w.rotator(true)
	a.Holder = "replica-a"
	w.faults.Inject(rotationtest.Call{Op: "vault.Set", N: 1}, rotationtest.CrashBefore)
	if _, crashed := runCrashable(func() error { _, err := a.Rotate(context.Background(), request()); return err }); !crashed {
		t.Fatal("no crash")
	}
	b := w.rotator(false)
	b.Holder = "replica-b"
	got, err := b.Recover(context.Background())
	if err != nil || len(got) != 0 {
		t.Fatalf("recovered a rotation another replica holds: %+v %v", got, err)
	}
	if _, err := b.Resume(context.Background(), "req-1"); !errors.Is(err, rotation.ErrInProgress) {
		t.Fatalf("resume of a leased rotation: %v", err)
	}
	w.clock.Advance(rotation.DefaultPolicy().VerifyDeadline + 11*time.Minute)
	got, err = b.Recover(context.Background())
	if err != nil || len(got) != 1 || got[0].State != rotation.StateRolledBack {
		t.Fatalf("after the lease ran out: %+v %v", got, err)
	}
	if w.settled(t) != "unchanged" {
		t.Fatal("not undone")
	}
	rec, _ := w.store.Get(context.Background(), "req-1")
	if rec.Owner != "" || !rec.LeaseUntil.IsZero() {
		t.Fatalf("a final record keeps a lease: %+v", rec)
	}
}

// TestUndoConfirmsTheRemoval: a lagging directory replica answers the
// removal of a fresh credential as if it were gone; the undo reads the app
// back, sees the key still listed and removes it again.
func TestUndoConfirmsTheRemoval(t *testing.T) {
	w := newWorld(t)
	w.faults.Inject(rotationtest.Call{Op: "vault.Set", N: 2}, rotationtest.Fail)
	w.dir.LaggingRemovals = 1
	_, err := w.rotator(true).Rotate(context.Background(), request())
	if !errors.Is(err, rotation.ErrCompensated) {
		t.Fatalf("err = %v", err)
	}
	if w.settled(t) != "unchanged" {
		t.Fatal("not undone")
	}
	removes := 0
	for _, c := range w.faults.Trace() {
		if c.Op == "apps.RemovePassword" {
			removes++
		}
	}
	if removes != 2 {
		t.Fatalf("%d removals, want the lagging one and a second", removes)
	}
}
