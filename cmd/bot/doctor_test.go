package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/bot/botauthtest"
	"github.com/keyturn/keyturn/doctor"
	"github.com/keyturn/keyturn/rotation"
)

const (
	doctorSP     = "aaaaaaaa-0000-4000-8000-00000000000a"
	doctorAppID  = "aaaaaaaa-0000-4000-8000-0000000000c1"
	doctorTenant = "5e7a3b1c-2d4f-4a6b-8c9d-0e1f2a3b4c5d"
	doctorCanary = "CANARY-doctor-cli-9e8d7c"
)

// goodTenant answers every doctor probe as a tenant set up right for the
// example policy would; missingGroup makes group lookups fail.
type goodTenant struct {
	missingGroup bool
	probes       []string
}

func (g *goodTenant) Claims(context.Context, string) (doctor.Claims, error) {
	return doctor.Claims{TenantID: doctorTenant, ObjectID: doctorSP, AppID: doctorAppID, App: true}, nil
}

func (g *goodTenant) ServicePrincipal(_ context.Context, id string) (doctor.ServicePrincipal, error) {
	return doctor.ServicePrincipal{ObjectID: id, AppID: doctorAppID, DisplayName: "keyturn",
		AppRoles: []doctor.AppRole{{ID: "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f", Value: "Keyturn.Request", Enabled: true}}}, nil
}

func (g *goodTenant) ServicePrincipalByAppID(_ context.Context, appID string) (doctor.ServicePrincipal, error) {
	var roles []doctor.AppRole
	for i, p := range doctor.NeededPermissions([]rotation.RoleSource{{Kind: rotation.SourceGroup}, {Kind: rotation.SourceAppRole}, {Kind: rotation.SourceDirectoryRole}}) {
		roles = append(roles, doctor.AppRole{ID: fmt.Sprintf("role-%d", i), Value: p.Value, Enabled: true})
	}
	return doctor.ServicePrincipal{ObjectID: "graph-sp", AppID: appID, AppRoles: roles}, nil
}

func (g *goodTenant) AssignmentsOf(context.Context, string) ([]doctor.Assignment, error) {
	var out []doctor.Assignment
	for i := range 5 {
		out = append(out, doctor.Assignment{ID: fmt.Sprint(i), ResourceID: "graph-sp", AppRoleID: fmt.Sprintf("role-%d", i)})
	}
	return out, nil
}

func (g *goodTenant) Application(_ context.Context, clientID string) (doctor.Application, error) {
	return doctor.Application{ObjectID: "obj-" + clientID, ClientID: clientID, Owners: []string{doctorSP}}, nil
}

func (g *goodTenant) DefaultPolicy(context.Context) (doctor.ManagementPolicy, error) {
	return doctor.ManagementPolicy{Enabled: true, Restrictions: []doctor.Restriction{{Type: "passwordLifetime", MaxLifetime: 365 * 24 * time.Hour}}}, nil
}

func (g *goodTenant) AppPolicies(context.Context, string) ([]doctor.ManagementPolicy, error) {
	return nil, nil
}

func (g *goodTenant) Group(_ context.Context, id string) (string, error) {
	if g.missingGroup {
		return "", fmt.Errorf("group %s: %w", id, doctor.ErrNotFound)
	}
	return "group " + id, nil
}

func (g *goodTenant) RoleTemplate(_ context.Context, id string) (string, error) {
	return "role " + id, nil
}

func (g *goodTenant) Inspect(context.Context, string) (doctor.VaultInfo, error) {
	return doctor.VaultInfo{Secrets: 1, RecoveryLevel: "Recoverable"}, nil
}

func (g *goodTenant) Probe(_ context.Context, _, name string) (doctor.ProbeResult, error) {
	g.probes = append(g.probes, name)
	return doctor.ProbeResult{Name: name, RecoveryLevel: "Recoverable"}, nil
}

func (g *goodTenant) Settings(_ context.Context, uri string) (doctor.VaultSettings, error) {
	return doctor.VaultSettings{ResourceID: "/vaults/" + uri, RBAC: true, SoftDelete: true, PurgeProtection: true}, nil
}

func (g *goodTenant) RolesOf(context.Context, string, string) ([]string, error) {
	return []string{"b86a8fe4-44ce-4948-aee5-eccb2c155cd7"}, nil
}

func (g *goodTenant) factory(context.Context, doctorSetup, *slog.Logger) doctor.Probes {
	ok := doctor.PingFunc(func(context.Context) error { return nil })
	return doctor.Probes{Tokens: g, Principals: g, Apps: g, Directory: g, Vaults: g, Resources: g, OpenID: ok, Connector: ok, Store: ok}
}

func doctorEnv(t *testing.T) map[string]string {
	return map[string]string{
		"KEYTURN_STATE_DIR":    t.TempDir(),
		"KEYTURN_POLICY":       filepath.Join("..", "..", "docs", "keyturn.example.yaml"),
		"KEYTURN_PRINCIPAL_ID": doctorSP,
		"MicrosoftAppId":       doctorAppID,
		"MicrosoftAppType":     "SingleTenant",
		"MicrosoftAppPassword": doctorCanary,
		"MicrosoftAppTenantId": doctorTenant,
	}
}

