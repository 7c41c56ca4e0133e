package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/keyturn/keyturn/azure/azcloud"
	"github.com/keyturn/keyturn/bot"
	"github.com/keyturn/keyturn/rotation"
)

// policyFile is the YAML policy file as written; docs/keyturn.example.yaml
// documents every key. Durations, vaults and roles stay text here, so that
// loadPolicyFile can check them all in one pass and name each problem's path.
type policyFile struct {
	Tenants      []string             `yaml:"tenants"`
	Vaults       []string             `yaml:"vaults"`
	DefaultVault string               `yaml:"default_vault"`
	Defaults     policyDefaults       `yaml:"defaults"`
	Roles        policyRoles          `yaml:"roles"`
	Apps         map[string]policyApp `yaml:"apps"`
}

type policyDefaults struct {
	Lifetime    string         `yaml:"lifetime"`
	MaxLifetime string         `yaml:"max_lifetime"`
	MinLifetime string         `yaml:"min_lifetime"`
	Overlap     string         `yaml:"overlap"`
	Approvals   *int           `yaml:"approvals"`
	SecretNames policyPrefixes `yaml:"secret_names"`
	RequestTTL  string         `yaml:"request_ttl"`
}

type policyPrefixes struct {
	Prefixes []string `yaml:"prefixes"`
}

type policyRoles struct {
	Request []policyRole `yaml:"request"`
	Approve []policyRole `yaml:"approve"`
}

// policyRole names one role source: exactly one of the three IDs, and an
// optional name for people.
type policyRole struct {
	Group         string `yaml:"group"`
	AppRole       string `yaml:"app_role"`
	DirectoryRole string `yaml:"directory_role"` // template ID or built-in display name
	Name          string `yaml:"name"`
}

type policyApp struct {
	ClientID    string            `yaml:"client_id"`
	Vault       string            `yaml:"vault"`
	SecretNames policySecretNames `yaml:"secret_names"`
	Lifetime    string            `yaml:"lifetime"`
	Overlap     string            `yaml:"overlap"`
	Approvals   *int              `yaml:"approvals"`
	Approvers   []policyRole      `yaml:"approvers"`
}

type policySecretNames struct {
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
}

// policyConfig is Keyturn's policy as the rest of cmd/bot wires it.
type policyConfig struct {
	// Policy is the rotation policy; OwnClientID is the caller's to set.
	Policy rotation.Policy
	// Roles says who may request and who may approve, for every app.
	Roles rotation.RoleConfig
	// DefaultRule applies to apps not listed under apps (typed by client ID).
	DefaultRule rotation.AppRule
	// Rules are the listed apps' approval rules, by lower-case client ID.
	Rules map[string]rotation.AppRule
	// Apps are the listed apps, by alias, with vault and secret names resolved.
	Apps map[string]bot.Target
	// Timing holds the listed apps' own lifetime and overlap, by lower-case
	// client ID, for rotation.Request; a zero field means the policy's.
	Timing map[string]appTiming
	// DefaultVault is a canonical vault URI, or empty.
	DefaultVault string
	// Tenants are lower-case tenant IDs; nil means the caller's default
	// (MicrosoftAppTenantId).
	Tenants []string
	// RequestTTL is how long an approval request waits for decisions.
	RequestTTL time.Duration
}

// appTiming is one app's lifetime and overlap; zero means the policy default.
type appTiming struct {
	Lifetime time.Duration
	Overlap  time.Duration
}

