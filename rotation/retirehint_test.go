package rotation_test

import (
	"context"
	"testing"

	"github.com/keyturn/keyturn/rotation"
)

// TestRetirementRecordsPairTheOldKeyWithItsOwnHint: the audit records of
// a scheduled and a done retirement name the old credential by its key ID
// and its own hint, never the new credential's.
func TestRetirementRecordsPairTheOldKeyWithItsOwnHint(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	rot := w.rotator(false)
	res, err := rot.Rotate(ctx, request())
	if err != nil {
		t.Fatal(err)
	}
	oldHint := w.origSecret[:3]
	if oldHint == res.Hint {
		t.Skipf("the fake minted a secret with the old hint; nothing to tell apart %q %q", oldHint, res.Hint)
	}
	w.clock.Advance(res.RetireAfter.Sub(w.clock.Now()) + 1)
	if _, err := rot.Retire(ctx, rotation.RetireOptions{ClientID: clientID}); err != nil {
		t.Fatal(err)
	}
	seen := map[rotation.EventType]bool{}
	for _, e := range w.audit.Events() {
		switch e.Type {
		case rotation.EventRetireSchedule, rotation.EventRetiring, rotation.EventRetired:
			seen[e.Type] = true
			if e.KeyID != w.origKey || e.Hint != oldHint {
				t.Errorf("%s names key %s with hint %q; want %s with %q", e.Type, e.KeyID, e.Hint, w.origKey, oldHint)
			}
		}
	}
	if len(seen) != 3 {
		t.Fatalf("retirement events %v", seen)
	}
}