func runDoctor(t *testing.T, env map[string]string, newProbes probesFactory, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	c := &cli{getenv: func(k string) string { return env[k] }, stdout: &out, stderr: &errb, newProbes: newProbes}
	code := c.doctor(context.Background(), args)
	for _, s := range []string{out.String(), errb.String()} {
		if strings.Contains(s, doctorCanary) {
			t.Fatalf("the bot's password reached doctor's output:\n%s", s)
		}
	}
	return code, out.String(), errb.String()
}

func TestDoctorPasses(t *testing.T) {
	g := &goodTenant{}
	code, out, stderr := runDoctor(t, doctorEnv(t), g.factory)
	if code != exitOK || !strings.Contains(out, "all checks passed") {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	if len(g.probes) != 0 {
		t.Errorf("the write probe ran without --write-probe: %v", g.probes)
	}
	code, out, _ = runDoctor(t, doctorEnv(t), g.factory, "--json", "--write-probe")
	var rep struct {
		Passed bool            `json:"passed"`
		Checks []doctor.Result `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitOK || !rep.Passed {
		t.Fatalf("--json: exit %d, %v\n%s", code, err, out)
	}
	if len(g.probes) != 2 || !strings.HasPrefix(g.probes[0], "keyturn-doctor-probe-") {
		t.Errorf("--write-probe probed %v, want one probe per allowed vault", g.probes)
	}
}

func TestDoctorFails(t *testing.T) {
	g := &goodTenant{missingGroup: true}
	code, out, _ := runDoctor(t, doctorEnv(t), g.factory)
	if code != exitFailure || !strings.Contains(out, "[FAIL] group 0b6c2a1e-7d3f-4e5a-9b8c-1d2e3f4a5b6c") ||
		!strings.Contains(out, "fix: check the group's object ID") || !strings.Contains(out, "NOT READY") {
		t.Errorf("a missing group: exit %d\n%s", code, out)
	}
	// Without any probe, nothing can be checked: that is not a pass.
	none := func(context.Context, doctorSetup, *slog.Logger) doctor.Probes { return doctor.Probes{} }
	if code, out, _ := runDoctor(t, doctorEnv(t), none); code != exitFailure || !strings.Contains(out, "[????]") {
		t.Errorf("no probes: exit %d\n%s", code, out)
	}
}

func TestDoctorBadInput(t *testing.T) {
	g := &goodTenant{}
	if code, _, _ := runDoctor(t, doctorEnv(t), g.factory, "--nope"); code != exitUsage {
		t.Errorf("unknown flag: exit %d, want %d", code, exitUsage)
	}
	env := doctorEnv(t)
	env["MicrosoftAppId"] = "not-a-guid"
	if code, _, stderr := runDoctor(t, env, g.factory); code != exitUsage || !strings.Contains(stderr, "MicrosoftAppId") {
		t.Errorf("bad MicrosoftAppId: exit %d, %s", code, stderr)
	}
	// A policy that does not parse is a failed check, not a crash.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("apps:\n  x:\n    lifetime: 9y\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env = doctorEnv(t)
	env["KEYTURN_POLICY"] = bad
	if code, out, _ := runDoctor(t, env, g.factory); code != exitFailure || !strings.Contains(out, "[FAIL] policy "+bad+" parses") {
		t.Errorf("bad policy: exit %d\n%s", code, out)
	}
}

func TestDoctorConfigFromThePolicy(t *testing.T) {
	env := doctorEnv(t)
	cfg, scfg := serveConfigs(t, env)
	sc, err := loadStateConfig(envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	dc := doctorConfig(doctorSetup{cfg: cfg, serve: scfg, state: sc})
	day := 24 * time.Hour
	wantApps := []doctor.App{
		{Alias: "hr-portal", ClientID: "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d", Lifetime: 180 * day},
		{Alias: "payments-api", ClientID: "7f8e9d0c-1b2a-4c3d-9e4f-5a6b7c8d9e0f", Lifetime: 90 * day},
	}
	if !reflect.DeepEqual(dc.Apps, wantApps) {
		t.Errorf("apps = %+v, want %+v", dc.Apps, wantApps)
	}
	if want := []string{"https://kv-payments.vault.azure.net/", "https://kv-hr.vault.azure.net/"}; !reflect.DeepEqual(dc.Vaults, want) {
		t.Errorf("vaults = %v", dc.Vaults)
	}
	var roles []string
	for _, r := range dc.Roles {
		roles = append(roles, string(r.Kind)+" "+r.ID)
	}
	want := []string{
		"group 0b6c2a1e-7d3f-4e5a-9b8c-1d2e3f4a5b6c", "appRole 3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f",
		"directoryRole 9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", "directoryRole 158c047a-c907-4556-b7ef-446551a6b5f7",
		"group 6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d", "group 9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
	}
	if !reflect.DeepEqual(roles, want) {
		t.Errorf("roles = %v, want every source once, per-app approvers included: %v", roles, want)
	}
	if dc.PrincipalID != doctorSP || dc.ClientID != doctorAppID || dc.BotAppID != doctorAppID || dc.Store != storeBolt ||
		dc.GraphScope != "https://graph.microsoft.com/.default" || dc.VaultScope != "https://vault.azure.net/.default" ||
		!reflect.DeepEqual(dc.Tenants, []string{doctorTenant}) {
		t.Errorf("config = %+v", dc)
	}
}

func envOf(m map[string]string) env { return func(k string) string { return m[k] } }

func TestTokenClaims(t *testing.T) {
	jwt := func(claims string) string {
		return "e30." + base64.RawURLEncoding.EncodeToString([]byte(claims)) + ".sig"
	}
	app := tokenClaims(jwt(`{"tid":"` + doctorTenant + `","oid":"` + doctorSP + `","appid":"` + doctorAppID + `","idtyp":"app"}`))
	if app != (doctor.Claims{TenantID: doctorTenant, ObjectID: doctorSP, AppID: doctorAppID, App: true}) {
		t.Errorf("application token: %+v", app)
	}
	user := tokenClaims(jwt(`{"tid":"` + doctorTenant + `","oid":"u-1","appid":"04b07795-8ddb-461a-bbee-02f9e1bf7b46","upn":"adele@contoso.example"}`))
	if user.App || user.Name != "adele@contoso.example" || user.ObjectID != "u-1" {
		t.Errorf("user token: %+v", user)
	}
}

func TestStateProbe(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state")
	s := doctorSetup{cfg: config{StateDir: dir}, state: stateConfig{Kind: storeBolt}}
	if err := stateProbe(s, nil).Ping(ctx); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing state directory: %v", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := stateProbe(s, nil).Ping(ctx); err != nil {
		t.Errorf("state directory without a file yet: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "keyturn.db")); !os.IsNotExist(err) {
		t.Errorf("doctor created the state file: %v", err)
	}

	// Azure Tables: the table service answers 404 TableNotFound.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-ms-error-code", "TableNotFound")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"odata.error":{"code":"TableNotFound","message":{"lang":"en-US","value":"The table specified does not exist."}}}`)
	}))
	defer srv.Close()
	conn := "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" +
		base64.StdEncoding.EncodeToString([]byte(doctorCanary)) + ";TableEndpoint=" + srv.URL + "/devstoreaccount1;"
	s.state = stateConfig{Kind: storeTables, Table: "keyturn", ConnString: conn}
	err := stateProbe(s, nil).Ping(ctx)
	if !errors.Is(err, doctor.ErrNotFound) || strings.Contains(err.Error(), doctorCanary) {
		t.Errorf("missing table: %v, want doctor.ErrNotFound", err)
	}
	s.state = stateConfig{Kind: storeTables, TableURL: "https://st.table.core.windows.net"}
	if err := stateProbe(s, nil).Ping(ctx); err == nil {
		t.Error("tables without a credential pinged fine")
	}
}

