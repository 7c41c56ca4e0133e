package doctor

import (
	"context"
	"fmt"
	"strings"
)

// policyReadFix is what to do when app management policies cannot be read.
const policyReadFix = "reading app management policies needs Policy.Read.All, which Keyturn itself does not need: " +
	"run doctor with az login as an operator who may (Global Reader), or look: az rest --uri %s/v1.0/policies/defaultAppManagementPolicy"

// apps checks every app the policy lists: it exists, Keyturn owns it, and
// the tenant's app management policy lets it have a secret of the
// configured lifetime.
func (r *run) apps(ctx context.Context) {
	if len(r.cfg.Apps) == 0 {
		r.rep.add(AreaApps, "apps in the policy", Skip, "the policy lists no app (apps may still be named by client ID)", "")
		return
	}
	if r.p.Apps == nil {
		r.rep.add(AreaApps, "apps in the policy", Unknown, "no Graph client could be built", signInFix)
		return
	}
	tenant, tenantErr := r.p.Apps.DefaultPolicy(ctx)
	for _, a := range r.cfg.Apps {
		r.app(ctx, a, tenant, tenantErr)
	}
}

func (r *run) app(ctx context.Context, a App, tenant ManagementPolicy, tenantErr error) {
	const area = AreaApps
	name := a.Alias + " (" + a.ClientID + ")"
	app, err := r.p.Apps.Application(ctx, a.ClientID)
	switch {
	case notFound(err):
		r.rep.add(area, name+" exists", Fail,
			"no such application is visible; with Application.ReadWrite.OwnedBy alone Keyturn sees only the apps it owns",
			fmt.Sprintf("check apps.%s.client_id in the policy (the Application (client) ID), then: az ad app owner add --id %s --owner-object-id %s",
				a.Alias, a.ClientID, r.spID()))
		return
	case forbidden(err):
		r.rep.add(area, name+" exists", Unknown, err.Error(),
			"the identity running doctor needs Application.Read.All to read apps; run doctor with az login as an operator who may")
		return
	case err != nil:
		r.rep.add(area, name+" exists", Fail, err.Error(), "retry; if it persists, check network access to Microsoft Graph")
		return
	}
	r.rep.add(area, name+" exists", Pass, fmt.Sprintf("%q, object ID %s", app.DisplayName, app.ObjectID), "")

	switch {
	case r.sp == nil:
		r.rep.add(area, name+" owned by Keyturn", Unknown, "Keyturn's service principal is not known (see graph above)",
			"set KEYTURN_PRINCIPAL_ID")
	case !contains(app.Owners, r.sp.ObjectID):
		r.rep.add(area, name+" owned by Keyturn", Fail,
			"Keyturn's service principal is not among its owners, so Application.ReadWrite.OwnedBy cannot change it",
			fmt.Sprintf("az ad app owner add --id %s --owner-object-id %s", a.ClientID, r.sp.ObjectID))
	default:
		r.rep.add(area, name+" owned by Keyturn", Pass, "", "")
	}
	r.lifetime(ctx, a, app, tenant, tenantErr)
}

// lifetime checks the app management policy in force for app against the
// configured lifetime: an enabled app-specific policy replaces the tenant
// default for that app.
func (r *run) lifetime(ctx context.Context, a App, app Application, tenant ManagementPolicy, tenantErr error) {
	const area = AreaApps
	check := a.Alias + " (" + a.ClientID + ") secret lifetime " + days(a.Lifetime)
	own, err := r.p.Apps.AppPolicies(ctx, app.ObjectID)
	if err == nil {
		err = tenantErr
		for _, p := range own {
			if p.Enabled {
				err = nil // the app's own policy decides; the tenant's is not needed
				break
			}
		}
	}
	if err != nil {
		s := Fail
		if forbidden(err) {
			s = Unknown
		}
		r.rep.add(area, check, s, "could not check: "+err.Error(), fmt.Sprintf(policyReadFix, r.cfg.GraphURL))
		return
	}
	source, rs := "the tenant's default app management policy", tenant.Restrictions
	if !tenant.Enabled {
		source, rs = "", nil
	}
	for _, p := range own {
		if p.Enabled {
			source, rs = "app management policy "+fmt.Sprintf("%q", p.Name), p.Restrictions
			break
		}
	}
	for _, x := range rs {
		if x.Disabled || (!x.After.IsZero() && !app.Created.After(x.After)) {
			continue
		}
		switch {
		case strings.EqualFold(x.Type, "passwordAddition"):
			r.rep.add(area, check, Fail, source+" forbids new client secrets on this app",
				"an Application Administrator exempts the app with an app-specific policy that allows secrets: "+
					"az rest --method POST --uri "+r.cfg.GraphURL+"/v1.0/applications/"+app.ObjectID+"/appManagementPolicies/$ref "+
					`--body '{"@odata.id":"`+r.cfg.GraphURL+`/v1.0/policies/appManagementPolicies/<policy-id>"}'`)
			return
		case strings.EqualFold(x.Type, "passwordLifetime") && x.MaxLifetime > 0 && x.MaxLifetime < a.Lifetime:
			r.rep.add(area, check, Fail, fmt.Sprintf("%s allows at most %s", source, days(x.MaxLifetime)),
				fmt.Sprintf("set apps.%s.lifetime: %s (or lower defaults.lifetime) in the policy file", a.Alias, days(x.MaxLifetime)))
			return
		}
	}
	detail := "no app management policy restricts it"
	if source != "" {
		detail = "within " + source
	}
	r.rep.add(area, check, Pass, detail, "")
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}
