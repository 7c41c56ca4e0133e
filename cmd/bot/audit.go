package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/store/kvstore"
)

// audit is `keyturn audit verify` and `keyturn audit show`.
func (c *cli) audit(ctx context.Context, args []string) int {
	if len(args) == 0 || (args[0] != "verify" && args[0] != "show") {
		fmt.Fprintln(c.stderr, "usage: keyturn audit verify [--state-dir D] [--anchor SEQ:HASH] [--checkpoint FILE] | keyturn audit show [--state-dir D] [--app <client-id>] [--ref <reference>] [--since <RFC 3339 time>] [--until <time>] [--json]")
		return exitUsage
	}
	fs := c.flags("audit " + args[0])
	app := fs.String("app", "", "only events of this application (client) ID")
	ref := fs.String("ref", "", "only events of this reference, as a Teams reply or card quotes it (the interaction's or the request's ID)")
	since := fs.String("since", "", "only events at or after this time (RFC 3339, e.g. 2026-11-01T00:00:00Z)")
	until := fs.String("until", "", "only events before this time (RFC 3339)")
	asJSON := fs.Bool("json", false, "print JSON")
	stateDir := fs.String("state-dir", "", "the state directory to read (default: KEYTURN_STATE_DIR's; the sandbox's is <that>/sandbox)")
	var anchors []anchor
	var anchorErrs []string
	fs.Func("anchor", "verify: SEQ:HASH of a record the trail must still hold, as an audit channel post shows it (repeatable)", func(v string) error {
		a, err := parseAnchor(v)
		if err != nil {
			anchorErrs = append(anchorErrs, "--anchor "+err.Error())
		}
		anchors = append(anchors, a)
		return nil
	})
	checkpoint := fs.String("checkpoint", "", "verify: a file kept apart from the state store; the trail must still hold the record it names, and it is moved to the trail's last record")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 {
		return usageExit(err)
	}
	var from, to time.Time
	var problems []string
	for _, p := range []struct {
		flag string
		v    string
		dst  *time.Time
	}{{"--since", *since, &from}, {"--until", *until, &to}} {
		if p.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, p.v)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s %q is not an RFC 3339 time such as 2026-11-01T00:00:00Z", p.flag, p.v))
		}
		*p.dst = t
	}
	if *app != "" && !rotation.IsGUID(*app) {
		problems = append(problems, fmt.Sprintf("--app %q must be the application (client) ID, a GUID", *app))
	}
	problems = append(problems, anchorErrs...)
	if len(problems) > 0 {
		fmt.Fprintln(c.stderr, "error: "+strings.Join(problems, "\nerror: "))
		return exitUsage
	}
	s, code := c.openStore(ctx, *stateDir)
	if s == nil {
		return code
	}
	defer s.close()
	n, verr := s.store.VerifyAudit(ctx)
	if args[0] == "verify" {
		return c.verifyAudit(ctx, s.store, n, verr, anchors, *checkpoint)
	}
	recs, err := s.store.Records(ctx, 0, 0)
	if err != nil {
		return c.fail(err)
	}
	var out []rotation.AuditRecord
	for _, r := range recs {
		e := r.Event
		if *app != "" && !strings.EqualFold(e.ClientID, *app) || !from.IsZero() && e.Time.Before(from) || !to.IsZero() && !e.Time.Before(to) ||
			!hasRef(e, *ref) {
			continue
		}
		out = append(out, r)
	}
	if *asJSON {
		c.printJSON(auditJSON(out))
	} else {
		w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "SEQ\tTIME\tEVENT\tAPP\tREQUEST\tACTOR\tKEY ID\tDETAIL")
		for _, r := range out {
			e := r.Event
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Seq, e.Time.UTC().Format(time.RFC3339), e.Type, e.ClientID, e.RequestID, e.Actor, e.KeyID, e.Detail)
		}
		_ = w.Flush()
	}
	if verr != nil {
		fmt.Fprintf(c.stderr, "warning: %v\n", verr)
		if errors.Is(verr, rotation.ErrChainBroken) {
			return exitFailure
		}
	}
	return exitOK
}

type auditRecordJSON struct {
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
	Type      string    `json:"type"`
	ClientID  string    `json:"client_id,omitempty"`
	RequestID string    `json:"request_id,omitempty"`
	Actor     string    `json:"actor,omitempty"`
	KeyID     string    `json:"key_id,omitempty"`
	Hint      string    `json:"hint,omitempty"`
	Vault     string    `json:"vault,omitempty"`
	Detail    string    `json:"detail,omitempty"`
	Ref       string    `json:"ref,omitempty"`
	Hash      string    `json:"hash"`
}

// hasRef reports whether e belongs to reference ref ("" matches all): the
// interaction that caused it, or the request it is about.
func hasRef(e rotation.Event, ref string) bool {
	ref = strings.TrimSpace(ref)
	return ref == "" || strings.EqualFold(e.Ref, ref) || strings.EqualFold(e.RequestID, ref)
}

func auditJSON(recs []rotation.AuditRecord) []auditRecordJSON {
	out := []auditRecordJSON{}
	for _, r := range recs {
		e := r.Event
		out = append(out, auditRecordJSON{r.Seq, e.Time.UTC(), string(e.Type), e.ClientID, e.RequestID, e.Actor, e.KeyID, e.Hint, e.Vault, e.Detail, e.Ref, r.Hash})
	}
	return out
}

// verifyAudit reports the chain check (verr), then checks the anchors and
// the checkpoint, which catch records removed from the end of the trail,
// and moves the checkpoint to the trail's last record.
func (c *cli) verifyAudit(ctx context.Context, st *kvstore.Store, n uint64, verr error, anchors []anchor, checkpoint string) int {
	errs := []error{verr}
	for _, a := range anchors {
		if verr == nil {
			errs = append(errs, checkAnchor(ctx, st, a, "the anchor given"))
		}
	}
	if checkpoint != "" && verr == nil {
		a, ok, err := readCheckpoint(checkpoint)
		errs = append(errs, err)
		if ok {
			errs = append(errs, checkAnchor(ctx, st, a, "checkpoint "+checkpoint))
		}
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(c.stderr, "error: %v\n", err)
		if errors.Is(err, rotation.ErrChainBroken) {
			fmt.Fprintln(c.stderr, "The audit trail was changed after it was written.")
		}
		return exitFailure
	}
	fmt.Fprintf(c.stdout, "audit trail intact: %d records\n", n)
	if checkpoint != "" {
		head, err := writeCheckpoint(ctx, st, checkpoint)
		if err != nil {
			return c.fail(fmt.Errorf("write the checkpoint: %w", err))
		}
		fmt.Fprintf(c.stdout, "checkpoint %s now names record %d\n", checkpoint, head)
	}
	return exitOK
}
