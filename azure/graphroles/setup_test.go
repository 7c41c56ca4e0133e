package graphroles

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/azure/internal/graphcore/graphtest"
	"github.com/keyturn/keyturn/doctor"
	"github.com/keyturn/keyturn/rotation"
)

// Objects of the setup fake, shaped like Microsoft Graph's documented
// answers (servicePrincipal, appRoleAssignment, application with owners,
// tenantAppManagementPolicy, appManagementPolicy, group,
// directoryRoleTemplate).
const (
	graphSPID    = "99999999-0000-4000-8000-000000000099"
	ownedByRole  = "18a4783c-866b-4cc7-a460-3d5e5662c884"
	appClientID  = "7f8e9d0c-1b2a-4c3d-9e4f-5a6b7c8d9e0f"
	appObjectID  = "7f8e9d0c-0000-4000-8000-0000000000b1"
	policyID     = "0f0f0f0f-0000-4000-8000-000000000001"
	keyturnAppID = "aaaaaaaa-0000-4000-8000-0000000000c1"
)

// setupRoute answers the setup reads; forbidden paths get Graph's 403.
type setupRoute struct {
	t         *testing.T
	srv       *graphtest.Server
	forbidden map[string]bool
}

func (s *setupRoute) route(r *http.Request, _ []byte, reqID string) (int, any) {
	p := strings.TrimPrefix(r.URL.Path, "/v1.0")
	if s.forbidden[p] {
		return http.StatusForbidden, graphtest.ODataError("Authorization_RequestDenied", "Insufficient privileges to complete the operation.", reqID)
	}
	sp := func(id, appID, name string, roles []any) map[string]any {
		return map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals/$entity",
			"id": id, "appId": appID, "displayName": name, "appRoles": roles}
	}
	switch p {
	case "/servicePrincipals/" + testSPID:
		return http.StatusOK, sp(testSPID, keyturnAppID, "keyturn", []any{
			map[string]any{"allowedMemberTypes": []string{"User"}, "description": "May ask", "displayName": "Request", "id": appRoleRequest, "isEnabled": true, "origin": "Application", "value": "Keyturn.Request"},
			map[string]any{"allowedMemberTypes": []string{"User"}, "description": "Old", "displayName": "Old", "id": appRoleOther, "isEnabled": false, "origin": "Application", "value": "Keyturn.Old"},
		})
	case "/servicePrincipals(appId='" + doctor.GraphAppID + "')":
		return http.StatusOK, sp(graphSPID, doctor.GraphAppID, "Microsoft Graph", []any{
			map[string]any{"allowedMemberTypes": []string{"Application"}, "id": ownedByRole, "isEnabled": true, "origin": "Application", "value": "Application.ReadWrite.OwnedBy"},
		})
	case "/servicePrincipals/" + testSPID + "/appRoleAssignments":
		if r.URL.Query().Get("$skiptoken") == "" {
			return http.StatusOK, map[string]any{"value": []any{
				map[string]any{"id": "asg-1", "appRoleId": ownedByRole, "resourceId": graphSPID, "principalId": testSPID, "principalType": "ServicePrincipal"},
			}, "@odata.nextLink": s.srv.URL + "/v1.0/servicePrincipals/" + testSPID + "/appRoleAssignments?$skiptoken=2"}
		}
		return http.StatusOK, map[string]any{"value": []any{
			map[string]any{"id": "asg-2", "appRoleId": appRoleOther, "resourceId": "0d0d0d0d-0000-4000-8000-000000000001", "principalId": testSPID},
		}}
	case "/applications(appId='" + appClientID + "')":
		return http.StatusOK, map[string]any{"id": appObjectID, "appId": appClientID, "displayName": "Payments API",
			"createdDateTime": "2025-01-02T03:04:05Z",
			"owners": []any{
				map[string]any{"@odata.type": "#microsoft.graph.user", "id": alice},
				map[string]any{"@odata.type": "#microsoft.graph.servicePrincipal", "id": testSPID},
			}}
	case "/policies/defaultAppManagementPolicy":
		return http.StatusOK, map[string]any{
			"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/defaultAppManagementPolicy/$entity",
			"id":             "00000000-0000-0000-0000-000000000000", "displayName": "Default app management tenant policy", "isEnabled": true,
			"applicationRestrictions": map[string]any{"passwordCredentials": []any{
				map[string]any{"restrictionType": "passwordAddition", "state": "disabled", "maxLifetime": nil, "restrictForAppsCreatedAfterDateTime": "2021-01-01T10:37:00Z"},
				map[string]any{"restrictionType": "passwordLifetime", "state": "enabled", "maxLifetime": "P90D", "restrictForAppsCreatedAfterDateTime": "2017-01-01T10:37:00Z"},
			}, "keyCredentials": []any{}},
		}
	case "/applications/" + appObjectID + "/appManagementPolicies":
		return http.StatusOK, map[string]any{"value": []any{map[string]any{
			"id": policyID, "displayName": "Custom app policy", "isEnabled": true,
			"restrictions": map[string]any{"passwordCredentials": []any{
				map[string]any{"restrictionType": "passwordLifetime", "maxLifetime": "P1Y", "restrictForAppsCreatedAfterDateTime": "2019-01-01T00:00:00Z"},
			}},
		}}}
	case "/groups/" + groupApprovers:
		return http.StatusOK, map[string]any{"id": groupApprovers, "displayName": "sg-keyturn-approvers"}
	case "/directoryRoleTemplates/" + tmplAppAdmin:
		return http.StatusOK, map[string]any{"id": tmplAppAdmin, "displayName": "Application Administrator", "description": "Can create and manage all aspects of app registrations and enterprise apps."}
	}
	return graphtest.NotFound(p, reqID)
}

