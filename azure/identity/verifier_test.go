package identity

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"

	"github.com/keyturn/keyturn/rotation"
)

func TestVerifyNotYetValidThenValid(t *testing.T) {
	e := newEntra(t, invalidSecret(7000215), invalidSecret(7000215))
	var logs bytes.Buffer
	v, err := NewVerifier(tenant, scope, e.options(&logs))
	if err != nil {
		t.Fatal(err)
	}
	secret := rotation.NewSecret(canary)
	ctx := context.Background()

	want := []error{rotation.ErrNotYetValid, rotation.ErrNotYetValid, nil, nil}
	var texts []string
	for i, w := range want {
		err := v.Verify(ctx, clientID, secret)
		if w == nil && err != nil || w != nil && !errors.Is(err, w) {
			t.Fatalf("attempt %d: err = %v; want %v", i+1, err, w)
		}
		if err != nil {
			texts = append(texts, err.Error(), fmt.Sprintf("%+v %#v", err, err))
			for _, s := range []string{"AADSTS7000215", `"invalid_client"`, "trace id trace-5f0c", "correlation id corr-77aa", "status 401"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			if strings.Contains(err.Error(), "Invalid client secret provided") {
				t.Errorf("error %q repeats error_description", err)
			}
		}
	}

	reqs := e.tokenRequests()
	if len(reqs) != len(want) {
		t.Fatalf("%d token requests; want %d (one per Verify, no cache)", len(reqs), len(want))
	}
	for i, r := range reqs {
		if r.Secret != canary || r.ClientID != clientID || !strings.HasPrefix(r.Scope, scope+" ") && r.Scope != scope || r.GrantType != "client_credentials" {
			t.Errorf("request %d: client %q scope %q grant %q, secret sent: %t", i+1, r.ClientID, r.Scope, r.GrantType, r.Secret == canary)
		}
	}
	if u := e.unknownRequests(); len(u) > 0 {
		t.Errorf("unexpected requests: %v", u)
	}
	if !strings.Contains(logs.String(), "secret verified") || !strings.Contains(logs.String(), "error_codes=[7000215]") {
		t.Errorf("logs lack the outcomes: %s", logs.String())
	}
	noCanary(t, append(texts, logs.String())...)
}

func TestVerifyRefusals(t *testing.T) {
	tests := []struct {
		name    string
		answer  refusal
		want    error // nil: any error but ErrNotYetValid
		has     []string
		hasNot  []string
		badHost bool
	}{
		{name: "app not propagated", answer: refusal{400, `{"error":"unauthorized_client","error_description":"AADSTS700016: Application with identifier 'x' was not found in the directory 'y'.","error_codes":[700016]}`},
			want: rotation.ErrNotYetValid, has: []string{"AADSTS700016"}},
		{name: "keys not propagated", answer: refusal{401, `{"error":"invalid_client","error_description":"AADSTS7000222: The provided client secret keys are expired.","error_codes":[7000222]}`},
			want: rotation.ErrNotYetValid, has: []string{"AADSTS7000222"}},
		{name: "app disabled", answer: refusal{400, `{"error":"unauthorized_client","error_description":"AADSTS7000112: Application is disabled.","error_codes":[7000112],"trace_id":"t-1"}`},
			has: []string{"AADSTS7000112", `"unauthorized_client"`, "trace id t-1", "status 400"}, hasNot: []string{"Application is disabled"}},
		{name: "description only, no codes", answer: refusal{401, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}`},
			has: []string{`"invalid_client"`}, hasNot: []string{"Invalid client secret provided"}},
		{name: "server error page", answer: refusal{503, `<html>AADSTS7000215 maintenance</html>`},
			has: []string{"status 503"}, hasNot: []string{"maintenance"}},
		{name: "unreachable", badHost: true, has: []string{"no answer from the token endpoint"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEntra(t, tt.answer, tt.answer, tt.answer, tt.answer)
			var logs bytes.Buffer
			opts := e.options(&logs)
			if tt.badHost {
				// A closed port on loopback: nothing answers.
				closed := newEntra(t)
				closed.srv.Close()
				opts.Cloud.ActiveDirectoryAuthorityHost = closed.srv.URL + "/"
				opts.Transport = closed.srv.Client()
			}
			v, err := NewVerifier(tenant, scope, opts)
			if err != nil {
				t.Fatal(err)
			}
			err = v.Verify(context.Background(), clientID, rotation.NewSecret(canary))
			switch {
			case err == nil:
				t.Fatal("Verify succeeded; want an error")
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("err = %v; want %v", err, tt.want)
			case tt.want == nil && errors.Is(err, rotation.ErrNotYetValid):
				t.Fatalf("err = %v; must not be ErrNotYetValid", err)
			}
			for _, s := range tt.has {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			for _, s := range tt.hasNot {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains %q", err, s)
				}
			}
			noCanary(t, err.Error(), fmt.Sprintf("%+v", err), logs.String())
		})
	}
}

func TestVerifyCanceled(t *testing.T) {
	e := newEntra(t)
	var logs bytes.Buffer
	v, err := NewVerifier(tenant, scope, e.options(&logs))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = v.Verify(ctx, clientID, rotation.NewSecret(canary))
	if !errors.Is(err, context.Canceled) || errors.Is(err, rotation.ErrNotYetValid) {
		t.Fatalf("err = %v; want context.Canceled", err)
	}
	noCanary(t, err.Error(), logs.String())
}

func TestVerifyInvalidInput(t *testing.T) {
	e := newEntra(t)
	var logs bytes.Buffer
	v, err := NewVerifier("", scope, Options{TenantID: tenant, Cloud: e.options(&logs).Cloud, Transport: e.srv.Client(), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		client string
		secret rotation.Secret
	}{{"", rotation.NewSecret(canary)}, {clientID, rotation.Secret{}}} {
		if err := v.Verify(context.Background(), tc.client, tc.secret); !errors.Is(err, rotation.ErrInvalid) {
			t.Errorf("Verify(%q) err = %v; want ErrInvalid", tc.client, err)
		}
	}
	if n := len(e.tokenRequests()); n != 0 {
		t.Errorf("%d token requests; want none", n)
	}
}

func TestNewVerifierRequires(t *testing.T) {
	good := cloud.Configuration{ActiveDirectoryAuthorityHost: "https://login.microsoftonline.com/"}
	tests := []struct {
		name          string
		tenant, scope string
		cloud         cloud.Configuration
	}{
		{"no tenant", "", scope, good},
		{"no scope", tenant, "", good},
		{"no authority", tenant, scope, cloud.Configuration{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewVerifier(tt.tenant, tt.scope, Options{Cloud: tt.cloud}); err == nil {
				t.Error("NewVerifier succeeded; want an error")
			}
		})
	}
	if _, err := NewVerifier(tenant, scope, Options{Cloud: good}); err != nil {
		t.Errorf("NewVerifier with all set: %v", err)
	}
}

func TestNotYetValidCodesAreStructured(t *testing.T) {
	// A code mentioned only in text is not enough; the error_codes array
	// decides.
	e := newEntra(t, refusal{http.StatusBadRequest, `{"error":"invalid_request","error_description":"AADSTS7000215 AADSTS700016","error_codes":[900144]}`})
	var logs bytes.Buffer
	v, err := NewVerifier(tenant, scope, e.options(&logs))
	if err != nil {
		t.Fatal(err)
	}
	err = v.Verify(context.Background(), clientID, rotation.NewSecret(canary))
	if err == nil || errors.Is(err, rotation.ErrNotYetValid) || !strings.Contains(err.Error(), "AADSTS900144") {
		t.Fatalf("err = %v; want a plain refusal with AADSTS900144", err)
	}
}

func TestRedact(t *testing.T) {
	secret := rotation.NewSecret(canary)
	tests := []struct {
		in   error
		want string
	}{
		{errors.New("plain failure"), "plain failure"},
		{errors.New("echo " + canary + " twice " + canary), "echo [REDACTED] twice [REDACTED]"},
	}
	for _, tt := range tests {
		if got := redact(tt.in, secret).Error(); got != tt.want {
			t.Errorf("redact(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
	if err := errors.New("x"); redact(err, rotation.Secret{}) != err {
		t.Error("redact with no secret changed the error")
	}
}
