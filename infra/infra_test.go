// Package infra holds no Go code: its tests keep the deployment files
// (Bicep, grant-permissions.sh, the Dockerfile) in step with the program,
// since neither a Bicep CLI nor Azure is available to CI.
package infra

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/keyturn/keyturn/doctor"
	"github.com/keyturn/keyturn/rotation"
)

const (
	principal = "6f8b4c2d-3e5a-4b7c-9d0e-1f2a3b4c5d6e"
	app1      = "7f8e9d0c-1b2a-4c3d-9e4f-5a6b7c8d9e0f"
	app2      = "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d"
)

// The app role IDs testdata/az gives Graph's permissions.
var (
	graphRoles = map[string]string{
		"Application.ReadWrite.OwnedBy": "18a4783c-866b-4cc7-a460-3d5e5662c884",
		"User.Read.All":                 "df021288-bdef-4463-88db-98f22de89214",
		"GroupMember.Read.All":          "98830695-27a2-44f7-8c18-0c3ebc9698f6",
		"RoleManagement.Read.Directory": "483bed4a-2ad3-4361-a73b-c83ccdbdc53c",
		"Application.Read.All":          "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
	}
	extraRole = "19dbc75e-c2e2-444c-a770-ec69d8559fc7" // Directory.ReadWrite.All
)

// grant runs grant-permissions.sh with testdata/az as the Azure CLI and
// state as its tenant, and returns its output and exit code.
func grant(t *testing.T, state string, args ...string) (string, int) {
	t.Helper()
	testdata, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", append([]string{"grant-permissions.sh"}, args...)...)
	cmd.Env = append(os.Environ(), "PATH="+testdata+string(os.PathListSeparator)+os.Getenv("PATH"), "FAKE_AZ_STATE="+state)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), code
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(b))
	sort.Strings(lines)
	return lines
}

// changingCalls are the az calls that change something.
func changingCalls(t *testing.T, state string) []string {
	var out []string
	b, _ := os.ReadFile(filepath.Join(state, "calls"))
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "rest --method POST") || strings.HasPrefix(l, "ad app owner add") || strings.HasPrefix(l, "role assignment create") {
			out = append(out, l)
		}
	}
	return out
}

func TestGrantPermissionsIsSafeToRunTwice(t *testing.T) {
	state := t.TempDir()
	held := graphRoles["User.Read.All"] + "\n" + extraRole + "\n"
	if err := os.WriteFile(filepath.Join(state, "held"), []byte(held), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--principal-id", principal, "--app", app1, "--app", app2, "--vault", "kv-payments"}

	out, code := grant(t, state, args...)
	if code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, out)
	}
	var want []string
	for _, id := range graphRoles {
		want = append(want, id)
	}
	want = append(want, extraRole)
	sort.Strings(want)
	if got := readLines(t, filepath.Join(state, "held")); !slices.Equal(got, want) {
		t.Errorf("Graph app roles held = %v, want %v (the four missing added, nothing removed)", got, want)
	}
	for _, a := range []string{app1, app2} {
		if got := readLines(t, filepath.Join(state, "owners-"+a)); !slices.Equal(got, []string{principal}) {
			t.Errorf("owners of %s = %v, want Keyturn", a, got)
		}
	}
	if got := readLines(t, filepath.Join(state, "roles-kv-payments")); strings.Join(got, " ") != "Key Officer Secrets Vault" {
		t.Errorf("roles on kv-payments = %v, want Key Vault Secrets Officer", got)
	}
	if !strings.Contains(out, "WARNING: also holds Directory.ReadWrite.All") {
		t.Errorf("the extra permission is not named:\n%s", out)
	}
	if n := len(changingCalls(t, state)); n != 4+2+1 {
		t.Errorf("first run made %d changes, want 7 (4 grants, 2 owners, 1 role):\n%s", n, out)
	}

	// The second run finds everything in place and changes nothing.
	if err := os.Remove(filepath.Join(state, "calls")); err != nil {
		t.Fatal(err)
	}
	out, code = grant(t, state, args...)
	if code != 0 {
		t.Fatalf("second run: exit %d\n%s", code, out)
	}
	if calls := changingCalls(t, state); len(calls) > 0 || strings.Contains(out, "doing:") {
		t.Errorf("second run changed something: %v\n%s", calls, out)
	}
	if strings.Count(out, "already") != 5+2+1 {
		t.Errorf("second run should report 8 things already in place:\n%s", out)
	}
}

