package doctor

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// IDs of the test tenant.
const (
	tenantID   = "5e7a3b1c-2d4f-4a6b-8c9d-0e1f2a3b4c5d"
	keyturnSP  = "aaaaaaaa-0000-4000-8000-00000000000a"
	keyturnApp = "aaaaaaaa-0000-4000-8000-0000000000c1"
	graphSP    = "99999999-0000-4000-8000-000000000099"
	payments   = "7f8e9d0c-1b2a-4c3d-9e4f-5a6b7c8d9e0f"
	paymentsOb = "7f8e9d0c-0000-4000-8000-0000000000b1"
	group      = "0b6c2a1e-7d3f-4e5a-9b8c-1d2e3f4a5b6c"
	appRoleReq = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f"
	appAdmin   = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
	vaultURI   = "https://kv-payments.vault.azure.net/"

	// canary is a secret value the fake vault's probe stores; it must
	// never reach a report.
	canary = "CANARY-doctor-5f0e1d2c3b4a"
)

// graphRoles are a few of Microsoft Graph's application permissions
// (app role IDs as Graph's service principal lists them).
var graphRoles = map[string]string{
	"Application.ReadWrite.OwnedBy": "18a4783c-866b-4cc7-a460-3d5e5662c884",
	"Application.ReadWrite.All":     "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
	"Application.Read.All":          "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
	"User.Read.All":                 "df021288-bdef-4463-88db-98f22de89214",
	"GroupMember.Read.All":          "98830695-27a2-44f7-8c18-0c3ebc9698f6",
	"RoleManagement.Read.Directory": "483bed4a-2ad3-4361-a73b-c83ccdbdc53c",
}

// world is a fake tenant behind every probe. Errors set by name fail
// that call.
type world struct {
	claims map[string]Claims
	errs   map[string]error

	sps         map[string]ServicePrincipal // by object ID
	assignments map[string][]Assignment
	apps        map[string]Application // by client ID
	tenant      ManagementPolicy
	appPolicies map[string][]ManagementPolicy // by object ID
	groups      map[string]string
	templates   map[string]string
	vaults      map[string]VaultInfo
	settings    map[string]VaultSettings
	vaultRoles  map[string][]string // by resource ID: Keyturn's role definition IDs

	stored []string // values the probe wrote, for the canary check
	probed []string // probe names
}

// goodSetup returns a setup where every check passes, and its world.
func goodSetup() (Config, *world) {
	cfg := Config{
		GraphURL:     "https://graph.microsoft.com",
		GraphScope:   "https://graph.microsoft.com/.default",
		VaultScope:   "https://vault.azure.net/.default",
		PrincipalID:  keyturnSP,
		ClientID:     keyturnApp,
		PolicySource: "keyturn.yaml",
		Apps:         []App{{Alias: "payments-api", ClientID: payments, Lifetime: 90 * 24 * time.Hour}},
		Vaults:       []string{vaultURI},
		Roles: []rotation.RoleSource{
			{Kind: rotation.SourceGroup, ID: group, Name: "sg-keyturn-requesters"},
			{Kind: rotation.SourceAppRole, ID: appRoleReq, Name: "Keyturn.Request"},
			{Kind: rotation.SourceDirectoryRole, ID: appAdmin, Name: "Application Administrator"},
		},
		Tenants:    []string{tenantID},
		BotAppID:   keyturnApp,
		BotAppType: "UserAssignedMSI",
		Store:      StoreTables,
		StoreWhere: "azure tables at https://st.table.core.windows.net",
		Table:      "keyturn",
		ProbeName:  func() string { return "keyturn-doctor-probe-test" },
	}
	var graphAppRoles []AppRole
	for v, id := range graphRoles {
		graphAppRoles = append(graphAppRoles, AppRole{ID: id, Value: v, Enabled: true})
	}
	w := &world{
		claims: map[string]Claims{},
		errs:   map[string]error{},
		sps: map[string]ServicePrincipal{
			keyturnSP: {ObjectID: keyturnSP, AppID: keyturnApp, DisplayName: "keyturn",
				AppRoles: []AppRole{{ID: appRoleReq, Value: "Keyturn.Request", Enabled: true}}},
			graphSP: {ObjectID: graphSP, AppID: GraphAppID, DisplayName: "Microsoft Graph", AppRoles: graphAppRoles},
		},
		assignments: map[string][]Assignment{},
		apps: map[string]Application{
			payments: {ObjectID: paymentsOb, ClientID: payments, DisplayName: "Payments API",
				Created: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Owners: []string{"u-1", keyturnSP}},
		},
		tenant: ManagementPolicy{Name: "default", Enabled: true, Restrictions: []Restriction{
			{Type: "passwordLifetime", MaxLifetime: 180 * 24 * time.Hour},
		}},
		appPolicies: map[string][]ManagementPolicy{},
		groups:      map[string]string{group: "sg-keyturn-requesters"},
		templates:   map[string]string{appAdmin: "Application Administrator"},
		vaults:      map[string]VaultInfo{vaultURI: {Secrets: 2, RecoveryLevel: "Recoverable"}},
		settings: map[string]VaultSettings{vaultURI: {ResourceID: "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/kv-payments",
			RBAC: true, SoftDelete: true, PurgeProtection: true}},
	}
	w.vaultRoles = map[string][]string{w.settings[vaultURI].ResourceID: {roleSecretsOfficer}}
	for _, s := range []string{cfg.GraphScope, cfg.VaultScope} {
		w.claims[s] = Claims{TenantID: tenantID, ObjectID: keyturnSP, AppID: keyturnApp, App: true}
	}
	for i, p := range NeededPermissions(cfg.Roles) {
		w.assignments[keyturnSP] = append(w.assignments[keyturnSP],
			Assignment{ID: fmt.Sprintf("asg-%d", i), ResourceID: graphSP, AppRoleID: graphRoles[p.Value]})
	}
	return cfg, w
}

