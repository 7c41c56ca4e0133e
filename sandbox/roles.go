package sandbox

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/keyturn/keyturn/policy"
	"github.com/keyturn/keyturn/rotation"
)

// source returns the directory entry named name as a rotation.RoleSource.
func (t *Tenant) source(name string) (rotation.RoleSource, bool) {
	for kind, list := range map[rotation.SourceKind][]DirEntry{
		rotation.SourceGroup: t.Directory.Groups, rotation.SourceDirectoryRole: t.Directory.DirectoryRoles, rotation.SourceAppRole: t.Directory.AppRoles,
	} {
		for _, e := range list {
			if e.Name == name {
				return rotation.RoleSource{Kind: kind, ID: strings.ToLower(e.ID), Name: e.Name}, true
			}
		}
	}
	return rotation.RoleSource{}, false
}

func (t *Tenant) sources(names []string) []rotation.RoleSource {
	out := make([]rotation.RoleSource, 0, len(names))
	for _, n := range names {
		if s, ok := t.source(n); ok {
			out = append(out, s)
		}
	}
	return out
}

// RoleConfig returns the role sources that grant request and approve, for
// rotation.Authorizer.
func (t *Tenant) RoleConfig() policy.Roles {
	return policy.Roles{Request: t.sources(t.Roles.Request), Approve: t.sources(t.Roles.Approve)}
}

// AppRule returns the approval rule of the app with clientID; an unknown app
// gets one approval by the global approvers.
func (t *Tenant) AppRule(clientID string) rotation.AppRule {
	for _, a := range t.Apps {
		if strings.EqualFold(a.ClientID, clientID) {
			return rotation.AppRule{Required: a.Approvals.Required, Approvers: t.sources(a.Approvals.Approvers)}
		}
	}
	return rotation.AppRule{Required: 1}
}

// Permissions says, for people reading the page, what u may do according
// to the file (the bot decides for itself, through its authorizer).
func (t *Tenant) Permissions(u User) (request, approve bool) {
	for _, m := range u.MemberOf {
		request = request || slices.Contains(t.Roles.Request, m)
		approve = approve || slices.Contains(t.Roles.Approve, m)
	}
	return request, approve
}

// RoleDirectory answers rotation's role questions from the tenant file, as
// Microsoft Graph would from Entra ID.
type RoleDirectory struct {
	t *Tenant
}

var _ rotation.RoleDirectory = RoleDirectory{}

func (r RoleDirectory) user(userID string) (User, error) {
	for _, u := range r.t.Users {
		if strings.EqualFold(u.ObjectID, userID) {
			return u, nil
		}
	}
	return User{}, fmt.Errorf("user %s: %w", userID, rotation.ErrNotFound)
}

// held returns the IDs (lower case) of the entries of kind that u holds.
func (r RoleDirectory) held(u User, kind rotation.SourceKind) []string {
	var out []string
	for _, m := range u.MemberOf {
		if s, ok := r.t.source(m); ok && s.Kind == kind {
			out = append(out, s.ID)
		}
	}
	return out
}

// DirectoryRoleTemplates implements rotation.RoleDirectory. An unknown
// user holds nothing (Graph answers 404; the authorizer treats any error
// as a denial, so either is safe).
func (r RoleDirectory) DirectoryRoleTemplates(_ context.Context, userID string) ([]string, error) {
	u, err := r.user(userID)
	if err != nil {
		return nil, nil
	}
	return r.held(u, rotation.SourceDirectoryRole), nil
}

// MemberGroups implements rotation.RoleDirectory.
func (r RoleDirectory) MemberGroups(_ context.Context, userID string, groupIDs []string) ([]string, error) {
	u, err := r.user(userID)
	if err != nil {
		return nil, nil
	}
	mine := r.held(u, rotation.SourceGroup)
	var out []string
	for _, g := range groupIDs {
		if slices.Contains(mine, strings.ToLower(g)) {
			out = append(out, strings.ToLower(g))
		}
	}
	return out, nil
}

// AppRoleAssignments implements rotation.RoleDirectory: every user of the
// file who is a member of one of appRoleIDs, as a direct assignment.
func (r RoleDirectory) AppRoleAssignments(_ context.Context, appRoleIDs []string) ([]rotation.RoleAssignment, error) {
	var out []rotation.RoleAssignment
	for _, u := range r.t.Users {
		for _, id := range r.held(u, rotation.SourceAppRole) {
			if slices.ContainsFunc(appRoleIDs, func(x string) bool { return strings.EqualFold(x, id) }) {
				out = append(out, rotation.RoleAssignment{AppRoleID: id, PrincipalID: strings.ToLower(u.ObjectID), PrincipalType: "User"})
			}
		}
	}
	return out, nil
}
