package sandbox

import (
	"context"

	"github.com/keyturn/keyturn/policy"
	"github.com/keyturn/keyturn/rotation"
	"github.com/keyturn/keyturn/rotation/memory"
)

// roleDirectory builds the tenant's role directory: what Graph would
// answer about the file's users. Memberships go through memory.Roles, which
// resolves nested groups, directory roles held through groups and app roles
// assigned to groups as Entra ID does.
func (t *Tenant) roleDirectory() *memory.Roles {
	r := memory.NewRoles()
	kinds := map[string]rotation.SourceKind{}
	ids := map[string]string{}
	for kind, list := range map[rotation.SourceKind][]DirEntry{
		rotation.SourceGroup: t.Directory.Groups, rotation.SourceDirectoryRole: t.Directory.DirectoryRoles, rotation.SourceAppRole: t.Directory.AppRoles,
	} {
		for _, e := range list {
			kinds[e.Name], ids[e.Name] = kind, e.ID
		}
	}
	join := func(member, principalType, of string) {
		switch kinds[of] {
		case rotation.SourceGroup:
			r.AddMember(ids[of], member)
		case rotation.SourceDirectoryRole:
			r.GrantDirectoryRole(member, ids[of])
		case rotation.SourceAppRole:
			r.AssignAppRole(ids[of], member, principalType)
		}
	}
	for _, g := range t.Directory.Groups {
		for _, of := range g.MemberOf {
			join(g.ID, "Group", of)
		}
	}
	for _, u := range t.Users {
		for _, of := range u.MemberOf {
			join(u.ObjectID, "User", of)
		}
	}
	return r
}

// Permissions says, for the page and the start banner, whether u may
// request and approve rotations (of apps without per-app approvers) under
// the policy. It asks the same decision the bot does, without an audit
// record: showing what someone may do decides nothing.
func (w *World) Permissions(ctx context.Context, u User) (request, approve bool) {
	a := &policy.Authorizer{Policy: &w.pol, Dir: w.roles, Clock: w.clock}
	may := func(act rotation.Action) bool {
		_, err := a.Check(ctx, rotation.Attempt{Who: rotation.Principal{ObjectID: u.ObjectID}, Action: act})
		return err == nil
	}
	return may(rotation.ActionRequest), may(rotation.ActionApprove)
}
