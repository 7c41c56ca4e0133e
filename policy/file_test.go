package policy

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/keyturn/keyturn/azure/azcloud"
	"github.com/keyturn/keyturn/rotation"
)

const (
	day        = 24 * time.Hour
	idPayments = "7f8e9d0c-1b2a-4c3d-9e4f-5a6b7c8d9e0f"
	idHR       = "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d"
	idGroup    = "0b6c2a1e-7d3f-4e5a-9b8c-1d2e3f4a5b6c"
	idAppAdmin = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
)

func publicCloud(t *testing.T) azcloud.Cloud {
	t.Helper()
	c, err := azcloud.Lookup("")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// loadPolicyText writes text to a file and loads it with the built-in policy
// as base.
func loadPolicyText(t *testing.T, text string) (Policy, error) {
	t.Helper()
	return loadPolicyTextBase(t, text, rotation.DefaultPolicy())
}

func loadPolicyTextBase(t *testing.T, text string, base rotation.Policy) (Policy, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keyturn.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return loadPolicyFile(path, publicCloud(t), base)
}

func loadPolicyFile(path string, cloud azcloud.Cloud, base rotation.Policy) (Policy, error) {
	return Load(path, Options{VaultURI: cloud.VaultURI, Base: base})
}

// problemLines returns the problems of a loadPolicyFile error, one a line,
// without the heading.
func problemLines(err error) []string {
	lines := strings.Split(err.Error(), "\n")
	return lines[1:]
}

// minimal is a valid file the table tests below break one key at a time.
const minimal = `
vaults: [kv-payments]
default_vault: kv-payments
roles:
  request: [{group: ` + idGroup + `}]
  approve: [{directory_role: Application Administrator}]
apps:
  payments-api:
    client_id: ` + idPayments + `
`

func TestPolicyExampleFileLoads(t *testing.T) {
	base := rotation.DefaultPolicy()
	base.OwnClientID = "11111111-1111-4111-8111-111111111111"
	pc, err := loadPolicyFile(filepath.Join("..", "docs", "keyturn.example.yaml"), publicCloud(t), base)
	if err != nil {
		t.Fatalf("the example policy must load cleanly:\n%v", err)
	}
	wantVaults := []string{"https://kv-payments.vault.azure.net/", "https://kv-hr.vault.azure.net/"}
	if !slices.Equal(pc.Rotation.AllowedVaults, wantVaults) || pc.DefaultVault != wantVaults[0] {
		t.Errorf("vaults %v default %q", pc.Rotation.AllowedVaults, pc.DefaultVault)
	}
	if pc.Rotation.OwnClientID != base.OwnClientID {
		t.Errorf("own client ID %q: the caller's must stay", pc.Rotation.OwnClientID)
	}
	if !slices.Equal(pc.Tenants, []string{"5e7a3b1c-2d4f-4a6b-8c9d-0e1f2a3b4c5d"}) || pc.RequestTTL != 30*time.Minute {
		t.Errorf("tenants %v ttl %s", pc.Tenants, pc.RequestTTL)
	}
	if !slices.Equal(pc.Rotation.SecretNamePrefixes, []string{"payments-", "hr-"}) {
		t.Errorf("prefixes %v", pc.Rotation.SecretNamePrefixes)
	}
	wantApps := map[string]App{
		"payments-api": {Alias: "payments-api", ClientID: idPayments, VaultURI: wantVaults[0],
			ClientIDName: "payments-api-client-id", SecretName: "payments-api-client-secret", Lifetime: 90 * day, Overlap: 3 * day,
			AutoRequestBefore: 14 * day},
		"hr-portal": {Alias: "hr-portal", ClientID: idHR, VaultURI: wantVaults[1],
			ClientIDName: "hr-portal-client-id", SecretName: "hr-portal-client-secret"},
	}
	if !reflect.DeepEqual(pc.Apps, wantApps) {
		t.Errorf("apps\n got %+v\nwant %+v", pc.Apps, wantApps)
	}
	if want := (Radar{WarnBefore: 30 * day, Thresholds: []time.Duration{30 * day, 7 * day, day}, ScanEvery: 24 * time.Hour}); !reflect.DeepEqual(pc.Radar, want) {
		t.Errorf("radar %+v, want %+v", pc.Radar, want)
	}
	wantApprove := []rotation.RoleSource{
		{Kind: rotation.SourceDirectoryRole, ID: idAppAdmin, Name: "Application Administrator"},
		{Kind: rotation.SourceDirectoryRole, ID: "158c047a-c907-4556-b7ef-446551a6b5f7", Name: "Cloud Application Administrator"},
		{Kind: rotation.SourceGroup, ID: "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d", Name: "sg-keyturn-approvers"},
	}
	if !reflect.DeepEqual(pc.Roles.Approve, wantApprove) || len(pc.Roles.Request) != 2 || pc.Roles.Request[1].Kind != rotation.SourceAppRole {
		t.Errorf("roles %+v", pc.Roles)
	}
	pay := pc.Rule(strings.ToUpper(idPayments))
	if pay.Required != 2 || len(pay.Approvers) != 1 || pay.Approvers[0].Name != "sg-payments-owners" {
		t.Errorf("payments rule %+v", pay)
	}
	if hr := pc.Rule(idHR); hr.Required != 1 || len(hr.Approvers) != 0 {
		t.Errorf("hr rule %+v", hr)
	}
}

func TestPolicyDefaultsApplied(t *testing.T) {
	base := rotation.DefaultPolicy()
	base.AllowedVaults = []string{"https://kv-payments.vault.azure.net/", "https://kv-env.vault.azure.net/"}
	pc, err := loadPolicyTextBase(t, strings.Replace(minimal, "vaults: [kv-payments]\n", "", 1), base)
	if err != nil {
		t.Fatal(err)
	}
	def := rotation.DefaultPolicy()
	p := pc.Rotation
	if p.DefaultLifetime != def.DefaultLifetime || p.MinLifetime != def.MinLifetime || p.MaxLifetime != def.MaxLifetime ||
		p.Overlap != def.Overlap || p.VerifyAttempts != def.VerifyAttempts || len(p.SecretNamePrefixes) != 0 {
		t.Errorf("policy %+v, want the built-in values", p)
	}
	if !slices.Equal(p.AllowedVaults, base.AllowedVaults) {
		t.Errorf("without vaults in the file, base's stay: %v", p.AllowedVaults)
	}
	if pc.DefaultRule.Required != 1 || pc.Rule(idPayments).Required != 1 || pc.Rule(idHR).Required != 1 {
		t.Errorf("approvals default to 1: %+v %+v", pc.DefaultRule, pc.Rules)
	}
	if pc.RequestTTL != 30*time.Minute || pc.Tenants != nil || pc.Apps["payments-api"].Lifetime != 0 || pc.Apps["payments-api"].Overlap != 0 {
		t.Errorf("ttl %s tenants %v apps %v", pc.RequestTTL, pc.Tenants, pc.Apps)
	}

	// Vaults in the file replace base's; defaults in the file replace built-ins.
	pc, err = loadPolicyTextBase(t, minimal+`
defaults: {lifetime: 2w, min_lifetime: 36h, max_lifetime: 30d, overlap: 0, approvals: 0, request_ttl: 2h, secret_names: {prefixes: [payments-]}}
tenants: [AAAAAAAA-1111-4111-8111-111111111111, aaaaaaaa-1111-4111-8111-111111111111]
`, base)
	if err != nil {
		t.Fatal(err)
	}
	p = pc.Rotation
	if !slices.Equal(p.AllowedVaults, []string{"https://kv-payments.vault.azure.net/"}) {
		t.Errorf("vaults %v", p.AllowedVaults)
	}
	if p.DefaultLifetime != 14*day || p.MinLifetime != 36*time.Hour || p.MaxLifetime != 30*day || p.Overlap != 0 ||
		pc.DefaultRule.Required != 0 || pc.RequestTTL != 2*time.Hour || !slices.Equal(p.SecretNamePrefixes, []string{"payments-"}) {
		t.Errorf("policy %+v rule %+v ttl %s", p, pc.DefaultRule, pc.RequestTTL)
	}
	if !slices.Equal(pc.Tenants, []string{"aaaaaaaa-1111-4111-8111-111111111111"}) {
		t.Errorf("tenants are lower-cased and deduplicated: %v", pc.Tenants)
	}
}

func TestPolicyBuiltin(t *testing.T) {
	pc := Builtin()
	if err := pc.Rotation.Validate(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pc.Rotation, rotation.DefaultPolicy()) || len(pc.Rotation.AllowedVaults) != 0 {
		t.Errorf("policy %+v, want rotation.DefaultPolicy with no vault", pc.Rotation)
	}
	if pc.Rule(idPayments).Required != 1 || len(pc.Apps) != 0 || pc.RequestTTL != 30*time.Minute || pc.DefaultVault != "" {
		t.Errorf("%+v", pc)
	}
}

func TestPolicySecretNameConventions(t *testing.T) {
	pc, err := loadPolicyText(t, minimal+`
  hr_portal.v2:
    client_id: `+idHR+`
    vault: https://KV-PAYMENTS.vault.azure.net
    secret_names: {client_secret: hr-secret}
`)
	if err != nil {
		t.Fatal(err)
	}
	if got := pc.Apps["payments-api"]; got.ClientIDName != "payments-api-client-id" || got.SecretName != "payments-api-client-secret" {
		t.Errorf("payments-api: %+v", got)
	}
	got := pc.Apps["hr_portal.v2"]
	if got.ClientIDName != "hr-portal-v2-client-id" || got.SecretName != "hr-secret" || got.VaultURI != "https://kv-payments.vault.azure.net/" {
		t.Errorf("hr_portal.v2: %+v", got)
	}
}

func TestPolicyDirectoryRoleNames(t *testing.T) {
	tests := []struct {
		in, id, name, wantErr string
	}{
		{in: "Application Administrator", id: idAppAdmin, name: "Application Administrator"},
		{in: "  application   ADMINISTRATOR ", id: idAppAdmin, name: "Application Administrator"},
		{in: "Global Administrator", id: "62e90394-69f5-4237-9190-012177145e10", name: "Global Administrator"},
		{in: "Cloud Application Administrator", id: "158c047a-c907-4556-b7ef-446551a6b5f7", name: "Cloud Application Administrator"},
		{in: "Security Administrator", id: "194ae4cb-b126-40b2-bd5b-6091b380977d", name: "Security Administrator"},
		{in: "Privileged Role Administrator", id: "e8611ab8-c189-46e8-94e1-60213ab1f814", name: "Privileged Role Administrator"},
		{in: "Application Developer", id: "cf1c38e5-3621-4004-a7cb-879624dced7c", name: "Application Developer"},
		{in: "Security Operator", id: "5f2222b1-57c3-48ba-8ad5-d4759f1fde6f", name: "Security Operator"},
		{in: "Helpdesk Administrator", id: "729827e3-9c14-49f7-bb1b-9608f156bbb8", name: "Helpdesk Administrator"},
		{in: strings.ToUpper(idAppAdmin), id: idAppAdmin, name: "Application Administrator"},
		{in: "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", id: "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"}, // a custom role
		{in: "Keyturn Approver", wantErr: `roles.approve[0].directory_role: "Keyturn Approver" is not a built-in role Keyturn knows by name; give its template ID (GUID) instead, as for custom roles`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			text := strings.Replace(minimal, "Application Administrator", "'"+tt.in+"'", 1)
			pc, err := loadPolicyText(t, text)
			if tt.wantErr != "" {
				if err == nil || !slices.Contains(problemLines(err), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := []rotation.RoleSource{{Kind: rotation.SourceDirectoryRole, ID: tt.id, Name: tt.name}}
			if !reflect.DeepEqual(pc.Roles.Approve, want) {
				t.Errorf("got %+v, want %+v", pc.Roles.Approve, want)
			}
		})
	}
	// A name given in the file wins over the table's.
	pc, err := loadPolicyText(t, strings.Replace(minimal, "{directory_role: Application Administrator}", "{directory_role: "+idAppAdmin+", name: App admins}", 1))
	if err != nil || pc.Roles.Approve[0].Name != "App admins" {
		t.Errorf("name %+v, err %v", pc.Roles, err)
	}
}

func TestPolicyBuiltinRoleTable(t *testing.T) {
	names, ids := map[string]bool{}, map[string]bool{}
	for _, r := range builtinRoles() {
		if names[strings.ToLower(r[0])] || ids[r[1]] {
			t.Errorf("%v is listed twice", r)
		}
		names[strings.ToLower(r[0])], ids[r[1]] = true, true
		if !rotation.IsGUID(r[1]) || r[1] != strings.ToLower(r[1]) {
			t.Errorf("%s: template ID %q is not a lower-case GUID", r[0], r[1])
		}
	}
}

func TestPolicyDurations(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"180d", 180 * day, true},
		{"2w", 14 * day, true},
		{"36h", 36 * time.Hour, true},
		{"1h30m", 90 * time.Minute, true},
		{"0", 0, true},
		{"-1d", -day, true},
		{" 7d ", 7 * day, true},
		{"9y", 0, false},
		{"1.5d", 0, false},
		{"d", 0, false},
		{"180", 0, false},
		{"99999999999999d", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDuration(%q) = %s, %v; want %s, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// TestPolicyValidationErrors breaks a valid file one way at a time and
// checks the one problem reported, with its path.
func TestPolicyValidationErrors(t *testing.T) {
	const other = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f"
	tests := []struct {
		name, old, new, want string
	}{
		{"tenant not a GUID", "vaults:", "tenants: [contoso]\nvaults:",
			`tenants[0]: "contoso" is not a tenant ID (GUID)`},
		{"vault name", "vaults: [kv-payments]", "vaults: [kv-payments, kv_bad]",
			`vaults[1]: vault name "kv_bad" is not valid: 3-24 letters, digits and dashes, starting with a letter`},
		{"vault of another cloud", "vaults: [kv-payments]", "vaults: [kv-payments, https://kv-x.vault.azure.cn/]",
			`vaults[1]: vault URI "https://kv-x.vault.azure.cn/" must be https://<name>.vault.azure.net/`},
		{"default vault not allowed", "default_vault: kv-payments", "default_vault: kv-other",
			`default_vault: https://kv-other.vault.azure.net/ is not one of the allowed vaults (vaults)`},
		{"app vault not allowed", "client_id: " + idPayments, "client_id: " + idPayments + "\n    vault: kv-hr",
			`apps.payments-api.vault: https://kv-hr.vault.azure.net/ is not one of the allowed vaults (vaults)`},
		{"no vault at all", "default_vault: kv-payments\n", "",
			`apps.payments-api.vault: not set, and there is no default_vault`},
		{"lifetime not a duration", "client_id: " + idPayments, "client_id: " + idPayments + "\n    lifetime: 9y",
			`apps.payments-api.lifetime: "9y" is not a duration such as 180d, 2w or 36h`},
		{"app lifetime above max", "client_id: " + idPayments, "client_id: " + idPayments + "\n    lifetime: 400d",
			`apps.payments-api.lifetime: 400d is outside defaults.min_lifetime..max_lifetime (1d..365d)`},
		{"app lifetime below min", "client_id: " + idPayments, "client_id: " + idPayments + "\n    lifetime: 1h",
			`apps.payments-api.lifetime: 1h0m0s is outside defaults.min_lifetime..max_lifetime (1d..365d)`},
		{"default lifetime outside", "apps:", "defaults: {lifetime: 400d}\napps:",
			`defaults.lifetime: 400d is outside min_lifetime..max_lifetime (1d..365d)`},
		{"max below min", "apps:", "defaults: {min_lifetime: 30d, max_lifetime: 7d, lifetime: 10d}\napps:",
			`defaults.max_lifetime: 7d is shorter than min_lifetime 30d`},
		{"min not positive", "apps:", "defaults: {min_lifetime: 0}\napps:",
			`defaults.min_lifetime: 0s must be positive`},
		{"negative overlap", "apps:", "defaults: {overlap: -1d}\napps:",
			`defaults.overlap: -1d is negative`},
		{"negative app overlap", "client_id: " + idPayments, "client_id: " + idPayments + "\n    overlap: -2h",
			`apps.payments-api.overlap: -2h0m0s is negative`},
		{"zero app overlap", "client_id: " + idPayments, "client_id: " + idPayments + "\n    overlap: 0d",
			`apps.payments-api.overlap: 0 cannot differ from defaults.overlap (7d) for one app; remove it, or set defaults.overlap: 0`},
		{"approvals out of range", "client_id: " + idPayments, "client_id: " + idPayments + "\n    approvals: 3",
			`apps.payments-api.approvals: 3 is not 0, 1 or 2`},
		{"default approvals negative", "apps:", "defaults: {approvals: -1}\napps:",
			`defaults.approvals: -1 is not 0, 1 or 2`},
		{"approvals not a number", "client_id: " + idPayments, "client_id: " + idPayments + "\n    approvals: two",
			`apps.payments-api.approvals: "two" is not a whole number (line 10)`},
		{"approvals not whole", "client_id: " + idPayments, "client_id: " + idPayments + "\n    approvals: 1.5",
			`apps.payments-api.approvals: "1.5" is not a whole number (line 10)`},
		{"ttl too short", "apps:", "defaults: {request_ttl: 30s}\napps:",
			`defaults.request_ttl: 30s is outside 1m..24h`},
		{"ttl too long", "apps:", "defaults: {request_ttl: 2d}\napps:",
			`defaults.request_ttl: 2d is outside 1m..24h`},
		{"prefix not valid", "apps:", "defaults: {secret_names: {prefixes: [kt_]}}\napps:",
			`defaults.secret_names.prefixes[0]: "kt_" is not the start of a valid Key Vault secret name (letters, digits and dashes)`},
		{"default name misses prefix", "apps:", "defaults: {secret_names: {prefixes: [payments-api-client-i]}}\napps:",
			`apps.payments-api.secret_names.client_secret: the default name "payments-api-client-secret" does not start with one of defaults.secret_names.prefixes (payments-api-client-i)`},
		{"name misses prefix", "client_id: " + idPayments, "client_id: " + idPayments + "\n    secret_names: {client_id: kt-id, client_secret: kt-secret}\ndefaults: {secret_names: {prefixes: [kt-i, ab-]}}",
			`apps.payments-api.secret_names.client_secret: "kt-secret" does not start with one of defaults.secret_names.prefixes (kt-i, ab-)`},
		{"secret name not valid", "client_id: " + idPayments, "client_id: " + idPayments + "\n    secret_names: {client_secret: pay_secret}",
			`apps.payments-api.secret_names.client_secret: not a valid Key Vault secret name (1-127 letters, digits and dashes)` + notRepeated},
		{"secret names equal", "client_id: " + idPayments, "client_id: " + idPayments + "\n    secret_names: {client_id: same, client_secret: SAME}",
			`apps.payments-api.secret_names: client_id and client_secret are both "SAME"`},
		{"two apps, one secret", "client_id: " + idPayments, "client_id: " + idPayments + "\n  hr:\n    client_id: " + idHR + "\n    secret_names: {client_id: payments-api-client-secret}",
			`apps.payments-api.secret_names.client_secret: "payments-api-client-secret" in https://kv-payments.vault.azure.net/ is also written by apps.hr.secret_names.client_id`},
		{"alias pattern", "payments-api:", "Payments-API:",
			`apps.Payments-API: alias "Payments-API" must be 1-64 lower-case letters, digits, '-', '_' or '.', starting with a letter or digit`},
		{"alias is a GUID", "payments-api:", other + ":",
			`apps.` + other + `: an alias must not be a client ID: name the app (payments-api) and give the ID as client_id`},
		{"client ID missing", "client_id: " + idPayments, "vault: kv-payments",
			`apps.payments-api.client_id: missing`},
		{"client ID not a GUID", "client_id: " + idPayments, "client_id: payments",
			`apps.payments-api.client_id: not an application (client) ID (GUID)` + notRepeated},
		{"duplicate client ID", "client_id: " + idPayments, "client_id: " + idPayments + "\n  alpha:\n    client_id: " + strings.ToUpper(idPayments),
			`apps.payments-api.client_id: ` + idPayments + ` is also apps.alpha`},
		{"group not a GUID", "{group: " + idGroup + "}", "{group: sg-keyturn}",
			`roles.request[0].group: "sg-keyturn" is not a group object ID (GUID)`},
		{"app role not a GUID", "{group: " + idGroup + "}", "{app_role: Keyturn.Request}",
			`roles.request[0].app_role: "Keyturn.Request" is not an app role ID of Keyturn's app (GUID)`},
		{"role with two kinds", "{group: " + idGroup + "}", "{group: " + idGroup + ", app_role: " + other + "}",
			`roles.request[0]: set only one of group, app_role or directory_role`},
		{"role with no kind", "{group: " + idGroup + "}", "{name: requesters}",
			`roles.request[0]: set one of group, app_role or directory_role`},
		{"nobody approves", "  approve: [{directory_role: Application Administrator}]\n", "",
			`roles.approve: empty, yet defaults.approvals is 1: nobody could approve a rotation (list a group, app_role or directory_role)`},
		{"unknown key", "client_id: " + idPayments, "client_id: " + idPayments + "\n    lifetme: 90d",
			`apps.payments-api.lifetme: unknown key (line 10); known keys here: approvals, approvers, auto_request_before, client_id, lifetime, overlap, secret_names, vault`},
		{"unknown top-level key", "vaults:", "vault: kv-payments\nvaults:",
			`vault: unknown key (line 2); known keys here: apps, default_vault, defaults, radar, roles, tenants, vaults`},
		{"repeated alias", "client_id: " + idPayments, "client_id: " + idPayments + "\n  payments-api:\n    client_id: " + idHR,
			`apps.payments-api: repeated key (line 10; first at line 8)`},
		{"list instead of value", "default_vault: kv-payments", "default_vault: [kv-payments]",
			`default_vault: must be a single value, not a list or mapping (line 3)`},
		{"value instead of list", "vaults: [kv-payments]", "vaults: kv-payments",
			`vaults: must be a list (line 2)`},
		{"list instead of mapping", "apps:\n  payments-api:\n    client_id: " + idPayments, "apps: [payments-api]",
			`apps: must be a mapping of keys to values (line 7)`},
		{"app as a list", "  payments-api:\n    client_id: " + idPayments, "  payments-api: [" + idPayments + "]",
			`apps.payments-api: must be a mapping of keys to values (line 8)`},
		{"approvers as a mapping", "approve: [{directory_role: Application Administrator}]", "approve: {directory_role: Application Administrator}",
			`roles.approve: must be a list (line 6)`},
		{"client ID as a list", "client_id: " + idPayments, "client_id: [" + idPayments + "]",
			`apps.payments-api.client_id: must be a single value, not a list or mapping (line 9)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(minimal, tt.old) {
				t.Fatalf("%q is not in the base file", tt.old)
			}
			_, err := loadPolicyText(t, strings.Replace(minimal, tt.old, tt.new, 1))
			if err == nil {
				t.Fatal("no error")
			}
			if got := problemLines(err); len(got) != 1 || got[0] != tt.want {
				t.Errorf("problems:\n%s\nwant exactly:\n%s", strings.Join(got, "\n"), tt.want)
			}
		})
	}
	if _, err := loadPolicyText(t, minimal); err != nil {
		t.Errorf("the base file must be valid: %v", err)
	}
}

func TestPolicyOwnAppRefused(t *testing.T) {
	base := rotation.DefaultPolicy()
	base.OwnClientID = strings.ToUpper(idPayments)
	_, err := loadPolicyTextBase(t, minimal, base)
	want := "apps.payments-api.client_id: " + idPayments + " is Keyturn's own app, which it never rotates"
	if err == nil || !slices.Contains(problemLines(err), want) {
		t.Errorf("error %v, want %q", err, want)
	}
}

func TestPolicyPerAppApproversSuffice(t *testing.T) {
	text := `
vaults: [kv-payments]
default_vault: kv-payments
defaults: {approvals: 0}
apps:
  payments-api:
    client_id: ` + idPayments + `
    approvals: 1
    approvers: [{group: ` + idGroup + `}]
  hr:
    client_id: ` + idHR + `
    approvals: 2
`
	_, err := loadPolicyText(t, text)
	want := []string{"apps.hr.approvals: 2 needed, but nobody may approve: list sources under roles.approve or apps.hr.approvers"}
	if err == nil || !slices.Equal(problemLines(err), want) {
		t.Errorf("error %v, want only %q", err, want)
	}
}

// TestPolicyReportsEveryProblem loads one file with many problems and wants
// them all, in one error.
func TestPolicyReportsEveryProblem(t *testing.T) {
	text := `
tenants: [contoso]
vaults: [kv-payments, kv_bad]
default_vault: kv-elsewhere
defaults:
  lifetime: 9y
  approvals: 5
  request_ttl: 25h
  colour: blue
roles:
  request: [{group: not-a-guid}]
  approve: [{directory_role: Chief Approver}]
apps:
  payments-api:
    client_id: ` + idPayments + `
    lifetime: 9y
    overlap: -3d
    vault: kv-payments
  Bad Alias:
    client_id: nope
  copy:
    client_id: ` + idPayments + `
    vault: kv-payments
    secret_names: {client_id: payments-api-client-secret}
    approvals: 3
`
	_, err := loadPolicyText(t, text)
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		`defaults.colour: unknown key (line 9); known keys here: approvals, lifetime, max_lifetime, min_lifetime, overlap, request_ttl, secret_names`,
		`tenants[0]: "contoso" is not a tenant ID (GUID)`,
		`vaults[1]: vault name "kv_bad" is not valid: 3-24 letters, digits and dashes, starting with a letter`,
		`default_vault: https://kv-elsewhere.vault.azure.net/ is not one of the allowed vaults (vaults)`,
		`defaults.lifetime: "9y" is not a duration such as 180d, 2w or 36h`,
		`defaults.approvals: 5 is not 0, 1 or 2`,
		`defaults.request_ttl: 25h0m0s is outside 1m..24h`,
		`roles.request[0].group: "not-a-guid" is not a group object ID (GUID)`,
		`roles.approve[0].directory_role: "Chief Approver" is not a built-in role Keyturn knows by name; give its template ID (GUID) instead, as for custom roles`,
		`apps."Bad Alias": alias "Bad Alias" must be 1-64 lower-case letters, digits, '-', '_' or '.', starting with a letter or digit`,
		`apps."Bad Alias".client_id: not an application (client) ID (GUID)` + notRepeated,
		`apps.copy.approvals: 3 is not 0, 1 or 2`,
		`apps.payments-api.client_id: ` + idPayments + ` is also apps.copy`,
		`apps.payments-api.secret_names.client_secret: "payments-api-client-secret" in https://kv-payments.vault.azure.net/ is also written by apps.copy.secret_names.client_id`,
		`apps.payments-api.lifetime: "9y" is not a duration such as 180d, 2w or 36h`,
		`apps.payments-api.overlap: -3d is negative`,
	}
	got := problemLines(err)
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("missing problem %q", w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	if !strings.HasPrefix(err.Error(), "policy file ") || !strings.Contains(strings.SplitN(err.Error(), "\n", 2)[0], "16 problem(s):") {
		t.Errorf("heading %q", strings.SplitN(err.Error(), "\n", 2)[0])
	}
}

func TestPolicyFileLevelErrors(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"empty", "", "the file is empty"},
		{"only comments", "# nothing yet\n", "the file is empty"},
		{"empty document", "---\n", "the file is empty"},
		{"two documents", minimal + "---\n" + minimal, "the file holds more than one YAML document"},
		{"not YAML", "vaults: [kv-payments\n", "not valid YAML: "},
		{"a list at the top", "- kv-payments\n", "top level: must be a mapping of keys to values (line 1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadPolicyText(t, tt.text)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
	_, err := loadPolicyFile(filepath.Join(t.TempDir(), "missing.yaml"), publicCloud(t), rotation.DefaultPolicy())
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, bytes.Repeat([]byte("# padding\n"), maxPolicyBytes/10+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadPolicyFile(big, publicCloud(t), rotation.DefaultPolicy()); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("big file: %v", err)
	}
}

func TestPolicyAnchorsAndMerge(t *testing.T) {
	text := minimal + `
  hr:
    <<: &common {vault: kv-payments, approvals: 2}
    client_id: ` + idHR + `
  ops:
    <<: {vault: kv-payments, lifetme: 1d}
    client_id: 1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d
`
	_, err := loadPolicyText(t, text)
	want := []string{`apps.ops.lifetme: unknown key (line 15); known keys here: approvals, approvers, auto_request_before, client_id, lifetime, overlap, secret_names, vault`}
	if err == nil || !slices.Equal(problemLines(err), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
	pc, err := loadPolicyText(t, strings.Replace(text, "lifetme", "lifetime", 1))
	if err != nil {
		t.Fatal(err)
	}
	if pc.Rule(idHR).Required != 2 || pc.Apps["ops"].Lifetime != day {
		t.Errorf("merged values: %+v %+v", pc.Rules, pc.Apps)
	}
}

// TestPolicyShapeCheckCoversDecoder proves checkShape finds a problem
// whenever yaml's strict decoder does, so dropping the decoder's
// line-numbered messages in favour of paths loses nothing. checkShape may
// be stricter: yaml turns 1.5 into 1 where a whole number belongs.
func TestPolicyShapeCheckCoversDecoder(t *testing.T) {
	docs := []string{
		minimal,
		"vaults: {a: b}\n",
		"defaults: {approvals: 1.5}\n",
		"defaults: {approvals: '1'}\n",
		"defaults: {approvals: 99999999999999999999999}\n",
		"defaults: [1]\n",
		"defaults: {secret_names: {prefixes: x}}\n",
		"roles: {request: {group: x}}\n",
		"roles: {approve: [[x]]}\n",
		"apps: {a: {approvers: [{group: [x]}]}}\n",
		"apps: {a: [x]}\n",
		"apps: {a: {secret_names: {prefixes: [x]}}}\n",
		"tenants: [{id: x}]\n",
		"apps: {a: {}, a: {}}\n",
		"defaults: {lifetime: 1d, lifetime: 2d}\n",
		"x: &a 1\ny: *a\n",
	}
	for _, doc := range docs {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
		var shape shapeCheck
		checkShape(&n, reflect.TypeFor[policyFile](), "", &shape)
		dec := yaml.NewDecoder(strings.NewReader(doc))
		dec.KnownFields(true)
		var pf policyFile
		decErr := dec.Decode(&pf)
		if decErr != nil && len(shape.probs) == 0 {
			t.Errorf("%q: decoder says %v, checkShape finds nothing", doc, decErr)
		}
	}
}

// TestRadarKeys: the radar's keys default when absent, take what is set,
// and report each bad value with its path.
func TestRadarKeys(t *testing.T) {
	const head = "vaults: [kv-a]\nroles:\n  approve: [{group: 6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d}]\n"
	load := func(t *testing.T, body string) (Policy, error) {
		t.Helper()
		return Parse([]byte(head+body), Options{VaultURI: func(v string) (string, error) { return "https://" + v + ".vault.azure.net/", nil }, Base: rotation.DefaultPolicy()})
	}
	pc, err := load(t, "")
	if err != nil || pc.Radar.WarnBefore != 30*day || len(pc.Radar.Thresholds) != 3 || pc.Radar.ScanEvery != 24*time.Hour {
		t.Fatalf("defaults: %+v %v", pc.Radar, err)
	}
	pc, err = load(t, "radar: {warn_before: 10d, scan_every: 6h}\napps:\n  a: {client_id: 7f8e9d0c-1b2a-4c3d-9e4f-5a6b7c8d9e0f, vault: kv-a, auto_request_before: 5d}\n")
	if err != nil || pc.Radar.WarnBefore != 10*day || pc.Radar.ScanEvery != 6*time.Hour ||
		!slices.Equal(pc.Radar.Thresholds, []time.Duration{10 * day, 7 * day, day}) || pc.Apps["a"].AutoRequestBefore != 5*day {
		t.Fatalf("set: %+v %+v %v", pc.Radar, pc.Apps["a"], err)
	}
	pc, err = load(t, "radar: {warn_before: 5d}\n")
	if err != nil || !slices.Equal(pc.Radar.Thresholds, []time.Duration{5 * day, day}) {
		t.Fatalf("default thresholds stay within the window: %+v %v", pc.Radar.Thresholds, err)
	}
	_, err = load(t, "radar: {warn_before: 400d, scan_every: 5m, thresholds: [7d, soon, 2y]}\n"+
		"apps:\n  a: {client_id: 7f8e9d0c-1b2a-4c3d-9e4f-5a6b7c8d9e0f, vault: kv-a, auto_request_before: 60d}\n")
	for _, want := range []string{
		"radar.warn_before: 400d is outside 1d..365d",
		"radar.scan_every: 5m0s is outside 1h..7d",
		`radar.thresholds[1]: "soon" is not a duration`,
		"radar.thresholds[2]",
		"apps.a.auto_request_before: 60d is outside 1d..radar.warn_before (30d)",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want a problem %q, got:\n%v", want, err)
		}
	}
}
