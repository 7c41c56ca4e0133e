package cards

import (
	"strconv"
	"strings"
	"time"

	"github.com/keyturn/keyturn/radar"
)

// VerbRadarRequest is the verb of the radar card's Request rotation button:
// it opens the normal approval flow for ActionData.ClientID, and the
// clicker must be allowed to request.
const VerbRadarRequest = "radar-request"

// RadarWarning is the radar's card for one app with a credential inside
// the window: each credential's key ID, hint, end and days left, which
// Keyturn vault secret holds it (or that none does: a secret made by hand),
// the last rotation and who approved it, what could not be checked, and a
// Request rotation button.
func RadarWarning(app radar.App) Card {
	soon := app.Soonest()
	head, color := "Client secret expires in "+days(soon.DaysLeft()), colorWarning
	switch {
	case soon.Expired():
		head, color = "Client secret expired", colorAttention
	case soon.DaysLeft() <= 1:
		color = colorAttention
	}
	body := []element{
		title(head+": "+clip(orNone(app.DisplayName, app.ClientID)), color),
		table(false,
			field("Application", strong(orNone(app.DisplayName, "(no name)"))),
			field("Client ID", mono(app.ClientID)),
			lastRotation(app.Last),
		),
		section("Client secrets"),
	}
	body = append(body, radarCredentials(app)...)
	body = append(body, unchecked(app.Unchecked)...)
	body = append(body, note("Request rotation asks for a new secret through the usual approval; the new secret goes straight into Key Vault and nobody sees it."))
	c := card(body...)
	c.actions = []executeAction{{
		Type: "Action.Execute", Title: "Request rotation", Verb: VerbRadarRequest, Style: "positive",
		Data:     ActionData{ClientID: app.ClientID},
		Fallback: &submitAction{Type: "Action.Submit", Title: "Request rotation", Style: "positive", Data: ActionData{Verb: VerbRadarRequest, ClientID: app.ClientID}},
	}}
	c.fullWidth = true
	return c
}

// RadarResolved replaces a warning once nothing of the app is inside the
// window any more: it was rotated, and says when the next secret ends.
func RadarResolved(app radar.App) Card {
	next := "no client secret with an end date"
	if s := app.Soonest(); !s.End.IsZero() {
		next = date(s.End) + " (in " + days(s.DaysLeft()) + ")"
	}
	body := []element{
		title("Rotated: "+clip(orNone(app.DisplayName, app.ClientID)), colorGood),
		table(false,
			field("Application", strong(orNone(app.DisplayName, "(no name)"))),
			field("Client ID", mono(app.ClientID)),
			field("Next expiry", plain(next)),
			lastRotation(app.Last),
		),
	}
	body = append(body, unchecked(app.Unchecked)...)
	c := card(body...)
	c.fullWidth = true
	return c
}

// Expiring is the answer to "expiring [within N]": one line per app inside
// the window, soonest first, with the days left and whether a Keyturn vault
// holds the expiring secret; at most maxItems*2 apps.
func Expiring(rep radar.Report) Card {
	inside := make([]radar.App, 0, len(rep.Apps))
	for _, a := range rep.Apps {
		if a.Inside {
			inside = append(inside, a)
		}
	}
	body := []element{title("Client secrets expiring within "+days(int(rep.Window/(24*time.Hour))), "")}
	if len(inside) == 0 {
		body = append(body, para("Nothing: none of the "+strconv.Itoa(rep.AppsSeen)+" apps Keyturn owns has a client secret ending in that time."))
	}
	const most = 2 * maxItems
	for i, a := range inside[:min(len(inside), most)] {
		s := a.Soonest()
		left := colored(plain(days(s.DaysLeft())+" left"), colorWarning)
		if s.Expired() {
			left = colored(plain("expired "+date(s.End)), colorAttention)
		}
		where := subtle(plain(" · not in any Keyturn vault"))
		if len(s.HeldBy) > 0 {
			where = subtle(plain(" · in " + s.HeldBy[0].String()))
		}
		body = append(body, table(i > 0, line(strong(orNone(a.DisplayName, "(no name)")), subtle(plain(" · ")), mono(a.ClientID)), line(left, where)))
	}
	if n := len(inside) - most; n > 0 {
		body = append(body, note("…and "+strconv.Itoa(n)+" more (keyturn radar lists them all)."))
	}
	body = append(body, unchecked(rep.Unchecked)...)
	c := card(body...)
	c.fullWidth = true
	return c
}

// radarCredentials is one table per credential, soonest first.
func radarCredentials(app radar.App) []element {
	var out []element
	for i, c := range app.Credentials[:min(len(app.Credentials), maxItems)] {
		var left textRun
		switch {
		case c.End.IsZero():
			left = plain("never expires")
		case c.Expired():
			left = colored(plain("expired"), colorAttention)
		default:
			left = plain(days(c.DaysLeft()) + " left")
			if c.Left <= 7*24*time.Hour {
				left = colored(left, colorWarning)
			}
		}
		held := []element{line(colored(plain("not in any Keyturn vault"), colorWarning), subtle(plain(" (made by hand, or stored elsewhere)")))}
		if len(c.HeldBy) > 0 {
			runs := make([]textRun, 0, len(c.HeldBy))
			for _, r := range c.HeldBy {
				runs = append(runs, mono(r.String()))
			}
			held = lines(runs...)
			if c.Expired() {
				held = append(held, line(colored(plain("The vault still points at this expired secret."), colorAttention)))
			}
		}
		rows := []element{
			field("Key ID", mono(orNone(c.KeyID, "(none)"))),
			field("Name", plain(orNone(c.DisplayName, "(no name)"))),
			field("Hint", mono(orNone(c.Hint, "(none)"))),
			field("Ends", plain(date(c.End)), subtle(plain(" · ")), left),
			row("Held by", held...),
		}
		if c.Replaced {
			rows = append(rows, field("Replaced", plain("a Keyturn rotation replaced it; it is retired after the overlap")))
		}
		out = append(out, table(i > 0, rows...))
	}
	if n := len(app.Credentials) - maxItems; n > 0 {
		out = append(out, more(n, "client secrets"))
	}
	return out
}

// lastRotation is the row naming the app's last rotation through Keyturn.
func lastRotation(r *radar.Rotation) columnSet {
	if r == nil {
		return field("Last rotation", plain("none through Keyturn"))
	}
	runs := []textRun{plain(date(r.At))}
	if r.ApprovedBy != "" {
		runs = append(runs, subtle(plain(" · approved by ")), plain(r.ApprovedBy))
	}
	return field("Last rotation", runs...)
}

// unchecked says what the radar could not check, if anything.
func unchecked(what []string) []element {
	if len(what) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("Not checked: ")
	for i, w := range what[:min(len(what), 5)] {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(w)
	}
	return []element{line(colored(plain(b.String()), colorWarning))}
}

// days says n days, or 1 day.
func days(n int) string {
	if n == 1 {
		return "1 day"
	}
	return strconv.Itoa(n) + " days"
}
