package manifest

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keyturn/keyturn/bot/command"
)

var update = flag.Bool("update", false, "rewrite testdata/manifest.json")

const testAppID = "6a3e2c1b-0d4f-4e5a-8b7c-9d0e1f2a3b4c"

// testOptions are the options of the golden manifest.
func testOptions() Options {
	return Options{AppID: testAppID, Name: "Keyturn", Developer: "Contoso Platform Team", Domain: "keyturn.contoso.example", Version: "1.0.0"}
}

func TestManifestGolden(t *testing.T) {
	m, err := New(testOptions())
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "manifest.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./manifest -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("manifest.json differs from %s (go test ./manifest -update rewrites it):\n%s", golden, got)
	}
}

// TestManifestShape pins what the issue asks of the manifest, field by
// field, so a golden update cannot quietly change it.
func TestManifestShape(t *testing.T) {
	m, err := New(testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if m.ManifestVersion != SchemaVersion || m.Schema != "https://developer.microsoft.com/json-schemas/teams/v"+SchemaVersion+"/MicrosoftTeams.schema.json" {
		t.Errorf("schema %q version %q", m.Schema, m.ManifestVersion)
	}
	if m.ID != testAppID || len(m.Bots) != 1 || m.Bots[0].BotID != testAppID {
		t.Errorf("id %q, bots %+v: want the app ID for both", m.ID, m.Bots)
	}
	b := m.Bots[0]
	if !slices.Equal(b.Scopes, []string{"team", "groupChat", "personal"}) {
		t.Errorf("scopes %v", b.Scopes)
	}
	if b.SupportsFiles || b.SupportsCalling || b.SupportsVideo || b.IsNotificationOnly {
		t.Errorf("bot %+v: Keyturn is conversational and exchanges no files or calls", b)
	}
	if !slices.Equal(m.ValidDomains, []string{"keyturn.contoso.example"}) {
		t.Errorf("validDomains %v", m.ValidDomains)
	}
	doc, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	// No permission of any kind: Keyturn needs nothing from the Teams
	// client, and its Graph permissions are the service's, not the app's.
	for _, key := range []string{`"permissions"`, `"devicePermissions"`, `"webApplicationInfo"`, `"authorization"`, `"staticTabs"`, `"configurableTabs"`, `"composeExtensions"`} {
		if bytes.Contains(doc, []byte(key)) {
			t.Errorf("manifest.json has %s", key)
		}
	}
	if !bytes.Contains(doc, []byte(`"supportsFiles": false`)) {
		t.Error(`manifest.json does not say "supportsFiles": false`)
	}
}

// TestCommandListsEqualGrammar proves every scope's command menu is
// exactly bot/command's grammar, in its order, with its usage.
func TestCommandListsEqualGrammar(t *testing.T) {
	m, err := New(testOptions())
	if err != nil {
		t.Fatal(err)
	}
	grammar := command.Commands()
	var scopes []string
	for _, l := range m.Bots[0].CommandLists {
		scopes = append(scopes, l.Scopes...)
		if len(l.Commands) != len(grammar) {
			t.Fatalf("scopes %v: %d commands, the grammar has %d", l.Scopes, len(l.Commands), len(grammar))
		}
		for i, c := range l.Commands {
			g := grammar[i]
			if c.Title != string(g.Verb) || !strings.Contains(c.Description, g.Summary) || !strings.HasPrefix(c.Description, strings.TrimSuffix(g.Usage, string(g.Verb))) {
				t.Errorf("scopes %v, command %d: %+v, grammar %+v", l.Scopes, i, c, g)
			}
			if len([]rune(c.Title)) > maxCommandTitle || len([]rune(c.Description)) > maxCommandDescription {
				t.Errorf("command %q does not fit Teams' command menu", c.Title)
			}
		}
	}
	if !slices.Equal(scopes, m.Bots[0].Scopes) {
		t.Errorf("command lists cover %v, the bot's scopes are %v", scopes, m.Bots[0].Scopes)
	}
	// The commands the issue names are there (a command added to the
	// grammar later joins them without a change here).
	var titles []string
	for _, c := range m.Bots[0].CommandLists[0].Commands {
		titles = append(titles, c.Title)
	}
	for _, want := range []string{"help", "rotate", "status", "retire", "whoami", "audit here"} {
		if !slices.Contains(titles, want) {
			t.Errorf("titles %v lack %q", titles, want)
		}
	}
}

func TestOptionsDefaultsAndNormalisation(t *testing.T) {
	o := testOptions()
	o.AppID = strings.ToUpper(testAppID)
	o.Domain = "Keyturn.Contoso.Example"
	o.PrivacyURL = "https://contoso.example/privacy"
	m, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != testAppID || m.ValidDomains[0] != "keyturn.contoso.example" {
		t.Errorf("id %q, domain %q: want lower case", m.ID, m.ValidDomains[0])
	}
	if m.Name.Short != "Keyturn" || m.Name.Full != "Keyturn" {
		t.Errorf("name %+v: the short name defaults to the name", m.Name)
	}
	d := m.Developer
	if d.WebsiteURL != "https://keyturn.contoso.example/" || d.TermsOfUseURL != d.WebsiteURL || d.PrivacyURL != "https://contoso.example/privacy" {
		t.Errorf("developer %+v", d)
	}
}

func TestBadOptions(t *testing.T) {
	long := strings.Repeat("k", 31)
	cases := []struct {
		name   string
		change func(*Options)
		field  string
		reason string
	}{
		{"app ID not a GUID", func(o *Options) { o.AppID = "keyturn-bot" }, "AppID", "is not a GUID"},
		{"app ID with braces", func(o *Options) { o.AppID = "{" + testAppID + "}" }, "AppID", "is not a GUID"},
		{"empty app ID", func(o *Options) { o.AppID = " " }, "AppID", "is required"},
		{"domain with scheme", func(o *Options) { o.Domain = "https://keyturn.contoso.example" }, "Domain", "has a scheme"},
		{"domain with path", func(o *Options) { o.Domain = "keyturn.contoso.example/api/messages" }, "Domain", "has a path"},
		{"domain with port", func(o *Options) { o.Domain = "keyturn.contoso.example:443" }, "Domain", "has a port"},
		{"wildcard domain", func(o *Options) { o.Domain = "*.contoso.example" }, "Domain", "is a wildcard"},
		{"single label", func(o *Options) { o.Domain = "localhost" }, "Domain", "is not a host name"},
		{"bad label", func(o *Options) { o.Domain = "-keyturn.contoso.example" }, "Domain", "is not a host name"},
		{"empty domain", func(o *Options) { o.Domain = "" }, "Domain", "is empty"},
		{"long name, no short name", func(o *Options) { o.Name = long }, "ShortName", "is needed: the name has 31 characters"},
		{"short name too long", func(o *Options) { o.ShortName = long }, "ShortName", "Teams allows at most 30"},
		{"name too long", func(o *Options) { o.Name = strings.Repeat("k", 101); o.ShortName = "Keyturn" }, "Name", "at most 100"},
		{"developer too long", func(o *Options) { o.Developer = strings.Repeat("d", 33) }, "Developer", "at most 32"},
		{"developer blank", func(o *Options) { o.Developer = "  " }, "Developer", "is empty"},
		{"control character", func(o *Options) { o.Name = "Key\nturn" }, "Name", "control character"},
		{"http URL", func(o *Options) { o.TermsURL = "http://contoso.example/terms" }, "TermsURL", "not an https URL"},
		{"relative URL", func(o *Options) { o.WebsiteURL = "/about" }, "WebsiteURL", "not an https URL"},
		{"version", func(o *Options) { o.Version = "1.0" }, "Version", "major.minor.patch"},
		{"version with prefix", func(o *Options) { o.Version = "v1.0.0" }, "Version", "major.minor.patch"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions()
			tc.change(&o)
			_, err := New(o)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || !strings.Contains(fe.Reason, tc.reason) {
				t.Fatalf("error %v, want %s: ...%s", err, tc.field, tc.reason)
			}
			if zip, err := Package(o); zip != nil || err == nil {
				t.Error("Package built a zip from bad options")
			}
		})
	}
}

// TestBadOptionsAllReported proves every problem is reported at once.
func TestBadOptionsAllReported(t *testing.T) {
	_, err := New(Options{AppID: "nope", Domain: "http://x.example/", Version: "1"})
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %v does not join the problems", err)
	}
	var fields []string
	for _, e := range joined.Unwrap() {
		var fe *FieldError
		if errors.As(e, &fe) {
			fields = append(fields, fe.Field)
		}
	}
	want := []string{"AppID", "Name", "ShortName", "Developer", "Domain", "Version"}
	if !slices.Equal(fields, want) {
		t.Errorf("reported %v, want %v (%v)", fields, want, err)
	}
}
