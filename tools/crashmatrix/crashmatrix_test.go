package crashmatrix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The demo tenant's names the flow uses (sandbox/demo-tenant.jsonc).
const (
	general   = "19:sandbox-general@thread.tacv2"
	requester = "megan"
	approver  = "adele"
	alias     = "payments-api"
	// secretMarker is sandbox.SecretMarker: every simulated secret value
	// carries it, so finding it anywhere means a secret leaked.
	secretMarker = "~KEYTURN-SANDBOX-SECRET~"
	step         = 30 * time.Second
	// settle bounds how long a restarted Keyturn may take to finish or undo
	// what the crash left: recovering a pending rotation keeps listing the
	// app for up to a minute before it believes no credential was made (a
	// lagging directory replica must not fool it).
	settle = 2 * time.Minute
)

// readyLine is the sandbox's banner line naming the page.
var readyLine = regexp.MustCompile(`open\s+http://127\.0\.0\.1:\d+/`)

// finalTitles are the headings of an approval card's final states.
var finalTitles = []string{"Client secret rotated", "Rotation failed", "Rolled back", "Rejected", "Request expired", "Superseded"}

// pendingTitle heads a card that waits for an approver.
const pendingTitle = "Approval needed"

// title returns a card's heading: the text of its first body element.
func title(card string) string {
	var c struct {
		Body []struct {
			Text string `json:"text"`
		} `json:"body"`
	}
	if json.Unmarshal([]byte(card), &c) != nil || len(c.Body) == 0 {
		return ""
	}
	return c.Body[0].Text
}

// TestCrashMatrix builds keyturn with its crash points, traces one clean
// request → approval → rotation in the sandbox, then for every step of the
// trace kills the binary with SIGKILL just before and just after it,
// restarts it, drives the request to its end as a person would (clicking
// Approve again when the approval was lost, asking again when the request
// was), and checks Keyturn's promises: no live Keyturn credential whose
// secret is in no vault, no vault secret naming a removed credential, the
// card in a final state, no secret value in any output.
//
//	KEYTURN_CRASH_MATRIX=1 go test -run CrashMatrix -v ./tools/crashmatrix/
func TestCrashMatrix(t *testing.T) {
	if os.Getenv("KEYTURN_CRASH_MATRIX") == "" {
		t.Skip("set KEYTURN_CRASH_MATRIX=1 to kill the binary at every step (.ci/run does)")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	bin := filepath.Join(work, "keyturn-crash")
	build := exec.Command("go", "build", "-tags", "keyturn_crash", "-o", bin, "./cmd/bot")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	tenant := fastTenant(t, root, work)

	tracePath := filepath.Join(work, "trace")
	trace := &run{t: t, bin: bin, tenant: tenant, dir: filepath.Join(work, "trace-state"), env: []string{"KEYTURN_CRASH_TRACE=" + tracePath}}
	if !trace.start() {
		t.Fatalf("the clean start died:\n%s", trace.out)
	}
	if err := trace.request(); err != nil {
		t.Fatalf("the clean flow: %v\n%s", err, trace.out)
	}
	trace.approveAndFinish(true)
	if text, _ := trace.cardText(trace.card); !finalText(text) {
		t.Fatalf("the clean flow did not end: %q\n%s", title(text), trace.out)
	}
	trace.stop()
	calls := readTrace(t, tracePath)
	if len(calls) < 10 {
		t.Fatalf("the trace has only %d steps: %v\n%s", len(calls), calls, trace.all.String())
	}
	names := make([]string, len(calls))
	for i, c := range calls {
		names[i] = fmt.Sprintf("%s#%d", c.name, c.n)
	}
	t.Logf("a clean start, request, approval and rotation take %d crash-point steps: %s", len(calls), strings.Join(names, " "))

	cases, unreached := 0, 0
	for _, c := range calls {
		for _, when := range []string{"before", "after"} {
			at := fmt.Sprintf("%s:%s:%d", c.name, when, c.n)
			cases++
			t.Run(strings.NewReplacer(":", "_", ".", "-").Replace(at), func(t *testing.T) {
				r := &run{t: t, bin: bin, tenant: tenant, dir: filepath.Join(work, fmt.Sprintf("case-%d", cases)), env: []string{"KEYTURN_CRASH_AT=" + at}}
				if r.start() && !r.flowUntilCrash() {
					// A step the traced run's background work made (an
					// audit record of a scheduler tick) need not recur.
					unreached++
					t.Skipf("%s was not reached on this run's path", at)
				}
				r.env = nil
				if !r.start() {
					t.Fatalf("the restart died:\n%s", r.out)
				}
				r.finish()
				r.checkInvariants()
				r.stop()
			})
		}
	}
	t.Logf("%d crash cases over %d steps; %d not reached on their run's path", cases, len(calls), unreached)
	if unreached > cases/10 {
		t.Errorf("%d of %d crash points were not reached: the trace no longer describes the flow", unreached, cases)
	}
}

// call is one step of the trace: its name and which occurrence it is.
type call struct {
	name string
	n    int
}

func readTrace(t *testing.T, path string) []call {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	var out []call
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		seen[line]++
		out = append(out, call{line, seen[line]})
	}
	return out
}

