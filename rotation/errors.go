package rotation

import (
	"errors"
	"fmt"
)

// Sentinel errors. Adapters translate SDK errors into these (wrapped with
// context); callers test them with errors.Is. The bot and the CLI turn them
// into words for people in exactly one place each.
var (
	// ErrDenied means the caller may not do what they tried; a
	// *DeniedError carries the decision and the rule behind it.
	ErrDenied = errors.New("not allowed")

	// ErrInvalid means the input was malformed (bad client ID, vault or
	// secret name, lifetime). Nothing was changed.
	ErrInvalid = errors.New("invalid input")

	// ErrAppNotFound means no application with that client ID is visible.
	ErrAppNotFound = errors.New("application not found")

	// ErrNotOwner means the directory refused to change the application:
	// Keyturn's service principal is not among its owners
	// (Application.ReadWrite.OwnedBy) or lacks the permission.
	ErrNotOwner = errors.New("keyturn is not an owner of the application")

	// ErrOwnApp means the target is Keyturn's own application.
	ErrOwnApp = errors.New("keyturn does not rotate its own credentials")

	// ErrVaultNotAllowed means policy does not allow the vault.
	ErrVaultNotAllowed = errors.New("vault not allowed by policy")

	// ErrSecretNameNotAllowed means policy does not allow a secret name.
	ErrSecretNameNotAllowed = errors.New("secret name not allowed by policy")

	// ErrVaultForbidden means Key Vault refused access (missing role).
	ErrVaultForbidden = errors.New("access to the vault denied")

	// ErrVaultUnreachable means the vault does not resolve or answer.
	ErrVaultUnreachable = errors.New("vault unreachable")

	// ErrNotFound means a vault secret (or a credential) does not exist.
	ErrNotFound = errors.New("not found")

	// ErrSoftDeleted means a vault secret name is held by a soft-deleted
	// secret and must be recovered before it can be written.
	ErrSoftDeleted = errors.New("secret is soft-deleted")

	// ErrLifetimePolicy means the tenant's app management policy refuses a
	// credential with the requested lifetime.
	ErrLifetimePolicy = errors.New("lifetime exceeds the tenant's credential policy")

	// ErrPasswordsForbidden means tenant policy forbids new secrets on the
	// app, or the app holds as many secrets as it may.
	ErrPasswordsForbidden = errors.New("tenant policy refuses a new secret")

	// ErrThrottled means the service kept answering 429 or "concurrent
	// requests" after the retries that are safe.
	ErrThrottled = errors.New("throttled by the service")

	// ErrAmbiguous means a write may or may not have happened (timeout,
	// connection reset, 5xx). The saga reconciles before acting again.
	ErrAmbiguous = errors.New("outcome unknown")

	// ErrNotYetValid means a new secret is not accepted yet by the token
	// endpoint (AADSTS7000215 for seconds to minutes after creation).
	ErrNotYetValid = errors.New("new secret not accepted yet")

	// ErrVerifyFailed means the new secret did not prove itself before the
	// verification deadline.
	ErrVerifyFailed = errors.New("new secret could not be verified")

	// ErrInProgress means another rotation of the same app has not finished
	// (it may need recovery).
	ErrInProgress = errors.New("a rotation of this application is in progress")

	// ErrAuditFailed means the audit record could not be written, so the
	// action it would have recorded was not taken.
	ErrAuditFailed = errors.New("audit record could not be written")

	// ErrIncomplete means a rotation stopped in a state that recovery must
	// finish or undo (run `recover` or `rotate --resume`).
	ErrIncomplete = errors.New("rotation incomplete; recovery needed")

	// ErrCompensated means a rotation failed and its partial changes were
	// undone: the app and the vault are as they were before.
	ErrCompensated = errors.New("rotation failed and was rolled back")

	// Errors of the approval flow.
	// ErrConflict means a stored item changed concurrently; re-read and
	// decide again.
	ErrConflict = errors.New("changed concurrently")
	// ErrNotPending means the request is no longer waiting for decisions
	// (approved, rejected, expired, running or done): a replayed or late
	// click.
	ErrNotPending = errors.New("request is no longer pending")
	// ErrExpiredRequest means the request expired before the decision.
	ErrExpiredRequest = errors.New("request expired")
	// ErrTampered means the card's data does not match the stored request.
	ErrTampered = errors.New("card data does not match the request")
	// ErrSelfApproval means the requester tried to approve their own
	// request.
	ErrSelfApproval = errors.New("requesters cannot approve their own request")
	// ErrAlreadyApproved means this approver approved already.
	ErrAlreadyApproved = errors.New("already approved by this approver")
	// ErrWrongConversation means the card action came from another
	// conversation than the request.
	ErrWrongConversation = errors.New("card action from another conversation")

	// ErrChainBroken means the audit trail was changed after it was written.
	ErrChainBroken = errors.New("audit chain broken")
)

// NotOwnerError says that Keyturn's service principal is not among an
// app's owners, and how an owner of the app fixes that. It wraps
// ErrNotOwner. Its words hold IDs only, so the bot may show them.
type NotOwnerError struct {
	ClientID    string // the app
	PrincipalID string // Keyturn's service principal (object ID)
}

func (e *NotOwnerError) Error() string {
	return fmt.Sprintf("%s: app %s does not list Keyturn's service principal %s among its owners; an owner of the app can add it with: %s",
		ErrNotOwner, e.ClientID, e.PrincipalID, e.Command())
}

// Command is the Azure CLI command that makes Keyturn an owner of the app.
func (e *NotOwnerError) Command() string {
	return "az ad app owner add --id " + e.ClientID + " --owner-object-id " + e.PrincipalID
}

// Unwrap returns ErrNotOwner.
func (e *NotOwnerError) Unwrap() error { return ErrNotOwner }

// Error is an error meant for the person who acted, as wtf's Error: Code is
// one of the sentinels above, which the bot and the CLI turn into words in
// one table each; Message says what exactly was wrong, in words for that
// person and with no internal detail (no host, status or SDK text); Err is
// the cause, for the logs. errors.Is(err, Code) holds.
type Error struct {
	Code    error
	Message string
	Err     error
}

// Errorf returns an *Error with code and a message for people.
func Errorf(code error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Code.Error()
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the code and the cause.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Code}
	}
	return []error{e.Code, e.Err}
}

// ErrorMessage returns the message for people of the first *Error in err's
// chain that has one, or "".
func ErrorMessage(err error) string {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return ""
		}
		if e.Message != "" {
			return e.Message
		}
		err = e.Err
	}
	return ""
}
