package bot

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/keyturn/keyturn/bot/botauthtest"
	"github.com/keyturn/keyturn/rotation/rotationtest"
)

var updateMatrix = flag.Bool("update", false, "rewrite testdata/faultmatrix.md")

// traceFrom runs the flow with no fault (and r's setup) and returns the
// first call of each op made after the approver's click, or, for an op
// made only before it, its first call at all.
func traceFrom(t *testing.T, iss *botauthtest.Issuer, r faultRow) (calls map[string]int) {
	f := rotationtest.NewFaults()
	fr := newFaultRun(t, iss, f)
	if r.setup != nil {
		r.setup(fr)
	}
	var atClick int
	fr.beforeClick = func() { atClick = len(f.Trace()) }
	fr.flow()
	calls = map[string]int{}
	for i, c := range f.Trace() {
		if _, ok := calls[c.Op]; !ok && i >= atClick {
			calls[c.Op] = c.N
		}
	}
	for _, c := range f.Trace() {
		if _, ok := calls[c.Op]; !ok {
			calls[c.Op] = c.N
		}
	}
	return calls
}

// TestFaultMatrixThroughTheWebhook runs request → approve → rotation
// through the webhook with one external call failing in one way, for
// every call and every failure class, then lets the scheduler recover,
// sweep and retire, and checks what the user was told, the audit trail,
// rule 2 and the canary. The tally of outcomes is pinned; the rows ×
// classes table is testdata/faultmatrix.md (-update rewrites it), which
// docs/reliability.md quotes.
func TestFaultMatrixThroughTheWebhook(t *testing.T) {
	if testing.Short() {
		t.Skip("the fault matrix runs in full mode")
	}
	// The card's posts and updates: the approval card is post #1; its
	// last update in a clean run is the final card.
	iss := botauthtest.New(t)
	var lastPut int
	{
		fr := newFaultRun(t, iss, rotationtest.NewFaults())
		fr.flow()
		if fr.settled() != "rotated" {
			t.Fatal("the clean run did not rotate")
		}
		for _, p := range fr.h.conn.all() {
			if p.Method == http.MethodPut {
				lastPut++
			}
		}
	}
	plain := traceFrom(t, iss, faultRow{}) // the rows without a setup of their own share one trace
	var mu sync.Mutex
	outcomes := map[string]string{} // row/class: its outcome, or FAIL
	t.Run("pairs", func(t *testing.T) {
		for _, row := range faultRows {
			calls := plain
			if row.op != "" && row.setup != nil {
				calls = traceFrom(t, iss, row)
			}
			if row.op != "" && calls[row.op] == 0 {
				t.Fatalf("%s: the flow never calls %s", row.name, row.op)
			}
			for _, class := range faultClasses {
				if p := row.plays[class]; p.na == "" {
					t.Run(row.name+"/"+class, func(t *testing.T) {
						t.Parallel()
						outcome := "FAIL"
						defer func() {
							if t.Failed() {
								outcome = "FAIL"
							}
							mu.Lock()
							defer mu.Unlock()
							outcomes[row.name+"/"+class] = outcome
						}()
						outcome = runPair(t, iss, row, class, p, calls[row.op], lastPut)
					})
				}
			}
		}
	})
	tally := map[string]int{}
	cells := map[string]map[string]string{}
	for _, row := range faultRows {
		cells[row.name] = map[string]string{}
		for _, class := range faultClasses {
			if row.plays[class].na != "" {
				cells[row.name][class] = "n/a"
				tally["n/a"]++
				continue
			}
			outcome, ran := outcomes[row.name+"/"+class]
			if !ran {
				return // left out by -run: the table and the tally are for the whole matrix
			}
			cell := "pass " + outcome
			if outcome == "FAIL" {
				cell = "FAIL"
			}
			cells[row.name][class] = cell
			tally[outcome]++
		}
	}
	checkMatrixTable(t, cells, tally)
	// The tally pins what the faults end in, as a whole: a change means some
	// pair now ends differently; read its subtest, and change the numbers
	// only for a change you meant.
	want := map[string]int{"n/a": 19, "rotated/rotated": 52, "unchanged/expired": 11, "unchanged/failed": 29,
		"unchanged/rolled-back": 12, "unchanged/told": 21}
	if fmt.Sprint(tally) != fmt.Sprint(want) {
		t.Errorf("outcomes %v, want %v", tally, want)
	}
}

// runPair runs one (call, class) pair: the fault injected at call n of
// row.op (the row's own n when it has one), or at the connector's request
// of the clean run (the card's post, its last update), and returns the
// outcome: rule 2's verdict / what the card says.
func runPair(t *testing.T, iss *botauthtest.Issuer, row faultRow, class string, p play, n, lastPut int) string {
	f := rotationtest.NewFaults()
	fr := newFaultRun(t, iss, f)
	if row.setup != nil {
		row.setup(fr)
	}
	switch {
	case row.op != "":
		if row.n != 0 {
			n = row.n
		}
		f.InjectError(rotationtest.Call{Op: row.op, N: n}, p.kind, p.err)
	case row.conn == http.MethodPost:
		fr.h.conn.setFault(connectorFault(fr, http.MethodPost, 1, class))
	default:
		fr.h.conn.setFault(connectorFault(fr, http.MethodPut, lastPut, class))
	}
	fr.flow()
	settled := fr.settled()
	card, text := fr.card()
	fr.said(ambiguousClasses[class])
	fr.audited(settled)
	fr.h.noSecrets(t, fr.kept()...)
	switch {
	case settled == "rotated" && card != "rotated":
		t.Errorf("rotated, but the card says %s: %s", card, cardText(text))
	case settled == "unchanged" && card == "rotated":
		t.Errorf("nothing rotated, but the card says it did")
	case card == "pending" || card == "rotating" || card == "unknown" || card == "part-way" || card == "none":
		// "part-way" promises an end that recovery reached: the card must
		// then say which.
		t.Errorf("the card never reached a final state: %s: %s", card, cardText(text))
	}
	return settled + "/" + card
}

// checkMatrixTable renders the rows × classes table and compares it with
// testdata/faultmatrix.md.
func checkMatrixTable(t *testing.T, cells map[string]map[string]string, tally map[string]int) {
	var b strings.Builder
	b.WriteString("| call | " + strings.Join(faultClasses, " | ") + " | passed |\n|---|")
	b.WriteString(strings.Repeat("---|", len(faultClasses)+1) + "\n")
	total, passed := 0, 0
	for _, row := range faultRows {
		n, ok := 0, 0
		b.WriteString("| " + row.name + " |")
		for _, class := range faultClasses {
			c := cells[row.name][class]
			b.WriteString(" " + c + " |")
			if c != "n/a" {
				n++
				if strings.HasPrefix(c, "pass") {
					ok++
				}
			}
		}
		fmt.Fprintf(&b, " %d/%d |\n", ok, n)
		total, passed = total+n, passed+ok
	}
	fmt.Fprintf(&b, "\n%d of %d pairs pass; %d pairs do not apply.\n\nOutcomes (vault and app after recovery / what the card says):\n\n", passed, total, tally["n/a"])
	var keys []string
	for k := range tally {
		if k != "n/a" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "- %s: %d\n", k, tally[k])
	}
	path := filepath.Join("testdata", "faultmatrix.md")
	if *updateMatrix {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != b.String() {
		t.Errorf("%s is out of date (go test ./bot -run TestFaultMatrix -update):\n%s", path, b.String())
	}
}
