package doctor

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/keyturn/keyturn/rotation"
)

// Permission is a Microsoft Graph application permission Keyturn needs,
// and why.
type Permission struct {
	Value string
	Why   string
}

// NeededPermissions returns the Graph application permissions Keyturn
// needs for a policy naming roles: Application.ReadWrite.OwnedBy always,
// and the read permissions each kind of role lookup needs, as Microsoft's
// API reference lists them (see the README's security notes).
func NeededPermissions(roles []rotation.RoleSource) []Permission {
	var group, dir, app bool
	for _, s := range roles {
		switch s.Kind {
		case rotation.SourceGroup:
			group = true
		case rotation.SourceDirectoryRole:
			dir = true
		case rotation.SourceAppRole:
			app = true
		}
	}
	out := []Permission{{"Application.ReadWrite.OwnedBy", "add and remove secrets on the apps Keyturn owns, and nothing else"}}
	if group || dir || app {
		out = append(out, Permission{"User.Read.All", "read a user's memberships for role lookups"})
	}
	if group || app {
		out = append(out, Permission{"GroupMember.Read.All", "transitive group membership (checkMemberGroups), for group roles and app roles held through groups"})
	}
	if dir {
		out = append(out, Permission{"RoleManagement.Read.Directory", "the directory roles a user holds"})
	}
	if app {
		out = append(out, Permission{"Application.Read.All", "the app role assignments on Keyturn's own service principal"})
	}
	return out
}

// graph finds Keyturn's service principal and compares the Graph
// application permissions it holds with those it needs.
func (r *run) graph(ctx context.Context) {
	const area = AreaGraph
	if r.p.Principals == nil {
		r.rep.add(area, "Keyturn's service principal", Unknown, "no Graph client could be built", signInFix)
		return
	}
	sp, how, err := r.findSP(ctx)
	switch {
	case how == "":
		r.rep.add(area, "Keyturn's service principal", Unknown,
			"which one is Keyturn's is not configured, and the token is a user's",
			"set KEYTURN_PRINCIPAL_ID to its object ID: az ad sp show --id <keyturn-client-id> --query id -o tsv")
		return
	case err != nil:
		s, fix := Fail, "set KEYTURN_PRINCIPAL_ID to the object ID of Keyturn's enterprise application (not its client ID): az ad sp show --id <keyturn-client-id> --query id -o tsv"
		if forbidden(err) {
			s, fix = Unknown, "the identity running doctor needs to read service principals (Application.Read.All); run doctor with az login as an operator who may"
		}
		r.rep.add(area, "Keyturn's service principal", s, fmt.Sprintf("%s: %v", how, err), fix)
		return
	}
	if r.cfg.PrincipalID != "" && r.cfg.ClientID != "" && !strings.EqualFold(sp.AppID, r.cfg.ClientID) {
		r.rep.add(area, "Keyturn's service principal", Fail,
			fmt.Sprintf("KEYTURN_PRINCIPAL_ID %s is the service principal of app %s, but Keyturn's client ID (MicrosoftAppId or AZURE_CLIENT_ID) is %s",
				sp.ObjectID, sp.AppID, r.cfg.ClientID),
			"set KEYTURN_PRINCIPAL_ID to: az ad sp show --id "+r.cfg.ClientID+" --query id -o tsv")
		return
	}
	r.sp = &sp
	r.rep.add(area, "Keyturn's service principal", Pass,
		fmt.Sprintf("%s, app ID %s, object ID %s (%s)", sp.DisplayName, sp.AppID, sp.ObjectID, how), "")
	r.permissions(ctx)
}

// findSP reads Keyturn's service principal: by KEYTURN_PRINCIPAL_ID, else
// by Keyturn's client ID, else as the application the token was issued to.
// how says which; "" when none applies.
func (r *run) findSP(ctx context.Context) (ServicePrincipal, string, error) {
	switch {
	case r.cfg.PrincipalID != "":
		sp, err := r.p.Principals.ServicePrincipal(ctx, r.cfg.PrincipalID)
		return sp, "by KEYTURN_PRINCIPAL_ID " + r.cfg.PrincipalID, err
	case r.cfg.ClientID != "":
		sp, err := r.p.Principals.ServicePrincipalByAppID(ctx, r.cfg.ClientID)
		return sp, "by client ID " + r.cfg.ClientID, err
	case r.claims != nil && r.claims.App && r.claims.ObjectID != "":
		sp, err := r.p.Principals.ServicePrincipal(ctx, r.claims.ObjectID)
		return sp, "as the token's application " + r.claims.ObjectID, err
	}
	return ServicePrincipal{}, "", nil
}

// permissions resolves the service principal's app role assignments on
// Microsoft Graph against Graph's own app roles.
func (r *run) permissions(ctx context.Context) {
	const area = AreaGraph
	graphSP, err := r.p.Principals.ServicePrincipalByAppID(ctx, GraphAppID)
	if err != nil {
		r.rep.add(area, "application permissions", Unknown, "read Microsoft Graph's service principal: "+err.Error(),
			"the identity running doctor needs Application.Read.All; run doctor with az login as an operator who may")
		return
	}
	held, err := r.p.Principals.AssignmentsOf(ctx, r.sp.ObjectID)
	if err != nil {
		r.rep.add(area, "application permissions", Unknown, "read the app role assignments: "+err.Error(),
			"the identity running doctor needs Application.Read.All; run doctor with az login as an operator who may, "+
				"or look: az rest --uri "+r.cfg.GraphURL+"/v1.0/servicePrincipals/"+r.sp.ObjectID+"/appRoleAssignments")
		return
	}
	byID := map[string]AppRole{}
	byValue := map[string]AppRole{}
	for _, ar := range graphSP.AppRoles {
		byID[strings.ToLower(ar.ID)] = ar
		byValue[ar.Value] = ar
	}
	has := map[string]Assignment{} // by permission value
	for _, a := range held {
		if !strings.EqualFold(a.ResourceID, graphSP.ObjectID) {
			continue
		}
		v := "unknown app role " + a.AppRoleID
		if ar, ok := byID[strings.ToLower(a.AppRoleID)]; ok {
			v = ar.Value
		}
		has[v] = a
	}
	needed := map[string]bool{}
	for _, p := range NeededPermissions(r.cfg.Roles) {
		needed[p.Value] = true
		if _, ok := has[p.Value]; ok {
			r.rep.add(area, p.Value, Pass, "granted: "+p.Why, "")
			continue
		}
		roleID := "<app-role-id of " + p.Value + ">"
		if ar, ok := byValue[p.Value]; ok {
			roleID = ar.ID
		}
		r.rep.add(area, p.Value, Fail, "missing: needed to "+p.Why,
			fmt.Sprintf(`as a Privileged Role Administrator: az rest --method POST --uri %s/v1.0/servicePrincipals/%s/appRoleAssignments --body '{"principalId":"%s","resourceId":"%s","appRoleId":"%s"}'`,
				r.cfg.GraphURL, r.sp.ObjectID, r.sp.ObjectID, graphSP.ObjectID, roleID))
	}
	var extra []string
	for v := range has {
		if !needed[v] {
			extra = append(extra, v)
		}
	}
	sort.Strings(extra)
	for _, v := range extra {
		r.rep.add(area, v, Warn, "granted but not needed: least privilege is Keyturn's promise",
			fmt.Sprintf("az rest --method DELETE --uri %s/v1.0/servicePrincipals/%s/appRoleAssignments/%s",
				r.cfg.GraphURL, r.sp.ObjectID, has[v].ID))
	}
}
