package graphroles

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/keyturn/keyturn/azure/internal/graphcore"
	"github.com/keyturn/keyturn/doctor"
)

// The reads keyturn doctor makes, on top of role lookups: Keyturn's and
// Graph's service principals, the app role assignments Keyturn holds, the
// apps the policy names with their owners, the app management policies
// that bind their secrets, and the groups and directory role templates the
// policy names. All are GETs; nothing here writes.

// URL templates of the setup reads.
const (
	tmplSP            = "{+baseurl}/servicePrincipals/{servicePrincipal%2Did}{?%24select}"
	tmplSPByAppID     = "{+baseurl}/servicePrincipals(appId='{appId}'){?%24select}"
	tmplSPAssignments = "{+baseurl}/servicePrincipals/{servicePrincipal%2Did}/appRoleAssignments{?%24select}"
	tmplAppByAppID    = "{+baseurl}/applications(appId='{appId}'){?%24select,%24expand}"
	tmplDefaultPolicy = "{+baseurl}/policies/defaultAppManagementPolicy"
	tmplAppPolicies   = "{+baseurl}/applications/{application%2Did}/appManagementPolicies"
	tmplGroup         = "{+baseurl}/groups/{group%2Did}{?%24select}"
	tmplRoleTemplate  = "{+baseurl}/directoryRoleTemplates/{directoryRoleTemplate%2Did}{?%24select}"
)

// What a 403 on each read means.
const (
	permReadApps     = "the identity running doctor needs the Microsoft Graph permission Application.Read.All (or an operator's directory role that reads applications)"
	permReadPolicies = "reading app management policies needs Policy.Read.All"
	permReadGroups   = "reading groups needs GroupMember.Read.All or Group.Read.All"
	permReadRoles    = "reading directory role templates needs RoleManagement.Read.Directory"
	keyObject        = "object_id"
)

// expandQuery is a $select with an $expand.
type expandQuery struct {
	Select []string `uriparametername:"%24select"`
	Expand []string `uriparametername:"%24expand"`
}

var spFields = []string{"id", "appId", "displayName", "appRoles"}

var (
	_ doctor.Principals = (*Client)(nil)
	_ doctor.Apps       = (*Client)(nil)
	_ doctor.Directory  = (*Client)(nil)
)

// ServicePrincipal implements doctor.Principals: GET
// /servicePrincipals/{id}?$select=id,appId,displayName,appRoles.
func (c *Client) ServicePrincipal(ctx context.Context, objectID string) (doctor.ServicePrincipal, error) {
	id, ok := graphcore.CanonicalGUID(objectID)
	if !ok {
		return doctor.ServicePrincipal{}, fmt.Errorf("service principal id %q is not a GUID: %w", objectID, doctor.ErrNotFound)
	}
	op := call{name: "get service principal", target: id, targetKey: keySP, perm: permReadApps}
	return c.servicePrincipal(ctx, op, c.get(tmplSP, map[string]string{"servicePrincipal%2Did": id}, listQuery{Select: spFields}, nil))
}

// ServicePrincipalByAppID implements doctor.Principals: GET
// /servicePrincipals(appId='{appId}').
func (c *Client) ServicePrincipalByAppID(ctx context.Context, appID string) (doctor.ServicePrincipal, error) {
	id, ok := graphcore.CanonicalGUID(appID)
	if !ok {
		return doctor.ServicePrincipal{}, fmt.Errorf("app id %q is not a GUID: %w", appID, doctor.ErrNotFound)
	}
	op := call{name: "get service principal by app id", target: id, targetKey: "app_id", perm: permReadApps}
	return c.servicePrincipal(ctx, op, c.get(tmplSPByAppID, map[string]string{"appId": id}, listQuery{Select: spFields}, nil))
}

func (c *Client) servicePrincipal(ctx context.Context, op call, req request) (doctor.ServicePrincipal, error) {
	got, err := c.send(ctx, op, req, models.CreateServicePrincipalFromDiscriminatorValue)
	if err != nil {
		return doctor.ServicePrincipal{}, setupError(op, err)
	}
	sp, ok := got.(models.ServicePrincipalable)
	if !ok {
		return doctor.ServicePrincipal{}, fmt.Errorf("%s: graph answered with %T", op.name, got)
	}
	out := doctor.ServicePrincipal{
		ObjectID:    strings.ToLower(graphcore.Deref(sp.GetId())),
		AppID:       strings.ToLower(graphcore.Deref(sp.GetAppId())),
		DisplayName: graphcore.Deref(sp.GetDisplayName()),
	}
	for _, r := range sp.GetAppRoles() {
		if r == nil || r.GetId() == nil {
			continue
		}
		out.AppRoles = append(out.AppRoles, doctor.AppRole{
			ID: r.GetId().String(), Value: graphcore.Deref(r.GetValue()), Enabled: r.GetIsEnabled() == nil || *r.GetIsEnabled(),
		})
	}
	return out, nil
}

