package graphroles

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	abs "github.com/microsoft/kiota-abstractions-go"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/keyturn/keyturn/azure/internal/graphcore"
	"github.com/keyturn/keyturn/rotation"
)

// maxCheckGroups is the most group IDs one checkMemberGroups accepts.
const maxCheckGroups = 20

// directoryRoleType is the OData type of a directory role. An answer that
// names another type (a server that ignored the cast) is skipped.
const directoryRoleType = "#microsoft.graph.directoryRole"

// eventual returns the header Graph requires, with $count=true, for an
// OData cast on a membership list.
func eventual() map[string]string { return map[string]string{"ConsistencyLevel": "eventual"} }

// DirectoryRoleTemplates implements rotation.RoleDirectory: the template
// IDs (lower case) of the directory roles userID holds, directly or through
// role-assignable groups. A malformed userID returns rotation.ErrInvalid
// before anything is sent; an unknown user, a missing permission or a
// Graph failure returns an error that says so.
func (c *Client) DirectoryRoleTemplates(ctx context.Context, userID string) ([]string, error) {
	uid, ok := graphcore.CanonicalGUID(userID)
	if !ok {
		return nil, fmt.Errorf("directory roles: user id is not a GUID: %w", rotation.ErrInvalid)
	}
	op := call{name: "list directory roles", target: uid, targetKey: keyUser, perm: permRoles}
	count := true
	first := c.get(tmplDirectoryRoles, map[string]string{"user%2Did": uid},
		listQuery{Count: &count, Select: []string{"id", "roleTemplateId", "displayName"}}, eventual())

	var templates []string
	seen := map[string]bool{}
	bare := 0 // roles without a template ID: Graph's "limited information"
	err := c.list(ctx, op, first, eventual(), models.CreateDirectoryRoleCollectionResponseFromDiscriminatorValue,
		func(p absser.Parsable) error {
			roles, ok := p.(models.DirectoryRoleCollectionResponseable)
			if !ok {
				return fmt.Errorf("graph answered with %T, not directory roles", p)
			}
			for _, r := range roles.GetValue() {
				if r == nil {
					continue
				}
				if t := graphcore.Deref(r.GetOdataType()); t != "" && !strings.EqualFold(t, directoryRoleType) {
					continue
				}
				tid := strings.ToLower(graphcore.Deref(r.GetRoleTemplateId()))
				if tid == "" {
					bare++
					continue
				}
				if !seen[tid] {
					seen[tid] = true
					templates = append(templates, tid)
				}
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("directory roles of user %s: %w", uid, err)
	}
	if bare > 0 {
		// Denying quietly would look like "no roles": say what is missing.
		return nil, fmt.Errorf("directory roles of user %s: graph returned %d role(s) without a template id: %s",
			uid, bare, permRoles)
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "graph directory roles read",
		slog.String(keyUser, uid), slog.Int("roles", len(templates)))
	return templates, nil
}

// MemberGroups implements rotation.RoleDirectory: those of groupIDs (lower
// case) that userID is a member of, directly or through nested groups, in
// batches of 20. Malformed IDs return rotation.ErrInvalid before anything
// is sent; an unknown user, a missing permission or a Graph failure returns
// an error that says so.
func (c *Client) MemberGroups(ctx context.Context, userID string, groupIDs []string) ([]string, error) {
	uid, ok := graphcore.CanonicalGUID(userID)
	if !ok {
		return nil, fmt.Errorf("member groups: user id is not a GUID: %w", rotation.ErrInvalid)
	}
	ids, err := canonicalSet(groupIDs, "group")
	if err != nil {
		return nil, fmt.Errorf("member groups of user %s: %w", uid, err)
	}
	var member []string
	for start := 0; start < len(ids); start += maxCheckGroups {
		batch := ids[start:min(start+maxCheckGroups, len(ids))]
		got, err := c.checkMemberGroups(ctx, uid, batch)
		if err != nil {
			return nil, fmt.Errorf("member groups of user %s: %w", uid, err)
		}
		member = append(member, got...)
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "graph group memberships checked",
		slog.String(keyUser, uid), slog.Int("groups", len(ids)), slog.Int("member_of", len(member)))
	return member, nil
}

// checkMemberGroups sends one POST /users/{uid}/checkMemberGroups for at
// most 20 canonical IDs and returns those of them Graph answered with.
func (c *Client) checkMemberGroups(ctx context.Context, uid string, batch []string) ([]string, error) {
	op := call{name: "check member groups", target: uid, targetKey: keyUser, perm: permGroups}
	req := func() (*abs.RequestInformation, error) {
		ri := abs.NewRequestInformationWithMethodAndUrlTemplateAndPathParameters(abs.POST, tmplCheckGroups,
			map[string]string{"user%2Did": uid})
		c.finish(ri, nil)
		if err := ri.SetContentFromParsable(ctx, c.adapter, "application/json", &groupIDsBody{ids: batch}); err != nil {
			return nil, err
		}
		return ri, nil
	}
	got, err := c.send(ctx, op, req, newStringValues)
	if err != nil {
		return nil, err
	}
	vals, ok := got.(*stringValues)
	if !ok {
		return nil, fmt.Errorf("graph answered with %T, not group ids", got)
	}
	asked := make(map[string]bool, len(batch))
	for _, id := range batch {
		asked[id] = true
	}
	var member []string
	for _, v := range vals.values {
		// Only IDs that were asked about count; anything else is ignored.
		if id, ok := graphcore.CanonicalGUID(v); ok && asked[id] {
			member = append(member, id)
			delete(asked, id)
		}
	}
	return member, nil
}

// AppRoleAssignments implements rotation.RoleDirectory: the assignments on
// Keyturn's service principal whose app role is one of appRoleIDs (IDs in
// lower case). Malformed IDs return rotation.ErrInvalid before anything is
// sent; without Options.ServicePrincipalID it fails; a missing permission
// or a Graph failure returns an error that says so.
func (c *Client) AppRoleAssignments(ctx context.Context, appRoleIDs []string) ([]rotation.RoleAssignment, error) {
	ids, err := canonicalSet(appRoleIDs, "app role")
	if err != nil {
		return nil, fmt.Errorf("app role assignments: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	if c.spID == "" {
		return nil, errors.New("app role assignments: keyturn's service principal object id is not configured")
	}
	wanted := make(map[string]bool, len(ids))
	for _, id := range ids {
		wanted[id] = true
	}
	op := call{name: "list app role assignments", target: c.spID, targetKey: keySP, perm: permAppRoles}
	first := c.get(tmplAppRoles, map[string]string{"servicePrincipal%2Did": c.spID},
		listQuery{Select: []string{"appRoleId", "principalId", "principalType"}}, nil)

	var out []rotation.RoleAssignment
	err = c.list(ctx, op, first, nil, models.CreateAppRoleAssignmentCollectionResponseFromDiscriminatorValue,
		func(p absser.Parsable) error {
			page, ok := p.(models.AppRoleAssignmentCollectionResponseable)
			if !ok {
				return fmt.Errorf("graph answered with %T, not app role assignments", p)
			}
			for _, a := range page.GetValue() {
				if a == nil || a.GetAppRoleId() == nil || a.GetPrincipalId() == nil {
					continue
				}
				role := a.GetAppRoleId().String()
				if !wanted[role] {
					continue
				}
				out = append(out, rotation.RoleAssignment{
					AppRoleID:     role,
					PrincipalID:   a.GetPrincipalId().String(),
					PrincipalType: graphcore.Deref(a.GetPrincipalType()),
				})
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("app role assignments of service principal %s: %w", c.spID, err)
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "graph app role assignments read",
		slog.String(keySP, c.spID), slog.Int("assignments", len(out)))
	return out, nil
}

// canonicalSet validates ids as GUIDs and returns them canonical, without
// duplicates, in their first order. what names them in the error.
func canonicalSet(ids []string, what string) ([]string, error) {
	seen := make(map[string]bool, len(ids))
	var out []string
	for i, raw := range ids {
		id, ok := graphcore.CanonicalGUID(raw)
		if !ok {
			return nil, fmt.Errorf("%s id #%d is not a GUID: %w", what, i+1, rotation.ErrInvalid)
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}
