package bot

import (
	"errors"
	"fmt"
	"testing"

	"github.com/keyturn/keyturn/rotation"
)

// TestFailedCardsSayWhyWithTheFix: a failed request's card says what
// became of the rotation and why, with the fix, in the words the chat
// reads for the same error, from the cause kept with the request; never
// the error's own text.
func TestFailedCardsSayWhyWithTheFix(t *testing.T) {
	notOwner := &rotation.NotOwnerError{ClientID: "66666666-6666-4666-8666-666666666666", PrincipalID: "00000000-0000-4000-8000-00000000beef"}
	cases := []struct {
		name  string
		err   error
		state rotation.State
		want  string
	}{
		{"not an owner, before any change", fmt.Errorf("rotate hr-legacy: %w", notOwner), "",
			"I am not an owner of that app registration, so I may not change it. An owner of the app can add me: az ad app owner add --id 66666666-6666-4666-8666-666666666666 --owner-object-id 00000000-0000-4000-8000-00000000beef"},
		{"no role on the vault, rolled back", errors.Join(rotation.ErrCompensated, fmt.Errorf("store: 403 Forbidden from https://kv.example/: %w", rotation.ErrVaultForbidden)), rotation.StateRolledBack,
			"The rotation failed and was rolled back: the app and the vault are as they were. I have no access to that vault: Keyturn needs the Key Vault Secrets Officer role on it. An Azure administrator can grant it; `keyturn doctor` prints the exact command."},
		{"throttled", fmt.Errorf("add password: 429 Too Many Requests: %w", rotation.ErrThrottled), "",
			"Azure was busy or unreachable; nothing was changed. Try again in a few minutes."},
		{"never verified", errors.Join(rotation.ErrCompensated, rotation.ErrVerifyFailed), rotation.StateRolledBack,
			"The new secret never worked, so I put the previous one back and removed the new one. Nothing changed."},
		{"unknown", errors.New("graph: unexpected EOF at https://graph.microsoft.com"), "",
			failedNoHarm},
	}
	for _, c := range cases {
		r := rotation.ApprovalRequest{State: rotation.ApprovalFailed, Reason: c.err.Error(), Cause: rotation.CauseOf(c.err), Result: rotation.Result{State: c.state}}
		if got := forPeople(r).Reason; got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}
