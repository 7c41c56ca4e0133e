package graphroles

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/keyturn/keyturn/azure/internal/graphcore/graphtest"
	"github.com/keyturn/keyturn/rotation"
)

func TestDirectoryRoleTemplates(t *testing.T) {
	tests := []struct {
		name        string
		user        string
		pageSize    int
		castIgnored bool
		want        []string // sorted
		wantPages   int
	}{
		{name: "direct and through a role-assignable group, two pages", user: alice, pageSize: 1,
			want: []string{tmplCloudAppAdmin, tmplAppAdmin}, wantPages: 2},
		{name: "one page", user: alice, pageSize: 100, want: []string{tmplCloudAppAdmin, tmplAppAdmin}, wantPages: 1},
		{name: "upper-case id is canonical on the wire", user: strings.ToUpper(alice), pageSize: 100,
			want: []string{tmplCloudAppAdmin, tmplAppAdmin}, wantPages: 1},
		{name: "cast ignored: groups in the answer are skipped", user: alice, pageSize: 2, castIgnored: true,
			want: []string{tmplCloudAppAdmin, tmplAppAdmin}, wantPages: 3},
		{name: "no roles", user: bob, pageSize: 100, want: nil, wantPages: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.graph.pageSize, h.graph.castIgnored = tc.pageSize, tc.castIgnored
			got, err := h.c.DirectoryRoleTemplates(context.Background(), tc.user)
			if err != nil {
				t.Fatalf("DirectoryRoleTemplates: %v", err)
			}
			slices.Sort(got)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("templates = %v, want %v", got, tc.want)
			}
			reqs := h.graph.Seen()
			if len(reqs) != tc.wantPages {
				t.Fatalf("requests = %d, want %d pages", len(reqs), tc.wantPages)
			}
			wantPath := "/v1.0/users/" + strings.ToLower(tc.user) + "/transitiveMemberOf/microsoft.graph.directoryRole"
			for i, r := range reqs {
				if r.Method != http.MethodGet || r.Path != wantPath {
					t.Errorf("request %d = %s %s, want GET %s", i, r.Method, r.Path, wantPath)
				}
				if r.Query.Get("$select") != "id,roleTemplateId,displayName" || r.Query.Get("$count") != "true" {
					t.Errorf("request %d query = %v", i, r.Query)
				}
				if r.Header.Get("ConsistencyLevel") != "eventual" || r.Header.Get("Authorization") != "Bearer "+graphtest.Token {
					t.Errorf("request %d headers: ConsistencyLevel %q, Authorization %q", i,
						r.Header.Get("ConsistencyLevel"), r.Header.Get("Authorization"))
				}
				if (i > 0) != r.Query.Has("$skiptoken") {
					t.Errorf("request %d: $skiptoken present = %v", i, r.Query.Has("$skiptoken"))
				}
			}
		})
	}
}

// TestDirectoryRolesWithoutTemplateIDs: without RoleManagement.Read.Directory
// Graph returns the roles as bare IDs. That must fail loudly, not read as
// "no roles".
func TestDirectoryRolesWithoutTemplateIDs(t *testing.T) {
	h := newHarness(t)
	h.graph.limitedInfo = true
	got, err := h.c.DirectoryRoleTemplates(context.Background(), alice)
	if err == nil {
		t.Fatalf("templates = %v, want an error", got)
	}
	for _, s := range []string{"without a template id", "RoleManagement.Read.Directory", alice} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
}

