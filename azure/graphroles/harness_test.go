package graphroles

import (
	"fmt"
	"testing"

	"github.com/keyturn/keyturn/azure/internal/graphcore/graphtest"
	"github.com/keyturn/keyturn/internal/outbound"
)

// Test identities. Template IDs are Entra's built-in ones.
const (
	testSPID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"

	alice   = "11111111-0000-4000-8000-00000000a11c"
	bob     = "22222222-0000-4000-8000-000000000b0b"
	carol   = "33333333-0000-4000-8000-0000000ca401"
	unknown = "44444444-0000-4000-8000-0000000dead0"

	tmplAppAdmin      = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3" // Application Administrator
	tmplCloudAppAdmin = "158c047a-c907-4556-b7ef-446551a6b5f7" // Cloud Application Administrator
	tmplGlobalReader  = "f2ef992c-3afb-46b9-b7cf-a126ee74c451" // Global Reader

	roleAppAdmin      = "0a0a0a0a-0000-4000-8000-000000000001" // role object IDs in this tenant
	roleCloudAppAdmin = "0a0a0a0a-0000-4000-8000-000000000002"
	roleGlobalReader  = "0a0a0a0a-0000-4000-8000-000000000003"

	groupApprovers = "0b0b0b0b-0000-4000-8000-000000000001" // sg-keyturn-approvers
	groupInner     = "0b0b0b0b-0000-4000-8000-000000000002" // nested in approvers
	groupRequest   = "0b0b0b0b-0000-4000-8000-000000000003" // holds the request app role
	groupAdmins    = "0b0b0b0b-0000-4000-8000-000000000004" // role-assignable, holds Cloud App Admin

	appRoleRequest = "0c0c0c0c-0000-4000-8000-000000000001" // Keyturn.Request
	appRoleApprove = "0c0c0c0c-0000-4000-8000-000000000002" // Keyturn.Approve
	appRoleOther   = "0c0c0c0c-0000-4000-8000-000000000003" // not Keyturn's concern
)

// harness is a Client wired to a fakeGraph through the real SDK adapter and
// Keyturn's outbound transport, over a small tenant:
//
//   - alice holds Application Administrator directly and Cloud Application
//     Administrator through the role-assignable group admins; she is in
//     groupRequest, which holds the Keyturn.Request app role.
//   - bob is in groupInner, which is in groupApprovers.
//   - carol holds Keyturn.Approve directly and nothing else.
type harness struct {
	graph *fakeGraph
	cred  *graphtest.Credential
	sleep *graphtest.Sleeper
	logs  *graphtest.Buffer
	c     *Client
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{graph: newFakeGraph(t), cred: &graphtest.Credential{}, sleep: &graphtest.Sleeper{}, logs: &graphtest.Buffer{}}
	g := h.graph
	for _, u := range []string{alice, bob, carol} {
		g.addUser(u)
	}
	g.roles = []fakeRole{
		{roleAppAdmin, tmplAppAdmin, "Application Administrator"},
		{roleCloudAppAdmin, tmplCloudAppAdmin, "Cloud Application Administrator"},
		{roleGlobalReader, tmplGlobalReader, "Global Reader"},
	}
	g.addMember(roleAppAdmin, alice)
	g.addMember(groupAdmins, alice)
	g.addMember(roleCloudAppAdmin, groupAdmins)
	g.addMember(groupRequest, alice)
	g.addMember(groupInner, bob)
	g.addMember(groupApprovers, groupInner)
	g.spID = testSPID
	g.assignments = []fakeAssignment{
		{appRoleRequest, groupRequest, "Group"},
		{appRoleApprove, carol, "User"},
		{appRoleOther, bob, "User"},
		{appRoleRequest, "0d0d0d0d-0000-4000-8000-000000000001", "ServicePrincipal"},
	}
	h.c = h.newClient(t, h.options())
	return h
}

func (h *harness) options() Options {
	return Options{
		Logger:             graphtest.Logger(h.logs),
		Sleep:              h.sleep.Sleep,
		BaseURL:            h.graph.URL + "/v1.0",
		ServicePrincipalID: testSPID,
	}
}

func (h *harness) newClient(t *testing.T, opts Options) *Client {
	t.Helper()
	c, err := New(h.cred, graphtest.Cloud(t), outbound.Client(outbound.Transport(nil)), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// guid returns a valid GUID distinct for each n.
func guid(n int) string { return fmt.Sprintf("0e0e0e0e-0000-4000-8000-%012d", n) }
