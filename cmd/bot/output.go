package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// resultJSON is the --json form of a rotation result. Field names are part
// of the CLI's contract.
type resultJSON struct {
	RequestID     string    `json:"request_id"`
	State         string    `json:"state"`
	ClientID      string    `json:"client_id"`
	AppName       string    `json:"app_name,omitempty"`
	KeyID         string    `json:"key_id,omitempty"`
	Hint          string    `json:"hint,omitempty"`
	Start         time.Time `json:"start,omitzero"`
	End           time.Time `json:"end,omitzero"`
	ClientIDURI   string    `json:"client_id_uri,omitempty"`
	SecretURI     string    `json:"client_secret_uri,omitempty"`
	PreviousKeyID string    `json:"previous_key_id,omitempty"`
	RetireAfter   time.Time `json:"retire_after,omitzero"`
	Clamped       bool      `json:"lifetime_clamped,omitempty"`
	Error         string    `json:"error,omitempty"`
}

func (c *cli) printResult(r rotation.Result, asJSON bool) {
	if asJSON {
		c.printJSON(resultJSON{r.RequestID, string(r.State), r.ClientID, r.AppName, r.KeyID, r.Hint, r.Start, r.End,
			r.ClientIDURI, r.SecretURI, r.PreviousKeyID, r.RetireAfter, r.LifetimeClamped, r.Error})
		return
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "%s %s (%s), request %s\n", stateWord(r.State), r.AppName, r.ClientID, r.RequestID)
	if r.KeyID != "" {
		fmt.Fprintf(w, "  key ID\t%s\n  hint\t%s\n  valid\t%s to %s\n", r.KeyID, r.Hint, stamp(r.Start), stamp(r.End))
	}
	if r.LifetimeClamped {
		fmt.Fprintf(w, "  note\tthe requested lifetime was clamped to policy\n")
	}
	if r.ClientIDURI != "" {
		fmt.Fprintf(w, "  client ID\t%s\n", r.ClientIDURI)
	}
	if r.SecretURI != "" {
		fmt.Fprintf(w, "  client secret\t%s\n", r.SecretURI)
	}
	if r.PreviousKeyID != "" {
		fmt.Fprintf(w, "  previous key\t%s, retired by `keyturn retire` after %s\n", r.PreviousKeyID, stamp(r.RetireAfter))
	}
	if r.Error != "" {
		fmt.Fprintf(w, "  error\t%s\n", r.Error)
	}
	_ = w.Flush()
}

func stateWord(s rotation.State) string {
	switch s {
	case rotation.StateDone:
		return "Rotated"
	case rotation.StateRolledBack:
		return "Rolled back"
	case rotation.StateFailed:
		return "Failed"
	}
	return "Unfinished (" + string(s) + ")"
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

type credentialJSON struct {
	KeyID       string    `json:"key_id"`
	DisplayName string    `json:"display_name"`
	Hint        string    `json:"hint"`
	Start       time.Time `json:"start,omitzero"`
	End         time.Time `json:"end,omitzero"`
	ByKeyturn   bool      `json:"by_keyturn"`
	InVault     []string  `json:"in_vault,omitempty"`
	RetireAfter time.Time `json:"retire_after,omitzero"`
}

type vaultJSON struct {
	Secret  string    `json:"secret"`
	Version string    `json:"version,omitempty"`
	KeyID   string    `json:"key_id,omitempty"`
	Expires time.Time `json:"expires,omitzero"`
	Error   string    `json:"error,omitempty"`
}

type statusOut struct {
	ClientID    string           `json:"client_id"`
	AppName     string           `json:"app_name"`
	Credentials []credentialJSON `json:"credentials"`
	Vault       []vaultJSON      `json:"vault"`
	Unfinished  []string         `json:"unfinished_requests,omitempty"`
}

func statusJSON(st rotation.Status) statusOut {
	out := statusOut{ClientID: st.App.ClientID, AppName: st.App.DisplayName, Credentials: []credentialJSON{}, Vault: []vaultJSON{}}
	for _, cr := range st.Credentials {
		out.Credentials = append(out.Credentials, credentialJSON{cr.KeyID, cr.DisplayName, cr.Hint, cr.Start, cr.End, cr.ByKeyturn, cr.InVault, cr.RetireAfter})
	}
	for _, v := range st.Vault {
		e := v.Err
		if v.Missing {
			e = "not found"
		}
		out.Vault = append(out.Vault, vaultJSON{v.Ref.String(), v.ID, v.KeyID, v.Expires, e})
	}
	for _, r := range st.Unfinished {
		out.Unfinished = append(out.Unfinished, r.ID+" ("+string(r.State)+")")
	}
	return out
}

func (c *cli) printStatus(st rotation.Status) {
	fmt.Fprintf(c.stdout, "%s (%s)\n\n", st.App.DisplayName, st.App.ClientID)
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "KEY ID\tHINT\tDISPLAY NAME\tSTART\tEND\tIN VAULT\tRETIRE AFTER")
	for _, cr := range st.Credentials {
		in := "-"
		if len(cr.InVault) > 0 {
			in = strings.Join(cr.InVault, ", ")
		}
		retire := "-"
		if !cr.RetireAfter.IsZero() {
			retire = stamp(cr.RetireAfter)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cr.KeyID, cr.Hint, cr.DisplayName, stamp(cr.Start), stamp(cr.End), in, retire)
	}
	_ = w.Flush()
	if len(st.Vault) > 0 {
		fmt.Fprintln(c.stdout)
		w = tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "VAULT SECRET\tVERSION\tKEY ID")
		for _, v := range st.Vault {
			if v.Missing {
				fmt.Fprintf(w, "%s\t(not found)\t\n", v.Ref)
				continue
			}
			if v.Err != "" {
				fmt.Fprintf(w, "%s\t(%s)\t\n", v.Ref, v.Err)
				continue
			}
			fmt.Fprintf(w, "%s\t%s\t%s\n", v.Ref, v.ID, v.KeyID)
		}
		_ = w.Flush()
	}
	for _, r := range st.Unfinished {
		fmt.Fprintf(c.stdout, "\nunfinished rotation %s (%s): run `keyturn recover`\n", r.ID, r.State)
	}
}