func (w *world) probes() Probes {
	return Probes{Tokens: w, Principals: w, Apps: w, Directory: w, Vaults: w, Resources: w,
		OpenID:    PingFunc(func(context.Context) error { return w.errs["openid"] }),
		Connector: PingFunc(func(context.Context) error { return w.errs["connector"] }),
		Store:     PingFunc(func(context.Context) error { return w.errs["store"] }),
	}
}

func (w *world) Claims(_ context.Context, scope string) (Claims, error) {
	if err := w.errs["token "+scope]; err != nil {
		return Claims{}, err
	}
	return w.claims[scope], nil
}

func (w *world) ServicePrincipal(_ context.Context, id string) (ServicePrincipal, error) {
	if err := w.errs["sp"]; err != nil {
		return ServicePrincipal{}, err
	}
	sp, ok := w.sps[id]
	if !ok {
		return sp, fmt.Errorf("service principal %s: %w", id, ErrNotFound)
	}
	return sp, nil
}

func (w *world) ServicePrincipalByAppID(ctx context.Context, appID string) (ServicePrincipal, error) {
	for id, sp := range w.sps {
		if strings.EqualFold(sp.AppID, appID) {
			return w.ServicePrincipal(ctx, id)
		}
	}
	return ServicePrincipal{}, fmt.Errorf("service principal of app %s: %w", appID, ErrNotFound)
}

func (w *world) AssignmentsOf(_ context.Context, spID string) ([]Assignment, error) {
	if err := w.errs["assignments"]; err != nil {
		return nil, err
	}
	return w.assignments[spID], nil
}

func (w *world) Application(_ context.Context, clientID string) (Application, error) {
	if err := w.errs["app"]; err != nil {
		return Application{}, err
	}
	a, ok := w.apps[clientID]
	if !ok {
		return a, fmt.Errorf("application %s: %w", clientID, ErrNotFound)
	}
	return a, nil
}

func (w *world) DefaultPolicy(context.Context) (ManagementPolicy, error) {
	return w.tenant, w.errs["policies"]
}

func (w *world) AppPolicies(_ context.Context, objectID string) ([]ManagementPolicy, error) {
	return w.appPolicies[objectID], w.errs["policies"]
}

func (w *world) Group(_ context.Context, id string) (string, error) {
	if n, ok := w.groups[id]; ok {
		return n, nil
	}
	return "", fmt.Errorf("group %s: %w", id, ErrNotFound)
}

func (w *world) RoleTemplate(_ context.Context, id string) (string, error) {
	if err := w.errs["templates"]; err != nil {
		return "", err
	}
	if n, ok := w.templates[id]; ok {
		return n, nil
	}
	return "", fmt.Errorf("directory role template %s: %w", id, ErrNotFound)
}

func (w *world) Inspect(_ context.Context, uri string) (VaultInfo, error) {
	if err := w.errs["inspect"]; err != nil {
		return VaultInfo{}, err
	}
	return w.vaults[uri], nil
}

func (w *world) Probe(_ context.Context, uri, name string) (ProbeResult, error) {
	w.probed = append(w.probed, name)
	if err := w.errs["probe"]; err != nil {
		return ProbeResult{}, err
	}
	w.stored = append(w.stored, canary)
	return ProbeResult{Name: name, RecoveryLevel: w.vaults[uri].RecoveryLevel}, nil
}

func (w *world) Settings(_ context.Context, uri string) (VaultSettings, error) {
	if err := w.errs["settings"]; err != nil {
		return VaultSettings{}, err
	}
	s, ok := w.settings[uri]
	if !ok {
		return s, fmt.Errorf("vault %s: %w", uri, ErrNotFound)
	}
	return s, nil
}

func (w *world) RolesOf(_ context.Context, resourceID, principalID string) ([]string, error) {
	if err := w.errs["roles"]; err != nil {
		return nil, err
	}
	if principalID != keyturnSP {
		return nil, nil
	}
	return w.vaultRoles[resourceID], nil
}
