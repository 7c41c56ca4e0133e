package rotation_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// TestASecondRequestForAnAppPointsToTheFirst: while a request for an app
// is open, another one is refused (audited) with the first request named;
// once the first is decided or expired, the app may be asked for again.
func TestASecondRequestForAnAppPointsToTheFirst(t *testing.T) {
	ctx := context.Background()
	e := newApprovalEnv(t)
	first, err := e.ask(alice)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.ask(frank)
	var open *rotation.OpenRequestError
	if !errors.Is(err, rotation.ErrRequestOpen) || !errors.As(err, &open) || open.Open.ID != first.ID || open.Open.RequestedBy != alice {
		t.Fatalf("second request: %v", err)
	}
	if ev := e.lastEvent(); ev.Type != rotation.EventDenied || ev.ClientID != clientID {
		t.Fatalf("refusal not audited: %+v", ev)
	}
	// Expired but not yet swept by the scheduler: it no longer counts.
	e.clock.Advance(31 * time.Minute)
	second, err := e.ask(frank)
	if err != nil {
		t.Fatalf("after the first expired: %v", err)
	}
	if _, err := e.ap.Reject(ctx, rotation.Vote{Caller: bob, TenantID: tenant, RequestID: second.ID, Digest: second.Digest, Conversation: conv}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ask(alice); err != nil {
		t.Fatalf("after the second was rejected: %v", err)
	}
}

// TestApprovalBindsTheKeyItRetires: the digest binds the credential the
// card says is retired; when another rotation changed the vault between
// the request and the run, the run changes nothing and ends the request
// as superseded, and it can no longer be approved.
func TestApprovalBindsTheKeyItRetires(t *testing.T) {
	ctx := context.Background()
	e := newApprovalEnv(t)
	r, err := e.ask(alice)
	if err != nil {
		t.Fatal(err)
	}
	if !r.BindsRetire || r.Plan.PreviousKeyID != e.origKey {
		t.Fatalf("the request does not bind the previous key %s: %+v", e.origKey, r.Plan.PreviousKeyID)
	}
	moved := r
	moved.Plan.PreviousKeyID = "some-other-key"
	if moved.ComputeDigest() == r.Digest {
		t.Fatal("the digest does not bind the key to retire")
	}
	// Someone rotates the app on the command line meanwhile.
	cli, err := e.ap.Rotator.Rotate(ctx, rotation.Request{ClientID: clientID, VaultURI: vaultURI, RequestedBy: "ops@contoso.example"})
	if err != nil {
		t.Fatal(err)
	}
	versions := len(e.vault.Versions(e.secretRef))
	if _, run, err := e.approve(bob, r); err != nil || !run {
		t.Fatalf("approve: %v %v", run, err)
	}
	got, err := e.ap.Run(ctx, r.ID)
	if !errors.Is(err, rotation.ErrSuperseded) || got.State != rotation.ApprovalSuperseded {
		t.Fatalf("run of a stale request: %s %v", got.State, err)
	}
	app, err := e.dir.GetApp(ctx, clientID)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.vault.Versions(e.secretRef)) != versions || len(app.Passwords) != 2 {
		t.Fatalf("a stale request changed the vault or the app: %d passwords", len(app.Passwords))
	}
	if _, ok := app.Password(cli.KeyID); !ok {
		t.Fatal("the command line's new key is gone")
	}
	if ev := e.lastEvent(); ev.Type != rotation.EventSuperseded || ev.RequestID != r.ID {
		t.Fatalf("not audited: %+v", ev)
	}
}

