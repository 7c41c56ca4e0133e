package botauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v4"
	"github.com/infracloudio/msbotbuilder-go/connector/auth"
	"github.com/infracloudio/msbotbuilder-go/core"
	"github.com/infracloudio/msbotbuilder-go/schema"
)

const teamsActivity = `{"type":"message","id":"1","channelId":"msteams","serviceUrl":"https://smba.trafficmanager.net/emea/",
"from":{"id":"29:1","aadObjectId":"00000000-0000-0000-0000-000000000001"},"conversation":{"id":"a:1","conversationType":"personal"},
"recipient":{"id":"28:` + testAppID + `"},"text":"rotate"}`

// TestAdapterThroughBotFrameworkAdapter plugs the adapter into the
// library's own request parsing and checks the status survives its error
// wrapping.
func TestAdapterThroughBotFrameworkAdapter(t *testing.T) {
	e := newEnv(t, nil)
	k := fixtureKeys()
	other := func(t *testing.T) string {
		return mint(t, jwt.SigningMethodRS256, k.other, map[string]any{"kid": kidOther}, claimsAt(e.clock.Now()))
	}
	cases := []struct {
		name        string
		header      func(t *testing.T) string
		credentials auth.CredentialProvider
		want        int
	}{
		{"valid", func(t *testing.T) string { return bearer(e.teamsToken(t)) }, auth.SimpleCredentialProvider{AppID: testAppID}, 200},
		{"missing header", func(*testing.T) string { return "" }, auth.SimpleCredentialProvider{AppID: testAppID}, 401},
		{"not endorsed", func(t *testing.T) string { return bearer(other(t)) }, auth.SimpleCredentialProvider{AppID: testAppID}, 403},
		{"serviceurl mismatch", func(t *testing.T) string {
			return bearer(e.teamsToken(t, set("serviceurl", "https://evil.example/")))
		}, auth.SimpleCredentialProvider{AppID: testAppID}, 401},
		{"library auth disabled does not disable ours", func(*testing.T) string { return "Bearer x.y.z" }, auth.SimpleCredentialProvider{}, 401},
		{"token without Bearer (library made it optional)", func(t *testing.T) string { return e.teamsToken(t) }, auth.SimpleCredentialProvider{AppID: testAppID}, 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bf := &core.BotFrameworkAdapter{
				AdapterSetting: core.AdapterSetting{AppID: testAppID, CredentialProvider: tc.credentials},
				TokenValidator: NewTokenValidatorAdapter(e.v),
			}
			req := httptest.NewRequest(http.MethodPost, "/api/messages", strings.NewReader(teamsActivity))
			if h := tc.header(t); h != "" {
				req.Header.Set("Authorization", h)
			}
			act, err := bf.ParseRequest(context.Background(), req)
			if got := HTTPStatus(err); got != tc.want {
				t.Fatalf("status = %d, want %d (err: %v)", got, tc.want, err)
			}
			if tc.want == 403 && !errors.Is(err, ErrForbidden) {
				t.Errorf("errors.Is(ErrForbidden) lost through the library's wrapping: %v", err)
			}
			if err == nil && (act.Text != "rotate" || act.ChannelID != "msteams") {
				t.Errorf("activity = %+v", act)
			}
		})
	}
}

func TestAdapterIdentity(t *testing.T) {
	e := newEnv(t, nil)
	a := NewTokenValidatorAdapter(e.v)
	act := schema.Activity{ChannelID: "msteams", ServiceURL: testServiceURL}
	id, err := a.AuthenticateRequest(context.Background(), act, bearer(e.teamsToken(t)), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if !id.IsAuthenticated() {
		t.Error("not authenticated")
	}
	want := map[string]string{
		"aud":        testAppID,
		"iss":        DefaultIssuer,
		"serviceurl": testServiceURL,
		"appid":      "d6d49420-f39b-4df7-a1dc-d59a935871db",
		"azp":        "d6d49420-f39b-4df7-a1dc-d59a935871db",
		"exp":        strconv.FormatInt(e.clock.Now().Add(3600e9).Unix(), 10),
		"ver":        "", // absent claims answer "" (the library's identity panics)
		"upn":        "",
	}
	for name, v := range want {
		if got := id.GetClaimValue(name); got != v {
			t.Errorf("GetClaimValue(%q) = %q, want %q", name, got, v)
		}
	}

	act.ChannelID = "webchat"
	if _, err := a.AuthenticateRequest(context.Background(), act, bearer(e.teamsToken(t)), nil, ""); HTTPStatus(err) != 403 {
		t.Errorf("channel from the activity not used: %v", err)
	}
	act.ChannelID, act.ServiceURL = "msteams", "https://other.example/"
	if _, err := a.AuthenticateRequest(context.Background(), act, bearer(e.teamsToken(t)), nil, ""); HTTPStatus(err) != 401 {
		t.Errorf("serviceUrl from the activity not used: %v", err)
	}
	var nilAdapter *TokenValidatorAdapter
	if _, err := nilAdapter.AuthenticateRequest(context.Background(), act, bearer(e.teamsToken(t)), nil, ""); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("nil adapter: %v", err)
	}
}

func TestHTTPStatus(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{nil, 200},
		{ErrUnauthorized, 401},
		{ErrForbidden, 403},
		{errors.New("something else"), 401},
		{context.Canceled, 401},
		{errors.Join(errors.New("wrapped"), ErrForbidden), 403},
	}
	for _, tc := range cases {
		if got := HTTPStatus(tc.err); got != tc.want {
			t.Errorf("HTTPStatus(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}
