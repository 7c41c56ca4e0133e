package main

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/keyturn/keyturn/bot"
	"github.com/keyturn/keyturn/policy"
	"github.com/keyturn/keyturn/radar"
)

// exitExpiring is radar's answer when a client secret ends within the
// window: not a failure, but something to act on (pipelines test for it).
const exitExpiring = 10

// radarCmd is `keyturn radar`: the apps Keyturn owns whose client secrets
// end within the window, as a table or JSON; with --scan it asks the
// running bot to scan and post its cards at its next scheduler tick.
func (c *cli) radarCmd(ctx context.Context, args []string) int {
	fs := c.flags("radar")
	within := fs.String("within", "", "how far ahead to look, e.g. 30d or 2w (default: the policy's radar.warn_before, else 30d)")
	asJSON := fs.Bool("json", false, "print the apps as JSON")
	scan := fs.Bool("scan", false, "ask the running bot to scan and post its radar cards now (at its next scheduler tick)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return exitUsage
	}
	window, err := parseDays(*within)
	if err != nil {
		fmt.Fprintf(c.stderr, "error: --within: %v\n", err)
		return exitUsage
	}
	s, code := c.open(ctx)
	if s == nil {
		return code
	}
	defer s.close()
	if code := c.knowPolicyApps(s); code != exitOK {
		return code
	}
	if window == 0 {
		// The bot's radar warns this far ahead: the command shows the same.
		window = cmp.Or(s.radarWindow, radar.DefaultWindow)
	}
	if *scan {
		if err := bot.AskRadarScan(ctx, s.store); err != nil {
			fmt.Fprintf(c.stderr, "error: state store: %v\n", err)
			return exitFailure
		}
		fmt.Fprintln(c.stdout, "scan requested: the bot scans and posts its radar cards at its next scheduler tick (within a minute)")
		return exitOK
	}
	if s.backend.Owned == nil {
		fmt.Fprintln(c.stderr, "error: this backend cannot list the apps Keyturn owns")
		return exitFailure
	}
	sc := radar.Scanner{Apps: s.backend.Owned, Vault: s.backend.Vault, Journal: s.store, Vaults: s.rot.Policy.AllowedVaults, Window: window}
	rep, err := sc.Scan(ctx, s.rot.Clock.Now())
	if err != nil {
		return c.fail(err)
	}
	inside := 0
	for _, a := range rep.Apps {
		if a.Inside {
			inside++
		}
	}
	if *asJSON {
		c.printJSON(radarJSONOf(rep))
	} else {
		c.printRadar(rep)
	}
	if inside > 0 {
		return exitExpiring
	}
	return exitOK
}

// radarJSON is the --json form of a radar report; its field names are
// part of the CLI's contract.
type radarJSON struct {
	Scanned   time.Time      `json:"scanned"`
	WithinH   float64        `json:"within_hours"`
	AppsSeen  int            `json:"apps_seen"`
	Complete  bool           `json:"complete"`
	Unchecked []string       `json:"unchecked,omitempty"`
	Apps      []radarAppJSON `json:"apps"`
}

type radarAppJSON struct {
	ClientID     string            `json:"client_id"`
	DisplayName  string            `json:"display_name"`
	Credentials  []radarCredJSON   `json:"credentials"`
	LastRotation *radarLastRotJSON `json:"last_rotation,omitempty"`
	Unchecked    []string          `json:"unchecked,omitempty"`
}

type radarCredJSON struct {
	KeyID    string    `json:"key_id"`
	Hint     string    `json:"hint"`
	Name     string    `json:"name,omitempty"`
	End      time.Time `json:"end,omitzero"`
	DaysLeft int       `json:"days_left"`
	Expired  bool      `json:"expired"`
	Replaced bool      `json:"replaced,omitempty"`
	HeldBy   []string  `json:"held_by"`
}

type radarLastRotJSON struct {
	RequestID  string    `json:"request_id"`
	At         time.Time `json:"at"`
	ApprovedBy string    `json:"approved_by,omitempty"`
}

func radarJSONOf(rep radar.Report) radarJSON {
	out := radarJSON{Scanned: rep.Scanned, WithinH: rep.Window.Hours(), AppsSeen: rep.AppsSeen, Complete: rep.Complete,
		Unchecked: rep.Unchecked, Apps: []radarAppJSON{}}
	for _, a := range rep.Apps {
		if !a.Inside {
			continue
		}
		aj := radarAppJSON{ClientID: a.ClientID, DisplayName: a.DisplayName, Unchecked: a.Unchecked}
		if a.Last != nil {
			aj.LastRotation = &radarLastRotJSON{RequestID: a.Last.RequestID, At: a.Last.At, ApprovedBy: a.Last.ApprovedBy}
		}
		for _, c := range a.Credentials {
			cj := radarCredJSON{KeyID: c.KeyID, Hint: c.Hint, Name: c.DisplayName, End: c.End, DaysLeft: c.DaysLeft(),
				Expired: !c.End.IsZero() && c.Expired(), Replaced: c.Replaced, HeldBy: []string{}}
			for _, r := range c.HeldBy {
				cj.HeldBy = append(cj.HeldBy, r.String())
			}
			aj.Credentials = append(aj.Credentials, cj)
		}
		out.Apps = append(out.Apps, aj)
	}
	return out
}

// printRadar prints one line per credential of every app inside the
// window, the soonest first.
func (c *cli) printRadar(rep radar.Report) {
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	n := 0
	for _, a := range rep.Apps {
		if !a.Inside {
			continue
		}
		if n == 0 {
			fmt.Fprintln(w, "APP\tCLIENT ID\tKEY ID\tHINT\tENDS\tLEFT\tHELD BY")
		}
		n++
		for _, cr := range a.Credentials {
			left := fmt.Sprintf("%dd", cr.DaysLeft())
			switch {
			case cr.End.IsZero():
				left = "never"
			case cr.Expired():
				left = "expired"
			case cr.Replaced:
				left += " (replaced)"
			}
			held := "not in any Keyturn vault"
			if len(cr.HeldBy) > 0 {
				refs := make([]string, len(cr.HeldBy))
				for i, r := range cr.HeldBy {
					refs[i] = r.String()
				}
				held = strings.Join(refs, ", ")
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.DisplayName, a.ClientID, cr.KeyID, cr.Hint, stamp(cr.End), left, held)
		}
	}
	_ = w.Flush()
	if n == 0 {
		fmt.Fprintf(c.stdout, "no client secret of the %d apps Keyturn owns ends within %s\n", rep.AppsSeen, policy.FormatDuration(rep.Window))
	}
	for _, u := range rep.Unchecked {
		fmt.Fprintf(c.stderr, "not checked: %s\n", u)
	}
	for _, a := range rep.Apps {
		for _, u := range a.Unchecked {
			fmt.Fprintf(c.stderr, "not checked for %s: %s\n", a.ClientID, u)
		}
	}
}