// TestARotationSupersedesTheOtherOpenRequests: two requests for one app
// that raced past the one-open-request check; once one rotates, the other
// is superseded and refuses every later decision.
func TestARotationSupersedesTheOtherOpenRequests(t *testing.T) {
	ctx := context.Background()
	e := newApprovalEnv(t)
	first, err := e.ask(alice)
	if err != nil {
		t.Fatal(err)
	}
	twin := first // as if a second replica stored it at the same moment
	twin.ID, twin.Nonce = "req-twin", "other-nonce"
	twin.Digest = twin.ComputeDigest()
	if err := e.store.CreateApproval(ctx, twin); err != nil {
		t.Fatal(err)
	}
	if _, run, err := e.approve(bob, first); err != nil || !run {
		t.Fatalf("approve: %v %v", run, err)
	}
	done, err := e.ap.Run(ctx, first.ID)
	if err != nil || done.State != rotation.ApprovalDone {
		t.Fatalf("run: %s %v", done.State, err)
	}
	stale, err := e.ap.SupersedeStale(ctx, done)
	if err != nil || len(stale) != 1 || stale[0].ID != twin.ID || stale[0].State != rotation.ApprovalSuperseded || stale[0].SupersededBy != first.ID {
		t.Fatalf("superseded: %+v %v", stale, err)
	}
	if _, _, err := e.approve(carol, twin); !errors.Is(err, rotation.ErrSuperseded) {
		t.Fatalf("approving a superseded request: %v", err)
	}
	if again, err := e.ap.SupersedeStale(ctx, done); err != nil || len(again) != 0 {
		t.Fatalf("superseding twice: %+v %v", again, err)
	}
}

// TestARunThatFindsAnotherRotationUnderWayIsSuperseded: two approved
// requests for one app; when one runs while the other's rotation holds the
// app, it changes nothing and ends superseded, not failed.
func TestARunThatFindsAnotherRotationUnderWayIsSuperseded(t *testing.T) {
	ctx := context.Background()
	e := newApprovalEnv(t)
	r, err := e.ask(alice)
	if err != nil {
		t.Fatal(err)
	}
	if _, run, err := e.approve(bob, r); err != nil || !run {
		t.Fatalf("approve: %v %v", run, err)
	}
	// Another rotation of the app holds the journal's lock.
	if err := e.world.store.Begin(ctx, rotation.Record{ID: "other", State: rotation.StatePending, ClientID: clientID, AppObjectID: objectID,
		DisplayName: "keyturn other", SecretRef: e.secretRef}); err != nil {
		t.Fatal(err)
	}
	got, err := e.ap.Run(ctx, r.ID)
	if !errors.Is(err, rotation.ErrInProgress) || got.State != rotation.ApprovalSuperseded {
		t.Fatalf("run beside another rotation: %s %v", got.State, err)
	}
	if countEvents(e.world, rotation.EventAdding) != 0 {
		t.Fatal("a credential was added")
	}
}

// TestCauseKeepsTheCodesAndTheFix: a failure's cause, stored with its
// request, gives back an error that wraps the same codes and the fix.
func TestCauseKeepsTheCodesAndTheFix(t *testing.T) {
	no := &rotation.NotOwnerError{ClientID: hrClient, PrincipalID: "p"}
	err := errors.Join(rotation.ErrCompensated, fmt.Errorf("store: %w", rotation.ErrVaultForbidden), no)
	back := rotation.CauseOf(err).Err()
	var gotNo *rotation.NotOwnerError
	for _, code := range []error{rotation.ErrCompensated, rotation.ErrVaultForbidden, rotation.ErrNotOwner} {
		if !errors.Is(back, code) {
			t.Errorf("the cause lost %v", code)
		}
	}
	if !errors.As(back, &gotNo) || gotNo.Command() != no.Command() {
		t.Errorf("the cause lost the fix: %v", back)
	}
	if errors.Is(back, rotation.ErrThrottled) || rotation.CauseOf(nil) != nil {
		t.Error("the cause wraps what the error did not")
	}
}

// TestCauseKeepsTheMessageForPeople: what the domain said for people
// survives the store.
func TestCauseKeepsTheMessageForPeople(t *testing.T) {
	err := fmt.Errorf("preflight: %w", rotation.Errorf(rotation.ErrSecretNameNotAllowed, "the secret name %q is not allowed", "bad name"))
	back := rotation.CauseOf(err).Err()
	if !errors.Is(back, rotation.ErrSecretNameNotAllowed) || rotation.ErrorMessage(back) != `the secret name "bad name" is not allowed` {
		t.Fatalf("%v / %q", back, rotation.ErrorMessage(back))
	}
}
