package memory

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/keyturn/keyturn/rotation"
)

// Roles is an in-memory Entra ID for role lookups, answering as Graph does:
// directory roles held directly or through groups, nested groups, and app
// role assignments on Keyturn's service principal to users or groups.
// It implements rotation.RoleDirectory, and can be made to fail.
type Roles struct {
	mu          sync.Mutex
	dirRoles    map[string][]string        // user or group → role template IDs
	members     map[string]map[string]bool // group → direct members (users or groups)
	assignments []rotation.RoleAssignment
	fail        error
	calls       int
}

var _ rotation.RoleDirectory = (*Roles)(nil)

// NewRoles returns an empty directory.
func NewRoles() *Roles {
	return &Roles{dirRoles: map[string][]string{}, members: map[string]map[string]bool{}}
}

// GrantDirectoryRole gives user, or a (role-assignable) group and so its
// members, the directory role with templateID.
func (r *Roles) GrantDirectoryRole(user, templateID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dirRoles[strings.ToLower(user)] = append(r.dirRoles[strings.ToLower(user)], strings.ToLower(templateID))
}

// RevokeDirectoryRoles removes every directory role of user.
func (r *Roles) RevokeDirectoryRoles(user string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.dirRoles, strings.ToLower(user))
}

// AddMember puts member (a user or a group) into group.
func (r *Roles) AddMember(group, member string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := strings.ToLower(group)
	if r.members[g] == nil {
		r.members[g] = map[string]bool{}
	}
	r.members[g][strings.ToLower(member)] = true
}

// RemoveMember takes member out of group.
func (r *Roles) RemoveMember(group, member string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.members[strings.ToLower(group)], strings.ToLower(member))
}

// AssignAppRole assigns Keyturn's app role appRoleID to a user or group.
func (r *Roles) AssignAppRole(appRoleID, principalID, principalType string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.assignments = append(r.assignments, rotation.RoleAssignment{AppRoleID: strings.ToLower(appRoleID), PrincipalID: strings.ToLower(principalID), PrincipalType: principalType})
}

// Fail makes every lookup return err (nil: work again).
func (r *Roles) Fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = err
}

// Calls counts lookups made.
func (r *Roles) Calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// DirectoryRoleTemplates implements rotation.RoleDirectory.
func (r *Roles) DirectoryRoleTemplates(_ context.Context, user string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.fail != nil {
		return nil, fmt.Errorf("directory roles: %w", r.fail)
	}
	u := strings.ToLower(user)
	var out []string
	for holder, ts := range r.dirRoles {
		if holder == u || r.memberOf(holder, u, map[string]bool{}) {
			out = append(out, ts...)
		}
	}
	sort.Strings(out)
	return slices.Compact(out), nil
}

// MemberGroups implements rotation.RoleDirectory, transitively.
func (r *Roles) MemberGroups(_ context.Context, user string, groups []string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.fail != nil {
		return nil, fmt.Errorf("member groups: %w", r.fail)
	}
	var out []string
	for _, g := range groups {
		if r.memberOf(strings.ToLower(g), strings.ToLower(user), map[string]bool{}) {
			out = append(out, g)
		}
	}
	return out, nil
}

func (r *Roles) memberOf(group, user string, seen map[string]bool) bool {
	if seen[group] {
		return false
	}
	seen[group] = true
	for m := range r.members[group] {
		if m == user || r.memberOf(m, user, seen) {
			return true
		}
	}
	return false
}

// AppRoleAssignments implements rotation.RoleDirectory.
func (r *Roles) AppRoleAssignments(_ context.Context, roleIDs []string) ([]rotation.RoleAssignment, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.fail != nil {
		return nil, fmt.Errorf("app role assignments: %w", r.fail)
	}
	want := map[string]bool{}
	for _, id := range roleIDs {
		want[strings.ToLower(id)] = true
	}
	var out []rotation.RoleAssignment
	for _, a := range r.assignments {
		if want[a.AppRoleID] {
			out = append(out, a)
		}
	}
	return out, nil
}