// fastTenant writes the demo tenant with new secrets accepted at once, so a
// verification does not wait for the simulated propagation.
func fastTenant(t *testing.T, root, work string) string {
	b, err := os.ReadFile(filepath.Join(root, "sandbox", "demo-tenant.jsonc"))
	if err != nil {
		t.Fatal(err)
	}
	b = regexp.MustCompile(`"propagationSeconds":\s*\d+`).ReplaceAll(b, []byte(`"propagationSeconds": 0`))
	path := filepath.Join(work, "tenant.jsonc")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// run is one life of the sandbox process on a state directory.
type run struct {
	t      *testing.T
	bin    string
	tenant string
	dir    string
	env    []string

	addr    string // the page's listen address, kept across lives
	botAddr string
	proc    *exec.Cmd
	exited  chan struct{}
	out     *syncBuffer
	base    string
	all     strings.Builder // every life's output, for the canary check
	card    string          // the approval card's activity ID
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start starts the process and waits until it serves. It reports false
// when the process died first, which only a crash point may cause.
func (r *run) start() bool {
	r.t.Helper()
	if r.out != nil {
		r.all.WriteString(r.out.String())
	}
	r.out = &syncBuffer{}
	if r.addr == "" {
		// The same addresses in every life, as a person restarting the
		// sandbox has: conversation references name the page's address.
		r.addr, r.botAddr = freeAddr(r.t), freeAddr(r.t)
	}
	addr := r.addr
	cmd := exec.Command(r.bin, "sandbox", "--state-dir", r.dir, "--tenant", r.tenant, "--addr", addr, "--bot-addr", r.botAddr)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + r.dir, "KEYTURN_LOG_LEVEL=info"}, r.env...)
	cmd.Stdout, cmd.Stderr = r.out, r.out
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.proc, r.exited = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(r.exited) }()
	r.t.Cleanup(func() {
		if r.alive() {
			_ = r.proc.Process.Kill()
			<-r.exited
		}
	})
	r.base = "http://" + addr
	deadline := time.Now().Add(step)
	for !readyLine.MatchString(r.out.String()) {
		if !r.alive() {
			if r.crashing() {
				return false
			}
			r.t.Fatalf("the sandbox exited before it was ready:\n%s", r.out)
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("the sandbox was not ready in time:\n%s", r.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// crashing reports whether this life runs with a crash point.
func (r *run) crashing() bool {
	for _, e := range r.env {
		if strings.HasPrefix(e, "KEYTURN_CRASH_AT=") {
			return true
		}
	}
	return false
}

// gone reports whether the process has exited, waiting a little for the
// kernel to report a kill that broke a connection.
func (r *run) gone() bool {
	select {
	case <-r.exited:
		return true
	case <-time.After(2 * time.Second):
		return false
	}
}

func (r *run) alive() bool {
	select {
	case <-r.exited:
		return false
	default:
		return true
	}
}

// stop ends the process with SIGTERM, as an orchestrator would.
func (r *run) stop() {
	if r.alive() {
		_ = r.proc.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.exited:
		case <-time.After(step):
			r.t.Fatal("the sandbox did not stop on SIGTERM")
		}
	}
	r.all.WriteString(r.out.String())
	r.out = nil
}

// errDied means the process was killed during the call.
var errDied = errors.New("the process died")

func (r *run) post(path string, body any) (map[string]any, error) {
	b, _ := json.Marshal(body)
	resp, err := http.Post(r.base+path, "application/json", bytes.NewReader(b))
	if err != nil {
		if r.gone() {
			return nil, errDied
		}
		return nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("POST %s: %s %v", path, resp.Status, out)
	}
	return out, nil
}

// message is one chat message as GET /api/chat shows it.
type message struct {
	ID          string `json:"id"`
	Channel     string `json:"channel"`
	Attachments []struct {
		Content json.RawMessage `json:"content"`
	} `json:"attachments"`
}

func (r *run) chat() ([]message, string, error) {
	resp, err := http.Get(r.base + "/api/chat")
	if err != nil {
		if r.gone() {
			return nil, "", errDied
		}
		return nil, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", err
	}
	var doc struct {
		Messages []message `json:"messages"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, "", err
	}
	return doc.Messages, string(raw), nil
}

// cardText returns the content of the message id's card.
func (r *run) cardText(id string) (string, error) {
	msgs, _, err := r.chat()
	if err != nil {
		return "", err
	}
	for _, m := range msgs {
		if m.ID == id && len(m.Attachments) > 0 {
			return string(m.Attachments[0].Content), nil
		}
	}
	return "", nil
}

// request asks for a rotation and waits for the approval card.
func (r *run) request() error {
	if _, err := r.post("/api/send", map[string]any{"channel": general, "user": requester, "text": "@Keyturn rotate " + alias}); err != nil {
		return err
	}
	return r.waitFor("the approval card", func() (bool, error) {
		msgs, _, err := r.chat()
		if err != nil {
			return false, err
		}
		for i := len(msgs) - 1; i >= 0; i-- {
			m := msgs[i]
			if len(m.Attachments) > 0 && title(string(m.Attachments[0].Content)) == pendingTitle {
				r.card = m.ID
				return true, nil
			}
		}
		return false, nil
	})
}

// approveAndFinish clicks Approve as the approver and waits for a final
// card; must says a failure to reach it fails the test.
func (r *run) approveAndFinish(must bool) error {
	text, err := r.cardText(r.card)
	if err != nil {
		return err
	}
	var card struct {
		Refresh struct {
			Action struct {
				Data json.RawMessage `json:"data"`
			} `json:"action"`
		} `json:"refresh"`
	}
	_ = json.Unmarshal([]byte(text), &card)
	if title(text) == pendingTitle && len(card.Refresh.Action.Data) > 0 {
		if _, err := r.post("/api/invoke", map[string]any{"channel": general, "user": approver, "activityId": r.card,
			"verb": "approve", "data": card.Refresh.Action.Data, "trigger": "manual"}); err != nil {
			return err
		}
	}
	err = r.waitFinal()
	if err != nil && must {
		r.t.Fatalf("%v\n%s", err, r.out)
	}
	return err
}

func (r *run) waitFinal() error {
	return r.waitFor("a final card", func() (bool, error) {
		text, err := r.cardText(r.card)
		return err == nil && finalText(text), err
	})
}

func (r *run) waitFor(what string, cond func() (bool, error)) error {
	return r.waitUpTo(step, what, cond)
}

func (r *run) waitUpTo(d time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(d)
	for {
		ok, err := cond()
		if errors.Is(err, errDied) {
			return err
		}
		if ok {
			return nil
		}
		if !r.alive() {
			return errDied
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// flowUntilCrash runs the flow and reports whether the process was killed.
func (r *run) flowUntilCrash() bool {
	err := r.request()
	if err == nil {
		err = r.approveAndFinish(false)
	}
	if err != nil && !errors.Is(err, errDied) {
		r.t.Fatalf("before the crash: %v\n%s", err, r.out)
	}
	select {
	case <-r.exited:
		return true
	case <-time.After(5 * time.Second):
		return false
	}
}

// finish drives the request to its end after the restart, as people
// would: the card still asks for approval, so the approver clicks again;
// no card was seen before the kill, so the requester asks again. A kill
// right after posting the card usually comes before the harness sees it:
// asking again then posts the card a second time, and the approver clicks
// the first one asking for approval, which may be either.
func (r *run) finish() {
	r.t.Helper()
	if r.card == "" {
		if err := r.request(); err != nil {
			r.t.Fatalf("asking again after the restart: %v\n%s", err, r.out)
		}
	}
	if err := r.waitUpTo(settle, "the card to leave 'rotating'", func() (bool, error) {
		text, err := r.cardText(r.card)
		return err == nil && (title(text) == pendingTitle || finalText(text)), err
	}); err != nil {
		text, _ := r.cardText(r.card)
		r.t.Fatalf("after the restart the card never reached a final state: %v\ncard: %s\n%s", err, text, r.out)
	}
	if text, _ := r.cardText(r.card); !finalText(text) {
		_ = r.approveAndFinish(true)
	}
}

func finalText(card string) bool {
	t := title(card)
	for _, f := range finalTitles {
		if strings.HasPrefix(t, f) {
			return true
		}
	}
	return false
}

// state is GET /api/state, as much of it as the invariants read.
type state struct {
	Vaults []struct {
		Secrets []struct {
			Name     string `json:"name"`
			Versions []struct {
				Tags map[string]string `json:"tags"`
			} `json:"versions"`
		} `json:"secrets"`
	} `json:"vaults"`
	Apps []struct {
		Alias       string `json:"alias"`
		Credentials []struct {
			KeyID       string `json:"keyId"`
			DisplayName string `json:"displayName"`
		} `json:"credentials"`
	} `json:"apps"`
}

// checkInvariants reads the simulated directory and vaults after recovery
// had its chance (the scheduler runs every few seconds in the sandbox).
func (r *run) checkInvariants() {
	r.t.Helper()
	var violations []string
	err := r.waitFor("the invariants", func() (bool, error) {
		resp, err := http.Get(r.base + "/api/state")
		if err != nil {
			return false, err
		}
		defer resp.Body.Close()
		var st state
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			return false, err
		}
		violations = violated(st)
		return len(violations) == 0, nil
	})
	if err != nil {
		r.t.Fatalf("after recovery: %v: %s\n%s", err, strings.Join(violations, "; "), r.out)
	}
	_, chat, _ := r.chat()
	for what, s := range map[string]string{"output": r.all.String() + r.out.String(), "chat": chat} {
		if strings.Contains(s, secretMarker) {
			r.t.Fatalf("a secret value appears in the %s", what)
		}
	}
}

// violated lists what breaks rule 2: every credential Keyturn made is held
// by some version of a vault secret, and every vault secret's latest
// version names a credential that exists.
func violated(st state) []string {
	live := map[string]bool{}
	var made []string
	for _, a := range st.Apps {
		for _, c := range a.Credentials {
			k := strings.ToLower(c.KeyID)
			live[k] = true
			if strings.HasPrefix(c.DisplayName, "keyturn ") {
				made = append(made, k)
			}
		}
	}
	held := map[string]bool{}
	var out []string
	for _, v := range st.Vaults {
		for _, s := range v.Secrets {
			for i, ver := range s.Versions {
				k := strings.ToLower(ver.Tags["keyturn-key-id"])
				if k == "" {
					continue
				}
				held[k] = true
				if i == 0 && !live[k] {
					out = append(out, "vault secret "+s.Name+" names removed credential "+k)
				}
			}
		}
	}
	for _, k := range made {
		if !held[k] {
			out = append(out, "credential "+k+" is live but its secret is in no vault")
		}
	}
	return out
}

// syncBuffer collects a process's output from its copying goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
