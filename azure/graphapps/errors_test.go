package graphapps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/keyturn/keyturn/azure/internal/graphcore/graphtest"
	"github.com/keyturn/keyturn/rotation"
)

func TestAddPasswordRefusals(t *testing.T) {
	tests := []struct {
		name         string
		status       int
		code         string
		want         error
		wantInText   []string
		forbidInText []string
	}{
		{
			name: "not an owner", status: 403, code: "Authorization_RequestDenied", want: rotation.ErrNotOwner,
			wantInText: []string{
				"add password to application " + testObjectID,
				"graph 403 Authorization_RequestDenied",
				"request-id req-1",
				"az ad app owner add --id " + testObjectID + " --owner-object-id " + testSPID,
				"Application.ReadWrite.OwnedBy",
			},
			forbidInText: []string{"Insufficient privileges"},
		},
		{name: "lifetime policy", status: 400, code: "CredentialInvalidLifetimeAsPerAppPolicy", want: rotation.ErrLifetimePolicy,
			wantInText: []string{"graph 400 CredentialInvalidLifetimeAsPerAppPolicy"}},
		{name: "passwords forbidden", status: 400, code: "CredentialTypeNotAllowedAsPerAppPolicy", want: rotation.ErrPasswordsForbidden},
		{name: "two secrets already", status: 400, code: "TooManyAppPasswords", want: rotation.ErrPasswordsForbidden},
		{name: "object too big", status: 403, code: "Directory_ResourceSizeExceeded", want: rotation.ErrPasswordsForbidden},
		{name: "app gone", status: 404, code: "Request_ResourceNotFound", want: rotation.ErrAppNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.graph.Inject(graphtest.Fault{Method: "POST", Suffix: "/addPassword", Status: tc.status, Code: tc.code,
				Message: "Insufficient privileges to complete the operation. " + canary})
			_, err := h.c.AddPassword(context.Background(), testObjectID, "keyturn-r1", testEnd)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			for _, s := range tc.wantInText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			for _, s := range append(tc.forbidInText, canary) {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q quotes the response body (%q)", err, s)
				}
			}
			if n := h.graph.Count("POST", "/addPassword"); n != 1 {
				t.Errorf("addPassword reached graph %d times, want 1", n)
			}
			if w := h.sleep.Waits(); len(w) != 0 {
				t.Errorf("slept %v for a final refusal", w)
			}
		})
	}
}

// TestAddPasswordAmbiguousThenReconcile: the write happens, the answer is a
// 504. The adapter must report ErrAmbiguous after exactly one POST; the saga
// finds the credential by its display name.
func TestAddPasswordAmbiguousThenReconcile(t *testing.T) {
	for _, status := range []int{503, 504} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			h := newHarness(t)
			h.graph.Inject(graphtest.Fault{Method: "POST", Suffix: "/addPassword", Status: status, Code: "GatewayTimeout", Apply: true,
				Header: map[string]string{"Retry-After": "0"}})
			ctx := context.Background()
			np, err := h.c.AddPassword(ctx, testObjectID, "keyturn-r9", testEnd)
			if !errors.Is(err, rotation.ErrAmbiguous) {
				t.Fatalf("err = %v, want ErrAmbiguous", err)
			}
			if !np.Secret.IsZero() {
				t.Error("an ambiguous answer returned a secret")
			}
			if n := h.graph.Count("POST", "/addPassword"); n != 1 {
				t.Fatalf("addPassword reached graph %d times, want exactly 1", n)
			}
			app, err := h.c.GetApp(ctx, testClientID)
			if err != nil {
				t.Fatalf("GetApp: %v", err)
			}
			if got := app.PasswordByDisplayName("keyturn-r9"); len(got) != 1 {
				t.Errorf("credentials named keyturn-r9 = %+v, want exactly one", got)
			}
		})
	}
}

// TestPerRequestOptionStopsStockRetryHandler builds the adapter around kiota's
// stock retry handler (which re-sends POSTs on 503) and shows that the
// per-request option alone keeps addPassword to one send.
func TestPerRequestOptionStopsStockRetryHandler(t *testing.T) {
	h := newHarness(t)
	cloud := graphtest.Cloud(t)
	c, err := newClient(h.cred, cloud, nil, h.options(), stockRetryChain())
	if err != nil {
		t.Fatal(err)
	}
	h.graph.Inject(graphtest.Fault{Method: "POST", Suffix: "/addPassword", Status: 503, Code: "ServiceUnavailable", Times: -1,
		Header: map[string]string{"Retry-After": "0"}})

	// Control: the same POST without the option is re-sent by kiota.
	if err := rawAddPassword(c); err == nil {
		t.Fatal("raw addPassword succeeded against a 503")
	}
	if n := h.graph.Count("POST", "/addPassword"); n != 4 {
		t.Fatalf("control: stock retry handler sent %d POSTs, want 4 (1 + 3 retries); the test cannot prove anything", n)
	}

	_, err = c.AddPassword(context.Background(), testObjectID, "keyturn-r3", testEnd)
	if !errors.Is(err, rotation.ErrAmbiguous) {
		t.Fatalf("err = %v, want ErrAmbiguous", err)
	}
	if n := h.graph.Count("POST", "/addPassword") - 4; n != 1 {
		t.Errorf("AddPassword sent %d POSTs, want 1", n)
	}
}

