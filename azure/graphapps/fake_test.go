package graphapps

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/azure/internal/graphcore/graphtest"
)

// Test identities. canary is the secret text the fake mints; tests search
// every output for it.
const (
	canary       = "CANARY-s3cr3t-~value"
	testObjectID = "6c1f2e3d-4b5a-4c7d-8e9f-0a1b2c3d4e5f"
	testClientID = "0b9e8d7c-6f5a-4e3d-9c2b-1a0f9e8d7c6b"
	testSPID     = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
	oldKeyID     = "11111111-2222-4333-8444-555555555555"
	// The app's owners: a person and Keyturn's service principal.
	testOwnerID      = "7faf8ab2-3d56-4244-b585-20c8a42ed2b8"
	testKeyturnAppID = "c9e8c047-2a74-40a2-b28a-b162d5f5327c"
)

type fakeCredential struct {
	KeyID, DisplayName, Hint string
	Start, End               time.Time
}

// fakeGraph is a stateful stand-in for the Graph endpoints the package
// uses, holding one application. Its state is guarded by the server's lock,
// under which route runs.
type fakeGraph struct {
	*graphtest.Server

	appExists  bool
	creds      []fakeCredential
	keys       int
	notFoundAs int // status for "No password credential found": 400 or 404
}

func newFakeGraph(t *testing.T) *fakeGraph {
	t.Helper()
	f := &fakeGraph{appExists: true, notFoundAs: http.StatusBadRequest}
	f.creds = []fakeCredential{{
		KeyID: oldKeyID, DisplayName: "keyturn-previous", Hint: "abc",
		Start: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), End: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}}
	f.Server = graphtest.NewServer(t, f.route)
	return f
}

func (f *fakeGraph) credentials() []fakeCredential {
	f.Lock()
	defer f.Unlock()
	return append([]fakeCredential(nil), f.creds...)
}

// route implements the four endpoints against the fake's state.
func (f *fakeGraph) route(r *http.Request, body []byte, reqID string) (int, any) {
	method, path := r.Method, r.URL.Path
	byAppID := "/v1.0/applications(appId='" + testClientID + "')"
	byID := "/v1.0/applications/" + testObjectID
	switch {
	case method == http.MethodGet && (path == byAppID || path == byID):
		if !f.appExists {
			return graphtest.NotFound(testClientID, reqID)
		}
		return http.StatusOK, f.appJSON()
	case method == http.MethodPost && path == byID+"/addPassword":
		if !f.appExists {
			return graphtest.NotFound(testObjectID, reqID)
		}
		var in struct {
			PasswordCredential struct {
				DisplayName string    `json:"displayName"`
				EndDateTime time.Time `json:"endDateTime"`
			} `json:"passwordCredential"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return http.StatusBadRequest, graphtest.ODataError("Request_BadRequest", "bad body", reqID)
		}
		f.keys++
		c := fakeCredential{
			KeyID:       fmt.Sprintf("%08x-0000-4000-8000-00000000abcd", f.keys),
			DisplayName: in.PasswordCredential.DisplayName,
			Hint:        canary[:3],
			Start:       time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
			End:         in.PasswordCredential.EndDateTime.UTC(),
		}
		f.creds = append(f.creds, c)
		out := credJSON(c)
		out["@odata.context"] = "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.passwordCredential"
		out["secretText"] = canary
		return http.StatusOK, out
	case method == http.MethodPost && path == byID+"/removePassword":
		if !f.appExists {
			return graphtest.NotFound(testObjectID, reqID)
		}
		var in struct {
			KeyID string `json:"keyId"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return http.StatusBadRequest, graphtest.ODataError("Request_BadRequest", "bad body", reqID)
		}
		for i, c := range f.creds {
			if strings.EqualFold(c.KeyID, in.KeyID) {
				f.creds = append(f.creds[:i], f.creds[i+1:]...)
				return http.StatusNoContent, nil
			}
		}
		code := "Request_BadRequest"
		if f.notFoundAs == http.StatusNotFound {
			code = "Request_ResourceNotFound"
		}
		return f.notFoundAs, graphtest.ODataError(code, "No password credential found with keyId "+in.KeyID+".", reqID)
	}
	return f.Unexpected(r, reqID)
}

func (f *fakeGraph) appJSON() map[string]any {
	creds := []any{}
	for _, c := range f.creds {
		creds = append(creds, credJSON(c))
	}
	return map[string]any{
		"@odata.context":      "https://graph.microsoft.com/v1.0/$metadata#applications(id,appId,displayName,passwordCredentials,signInAudience)/$entity",
		"id":                  testObjectID,
		"appId":               testClientID,
		"displayName":         "payments-api",
		"signInAudience":      "AzureADMyOrg",
		"passwordCredentials": creds,
		"owners": []any{
			map[string]any{"@odata.type": "#microsoft.graph.user", "id": testOwnerID, "displayName": "Megan Bowen", "userPrincipalName": "megan@contoso.example"},
			map[string]any{"@odata.type": "#microsoft.graph.servicePrincipal", "id": testSPID, "displayName": "Keyturn", "appId": testKeyturnAppID},
		},
	}
}

func credJSON(c fakeCredential) map[string]any {
	return map[string]any{
		"customKeyIdentifier": nil,
		"displayName":         c.DisplayName,
		"endDateTime":         c.End.Format(time.RFC3339),
		"hint":                c.Hint,
		"keyId":               c.KeyID,
		"secretText":          nil,
		"startDateTime":       c.Start.Format(time.RFC3339Nano),
	}
}
