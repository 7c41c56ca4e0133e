package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestServeConfig(t *testing.T) {
	base, _ := loadConfig(func(k string) string { return map[string]string{"HOME": "/h"}[k] })
	c, err := loadServeConfig(func(string) string { return "" }, base)
	if err != nil || c.Addr != "127.0.0.1:3978" || c.AppID != "" {
		t.Fatalf("emulator defaults: %+v %v", c, err)
	}
	env := map[string]string{
		"MicrosoftAppId": "11111111-1111-4111-8111-111111111111", "MicrosoftAppType": "UserAssignedMSI",
		"MicrosoftAppTenantId": "22222222-2222-4222-8222-222222222222", "PORT": "8080",
		"KEYTURN_APPS":          "Payments-API=44444444-4444-4444-8444-444444444444@kv-payments",
		"KEYTURN_DEFAULT_VAULT": "kv-shared",
	}
	c, err = loadServeConfig(func(k string) string { return env[k] }, base)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.Tenants[0] != env["MicrosoftAppTenantId"] || c.Apps["payments-api"].VaultURI != "https://kv-payments.vault.azure.net/" || c.DefaultVault != "https://kv-shared.vault.azure.net/" ||
		c.OpenIDURL != "https://login.botframework.com/v1/.well-known/openidconfiguration" || !c.AppPassword.IsZero() {
		t.Fatalf("%+v", c)
	}
	bad := map[string]string{
		"MicrosoftAppId": "bot", "MicrosoftAppType": "Whatever", "KEYTURN_ALLOWED_TENANTS": "contoso",
		"KEYTURN_APPS": "payments", "KEYTURN_DEFAULT_VAULT": "x",
	}
	_, err = loadServeConfig(func(k string) string { return bad[k] }, base)
	for _, want := range []string{"MicrosoftAppId", "MicrosoftAppType", "MicrosoftAppTenantId", "KEYTURN_ALLOWED_TENANTS", "KEYTURN_APPS", "KEYTURN_DEFAULT_VAULT"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s not reported: %v", want, err)
		}
	}
	secretless := map[string]string{"MicrosoftAppId": "11111111-1111-4111-8111-111111111111", "MicrosoftAppType": "SingleTenant", "MicrosoftAppTenantId": "22222222-2222-4222-8222-222222222222"}
	if _, err := loadServeConfig(func(k string) string { return secretless[k] }, base); err == nil || !strings.Contains(err.Error(), "MicrosoftAppPassword") {
		t.Errorf("a SingleTenant bot without a credential was accepted: %v", err)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeEmulatorEndToEnd runs `serve` as main would, in emulator mode
// with the fake tenant, sends a 1:1 "rotate" as the Bot Framework Emulator
// would, and reads the reply the bot posts to the emulator's service URL.
func TestServeEmulatorEndToEnd(t *testing.T) {
	f := newFakeAzure()
	var mu sync.Mutex
	var posts []string
	emu := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		posts = append(posts, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization")+" "+string(b))
		n := len(posts)
		mu.Unlock()
		fmt.Fprintf(w, `{"id":"a%d"}`, n)
	}))
	defer emu.Close()
	env := testEnv(t)
	env["PORT"] = "0"
	env[emulatorOptInVar] = emulatorOptInValue // serve's backend stands for real Azure
	policy := filepath.Join(t.TempDir(), "keyturn.yaml")
	// Megan is an Application Administrator; with no second approver
	// required she rotates directly.
	if err := os.WriteFile(policy, []byte(`vaults: [kv-payments]
default_vault: kv-payments
defaults: {approvals: 0}
roles:
  request: [{group: 00000000-0000-4000-8000-0000000000e1}]
  approve: [{directory_role: Application Administrator}]
apps:
  payments-api: {client_id: `+testClient+`, secret_names: {client_id: payments-api-client-id, client_secret: payments-api-client-secret}}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	env["KEYTURN_POLICY"] = policy
	f.roles.GrantDirectoryRole("7faf8ab2-3d56-4244-b585-20c8a42ed2b8", "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3")
	var stderr lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, io.Discard, &stderr, f.factory)
	}()
	addrRE := regexp.MustCompile(`"msg":"keyturn listening","addr":"([^"]+)"`)
	var addr string
	deadline := time.Now().Add(10 * time.Second)
	for addr == "" && time.Now().Before(deadline) {
		if m := addrRE.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	if addr == "" || !strings.HasPrefix(addr, "127.0.0.1:") {
		cancel()
		t.Fatalf("server did not start on loopback: %s", stderr.String())
	}
	act := map[string]any{
		"type": "message", "id": "m1", "channelId": "emulator", "serviceUrl": emu.URL + "/",
		"text": "rotate payments-api", "from": map[string]any{"id": "u1", "name": "Megan", "aadObjectId": "7faf8ab2-3d56-4244-b585-20c8a42ed2b8"},
		"recipient":    map[string]any{"id": "b1", "name": "Keyturn"},
		"conversation": map[string]any{"id": "c1", "conversationType": "personal"},
	}
	b, _ := json.Marshal(act)
	resp, err := http.Post("http://"+addr+"/api/messages", "application/json", bytes.NewReader(b))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		cancel()
		t.Fatalf("status %d: %s", resp.StatusCode, stderr.String())
	}
	deadline = time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(posts)
		mu.Unlock()
		if n >= 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if code := <-exited; code != exitOK {
		t.Fatalf("serve exited %d: %s", code, stderr.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(posts) < 2 || !strings.Contains(posts[len(posts)-1], "https://kv-payments.vault.azure.net/secrets/payments-api-client-secret/") {
		t.Fatalf("posts: %v\nlogs: %s", posts, stderr.String())
	}
	f.noSecrets(t, env["KEYTURN_STATE_DIR"], strings.Join(posts, "\n"), stderr.String())
	audit := f.run(t, env, "audit", "show")
	if !strings.Contains(audit.stdout, "config.changed") || !strings.Contains(audit.stdout, "policy in force: "+policy+" sha256:") {
		t.Fatalf("the policy in force was not audited: %s %s", audit.stdout, audit.stderr)
	}
}

// TestServeRefusesEmulatorModeOnRealAzure: without MicrosoftAppId, serve
// (whose backend is real Graph and Key Vault) does not start unless the
// operator opted in with the variable whose name says what it allows; a
// near-miss value is no opt-in. Nothing is built: no backend, no listener.
func TestServeRefusesEmulatorModeOnRealAzure(t *testing.T) {
	for _, v := range []string{"", "1", "true", "yes"} {
		f := newFakeAzure()
		built := false
		factory := func(ctx context.Context, cfg config, log *slog.Logger) (backend, error) {
			built = true
			return f.factory(ctx, cfg, log)
		}
		env := testEnv(t)
		env["PORT"] = "0"
		if v != "" {
			env[emulatorOptInVar] = v
		}
		var stderr lockedBuffer
		code := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, io.Discard, &stderr, factory)
		if code != exitUsage || built || !strings.Contains(stderr.String(), emulatorOptInVar+"="+emulatorOptInValue) {
			t.Fatalf("%s=%q: exit %d, backend built %v: %s", emulatorOptInVar, v, code, built, stderr.String())
		}
	}
}
