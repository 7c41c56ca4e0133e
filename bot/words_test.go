package bot

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/keyturn/keyturn/policy"
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

// TestWordsTable: the errors people meet each get their own words from the
// one table, with the reference; a message meant for people is kept; and a
// refusal says what would have allowed it, from the decision, not the text.
func TestWordsTable(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want []string
	}{
		{"wrapped code", fmt.Errorf("add password to x: %w", rotation.ErrNotOwner), []string{"not an owner"}},
		{"two codes", errors.Join(rotation.ErrVerifyFailed, rotation.ErrCompensated), []string{"never worked"}},
		{"rolled back wins over its cause", fmt.Errorf("%w: %w", rotation.ErrCompensated, rotation.ErrVaultForbidden), []string{"rolled back"}},
		{"message for people", rotation.Errorf(rotation.ErrInvalid, "I don't know an app called %q: use one of the aliases a, b", "paymets-api"),
			[]string{"not valid", `I don't know an app called "paymets-api": use one of the aliases a, b.`}},
		{"refused by roles", &rotation.DeniedError{Decision: rotation.Decision{
			Attempt: rotation.Attempt{Action: policy.ActionStatus}, Rule: "roles.request or roles.approve",
			Needs: []rotation.RoleSource{{Kind: rotation.SourceGroup, ID: "g1", Name: "sg-approvers"}, {Kind: rotation.SourceAppRole, ID: "r1"}},
			Held:  []rotation.RoleSource{{Kind: rotation.SourceGroup, ID: "g2", Name: "sg-payments-owners"}}}},
			[]string{"Checking status needs a role that may ask for rotations or approve rotations (sg-approvers, appRole r1); you have: sg-payments-owners."}},
		{"roles unreadable", &rotation.DeniedError{Decision: rotation.Decision{Attempt: rotation.Attempt{Action: rotation.ActionRequest}}, Err: errors.New("graph: 503 at graph.microsoft.com")},
			[]string{"could not be checked"}},
		{"unknown", errors.New("dial tcp 10.0.0.1:443: refused"), []string{"Something went wrong"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := userMessage(c.err, "ref-1")
			for _, w := range append(c.want, "(reference ref-1)") {
				if !strings.Contains(got, w) {
					t.Errorf("%q does not say %q", got, w)
				}
			}
			for _, leak := range []string{"graph.microsoft.com", "10.0.0.1", "503"} {
				if strings.Contains(got, leak) {
					t.Errorf("%q shows internal detail %q", got, leak)
				}
			}
		})
	}
	// Every code the domain returns to people has words of its own.
	for _, code := range []error{rotation.ErrIncomplete, rotation.ErrCompensated, rotation.ErrInProgress, rotation.ErrInvalid,
		rotation.ErrAppNotFound, rotation.ErrNotOwner, rotation.ErrVaultForbidden, rotation.ErrVaultNotAllowed,
		rotation.ErrSecretNameNotAllowed, rotation.ErrOwnApp, rotation.ErrLifetimePolicy, rotation.ErrPasswordsForbidden,
		rotation.ErrThrottled, rotation.ErrAmbiguous, rotation.ErrVaultUnreachable, rotation.ErrAuditFailed,
		rotation.ErrSelfApproval, rotation.ErrAlreadyApproved, rotation.ErrExpiredRequest, rotation.ErrNotPending,
		rotation.ErrTampered, rotation.ErrWrongConversation} {
		if sentence(code) == "" {
			t.Errorf("%v has no words", code)
		}
	}
}

// TestRequestAndDecisionFailuresSayWhatHappened: a request whose checks
// failed says it was not opened (and never that a rotation is journaled);
// a decision that failed without a name says the card tells what was
// decided; refusals keep their own words.
func TestRequestAndDecisionFailuresSayWhatHappened(t *testing.T) {
	unnamed := errors.New("azure tables: HTTP 503 ServerBusy")
	cases := []struct {
		name, got, want string
	}{
		{"request, no answer", requestMessage(fmt.Errorf("read app: %w", rotation.ErrAmbiguous), "r1"), "did not open the request"},
		{"request, unnamed", requestMessage(unnamed, "r1"), "nothing was rotated"},
		{"request, named", requestMessage(rotation.ErrNotOwner, "r1"), "not an owner"},
		{"decision, unnamed", decisionFailure(unnamed, "r1"), "card shows what was decided"},
		{"decision, refused", decisionFailure(rotation.ErrSelfApproval, "r1"), "someone else must approve"},
	}
	for _, c := range cases {
		if !strings.Contains(c.got, c.want) || !strings.Contains(c.got, "r1") {
			t.Errorf("%s: %q, want %q and the reference", c.name, c.got, c.want)
		}
		if strings.Contains(c.got, somethingWent) || strings.Contains(c.got, "journaled") || strings.Contains(c.got, "503") {
			t.Errorf("%s: %q", c.name, c.got)
		}
	}
}
