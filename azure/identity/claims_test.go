package identity

import (
	"encoding/base64"
	"testing"
)

func TestParseClaims(t *testing.T) {
	jwt := func(payload string) string {
		return "e30." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".sig"
	}
	cases := []struct {
		name, token, want, tenant string
	}{
		{"user", jwt(`{"tid":"t1","oid":"o1","upn":"ops@contoso.example"}`), "ops@contoso.example (o1)", "t1"},
		{"user without upn", jwt(`{"tid":"t1","oid":"o1","preferred_username":"ops@contoso.example"}`), "ops@contoso.example (o1)", "t1"},
		{"managed identity", jwt(`{"tid":"t2","oid":"o2","appid":"a2","idtyp":"app"}`), "app a2 (o2)", "t2"},
		{"not a JWT", "opaque", "", ""},
		{"bad payload", "e30.!!!.sig", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ParseClaims(c.token)
			if got.Name() != c.want || got.TenantID != c.tenant {
				t.Errorf("ParseClaims = %+v (name %q), want name %q tenant %q", got, got.Name(), c.want, c.tenant)
			}
		})
	}
}
