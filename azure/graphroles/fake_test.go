package graphroles

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"testing"

	"github.com/keyturn/keyturn/azure/internal/graphcore/graphtest"
)

type fakeRole struct{ id, templateID, name string }

type fakeAssignment struct{ appRoleID, principalID, principalType string }

// fakeGraph is a small Entra ID tenant behind the three Graph endpoints the
// package uses. Memberships nest: members maps a group or role object ID
// to its members (users or groups), and every answer is transitive. Its
// state is guarded by the server's lock, under which route runs.
type fakeGraph struct {
	*graphtest.Server
	t *testing.T

	users       map[string]bool
	members     map[string][]string
	roles       []fakeRole
	spID        string
	assignments []fakeAssignment
	pageSize    int
	owned       []any // applications the service principal owns, as Graph lists them
	limitedInfo bool  // directory roles come back as bare IDs (no RoleManagement.Read.Directory)
	castIgnored bool  // transitiveMemberOf answers every type, as if the cast were ignored
}

func newFakeGraph(t *testing.T) *fakeGraph {
	t.Helper()
	f := &fakeGraph{t: t, users: map[string]bool{}, members: map[string][]string{}, pageSize: 100}
	f.Server = graphtest.NewServer(t, f.route)
	return f
}

func (f *fakeGraph) addUser(id string) {
	f.Lock()
	defer f.Unlock()
	f.users[id] = true
}

// addMember puts member (a user or a group) into group (a group or a role).
func (f *fakeGraph) addMember(group, member string) {
	f.Lock()
	defer f.Unlock()
	f.members[group] = append(f.members[group], member)
}

// containers returns every group or role that id is in, transitively.
func (f *fakeGraph) containers(id string) map[string]bool {
	in := map[string]bool{}
	queue := []string{id}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for g, ms := range f.members {
			for _, m := range ms {
				if m == cur && !in[g] {
					in[g] = true
					queue = append(queue, g)
				}
			}
		}
	}
	return in
}

var (
	rolesPath    = regexp.MustCompile(`^/v1\.0/users/([^/]+)/transitiveMemberOf/microsoft\.graph\.directoryRole$`)
	checkPath    = regexp.MustCompile(`^/v1\.0/users/([^/]+)/checkMemberGroups$`)
	assignedPath = regexp.MustCompile(`^/v1\.0/servicePrincipals/([^/]+)/appRoleAssignedTo$`)
	ownedPath    = regexp.MustCompile(`^/v1\.0/servicePrincipals/([^/]+)/ownedObjects/microsoft\.graph\.application$`)
)

func (f *fakeGraph) route(r *http.Request, body []byte, reqID string) (int, any) {
	p := r.URL.Path
	switch {
	case r.Method == http.MethodGet && rolesPath.MatchString(p):
		user := rolesPath.FindStringSubmatch(p)[1]
		if !f.users[user] {
			return graphtest.NotFound(user, reqID)
		}
		q := r.URL.Query()
		if q.Get("$select") != "id,roleTemplateId,displayName" || q.Get("$count") != "true" || r.Header.Get("ConsistencyLevel") != "eventual" {
			return http.StatusBadRequest, graphtest.ODataError("Request_UnsupportedQuery", "advanced query parameters missing", reqID)
		}
		in := f.containers(user)
		var items []any
		for _, role := range f.roles {
			if !in[role.id] {
				continue
			}
			item := map[string]any{"id": role.id, "roleTemplateId": role.templateID, "displayName": role.name}
			switch {
			case f.limitedInfo:
				item = map[string]any{"@odata.type": "#microsoft.graph.directoryRole", "id": role.id, "roleTemplateId": nil, "displayName": nil}
			case f.castIgnored:
				item["@odata.type"] = "#microsoft.graph.directoryRole"
			}
			items = append(items, item)
		}
		if f.castIgnored {
			for _, g := range sortedKeys(in) {
				items = append(items, map[string]any{"@odata.type": "#microsoft.graph.group", "id": g, "displayName": "group " + g})
			}
		}
		return f.pageOf(r, items, "https://graph.microsoft.com/v1.0/$metadata#directoryRoles(id,roleTemplateId,displayName)", true)
	case r.Method == http.MethodPost && checkPath.MatchString(p):
		user := checkPath.FindStringSubmatch(p)[1]
		if !f.users[user] {
			return graphtest.NotFound(user, reqID)
		}
		var in struct {
			GroupIDs []string `json:"groupIds"`
		}
		if err := json.Unmarshal(body, &in); err != nil || len(in.GroupIDs) == 0 {
			return http.StatusBadRequest, graphtest.ODataError("Request_BadRequest", "bad body", reqID)
		}
		if len(in.GroupIDs) > 20 {
			f.t.Errorf("fake graph: checkMemberGroups with %d ids (Graph allows 20)", len(in.GroupIDs))
			return http.StatusBadRequest, graphtest.ODataError("Request_BadRequest", "too many ids", reqID)
		}
		containers := f.containers(user)
		member := []string{}
		for _, g := range in.GroupIDs {
			if containers[g] {
				member = append(member, g)
			}
		}
		return http.StatusOK, map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(Edm.String)", "value": member}
	case r.Method == http.MethodGet && assignedPath.MatchString(p):
		sp := assignedPath.FindStringSubmatch(p)[1]
		if sp != f.spID {
			return graphtest.NotFound(sp, reqID)
		}
		var items []any
		for i, a := range f.assignments {
			items = append(items, map[string]any{
				"id": fmt.Sprintf("assignment-%d", i), "appRoleId": a.appRoleID,
				"principalId": a.principalID, "principalType": a.principalType,
			})
		}
		return f.pageOf(r, items, "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals('"+sp+"')/appRoleAssignedTo(appRoleId,principalId,principalType)", false)
	case r.Method == http.MethodGet && ownedPath.MatchString(p):
		sp := ownedPath.FindStringSubmatch(p)[1]
		if sp != f.spID {
			return graphtest.NotFound(sp, reqID)
		}
		q := r.URL.Query()
		if q.Get("$select") != "id,appId,displayName,passwordCredentials" || q.Get("$top") != "999" {
			return http.StatusBadRequest, graphtest.ODataError("Request_UnsupportedQuery", "select or top missing", reqID)
		}
		return f.pageOf(r, f.owned, "https://graph.microsoft.com/v1.0/$metadata#applications(id,appId,displayName,passwordCredentials)", false)
	}
	return f.Unexpected(r, reqID)
}

// pageOf answers one page of items, starting at $skiptoken, with a next
// link on the fake's own URL while items remain.
func (f *fakeGraph) pageOf(r *http.Request, items []any, odataContext string, withCount bool) (int, any) {
	q := r.URL.Query()
	start, _ := strconv.Atoi(q.Get("$skiptoken"))
	end := min(start+f.pageSize, len(items))
	if start > len(items) {
		start = len(items)
	}
	page := map[string]any{"@odata.context": odataContext, "value": append([]any{}, items[start:end]...)}
	if withCount {
		page["@odata.count"] = len(items)
	}
	if end < len(items) {
		q.Set("$skiptoken", strconv.Itoa(end))
		page["@odata.nextLink"] = f.URL + r.URL.Path + "?" + q.Encode()
	}
	return http.StatusOK, page
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
