package doctor

import (
	"context"
	"errors"
	"time"
)

// Errors the probes wrap, so checks can tell "not there" and "not allowed
// to look" from every other failure.
var (
	// ErrNotFound means the object (service principal, app, group, role,
	// vault resource, table) does not exist or is not visible.
	ErrNotFound = errors.New("not found")
	// ErrForbidden means the identity may not read it: a permission is
	// missing. The error's text names the permission.
	ErrForbidden = errors.New("not permitted")
)

// Claims say whom a token was issued to. They are read from the token,
// never the token itself.
type Claims struct {
	TenantID string
	ObjectID string
	AppID    string // the client (app) ID, for application tokens
	Name     string // a user's UPN; empty for applications
	// App is true for an application (service principal or managed
	// identity) token, false for a user's.
	App bool
}

// Who names the principal for people.
func (c Claims) Who() string {
	if c.App || c.Name == "" {
		return "application " + c.AppID + " (object ID " + c.ObjectID + ")"
	}
	return c.Name + " (object ID " + c.ObjectID + ")"
}

// Tokens gets tokens from the credential Keyturn would use. Implemented
// by cmd/bot over azcore; a test seam otherwise.
type Tokens interface {
	// Claims gets a token for scope and returns its claims. Errors are
	// the credential's (no token could be had).
	Claims(ctx context.Context, scope string) (Claims, error)
}

// AppRole is an app role a service principal defines.
type AppRole struct {
	ID      string
	Value   string // "Application.ReadWrite.OwnedBy", "Keyturn.Approve"
	Enabled bool
}

// ServicePrincipal is an enterprise application.
type ServicePrincipal struct {
	ObjectID    string
	AppID       string
	DisplayName string
	AppRoles    []AppRole
}

// Assignment is an app role assignment a service principal holds: an
// application permission when the resource is Microsoft Graph.
type Assignment struct {
	ID         string // the assignment's own ID
	ResourceID string // object ID of the resource's service principal
	AppRoleID  string
}

// Principals reads service principals and what they hold.
type Principals interface {
	// ServicePrincipal reads one by object ID. ErrNotFound, ErrForbidden.
	ServicePrincipal(ctx context.Context, objectID string) (ServicePrincipal, error)
	// ServicePrincipalByAppID reads one by its app (client) ID.
	// ErrNotFound, ErrForbidden.
	ServicePrincipalByAppID(ctx context.Context, appID string) (ServicePrincipal, error)
	// AssignmentsOf lists the app role assignments spID holds.
	// ErrNotFound, ErrForbidden.
	AssignmentsOf(ctx context.Context, spID string) ([]Assignment, error)
}

// Application is an app registration as the apps check needs it.
type Application struct {
	ObjectID    string
	ClientID    string
	DisplayName string
	Created     time.Time
	Owners      []string // object IDs
}

// Restriction is one password restriction of an app management policy.
type Restriction struct {
	// Type is Graph's restrictionType: passwordLifetime, passwordAddition,
	// customPasswordAddition, symmetricKeyAddition, ...
	Type string
	// MaxLifetime is set for passwordLifetime.
	MaxLifetime time.Duration
	// After: the restriction applies to apps created after it (zero: all).
	After time.Time
	// Disabled is Graph's state "disabled".
	Disabled bool
}

// ManagementPolicy is the tenant default or an app-specific app
// management policy, its password restrictions only.
type ManagementPolicy struct {
	Name         string
	Enabled      bool
	Restrictions []Restriction
}

// Apps reads app registrations and the policies that bind their secrets.
type Apps interface {
	// Application reads an app by client ID, with its owners. ErrNotFound,
	// ErrForbidden.
	Application(ctx context.Context, clientID string) (Application, error)
	// DefaultPolicy reads the tenant's default app management policy.
	// ErrForbidden (Policy.Read.All).
	DefaultPolicy(ctx context.Context) (ManagementPolicy, error)
	// AppPolicies lists the app management policies applied to the app
	// with this object ID. ErrForbidden.
	AppPolicies(ctx context.Context, appObjectID string) ([]ManagementPolicy, error)
}

// Directory resolves the role sources a policy names.
type Directory interface {
	// Group returns the display name of group id. ErrNotFound, ErrForbidden.
	Group(ctx context.Context, id string) (string, error)
	// RoleTemplate returns the display name of directory role template id.
	// ErrNotFound, ErrForbidden.
	RoleTemplate(ctx context.Context, id string) (string, error)
}

// VaultInfo is what a read of a vault's secret properties showed.
type VaultInfo struct {
	// Secrets counts the secrets on the first page read.
	Secrets int
	// RecoveryLevel is the first secret's recoveryLevel attribute
	// (Recoverable, Recoverable+Purgeable, Purgeable, ...); empty when the
	// vault holds no secret.
	RecoveryLevel string
}

// ProbeResult is what the write probe saw.
type ProbeResult struct {
	Name          string // the probe secret's name
	RecoveryLevel string
	// Purged says the deleted probe was purged; false under purge
	// protection, where it stays deleted until the retention ends.
	Purged bool
}

// Vaults reads (and, for the probe, writes) Key Vault's data plane.
type Vaults interface {
	// Inspect lists secret properties (never values) of vaultURI.
	// Errors wrap rotation.ErrVaultForbidden (with the vault's inner code
	// in the text) or rotation.ErrVaultUnreachable.
	Inspect(ctx context.Context, vaultURI string) (VaultInfo, error)
	// Probe writes a marked secret named name with a random value, reads
	// it back, compares, deletes it and purges it where allowed. It
	// deletes the probe even when a later step fails.
	Probe(ctx context.Context, vaultURI, name string) (ProbeResult, error)
}

// VaultSettings are a vault's management-plane properties.
type VaultSettings struct {
	ResourceID      string
	RBAC            bool // enableRbacAuthorization
	SoftDelete      bool // enableSoftDelete (nil on the wire means on)
	PurgeProtection bool
}

// VaultResources reads vault resources from Azure Resource Manager.
type VaultResources interface {
	// Settings finds the vault resource whose vaultUri is vaultURI in the
	// subscriptions the identity can see. ErrNotFound (not visible),
	// ErrForbidden.
	Settings(ctx context.Context, vaultURI string) (VaultSettings, error)
	// RolesOf returns the role definition IDs (GUIDs, lower case) that
	// principalID holds on the resource, inherited and group-held ones
	// included. ErrForbidden.
	RolesOf(ctx context.Context, resourceID, principalID string) ([]string, error)
}

// Pinger is a reachability check: the Bot Framework metadata, a connector
// token, the state store. Nil error means reachable.
type Pinger interface {
	Ping(ctx context.Context) error
}

// PingFunc adapts a function to Pinger.
type PingFunc func(ctx context.Context) error

// Ping implements Pinger.
func (f PingFunc) Ping(ctx context.Context) error { return f(ctx) }
