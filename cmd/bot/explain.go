package main

import (
	"errors"
	"fmt"

	"github.com/keyturn/keyturn/rotation"
)

// Exit codes scripts can rely on. They are documented in the README and in
// `keyturn help`.
const (
	exitOK         = 0
	exitFailure    = 1 // anything not listed below
	exitUsage      = 2 // bad flags or input; nothing was changed
	exitNotFound   = 3 // the app (or record) does not exist
	exitPermission = 4 // Keyturn lacks a role: not an owner, no vault access
	exitPolicy     = 5 // refused by Keyturn's or the tenant's policy
	exitBusy       = 6 // another rotation of the app is unfinished
	exitRolledBack = 7 // the rotation failed and every change was undone
	exitIncomplete = 8 // stopped part-way; run `keyturn recover`
	exitTransient  = 9 // throttled, unreachable or unanswered; try later (the advice says whether anything may have changed)
)

// advice maps each sentinel to its exit code and what to do, in order:
// the first that err wraps decides (incomplete and rolled back come first,
// since they wrap the cause too).
var advice = []struct {
	err    error
	code   int
	advice string
}{
	{rotation.ErrIncomplete, exitIncomplete, "The rotation stopped part-way and is journaled. Run `keyturn recover` (or `keyturn rotate --resume <request-id>`) to finish or undo it."},
	{rotation.ErrCompensated, exitRolledBack, "The rotation failed and was rolled back: the app's credentials and the vault hold what they held before."},
	{rotation.ErrInProgress, exitBusy, "Another rotation of this app has not finished. Wait for it, or run `keyturn recover` if a previous run crashed."},
	{rotation.ErrInvalid, exitUsage, "Check the input; nothing was changed."},
	{rotation.ErrAppNotFound, exitNotFound, "No application with that client ID is visible to Keyturn. Check the ID (the app registration's Application (client) ID, not its object ID)."},
	{rotation.ErrNotFound, exitNotFound, "No application with that client ID is visible to Keyturn. Check the ID (the app registration's Application (client) ID, not its object ID)."},
	{rotation.ErrNotOwner, exitPermission, "Keyturn may only change apps it owns (Graph permission Application.ReadWrite.OwnedBy). Add Keyturn's service principal as an owner: az ad app owner add --id <client-id> --owner-object-id <keyturn-service-principal-object-id>"},
	{rotation.ErrVaultForbidden, exitPermission, "Keyturn's identity needs the \"Key Vault Secrets Officer\" role on the vault: az role assignment create --role \"Key Vault Secrets Officer\" --assignee <keyturn-principal-id> --scope <vault-resource-id>"},
	{rotation.ErrVaultNotAllowed, exitPolicy, "The vault is not in Keyturn's allowed list (KEYTURN_ALLOWED_VAULTS)."},
	{rotation.ErrSecretNameNotAllowed, exitPolicy, "Secret names are 1-127 letters, digits and dashes, and must match the allowed prefixes."},
	{rotation.ErrOwnApp, exitPolicy, "Keyturn never rotates its own credentials."},
	{rotation.ErrLifetimePolicy, exitPolicy, "The tenant's app management policy caps secret lifetimes: ask for a shorter one with --lifetime."},
	{rotation.ErrPasswordsForbidden, exitPolicy, "The tenant's policy or the app's secret limit refuses a new secret: retire an old one, or use a certificate or federated credential."},
	{rotation.ErrThrottled, exitTransient, "A service was throttling or unreachable; nothing was changed. Try again later."},
	{rotation.ErrAmbiguous, exitTransient, "A service did not answer in time. If this command was changing something, it may or may not have happened: check with `keyturn status --app <client-id>` before you try again."},
	{rotation.ErrVaultUnreachable, exitTransient, "A service was throttling or unreachable; nothing was changed. Try again later."},
	{rotation.ErrAuditFailed, exitFailure, "The audit trail could not be written, so the action was not taken."},
}

// explain turns err into an exit code and words for the person at the
// terminal: what happened and what to do. It is the CLI's one place for
// that; the error's own text follows as detail, and it never holds a secret.
func explain(err error) (int, string) {
	msg := fmt.Sprintf("error: %v", err)
	for _, a := range advice {
		if errors.Is(err, a.err) {
			return a.code, msg + "\n" + a.advice
		}
	}
	return exitFailure, msg
}