// AssignmentsOf implements doctor.Principals: GET
// /servicePrincipals/{id}/appRoleAssignments, every page.
func (c *Client) AssignmentsOf(ctx context.Context, spID string) ([]doctor.Assignment, error) {
	id, ok := graphcore.CanonicalGUID(spID)
	if !ok {
		return nil, fmt.Errorf("service principal id %q is not a GUID: %w", spID, doctor.ErrNotFound)
	}
	op := call{name: "list app role assignments held", target: id, targetKey: keySP, perm: permReadApps}
	first := c.get(tmplSPAssignments, map[string]string{"servicePrincipal%2Did": id},
		listQuery{Select: []string{"id", "resourceId", "appRoleId"}}, nil)
	var out []doctor.Assignment
	err := c.list(ctx, op, first, nil, models.CreateAppRoleAssignmentCollectionResponseFromDiscriminatorValue,
		func(p absser.Parsable) error {
			page, ok := p.(models.AppRoleAssignmentCollectionResponseable)
			if !ok {
				return fmt.Errorf("graph answered with %T, not app role assignments", p)
			}
			for _, a := range page.GetValue() {
				if a == nil || a.GetResourceId() == nil || a.GetAppRoleId() == nil {
					continue
				}
				out = append(out, doctor.Assignment{
					ID: graphcore.Deref(a.GetId()), ResourceID: a.GetResourceId().String(), AppRoleID: a.GetAppRoleId().String(),
				})
			}
			return nil
		})
	if err != nil {
		return nil, setupError(op, err)
	}
	return out, nil
}

// Application implements doctor.Apps: GET
// /applications(appId='{id}')?$select=id,appId,displayName,createdDateTime&$expand=owners($select=id).
func (c *Client) Application(ctx context.Context, clientID string) (doctor.Application, error) {
	id, ok := graphcore.CanonicalGUID(clientID)
	if !ok {
		return doctor.Application{}, fmt.Errorf("client id %q is not a GUID: %w", clientID, doctor.ErrNotFound)
	}
	op := call{name: "get application", target: id, targetKey: "client_id", perm: permReadApps}
	req := c.get(tmplAppByAppID, map[string]string{"appId": id},
		expandQuery{Select: []string{"id", "appId", "displayName", "createdDateTime"}, Expand: []string{"owners($select=id)"}}, nil)
	got, err := c.send(ctx, op, req, models.CreateApplicationFromDiscriminatorValue)
	if err != nil {
		return doctor.Application{}, setupError(op, err)
	}
	a, ok := got.(models.Applicationable)
	if !ok {
		return doctor.Application{}, fmt.Errorf("get application: graph answered with %T", got)
	}
	out := doctor.Application{
		ObjectID:    strings.ToLower(graphcore.Deref(a.GetId())),
		ClientID:    strings.ToLower(graphcore.Deref(a.GetAppId())),
		DisplayName: graphcore.Deref(a.GetDisplayName()),
	}
	if t := a.GetCreatedDateTime(); t != nil {
		out.Created = t.UTC()
	}
	for _, o := range a.GetOwners() {
		if o != nil && o.GetId() != nil {
			out.Owners = append(out.Owners, strings.ToLower(*o.GetId()))
		}
	}
	return out, nil
}

// DefaultPolicy implements doctor.Apps: GET /policies/defaultAppManagementPolicy.
func (c *Client) DefaultPolicy(ctx context.Context) (doctor.ManagementPolicy, error) {
	op := call{name: "get default app management policy", target: "default", targetKey: keyObject, perm: permReadPolicies}
	got, err := c.send(ctx, op, c.get(tmplDefaultPolicy, nil, nil, nil), models.CreateTenantAppManagementPolicyFromDiscriminatorValue)
	if err != nil {
		return doctor.ManagementPolicy{}, setupError(op, err)
	}
	p, ok := got.(models.TenantAppManagementPolicyable)
	if !ok {
		return doctor.ManagementPolicy{}, fmt.Errorf("get default app management policy: graph answered with %T", got)
	}
	out := doctor.ManagementPolicy{Name: graphcore.Deref(p.GetDisplayName()), Enabled: p.GetIsEnabled() != nil && *p.GetIsEnabled()}
	if r := p.GetApplicationRestrictions(); r != nil {
		out.Restrictions = restrictions(r.GetPasswordCredentials())
	}
	return out, nil
}