func TestRemovePassword(t *testing.T) {
	h := newHarness(t)
	if err := h.c.RemovePassword(context.Background(), testObjectID, strings.ToUpper(oldKeyID)); err != nil {
		t.Fatalf("RemovePassword: %v", err)
	}
	reqs := h.graph.Seen()
	if len(reqs) != 1 {
		t.Fatalf("requests = %d, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/v1.0/applications/"+testObjectID+"/removePassword" {
		t.Errorf("request = %s %s", r.Method, r.Path)
	}
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil || len(body) != 1 || body["keyId"] != oldKeyID {
		t.Errorf("body = %s (%v), want {\"keyId\":%q}", r.Body, err, oldKeyID)
	}
	if got := h.graph.credentials(); len(got) != 0 {
		t.Errorf("credentials after removal = %+v", got)
	}
}

func TestRemovePasswordAlreadyGone(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusNotFound} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			h := newHarness(t)
			h.graph.notFoundAs = status
			gone := "99999999-2222-4333-8444-555555555555"
			if err := h.c.RemovePassword(context.Background(), testObjectID, gone); err != nil {
				t.Fatalf("RemovePassword of an absent key: %v, want nil", err)
			}
			reqs := h.graph.Seen()
			if len(reqs) != 2 {
				t.Fatalf("requests = %d, want removePassword then a read", len(reqs))
			}
			if r := reqs[1]; r.Method != http.MethodGet || r.Path != "/v1.0/applications/"+testObjectID ||
				r.Query.Get("$select") != "id,passwordCredentials" {
				t.Errorf("check = %s %s ?%v", r.Method, r.Path, r.Query)
			}
			if got := h.graph.credentials(); len(got) != 1 {
				t.Errorf("credentials = %+v, want the old one untouched", got)
			}
		})
	}
}

