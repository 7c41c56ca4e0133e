package bot

import (
	"errors"
	"strings"

	"github.com/keyturn/keyturn/policy"
	"github.com/keyturn/keyturn/rotation"
)

// words is what people in the chat read for each error code: what happened
// and what to do. It is the bot's one table for that. The first row whose
// codes err all wraps decides, so incomplete and rolled back come first
// (they wrap their cause too). Internal details (hosts, status codes, SDK
// messages) stay in the logs.
var words = []struct {
	codes []error
	text  string
}{
	{[]error{rotation.ErrIncomplete}, "The rotation stopped part-way. It is journaled and will be finished or undone automatically; nothing is lost."},
	{[]error{rotation.ErrVerifyFailed, rotation.ErrCompensated}, "The new secret never worked, so I put the previous one back and removed the new one. Nothing changed."},
	{[]error{rotation.ErrCompensated}, "The rotation failed and was rolled back: the app and the vault are as they were."},
	// A write may or may not have happened: never claim nothing changed.
	{[]error{rotation.ErrAmbiguous}, "Azure did not answer in time, so whether the change was made is not known yet. It is journaled and will be checked, then finished or undone automatically; nothing is lost."},
	{[]error{rotation.ErrSelfApproval}, "You asked for this rotation, so someone else must approve it."},
	{[]error{rotation.ErrAlreadyApproved}, "You approved this request already; it needs another approver."},
	{[]error{rotation.ErrExpiredRequest}, "This request expired. Ask again if the rotation is still needed."},
	{[]error{rotation.ErrSuperseded}, "Another rotation of this app ran first, so this request can no longer be approved. Ask again if a new secret is still needed."},
	{[]error{rotation.ErrRequestOpen}, "This app has an open request already: approve or reject that one, or wait until it ends."},
	{[]error{rotation.ErrNotPending}, "This request was decided already."},
	{[]error{rotation.ErrTampered}, cardMismatch},
	{[]error{rotation.ErrWrongConversation}, cardMismatch},
	{[]error{rotation.ErrInProgress}, "Another rotation of this app has not finished yet."},
	{[]error{rotation.ErrInvalid}, "That request is not valid; nothing was changed."},
	{[]error{rotation.ErrAppNotFound}, "I cannot find that app registration. Use its Application (client) ID or a configured alias."},
	{[]error{rotation.ErrNotOwner}, notOwner + " An administrator can add Keyturn as an owner."},
	{[]error{rotation.ErrVaultForbidden}, "I have no access to that vault: Keyturn needs the Key Vault Secrets Officer role on it. An Azure administrator can grant it; `keyturn doctor` prints the exact command."},
	{[]error{rotation.ErrVaultNotAllowed}, "That vault is not on Keyturn's allowed list."},
	{[]error{rotation.ErrSecretNameNotAllowed}, "The vault secret name is not allowed by policy."},
	{[]error{rotation.ErrOwnApp}, "I never rotate my own credentials."},
	{[]error{rotation.ErrLifetimePolicy}, "The tenant's policy does not allow a secret that lives this long."},
	{[]error{rotation.ErrPasswordsForbidden}, "The tenant's policy, or the app's secret limit, does not allow another secret."},
	{[]error{rotation.ErrThrottled}, azureBusy},
	{[]error{rotation.ErrVaultUnreachable}, azureBusy},
	{[]error{rotation.ErrAuditFailed}, "I could not write the audit trail, so I did not act."},
	{[]error{rotation.ErrDenied}, "You may not do that."},
}

// Sentences more than one row or place uses.
const (
	cardMismatch  = "This card does not match a request of this conversation."
	azureBusy     = "Azure was busy or unreachable; nothing was changed. Try again in a few minutes."
	failedNoHarm  = "The rotation stopped before creating a new secret. The app's current secret still works; you can ask again."
	somethingWent = "Something went wrong."
	notOwner      = "I am not an owner of that app registration, so I may not change it."
)

// sentence returns the words of the first row of the table that err
// matches, or "".
func sentence(err error) string {
	for _, w := range words {
		all := true
		for _, c := range w.codes {
			all = all && errors.Is(err, c)
		}
		if all {
			return w.text
		}
	}
	return ""
}

// userMessage turns err into one line for the people in the chat, with the
// reference ID that matches the log line: a refusal names what would have
// allowed it; other errors get their code's words from the table, followed
// by what exactly was wrong when the error says so for people
// (rotation.Error).
func userMessage(err error, ref string) string {
	var denied *rotation.DeniedError
	var unknown *UnknownAppError
	msg := somethingWent
	switch {
	case errors.As(err, &unknown):
		return unknownAppWords(unknown) // nothing happened: nothing to look up
	case errors.As(err, &denied):
		msg = deniedMessage(denied)
	case sentence(err) != "":
		msg = sentence(err)
		var no *rotation.NotOwnerError
		if errors.As(err, &no) {
			msg = notOwner + " An owner of the app can add me: " + no.Command()
		} else if detail := rotation.ErrorMessage(err); detail != "" {
			msg += " " + strings.ToUpper(detail[:1]) + detail[1:] + "."
		}
	}
	if ref != "" {
		msg += " (reference " + ref + ")"
	}
	return msg
}

// refusedAction names each action in "You may not …".
var refusedAction = map[rotation.Action]string{
	rotation.ActionRequest: "do that",
	rotation.ActionApprove: "do that",
	policy.ActionStatus:    "status",
	policy.ActionRetire:    "retire",
	policy.ActionAuditHere: "audit here",
	policy.ActionRadarHere: "radar here",
	policy.ActionExpiring:  "list expiring secrets",
}

// deniedMessage puts a refused decision into words: what would have
// allowed it (the decision's Needs, by the names the policy gives them)
// and what the caller has.
func deniedMessage(e *rotation.DeniedError) string {
	d := e.Decision
	what := refusedAction[d.Action]
	if what == "" {
		what = "do that"
	}
	switch {
	case e.Err != nil:
		return "You may not " + what + ": your roles could not be checked just now, so nothing was changed. Try again in a minute."
	case d.Why != "":
		return "You may not " + what + "."
	case len(d.Needs) == 0:
		return "You may not " + what + ": the policy names no role that may."
	}
	return neededRole(d)
}

// roleNames lists role sources for people: by name where the policy gives
// one, else by kind and ID.
func roleNames(ss []rotation.RoleSource) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = s.Name
		if s.Name == "" {
			names[i] = s.String()
		}
	}
	return strings.Join(names, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// requestMessage puts a request that could not be opened into words. Its
// checks only read Azure, and nothing is journaled before the request is
// opened, so an answer Azure lost is not "journaled" here, as it is for a
// rotation that stopped part-way.
func requestMessage(err error, ref string) string {
	if errors.Is(err, rotation.ErrAmbiguous) {
		return "Azure did not answer in time while I checked the app and the vault, so I did not open the request. Try again in a few minutes. (reference " + ref + ")"
	}
	msg := userMessage(err, ref)
	if strings.HasPrefix(msg, somethingWent) {
		return "I could not open the request, so nothing was rotated. Try again in a few minutes; if it fails again, give an administrator the reference " + ref + "."
	}
	return msg
}

// decisionFailure puts a card decision that was not taken into words. A
// failure without a name (the state store did not answer) may have
// recorded the decision anyway: the card says what was decided.
func decisionFailure(err error, ref string) string {
	msg := cardMessage(err, ref)
	if strings.HasPrefix(msg, somethingWent) {
		return "I could not confirm that your decision was recorded. The card shows what was decided; if it still asks, try again. (reference " + ref + ")"
	}
	return msg
}
