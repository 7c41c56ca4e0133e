package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/azure/identity"
	"github.com/keyturn/keyturn/rotation"
)

// TestCLIRecoverSweepsOrphans (issue 8, finding 5): `keyturn recover`
// removes a credential Keyturn named whose request the journal does not
// own any more, and says so; --json reports it too.
func TestCLIRecoverSweepsOrphans(t *testing.T) {
	f := newFakeAzure()
	env := testEnv(t)
	if r := f.run(t, env, "rotate", "--app", testClient, "--vault", "kv-payments"); r.code != exitOK {
		t.Fatalf("rotate: %d %s", r.code, r.stderr)
	}
	orphan, _ := f.dir.AddExisting(testClient, "keyturn lost-request", f.clock.Now().Add(time.Hour))
	r := f.run(t, env, "recover")
	if r.code != exitOK || !strings.Contains(r.stdout, "removed orphaned credential "+orphan.KeyID) {
		t.Fatalf("recover: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if _, ok := f.dir.SecretOf(testClient, orphan.KeyID); ok {
		t.Fatal("the orphan is still there")
	}
	app, _ := f.dir.GetApp(context.Background(), testClient)
	if len(app.Passwords) != 2 {
		t.Fatalf("recover removed more than the orphan: %+v", app.Passwords)
	}
	r = f.run(t, env, "recover", "--json")
	var out recoverJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != exitOK || len(out.Orphans) != 0 {
		t.Fatalf("second recover: %d %s %v", r.code, r.stdout, err)
	}
}

// TestPrincipalIDFromTheTokenOnlyForApps: the ownership check uses
// KEYTURN_PRINCIPAL_ID, else the oid of an application's own token; a
// person's token (az login) names no principal, since the person's own
// directory roles may allow what ownership does not.
func TestPrincipalIDFromTheTokenOnlyForApps(t *testing.T) {
	const oid = "0f0f0f0f-0000-4000-8000-000000000001"
	token := func(c map[string]string) identity.Claims {
		b, _ := json.Marshal(c)
		return identity.ParseClaims("h." + base64.RawURLEncoding.EncodeToString(b) + ".s")
	}
	cases := []struct {
		name       string
		configured string
		who        identity.Claims
		want       string
	}{
		{"managed identity", "", token(map[string]string{"oid": oid, "idtyp": "app", "appid": "x"}), oid},
		{"app token without idtyp", "", token(map[string]string{"oid": oid, "appid": "x"}), oid},
		{"person", "", token(map[string]string{"oid": oid, "idtyp": "user", "upn": "ops@contoso.example", "scp": "Application.ReadWrite.All"}), ""},
		{"person without idtyp", "", token(map[string]string{"oid": oid, "upn": "ops@contoso.example", "scp": "x"}), ""},
		{"configured wins", strings.ToUpper(rotationGUID), token(map[string]string{"oid": oid, "idtyp": "app"}), rotationGUID},
	}
	for _, c := range cases {
		if got := principalID(c.configured, c.who); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	if !rotation.IsGUID(rotationGUID) {
		t.Fatal("bad fixture")
	}
}

const rotationGUID = "0e0e0e0e-0000-4000-8000-000000000002"
