package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/keyturn/keyturn/manifest"
)

const botAppID = "6a3e2c1b-0d4f-4e5a-8b7c-9d0e1f2a3b4c"

// runManifest runs `keyturn manifest args...`, needing no backend.
func runManifest(args ...string) cliRun {
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"manifest"}, args...), func(string) string { return "" }, &out, &errb, nil)
	return cliRun{code, out.String(), errb.String()}
}

// readManifest returns manifest.json from the zip at path.
func readManifest(t *testing.T, path string) (names []string, m manifest.Manifest) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Name != manifest.ManifestFile {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || json.Unmarshal(b, &m) != nil {
			t.Fatalf("read manifest.json: %v\n%s", err, b)
		}
	}
	return names, m
}

func TestManifestCommandWritesThePackage(t *testing.T) {
	out := filepath.Join(t.TempDir(), "keyturn.zip")
	if err := os.WriteFile(out, []byte("an older package"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runManifest("--app-id", strings.ToUpper(botAppID), "--domain", "keyturn.contoso.example",
		"--name", "Keyturn for Contoso", "--short-name", "Keyturn", "--developer", "Contoso", "--app-version", "1.2.0", "--out", out)
	if r.code != exitOK || !strings.Contains(r.stdout, "wrote "+out) || r.stderr != "" {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	names, m := readManifest(t, out)
	if !slices.Equal(names, []string{"manifest.json", "color.png", "outline.png"}) {
		t.Errorf("zip holds %v", names)
	}
	if m.ID != botAppID || m.Bots[0].BotID != botAppID || m.Version != "1.2.0" || m.Name.Full != "Keyturn for Contoso" ||
		m.Developer.Name != "Contoso" || !slices.Equal(m.ValidDomains, []string{"keyturn.contoso.example"}) {
		t.Errorf("manifest %+v", m)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".keyturn-*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestManifestCommandDefaults(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if r := runManifest("--app-id", botAppID); r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	_, m := readManifest(t, filepath.Join(dir, manifestDefaults.Out))
	d := manifestDefaults
	if m.Name.Full != d.Name || m.Name.Short != d.Name || m.Developer.Name != d.Developer || m.Version != d.Version ||
		m.ValidDomains[0] != d.Domain || m.Developer.WebsiteURL != "https://"+d.Domain+"/" {
		t.Errorf("manifest %+v does not carry the defaults %+v", m, d)
	}
}

// TestManifestCommandBadFlags proves a wrong flag gets a message naming it,
// exit 2, and no file.
func TestManifestCommandBadFlags(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no app ID", nil, "--app-id: is required"},
		{"app ID not a GUID", []string{"--app-id", "keyturn"}, `--app-id: "keyturn" is not a GUID`},
		{"domain with scheme", []string{"--app-id", botAppID, "--domain", "https://keyturn.contoso.example"}, "--domain: \"https://keyturn.contoso.example\" has a scheme"},
		{"domain with path", []string{"--app-id", botAppID, "--domain", "keyturn.contoso.example/api/messages"}, "--domain: \"keyturn.contoso.example/api/messages\" has a path"},
		{"long short name", []string{"--app-id", botAppID, "--short-name", strings.Repeat("k", 31)}, "--short-name: "},
		{"http privacy URL", []string{"--app-id", botAppID, "--privacy-url", "http://contoso.example/privacy"}, "--privacy-url: \"http://contoso.example/privacy\" is not an https URL"},
		{"version", []string{"--app-id", botAppID, "--app-version", "2"}, "--app-version: \"2\" is not a version"},
		{"empty out", []string{"--app-id", botAppID, "--out", ""}, "--out: is empty"},
		{"unknown flag", []string{"--app-id", botAppID, "--scope", "team"}, "flag provided but not defined: -scope"},
		{"extra argument", []string{"--app-id", botAppID, "now"}, `unexpected argument "now"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "keyturn.zip")
			args := tc.args
			if !slices.Contains(args, "--out") {
				args = append(args, "--out", out)
			}
			t.Chdir(dir) // where an empty --out would write
			r := runManifest(args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
				t.Errorf("exit %d, want %d with %q\nstdout: %s\nstderr: %s", r.code, exitUsage, tc.want, r.stdout, r.stderr)
			}
			if entries, _ := os.ReadDir(dir); len(entries) > 0 {
				t.Errorf("a bad flag wrote %v", entries)
			}
		})
	}
}

func TestManifestCommandAllProblemsAtOnce(t *testing.T) {
	r := runManifest("--app-id", "x", "--domain", "https://a.example/", "--developer", "", "--out", filepath.Join(t.TempDir(), "k.zip"))
	for _, want := range []string{"--app-id:", "--domain:", "--developer:", "nothing written"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

func TestManifestCommandUnwritableOut(t *testing.T) {
	out := filepath.Join(t.TempDir(), "missing-dir", "keyturn.zip")
	r := runManifest("--app-id", botAppID, "--out", out)
	if r.code != exitFailure || !strings.Contains(r.stderr, "write "+out) {
		t.Errorf("exit %d, stderr %s", r.code, r.stderr)
	}
}

func TestManifestCommandHelp(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"manifest", "-h"}, func(string) string { return "" }, &out, &errb, nil)
	if code != exitOK || !strings.Contains(errb.String(), "Usage: keyturn manifest --app-id <bot-app-id>") || !strings.Contains(errb.String(), "-domain") {
		t.Errorf("exit %d, help:\n%s", code, errb.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"help"}, func(string) string { return "" }, &out, &errb, nil); code != exitOK || !strings.Contains(out.String(), "keyturn manifest --app-id <bot-app-id>") {
		t.Errorf("keyturn help lacks the manifest command:\n%s", out.String())
	}
}

// TestReadmeManifestFlags keeps the README's table of manifest flags in
// step with the flags: every flag is listed once, and its default is the
// one manifestDefaults sets (a backquoted literal) or, when the default is
// worked out from other flags, text saying so.
func TestReadmeManifestFlags(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, "`manifest` writes the Teams app package")
	if start < 0 {
		t.Fatal("README has no paragraph on `manifest`")
	}
	table := strings.Index(text[start:], "\n| flag | default |")
	if table < 0 {
		t.Fatal("README has no table of manifest flags")
	}
	f := manifestDefaults
	fs, flags := (&cli{stderr: io.Discard}).manifestFlagSet(&f)
	flagName := regexp.MustCompile("`--([a-z-]+)`")
	literal := regexp.MustCompile("^`([^`<]*)`$")
	seen := map[string]bool{}
	for _, line := range strings.Split(text[start+table+1:], "\n")[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			t.Fatalf("README row %q", line)
		}
		def := strings.TrimSpace(cells[2])
		for _, m := range flagName.FindAllStringSubmatch(cells[1], -1) {
			name := m[1]
			fl := fs.Lookup(name)
			if fl == nil {
				t.Errorf("README lists --%s, which keyturn manifest does not have", name)
				continue
			}
			seen[name] = true
			want := ""
			if lit := literal.FindStringSubmatch(def); lit != nil {
				want = lit[1]
			}
			if fl.DefValue != want {
				t.Errorf("--%s: README says the default is %s, the flag's is %q", name, def, fl.DefValue)
			}
		}
	}
	for _, fl := range flags {
		if !seen[fl.name] {
			t.Errorf("README does not list --%s", fl.name)
		}
	}
}