func TestGrantPermissionsDryRunChangesNothing(t *testing.T) {
	state := t.TempDir()
	out, code := grant(t, state, "--principal-id", principal, "--app", app1, "--vault", "kv-payments", "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if calls := changingCalls(t, state); len(calls) > 0 {
		t.Errorf("dry run changed something: %v", calls)
	}
	if n := strings.Count(out, "would:"); n != 5+1+1 {
		t.Errorf("dry run names %d changes, want 7:\n%s", n, out)
	}
}

func TestGrantPermissionsRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"no principal", nil, 2, "--principal-id must be"},
		{"principal not a GUID", []string{"--principal-id", "keyturn"}, 2, "--principal-id must be"},
		{"app not a GUID", []string{"--principal-id", principal, "--app", "payments-api"}, 2, "not a client ID"},
		{"flag without value", []string{"--principal-id", principal, "--app"}, 2, "Usage:"},
		{"unknown flag", []string{"--principal-id", principal, "--owner", app1}, 2, "unknown argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state := t.TempDir()
			out, code := grant(t, state, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.says) {
				t.Errorf("exit %d, want %d saying %q:\n%s", code, tc.code, tc.says, out)
			}
			if _, err := os.Stat(filepath.Join(state, "calls")); err == nil {
				t.Errorf("bad input reached az")
			}
		})
	}
	t.Run("vault not in RBAC mode", func(t *testing.T) {
		state := t.TempDir()
		out, code := grant(t, state, "--principal-id", principal, "--vault", "legacy")
		if code != 1 || !strings.Contains(out, "not in RBAC mode") {
			t.Errorf("exit %d, want 1 naming RBAC mode:\n%s", code, out)
		}
		if got := readLines(t, filepath.Join(state, "roles-legacy")); len(got) > 0 {
			t.Errorf("assigned %v on a vault with access policies", got)
		}
	})
}

// TestGrantPermissionsFollowThePolicy: with --policy, the script grants
// exactly what keyturn doctor says that policy needs, so doctor finds
// nothing missing and nothing extra.
func TestGrantPermissionsFollowThePolicy(t *testing.T) {
	const id = "0b6c2a1e-7d3f-4e5a-9b8c-1d2e3f4a5b6c"
	for _, tc := range []struct {
		name, policy string
		kinds        []rotation.SourceKind
	}{
		{"groups", "roles:\n  request:\n    - group: " + id + "\n  approve:\n    - {group: " + id + ", name: sg-approvers}\n",
			[]rotation.SourceKind{rotation.SourceGroup}},
		{"directory roles", "roles:\n  approve:\n    - {directory_role: Application Administrator}\n",
			[]rotation.SourceKind{rotation.SourceDirectoryRole}},
		{"app roles", "roles:\n  request:\n    - app_role: " + id + "\n",
			[]rotation.SourceKind{rotation.SourceAppRole}},
		{"groups and directory roles", "roles:\n  request: [{group: " + id + "}]\n  approve: [{directory_role: " + id + "}]\n",
			[]rotation.SourceKind{rotation.SourceGroup, rotation.SourceDirectoryRole}},
		{"no roles, a comment naming one", "# group: " + id + " is for later\nvaults: [kv-payments]\n", nil},
		{"the documented example", read(t, "../docs/keyturn.example.yaml"),
			[]rotation.SourceKind{rotation.SourceGroup, rotation.SourceAppRole, rotation.SourceDirectoryRole}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state := t.TempDir()
			policy := filepath.Join(state, "keyturn.yaml")
			if err := os.WriteFile(policy, []byte(tc.policy), 0o600); err != nil {
				t.Fatal(err)
			}
			out, code := grant(t, state, "--principal-id", principal, "--policy", policy, "--dry-run")
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, out)
			}
			var got []string
			for _, m := range regexp.MustCompile(`would: grant ([A-Za-z.]+) `).FindAllStringSubmatch(out, -1) {
				got = append(got, m[1])
			}
			var sources []rotation.RoleSource
			for _, k := range tc.kinds {
				sources = append(sources, rotation.RoleSource{Kind: k, ID: id})
			}
			var want []string
			for _, p := range doctor.NeededPermissions(sources) {
				want = append(want, p.Value)
			}
			sort.Strings(got)
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Errorf("grants %v, doctor needs %v\n%s", got, want, out)
			}
		})
	}
	t.Run("unreadable policy", func(t *testing.T) {
		state := t.TempDir()
		out, code := grant(t, state, "--principal-id", principal, "--policy", filepath.Join(state, "missing.yaml"))
		if code != 2 || !strings.Contains(out, "cannot read it") {
			t.Errorf("exit %d, want 2 naming the file:\n%s", code, out)
		}
		if _, err := os.Stat(filepath.Join(state, "calls")); err == nil {
			t.Errorf("bad input reached az")
		}
	})
}

