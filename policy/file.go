package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

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
	Radar        policyRadar          `yaml:"radar"`
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
	// AutoRequestBefore makes the radar open a rotation request itself
	// when the app's soonest secret comes this close to its end.
	AutoRequestBefore string `yaml:"auto_request_before"`
}

type policyRadar struct {
	WarnBefore string   `yaml:"warn_before"`
	Thresholds []string `yaml:"thresholds"`
	ScanEvery  string   `yaml:"scan_every"`
}

type policySecretNames struct {
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
}

const maxPolicyBytes = 1 << 20

// Options says what Load and Parse need besides the file.
type Options struct {
	// VaultURI turns a vault name or URI into the canonical URI of the
	// configured cloud (azcloud.Cloud.VaultURI). Required.
	VaultURI func(nameOrURI string) (string, error)
	// Base holds the values of keys the file leaves out: the vault
	// allow-list and lifetimes Keyturn was started with (vaults given in
	// the file replace Base's). Its OwnClientID stays.
	Base rotation.Policy
}

// Load reads the YAML policy file at path and checks all of it, reporting
// every problem at once, each with its path in the file.
func Load(path string, opts Options) (Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return Policy{}, fmt.Errorf("policy file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPolicyBytes+1))
	if err != nil {
		return Policy{}, fmt.Errorf("policy file %s: %w", path, err)
	}
	p, err := Parse(data, opts)
	if err != nil {
		return Policy{}, fmt.Errorf("policy file %s: %w", path, err)
	}
	return p, nil
}

// Parse checks the YAML policy file data, as Load does.
func Parse(data []byte, opts Options) (Policy, error) {
	if len(data) > maxPolicyBytes {
		return Policy{}, fmt.Errorf("larger than %d bytes", maxPolicyBytes)
	}
	if opts.VaultURI == nil {
		return Policy{}, errors.New("policy: Options.VaultURI is required")
	}
	pf, shape, err := decodePolicyFile(data)
	if err != nil {
		return Policy{}, err
	}
	c := &policyCheck{probs: shape.probs, broken: shape.broken}
	p := c.build(pf, opts.VaultURI, opts.Base)
	if len(c.probs) > 0 {
		return Policy{}, fmt.Errorf("%d problem(s):\n%w", len(c.probs), errors.Join(c.probs...))
	}
	return p, nil
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
	d, err := ParseDuration(s)
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
func (c *policyCheck) build(pf policyFile, vaultURI func(string) (string, error), base rotation.Policy) Policy {
	pc := Builtin()
	pc.Rotation = base
	p := &pc.Rotation

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
			uri, err := vaultURI(v)
			if err != nil {
				c.addf(fmt.Sprintf("vaults[%d]", i), "%v", err)
				continue
			}
			p.AllowedVaults = appendNew(p.AllowedVaults, uri)
		}
	}
	defaultVaultOK := true
	if pf.DefaultVault != "" {
		pc.DefaultVault, defaultVaultOK = c.vault("default_vault", pf.DefaultVault, vaultURI, *p)
	}

	d := pf.Defaults
	c.duration("defaults.lifetime", d.Lifetime, &p.DefaultLifetime)
	c.duration("defaults.min_lifetime", d.MinLifetime, &p.MinLifetime)
	c.duration("defaults.max_lifetime", d.MaxLifetime, &p.MaxLifetime)
	c.duration("defaults.overlap", d.Overlap, &p.Overlap)
	boundsOK := true
	if p.MinLifetime <= 0 {
		c.addf("defaults.min_lifetime", "%s must be positive", FormatDuration(p.MinLifetime))
		boundsOK = false
	} else if p.MaxLifetime < p.MinLifetime {
		c.addf("defaults.max_lifetime", "%s is shorter than min_lifetime %s", FormatDuration(p.MaxLifetime), FormatDuration(p.MinLifetime))
		boundsOK = false
	}
	if boundsOK && (p.DefaultLifetime < p.MinLifetime || p.DefaultLifetime > p.MaxLifetime) {
		c.addf("defaults.lifetime", "%s is outside min_lifetime..max_lifetime (%s..%s)", FormatDuration(p.DefaultLifetime), FormatDuration(p.MinLifetime), FormatDuration(p.MaxLifetime))
	}
	if p.Overlap < 0 {
		c.addf("defaults.overlap", "%s is negative", FormatDuration(p.Overlap))
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
	if c.duration("defaults.request_ttl", d.RequestTTL, &pc.RequestTTL) && (pc.RequestTTL < MinRequestTTL || pc.RequestTTL > MaxRequestTTL) {
		c.addf("defaults.request_ttl", "%s is outside 1m..24h", FormatDuration(pc.RequestTTL))
	}

	pc.Roles.Request = c.roleSources("roles.request", pf.Roles.Request)
	pc.Roles.Approve = c.roleSources("roles.approve", pf.Roles.Approve)
	if pc.DefaultRule.Required > 0 && len(pf.Roles.Approve) == 0 && c.sound("roles.approve") && c.sound("defaults.approvals") {
		c.addf("roles.approve", "empty, yet defaults.approvals is %d: nobody could approve a rotation (list a group, app_role or directory_role)", pc.DefaultRule.Required)
	}

	c.radar(&pc, pf.Radar)
	c.apps(&pc, pf, vaultURI, boundsOK, defaultVaultOK)
	if len(c.probs) == 0 {
		if err := p.Validate(); err != nil {
			c.probs = append(c.probs, fmt.Errorf("resulting policy: %w", err))
		}
	}
	return pc
}

// vault resolves a vault name or URI at path and checks it is allowed.
func (c *policyCheck) vault(path, v string, vaultURI func(string) (string, error), p rotation.Policy) (string, bool) {
	uri, err := vaultURI(v)
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
func (c *policyCheck) apps(pc *Policy, pf policyFile, vaultURI func(string) (string, error), boundsOK, defaultVaultOK bool) {
	p := pc.Rotation
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

		t := App{Alias: alias, ClientID: id}
		vaultOK := false
		switch {
		case a.Vault != "":
			t.VaultURI, vaultOK = c.vault(at+".vault", a.Vault, vaultURI, p)
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

		tm := &t
		if c.duration(at+".lifetime", a.Lifetime, &tm.Lifetime) && boundsOK && (tm.Lifetime < p.MinLifetime || tm.Lifetime > p.MaxLifetime) {
			c.addf(at+".lifetime", "%s is outside defaults.min_lifetime..max_lifetime (%s..%s)", FormatDuration(tm.Lifetime), FormatDuration(p.MinLifetime), FormatDuration(p.MaxLifetime))
		}
		if c.duration(at+".overlap", a.Overlap, &tm.Overlap) {
			switch {
			case tm.Overlap < 0:
				c.addf(at+".overlap", "%s is negative", FormatDuration(tm.Overlap))
			case tm.Overlap == 0 && p.Overlap != 0:
				// A request's zero overlap means the policy's.
				c.addf(at+".overlap", "0 cannot differ from defaults.overlap (%s) for one app; remove it, or set defaults.overlap: 0", FormatDuration(p.Overlap))
			}
		}
		rule := rotation.AppRule{
			Required:  c.approvals(at+".approvals", a.Approvals, pc.DefaultRule.Required),
			Approvers: c.roleSources(at+".approvers", a.Approvers),
		}
		if rule.Required > 0 && a.Approvals != nil && len(pf.Roles.Approve) == 0 && len(a.Approvers) == 0 && c.sound("roles.approve") {
			c.addf(at+".approvals", "%d needed, but nobody may approve: list sources under roles.approve or %s.approvers", rule.Required, at)
		}
		if c.duration(at+".auto_request_before", a.AutoRequestBefore, &tm.AutoRequestBefore) &&
			(tm.AutoRequestBefore < 24*time.Hour || tm.AutoRequestBefore > pc.Radar.WarnBefore) {
			c.addf(at+".auto_request_before", "%s is outside 1d..radar.warn_before (%s): the radar sees only what ends within warn_before",
				FormatDuration(tm.AutoRequestBefore), FormatDuration(pc.Radar.WarnBefore))
			tm.AutoRequestBefore = 0
		}
		pc.Apps[alias] = t
		if id != "" {
			pc.Rules[id] = rule
		}
	}
}

// radar checks the radar key: the window, the thresholds at which a card
// is posted again (each within the window; the window itself when none is
// listed, with 7d and 1d below it) and how often a scan runs.
func (c *policyCheck) radar(pc *Policy, r policyRadar) {
	rp := &pc.Radar
	if c.duration("radar.warn_before", r.WarnBefore, &rp.WarnBefore) && (rp.WarnBefore < 24*time.Hour || rp.WarnBefore > 365*24*time.Hour) {
		c.addf("radar.warn_before", "%s is outside 1d..365d", FormatDuration(rp.WarnBefore))
		rp.WarnBefore = DefaultRadarWindow
	}
	if c.duration("radar.scan_every", r.ScanEvery, &rp.ScanEvery) && (rp.ScanEvery < time.Hour || rp.ScanEvery > 7*24*time.Hour) {
		c.addf("radar.scan_every", "%s is outside 1h..7d", FormatDuration(rp.ScanEvery))
		rp.ScanEvery = DefaultRadarScanEvery
	}
	if len(r.Thresholds) == 0 {
		rp.Thresholds = defaultThresholds(rp.WarnBefore)
		return
	}
	rp.Thresholds = nil
	for i, s := range r.Thresholds {
		at := fmt.Sprintf("radar.thresholds[%d]", i)
		var d time.Duration
		if !c.duration(at, s, &d) {
			if strings.TrimSpace(s) == "" {
				c.addf(at, "empty")
			}
			continue
		}
		if d < time.Hour || d > rp.WarnBefore {
			c.addf(at, "%s is outside 1h..radar.warn_before (%s)", FormatDuration(d), FormatDuration(rp.WarnBefore))
			continue
		}
		rp.Thresholds = append(rp.Thresholds, d)
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