func newSetupClient(t *testing.T, forbidden ...string) (*Client, *graphtest.Server) {
	t.Helper()
	s := &setupRoute{t: t, forbidden: map[string]bool{}}
	for _, f := range forbidden {
		s.forbidden[f] = true
	}
	s.srv = graphtest.NewServer(t, s.route)
	h := &harness{graph: &fakeGraph{Server: s.srv}, cred: &graphtest.Credential{}, sleep: &graphtest.Sleeper{}, logs: &graphtest.Buffer{}}
	return h.newClient(t, h.options()), s.srv
}

func TestSetupReads(t *testing.T) {
	ctx := context.Background()
	c, srv := newSetupClient(t)

	sp, err := c.ServicePrincipal(ctx, strings.ToUpper(testSPID))
	want := doctor.ServicePrincipal{ObjectID: testSPID, AppID: keyturnAppID, DisplayName: "keyturn", AppRoles: []doctor.AppRole{
		{ID: appRoleRequest, Value: "Keyturn.Request", Enabled: true}, {ID: appRoleOther, Value: "Keyturn.Old"}}}
	if err != nil || !reflect.DeepEqual(sp, want) {
		t.Errorf("ServicePrincipal = %+v, %v; want %+v", sp, err, want)
	}
	g, err := c.ServicePrincipalByAppID(ctx, doctor.GraphAppID)
	if err != nil || g.ObjectID != graphSPID || len(g.AppRoles) != 1 || g.AppRoles[0].Value != "Application.ReadWrite.OwnedBy" {
		t.Errorf("ServicePrincipalByAppID(graph) = %+v, %v", g, err)
	}
	held, err := c.AssignmentsOf(ctx, testSPID)
	wantHeld := []doctor.Assignment{{ID: "asg-1", ResourceID: graphSPID, AppRoleID: ownedByRole},
		{ID: "asg-2", ResourceID: "0d0d0d0d-0000-4000-8000-000000000001", AppRoleID: appRoleOther}}
	if err != nil || !reflect.DeepEqual(held, wantHeld) {
		t.Errorf("AssignmentsOf = %+v, %v; want both pages %+v", held, err, wantHeld)
	}
	app, err := c.Application(ctx, appClientID)
	wantApp := doctor.Application{ObjectID: appObjectID, ClientID: appClientID, DisplayName: "Payments API",
		Created: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Owners: []string{alice, testSPID}}
	if err != nil || !reflect.DeepEqual(app, wantApp) {
		t.Errorf("Application = %+v, %v; want %+v", app, err, wantApp)
	}
	def, err := c.DefaultPolicy(ctx)
	wantDef := doctor.ManagementPolicy{Name: "Default app management tenant policy", Enabled: true, Restrictions: []doctor.Restriction{
		{Type: "passwordAddition", After: time.Date(2021, 1, 1, 10, 37, 0, 0, time.UTC), Disabled: true},
		{Type: "passwordLifetime", MaxLifetime: 90 * 24 * time.Hour, After: time.Date(2017, 1, 1, 10, 37, 0, 0, time.UTC)},
	}}
	if err != nil || !reflect.DeepEqual(def, wantDef) {
		t.Errorf("DefaultPolicy = %+v, %v; want %+v", def, err, wantDef)
	}
	own, err := c.AppPolicies(ctx, appObjectID)
	wantOwn := []doctor.ManagementPolicy{{Name: "Custom app policy", Enabled: true, Restrictions: []doctor.Restriction{
		{Type: "passwordLifetime", MaxLifetime: 365 * 24 * time.Hour, After: time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)}}}}
	if err != nil || !reflect.DeepEqual(own, wantOwn) {
		t.Errorf("AppPolicies = %+v, %v; want %+v", own, err, wantOwn)
	}
	if n, err := c.Group(ctx, groupApprovers); err != nil || n != "sg-keyturn-approvers" {
		t.Errorf("Group = %q, %v", n, err)
	}
	if n, err := c.RoleTemplate(ctx, tmplAppAdmin); err != nil || n != "Application Administrator" {
		t.Errorf("RoleTemplate = %q, %v", n, err)
	}

	for _, r := range srv.Seen() {
		if r.Method != http.MethodGet {
			t.Errorf("doctor's reads sent %s %s", r.Method, r.Path)
		}
		if strings.HasPrefix(r.Path, "/v1.0/applications(") &&
			(r.Query.Get("$expand") != "owners($select=id)" || r.Query.Get("$select") != "id,appId,displayName,createdDateTime") {
			t.Errorf("application query = %v", r.Query)
		}
	}
}

