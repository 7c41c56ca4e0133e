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
	var roles []string
	for _, u := range tn.Users {
		r, a := tn.Permissions(u)
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
		{"roles", func(tn *Tenant) { tn.Roles.Approve = []string{"sg-nobody"} }, []string{`roles: "sg-nobody"`}},
		{"users", func(tn *Tenant) {
			tn.Users[1].Key, tn.Users[1].ObjectID = tn.Users[0].Key, tn.Users[0].ObjectID
			tn.Users[2].MemberOf = []string{"Global Reader"}
		}, []string{"key \"megan\" is used twice", "is used twice", `memberOf "Global Reader"`}},
		{"vaults", func(tn *Tenant) { tn.Vaults = append(tn.Vaults, VaultDef{Name: "KV_bad"}, VaultDef{Name: "kv-shared"}) },
			[]string{`"KV_bad" is not a Key Vault name`, `"kv-shared" is listed twice`}},
		{"apps", func(tn *Tenant) {
			tn.Apps[0].ClientID = tn.Bot.AppID
			tn.Apps[1].Alias = "Orders Worker"
			tn.Apps[1].Vault = "kv-nowhere"
			tn.Apps[2].Approvals.Required = 3
			tn.Apps[2].Secrets = []ExistingPW{{DisplayName: "x", DaysLeft: 0}}
			tn.Apps[2].SecretName = "bad_name"
		}, []string{"Keyturn's own app cannot be rotated", "alias must be unique", `vault "kv-nowhere"`, "approvals.required 3", "daysLeft in 1..730", `"bad_name" is not a Key Vault secret name`}},
		{"noAccess vault cannot be seeded", func(tn *Tenant) { tn.Vaults[0].NoAccess = true }, []string{"is inVault but vault kv-payments is noAccess"}},
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

func TestRoleDirectoryAnswersFromTheFile(t *testing.T) {
	tn := demo(t)
	rd := RoleDirectory{tn}
	ctx := context.Background()
	user := func(key string) User { u, _ := tn.UserByKey(key); return u }
	reqGroup, _ := tn.source("sg-keyturn-requesters")
	apprGroup, _ := tn.source("sg-keyturn-approvers")
	appAdmin, _ := tn.source("Application Administrator")

	cases := []struct {
		user       string
		groups     []string
		dirRoles   []string
		mayRequest bool
		mayApprove bool
	}{
		{"megan", []string{reqGroup.ID}, nil, true, false},
		{"adele", []string{apprGroup.ID}, nil, false, true},
		{"isaiah", nil, []string{appAdmin.ID}, true, true},
		{"lee", nil, nil, false, false},
	}
	pol := policy.Builtin()
	pol.Roles = tn.RoleConfig()
	authz := &policy.Authorizer{Policy: &pol, Dir: rd, Clock: rotation.SystemClock{}}
	may := func(oid string, a rotation.Action) bool {
		_, err := authz.Check(ctx, rotation.Attempt{Who: rotation.Principal{ObjectID: oid}, Action: a})
		return err == nil
	}
	for _, c := range cases {
		t.Run(c.user, func(t *testing.T) {
			oid := user(c.user).ObjectID
			groups, _ := rd.MemberGroups(ctx, oid, []string{reqGroup.ID, strings.ToUpper(apprGroup.ID)})
			if !slices.Equal(groups, c.groups) {
				t.Errorf("groups %v, want %v", groups, c.groups)
			}
			roles, _ := rd.DirectoryRoleTemplates(ctx, strings.ToUpper(oid))
			if !slices.Equal(roles, c.dirRoles) {
				t.Errorf("directory roles %v, want %v", roles, c.dirRoles)
			}
			if r, a := may(oid, rotation.ActionRequest), may(oid, rotation.ActionApprove); r != c.mayRequest || a != c.mayApprove {
				t.Errorf("request %v approve %v, want request %v approve %v", r, a, c.mayRequest, c.mayApprove)
			}
		})
	}
	approver, _ := tn.source("Keyturn.Approver")
	if as, _ := rd.AppRoleAssignments(ctx, []string{approver.ID}); len(as) != 0 {
		t.Errorf("nobody holds the app role in the demo file, got %v", as)
	}
	tn.Users[3].MemberOf = []string{"Keyturn.Approver"}
	as, _ := rd.AppRoleAssignments(ctx, []string{strings.ToUpper(approver.ID)})
	if len(as) != 1 || as[0].PrincipalType != "User" || !strings.EqualFold(as[0].PrincipalID, tn.Users[3].ObjectID) {
		t.Errorf("app role assignments %v", as)
	}
	if g, _ := rd.MemberGroups(ctx, "00000000-0000-4000-8000-000000000999", []string{reqGroup.ID}); len(g) != 0 {
		t.Errorf("an unknown user is in groups %v", g)
	}
	if r := tn.AppRule(tn.Apps[1].ClientID); r.Required != 2 {
		t.Errorf("orders-worker needs 2 approvals, rule %+v", r)
	}
	if r := tn.AppRule("00000000-0000-4000-8000-000000000999"); r.Required != 1 {
		t.Errorf("an unknown app needs one approval, rule %+v", r)
	}
}
