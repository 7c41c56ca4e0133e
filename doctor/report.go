package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Status is the outcome of one check.
type Status string

// Statuses. Only Pass and Skip let the doctor pass: a warning breaks a
// promise Keyturn makes (least privilege), and a check that could not be
// made proves nothing.
const (
	// Pass: the setup is right here.
	Pass Status = "pass"
	// Warn: Keyturn works, but the setup breaks a promise, such as holding
	// more Graph permissions than it needs.
	Warn Status = "warn"
	// Fail: Keyturn will not work (or not safely) until fixed.
	Fail Status = "fail"
	// Unknown: the check could not be made; the detail says what it needs.
	Unknown Status = "unknown"
	// Skip: the check does not apply to this setup (emulator mode, a
	// local store).
	Skip Status = "skip"
)

// Areas, in the order the report lists them.
const (
	AreaIdentity = "identity"
	AreaGraph    = "graph"
	AreaApps     = "apps"
	AreaVaults   = "vaults"
	AreaBot      = "bot"
	AreaStore    = "store"
	AreaPolicy   = "policy"
)

// Result is one line of the checklist.
type Result struct {
	Area   string `json:"area"`
	Check  string `json:"check"`
	Status Status `json:"status"`
	// Detail says what was found, in words for people.
	Detail string `json:"detail,omitempty"`
	// Fix is the exact remedy (an az command, a policy key) when the
	// status is not Pass or Skip.
	Fix string `json:"fix,omitempty"`
}

// Report is the checklist.
type Report struct {
	Results []Result `json:"checks"`
}

// add appends a result.
func (r *Report) add(area, check string, s Status, detail, fix string) {
	r.Results = append(r.Results, Result{Area: area, Check: check, Status: s, Detail: detail, Fix: fix})
}

// Passed reports whether every check passed or was skipped.
func (r Report) Passed() bool {
	for _, x := range r.Results {
		if x.Status != Pass && x.Status != Skip {
			return false
		}
	}
	return true
}

// Counts returns how many results have each status.
func (r Report) Counts() map[Status]int {
	m := map[Status]int{}
	for _, x := range r.Results {
		m[x.Status]++
	}
	return m
}

// reportJSON is the --json form: the checklist, the verdict and the counts.
type reportJSON struct {
	Passed  bool           `json:"passed"`
	Counts  map[Status]int `json:"counts"`
	Results []Result       `json:"checks"`
}

// WriteJSON writes the report as one JSON document.
func (r Report) WriteJSON(w io.Writer) error {
	results := r.Results
	if results == nil {
		results = []Result{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(reportJSON{Passed: r.Passed(), Counts: r.Counts(), Results: results})
}

// marks are the text form's status labels, all as wide as the widest.
var marks = map[Status]string{Pass: "ok  ", Warn: "WARN", Fail: "FAIL", Unknown: "????", Skip: "skip"}

// WriteText writes the report as a checklist grouped by area, each fix
// under its check, and a summary line.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	area := ""
	for _, x := range r.Results {
		if x.Area != area {
			if area != "" {
				b.WriteString("\n")
			}
			area = x.Area
			b.WriteString(x.Area + "\n")
		}
		fmt.Fprintf(&b, "  [%s] %s", marks[x.Status], x.Check)
		if x.Detail != "" {
			b.WriteString(": " + x.Detail)
		}
		b.WriteString("\n")
		if x.Fix != "" {
			b.WriteString("         fix: " + strings.ReplaceAll(x.Fix, "\n", "\n              ") + "\n")
		}
	}
	c := r.Counts()
	verdict := "all checks passed"
	if !r.Passed() {
		verdict = "NOT READY"
	}
	fmt.Fprintf(&b, "\n%s: %d ok, %d warnings, %d failed, %d not checked, %d skipped\n",
		verdict, c[Pass], c[Warn], c[Fail], c[Unknown], c[Skip])
	_, err := io.WriteString(w, b.String())
	return err
}
