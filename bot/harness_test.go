package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyturn/keyturn/bot/botauth"
	"github.com/keyturn/keyturn/bot/botauthtest"
	"github.com/keyturn/keyturn/bot/connector"
	"github.com/keyturn/keyturn/policy"
	"github.com/keyturn/keyturn/radar"
	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/rotation/memory"
	"github.com/keyturn/keyturn/rotation/rotationtest"
	"github.com/keyturn/keyturn/store/boltkv"
	"github.com/keyturn/keyturn/store/kvstore"
)

const (
	payments    = "11111111-1111-4111-8111-111111111111"
	paymentsObj = "22222222-2222-4222-8222-222222222222"
	testVault   = "https://kv-payments.vault.azure.net/"
	fixtureDir  = "activity/testdata"

	// The fixtures' callers carry placeholder object IDs; flows that need a
	// real identity set from.aadObjectId to one of these.
	devOID   = "00000000-0000-4000-8000-0000000000d1" // may request
	adminOID = "00000000-0000-4000-8000-0000000000a1" // may approve
	nobodyID = "00000000-0000-4000-8000-0000000000f1" // no role
	// The Megan Bowen of the personal message fixture may request.
	meganOID = "7faf8ab2-3d56-4244-b585-20c8a42ed2b8"

	groupRequesters = "00000000-0000-4000-8000-0000000000e1"
	// payOwnerOID approves payments-api only, as its per-app approver.
	payOwnerOID      = "00000000-0000-4000-8000-0000000000b1"
	groupPayApprover = "00000000-0000-4000-8000-0000000000e2"
	appAdminRole     = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
)

// posted is one request Keyturn sent to the connector.
type posted struct {
	ID                 string // the activity ID the capture answered with
	Method, Path, Auth string
	Body               map[string]any
	Raw                string
}

// capture is a Bot Framework connector stand-in: every https request the
// connector client makes is routed to it, whatever serviceUrl it names, so
// fixtures keep their published serviceUrl.
type capture struct {
	srv        *httptest.Server
	mu         sync.Mutex
	reqs       []posted
	seq        int
	down       bool
	downStatus int
	// fault, when set, may answer a request in place of the server (a
	// status, a malformed body) or fail it in the transport (a timeout, a
	// reset); it returns nil, nil to let the request through.
	fault func(r *http.Request, body []byte) (*http.Response, error)
	// typing counts typing indicators, kept apart from the posts.
	typing int
	// hold, when set, keeps every post waiting until it is closed; held
	// counts the posts that waited.
	hold chan struct{}
	held int
	// countOnly keeps no post (all returns none), only counts them, and
	// hands each body to inspect if set: for long runs.
	countOnly bool
	inspect   func(body []byte)
}

// posts returns how many posts arrived (typing indicators apart).
func (c *capture) posts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seq
}

// setDown makes the connector answer 503 (true) or work again (false).
func (c *capture) setDown(down bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down, c.downStatus = down, http.StatusServiceUnavailable
}

// setBroken makes the connector answer 502, which is not retried in place
// (true), or work again (false).
func (c *capture) setBroken(broken bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down, c.downStatus = broken, http.StatusBadGateway
}

