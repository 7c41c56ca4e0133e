package rotation

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Permission is what a role grants in Keyturn.
type Permission string

// The two permissions: asking for a rotation, and approving one.
const (
	PermRequest Permission = "request"
	PermApprove Permission = "approve"
)

// SourceKind says where in Entra ID a role comes from.
type SourceKind string

// Role sources.
const (
	// SourceDirectoryRole is a directory role (Entra built-in or custom),
	// by role template ID, held directly or through a group.
	SourceDirectoryRole SourceKind = "directoryRole"
	// SourceGroup is a security group, by object ID, with nested groups.
	SourceGroup SourceKind = "group"
	// SourceAppRole is an app role of Keyturn's own enterprise app, by app
	// role ID, assigned to the user or to a group the user is in.
	SourceAppRole SourceKind = "appRole"
)

// RoleSource is one place a permission comes from.
type RoleSource struct {
	Kind SourceKind
	ID   string // template ID, group object ID or app role ID
	Name string // for people: "Application Administrator", "sg-keyturn-approvers"
}

func (s RoleSource) String() string {
	if s.Name != "" {
		return fmt.Sprintf("%s %s", s.Kind, s.Name)
	}
	return fmt.Sprintf("%s %s", s.Kind, s.ID)
}

// RoleAssignment is an app role assignment on Keyturn's service principal.
type RoleAssignment struct {
	AppRoleID     string
	PrincipalID   string
	PrincipalType string // "User", "Group" or "ServicePrincipal"
}

// RoleDirectory answers role questions about a user from Entra ID
// (Microsoft Graph). Implementations translate SDK errors; any error makes
// the caller deny.
type RoleDirectory interface {
	// DirectoryRoleTemplates returns the template IDs of the directory
	// roles userID holds, directly or through groups.
	DirectoryRoleTemplates(ctx context.Context, userID string) ([]string, error)
	// MemberGroups returns those of groupIDs that userID is a member of,
	// transitively.
	MemberGroups(ctx context.Context, userID string, groupIDs []string) ([]string, error)
	// AppRoleAssignments returns the assignments of Keyturn's service
	// principal whose app role is one of appRoleIDs.
	AppRoleAssignments(ctx context.Context, appRoleIDs []string) ([]RoleAssignment, error)
}

// Grants is what a user may do, and why.
type Grants struct {
	Request bool
	Approve bool
	// Roles names the sources that matched, for whoami and audit records.
	Roles []string
}

// Has reports whether g includes p.
func (g Grants) Has(p Permission) bool {
	switch p {
	case PermRequest:
		return g.Request
	case PermApprove:
		return g.Approve
	}
	return false
}

// RoleConfig maps permissions to role sources. A source granting approve
// does not imply request; list it under both for both.
type RoleConfig struct {
	Request []RoleSource
	Approve []RoleSource
}

// Authorizer resolves a user's permissions from Entra ID, as data: the
// configured sources, matched against what the directory says. Decisions
// are cached for at most CacheFor (60 s at most); a lookup error is
// returned, and callers deny on it (fail closed).
type Authorizer struct {
	Dir      RoleDirectory
	Roles    RoleConfig
	Clock    Clock
	CacheFor time.Duration

	mu    sync.Mutex
	cache map[string]cachedGrants
}

type cachedGrants struct {
	g  Grants
	at time.Time
}

// MaxRoleCache is the longest a decision may be reused.
const MaxRoleCache = 60 * time.Second

