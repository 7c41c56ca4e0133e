package doctor

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/keyturn/keyturn/rotation"
)

// policy reports whether the policy parsed, and resolves every role it
// names: the group, the directory role template, the app role on
// Keyturn's enterprise app.
func (r *run) policy(ctx context.Context) {
	const area = AreaPolicy
	if r.cfg.PolicyErr != nil {
		r.rep.add(area, "policy "+r.cfg.PolicySource+" parses", Fail, r.cfg.PolicyErr.Error(),
			"edit the policy file: each problem above names its key (docs/keyturn.example.yaml documents every key)")
		return
	}
	r.rep.add(area, "policy "+r.cfg.PolicySource+" parses", Pass, "", "")
	if len(r.cfg.Roles) == 0 {
		r.rep.add(area, "roles", Fail, "the policy names no role: nobody can request or approve a rotation in Teams",
			"list groups, app roles or directory roles under roles.request and roles.approve")
		return
	}
	for _, s := range r.cfg.Roles {
		r.role(ctx, s)
	}
}

func (r *run) role(ctx context.Context, s rotation.RoleSource) {
	const area = AreaPolicy
	check := string(s.Kind) + " " + s.ID
	if s.Name != "" {
		check += " (" + s.Name + ")"
	}
	var name string
	var err error
	var fix string
	switch s.Kind {
	case rotation.SourceAppRole:
		r.appRole(check, s.ID)
		return
	case rotation.SourceGroup:
		fix = "check the group's object ID in the policy: az ad group show --group " + s.ID + " --query id"
		if r.p.Directory == nil {
			err = errors.New("no Graph client could be built")
		} else {
			name, err = r.p.Directory.Group(ctx, s.ID)
		}
	default:
		fix = "check the directory role's template ID in the policy: az rest --uri " + r.cfg.GraphURL + "/v1.0/directoryRoleTemplates"
		if r.p.Directory == nil {
			err = errors.New("no Graph client could be built")
		} else {
			name, err = r.p.Directory.RoleTemplate(ctx, s.ID)
		}
	}
	switch {
	case err == nil:
		r.rep.add(area, check, Pass, "resolves to "+fmt.Sprintf("%q", name), "")
	case notFound(err):
		r.rep.add(area, check, Fail, "does not exist in this tenant", fix)
	case forbidden(err):
		r.rep.add(area, check, Unknown, err.Error(), "grant the permission it names (see graph above), or run doctor with az login as an operator")
	default:
		r.rep.add(area, check, Fail, err.Error(), fix)
	}
}

// appRole checks that Keyturn's enterprise app defines the app role id.
func (r *run) appRole(check, id string) {
	const area = AreaPolicy
	if r.sp == nil {
		r.rep.add(area, check, Unknown, "Keyturn's service principal is not known (see graph above)", "set KEYTURN_PRINCIPAL_ID")
		return
	}
	for _, ar := range r.sp.AppRoles {
		if !strings.EqualFold(ar.ID, id) {
			continue
		}
		if !ar.Enabled {
			r.rep.add(area, check, Fail, fmt.Sprintf("app role %q is disabled on Keyturn's app", ar.Value),
				"enable it in the app registration's App roles (az ad app update --id "+r.clientID()+" --app-roles @roles.json)")
			return
		}
		r.rep.add(area, check, Pass, fmt.Sprintf("Keyturn's app role %q", ar.Value), "")
		return
	}
	r.rep.add(area, check, Fail, "Keyturn's enterprise app defines no such app role",
		"use an app role ID from: az ad app show --id "+r.clientID()+" --query appRoles; or add the role with az ad app update --id "+r.clientID()+" --app-roles @roles.json")
}