func TestSetupReadErrors(t *testing.T) {
	ctx := context.Background()
	c, _ := newSetupClient(t, "/policies/defaultAppManagementPolicy", "/groups/"+groupApprovers)
	_, err := c.DefaultPolicy(ctx)
	if !errors.Is(err, doctor.ErrForbidden) || !strings.Contains(err.Error(), "Policy.Read.All") || !strings.Contains(err.Error(), "403") {
		t.Errorf("DefaultPolicy on 403 = %v, want ErrForbidden naming Policy.Read.All", err)
	}
	if _, err := c.Group(ctx, groupApprovers); !errors.Is(err, doctor.ErrForbidden) || !strings.Contains(err.Error(), "GroupMember.Read.All") {
		t.Errorf("Group on 403 = %v", err)
	}
	for name, call := range map[string]func() error{
		"group":         func() error { _, err := c.Group(ctx, groupInner); return err },
		"role template": func() error { _, err := c.RoleTemplate(ctx, tmplGlobalReader); return err },
		"application":   func() error { _, err := c.Application(ctx, unknown); return err },
		"sp":            func() error { _, err := c.ServicePrincipal(ctx, unknown); return err },
		"sp by app id":  func() error { _, err := c.ServicePrincipalByAppID(ctx, unknown); return err },
		"not a guid":    func() error { _, err := c.Group(ctx, "sg-approvers"); return err },
	} {
		if err := call(); !errors.Is(err, doctor.ErrNotFound) {
			t.Errorf("%s on 404 = %v, want ErrNotFound", name, err)
		}
	}
}

// TestSetupThroughDoctor runs doctor's Graph checks on this client: the
// service principal, its permissions, an app and the roles resolve.
func TestSetupThroughDoctor(t *testing.T) {
	c, _ := newSetupClient(t)
	rep := doctor.Run(context.Background(), doctor.Config{
		GraphURL: "https://graph.microsoft.com", PrincipalID: testSPID, PolicySource: "p.yaml",
		Apps: []doctor.App{{Alias: "payments", ClientID: appClientID, Lifetime: 180 * 24 * time.Hour}},
		Roles: []rotation.RoleSource{
			{Kind: "group", ID: groupApprovers}, {Kind: "directoryRole", ID: tmplAppAdmin}, {Kind: "appRole", ID: appRoleRequest},
		},
	}, doctor.Probes{Principals: c, Apps: c, Directory: c})
	status := map[string]doctor.Status{}
	for _, r := range rep.Results {
		status[r.Check] = r.Status
	}
	for check, want := range map[string]doctor.Status{
		"Keyturn's service principal":                         doctor.Pass,
		"Application.ReadWrite.OwnedBy":                       doctor.Pass,
		"User.Read.All":                                       doctor.Fail, // not granted in the fake
		"payments (" + appClientID + ") exists":               doctor.Pass,
		"payments (" + appClientID + ") owned by Keyturn":     doctor.Pass,
		"payments (" + appClientID + ") secret lifetime 180d": doctor.Pass, // the app's own policy allows a year
		"group " + groupApprovers:                             doctor.Pass,
		"directoryRole " + tmplAppAdmin:                       doctor.Pass,
		"appRole " + appRoleRequest:                           doctor.Pass,
	} {
		if status[check] != want {
			t.Errorf("%s: %s, want %s", check, status[check], want)
		}
	}
}
