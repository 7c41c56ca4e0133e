package cards

import (
	"strconv"
	"strings"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// header is the approval card's heading and what its state means.
func header(r rotation.ApprovalRequest, state rotation.ApprovalState) []element {
	app := strong(orNone(r.AppName, "the application"))
	switch state {
	case rotation.ApprovalPending:
		return []element{
			title("Approval needed", colorAccent),
			line(append(append([]textRun{}, nameRuns(r.RequestedBy)...),
				plain(" asked to rotate the client secret of "), app, plain("."))...),
		}
	case rotation.ApprovalApproved:
		return []element{
			title("Approved — rotating", colorAccent),
			approvedBy(r, "The rotation starts now; this card follows it."),
		}
	case rotation.ApprovalRunning:
		step := "Creating the new secret and storing it in Key Vault."
		if r.Needed > 0 {
			step = "Verifying the new secret (" + strconv.Itoa(r.Verified) + "/" + strconv.Itoa(r.Needed) +
				"): Keyturn signs in with it until that works " + strconv.Itoa(r.Needed) + " times in a row."
		}
		return []element{title("Rotating…", colorAccent), approvedBy(r, ""), para(step)}
	case rotation.ApprovalDone:
		body := []element{
			title("Client secret rotated", colorGood),
			line(plain("Rotated and verified: "), app, plain(" now uses the new secret from Key Vault.")),
		}
		body = append(body, newSecret(r.Result)...)
		body = append(body, storedIn(r.Result)...)
		return append(body, previousSecret(r.Result)...)
	case rotation.ApprovalRejected:
		reason := field("Reason", plain(r.Reason))
		if strings.TrimSpace(r.Reason) == "" {
			reason = field("Reason", subtle(plain("none given")))
		}
		return []element{
			title("Rejected", colorAttention),
			line(append(append([]textRun{plain("Rejected by ")}, nameRuns(r.RejectedBy)...), plain(". Nothing was changed."))...),
			table(false, reason),
		}
	case rotation.ApprovalExpired:
		return []element{
			title("Request expired", colorWarning),
			line(plain("It was not approved by "+date(r.ExpiresAt)+". Nothing was changed; ask again to rotate the client secret of "), app, plain(".")),
		}
	case rotation.ApprovalSuperseded:
		return []element{
			title("Superseded", colorWarning),
			line(plain("Another rotation of "), app, plain(" ran first, so the secret this request would retire is no longer the one its approvers saw, and it can no longer be approved or run. Nothing was changed by it; ask again if a new secret is still needed.")),
		}
	case rotation.ApprovalFailed:
		return []element{
			title("Rotation failed", colorAttention),
			table(false,
				field("Reason", plain(orNone(r.Reason, "(no reason recorded)"))),
				field("Reference", mono(orNone(r.ID, "(none)"))),
			),
			note("Quote the reference when you ask an administrator: it finds the matching entry in Keyturn's log."),
		}
	default:
		return []element{
			title("Approval request", colorWarning),
			line(plain("This request is in an unknown state: "), mono(string(state)), plain(".")),
		}
	}
}

// approvedBy names the approvers, then says then.
func approvedBy(r rotation.ApprovalRequest, then string) richText {
	if r.Required <= 0 || len(r.Approvals) == 0 {
		return line(plain(strings.TrimSpace("No approval needed (policy). " + then)))
	}
	shown := r.Approvals[:min(len(r.Approvals), maxItems)]
	runs := []textRun{plain("Approved by ")}
	for i, a := range shown {
		switch {
		case i == 0:
		case i == len(shown)-1 && len(shown) == len(r.Approvals):
			runs = append(runs, plain(" and "))
		default:
			runs = append(runs, plain(", "))
		}
		runs = append(runs, nameRuns(a.By)...)
	}
	if n := len(r.Approvals) - len(shown); n > 0 {
		runs = append(runs, plain(" and "+strconv.Itoa(n)+" more"))
	}
	return line(append(runs, plain(strings.TrimRight(". "+then, " ")))...)
}

// details is the table of what the rotation does and who is involved.
func details(r rotation.ApprovalRequest, v Viewer, state rotation.ApprovalState) []element {
	rows := []element{
		field("Application", strong(orNone(r.AppName, "(no name)"))),
		field("Client ID", mono(orNone(r.ClientID, "(none)"))),
	}
	if !state.Final() && len(r.Plan.Owners) > 0 {
		rows = append(rows, row("Owners", owners(r.Plan.Owners)...))
	}
	rows = append(rows,
		field("Key Vault", mono(orNone(r.VaultURI, "(none)"))),
		row("Vault secrets",
			line(mono(orNone(r.ClientIDName, "(none)")), subtle(plain(" holds the client ID"))),
			line(mono(orNone(r.SecretName, "(none)")), subtle(plain(" holds the client secret")))),
	)
	if !state.Final() {
		valid := []textRun{plain("about " + date(r.Plan.End))}
		if r.Plan.LifetimeClamped {
			valid = append(valid, subtle(plain(" (shortened to the tenant's credential policy)")))
		}
		rows = append(rows, field("New secret ends", valid...), row("Previous secret", previous(r)))
	}
	rows = append(rows, field("Requested by", personRuns(r.RequestedBy)...), row("Approvals", approvals(r)...))
	switch state {
	case rotation.ApprovalPending:
		expires := []textRun{plain(date(r.ExpiresAt))}
		// Only a viewer's own version is rebuilt as they look at it (the
		// refresh); the card everyone shares keeps the time, not a
		// countdown that would freeze.
		if v.ObjectID != "" && !v.Now.IsZero() && v.Now.Before(r.ExpiresAt) {
			expires = append(expires, subtle(plain(" (in "+duration(r.ExpiresAt.Sub(v.Now))+")")))
		}
		rows = append(rows, field("Expires", expires...))
	case rotation.ApprovalExpired:
		rows = append(rows, field("Expired", plain(date(r.ExpiresAt))))
	}
	if state != rotation.ApprovalFailed { // the failed header shows it
		rows = append(rows, field("Reference", mono(orNone(r.ID, "(none)"))))
	}
	return []element{section("The request"), table(false, rows...)}
}

// previous says what happens to the secret the vault holds now.
func previous(r rotation.ApprovalRequest) richText {
	if r.Plan.PreviousKeyID == "" {
		return line(plain("No previous secret recorded: nothing will be retired."))
	}
	overlap := r.Overlap
	if overlap <= 0 {
		overlap = r.Plan.Overlap
	}
	when := " is retired once the new secret is verified."
	if overlap > 0 {
		when = " is retired " + duration(overlap) + " after the new secret is verified; it keeps working until then."
	}
	return line(mono(r.Plan.PreviousKeyID), plain(when))
}

// owners lists the app's owners, at most maxItems of them.
func owners(ps []rotation.Principal) []element {
	var out []element
	for _, p := range ps[:min(len(ps), maxItems)] {
		out = append(out, line(personRuns(p)...))
	}
	if n := len(ps) - maxItems; n > 0 {
		out = append(out, more(n, "owners"))
	}
	return out
}

// approvals is "n of m" and one line per approver.
func approvals(r rotation.ApprovalRequest) []element {
	if r.Required <= 0 {
		// A 0-approval policy records the requester as the approver (for
		// the vault's tags); "1 of 0" would misstate it.
		return []element{line(plain("no approval needed (policy)"))}
	}
	out := []element{line(plain(strconv.Itoa(len(r.Approvals)) + " of " + strconv.Itoa(r.Required)))}
	for _, a := range r.Approvals[:min(len(r.Approvals), maxItems)] {
		out = append(out, line(append(personRuns(a.By), subtle(plain(", "+date(a.At))))...))
	}
	if n := len(r.Approvals) - maxItems; n > 0 {
		out = append(out, more(n, "approvals"))
	}
	return out
}

// preflight is what was checked when the rotation was asked for.
func preflight(r rotation.ApprovalRequest) []element {
	p := r.Plan
	body := []element{
		section("Checked when asked"),
		line(colored(plain("✓ "), colorGood), plain("Keyturn can change the application.")),
		line(colored(plain("✓ "), colorGood), plain("The vault is reachable.")),
	}
	for _, n := range p.Notes[:min(len(p.Notes), maxItems)] {
		body = append(body, line(colored(plain("! "), colorWarning), plain(n)))
	}
	if n := len(p.Notes) - maxItems; n > 0 {
		body = append(body, more(n, "notes"))
	}
	body = append(body, section("Current client secrets ("+count(len(p.Passwords))+")"))
	if len(p.Passwords) == 0 {
		body = append(body, para("The application has no client secret now."))
	}
	for _, pw := range p.Passwords[:min(len(p.Passwords), maxItems)] {
		runs := []textRun{mono(orNone(pw.KeyID, "(none)")), subtle(plain(" · hint ")), mono(orNone(pw.Hint, "(none)")),
			subtle(plain(" · ends ")), plain(date(pw.End))}
		if p.PreviousKeyID != "" && pw.KeyID == p.PreviousKeyID {
			runs = append(runs, colored(plain(" · to be retired"), colorWarning))
		}
		body = append(body, line(runs...))
	}
	if n := len(p.Passwords) - maxItems; n > 0 {
		body = append(body, more(n, "client secrets"))
	}
	return body
}

// nameRuns is how a sentence names a person: the name, else the object ID.
func nameRuns(p rotation.Principal) []textRun {
	switch {
	case strings.TrimSpace(p.Name) != "":
		return []textRun{strong(p.Name)}
	case p.ObjectID != "":
		return []textRun{mono(p.ObjectID)}
	}
	return []textRun{plain("someone unknown")}
}

// personRuns is a person for a table: the name and the object ID.
func personRuns(p rotation.Principal) []textRun {
	if strings.TrimSpace(p.Name) == "" || p.ObjectID == "" {
		return nameRuns(p)
	}
	return []textRun{plain(p.Name), subtle(plain(" · ")), subtle(mono(p.ObjectID))}
}

// duration formats d for people in its two largest units, down to minutes.
func duration(d time.Duration) string {
	d = d.Truncate(time.Minute)
	if d <= 0 {
		return "less than a minute"
	}
	units := []struct {
		size time.Duration
		name string
	}{{24 * time.Hour, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}}
	var parts []string
	for _, u := range units {
		if n := int64(d / u.size); n > 0 && len(parts) < 2 {
			s := strconv.FormatInt(n, 10) + " " + u.name
			if n > 1 {
				s += "s"
			}
			parts = append(parts, s)
			d -= time.Duration(n) * u.size
		} else if len(parts) > 0 {
			break // "1 day 5 minutes" would skip the hours: stop at a gap
		}
	}
	return strings.Join(parts, " ")
}
