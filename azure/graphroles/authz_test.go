package graphroles

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/keyturn/keyturn/azure/internal/graphcore/graphtest"
	"github.com/keyturn/keyturn/policy"
	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/rotation/memory"
	"github.com/keyturn/keyturn/rotation/rotationtest"
)

// appWithApprovers is the app whose per-app approvers the extra sources are.
const appWithApprovers = "0c0c0c0c-0000-4000-8000-000000000001"

// grants is what a user may do under authzPolicy, and the roles that say so.
type grants struct {
	Request, Approve bool
	Roles            []string
}

// newAuthorizer wires the client into policy.Authorizer under authzPolicy,
// with extra as the per-app approvers of appWithApprovers.
func newAuthorizer(dir rotation.RoleDirectory, clock rotation.Clock, cacheFor time.Duration, extra []rotation.RoleSource) *policy.Authorizer {
	p := policy.Builtin()
	p.Roles = authzConfig()
	p.Rules[appWithApprovers] = rotation.AppRule{Required: 1, Approvers: extra}
	return &policy.Authorizer{Policy: &p, Dir: dir, Audit: &memory.AuditLog{}, Clock: clock, CacheFor: cacheFor}
}

// grantsOf asks the authorizer whether user may request and approve a
// rotation of appWithApprovers.
func grantsOf(ctx context.Context, a *policy.Authorizer, user string) (grants, error) {
	var g grants
	for _, act := range []rotation.Action{rotation.ActionRequest, rotation.ActionApprove} {
		d, err := a.Check(ctx, rotation.Attempt{Who: rotation.Principal{ObjectID: user}, Action: act, ClientID: appWithApprovers})
		var denied *rotation.DeniedError
		if errors.As(err, &denied) && denied.Err != nil {
			return grants{}, denied.Err
		}
		if act == rotation.ActionRequest {
			g.Request = d.Allowed
		} else {
			g.Approve = d.Allowed
		}
		if g.Roles == nil {
			for _, s := range d.Held {
				g.Roles = append(g.Roles, s.String())
			}
		}
	}
	return g, nil
}

// authzConfig is a realistic role configuration: requesters by app role or
// directory role, approvers by app role or security group.
func authzConfig() policy.Roles {
	return policy.Roles{
		Request: []rotation.RoleSource{
			{Kind: rotation.SourceAppRole, ID: appRoleRequest, Name: "Keyturn.Request"},
			{Kind: rotation.SourceDirectoryRole, ID: tmplGlobalReader, Name: "Global Reader"},
		},
		Approve: []rotation.RoleSource{
			{Kind: rotation.SourceAppRole, ID: appRoleApprove, Name: "Keyturn.Approve"},
			{Kind: rotation.SourceGroup, ID: groupApprovers, Name: "sg-keyturn-approvers"},
		},
	}
}

// TestAuthorizerThroughGraph wires the client into rotation.Authorizer and
// checks the decisions the tenant in newHarness implies.
func TestAuthorizerThroughGraph(t *testing.T) {
	tests := []struct {
		name  string
		user  string
		extra []rotation.RoleSource
		want  grants
	}{
		{
			name: "app role only through a group grants request",
			user: alice,
			want: grants{Request: true, Roles: []string{"appRole Keyturn.Request"}},
		},
		{
			name: "member of a group nested in the approver group is approved",
			user: bob,
			want: grants{Approve: true, Roles: []string{"group sg-keyturn-approvers"}},
		},
		{
			name: "app role assigned directly grants approve",
			user: carol,
			want: grants{Approve: true, Roles: []string{"appRole Keyturn.Approve"}},
		},
		{
			name:  "per-app approvers by directory role, held through a role-assignable group",
			user:  alice,
			extra: []rotation.RoleSource{{Kind: rotation.SourceDirectoryRole, ID: tmplCloudAppAdmin, Name: "Cloud Application Administrator"}},
			want:  grants{Request: true, Approve: true, Roles: []string{"appRole Keyturn.Request", "directoryRole Cloud Application Administrator"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			a := newAuthorizer(h.c, rotationtest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)), time.Minute, tc.extra)
			got, err := grantsOf(context.Background(), a, tc.user)
			if err != nil {
				t.Fatalf("Grants: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Grants = %+v, want %+v", got, tc.want)
			}
			// All three kinds of lookup went to Graph.
			for _, op := range ops() {
				if h.graph.Count(op.method, op.suffix) == 0 {
					t.Errorf("no %s request ended in %s", op.method, op.suffix)
				}
			}
		})
	}
}

