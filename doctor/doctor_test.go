package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func TestGoodSetupPasses(t *testing.T) {
	cfg, w := goodSetup()
	rep := Run(context.Background(), cfg, w.probes())
	for _, r := range rep.Results {
		if r.Status != Pass {
			t.Errorf("%s / %s: %s %s (fix %q)", r.Area, r.Check, r.Status, r.Detail, r.Fix)
		}
		if r.Fix != "" {
			t.Errorf("%s / %s passed with a fix %q", r.Area, r.Check, r.Fix)
		}
	}
	if !rep.Passed() {
		t.Error("Passed() = false for a good setup")
	}
	areas := map[string]bool{}
	for _, r := range rep.Results {
		areas[r.Area] = true
	}
	for _, a := range []string{AreaIdentity, AreaGraph, AreaApps, AreaVaults, AreaBot, AreaStore, AreaPolicy} {
		if !areas[a] {
			t.Errorf("no check in area %s", a)
		}
	}
	if len(w.probed) != 0 {
		t.Errorf("the write probe ran without WriteProbe: %v", w.probed)
	}
	golden(t, "good.txt", rep)
}

// TestFailures breaks one thing at a time and expects the check that
// names it, its status and its fix; nothing else may fail.
func TestFailures(t *testing.T) {
	forbid := fmt.Errorf("graph 403: needs Policy.Read.All: %w", ErrForbidden)
	tests := []struct {
		name    string
		breakIt func(*Config, *world)
		check   string
		status  Status
		fix     string
	}{
		{"no graph token", func(c *Config, w *world) { w.errs["token "+c.GraphScope] = errors.New("AADSTS700016") },
			"token for Microsoft Graph", Fail, "az login --tenant"},
		{"no vault token", func(c *Config, w *world) { w.errs["token "+c.VaultScope] = errors.New("no managed identity") },
			"token for Key Vault", Fail, "AZURE_CLIENT_ID"},
		{"principal ID of another object", func(c *Config, w *world) { c.PrincipalID = "bbbbbbbb-0000-4000-8000-00000000000b" },
			"Keyturn's service principal", Fail, "az ad sp show --id"},
		{"principal ID of another app", func(c *Config, w *world) {
			w.sps["bbbbbbbb-0000-4000-8000-00000000000b"] = ServicePrincipal{ObjectID: "bbbbbbbb-0000-4000-8000-00000000000b", AppID: "bbbbbbbb-0000-4000-8000-0000000000c2"}
			c.PrincipalID = "bbbbbbbb-0000-4000-8000-00000000000b"
		}, "Keyturn's service principal", Fail, "az ad sp show --id " + keyturnApp + " --query id -o tsv"},
		{"principal unknown for a user token", func(c *Config, w *world) {
			c.PrincipalID, c.ClientID = "", ""
			for s := range w.claims {
				w.claims[s] = Claims{TenantID: tenantID, ObjectID: "u-1", Name: "adele@contoso.example"}
			}
		}, "Keyturn's service principal", Unknown, "KEYTURN_PRINCIPAL_ID"},
		{"missing OwnedBy", func(c *Config, w *world) { w.assignments[keyturnSP] = w.assignments[keyturnSP][1:] },
			"Application.ReadWrite.OwnedBy", Fail,
			`--uri https://graph.microsoft.com/v1.0/servicePrincipals/` + keyturnSP + `/appRoleAssignments --body '{"principalId":"` + keyturnSP +
				`","resourceId":"` + graphSP + `","appRoleId":"18a4783c-866b-4cc7-a460-3d5e5662c884"}'`},
		{"extra ReadWrite.All", func(c *Config, w *world) {
			w.assignments[keyturnSP] = append(w.assignments[keyturnSP], Assignment{ID: "asg-x", ResourceID: graphSP, AppRoleID: graphRoles["Application.ReadWrite.All"]})
		}, "Application.ReadWrite.All", Warn, "az rest --method DELETE --uri https://graph.microsoft.com/v1.0/servicePrincipals/" + keyturnSP + "/appRoleAssignments/asg-x"},
		{"assignments unreadable", func(c *Config, w *world) { w.errs["assignments"] = fmt.Errorf("403: %w", ErrForbidden) },
			"application permissions", Unknown, "Application.Read.All"},
		{"app missing", func(c *Config, w *world) { delete(w.apps, payments) },
			"payments-api (" + payments + ") exists", Fail, "az ad app owner add --id " + payments + " --owner-object-id " + keyturnSP},
		{"app not owned", func(c *Config, w *world) {
			a := w.apps[payments]
			a.Owners = []string{"u-1"}
			w.apps[payments] = a
		}, "owned by Keyturn", Fail, "az ad app owner add --id " + payments + " --owner-object-id " + keyturnSP},
		{"tenant lifetime shorter", func(c *Config, w *world) { w.tenant.Restrictions[0].MaxLifetime = 30 * 24 * time.Hour },
			"secret lifetime 90d", Fail, "set apps.payments-api.lifetime: 30d"},
		{"app policy forbids secrets", func(c *Config, w *world) {
			w.appPolicies[paymentsOb] = []ManagementPolicy{{Name: "no secrets", Enabled: true, Restrictions: []Restriction{{Type: "passwordAddition"}}}}
		}, "secret lifetime 90d", Fail, "/v1.0/applications/" + paymentsOb + "/appManagementPolicies/$ref"},
		{"policies unreadable", func(c *Config, w *world) { w.errs["policies"] = forbid },
			"secret lifetime 90d", Unknown, "Policy.Read.All"},
		{"no vault allowed", func(c *Config, w *world) { c.Vaults = nil }, "allowed vaults", Fail, "vaults:"},
		{"vault unreachable", func(c *Config, w *world) { w.errs["inspect"] = fmt.Errorf("dns: %w", rotation.ErrVaultUnreachable) },
			"kv-payments answers", Fail, "DNS"},
		{"vault forbidden", func(c *Config, w *world) {
			w.errs["inspect"] = fmt.Errorf("403 ForbiddenByRbac: %w", rotation.ErrVaultForbidden)
		},
			"kv-payments secret properties readable", Fail,
			`az role assignment create --role "Key Vault Secrets Officer" --assignee-object-id ` + keyturnSP},
		{"access policies", func(c *Config, w *world) { w.settings[vaultURI] = VaultSettings{SoftDelete: true} },
			"kv-payments uses Azure RBAC", Fail, "az keyvault update --name kv-payments --enable-rbac-authorization true"},
		{"resource unreadable", func(c *Config, w *world) { w.errs["settings"] = fmt.Errorf("403: %w", ErrForbidden) },
			"kv-payments uses Azure RBAC", Unknown, "az keyvault show --name kv-payments --query properties.enableRbacAuthorization"},
		{"no vault role", func(c *Config, w *world) { w.vaultRoles = nil },
			"kv-payments Keyturn holds Key Vault Secrets Officer", Fail,
			`az role assignment create --role "Key Vault Secrets Officer" --assignee-object-id ` + keyturnSP +
				" --assignee-principal-type ServicePrincipal --scope /subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/kv-payments"},
		{"vault administrator instead", func(c *Config, w *world) {
			for k := range w.vaultRoles {
				w.vaultRoles[k] = []string{roleKVAdmin}
			}
		}, "kv-payments Keyturn holds Key Vault Secrets Officer", Warn, "az role assignment create"},
		{"owner on top", func(c *Config, w *world) {
			for k := range w.vaultRoles {
				w.vaultRoles[k] = append(w.vaultRoles[k], "8e3af657-a8ff-443c-a75c-2fe8c4bcb635")
			}
		}, "kv-payments Keyturn holds Owner", Warn, `az role assignment delete --assignee ` + keyturnSP + ` --role "Owner"`},
		{"role assignments unreadable", func(c *Config, w *world) { w.errs["roles"] = fmt.Errorf("403: %w", ErrForbidden) },
			"kv-payments Keyturn holds Key Vault Secrets Officer", Unknown, "az role assignment list --assignee " + keyturnSP},
		{"soft delete off", func(c *Config, w *world) { w.settings[vaultURI] = VaultSettings{RBAC: true} },
			"kv-payments soft delete on", Fail, "--enable-soft-delete true"},
		{"soft delete off by recovery level", func(c *Config, w *world) {
			w.errs["settings"] = fmt.Errorf("not visible: %w", ErrNotFound)
			w.vaults[vaultURI] = VaultInfo{Secrets: 1, RecoveryLevel: "Purgeable"}
		}, "kv-payments soft delete on", Fail, "--enable-soft-delete true"},
		{"metadata unreachable", func(c *Config, w *world) { w.errs["openid"] = errors.New("fetch openid metadata: status 503") },
			"OpenID metadata and signing keys", Fail, "HTTPS_PROXY"},
		{"no connector token", func(c *Config, w *world) { w.errs["connector"] = errors.New("managed identity not found") },
			"connector token for " + keyturnApp, Fail, "az identity show"},
		{"no tenant", func(c *Config, w *world) { c.Tenants = nil }, "tenant allow-list", Fail, "KEYTURN_ALLOWED_TENANTS"},
		{"table missing", func(c *Config, w *world) { w.errs["store"] = fmt.Errorf("ping: %w", ErrNotFound) },
			"state store", Fail, "az storage table create --name keyturn"},
		{"store unreachable", func(c *Config, w *world) { w.errs["store"] = errors.New("dial tcp: refused") },
			"state store", Fail, "KEYTURN_TABLES_URL"},
		{"policy does not parse", func(c *Config, w *world) {
			c.PolicyErr = errors.New(`apps.payments-api.lifetime: "9y" is not a duration`)
		}, "policy keyturn.yaml parses", Fail, "edit the policy file"},
		{"group missing", func(c *Config, w *world) { delete(w.groups, group) },
			"group " + group, Fail, "az ad group show --group " + group},
		{"directory role unknown", func(c *Config, w *world) { delete(w.templates, appAdmin) },
			"directoryRole " + appAdmin, Fail, "directoryRoleTemplates"},
		{"directory roles unreadable", func(c *Config, w *world) {
			w.errs["templates"] = fmt.Errorf("needs RoleManagement.Read.Directory: %w", ErrForbidden)
		},
			"directoryRole " + appAdmin, Unknown, "run doctor with az login"},
		{"app role missing", func(c *Config, w *world) {
			sp := w.sps[keyturnSP]
			sp.AppRoles = nil
			w.sps[keyturnSP] = sp
		}, "appRole " + appRoleReq, Fail, "az ad app show --id " + keyturnApp + " --query appRoles"},
		{"no role", func(c *Config, w *world) {
			c.Roles = nil
			w.assignments[keyturnSP] = w.assignments[keyturnSP][:1]
		}, "roles", Fail, "roles.request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, w := goodSetup()
			tc.breakIt(&cfg, w)
			rep := Run(context.Background(), cfg, w.probes())
			if rep.Passed() {
				t.Fatal("Passed() = true")
			}
			found := false
			for _, r := range rep.Results {
				if strings.Contains(r.Check, tc.check) && r.Status == tc.status {
					found = true
					if !strings.Contains(r.Fix, tc.fix) {
						t.Errorf("%s: fix %q, want it to hold %q", r.Check, r.Fix, tc.fix)
					}
				}
			}
			if !found {
				t.Errorf("no %s check %q in:\n%s", tc.status, tc.check, text(t, rep))
			}
		})
	}
}