func newCapture(t testing.TB) *capture {
	c := &capture{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		down, status, hold, countOnly := c.down, c.downStatus, c.hold, c.countOnly
		c.mu.Unlock()
		if hold != nil && r.Method == http.MethodPost {
			c.mu.Lock()
			c.held++
			c.mu.Unlock()
			<-hold
		}
		if down {
			w.WriteHeader(status)
			return
		}
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/members") {
			fmt.Fprintf(w, `[{"id":"29:dev","name":"Dev","aadObjectId":%q},{"id":"29:admin","name":"Admin","aadObjectId":%q},{"id":"29:nobody","aadObjectId":%q}]`, devOID, adminOID, nobodyID)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		if countOnly && !bytes.Contains(b, []byte(`"typing"`)) {
			body = map[string]any{}
		} else {
			_ = json.Unmarshal(b, &body)
		}
		if body["type"] == "typing" {
			c.mu.Lock()
			c.typing++
			c.mu.Unlock()
			_, _ = w.Write([]byte(`{}`))
			return
		}
		c.mu.Lock()
		c.seq++
		id := fmt.Sprintf("act-%d", c.seq)
		if !countOnly {
			c.reqs = append(c.reqs, posted{ID: id, Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Body: body, Raw: string(b)})
		}
		inspect := c.inspect
		c.mu.Unlock()
		if inspect != nil {
			inspect(b)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q}`, id)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *capture) all() []posted {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]posted(nil), c.reqs...)
}

// setFault installs fault (see capture.fault).
func (c *capture) setFault(fault func(r *http.Request, body []byte) (*http.Response, error)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fault = fault
}

// RoundTripClean sends r to the capture server, past any fault.
func (c *capture) RoundTripClean(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host = "http", strings.TrimPrefix(c.srv.URL, "http://")
	return http.DefaultTransport.RoundTrip(r)
}

// RoundTrip sends every request to the capture server, through the fault
// when one is set.
func (c *capture) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	fault := c.fault
	c.mu.Unlock()
	if fault != nil {
		var body []byte
		if r.Body != nil {
			body, _ = io.ReadAll(r.Body)
			r.Body.Close()
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if resp, err := fault(r, body); resp != nil || err != nil {
			return resp, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	return c.RoundTripClean(r)
}

// waitFor polls cond (the pool works on its own goroutines) for up to 5 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncBuffer is a log sink safe for the pool's goroutines.
type syncBuffer struct {
	mu   sync.Mutex
	b    bytes.Buffer
	cond *sync.Cond // signalled on every write, once someone awaits
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cond != nil {
		s.cond.Broadcast()
	}
	return s.b.Write(p)
}

// await blocks until ok holds for the logs written so far, woken by each
// write rather than by polling; it fails t after 10 s.
func (s *syncBuffer) await(t testing.TB, what string, ok func(logs string) bool) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cond == nil {
		s.cond = sync.NewCond(&s.mu)
	}
	late := false
	timer := time.AfterFunc(10*time.Second, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		late = true
		s.cond.Broadcast()
	})
	defer timer.Stop()
	for !ok(s.b.String()) {
		if late {
			t.Fatalf("timed out waiting for %s", what)
		}
		s.cond.Wait()
	}
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness is a Keyturn bot on loopback with a real rotation.Rotator on the
// in-memory fakes, tokens from a local issuer and a capturing connector.
type harness struct {
	t      testing.TB
	iss    *botauthtest.Issuer
	conn   *capture
	srv    *Server
	base   string
	stop   context.CancelFunc
	done   chan error
	audit  *memory.AuditLog
	dir    *memory.Directory
	vault  *memory.Vault
	roles  *memory.Roles
	state  *kvstore.Store
	logs   *syncBuffer
	client *http.Client
	gate   *gatedVerifier
	clock  *rotationtest.Clock
	// replyTo, when set, is the replyToId of the card clicks invoke sends:
	// the ID of the activity that shows the card.
	replyTo string
}

// gatedVerifier holds verification at a gate, to keep a rotation running.
type gatedVerifier struct {
	rotation.Verifier
	gate chan struct{}
}

func (g *gatedVerifier) Verify(ctx context.Context, id string, s rotation.Secret) error {
	if g.gate != nil {
		select {
		case <-g.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return g.Verifier.Verify(ctx, id, s)
}

// rotations counts the rotations that started (from the audit trail).
func (h *harness) rotations() int {
	n := 0
	for _, e := range h.audit.Events() {
		if e.Type == rotation.EventStarted {
			n++
		}
	}
	return n
}

// teeAuditor records events in memory (for assertions) and in the
// hash-chained trail (for the audit channel).
type teeAuditor struct {
	mem   *memory.AuditLog
	chain rotation.Auditor
}

func (a teeAuditor) Record(ctx context.Context, e rotation.Event) error {
	if e.Ref == "" {
		e.Ref = rotation.RefFrom(ctx) // as the store does
	}
	if err := a.chain.Record(ctx, e); err != nil {
		return err
	}
	return a.mem.Record(ctx, e)
}

type harnessOpts struct {
	radar     bool // the expiry radar on, over the harness directory and vault
	emulator  bool
	tenants   []string
	queue     int
	gate      chan struct{}
	direct    bool // a 0-approval policy: approvers rotate without a second person
	rolesDown bool // role lookups fail
	// emulatorAs, in emulator mode, maps Bot Framework Emulator senders
	// to this object ID in tenant "sandbox-tenant" (as the sandbox does).
	emulatorAs string
	// from restarts a bot: the new one shares from's store, tenant, vault,
	// connector and token issuer, and nothing held in memory.
	from *harness
	// faults routes the rotator's vault and journal calls through it
	// (crashes).
	faults *rotationtest.Faults
	// single tells the bot no other process shares its store (bbolt).
	single bool
	// noServe builds the server without serving it: the test drives its
	// scheduler's ticks alone.
	noServe bool
	// dedup wraps the store's de-duplication (nil: the store itself).
	dedup   func(Deduper) Deduper
	workers int
	limits  Limits
	// logTo, when set, receives the logs instead of the harness's buffer
	// (which keeps every line): for long runs.
	logTo io.Writer
	// matrix, when set, stands between the Rotator and every Azure call
	// and the journal, and between the approvals and their store; the
	// connector waits on the fake clock, and the scheduler's lease is
	// held so that its rounds run only when the test runs them.
	matrix *rotationtest.Faults
	// iss, when set, signs the tokens (one issuer for many harnesses:
	// its RSA keys take most of a harness's start-up).
	iss *botauthtest.Issuer
}

func newHarness(t testing.TB, o harnessOpts) *harness {
	t.Helper()
	h := &harness{t: t, logs: &syncBuffer{}}
	var logTo io.Writer = h.logs
	if o.logTo != nil {
		logTo = o.logTo
	}
	log := slog.New(slog.NewJSONHandler(logTo, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rp := rotation.DefaultPolicy()
	rp.AllowedVaults = []string{testVault}
	if f := o.from; f != nil {
		h.conn, h.clock, h.dir, h.vault, h.state, h.audit, h.iss = f.conn, f.clock, f.dir, f.vault, f.state, f.audit, f.iss
	} else {
		h.conn = newCapture(t)
		h.clock = rotationtest.NewClock(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
		h.dir, h.vault = memory.NewDirectory(h.clock), memory.NewVault()
		h.dir.Propagation = 0
		h.dir.AddApp(rotation.App{ObjectID: paymentsObj, ClientID: payments, DisplayName: "Payments API"}, true)
		kvb, err := boltkv.Open(filepath.Join(t.TempDir(), "state.db"), boltkv.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { kvb.Close() })
		h.state = kvstore.New(kvb, h.clock.Now)
		h.audit = &memory.AuditLog{}
	}
	clock := h.clock
	audit := teeAuditor{h.audit, h.state}
	h.gate = &gatedVerifier{Verifier: h.dir.Verifier(), gate: o.gate}
	var vault rotation.Vault = h.vault
	var journal rotation.Store = h.state
	if o.faults != nil {
		vault, journal = o.faults.Vault(vault), o.faults.Store(journal)
	}
	rot := &rotation.Rotator{Apps: h.dir, Vault: vault, Verifier: h.gate, Store: journal,
		Audit: audit, Clock: clock, Policy: rp, Log: log, PrincipalID: memory.KeyturnPrincipalID}
	h.roles = memory.NewRoles()
	h.roles.AddMember(groupRequesters, devOID)
	h.roles.AddMember(groupRequesters, meganOID)
	h.roles.GrantDirectoryRole(adminOID, appAdminRole)
	if o.rolesDown {
		h.roles.Fail(fmt.Errorf("graph unavailable"))
	}
	pol := policy.Builtin()
	pol.Roles = policy.Roles{
		Request: []rotation.RoleSource{{Kind: rotation.SourceGroup, ID: groupRequesters, Name: "requesters"}},
		Approve: []rotation.RoleSource{{Kind: rotation.SourceDirectoryRole, ID: appAdminRole, Name: "Application Administrator"}},
	}
	if o.direct {
		pol.DefaultRule.Required = 0
	}
	pol.Rules[payments] = rotation.AppRule{Required: pol.DefaultRule.Required,
		Approvers: []rotation.RoleSource{{Kind: rotation.SourceGroup, ID: groupPayApprover, Name: "payments-owners"}}}
	h.roles.AddMember(groupPayApprover, payOwnerOID)
	authz := &policy.Authorizer{Policy: &pol, Dir: h.roles, Audit: audit, Clock: clock}
	var connSleep func(context.Context, time.Duration) error
	var approvalStore rotation.ApprovalStore = h.state
	if f := o.matrix; f != nil {
		rot.Apps, rot.Vault, rot.Verifier, rot.Store = f.Apps(rot.Apps), f.Vault(rot.Vault), f.Verifier(rot.Verifier), f.Store(rot.Store)
		approvalStore = f.Approvals(approvalStore)
		connSleep = clock.Sleep
		if _, err := h.state.Acquire(context.Background(), "scheduler", "fault-matrix", 24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	approvals := &rotation.Approvals{Store: approvalStore, Authz: authz, Rotator: rot, Audit: audit, Clock: clock, Rule: pol.Rule}

	var dedup Deduper = h.state
	if o.dedup != nil {
		dedup = o.dedup(h.state)
	}
	urls := &ServiceURLs{Store: h.state}
	sender, err := connector.New(connector.Config{
		HTTP: &http.Client{Transport: h.conn},
		Tokens: connector.NewCachingTokenSource(func(context.Context) (string, time.Time, error) {
			return "connector-token", time.Now().Add(time.Hour), nil
		}, nil),
		AllowedServiceURL: func(u string) bool {
			return urls.Allowed(u)
		},
		Logger: log,
		Sleep:  connSleep,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		ServiceURLs: urls, Sender: sender, Rotations: rot, Audit: audit, Dedup: dedup,
		Approvals: approvals, Authz: authz, Members: sender, State: h.state, Schedule: time.Hour,
		Catalog: &StaticCatalog{Apps: map[string]Target{"payments-api": {ClientID: payments}}, DefaultVault: testVault,
			VaultURI: func(v string) (string, error) {
				return "https://" + strings.TrimSuffix(strings.TrimPrefix(v, "https://"), "/") + "/", nil
			}},
		Log: log, Queue: o.queue, Workers: o.workers, Limits: o.limits, Now: clock.Now,
		Tenants: o.tenants, SingleProcess: o.single,
	}
	if o.single {
		cfg.Holder = "single-process" // as cmd/bot names the one process on a bbolt file
	}
	if o.radar {
		cfg.Radar = &Radar{Scanner: &radar.Scanner{Apps: ownedFake{h.dir}, Vault: vaultLister{}, Journal: h.state, Vaults: []string{testVault}}, Marks: h.state}
	}
	if o.emulatorAs != "" {
		cfg.Emulator = func(fromID, _ string) (Caller, bool) {
			return Caller{ObjectID: o.emulatorAs, TenantID: "sandbox-tenant", Name: "Megan Bowen"}, true
		}
	}
	if !o.emulator {
		if h.iss == nil {
			h.iss = o.iss
		}
		if h.iss == nil {
			h.iss = botauthtest.New(t)
		}
		ks, err := botauth.NewKeySource(h.iss.KeySourceConfig())
		if err != nil {
			t.Fatal(err)
		}
		v, err := botauth.NewValidator(botauth.Config{AppID: botauthtest.DefaultAppID, Keys: ks})
		if err != nil {
			t.Fatal(err)
		}
		cfg.AppID, cfg.Auth = botauthtest.DefaultAppID, v
		if cfg.Tenants == nil {
			cfg.Tenants = []string{"<tenant-id>", "72f988bf-86f1-41af-91ab-2d7cd011db47", "b28fdbfd-2b78-4f93-b0f8-8881793f0f8f", "<TENANT ID>"}
		}
	}
	h.srv, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rot.Progress = h.srv.OnProgress
	if o.noServe {
		return h
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.base = "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	h.stop, h.done = cancel, make(chan error, 1)
	go func() { h.done <- h.srv.Serve(ctx, ln) }()
	h.client = &http.Client{Timeout: 10 * time.Second}
	t.Cleanup(func() { h.shutdown() })
	return h
}

// shutdown stops the server and waits for Serve to return.
func (h *harness) shutdown() error {
	if h.stop == nil {
		return nil
	}
	h.stop()
	h.stop = nil
	h.client.CloseIdleConnections()
	select {
	case err := <-h.done:
		return err
	case <-time.After(10 * time.Second):
		h.t.Fatal("Serve did not return after shutdown")
		return nil
	}
}

// send posts body to /api/messages with auth as the Authorization header
// and returns the status and response body.
func (h *harness) send(body []byte, auth string) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.base+"/api/messages", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// as returns body with from.aadObjectId set to oid.
func as(t testing.TB, body []byte, oid string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	from, _ := m["from"].(map[string]any)
	from["aadObjectId"] = oid
	b, _ := json.Marshal(m)
	return b
}

// sendSigned posts body with a valid token for its serviceUrl.
func (h *harness) sendSigned(body []byte) (int, string) {
	h.t.Helper()
	var a struct {
		ServiceURL string `json:"serviceUrl"`
	}
	_ = json.Unmarshal(body, &a)
	return h.send(body, "Bearer "+h.iss.Token(botauthtest.TokenOptions{ServiceURL: a.ServiceURL}))
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	p := filepath.Join(fixtureDir, name)
	if strings.HasPrefix(name, "activity/") {
		p = filepath.Join(strings.TrimPrefix(name, "activity/"))
		p = filepath.Join("activity", "testdata", p)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withField returns body with top-level field k set to v.
func withField(t testing.TB, body []byte, k string, v any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	m[k] = v
	b, _ := json.Marshal(m)
	return b
}

// botGoroutines lists goroutines running the server's code: its pool, its
// HTTP server and connections.
func botGoroutines() []string {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	var out []string
	for _, g := range strings.Split(string(buf[:n]), "\n\n") {
		for _, marker := range []string{"keyturn/keyturn/bot.(*pool)", "keyturn/keyturn/bot.(*Server).Serve", "net/http.(*conn).serve", "net/http.(*Server).Serve"} {
			if strings.Contains(g, marker) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}
