// Command imagecheck checks Keyturn's release binary the way the container
// image runs it, on a machine without a container engine. CI runs it through
// tools/image/check.sh on the binary tools/image/build.sh built (the same
// script the Dockerfile runs).
//
// It checks that the binary is static (no PT_INTERP, no dynamic section, so
// it runs on distroless static), then starts `keyturn serve` as it runs in
// Azure Container Apps (infra/main.bicep sets the same variables): Teams
// mode with MicrosoftAppType=UserAssignedMSI, KEYTURN_STORE=azure-tables, a
// read-only policy file, as the non-root user 65532 (when run as root) with
// a state directory it cannot write. Azure is stood in for at its edges: the
// managed identity endpoint Container Apps provides (IDENTITY_ENDPOINT and
// IDENTITY_HEADER) and the Bot Framework OpenID metadata are served here on
// loopback, and the table is Azurite's (the connection string in
// KEYTURN_TEST_AZURITE_TABLES). As a control, the same start with the bbolt
// store must fail: the directory really is read-only to it. It then checks
// that /healthz and /readyz answer, that the fake access token never
// appears in the output, that nothing was written to the state directory,
// and that SIGTERM stops it cleanly, and it prints the binary's size and
// the time from start to ready.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"debug/elf"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// nonroot is distroless's nonroot user and group.
const nonroot = 65532

// The identities the check configures; any GUIDs would do.
const (
	appID     = "4d2c7f1a-0b3e-4c5d-8e6f-7a8b9c0d1e2f"
	tenantID  = "5e7a3b1c-2d4f-4a6b-8c9d-0e1f2a3b4c5d"
	principal = "6f8b4c2d-3e5a-4b7c-9d0e-1f2a3b4c5d6e"
)

func main() {
	bin := flag.String("bin", "", "the binary to check (built by tools/image/build.sh)")
	policy := flag.String("policy", "docs/keyturn.example.yaml", "policy file to pass as KEYTURN_POLICY")
	timeout := flag.Duration("timeout", 60*time.Second, "how long the binary may take to become ready")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "usage: imagecheck -bin PATH [-policy FILE]")
		os.Exit(2)
	}
	tables := os.Getenv("KEYTURN_TEST_AZURITE_TABLES")
	if tables == "" {
		fail("KEYTURN_TEST_AZURITE_TABLES is not set: start Azurite first (tools/azurite/start.sh)")
	}
	if err := run(*bin, *policy, tables, *timeout); err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "imagecheck: FAIL:", msg)
	os.Exit(1)
}

