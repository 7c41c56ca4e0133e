package rotation_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// TestDigestBindsEveryField: changing any field an approver approved
// changes the digest, so a card, a click or a stored request that differs
// in it is refused.
func TestDigestBindsEveryField(t *testing.T) {
	base := rotation.ApprovalRequest{ID: "req-1", Nonce: "n", TenantID: tenant, ClientID: clientID, VaultURI: vaultURI,
		ClientIDName: "payments-api-client-id", SecretName: "payments-api-client-secret", Lifetime: time.Hour, Overlap: time.Minute}
	changes := map[string]func(*rotation.ApprovalRequest){
		"request ID":     func(r *rotation.ApprovalRequest) { r.ID = "req-2" },
		"nonce":          func(r *rotation.ApprovalRequest) { r.Nonce = "m" },
		"tenant":         func(r *rotation.ApprovalRequest) { r.TenantID = "bbbbbbbb-0000-4000-8000-000000000001" },
		"app":            func(r *rotation.ApprovalRequest) { r.ClientID = hrClient },
		"vault":          func(r *rotation.ApprovalRequest) { r.VaultURI = "https://kv-attacker.vault.azure.net/" },
		"client ID name": func(r *rotation.ApprovalRequest) { r.ClientIDName = "other-client-id" },
		"secret name":    func(r *rotation.ApprovalRequest) { r.SecretName = "other-client-secret" },
		"lifetime":       func(r *rotation.ApprovalRequest) { r.Lifetime = 2 * time.Hour },
		"overlap":        func(r *rotation.ApprovalRequest) { r.Overlap = 2 * time.Minute },
	}
	want := base.ComputeDigest()
	for name, change := range changes {
		r := base
		change(&r)
		if r.ComputeDigest() == want {
			t.Errorf("the digest does not bind the %s", name)
		}
	}
}

// TestRunRefusesAStoredRequestThatNoLongerMatchesItsDigest: between the
// approval and the run, the stored request is changed (another vault, as
// someone with write access to the store could). The run must refuse it,
// change nothing, audit the refusal and end the request.
func TestRunRefusesAStoredRequestThatNoLongerMatchesItsDigest(t *testing.T) {
	ctx := context.Background()
	e := newApprovalEnv(t)
	e.ap.Rotator.Policy.AllowedVaults = append(e.ap.Rotator.Policy.AllowedVaults, "https://kv-attacker.vault.azure.net/")
	r, err := e.ask(alice)
	if err != nil {
		t.Fatal(err)
	}
	if _, run, err := e.approve(bob, r); err != nil || !run {
		t.Fatalf("approve: %v %v", run, err)
	}
	stored, etag, _ := e.store.GetApproval(ctx, r.ID)
	stored.VaultURI = "https://kv-attacker.vault.azure.net/"
	if _, err := e.store.UpdateApproval(ctx, stored, etag); err != nil {
		t.Fatal(err)
	}
	got, err := e.ap.Run(ctx, r.ID)
	if !errors.Is(err, rotation.ErrTampered) {
		t.Fatalf("run of a changed request: %v", err)
	}
	if got.State != rotation.ApprovalFailed {
		t.Fatalf("the request is left %s", got.State)
	}
	if countEvents(e.world, rotation.EventStarted) != 0 || len(e.vault.Versions(e.secretRef)) != 1 {
		t.Fatal("a changed request was rotated")
	}
	if ev := e.lastEvent(); ev.Type != rotation.EventDenied || ev.RequestID != r.ID {
		t.Fatalf("refusal not audited: %+v", ev)
	}
}

// TestNoAuditNoDecision: the approval flow's later steps hold the rule as
// its first does: a rejection and an expiry whose record cannot be written
// are not taken.
func TestNoAuditNoDecision(t *testing.T) {
	ctx := context.Background()
	e := newApprovalEnv(t)
	r, err := e.ask(alice)
	if err != nil {
		t.Fatal(err)
	}
	e.ap.Audit = &failingAuditor{}
	if _, err := e.ap.Reject(ctx, rotation.Vote{Caller: bob, TenantID: tenant, RequestID: r.ID, Digest: r.Digest, Conversation: conv}); !errors.Is(err, rotation.ErrAuditFailed) {
		t.Fatalf("reject: %v", err)
	}
	e.clock.Advance(31 * time.Minute)
	if got, err := e.ap.ExpireDue(ctx); !errors.Is(err, rotation.ErrAuditFailed) || len(got) != 0 {
		t.Fatalf("expire: %+v %v", got, err)
	}
	if got, _, _ := e.store.GetApproval(ctx, r.ID); got.State != rotation.ApprovalPending {
		t.Fatalf("a decision was taken without its audit record: %s", got.State)
	}
}