// AppPolicies implements doctor.Apps: GET
// /applications/{id}/appManagementPolicies, every page.
func (c *Client) AppPolicies(ctx context.Context, appObjectID string) ([]doctor.ManagementPolicy, error) {
	id, ok := graphcore.CanonicalGUID(appObjectID)
	if !ok {
		return nil, fmt.Errorf("application object id %q is not a GUID: %w", appObjectID, doctor.ErrNotFound)
	}
	op := call{name: "list app management policies", target: id, targetKey: keyObject, perm: permReadPolicies}
	var out []doctor.ManagementPolicy
	err := c.list(ctx, op, c.get(tmplAppPolicies, map[string]string{"application%2Did": id}, nil, nil), nil,
		models.CreateAppManagementPolicyCollectionResponseFromDiscriminatorValue,
		func(p absser.Parsable) error {
			page, ok := p.(models.AppManagementPolicyCollectionResponseable)
			if !ok {
				return fmt.Errorf("graph answered with %T, not app management policies", p)
			}
			for _, mp := range page.GetValue() {
				if mp == nil {
					continue
				}
				x := doctor.ManagementPolicy{Name: graphcore.Deref(mp.GetDisplayName()), Enabled: mp.GetIsEnabled() != nil && *mp.GetIsEnabled()}
				if r := mp.GetRestrictions(); r != nil {
					x.Restrictions = restrictions(r.GetPasswordCredentials())
				}
				out = append(out, x)
			}
			return nil
		})
	if err != nil {
		return nil, setupError(op, err)
	}
	return out, nil
}

// restrictions copies password credential restrictions.
func restrictions(in []models.PasswordCredentialConfigurationable) []doctor.Restriction {
	var out []doctor.Restriction
	for _, p := range in {
		if p == nil || p.GetRestrictionType() == nil {
			continue
		}
		r := doctor.Restriction{Type: p.GetRestrictionType().String()}
		if d := p.GetMaxLifetime(); d != nil {
			r.MaxLifetime = isoDays(d.GetYears(), d.GetWeeks(), d.GetDays(), d.GetHours(), d.GetMinutes(), d.GetSeconds())
		}
		if t := p.GetRestrictForAppsCreatedAfterDateTime(); t != nil {
			r.After = t.UTC()
		}
		if s := p.GetState(); s != nil && s.String() == "disabled" {
			r.Disabled = true
		}
		out = append(out, r)
	}
	return out
}

// isoDays turns an ISO 8601 duration's parts into a time.Duration, a year
// counted as 365 days (Entra ID's policies are written in days: P90D).
func isoDays(years, weeks, days, hours, minutes, seconds int) time.Duration {
	const day = 24 * time.Hour
	return time.Duration(years)*365*day + time.Duration(weeks)*7*day + time.Duration(days)*day +
		time.Duration(hours)*time.Hour + time.Duration(minutes)*time.Minute + time.Duration(seconds)*time.Second
}

// Group implements doctor.Directory: GET /groups/{id}?$select=id,displayName.
func (c *Client) Group(ctx context.Context, groupID string) (string, error) {
	return c.named(ctx, groupID, call{name: "get group", targetKey: keyObject, perm: permReadGroups}, tmplGroup, "group%2Did",
		models.CreateGroupFromDiscriminatorValue)
}

// RoleTemplate implements doctor.Directory: GET
// /directoryRoleTemplates/{id}?$select=id,displayName.
func (c *Client) RoleTemplate(ctx context.Context, templateID string) (string, error) {
	return c.named(ctx, templateID, call{name: "get directory role template", targetKey: keyObject, perm: permReadRoles},
		tmplRoleTemplate, "directoryRoleTemplate%2Did", models.CreateDirectoryRoleTemplateFromDiscriminatorValue)
}

// named reads one directory object and returns its display name.
func (c *Client) named(ctx context.Context, rawID string, op call, tmpl, param string, factory absser.ParsableFactory) (string, error) {
	id, ok := graphcore.CanonicalGUID(rawID)
	if !ok {
		return "", fmt.Errorf("%s: id %q is not a GUID: %w", op.name, rawID, doctor.ErrNotFound)
	}
	op.target = id
	got, err := c.send(ctx, op, c.get(tmpl, map[string]string{param: id}, listQuery{Select: []string{"id", "displayName"}}, nil), factory)
	if err != nil {
		return "", setupError(op, err)
	}
	o, ok := got.(interface{ GetDisplayName() *string })
	if !ok {
		return "", fmt.Errorf("%s: graph answered with %T", op.name, got)
	}
	return graphcore.Deref(o.GetDisplayName()), nil
}

// setupError marks a failed read for doctor: ErrForbidden for a missing
// permission (the text names it), ErrNotFound for a 404.
func setupError(op call, err error) error {
	var e *roleError
	if errors.As(err, &e) {
		switch e.Kind {
		case kindPermission:
			return fmt.Errorf("%s %s: %w: %w", op.name, op.target, doctor.ErrForbidden, err)
		case kindNotFound, kindUnknownSP:
			return fmt.Errorf("%s %s: %w: %w", op.name, op.target, doctor.ErrNotFound, err)
		}
	}
	return fmt.Errorf("%s %s: %w", op.name, op.target, err)
}