// clientIDs lists the apps the policy names (aliases and per-app rules),
// lower-case and sorted, for the sweep.
func (c policyConfig) clientIDs() []string {
	seen := map[string]bool{}
	for _, t := range c.Apps {
		seen[strings.ToLower(t.ClientID)] = true
	}
	for id := range c.Rules {
		seen[strings.ToLower(id)] = true
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// rule returns the approval rule of clientID: its own if listed, else the default.
func (c policyConfig) rule(clientID string) rotation.AppRule {
	if r, ok := c.Rules[strings.ToLower(clientID)]; ok {
		return r
	}
	return c.DefaultRule
}

const (
	defaultRequestTTL = 30 * time.Minute
	minRequestTTL     = time.Minute
	maxRequestTTL     = 24 * time.Hour
	maxPolicyBytes    = 1 << 20
)

// builtinPolicy is the policy without a file: rotation.DefaultPolicy's
// lifetimes and overlap, no allowed vault (so nothing can be rotated until
// one is configured), no app aliases, no role sources, one approval for
// every app, and requests that wait 30 minutes. Tenants stay nil: the caller
// defaults them to MicrosoftAppTenantId.
func builtinPolicy() policyConfig {
	return policyConfig{
		Policy:      rotation.DefaultPolicy(),
		DefaultRule: rotation.AppRule{Required: 1},
		Rules:       map[string]rotation.AppRule{},
		Apps:        map[string]bot.Target{},
		Timing:      map[string]appTiming{},
		RequestTTL:  defaultRequestTTL,
	}
}

// loadPolicyFile reads the YAML policy file at path and checks all of it,
// reporting every problem at once, each with its path in the file. Keys the
// file leaves out keep the values of base (the vault allow-list and
// lifetimes Keyturn was started with); vaults given in the file replace
// base's. cloud turns vault names into URIs.
func loadPolicyFile(path string, cloud azcloud.Cloud, base rotation.Policy) (policyConfig, error) {
	f, err := os.Open(path)
	if err != nil {
		return policyConfig{}, fmt.Errorf("policy file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPolicyBytes+1))
	if err != nil {
		return policyConfig{}, fmt.Errorf("policy file %s: %w", path, err)
	}
	if len(data) > maxPolicyBytes {
		return policyConfig{}, fmt.Errorf("policy file %s: larger than %d bytes", path, maxPolicyBytes)
	}
	pf, shape, err := decodePolicyFile(data)
	if err != nil {
		return policyConfig{}, fmt.Errorf("policy file %s: %w", path, err)
	}
	c := &policyCheck{probs: shape.probs, broken: shape.broken}
	pc := c.build(pf, cloud, base)
	if len(c.probs) > 0 {
		return policyConfig{}, fmt.Errorf("policy file %s: %d problem(s):\n%w", path, len(c.probs), errors.Join(c.probs...))
	}
	return pc, nil
}

// shapeCheck collects problems of shape, and the paths they were found at.
type shapeCheck struct {
	probs  []error
	broken map[string]bool
}

func (s *shapeCheck) add(path string, err error) {
	s.probs = append(s.probs, err)
	if s.broken == nil {
		s.broken = map[string]bool{}
	}
	s.broken[path] = true
}

// decodePolicyFile decodes data strictly. Problems of shape (unknown or
// repeated keys, a list where a value belongs) come back in shape, with
// paths, and decoding goes on; err means nothing more can be checked.
func decodePolicyFile(data []byte) (pf policyFile, shape shapeCheck, err error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return pf, shape, errors.New("the file is empty")
	} else if err != nil {
		return pf, shape, fmt.Errorf("not valid YAML: %w", err)
	}
	if len(doc.Content) == 0 || doc.Content[0].ShortTag() == "!!null" {
		return pf, shape, errors.New("the file is empty")
	}
	var more yaml.Node
	if err := dec.Decode(&more); err == nil {
		return pf, shape, errors.New("the file holds more than one YAML document")
	} else if !errors.Is(err, io.EOF) {
		return pf, shape, fmt.Errorf("not valid YAML: %w", err)
	}
	checkShape(&doc, reflect.TypeFor[policyFile](), "", &shape)

	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(&pf); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return pf, shape, fmt.Errorf("not valid YAML: %w", err)
		}
		// checkShape reports what the decoder rejects, with paths instead
		// of line numbers; the decoder's words are the fallback.
		if len(shape.probs) == 0 {
			for _, e := range te.Errors {
				shape.probs = append(shape.probs, errors.New(e))
			}
		}
	}
	return pf, shape, nil
}

// parseDuration reads Nd (days), Nw (weeks) or a Go duration (36h, 90m).
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	unit := time.Duration(0)
	switch {
	case strings.HasSuffix(s, "d"):
		unit = 24 * time.Hour
	case strings.HasSuffix(s, "w"):
		unit = 7 * 24 * time.Hour
	default:
		return time.ParseDuration(s)
	}
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("duration %q: %w", s, err)
	}
	if n > math.MaxInt64/int64(unit) || n < math.MinInt64/int64(unit) {
		return 0, fmt.Errorf("duration %q is out of range", s)
	}
	return time.Duration(n) * unit, nil
}