func run(bin, policyFile, tables string, timeout time.Duration) error {
	st, err := os.Stat(bin)
	if err != nil {
		return err
	}
	if err := checkStatic(bin); err != nil {
		return err
	}
	if err := checkTrimmed(bin); err != nil {
		return err
	}
	fmt.Printf("imagecheck: %s is static (no PT_INTERP, no dynamic section) and trimmed, %d bytes (%.1f MiB)\n", bin, st.Size(), float64(st.Size())/(1<<20))

	work, err := os.MkdirTemp("", "keyturn-imagecheck-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	root := os.Geteuid() == 0
	layout, err := prepare(work, bin, policyFile)
	if err != nil {
		return err
	}

	fake, err := startFakeAzure()
	if err != nil {
		return err
	}
	defer fake.Close()

	port, err := freePort()
	if err != nil {
		return err
	}
	env := []string{
		"HOME=" + layout.stateDir,
		"KEYTURN_STATE_DIR=" + layout.stateDir,
		"PORT=" + strconv.Itoa(port),
		// In the container the listener is on every interface; here, on
		// loopback only.
		"KEYTURN_LISTEN_HOST=127.0.0.1",
		"MicrosoftAppId=" + appID,
		"MicrosoftAppType=UserAssignedMSI",
		"MicrosoftAppTenantId=" + tenantID,
		"AZURE_CLIENT_ID=" + appID,
		"KEYTURN_PRINCIPAL_ID=" + principal,
		"KEYTURN_STORE=azure-tables",
		"KEYTURN_TABLES_CONNECTION_STRING=" + tables,
		"KEYTURN_TABLES_TABLE=imagecheck" + randomHex(4),
		"KEYTURN_POLICY=" + layout.policy,
		"KEYTURN_LOG_LEVEL=info",
		"IDENTITY_ENDPOINT=" + fake.URL + "/msi/token",
		"IDENTITY_HEADER=" + fake.header,
		"BotOpenIdMetadata=" + fake.URL + "/openid",
	}
	user := fmt.Sprintf("uid %d", os.Geteuid())
	if root {
		user = fmt.Sprintf("uid %d (distroless nonroot)", nonroot)
	}
	serve := func(ctx context.Context, env []string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, layout.bin, "serve")
		cmd.Env = env
		cmd.Dir = layout.stateDir
		if root {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nonroot, Gid: nonroot, NoSetGroups: true}}
		}
		return cmd
	}

	// The control: with the bbolt store, which writes to the state
	// directory, the same start must fail. Otherwise the directory was
	// writable after all and the check below would prove nothing.
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	control, err := serve(ctx, append(env[:len(env):len(env)], "KEYTURN_STORE=bbolt")).CombinedOutput()
	cancel()
	if err == nil || !bytes.Contains(control, []byte("state store")) {
		return fmt.Errorf("with KEYTURN_STORE=bbolt, serve should fail to open its store in the read-only state directory, got %v:\n%s", err, control)
	}
	if entries, _ := os.ReadDir(layout.stateDir); len(entries) > 0 {
		return fmt.Errorf("the control run wrote %d entries to the read-only state directory", len(entries))
	}
	fmt.Printf("imagecheck: control: as %s, the bbolt store cannot open in the read-only state directory (%v)\n", user, err)

	cmd := serve(context.Background(), env)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	// exited is closed when the process has ended; waitErr is then its
	// result. Both the readiness wait and stop watch it.
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	stop := func() error {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
			return waitErr
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			return errors.New("did not stop within 20 s of SIGTERM")
		}
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	healthy, err := waitFor(base+"/healthz", start, timeout, exited)
	if err != nil {
		_ = stop()
		return fmt.Errorf("/healthz: %w\n--- keyturn output ---\n%s", err, out.String())
	}
	ready, err := waitFor(base+"/readyz", start, timeout, exited)
	if err != nil {
		_ = stop()
		return fmt.Errorf("/readyz: %w\n--- keyturn output ---\n%s", err, out.String())
	}
	fmt.Printf("imagecheck: serve as %s, state directory read-only: /healthz after %v, /readyz after %v\n",
		user, healthy.Round(time.Millisecond), ready.Round(time.Millisecond))

	if err := stop(); err != nil {
		return fmt.Errorf("SIGTERM: %v\n--- keyturn output ---\n%s", err, out.String())
	}
	logs := out.String()
	var problems []string
	if strings.Contains(logs, fake.token) {
		problems = append(problems, "the managed identity's access token appears in the output")
	}
	if !strings.Contains(logs, `"mode":"teams"`) {
		problems = append(problems, `no "mode":"teams" start-up line: not serving as in Azure`)
	}
	if entries, err := os.ReadDir(layout.stateDir); err != nil || len(entries) > 0 {
		problems = append(problems, fmt.Sprintf("the state directory is not empty (%d entries, %v)", len(entries), err))
	}
	if calls := fake.calls(); calls["/msi/token"] == 0 || calls["/openid"] == 0 {
		problems = append(problems, fmt.Sprintf("the fake Azure endpoints were not used: %v", calls))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s\n--- keyturn output ---\n%s", strings.Join(problems, "\n"), logs)
	}
	fmt.Println("imagecheck: ok: stopped cleanly on SIGTERM, nothing written to the state directory, no token in the logs")
	return nil
}

// checkStatic fails if the ELF file at path needs a dynamic loader.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_INTERP:
			return fmt.Errorf("%s names a program interpreter (PT_INTERP): not static", path)
		case elf.PT_DYNAMIC:
			return fmt.Errorf("%s has a dynamic segment (PT_DYNAMIC): not static", path)
		}
	}
	for _, name := range []string{".interp", ".dynamic", ".dynsym"} {
		if f.Section(name) != nil {
			return fmt.Errorf("%s has a %s section: not static", path, name)
		}
	}
	return nil
}

// checkTrimmed fails if the binary at path holds the directory it was
// built in, which -trimpath leaves out.
func checkTrimmed(path string) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if bytes.Contains(b, []byte(wd+"/")) {
		return fmt.Errorf("%s contains the build directory %s: not built with -trimpath", path, wd)
	}
	return nil
}

