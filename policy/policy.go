package policy

import (
	"strings"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// Policy is Keyturn's policy, typed and checked: what Load makes of a
// policy file, or Builtin without one.
type Policy struct {
	// Rotation is the rotation policy (vaults, lifetimes, overlap, secret
	// name prefixes); OwnClientID is the caller's to set.
	Rotation rotation.Policy
	// Roles says who may request and who may approve, for every app.
	Roles Roles
	// DefaultRule applies to apps not listed under apps (typed by client ID).
	DefaultRule rotation.AppRule
	// Rules are the listed apps' approval rules, by lower-case client ID.
	Rules map[string]rotation.AppRule
	// Apps are the listed apps, by alias, with vault and secret names resolved.
	Apps map[string]App
	// DefaultVault is a canonical vault URI, or empty.
	DefaultVault string
	// Tenants are lower-case tenant IDs; nil means the caller's default
	// (MicrosoftAppTenantId).
	Tenants []string
	// RequestTTL is how long an approval request waits for decisions.
	RequestTTL time.Duration
	// Radar configures the expiry radar.
	Radar Radar
}

// Radar is the radar key: how far ahead the radar looks, the points
// before expiry at which a card is posted again, longest first, and how
// often it scans.
type Radar struct {
	WarnBefore time.Duration
	Thresholds []time.Duration
	ScanEvery  time.Duration
}

// The radar's defaults: a 30-day window, cards at 30, 7 and 1 days, a daily
// scan.
const (
	DefaultRadarWindow    = 30 * 24 * time.Hour
	DefaultRadarScanEvery = 24 * time.Hour
)

// defaultThresholds are the window, 7 days and 1 day, as far as they are
// within the window.
func defaultThresholds(window time.Duration) []time.Duration {
	out := []time.Duration{window}
	for _, d := range []time.Duration{7 * 24 * time.Hour, 24 * time.Hour} {
		if d < window {
			out = append(out, d)
		}
	}
	return out
}

// Roles are the role sources of the policy file's roles key.
type Roles struct {
	Request []rotation.RoleSource
	Approve []rotation.RoleSource
}

// App is one app listed in the policy file, under the alias people type.
type App struct {
	Alias        string
	ClientID     string // lower case
	VaultURI     string // canonical; empty when neither the app nor default_vault names one
	ClientIDName string // vault secret names
	SecretName   string
	Lifetime     time.Duration // zero: the policy's
	Overlap      time.Duration // zero: the policy's
	// AutoRequestBefore: the radar opens a rotation request itself when
	// the app's soonest secret ends within it (zero: never).
	AutoRequestBefore time.Duration
}

// Request-TTL bounds and the default.
const (
	DefaultRequestTTL = 30 * time.Minute
	MinRequestTTL     = time.Minute
	MaxRequestTTL     = 24 * time.Hour
)

// Builtin is the policy without a file: rotation.DefaultPolicy's lifetimes
// and overlap, no allowed vault (so nothing can be rotated until one is
// configured), no app aliases, no role sources, one approval for every app,
// and requests that wait 30 minutes. Tenants stay nil: the caller defaults
// them to MicrosoftAppTenantId.
func Builtin() Policy {
	return Policy{
		Rotation:    rotation.DefaultPolicy(),
		DefaultRule: rotation.AppRule{Required: 1},
		Rules:       map[string]rotation.AppRule{},
		Apps:        map[string]App{},
		RequestTTL:  DefaultRequestTTL,
		Radar:       Radar{WarnBefore: DefaultRadarWindow, Thresholds: defaultThresholds(DefaultRadarWindow), ScanEvery: DefaultRadarScanEvery},
	}
}

// Rule returns the approval rule of clientID: its own if listed, else the
// default.
func (p *Policy) Rule(clientID string) rotation.AppRule {
	if r, ok := p.Rules[strings.ToLower(clientID)]; ok {
		return r
	}
	return p.DefaultRule
}

// ClientIDs lists the apps the policy names (aliases and per-app rules),
// lower-case and sorted, for the sweep.
func (p *Policy) ClientIDs() []string {
	seen := map[string]bool{}
	for _, a := range p.Apps {
		seen[strings.ToLower(a.ClientID)] = true
	}
	for id := range p.Rules {
		seen[strings.ToLower(id)] = true
	}
	return sortedKeys(seen)
}

// AppByClientID returns the listed app with clientID.
func (p *Policy) AppByClientID(clientID string) (App, bool) {
	for _, a := range p.Apps {
		if strings.EqualFold(a.ClientID, clientID) {
			return a, true
		}
	}
	return App{}, false
}
