package armvault

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/keyturn/keyturn/azure/azcloud"
	"github.com/keyturn/keyturn/azure/internal/graphcore/graphtest"
	"github.com/keyturn/keyturn/doctor"
)

// fakeARM answers the two listings as Resource Manager documents them
// (Subscriptions - List, Vaults - List By Subscription), with one vault per
// page so next links are followed.
type fakeARM struct {
	*httptest.Server
	mu       sync.Mutex
	subs     []string
	vaults   map[string][]map[string]any // by subscription
	denied   map[string]bool             // subscriptions whose vault listing is 403
	requests []string
}

func newFakeARM(t *testing.T) *fakeARM {
	f := &fakeARM{vaults: map[string][]map[string]any{}, denied: map[string]bool{}}
	f.Server = httptest.NewTLSServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func vault(sub, name string, props map[string]any) map[string]any {
	props["vaultUri"] = "https://" + name + ".vault.azure.net/"
	props["tenantId"] = "5e7a3b1c-2d4f-4a6b-8c9d-0e1f2a3b4c5d"
	return map[string]any{
		"id":   "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/" + name,
		"name": name, "type": "Microsoft.KeyVault/vaults", "location": "westeurope", "properties": props,
	}
}

func (f *fakeARM) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	w.Header().Set("x-ms-request-id", "arm-req-1")
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "Bearer "+graphtest.Token {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	write := func(v any) { _ = json.NewEncoder(w).Encode(v) }
	if r.URL.Path == "/subscriptions" && r.URL.Query().Get("api-version") == subscriptionsAPI {
		var items []any
		for _, s := range f.subs {
			items = append(items, map[string]any{"id": "/subscriptions/" + s, "subscriptionId": s, "displayName": "sub " + s, "state": "Enabled"})
		}
		write(map[string]any{"value": items})
		return
	}
	for _, s := range f.subs {
		if r.URL.Path != "/subscriptions/"+s+"/providers/Microsoft.KeyVault/vaults" || r.URL.Query().Get("api-version") != vaultsAPI {
			continue
		}
		if f.denied[s] {
			w.WriteHeader(http.StatusForbidden)
			write(map[string]any{"error": map[string]any{"code": "AuthorizationFailed", "message": "CANARY-arm-body does not have authorization"}})
			return
		}
		i := 0
		if r.URL.Query().Get("$skiptoken") == "1" {
			i = 1
		}
		page := map[string]any{"value": f.vaults[s][i:min(i+1, len(f.vaults[s]))]}
		if i+1 < len(f.vaults[s]) {
			page["nextLink"] = f.URL + r.URL.Path + "?api-version=" + vaultsAPI + "&$skiptoken=1"
		}
		write(page)
		return
	}
	if strings.HasSuffix(r.URL.Path, "/providers/Microsoft.Authorization/roleAssignments") && r.URL.Query().Get("api-version") == roleAssignmentsAPI {
		if r.URL.Query().Get("$filter") != "assignedTo('aaaaaaaa-0000-4000-8000-00000000000a')" {
			w.WriteHeader(http.StatusBadRequest)
			write(map[string]any{"error": map[string]any{"code": "InvalidFilter"}})
			return
		}
		scope := strings.TrimSuffix(r.URL.Path, "/providers/Microsoft.Authorization/roleAssignments")
		var items []any
		for _, role := range []string{"b86a8fe4-44ce-4948-aee5-eccb2c155cd7", "acdd72a7-3385-48ef-bd42-f606fba81ae7"} {
			items = append(items, map[string]any{
				"id":   scope + "/providers/Microsoft.Authorization/roleAssignments/" + role[:8],
				"type": "Microsoft.Authorization/roleAssignments",
				"properties": map[string]any{
					"roleDefinitionId": "/subscriptions/sub-a/providers/Microsoft.Authorization/roleDefinitions/" + role,
					"principalId":      "aaaaaaaa-0000-4000-8000-00000000000a", "principalType": "ServicePrincipal", "scope": scope,
				},
			})
		}
		write(map[string]any{"value": items})
		return
	}
	w.WriteHeader(http.StatusNotFound)
	write(map[string]any{"error": map[string]any{"code": "NotFound"}})
}

func TestRolesOf(t *testing.T) {
	f := newFakeARM(t)
	c := newClient(t, f)
	id := "/subscriptions/sub-a/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-payments"
	roles, err := c.RolesOf(context.Background(), id, "AAAAAAAA-0000-4000-8000-00000000000A")
	want := []string{"b86a8fe4-44ce-4948-aee5-eccb2c155cd7", "acdd72a7-3385-48ef-bd42-f606fba81ae7"}
	if err != nil || strings.Join(roles, ",") != strings.Join(want, ",") {
		t.Errorf("RolesOf = %v, %v; want %v", roles, err, want)
	}
	for _, bad := range [][2]string{{"kv-payments", "aaaaaaaa-0000-4000-8000-00000000000a"}, {id + "?x=1", "aaaaaaaa-0000-4000-8000-00000000000a"}, {id, "keyturn"}} {
		if _, err := c.RolesOf(context.Background(), bad[0], bad[1]); err == nil {
			t.Errorf("RolesOf(%q, %q) sent a request", bad[0], bad[1])
		}
	}
}

func newClient(t *testing.T, f *fakeARM) *Client {
	t.Helper()
	cl, err := azcloud.Lookup("")
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(&graphtest.Credential{}, cl, Options{Transport: f.Client(), BaseURL: f.URL})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSettings(t *testing.T) {
	ctx := context.Background()
	f := newFakeARM(t)
	f.subs = []string{"sub-a", "sub-b", "sub-c"}
	f.denied["sub-c"] = true
	f.vaults["sub-a"] = []map[string]any{
		vault("sub-a", "kv-legacy", map[string]any{"enableSoftDelete": false}),
		vault("sub-a", "kv-payments", map[string]any{"enableRbacAuthorization": true, "enablePurgeProtection": true}),
	}
	f.vaults["sub-b"] = []map[string]any{vault("sub-b", "kv-hr", map[string]any{"enableRbacAuthorization": false, "enableSoftDelete": true})}
	c := newClient(t, f)

	for uri, want := range map[string]doctor.VaultSettings{
		"https://kv-payments.vault.azure.net/": {ResourceID: "/subscriptions/sub-a/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-payments",
			RBAC: true, SoftDelete: true, PurgeProtection: true},
		"https://KV-HR.vault.azure.net":      {ResourceID: "/subscriptions/sub-b/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-hr", SoftDelete: true},
		"https://kv-legacy.vault.azure.net/": {ResourceID: "/subscriptions/sub-a/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-legacy"},
	} {
		got, err := c.Settings(ctx, uri)
		if err != nil || got != want {
			t.Errorf("Settings(%s) = %+v, %v; want %+v", uri, got, err, want)
		}
	}
	// A vault in no readable subscription, with one subscription refused.
	_, err := c.Settings(ctx, "https://kv-other.vault.azure.net/")
	if !errors.Is(err, doctor.ErrForbidden) || !strings.Contains(err.Error(), "Reader") {
		t.Errorf("Settings(unlisted, one subscription refused) = %v, want ErrForbidden naming Reader", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// Listed once: subscriptions, then sub-a twice (two pages), sub-b, sub-c.
	if len(f.requests) != 5 {
		t.Errorf("requests = %v, want the listing once", f.requests)
	}
	for _, r := range f.requests {
		if !strings.HasPrefix(r, "GET ") {
			t.Errorf("doctor sent %s", r)
		}
	}
}

func TestSettingsNotFoundAndNoSubscription(t *testing.T) {
	ctx := context.Background()
	f := newFakeARM(t)
	f.subs = []string{"sub-a"}
	if _, err := newClient(t, f).Settings(ctx, "https://kv-x.vault.azure.net/"); !errors.Is(err, doctor.ErrNotFound) {
		t.Errorf("Settings(absent) = %v, want ErrNotFound", err)
	}
	f.subs = nil
	if _, err := newClient(t, f).Settings(ctx, "https://kv-x.vault.azure.net/"); !errors.Is(err, doctor.ErrForbidden) {
		t.Errorf("Settings with no subscription visible = %v, want ErrForbidden", err)
	}
}

func TestErrorsHoldNoBody(t *testing.T) {
	f := newFakeARM(t)
	f.subs = []string{"sub-c"}
	f.denied["sub-c"] = true
	c := newClient(t, f)
	err := c.list(context.Background(), f.URL+"/subscriptions/sub-c/providers/Microsoft.KeyVault/vaults?api-version="+vaultsAPI, func(json.RawMessage) error { return nil })
	if !errors.Is(err, doctor.ErrForbidden) || !strings.Contains(err.Error(), "403 AuthorizationFailed, request id arm-req-1") || strings.Contains(err.Error(), "CANARY") {
		t.Errorf("error = %v, want status, code and request id without the body", err)
	}
	if err := c.list(context.Background(), "https://elsewhere.example/x", nil); err == nil {
		t.Error("a URL outside the base was followed")
	}
}

func TestNewRefusesPlainHTTP(t *testing.T) {
	cl, _ := azcloud.Lookup("")
	if _, err := New(&graphtest.Credential{}, cl, Options{BaseURL: "http://127.0.0.1:1"}); err == nil {
		t.Error("New accepted an http base URL")
	}
	if _, err := New(nil, cl, Options{}); err == nil {
		t.Error("New accepted a nil credential")
	}
}
