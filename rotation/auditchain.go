package rotation

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// AuditRecord is one link of the hash-chained audit trail: the event, its
// place in the chain, the previous link's hash and its own. Changing,
// removing or reordering any stored record breaks every hash after it.
type AuditRecord struct {
	Seq   uint64
	Event Event
	Prev  string // hash of record Seq-1; "" for the first
	Hash  string
}

// canonicalEvent fixes the bytes a record's hash covers. Its field names
// and order are part of the trail's format: changing them invalidates
// every stored chain.
type canonicalEvent struct {
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
	// Ref came after the first records were written: omitted when empty,
	// it leaves their hashes as they were.
	Ref string `json:"ref,omitempty"`
}

// ComputeHash returns the hash r.Hash must hold.
func (r AuditRecord) ComputeHash() string {
	e := r.Event
	b, err := json.Marshal(canonicalEvent{V: 1, Seq: r.Seq, Prev: r.Prev, Time: e.Time.UTC().Format(time.RFC3339Nano),
		Type: string(e.Type), RequestID: e.RequestID, ClientID: e.ClientID, Actor: e.Actor, KeyID: e.KeyID,
		Hint: e.Hint, Vault: e.Vault, Detail: e.Detail, Ref: e.Ref})
	if err != nil {
		panic(fmt.Sprintf("rotation: encode audit record: %v", err)) // strings and ints only: cannot happen
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// NextRecord links e after prev (the zero record for the first).
func NextRecord(prev AuditRecord, e Event) AuditRecord {
	r := AuditRecord{Seq: prev.Seq + 1, Prev: prev.Hash, Event: e}
	if prev.Seq == 0 {
		r.Prev = ""
	}
	r.Hash = r.ComputeHash()
	return r
}

// VerifyChain checks that recs, consecutive records starting after a
// record whose hash is prevHash ("" from the start), are intact. It names
// the first record that is not.
func VerifyChain(recs []AuditRecord, prevSeq uint64, prevHash string) error {
	for _, r := range recs {
		switch {
		case r.Seq != prevSeq+1:
			return fmt.Errorf("%w: record %d follows record %d", ErrChainBroken, r.Seq, prevSeq)
		case r.Prev != prevHash:
			return fmt.Errorf("%w: record %d does not link to record %d", ErrChainBroken, r.Seq, prevSeq)
		case r.Hash != r.ComputeHash():
			return fmt.Errorf("%w: record %d was changed", ErrChainBroken, r.Seq)
		}
		prevSeq, prevHash = r.Seq, r.Hash
	}
	return nil
}
