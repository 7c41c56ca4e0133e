package sandbox

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keyturn/keyturn/policy"
	"github.com/keyturn/keyturn/rotation"
)

// demo returns the built-in tenant, parsed.
func demo(t *testing.T) *Tenant {
	t.Helper()
	tn, err := ParseTenant(DemoTenant())
	if err != nil {
		t.Fatalf("the demo tenant file does not load: %v", err)
	}
	return tn
}

// mutated returns the demo tenant file as JSON after fn changed it.
func mutated(t *testing.T, fn func(*Tenant)) []byte {
	t.Helper()
	tn := demo(t)
	fn(tn)
	b, err := json.Marshal(tn)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDemoTenantLoads(t *testing.T) {
	tn := demo(t)
	if len(tn.Users) < 3 || len(tn.Apps) < 2 || len(tn.Vaults) == 0 {
		t.Fatalf("the demo tenant is too small to demo anything: %+v", tn)
	}
	owned, notOwned := false, false
	for _, a := range tn.Apps {
		owned, notOwned = owned || a.Owned, notOwned || !a.Owned
	}
	if !owned || !notOwned {
		t.Error("the demo tenant needs an app Keyturn owns and one it does not")
	}
	w := openWorld(t, t.TempDir())
	var roles []string
	for _, u := range tn.Users {
		r, a := w.Permissions(context.Background(), u)
		roles = append(roles, map[[2]bool]string{{true, false}: "request", {false, true}: "approve", {true, true}: "both", {false, false}: "none"}[[2]bool{r, a}])
	}
	for _, want := range []string{"request", "approve", "none"} {
		if !slices.Contains(roles, want) {
			t.Errorf("no demo user who may %s: %v", want, roles)
		}
	}
	if _, ok := tn.AuditChannel(); !ok {
		t.Error("the demo tenant has no audit channel")
	}
}

func TestParseTenantReportsEveryProblem(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Tenant)
		want []string
	}{
		{"tenant and bot IDs", func(tn *Tenant) { tn.Tenant.ID, tn.Bot.AppID, tn.Bot.Name = "contoso", "bot", "" },
			[]string{`tenant.id "contoso"`, `bot.appId "bot"`, "bot.name is required"}},
		{"channels", func(tn *Tenant) {
			tn.Channels = []Channel{{ID: "19:a;messageid=1", Name: "x", Audit: true}, {ID: "19:b", Name: "y", Audit: true}}
		}, []string{"must not contain", "at least one channel that is neither the audit nor the radar channel", "at most one channel can be the audit channel"}},
		{"directory", func(tn *Tenant) {
			tn.Directory.Groups = append(tn.Directory.Groups, DirEntry{ID: "x", Name: "sg-keyturn-requesters"})
		}, []string{`id "x" is not a GUID`, `name "sg-keyturn-requesters" is used twice`}},
		{"group nesting", func(tn *Tenant) {
			tn.Directory.Groups[0].MemberOf = []string{"sg-nobody", tn.Directory.Groups[0].Name}
			tn.Directory.AppRoles[0].MemberOf = []string{"sg-keyturn-approvers"}
		}, []string{`memberOf "sg-nobody" is not another entry`, `memberOf "sg-keyturn-requesters" is not another entry`, "only groups can be members"}},
		{"users", func(tn *Tenant) {
			tn.Users[1].Key, tn.Users[1].ObjectID = tn.Users[0].Key, tn.Users[0].ObjectID
			tn.Users[2].MemberOf = []string{"Global Reader"}
		}, []string{"key \"megan\" is used twice", "is used twice", `memberOf "Global Reader"`}},
		{"vaults", func(tn *Tenant) { tn.Vaults = append(tn.Vaults, VaultDef{Name: "KV_bad"}, VaultDef{Name: "kv-shared"}) },
			[]string{`"KV_bad" is not a Key Vault name`, `"kv-shared" is listed twice`}},
		{"apps", func(tn *Tenant) {
			tn.Apps[0].ClientID = tn.Bot.AppID
			tn.Apps[1].DisplayName = ""
			tn.Apps[2].Secrets = []ExistingPW{{DisplayName: "x", DaysLeft: 0}}
			tn.Apps[2].ObjectID = tn.Apps[1].ObjectID
		}, []string{"Keyturn's own app cannot be rotated", "displayName is required", "daysLeft in 1..730", "is used twice"}},
		{"propagation", func(tn *Tenant) { tn.PropagationSeconds = 600 }, []string{"propagationSeconds 600"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseTenant(mutated(t, c.edit))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestParseTenantSyntax(t *testing.T) {
	cases := []struct {
		name, file, want string
	}{
		{"unknown field", `{"tenant": {"id": "x"}, "userz": []}`, `unknown field "userz"`},
		{"two values", `{} {}`, "more than one JSON value"},
		{"not JSON", `tenant: contoso`, "decode"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseTenant([]byte(c.file)); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
	// Full-line comments are blanked, so the decoder's line numbers stay
	// true; a // inside a string value is kept.
	got := string(stripComments([]byte("// one\n{\"a\": \"https://x\"} // not a comment line\n  // two\n")))
	if got != "\n{\"a\": \"https://x\"} // not a comment line\n\n" {
		t.Errorf("stripComments = %q", got)
	}
}

func TestLoadTenantNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.jsonc")
	if _, err := LoadTenant(path); err == nil {
		t.Fatal("a missing file loaded")
	}
	if err := os.WriteFile(path, []byte(`{"tenant": {}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTenant(path); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "tenant.id") {
		t.Fatalf("error does not name the file and the field: %v", err)
	}
}

// TestRoleDirectoryAnswersAsGraph: the tenant file's memberships come back
// as Graph gives them (nested groups, directory roles and app roles through
// groups), and the policy file's decision reads them as in production.
func TestRoleDirectoryAnswersAsGraph(t *testing.T) {
	tn := demo(t)
	tn.Directory.Groups = append(tn.Directory.Groups,
		DirEntry{ID: "0e7c3a1b-2d4f-4a6b-8c9d-0e1f2a3b4c01", Name: "sg-role-holders", MemberOf: []string{"Application Administrator", "Keyturn.Approver"}})
	tn.Users[3].MemberOf = []string{"sg-role-holders"} // lee, through a group only
	rd := tn.roleDirectory()
	ctx := context.Background()
	id := func(name string) string {
		for _, list := range [][]DirEntry{tn.Directory.Groups, tn.Directory.DirectoryRoles, tn.Directory.AppRoles} {
			for _, e := range list {
				if e.Name == name {
					return e.ID
				}
			}
		}
		t.Fatalf("no entry %s", name)
		return ""
	}
	user := func(key string) string { u, _ := tn.UserByKey(key); return u.ObjectID }
	reqGroup, apprGroup, appAdmin, approver := id("sg-keyturn-requesters"), id("sg-keyturn-approvers"), id("Application Administrator"), id("Keyturn.Approver")

	cases := []struct {
		user     string
		groups   []string
		dirRoles []string
	}{
		{"megan", []string{reqGroup}, nil},
		{"adele", []string{apprGroup}, nil}, // through sg-platform-admins
		{"isaiah", nil, []string{appAdmin}},
		{"lee", nil, []string{appAdmin}}, // through sg-role-holders
	}
	for _, c := range cases {
		t.Run(c.user, func(t *testing.T) {
			oid := user(c.user)
			groups, _ := rd.MemberGroups(ctx, oid, []string{reqGroup, strings.ToUpper(apprGroup)})
			if len(groups) != len(c.groups) || len(groups) == 1 && !strings.EqualFold(groups[0], c.groups[0]) {
				t.Errorf("groups %v, want %v", groups, c.groups)
			}
			roles, _ := rd.DirectoryRoleTemplates(ctx, strings.ToUpper(oid))
			if !slices.Equal(roles, c.dirRoles) {
				t.Errorf("directory roles %v, want %v", roles, c.dirRoles)
			}
		})
	}
	as, _ := rd.AppRoleAssignments(ctx, []string{strings.ToUpper(approver)})
	if len(as) != 1 || as[0].PrincipalType != "Group" || !strings.EqualFold(as[0].PrincipalID, id("sg-role-holders")) {
		t.Errorf("app role assignments %v, want the one to sg-role-holders", as)
	}
	if g, _ := rd.MemberGroups(ctx, "00000000-0000-4000-8000-000000000999", []string{reqGroup}); len(g) != 0 {
		t.Errorf("an unknown user is in groups %v", g)
	}

	pol, err := policy.Parse(DemoPolicy(), policy.Options{VaultURI: vaultURI, Base: rotation.DefaultPolicy()})
	if err != nil {
		t.Fatalf("the demo policy does not load: %v", err)
	}
	authz := &policy.Authorizer{Policy: &pol, Dir: rd, Clock: rotation.SystemClock{}}
	for _, c := range []struct {
		user             string
		request, approve bool
	}{{"megan", true, false}, {"adele", false, true}, {"isaiah", true, true}, {"lee", true, true}} {
		for act, want := range map[rotation.Action]bool{rotation.ActionRequest: c.request, rotation.ActionApprove: c.approve} {
			_, err := authz.Check(ctx, rotation.Attempt{Who: rotation.Principal{ObjectID: user(c.user)}, Action: act})
			if (err == nil) != want {
				t.Errorf("%s %s: %v, want allowed %v", c.user, act, err, want)
			}
		}
	}
	if r := pol.Rule("5b41b2e9-a2e3-4299-8125-02c48ba6f493"); r.Required != 2 {
		t.Errorf("orders-worker needs 2 approvals, rule %+v", r)
	}
}

// TestPolicyMustFitTheTenant: the policy file is checked against the tenant
// file at Open, every problem at once.
func TestPolicyMustFitTheTenant(t *testing.T) {
	dir := t.TempDir()
	tenant := filepath.Join(dir, "t.jsonc")
	if err := os.WriteFile(tenant, mutated(t, func(tn *Tenant) { tn.Vaults[0].NoAccess = true }), 0o600); err != nil {
		t.Fatal(err)
	}
	pol := filepath.Join(dir, "p.yaml")
	text := strings.Replace(string(DemoPolicy()), "vaults: [kv-payments, kv-shared]", "vaults: [kv-payments, kv-shared, kv-elsewhere]", 1)
	text = strings.Replace(text, "  hr-legacy:\n    client_id: 7f5925fd-d5d7-4406-a575-79e6db495831\n    vault: kv-shared\n", "", 1)
	if err := os.WriteFile(pol, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(Config{StateDir: filepath.Join(dir, "state"), TenantFile: tenant, PolicyFile: pol})
	for _, want := range []string{"kv-elsewhere.vault.azure.net/ is not in the tenant file's vaults", "is inVault, but vault https://kv-payments.vault.azure.net/ is noAccess"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
	if err := os.WriteFile(pol, []byte("apps: {payments-api: {client_id: nope}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Config{StateDir: filepath.Join(dir, "state"), TenantFile: tenant, PolicyFile: pol}); err == nil || !strings.Contains(err.Error(), "apps.payments-api.client_id") {
		t.Errorf("a bad policy file is reported with its paths: %v", err)
	}
}
