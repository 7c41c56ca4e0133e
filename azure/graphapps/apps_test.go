package graphapps

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/azure/internal/graphcore/graphtest"
	"github.com/keyturn/keyturn/rotation"
)

var testEnd = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

func TestGetApp(t *testing.T) {
	h := newHarness(t)
	// Upper case in, canonical lower case on the wire and out.
	app, err := h.c.GetApp(context.Background(), strings.ToUpper(testClientID))
	if err != nil {
		t.Fatalf("GetApp: %v", err)
	}
	want := rotation.App{
		ObjectID:       testObjectID,
		ClientID:       testClientID,
		DisplayName:    "payments-api",
		SignInAudience: "AzureADMyOrg",
		Passwords: []rotation.PasswordCredential{{
			KeyID: oldKeyID, DisplayName: "keyturn-previous", Hint: "abc",
			Start: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), End: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		}},
		Owners: []rotation.Principal{
			{ObjectID: testOwnerID, Name: "Megan Bowen <megan@contoso.example>"},
			{ObjectID: testSPID, Name: "Keyturn (app " + testKeyturnAppID + ")"},
		},
	}
	if !reflect.DeepEqual(app, want) {
		t.Errorf("GetApp =\n%+v\nwant\n%+v", app, want)
	}

	reqs := h.graph.Seen()
	if len(reqs) != 1 {
		t.Fatalf("requests = %d, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodGet || r.Path != "/v1.0/applications(appId='"+testClientID+"')" {
		t.Errorf("request = %s %s", r.Method, r.Path)
	}
	if got, want := strings.Split(r.Query.Get("$select"), ","), appFields; !reflect.DeepEqual(got, want) {
		t.Errorf("$select = %v, want %v (query %v)", got, want, r.Query)
	}
	if got := r.Query.Get("$expand"); got != "owners($select=id,displayName,userPrincipalName,appId)" {
		t.Errorf("$expand = %q", got)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+graphtest.Token {
		t.Errorf("Authorization = %q", got)
	}
	if got := h.cred.Scopes(); len(got) != 1 || !reflect.DeepEqual(got[0], []string{"https://graph.microsoft.com/.default"}) {
		t.Errorf("token scopes = %v", got)
	}
}

func TestGetAppNotFound(t *testing.T) {
	h := newHarness(t)
	h.graph.appExists = false
	_, err := h.c.GetApp(context.Background(), testClientID)
	if !errors.Is(err, rotation.ErrAppNotFound) {
		t.Fatalf("err = %v, want ErrAppNotFound", err)
	}
	for _, want := range []string{"get app " + testClientID, "graph 404 Request_ResourceNotFound", "request-id req-1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "does not exist") {
		t.Errorf("error %q quotes the response body", err)
	}
	if n := len(h.graph.Seen()); n != 1 {
		t.Errorf("requests = %d, want 1 (404 is not retried)", n)
	}
}

func TestInvalidIDsNeverReachGraph(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	bad := []string{
		"",
		"payments-api",
		testClientID + " ",
		"{" + testClientID + "}",
		"urn:uuid:" + testClientID,
		"0b9e8d7c6f5a4e3d9c2b1a0f9e8d7c6b",
		"0b9e8d7c-6f5a-4e3d-9c2b-1a0f9e8d7c6g",
		"0b9e8d7c-6f5a-4e3d-9c2b')/../../users",
		"0b9e8d7c/6f5a-4e3d-9c2b-1a0f9e8d7c6b",
		canary + "-0000-0000-0000",
	}
	for _, id := range bad {
		t.Run(id, func(t *testing.T) {
			calls := map[string]error{}
			_, calls["GetApp"] = h.c.GetApp(ctx, id)
			_, calls["AddPassword"] = h.c.AddPassword(ctx, id, "keyturn-1", testEnd)
			calls["RemovePassword(object)"] = h.c.RemovePassword(ctx, id, oldKeyID)
			calls["RemovePassword(key)"] = h.c.RemovePassword(ctx, testObjectID, id)
			for name, err := range calls {
				if !errors.Is(err, rotation.ErrInvalid) {
					t.Errorf("%s: err = %v, want ErrInvalid", name, err)
				}
				if id != "" && strings.Contains(err.Error(), id) {
					t.Errorf("%s: error %q echoes the input", name, err)
				}
			}
		})
	}
	for _, tc := range []struct {
		name, display string
		end           time.Time
	}{
		{"empty display name", "", testEnd},
		{"control character", "keyturn\n1", testEnd},
		{"too long", strings.Repeat("k", maxDisplayNameLength+1), testEnd},
		{"zero end", "keyturn-1", time.Time{}},
	} {
		if _, err := h.c.AddPassword(ctx, testObjectID, tc.display, tc.end); !errors.Is(err, rotation.ErrInvalid) {
			t.Errorf("AddPassword(%s): err = %v, want ErrInvalid", tc.name, err)
		}
	}
	if n := len(h.graph.Seen()); n != 0 {
		t.Errorf("%d requests reached graph, want 0", n)
	}
}

func TestAddPassword(t *testing.T) {
	h := newHarness(t)
	end := time.Date(2026, 9, 1, 2, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	np, err := h.c.AddPassword(context.Background(), strings.ToUpper(testObjectID), "keyturn-r42", end)
	if err != nil {
		t.Fatalf("AddPassword: %v", err)
	}
	if got := np.Secret.Reveal(); got != canary {
		t.Errorf("secret = %q, want the minted one", got)
	}
	want := rotation.PasswordCredential{
		KeyID: "00000001-0000-4000-8000-00000000abcd", DisplayName: "keyturn-r42", Hint: "CAN",
		Start: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), End: testEnd,
	}
	if np.PasswordCredential != want {
		t.Errorf("credential = %+v, want %+v", np.PasswordCredential, want)
	}

	reqs := h.graph.Seen()
	if len(reqs) != 1 {
		t.Fatalf("requests = %d, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/v1.0/applications/"+testObjectID+"/addPassword" {
		t.Errorf("request = %s %s", r.Method, r.Path)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	var body map[string]map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("body %s: %v", r.Body, err)
	}
	pc := body["passwordCredential"]
	if len(body) != 1 || pc == nil {
		t.Fatalf("body = %s, want only passwordCredential", r.Body)
	}
	if pc["displayName"] != "keyturn-r42" {
		t.Errorf("displayName = %v", pc["displayName"])
	}
	endText, _ := pc["endDateTime"].(string)
	if got, err := time.Parse(time.RFC3339Nano, endText); err != nil || !got.Equal(testEnd) {
		t.Errorf("endDateTime = %q (%v), want %s", endText, err, testEnd)
	}
	for k := range pc {
		if k != "displayName" && k != "endDateTime" {
			t.Errorf("body sends %q; only displayName and endDateTime belong there", k)
		}
	}
}