// Grants returns what userID may do, given extra sources that also grant
// approve for one app (per-app approvers; nil for none).
func (a *Authorizer) Grants(ctx context.Context, userID string, extraApprove []RoleSource) (Grants, error) {
	if !IsGUID(userID) {
		return Grants{}, fmt.Errorf("user %q is not an Entra object ID: %w", userID, ErrInvalid)
	}
	key := strings.ToLower(userID) + "|" + sourcesKey(extraApprove)
	ttl := min(a.CacheFor, MaxRoleCache)
	now := a.Clock.Now()
	a.mu.Lock()
	if c, ok := a.cache[key]; ok && ttl > 0 && now.Sub(c.at) < ttl && now.Sub(c.at) >= 0 {
		a.mu.Unlock()
		return c.g, nil
	}
	a.mu.Unlock()

	held, err := a.held(ctx, userID, append(append(append([]RoleSource(nil), a.Roles.Request...), a.Roles.Approve...), extraApprove...))
	if err != nil {
		return Grants{}, fmt.Errorf("look up the roles of %s: %w", userID, err)
	}
	var g Grants
	names := map[string]bool{}
	for _, s := range a.Roles.Request {
		if held[sourceKey(s)] {
			g.Request = true
			names[s.String()] = true
		}
	}
	for _, s := range append(append([]RoleSource(nil), a.Roles.Approve...), extraApprove...) {
		if held[sourceKey(s)] {
			g.Approve = true
			names[s.String()] = true
		}
	}
	for n := range names {
		g.Roles = append(g.Roles, n)
	}
	sort.Strings(g.Roles)
	a.mu.Lock()
	if a.cache == nil {
		a.cache = map[string]cachedGrants{}
	}
	a.cache[key] = cachedGrants{g: g, at: now}
	a.mu.Unlock()
	return g, nil
}

// held returns which of sources userID holds, by sourceKey.
func (a *Authorizer) held(ctx context.Context, userID string, sources []RoleSource) (map[string]bool, error) {
	held := map[string]bool{}
	var templates, groups, appRoles []string
	for _, s := range sources {
		switch s.Kind {
		case SourceDirectoryRole:
			templates = append(templates, s.ID)
		case SourceGroup:
			groups = append(groups, s.ID)
		case SourceAppRole:
			appRoles = append(appRoles, s.ID)
		default:
			return nil, fmt.Errorf("role source kind %q: %w", s.Kind, ErrInvalid)
		}
	}
	if len(templates) > 0 {
		got, err := a.Dir.DirectoryRoleTemplates(ctx, userID)
		if err != nil {
			return nil, err
		}
		for _, t := range got {
			held[sourceKey(RoleSource{Kind: SourceDirectoryRole, ID: t})] = true
		}
	}
	// App roles may be assigned to groups: collect those groups so one
	// membership check answers both.
	viaGroup := map[string][]string{} // group ID → app role IDs
	if len(appRoles) > 0 {
		as, err := a.Dir.AppRoleAssignments(ctx, dedupe(appRoles))
		if err != nil {
			return nil, err
		}
		for _, as := range as {
			switch {
			case strings.EqualFold(as.PrincipalType, "User") && strings.EqualFold(as.PrincipalID, userID):
				held[sourceKey(RoleSource{Kind: SourceAppRole, ID: as.AppRoleID})] = true
			case strings.EqualFold(as.PrincipalType, "Group"):
				g := strings.ToLower(as.PrincipalID)
				viaGroup[g] = append(viaGroup[g], as.AppRoleID)
				groups = append(groups, g)
			}
		}
	}
	if len(groups) > 0 {
		got, err := a.Dir.MemberGroups(ctx, userID, dedupe(groups))
		if err != nil {
			return nil, err
		}
		for _, g := range got {
			held[sourceKey(RoleSource{Kind: SourceGroup, ID: g})] = true
			for _, r := range viaGroup[strings.ToLower(g)] {
				held[sourceKey(RoleSource{Kind: SourceAppRole, ID: r})] = true
			}
		}
	}
	return held, nil
}

func sourceKey(s RoleSource) string { return string(s.Kind) + ":" + strings.ToLower(s.ID) }

func sourcesKey(ss []RoleSource) string {
	keys := make([]string, len(ss))
	for i, s := range ss {
		keys[i] = sourceKey(s)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

func dedupe(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		k := strings.ToLower(id)
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// ErrDenied means the caller lacks the permission. Its wrapping error says
// which, in words.
var ErrDenied = errors.New("not allowed")
