package graphroles

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

const testToken = "fake-graph-token"

// fault is a scripted answer for the next request with method whose path
// ends in suffix; times is how many it answers (0 means 1, negative all).
type fault struct {
	method, suffix string
	status         int
	code, message  string // an OData error body unless body is set
	body           string
	header         map[string]string
	times          int
	hangUp         bool
}

// seenRequest is a request as the fake received it, body decompressed.
type seenRequest struct {
	Method, Path string
	Query        url.Values
	Header       http.Header
	Body         []byte
}

type fakeRole struct{ id, templateID, name string }

type fakeAssignment struct{ appRoleID, principalID, principalType string }

// fakeGraph is a small Entra ID tenant behind the three Graph endpoints the
// package uses. Memberships nest: members maps a group or role object ID
// to its members (users or groups), and every answer is transitive.
type fakeGraph struct {
	t   *testing.T
	srv *httptest.Server

	mu          sync.Mutex
	users       map[string]bool
	members     map[string][]string
	roles       []fakeRole
	spID        string
	assignments []fakeAssignment
	pageSize    int
	limitedInfo bool // directory roles come back as bare IDs (no RoleManagement.Read.Directory)
	castIgnored bool // transitiveMemberOf answers every type, as if the cast were ignored
	faults      []*fault
	requests    []seenRequest
}

func newFakeGraph(t *testing.T) *fakeGraph {
	t.Helper()
	f := &fakeGraph{t: t, users: map[string]bool{}, members: map[string][]string{}, pageSize: 100}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGraph) addUser(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[id] = true
}

// addMember puts member (a user or a group) into group (a group or a role).
func (f *fakeGraph) addMember(group, member string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.members[group] = append(f.members[group], member)
}

func (f *fakeGraph) inject(fl fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, &fl)
}

func (f *fakeGraph) seen() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.requests...)
}

// count returns how many requests with method reached a path ending in suffix.
func (f *fakeGraph) count(method, suffix string) int {
	n := 0
	for _, r := range f.seen() {
		if r.Method == method && strings.HasSuffix(r.Path, suffix) {
			n++
		}
	}
	return n
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
)

func (f *fakeGraph) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body []byte
	var rd io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(r.Body)
		if err != nil {
			f.t.Errorf("fake graph: bad gzip body: %v", err)
			return
		}
		rd = gz
	}
	body, _ = io.ReadAll(rd)

	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, seenRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
	reqID := fmt.Sprintf("req-%d", len(f.requests))
	w.Header().Set("request-id", reqID)
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		writeJSON(w, http.StatusUnauthorized, odataError("InvalidAuthenticationToken", "Access token is empty.", reqID))
		return
	}
	if fl := f.takeFault(r.Method, r.URL.Path); fl != nil {
		f.writeFault(w, fl, reqID)
		return
	}
	status, resp := f.route(r, body, reqID)
	writeJSON(w, status, resp)
}

func (f *fakeGraph) takeFault(method, path string) *fault {
	for i, fl := range f.faults {
		if fl.method != method || !strings.HasSuffix(path, fl.suffix) {
			continue
		}
		if fl.times >= 0 {
			if fl.times <= 1 {
				f.faults = append(f.faults[:i], f.faults[i+1:]...)
			} else {
				fl.times--
			}
		}
		return fl
	}
	return nil
}

func (f *fakeGraph) writeFault(w http.ResponseWriter, fl *fault, reqID string) {
	if fl.hangUp {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return
	}
	for k, v := range fl.header {
		w.Header().Set(k, v)
	}
	if fl.body != "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(fl.status)
		_, _ = io.WriteString(w, fl.body)
		return
	}
	writeJSON(w, fl.status, odataError(fl.code, fl.message, reqID))
}

func (f *fakeGraph) route(r *http.Request, body []byte, reqID string) (int, any) {
	notFound := func(id string) (int, any) {
		return http.StatusNotFound, odataError("Request_ResourceNotFound",
			"Resource '"+id+"' does not exist or one of its queried reference-property objects are not present.", reqID)
	}
	p := r.URL.Path
	switch {
	case r.Method == http.MethodGet && rolesPath.MatchString(p):
		user := rolesPath.FindStringSubmatch(p)[1]
		if !f.users[user] {
			return notFound(user)
		}
		q := r.URL.Query()
		if q.Get("$select") != "id,roleTemplateId,displayName" || q.Get("$count") != "true" || r.Header.Get("ConsistencyLevel") != "eventual" {
			return http.StatusBadRequest, odataError("Request_UnsupportedQuery", "advanced query parameters missing", reqID)
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
			return notFound(user)
		}
		var in struct {
			GroupIDs []string `json:"groupIds"`
		}
		if err := json.Unmarshal(body, &in); err != nil || len(in.GroupIDs) == 0 {
			return http.StatusBadRequest, odataError("Request_BadRequest", "bad body", reqID)
		}
		if len(in.GroupIDs) > 20 {
			f.t.Errorf("fake graph: checkMemberGroups with %d ids (Graph allows 20)", len(in.GroupIDs))
			return http.StatusBadRequest, odataError("Request_BadRequest", "too many ids", reqID)
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
			return notFound(sp)
		}
		var items []any
		for i, a := range f.assignments {
			items = append(items, map[string]any{
				"id": fmt.Sprintf("assignment-%d", i), "appRoleId": a.appRoleID,
				"principalId": a.principalID, "principalType": a.principalType,
			})
		}
		return f.pageOf(r, items, "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals('"+sp+"')/appRoleAssignedTo(appRoleId,principalId,principalType)", false)
	}
	f.t.Errorf("fake graph: unexpected %s %s", r.Method, p)
	return http.StatusNotImplemented, odataError("NotImplemented", "not in the fake", reqID)
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
		page["@odata.nextLink"] = f.srv.URL + r.URL.Path + "?" + q.Encode()
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

func odataError(code, message, reqID string) map[string]any {
	return map[string]any{"error": map[string]any{
		"code":    code,
		"message": message,
		"innerError": map[string]any{
			"date":              "2026-03-01T12:00:00",
			"request-id":        reqID,
			"client-request-id": "inner-" + reqID,
		},
	}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
