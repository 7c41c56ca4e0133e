package bot

import (
	"slices"

	"github.com/keyturn/keyturn/rotation"
)

// outcomeCodes are the codes that say what became of a failed rotation
// (rolled back, stopped part-way, unknown) rather than why it failed.
var outcomeCodes = []string{"incomplete", "compensated", "ambiguous"}

// causeWords says why a rotation failed, from the cause recorded with its
// request, in the words the chat reads for the same error (userMessage,
// the one table), with the fix where there is one: outcome is what became
// of it, used when the cause says nothing more specific.
func causeWords(c *rotation.Cause, outcome string) string {
	if c == nil {
		return outcome
	}
	full := userMessage(c.Err(), "")
	why := &rotation.Cause{NotOwner: c.NotOwner}
	for _, code := range c.Codes {
		if !slices.Contains(outcomeCodes, code) {
			why.Codes = append(why.Codes, code)
		}
	}
	reason := userMessage(why.Err(), "")
	switch {
	case full == somethingWent && reason == somethingWent:
		return outcome
	case reason == somethingWent || reason == full:
		return full
	case full == somethingWent:
		return outcome + " " + reason
	}
	return full + " " + reason
}

// withoutOutcome is c without the codes that say a rotation's end was not
// known yet (ambiguous, incomplete): for a request whose result is final
// they are out of date.
func withoutOutcome(c *rotation.Cause) *rotation.Cause {
	if c == nil {
		return nil
	}
	out := *c
	out.Codes = slices.DeleteFunc(slices.Clone(c.Codes), func(code string) bool { return code == "ambiguous" || code == "incomplete" })
	return &out
}