// TestPermissionsAreDocumented: every Graph permission Keyturn may need is
// named in the README and the security model.
func TestPermissionsAreDocumented(t *testing.T) {
	all := doctor.NeededPermissions([]rotation.RoleSource{{Kind: rotation.SourceGroup}, {Kind: rotation.SourceDirectoryRole}, {Kind: rotation.SourceAppRole}})
	if len(all) != len(graphRoles) {
		t.Fatalf("doctor needs %v; testdata/az knows %d permissions: teach it the new ones", all, len(graphRoles))
	}
	for _, doc := range []string{"../README.md", "../docs/security.md"} {
		text := read(t, doc)
		for _, p := range all {
			if !strings.Contains(text, "`"+p.Value+"`") {
				t.Errorf("%s does not name the Graph permission %s", doc, p.Value)
			}
		}
	}
}

// TestContainerEnvIsWhatKeyturnReads checks every variable the container
// app sets is one cmd/bot reads (a misspelt name would be silently
// ignored), and that the ones a managed-identity deployment needs are set.
func TestContainerEnvIsWhatKeyturnReads(t *testing.T) {
	bicep := read(t, "modules/app.bicep")
	var set []string
	for _, m := range regexp.MustCompile(`name: '([A-Za-z_]+)'\n\s*value: `).FindAllStringSubmatch(bicep, -1) {
		set = append(set, m[1])
	}
	read := readByKeyturn(t)
	for _, name := range set {
		if name == "KEYTURN_POLICY_DIGEST" {
			continue // deliberately unread: it rolls out a new revision
		}
		if !read[name] {
			t.Errorf("app.bicep sets %s, which cmd/bot never reads", name)
		}
	}
	for _, name := range []string{"MicrosoftAppId", "MicrosoftAppType", "MicrosoftAppTenantId", "AZURE_CLIENT_ID",
		"KEYTURN_STORE", "KEYTURN_TABLES_URL", "KEYTURN_PRINCIPAL_ID", "KEYTURN_POLICY"} {
		if !slices.Contains(set, name) {
			t.Errorf("app.bicep does not set %s", name)
		}
	}
	for _, want := range []string{"'UserAssignedMSI'", "'azure-tables'", "path: '/healthz'", "path: '/readyz'", "var port = 3978"} {
		if !strings.Contains(bicep, want) {
			t.Errorf("app.bicep lacks %s", want)
		}
	}
}

// readByKeyturn returns the environment variables cmd/bot reads.
func readByKeyturn(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("../cmd/bot/*.go")
	if err != nil {
		t.Fatal(err)
	}
	call := regexp.MustCompile(`getenv(?:\.first)?\(([^)]*)\)`)
	lit := regexp.MustCompile(`"([A-Za-z_]+)"`)
	names := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		for _, c := range call.FindAllStringSubmatch(read(t, f), -1) {
			for _, l := range lit.FindAllStringSubmatch(c[1], -1) {
				names[l[1]] = true
			}
		}
	}
	if !names["MicrosoftAppId"] || !names["KEYTURN_STORE"] {
		t.Fatalf("found no getenv calls in cmd/bot (%d names): has the way it reads the environment changed?", len(names))
	}
	return names
}

