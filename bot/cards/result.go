package cards

import (
	"github.com/keyturn/keyturn/rotation"
)

// outcome is how a card names a rotation state.
type outcome struct {
	title, label, color string
}

// outcomeOf maps a rotation state to its heading, a one-line label and a
// color. Unknown states are shown as unfinished: never as success.
func outcomeOf(s rotation.State) outcome {
	switch s {
	case rotation.StateDone:
		return outcome{"Client secret rotated", "Rotated and verified", colorGood}
	case rotation.StateFailed:
		return outcome{"Rotation failed", "Failed; nothing was changed", colorAttention}
	case rotation.StateRolledBack:
		return outcome{"Rotation rolled back", "Rolled back; the application and the vault are as they were", colorWarning}
	default:
		return outcome{"Rotation unfinished", "Unfinished (" + string(s) + "); recovery will finish or undo it", colorWarning}
	}
}

// RotationResult reports a rotation: for a finished one the new
// credential (key ID, hint, validity), the two versioned vault URIs and the
// previous key's retirement; for a failed or rolled-back one the reason
// and the reference (request) ID. Everything shown comes from res, which
// holds no secret.
func RotationResult(res rotation.Result) Card {
	o := outcomeOf(res.State)
	body := []element{
		title(o.title, o.color),
		table(false,
			field("Application", strong(orNone(res.AppName, "(no name)"))),
			field("Client ID", mono(orNone(res.ClientID, "(none)"))),
			field("Outcome", colored(plain(o.label), o.color)),
			field("Reference", mono(orNone(res.RequestID, "(none)"))),
		),
	}
	if res.State != rotation.StateDone && res.Error != "" {
		body = append(body, table(false, field("Reason", plain(res.Error))))
	}
	body = append(body, newSecret(res)...)
	body = append(body, storedIn(res)...)
	if res.State == rotation.StateDone {
		body = append(body, previousSecret(res)...)
	}
	if res.State == rotation.StateRolledBack {
		body = append(body, note("The vault points at the previous secret again and the new credential was removed."))
	}
	body = append(body, note(secretNote))
	return card(body...)
}

// newSecret is the new credential's section (key ID, hint, validity), or
// nothing when no credential was added.
func newSecret(res rotation.Result) []element {
	if res.KeyID == "" {
		return nil
	}
	valid := []textRun{plain(span(res.Start, res.End))}
	if res.LifetimeClamped {
		valid = append(valid, subtle(plain(" (shortened to the tenant's credential policy)")))
	}
	hint := mono(orNone(res.Hint, "(none)"))
	return []element{
		section("New client secret"),
		table(false,
			field("Key ID", mono(res.KeyID)),
			field("Hint", hint, subtle(plain(" (its first characters; not secret)"))),
			field("Valid", valid...),
		),
	}
}

// storedIn is the section of the two versioned vault URIs, or nothing when
// neither was written.
func storedIn(res rotation.Result) []element {
	if res.ClientIDURI == "" && res.SecretURI == "" {
		return nil
	}
	return []element{
		section("Stored in Key Vault"),
		table(false,
			field("Client ID", mono(orNone(res.ClientIDURI, "(not written)"))),
			field("Client secret", mono(orNone(res.SecretURI, "(not written)"))),
		),
	}
}

// previousSecret is the section on the previous credential's retirement
// after a finished rotation.
func previousSecret(res rotation.Result) []element {
	if res.PreviousKeyID == "" {
		return []element{section("Previous client secret"), para("There was none to retire.")}
	}
	return []element{
		section("Previous client secret"),
		table(false,
			field("Key ID", mono(res.PreviousKeyID)),
			field("Retired after", plain(date(res.RetireAfter))),
		),
		note("It keeps working until then, so applications have time to pick up the new secret."),
	}
}