func TestFailingReportText(t *testing.T) {
	cfg, w := goodSetup()
	delete(w.groups, group)
	w.errs["policies"] = fmt.Errorf("graph 403 Authorization_RequestDenied: %w", ErrForbidden)
	w.settings[vaultURI] = VaultSettings{RBAC: false, SoftDelete: true}
	w.assignments[keyturnSP] = append(w.assignments[keyturnSP], Assignment{ID: "asg-x", ResourceID: graphSP, AppRoleID: graphRoles["Application.ReadWrite.All"]})
	golden(t, "failing.txt", Run(context.Background(), cfg, w.probes()))
}

func TestSkipsWhatDoesNotApply(t *testing.T) {
	cfg, w := goodSetup()
	cfg.BotAppID, cfg.Tenants, cfg.Apps = "", nil, nil
	rep := Run(context.Background(), cfg, w.probes())
	if !rep.Passed() {
		t.Errorf("emulator mode without apps should pass:\n%s", text(t, rep))
	}
	if c := rep.Counts(); c[Skip] != 2 {
		t.Errorf("skipped %d checks, want 2 (bot, apps):\n%s", c[Skip], text(t, rep))
	}
}

func TestWriteProbe(t *testing.T) {
	cfg, w := goodSetup()
	cfg.WriteProbe = true
	w.errs["settings"] = fmt.Errorf("not visible: %w", ErrNotFound)
	w.vaults[vaultURI] = VaultInfo{} // an empty vault: no recovery level to read
	rep := Run(context.Background(), cfg, w.probes())
	if !reflect.DeepEqual(w.probed, []string{"keyturn-doctor-probe-test"}) {
		t.Errorf("probed %v, want one probe", w.probed)
	}
	var probe, soft *Result
	for i, r := range rep.Results {
		switch r.Check {
		case "kv-payments write probe":
			probe = &rep.Results[i]
		case "kv-payments soft delete on":
			soft = &rep.Results[i]
		}
	}
	if probe == nil || probe.Status != Pass || !strings.Contains(probe.Detail, "keyturn-doctor-probe-test") {
		t.Errorf("write probe result = %+v", probe)
	}
	if soft == nil || soft.Status != Unknown {
		t.Errorf("soft delete with an empty vault and a probe that saw no level = %+v, want unknown", soft)
	}
	noCanary(t, rep)

	w.errs["probe"] = fmt.Errorf("set secret: %w", rotation.ErrVaultForbidden)
	rep = Run(context.Background(), cfg, w.probes())
	for _, r := range rep.Results {
		if r.Check == "kv-payments write probe" && (r.Status != Fail || !strings.Contains(r.Fix, "Key Vault Secrets Officer")) {
			t.Errorf("failed probe = %+v", r)
		}
	}
	noCanary(t, rep)
}

