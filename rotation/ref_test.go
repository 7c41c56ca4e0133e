package rotation_test

import (
	"context"
	"testing"

	"github.com/keyturn/keyturn/rotation"
)

// TestRefLeavesEarlierRecordsHashesAlone: a record without a reference
// hashes exactly as records did before references existed, so stored
// chains still verify; a reference, once written, is covered by the hash.
func TestRefLeavesEarlierRecordsHashesAlone(t *testing.T) {
	e := rotation.Event{Time: t0, Type: rotation.EventDenied, ClientID: clientID, Actor: "Lee Gu (oid)", Detail: "status refused"}
	// The hash of this record in the format before references existed
	// (the sha256 of its canonical JSON, computed apart from this code).
	const before = "13aac8f52879b00a29e6dc6da558ced272feeffadb4cff83cd85c98dd747da92"
	if got := rotation.NextRecord(rotation.AuditRecord{}, e); got.Hash != before {
		t.Fatalf("a record without a reference no longer hashes as before: %s", got.Hash)
	}
	with := e
	with.Ref = "0a1b2c3d4e5f6071"
	if rotation.NextRecord(rotation.AuditRecord{}, with).Hash == rotation.NextRecord(rotation.AuditRecord{}, e).Hash {
		t.Fatal("the hash does not cover the reference")
	}
}

// TestRecordsCarryTheInteractionsReference: what the approval flow
// audits under a context with a reference carries it.
func TestRecordsCarryTheInteractionsReference(t *testing.T) {
	e := newApprovalEnv(t)
	ctx := rotation.WithRef(context.Background(), "ref-of-the-message")
	if _, err := e.ap.Open(ctx, rotation.Ask{Caller: mallory, TenantID: tenant, Conversation: conv,
		Request: rotation.Request{ClientID: clientID, VaultURI: vaultURI}}); err == nil {
		t.Fatal("a caller without a role opened a request")
	}
	if ev := e.lastEvent(); ev.Type != rotation.EventDenied || ev.Ref != "ref-of-the-message" {
		t.Fatalf("denial %+v", ev)
	}
}