func TestMemberGroupsBatches(t *testing.T) {
	h := newHarness(t)
	// 25 distinct IDs (two of them alice's groups), plus a duplicate in
	// upper case that must not cost a slot.
	ids := make([]string, 0, 26)
	for i := range 25 {
		ids = append(ids, guid(i))
	}
	ids[3], ids[22] = groupAdmins, groupRequest
	ids = append(ids, strings.ToUpper(groupRequest))

	got, err := h.c.MemberGroups(context.Background(), alice, ids)
	if err != nil {
		t.Fatalf("MemberGroups: %v", err)
	}
	if want := []string{groupAdmins, groupRequest}; !reflect.DeepEqual(got, want) {
		t.Errorf("member of %v, want %v", got, want)
	}
	reqs := h.graph.Seen()
	if len(reqs) != 2 {
		t.Fatalf("requests = %d, want 2 (20 + 5)", len(reqs))
	}
	for i, wantIDs := range [][]string{ids[:20], ids[20:25]} {
		r := reqs[i]
		if r.Method != http.MethodPost || r.Path != "/v1.0/users/"+alice+"/checkMemberGroups" {
			t.Errorf("request %d = %s %s", i, r.Method, r.Path)
		}
		var body map[string][]string
		if err := json.Unmarshal(r.Body, &body); err != nil || len(body) != 1 || !reflect.DeepEqual(body["groupIds"], wantIDs) {
			t.Errorf("request %d body = %s (%v), want groupIds %v", i, r.Body, err, wantIDs)
		}
	}
}

func TestMemberGroupsTransitive(t *testing.T) {
	h := newHarness(t)
	got, err := h.c.MemberGroups(context.Background(), bob, []string{groupApprovers, groupRequest})
	if err != nil {
		t.Fatalf("MemberGroups: %v", err)
	}
	if want := []string{groupApprovers}; !reflect.DeepEqual(got, want) {
		t.Errorf("bob is member of %v, want %v (through groupInner)", got, want)
	}
	if got, err := h.c.MemberGroups(context.Background(), bob, nil); err != nil || got != nil {
		t.Errorf("MemberGroups(no groups) = %v, %v; want nothing", got, err)
	}
	if n := len(h.graph.Seen()); n != 1 {
		t.Errorf("requests = %d, want 1 (none for an empty list)", n)
	}
}

