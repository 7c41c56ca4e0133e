package rotation_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// TestRefLeavesEarlierRecordsHashesAlone: a record without a reference
// hashes exactly as records did before references existed, so stored
// chains still verify; a reference, once written, is covered by the hash.
func TestRefLeavesEarlierRecordsHashesAlone(t *testing.T) {
	e := rotation.Event{Time: t0, Type: rotation.EventDenied, ClientID: clientID, Actor: "Lee Gu (oid)", Detail: "status refused"}
	b, _ := json.Marshal(struct {
		V         int    `json:"v"`
		Seq       uint64 `json:"seq"`
		Prev      string `json:"prev"`
		Time      string `json:"time"`
		Type      string `json:"type"`
		RequestID string `json:"request_id"`
		ClientID  string `json:"client_id"`
		Actor     string `json:"actor"`
		KeyID     string `json:"key_id"`
		Hint      string `json:"hint"`
		Vault     string `json:"vault"`
		Detail    string `json:"detail"`
	}{1, 1, "", t0.UTC().Format(time.RFC3339Nano), string(e.Type), "", clientID, e.Actor, "", "", "", e.Detail})
	sum := sha256.Sum256(b)
	if got := rotation.NextRecord(rotation.AuditRecord{}, e); got.Hash != hex.EncodeToString(sum[:]) {
		t.Fatal("a record without a reference no longer hashes as before")
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