func TestSoftDeleteFromProbe(t *testing.T) {
	cfg, w := goodSetup()
	cfg.WriteProbe = true
	w.errs["settings"] = fmt.Errorf("not visible: %w", ErrNotFound)
	w.vaults[vaultURI] = VaultInfo{}
	// The probe reports the level of the secret it wrote.
	p := w.probes()
	p.Vaults = levelVault{w, "Recoverable"}
	rep := Run(context.Background(), cfg, p)
	for _, r := range rep.Results {
		if r.Check == "kv-payments soft delete on" && (r.Status != Pass || !strings.Contains(r.Detail, "Recoverable")) {
			t.Errorf("soft delete = %+v, want pass from the probe's recovery level", r)
		}
	}
}

// levelVault is the world's vault whose probe reports a recovery level.
type levelVault struct {
	*world
	level string
}

func (v levelVault) Probe(ctx context.Context, uri, name string) (ProbeResult, error) {
	r, err := v.world.Probe(ctx, uri, name)
	r.RecoveryLevel = v.level
	return r, err
}

func TestJSONIsTheSameChecklist(t *testing.T) {
	cfg, w := goodSetup()
	delete(w.groups, group)
	rep := Run(context.Background(), cfg, w.probes())
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Passed bool           `json:"passed"`
		Counts map[Status]int `json:"counts"`
		Checks []Result       `json:"checks"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Passed || !reflect.DeepEqual(got.Checks, rep.Results) || got.Counts[Fail] != 1 {
		t.Errorf("JSON = %s", buf.String())
	}
}

func TestNeededPermissions(t *testing.T) {
	values := func(rs ...rotation.SourceKind) []string {
		var src []rotation.RoleSource
		for _, k := range rs {
			src = append(src, rotation.RoleSource{Kind: k})
		}
		var out []string
		for _, p := range NeededPermissions(src) {
			out = append(out, p.Value)
		}
		return out
	}
	for _, tc := range []struct {
		kinds []rotation.SourceKind
		want  []string
	}{
		{nil, []string{"Application.ReadWrite.OwnedBy"}},
		{[]rotation.SourceKind{rotation.SourceGroup}, []string{"Application.ReadWrite.OwnedBy", "User.Read.All", "GroupMember.Read.All"}},
		{[]rotation.SourceKind{rotation.SourceDirectoryRole}, []string{"Application.ReadWrite.OwnedBy", "User.Read.All", "RoleManagement.Read.Directory"}},
		{[]rotation.SourceKind{rotation.SourceAppRole}, []string{"Application.ReadWrite.OwnedBy", "User.Read.All", "GroupMember.Read.All", "Application.Read.All"}},
	} {
		if got := values(tc.kinds...); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("NeededPermissions(%v) = %v, want %v", tc.kinds, got, tc.want)
		}
	}
}

func text(t *testing.T, rep Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func noCanary(t *testing.T, rep Report) {
	t.Helper()
	var j bytes.Buffer
	if err := rep.WriteJSON(&j); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{text(t, rep), j.String(), fmt.Sprintf("%+v %#v", rep, rep)} {
		if strings.Contains(out, canary) {
			t.Fatalf("the probe's secret value reached the report:\n%s", out)
		}
	}
}

func golden(t *testing.T, name string, rep Report) {
	t.Helper()
	got := text(t, rep)
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./doctor -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test ./doctor -update rewrites it):\n%s", path, got)
	}
}