// layout is where the check puts what the container would have.
type layout struct {
	bin      string // the binary, readable and executable by anyone
	stateDir string // empty and read-only for the binary
	policy   string // read-only, as a Container Apps secret volume mounts it
}

func prepare(work, bin, policyFile string) (layout, error) {
	l := layout{
		bin:      filepath.Join(work, "keyturn"),
		stateDir: filepath.Join(work, "var", "lib", "keyturn"),
		policy:   filepath.Join(work, "etc", "keyturn", "keyturn.yaml"),
	}
	if err := os.Chmod(work, 0o755); err != nil {
		return l, err
	}
	for _, d := range []string{filepath.Dir(l.stateDir), l.stateDir, filepath.Dir(l.policy)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return l, err
		}
	}
	if err := copyFile(bin, l.bin, 0o555); err != nil {
		return l, err
	}
	if err := copyFile(policyFile, l.policy, 0o444); err != nil {
		return l, err
	}
	// Owned by the user running the check (root in CI), mode r-x: the
	// binary, running as someone else (or as the owner without the write
	// bit), cannot create anything in it.
	return l, os.Chmod(l.stateDir, 0o555)
}

func copyFile(from, to string, mode os.FileMode) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		return err
	}
	return os.Chmod(to, mode)
}

// waitFor polls url until it answers 200, the process exits or timeout
// passes, and returns how long after start it first answered 200.
func waitFor(url string, start time.Time, timeout time.Duration, exited <-chan struct{}) (time.Duration, error) {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := start.Add(timeout)
	last := "no answer"
	for {
		select {
		case <-exited:
			return 0, errors.New("keyturn exited before answering")
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(body))
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("not 200 after %v (last: %s)", timeout, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// fakeAzure serves, on loopback, the managed identity endpoint of Azure
// Container Apps (App Service protocol, api-version 2019-08-01) and the Bot
// Framework's OpenID metadata and signing keys.
type fakeAzure struct {
	URL    string
	header string // IDENTITY_HEADER
	token  string // the access token it issues: must never be logged
	srv    *http.Server
	mu     sync.Mutex
	hits   map[string]int
}

func startFakeAzure() (*fakeAzure, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &fakeAzure{URL: "http://" + ln.Addr().String(), header: randomHex(16), hits: map[string]int{}}
	// An unsigned token shaped like Entra ID's: Keyturn reads its tid and
	// oid to say who it is, and must never print it.
	claims, _ := json.Marshal(map[string]string{"tid": tenantID, "oid": principal, "appid": appID, "idtyp": "app", "canary": "imagecheck-" + randomHex(8)})
	f.token = b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + b64(claims) + ".c2ln"
	mux := http.NewServeMux()
	mux.HandleFunc("GET /msi/token", func(w http.ResponseWriter, r *http.Request) {
		f.hit("/msi/token")
		q := r.URL.Query()
		if r.Header.Get("X-IDENTITY-HEADER") != f.header || q.Get("api-version") != "2019-08-01" || q.Get("client_id") != appID {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		writeJSON(w, map[string]string{
			"access_token": f.token,
			"expires_on":   strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10),
			"resource":     q.Get("resource"),
			"token_type":   "Bearer",
			"client_id":    appID,
		})
	})
	mux.HandleFunc("GET /openid", func(w http.ResponseWriter, r *http.Request) {
		f.hit("/openid")
		writeJSON(w, map[string]any{
			"issuer":                                "https://api.botframework.com",
			"jwks_uri":                              f.URL + "/keys",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		f.hit("/keys")
		writeJSON(w, map[string]any{"keys": []map[string]any{{
			"kty": "RSA", "use": "sig", "kid": "imagecheck",
			"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
			"endorsements": []string{"msteams"},
		}}})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		f.hit("unexpected " + r.Method + " " + r.URL.Path)
		http.NotFound(w, r)
	})
	f.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = f.srv.Serve(ln) }()
	return f, nil
}

func (f *fakeAzure) hit(path string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hits[path]++
}

func (f *fakeAzure) calls() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.hits))
	for k, v := range f.hits {
		out[k] = v
	}
	return out
}

func (f *fakeAzure) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = f.srv.Shutdown(ctx)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// lockedBuffer collects the child's output from two pipes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