func TestRemovePasswordFailures(t *testing.T) {
	t.Run("app not found", func(t *testing.T) {
		h := newHarness(t)
		h.graph.appExists = false
		err := h.c.RemovePassword(context.Background(), testObjectID, oldKeyID)
		if !errors.Is(err, rotation.ErrAppNotFound) {
			t.Fatalf("err = %v, want ErrAppNotFound", err)
		}
	})
	t.Run("refused while the key is still there", func(t *testing.T) {
		h := newHarness(t)
		h.graph.Inject(graphtest.Fault{Method: "POST", Suffix: "/removePassword", Status: 400, Code: "Request_BadRequest", Message: "Something else."})
		err := h.c.RemovePassword(context.Background(), testObjectID, oldKeyID)
		var ge *graphError
		if err == nil || !errors.As(err, &ge) || ge.Facts.Status != 400 {
			t.Fatalf("err = %v, want the 400", err)
		}
		if got := h.graph.credentials(); len(got) != 1 {
			t.Errorf("credentials = %+v", got)
		}
	})
	t.Run("not an owner", func(t *testing.T) {
		h := newHarness(t)
		h.graph.Inject(graphtest.Fault{Method: "POST", Suffix: "/removePassword", Status: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges."})
		err := h.c.RemovePassword(context.Background(), testObjectID, oldKeyID)
		if !errors.Is(err, rotation.ErrNotOwner) || !strings.Contains(err.Error(), "az ad app owner add --id "+testObjectID) {
			t.Fatalf("err = %v, want ErrNotOwner with instructions", err)
		}
	})
}

func TestNotSentIsNotAmbiguous(t *testing.T) {
	t.Run("token failure", func(t *testing.T) {
		h := newHarness(t)
		h.cred.SetErr(errors.New("AADSTS700016: application not found in the directory"))
		_, err := h.c.AddPassword(context.Background(), testObjectID, "keyturn-r1", testEnd)
		if err == nil || errors.Is(err, rotation.ErrAmbiguous) {
			t.Fatalf("err = %v, want a plain failure", err)
		}
		if !strings.Contains(err.Error(), "not sent") || !strings.Contains(err.Error(), "AADSTS700016") {
			t.Errorf("error %q should say the request was not sent and why", err)
		}
		if n := len(h.graph.Seen()); n != 0 {
			t.Errorf("%d requests reached graph", n)
		}
	})
	t.Run("context already cancelled", func(t *testing.T) {
		h := newHarness(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := h.c.AddPassword(ctx, testObjectID, "keyturn-r1", testEnd)
		if !errors.Is(err, context.Canceled) || errors.Is(err, rotation.ErrAmbiguous) {
			t.Fatalf("err = %v, want context.Canceled, not ambiguous", err)
		}
		if n := len(h.graph.Seen()); n != 0 {
			t.Errorf("%d requests reached graph", n)
		}
	})
	t.Run("cancelled while waiting to retry", func(t *testing.T) {
		h := newHarness(t)
		h.sleep.SetErr(context.Canceled)
		h.graph.Inject(graphtest.Fault{Method: "POST", Suffix: "/addPassword", Status: 429, Code: "TooManyRequests"})
		_, err := h.c.AddPassword(context.Background(), testObjectID, "keyturn-r1", testEnd)
		if !errors.Is(err, rotation.ErrThrottled) || !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want ErrThrottled and context.Canceled", err)
		}
	})
}

// TestSecretNeverLeaks drives every path that sees the minted secret and
// searches all output for it.
func TestSecretNeverLeaks(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	var outputs []string

	np, err := h.c.AddPassword(ctx, testObjectID, "keyturn-r5", testEnd)
	if err != nil {
		t.Fatalf("AddPassword: %v", err)
	}
	if np.Secret.Reveal() != canary {
		t.Fatal("the canary did not come back: the test proves nothing")
	}
	j, _ := json.Marshal(np)
	outputs = append(outputs, fmt.Sprintf("%v|%+v|%#v|%s", np, np, np, np), string(j))

	// A success without a key id: the secret came back but cannot be used.
	h.graph.Inject(graphtest.Fault{Method: "POST", Suffix: "/addPassword", Status: 200, Apply: true,
		Body: `{"displayName":"keyturn-r6","secretText":"` + canary + `","hint":"CAN"}`})
	np2, err := h.c.AddPassword(ctx, testObjectID, "keyturn-r6", testEnd)
	if !errors.Is(err, rotation.ErrAmbiguous) || !np2.Secret.IsZero() {
		t.Errorf("answer without key id: err = %v, secret set = %v", err, !np2.Secret.IsZero())
	}
	outputs = append(outputs, fmt.Sprintf("%v %+v", err, np2))

	// A success whose body is broken around the secret.
	h.graph.Inject(graphtest.Fault{Method: "POST", Suffix: "/addPassword", Status: 200, Apply: true,
		Body: `{"keyId":"00000009-0000-4000-8000-00000000abcd","secretText":"` + canary + `",`})
	_, err = h.c.AddPassword(ctx, testObjectID, "keyturn-r7", testEnd)
	if !errors.Is(err, rotation.ErrAmbiguous) {
		t.Errorf("unreadable answer: err = %v, want ErrAmbiguous", err)
	}
	outputs = append(outputs, fmt.Sprint(err))

	// Error bodies that quote the secret.
	for _, st := range []int{400, 403, 429, 500} {
		h.graph.Inject(graphtest.Fault{Method: "POST", Suffix: "/addPassword", Status: st, Code: "X", Message: canary})
		_, err := h.c.AddPassword(ctx, testObjectID, "keyturn-r8", testEnd)
		outputs = append(outputs, fmt.Sprintf("%v %+v", err, err))
	}
	// GET answers never carry secretText, but if one did it must not come through.
	h.graph.Inject(graphtest.Fault{Method: "GET", Suffix: "')", Status: 200,
		Body: `{"id":"` + testObjectID + `","appId":"` + testClientID + `","passwordCredentials":[{"keyId":"` + oldKeyID + `","secretText":"` + canary + `"}]}`})
	app, err := h.c.GetApp(ctx, testClientID)
	if err != nil {
		t.Fatalf("GetApp: %v", err)
	}
	j, _ = json.Marshal(app)
	outputs = append(outputs, fmt.Sprintf("%v %+v %#v", app, app, app), string(j))

	outputs = append(outputs, h.logs.String())
	if !strings.Contains(h.logs.String(), "graph password added") {
		t.Error("no log captured: the search below proves nothing")
	}
	for i, out := range outputs {
		if strings.Contains(out, canary) {
			t.Errorf("output %d holds the secret: %s", i, out)
		}
	}
}
