package cards

import (
	"strconv"

	"github.com/keyturn/keyturn/rotation"
)

// Status shows an application's client secrets (key ID, hint, name,
// validity, whether a vault secret Keyturn wrote holds it, its scheduled
// retirement), the vault secrets Keyturn knows for it, and its unfinished
// rotations. Each section lists at most ten entries.
func Status(st rotation.Status) Card {
	app := st.App
	body := []element{
		title("Client secret status", ""),
		table(false,
			field("Application", strong(orNone(app.DisplayName, "(no name)"))),
			field("Client ID", mono(orNone(app.ClientID, "(none)"))),
		),
		section("Client secrets (" + count(len(st.Credentials)) + ")"),
	}
	if len(st.Credentials) == 0 {
		body = append(body, para("The application has no client secret."))
	}
	for i, c := range st.Credentials[:min(len(st.Credentials), maxItems)] {
		body = append(body, credential(c, i > 0))
	}
	if n := len(st.Credentials) - maxItems; n > 0 {
		body = append(body, more(n, "client secrets"))
	}

	body = append(body, section("Key Vault secrets"))
	if len(st.Vault) == 0 {
		body = append(body, para("Keyturn has written no vault secret for this application yet."))
	}
	for i, v := range st.Vault[:min(len(st.Vault), maxItems)] {
		body = append(body, vaultSecret(v, i > 0))
	}
	if n := len(st.Vault) - maxItems; n > 0 {
		body = append(body, more(n, "vault secrets"))
	}

	if len(st.Unfinished) > 0 {
		body = append(body, section("Unfinished rotations"),
			note("Recovery finishes or undoes these; a new rotation of this application waits until they are settled."))
		for i, rec := range st.Unfinished[:min(len(st.Unfinished), maxItems)] {
			body = append(body, unfinished(rec, i > 0))
		}
		if n := len(st.Unfinished) - maxItems; n > 0 {
			body = append(body, more(n, "unfinished rotations"))
		}
	}
	body = append(body, note(secretNote))
	c := card(body...)
	c.fullWidth = true
	return c
}

// credential is one client secret's table.
func credential(c rotation.CredentialStatus, sep bool) container {
	inVault := []element{line(colored(plain("no"), colorWarning), subtle(plain(" (no vault secret Keyturn knows holds it)")))}
	if len(c.InVault) > 0 {
		runs := make([]textRun, 0, len(c.InVault))
		for _, uri := range c.InVault {
			runs = append(runs, mono(uri))
		}
		inVault = append([]element{line(colored(plain("yes"), colorGood))}, lines(runs...)...)
	}
	made := "no"
	if c.ByKeyturn {
		made = "yes"
	}
	rows := []element{
		field("Name", strong(orNone(c.DisplayName, "(no name)"))),
		field("Key ID", mono(orNone(c.KeyID, "(none)"))),
		field("Hint", mono(orNone(c.Hint, "(none)"))),
		field("Valid", plain(span(c.Start, c.End))),
		field("Made by Keyturn", plain(made)),
		row("In vault", inVault...),
	}
	if !c.RetireAfter.IsZero() {
		rows = append(rows, field("Retire after", colored(plain(date(c.RetireAfter)), colorWarning)))
	}
	return table(sep, rows...)
}

// vaultSecret is one vault secret's table. A read error is shown only as
// "could not be read": its text is internal detail for the log.
func vaultSecret(v rotation.VaultStatus, sep bool) container {
	ref := v.Ref
	ref.Version = ""
	rows := []element{field("Secret", mono(ref.String()))}
	switch {
	case v.Missing:
		rows = append(rows, field("State", colored(plain("not found"), colorWarning)))
	case v.Err != "":
		rows = append(rows, field("State", colored(plain("could not be read"), colorAttention)))
	default:
		rows = append(rows,
			field("Latest version", mono(orNone(v.ID, "(none)"))),
			field("Holds key ID", mono(orNone(v.KeyID, "(no key ID tag)"))),
			field("Expires", plain(date(v.Expires))),
		)
	}
	return table(sep, rows...)
}

// unfinished is one unfinished rotation's table.
func unfinished(rec rotation.Record, sep bool) container {
	rows := []element{
		field("Reference", mono(orNone(rec.ID, "(none)"))),
		field("State", colored(plain(string(rec.State)), colorWarning)),
		field("Requested by", plain(orNone(rec.RequestedBy, "(unknown)"))),
		field("Started", plain(date(rec.CreatedAt))),
		field("Last step", plain(date(rec.UpdatedAt))),
	}
	// rec.Error is internal text (hosts, status codes, SDK messages) for
	// the logs; the reference finds it there.
	return table(sep, rows...)
}

func count(n int) string {
	if n == 0 {
		return "none"
	}
	return strconv.Itoa(n)
}
