package bot

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/keyturn/keyturn/rotation"
)

// TestAmbiguousFailureNeverSaysNothingChanged: when a write's outcome is
// unknown (a timeout, a 5xx), or a rotation stopped part-way, the chat must
// not be told that nothing was changed, whatever else the error wraps.
func TestAmbiguousFailureNeverSaysNothingChanged(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("add password: %w", rotation.ErrAmbiguous),
		errors.Join(rotation.ErrThrottled, rotation.ErrAmbiguous),
		errors.Join(rotation.ErrVaultUnreachable, fmt.Errorf("write: %w", rotation.ErrAmbiguous)),
		errors.Join(rotation.ErrInvalid, rotation.ErrAmbiguous),
		fmt.Errorf("%w: %w", rotation.ErrIncomplete, rotation.ErrAmbiguous),
	} {
		msg := userMessage(err, "ref1")
		if strings.Contains(strings.ToLower(msg), "nothing was changed") || strings.Contains(strings.ToLower(msg), "nothing changed") {
			t.Errorf("%v: %q", err, msg)
		}
		if !strings.Contains(msg, "ref1") {
			t.Errorf("%v: no reference in %q", err, msg)
		}
	}
	// What certainly changed nothing may still say so.
	if msg := userMessage(rotation.ErrThrottled, ""); !strings.Contains(msg, "nothing was changed") {
		t.Errorf("throttled: %q", msg)
	}
}