// TestAuthorizerCacheThroughGraph: a decision is reused for less than 60 s
// without a Graph request, and looked up again after.
func TestAuthorizerCacheThroughGraph(t *testing.T) {
	h := newHarness(t)
	clock := rotationtest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	a := newAuthorizer(h.c, clock, time.Hour, nil) // capped at 60 s
	ctx := context.Background()

	first, err := grantsOf(ctx, a, bob)
	if err != nil || !first.Approve {
		t.Fatalf("Grants = %+v, %v; want approve", first, err)
	}
	n := len(h.graph.Seen())
	if n == 0 {
		t.Fatal("the first decision made no Graph request: the test proves nothing")
	}

	clock.Advance(59 * time.Second)
	again, err := grantsOf(ctx, a, strings.ToUpper(bob))
	if err != nil || !reflect.DeepEqual(again, first) {
		t.Fatalf("Grants after 59 s = %+v, %v; want the cached %+v", again, err, first)
	}
	if got := len(h.graph.Seen()); got != n {
		t.Errorf("Graph requests after 59 s = %d, want still %d", got, n)
	}

	// bob leaves the nested group: the next lookup must see it.
	h.graph.Lock()
	h.graph.members[groupInner] = nil
	h.graph.Unlock()
	clock.Advance(2 * time.Second)
	later, err := grantsOf(ctx, a, bob)
	if err != nil {
		t.Fatalf("Grants after 61 s: %v", err)
	}
	if got := len(h.graph.Seen()); got <= n {
		t.Errorf("Graph requests after 61 s = %d, want more than %d", got, n)
	}
	if later.Approve {
		t.Errorf("Grants after 61 s = %+v: a removed membership still approves", later)
	}
}

// TestAuthorizerDeniesOnGraphFailure: any Graph failure is an error, and
// the caller denies on it.
func TestAuthorizerDeniesOnGraphFailure(t *testing.T) {
	tests := []struct {
		name string
		f    graphtest.Fault
	}{
		{"permission missing", graphtest.Fault{Method: "POST", Suffix: "/checkMemberGroups", Status: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges"}},
		{"graph down", graphtest.Fault{Method: "GET", Suffix: "/appRoleAssignedTo", Status: 503, Code: "ServiceUnavailable", Times: -1}},
		{"throttled throughout", graphtest.Fault{Method: "GET", Suffix: "/microsoft.graph.directoryRole", Status: 429, Code: "TooManyRequests", Times: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.graph.Inject(tc.f)
			a := newAuthorizer(h.c, rotationtest.NewClock(time.Now()), time.Minute, nil)
			g, err := grantsOf(context.Background(), a, carol)
			if err == nil {
				t.Fatalf("Grants = %+v, want an error", g)
			}
			if g.Request || g.Approve || len(g.Roles) != 0 { // grantsOf returns nothing with an error
				t.Errorf("Grants = %+v alongside the error, want nothing granted", g)
			}
			var re *roleError
			if !errors.As(err, &re) {
				t.Errorf("err = %v, want the adapter's error inside", err)
			}
		})
	}
	t.Run("unknown user", func(t *testing.T) {
		h := newHarness(t)
		a := newAuthorizer(h.c, rotationtest.NewClock(time.Now()), time.Minute, nil)
		if g, err := grantsOf(context.Background(), a, unknown); err == nil || !strings.Contains(err.Error(), "unknown to the directory") {
			t.Errorf("Grants(unknown) = %+v, %v; want an unknown-user error", g, err)
		}
	})
}
