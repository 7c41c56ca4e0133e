package policy

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// MaxRoleCache is the longest a caller's roles are reused.
const MaxRoleCache = 60 * time.Second

// Authorizer reads callers' roles from Entra ID and decides with
// Policy.Allow. Authorize audits every decision, allowed or refused; Check
// decides without a record, for what a card shows (the server decides
// again when the button is clicked). Roles are cached for at most CacheFor
// (60 s at most); a lookup error refuses (fail closed).
type Authorizer struct {
	Policy   *Policy
	Dir      rotation.RoleDirectory
	Audit    rotation.Auditor
	Clock    rotation.Clock
	CacheFor time.Duration

	mu    sync.Mutex
	cache map[string]cachedGrants
}

var _ rotation.Authorizer = (*Authorizer)(nil)

type cachedGrants struct {
	g  Grants
	at time.Time
}

// Authorize implements rotation.Authorizer: Check, then one audit record
// of the decision (rotation.Decision.Event). An allowed decision whose
// record cannot be written is refused with rotation.ErrAuditFailed.
func (a *Authorizer) Authorize(ctx context.Context, at rotation.Attempt) (rotation.Decision, error) {
	d, err := a.Check(ctx, at)
	e := d.Event()
	e.Time, e.Ref = a.Clock.Now(), rotation.RefFrom(ctx)
	if aerr := a.Audit.Record(ctx, e); aerr != nil && err == nil {
		return d, fmt.Errorf("%s for %s: %w: %w", e.Type, at.Action, rotation.ErrAuditFailed, aerr)
	}
	return d, err
}

// Check decides at without an audit record. When the decision is a
// refusal, err is a *rotation.DeniedError.
func (a *Authorizer) Check(ctx context.Context, at rotation.Attempt) (rotation.Decision, error) {
	g, lerr := a.Grants(ctx, at.Who.ObjectID)
	d, err := a.Policy.Allow(g, at)
	switch {
	case err == nil && lerr != nil && d.Allowed && len(d.Needs) == 0:
		// Everyone may: the roles were only to be shown.
		d.Why = "your roles could not be checked"
		return d, nil
	case lerr != nil:
		d.Allowed, d.Direct, d.Why = false, false, "your roles could not be checked"
		return d, &rotation.DeniedError{Decision: d, Err: lerr}
	case err != nil:
		return d, &rotation.DeniedError{Decision: d, Err: err}
	case !d.Allowed:
		return d, &rotation.DeniedError{Decision: d}
	}
	return d, nil
}

// Grants returns the role sources of the policy that userID holds.
func (a *Authorizer) Grants(ctx context.Context, userID string) (Grants, error) {
	if !rotation.IsGUID(userID) {
		return Grants{}, fmt.Errorf("user %q is not an Entra object ID: %w", userID, rotation.ErrInvalid)
	}
	key := strings.ToLower(userID)
	ttl := min(a.CacheFor, MaxRoleCache)
	now := a.Clock.Now()
	a.mu.Lock()
	if c, ok := a.cache[key]; ok && ttl > 0 && now.Sub(c.at) < ttl && now.Sub(c.at) >= 0 {
		a.mu.Unlock()
		return c.g, nil
	}
	a.mu.Unlock()

	sources := a.Policy.Sources()
	held, err := a.held(ctx, userID, sources)
	if err != nil {
		return Grants{}, fmt.Errorf("look up the roles of %s: %w", userID, err)
	}
	var g Grants
	for _, s := range sources {
		if held[s.Key()] {
			g.Held = append(g.Held, s)
		}
	}
	a.mu.Lock()
	if a.cache == nil {
		a.cache = map[string]cachedGrants{}
	}
	a.cache[key] = cachedGrants{g: g, at: now}
	a.mu.Unlock()
	return g, nil
}

// held returns which of sources userID holds, by RoleSource.Key.
func (a *Authorizer) held(ctx context.Context, userID string, sources []rotation.RoleSource) (map[string]bool, error) {
	held := map[string]bool{}
	var templates, groups, appRoles []string
	for _, s := range sources {
		switch s.Kind {
		case rotation.SourceDirectoryRole:
			templates = append(templates, s.ID)
		case rotation.SourceGroup:
			groups = append(groups, s.ID)
		case rotation.SourceAppRole:
			appRoles = append(appRoles, s.ID)
		default:
			return nil, fmt.Errorf("role source kind %q: %w", s.Kind, rotation.ErrInvalid)
		}
	}
	mark := func(kind rotation.SourceKind, id string) {
		held[rotation.RoleSource{Kind: kind, ID: id}.Key()] = true
	}
	if len(templates) > 0 {
		got, err := a.Dir.DirectoryRoleTemplates(ctx, userID)
		if err != nil {
			return nil, err
		}
		for _, t := range got {
			mark(rotation.SourceDirectoryRole, t)
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
				mark(rotation.SourceAppRole, as.AppRoleID)
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
			mark(rotation.SourceGroup, g)
			for _, r := range viaGroup[strings.ToLower(g)] {
				mark(rotation.SourceAppRole, r)
			}
		}
	}
	return held, nil
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