func TestAppRoleAssignments(t *testing.T) {
	h := newHarness(t)
	h.graph.pageSize = 2
	got, err := h.c.AppRoleAssignments(context.Background(), []string{strings.ToUpper(appRoleRequest), appRoleApprove})
	if err != nil {
		t.Fatalf("AppRoleAssignments: %v", err)
	}
	want := []rotation.RoleAssignment{
		{AppRoleID: appRoleRequest, PrincipalID: groupRequest, PrincipalType: "Group"},
		{AppRoleID: appRoleApprove, PrincipalID: carol, PrincipalType: "User"},
		{AppRoleID: appRoleRequest, PrincipalID: "0d0d0d0d-0000-4000-8000-000000000001", PrincipalType: "ServicePrincipal"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("assignments =\n%+v\nwant\n%+v", got, want)
	}
	reqs := h.graph.Seen()
	if len(reqs) != 2 {
		t.Fatalf("requests = %d, want 2 pages", len(reqs))
	}
	for i, r := range reqs {
		if r.Method != http.MethodGet || r.Path != "/v1.0/servicePrincipals/"+testSPID+"/appRoleAssignedTo" ||
			r.Query.Get("$select") != "appRoleId,principalId,principalType" {
			t.Errorf("request %d = %s %s ?%v", i, r.Method, r.Path, r.Query)
		}
	}

	if got, err := h.c.AppRoleAssignments(context.Background(), nil); err != nil || got != nil {
		t.Errorf("AppRoleAssignments(none) = %v, %v; want nothing", got, err)
	}
	noSP := h.options()
	noSP.ServicePrincipalID = ""
	if _, err := h.newClient(t, noSP).AppRoleAssignments(context.Background(), []string{appRoleRequest}); err == nil ||
		!strings.Contains(err.Error(), "service principal object id is not configured") {
		t.Errorf("without a service principal id: err = %v", err)
	}
	if n := len(h.graph.Seen()); n != 2 {
		t.Errorf("requests = %d, want no more after the first call", n)
	}
}

func TestInvalidIDsNeverReachGraph(t *testing.T) {
	bad := []string{"", "not-a-guid", "../../me", alice + "/../x", "{" + alice + "}", "11111111-0000-4000-8000-00000000a11c?x=1"}
	h := newHarness(t)
	ctx := context.Background()
	for _, id := range bad {
		if _, err := h.c.DirectoryRoleTemplates(ctx, id); !errors.Is(err, rotation.ErrInvalid) {
			t.Errorf("DirectoryRoleTemplates(%q): err = %v, want ErrInvalid", id, err)
		}
		if _, err := h.c.MemberGroups(ctx, id, []string{groupApprovers}); !errors.Is(err, rotation.ErrInvalid) {
			t.Errorf("MemberGroups(user %q): err = %v, want ErrInvalid", id, err)
		}
		if _, err := h.c.MemberGroups(ctx, alice, []string{groupApprovers, id}); !errors.Is(err, rotation.ErrInvalid) {
			t.Errorf("MemberGroups(group %q): err = %v, want ErrInvalid", id, err)
		}
		if _, err := h.c.AppRoleAssignments(ctx, []string{appRoleRequest, id}); !errors.Is(err, rotation.ErrInvalid) {
			t.Errorf("AppRoleAssignments(%q): err = %v, want ErrInvalid", id, err)
		}
	}
	if n := len(h.graph.Seen()); n != 0 {
		t.Errorf("%d requests reached graph: %+v", n, h.graph.Seen())
	}
	cloudOpts := h.options()
	cloudOpts.ServicePrincipalID = "keyturn"
	if _, err := New(h.cred, graphtest.Cloud(t), nil, cloudOpts); err == nil {
		t.Error("New accepted a service principal id that is not a GUID")
	}
}

// TestNextLinks: a next link is followed only under the base URL, and a
// listing that never ends is cut off.
func TestNextLinks(t *testing.T) {
	t.Run("outside the base url", func(t *testing.T) {
		h := newHarness(t)
		for _, link := range []string{
			"https://evil.example.com/v1.0/users/" + alice + "/transitiveMemberOf/microsoft.graph.directoryRole?$skiptoken=1",
			h.graph.URL + "/beta/users/" + alice + "/transitiveMemberOf/microsoft.graph.directoryRole?$skiptoken=1",
			strings.Replace(h.graph.URL, "http://", "http://user:pw@", 1) + "/v1.0/users?$skiptoken=1",
		} {
			h.graph.Inject(graphtest.Fault{Method: "GET", Suffix: "directoryRole", Status: 200,
				Body: `{"value":[{"id":"` + roleAppAdmin + `","roleTemplateId":"` + tmplAppAdmin + `"}],"@odata.nextLink":"` + link + `"}`})
			before := len(h.graph.Seen())
			_, err := h.c.DirectoryRoleTemplates(context.Background(), alice)
			if err == nil || !strings.Contains(err.Error(), "outside its base url") {
				t.Errorf("next link %s: err = %v", link, err)
			}
			if n := len(h.graph.Seen()) - before; n != 1 {
				t.Errorf("next link %s: %d requests, want 1", link, n)
			}
		}
	})
	t.Run("endless", func(t *testing.T) {
		h := newHarness(t)
		h.c.maxPages = 3
		self := h.graph.URL + "/v1.0/users/" + alice + "/transitiveMemberOf/microsoft.graph.directoryRole?%24count=true&%24select=id,roleTemplateId,displayName&%24skiptoken=0"
		h.graph.Inject(graphtest.Fault{Method: "GET", Suffix: "directoryRole", Status: 200, Times: -1,
			Body: `{"value":[],"@odata.nextLink":"` + self + `"}`})
		_, err := h.c.DirectoryRoleTemplates(context.Background(), alice)
		if err == nil || !strings.Contains(err.Error(), "more than 3 pages") {
			t.Errorf("err = %v, want the listing cut off", err)
		}
		if n := len(h.graph.Seen()); n != 3 {
			t.Errorf("requests = %d, want 3", n)
		}
	})
}
