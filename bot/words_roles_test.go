package bot

import (
	"testing"

	"github.com/keyturn/keyturn/policy"
	"github.com/keyturn/keyturn/rotation"
)

func TestNeededRoleWords(t *testing.T) {
	approvers := []rotation.RoleSource{{Kind: rotation.SourceDirectoryRole, ID: "r1", Name: "Application Administrator"}, {Kind: rotation.SourceGroup, ID: "g1", Name: "sg-keyturn-approvers"}}
	for _, c := range []struct {
		d    rotation.Decision
		want string
	}{
		{rotation.Decision{Attempt: rotation.Attempt{Action: policy.ActionStatus}, Rule: "roles.approve", Needs: approvers},
			"Checking status needs a role that may approve rotations (Application Administrator, sg-keyturn-approvers); you have: none. An administrator can give you one of those roles in Entra ID."},
		{rotation.Decision{Attempt: rotation.Attempt{Action: policy.ActionRetire}, Rule: "roles.approve or apps.payments-api.approvers", Needs: approvers,
			Held: []rotation.RoleSource{{Kind: rotation.SourceGroup, ID: "g2", Name: "sg-developers"}}},
			"Retiring previous secrets needs a role that may approve rotations or approve rotations of payments-api (Application Administrator, sg-keyturn-approvers); you have: sg-developers. An administrator can give you one of those roles in Entra ID."},
		{rotation.Decision{Attempt: rotation.Attempt{Action: rotation.ActionRequest}, Rule: "roles.request or roles.approve (approvals: 0)", Needs: approvers},
			"Asking for a rotation needs a role that may ask for rotations or approve rotations (Application Administrator, sg-keyturn-approvers); you have: none. An administrator can give you one of those roles in Entra ID."},
	} {
		if got := neededRole(c.d); got != c.want {
			t.Errorf("\n got %q\nwant %q", got, c.want)
		}
	}
}