// TestConfigurationDocListsEverything keeps docs/configuration.md in step
// with the code: every variable cmd/bot reads and every policy key.
func TestConfigurationDocListsEverything(t *testing.T) {
	doc := read(t, "../docs/configuration.md")
	for name := range readByKeyturn(t) {
		if !strings.Contains(doc, "`"+name+"`") {
			t.Errorf("docs/configuration.md does not list the variable %s", name)
		}
	}
	files, err := filepath.Glob("../policy/*.go") // the policy file's shape (package policy)
	if err != nil {
		t.Fatal(err)
	}
	tag := regexp.MustCompile("`yaml:\"([a-z_]+)\"`")
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		for _, m := range tag.FindAllStringSubmatch(read(t, f), -1) {
			n++
			if !regexp.MustCompile("`[a-z_.<>]*\\b" + m[1] + "\\b[a-z_.<>]*`").MatchString(doc) {
				t.Errorf("docs/configuration.md does not list the policy key %s", m[1])
			}
		}
	}
	if n < 20 {
		t.Fatalf("found only %d policy keys in policy/: has the policy file's shape moved?", n)
	}
}

// TestEveryParameterIsDescribed: each param has an @description, as the
// Azure Verified Modules conventions ask.
func TestEveryParameterIsDescribed(t *testing.T) {
	files, err := filepath.Glob("*.bicep")
	if err != nil {
		t.Fatal(err)
	}
	mods, _ := filepath.Glob("modules/*.bicep")
	files = append(files, mods...)
	if len(files) < 5 {
		t.Fatalf("found only %v", files)
	}
	for _, f := range files {
		lines := strings.Split(read(t, f), "\n")
		for i, l := range lines {
			if !strings.HasPrefix(l, "param ") && !strings.HasPrefix(l, "output ") {
				continue
			}
			// Walk back over the decorators (an @allowed list spans lines).
			described := false
			for j := i - 1; j >= 0 && isDecoratorLine(lines[j]); j-- {
				if strings.HasPrefix(lines[j], "@description(") {
					described = true
				}
			}
			if !described {
				t.Errorf("%s:%d: %s has no @description", f, i+1, strings.Fields(l)[1])
			}
		}
	}
}

func isDecoratorLine(l string) bool {
	return strings.HasPrefix(l, "@") || strings.HasPrefix(l, "  '") || l == "])"
}

// TestDockerfileBuildsWithTheCheckedScript: the Dockerfile builds with the
// script CI's image check runs, and runs as distroless's nonroot on 3978.
func TestDockerfileBuildsWithTheCheckedScript(t *testing.T) {
	df := read(t, "../Dockerfile")
	if !strings.Contains(df, "sh tools/image/build.sh /out/keyturn") {
		t.Error("the Dockerfile does not build with tools/image/build.sh")
	}
	if strings.Contains(df, "go build") {
		t.Error("the Dockerfile runs its own go build: use tools/image/build.sh, which CI checks")
	}
	for _, want := range []string{"FROM gcr.io/distroless/static-debian12:nonroot", "USER 65532:65532", "EXPOSE 3978", `CMD ["serve"]`} {
		if !strings.Contains(df, want) {
			t.Errorf("the Dockerfile lacks %s", want)
		}
	}
	// The build stage's Go must be the go.mod's release (go 1.26.8 needs
	// golang:1.26, which tracks its newest patch).
	goMod := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(read(t, "../go.mod"))
	image := regexp.MustCompile(`(?m)^FROM golang:(\d+\.\d+)\b`).FindStringSubmatch(df)
	if goMod == nil || image == nil || goMod[1] != image[1] {
		t.Errorf("the Dockerfile builds with golang:%v, go.mod says go %v", image, goMod)
	}
	build := read(t, "../tools/image/build.sh")
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags="-s -w"`, "./cmd/bot"} {
		if !strings.Contains(build, want) {
			t.Errorf("tools/image/build.sh lacks %s", want)
		}
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
