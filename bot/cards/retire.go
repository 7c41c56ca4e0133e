package cards

import (
	"github.com/keyturn/keyturn/rotation"
)

// Retirements answers `retire <app>`: one line per scheduled retirement
// (the previous credential's key ID and what became of it), or that none
// is scheduled. problem, when not empty, is the sentence for people about
// a retirement that failed, and reference finds its log lines; the
// retirements' own error texts are for the logs and never shown.
func Retirements(app string, got []rotation.Retirement, problem, reference string) Card {
	body := []element{
		title("Retirement of previous secrets", ""),
		line(plain("Application "), strong(orNone(app, "(no name)"))),
	}
	if len(got) == 0 {
		body = append(body, para("No retirement is scheduled: no previous secret waits to be removed."))
	}
	if len(got) > 0 {
		body = append(body, section("Previous secrets"))
	}
	for _, r := range got[:min(len(got), maxItems)] {
		runs := append([]textRun{plain("Key "), mono(orNone(r.KeyID, "(none)")), plain(": ")}, retirementRuns(r)...)
		body = append(body, line(runs...))
	}
	if n := len(got) - maxItems; n > 0 {
		body = append(body, more(n, "retirements"))
	}
	if problem != "" {
		body = append(body, line(colored(plain(problem), colorAttention)))
	}
	if reference != "" && problem != "" {
		body = append(body, table(false, field("Reference", mono(reference))),
			note("Quote the reference when you ask an administrator: it finds the matching entry in Keyturn's log."))
	}
	return card(body...)
}

// retirementRuns says what became of one scheduled retirement.
func retirementRuns(r rotation.Retirement) []textRun {
	switch r.Outcome {
	case rotation.Retired:
		return []textRun{colored(plain("retired"), colorGood)}
	case rotation.NotDue:
		return []textRun{plain("keeps working until " + date(r.After) + ", when its overlap window ends")}
	case rotation.Kept:
		return []textRun{colored(plain("kept: a vault secret points at it again"), colorWarning)}
	case rotation.RetireError:
		return []textRun{colored(plain("not retired this time; it is tried again"), colorAttention)}
	default:
		return []textRun{plain(string(r.Outcome))}
	}
}
