package rotation_test

import (
	"errors"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

func chain(n int) []rotation.AuditRecord {
	var out []rotation.AuditRecord
	prev := rotation.AuditRecord{}
	for i := range n {
		r := rotation.NextRecord(prev, rotation.Event{Time: t0.Add(time.Duration(i) * time.Second), Type: rotation.EventAdded,
			RequestID: "r1", ClientID: clientID, Actor: "keyturn", KeyID: "k1", Hint: "abc", Vault: vaultURI, Detail: "d"})
		out = append(out, r)
		prev = r
	}
	return out
}

// TestChainDetectsTampering changes each field of each record in turn, and
// removes, swaps and inserts records: every change is detected.
func TestChainDetectsTampering(t *testing.T) {
	good := chain(5)
	if err := rotation.VerifyChain(good, 0, ""); err != nil {
		t.Fatal(err)
	}
	if err := rotation.VerifyChain(good[2:], good[1].Seq, good[1].Hash); err != nil {
		t.Fatalf("a verified prefix: %v", err)
	}
	edits := map[string]func(r *rotation.AuditRecord){
		"time":    func(r *rotation.AuditRecord) { r.Event.Time = r.Event.Time.Add(time.Nanosecond) },
		"type":    func(r *rotation.AuditRecord) { r.Event.Type = rotation.EventDenied },
		"request": func(r *rotation.AuditRecord) { r.Event.RequestID = "r2" },
		"client":  func(r *rotation.AuditRecord) { r.Event.ClientID = "x" },
		"actor":   func(r *rotation.AuditRecord) { r.Event.Actor = "mallory" },
		"key":     func(r *rotation.AuditRecord) { r.Event.KeyID = "k2" },
		"hint":    func(r *rotation.AuditRecord) { r.Event.Hint = "xyz" },
		"vault":   func(r *rotation.AuditRecord) { r.Event.Vault = "https://evil/" },
		"detail":  func(r *rotation.AuditRecord) { r.Event.Detail = "" },
		"prev":    func(r *rotation.AuditRecord) { r.Prev = "00" },
		"seq":     func(r *rotation.AuditRecord) { r.Seq += 10 },
		"rehash":  func(r *rotation.AuditRecord) { r.Event.Detail = "forged"; r.Hash = r.ComputeHash() },
	}
	for i := range good {
		for name, edit := range edits {
			recs := append([]rotation.AuditRecord(nil), good...)
			edit(&recs[i])
			if err := rotation.VerifyChain(recs, 0, ""); !errors.Is(err, rotation.ErrChainBroken) {
				// Re-hashing the last record alone leaves nothing after it
				// to notice: that is what the stored head hash is for.
				if name == "rehash" && i == len(good)-1 {
					continue
				}
				t.Errorf("record %d, %s changed: not detected", i, name)
			}
		}
	}
	for name, recs := range map[string][]rotation.AuditRecord{
		"removed":  append(append([]rotation.AuditRecord(nil), good[:2]...), good[3:]...),
		"swapped":  {good[0], good[2], good[1], good[3], good[4]},
		"inserted": append(append(append([]rotation.AuditRecord(nil), good[:2]...), rotation.NextRecord(good[1], rotation.Event{Type: rotation.EventApproved})), good[2:]...),
	} {
		if err := rotation.VerifyChain(recs, 0, ""); !errors.Is(err, rotation.ErrChainBroken) {
			t.Errorf("%s record: not detected", name)
		}
	}
}
