package bot

import (
	"errors"
	"strings"

	"github.com/keyturn/keyturn/rotation"
)

// userMessage turns err into one line for the people in the chat: what
// happened and what to do, with the reference ID that matches the log line.
// It is the bot's one place for that. Internal details (hosts, status codes,
// SDK messages) stay in the logs.
func userMessage(err error, ref string) string {
	msg := "Something went wrong."
	switch {
	case errors.Is(err, rotation.ErrIncomplete):
		msg = "The rotation stopped part-way. It is journaled and will be finished or undone automatically; nothing is lost."
	case errors.Is(err, rotation.ErrVerifyFailed) && errors.Is(err, rotation.ErrCompensated):
		msg = "The new secret never worked, so I put the previous one back and removed the new one. Nothing changed."
	case errors.Is(err, rotation.ErrCompensated):
		msg = "The rotation failed and was rolled back: the app and the vault are as they were."
	case errors.Is(err, rotation.ErrAmbiguous):
		// A write may or may not have happened: never claim nothing changed.
		msg = "Azure did not answer in time, so whether the change was made is not known yet. It is journaled and will be checked, then finished or undone automatically; nothing is lost."
	case errors.Is(err, rotation.ErrInProgress):
		msg = "Another rotation of this app has not finished yet."
	case errors.Is(err, rotation.ErrInvalid):
		msg = "That request is not valid; nothing was changed."
	case errors.Is(err, rotation.ErrAppNotFound):
		msg = "I cannot find that app registration. Use its Application (client) ID or a configured alias."
	case errors.Is(err, rotation.ErrNotOwner):
		msg = "I am not an owner of that app registration, so I may not change it. An administrator can add Keyturn as an owner."
		var no *rotation.NotOwnerError
		if errors.As(err, &no) {
			msg = "I am not an owner of that app registration, so I may not change it. An owner of the app can add me: " + no.Command()
		}
	case errors.Is(err, rotation.ErrVaultForbidden):
		msg = "I have no access to that vault: Keyturn needs the Key Vault Secrets Officer role on it."
	case errors.Is(err, rotation.ErrVaultNotAllowed):
		msg = "That vault is not on Keyturn's allowed list."
	case errors.Is(err, rotation.ErrSecretNameNotAllowed):
		msg = "The vault secret name is not allowed by policy."
	case errors.Is(err, rotation.ErrOwnApp):
		msg = "I never rotate my own credentials."
	case errors.Is(err, rotation.ErrLifetimePolicy):
		msg = "The tenant's policy does not allow a secret that lives this long."
	case errors.Is(err, rotation.ErrPasswordsForbidden):
		msg = "The tenant's policy, or the app's secret limit, does not allow another secret."
	case errors.Is(err, rotation.ErrThrottled), errors.Is(err, rotation.ErrVaultUnreachable):
		msg = "Azure was busy or unreachable; nothing was changed. Try again in a few minutes."
	case errors.Is(err, rotation.ErrAuditFailed):
		msg = "I could not write the audit trail, so I did not act."
	}
	if ref != "" {
		msg += " (reference " + ref + ")"
	}
	return msg
}

// refusedAction names each action in "You may not …".
var refusedAction = map[rotation.Action]string{
	rotation.ActionRequest:   "do that",
	rotation.ActionApprove:   "do that",
	rotation.ActionStatus:    "status",
	rotation.ActionRetire:    "retire",
	rotation.ActionAuditHere: "audit here",
	rotation.ActionRadarHere: "radar here",
	rotation.ActionExpiring:  "list expiring secrets",
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
	return "You may not " + what + ": it needs a role of " + d.Rule + " (" + roleNames(d.Needs) + "); you have: " + orNone(roleNames(d.Held)) + "."
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