// TestAzureProbesBotMetadata builds the real probes and pings the Bot
// Framework metadata, served by a local issuer shaped like
// login.botframework.com; nothing else is called.
func TestAzureProbesBotMetadata(t *testing.T) {
	iss, err := botauthtest.NewIssuer()
	if err != nil {
		t.Fatal(err)
	}
	iss.Start()
	defer iss.Close()
	env := doctorEnv(t)
	env["MicrosoftAppType"] = "UserAssignedMSI"
	env["BotOpenIdMetadata"] = iss.MetadataURL()
	cfg, scfg := serveConfigs(t, env)
	log := slog.New(slog.DiscardHandler)
	p := azureProbes(context.Background(), doctorSetup{cfg: cfg, serve: scfg, state: stateConfig{Kind: storeBolt}}, log)
	if p.OpenID == nil || p.Connector == nil || p.Tokens == nil || p.Principals == nil || p.Vaults == nil || p.Resources == nil || p.Store == nil {
		t.Fatalf("probes not all built: %+v", p)
	}
	if err := p.OpenID.Ping(context.Background()); err != nil {
		t.Errorf("metadata reachable: %v", err)
	}
	iss.SetUnavailable(true)
	p = azureProbes(context.Background(), doctorSetup{cfg: cfg, serve: scfg, state: stateConfig{Kind: storeBolt}}, log)
	if err := p.OpenID.Ping(context.Background()); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("metadata down: %v, want the status", err)
	}
	env["MicrosoftAppId"] = ""
	cfg, scfg = serveConfigs(t, env)
	if p := azureProbes(context.Background(), doctorSetup{cfg: cfg, serve: scfg, state: stateConfig{Kind: storeBolt}}, log); p.OpenID != nil || p.Connector != nil {
		t.Error("emulator mode built bot probes")
	}
}

// serveConfigs loads the configuration and serve's configuration from env.
func serveConfigs(t *testing.T, env map[string]string) (config, serveConfig) {
	t.Helper()
	getenv := envOf(env)
	cfg, err := loadConfig(getenv)
	if err != nil {
		t.Fatal(err)
	}
	scfg, err := loadServeConfig(getenv, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, scfg
}