// fmtDuration writes d the way the file does: whole days as Nd.
func fmtDuration(d time.Duration) string {
	if d != 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// policyCheck collects the problems of one policy file. Paths whose shape
// was already found wrong are broken: what was decoded there says nothing,
// so problems at or under them, or about them, are not reported again.
type policyCheck struct {
	probs  []error
	broken map[string]bool
}

func (c *policyCheck) addf(path, format string, args ...any) {
	if !c.sound(path) {
		return
	}
	c.probs = append(c.probs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

// sound reports whether no broken path is path or holds it.
func (c *policyCheck) sound(path string) bool {
	for b := range c.broken {
		if path == b || strings.HasPrefix(path, b+".") || strings.HasPrefix(path, b+"[") {
			return false
		}
	}
	return true
}

// duration parses the duration at path into *dst when s is set.
func (c *policyCheck) duration(path, s string, dst *time.Duration) bool {
	if strings.TrimSpace(s) == "" {
		return false
	}
	d, err := parseDuration(s)
	if err != nil {
		c.addf(path, "%q is not a duration such as 180d, 2w or 36h", s)
		return false
	}
	*dst = d
	return true
}

func (c *policyCheck) approvals(path string, v *int, def int) int {
	if v == nil {
		return def
	}
	if *v < 0 || *v > 2 {
		c.addf(path, "%d is not 0, 1 or 2", *v)
		return def
	}
	return *v
}

// build checks pf as a whole and returns the configuration it describes.
func (c *policyCheck) build(pf policyFile, cloud azcloud.Cloud, base rotation.Policy) policyConfig {
	pc := builtinPolicy()
	pc.Policy = base
	p := &pc.Policy

	for i, t := range pf.Tenants {
		if !rotation.IsGUID(strings.TrimSpace(t)) {
			c.addf(fmt.Sprintf("tenants[%d]", i), "%q is not a tenant ID (GUID)", t)
			continue
		}
		pc.Tenants = appendNew(pc.Tenants, strings.ToLower(strings.TrimSpace(t)))
	}
	if pf.Vaults != nil {
		p.AllowedVaults = nil
		for i, v := range pf.Vaults {
			uri, err := cloud.VaultURI(v)
			if err != nil {
				c.addf(fmt.Sprintf("vaults[%d]", i), "%v", err)
				continue
			}
			p.AllowedVaults = appendNew(p.AllowedVaults, uri)
		}
	}
	defaultVaultOK := true
	if pf.DefaultVault != "" {
		pc.DefaultVault, defaultVaultOK = c.vault("default_vault", pf.DefaultVault, cloud, *p)
	}

	d := pf.Defaults
	c.duration("defaults.lifetime", d.Lifetime, &p.DefaultLifetime)
	c.duration("defaults.min_lifetime", d.MinLifetime, &p.MinLifetime)
	c.duration("defaults.max_lifetime", d.MaxLifetime, &p.MaxLifetime)
	c.duration("defaults.overlap", d.Overlap, &p.Overlap)
	boundsOK := true
	if p.MinLifetime <= 0 {
		c.addf("defaults.min_lifetime", "%s must be positive", fmtDuration(p.MinLifetime))
		boundsOK = false
	} else if p.MaxLifetime < p.MinLifetime {
		c.addf("defaults.max_lifetime", "%s is shorter than min_lifetime %s", fmtDuration(p.MaxLifetime), fmtDuration(p.MinLifetime))
		boundsOK = false
	}
	if boundsOK && (p.DefaultLifetime < p.MinLifetime || p.DefaultLifetime > p.MaxLifetime) {
		c.addf("defaults.lifetime", "%s is outside min_lifetime..max_lifetime (%s..%s)", fmtDuration(p.DefaultLifetime), fmtDuration(p.MinLifetime), fmtDuration(p.MaxLifetime))
	}
	if p.Overlap < 0 {
		c.addf("defaults.overlap", "%s is negative", fmtDuration(p.Overlap))
	}
	pc.DefaultRule.Required = c.approvals("defaults.approvals", d.Approvals, pc.DefaultRule.Required)
	if d.SecretNames.Prefixes != nil {
		p.SecretNamePrefixes = nil
		for i, pre := range d.SecretNames.Prefixes {
			if !rotation.ValidSecretName(pre) {
				c.addf(fmt.Sprintf("defaults.secret_names.prefixes[%d]", i), "%q is not the start of a valid Key Vault secret name (letters, digits and dashes)", pre)
				continue
			}
			p.SecretNamePrefixes = appendNew(p.SecretNamePrefixes, pre)
		}
	}
	if c.duration("defaults.request_ttl", d.RequestTTL, &pc.RequestTTL) && (pc.RequestTTL < minRequestTTL || pc.RequestTTL > maxRequestTTL) {
		c.addf("defaults.request_ttl", "%s is outside 1m..24h", fmtDuration(pc.RequestTTL))
	}

	pc.Roles.Request = c.roleSources("roles.request", pf.Roles.Request)
	pc.Roles.Approve = c.roleSources("roles.approve", pf.Roles.Approve)
	if pc.DefaultRule.Required > 0 && len(pf.Roles.Approve) == 0 && c.sound("roles.approve") && c.sound("defaults.approvals") {
		c.addf("roles.approve", "empty, yet defaults.approvals is %d: nobody could approve a rotation (list a group, app_role or directory_role)", pc.DefaultRule.Required)
	}

	c.apps(&pc, pf, cloud, boundsOK, defaultVaultOK)
	if len(c.probs) == 0 {
		if err := p.Validate(); err != nil {
			c.probs = append(c.probs, fmt.Errorf("resulting policy: %w", err))
		}
	}
	return pc
}

// vault resolves a vault name or URI at path and checks it is allowed.
func (c *policyCheck) vault(path, v string, cloud azcloud.Cloud, p rotation.Policy) (string, bool) {
	uri, err := cloud.VaultURI(v)
	if err != nil {
		c.addf(path, "%v", err)
		return "", false
	}
	if !p.VaultAllowed(uri) && c.sound("vaults") {
		c.addf(path, "%s is not one of the allowed vaults (vaults)", uri)
		return uri, false
	}
	return uri, true
}

var aliasPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// apps checks the listed apps, one by one and against each other.
func (c *policyCheck) apps(pc *policyConfig, pf policyFile, cloud azcloud.Cloud, boundsOK, defaultVaultOK bool) {
	p := pc.Policy
	byClientID := map[string]string{} // client ID → path of the app
	written := map[string]string{}    // vault URI + secret name → path of the writer
	for _, alias := range sortedKeys(pf.Apps) {
		a, at := pf.Apps[alias], joinPath("apps", alias)
		switch {
		case rotation.IsGUID(alias):
			c.addf(at, "an alias must not be a client ID: name the app (payments-api) and give the ID as client_id")
		case !aliasPattern.MatchString(alias):
			c.addf(at, "alias %q must be 1-64 lower-case letters, digits, '-', '_' or '.', starting with a letter or digit", alias)
		}
		id := strings.ToLower(strings.TrimSpace(a.ClientID))
		switch {
		case id == "":
			c.addf(at+".client_id", "missing")
		case !rotation.IsGUID(id):
			// Not repeated: a client secret pasted here by mistake would go to the logs.
			c.addf(at+".client_id", "not an application (client) ID (GUID)%s", notRepeated)
		case byClientID[id] != "":
			c.addf(at+".client_id", "%s is also %s", id, byClientID[id])
		case p.OwnClientID != "" && strings.EqualFold(id, p.OwnClientID):
			c.addf(at+".client_id", "%s is Keyturn's own app, which it never rotates", id)
		}
		if rotation.IsGUID(id) && byClientID[id] == "" {
			byClientID[id] = at
		}

		t := bot.Target{Name: alias, ClientID: id}
		vaultOK := false
		switch {
		case a.Vault != "":
			t.VaultURI, vaultOK = c.vault(at+".vault", a.Vault, cloud, p)
		case pc.DefaultVault != "":
			t.VaultURI, vaultOK = pc.DefaultVault, defaultVaultOK
		case c.sound("default_vault"):
			c.addf(at+".vault", "not set, and there is no default_vault")
		}

		defID, defSecret := rotation.DefaultSecretNames(alias, id)
		t.ClientIDName = c.secretName(at+".secret_names.client_id", a.SecretNames.ClientID, defID, p)
		t.SecretName = c.secretName(at+".secret_names.client_secret", a.SecretNames.ClientSecret, defSecret, p)
		if strings.EqualFold(t.ClientIDName, t.SecretName) {
			c.addf(at+".secret_names", "client_id and client_secret are both %q", t.SecretName)
		} else if vaultOK {
			for _, w := range []struct{ name, path string }{{t.ClientIDName, at + ".secret_names.client_id"}, {t.SecretName, at + ".secret_names.client_secret"}} {
				key := t.VaultURI + " " + strings.ToLower(w.name)
				if other, ok := written[key]; ok {
					c.addf(w.path, "%q in %s is also written by %s", w.name, t.VaultURI, other)
					continue
				}
				written[key] = w.path
			}
		}

		var tm appTiming
		if c.duration(at+".lifetime", a.Lifetime, &tm.Lifetime) && boundsOK && (tm.Lifetime < p.MinLifetime || tm.Lifetime > p.MaxLifetime) {
			c.addf(at+".lifetime", "%s is outside defaults.min_lifetime..max_lifetime (%s..%s)", fmtDuration(tm.Lifetime), fmtDuration(p.MinLifetime), fmtDuration(p.MaxLifetime))
		}
		if c.duration(at+".overlap", a.Overlap, &tm.Overlap) {
			switch {
			case tm.Overlap < 0:
				c.addf(at+".overlap", "%s is negative", fmtDuration(tm.Overlap))
			case tm.Overlap == 0 && p.Overlap != 0:
				// A request's zero overlap means the policy's.
				c.addf(at+".overlap", "0 cannot differ from defaults.overlap (%s) for one app; remove it, or set defaults.overlap: 0", fmtDuration(p.Overlap))
			}
		}
		rule := rotation.AppRule{
			Required:  c.approvals(at+".approvals", a.Approvals, pc.DefaultRule.Required),
			Approvers: c.roleSources(at+".approvers", a.Approvers),
		}
		if rule.Required > 0 && a.Approvals != nil && len(pf.Roles.Approve) == 0 && len(a.Approvers) == 0 && c.sound("roles.approve") {
			c.addf(at+".approvals", "%d needed, but nobody may approve: list sources under roles.approve or %s.approvers", rule.Required, at)
		}
		pc.Apps[alias] = t
		if id != "" {
			pc.Rules[id] = rule
			if tm != (appTiming{}) {
				pc.Timing[id] = tm
			}
		}
	}
}

// secretName returns the vault secret name set at path, or def, and checks
// it against Key Vault's rules and the policy's prefixes.
func (c *policyCheck) secretName(path, set, def string, p rotation.Policy) string {
	name, what := strings.TrimSpace(set), "%q"
	if name == "" {
		name, what = def, "the default name %q"
	}
	switch {
	case !rotation.ValidSecretName(name) && set != "":
		// Not repeated: a secret value pasted where its name belongs would go to the logs.
		c.addf(path, "not a valid Key Vault secret name (1-127 letters, digits and dashes)%s", notRepeated)
	case !rotation.ValidSecretName(name):
		c.addf(path, what+" is not a valid Key Vault secret name (1-127 letters, digits and dashes)", name)
	case !p.SecretNameAllowed(name):
		c.addf(path, what+" does not start with one of defaults.secret_names.prefixes (%s)", name, strings.Join(p.SecretNamePrefixes, ", "))
	}
	return name
}

// notRepeated ends a problem whose value the message leaves out because a
// secret could have been pasted there.
const notRepeated = "; the value is not repeated here in case it is a secret"

// appendNew appends v to list unless it is there already (case-insensitive).
func appendNew(list []string, v string) []string {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return list
		}
	}
	return append(list, v)
}
